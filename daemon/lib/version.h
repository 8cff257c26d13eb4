// The versions of Vigil and of the engines it runs on, for `--version`, /api/v1/status
// and the vigil_build_info metric: one place, so that all three say the same.
#pragma once

#include <string>

namespace vigil::daemon {

struct BuildVersionInfo {
  std::string vigil;       // the project version, e.g. "0.1.0"
  std::string hyperscan;   // hs_version()'s version, e.g. "5.4.0"
  std::string re2;         // RE2 has no runtime API: the version found at configure time
  std::string librdkafka;  // RdKafka::version_str(), e.g. "2.0.2"
};

// Thread-safe; cheap enough to call at start and per request.
BuildVersionInfo BuildVersions();

// "<program> 0.1.0 (Hyperscan 5.4.0, RE2 20220601, librdkafka 2.0.2)"
std::string VersionLine(const std::string& program);

}  // namespace vigil::daemon
