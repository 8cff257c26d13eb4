#include "alerts/oncall.h"

#include <unicode/timezone.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

namespace vigil::alerts {
namespace {

constexpr int64_t kMinuteMs = 60 * 1000;
constexpr int64_t kDayMs = 24 * 60 * kMinuteMs;
// ShiftEndsMs walks boundaries one by one; a display value is not worth more than this.
constexpr int kMaxShiftSteps = 1000;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

// Reads exactly `width` digits at `pos` (advancing it); nullopt if they are not all digits.
std::optional<int> Digits(std::string_view text, size_t& pos, size_t width) {
  if (pos + width > text.size()) return std::nullopt;
  int value = 0;
  for (size_t i = 0; i < width; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  pos += width;
  return value;
}

bool Expect(std::string_view text, size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

int64_t PeriodMs(Rotation::Period period) {
  return period == Rotation::Period::kDaily ? kDayMs : 7 * kDayMs;
}

int64_t HandOverUtc(const Rotation& rotation, int64_t k) {
  return rotation.zone.ToUtcMs(rotation.start_local_ms + k * PeriodMs(rotation.period));
}

// The shift in effect at `utc_ms`: k such that hand-over k <= utc_ms < hand-over k+1, or
// -1 before the first hand-over. The estimate from the wall clock is off by at most one
// near a DST change; the loops settle it against the real instants.
int64_t ShiftIndex(const Rotation& rotation, int64_t utc_ms) {
  if (utc_ms < HandOverUtc(rotation, 0)) return -1;
  int64_t k = std::max<int64_t>(
      0, (rotation.zone.ToLocalMs(utc_ms) - rotation.start_local_ms) / PeriodMs(rotation.period));
  while (k > 0 && HandOverUtc(rotation, k) > utc_ms) --k;
  while (HandOverUtc(rotation, k + 1) <= utc_ms) ++k;
  return k;
}

const Override* ActiveOverride(const RoleSchedule& role, int64_t utc_ms) {
  const Override* winner = nullptr;
  for (const Override& o : role.overrides) {
    if (o.from_ms <= utc_ms && utc_ms < o.until_ms && (!winner || o.from_ms >= winner->from_ms)) {
      winner = &o;
    }
  }
  return winner;
}

bool Rotates(const RoleSchedule& role) { return role.rotation && !role.rotation->members.empty(); }

// The earliest override boundary or hand-over strictly after `utc_ms`.
std::optional<int64_t> NextBoundary(const RoleSchedule& role, int64_t utc_ms) {
  std::optional<int64_t> next;
  auto consider = [&](int64_t t) {
    if (t > utc_ms && (!next || t < *next)) next = t;
  };
  for (const Override& o : role.overrides) {
    consider(o.from_ms);
    consider(o.until_ms);
  }
  // One member never hands over to anyone else.
  if (Rotates(role) && role.rotation->members.size() > 1) {
    consider(HandOverUtc(*role.rotation, ShiftIndex(*role.rotation, utc_ms) + 1));
  }
  return next;
}

bool StartsOn(const QuietHours& quiet, int64_t local_day) {
  if (quiet.weekdays.empty()) return true;
  // 1970-01-01 was a Thursday (3 with Monday as 0).
  const int weekday = static_cast<int>(((local_day + 3) % 7 + 7) % 7);
  return std::find(quiet.weekdays.begin(), quiet.weekdays.end(), weekday) != quiet.weekdays.end();
}

}  // namespace

struct TimeZone::Rules {
  std::unique_ptr<const icu::TimeZone> zone;
};

TimeZone::TimeZone(std::shared_ptr<const Rules> rules, std::string name)
    : rules_(std::move(rules)), name_(std::move(name)) {}

Result<TimeZone> TimeZone::Load(std::string_view name) {
  std::unique_ptr<const icu::TimeZone> zone(
      icu::TimeZone::createTimeZone(icu::UnicodeString::fromUTF8(
          icu::StringPiece(name.data(), static_cast<int32_t>(name.size())))));
  // An unknown name yields a copy of getUnknown(); the name "Etc/Unknown" itself loads as a
  // distinct object with the same id, so check both.
  icu::UnicodeString id;
  zone->getID(id);
  if (*zone == icu::TimeZone::getUnknown() || id == UNICODE_STRING_SIMPLE("Etc/Unknown")) {
    return Error{"unknown time zone \"" + std::string(name) + "\""};
  }
  return TimeZone(std::make_shared<const Rules>(Rules{std::move(zone)}), std::string(name));
}

TimeZone TimeZone::Utc() { return TimeZone(nullptr, "UTC"); }

int64_t TimeZone::OffsetMs(int64_t utc_ms) const {
  if (!rules_) return 0;
  UErrorCode status = U_ZERO_ERROR;
  int32_t raw = 0;
  int32_t dst = 0;
  rules_->zone->getOffset(static_cast<UDate>(utc_ms), /*local=*/false, raw, dst, status);
  // ICU fails here only on bad arguments; a loaded zone with a UTC instant has none.
  if (U_FAILURE(status)) std::abort();
  return int64_t{raw} + dst;
}

int64_t TimeZone::ToUtcMs(int64_t local_ms) const {
  if (!rules_) return local_ms;
  // Real zones change offset at most once within a day either side, so the offsets a day
  // before and a day after give every candidate reading of this wall-clock time.
  const int64_t before = local_ms - OffsetMs(local_ms - kDayMs);
  const int64_t after = local_ms - OffsetMs(local_ms + kDayMs);
  const bool before_fits = ToLocalMs(before) == local_ms;
  const bool after_fits = ToLocalMs(after) == local_ms;
  if (before_fits && after_fits) return std::min(before, after);
  if (after_fits) return after;
  return before;  // fits, or a gap: the offset before the change lands after the gap
}

Result<int64_t> ParseLocalDateTime(std::string_view text) {
  auto fail = [&](std::string_view why) {
    return Error{"bad date and time \"" + std::string(text) + "\": " + std::string(why)};
  };
  size_t pos = 0;
  const auto year = Digits(text, pos, 4);
  const bool dash1 = Expect(text, pos, '-');
  const auto month = Digits(text, pos, 2);
  const bool dash2 = Expect(text, pos, '-');
  const auto day = Digits(text, pos, 2);
  const bool sep = Expect(text, pos, ' ') || Expect(text, pos, 'T');
  const auto hour = Digits(text, pos, 2);
  const bool colon = Expect(text, pos, ':');
  const auto minute = Digits(text, pos, 2);
  std::optional<int> second = 0;
  if (Expect(text, pos, ':')) second = Digits(text, pos, 2);
  if (!year || !dash1 || !month || !dash2 || !day || !sep || !hour || !colon || !minute ||
      !second || pos != text.size()) {
    return fail("expected YYYY-MM-DD HH:MM[:SS]");
  }
  const std::chrono::year_month_day date{std::chrono::year(*year),
                                         std::chrono::month(static_cast<unsigned>(*month)),
                                         std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok()) return fail("no such day");
  if (*hour > 23 || *minute > 59 || *second > 59) return fail("no such time of day");
  const int64_t days = std::chrono::sys_days(date).time_since_epoch().count();
  return days * kDayMs + ((*hour * 60 + *minute) * 60 + *second) * int64_t{1000};
}

Result<int> ParseClockTime(std::string_view text) {
  auto fail = [&](std::string_view why) {
    return Error{"bad clock time \"" + std::string(text) + "\": " + std::string(why)};
  };
  size_t pos = 0;
  const size_t hour_width = text.find(':') == 1 ? 1 : 2;
  const auto hour = Digits(text, pos, hour_width);
  const bool colon = Expect(text, pos, ':');
  const auto minute = Digits(text, pos, 2);
  if (!hour || !colon || !minute || pos != text.size()) return fail("expected HH:MM");
  if (*hour > 23 || *minute > 59) return fail("no such time of day");
  return *hour * 60 + *minute;
}

std::vector<std::string> OnCall(const RoleSchedule& role, int64_t utc_ms) {
  if (const Override* o = ActiveOverride(role, utc_ms)) return {o->person};
  if (!Rotates(role)) return role.members;
  const Rotation& rotation = *role.rotation;
  const int64_t shift = std::max<int64_t>(0, ShiftIndex(rotation, utc_ms));
  return {
      rotation.members[static_cast<size_t>(shift % static_cast<int64_t>(rotation.members.size()))]};
}

int64_t ShiftEndsMs(const RoleSchedule& role, int64_t utc_ms) {
  const std::vector<std::string> current = OnCall(role, utc_ms);
  int64_t t = utc_ms;
  for (int step = 0; step < kMaxShiftSteps; ++step) {
    const std::optional<int64_t> next = NextBoundary(role, t);
    if (!next) return 0;
    if (OnCall(role, *next) != current) return *next;
    t = *next;
  }
  return 0;
}

bool InQuietHours(const QuietHours& quiet, int64_t utc_ms) {
  const int64_t local = quiet.zone.ToLocalMs(utc_ms);
  const int64_t day = FloorDiv(local, kDayMs);
  const int64_t minute = (local - day * kDayMs) / kMinuteMs;
  if (quiet.from_minute == quiet.to_minute) return false;
  if (quiet.from_minute < quiet.to_minute) {
    return quiet.from_minute <= minute && minute < quiet.to_minute && StartsOn(quiet, day);
  }
  // Wraps midnight: the evening part started today, the morning part yesterday.
  return (minute >= quiet.from_minute && StartsOn(quiet, day)) ||
         (minute < quiet.to_minute && StartsOn(quiet, day - 1));
}

bool QuietFor(const RoleSchedule& role, rules::Severity severity, int64_t utc_ms) {
  return role.quiet_hours && severity < role.quiet_hours->min_severity &&
         InQuietHours(*role.quiet_hours, utc_ms);
}

}  // namespace vigil::alerts
