// The incident engine with a fake clock: thresholds, windows, spikes, auto-resolve,
// acknowledgement, and the batch each decision writes.
#include "alerts/incident_engine.h"

#include <gtest/gtest.h>

namespace vigil::alerts {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

class IncidentEngineTest : public ::testing::Test {
 protected:
  HitEvent Hit(const std::string& post_id, rules::IncidentSpec spec = {},
               const std::string& key = "r|community=c") {
    HitEvent hit;
    hit.incident_key = key;
    hit.rule_id = "complaint.refund";
    hit.owner = "customer_service";
    hit.community = "c";
    hit.spec = spec;
    hit.post_id = post_id;
    hit.url = "https://example.com/" + post_id;
    hit.excerpt = "refund " + post_id;
    hit.content_hash = "h" + post_id;
    hit.at = clock_.Now();
    return hit;
  }
  Batch Apply(const HitEvent& hit) {
    Batch batch;
    engine_.OnHits(std::span<const HitEvent>(&hit, 1), batch);
    return batch;
  }

  FakeClock clock_;
  IncidentEngine engine_{clock_};
};

TEST_F(IncidentEngineTest, AnImmediateRuleOpensOnTheFirstHitAndPagesOnce) {
  const Batch first = Apply(Hit("p1"));
  ASSERT_EQ(first.incidents.size(), 1u);
  EXPECT_EQ(first.incidents[0].state, IncidentState::kOpen);
  EXPECT_EQ(first.incidents[0].hits, 1);
  ASSERT_EQ(first.outbox.size(), 1u);
  EXPECT_EQ(first.outbox[0].kind, "page");
  EXPECT_EQ(first.outbox[0].idempotency_key, "incident-1-open");
  ASSERT_EQ(first.audit.size(), 1u);
  EXPECT_EQ(first.audit[0].action, "opened");

  clock_.Advance(seconds(5));
  const Batch second = Apply(Hit("p2"));
  ASSERT_EQ(second.incidents.size(), 1u);
  EXPECT_EQ(second.incidents[0].id, 1);
  EXPECT_EQ(second.incidents[0].hits, 2);
  EXPECT_TRUE(second.outbox.empty()) << "a further hit must not page again";
  EXPECT_EQ(second.evidence.size(), 1u);
}

TEST_F(IncidentEngineTest, ACountThresholdOpensAtTheNthHitWithinTheWindow) {
  rules::IncidentSpec spec;
  spec.count = 3;
  spec.within = minutes(10);
  EXPECT_TRUE(Apply(Hit("p1", spec)).incidents.empty());
  clock_.Advance(minutes(6));
  EXPECT_TRUE(Apply(Hit("p2", spec)).incidents.empty());
  clock_.Advance(minutes(6));  // p1 is now out of the window
  const Batch third = Apply(Hit("p3", spec));
  EXPECT_TRUE(third.incidents.empty());
  ASSERT_EQ(third.pending_removed.size(), 1u);
  EXPECT_EQ(third.pending_removed[0].second, "p1");
  clock_.Advance(minutes(1));
  const Batch fourth = Apply(Hit("p4", spec));
  ASSERT_EQ(fourth.incidents.size(), 1u);
  EXPECT_EQ(fourth.incidents[0].hits, 3);
  EXPECT_EQ(fourth.evidence.size(), 3u);  // p2, p3, p4
  EXPECT_EQ(fourth.audit[0].detail, "3 hits within 10m");
}

TEST_F(IncidentEngineTest, KeysAreIndependent) {
  rules::IncidentSpec spec;
  spec.count = 2;
  spec.within = minutes(10);
  EXPECT_TRUE(Apply(Hit("p1", spec, "r|community=a")).incidents.empty());
  EXPECT_TRUE(Apply(Hit("p2", spec, "r|community=b")).incidents.empty());
  EXPECT_EQ(Apply(Hit("p3", spec, "r|community=a")).incidents.size(), 1u);
}

TEST_F(IncidentEngineTest, ASpikeNeedsTheFactorOverTheBaselineAndTheMinimumCount) {
  rules::IncidentSpec spec;
  spec.within = minutes(10);
  spec.spike = rules::SpikeSpec{.factor = 4, .baseline = std::chrono::hours(1), .min_count = 5};
  // A steady baseline: one hit every 5 minutes for an hour (12 hits, 2 per 10 minutes).
  for (int i = 0; i < 12; ++i) {
    EXPECT_TRUE(Apply(Hit("b" + std::to_string(i), spec)).incidents.empty()) << i;
    clock_.Advance(minutes(5));
  }
  // 5 hits in 2 minutes: with the last baseline hit, 6 in the window; not 4x the
  // baseline (11 hits in the hour before the window: 1.8 per 10 minutes).
  Batch batch;
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(seconds(20));
    batch = Apply(Hit("s" + std::to_string(i), spec));
    EXPECT_TRUE(batch.incidents.empty()) << i;
  }
  // Two more: 8 in the window >= 4 x 1.8: a spike.
  for (int i = 5; i < 8 && batch.incidents.empty(); ++i) {
    clock_.Advance(seconds(20));
    batch = Apply(Hit("s" + std::to_string(i), spec));
  }
  ASSERT_EQ(batch.incidents.size(), 1u);
  EXPECT_NE(batch.audit[0].detail.find("spike"), std::string::npos) << batch.audit[0].detail;
}

TEST_F(IncidentEngineTest, AQuietCommunityDoesNotSpikeOnTwoPosts) {
  rules::IncidentSpec spec;
  spec.within = minutes(10);
  spec.spike = rules::SpikeSpec{.factor = 3, .baseline = std::chrono::hours(1), .min_count = 5};
  EXPECT_TRUE(Apply(Hit("p1", spec)).incidents.empty());
  EXPECT_TRUE(Apply(Hit("p2", spec)).incidents.empty());
}

TEST_F(IncidentEngineTest, AutoResolveAfterTheQuietPeriod) {
  rules::IncidentSpec spec;
  spec.resolve_after = minutes(30);
  Apply(Hit("p1", spec));
  clock_.Advance(minutes(20));
  Apply(Hit("p2", spec));
  clock_.Advance(minutes(29));
  Batch batch;
  engine_.Tick(batch);
  EXPECT_TRUE(batch.incidents.empty());
  clock_.Advance(minutes(1));
  engine_.Tick(batch);
  ASSERT_EQ(batch.incidents.size(), 1u);
  EXPECT_EQ(batch.incidents[0].state, IncidentState::kResolved);
  EXPECT_EQ(batch.incidents[0].resolved_by, "vigil");
  ASSERT_EQ(batch.outbox.size(), 1u);
  EXPECT_EQ(batch.outbox[0].kind, "resolve");
  EXPECT_EQ(engine_.active_incidents(), 0u);
  // The next hit opens a new incident.
  EXPECT_EQ(Apply(Hit("p3", spec)).incidents.at(0).id, 2);
}

TEST_F(IncidentEngineTest, AcknowledgeThenResolveByAPerson) {
  Apply(Hit("p1"));
  Batch batch;
  auto acked = engine_.Acknowledge(1, "alice", batch);
  ASSERT_TRUE(acked.ok());
  EXPECT_EQ(acked->state, IncidentState::kAcknowledged);
  EXPECT_EQ(acked->acked_by, "alice");
  EXPECT_EQ(batch.audit.back().action, "acknowledged");
  EXPECT_TRUE(engine_.Acknowledge(1, "bob", batch).ok()) << "acknowledging twice is harmless";
  auto resolved = engine_.Resolve(1, "alice", "refunds sent", batch);
  ASSERT_TRUE(resolved.ok());
  EXPECT_EQ(batch.audit.back().detail, "refunds sent");
  EXPECT_FALSE(engine_.Resolve(1, "alice", "", batch).ok());
  EXPECT_FALSE(engine_.Acknowledge(42, "alice", batch).ok());
}

TEST_F(IncidentEngineTest, ExperimentalRulesNeverOpenIncidents) {
  HitEvent hit = Hit("p1");
  hit.experimental = true;
  EXPECT_TRUE(Apply(hit).empty());
}

TEST_F(IncidentEngineTest, EvidenceIsCapped) {
  IncidentEngine engine(clock_, {.max_evidence = 3});
  Batch batch;
  for (int i = 0; i < 10; ++i) {
    HitEvent hit = Hit("p" + std::to_string(i));
    engine.OnHits(std::span<const HitEvent>(&hit, 1), batch);
  }
  EXPECT_EQ(batch.evidence.size(), 3u);
  EXPECT_EQ(batch.incidents.back().hits, 10);
}

}  // namespace
}  // namespace vigil::alerts

namespace vigil::alerts {
namespace {

using std::chrono::minutes;

// Escalation: level 0 pages the owner; unacknowledged after ack_within, the next level
// is paged as well; the last level repeats; acknowledgement stops it; reminders.
class EscalationTest : public ::testing::Test {
 protected:
  EscalationTest() {
    policy_.levels = {{{"owner"}, minutes(15)}, {{"role:crisis_advisor"}, minutes(10)}};
    policy_.repeat_last = 1;
    engine_ = std::make_unique<IncidentEngine>(
        clock_, EngineOptions{.policy_for = [this](const Incident&) { return &policy_; }});
  }
  Batch Open() {
    HitEvent hit;
    hit.incident_key = "k";
    hit.rule_id = "r";
    hit.owner = "customer_service";
    hit.post_id = "p1";
    hit.at = clock_.Now();
    Batch batch;
    engine_->OnHits(std::span<const HitEvent>(&hit, 1), batch);
    return batch;
  }
  Batch TickAfter(minutes m) {
    clock_.Advance(m);
    Batch batch;
    engine_->Tick(batch);
    return batch;
  }

  FakeClock clock_;
  EscalationPolicy policy_;
  std::unique_ptr<IncidentEngine> engine_;
};

TEST_F(EscalationTest, UnacknowledgedIncidentsClimbTheLevelsAndRepeatTheLast) {
  const Batch opened = Open();
  ASSERT_EQ(opened.outbox.size(), 1u);
  EXPECT_NE(opened.outbox[0].payload.find("\"targets\":[\"owner\"]"), std::string::npos)
      << opened.outbox[0].payload;
  EXPECT_TRUE(TickAfter(minutes(14)).outbox.empty());
  Batch escalated = TickAfter(minutes(1));
  ASSERT_EQ(escalated.outbox.size(), 1u);
  EXPECT_EQ(escalated.outbox[0].idempotency_key, "incident-1-level-1");
  EXPECT_NE(escalated.outbox[0].payload.find("role:crisis_advisor"), std::string::npos);
  EXPECT_EQ(escalated.incidents.at(0).escalation_level, 1);
  EXPECT_EQ(escalated.audit.at(0).action, "escalated");
  EXPECT_TRUE(TickAfter(minutes(9)).outbox.empty());
  Batch repeated = TickAfter(minutes(1));
  ASSERT_EQ(repeated.outbox.size(), 1u);
  EXPECT_EQ(repeated.outbox[0].idempotency_key, "incident-1-level-1-repeat-1");
  EXPECT_TRUE(TickAfter(minutes(60)).outbox.empty()) << "repeat_last is 1: no more pages";
}

TEST_F(EscalationTest, AcknowledgementStopsTheClimb) {
  Open();
  TickAfter(minutes(5));
  Batch batch;
  ASSERT_TRUE(engine_->Acknowledge(1, "alice", batch).ok());
  EXPECT_TRUE(TickAfter(minutes(30)).outbox.empty());
}

TEST_F(EscalationTest, RemindersWhileOpenNeverMoreOftenThanTheInterval) {
  policy_.levels = {{{"owner"}, minutes(0)}};
  policy_.repeat_last = 0;
  policy_.renotify_every = minutes(60);
  Open();
  EXPECT_TRUE(TickAfter(minutes(59)).outbox.empty());
  Batch reminder = TickAfter(minutes(1));
  ASSERT_EQ(reminder.outbox.size(), 1u);
  EXPECT_EQ(reminder.outbox[0].kind, "reminder");
  EXPECT_EQ(reminder.outbox[0].idempotency_key, "incident-1-reminder-1");
  EXPECT_TRUE(TickAfter(minutes(30)).outbox.empty());
  EXPECT_EQ(TickAfter(minutes(30)).outbox.size(), 1u);
}

}  // namespace
}  // namespace vigil::alerts
