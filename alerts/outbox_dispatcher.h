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

#include "alerts/state_store.h"
#include "core/clock.h"

namespace vigil::alerts {

struct DeliveryResult {
  enum class Kind { kDelivered, kRetryable, kPermanent };
  Kind kind = Kind::kDelivered;
  std::string detail;  // for the log and the entry's last_error; never post text
  std::optional<std::chrono::seconds> retry_after;  // the receiver's hint
};

using DeliverFn = std::function<DeliveryResult(const OutboxEntry& entry)>;

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
};

class OutboxDispatcher {
 public:
  OutboxDispatcher(StateStore& store, const Clock& clock, DeliverFn deliver,
                   DispatcherOptions options = {});
  ~OutboxDispatcher();

  // Delivers every entry due now; returns how many were attempted.
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
  DeliverFn deliver_;
  const DispatcherOptions options_;
  DispatcherStats stats_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false, woken_ = false;  // GUARDED_BY(mutex_)
  std::thread thread_;
};

}  // namespace vigil::alerts
