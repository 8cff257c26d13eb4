#include "alerts/outbox_dispatcher.h"

#include <spdlog/spdlog.h>

namespace vigil::alerts {

OutboxDispatcher::OutboxDispatcher(StateStore& store, const Clock& clock, DeliverFn deliver,
                                   DispatcherOptions options)
    : store_(store), clock_(clock), deliver_(std::move(deliver)), options_(options) {}

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
  for (const OutboxEntry& entry : *due) {
    DeliveryResult result;
    try {
      result = deliver_(entry);
    } catch (const std::exception& e) {  // a bug in a renderer must not stop paging
      result = {DeliveryResult::Kind::kRetryable, std::string("internal error: ") + e.what(),
                std::nullopt};
    }
    const int64_t now_ms = clock_.NowMillis();
    Status marked;
    if (result.kind == DeliveryResult::Kind::kDelivered) {
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
      } else {
        ++stats_.retried;
        spdlog::warn("outbox: {} failed (attempt {}): {}; retrying in {} ms", entry.idempotency_key,
                     attempts, result.detail, delay.count());
      }
    }
    if (!marked.ok()) spdlog::error("outbox: {}", marked.error().message);
  }
  return due->size();
}

void OutboxDispatcher::Start() {
  thread_ = std::thread([this] {
    for (;;) {
      RunOnce();
      std::unique_lock lock(mutex_);
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
