#include "alerts/outbox_dispatcher.h"

#include <spdlog/spdlog.h>

namespace vigil::alerts {

OutboxDispatcher::OutboxDispatcher(StateStore& store, const Clock& clock, DeliverFn deliver,
                                   DispatcherOptions options)
    : OutboxDispatcher(
          store, clock,
          [deliver = std::move(deliver)](const std::vector<OutboxEntry>& entries) {
            std::vector<DeliveryResult> results;
            for (const OutboxEntry& entry : entries) {
              try {
                results.push_back(deliver(entry));
              } catch (const std::exception& e) {  // a bug in a renderer must not stop paging
                results.push_back({DeliveryResult::Kind::kRetryable,
                                   std::string("internal error: ") + e.what(), std::nullopt});
              }
            }
            return results;
          },
          options) {}

OutboxDispatcher::OutboxDispatcher(StateStore& store, const Clock& clock, DeliverBatchFn deliver,
                                   DispatcherOptions options, DeadFn on_dead)
    : store_(store),
      clock_(clock),
      deliver_(std::move(deliver)),
      on_dead_(std::move(on_dead)),
      options_(options) {}

OutboxDispatcher::~OutboxDispatcher() { Stop(); }

std::chrono::milliseconds OutboxDispatcher::Backoff(int attempts) const {
  auto delay = options_.base_backoff;
  for (int i = 1; i < attempts && delay < options_.max_backoff; ++i) delay *= 2;
  return std::min(delay, options_.max_backoff);
}

size_t OutboxDispatcher::RunOnce() {
  auto due = store_.PendingOutbox(options_.batch, clock_.NowMillis());
  if (!due.ok()) {
    spdlog::error("outbox: {}", due.error().message);
    return 0;
  }
  if (due->empty()) return 0;
  bool clean = true;
  std::vector<DeliveryResult> results;
  try {
    results = deliver_(*due);
  } catch (const std::exception& e) {  // a bug in a renderer must not stop paging
    results.assign(due->size(), {DeliveryResult::Kind::kRetryable,
                                 std::string("internal error: ") + e.what(), std::nullopt});
  }
  results.resize(due->size(), {DeliveryResult::Kind::kRetryable, "no result", std::nullopt});
  for (size_t i = 0; i < due->size(); ++i) {
    const OutboxEntry& entry = (*due)[i];
    const DeliveryResult& result = results[i];
    const int64_t now_ms = clock_.NowMillis();
    Status marked;
    if (result.kind == DeliveryResult::Kind::kDeferred) {
      // At least a moment, so that a deferral can never spin the dispatcher.
      const auto wait = std::max<std::chrono::milliseconds>(
          result.retry_after.value_or(std::chrono::seconds(1)), std::chrono::milliseconds(200));
      marked = store_.MarkFailed(
          entry.id, entry.attempts,
          now_ms + std::chrono::duration_cast<std::chrono::milliseconds>(wait).count(),
          result.detail, /*dead=*/false);
      ++stats_.deferred;
    } else if (result.kind == DeliveryResult::Kind::kDelivered) {
      marked = store_.MarkDelivered(entry.id, now_ms);
      ++stats_.delivered;
      spdlog::info("outbox: {} delivered ({})", entry.idempotency_key, result.detail);
    } else {
      const int attempts = entry.attempts + 1;
      const bool dead =
          result.kind == DeliveryResult::Kind::kPermanent || attempts >= options_.max_attempts;
      auto delay = Backoff(attempts);
      if (result.retry_after)
        delay = std::max<std::chrono::milliseconds>(delay, *result.retry_after);
      marked = store_.MarkFailed(entry.id, attempts, now_ms + delay.count(), result.detail, dead);
      if (dead) {
        ++stats_.dead;
        spdlog::error("outbox: {} is DEAD after {} attempt(s): {}", entry.idempotency_key, attempts,
                      result.detail);
        if (on_dead_ && marked.ok()) on_dead_(entry, result.detail);
      } else {
        ++stats_.retried;
        spdlog::warn("outbox: {} failed (attempt {}): {}; retrying in {} ms", entry.idempotency_key,
                     attempts, result.detail, delay.count());
      }
    }
    if (!marked.ok()) {
      spdlog::error("outbox: {}", marked.error().message);
      clean = false;
    }
  }
  last_run_clean_ = clean;
  return due->size();
}

void OutboxDispatcher::Start() {
  thread_ = std::thread([this] {
    for (;;) {
      // Entries that were due may have made more (a decision expanded into deliveries):
      // go again at once while there was work.
      // (Not after a store failure: the same entries would come back at once.)
      const bool busy = RunOnce() > 0 && last_run_clean_;
      std::unique_lock lock(mutex_);
      if (busy && !stopping_) continue;
      cv_.wait_for(lock, options_.poll_interval, [this] { return stopping_ || woken_; });
      if (stopping_) return;
      woken_ = false;
    }
  });
}

void OutboxDispatcher::Wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  cv_.notify_all();
}

void OutboxDispatcher::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace vigil::alerts
