// The consuming end of the pipeline: a Kafka consumer in a group that hands each message
// to the next stage and stores its offset only once that stage says the message is done
// (at-least-once, `enable.auto.offset.store=false`). It bounds the messages in flight:
// at `max_in_flight` it pauses its partitions and resumes below half of it, so a slow
// stage slows consumption and memory stays flat. On revocation and on Stop() it waits
// for the in-flight messages of the partitions it gives up, then commits.
//
// Thread safety: Run() on one thread; Complete(), Stop() and Snapshot() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <librdkafka/rdkafkacpp.h>

#include "connectors/kafka_config.h"
#include "connectors/offset_tracker.h"
#include "core/result.h"

namespace vigil::connectors {

// One consumed message, owned by whoever holds it; Complete() it when done.
struct ConsumedMessage {
  std::unique_ptr<RdKafka::Message> message;
  PartitionKey partition;
  int64_t offset = 0;

  std::string_view payload() const {
    return {static_cast<const char*>(message->payload()), message->len()};
  }
  std::string_view key() const {
    return message->key_pointer()
               ? std::string_view(static_cast<const char*>(message->key_pointer()),
                                  message->key_len())
               : std::string_view();
  }
};

struct ConsumerOptions {
  std::string brokers;
  std::string group_id = "vigil";
  std::string topic = "vigil.posts";
  KafkaProperties properties;  // user overrides
  size_t max_in_flight = 4096;
  std::chrono::milliseconds drain_timeout{30000};  // on revoke and on stop
  std::string client_id = "vigild";
  // Where to resume a newly assigned partition, when something other than Kafka's
  // committed offsets knows better: the escalation stage's state store, which writes
  // the consumed offsets in the same transaction as the incident changes (exactly-once
  // effect). Returns partition -> next offset to consume; partitions it leaves out
  // resume from the group's committed offset. Called on the Run() thread.
  std::function<std::map<int32_t, int64_t>(const std::string& topic,
                                           const std::vector<int32_t>& partitions)>
      resume_offsets;
};

struct PartitionStatus {
  int32_t partition = 0;
  int64_t committed =
      -1;  // next to consume: our stored offset, else the group's commit; -1 unknown
  int64_t high_watermark = -1;
  int64_t lag = -1;  // high watermark - position, -1 when unknown
};

struct ConsumerSnapshot {
  bool assigned = false;
  std::vector<PartitionStatus> partitions;
  size_t in_flight = 0;
  bool paused = false;
  uint64_t consumed = 0;
  uint64_t rebalances = 0;
  uint64_t pauses = 0;  // times the in-flight bound paused consumption
};

class KafkaConsumer {
 public:
  using Dispatch = std::function<void(std::unique_ptr<ConsumedMessage>)>;

  static Result<std::unique_ptr<KafkaConsumer>> Create(const ConsumerOptions& options);
  ~KafkaConsumer();

  // Consumes until Stop(), handing each message to `dispatch` (on this thread; it must
  // not block for long). Then drains, commits and leaves the group.
  void Run(const Dispatch& dispatch);
  void Stop() { stopping_ = true; }

  // The message is done (its hits handed on): its offset may be stored once all
  // earlier ones of its partition are done too.
  void Complete(const PartitionKey& partition, int64_t offset);

  ConsumerSnapshot Snapshot() const;

 private:
  class Rebalancer;
  KafkaConsumer() = default;
  void DrainCompletions();
  // Waits until nothing of `partitions` is in flight (or the drain timeout passes).
  void DrainPartitions(const std::vector<PartitionKey>& partitions);
  void SetPaused(bool paused);
  void OnAssign(std::vector<RdKafka::TopicPartition*>& partitions);
  void OnRevoke(const std::vector<RdKafka::TopicPartition*>& partitions);
  void RefreshSnapshot();

  ConsumerOptions options_;
  std::unique_ptr<Rebalancer> rebalancer_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> consumed_{0};
  bool closed_ = false;

  // Owned by the Run() thread.
  OffsetTracker tracker_;
  std::vector<RdKafka::TopicPartition*> assignment_;
  bool paused_ = false;
  std::chrono::steady_clock::time_point next_snapshot_{};

  std::mutex completions_mutex_;
  std::condition_variable completions_cv_;
  std::vector<std::pair<PartitionKey, int64_t>> completions_;  // GUARDED_BY(completions_mutex_)

  mutable std::mutex snapshot_mutex_;
  ConsumerSnapshot snapshot_;          // GUARDED_BY(snapshot_mutex_)
  std::map<int32_t, int64_t> stored_;  // partition -> stored offset; Run() thread
  std::map<int32_t, int64_t>
      group_committed_;  // from the broker, for partitions we hold nothing of
  std::chrono::steady_clock::time_point next_broker_query_{};
  std::map<int32_t, int64_t> next_;  // partition -> offset after the last dispatched; Run() thread
};

}  // namespace vigil::connectors
