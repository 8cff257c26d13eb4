#include "daemon/lib/rule_holder.h"

#include <spdlog/spdlog.h>

#include "rules/rule_engine.h"

namespace vigil::daemon {

RuleHolder::RuleHolder(std::vector<std::string> paths, std::string cache_dir)
    : paths_(std::move(paths)), cache_dir_(std::move(cache_dir)) {}

ReloadOutcome RuleHolder::Reload() {
  std::lock_guard reload_lock(reload_mutex_);
  const auto start = std::chrono::steady_clock::now();
  rules::Diagnostics diagnostics;
  rules::LoadOptions options;
  options.compile.cache_dir = cache_dir_;
  options.check_examples = true;
  auto set = rules::LoadRuleSet(paths_, options, diagnostics);
  ReloadOutcome outcome;
  outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  outcome.warnings = diagnostics.warning_count();
  outcome.finished_at =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  for (const rules::Diagnostic& d : diagnostics.Sorted()) {
    if (d.level == rules::Diagnostic::Level::kWarning) spdlog::warn("rules: {}", d.ToString());
  }
  if (set.ok()) {
    current_.store(*set);
    outcome.ok = true;
    ++reloads_ok_;
    spdlog::info("rules: loaded {} rules (set {}) in {:.2f} s", (*set)->rules().size(),
                 (*set)->hash().substr(0, 12), outcome.seconds);
  } else {
    outcome.error = diagnostics.has_errors() ? diagnostics.Summary() : set.error().ToString();
    ++reloads_failed_;
    spdlog::error("rules: the new rule set was rejected; the running set stays:\n{}",
                  outcome.error);
  }
  if (auto running = current_.load()) {
    outcome.hash = running->hash();
    outcome.rule_count = running->rules().size();
  }
  std::lock_guard lock(outcome_mutex_);
  last_outcome_ = outcome;
  return outcome;
}

ReloadOutcome RuleHolder::last_outcome() const {
  std::lock_guard lock(outcome_mutex_);
  return last_outcome_;
}

}  // namespace vigil::daemon
