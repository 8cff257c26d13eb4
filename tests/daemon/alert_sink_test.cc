// The alert sink over a real SQLite store: group commits from several threads, `done`
// only after the commit, offsets stored with the state, auto-resolve on the fake clock.
#include "daemon/lib/alert_sink.h"

#include <filesystem>
#include <latch>
#include <thread>

#include <gtest/gtest.h>

#include "tests/testing/metrics_text.h"
#include "tests/testing/temp_dir.h"

#include "tests/testing/kafka_fixture.h"

namespace vigil::daemon {
namespace {

class AlertSinkTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = OpenStore(); }
  void TearDown() override { store_.reset(); }
  std::unique_ptr<alerts::StateStore> OpenStore() {
    auto store = alerts::OpenSqliteStore((dir_ / "vigil.db").string());
    EXPECT_TRUE(store.ok());
    return std::move(*store);
  }
  alerts::HitEvent Hit(const std::string& post_id, const std::string& key = "r|community=c") {
    alerts::HitEvent hit;
    hit.incident_key = key;
    hit.rule_id = "r";
    hit.owner = "customer_service";
    hit.post_id = post_id;
    hit.spec.resolve_after = std::chrono::minutes(30);
    hit.at = clock_.Now();
    return hit;
  }

  testing::TempDir dir_;
  std::unique_ptr<alerts::StateStore> store_;
  FakeClock clock_;
};

TEST_F(AlertSinkTest, ConcurrentPostsAreCommittedWithTheirOffsets) {
  AlertSink sink(*store_, clock_, {.topic = "vigil.posts"});
  ASSERT_TRUE(sink.Start().ok());
  constexpr int kThreads = 4, kPerThread = 50;
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string id = std::to_string(t) + "-" + std::to_string(i);
        sink.Accept({Hit(id, "r|community=" + std::to_string(i % 5))},
                    SourcePosition{{"vigil.posts", t}, i}, [&] { ++done; });
      }
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_TRUE(testing::WaitFor([&] { return done == kThreads * kPerThread; }));
  sink.Stop();
  EXPECT_LT(sink.stats().commits.load(), uint64_t(kThreads * kPerThread)) << "commits are grouped";
  auto offsets = store_->LoadOffsets("vigil.posts");
  ASSERT_TRUE(offsets.ok());
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(offsets->at(t), kPerThread) << "partition " << t;
  auto incidents = store_->ListIncidents({});
  ASSERT_EQ(incidents->size(), 5u);
  int64_t hits = 0;
  for (const auto& i : *incidents) hits += i.hits;
  EXPECT_EQ(hits, kThreads * kPerThread);
}

TEST_F(AlertSinkTest, EndToEndLatencyIsFromTheKafkaTimestampToTheCommit) {
  Metrics metrics;
  AlertSink sink(*store_, clock_, {.metrics = &metrics});
  ASSERT_TRUE(sink.Start().ok());
  const int64_t now_ms = clock_.NowMillis();
  std::atomic<int> done{0};
  sink.Accept({Hit("p1")}, SourcePosition{{"vigil.posts", 0}, 0, now_ms - 1500}, [&] { ++done; });
  sink.Accept({Hit("p2")}, SourcePosition{{"vigil.posts", 0}, 1, now_ms - 20}, [&] { ++done; });
  sink.Accept({Hit("p3")}, SourcePosition{{"vigil.posts", 0}, 2, /*no timestamp*/ -1},
              [&] { ++done; });
  ASSERT_TRUE(testing::WaitFor([&] { return done == 3; }));
  sink.Stop();
  const auto text = testing::ParseExposition(metrics.Render());
  EXPECT_EQ(text.Value("vigil_end_to_end_latency_seconds_count"), 2.0);
  EXPECT_DOUBLE_EQ(*text.Value("vigil_end_to_end_latency_seconds_sum"), 1.52);
  EXPECT_EQ(text.Value("vigil_end_to_end_latency_seconds_bucket", {{"le", "0.025"}}), 1.0);
  EXPECT_EQ(text.Value("vigil_end_to_end_latency_seconds_bucket", {{"le", "2.5"}}), 2.0);
  EXPECT_GE(*text.Value("vigil_state_commit_duration_seconds_count"), 1.0);
}

TEST_F(AlertSinkTest, ARestartResumesFromTheStoredOffsetsAndState) {
  {
    AlertSink sink(*store_, clock_);
    ASSERT_TRUE(sink.Start().ok());
    std::atomic<bool> done{false};
    sink.Accept({Hit("p1")}, SourcePosition{{"vigil.posts", 1}, 41}, [&] { done = true; });
    ASSERT_TRUE(testing::WaitFor([&] { return done.load(); }));
  }
  store_ = OpenStore();
  AlertSink sink(*store_, clock_);
  ASSERT_TRUE(sink.Start().ok());
  EXPECT_EQ(sink.ResumeOffsets("vigil.posts"), (std::map<int32_t, int64_t>{{1, 42}}));
  EXPECT_EQ(sink.active_incidents(), 1u);
  // The consumer replays from Kafka's older commit: the post already applied is skipped
  // (its effect stays single), the next one is applied.
  std::atomic<int> done{0};
  sink.Accept({Hit("p1")}, SourcePosition{{"vigil.posts", 1}, 41}, [&] { ++done; });
  sink.Accept({Hit("p2")}, SourcePosition{{"vigil.posts", 1}, 42}, [&] { ++done; });
  ASSERT_TRUE(testing::WaitFor([&] { return done == 2; }));
  EXPECT_EQ(sink.stats().replays_skipped, 1u);
  auto acked = sink.Acknowledge(1, "alice");
  ASSERT_TRUE(acked.ok());
  EXPECT_EQ(acked->hits, 2);
  EXPECT_EQ(sink.ResumeOffsets("vigil.posts"), (std::map<int32_t, int64_t>{{1, 43}}));
}

TEST_F(AlertSinkTest, WithoutTheFenceOldOffsetsMeanNothing) {
  // The embedded broker's topics start empty at every run: offset 3 now is a new post.
  {
    AlertSink sink(*store_, clock_);
    ASSERT_TRUE(sink.Start().ok());
    std::atomic<bool> done{false};
    sink.Accept({Hit("run1-p")}, SourcePosition{{"vigil.posts", 0}, 10}, [&] { done = true; });
    ASSERT_TRUE(testing::WaitFor([&] { return done.load(); }));
  }
  AlertSink sink(*store_, clock_, {.fence_replays = false});
  ASSERT_TRUE(sink.Start().ok());
  std::atomic<bool> done{false};
  sink.Accept({Hit("run2-p")}, SourcePosition{{"vigil.posts", 0}, 3}, [&] { done = true; });
  ASSERT_TRUE(testing::WaitFor([&] { return done.load(); }));
  EXPECT_EQ(sink.stats().replays_skipped, 0u);
  EXPECT_EQ(store_->GetIncident(1).value()->incident.hits, 2);
}

TEST_F(AlertSinkTest, QuietIncidentsResolveOnTheClock) {
  AlertSink sink(*store_, clock_);
  ASSERT_TRUE(sink.Start().ok());
  std::atomic<bool> done{false};
  sink.Accept({Hit("p1")}, SourcePosition{{"vigil.posts", 0}, 0}, [&] { done = true; });
  ASSERT_TRUE(testing::WaitFor([&] { return done.load(); }));
  clock_.Advance(std::chrono::minutes(29));
  ASSERT_TRUE(sink.Tick().ok());
  EXPECT_EQ(sink.active_incidents(), 1u);
  clock_.Advance(std::chrono::minutes(1));
  ASSERT_TRUE(sink.Tick().ok());
  EXPECT_EQ(sink.active_incidents(), 0u);
  auto detail = store_->GetIncident(1);
  ASSERT_TRUE(detail.ok() && detail->has_value());
  EXPECT_EQ((*detail)->incident.state, alerts::IncidentState::kResolved);
  EXPECT_EQ((*detail)->timeline.back().detail, "no hits for 30m");
  EXPECT_EQ(store_->PendingOutbox(10)->size(), 2u);  // the page and the resolve notice
}

}  // namespace
}  // namespace vigil::daemon
