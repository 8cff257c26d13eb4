// The SQLite store: one batch is one transaction, the engine's state survives a
// restart, the outbox never enqueues a step twice, offsets are stored with the state.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include <sqlite3.h>
#include "tests/testing/temp_dir.h"

#include "alerts/incident_engine.h"
#include "alerts/state_store.h"

namespace vigil::alerts {
namespace {

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { path_ = (dir_ / "vigil.db").string(); }
  std::unique_ptr<StateStore> Open() {
    auto store = OpenSqliteStore(path_);
    EXPECT_TRUE(store.ok()) << (store.ok() ? "" : store.error().message);
    return store.ok() ? std::move(*store) : nullptr;
  }
  HitEvent Hit(const std::string& post_id, rules::IncidentSpec spec = {}) {
    HitEvent hit;
    hit.incident_key = "r|community=c";
    hit.rule_id = "r";
    hit.owner = "legal";
    hit.spec = spec;
    hit.post_id = post_id;
    hit.excerpt = "110105********002X";
    hit.at = clock_.Now();
    return hit;
  }

  testing::TempDir dir_;
  std::string path_;
  FakeClock clock_;
};

TEST_F(SqliteStoreTest, StateAndOffsetsSurviveARestart) {
  rules::IncidentSpec threshold;
  threshold.count = 3;
  threshold.within = std::chrono::minutes(10);
  {
    auto store = Open();
    IncidentEngine engine(clock_);
    ASSERT_TRUE(engine.Restore(*store).ok());
    Batch batch;
    std::vector<HitEvent> hits = {Hit("p1"), Hit("t1", threshold), Hit("t2", threshold)};
    hits[1].incident_key = hits[2].incident_key = "t|community=c";
    engine.OnHits(hits, batch);
    batch.offsets[{"vigil.posts", 0}] = 17;
    batch.offsets[{"vigil.posts", 2}] = 5;
    ASSERT_TRUE(store->Apply(batch).ok());
  }
  auto store = Open();
  auto offsets = store->LoadOffsets("vigil.posts");
  ASSERT_TRUE(offsets.ok());
  EXPECT_EQ(*offsets, (std::map<int32_t, int64_t>{{0, 17}, {2, 5}}));
  IncidentEngine engine(clock_);
  ASSERT_TRUE(engine.Restore(*store).ok());
  EXPECT_EQ(engine.active_incidents(), 1u);
  // The two threshold hits were restored: the third opens the incident.
  Batch batch;
  HitEvent third = Hit("t3", threshold);
  third.incident_key = "t|community=c";
  engine.OnHits(std::span<const HitEvent>(&third, 1), batch);
  ASSERT_EQ(batch.incidents.size(), 1u);
  EXPECT_EQ(batch.incidents[0].id, 2) << "ids continue after the stored ones";
  EXPECT_EQ(batch.incidents[0].hits, 3);
  ASSERT_TRUE(store->Apply(batch).ok());
  EXPECT_TRUE(store->LoadPendingHits()->empty());
}

// A spike rule's baseline survives a restart: a community that is always busy does not
// "spike" just because vigild was restarted and forgot how busy it was.
TEST_F(SqliteStoreTest, ASpikeBaselineSurvivesARestart) {
  rules::IncidentSpec spike;
  spike.spike = rules::SpikeSpec{3, std::chrono::hours(1), 5};
  spike.within = std::chrono::minutes(10);
  auto hits_over = [&](IncidentEngine& engine, StateStore& store, int n,
                       std::chrono::minutes span) {
    for (int i = 0; i < n; ++i) {
      Batch batch;
      HitEvent hit = Hit("s" + std::to_string(clock_.NowMillis()), spike);
      hit.incident_key = "s|community=busy";
      engine.OnHits(std::span<const HitEvent>(&hit, 1), batch);
      ASSERT_TRUE(store.Apply(batch).ok());
      clock_.Advance(span / n);
    }
  };
  {
    auto store = Open();
    IncidentEngine engine(clock_);
    ASSERT_TRUE(engine.Restore(*store).ok());
    // Ten per window, steadily. With no history yet, the first window looks like a spike
    // (min_count guards quiet communities); that incident is resolved, and after an hour
    // of the same rate, more of it is not a spike.
    hits_over(engine, *store, 60, std::chrono::minutes(60));
    EXPECT_EQ(engine.active_incidents(), 1u);
    Batch batch;
    ASSERT_TRUE(engine.Resolve(1, "alice", "just busy", batch).ok());
    ASSERT_TRUE(store->Apply(batch).ok());
    hits_over(engine, *store, 10, std::chrono::minutes(10));
    EXPECT_EQ(engine.active_incidents(), 0u) << "a steady rate is not a spike";
  }
  auto store = Open();
  IncidentEngine engine(clock_);
  ASSERT_TRUE(engine.Restore(*store).ok());
  hits_over(engine, *store, 10, std::chrono::minutes(10));  // the same rate after the restart
  EXPECT_EQ(engine.active_incidents(), 0u) << "the baseline was restored";
  hits_over(engine, *store, 40, std::chrono::minutes(5));  // now a real spike
  EXPECT_EQ(engine.active_incidents(), 1u);
}

TEST_F(SqliteStoreTest, DetailHasEvidenceAndTimelineAndListFilters) {
  auto store = Open();
  IncidentEngine engine(clock_);
  Batch batch;
  HitEvent hit = Hit("p1");
  engine.OnHits(std::span<const HitEvent>(&hit, 1), batch);
  ASSERT_TRUE(engine.Acknowledge(1, "alice", batch).ok());
  ASSERT_TRUE(store->Apply(batch).ok());
  auto detail = store->GetIncident(1);
  ASSERT_TRUE(detail.ok() && detail->has_value());
  EXPECT_EQ((*detail)->incident.state, IncidentState::kAcknowledged);
  ASSERT_EQ((*detail)->evidence.size(), 1u);
  EXPECT_EQ((*detail)->evidence[0].excerpt, "110105********002X");
  ASSERT_EQ((*detail)->timeline.size(), 2u);
  EXPECT_EQ((*detail)->timeline[1].actor, "alice");
  EXPECT_FALSE(store->GetIncident(99)->has_value());

  IncidentFilter filter;
  filter.state = IncidentState::kAcknowledged;
  EXPECT_EQ(store->ListIncidents(filter)->size(), 1u);
  filter.state = IncidentState::kOpen;
  EXPECT_TRUE(store->ListIncidents(filter)->empty());
  filter = {};
  filter.owner = "nobody";
  EXPECT_TRUE(store->ListIncidents(filter)->empty());
}

TEST_F(SqliteStoreTest, TheSameOutboxStepIsEnqueuedOnce) {
  auto store = Open();
  Batch batch;
  batch.outbox.push_back({0, 1, "incident-1-open", "page", "{}", 0});
  ASSERT_TRUE(store->Apply(batch).ok());
  ASSERT_TRUE(store->Apply(batch).ok());  // a replay after a crash decides the same step
  EXPECT_EQ(store->PendingOutbox(10)->size(), 1u);
}

TEST_F(SqliteStoreTest, AFileOfAnotherSchemaVersionIsRefusedClearly) {
  Open().reset();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_exec(db, "PRAGMA user_version = 7", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  auto store = OpenSqliteStore(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("schema version 7"), std::string::npos)
      << store.error().message;
}

// A state directory from the first release (schema 1) is migrated in place: its
// incidents, pending pages and offsets stay, and silences work.
TEST_F(SqliteStoreTest, AVersionOneFileIsMigratedWithEverythingKept) {
  {
    std::ifstream in(std::string(VIGIL_SOURCE_DIR) + "/tests/data/state_store_v1.sql");
    std::stringstream sql;
    sql << in.rdbuf();
    ASSERT_FALSE(sql.str().empty());
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* message = nullptr;
    ASSERT_EQ(sqlite3_exec(db, sql.str().c_str(), nullptr, nullptr, &message), SQLITE_OK)
        << (message ? message : "");
    sqlite3_close(db);
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  auto active = store->LoadActiveIncidents();
  ASSERT_TRUE(active.ok());
  ASSERT_EQ(active->size(), 1u);
  EXPECT_EQ((*active)[0].id, 7);
  EXPECT_EQ((*active)[0].hits, 3);
  EXPECT_TRUE((*active)[0].tags.empty());
  EXPECT_FALSE((*active)[0].page_held);
  auto pending = store->PendingOutbox(10);
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ((*pending)[0].destination, "") << "a version-1 page is a decision, expanded as one";
  EXPECT_EQ(store->LoadOffsets("vigil.posts")->at(0), 42);
  Batch batch;
  batch.silences.push_back({1, {{"rule", "privacy.*"}}, 0, 5000, "alice", "known", 0});
  ASSERT_TRUE(store->Apply(batch).ok());
  EXPECT_EQ(store->LoadSilences(0)->size(), 1u);
  store.reset();
  // Opening again is a no-op (version 2 now).
  ASSERT_NE(Open(), nullptr);
}

TEST_F(SqliteStoreTest, AnUnwritablePathIsAClearError) {
  auto store = OpenSqliteStore("/proc/vigil/nowhere.db");
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("/proc/vigil/nowhere.db"), std::string::npos);
}

}  // namespace
}  // namespace vigil::alerts
