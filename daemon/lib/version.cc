#include "daemon/lib/version.h"

#include <utility>

#include <hs/hs.h>

#include "connectors/kafka_config.h"

namespace vigil::daemon {

BuildVersionInfo BuildVersions() {
  // hs_version() reads "5.4.0 2023-01-29": the version, then the build date.
  std::string hyperscan = hs_version();
  hyperscan = hyperscan.substr(0, hyperscan.find(' '));
  return {.vigil = VIGIL_VERSION,
          .hyperscan = std::move(hyperscan),
          .re2 = VIGIL_RE2_VERSION,
          .librdkafka = connectors::KafkaVersion()};
}

std::string VersionLine(const std::string& program) {
  const BuildVersionInfo v = BuildVersions();
  return program + " " + v.vigil + " (Hyperscan " + v.hyperscan + ", RE2 " + v.re2 +
         ", librdkafka " + v.librdkafka + ")";
}

}  // namespace vigil::daemon
