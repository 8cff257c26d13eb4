// The embedded default: librdkafka's in-process mock cluster, so `vigild` runs with no
// Kafka at all. It listens on loopback, so `vigilctl produce` and kcat can reach it at
// bootstrap(). It keeps messages and committed offsets in memory only, and it is also
// the fault injector of the fast tests (brokers down, request errors).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

struct rd_kafka_s;
struct rd_kafka_mock_cluster_s;

namespace vigil::connectors {

struct EmbeddedTopic {
  std::string name;
  int partitions = 3;
};

class EmbeddedBroker {
 public:
  static Result<std::unique_ptr<EmbeddedBroker>> Start(const std::vector<EmbeddedTopic>& topics,
                                                       int brokers = 1);
  ~EmbeddedBroker();
  EmbeddedBroker(const EmbeddedBroker&) = delete;
  EmbeddedBroker& operator=(const EmbeddedBroker&) = delete;

  // "127.0.0.1:port[,...]"
  const std::string& bootstrap() const { return bootstrap_; }

  // Fault injection. Broker ids are 1..brokers.
  void SetBrokerDown(int broker_id, bool down);
  // The next `count` requests of the Kafka API `api_key` (e.g. 0 = Produce) fail with
  // the librdkafka error code `error` (e.g. RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION).
  void PushRequestErrors(int api_key, int count, int error);

 private:
  EmbeddedBroker() = default;
  rd_kafka_s* handle_ = nullptr;
  rd_kafka_mock_cluster_s* cluster_ = nullptr;
  std::string bootstrap_;
};

}  // namespace vigil::connectors
