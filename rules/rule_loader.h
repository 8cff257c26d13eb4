// Loads rule files into RuleDefs: reads YAML, resolves `$list` references across all
// files, applies `overrides`, checks every key and pattern, and reports every problem
// at once with file:line:col and rule id. A bad file never throws out of here.
#pragma once

#include <string>
#include <vector>

#include "rules/diagnostics.h"
#include "rules/normaliser.h"
#include "rules/rule.h"

namespace vigil::rules {

struct RuleSource {
  std::string name;  // shown in locations: a path, or "<api>" for text from a request
  std::string text;
};

// The rule ids of the owners in DESIGN.md; an owner outside this list is a warning.
const std::vector<std::string>& KnownRoles();

// Expands folders (their *.yaml and *.yml files, in name order, not recursive) and
// reads every file. Unreadable paths are errors.
std::vector<RuleSource> ReadRuleSources(const std::vector<std::string>& paths,
                                        Diagnostics& diagnostics);

// Parses and checks the sources in order (later files may override earlier rules).
// Returns the rules that are free of errors; `diagnostics` holds every problem.
// Callers that must not run a partial set check diagnostics.has_errors().
std::vector<RuleDef> LoadRules(const std::vector<RuleSource>& sources, const Normaliser& normaliser,
                               Diagnostics& diagnostics);

}  // namespace vigil::rules
