// vigilctl rules lint | test | list
#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "daemon/vigilctl/commands.h"

namespace vigil::ctl {

bool LineInput::Open(const std::string& path) {
  if (path == "-") {
    name = "<stdin>";
    stream = &std::cin;
    return true;
  }
  name = path;
  file.open(path, std::ios::binary);
  if (!file) {
    fmt::print(stderr, "{}: cannot open the file\n", path);
    return false;
  }
  stream = &file;
  return true;
}

bool LineInput::NextPost(connectors::PostDecoder& decoder, connectors::PostView& post) {
  connectors::PostError error;
  while (std::getline(*stream, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    if (decoder.Decode(line, post, error)) return true;
    fmt::print(stderr, "{}:{}: {}: {}\n", name, line_number,
               connectors::InvalidReasonName(error.reason), error.detail);
    ++bad;
  }
  return false;
}

std::shared_ptr<const rules::RuleSet> LoadForCommand(const std::vector<std::string>& paths,
                                                     const std::string& cache_dir,
                                                     bool check_examples) {
  rules::Diagnostics diagnostics;
  rules::LoadOptions options;
  options.compile.cache_dir = cache_dir;
  options.check_examples = check_examples;
  auto set = rules::LoadRuleSet(paths, options, diagnostics);
  for (const rules::Diagnostic& d : diagnostics.Sorted()) {
    if (d.level == rules::Diagnostic::Level::kError || !set.ok()) {
      fmt::print(stderr, "{}\n", d.ToString());
    }
  }
  if (!set.ok()) return nullptr;
  return *set;
}

int RulesLint(const RulesOptions& options) {
  rules::Diagnostics diagnostics;
  rules::LoadOptions load;
  load.compile.cache_dir = options.cache_dir;
  auto set = rules::LoadRuleSet(options.paths, load, diagnostics);
  for (const rules::Diagnostic& d : diagnostics.Sorted()) fmt::print("{}\n", d.ToString());
  if (!set.ok()) {
    fmt::print(stderr, "{} error(s), {} warning(s)\n", diagnostics.error_count(),
               diagnostics.warning_count());
    return 1;
  }
  fmt::print(stderr, "{} rules, no errors, {} warning(s)\n",
             (*set)->rules().size() + (*set)->disabled_rules().size(), diagnostics.warning_count());
  return 0;
}

int RulesTest(const RulesOptions& options) {
  auto set = LoadForCommand(options.paths, options.cache_dir, /*check_examples=*/false);
  if (!set) return 1;
  int passed = 0, failed = 0;
  for (const rules::ExampleResult& result : rules::RunExamples(*set)) {
    const int total = result.passed + result.failed;
    if (result.failed == 0) {
      ++passed;
      fmt::print("PASS {} ({}/{} examples)\n", result.rule->def.id, result.passed, total);
      continue;
    }
    ++failed;
    fmt::print("FAIL {} ({}/{} examples)\n", result.rule->def.id, result.passed, total);
    for (const rules::ExampleFailure& f : result.failures) {
      fmt::print("  {}: {}\n", f.where.ToString(), f.message);
    }
  }
  for (const rules::RuleDef& def : set->disabled_rules())
    fmt::print("SKIP {} (disabled)\n", def.id);
  fmt::print("{} passed, {} failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}

int RulesList(const RulesOptions& options) {
  auto set = LoadForCommand(options.paths, options.cache_dir, /*check_examples=*/false);
  if (!set) return 1;
  std::vector<const rules::RuleDef*> defs;
  for (const rules::CompiledRule& rule : set->rules()) defs.push_back(&rule.def);
  for (const rules::RuleDef& def : set->disabled_rules()) defs.push_back(&def);
  if (options.format == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const rules::RuleDef* def : defs) {
      out.push_back({{"id", def->id},
                     {"category", rules::CategoryName(def->category)},
                     {"severity", rules::SeverityName(def->severity)},
                     {"owner", def->owner},
                     {"status", rules::StatusName(def->status)},
                     {"description", def->description},
                     {"tags", def->tags}});
    }
    fmt::print("{}\n", out.dump(2));
    return 0;
  }
  for (const rules::RuleDef* def : defs) {
    fmt::print("{:<40} {:<13} {:<9} {:<22} {}\n", def->id, rules::CategoryName(def->category),
               rules::SeverityName(def->severity), def->owner, rules::StatusName(def->status));
  }
  return 0;
}

}  // namespace vigil::ctl
