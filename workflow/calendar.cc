// The legal-deadline calendar (see calendar.h for the contract).
//
// Conventions fixed here, beyond the header:
//  - DAY_KIND_UNSPECIFIED counts as calendar days: 日 means calendar days
//    unless the text says 工作日 (procedure.md §1).
//  - A negative n is treated as 0.
//  - "0 working days" is due on the start day itself (the step is due at once),
//    whether or not that day is a working day; it is never rolled.
//  - Provisional: a deadline is provisional when any day of its span lies in
//    a year with no arrangement loaded. The span runs from the day after the
//    base day (the start's local date, or the day being extended or moved) to
//    the final due day, inclusive, and includes every day examined while
//    rolling forward; when the due day is the base day itself (n == 0), the
//    span is that one day. An empty calendar therefore makes every deadline
//    provisional.
#include "workflow/calendar.h"

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace xinfang::workflow {
namespace {

using ::xinfang::v1::CalendarYear;
using ::xinfang::v1::DayKind;
using ::xinfang::v1::DayOverride;

// Years a CalendarYear may describe: wide enough for any real arrangement,
// narrow enough that every date of it is a 4-digit YYYY-MM-DD.
constexpr int kMinYear = 1949;
constexpr int kMaxYear = 9999;

bool IsWeekend(absl::CivilDay day) {
  const absl::Weekday w = absl::GetWeekday(day);
  return w == absl::Weekday::saturday || w == absl::Weekday::sunday;
}

std::string WeekdayName(absl::CivilDay day) {
  std::ostringstream out;
  out << absl::GetWeekday(day);
  return out.str();
}

// Parses exactly "YYYY-MM-DD" naming a real date (no normalisation: 2026-02-30
// is refused, not turned into March 2).
bool ParseDate(const std::string& s, absl::CivilDay* out) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  int fields[3] = {0, 0, 0};
  const std::pair<std::size_t, std::size_t> spans[3] = {{0, 4}, {5, 2}, {8, 2}};
  for (int i = 0; i < 3; ++i) {
    for (std::size_t k = spans[i].first; k < spans[i].first + spans[i].second; ++k) {
      if (s[k] < '0' || s[k] > '9') return false;
      fields[i] = fields[i] * 10 + (s[k] - '0');
    }
  }
  const absl::CivilDay day(fields[0], fields[1], fields[2]);
  if (day.year() != fields[0] || day.month() != fields[1] || day.day() != fields[2]) {
    return false;
  }
  *out = day;
  return true;
}

// Collects the first text-format parse error with its position.
class FirstErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (has_error_) return;
    has_error_ = true;
    // The parser reports zero-based positions; people count from one.
    line_ = line + 1;
    column_ = column + 1;
    message_ = message;
  }
  void AddWarning(int /*line*/, google::protobuf::io::ColumnNumber /*column*/,
                  const std::string& /*message*/) override {}

  bool has_error() const { return has_error_; }
  int line() const { return line_; }
  int column() const { return column_; }
  const std::string& message() const { return message_; }

 private:
  bool has_error_ = false;
  int line_ = 0;
  int column_ = 0;
  std::string message_;
};

}  // namespace

absl::TimeZone ShanghaiTimeZone() {
  static const absl::TimeZone* const kZone = [] {
    absl::TimeZone tz;
    if (!absl::LoadTimeZone("Asia/Shanghai", &tz)) {
      tz = absl::FixedTimeZone(8 * 3600);
    }
    return new absl::TimeZone(tz);
  }();
  return *kZone;
}

Calendar::Calendar(absl::TimeZone zone) : zone_(zone) {}

absl::Status Calendar::AddYear(const CalendarYear& year) {
  const int y = year.year();
  if (y < kMinYear || y > kMaxYear) {
    return absl::InvalidArgumentError(
        absl::StrFormat("year: %d is not a supported year (%d..%d)", y, kMinYear, kMaxYear));
  }
  if (years_.contains(y)) {
    return absl::AlreadyExistsError(absl::StrFormat("year %d is already loaded", y));
  }
  // Validate everything before changing anything: a refused year leaves the
  // calendar as it was.
  std::map<absl::CivilDay, std::pair<bool, std::string>> added;
  std::map<absl::CivilDay, int> first_index;
  for (int i = 0; i < year.overrides_size(); ++i) {
    const DayOverride& o = year.overrides(i);
    const std::string where = absl::StrFormat("overrides[%d]", i);
    absl::CivilDay day;
    if (!ParseDate(o.date(), &day)) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s.date: %s is not a date (want YYYY-MM-DD)", where,
          o.date().empty() ? "\"\"" : o.date()));
    }
    if (day.year() != y) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s.date: %s lies outside year %d", where, o.date(), y));
    }
    if (auto it = first_index.find(day); it != first_index.end()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s.date: %s appears twice (first at overrides[%d])", where, o.date(), it->second));
    }
    first_index.emplace(day, i);
    switch (o.kind()) {
      case v1::DAY_OVERRIDE_KIND_OFF:
        // Allowed on any day: a weekend day inside a break is part of it.
        added.emplace(day, std::make_pair(false, o.name()));
        break;
      case v1::DAY_OVERRIDE_KIND_WORKING:
        if (!IsWeekend(day)) {
          return absl::InvalidArgumentError(absl::StrFormat(
              "%s: %s is a %s; a WORKING (make-up) override must fall on a "
              "Saturday or Sunday",
              where, o.date(), WeekdayName(day)));
        }
        added.emplace(day, std::make_pair(true, o.name()));
        break;
      default:
        return absl::InvalidArgumentError(
            absl::StrFormat("%s.kind: %s has no kind (want DAY_OVERRIDE_KIND_OFF or "
                            "DAY_OVERRIDE_KIND_WORKING)",
                            where, o.date()));
    }
  }
  years_.insert(y);
  overrides_.merge(added);
  return absl::OkStatus();
}

absl::Status Calendar::AddYearFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::NotFoundError(absl::StrCat(path, ": cannot read"));

  CalendarYear year;
  FirstErrorCollector errors;
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text.str(), &year)) {
    if (errors.has_error()) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s: line %d, column %d: %s", path, errors.line(), errors.column(), errors.message()));
    }
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a text-format CalendarYear"));
  }
  absl::Status s = AddYear(year);
  if (!s.ok()) return absl::Status(s.code(), absl::StrCat(path, ": ", s.message()));
  return absl::OkStatus();
}

absl::StatusOr<Calendar> Calendar::LoadDirectory(const std::string& dir, absl::TimeZone zone) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return absl::NotFoundError(absl::StrCat(dir, ": no such directory"));
  }
  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    if (p.extension() != ".textproto") continue;
    std::error_code file_ec;
    if (!it->is_regular_file(file_ec)) continue;
    files.push_back(p);
  }
  if (ec) return absl::NotFoundError(absl::StrCat(dir, ": ", ec.message()));
  std::sort(files.begin(), files.end());

  Calendar calendar(zone);
  for (const fs::path& p : files) {
    absl::Status s = calendar.AddYearFile(p.string());
    if (!s.ok()) return s;
  }
  return calendar;
}

bool Calendar::HasYear(int year) const { return years_.contains(year); }

std::set<int> Calendar::Years() const { return years_; }

bool Calendar::IsWorkingDay(absl::CivilDay day) const {
  if (auto it = overrides_.find(day); it != overrides_.end()) return it->second.first;
  return !IsWeekend(day);
}

std::string Calendar::DayName(absl::CivilDay day) const {
  if (auto it = overrides_.find(day); it != overrides_.end()) return it->second.second;
  return "";
}

absl::CivilDay Calendar::LocalDay(absl::Time t) const { return absl::ToCivilDay(t, zone_); }

absl::Time Calendar::StartOfDay(absl::CivilDay day) const {
  const absl::TimeZone::TimeInfo info = zone_.At(absl::CivilSecond(day));
  // In a gap at midnight the day starts at the transition; in an overlap, at
  // the earlier of the two midnights.
  return info.kind == absl::TimeZone::TimeInfo::SKIPPED ? info.trans : info.pre;
}

bool Calendar::TouchesUnknownYear(absl::CivilDay from, absl::CivilDay to) const {
  for (absl::civil_year_t y = from.year(); y <= to.year(); ++y) {
    if (!years_.contains(static_cast<int>(y))) return true;
  }
  return false;
}

absl::CivilDay Calendar::RollForward(absl::CivilDay day, bool* provisional) const {
  // Terminates: overrides exist only in loaded years, each finite, and outside
  // them every Monday is a working day.
  while (!IsWorkingDay(day)) {
    if (!HasYear(static_cast<int>(day.year()))) *provisional = true;
    ++day;
  }
  if (!HasYear(static_cast<int>(day.year()))) *provisional = true;
  return day;
}

Deadline Calendar::CountFrom(absl::CivilDay base, int n, DayKind kind, bool roll_forward) const {
  n = std::max(n, 0);
  bool provisional = false;
  bool rolled = false;
  absl::CivilDay due = base;
  if (kind == v1::DAY_KIND_WORKING) {
    // The n-th working day strictly after `base`; n == 0 is `base` itself.
    for (int counted = 0; counted < n;) {
      ++due;
      if (IsWorkingDay(due)) ++counted;
    }
    // Working-day counting ends on a working day: nothing to roll.
  } else {
    due = base + n;
    if (roll_forward) {
      const absl::CivilDay unrolled = due;
      due = RollForward(due, &provisional);
      rolled = due != unrolled;
    }
  }
  const absl::CivilDay span_start = std::min(base + 1, due);
  if (TouchesUnknownYear(span_start, due)) provisional = true;
  Deadline d;
  d.due_day = due;
  d.due_at = StartOfDay(due + 1);
  d.provisional = provisional;
  d.counted_from = base;
  d.base_days = n;
  d.rolled = rolled;
  return d;
}

Deadline Calendar::Compute(absl::Time start, int n, DayKind kind, bool roll_forward) const {
  return CountFrom(LocalDay(start), n, kind, roll_forward);
}

Deadline Calendar::Recompute(const Deadline& terms, DayKind kind, bool roll_forward) const {
  Deadline d = CountFrom(terms.counted_from, terms.length(), kind, roll_forward);
  d.base_days = terms.base_days;
  d.extension_days = terms.extension_days;
  d.stopped_days = terms.stopped_days;
  return d;
}

Deadline Calendar::Extend(const Deadline& current, int n, DayKind kind, bool roll_forward) const {
  Deadline terms = current;
  terms.extension_days += std::max(n, 0);
  return Recompute(terms, kind, roll_forward);
}

Deadline Calendar::Resume(const Deadline& current, absl::Time suspended_at, absl::Time resumed_at,
                          DayKind kind, bool roll_forward) const {
  const absl::CivilDay from = LocalDay(suspended_at);
  const absl::CivilDay to = LocalDay(resumed_at);
  int stopped = 0;
  for (absl::CivilDay day = from; day < to; ++day) {
    if (kind != v1::DAY_KIND_WORKING || IsWorkingDay(day)) ++stopped;
  }
  if (stopped == 0) return current;
  Deadline terms = current;
  terms.stopped_days += stopped;
  return Recompute(terms, kind, roll_forward);
}

std::string ExplainDeadline(const Deadline& d, bool working) {
  std::string line = absl::StrCat(absl::FormatCivilTime(d.counted_from), " + ", d.base_days);
  if (d.extension_days > 0) absl::StrAppend(&line, " + ", d.extension_days, " (extension)");
  if (d.stopped_days > 0) absl::StrAppend(&line, " + ", d.stopped_days, " (clock stopped)");
  absl::StrAppend(&line, working ? " working days" : " days");
  if (d.rolled) {
    // The unrolled last day of a calendar-day count (only those roll).
    absl::StrAppend(&line, " = ", absl::FormatCivilTime(d.counted_from + d.length()),
                    ", a rest day, rolled to ", absl::FormatCivilTime(d.due_day));
  } else {
    absl::StrAppend(&line, " = ", absl::FormatCivilTime(d.due_day));
  }
  if (d.provisional) absl::StrAppend(&line, " (provisional)");
  return line;
}

}  // namespace xinfang::workflow
