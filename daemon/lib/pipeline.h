// The daemon's data path: consumer -> N workers (decode, match) -> producer (hits, DLQ)
// and the hit sink. Messages of one partition go to one worker, in order. A message's
// offset is handed back to the consumer (to be stored) only when its hits, or its
// dead-letter copy, were acknowledged by Kafka: nothing consumed is ever lost.
//
// Thread safety: Start/Stop from one thread; Stats() from any.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "connectors/kafka_consumer.h"
#include "connectors/kafka_producer.h"
#include "connectors/post.h"
#include "core/clock.h"
#include "daemon/lib/hit_sink.h"
#include "daemon/lib/metrics.h"
#include "daemon/lib/rule_holder.h"

namespace vigil::daemon {

struct PipelineOptions {
  int workers = 1;
  std::string hits_topic = "vigil.hits";
  std::string dlq_topic = "vigil.dlq";
  connectors::DecoderLimits limits;
  Metrics* metrics = nullptr;  // match duration, per-rule hits and candidates
};

// Counters of the data path (the metrics issue exports them).
struct PipelineStats {
  static constexpr size_t kReasons = 8;  // connectors::InvalidReason values
  std::atomic<uint64_t> consumed{0};
  std::atomic<uint64_t> matched{0};  // valid posts matched
  std::atomic<uint64_t> hits{0};
  std::atomic<uint64_t> hits_produced{0};                 // acknowledged by Kafka
  std::atomic<uint64_t> dead_lettered{0};                 // acknowledged by Kafka
  std::array<std::atomic<uint64_t>, kReasons> invalid{};  // by InvalidReason
  std::atomic<uint64_t> delivery_failures{0};
  std::atomic<uint64_t> completed{0};  // offsets handed back to the consumer
  std::atomic<uint64_t> match_nanoseconds{0};
};

class Pipeline {
 public:
  Pipeline(PipelineOptions options, RuleHolder& rules, connectors::KafkaConsumer& consumer,
           connectors::KafkaProducer& producer, HitSink& sink,
           const Clock& clock = SystemClock::Instance());
  ~Pipeline();

  // Starts the workers and runs the consumer on its own thread.
  void Start();
  // Stops consuming, drains in-flight posts, commits (the consumer), stops the workers.
  // The caller flushes the producer afterwards.
  void Stop();

  const PipelineStats& stats() const { return stats_; }
  size_t queued() const;  // posts waiting for a worker

 private:
  struct Ticket;
  struct Worker {
    std::mutex mutex;
    std::condition_variable cv;
    std::deque<std::unique_ptr<connectors::ConsumedMessage>> queue;  // GUARDED_BY(mutex)
    std::thread thread;
  };
  void Dispatch(std::unique_ptr<connectors::ConsumedMessage> message);
  void WorkerLoop(Worker& worker);
  // What a worker reuses from post to post, so the steady state does not allocate.
  struct WorkerState {
    explicit WorkerState(const connectors::DecoderLimits& limits) : decoder(limits) {}
    connectors::PostDecoder decoder;
    rules::MatchScratch scratch;
    rules::MatchResult result;
    std::vector<rules::FieldText> fields;
    std::string tags;
    std::shared_ptr<const RuleCounters> counters;  // of the set last matched with
  };
  void Count(const rules::RuleSet& set, const rules::MatchResult& result, double seconds,
             WorkerState& state);
  void Process(std::unique_ptr<connectors::ConsumedMessage> message, WorkerState& state);
  void DeadLetter(const std::shared_ptr<Ticket>& ticket, const connectors::ConsumedMessage& message,
                  connectors::InvalidReason reason, const std::string& detail);
  void Produce(const std::shared_ptr<Ticket>& ticket, connectors::OutMessage message,
               bool dead_letter);
  void Finish(const std::shared_ptr<Ticket>& ticket);

  const PipelineOptions options_;
  RuleHolder& rules_;
  connectors::KafkaConsumer& consumer_;
  connectors::KafkaProducer& producer_;
  HitSink& sink_;
  const Clock& clock_;
  PipelineStats stats_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::thread consumer_thread_;
  std::atomic<bool> stopping_{false};
};

}  // namespace vigil::daemon
