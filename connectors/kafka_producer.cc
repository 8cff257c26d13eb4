#include "connectors/kafka_producer.h"

#include <chrono>

#include <spdlog/spdlog.h>

namespace vigil::connectors {

class KafkaProducer::DeliveryReports : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& message) override {
    std::unique_ptr<DeliveryCallback> callback(
        static_cast<DeliveryCallback*>(message.msg_opaque()));
    if (!callback) return;
    if (message.err() == RdKafka::ERR_NO_ERROR) {
      (*callback)(Status::Ok());
    } else {
      (*callback)(Error{"delivery to " + message.topic_name() + " failed: " + message.errstr()});
    }
  }
};

Result<std::unique_ptr<KafkaProducer>> KafkaProducer::Create(const ProducerOptions& options) {
  const KafkaProperties defaults = {
      {"bootstrap.servers", options.brokers},
      {"client.id", options.client_id},
      {"enable.idempotence", "true"},  // implies acks=all, bounded in-flight, ordered retries
      {"acks", "all"},
      {"message.timeout.ms", std::to_string(options.message_timeout_ms)},
      {"linger.ms", "5"},
      {"compression.type", "lz4"},
      {"queue.buffering.max.messages", "100000"},
      {"queue.buffering.max.kbytes", "65536"},
  };
  auto conf = MakeKafkaConf(defaults, options.properties);
  if (!conf.ok()) return conf.error();
  std::unique_ptr<KafkaProducer> producer(new KafkaProducer());
  producer->reports_ = std::make_unique<DeliveryReports>();
  std::string reason;
  if ((*conf)->set("dr_cb", producer->reports_.get(), reason) != RdKafka::Conf::CONF_OK) {
    return Error{"kafka producer: " + reason};
  }
  producer->producer_.reset(RdKafka::Producer::create(conf->get(), reason));
  if (!producer->producer_) return Error{"kafka producer: " + reason};
  KafkaProducer* self = producer.get();
  producer->poller_ = std::thread([self] {
    while (!self->stopping_) self->producer_->poll(50);
  });
  return producer;
}

KafkaProducer::~KafkaProducer() {
  aborting_ = true;
  stopping_ = true;
  if (poller_.joinable()) poller_.join();
  if (producer_) {
    // Fail what is left so every callback runs exactly once (and its memory is freed).
    producer_->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
    producer_->poll(0);
    if (producer_->outq_len() > 0) producer_->flush(1000);
    producer_->poll(0);
  }
}

Status KafkaProducer::Produce(OutMessage message, DeliveryCallback on_delivery) {
  auto callback = std::make_unique<DeliveryCallback>(std::move(on_delivery));
  for (;;) {
    RdKafka::Headers* headers = nullptr;
    if (!message.headers.empty()) {
      headers = RdKafka::Headers::create();
      for (const auto& [name, value] : message.headers) headers->add(name, value);
    }
    const RdKafka::ErrorCode err =
        producer_->produce(message.topic, RdKafka::Topic::PARTITION_UA,
                           RdKafka::Producer::RK_MSG_COPY, message.value.data(),
                           message.value.size(), message.key.empty() ? nullptr : message.key.data(),
                           message.key.size(), 0, headers, callback.get());
    if (err == RdKafka::ERR_NO_ERROR) {
      callback.release();  // owned by the delivery report now
      return Status::Ok();
    }
    delete headers;  // not taken over on failure
    if (err != RdKafka::ERR__QUEUE_FULL) {
      return Error{"cannot produce to " + message.topic + ": " + RdKafka::err2str(err)};
    }
    if (aborting_)
      return Error{"cannot produce to " + message.topic + ": shutting down with a full queue"};
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // the poller frees room
  }
}

bool KafkaProducer::Flush(int timeout_ms) {
  return producer_->flush(timeout_ms) == RdKafka::ERR_NO_ERROR;
}

}  // namespace vigil::connectors
