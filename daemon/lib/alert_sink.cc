#include "daemon/lib/alert_sink.h"

#include <spdlog/spdlog.h>

namespace vigil::daemon {

AlertSink::AlertSink(alerts::StateStore& store, const Clock& clock, AlertSinkOptions options)
    : store_(store), clock_(clock), options_(std::move(options)) {}

AlertSink::~AlertSink() { Stop(); }

Status AlertSink::Start() {
  {
    std::lock_guard lock(engine_mutex_);
    engine_ = std::make_unique<alerts::IncidentEngine>(clock_, options_.engine);
    if (Status restored = engine_->Restore(store_); !restored.ok()) return restored;
    auto offsets = store_.LoadOffsets(options_.topic);
    if (!offsets.ok()) return offsets.error();
    if (options_.fence_replays) {
      for (const auto& [partition, next] : *offsets) applied_[{options_.topic, partition}] = next;
    }
    spdlog::info("incidents: {} active restored from the state store", engine_->active_incidents());
  }
  committer_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void AlertSink::Stop() {
  {
    std::lock_guard lock(queue_mutex_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (committer_.joinable()) committer_.join();
}

void AlertSink::Accept(std::vector<alerts::HitEvent> hits, const SourcePosition& position,
                       std::function<void()> done) {
  if (options_.log_hit_excerpts) {
    for (const alerts::HitEvent& hit : hits) {
      spdlog::info("hit {} {} post={}: {}", hit.rule_id, rules::SeverityName(hit.severity),
                   hit.post_id, hit.excerpt);
    }
  }
  {
    std::lock_guard lock(queue_mutex_);
    queue_.push_back({std::move(hits), position, std::move(done)});
  }
  queue_cv_.notify_one();
}

Status AlertSink::CommitLocked(alerts::Batch& batch) {
  const auto start = std::chrono::steady_clock::now();
  Status status = store_.Apply(batch);
  const auto took = std::chrono::steady_clock::now() - start;
  stats_.commit_nanoseconds += std::chrono::duration_cast<std::chrono::nanoseconds>(took).count();
  if (options_.metrics != nullptr)
    options_.metrics->commit_duration().Observe(std::chrono::duration<double>(took).count());
  if (status.ok()) {
    ++stats_.commits;
    if (!batch.outbox.empty() && options_.on_outbox) options_.on_outbox();
    return status;
  }
  ++stats_.commit_failures;
  // The engine's memory ran ahead of the store: rebuild it from what is durable.
  spdlog::error("state store: {}; rebuilding incident state from the store",
                status.error().message);
  engine_ = std::make_unique<alerts::IncidentEngine>(clock_, options_.engine);
  if (Status restored = engine_->Restore(store_); !restored.ok()) {
    spdlog::error("state store: cannot restore: {}", restored.error().message);
  }
  return status;
}

void AlertSink::Run() {
  auto next_tick = std::chrono::steady_clock::now() + options_.tick_interval;
  auto backoff = std::chrono::milliseconds(100);
  std::vector<Item> items;
  std::vector<int64_t> produced_ms;  // Kafka timestamps of the batch's applied posts
  for (;;) {
    bool stopping = false;
    {
      std::unique_lock lock(queue_mutex_);
      if (items.empty()) {
        queue_cv_.wait_until(lock, next_tick, [&] { return stopping_ || !queue_.empty(); });
        while (!queue_.empty() && items.size() < options_.max_batch_posts) {
          items.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      stopping = stopping_ && queue_.empty();
    }
    const bool tick = std::chrono::steady_clock::now() >= next_tick;
    if (!items.empty() || tick) {
      alerts::Batch batch;
      std::lock_guard engine_lock(engine_mutex_);
      // If the commit fails the engine is rebuilt from the store; so is this fence.
      const std::map<connectors::PartitionKey, int64_t> applied_before = applied_;
      produced_ms.clear();
      for (const Item& item : items) {
        int64_t& applied = applied_[item.position.partition];
        if (item.position.offset < applied) {
          ++stats_.replays_skipped;  // applied before a crash; consumed again since
          continue;
        }
        if (item.position.timestamp_ms >= 0) produced_ms.push_back(item.position.timestamp_ms);
        engine_->OnHits(item.hits, batch);
        applied = item.position.offset + 1;
        batch.offsets[{item.position.partition.topic, item.position.partition.partition}] = applied;
      }
      if (tick) {
        engine_->Tick(batch);
        next_tick = std::chrono::steady_clock::now() + options_.tick_interval;
      }
      if (CommitLocked(batch).ok()) {
        for (const alerts::AuditEntry& entry : batch.audit) {
          spdlog::info("incident {} {}{}{}", entry.incident_id, entry.action,
                       entry.detail.empty() ? "" : ": ", entry.detail);
        }
        stats_.posts += items.size();
        if (options_.metrics != nullptr) {
          const int64_t now_ms = clock_.NowMillis();
          for (int64_t ms : produced_ms) {
            options_.metrics->end_to_end_latency().Observe(
                static_cast<double>(std::max<int64_t>(0, now_ms - ms)) / 1000.0);
          }
        }
        for (Item& item : items) item.done();
        items.clear();
        backoff = std::chrono::milliseconds(100);
      } else if (!items.empty()) {
        applied_ = applied_before;
        // Keep the items and try again: nothing is acknowledged that is not durable.
        std::unique_lock lock(queue_mutex_);
        if (queue_cv_.wait_for(lock, backoff, [&] { return stopping_; }) && stopping_) {
          spdlog::error(
              "state store: stopping with {} posts not applied; they will be consumed again",
              items.size());
          return;
        }
        backoff = std::min(backoff * 2, std::chrono::milliseconds(10000));
      }
    }
    if (stopping && items.empty()) return;
  }
}

Result<alerts::Incident> AlertSink::Acknowledge(int64_t id, const std::string& actor) {
  std::lock_guard lock(engine_mutex_);
  alerts::Batch batch;
  auto incident = engine_->Acknowledge(id, actor, batch);
  if (!incident.ok()) return incident;
  if (Status committed = CommitLocked(batch); !committed.ok()) return committed.error();
  return incident;
}

Result<alerts::Incident> AlertSink::Resolve(int64_t id, const std::string& actor,
                                            const std::string& comment) {
  std::lock_guard lock(engine_mutex_);
  alerts::Batch batch;
  auto incident = engine_->Resolve(id, actor, comment, batch);
  if (!incident.ok()) return incident;
  if (Status committed = CommitLocked(batch); !committed.ok()) return committed.error();
  return incident;
}

Result<alerts::Silence> AlertSink::AddSilence(alerts::Silence silence) {
  std::lock_guard lock(engine_mutex_);
  alerts::Batch batch;
  auto added = engine_->AddSilence(std::move(silence), batch);
  if (!added.ok()) return added;
  if (Status committed = CommitLocked(batch); !committed.ok()) return committed.error();
  return added;
}

Result<alerts::Silence> AlertSink::ExpireSilence(int64_t id, const std::string& actor) {
  std::lock_guard lock(engine_mutex_);
  alerts::Batch batch;
  auto expired = engine_->ExpireSilence(id, actor, batch);
  if (!expired.ok()) return expired;
  if (Status committed = CommitLocked(batch); !committed.ok()) return committed.error();
  return expired;
}

std::vector<alerts::Silence> AlertSink::Silences() const {
  std::lock_guard lock(engine_mutex_);
  return engine_ ? engine_->Silences() : std::vector<alerts::Silence>();
}

Status AlertSink::Tick() {
  std::lock_guard lock(engine_mutex_);
  alerts::Batch batch;
  engine_->Tick(batch);
  return CommitLocked(batch);
}

std::map<int32_t, int64_t> AlertSink::ResumeOffsets(const std::string& topic) {
  auto offsets = store_.LoadOffsets(topic);
  if (!offsets.ok()) {
    spdlog::error("state store: cannot read offsets: {}; resuming from Kafka's",
                  offsets.error().message);
    return {};
  }
  return *offsets;
}

size_t AlertSink::active_incidents() const {
  std::lock_guard lock(engine_mutex_);
  return engine_ ? engine_->active_incidents() : 0;
}

std::map<std::tuple<rules::Category, rules::Severity, alerts::IncidentState>, size_t>
AlertSink::ActiveIncidentCounts() const {
  std::map<std::tuple<rules::Category, rules::Severity, alerts::IncidentState>, size_t> counts;
  std::lock_guard lock(engine_mutex_);
  if (engine_) {
    engine_->ForEachActive([&](const alerts::Incident& incident) {
      ++counts[{incident.category, incident.severity, incident.state}];
    });
  }
  return counts;
}

size_t AlertSink::queued() const {
  std::lock_guard lock(queue_mutex_);
  return queue_.size();
}

}  // namespace vigil::daemon
