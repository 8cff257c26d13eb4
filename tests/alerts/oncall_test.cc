// On-call schedules in real time zones: hand-overs at the boundary to the millisecond,
// across DST changes and in two zones, overrides, quiet hours and the severity floor.
// Every expected instant is worked out by hand from 2026-01-01T00:00Z (see Utc below).
#include "alerts/oncall.h"

#include <gtest/gtest.h>

namespace vigil::alerts {
namespace {

using rules::Severity;
using Strings = std::vector<std::string>;

constexpr int64_t kHourMs = 3600 * 1000;
constexpr int64_t kDayMs = 24 * kHourMs;
// 2026-01-01T00:00Z: 56 years after 1970 with 14 leap days (1972..2024), so
// 56 * 365 + 14 = 20454 days, 20454 * 86400 s. It is a Thursday ((20454 + 3) % 7 == 3).
constexpr int64_t kJan1 = 1767225600000;

// 2026 is not a leap year. Days before each month: Jan 0, Feb 31, Mar 59, Apr 90, May 120,
// Jun 151, Jul 181, Aug 212, Sep 243, Oct 273, Nov 304, Dec 334. So Mar 1 is day 59, a
// Sunday (Thu + 59 % 7 = Thu + 3); Oct 1 is day 273, a Thursday (273 % 7 == 0).
constexpr int64_t Utc(int day_of_year, int hour, int minute = 0) {
  return kJan1 + day_of_year * kDayMs + hour * kHourMs + minute * 60 * 1000;
}
// Days of 2026 used below (day-of-year counted from 0 = Jan 1, Thu).
constexpr int kMon5Jan = 4, kThu8Jan = 7, kFri9Jan = 8, kSat10Jan = 9, kSun11Jan = 10,
              kMon12Jan = 11, kMon19Jan = 18, kMon26Jan = 25;
constexpr int kMon23Mar = 59 + 22, kSat28Mar = 59 + 27, kSun29Mar = 59 + 28, kMon30Mar = 59 + 29;
constexpr int kMon19Oct = 273 + 18, kSat24Oct = 273 + 23, kSun25Oct = 273 + 24,
              kMon26Oct = 273 + 25;
constexpr int kJul1 = 181, kMon2Nov = 304 + 1;

TimeZone Zone(std::string_view name) { return TimeZone::Load(name).value(); }

RoleSchedule Rotating(Rotation::Period period, Strings members, int64_t start_local_ms,
                      TimeZone zone) {
  RoleSchedule role;
  role.role = "sre";
  role.members = members;
  role.rotation = Rotation{period, std::move(members), start_local_ms, std::move(zone)};
  return role;
}

TEST(TimeZoneTest, OffsetsIncludeDst) {
  EXPECT_EQ(TimeZone::Utc().name(), "UTC");
  EXPECT_EQ(TimeZone::Utc().OffsetMs(Utc(kJul1, 12)), 0);
  EXPECT_EQ(Zone("UTC").OffsetMs(Utc(kJul1, 12)), 0);
  const TimeZone shanghai = Zone("Asia/Shanghai");
  EXPECT_EQ(shanghai.name(), "Asia/Shanghai");
  EXPECT_EQ(shanghai.OffsetMs(Utc(kMon5Jan, 0)), 8 * kHourMs);
  EXPECT_EQ(shanghai.OffsetMs(Utc(kJul1, 0)), 8 * kHourMs);
  const TimeZone new_york = Zone("America/New_York");
  EXPECT_EQ(new_york.OffsetMs(Utc(kMon5Jan, 0)), -5 * kHourMs);
  EXPECT_EQ(new_york.OffsetMs(Utc(kJul1, 0)), -4 * kHourMs);
  // Berlin springs forward on Sun 29 Mar at 02:00 CET = 01:00Z, falls back on Sun 25 Oct
  // at 03:00 CEST = 01:00Z.
  const TimeZone berlin = Zone("Europe/Berlin");
  EXPECT_EQ(berlin.OffsetMs(Utc(kSun29Mar, 1) - 1), 1 * kHourMs);
  EXPECT_EQ(berlin.OffsetMs(Utc(kSun29Mar, 1)), 2 * kHourMs);
  EXPECT_EQ(berlin.OffsetMs(Utc(kSun25Oct, 1) - 1), 2 * kHourMs);
  EXPECT_EQ(berlin.OffsetMs(Utc(kSun25Oct, 1)), 1 * kHourMs);
  const TimeZone copy = berlin;
  EXPECT_EQ(copy.ToLocalMs(Utc(kSun25Oct, 1)), Utc(kSun25Oct, 2));
}

TEST(TimeZoneTest, LocalToUtcAcrossGapAndOverlap) {
  const TimeZone berlin = Zone("Europe/Berlin");
  // 12:00 local on Sun 29 Mar is CEST: 10:00Z.
  EXPECT_EQ(berlin.ToUtcMs(Utc(kSun29Mar, 12)), Utc(kSun29Mar, 10));
  // 02:30 on 29 Mar never happens; read with CET (+1) it is 01:30Z = 03:30 CEST.
  EXPECT_EQ(berlin.ToUtcMs(Utc(kSun29Mar, 2, 30)), Utc(kSun29Mar, 1, 30));
  // 02:30 on 25 Oct happens twice (CEST, then CET); the first is 00:30Z.
  EXPECT_EQ(berlin.ToUtcMs(Utc(kSun25Oct, 2, 30)), Utc(kSun25Oct, 0, 30));
  EXPECT_EQ(TimeZone::Utc().ToUtcMs(Utc(kSun25Oct, 2, 30)), Utc(kSun25Oct, 2, 30));
}

TEST(TimeZoneTest, UnknownZoneIsAnError) {
  for (const char* name : {"Mars/Olympus_Mons", "asia/shanghai", "", "Etc/Unknown"}) {
    const Result<TimeZone> zone = TimeZone::Load(name);
    ASSERT_FALSE(zone.ok()) << name;
    EXPECT_EQ(zone.error().message, "unknown time zone \"" + std::string(name) + "\"");
  }
}

TEST(OnCallParseTest, DateTimes) {
  EXPECT_EQ(ParseLocalDateTime("2026-11-02 09:00").value(), Utc(kMon2Nov, 9));
  EXPECT_EQ(ParseLocalDateTime("2026-11-02T09:00").value(), Utc(kMon2Nov, 9));
  EXPECT_EQ(ParseLocalDateTime("2026-11-02T09:00:30").value(), Utc(kMon2Nov, 9) + 30 * 1000);
  EXPECT_EQ(ParseLocalDateTime("1969-12-31 23:00").value(), -kHourMs);
  EXPECT_EQ(ParseLocalDateTime("2028-02-29 00:00").value(),
            kJan1 + (365 + 365 + 31 + 28) * kDayMs);  // 2026, 2027, then Jan and Feb 1..28
}

TEST(OnCallParseTest, BadDateTimes) {
  const std::pair<const char*, const char*> cases[] = {
      {"2026-02-30 09:00", "no such day"},
      {"2026-13-01 09:00", "no such day"},
      {"2026-11-02 24:00", "no such time of day"},
      {"2026-11-02T09:00:60", "no such time of day"},
      {"2026-11-02", "expected YYYY-MM-DD HH:MM[:SS]"},
      {"2026/11/02 09:00", "expected YYYY-MM-DD HH:MM[:SS]"},
      {"2026-11-02 09:00 ", "expected YYYY-MM-DD HH:MM[:SS]"},
      {"2026-11-02 9:00", "expected YYYY-MM-DD HH:MM[:SS]"},
      {"", "expected YYYY-MM-DD HH:MM[:SS]"},
  };
  for (const auto& [text, why] : cases) {
    const Result<int64_t> parsed = ParseLocalDateTime(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.error().message, "bad date and time \"" + std::string(text) + "\": " + why);
  }
}

TEST(OnCallParseTest, ClockTimes) {
  EXPECT_EQ(ParseClockTime("22:00").value(), 22 * 60);
  EXPECT_EQ(ParseClockTime("8:00").value(), 8 * 60);
  EXPECT_EQ(ParseClockTime("00:00").value(), 0);
  EXPECT_EQ(ParseClockTime("23:59").value(), 1439);
  const std::pair<const char*, const char*> cases[] = {
      {"24:00", "no such time of day"}, {"22:60", "no such time of day"}, {"22", "expected HH:MM"},
      {"22:0", "expected HH:MM"},       {"ab:cd", "expected HH:MM"},      {"", "expected HH:MM"},
      {" 22:00", "expected HH:MM"},
  };
  for (const auto& [text, why] : cases) {
    const Result<int> parsed = ParseClockTime(text);
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.error().message, "bad clock time \"" + std::string(text) + "\": " + why);
  }
}

TEST(OnCallRotationTest, WeeklyHandOverAtTheBoundary) {
  // Mon 5 Jan 09:00 in UTC; hand-overs every Monday 09:00Z.
  const RoleSchedule role =
      Rotating(Rotation::Period::kWeekly, {"ana", "bo", "cy"}, Utc(kMon5Jan, 9), TimeZone::Utc());
  EXPECT_EQ(OnCall(role, Utc(kMon5Jan, 9) - 1), Strings{"ana"});  // before the start
  EXPECT_EQ(OnCall(role, Utc(kMon5Jan, 9)), Strings{"ana"});
  EXPECT_EQ(OnCall(role, Utc(kMon12Jan, 9) - 1), Strings{"ana"});
  EXPECT_EQ(OnCall(role, Utc(kMon12Jan, 9)), Strings{"bo"});
  EXPECT_EQ(OnCall(role, Utc(kMon19Jan, 9) - 1), Strings{"bo"});
  EXPECT_EQ(OnCall(role, Utc(kMon19Jan, 9)), Strings{"cy"});
  EXPECT_EQ(OnCall(role, Utc(kMon26Jan, 9)), Strings{"ana"});         // wraps around
  EXPECT_EQ(ShiftEndsMs(role, Utc(kMon5Jan, 0)), Utc(kMon12Jan, 9));  // ana's shift runs on
  EXPECT_EQ(ShiftEndsMs(role, Utc(kMon12Jan, 9)), Utc(kMon19Jan, 9));
}

TEST(OnCallRotationTest, DailyHandOverAtTheBoundary) {
  const RoleSchedule role =
      Rotating(Rotation::Period::kDaily, {"ana", "bo"}, Utc(kMon5Jan, 9), TimeZone::Utc());
  EXPECT_EQ(OnCall(role, Utc(kMon5Jan + 1, 9) - 1), Strings{"ana"});
  EXPECT_EQ(OnCall(role, Utc(kMon5Jan + 1, 9)), Strings{"bo"});
  EXPECT_EQ(OnCall(role, Utc(kMon5Jan + 2, 9) - 1), Strings{"bo"});
  EXPECT_EQ(OnCall(role, Utc(kMon5Jan + 2, 9)), Strings{"ana"});
  EXPECT_EQ(ShiftEndsMs(role, Utc(kMon5Jan + 1, 12)), Utc(kMon5Jan + 2, 9));
}

TEST(OnCallRotationTest, HandOverStaysAtNineLocalAcrossDst) {
  // Spring: Mon 23 Mar 09:00 CET = 08:00Z; Mon 30 Mar 09:00 CEST = 07:00Z, an hour earlier.
  const TimeZone berlin = Zone("Europe/Berlin");
  const RoleSchedule spring =
      Rotating(Rotation::Period::kWeekly, {"ana", "bo"}, Utc(kMon23Mar, 9), berlin);
  EXPECT_EQ(OnCall(spring, Utc(kMon23Mar, 8) - 1), Strings{"ana"});
  EXPECT_EQ(OnCall(spring, Utc(kMon30Mar, 7) - 1), Strings{"ana"});
  EXPECT_EQ(OnCall(spring, Utc(kMon30Mar, 7)), Strings{"bo"});
  EXPECT_EQ(ShiftEndsMs(spring, Utc(kMon23Mar, 12)), Utc(kMon30Mar, 7));

  // Autumn: Mon 19 Oct 09:00 CEST = 07:00Z; Mon 26 Oct 09:00 CET = 08:00Z, an hour later.
  const RoleSchedule autumn =
      Rotating(Rotation::Period::kWeekly, {"ana", "bo"}, Utc(kMon19Oct, 9), berlin);
  EXPECT_EQ(OnCall(autumn, Utc(kMon26Oct, 7)), Strings{"ana"});  // 08:00 CET: a week in UTC
  EXPECT_EQ(OnCall(autumn, Utc(kMon26Oct, 8) - 1), Strings{"ana"});
  EXPECT_EQ(OnCall(autumn, Utc(kMon26Oct, 8)), Strings{"bo"});
  EXPECT_EQ(ShiftEndsMs(autumn, Utc(kMon19Oct, 12)), Utc(kMon26Oct, 8));

  // Daily over the night the clocks go back: Sat 24 Oct 09:00 CEST = 07:00Z, then
  // Sun 25 Oct 09:00 CET = 08:00Z: a 25-hour shift.
  const RoleSchedule daily =
      Rotating(Rotation::Period::kDaily, {"ana", "bo"}, Utc(kSat24Oct, 9), berlin);
  EXPECT_EQ(OnCall(daily, Utc(kSun25Oct, 8) - 1), Strings{"ana"});
  EXPECT_EQ(OnCall(daily, Utc(kSun25Oct, 8)), Strings{"bo"});
  EXPECT_EQ(ShiftEndsMs(daily, Utc(kSat24Oct, 7)) - Utc(kSat24Oct, 7), 25 * kHourMs);
}

TEST(OnCallRotationTest, SameRotationInTwoZones) {
  // Mon 12 Jan 09:00 is 01:00Z in Shanghai (+8) and 14:00Z in New York (-5). At 06:00Z
  // Shanghai has handed over and New York has not.
  const RoleSchedule shanghai =
      Rotating(Rotation::Period::kWeekly, {"ana", "bo"}, Utc(kMon5Jan, 9), Zone("Asia/Shanghai"));
  const RoleSchedule new_york = Rotating(Rotation::Period::kWeekly, {"ana", "bo"}, Utc(kMon5Jan, 9),
                                         Zone("America/New_York"));
  EXPECT_EQ(OnCall(shanghai, Utc(kMon12Jan, 6)), Strings{"bo"});
  EXPECT_EQ(OnCall(new_york, Utc(kMon12Jan, 6)), Strings{"ana"});
  EXPECT_EQ(OnCall(shanghai, Utc(kMon12Jan, 1) - 1), Strings{"ana"});
  EXPECT_EQ(OnCall(new_york, Utc(kMon12Jan, 14)), Strings{"bo"});
  EXPECT_EQ(ShiftEndsMs(shanghai, Utc(kMon12Jan, 6)), Utc(kMon19Jan, 1));
  EXPECT_EQ(ShiftEndsMs(new_york, Utc(kMon12Jan, 6)), Utc(kMon12Jan, 14));
}

TEST(OnCallRotationTest, NoRotationPagesEveryMember) {
  RoleSchedule role;
  role.members = {"ana", "bo"};
  EXPECT_EQ(OnCall(role, Utc(kMon5Jan, 9)), (Strings{"ana", "bo"}));
  EXPECT_EQ(ShiftEndsMs(role, Utc(kMon5Jan, 9)), 0);
  role.overrides.push_back({"cy", Utc(kMon5Jan, 10), Utc(kMon5Jan, 11)});
  EXPECT_EQ(OnCall(role, Utc(kMon5Jan, 10)), Strings{"cy"});
  EXPECT_EQ(ShiftEndsMs(role, Utc(kMon5Jan, 9)), Utc(kMon5Jan, 10));
  EXPECT_EQ(ShiftEndsMs(role, Utc(kMon5Jan, 11)), 0);
}

TEST(OnCallOverrideTest, OverridesWinAndEnd) {
  RoleSchedule role =
      Rotating(Rotation::Period::kWeekly, {"ana", "bo"}, Utc(kMon5Jan, 9), TimeZone::Utc());
  // cy covers Wed 7 Jan 00:00Z to Sat 10 Jan 00:00Z; dee swaps in for a day inside it.
  role.overrides.push_back({"cy", Utc(kThu8Jan - 1, 0), Utc(kSat10Jan, 0)});
  role.overrides.push_back({"dee", Utc(kThu8Jan, 12), Utc(kFri9Jan, 12)});
  EXPECT_EQ(OnCall(role, Utc(kThu8Jan - 1, 0) - 1), Strings{"ana"});
  EXPECT_EQ(ShiftEndsMs(role, Utc(kThu8Jan - 1, 0) - 1), Utc(kThu8Jan - 1, 0));
  EXPECT_EQ(OnCall(role, Utc(kThu8Jan - 1, 0)), Strings{"cy"});
  EXPECT_EQ(ShiftEndsMs(role, Utc(kThu8Jan - 1, 0)), Utc(kThu8Jan, 12));
  EXPECT_EQ(OnCall(role, Utc(kThu8Jan, 12)), Strings{"dee"});  // the latest-starting wins
  EXPECT_EQ(ShiftEndsMs(role, Utc(kThu8Jan, 12)), Utc(kFri9Jan, 12));
  EXPECT_EQ(OnCall(role, Utc(kFri9Jan, 12)), Strings{"cy"});  // back to the outer one
  EXPECT_EQ(ShiftEndsMs(role, Utc(kFri9Jan, 12)), Utc(kSat10Jan, 0));
  EXPECT_EQ(OnCall(role, Utc(kSat10Jan, 0) - 1), Strings{"cy"});
  EXPECT_EQ(OnCall(role, Utc(kSat10Jan, 0)), Strings{"ana"});  // until is exclusive
  EXPECT_EQ(ShiftEndsMs(role, Utc(kSat10Jan, 0)), Utc(kMon12Jan, 9));

  // ana keeps Mon 12 Jan until midnight; the 09:00Z hand-over to bo changes nobody, so her
  // shift ends when the override does.
  role.overrides.push_back({"ana", Utc(kMon12Jan, 0), Utc(kMon12Jan + 1, 0)});
  EXPECT_EQ(OnCall(role, Utc(kMon12Jan, 9)), Strings{"ana"});
  EXPECT_EQ(ShiftEndsMs(role, Utc(kMon12Jan, 8)), Utc(kMon12Jan + 1, 0));
  EXPECT_EQ(OnCall(role, Utc(kMon12Jan + 1, 0)), Strings{"bo"});
}

QuietHours Nights(TimeZone zone, std::vector<int> weekdays = {}) {
  QuietHours quiet;  // 22:00 to 08:00
  quiet.zone = std::move(zone);
  quiet.weekdays = std::move(weekdays);
  return quiet;
}

TEST(QuietHoursTest, WrapsMidnightInLocalTime) {
  // Shanghai is UTC+8 all year: local = Z + 8h.
  const QuietHours quiet = Nights(Zone("Asia/Shanghai"));
  EXPECT_FALSE(InQuietHours(quiet, Utc(kMon5Jan, 14) - 1));    // 21:59:59.999 local
  EXPECT_TRUE(InQuietHours(quiet, Utc(kMon5Jan, 14)));         // 22:00 local
  EXPECT_TRUE(InQuietHours(quiet, Utc(kMon5Jan, 19)));         // 03:00 local, Tue
  EXPECT_TRUE(InQuietHours(quiet, Utc(kMon5Jan + 1, 0) - 1));  // 07:59:59.999 local
  EXPECT_FALSE(InQuietHours(quiet, Utc(kMon5Jan + 1, 0)));     // 08:00 local
  EXPECT_FALSE(InQuietHours(quiet, Utc(kMon5Jan + 1, 4)));     // noon local

  QuietHours lunch;  // 12:00 to 13:30 UTC, no wrap
  lunch.from_minute = 12 * 60;
  lunch.to_minute = 13 * 60 + 30;
  EXPECT_FALSE(InQuietHours(lunch, Utc(kMon5Jan, 12) - 1));
  EXPECT_TRUE(InQuietHours(lunch, Utc(kMon5Jan, 12)));
  EXPECT_TRUE(InQuietHours(lunch, Utc(kMon5Jan, 13, 30) - 1));
  EXPECT_FALSE(InQuietHours(lunch, Utc(kMon5Jan, 13, 30)));
  lunch.to_minute = lunch.from_minute;  // an empty window
  EXPECT_FALSE(InQuietHours(lunch, Utc(kMon5Jan, 12)));
}

TEST(QuietHoursTest, FollowsTheWallClockAcrossDst) {
  // 22:00 in Berlin is 21:00Z on Sat 28 Mar (CET) and 20:00Z on Sun 29 Mar (CEST).
  const QuietHours quiet = Nights(Zone("Europe/Berlin"));
  EXPECT_FALSE(InQuietHours(quiet, Utc(kSat28Mar, 21) - 1));
  EXPECT_TRUE(InQuietHours(quiet, Utc(kSat28Mar, 21)));
  EXPECT_FALSE(InQuietHours(quiet, Utc(kSun29Mar, 20) - 1));
  EXPECT_TRUE(InQuietHours(quiet, Utc(kSun29Mar, 20)));
}

TEST(QuietHoursTest, WeekdaysSayWhenTheNightStarts) {
  // Friday and Saturday nights only (4 = Fri, 5 = Sat), in Shanghai: local = Z + 8h.
  const QuietHours quiet = Nights(Zone("Asia/Shanghai"), {4, 5});
  EXPECT_FALSE(InQuietHours(quiet, Utc(kThu8Jan, 15)));   // Thu 23:00 local
  EXPECT_FALSE(InQuietHours(quiet, Utc(kThu8Jan, 23)));   // Fri 07:00, night began Thu
  EXPECT_TRUE(InQuietHours(quiet, Utc(kFri9Jan, 15)));    // Fri 23:00
  EXPECT_TRUE(InQuietHours(quiet, Utc(kFri9Jan, 23)));    // Sat 07:00 (still Fri in UTC)
  EXPECT_TRUE(InQuietHours(quiet, Utc(kSat10Jan, 15)));   // Sat 23:00
  EXPECT_TRUE(InQuietHours(quiet, Utc(kSat10Jan, 23)));   // Sun 07:00, night began Sat
  EXPECT_FALSE(InQuietHours(quiet, Utc(kSun11Jan, 15)));  // Sun 23:00
  EXPECT_FALSE(InQuietHours(quiet, Utc(kSun11Jan, 23)));  // Mon 07:00
}

TEST(QuietHoursTest, SeverityFloor) {
  RoleSchedule role;
  role.members = {"ana"};
  EXPECT_FALSE(QuietFor(role, Severity::kInfo, Utc(kMon5Jan, 14)));  // no quiet hours
  role.quiet_hours = Nights(Zone("Asia/Shanghai"));
  const int64_t night = Utc(kMon5Jan, 14);  // 22:00 local
  const int64_t noon = Utc(kMon5Jan + 1, 4);
  EXPECT_FALSE(QuietFor(role, Severity::kCritical, night));  // critical pages anyway
  EXPECT_TRUE(QuietFor(role, Severity::kHigh, night));
  EXPECT_TRUE(QuietFor(role, Severity::kMedium, night));
  EXPECT_FALSE(QuietFor(role, Severity::kMedium, noon));
  role.quiet_hours->min_severity = Severity::kHigh;
  EXPECT_FALSE(QuietFor(role, Severity::kHigh, night));
  EXPECT_TRUE(QuietFor(role, Severity::kMedium, night));
}

}  // namespace
}  // namespace vigil::alerts
