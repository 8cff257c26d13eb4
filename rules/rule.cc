#include "rules/rule.h"

#include <array>

namespace vigil::rules {
namespace {

constexpr std::array<std::string_view, 4> kCategoryNames = {"sentiment", "complaint",
                                                            "privacy_leak", "compliance"};
constexpr std::array<std::string_view, 5> kSeverityNames = {"info", "low", "medium", "high",
                                                            "critical"};
constexpr std::array<std::string_view, 3> kStatusNames = {"enabled", "experimental", "disabled"};
constexpr std::array<std::string_view, kFieldCount> kFieldNames = {
    "title", "body", "author.name", "community", "platform", "url", "tags"};

template <typename Enum, size_t N>
std::optional<Enum> ParseName(const std::array<std::string_view, N>& names, std::string_view s) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == s) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

}  // namespace

std::string_view CategoryName(Category c) { return kCategoryNames[static_cast<size_t>(c)]; }
std::string_view SeverityName(Severity s) { return kSeverityNames[static_cast<size_t>(s)]; }
std::string_view StatusName(RuleStatus s) { return kStatusNames[static_cast<size_t>(s)]; }
std::string_view FieldName(Field f) { return kFieldNames[static_cast<size_t>(f)]; }

std::optional<Category> ParseCategory(std::string_view s) {
  return ParseName<Category>(kCategoryNames, s);
}
std::optional<Severity> ParseSeverity(std::string_view s) {
  return ParseName<Severity>(kSeverityNames, s);
}
std::optional<RuleStatus> ParseStatus(std::string_view s) {
  return ParseName<RuleStatus>(kStatusNames, s);
}
std::optional<Field> ParseField(std::string_view s) { return ParseName<Field>(kFieldNames, s); }

}  // namespace vigil::rules
