// The rule set the daemon matches with, and its reloads: a new set is read, compiled and
// checked (examples included) on the caller's thread, off the matching path, then
// swapped in atomically. A set that fails is rejected with the reason; the old set keeps
// running. Workers take a reference per post, so a swap never waits for them.
//
// Thread safety: all methods may be called from any thread; reloads are serialised.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/result.h"
#include "rules/rule_set.h"

namespace vigil::daemon {

struct ReloadOutcome {
  bool ok = false;
  std::string hash;       // of the running set after the reload
  size_t rule_count = 0;  // of the running set
  std::string error;      // why the new set was rejected, one problem per line
  double seconds = 0;     // time to read, compile and check
  size_t warnings = 0;
  double finished_at = 0;  // seconds since the Unix epoch
};

class RuleHolder {
 public:
  RuleHolder(std::vector<std::string> paths, std::string cache_dir);

  // Loads the configured paths; on success the new set replaces the current one.
  ReloadOutcome Reload();

  // The running set; null before the first successful load.
  std::shared_ptr<const rules::RuleSet> current() const { return current_.load(); }

  uint64_t reloads_ok() const { return reloads_ok_; }
  uint64_t reloads_failed() const { return reloads_failed_; }
  ReloadOutcome last_outcome() const;

 private:
  const std::vector<std::string> paths_;
  const std::string cache_dir_;
  std::mutex reload_mutex_;  // one reload at a time
  std::atomic<std::shared_ptr<const rules::RuleSet>> current_;
  std::atomic<uint64_t> reloads_ok_{0}, reloads_failed_{0};
  mutable std::mutex outcome_mutex_;
  ReloadOutcome last_outcome_;  // GUARDED_BY(outcome_mutex_)
};

}  // namespace vigil::daemon
