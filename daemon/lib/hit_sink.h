// Where a post's hits go besides the hits topic: the escalation stage. The sink takes
// the hits of one post with its source position, in offset order per partition, and
// calls `done` when their effect is durable; the post's offset is committed to Kafka
// only after that and after Kafka acknowledged its hits.
//
// A sink that writes the applied offsets in the same transaction as its state
// (AlertSink) gets exactly-once effect: after a crash the consumer replays from Kafka's
// committed offset (so every hit reaches the hits topic at least once, same hit_id),
// and the sink skips the posts its store says it already applied.
#pragma once

#include <functional>
#include <vector>

#include "alerts/incident.h"
#include "connectors/offset_tracker.h"

namespace vigil::daemon {

struct SourcePosition {
  connectors::PartitionKey partition;
  int64_t offset = 0;
  int64_t timestamp_ms = -1;  // the message's Kafka timestamp; -1 when it has none
};

class HitSink {
 public:
  virtual ~HitSink() = default;
  // REQUIRES: thread-safe; must call `done` exactly once, from any thread, when the
  // effect is durable (or known to be durable already). Calls for one partition arrive in
  // offset order.
  virtual void Accept(std::vector<alerts::HitEvent> hits, const SourcePosition& position,
                      std::function<void()> done) = 0;
};

}  // namespace vigil::daemon
