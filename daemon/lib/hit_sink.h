// Where a post's hits go once Kafka acknowledged them on the hits topic: the escalation
// stage. The sink takes the hits of one post with its source position and calls `done`
// when their effect is durable; only then may the post's offset be committed. A sink
// that writes the offsets in the same transaction as its state (AlertSink) gives
// exactly-once effect: after a crash the consumer resumes from those offsets.
//
// Order: hits topic first, then the sink, then the Kafka offset. A crash between the
// hits topic and the sink replays the post: its hits are produced again (same hit_id)
// and applied once.
#pragma once

#include <functional>
#include <vector>

#include "alerts/incident.h"
#include "connectors/offset_tracker.h"

namespace vigil::daemon {

struct SourcePosition {
  connectors::PartitionKey partition;
  int64_t offset = 0;
};

class HitSink {
 public:
  virtual ~HitSink() = default;
  // REQUIRES: thread-safe; must call `done` exactly once, from any thread, when the
  // effect is durable. Calls for one partition arrive in offset order.
  virtual void Accept(std::vector<alerts::HitEvent> hits, const SourcePosition& position,
                      std::function<void()> done) = 0;
};

// Logs one line per hit: rule, severity, post id; the (masked) excerpt only at debug
// level, or always when `show_excerpts` (the demo, whose posts are synthetic).
class LoggingHitSink : public HitSink {
 public:
  explicit LoggingHitSink(bool show_excerpts = false) : show_excerpts_(show_excerpts) {}
  void Accept(std::vector<alerts::HitEvent> hits, const SourcePosition& position,
              std::function<void()> done) override;

 private:
  const bool show_excerpts_;
};

}  // namespace vigil::daemon
