// A destination's message budget: a token bucket holding at most `per_minute` messages,
// refilled evenly (per_minute / 60 a second). Robots (WeCom, DingTalk, Feishu) accept
// about 20 messages a minute and drop or reject the rest; the pager spends from this
// before sending and folds what it cannot send into a digest.
//
// Not thread-safe (the pager's dispatcher thread owns it).
#pragma once

#include <algorithm>
#include <cstdint>

namespace vigil::alerts {

class RateBudget {
 public:
  // per_minute 0: unlimited.
  explicit RateBudget(int per_minute = 0, int64_t now_ms = 0)
      : per_minute_(per_minute), tokens_(per_minute), updated_ms_(now_ms) {}

  bool unlimited() const { return per_minute_ <= 0; }
  // Whole messages that may be sent now.
  int Available(int64_t now_ms) {
    Refill(now_ms);
    return unlimited() ? 1 << 30 : static_cast<int>(tokens_);
  }
  void Spend(int64_t now_ms, int messages = 1) {
    Refill(now_ms);
    if (!unlimited()) tokens_ = std::max(0.0, tokens_ - messages);
  }
  // Milliseconds until one message may be sent (0: now).
  int64_t WaitMs(int64_t now_ms) {
    Refill(now_ms);
    if (unlimited() || tokens_ >= 1) return 0;
    return static_cast<int64_t>((1 - tokens_) * 60000.0 / per_minute_) + 1;
  }

 private:
  void Refill(int64_t now_ms) {
    if (unlimited() || now_ms <= updated_ms_) return;
    tokens_ =
        std::min<double>(per_minute_, tokens_ + (now_ms - updated_ms_) * per_minute_ / 60000.0);
    updated_ms_ = now_ms;
  }

  int per_minute_;
  double tokens_;
  int64_t updated_ms_;
};

}  // namespace vigil::alerts
