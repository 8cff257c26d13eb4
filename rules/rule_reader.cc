#include "rules/rule_reader.h"

#include "rules/rule_loader.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <regex>

#include <fmt/format.h>
#include <re2/re2.h>

namespace vigil::rules {
namespace {

constexpr std::array<std::string_view, 12> kRuleKeys = {
    "id",     "description", "category", "severity", "owner", "status",
    "tags",   "fields",      "when",     "mask",     "incident", "examples"};
constexpr std::array<std::string_view, 6> kWhenKeys = {"any",    "all",      "near",
                                                       "unless", "validate", "sentiment"};
constexpr std::array<std::string_view, 5> kIncidentKeys = {"group_by", "count", "within", "spike",
                                                           "resolve_after"};
constexpr std::array<std::string_view, 3> kSpikeKeys = {"factor", "baseline", "min_count"};
constexpr std::array<std::string_view, 4> kGroupByKeys = {"community", "platform", "author", "tag"};

template <size_t N>
std::string JoinNames(const std::array<std::string_view, N>& names) {
  return fmt::format("{}", fmt::join(names, ", "));
}

template <size_t N>
bool Contains(const std::array<std::string_view, N>& names, std::string_view s) {
  return std::find(names.begin(), names.end(), s) != names.end();
}

class Reader {
 public:
  Reader(const ReaderContext& ctx, std::string rule_id) : ctx_(ctx), id_(std::move(rule_id)) {}

  bool ok() const { return ok_; }

  void Fail(const YAML::Node& at, const std::string& message) {
    ctx_.diagnostics.Error(MarkOf(at, ctx_.file), id_, message);
    ok_ = false;
  }
  void Warn(const YAML::Node& at, const std::string& message) {
    ctx_.diagnostics.Warning(MarkOf(at, ctx_.file), id_, message);
  }

  template <size_t N>
  void CheckKeys(const YAML::Node& map, const std::array<std::string_view, N>& allowed,
                 std::string_view what) {
    for (auto it = map.begin(); it != map.end(); ++it) {
      std::string key = it->first.IsScalar() ? it->first.Scalar() : "";
      if (!Contains(allowed, key)) {
        Fail(it->first, fmt::format("unknown key '{}' in {} (expected one of: {})", key, what,
                                    JoinNames(allowed)));
      }
    }
  }

  bool String(const YAML::Node& node, std::string_view key, std::string& out) {
    if (!node.IsScalar()) {
      Fail(node, fmt::format("'{}' must be a string", key));
      return false;
    }
    out = node.Scalar();
    return true;
  }

  bool Int(const YAML::Node& node, std::string_view key, int min, int& out) {
    long long value = 0;
    const std::string& s = node.IsScalar() ? node.Scalar() : std::string();
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (!node.IsScalar() || ec != std::errc() || end != s.data() + s.size() || value < min ||
        value > 1'000'000'000) {
      Fail(node, fmt::format("'{}' must be a whole number of at least {}, not '{}'", key, min, s));
      return false;
    }
    out = int(value);
    return true;
  }

  bool Number(const YAML::Node& node, std::string_view key, double& out) {
    if (!node.IsScalar() || !YAML::convert<double>::decode(node, out) || !std::isfinite(out)) {
      Fail(node, fmt::format("'{}' must be a number", key));
      return false;
    }
    return true;
  }

  bool Bool(const YAML::Node& node, std::string_view key, bool& out) {
    if (!node.IsScalar() || !YAML::convert<bool>::decode(node, out)) {
      Fail(node, fmt::format("'{}' must be true or false", key));
      return false;
    }
    return true;
  }

  // "30s", "10m", "2h", "1d".
  bool Duration(const YAML::Node& node, std::string_view key, std::chrono::seconds& out) {
    static const std::regex kDuration("^([0-9]{1,9})([smhd])$");
    std::smatch m;
    std::string s = node.IsScalar() ? node.Scalar() : "";
    if (!std::regex_match(s, m, kDuration)) {
      Fail(node, fmt::format("'{}' must be a duration such as 30s, 10m, 2h or 1d, not '{}'", key, s));
      return false;
    }
    long long n = std::stoll(m[1].str());
    const long long unit = m[2] == "s" ? 1 : m[2] == "m" ? 60 : m[2] == "h" ? 3600 : 86400;
    out = std::chrono::seconds(n * unit);
    return true;
  }

  bool StringList(const YAML::Node& node, std::string_view key, std::vector<std::string>& out) {
    if (node.IsScalar()) {
      out.push_back(node.Scalar());
      return true;
    }
    if (!node.IsSequence()) {
      Fail(node, fmt::format("'{}' must be a list of strings", key));
      return false;
    }
    for (const YAML::Node& item : node) {
      std::string s;
      if (!String(item, key, s)) return false;
      out.push_back(std::move(s));
    }
    return true;
  }

  // A list of pattern strings (a single string is accepted as a list of one).
  bool Patterns(const YAML::Node& node, std::string_view key, std::vector<Pattern>& out) {
    if (!node.IsSequence() && !node.IsScalar()) {
      Fail(node, fmt::format("'{}' must be a list of patterns", key));
      return false;
    }
    bool fine = true;
    auto one = [&](const YAML::Node& item) {
      if (!ReadPattern(item, id_, ctx_, out)) fine = ok_ = false;
    };
    if (node.IsScalar()) {
      one(node);
    } else {
      for (const YAML::Node& item : node) one(item);
    }
    if (fine && out.empty()) {
      Fail(node, fmt::format("'{}' is empty", key));
      return false;
    }
    return fine;
  }

  // `all`: each item is a group; a `$list` item is satisfied by any of its members.
  void AllGroups(const YAML::Node& node, RuleDef& rule) {
    if (!node.IsSequence() || node.size() == 0) {
      Fail(node, "'all' must be a non-empty list of patterns");
      return;
    }
    if (node.size() > 32) {
      Fail(node, fmt::format("'all' has {} items; at most 32 are allowed", node.size()));
      return;
    }
    for (const YAML::Node& item : node) {
      PatternGroup group;
      group.label = item.IsScalar() ? item.Scalar() : "";
      if (!ReadPattern(item, id_, ctx_, group.patterns)) {
        ok_ = false;
        continue;
      }
      rule.all.push_back(std::move(group));
    }
  }

  void When(const YAML::Node& when, RuleDef& rule) {
    if (!when.IsMap()) {
      Fail(when, "'when' must be a mapping with any, all, near, unless, validate or sentiment");
      return;
    }
    CheckKeys(when, kWhenKeys, "'when'");
    if (when["all"]) AllGroups(when["all"], rule);
    if (when["any"]) {
      rule.any.label = "any";
      Patterns(when["any"], "any", rule.any.patterns);
    }
    if (when["unless"]) Patterns(when["unless"], "unless", rule.unless);
    if (const YAML::Node near = when["near"]) {
      if (Int(near, "near", 1, rule.near) &&
          rule.all.size() + (rule.any.patterns.empty() ? 0 : 1) < 2) {
        Fail(near, "'near' needs at least two parts to bring together ('all' with two or more "
                   "items, or 'all' and 'any')");
      }
    }
    if (const YAML::Node validate = when["validate"]) {
      std::string name;
      if (String(validate, "validate", name)) {
        rule.validate = ParseValidator(name);
        if (!rule.validate) {
          std::string known;
          for (std::string_view v : ValidatorNames()) known += (known.empty() ? "" : ", ") + std::string(v);
          Fail(validate, fmt::format("unknown validator '{}' (known: {})", name, known));
        } else if (!HasRegex(rule)) {
          Fail(validate, "'validate' needs a regex in 'any' or 'all' to extract the value it checks");
        }
      }
    }
    if (const YAML::Node sentiment = when["sentiment"]) Sentiment(sentiment, rule);
    if (rule.all.empty() && rule.any.patterns.empty() && !rule.sentiment && ok_) {
      Fail(when, "'when' needs at least one of 'any', 'all' or 'sentiment'");
    }
  }

  static bool HasRegex(const RuleDef& rule) {
    auto is_regex = [](const Pattern& p) { return p.kind == Pattern::Kind::kRegex; };
    if (std::any_of(rule.any.patterns.begin(), rule.any.patterns.end(), is_regex)) return true;
    for (const PatternGroup& g : rule.all) {
      if (std::any_of(g.patterns.begin(), g.patterns.end(), is_regex)) return true;
    }
    return false;
  }

  void Sentiment(const YAML::Node& node, RuleDef& rule) {
    if (!node.IsMap() || node.size() != 1 || !(node["below"] || node["above"])) {
      Fail(node, "'sentiment' must be {below: X} or {above: X} with X between -1 and 1");
      return;
    }
    SentimentCondition condition;
    condition.below = bool(node["below"]);
    const YAML::Node value = condition.below ? node["below"] : node["above"];
    if (!Number(value, condition.below ? "below" : "above", condition.threshold)) return;
    if (condition.threshold < -1 || condition.threshold > 1) {
      Fail(value, "sentiment threshold must be between -1 and 1");
      return;
    }
    rule.sentiment = condition;
  }

  void Incident(const YAML::Node& node, IncidentSpec& incident) {
    if (!node.IsMap()) {
      Fail(node, "'incident' must be a mapping");
      return;
    }
    CheckKeys(node, kIncidentKeys, "'incident'");
    if (const YAML::Node group_by = node["group_by"]) {
      if (StringList(group_by, "group_by", incident.group_by)) {
        for (const std::string& g : incident.group_by) {
          if (!Contains(kGroupByKeys, g)) {
            Fail(group_by, fmt::format("cannot group incidents by '{}' (expected: {})", g,
                                       JoinNames(kGroupByKeys)));
          }
        }
      }
    }
    if (node["count"]) Int(node["count"], "count", 1, incident.count);
    if (node["within"]) Duration(node["within"], "within", incident.within);
    if (incident.count > 1 && incident.within.count() == 0 && node["count"]) {
      Fail(node["count"], "'count' above 1 needs 'within', the window the hits must fall in");
    }
    if (node["resolve_after"]) Duration(node["resolve_after"], "resolve_after", incident.resolve_after);
    if (const YAML::Node spike = node["spike"]) {
      if (!spike.IsMap()) {
        Fail(spike, "'spike' must be a mapping with factor, baseline and min_count");
        return;
      }
      CheckKeys(spike, kSpikeKeys, "'spike'");
      SpikeSpec spec;
      if (spike["factor"] && Number(spike["factor"], "factor", spec.factor) && spec.factor <= 1) {
        Fail(spike["factor"], "spike 'factor' must be above 1");
      }
      if (spike["baseline"]) Duration(spike["baseline"], "baseline", spec.baseline);
      if (spike["min_count"]) Int(spike["min_count"], "min_count", 1, spec.min_count);
      if (incident.within.count() == 0) {
        Fail(spike, "'spike' needs 'within', the window whose rate is compared with the baseline");
      } else if (spec.baseline <= incident.within) {
        Fail(spike, "spike 'baseline' must be longer than 'within'");
      }
      incident.spike = spec;
    }
  }

  void Examples(const YAML::Node& node, RuleDef& rule) {
    if (!node.IsMap()) {
      Fail(node, "'examples' must be a mapping with 'hit' and/or 'miss'");
      return;
    }
    static constexpr std::array<std::string_view, 2> kKeys = {"hit", "miss"};
    CheckKeys(node, kKeys, "'examples'");
    ExampleList(node["hit"], "hit", rule.hit_examples);
    ExampleList(node["miss"], "miss", rule.miss_examples);
  }

  void ExampleList(const YAML::Node& node, std::string_view key, std::vector<Example>& out) {
    if (!node) return;
    if (!node.IsSequence()) {
      Fail(node, fmt::format("examples '{}' must be a list", key));
      return;
    }
    for (const YAML::Node& item : node) {
      Example example;
      example.where = MarkOf(item, ctx_.file);
      if (item.IsScalar()) {
        example.fields.emplace_back(Field::kBody, item.Scalar());
      } else if (item.IsMap()) {
        for (auto it = item.begin(); it != item.end(); ++it) {
          std::optional<Field> field = ParseField(it->first.Scalar());
          std::string text;
          if (!field) {
            Fail(it->first, fmt::format("unknown field '{}' in example", it->first.Scalar()));
          } else if (String(it->second, it->first.Scalar(), text)) {
            example.fields.emplace_back(*field, std::move(text));
          }
        }
      } else {
        Fail(item, "an example is a text or a mapping of field to text");
        continue;
      }
      out.push_back(std::move(example));
    }
  }

 private:
  const ReaderContext& ctx_;
  std::string id_;
  bool ok_ = true;
};

// Reads the rule-level scalars and lists (everything but `when`, `incident` and `examples`).
void ReadHeader(const YAML::Node& node, Reader& r, RuleDef& rule) {
  auto required = [&](const char* key) -> YAML::Node {
    YAML::Node value = node[key];
    if (!value) r.Fail(node, fmt::format("rule has no '{}'", key));
    return value;
  };
  std::string s;
  if (YAML::Node v = required("category"); v && r.String(v, "category", s)) {
    if (auto c = ParseCategory(s)) rule.category = *c;
    else r.Fail(v, fmt::format("unknown category '{}' (expected sentiment, complaint, privacy_leak or compliance)", s));
  }
  if (YAML::Node v = required("severity"); v && r.String(v, "severity", s)) {
    if (auto sev = ParseSeverity(s)) rule.severity = *sev;
    else r.Fail(v, fmt::format("unknown severity '{}' (expected info, low, medium, high or critical)", s));
  }
  if (YAML::Node v = required("owner"); v && r.String(v, "owner", rule.owner)) {
    static const std::regex kRoleId("^[a-z][a-z0-9_]*$");
    if (!std::regex_match(rule.owner, kRoleId)) {
      r.Fail(v, fmt::format("owner '{}' is not a role id (lower case letters, digits, _)", rule.owner));
    } else if (std::find(KnownRoles().begin(), KnownRoles().end(), rule.owner) == KnownRoles().end()) {
      r.Warn(v, fmt::format("owner '{}' is not one of the standard roles", rule.owner));
    }
  }
  if (YAML::Node v = node["status"]; v && r.String(v, "status", s)) {
    if (auto st = ParseStatus(s)) rule.status = *st;
    else r.Fail(v, fmt::format("unknown status '{}' (expected enabled, experimental or disabled)", s));
  }
  if (YAML::Node v = node["description"]) r.String(v, "description", rule.description);
  if (YAML::Node v = node["tags"]) r.StringList(v, "tags", rule.tags);
  if (YAML::Node v = node["mask"]) r.Bool(v, "mask", rule.mask);
  if (YAML::Node v = node["fields"]) {
    std::vector<std::string> names;
    if (r.StringList(v, "fields", names)) {
      rule.fields = 0;
      for (const std::string& name : names) {
        if (auto f = ParseField(name)) rule.fields |= FieldBit(*f);
        else r.Fail(v, fmt::format("unknown field '{}' (expected title, body, author.name, community, platform, url or tags)", name));
      }
      if (names.empty()) r.Fail(v, "'fields' is empty");
    }
  }
}

}  // namespace

Location MarkOf(const YAML::Node& node, const std::string& file) {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) return Location{file, 0, 0};
  return Location{file, mark.line + 1, mark.column + 1};
}

bool ReadPattern(const YAML::Node& node, const std::string& rule_id, const ReaderContext& ctx,
                 std::vector<Pattern>& out) {
  const Location where = MarkOf(node, ctx.file);
  if (!node.IsScalar()) {
    ctx.diagnostics.Error(where, rule_id, "a pattern must be a string");
    return false;
  }
  const std::string& source = node.Scalar();
  if (source.size() > 1 && source[0] == '$') return ctx.expand_list(source.substr(1), where, rule_id, out);
  Pattern pattern;
  pattern.source = source;
  pattern.where = where;
  if (source.rfind("re:", 0) == 0) {
    pattern.kind = Pattern::Kind::kRegex;
    pattern.text = source.substr(3);
    if (std::string problem = CheckRegex(pattern.text, ctx.normaliser); !problem.empty()) {
      ctx.diagnostics.Error(where, rule_id, fmt::format("regex '{}': {}", pattern.text, problem));
      return false;
    }
  } else {
    if (!IsValidUtf8(source)) {
      ctx.diagnostics.Error(where, rule_id, "pattern is not valid UTF-8");
      return false;
    }
    pattern.text = ctx.normaliser.Normalise(source);
    if (pattern.text.empty()) {
      ctx.diagnostics.Error(where, rule_id,
                            fmt::format("literal '{}' is empty after normalisation", source));
      return false;
    }
  }
  out.push_back(std::move(pattern));
  return true;
}

std::string CheckRegex(const std::string& expression, const Normaliser& normaliser) {
  if (expression.empty()) return "the regex is empty";
  if (!IsValidUtf8(expression)) return "not valid UTF-8";
  RE2::Options options;
  options.set_log_errors(false);
  options.set_case_sensitive(false);
  RE2 re(expression, options);
  if (!re.ok()) {
    static const std::regex kLookaround(R"(\(\?<?[=!])");
    static const std::regex kBackref(R"(\\[1-9]|\\k<)");
    if (std::regex_search(expression, kLookaround)) {
      return "look-around ((?=, (?!, (?<=, (?<!) is not supported: neither RE2 nor Hyperscan "
             "runs it in linear time; use 'unless' or 'near' instead";
    }
    if (std::regex_search(expression, kBackref)) {
      return "back-references are not supported: neither RE2 nor Hyperscan runs them in linear time";
    }
    return "invalid regex: " + re.error();
  }
  if (RE2::FullMatch("", re)) return "the regex matches the empty string";
  // Text is case folded and NFKC-normalised before matching, so a character that
  // normalisation changes can never be seen by the regex.
  for (size_t i = 0; i < expression.size();) {
    const unsigned char lead = static_cast<unsigned char>(expression[i]);
    const size_t len = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    if (len > 1) {
      const std::string ch = expression.substr(i, len);
      const std::string folded = normaliser.Normalise(ch);
      if (folded != ch) {
        return fmt::format("'{}' never occurs in normalised text (matching is case-folded and "
                           "NFKC-normalised); write '{}' instead",
                           ch, folded);
      }
    }
    i += len;
  }
  return "";
}

bool ReadRule(const YAML::Node& node, const ReaderContext& ctx, RuleDef& rule) {
  Reader r(ctx, rule.id);
  rule.where = MarkOf(node["id"] ? node["id"] : node, ctx.file);
  r.CheckKeys(node, kRuleKeys, "rule");
  ReadHeader(node, r, rule);
  if (const YAML::Node when = node["when"]) {
    r.When(when, rule);
  } else {
    r.Fail(node, "rule has no 'when'");
  }
  if (const YAML::Node incident = node["incident"]) r.Incident(incident, rule.incident);
  if (const YAML::Node examples = node["examples"]) r.Examples(examples, rule);
  return r.ok();
}

}  // namespace vigil::rules
