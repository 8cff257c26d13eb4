// Delivers the outbox: every due entry is handed to `deliver` (which resolves its
// targets, renders and sends it per channel); a failure is retried with exponential
// back-off (or the receiver's Retry-After), and after the retry budget the entry is
// dead: kept, visible in the API and metrics, and alerted on. A crash between the
// decision (outbox row, committed with the incident change) and the send pages after
// the restart; an entry is sent again only if the crash came between send and mark.
//
// Thread safety: RunOnce from one thread at a time (the dispatcher's own, or a test's).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "alerts/state_store.h"
#include "core/clock.h"

namespace vigil::alerts {

struct DeliveryResult {
  // kDeferred: not attempted (a destination's rate budget is spent); try again after
  // retry_after without counting an attempt.
  enum class Kind { kDelivered, kRetryable, kPermanent, kDeferred };
  Kind kind = Kind::kDelivered;
  std::string detail;  // for the log and the entry's last_error; never post text
  std::optional<std::chrono::seconds> retry_after;  // the receiver's hint
};

using DeliverFn = std::function<DeliveryResult(const OutboxEntry& entry)>;
// Delivers the due entries together (so that a pager can fold pages for one destination
// into a digest); returns one result per entry, in order.
using DeliverBatchFn = std::function<std::vector<DeliveryResult>(const std::vector<OutboxEntry>&)>;
// Told when an entry went dead (after it was marked), to raise the alarm.
using DeadFn = std::function<void(const OutboxEntry& entry, const std::string& error)>;

struct DispatcherOptions {
  int max_attempts = 8;  // then dead
  std::chrono::milliseconds base_backoff{2000};
  std::chrono::milliseconds max_backoff{std::chrono::minutes(10)};
  int batch = 100;
  std::chrono::milliseconds poll_interval{500};
};

struct DispatcherStats {
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> retried{0};
  std::atomic<uint64_t> dead{0};
  std::atomic<uint64_t> deferred{0};  // held back by a rate budget
};

class OutboxDispatcher {
 public:
  OutboxDispatcher(StateStore& store, const Clock& clock, DeliverFn deliver,
                   DispatcherOptions options = {});
  OutboxDispatcher(StateStore& store, const Clock& clock, DeliverBatchFn deliver,
                   DispatcherOptions options = {}, DeadFn on_dead = nullptr);
  ~OutboxDispatcher();

  // Delivers the entries due now (up to options.batch); returns how many were due.
  size_t RunOnce();
  // Runs RunOnce every poll_interval (and when Wake() is called) on a thread.
  void Start();
  void Stop();
  void Wake();

  // The delay before attempt `attempts + 1` (exponential, capped).
  std::chrono::milliseconds Backoff(int attempts) const;
  const DispatcherStats& stats() const { return stats_; }

 private:
  StateStore& store_;
  const Clock& clock_;
  DeliverBatchFn deliver_;
  DeadFn on_dead_;
  const DispatcherOptions options_;
  DispatcherStats stats_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false, woken_ = false;  // GUARDED_BY(mutex_)
  std::thread thread_;
  bool last_run_clean_ = true;  // every entry of the last RunOnce was marked in the store
};

}  // namespace vigil::alerts
