// Puts a known incident into an AlertSink, for tests of the API around it.
#pragma once

#include <atomic>

#include <gtest/gtest.h>

#include "daemon/lib/alert_sink.h"
#include "tests/testing/kafka_fixture.h"

namespace vigil::testing {

// One privacy-leak hit through the sink (incident 1, owner legal, community c), committed
// when this returns.
inline void ApplyPrivacyHit(daemon::AlertSink& sink, const Clock& clock) {
  alerts::HitEvent hit;
  hit.incident_key = "privacy.id|community=c";
  hit.rule_id = "privacy.id";
  hit.category = rules::Category::kPrivacyLeak;
  hit.severity = rules::Severity::kHigh;
  hit.owner = "legal";
  hit.community = "c";
  hit.post_id = "p1";
  hit.excerpt = "my id 110105********002X";
  hit.at = clock.Now();
  std::atomic<bool> done{false};
  sink.Accept({hit}, daemon::SourcePosition{{"vigil.posts", 0}, 0}, [&] { done = true; });
  ASSERT_TRUE(WaitFor([&] { return done.load(); }));
}

}  // namespace vigil::testing
