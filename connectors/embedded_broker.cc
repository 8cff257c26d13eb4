#include "connectors/embedded_broker.h"

#include <vector>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

namespace vigil::connectors {

Result<std::unique_ptr<EmbeddedBroker>> EmbeddedBroker::Start(
    const std::vector<EmbeddedTopic>& topics, int brokers) {
  char reason[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // The mock cluster needs a client handle to live in; this one never connects.
  if (rd_kafka_conf_set(conf, "log_level", "3", reason, sizeof reason) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    return Error{std::string("embedded broker: ") + reason};
  }
  std::unique_ptr<EmbeddedBroker> broker(new EmbeddedBroker());
  broker->handle_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, reason, sizeof reason);
  if (broker->handle_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    return Error{std::string("embedded broker: ") + reason};
  }
  broker->cluster_ = rd_kafka_mock_cluster_new(broker->handle_, brokers);
  if (broker->cluster_ == nullptr) return Error{"embedded broker: cannot start the mock cluster"};
  broker->bootstrap_ = rd_kafka_mock_cluster_bootstraps(broker->cluster_);
  for (const EmbeddedTopic& topic : topics) {
    const rd_kafka_resp_err_t err =
        rd_kafka_mock_topic_create(broker->cluster_, topic.name.c_str(), topic.partitions, 1);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Error{"embedded broker: cannot create topic " + topic.name + ": " +
                   rd_kafka_err2str(err)};
    }
  }
  return broker;
}

EmbeddedBroker::~EmbeddedBroker() {
  if (cluster_ != nullptr) rd_kafka_mock_cluster_destroy(cluster_);
  if (handle_ != nullptr) rd_kafka_destroy(handle_);
}

void EmbeddedBroker::SetBrokerDown(int broker_id, bool down) {
  if (down) {
    rd_kafka_mock_broker_set_down(cluster_, broker_id);
  } else {
    rd_kafka_mock_broker_set_up(cluster_, broker_id);
  }
}

void EmbeddedBroker::PushRequestErrors(int api_key, int count, int error) {
  std::vector<rd_kafka_resp_err_t> errors(count, static_cast<rd_kafka_resp_err_t>(error));
  rd_kafka_mock_push_request_errors_array(cluster_, api_key, errors.size(), errors.data());
}

}  // namespace vigil::connectors
