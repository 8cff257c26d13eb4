// Paging in the daemon: the paging file, the link key, and the outbox dispatcher that
// delivers pages through the pager, on its own thread.
//
// Thread safety: Start/Stop from the main thread; pager() is safe to use from the API's
// threads for its const methods (AckUrl, CheckAck) and BudgetRemaining.
#pragma once

#include <memory>
#include <string>

#include "alerts/outbox_dispatcher.h"
#include "alerts/pager.h"
#include "alerts/paging_config.h"
#include "alerts/state_store.h"
#include "core/result.h"
#include "daemon/lib/config.h"
#include "rules/rule_set.h"

namespace vigil::daemon {

// Reads alerts.paging (or an empty configuration when unset); errors name file:line:col.
Result<std::shared_ptr<const alerts::PagingConfig>> LoadPaging(const Config& config);

// Warnings for rule owners that are not roles of the paging file (their pages reach
// nobody), one line each.
std::vector<std::string> CheckOwners(const alerts::PagingConfig& paging, const rules::RuleSet& set);

// alerts.link_secret, or the key in <state.dir>/link.key, created (32 random bytes, mode
// 0600) on first use.
Result<std::string> LinkSecret(const Config& config);

class PagingService {
 public:
  PagingService(alerts::StateStore& store, const Clock& clock,
                std::shared_ptr<const alerts::PagingConfig> paging, alerts::PagerOptions options);
  ~PagingService();

  void Start();
  void Stop();
  void Wake() { dispatcher_.Wake(); }

  alerts::Pager& pager() { return pager_; }
  const alerts::DispatcherStats& dispatcher_stats() const { return dispatcher_.stats(); }

 private:
  std::unique_ptr<alerts::Sender> sender_;
  alerts::Pager pager_;
  alerts::OutboxDispatcher dispatcher_;
};

}  // namespace vigil::daemon
