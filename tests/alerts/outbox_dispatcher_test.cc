// The outbox dispatcher over a real SQLite store with a fake clock and a scripted
// channel: delivered once, retried with back-off, dead after the budget, and a
// "crash" between decision and delivery still pages after the restart.
#include "alerts/outbox_dispatcher.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "tests/testing/temp_dir.h"

namespace vigil::alerts {
namespace {

using Kind = DeliveryResult::Kind;

class OutboxDispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = Open(); }
  void TearDown() override { store_.reset(); }
  std::unique_ptr<StateStore> Open() {
    return OpenSqliteStore((dir_ / "vigil.db").string()).value();
  }
  void Enqueue(const std::string& key) {
    Batch batch;
    batch.outbox.push_back({0, 1, key, "page", "{}", clock_.NowMillis()});
    ASSERT_TRUE(store_->Apply(batch).ok());
  }
  DeliverFn Scripted(std::vector<Kind> script) {
    return [this, script](const OutboxEntry& entry) {
      sent_.push_back(entry.idempotency_key);
      const Kind kind = sent_.size() <= script.size() ? script[sent_.size() - 1] : Kind::kDelivered;
      return DeliveryResult{kind, "scripted", std::nullopt};
    };
  }

  testing::TempDir dir_;
  std::unique_ptr<StateStore> store_;
  FakeClock clock_;
  std::vector<std::string> sent_;
};

TEST_F(OutboxDispatcherTest, DeliversOnceAndOnlyOnce) {
  Enqueue("incident-1-open");
  OutboxDispatcher dispatcher(*store_, clock_, Scripted({}));
  EXPECT_EQ(dispatcher.RunOnce(), 1u);
  EXPECT_EQ(dispatcher.RunOnce(), 0u);
  EXPECT_EQ(sent_, std::vector<std::string>{"incident-1-open"});
  EXPECT_EQ(store_->CountOutbox()->delivered, 1);
}

TEST_F(OutboxDispatcherTest, RetriesWithExponentialBackoffThenDelivers) {
  Enqueue("incident-1-open");
  OutboxDispatcher dispatcher(*store_, clock_, Scripted({Kind::kRetryable, Kind::kRetryable}),
                              {.base_backoff = std::chrono::seconds(2)});
  EXPECT_EQ(dispatcher.RunOnce(), 1u);  // fails; next in 2 s
  clock_.Advance(std::chrono::milliseconds(1999));
  EXPECT_EQ(dispatcher.RunOnce(), 0u);  // not yet due
  clock_.Advance(std::chrono::milliseconds(1));
  EXPECT_EQ(dispatcher.RunOnce(), 1u);  // fails again; next in 4 s
  clock_.Advance(std::chrono::seconds(3));
  EXPECT_EQ(dispatcher.RunOnce(), 0u);
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_EQ(dispatcher.RunOnce(), 1u);  // delivered
  EXPECT_EQ(sent_.size(), 3u);
  EXPECT_EQ(dispatcher.stats().retried, 2u);
  EXPECT_EQ(store_->CountOutbox()->delivered, 1);
}

TEST_F(OutboxDispatcherTest, TheReceiversRetryAfterIsHonoured) {
  Enqueue("incident-1-open");
  OutboxDispatcher dispatcher(*store_, clock_, [](const OutboxEntry&) {
    return DeliveryResult{Kind::kRetryable, "429", std::chrono::seconds(60)};
  });
  dispatcher.RunOnce();
  clock_.Advance(std::chrono::seconds(59));
  EXPECT_EQ(dispatcher.RunOnce(), 0u);
  clock_.Advance(std::chrono::seconds(1));
  EXPECT_EQ(dispatcher.RunOnce(), 1u);
}

TEST_F(OutboxDispatcherTest, AfterTheBudgetAnEntryIsDeadAndVisible) {
  Enqueue("incident-1-open");
  OutboxDispatcher dispatcher(*store_, clock_, Scripted(std::vector<Kind>(10, Kind::kRetryable)),
                              {.max_attempts = 3, .base_backoff = std::chrono::seconds(1)});
  for (int i = 0; i < 5; ++i) {
    dispatcher.RunOnce();
    clock_.Advance(std::chrono::hours(1));
  }
  EXPECT_EQ(sent_.size(), 3u);
  EXPECT_EQ(dispatcher.stats().dead, 1u);
  EXPECT_EQ(store_->CountOutbox()->dead, 1);
  EXPECT_EQ(store_->CountOutbox()->pending, 0);
}

TEST_F(OutboxDispatcherTest, APermanentFailureIsDeadAtOnce) {
  Enqueue("incident-1-open");
  OutboxDispatcher dispatcher(*store_, clock_, Scripted({Kind::kPermanent}));
  dispatcher.RunOnce();
  EXPECT_EQ(store_->CountOutbox()->dead, 1);
}

TEST_F(OutboxDispatcherTest, ADecisionCommittedBeforeACrashIsPagedAfterTheRestart) {
  Enqueue("incident-1-open");  // committed with the incident; then the process died
  store_ = Open();             // restart
  OutboxDispatcher dispatcher(*store_, clock_, Scripted({}));
  EXPECT_EQ(dispatcher.RunOnce(), 1u);
  EXPECT_EQ(sent_, std::vector<std::string>{"incident-1-open"});
}

TEST_F(OutboxDispatcherTest, BackoffIsCapped) {
  OutboxDispatcher dispatcher(
      *store_, clock_, Scripted({}),
      {.base_backoff = std::chrono::seconds(2), .max_backoff = std::chrono::seconds(30)});
  EXPECT_EQ(dispatcher.Backoff(1), std::chrono::seconds(2));
  EXPECT_EQ(dispatcher.Backoff(3), std::chrono::seconds(8));
  EXPECT_EQ(dispatcher.Backoff(20), std::chrono::seconds(30));
}

}  // namespace
}  // namespace vigil::alerts
