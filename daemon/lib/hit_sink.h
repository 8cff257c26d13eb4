// Where matched posts go besides the hits topic: the escalation stage (alerts/). Until
// it exists, a sink that logs. Called on worker threads, once per consumed post that
// has hits (again if the post is consumed again: at-least-once), before its offset is
// stored, so a sink that commits its own state with the offsets gets exactly-once effect.
#pragma once

#include <span>

#include "connectors/offset_tracker.h"
#include "connectors/post.h"
#include "rules/matcher.h"

namespace vigil::daemon {

struct SourcePosition {
  connectors::PartitionKey partition;
  int64_t offset = 0;
};

class HitSink {
 public:
  virtual ~HitSink() = default;
  // REQUIRES: thread-safe; quick (a slow sink slows consumption, which is the intent).
  virtual void OnHits(const connectors::PostView& post, std::span<const rules::Hit> hits,
                      const SourcePosition& position) = 0;
};

// Logs one line per hit (rule, post id, masked excerpt only at debug level).
class LoggingHitSink : public HitSink {
 public:
  void OnHits(const connectors::PostView& post, std::span<const rules::Hit> hits,
              const SourcePosition& position) override;
};

}  // namespace vigil::daemon
