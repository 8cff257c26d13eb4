#include "daemon/lib/hit_sink.h"

#include <spdlog/spdlog.h>

namespace vigil::daemon {

void LoggingHitSink::Accept(std::vector<alerts::HitEvent> hits, const SourcePosition& position,
                            std::function<void()> done) {
  for (const alerts::HitEvent& hit : hits) {
    if (show_excerpts_) {
      spdlog::info("hit {} {} post={}: {}", hit.rule_id, rules::SeverityName(hit.severity),
                   hit.post_id, hit.excerpt);
      continue;
    }
    spdlog::info("hit {} {} post={} partition={} offset={}", hit.rule_id,
                 rules::SeverityName(hit.severity), hit.post_id, position.partition.partition,
                 position.offset);
    // Excerpts are masked already, but post text stays out of logs unless debugging.
    spdlog::debug("hit {} excerpt: {}", hit.rule_id, hit.excerpt);
  }
  done();
}

}  // namespace vigil::daemon
