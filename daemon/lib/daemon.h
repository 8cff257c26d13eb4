// The daemon's life: start every part from a validated Config, serve until a signal,
// then shut down in order (stop consuming, drain, commit, flush, exit 0).
#pragma once

#include "daemon/lib/config.h"

namespace vigil::daemon {

struct RunOptions {
  bool check_only = false;  // load and check the rules, then return
};

// Returns the process exit code: 0 after a clean shutdown, 1 when something could not
// start (with the reason logged).
int RunDaemon(const Config& config, const RunOptions& options);

// Sets up spdlog from log.level and log.format (text, or one JSON object per line).
void SetUpLogging(const LogConfig& log);

}  // namespace vigil::daemon
