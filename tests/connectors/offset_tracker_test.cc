#include "connectors/offset_tracker.h"

#include <gtest/gtest.h>

namespace vigil::connectors {
namespace {

const PartitionKey kP0{"vigil.posts", 0};
const PartitionKey kP1{"vigil.posts", 1};

TEST(OffsetTrackerTest, AdvancesOnlyOverTheDonePrefix) {
  OffsetTracker tracker;
  for (int64_t o = 10; o < 14; ++o) tracker.Consumed(kP0, o);
  EXPECT_EQ(tracker.in_flight(), 4u);
  EXPECT_EQ(tracker.Done(kP0, 12), std::nullopt);  // 10 and 11 still in flight
  EXPECT_EQ(tracker.Done(kP0, 11), std::nullopt);
  EXPECT_EQ(tracker.Done(kP0, 10), 13);  // 10, 11, 12 done: the next to consume is 13
  EXPECT_EQ(tracker.in_flight(kP0), 1u);
  EXPECT_EQ(tracker.Done(kP0, 13), 14);
  EXPECT_EQ(tracker.in_flight(), 0u);
}

TEST(OffsetTrackerTest, PartitionsAreIndependent) {
  OffsetTracker tracker;
  tracker.Consumed(kP0, 0);
  tracker.Consumed(kP1, 0);
  tracker.Consumed(kP1, 1);
  EXPECT_EQ(tracker.Done(kP1, 0), 1);
  EXPECT_EQ(tracker.Done(kP1, 1), 2);
  EXPECT_EQ(tracker.in_flight(kP0), 1u);
  EXPECT_EQ(tracker.Done(kP0, 0), 1);
}

TEST(OffsetTrackerTest, GapsFromCompactionAreFine) {
  OffsetTracker tracker;
  tracker.Consumed(kP0, 5);
  tracker.Consumed(kP0, 9);
  EXPECT_EQ(tracker.Done(kP0, 9), std::nullopt);
  EXPECT_EQ(tracker.Done(kP0, 5), 10);
}

TEST(OffsetTrackerTest, DoneTwiceOrUnknownIsIgnored) {
  OffsetTracker tracker;
  tracker.Consumed(kP0, 1);
  tracker.Consumed(kP0, 2);
  EXPECT_EQ(tracker.Done(kP0, 2), std::nullopt);
  EXPECT_EQ(tracker.Done(kP0, 2), std::nullopt);
  EXPECT_EQ(tracker.Done(kP0, 7), std::nullopt);
  EXPECT_EQ(tracker.Done(kP1, 1), std::nullopt);
  EXPECT_EQ(tracker.in_flight(), 2u);
}

TEST(OffsetTrackerTest, ResetForgetsARevokedPartition) {
  OffsetTracker tracker;
  tracker.Consumed(kP0, 1);
  tracker.Consumed(kP1, 1);
  tracker.Reset(kP0);
  EXPECT_EQ(tracker.in_flight(), 1u);
  EXPECT_EQ(tracker.Done(kP0, 1), std::nullopt);  // a late completion after revocation
}

TEST(OffsetTrackerTest, ARewindRestartsTheWindow) {
  OffsetTracker tracker;
  tracker.Consumed(kP0, 5);
  tracker.Consumed(kP0, 6);
  tracker.Consumed(kP0, 3);  // seek back (e.g. after a reset)
  EXPECT_EQ(tracker.in_flight(), 1u);
  EXPECT_EQ(tracker.Done(kP0, 3), 4);
}

}  // namespace
}  // namespace vigil::connectors
