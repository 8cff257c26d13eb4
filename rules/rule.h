// The rule model: what a rule file says, after loading and list expansion, before
// compilation. Plain data; the loader fills it, the compiler reads it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "rules/validators.h"

namespace vigil::rules {

enum class Category : uint8_t { kSentiment, kComplaint, kPrivacyLeak, kCompliance };
enum class Severity : uint8_t { kInfo, kLow, kMedium, kHigh, kCritical };
enum class RuleStatus : uint8_t { kEnabled, kExperimental, kDisabled };

// The post fields a rule can look at. The matcher sees a post as a list of these.
enum class Field : uint8_t { kTitle, kBody, kAuthorName, kCommunity, kPlatform, kUrl, kTags };
inline constexpr int kFieldCount = 7;
using FieldMask = uint8_t;
inline constexpr FieldMask FieldBit(Field f) { return FieldMask(1u << static_cast<int>(f)); }

std::string_view CategoryName(Category c);
std::string_view SeverityName(Severity s);
std::string_view StatusName(RuleStatus s);
std::string_view FieldName(Field f);
std::optional<Category> ParseCategory(std::string_view s);
std::optional<Severity> ParseSeverity(std::string_view s);
std::optional<RuleStatus> ParseStatus(std::string_view s);
std::optional<Field> ParseField(std::string_view s);

// One pattern of a rule: a literal or a regex, as written and as it will be matched.
struct Pattern {
  enum class Kind : uint8_t { kLiteral, kRegex };
  Kind kind = Kind::kLiteral;
  std::string source;  // as written in the file, e.g. "re:拖了\\d+天" or "退 款"
  std::string text;    // literal: normalised form; regex: the expression after "re:"
  Location where;
  bool operator==(const Pattern& o) const { return kind == o.kind && text == o.text; }
};

// One item of `all` (or the whole of `any`): satisfied when any of its patterns matches.
struct PatternGroup {
  std::string label;  // "$refund", or the pattern's source for a single pattern
  std::vector<Pattern> patterns;
};

struct SentimentCondition {
  bool below = true;  // fire when the score is below (else above) the threshold
  double threshold = 0;
};

struct SpikeSpec {
  double factor = 3;                          // last window at least factor x baseline rate
  std::chrono::seconds baseline{std::chrono::hours(1)};
  int min_count = 5;                          // and at least this many hits in the window
};

// How hits of the rule become incidents (interpreted by alerts/).
struct IncidentSpec {
  std::vector<std::string> group_by;         // community | platform | author | tag
  int count = 1;                             // open at the count-th hit ...
  std::chrono::seconds within{0};            // ... within this window (0: no window)
  std::optional<SpikeSpec> spike;
  std::chrono::seconds resolve_after{0};     // auto-resolve after this quiet period (0: never)
};

struct Example {
  std::vector<std::pair<Field, std::string>> fields;
  Location where;
};

struct RuleDef {
  std::string id;
  std::string description;
  Category category = Category::kComplaint;
  Severity severity = Severity::kMedium;
  std::string owner;
  RuleStatus status = RuleStatus::kEnabled;
  std::vector<std::string> tags;
  FieldMask fields = FieldBit(Field::kTitle) | FieldBit(Field::kBody);

  std::vector<PatternGroup> all;
  PatternGroup any;  // empty patterns: no `any`
  std::vector<Pattern> unless;
  int near = 0;      // 0: no proximity constraint
  std::optional<Validator> validate;
  std::optional<SentimentCondition> sentiment;
  bool mask = false;

  IncidentSpec incident;
  std::vector<Example> hit_examples;
  std::vector<Example> miss_examples;
  Location where;  // of the rule's `id`
};

}  // namespace vigil::rules
