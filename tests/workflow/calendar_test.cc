// Tests of the legal-deadline calendar (workflow/calendar.h) against
// shared/domain/procedure.md §1 (day counting) and §5 (the 2025 and 2026
// arrangements shipped in deploy/calendar). Every expectation is an exact date.
#include "workflow/calendar.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "google/protobuf/text_format.h"
#include "tests/testing/status_matchers.h"
#include "xinfang/v1/calendar.pb.h"
#include "xinfang/v1/workflow.pb.h"

namespace xinfang::workflow {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::xinfang::testing::IsOk;
using ::xinfang::testing::StatusIs;
using ::xinfang::v1::CalendarYear;
using ::xinfang::v1::DAY_KIND_CALENDAR;
using ::xinfang::v1::DAY_KIND_UNSPECIFIED;
using ::xinfang::v1::DAY_KIND_WORKING;
using ::xinfang::v1::DAY_OVERRIDE_KIND_OFF;
using ::xinfang::v1::DAY_OVERRIDE_KIND_UNSPECIFIED;
using ::xinfang::v1::DAY_OVERRIDE_KIND_WORKING;

constexpr char kCalendarDir[] = XINFANG_SOURCE_DIR "/deploy/calendar";

absl::CivilDay Day(int y, int m, int d) { return absl::CivilDay(y, m, d); }

// An instant given as Asia/Shanghai wall-clock time.
absl::Time Local(absl::CivilDay day, int hour = 10, int minute = 0) {
  return absl::FromCivil(absl::CivilSecond(day.year(), day.month(), day.day(), hour, minute, 0),
                         ShanghaiTimeZone());
}

// An instant given in UTC.
absl::Time Utc(int y, int mo, int d, int h, int mi) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0), absl::UTCTimeZone());
}

bool IsWeekend(absl::CivilDay day) {
  const absl::Weekday w = absl::GetWeekday(day);
  return w == absl::Weekday::saturday || w == absl::Weekday::sunday;
}

// The shipped 2025 + 2026 arrangement; fails the test if it does not load.
Calendar Shipped() {
  absl::StatusOr<Calendar> cal = Calendar::LoadDirectory(kCalendarDir);
  EXPECT_THAT(cal, IsOk());
  return cal.ok() ? *std::move(cal) : Calendar();
}

// ---------------------------------------------------------------------------
// procedure.md §5 worked examples.

TEST(CalendarTest, WorkedExampleFifteenCalendarDaysRollsOutOfNationalDay) {
  const Calendar cal = Shipped();
  const Deadline d = cal.Compute(Local(Day(2025, 9, 20)), 15, DAY_KIND_CALENDAR, true);
  EXPECT_EQ(d.due_day, Day(2025, 10, 9));
  EXPECT_EQ(d.due_at, Utc(2025, 10, 9, 16, 0));
  EXPECT_FALSE(d.provisional);

  const Deadline unrolled = cal.Compute(Local(Day(2025, 9, 20)), 15, DAY_KIND_CALENDAR, false);
  EXPECT_EQ(unrolled.due_day, Day(2025, 10, 5));
  EXPECT_EQ(unrolled.due_at, Utc(2025, 10, 5, 16, 0));
  EXPECT_FALSE(unrolled.provisional);
}

TEST(CalendarTest, WorkedExampleFiveWorkingDaysThroughMakeUpSunday) {
  const Calendar cal = Shipped();
  const absl::Time received = Local(Day(2025, 9, 26), 15, 30);  // Friday
  ASSERT_EQ(absl::GetWeekday(cal.LocalDay(received)), absl::Weekday::friday);
  // 9/28 (Sunday, make-up), 9/29, 9/30, 10/9, 10/10.
  const absl::CivilDay expected[] = {Day(2025, 9, 28), Day(2025, 9, 29), Day(2025, 9, 30),
                                     Day(2025, 10, 9), Day(2025, 10, 10)};
  for (int n = 1; n <= 5; ++n) {
    SCOPED_TRACE(absl::StrCat("n = ", n));
    const Deadline d = cal.Compute(received, n, DAY_KIND_WORKING, true);
    EXPECT_EQ(d.due_day, expected[n - 1]);
    EXPECT_FALSE(d.provisional);
  }
  EXPECT_EQ(cal.Compute(received, 5, DAY_KIND_WORKING, true).due_at, Utc(2025, 10, 10, 16, 0));
}

// ---------------------------------------------------------------------------
// Every 2025 and 2026 holiday block.

struct Block {
  absl::CivilDay first;         // first off day
  absl::CivilDay last;          // last off day
  absl::CivilDay next_working;  // first working day after the block
  std::string name;             // DayName of the first day
};

class CalendarHolidayBlockTest : public ::testing::TestWithParam<Block> {
 protected:
  Calendar cal_ = Shipped();
};

TEST_P(CalendarHolidayBlockTest, EveryDayIsANamedRestDay) {
  const Block& b = GetParam();
  EXPECT_EQ(cal_.DayName(b.first), b.name);
  for (absl::CivilDay d = b.first; d <= b.last; ++d) {
    SCOPED_TRACE(absl::FormatCivilTime(d));
    EXPECT_FALSE(cal_.IsWorkingDay(d));
    EXPECT_NE(cal_.DayName(d), "");
  }
  EXPECT_TRUE(cal_.IsWorkingDay(b.first - 1) || cal_.DayName(b.first - 1).empty());
  EXPECT_TRUE(cal_.IsWorkingDay(b.next_working));
  for (absl::CivilDay d = b.last + 1; d < b.next_working; ++d) {
    EXPECT_FALSE(cal_.IsWorkingDay(d)) << d;  // a plain weekend after the block
  }
}

TEST_P(CalendarHolidayBlockTest, CalendarDeadlineInsideRollsToFirstWorkingDayAfter) {
  const Block& b = GetParam();
  for (absl::CivilDay d = b.first; d <= b.last; ++d) {
    for (int n : {1, 15, 60}) {
      const absl::CivilDay start = d - n;
      SCOPED_TRACE(absl::StrCat(absl::FormatCivilTime(start), " + ", n));
      const Deadline dl = cal_.Compute(Local(start), n, DAY_KIND_CALENDAR, true);
      EXPECT_EQ(dl.due_day, b.next_working);
      EXPECT_EQ(dl.due_at, cal_.StartOfDay(b.next_working + 1));
      // Counting 2024 days (no arrangement loaded) makes it provisional.
      EXPECT_EQ(dl.provisional, start + 1 < Day(2025, 1, 1));
    }
  }
}

TEST_P(CalendarHolidayBlockTest, WithoutRollForwardTheDeadlineStaysOnTheRestDay) {
  const Block& b = GetParam();
  for (absl::CivilDay d = b.first; d <= b.last; ++d) {
    SCOPED_TRACE(absl::FormatCivilTime(d));
    const Deadline dl = cal_.Compute(Local(d - 1), 1, DAY_KIND_CALENDAR, false);
    EXPECT_EQ(dl.due_day, d);
    EXPECT_EQ(dl.due_at, cal_.StartOfDay(d + 1));
  }
}

TEST_P(CalendarHolidayBlockTest, OneWorkingDayFromTheDayBeforeSkipsTheBlock) {
  const Block& b = GetParam();
  const Deadline dl = cal_.Compute(Local(b.first - 1), 1, DAY_KIND_WORKING, true);
  EXPECT_EQ(dl.due_day, b.next_working);
}

INSTANTIATE_TEST_SUITE_P(
    Calendar2025And2026, CalendarHolidayBlockTest,
    ::testing::Values(
        // 2025 (国办发明电〔2024〕12号)
        Block{Day(2025, 1, 1), Day(2025, 1, 1), Day(2025, 1, 2), "元旦"},
        Block{Day(2025, 1, 28), Day(2025, 2, 4), Day(2025, 2, 5), "春节"},
        Block{Day(2025, 4, 4), Day(2025, 4, 6), Day(2025, 4, 7), "清明节"},
        Block{Day(2025, 5, 1), Day(2025, 5, 5), Day(2025, 5, 6), "劳动节"},
        Block{Day(2025, 5, 31), Day(2025, 6, 2), Day(2025, 6, 3), "端午节"},
        Block{Day(2025, 10, 1), Day(2025, 10, 8), Day(2025, 10, 9), "国庆节"},
        // 2026 (国办发明电〔2025〕7号)
        Block{Day(2026, 1, 1), Day(2026, 1, 3), Day(2026, 1, 4), "元旦"},  // 1/4: make-up Sunday
        Block{Day(2026, 2, 15), Day(2026, 2, 23), Day(2026, 2, 24), "春节"},
        Block{Day(2026, 4, 4), Day(2026, 4, 6), Day(2026, 4, 7), "清明节"},
        Block{Day(2026, 5, 1), Day(2026, 5, 5), Day(2026, 5, 6), "劳动节"},
        Block{Day(2026, 6, 19), Day(2026, 6, 21), Day(2026, 6, 22), "端午节"},
        Block{Day(2026, 9, 25), Day(2026, 9, 27), Day(2026, 9, 28), "中秋节"},
        Block{Day(2026, 10, 1), Day(2026, 10, 7), Day(2026, 10, 8), "国庆节"}),
    [](const ::testing::TestParamInfo<Block>& info) {
      return absl::StrFormat("%04d_%02d_%02d", info.param.first.year(), info.param.first.month(),
                             info.param.first.day());
    });

// ---------------------------------------------------------------------------
// Every 2025 and 2026 make-up working day (调休上班日).

struct MakeUpDay {
  absl::CivilDay day;
  std::string name;
};

class CalendarMakeUpDayTest : public ::testing::TestWithParam<MakeUpDay> {
 protected:
  Calendar cal_ = Shipped();
};

TEST_P(CalendarMakeUpDayTest, IsAWeekendWorkingDay) {
  const MakeUpDay& m = GetParam();
  EXPECT_TRUE(IsWeekend(m.day));
  EXPECT_TRUE(cal_.IsWorkingDay(m.day));
  EXPECT_EQ(cal_.DayName(m.day), m.name);
}

TEST_P(CalendarMakeUpDayTest, CalendarDeadlineLandingOnItDoesNotRoll) {
  const MakeUpDay& m = GetParam();
  for (int n : {1, 7, 15, 30}) {
    for (bool roll : {true, false}) {
      SCOPED_TRACE(absl::StrCat("n = ", n, " roll = ", roll));
      const Deadline dl = cal_.Compute(Local(m.day - n), n, DAY_KIND_CALENDAR, roll);
      EXPECT_EQ(dl.due_day, m.day);
      EXPECT_EQ(dl.due_at, cal_.StartOfDay(m.day + 1));
      EXPECT_EQ(dl.provisional, m.day - n + 1 < Day(2025, 1, 1));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Calendar2025And2026, CalendarMakeUpDayTest,
    ::testing::Values(MakeUpDay{Day(2025, 1, 26), "春节调休上班"},
                      MakeUpDay{Day(2025, 2, 8), "春节调休上班"},
                      MakeUpDay{Day(2025, 4, 27), "劳动节调休上班"},
                      MakeUpDay{Day(2025, 9, 28), "国庆节、中秋节调休上班"},
                      MakeUpDay{Day(2025, 10, 11), "国庆节、中秋节调休上班"},
                      MakeUpDay{Day(2026, 1, 4), "元旦调休上班"},
                      MakeUpDay{Day(2026, 2, 14), "春节调休上班"},
                      MakeUpDay{Day(2026, 2, 28), "春节调休上班"},
                      MakeUpDay{Day(2026, 5, 9), "劳动节调休上班"},
                      MakeUpDay{Day(2026, 9, 20), "国庆节调休上班"},
                      MakeUpDay{Day(2026, 10, 10), "国庆节调休上班"}),
    [](const ::testing::TestParamInfo<MakeUpDay>& info) {
      return absl::StrFormat("%04d_%02d_%02d", info.param.day.year(), info.param.day.month(),
                             info.param.day.day());
    });

// ---------------------------------------------------------------------------
// Working-day counts across every block: the block is skipped, make-up days
// count.

struct WorkingCount {
  absl::CivilDay start;
  int n;
  absl::CivilDay due;
};

class CalendarWorkingDayCountTest : public ::testing::TestWithParam<WorkingCount> {
 protected:
  Calendar cal_ = Shipped();
};

TEST_P(CalendarWorkingDayCountTest, CountsWorkingDaysAfterTheStart) {
  const WorkingCount& w = GetParam();
  for (bool roll : {true, false}) {  // the switch changes nothing here
    SCOPED_TRACE(absl::StrCat("roll = ", roll));
    const Deadline dl = cal_.Compute(Local(w.start, 9), w.n, DAY_KIND_WORKING, roll);
    EXPECT_EQ(dl.due_day, w.due);
    EXPECT_TRUE(cal_.IsWorkingDay(dl.due_day));
    EXPECT_EQ(dl.due_at, cal_.StartOfDay(w.due + 1));
    EXPECT_FALSE(dl.provisional);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Calendar2025And2026, CalendarWorkingDayCountTest,
    ::testing::Values(
        // 元旦 2025 (1/1). Counting starts 2025-01-01: not provisional.
        WorkingCount{Day(2024, 12, 31), 1, Day(2025, 1, 2)},
        WorkingCount{Day(2024, 12, 31), 3, Day(2025, 1, 6)},
        // 春节 2025 (1/28–2/4; 1/26 Sun and 2/8 Sat work).
        WorkingCount{Day(2025, 1, 24), 1, Day(2025, 1, 26)},
        WorkingCount{Day(2025, 1, 24), 2, Day(2025, 1, 27)},
        WorkingCount{Day(2025, 1, 24), 3, Day(2025, 2, 5)},
        WorkingCount{Day(2025, 1, 24), 6, Day(2025, 2, 8)},
        WorkingCount{Day(2025, 1, 24), 7, Day(2025, 2, 10)},
        // 清明节 2025 (4/4–4/6).
        WorkingCount{Day(2025, 4, 3), 1, Day(2025, 4, 7)},
        // 劳动节 2025 (5/1–5/5; 4/27 Sun works).
        WorkingCount{Day(2025, 4, 25), 1, Day(2025, 4, 27)},
        WorkingCount{Day(2025, 4, 25), 2, Day(2025, 4, 28)},
        WorkingCount{Day(2025, 4, 25), 4, Day(2025, 4, 30)},
        WorkingCount{Day(2025, 4, 25), 5, Day(2025, 5, 6)},
        // 端午节 2025 (5/31–6/2).
        WorkingCount{Day(2025, 5, 30), 1, Day(2025, 6, 3)},
        // 国庆节、中秋节 2025 (10/1–10/8; 9/28 Sun and 10/11 Sat work).
        WorkingCount{Day(2025, 9, 26), 5, Day(2025, 10, 10)},
        WorkingCount{Day(2025, 9, 26), 6, Day(2025, 10, 11)},
        WorkingCount{Day(2025, 9, 26), 7, Day(2025, 10, 13)},
        // 元旦 2026 (1/1–1/3; 1/4 Sun works).
        WorkingCount{Day(2025, 12, 31), 1, Day(2026, 1, 4)},
        WorkingCount{Day(2025, 12, 31), 2, Day(2026, 1, 5)},
        // 春节 2026 (2/15–2/23; 2/14 Sat and 2/28 Sat work).
        WorkingCount{Day(2026, 2, 12), 1, Day(2026, 2, 13)},
        WorkingCount{Day(2026, 2, 12), 2, Day(2026, 2, 14)},
        WorkingCount{Day(2026, 2, 12), 3, Day(2026, 2, 24)},
        WorkingCount{Day(2026, 2, 12), 7, Day(2026, 2, 28)},
        WorkingCount{Day(2026, 2, 12), 8, Day(2026, 3, 2)},
        // 清明节 2026 (4/4–4/6).
        WorkingCount{Day(2026, 4, 3), 1, Day(2026, 4, 7)},
        // 劳动节 2026 (5/1–5/5; 5/9 Sat works).
        WorkingCount{Day(2026, 4, 30), 1, Day(2026, 5, 6)},
        WorkingCount{Day(2026, 4, 30), 4, Day(2026, 5, 9)},
        WorkingCount{Day(2026, 4, 30), 5, Day(2026, 5, 11)},
        // 端午节 2026 (6/19–6/21).
        WorkingCount{Day(2026, 6, 18), 1, Day(2026, 6, 22)},
        // 中秋节 2026 (9/25–9/27), after the 9/20 Sun make-up day.
        WorkingCount{Day(2026, 9, 18), 1, Day(2026, 9, 20)},
        WorkingCount{Day(2026, 9, 18), 2, Day(2026, 9, 21)},
        WorkingCount{Day(2026, 9, 18), 6, Day(2026, 9, 28)},
        // 国庆节 2026 (10/1–10/7; 10/10 Sat works).
        WorkingCount{Day(2026, 9, 30), 1, Day(2026, 10, 8)},
        WorkingCount{Day(2026, 9, 30), 3, Day(2026, 10, 10)},
        WorkingCount{Day(2026, 9, 30), 4, Day(2026, 10, 12)}),
    [](const ::testing::TestParamInfo<WorkingCount>& info) {
      return absl::StrFormat("%04d_%02d_%02d_plus_%d", info.param.start.year(),
                             info.param.start.month(), info.param.start.day(), info.param.n);
    });

// ---------------------------------------------------------------------------
// Day counting rules (procedure.md §1).

TEST(CalendarTest, StartDayIsNotCounted) {
  const Calendar cal = Shipped();
  const absl::Time start = Local(Day(2025, 3, 4), 0, 0);  // Tuesday, first instant
  EXPECT_EQ(cal.Compute(start, 1, DAY_KIND_CALENDAR, true).due_day, Day(2025, 3, 5));
  EXPECT_EQ(cal.Compute(start, 1, DAY_KIND_WORKING, true).due_day, Day(2025, 3, 5));
  EXPECT_EQ(cal.Compute(start, 7, DAY_KIND_CALENDAR, true).due_day, Day(2025, 3, 11));
  EXPECT_EQ(cal.Compute(start, 5, DAY_KIND_WORKING, true).due_day, Day(2025, 3, 11));
  EXPECT_EQ(cal.Compute(Local(Day(2025, 3, 4), 23, 59), 1, DAY_KIND_CALENDAR, true).due_day,
            Day(2025, 3, 5));
}

TEST(CalendarTest, ZeroDaysIsDueOnTheStartDay) {
  const Calendar cal = Shipped();
  // A Tuesday.
  EXPECT_EQ(cal.Compute(Local(Day(2025, 3, 4)), 0, DAY_KIND_CALENDAR, true).due_day,
            Day(2025, 3, 4));
  EXPECT_EQ(cal.Compute(Local(Day(2025, 3, 4)), 0, DAY_KIND_WORKING, true).due_day,
            Day(2025, 3, 4));
  // A Sunday: 0 calendar days rolls like any other; 0 working days is "at once".
  EXPECT_EQ(cal.Compute(Local(Day(2025, 3, 2)), 0, DAY_KIND_CALENDAR, true).due_day,
            Day(2025, 3, 3));
  EXPECT_EQ(cal.Compute(Local(Day(2025, 3, 2)), 0, DAY_KIND_CALENDAR, false).due_day,
            Day(2025, 3, 2));
  EXPECT_EQ(cal.Compute(Local(Day(2025, 3, 2)), 0, DAY_KIND_WORKING, true).due_day,
            Day(2025, 3, 2));
  EXPECT_FALSE(cal.Compute(Local(Day(2025, 3, 2)), 0, DAY_KIND_WORKING, true).provisional);
}

TEST(CalendarTest, UnspecifiedKindCountsCalendarDays) {
  const Calendar cal = Shipped();
  EXPECT_EQ(cal.Compute(Local(Day(2025, 9, 20)), 15, DAY_KIND_UNSPECIFIED, true).due_day,
            Day(2025, 10, 9));
  EXPECT_EQ(cal.Compute(Local(Day(2025, 9, 20)), 15, DAY_KIND_UNSPECIFIED, false).due_day,
            Day(2025, 10, 5));
}

TEST(CalendarTest, PlainWeekendRollsToMonday) {
  const Calendar cal = Shipped();
  // 2025-03-01 + 14 = Saturday 3/15 -> Monday 3/17; +15 = Sunday 3/16 -> 3/17.
  EXPECT_EQ(cal.Compute(Local(Day(2025, 3, 1)), 14, DAY_KIND_CALENDAR, true).due_day,
            Day(2025, 3, 17));
  EXPECT_EQ(cal.Compute(Local(Day(2025, 3, 1)), 15, DAY_KIND_CALENDAR, true).due_day,
            Day(2025, 3, 17));
  EXPECT_EQ(cal.Compute(Local(Day(2025, 3, 1)), 14, DAY_KIND_CALENDAR, false).due_day,
            Day(2025, 3, 15));
  // Sixty days from acceptance (办理).
  EXPECT_EQ(cal.Compute(Local(Day(2025, 8, 1)), 60, DAY_KIND_CALENDAR, true).due_day,
            Day(2025, 9, 30));
}

TEST(CalendarTest, LocalMidnightDecidesTheStartDay) {
  const Calendar cal = Shipped();
  // Both instants fall on 2025-03-02 in UTC; locally one is Sunday 23:59 and
  // the other Monday 00:00.
  const absl::Time sunday_2359 = Utc(2025, 3, 2, 15, 59);
  const absl::Time monday_0000 = Utc(2025, 3, 2, 16, 0);
  EXPECT_EQ(cal.LocalDay(sunday_2359), Day(2025, 3, 2));
  EXPECT_EQ(cal.LocalDay(monday_0000), Day(2025, 3, 3));

  EXPECT_EQ(cal.Compute(sunday_2359, 15, DAY_KIND_CALENDAR, true).due_day, Day(2025, 3, 17));
  EXPECT_EQ(cal.Compute(monday_0000, 15, DAY_KIND_CALENDAR, true).due_day, Day(2025, 3, 18));
  EXPECT_EQ(cal.Compute(sunday_2359, 1, DAY_KIND_WORKING, true).due_day, Day(2025, 3, 3));
  EXPECT_EQ(cal.Compute(monday_0000, 1, DAY_KIND_WORKING, true).due_day, Day(2025, 3, 4));
}

TEST(CalendarTest, DueAtIsTheNextLocalMidnightInUtc) {
  const Calendar cal = Shipped();
  const Deadline d = cal.Compute(Local(Day(2025, 9, 20)), 15, DAY_KIND_CALENDAR, true);
  ASSERT_EQ(d.due_day, Day(2025, 10, 9));
  EXPECT_EQ(d.due_at, Utc(2025, 10, 9, 16, 0));
  EXPECT_EQ(absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", d.due_at, absl::UTCTimeZone()),
            "2025-10-09T16:00:00Z");
  // The last in-time instant is still on the due day; due_at is the next day.
  EXPECT_EQ(cal.LocalDay(d.due_at - absl::Nanoseconds(1)), Day(2025, 10, 9));
  EXPECT_EQ(cal.LocalDay(d.due_at), Day(2025, 10, 10));

  EXPECT_EQ(cal.StartOfDay(Day(2026, 1, 1)), Utc(2025, 12, 31, 16, 0));
}

TEST(CalendarTest, ShanghaiIsUtcPlusEight) {
  const absl::TimeZone tz = ShanghaiTimeZone();
  EXPECT_EQ(tz.At(Utc(2025, 7, 1, 0, 0)).offset, 8 * 3600);
  EXPECT_EQ(tz.At(Utc(2026, 1, 1, 0, 0)).offset, 8 * 3600);
  // A calendar on the fixed fallback zone computes the same deadlines.
  absl::StatusOr<Calendar> fixed =
      Calendar::LoadDirectory(kCalendarDir, absl::FixedTimeZone(8 * 3600));
  ASSERT_THAT(fixed, IsOk());
  EXPECT_EQ(fixed->Compute(Utc(2025, 9, 20, 2, 0), 15, DAY_KIND_CALENDAR, true),
            Shipped().Compute(Utc(2025, 9, 20, 2, 0), 15, DAY_KIND_CALENDAR, true));
}

// ---------------------------------------------------------------------------
// Provisional deadlines.

TEST(CalendarTest, DeadlineReachingIntoAnUnloadedYearIsProvisionalWeekendsOnly) {
  const Calendar cal = Shipped();
  ASSERT_FALSE(cal.HasYear(2027));
  // 2027-01-01 is a Friday: with no arrangement it is an ordinary working day.
  const Deadline fri = cal.Compute(Local(Day(2026, 12, 17)), 15, DAY_KIND_CALENDAR, true);
  EXPECT_EQ(fri.due_day, Day(2027, 1, 1));
  EXPECT_TRUE(fri.provisional);
  // Saturday 2027-01-02 rolls to Monday 01-04.
  const Deadline sat = cal.Compute(Local(Day(2026, 12, 18)), 15, DAY_KIND_CALENDAR, true);
  EXPECT_EQ(sat.due_day, Day(2027, 1, 4));
  EXPECT_TRUE(sat.provisional);
  const Deadline sat_unrolled =
      cal.Compute(Local(Day(2026, 12, 18)), 15, DAY_KIND_CALENDAR, false);
  EXPECT_EQ(sat_unrolled.due_day, Day(2027, 1, 2));
  EXPECT_TRUE(sat_unrolled.provisional);
  // Working days: 12/29, 12/30, 12/31, 2027-01-01 (Friday), 01-04.
  const Deadline work = cal.Compute(Local(Day(2026, 12, 28)), 5, DAY_KIND_WORKING, true);
  EXPECT_EQ(work.due_day, Day(2027, 1, 4));
  EXPECT_TRUE(work.provisional);
}

TEST(CalendarTest, DeadlineInsideLoadedYearsIsNotProvisional) {
  const Calendar cal = Shipped();
  const Deadline work = cal.Compute(Local(Day(2026, 12, 28)), 3, DAY_KIND_WORKING, true);
  EXPECT_EQ(work.due_day, Day(2026, 12, 31));
  EXPECT_FALSE(work.provisional);
  const Deadline days = cal.Compute(Local(Day(2026, 12, 1)), 30, DAY_KIND_CALENDAR, true);
  EXPECT_EQ(days.due_day, Day(2026, 12, 31));
  EXPECT_FALSE(days.provisional);
  // Across the 2025/2026 boundary, landing on the 2026-01-04 make-up Sunday.
  const Deadline cross = cal.Compute(Local(Day(2025, 12, 20)), 15, DAY_KIND_CALENDAR, true);
  EXPECT_EQ(cross.due_day, Day(2026, 1, 4));
  EXPECT_FALSE(cross.provisional);
}

TEST(CalendarTest, StartInAnUnloadedYearIsNotCountedTowardsProvisional) {
  const Calendar cal = Shipped();
  // The start day (2024-12-31) is not counted, so 2024 is never examined.
  const Deadline d = cal.Compute(Local(Day(2024, 12, 31)), 1, DAY_KIND_WORKING, true);
  EXPECT_EQ(d.due_day, Day(2025, 1, 2));
  EXPECT_FALSE(d.provisional);
  // Counting from 2024-12-30 examines 2024-12-31.
  EXPECT_TRUE(cal.Compute(Local(Day(2024, 12, 30)), 2, DAY_KIND_WORKING, true).provisional);
}

TEST(CalendarTest, EmptyCalendarMarksEverythingProvisional) {
  const Calendar cal;
  EXPECT_TRUE(cal.Years().empty());
  EXPECT_FALSE(cal.HasYear(2025));
  EXPECT_TRUE(cal.IsWorkingDay(Day(2025, 10, 1)));  // a Wednesday
  EXPECT_FALSE(cal.IsWorkingDay(Day(2025, 9, 28)));  // a Sunday
  EXPECT_EQ(cal.DayName(Day(2025, 10, 1)), "");

  // Sunday 10/5 -> Monday 10/6 on weekends only.
  const Deadline days = cal.Compute(Local(Day(2025, 9, 20)), 15, DAY_KIND_CALENDAR, true);
  EXPECT_EQ(days.due_day, Day(2025, 10, 6));
  EXPECT_TRUE(days.provisional);
  // 9/29, 9/30, 10/1, 10/2, 10/3.
  const Deadline work = cal.Compute(Local(Day(2025, 9, 26)), 5, DAY_KIND_WORKING, true);
  EXPECT_EQ(work.due_day, Day(2025, 10, 3));
  EXPECT_TRUE(work.provisional);
  EXPECT_TRUE(cal.Compute(Local(Day(2025, 9, 26)), 0, DAY_KIND_WORKING, true).provisional);
  EXPECT_TRUE(cal.Compute(Local(Day(2025, 9, 26)), 0, DAY_KIND_CALENDAR, false).provisional);
}

TEST(CalendarTest, OnlyTheLoadedYearIsFirm) {
  Calendar cal;
  ASSERT_THAT(cal.AddYearFile(absl::StrCat(kCalendarDir, "/2026.textproto")), IsOk());
  EXPECT_THAT(cal.Years(), ElementsAre(2026));
  // Counting through 2025-12-21..31 (no arrangement) lands on the make-up Sunday.
  const Deadline d = cal.Compute(Local(Day(2025, 12, 20)), 15, DAY_KIND_CALENDAR, true);
  EXPECT_EQ(d.due_day, Day(2026, 1, 4));
  EXPECT_TRUE(d.provisional);
  EXPECT_FALSE(cal.Compute(Local(Day(2025, 12, 31)), 1, DAY_KIND_WORKING, true).provisional);
}

// ---------------------------------------------------------------------------
// Extension (延期) and suspension (hearing time not counted).

TEST(CalendarTest, ExtendCountsFromTheCurrentDueDay) {
  const Calendar cal = Shipped();
  // 60 days from 2025-08-01 is Tuesday 9/30; +30 is Thursday 10/30.
  const Deadline handle = cal.Compute(Local(Day(2025, 8, 1)), 60, DAY_KIND_CALENDAR, true);
  ASSERT_EQ(handle.due_day, Day(2025, 9, 30));
  const Deadline extended = cal.Extend(handle, 30, DAY_KIND_CALENDAR, true);
  EXPECT_EQ(extended.due_day, Day(2025, 10, 30));
  EXPECT_EQ(extended.due_at, Utc(2025, 10, 30, 16, 0));
  EXPECT_FALSE(extended.provisional);
  EXPECT_EQ(extended.base_days, 60);
  EXPECT_EQ(extended.extension_days, 30);
}

TEST(CalendarTest, ExtendRollsForward) {
  const Calendar cal = Shipped();
  // 60 days from 2025-07-07 is Friday 9/5; +30 is 10/5, inside National Day.
  const Deadline handle = cal.Compute(Local(Day(2025, 7, 7)), 60, DAY_KIND_CALENDAR, true);
  ASSERT_EQ(handle.due_day, Day(2025, 9, 5));
  EXPECT_EQ(cal.Extend(handle, 30, DAY_KIND_CALENDAR, true).due_day, Day(2025, 10, 9));
  EXPECT_TRUE(cal.Extend(handle, 30, DAY_KIND_CALENDAR, true).rolled);
  EXPECT_EQ(cal.Extend(handle, 30, DAY_KIND_CALENDAR, false).due_day, Day(2025, 10, 5));
}

// The worked example of the procedure: accepted 2025-08-02, 60 days end on
// 10-01 (National Day) and roll to 10-09. A 30-day extension lengthens the
// period to 90 days: 10-31, a Friday — not 10-09 + 30.
TEST(CalendarTest, ExtensionLengthensThePeriodAndRollsOnceAtTheEnd) {
  const Calendar cal = Shipped();
  const Deadline handle = cal.Compute(Local(Day(2025, 8, 2), 10), 60, DAY_KIND_CALENDAR, true);
  ASSERT_EQ(handle.due_day, Day(2025, 10, 9));
  EXPECT_TRUE(handle.rolled);
  const Deadline extended = cal.Extend(handle, 30, DAY_KIND_CALENDAR, true);
  EXPECT_EQ(extended.due_day, Day(2025, 10, 31));
  EXPECT_FALSE(extended.rolled);
  EXPECT_EQ(extended.counted_from, Day(2025, 8, 2));
  EXPECT_EQ(extended.length(), 90);
  EXPECT_EQ(ExplainDeadline(extended, false), "2025-08-02 + 60 + 30 (extension) days = 2025-10-31");
  EXPECT_EQ(ExplainDeadline(handle, false),
            "2025-08-02 + 60 days = 2025-10-01, a rest day, rolled to 2025-10-09");
}

// The second worked example: a re-check request received 2025-09-05, 30
// days → 10-05, rolled to 10-09. A hearing stops the clock from 09-15 00:00
// to 09-18 00:00: the period is 33 days, ending 10-08, still in the break →
// 10-09 (adding 3 days to the rolled 10-09 would give Sunday 10-12, then 10-13).
TEST(CalendarTest, StoppedTimeLengthensThePeriodAndRollsOnceAtTheEnd) {
  const Calendar cal = Shipped();
  const Deadline answer = cal.Compute(Local(Day(2025, 9, 5), 11), 30, DAY_KIND_CALENDAR, true);
  ASSERT_EQ(answer.due_day, Day(2025, 10, 9));
  const Deadline resumed = cal.Resume(answer, Local(Day(2025, 9, 15)), Local(Day(2025, 9, 18)),
                                      DAY_KIND_CALENDAR, true);
  EXPECT_EQ(resumed.due_day, Day(2025, 10, 9));
  EXPECT_EQ(resumed.stopped_days, 3);
  EXPECT_EQ(resumed.length(), 33);
  EXPECT_TRUE(resumed.rolled);
  EXPECT_EQ(ExplainDeadline(resumed, false),
            "2025-09-05 + 30 + 3 (clock stopped) days = 2025-10-08, a rest day, rolled to "
            "2025-10-09");
  // Without roll-forward the last day is the unrolled one.
  EXPECT_EQ(cal.Resume(cal.Compute(Local(Day(2025, 9, 5)), 30, DAY_KIND_CALENDAR, false),
                       Local(Day(2025, 9, 15)), Local(Day(2025, 9, 18)), DAY_KIND_CALENDAR, false)
                .due_day,
            Day(2025, 10, 8));
}

TEST(CalendarTest, ExtendLengthensThePeriodFromTheStartNotFromTheRolledDay) {
  const Calendar cal = Shipped();
  // 9/20 + 15 = 10/5, rolled to 10/9. + 5 is 9/20 + 20 = Friday 10/10 (from
  // the rolled day it would have been 10/14).
  const Deadline notice = cal.Compute(Local(Day(2025, 9, 20)), 15, DAY_KIND_CALENDAR, true);
  ASSERT_EQ(notice.due_day, Day(2025, 10, 9));
  EXPECT_EQ(cal.Extend(notice, 5, DAY_KIND_CALENDAR, true).due_day, Day(2025, 10, 10));
  // + 2: 10/7, still in the break: 10/9, the holidays are not counted as time.
  EXPECT_EQ(cal.Extend(notice, 2, DAY_KIND_CALENDAR, true).due_day, Day(2025, 10, 9));
  // + 6: Saturday 10/11 is a make-up working day: it stays.
  EXPECT_EQ(cal.Extend(notice, 6, DAY_KIND_CALENDAR, true).due_day, Day(2025, 10, 11));
  // Two extensions add up: 15 + 3 + 4 = 22 days, Sunday 10/12 → Monday 10/13.
  const Deadline twice =
      cal.Extend(cal.Extend(notice, 3, DAY_KIND_CALENDAR, true), 4, DAY_KIND_CALENDAR, true);
  EXPECT_EQ(twice.extension_days, 7);
  EXPECT_EQ(twice.due_day, Day(2025, 10, 13));
}

TEST(CalendarTest, ExtendByWorkingDays) {
  const Calendar cal = Shipped();
  // 5 working days after Friday 9/19 end on Friday 9/26.
  const Deadline d = cal.Compute(Local(Day(2025, 9, 19)), 5, DAY_KIND_WORKING, true);
  ASSERT_EQ(d.due_day, Day(2025, 9, 26));
  // 10 working days: 9/28 (make-up Sunday), 9/29, 9/30, then 10/9, 10/10.
  const Deadline extended = cal.Extend(d, 5, DAY_KIND_WORKING, true);
  EXPECT_EQ(extended.due_day, Day(2025, 10, 10));
  EXPECT_FALSE(extended.provisional);
  EXPECT_EQ(ExplainDeadline(extended, true),
            "2025-09-19 + 5 + 5 (extension) working days = 2025-10-10");
  EXPECT_EQ(cal.Extend(d, 0, DAY_KIND_WORKING, true).due_day, Day(2025, 9, 26));
}

TEST(CalendarTest, ResumeOfAWorkingDayDeadlineAddsTheStoppedWorkingDays) {
  const Calendar cal = Shipped();
  const Deadline d = cal.Compute(Local(Day(2025, 9, 19)), 5, DAY_KIND_WORKING, true);
  ASSERT_EQ(d.due_day, Day(2025, 9, 26));
  // Stopped Friday 9/19 .. Monday 9/22: Friday only is a working day lost.
  const Deadline resumed =
      cal.Resume(d, Local(Day(2025, 9, 19), 9), Local(Day(2025, 9, 22), 9), DAY_KIND_WORKING, true);
  EXPECT_EQ(resumed.stopped_days, 1);
  EXPECT_EQ(resumed.due_day, Day(2025, 9, 28));  // the make-up Sunday is the 6th working day
}

TEST(CalendarTest, ExtendKeepsOrGainsProvisional) {
  Calendar only_2026;
  ASSERT_THAT(only_2026.AddYearFile(absl::StrCat(kCalendarDir, "/2026.textproto")), IsOk());
  const Deadline provisional =
      only_2026.Compute(Local(Day(2025, 2, 1)), 30, DAY_KIND_CALENDAR, true);
  ASSERT_TRUE(provisional.provisional);
  EXPECT_TRUE(only_2026.Extend(provisional, 10, DAY_KIND_CALENDAR, true).provisional);

  const Calendar cal = Shipped();
  const Deadline firm = cal.Compute(Local(Day(2026, 11, 1)), 60, DAY_KIND_CALENDAR, true);
  ASSERT_EQ(firm.due_day, Day(2026, 12, 31));
  ASSERT_FALSE(firm.provisional);
  const Deadline into_2027 = cal.Extend(firm, 30, DAY_KIND_CALENDAR, true);
  EXPECT_EQ(into_2027.due_day, Day(2027, 2, 1));  // Saturday 1/30 -> Monday 2/1
  EXPECT_TRUE(into_2027.provisional);
  EXPECT_EQ(ExplainDeadline(into_2027, false),
            "2026-11-01 + 60 + 30 (extension) days = 2027-01-30, a rest day, rolled to 2027-02-01 "
            "(provisional)");
}

TEST(CalendarTest, RecomputeUnderALaterCalendarDropsTheProvisionalMark) {
  Calendar without_2025;
  ASSERT_THAT(without_2025.AddYearFile(absl::StrCat(kCalendarDir, "/2026.textproto")), IsOk());
  // 9/20 + 15 = Sunday 10/5 on weekends only → Monday 10/6, provisional.
  const Deadline early = without_2025.Compute(Local(Day(2025, 9, 20)), 15, DAY_KIND_CALENDAR, true);
  ASSERT_EQ(early.due_day, Day(2025, 10, 6));
  ASSERT_TRUE(early.provisional);
  // With 2025's arrangement loaded the same terms end after National Day.
  const Deadline firm = Shipped().Recompute(early, DAY_KIND_CALENDAR, true);
  EXPECT_EQ(firm.due_day, Day(2025, 10, 9));
  EXPECT_FALSE(firm.provisional);
  EXPECT_EQ(firm.base_days, 15);
  EXPECT_EQ(firm.counted_from, Day(2025, 9, 20));
}

TEST(CalendarTest, ResumeAddsTheStoppedLocalDays) {
  const Calendar cal = Shipped();
  const Deadline d = cal.Compute(Local(Day(2025, 8, 1)), 60, DAY_KIND_CALENDAR, true);
  ASSERT_EQ(d.due_day, Day(2025, 9, 30));
  // Stopped from 9/10 09:00 to 9/15 17:00: five local days; 10/5 -> 10/9.
  const absl::Time stop = Local(Day(2025, 9, 10), 9);
  const absl::Time go = Local(Day(2025, 9, 15), 17);
  const Deadline rolled = cal.Resume(d, stop, go, DAY_KIND_CALENDAR, true);
  EXPECT_EQ(rolled.due_day, Day(2025, 10, 9));
  EXPECT_EQ(rolled.due_at, Utc(2025, 10, 9, 16, 0));
  EXPECT_FALSE(rolled.provisional);
  EXPECT_EQ(cal.Resume(d, stop, go, DAY_KIND_CALENDAR, false).due_day, Day(2025, 10, 5));
}

TEST(CalendarTest, ResumeWithinOneDayMovesNothing) {
  const Calendar cal = Shipped();
  const Deadline d = cal.Compute(Local(Day(2025, 8, 1)), 60, DAY_KIND_CALENDAR, true);
  EXPECT_EQ(cal.Resume(d, Local(Day(2025, 9, 10), 9), Local(Day(2025, 9, 10), 17),
                       DAY_KIND_CALENDAR, true),
            d);
  EXPECT_EQ(cal.Resume(d, Local(Day(2025, 9, 10), 9), Local(Day(2025, 9, 10), 9),
                       DAY_KIND_CALENDAR, true),
            d);
}

TEST(CalendarTest, ResumeCountsLocalDatesNotUtcDates) {
  const Calendar cal = Shipped();
  const Deadline d = cal.Compute(Local(Day(2025, 8, 1)), 60, DAY_KIND_CALENDAR, false);
  // 23:30 -> 00:30 local: one local day, although both are 2025-09-10 in UTC.
  const Deadline moved = cal.Resume(d, Utc(2025, 9, 10, 15, 30), Utc(2025, 9, 10, 16, 30),
                                    DAY_KIND_CALENDAR, false);
  EXPECT_EQ(moved.due_day, Day(2025, 10, 1));
  // Rolled, 10/1 leaves the National Day break on 10/9.
  EXPECT_EQ(cal.Resume(d, Utc(2025, 9, 10, 15, 30), Utc(2025, 9, 10, 16, 30), DAY_KIND_CALENDAR,
                       true)
                .due_day,
            Day(2025, 10, 9));
}

TEST(CalendarTest, ResumeIntoAnUnloadedYearIsProvisional) {
  const Calendar cal = Shipped();
  const Deadline d = cal.Compute(Local(Day(2026, 10, 31)), 50, DAY_KIND_CALENDAR, false);
  ASSERT_EQ(d.due_day, Day(2026, 12, 20));
  // 20 days stopped: 2027-01-09 (Saturday) -> Monday 01-11.
  const Deadline moved = cal.Resume(d, Local(Day(2026, 11, 1)), Local(Day(2026, 11, 21)),
                                    DAY_KIND_CALENDAR, true);
  EXPECT_EQ(moved.due_day, Day(2027, 1, 11));
  EXPECT_TRUE(moved.provisional);
}

// ---------------------------------------------------------------------------
// Loading.

struct KindCounts {
  int off = 0;
  int working = 0;
};

KindCounts CountFile(const std::string& path) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CalendarYear year;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &year)) << path;
  KindCounts c;
  for (const auto& o : year.overrides()) {
    if (o.kind() == DAY_OVERRIDE_KIND_OFF) ++c.off;
    if (o.kind() == DAY_OVERRIDE_KIND_WORKING) ++c.working;
    EXPECT_NE(o.name(), "") << o.date();
  }
  return c;
}

KindCounts CountCalendar(const Calendar& cal, int year) {
  KindCounts c;
  for (absl::CivilDay d(year, 1, 1); d.year() == year; ++d) {
    if (cal.DayName(d).empty()) continue;
    if (cal.IsWorkingDay(d)) {
      EXPECT_TRUE(IsWeekend(d)) << d;
      ++c.working;
    } else {
      ++c.off;
    }
  }
  return c;
}

TEST(CalendarLoadTest, ShippedDirectoryLoads2025And2026) {
  absl::StatusOr<Calendar> cal = Calendar::LoadDirectory(kCalendarDir);
  ASSERT_THAT(cal, IsOk());
  EXPECT_THAT(cal->Years(), ElementsAre(2025, 2026));
  EXPECT_TRUE(cal->HasYear(2025));
  EXPECT_TRUE(cal->HasYear(2026));
  EXPECT_FALSE(cal->HasYear(2024));
  EXPECT_FALSE(cal->HasYear(2027));

  // procedure.md §5: 2025 off 1 + 8 + 3 + 5 + 3 + 8 = 28, make-up 5;
  // 2026 off 3 + 9 + 3 + 5 + 3 + 3 + 7 = 33, make-up 6.
  const KindCounts c2025 = CountCalendar(*cal, 2025);
  EXPECT_EQ(c2025.off, 28);
  EXPECT_EQ(c2025.working, 5);
  const KindCounts c2026 = CountCalendar(*cal, 2026);
  EXPECT_EQ(c2026.off, 33);
  EXPECT_EQ(c2026.working, 6);

  const KindCounts f2025 = CountFile(absl::StrCat(kCalendarDir, "/2025.textproto"));
  EXPECT_EQ(f2025.off, 28);
  EXPECT_EQ(f2025.working, 5);
  const KindCounts f2026 = CountFile(absl::StrCat(kCalendarDir, "/2026.textproto"));
  EXPECT_EQ(f2026.off, 33);
  EXPECT_EQ(f2026.working, 6);

  EXPECT_EQ(cal->DayName(Day(2025, 10, 6)), "中秋节");
  EXPECT_EQ(cal->DayName(Day(2026, 2, 17)), "春节");
  EXPECT_EQ(cal->DayName(Day(2026, 3, 2)), "");
}

TEST(CalendarLoadTest, ShippedFilesNameTheirNotice) {
  for (const auto& [file, source] :
       std::vector<std::pair<std::string, std::string>>{
           {"/2025.textproto", "国办发明电〔2024〕12号"},
           {"/2026.textproto", "国办发明电〔2025〕7号"}}) {
    std::ifstream in(absl::StrCat(kCalendarDir, file));
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CalendarYear year;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &year)) << file;
    EXPECT_EQ(year.source(), source) << file;
  }
}

TEST(CalendarLoadTest, MissingDirectoryOrFileIsNotFound) {
  EXPECT_THAT(Calendar::LoadDirectory(XINFANG_SOURCE_DIR "/deploy/no-such-calendar"),
              StatusIs(absl::StatusCode::kNotFound));
  Calendar cal;
  EXPECT_THAT(cal.AddYearFile(XINFANG_SOURCE_DIR "/deploy/calendar/1999.textproto"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("1999.textproto")));
}

// A CalendarYear with the given overrides: {date, kind}.
CalendarYear MakeYear(int y,
                      const std::vector<std::pair<std::string, v1::DayOverrideKind>>& overrides) {
  CalendarYear year;
  year.set_year(y);
  year.set_source("test");
  for (const auto& [date, kind] : overrides) {
    v1::DayOverride* o = year.add_overrides();
    o->set_date(date);
    o->set_kind(kind);
    o->set_name("test");
  }
  return year;
}

TEST(CalendarLoadTest, AddYearRefusesBadDates) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"2026-13-01", "overrides[1].date: 2026-13-01 is not a date"},
      {"2026-02-30", "overrides[1].date: 2026-02-30 is not a date"},
      {"2026-1-05", "overrides[1].date: 2026-1-05 is not a date"},
      {"2026/01/05", "overrides[1].date: 2026/01/05 is not a date"},
      {" 2026-01-05", "overrides[1].date:  2026-01-05 is not a date"},
      {"", "overrides[1].date: \"\" is not a date"},
      {"2025-12-31", "overrides[1].date: 2025-12-31 lies outside year 2026"},
  };
  for (const auto& [date, message] : cases) {
    SCOPED_TRACE(date);
    Calendar cal;
    EXPECT_THAT(cal.AddYear(MakeYear(2026, {{"2026-01-01", DAY_OVERRIDE_KIND_OFF},
                                            {date, DAY_OVERRIDE_KIND_OFF}})),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(message)));
    // A refused year leaves the calendar untouched.
    EXPECT_FALSE(cal.HasYear(2026));
    EXPECT_TRUE(cal.IsWorkingDay(Day(2026, 1, 1)));
  }
}

TEST(CalendarLoadTest, AddYearRefusesDuplicateDates) {
  Calendar cal;
  EXPECT_THAT(cal.AddYear(MakeYear(2026, {{"2026-01-01", DAY_OVERRIDE_KIND_OFF},
                                          {"2026-01-02", DAY_OVERRIDE_KIND_OFF},
                                          {"2026-01-01", DAY_OVERRIDE_KIND_OFF}})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("overrides[2]"), HasSubstr("2026-01-01"),
                             HasSubstr("twice"))));
  EXPECT_FALSE(cal.HasYear(2026));
  // OFF then WORKING on the same date is a duplicate too.
  EXPECT_THAT(cal.AddYear(MakeYear(2026, {{"2026-01-04", DAY_OVERRIDE_KIND_OFF},
                                          {"2026-01-04", DAY_OVERRIDE_KIND_WORKING}})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("2026-01-04")));
}

TEST(CalendarLoadTest, AddYearRefusesWorkingOnAWeekday) {
  Calendar cal;
  // 2026-01-05 is a Monday: it cannot be a make-up working day.
  EXPECT_THAT(cal.AddYear(MakeYear(2026, {{"2026-01-05", DAY_OVERRIDE_KIND_WORKING}})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("overrides[0]"), HasSubstr("2026-01-05"))));
  EXPECT_FALSE(cal.HasYear(2026));
  // Saturday and Sunday make-up days, and OFF on a weekend day, are fine.
  EXPECT_THAT(cal.AddYear(MakeYear(2026, {{"2026-01-03", DAY_OVERRIDE_KIND_OFF},
                                          {"2026-01-04", DAY_OVERRIDE_KIND_WORKING},
                                          {"2026-02-14", DAY_OVERRIDE_KIND_WORKING}})),
              IsOk());
  EXPECT_TRUE(cal.IsWorkingDay(Day(2026, 1, 4)));
  EXPECT_FALSE(cal.IsWorkingDay(Day(2026, 1, 3)));
}

TEST(CalendarLoadTest, AddYearRefusesAMissingKind) {
  Calendar cal;
  EXPECT_THAT(cal.AddYear(MakeYear(2026, {{"2026-01-01", DAY_OVERRIDE_KIND_UNSPECIFIED}})),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("overrides[0].kind"), HasSubstr("2026-01-01"))));
}

TEST(CalendarLoadTest, AddYearRefusesAYearLoadedTwice) {
  Calendar cal;
  ASSERT_THAT(cal.AddYear(MakeYear(2026, {{"2026-01-01", DAY_OVERRIDE_KIND_OFF}})), IsOk());
  EXPECT_THAT(cal.AddYear(MakeYear(2026, {})),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("2026")));
  EXPECT_FALSE(cal.IsWorkingDay(Day(2026, 1, 1)));  // the first load stands
  ASSERT_THAT(cal.AddYearFile(absl::StrCat(kCalendarDir, "/2025.textproto")), IsOk());
  EXPECT_THAT(cal.AddYearFile(absl::StrCat(kCalendarDir, "/2025.textproto")),
              StatusIs(absl::StatusCode::kAlreadyExists));
}

TEST(CalendarLoadTest, AddYearRefusesAnImpossibleYear) {
  Calendar cal;
  EXPECT_THAT(cal.AddYear(MakeYear(0, {})), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(cal.Years().empty());
}

// Files written to a fresh temporary directory.
class CalendarFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (std::filesystem::temp_directory_path() / "calendar_test.XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = (std::filesystem::path(dir_) / name).string();
    std::ofstream(path) << text;
    return path;
  }

  std::string dir_;
};

TEST_F(CalendarFileTest, MalformedFileNamesFileAndLine) {
  const std::string path = Write("2026.textproto",
                                 "# comment\n"
                                 "year: 2026\n"
                                 "overrides { date: \"2026-01-01\" kind: DAY_OVERRIDE_KIND_HOLIDAY }\n");
  Calendar cal;
  EXPECT_THAT(cal.AddYearFile(path), StatusIs(absl::StatusCode::kInvalidArgument,
                                              AllOf(HasSubstr(path), HasSubstr("line 3"))));
  EXPECT_FALSE(cal.HasYear(2026));
  EXPECT_THAT(Calendar::LoadDirectory(dir_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(path), HasSubstr("line 3"))));
}

TEST_F(CalendarFileTest, UnterminatedMessageNamesFileAndLine) {
  const std::string path = Write("broken.textproto",
                                 "year: 2026\n"
                                 "overrides {\n"
                                 "  date: \"2026-01-01\"\n");
  Calendar cal;
  EXPECT_THAT(cal.AddYearFile(path),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("broken.textproto"), HasSubstr("line "))));
}

TEST_F(CalendarFileTest, InvalidOverrideInAFileNamesFileAndDate) {
  const std::string path = Write("2026.textproto",
                                 "year: 2026\n"
                                 "overrides { date: \"2026-01-01\" kind: DAY_OVERRIDE_KIND_OFF }\n"
                                 "overrides { date: \"2026-13-01\" kind: DAY_OVERRIDE_KIND_OFF }\n");
  EXPECT_THAT(Calendar::LoadDirectory(dir_),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(path),
                             HasSubstr("overrides[1].date: 2026-13-01 is not a date"))));
}

TEST_F(CalendarFileTest, DirectoryLoadsOnlyTextprotoFilesInOrder) {
  Write("a.textproto", "year: 2031\n");
  Write("b.textproto",
        "year: 2030\noverrides { date: \"2030-01-01\" kind: DAY_OVERRIDE_KIND_OFF name: \"元旦\" }\n");
  Write("README.md", "not a calendar\n");
  Write("c.textproto.bak", "garbage {\n");
  std::filesystem::create_directory(std::filesystem::path(dir_) / "d.textproto");
  absl::StatusOr<Calendar> cal = Calendar::LoadDirectory(dir_);
  ASSERT_THAT(cal, IsOk());
  EXPECT_THAT(cal->Years(), ElementsAre(2030, 2031));
  EXPECT_EQ(cal->DayName(Day(2030, 1, 1)), "元旦");
}

TEST_F(CalendarFileTest, SameYearInTwoFilesIsAlreadyExists) {
  Write("2026.textproto", "year: 2026\n");
  Write("2026-copy.textproto", "year: 2026\n");
  EXPECT_THAT(Calendar::LoadDirectory(dir_),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("2026")));
}

TEST_F(CalendarFileTest, EmptyDirectoryGivesAnEmptyCalendar) {
  absl::StatusOr<Calendar> cal = Calendar::LoadDirectory(dir_);
  ASSERT_THAT(cal, IsOk());
  EXPECT_TRUE(cal->Years().empty());
}

}  // namespace
}  // namespace xinfang::workflow
