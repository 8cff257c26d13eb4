// An idempotent Kafka producer (acks=all) with per-message delivery callbacks, served
// by its own polling thread.
//
// Thread safety: Produce() may be called from any thread. Callbacks run on the polling
// thread; they must be quick and must not call Flush().
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <librdkafka/rdkafkacpp.h>

#include "connectors/kafka_config.h"
#include "core/result.h"

namespace vigil::connectors {

struct OutMessage {
  std::string topic;
  std::string key;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;
};

// Called once per message: ok when the broker acknowledged it (acks=all), else why not.
using DeliveryCallback = std::function<void(const Status&)>;

struct ProducerOptions {
  std::string brokers;
  KafkaProperties properties;  // user overrides, passed through to librdkafka
  // How long librdkafka keeps retrying one message; 0 = until it is delivered (the
  // pipeline, which must not lose hits), a few seconds for HTTP ingest (which answers 503).
  int message_timeout_ms = 0;
  std::string client_id = "vigild";
};

class KafkaProducer {
 public:
  static Result<std::unique_ptr<KafkaProducer>> Create(const ProducerOptions& options);
  ~KafkaProducer();

  // Queues a message. When librdkafka's queue is full, waits (that is the backpressure)
  // until there is room or the producer is shutting down. Returns an error, and never
  // calls `on_delivery`, only if the message could not be queued at all.
  Status Produce(OutMessage message, DeliveryCallback on_delivery);

  // Waits up to `timeout_ms` for every queued message to be delivered (or to fail).
  // Returns false if some were still outstanding.
  bool Flush(int timeout_ms);

  // Messages queued and not yet acknowledged.
  int outstanding() const { return producer_->outq_len(); }

  // Stops waiting for queue room (a blocked Produce returns an error).
  void Abort() { aborting_ = true; }

 private:
  class DeliveryReports;
  KafkaProducer() = default;
  std::unique_ptr<DeliveryReports> reports_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> aborting_{false};
  std::thread poller_;
};

}  // namespace vigil::connectors
