// Private to rules/: turns one YAML rule mapping into a RuleDef. Used by the loader.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "rules/diagnostics.h"
#include "rules/normaliser.h"
#include "rules/rule.h"

namespace vigil::rules {

Location MarkOf(const YAML::Node& node, const std::string& file);

// Expands a `$name` reference into patterns, reporting unknown or cyclic lists.
using ListExpander =
    std::function<bool(const std::string& name, const Location& where, const std::string& rule_id,
                       std::vector<Pattern>& out)>;

struct ReaderContext {
  const std::string& file;
  const Normaliser& normaliser;
  const ListExpander& expand_list;
  Diagnostics& diagnostics;
};

// Parses one pattern string (literal, "re:..." or "$list") into `out`. Returns false
// after reporting an error.
bool ReadPattern(const YAML::Node& node, const std::string& rule_id, const ReaderContext& ctx,
                 std::vector<Pattern>& out);

// Returns true when the rule is free of errors; problems go to ctx.diagnostics.
bool ReadRule(const YAML::Node& node, const ReaderContext& ctx, RuleDef& rule);

// Checks a regex for what both engines need: valid RE2 syntax, no look-around or
// back-references, no characters that normalised text cannot contain. Returns an
// empty string when fine, else the reason.
std::string CheckRegex(const std::string& expression, const Normaliser& normaliser);

}  // namespace vigil::rules
