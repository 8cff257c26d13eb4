// Incidents: what the escalation stage makes of hits. A hit updates the incident whose
// key is the rule id plus the rule's incident.group_by values; an incident opens when
// the rule's condition holds (at once, `count` hits `within` a window, or a spike) and
// then goes open -> acknowledged -> resolved (by a person, or after a quiet period).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "rules/rule.h"

namespace vigil::alerts {

enum class IncidentState : uint8_t { kOpen, kAcknowledged, kResolved };
std::string_view IncidentStateName(IncidentState state);
std::optional<IncidentState> ParseIncidentState(std::string_view name);

// One hit as the escalation stage keeps it: self-contained (no pointers into a rule
// set that a reload may free) and PII-safe (the excerpt is already masked).
struct HitEvent {
  std::string incident_key;
  std::string rule_id;
  rules::Category category = rules::Category::kComplaint;
  rules::Severity severity = rules::Severity::kMedium;
  std::string owner;
  std::vector<std::string> tags;  // the rule's tags: routes may choose a policy by them
  bool experimental = false;      // counted, never opens a pageable incident
  rules::IncidentSpec spec;
  std::string post_id;
  std::string url;
  std::string community;
  std::string excerpt;       // masked where the rule says so
  std::string content_hash;  // SHA-256 of the post's text: evidence that survives edits
  TimePoint at;              // when Vigil saw it
};

// What an incident keeps of a post, so the record survives the post being edited or
// deleted.
struct Evidence {
  std::string post_id;
  std::string url;
  std::string excerpt;
  std::string content_hash;
  int64_t at_ms = 0;
};

struct AuditEntry {
  int64_t incident_id = 0;
  int64_t at_ms = 0;
  std::string actor;   // "vigil" or the person (token name) who acted
  std::string action;  // opened | acknowledged | resolved | escalated | ...
  std::string detail;
};

struct Incident {
  int64_t id = 0;
  std::string key;
  std::string rule_id;
  rules::Category category = rules::Category::kComplaint;
  rules::Severity severity = rules::Severity::kMedium;
  std::string owner;
  std::string community;
  std::vector<std::string> tags;
  IncidentState state = IncidentState::kOpen;
  int64_t opened_ms = 0;
  int64_t updated_ms = 0;
  int64_t last_hit_ms = 0;
  int64_t hits = 0;
  std::string acked_by;
  int64_t acked_ms = 0;
  std::string resolved_by;
  int64_t resolved_ms = 0;
  int64_t resolve_after_s = 0;  // auto-resolve after this quiet period (0: never)
  int escalation_level = 0;
  int64_t next_escalation_ms = 0;  // 0: none scheduled
  int repeats = 0;                 // times the last level was paged again
  int reminders = 0;               // re-notifications sent while open
  int64_t last_page_ms = 0;
  // A page was held back by a silence or an inhibition; it goes out when that ends (if
  // the incident is still open and unacknowledged).
  bool page_held = false;

  bool active() const { return state != IncidentState::kResolved; }
};

}  // namespace vigil::alerts
