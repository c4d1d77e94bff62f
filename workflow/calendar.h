// The legal-deadline calendar: calendar-day and working-day arithmetic in the
// office's time zone (Asia/Shanghai), with per-date holiday overrides.
//
// Day counting follows 民法典 Arts. 201, 203, 1259 (shared/domain/procedure.md §1):
//  - the day of the start event is not counted;
//  - "within N days" ends at the end of day D+N, local time;
//  - if that last day is a rest day and the timer rolls forward, the deadline
//    moves to the first working day after it;
//  - "N working days" counts the working days after D; the N-th is the last day.
// A working day is Monday–Friday, minus holidays (DAY_OVERRIDE_KIND_OFF), plus
// make-up working days (DAY_OVERRIDE_KIND_WORKING). A year without a loaded
// arrangement is computed on weekends only, and any deadline whose counting
// touches such a year is marked provisional.
//
// Thread-safety: a Calendar is immutable after loading; const methods may be
// called from any number of threads.
#ifndef XINFANG_WORKFLOW_CALENDAR_H_
#define XINFANG_WORKFLOW_CALENDAR_H_

#include <map>
#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "xinfang/v1/calendar.pb.h"
#include "xinfang/v1/workflow.pb.h"

namespace xinfang::workflow {

// Asia/Shanghai from the system's zoneinfo; if that is missing, the fixed
// UTC+08:00 offset (identical since 1991).
absl::TimeZone ShanghaiTimeZone();

// A computed deadline.
struct Deadline {
  absl::CivilDay due_day;   // the last day on which the step is in time
  absl::Time due_at;        // start of the day after due_day: overdue at or after it
  bool provisional = false; // counting touched a year with no arrangement loaded

  friend bool operator==(const Deadline&, const Deadline&) = default;
};

class Calendar {
 public:
  explicit Calendar(absl::TimeZone zone = ShanghaiTimeZone());

  // Adds one year's arrangement. INVALID_ARGUMENT (naming the date) when a
  // date does not parse, lies outside `year.year()`, appears twice, has no
  // kind, or is a WORKING override on a Monday–Friday (OFF on a weekend day is
  // allowed: it is part of a break). ALREADY_EXISTS when the year is loaded.
  absl::Status AddYear(const xinfang::v1::CalendarYear& year);

  // Parses one text-format CalendarYear file and adds it. INVALID_ARGUMENT
  // with the file name and line on a parse error; NOT_FOUND if unreadable.
  absl::Status AddYearFile(const std::string& path);

  // Loads every `*.textproto` file of `dir` (sorted by name). NOT_FOUND when
  // the directory does not exist; the first file's error otherwise.
  static absl::StatusOr<Calendar> LoadDirectory(const std::string& dir,
                                                absl::TimeZone zone = ShanghaiTimeZone());

  bool HasYear(int year) const;
  std::set<int> Years() const;
  bool IsWorkingDay(absl::CivilDay day) const;
  // The override's name for a date ("国庆节"), empty if none.
  std::string DayName(absl::CivilDay day) const;

  absl::TimeZone zone() const { return zone_; }
  absl::CivilDay LocalDay(absl::Time t) const;
  // The first instant of `day`, local time.
  absl::Time StartOfDay(absl::CivilDay day) const;

  // "Within n days (kind) of `start`": n >= 0. With roll_forward, a last day
  // that is a rest day moves to the next working day (working-day counting
  // always ends on a working day, so the switch changes nothing there).
  // DAY_KIND_UNSPECIFIED counts calendar days. n == 0 is due on the start day
  // itself; for working days that day is kept even if it is a rest day.
  Deadline Compute(absl::Time start, int n, xinfang::v1::DayKind kind,
                   bool roll_forward) const;

  // An extension: n more days counted from the current last day (not from
  // the rolled-back original), rolled forward the same way.
  Deadline Extend(const Deadline& current, int n, xinfang::v1::DayKind kind,
                  bool roll_forward) const;

  // The clock stopped at `suspended_at` and restarts at `resumed_at`
  // (resumed_at >= suspended_at): the stopped time is added back. The last day
  // moves by the number of whole local days between the two instants' dates
  // (a stop within one day moves nothing), then rolls forward if asked.
  Deadline Resume(const Deadline& current, absl::Time suspended_at,
                  absl::Time resumed_at, bool roll_forward) const;

 private:
  // Moves `day` to the first working day on or after it.
  absl::CivilDay RollForward(absl::CivilDay day, bool* provisional) const;
  Deadline Make(absl::CivilDay due_day, bool provisional) const;
  // Counts n days (kind) after `base`, rolls forward if asked; `provisional`
  // carries in a prior mark.
  Deadline CountFrom(absl::CivilDay base, int n, xinfang::v1::DayKind kind,
                     bool roll_forward, bool provisional) const;
  // True if some year of [from, to] has no arrangement loaded.
  bool TouchesUnknownYear(absl::CivilDay from, absl::CivilDay to) const;

  absl::TimeZone zone_;
  std::set<int> years_;
  // date -> (working?, name)
  std::map<absl::CivilDay, std::pair<bool, std::string>> overrides_;
};

}  // namespace xinfang::workflow

#endif  // XINFANG_WORKFLOW_CALENDAR_H_
