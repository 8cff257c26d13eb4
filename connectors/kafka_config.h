// Building librdkafka configurations from key/value maps, with every bad key reported.
#pragma once

#include <map>
#include <memory>
#include <string>

#include <librdkafka/rdkafkacpp.h>

#include "core/result.h"

namespace vigil::connectors {

using KafkaProperties = std::map<std::string, std::string>;

// A global configuration with `defaults` then `overrides` applied (overrides win, so
// users can tune anything Vigil sets). Every rejected key is named in the error, one
// per line: "kafka.properties.<key>: <librdkafka's reason>".
Result<std::unique_ptr<RdKafka::Conf>> MakeKafkaConf(const KafkaProperties& defaults,
                                                     const KafkaProperties& overrides);

// librdkafka's version string, e.g. "2.0.2".
std::string KafkaVersion();

}  // namespace vigil::connectors
