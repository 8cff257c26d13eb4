// The escalation stage behind the pipeline: hits go to the incident engine, and every
// change (incidents, evidence, audit, outbox, threshold windows) is committed to the
// state store in one transaction together with the consumed offsets. Commits are
// batched (group commit): posts from all workers that arrive while a commit runs go
// into the next one. A post's `done` runs only after its batch committed.
//
// People's actions (acknowledge, resolve) go through the same lock and store, so they
// are ordered with the hits. A committer thread also ticks the engine (auto-resolve).
//
// Thread safety: Accept, Acknowledge, Resolve from any thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <tuple>

#include "alerts/incident_engine.h"
#include "alerts/state_store.h"
#include "core/clock.h"
#include "daemon/lib/hit_sink.h"
#include "daemon/lib/metrics.h"

namespace vigil::daemon {

struct AlertSinkOptions {
  std::string topic = "vigil.posts";              // whose offsets are stored with the state
  size_t max_batch_posts = 1024;                  // posts per transaction at most
  std::chrono::milliseconds tick_interval{1000};  // auto-resolve and window expiry
  alerts::EngineOptions engine;
  bool log_hit_excerpts = false;  // the demo: a log line per hit with its masked excerpt
  // Skip replayed posts below the offsets stored with the state. Off for the embedded
  // broker, whose topics start empty at every run (old offsets mean nothing there).
  bool fence_replays = true;
  // Called after a commit that enqueued pages (wakes the outbox dispatcher).
  std::function<void()> on_outbox;
  Metrics* metrics = nullptr;  // commit duration and end-to-end latency histograms
};

struct AlertSinkStats {
  std::atomic<uint64_t> commits{0};
  std::atomic<uint64_t> commit_failures{0};
  std::atomic<uint64_t> posts{0};
  std::atomic<uint64_t> replays_skipped{0};  // posts already applied before a restart
  std::atomic<uint64_t> commit_nanoseconds{0};
};

class AlertSink : public HitSink {
 public:
  AlertSink(alerts::StateStore& store, const Clock& clock, AlertSinkOptions options = {});
  ~AlertSink() override;

  // Restores the engine from the store and starts the committer.
  Status Start();
  // Commits what is queued and stops.
  void Stop();

  void Accept(std::vector<alerts::HitEvent> hits, const SourcePosition& position,
              std::function<void()> done) override;

  Result<alerts::Incident> Acknowledge(int64_t id, const std::string& actor);
  Result<alerts::Incident> Resolve(int64_t id, const std::string& actor,
                                   const std::string& comment);

  // Silences: stored with the incident state, applied by the engine to every page.
  Result<alerts::Silence> AddSilence(alerts::Silence silence);
  Result<alerts::Silence> ExpireSilence(int64_t id, const std::string& actor);
  std::vector<alerts::Silence> Silences() const;

  // Runs the engine's time-driven changes now and commits them (the committer does this
  // every tick_interval; tests drive it with a fake clock).
  Status Tick();

  // Where each partition resumes: the offsets stored with the state (for the consumer's
  // resume_offsets).
  std::map<int32_t, int64_t> ResumeOffsets(const std::string& topic);

  const AlertSinkStats& stats() const { return stats_; }
  const Clock& clock() const { return clock_; }
  size_t active_incidents() const;
  // Open and acknowledged incidents by category, severity and state.
  std::map<std::tuple<rules::Category, rules::Severity, alerts::IncidentState>, size_t>
  ActiveIncidentCounts() const;
  size_t queued() const;  // posts waiting for the committer

 private:
  struct Item {
    std::vector<alerts::HitEvent> hits;
    SourcePosition position;
    std::function<void()> done;
  };
  void Run();
  Status CommitLocked(alerts::Batch& batch);  // REQUIRES: engine_mutex_ held

  alerts::StateStore& store_;
  const Clock& clock_;
  // Per partition, the offset after the last post whose hits were applied (from the
  // store at start): a replayed post below it is skipped, so its effect stays single.
  std::map<connectors::PartitionKey, int64_t> applied_;  // GUARDED_BY(engine_mutex_)
  const AlertSinkOptions options_;
  AlertSinkStats stats_;

  mutable std::mutex engine_mutex_;
  std::unique_ptr<alerts::IncidentEngine> engine_;  // GUARDED_BY(engine_mutex_)

  mutable std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::deque<Item> queue_;  // GUARDED_BY(queue_mutex_)
  bool stopping_ = false;   // GUARDED_BY(queue_mutex_)
  std::thread committer_;
};

}  // namespace vigil::daemon
