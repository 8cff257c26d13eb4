// The whole path from rule files to a ready RuleSet: read, load, compile, run every
// rule's examples. What `vigilctl rules` and the daemon's (re)load call.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "rules/diagnostics.h"
#include "rules/rule_loader.h"
#include "rules/rule_set.h"

namespace vigil::rules {

struct ExampleFailure {
  Location where;       // of the example
  std::string message;  // "expected a hit, got none (reason): \"text...\""
};

struct ExampleResult {
  const CompiledRule* rule = nullptr;
  int passed = 0;
  int failed = 0;
  std::vector<ExampleFailure> failures;
};

// Runs the examples of every compiled rule (disabled rules are not compiled, so their
// examples are not run). One result per rule that has examples, in rule order.
std::vector<ExampleResult> RunExamples(const RuleSet& set);

struct LoadOptions {
  CompileOptions compile;
  bool check_examples = true;  // example failures are errors: such a set does not load
};

// Reads, loads, compiles and (optionally) checks examples. Every problem goes to
// `diagnostics`; the result is an error when any problem is an error, so a daemon
// never runs a partial or failing set.
Result<std::shared_ptr<const RuleSet>> LoadRuleSet(const std::vector<RuleSource>& sources,
                                                   const LoadOptions& options,
                                                   Diagnostics& diagnostics);
Result<std::shared_ptr<const RuleSet>> LoadRuleSet(const std::vector<std::string>& paths,
                                                   const LoadOptions& options,
                                                   Diagnostics& diagnostics);

}  // namespace vigil::rules
