// The legal-deadline calendar: calendar-day and working-day arithmetic in the
// office's time zone (Asia/Shanghai), with per-date holiday overrides.
//
// Day counting follows 民法典 Arts. 201, 203, 1259 (docs/workflow.md, "Timers"):
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

// A computed deadline and what it is made of. The procedure's arithmetic
// (docs/workflow.md "Deadlines"): a deadline is a length of counted days after
// the start day; an approved extension and the time the clock was stopped
// lengthen it; the last day is the start day plus the whole length, and the
// roll-forward of a last day that is a rest day is applied once, to that final
// last day. So every change recomputes from `counted_from` and the terms,
// never from a day that was already rolled forward.
struct Deadline {
  absl::CivilDay due_day;   // the last day on which the step is in time
  absl::Time due_at;        // start of the day after due_day: overdue at or after it
  bool provisional = false; // counting touched a year with no arrangement loaded

  // The terms. Days are of the timer's kind (calendar or working days).
  absl::CivilDay counted_from;  // the start's local day (itself not counted)
  int base_days = 0;            // the period the definition (or a field) gives
  int extension_days = 0;       // approved extensions
  int stopped_days = 0;         // days the clock stood still (a hearing)
  bool rolled = false;          // the unrolled last day was a rest day: moved forward

  int length() const { return base_days + extension_days + stopped_days; }
  // The unrolled last day: counted_from plus length() days of `kind` (what
  // due_day is when rolled is false).
  friend bool operator==(const Deadline&, const Deadline&) = default;
};

// One line that explains a deadline, e.g.
// "2025-08-02 + 60 + 30 (extension) days = 2025-10-31" or
// "2025-09-05 + 30 + 3 (clock stopped) days = 2025-10-08, a rest day, rolled to 2025-10-09".
// `working` says the days are working days. "(provisional)" is appended when
// a year's arrangement was missing.
std::string ExplainDeadline(const Deadline& d, bool working);

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
  // The result's terms: counted_from = the start's local day, base_days = n.
  Deadline Compute(absl::Time start, int n, xinfang::v1::DayKind kind,
                   bool roll_forward) const;

  // The deadline that `terms` (counted_from, base, extension and stopped
  // days) give under this calendar: the last day is counted_from plus the
  // whole length, rolled forward once if asked. Used whenever the terms
  // change, and to recompute a provisional deadline once its year is loaded.
  Deadline Recompute(const Deadline& terms, xinfang::v1::DayKind kind, bool roll_forward) const;

  // An approved extension of n days (n >= 0): the period is lengthened by n
  // and the last day recomputed from the start (not from the current,
  // possibly rolled, last day).
  Deadline Extend(const Deadline& current, int n, xinfang::v1::DayKind kind,
                  bool roll_forward) const;

  // The clock stopped at `suspended_at` and restarts at `resumed_at`
  // (resumed_at >= suspended_at; otherwise nothing moves): the period is
  // lengthened by the stopped days and the last day recomputed from the
  // start. Stopped days are the local days from suspended_at's date up to
  // (not including) resumed_at's date — a stop within one day adds nothing —
  // and, for a working-day deadline, only the working days among them.
  Deadline Resume(const Deadline& current, absl::Time suspended_at, absl::Time resumed_at,
                  xinfang::v1::DayKind kind, bool roll_forward) const;

 private:
  // Moves `day` to the first working day on or after it.
  absl::CivilDay RollForward(absl::CivilDay day, bool* provisional) const;
  // Counts n days (kind) after `base`, rolls forward if asked.
  Deadline CountFrom(absl::CivilDay base, int n, xinfang::v1::DayKind kind,
                     bool roll_forward) const;
  // True if some year of [from, to] has no arrangement loaded.
  bool TouchesUnknownYear(absl::CivilDay from, absl::CivilDay to) const;

  absl::TimeZone zone_;
  std::set<int> years_;
  // date -> (working?, name)
  std::map<absl::CivilDay, std::pair<bool, std::string>> overrides_;
};

}  // namespace xinfang::workflow

#endif  // XINFANG_WORKFLOW_CALENDAR_H_
