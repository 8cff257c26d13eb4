#include "rules/rule_engine.h"

#include <fmt/format.h>

#include "rules/matcher.h"

namespace vigil::rules {
namespace {

std::string Preview(const Example& example) {
  std::string text;
  for (const auto& [field, value] : example.fields) {
    if (!text.empty()) text += " | ";
    text += value;
  }
  if (text.size() <= 60) return text;
  size_t cut = 57;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut) + "...";
}

}  // namespace

std::vector<ExampleResult> RunExamples(const RuleSet& set) {
  std::vector<ExampleResult> results;
  MatchScratch scratch;
  MatchResult match;
  const MatchOptions explain{.explain = true};
  for (const CompiledRule& rule : set.rules()) {
    if (rule.def.hit_examples.empty() && rule.def.miss_examples.empty()) continue;
    ExampleResult result{&rule, 0, 0, {}};
    auto check = [&](const Example& example, bool want_hit) {
      std::vector<FieldText> fields;
      for (const auto& [field, text] : example.fields) fields.push_back({field, text});
      Status status = MatchPost(set, fields, scratch, match, explain);
      bool fired = false;
      std::string why;
      if (status.ok()) {
        for (const Hit& hit : match.hits) fired |= hit.rule == &rule;
        for (const Rejection& r : match.rejections) {
          if (r.rule == &rule) why = r.reason;
        }
      } else {
        why = status.error().message;
      }
      if (fired == want_hit) {
        ++result.passed;
        return;
      }
      ++result.failed;
      std::string message = want_hit ? "expected a hit, got none" : "expected no hit, got one";
      if (!why.empty()) message += " (" + why + ")";
      else if (want_hit) message += " (no pattern of the rule occurred)";
      result.failures.push_back({example.where, fmt::format("{}: \"{}\"", message, Preview(example))});
    };
    for (const Example& e : rule.def.hit_examples) check(e, true);
    for (const Example& e : rule.def.miss_examples) check(e, false);
    results.push_back(std::move(result));
  }
  return results;
}

Result<std::shared_ptr<const RuleSet>> LoadRuleSet(const std::vector<RuleSource>& sources,
                                                   const LoadOptions& options,
                                                   Diagnostics& diagnostics) {
  Normaliser normaliser(options.compile.normaliser);
  std::vector<RuleDef> defs = LoadRules(sources, normaliser, diagnostics);
  for (const RuleDef& def : defs) {
    if (def.hit_examples.empty() && def.miss_examples.empty() && def.status != RuleStatus::kDisabled) {
      diagnostics.Warning(def.where, def.id, "rule has no examples");
    }
  }
  Result<std::shared_ptr<const RuleSet>> set = RuleSet::Compile(std::move(defs), options.compile, diagnostics);
  if (!set.ok()) {
    diagnostics.Error({}, "", set.error().message);
    return set;
  }
  if (options.check_examples) {
    for (const ExampleResult& result : RunExamples(**set)) {
      for (const ExampleFailure& failure : result.failures) {
        diagnostics.Error(failure.where, result.rule->def.id, "example failed: " + failure.message);
      }
    }
  }
  if (diagnostics.has_errors()) {
    return Error{fmt::format("the rule set has {} error(s):\n{}", diagnostics.error_count(), diagnostics.Summary()), {}};
  }
  return set;
}

Result<std::shared_ptr<const RuleSet>> LoadRuleSet(const std::vector<std::string>& paths,
                                                   const LoadOptions& options,
                                                   Diagnostics& diagnostics) {
  std::vector<RuleSource> sources = ReadRuleSources(paths, diagnostics);
  return LoadRuleSet(sources, options, diagnostics);
}

}  // namespace vigil::rules
