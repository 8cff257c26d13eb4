#include "daemon/lib/pipeline.h"

#include <chrono>

#include <spdlog/spdlog.h>

#include "connectors/hit_codec.h"
#include "core/hash.h"

namespace vigil::daemon {

// One consumed message until its effects are durable: the sink applied its hits (in
// offset order per partition: the worker hands them over as it processes them) and
// Kafka acknowledged what it produced (hits or a dead letter); only then is its offset
// handed back to the consumer.
struct Pipeline::Ticket {
  connectors::PartitionKey partition;
  int64_t offset = 0;
  std::atomic<int> pending{1};  // produced messages not yet acknowledged, +1 while processing
  std::atomic<bool> failed{false};
};

Pipeline::Pipeline(PipelineOptions options, RuleHolder& rules, connectors::KafkaConsumer& consumer,
                   connectors::KafkaProducer& producer, HitSink& sink, const Clock& clock)
    : options_(std::move(options)),
      rules_(rules),
      consumer_(consumer),
      producer_(producer),
      sink_(sink),
      clock_(clock) {}

Pipeline::~Pipeline() { Stop(); }

void Pipeline::Start() {
  const int count = std::max(1, options_.workers);
  for (int i = 0; i < count; ++i) {
    workers_.push_back(std::make_unique<Worker>());
    Worker& worker = *workers_.back();
    worker.thread = std::thread([this, &worker] { WorkerLoop(worker); });
  }
  consumer_thread_ = std::thread([this] {
    consumer_.Run(
        [this](std::unique_ptr<connectors::ConsumedMessage> m) { Dispatch(std::move(m)); });
  });
}

void Pipeline::Stop() {
  if (!consumer_thread_.joinable()) return;
  consumer_.Stop();
  consumer_thread_.join();  // the consumer waited for in-flight posts and committed
  stopping_ = true;
  for (auto& worker : workers_) {
    { std::lock_guard lock(worker->mutex); }
    worker->cv.notify_all();
    worker->thread.join();
  }
  workers_.clear();
}

size_t Pipeline::queued() const {
  size_t n = 0;
  for (const auto& worker : workers_) {
    std::lock_guard lock(worker->mutex);
    n += worker->queue.size();
  }
  return n;
}

void Pipeline::Dispatch(std::unique_ptr<connectors::ConsumedMessage> message) {
  ++stats_.consumed;
  // Per-partition order: a partition always goes to the same worker. The consumer bounds
  // the messages in flight, so these queues are bounded too.
  Worker& worker = *workers_[static_cast<size_t>(message->partition.partition) % workers_.size()];
  {
    std::lock_guard lock(worker.mutex);
    worker.queue.push_back(std::move(message));
  }
  worker.cv.notify_one();
}

void Pipeline::WorkerLoop(Worker& worker) {
  WorkerState state(options_.limits);
  for (;;) {
    std::unique_ptr<connectors::ConsumedMessage> message;
    {
      std::unique_lock lock(worker.mutex);
      worker.cv.wait(lock, [&] { return stopping_ || !worker.queue.empty(); });
      if (worker.queue.empty()) return;  // stopping, and nothing left
      message = std::move(worker.queue.front());
      worker.queue.pop_front();
    }
    Process(std::move(message), state);
  }
}

void Pipeline::Process(std::unique_ptr<connectors::ConsumedMessage> message, WorkerState& state) {
  auto ticket = std::make_shared<Ticket>();
  ticket->partition = message->partition;
  ticket->offset = message->offset;

  connectors::PostView post;
  connectors::PostError error;
  if (!state.decoder.Decode(message->payload(), post, error)) {
    DeadLetter(ticket, *message, error.reason, error.detail);
    Finish(ticket);
    return;
  }

  const std::shared_ptr<const rules::RuleSet> set = rules_.current();
  post.MatchFields(state.fields, state.tags);
  rules::MatchResult& result = state.result;
  const auto start = std::chrono::steady_clock::now();
  const Status status = rules::MatchPost(*set, state.fields, state.scratch, result);
  const auto took = std::chrono::steady_clock::now() - start;
  stats_.match_nanoseconds += std::chrono::duration_cast<std::chrono::nanoseconds>(took).count();
  if (!status.ok()) {
    // The decoder validated the JSON; a field the matcher refuses is still a bad post.
    DeadLetter(ticket, *message, connectors::InvalidReason::kBadField, status.error().message);
    Finish(ticket);
    return;
  }
  ++stats_.matched;
  if (options_.metrics != nullptr)
    Count(*set, result, std::chrono::duration<double>(took).count(), state);
  if (!result.hits.empty()) {
    stats_.hits += result.hits.size();
    // The post's text as evidence that survives an edit or deletion of the post.
    const std::string content_hash =
        Sha256Hex(std::string(post.title) + '\x1f' + std::string(post.body));
    const TimePoint now = clock_.Now();
    std::vector<alerts::HitEvent> events;
    events.reserve(result.hits.size());
    for (const rules::Hit& hit : result.hits) {
      const rules::RuleDef& rule = hit.rule->def;
      std::string key = connectors::IncidentKey(post, rule);
      events.push_back({key, rule.id, rule.category, rule.severity, rule.owner, rule.tags,
                        rule.status == rules::RuleStatus::kExperimental, rule.incident,
                        std::string(post.id), std::string(post.url), std::string(post.community),
                        hit.excerpt, content_hash, now});
      Produce(ticket,
              connectors::OutMessage{options_.hits_topic,
                                     std::move(key),
                                     connectors::EncodeHit(post, hit, /*with_explanation=*/false),
                                     {}},
              /*dead_letter=*/false);
    }
    // The effect on incidents, in this partition's offset order (one worker per
    // partition, a FIFO sink). The sink skips posts it already applied (a replay after a
    // crash), so the effect is exactly once while the hits topic is at least once.
    ++ticket->pending;
    const RdKafka::MessageTimestamp produced = message->message->timestamp();
    sink_.Accept(
        std::move(events),
        SourcePosition{message->partition, message->offset,
                       produced.type == RdKafka::MessageTimestamp::MSG_TIMESTAMP_NOT_AVAILABLE
                           ? -1
                           : produced.timestamp},
        [this, ticket] { Finish(ticket); });
  }
  Finish(ticket);
}

void Pipeline::Count(const rules::RuleSet& set, const rules::MatchResult& result, double seconds,
                     WorkerState& state) {
  Metrics& metrics = *options_.metrics;
  metrics.match_duration().Observe(seconds);
  if (state.counters == nullptr || state.counters->serial != set.serial())
    state.counters = metrics.CountersFor(set);
  const RuleCounters& counters = *state.counters;
  for (uint32_t rule : result.candidate_rules) counters.candidates[rule]->Increment();
  for (const rules::Hit& hit : result.hits)
    counters.hits[static_cast<size_t>(hit.rule - set.rules().data())]->Increment();
}

void Pipeline::DeadLetter(const std::shared_ptr<Ticket>& ticket,
                          const connectors::ConsumedMessage& message,
                          connectors::InvalidReason reason, const std::string& detail) {
  ++stats_.invalid[static_cast<size_t>(reason)];
  // The original bytes, unchanged, with why and where from in headers.
  connectors::OutMessage out{
      options_.dlq_topic, std::string(message.key()), std::string(message.payload()), {}};
  out.headers = {{"vigil.reason", std::string(connectors::InvalidReasonName(reason))},
                 {"vigil.detail", detail},
                 {"vigil.source.topic", message.partition.topic},
                 {"vigil.source.partition", std::to_string(message.partition.partition)},
                 {"vigil.source.offset", std::to_string(message.offset)}};
  Produce(ticket, std::move(out), /*dead_letter=*/true);
}

void Pipeline::Produce(const std::shared_ptr<Ticket>& ticket, connectors::OutMessage message,
                       bool dead_letter) {
  ++ticket->pending;
  Status queued =
      producer_.Produce(std::move(message), [this, ticket, dead_letter](const Status& delivered) {
        if (delivered.ok()) {
          ++(dead_letter ? stats_.dead_lettered : stats_.hits_produced);
        } else {
          // With an unbounded message timeout this happens only on a fatal producer error
          // or at shutdown: the offset is not stored, so the post is consumed again later.
          ++stats_.delivery_failures;
          ticket->failed = true;
          spdlog::error("pipeline: {}; offset {} of partition {} will be consumed again",
                        delivered.error().message, ticket->offset, ticket->partition.partition);
        }
        Finish(ticket);
      });
  if (!queued.ok()) {
    ++stats_.delivery_failures;
    ticket->failed = true;
    --ticket->pending;
    spdlog::error("pipeline: {}", queued.error().message);
  }
}

void Pipeline::Finish(const std::shared_ptr<Ticket>& ticket) {
  if (--ticket->pending != 0) return;
  if (ticket->failed) return;  // never store an offset whose output is not durable
  ++stats_.completed;
  consumer_.Complete(ticket->partition, ticket->offset);
}

}  // namespace vigil::daemon
