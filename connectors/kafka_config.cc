#include "connectors/kafka_config.h"

#include <spdlog/spdlog.h>

namespace vigil::connectors {
namespace {

// librdkafka's logs and errors go to the daemon's log instead of raw stderr lines.
class LogBridge : public RdKafka::EventCb {
 public:
  void event_cb(RdKafka::Event& event) override {
    switch (event.type()) {
      case RdKafka::Event::EVENT_LOG:
        spdlog::log(Level(event.severity()), "librdkafka {}: {}", event.fac(), event.str());
        break;
      case RdKafka::Event::EVENT_ERROR:
        // Transport errors are transient: librdkafka reconnects and retries on its own.
        spdlog::log(event.fatal() ? spdlog::level::critical : spdlog::level::warn, "kafka: {}{}",
                    event.fatal() ? "FATAL: " : "", event.str());
        break;
      default:
        break;
    }
  }

 private:
  static spdlog::level::level_enum Level(RdKafka::Event::Severity severity) {
    switch (severity) {
      case RdKafka::Event::EVENT_SEVERITY_EMERG:
      case RdKafka::Event::EVENT_SEVERITY_ALERT:
      case RdKafka::Event::EVENT_SEVERITY_CRITICAL:
      case RdKafka::Event::EVENT_SEVERITY_ERROR:
        return spdlog::level::err;
      case RdKafka::Event::EVENT_SEVERITY_WARNING:
        return spdlog::level::warn;
      case RdKafka::Event::EVENT_SEVERITY_NOTICE:
      case RdKafka::Event::EVENT_SEVERITY_INFO:
        return spdlog::level::debug;  // connection chatter: visible when debugging only
      default:
        return spdlog::level::trace;
    }
  }
};

LogBridge log_bridge;

}  // namespace

Result<std::unique_ptr<RdKafka::Conf>> MakeKafkaConf(const KafkaProperties& defaults,
                                                     const KafkaProperties& overrides) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string problems, reason;
  conf->set("event_cb", static_cast<RdKafka::EventCb*>(&log_bridge), reason);
  for (const KafkaProperties* properties : {&defaults, &overrides}) {
    for (const auto& [key, value] : *properties) {
      if (conf->set(key, value, reason) != RdKafka::Conf::CONF_OK) {
        if (!problems.empty()) problems += "\n";
        problems += "kafka.properties." + key + ": " + reason;
      }
    }
  }
  if (!problems.empty()) return Error{problems};
  return conf;
}

std::string KafkaVersion() { return RdKafka::version_str(); }

}  // namespace vigil::connectors
