// On-call schedules: who of a role is paged at a given instant (rotation, overrides), and
// whether the role is in its quiet hours, in real IANA time zones (ICU's zone data).
//
// Instants are UTC milliseconds since 1970; "local ms" are naive wall-clock milliseconds
// since 1970 in some zone (no offset applied). Schedules are plain data: the paging
// config fills them, the dispatcher asks. Every function here is pure and thread-safe;
// TimeZone is immutable and may be shared and copied across threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "rules/rule.h"

namespace vigil::alerts {

// A time zone by IANA name ("Asia/Shanghai", "Europe/Berlin", "UTC"). Names are
// case-sensitive. The rules come from the zone data built into ICU, not /usr/share/zoneinfo.
class TimeZone {
 public:
  // Error: unknown time zone "X".
  static Result<TimeZone> Load(std::string_view name);
  static TimeZone Utc();

  const std::string& name() const { return name_; }
  // The UTC offset (including DST) in effect at that instant.
  int64_t OffsetMs(int64_t utc_ms) const;
  int64_t ToLocalMs(int64_t utc_ms) const { return utc_ms + OffsetMs(utc_ms); }
  // The instant at which the wall clock shows `local_ms`. A time that occurs twice (clocks
  // go back) is its first occurrence; a time that never occurs (clocks go forward) is read
  // with the offset before the change, i.e. it lands just as far after the gap.
  int64_t ToUtcMs(int64_t local_ms) const;

 private:
  struct Rules;  // wraps the icu::TimeZone; null means UTC
  TimeZone(std::shared_ptr<const Rules> rules, std::string name);

  std::shared_ptr<const Rules> rules_;
  std::string name_;
};

// "2026-11-02 09:00", "2026-11-02T09:00" or either with ":ss" -> naive local ms.
Result<int64_t> ParseLocalDateTime(std::string_view text);
// "22:00" (or "8:00") -> minutes after midnight, 0..1439.
Result<int> ParseClockTime(std::string_view text);

struct Rotation {
  enum class Period { kDaily, kWeekly };
  Period period = Period::kWeekly;
  std::vector<std::string> members;  // person ids in hand-over order
  int64_t start_local_ms = 0;        // wall-clock time of the first hand-over in `zone`;
                                     // members[0] takes it
  TimeZone zone = TimeZone::Utc();
};

// Holidays, swaps: `person` covers the role in [from_ms, until_ms) (UTC instants).
struct Override {
  std::string person;
  int64_t from_ms = 0;
  int64_t until_ms = 0;
};

// REQUIRES: from_minute and to_minute in 0..1439; weekdays in 0..6.
struct QuietHours {
  int from_minute = 22 * 60;  // local; wraps midnight when from > to; from == to: never quiet
  int to_minute = 8 * 60;
  std::vector<int> weekdays;  // 0=Mon..6=Sun on which quiet hours START; empty: every day
  TimeZone zone = TimeZone::Utc();
  rules::Severity min_severity = rules::Severity::kCritical;  // at or above: pages anyway
};

struct RoleSchedule {
  std::string role;
  std::vector<std::string> members;  // everyone in the role
  std::optional<Rotation> rotation;  // none (or no members): every member is paged
  std::vector<Override> overrides;
  std::optional<QuietHours> quiet_hours;
};

// Who is paged for the role at `utc_ms`: an active override's person (the latest-starting if
// several; on a tie the one listed last), else the rotation's current member (hand-over at
// the wall-clock time of start_local_ms every day or week, so 09:00 local stays 09:00 local
// across DST changes; before the start: members[0]), else all members.
std::vector<std::string> OnCall(const RoleSchedule& role, int64_t utc_ms);

// The first instant after `utc_ms` at which OnCall changes (a hand-over to someone else or
// an override boundary), for display; 0 if nothing changes (no rotation or override ahead).
int64_t ShiftEndsMs(const RoleSchedule& role, int64_t utc_ms);

bool InQuietHours(const QuietHours& quiet, int64_t utc_ms);

// True when the role must not be paged now for this severity: in quiet hours and below the
// floor.
bool QuietFor(const RoleSchedule& role, rules::Severity severity, int64_t utc_ms);

}  // namespace vigil::alerts
