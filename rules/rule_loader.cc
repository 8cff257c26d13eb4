#include "rules/rule_loader.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "rules/rule_reader.h"

namespace vigil::rules {
namespace {

namespace fs = std::filesystem;

struct ListDef {
  YAML::Node items;
  std::string file;
  Location where;
};

struct RuleNode {
  YAML::Node node;  // overrides are merged into it
  std::string file;
  std::string id;
};

bool ReadFile(const fs::path& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  out = buffer.str();
  return !in.bad();
}

class Loader {
 public:
  Loader(const Normaliser& normaliser, Diagnostics& diagnostics)
      : normaliser_(normaliser), diagnostics_(diagnostics) {}

  void AddSource(const RuleSource& source) {
    YAML::Node root;
    try {
      root = YAML::Load(source.text);
    } catch (const YAML::Exception& e) {
      diagnostics_.Error(Location{source.name, e.mark.line + 1, e.mark.column + 1}, "",
                         "YAML syntax error: " + e.msg);
      return;
    }
    if (root.IsNull()) {
      diagnostics_.Warning(Location{source.name, 0, 0}, "", "file holds no rules");
      return;
    }
    if (!root.IsMap()) {
      diagnostics_.Error(MarkOf(root, source.name), "",
                         "a rule file is a mapping with 'lists', 'rules' and 'overrides'");
      return;
    }
    for (auto it = root.begin(); it != root.end(); ++it) {
      const std::string key = it->first.Scalar();
      if (key == "lists") {
        AddLists(it->second, source.name);
      } else if (key == "rules") {
        AddRules(it->second, source.name);
      } else if (key == "overrides") {
        AddOverrides(it->second, source.name);
      } else {
        diagnostics_.Error(MarkOf(it->first, source.name), "",
                           fmt::format("unknown top-level key '{}' (expected lists, rules or overrides)", key));
      }
    }
  }

  std::vector<RuleDef> Finish() {
    std::vector<RuleDef> rules;
    for (const RuleNode& entry : rules_) {
      RuleDef rule;
      rule.id = entry.id;
      const ListExpander expand = [&](const std::string& name, const Location& where,
                                      const std::string& rule_id, std::vector<Pattern>& out) {
        std::vector<std::string> stack;
        return Expand(name, where, rule_id, stack, out);
      };
      const ReaderContext ctx{entry.file, normaliser_, expand, diagnostics_};
      if (ReadRule(entry.node, ctx, rule)) rules.push_back(std::move(rule));
    }
    return rules;
  }

 private:
  void AddLists(const YAML::Node& lists, const std::string& file) {
    if (!lists.IsMap()) {
      diagnostics_.Error(MarkOf(lists, file), "", "'lists' must map list names to lists of patterns");
      return;
    }
    static const std::regex kName("^[A-Za-z_][A-Za-z0-9_.-]*$");
    for (auto it = lists.begin(); it != lists.end(); ++it) {
      const std::string name = it->first.Scalar();
      const Location where = MarkOf(it->first, file);
      if (!std::regex_match(name, kName)) {
        diagnostics_.Error(where, "", fmt::format("'{}' is not a valid list name", name));
      } else if (auto found = lists_.find(name); found != lists_.end()) {
        diagnostics_.Error(where, "", fmt::format("list '{}' is already defined at {}", name,
                                                  found->second.where.ToString()));
      } else if (!it->second.IsSequence()) {
        diagnostics_.Error(MarkOf(it->second, file), "",
                           fmt::format("list '{}' must be a list of patterns", name));
      } else {
        lists_[name] = ListDef{it->second, file, where};
      }
    }
  }

  void AddRules(const YAML::Node& rules, const std::string& file) {
    if (!rules.IsSequence()) {
      diagnostics_.Error(MarkOf(rules, file), "", "'rules' must be a list of rules");
      return;
    }
    static const std::regex kId("^[a-z0-9][a-z0-9_.-]*$");
    for (const YAML::Node& rule : rules) {
      if (!rule.IsMap()) {
        diagnostics_.Error(MarkOf(rule, file), "", "a rule must be a mapping");
        continue;
      }
      const YAML::Node id = rule["id"];
      if (!id || !id.IsScalar() || !std::regex_match(id.Scalar(), kId)) {
        diagnostics_.Error(MarkOf(id ? id : rule, file), "",
                           "a rule needs an 'id' of lower-case letters, digits, '.', '_' and '-'");
        continue;
      }
      if (auto found = index_.find(id.Scalar()); found != index_.end()) {
        const RuleNode& first = rules_[found->second];
        diagnostics_.Error(MarkOf(id, file), id.Scalar(),
                           fmt::format("duplicate rule id (first defined at {}); use 'overrides' to "
                                       "change a rule of another file",
                                       MarkOf(first.node["id"], first.file).ToString()));
        continue;
      }
      index_[id.Scalar()] = rules_.size();
      // Not a clone: YAML::Clone drops the marks that locate every error.
      rules_.push_back(RuleNode{rule, file, id.Scalar()});
    }
  }

  void AddOverrides(const YAML::Node& overrides, const std::string& file) {
    if (!overrides.IsSequence()) {
      diagnostics_.Error(MarkOf(overrides, file), "", "'overrides' must be a list");
      return;
    }
    for (const YAML::Node& patch : overrides) {
      const YAML::Node id = patch.IsMap() ? patch["id"] : YAML::Node();
      if (!id || !id.IsScalar()) {
        diagnostics_.Error(MarkOf(patch, file), "", "an override needs the 'id' of the rule it changes");
        continue;
      }
      auto found = index_.find(id.Scalar());
      if (found == index_.end()) {
        diagnostics_.Error(MarkOf(id, file), id.Scalar(),
                           "override of a rule that no earlier file defines");
        continue;
      }
      RuleNode& target = rules_[found->second];
      for (auto it = patch.begin(); it != patch.end(); ++it) {
        if (it->first.Scalar() == "id") continue;
        target.node[it->first.Scalar()] = it->second;
      }
      // Known gap: a problem inside an overridden value is reported with the override's
      // line but the file of the rule it overrides.
    }
  }

  // Expands a list, once: later references reuse the result, so a bad pattern in a
  // list is reported once, not once per rule that uses the list.
  bool Expand(const std::string& name, const Location& where, const std::string& rule_id,
              std::vector<std::string>& stack, std::vector<Pattern>& out) {
    if (auto done = expanded_.find(name); done != expanded_.end()) {
      out.insert(out.end(), done->second.second.begin(), done->second.second.end());
      return done->second.first;
    }
    if (lists_.count(name) && std::find(stack.begin(), stack.end(), name) == stack.end()) {
      std::vector<Pattern> patterns;
      const bool ok = ExpandOnce(name, where, rule_id, stack, patterns);
      out.insert(out.end(), patterns.begin(), patterns.end());
      expanded_[name] = {ok, std::move(patterns)};
      return ok;
    }
    return ExpandOnce(name, where, rule_id, stack, out);
  }

  bool ExpandOnce(const std::string& name, const Location& where, const std::string& rule_id,
                  std::vector<std::string>& stack, std::vector<Pattern>& out) {
    auto found = lists_.find(name);
    if (found == lists_.end()) {
      diagnostics_.Error(where, rule_id, fmt::format("unknown list '${}'", name));
      return false;
    }
    if (std::find(stack.begin(), stack.end(), name) != stack.end()) {
      diagnostics_.Error(where, rule_id,
                         fmt::format("list '${}' refers to itself (through {})", name,
                                     fmt::join(stack, " -> ")));
      return false;
    }
    stack.push_back(name);
    const ListDef& list = found->second;
    bool ok = true;
    for (const YAML::Node& item : list.items) {
      const Location item_where = MarkOf(item, list.file);
      if (item.IsScalar() && item.Scalar().size() > 1 && item.Scalar()[0] == '$') {
        ok = Expand(item.Scalar().substr(1), item_where, rule_id, stack, out) && ok;
        continue;
      }
      const ListExpander no_nesting = [](const std::string&, const Location&, const std::string&,
                                         std::vector<Pattern>&) { return false; };
      const ReaderContext ctx{list.file, normaliser_, no_nesting, diagnostics_};
      ok = ReadPattern(item, rule_id, ctx, out) && ok;
    }
    stack.pop_back();
    if (list.items.size() == 0) {
      diagnostics_.Error(list.where, rule_id, fmt::format("list '${}' is empty", name));
      return false;
    }
    return ok;
  }

  const Normaliser& normaliser_;
  Diagnostics& diagnostics_;
  std::map<std::string, ListDef> lists_;
  std::map<std::string, std::pair<bool, std::vector<Pattern>>> expanded_;
  std::vector<RuleNode> rules_;
  std::map<std::string, size_t> index_;
};

}  // namespace

const std::vector<std::string>& KnownRoles() {
  static const std::vector<std::string> roles = {
      "crisis_advisor",  "investor_relations", "community_coordinator", "content_director",
      "customer_service", "legal",             "data_analyst",          "operations_manager"};
  return roles;
}

std::vector<RuleSource> ReadRuleSources(const std::vector<std::string>& paths,
                                        Diagnostics& diagnostics) {
  std::vector<RuleSource> sources;
  auto read = [&](const fs::path& path) {
    RuleSource source{path.string(), ""};
    if (!ReadFile(path, source.text)) {
      diagnostics.Error(Location{path.string(), 0, 0}, "", "cannot read the file");
      return;
    }
    sources.push_back(std::move(source));
  };
  for (const std::string& path : paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<fs::path> files;
      for (const auto& entry : fs::directory_iterator(path, ec)) {
        const std::string ext = entry.path().extension().string();
        if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml")) files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());
      if (files.empty()) diagnostics.Warning(Location{path, 0, 0}, "", "folder holds no .yaml files");
      for (const fs::path& file : files) read(file);
    } else if (fs::exists(path, ec)) {
      read(path);
    } else {
      diagnostics.Error(Location{path, 0, 0}, "", "no such file or folder");
    }
  }
  return sources;
}

std::vector<RuleDef> LoadRules(const std::vector<RuleSource>& sources, const Normaliser& normaliser,
                               Diagnostics& diagnostics) {
  Loader loader(normaliser, diagnostics);
  for (const RuleSource& source : sources) loader.AddSource(source);
  return loader.Finish();
}

}  // namespace vigil::rules
