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

// Logs one line per hit: rule, severity, post id; the (masked) excerpt only at debug
// level, or always when `show_excerpts` (the demo, whose posts are synthetic).
class LoggingHitSink : public HitSink {
 public:
  explicit LoggingHitSink(bool show_excerpts = false) : show_excerpts_(show_excerpts) {}
  void OnHits(const connectors::PostView& post, std::span<const rules::Hit> hits,
              const SourcePosition& position) override;

 private:
  const bool show_excerpts_;
};

}  // namespace vigil::daemon
