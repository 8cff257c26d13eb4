#include "connectors/kafka_consumer.h"

#include <map>

#include <spdlog/spdlog.h>

namespace vigil::connectors {
namespace {

void FreePartitions(std::vector<RdKafka::TopicPartition*>& partitions) {
  RdKafka::TopicPartition::destroy(partitions);
  partitions.clear();
}

std::vector<RdKafka::TopicPartition*> Copy(
    const std::vector<RdKafka::TopicPartition*>& partitions) {
  std::vector<RdKafka::TopicPartition*> out;
  for (const RdKafka::TopicPartition* p : partitions) {
    out.push_back(RdKafka::TopicPartition::create(p->topic(), p->partition()));
  }
  return out;
}

}  // namespace

class KafkaConsumer::Rebalancer : public RdKafka::RebalanceCb {
 public:
  explicit Rebalancer(KafkaConsumer* owner) : owner_(owner) {}
  void rebalance_cb(RdKafka::KafkaConsumer*, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      owner_->OnAssign(partitions);  // may set the offsets to resume from
    } else {
      owner_->OnRevoke(partitions);
    }
  }

 private:
  KafkaConsumer* owner_;
};

Result<std::unique_ptr<KafkaConsumer>> KafkaConsumer::Create(const ConsumerOptions& options) {
  const KafkaProperties defaults = {
      {"bootstrap.servers", options.brokers},
      {"group.id", options.group_id},
      {"client.id", options.client_id},
      // At-least-once: an offset is stored only when its message is done (Complete()),
      // and auto-commit commits only stored offsets.
      {"enable.auto.offset.store", "false"},
      {"enable.auto.commit", "true"},
      {"auto.commit.interval.ms", "1000"},
      {"auto.offset.reset", "earliest"},
      // Keep librdkafka's prefetch small so memory stays flat under any backlog.
      {"queued.max.messages.kbytes", "16384"},
      {"fetch.max.bytes", "16777216"},
      {"session.timeout.ms", "10000"},
      {"heartbeat.interval.ms", "1000"},
  };
  auto conf = MakeKafkaConf(defaults, options.properties);
  if (!conf.ok()) return conf.error();
  std::unique_ptr<KafkaConsumer> consumer(new KafkaConsumer());
  consumer->options_ = options;
  consumer->rebalancer_ = std::make_unique<Rebalancer>(consumer.get());
  std::string reason;
  if ((*conf)->set("rebalance_cb", consumer->rebalancer_.get(), reason) != RdKafka::Conf::CONF_OK) {
    return Error{"kafka consumer: " + reason};
  }
  consumer->consumer_.reset(RdKafka::KafkaConsumer::create(conf->get(), reason));
  if (!consumer->consumer_) return Error{"kafka consumer: " + reason};
  if (RdKafka::ErrorCode err = consumer->consumer_->subscribe({options.topic});
      err != RdKafka::ERR_NO_ERROR) {
    return Error{"kafka consumer: cannot subscribe to " + options.topic + ": " +
                 RdKafka::err2str(err)};
  }
  return consumer;
}

KafkaConsumer::~KafkaConsumer() {
  FreePartitions(assignment_);
  if (consumer_ && !closed_) consumer_->close();
}

void KafkaConsumer::Complete(const PartitionKey& partition, int64_t offset) {
  {
    std::lock_guard lock(completions_mutex_);
    completions_.emplace_back(partition, offset);
  }
  completions_cv_.notify_one();
}

void KafkaConsumer::DrainCompletions() {
  std::vector<std::pair<PartitionKey, int64_t>> done;
  {
    std::lock_guard lock(completions_mutex_);
    done.swap(completions_);
  }
  if (done.empty()) return;
  std::map<int32_t, int64_t> advanced;
  for (const auto& [partition, offset] : done) {
    if (auto next = tracker_.Done(partition, offset)) advanced[partition.partition] = *next;
  }
  if (advanced.empty()) return;
  std::vector<RdKafka::TopicPartition*> offsets;
  for (const auto& [partition, next] : advanced) {
    // The C++ API's offsets_store() takes the offset to resume from, i.e. the last
    // done offset + 1 (unlike the legacy store_offset(message), which adds the 1).
    offsets.push_back(RdKafka::TopicPartition::create(options_.topic, partition, next));
    stored_[partition] = next;
  }
  if (RdKafka::ErrorCode err = consumer_->offsets_store(offsets); err != RdKafka::ERR_NO_ERROR) {
    // Happens for partitions revoked meanwhile; their new owner re-reads from the last
    // commit (at-least-once).
    spdlog::debug("kafka consumer: offsets_store: {}", RdKafka::err2str(err));
  }
  FreePartitions(offsets);
}

void KafkaConsumer::DrainPartitions(const std::vector<PartitionKey>& partitions) {
  const auto deadline = std::chrono::steady_clock::now() + options_.drain_timeout;
  auto pending = [&] {
    size_t n = 0;
    for (const PartitionKey& p : partitions) n += tracker_.in_flight(p);
    return n;
  };
  for (;;) {
    DrainCompletions();
    const size_t left = pending();
    if (left == 0) return;
    if (std::chrono::steady_clock::now() >= deadline) {
      spdlog::warn(
          "kafka consumer: {} messages still in flight after {} ms; they will be consumed again",
          left, options_.drain_timeout.count());
      return;
    }
    std::unique_lock lock(completions_mutex_);
    completions_cv_.wait_for(lock, std::chrono::milliseconds(20),
                             [&] { return !completions_.empty(); });
  }
}

void KafkaConsumer::SetPaused(bool paused) {
  if (paused == paused_) return;
  paused_ = paused;
  if (paused) {
    std::lock_guard lock(snapshot_mutex_);
    ++snapshot_.pauses;
  }
  if (assignment_.empty()) return;
  auto partitions = Copy(assignment_);
  const RdKafka::ErrorCode err =
      paused ? consumer_->pause(partitions) : consumer_->resume(partitions);
  if (err != RdKafka::ERR_NO_ERROR)
    spdlog::warn("kafka consumer: pause/resume: {}", RdKafka::err2str(err));
  FreePartitions(partitions);
  if (!paused) {
    // pause() purged librdkafka's prefetched messages; make sure fetching resumes right
    // after the last message we took (librdkafka 2.0 can resume past purged ones).
    for (const auto& [partition, next] : next_) {
      std::unique_ptr<RdKafka::TopicPartition> position(
          RdKafka::TopicPartition::create(options_.topic, partition, next));
      if (RdKafka::ErrorCode seek = consumer_->seek(*position, 0); seek != RdKafka::ERR_NO_ERROR) {
        spdlog::debug("kafka consumer: seek partition {} to {}: {}", partition, next,
                      RdKafka::err2str(seek));
      }
    }
  }
  spdlog::debug("kafka consumer: {} ({} in flight)", paused ? "paused" : "resumed",
                tracker_.in_flight());
}

void KafkaConsumer::OnAssign(std::vector<RdKafka::TopicPartition*>& partitions) {
  std::string names;
  for (const RdKafka::TopicPartition* p : partitions) {
    tracker_.Reset({p->topic(), p->partition()});
    stored_.erase(p->partition());
    next_.erase(p->partition());
    group_committed_.erase(p->partition());
    names += (names.empty() ? "" : ",") + std::to_string(p->partition());
  }
  if (options_.resume_offsets) {
    std::vector<int32_t> ids;
    for (const RdKafka::TopicPartition* p : partitions) ids.push_back(p->partition());
    const std::map<int32_t, int64_t> resume = options_.resume_offsets(options_.topic, ids);
    for (RdKafka::TopicPartition* p : partitions) {
      if (auto it = resume.find(p->partition()); it != resume.end()) {
        p->set_offset(it->second);
        spdlog::info("kafka consumer: partition {} resumes at offset {} from the state store",
                     p->partition(), it->second);
      }
    }
  }
  const bool cooperative = consumer_->rebalance_protocol() == "COOPERATIVE";
  RdKafka::Error* error = nullptr;
  if (cooperative) {
    error = consumer_->incremental_assign(partitions);
    auto copy = Copy(partitions);
    assignment_.insert(assignment_.end(), copy.begin(), copy.end());
  } else {
    if (RdKafka::ErrorCode err = consumer_->assign(partitions); err != RdKafka::ERR_NO_ERROR) {
      spdlog::error("kafka consumer: assign: {}", RdKafka::err2str(err));
    }
    FreePartitions(assignment_);
    assignment_ = Copy(partitions);
  }
  if (error != nullptr) {
    spdlog::error("kafka consumer: incremental assign: {}", error->str());
    delete error;
  }
  {
    // librdkafka keeps a partition's pause flag across unassign/assign: set it explicitly
    // either way, or a partition paused before a rebalance stays paused for good.
    auto copy = Copy(partitions);
    paused_ ? consumer_->pause(copy) : consumer_->resume(copy);
    FreePartitions(copy);
  }
  {
    std::lock_guard lock(snapshot_mutex_);
    snapshot_.assigned = !assignment_.empty();
    ++snapshot_.rebalances;
  }
  next_snapshot_ = {};
  spdlog::info("kafka consumer: assigned {} partition(s) of {}: [{}]", partitions.size(),
               options_.topic, names);
}

void KafkaConsumer::OnRevoke(const std::vector<RdKafka::TopicPartition*>& partitions) {
  std::vector<PartitionKey> keys;
  for (const RdKafka::TopicPartition* p : partitions) keys.push_back({p->topic(), p->partition()});
  // Finish what we hold of these partitions and commit it, so their next owner starts
  // right after our last processed message.
  DrainPartitions(keys);
  std::vector<RdKafka::TopicPartition*> offsets;
  for (const PartitionKey& key : keys) {
    if (auto it = stored_.find(key.partition); it != stored_.end()) {
      offsets.push_back(RdKafka::TopicPartition::create(key.topic, key.partition, it->second));
    }
  }
  if (!offsets.empty()) {
    if (RdKafka::ErrorCode err = consumer_->commitSync(offsets); err != RdKafka::ERR_NO_ERROR) {
      spdlog::warn("kafka consumer: commit on revoke: {}", RdKafka::err2str(err));
    }
  }
  FreePartitions(offsets);
  for (const PartitionKey& key : keys) {
    tracker_.Reset(key);
    stored_.erase(key.partition);
    next_.erase(key.partition);
  }
  if (consumer_->rebalance_protocol() == "COOPERATIVE") {
    if (RdKafka::Error* error = consumer_->incremental_unassign(partitions)) {
      spdlog::error("kafka consumer: incremental unassign: {}", error->str());
      delete error;
    }
    std::vector<RdKafka::TopicPartition*> kept;
    for (RdKafka::TopicPartition* p : assignment_) {
      bool revoked = false;
      for (const PartitionKey& key : keys) revoked |= key.partition == p->partition();
      if (revoked) {
        delete p;
      } else {
        kept.push_back(p);
      }
    }
    assignment_ = std::move(kept);
  } else {
    consumer_->unassign();
    FreePartitions(assignment_);
  }
  {
    std::lock_guard lock(snapshot_mutex_);
    snapshot_.assigned = !assignment_.empty();
    snapshot_.partitions.clear();
  }
  spdlog::info("kafka consumer: revoked {} partition(s)", partitions.size());
}

void KafkaConsumer::RefreshSnapshot() {
  const auto now = std::chrono::steady_clock::now();
  if (now < next_snapshot_) return;
  next_snapshot_ = now + std::chrono::seconds(1);
  // A partition we have taken nothing from yet (stalled, or just assigned) has no stored
  // offset and no cached watermarks: ask the broker, at most every 5 s and briefly, so
  // its backlog shows as lag instead of hiding.
  const bool ask_broker = now >= next_broker_query_;
  std::vector<PartitionStatus> partitions;
  auto positions = Copy(assignment_);
  consumer_->position(positions);
  std::vector<RdKafka::TopicPartition*> unknown;
  for (const RdKafka::TopicPartition* p : positions) {
    if (!stored_.count(p->partition()) && p->offset() < 0) {
      unknown.push_back(RdKafka::TopicPartition::create(p->topic(), p->partition()));
    }
  }
  if (ask_broker && !unknown.empty()) {
    next_broker_query_ = now + std::chrono::seconds(5);
    if (consumer_->committed(unknown, 200) == RdKafka::ERR_NO_ERROR) {
      for (const RdKafka::TopicPartition* p : unknown) {
        if (p->offset() >= 0) group_committed_[p->partition()] = p->offset();
      }
    }
  }
  for (const RdKafka::TopicPartition* p : positions) {
    PartitionStatus status;
    status.partition = p->partition();
    if (auto it = stored_.find(p->partition()); it != stored_.end()) {
      status.committed = it->second;
    } else if (auto g = group_committed_.find(p->partition()); g != group_committed_.end()) {
      status.committed = g->second;
    }
    int64_t low = -1, high = -1;
    bool known = consumer_->get_watermark_offsets(p->topic(), p->partition(), &low, &high) ==
                     RdKafka::ERR_NO_ERROR &&
                 high >= 0;
    if (!known && ask_broker) {
      known = consumer_->query_watermark_offsets(p->topic(), p->partition(), &low, &high, 200) ==
                  RdKafka::ERR_NO_ERROR &&
              high >= 0;
    }
    if (known) {
      status.high_watermark = high;
      const int64_t position = status.committed >= 0 ? status.committed
                               : p->offset() >= 0    ? p->offset()
                                                     : low;
      if (position >= 0) status.lag = std::max<int64_t>(0, high - position);
    }
    partitions.push_back(status);
  }
  FreePartitions(positions);
  FreePartitions(unknown);
  std::lock_guard lock(snapshot_mutex_);
  snapshot_.partitions = std::move(partitions);
  snapshot_.assigned = !assignment_.empty();
  snapshot_.in_flight = tracker_.in_flight();
  snapshot_.paused = paused_;
}

void KafkaConsumer::Run(const Dispatch& dispatch) {
  auto last_error_log = std::chrono::steady_clock::time_point{};
  while (!stopping_) {
    DrainCompletions();
    const size_t in_flight = tracker_.in_flight();
    if (!paused_ && in_flight >= options_.max_in_flight) SetPaused(true);
    if (paused_ && in_flight <= options_.max_in_flight / 2) SetPaused(false);
    RefreshSnapshot();
    std::unique_ptr<RdKafka::Message> message(consumer_->consume(paused_ ? 10 : 100));
    switch (message->err()) {
      case RdKafka::ERR_NO_ERROR: {
        auto consumed_message = std::make_unique<ConsumedMessage>();
        consumed_message->partition = {message->topic_name(), message->partition()};
        consumed_message->offset = message->offset();
        tracker_.Consumed(consumed_message->partition, consumed_message->offset);
        next_[consumed_message->partition.partition] = consumed_message->offset + 1;
        consumed_message->message = std::move(message);
        consumed_.fetch_add(1, std::memory_order_relaxed);
        dispatch(std::move(consumed_message));
        break;
      }
      case RdKafka::ERR__TIMED_OUT:
      case RdKafka::ERR__PARTITION_EOF:
        break;
      default: {
        const auto now = std::chrono::steady_clock::now();
        if (now - last_error_log > std::chrono::seconds(5)) {
          spdlog::warn("kafka consumer: {}", message->errstr());
          last_error_log = now;
        }
      }
    }
  }
  // Shutdown: finish what is in flight, store and commit it, leave the group.
  std::vector<PartitionKey> all;
  for (const RdKafka::TopicPartition* p : assignment_) all.push_back({p->topic(), p->partition()});
  DrainPartitions(all);
  std::vector<RdKafka::TopicPartition*> offsets;
  for (const auto& [partition, next] : stored_) {
    offsets.push_back(RdKafka::TopicPartition::create(options_.topic, partition, next));
  }
  if (!offsets.empty()) {
    if (RdKafka::ErrorCode err = consumer_->commitSync(offsets); err != RdKafka::ERR_NO_ERROR) {
      spdlog::warn("kafka consumer: final commit: {}", RdKafka::err2str(err));
    }
  }
  FreePartitions(offsets);
  consumer_->close();
  closed_ = true;
}

ConsumerSnapshot KafkaConsumer::Snapshot() const {
  std::lock_guard lock(snapshot_mutex_);
  ConsumerSnapshot snapshot = snapshot_;
  snapshot.consumed = consumed_.load(std::memory_order_relaxed);
  return snapshot;
}

}  // namespace vigil::connectors
