// Silences: a responder's "I know, stop paging me about this" for a while. A silence
// matches incidents by their fields (rule, category, severity, owner, community, key),
// each an exact value or a pattern with `*`; every matcher must hold. A silenced
// incident still records its hits and still sends its resolve notice to whoever was
// paged before (Alertmanager's #226 is the counter-example); only pages are held back.
//
// Immutable values; thread-safe to read.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "alerts/incident.h"
#include "core/result.h"

namespace vigil::alerts {

struct Silence {
  int64_t id = 0;
  std::map<std::string, std::string> matchers;  // field -> value or pattern with '*'
  int64_t starts_ms = 0;
  int64_t ends_ms = 0;  // exclusive
  std::string author;
  std::string comment;
  int64_t created_ms = 0;

  bool ActiveAt(int64_t ms) const { return starts_ms <= ms && ms < ends_ms; }
  bool Matches(const Incident& incident) const;
  // "active", "pending" (starts later) or "expired".
  std::string_view StateAt(int64_t ms) const;
};

// The matcher fields a silence may use.
inline constexpr std::string_view kSilenceFields[] = {"rule",  "category",  "severity",
                                                      "owner", "community", "key"};

// Checks what a person asks for: at least one matcher, known fields, non-empty values,
// a comment, ends after starts. The error names the field.
Status ValidateSilence(const Silence& silence);

// '*' matches any run of characters (also none); everything else literally.
bool GlobMatch(std::string_view pattern, std::string_view text);

}  // namespace vigil::alerts
