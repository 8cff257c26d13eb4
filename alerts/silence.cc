#include "alerts/silence.h"

#include <algorithm>

#include <fmt/format.h>

namespace vigil::alerts {

bool GlobMatch(std::string_view pattern, std::string_view text) {
  // Iterative wildcard matching with one backtrack point: linear in practice, no recursion.
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool Silence::Matches(const Incident& incident) const {
  for (const auto& [field, pattern] : matchers) {
    std::string_view value;
    if (field == "rule") {
      value = incident.rule_id;
    } else if (field == "category") {
      value = rules::CategoryName(incident.category);
    } else if (field == "severity") {
      value = rules::SeverityName(incident.severity);
    } else if (field == "owner") {
      value = incident.owner;
    } else if (field == "community") {
      value = incident.community;
    } else if (field == "key") {
      value = incident.key;
    } else {
      return false;  // validated away; an unknown field never matches
    }
    if (!GlobMatch(pattern, value)) return false;
  }
  return !matchers.empty();
}

std::string_view Silence::StateAt(int64_t ms) const {
  if (ms < starts_ms) return "pending";
  if (ms >= ends_ms) return "expired";
  return "active";
}

Status ValidateSilence(const Silence& silence) {
  if (silence.matchers.empty()) {
    return Error{
        "matchers: at least one is needed (rule, category, severity, owner, community, key)"};
  }
  for (const auto& [field, value] : silence.matchers) {
    if (std::find(std::begin(kSilenceFields), std::end(kSilenceFields), field) ==
        std::end(kSilenceFields)) {
      return Error{fmt::format(
          "matchers.{}: unknown field; expected rule, category, severity, owner, community or key",
          field)};
    }
    if (value.empty()) return Error{fmt::format("matchers.{}: empty value", field)};
    if (value.find_first_not_of('*') == std::string::npos) {
      return Error{fmt::format("matchers.{}: \"{}\" would silence everything; name what to silence",
                               field, value)};
    }
  }
  if (silence.comment.empty()) return Error{"comment: say why (it is shown to the next responder)"};
  if (silence.author.empty()) return Error{"author: who silences"};
  if (silence.ends_ms <= silence.starts_ms) return Error{"ends_ms: must be after starts_ms"};
  return Status::Ok();
}

}  // namespace vigil::alerts
