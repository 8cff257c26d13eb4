#include "daemon/lib/hit_sink.h"

#include <spdlog/spdlog.h>

namespace vigil::daemon {

void LoggingHitSink::OnHits(const connectors::PostView& post, std::span<const rules::Hit> hits,
                            const SourcePosition& position) {
  for (const rules::Hit& hit : hits) {
    if (show_excerpts_) {
      spdlog::info("hit {} {} post={}: {}", hit.rule->def.id, rules::SeverityName(hit.rule->def.severity), post.id,
                   hit.excerpt);
      continue;
    }
    spdlog::info("hit {} {} post={} partition={} offset={}", hit.rule->def.id,
                 rules::SeverityName(hit.rule->def.severity), post.id, position.partition.partition,
                 position.offset);
    // Excerpts are masked already, but post text stays out of logs unless debugging.
    spdlog::debug("hit {} excerpt: {}", hit.rule->def.id, hit.excerpt);
  }
}

}  // namespace vigil::daemon
