// The pager: what the outbox dispatcher calls to deliver. It works in two steps.
//
// 1. A decision (an outbox entry without destination, written by the incident engine in
//    the same transaction as the incident change) names targets: "owner", "role:<id>",
//    "person:<id>". The pager resolves them now: roles to whoever is on call (rotation,
//    overrides), skipping a role in its quiet hours unless the severity reaches its floor;
//    people to their contacts. It replaces the decision by one delivery per destination
//    channel, and records in the incident's timeline who was paged where (StateStore::
//    Expand, one transaction, idempotent). Acknowledge and resolve notices go to the
//    destinations that were paged.
// 2. Deliveries are rendered by the destination's notifier and sent. Each destination has
//    a rate budget; when pending deliveries exceed it they are folded into one digest, and
//    when it is spent they go to the channel's failover, or wait. Nothing is dropped.
//
// Thread safety: one thread (the dispatcher's) calls Deliver and OnDead; AckUrl and
// CheckAck are const and thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "alerts/notifier.h"
#include "alerts/outbox_dispatcher.h"
#include "alerts/paging_config.h"
#include "alerts/rate_budget.h"
#include "alerts/state_store.h"
#include "core/clock.h"

namespace vigil::alerts {

struct PagerOptions {
  // Links in pages; empty: the paging config's public_url.
  std::string public_url;
  // Signs acknowledge links, so that a click acknowledges as the person paged.
  std::string link_secret;
  size_t max_excerpts = 3;  // the latest masked excerpts in a page
};

struct PagerStats {
  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> failed{0};
  std::atomic<uint64_t> digests{0};    // digest messages sent
  std::atomic<uint64_t> folded{0};     // deliveries folded into digests
  std::atomic<uint64_t> failovers{0};  // deliveries sent on a failover channel
  std::atomic<uint64_t> deferred{0};   // deliveries held for a budget
  std::atomic<uint64_t> nobody{0};     // decisions that found nobody to page
};

// Deliveries by channel and what became of them (vigil_pages_total{channel,outcome}).
struct ChannelStats {
  std::atomic<uint64_t> sent{0};      // delivered
  std::atomic<uint64_t> failed{0};    // an attempt failed (retried unless dead)
  std::atomic<uint64_t> dead{0};      // given up
  std::atomic<uint64_t> folded{0};    // folded into a digest
  std::atomic<uint64_t> failover{0};  // sent on this channel's failover channel instead
  std::atomic<uint64_t> deferred{0};  // held for this channel's rate budget
};

class Pager {
 public:
  // `sender` delivers every rendered request (HTTP and SMTP; see MakeChannelSender).
  Pager(StateStore& store, const Clock& clock, std::shared_ptr<const PagingConfig> config,
        Sender& sender, PagerOptions options = {});

  // For OutboxDispatcher: one result per entry.
  std::vector<DeliveryResult> Deliver(const std::vector<OutboxEntry>& due);
  // For OutboxDispatcher: a delivery went dead. Recorded in the incident's timeline and,
  // if configured, announced on the dead-letter channel.
  void OnDead(const OutboxEntry& entry, const std::string& error);

  // <public_url>/api/v1/incidents/<id>/ack?by=<person>&sig=<hmac>: opening it shows a
  // confirmation page; confirming acknowledges as that person (no token needed).
  std::string AckUrl(int64_t incident_id, const std::string& person) const;
  bool CheckAck(int64_t incident_id, const std::string& person, const std::string& sig) const;
  std::string IncidentUrl(int64_t incident_id) const;
  // Replaces the links' base (the daemon knows its port only once it listens).
  void SetPublicUrl(std::string url);
  std::string public_url() const;

  // Messages each rate-limited destination may send now (for metrics and status).
  std::map<std::string, int> BudgetRemaining();

  const PagerStats& stats() const { return stats_; }
  // One entry per channel of the paging file (fixed for the pager's life).
  const std::map<std::string, ChannelStats>& channel_stats() const { return channel_stats_; }

 private:
  struct Recipients {
    std::vector<std::string> mentions;
    std::vector<std::string> people;  // ids
  };
  DeliveryResult Expand(const OutboxEntry& decision);
  void DeliverDestination(const std::string& destination, const std::vector<size_t>& indexes,
                          const std::vector<OutboxEntry>& due,
                          std::vector<DeliveryResult>& results);
  Notification ToNotification(const OutboxEntry& entry) const;
  Notification Digest(const std::vector<Notification>& folded, const std::string& why) const;
  DeliveryResult Send(const ChannelConfig& channel, const Notification& notification);
  std::vector<std::string> Excerpts(int64_t incident_id) const;
  RateBudget& BudgetFor(const ChannelConfig& channel);

  StateStore& store_;
  const Clock& clock_;
  const std::shared_ptr<const PagingConfig> config_;
  Sender& sender_;
  const PagerOptions options_;
  mutable std::mutex url_mutex_;
  std::string public_url_;                     // GUARDED_BY(url_mutex_)
  std::mutex budgets_mutex_;                   // BudgetRemaining is read from the API's threads
  std::map<std::string, RateBudget> budgets_;  // GUARDED_BY(budgets_mutex_)
  PagerStats stats_;
  std::map<std::string, ChannelStats> channel_stats_;  // keys fixed at construction
  ChannelStats unknown_channel_;                       // a channel no longer configured
  ChannelStats& StatsOf(const std::string& channel);
};

// Sends http(s):// requests with an HttpSender and smtp(s):// ones with an SmtpSender,
// one per e-mail channel of `paging` (its login and STARTTLS setting).
std::unique_ptr<Sender> MakeChannelSender(const PagingConfig& paging);

}  // namespace vigil::alerts
