// Helpers for tests that build rule sets from YAML text.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "rules/matcher.h"
#include "rules/rule_engine.h"

namespace vigil::testing {

// Loads one YAML text as "test.yaml". Fails the test (and returns null) on errors.
inline std::shared_ptr<const rules::RuleSet> CompileYaml(const std::string& yaml,
                                                         bool check_examples = true) {
  rules::Diagnostics diagnostics;
  rules::LoadOptions options;
  options.check_examples = check_examples;
  auto set = rules::LoadRuleSet(std::vector<rules::RuleSource>{{"test.yaml", yaml}}, options, diagnostics);
  if (!set.ok()) {
    ADD_FAILURE() << set.error().message;
    return nullptr;
  }
  return *set;
}

// The diagnostics of loading one YAML text, as "file:line:col: error: ... [id]" lines.
inline std::vector<std::string> LintYaml(const std::string& yaml) {
  rules::Diagnostics diagnostics;
  auto set = rules::LoadRuleSet(std::vector<rules::RuleSource>{{"test.yaml", yaml}}, {}, diagnostics);
  std::vector<std::string> lines;
  for (const rules::Diagnostic& d : diagnostics.Sorted()) lines.push_back(d.ToString());
  return lines;
}

// Rule ids that fire on a post with the given body (and optional title).
inline std::vector<std::string> FiredRules(const rules::RuleSet& set, const std::string& body,
                                           const std::string& title = "") {
  std::vector<rules::FieldText> fields;
  if (!title.empty()) fields.push_back({rules::Field::kTitle, title});
  fields.push_back({rules::Field::kBody, body});
  rules::MatchScratch scratch;
  rules::MatchResult result;
  Status status = rules::MatchPost(set, fields, scratch, result);
  EXPECT_TRUE(status.ok()) << (status.ok() ? "" : status.error().message);
  std::vector<std::string> ids;
  for (const rules::Hit& hit : result.hits) ids.push_back(hit.rule->def.id);
  return ids;
}

}  // namespace vigil::testing
