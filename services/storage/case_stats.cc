// The case store's statistics (docs/statistics.md): raw counts over a
// period, rates computed by the caller.
//
// Counts are kept as cases change (migration 0017: stats_case,
// stats_cells, written on the one write path). A period is answered from the
// kept counts of its whole local years, months and days, plus the cases themselves for the
// partial days at either end; the open deadlines already passed are counted
// from the timers (they depend on `now`). The recount (StatsQuery::recount)
// reads the cases and the deadline log for the whole period with SQL of its
// own, so a test can hold the kept counts against it.
#include "services/storage/case_store.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "services/storage/case_rows.h"
#include "xinfang/v1/workflow.pb.h"

namespace xinfang::storage {
namespace {

using namespace internal;  // NOLINT: the store's shared row readers (case_rows.h)

// Both count queries give rows (figure, key, unit, month, sets, n, us),
// grouped three ways; `sets` is GROUPING(unit, month): 3 for a figure's key
// over the period, 1 for a figure by unit, 2 for a figure by month.
#define XF_STATS_GROUPS                                                              \
  "SELECT figure, coalesce(key, ''), coalesce(unit, ''), coalesce(month, ''), "       \
  "       GROUPING(unit, month)::int, sum(n)::bigint, sum(us)::bigint FROM counted "  \
  " GROUP BY GROUPING SETS ((figure, key), (figure, unit), (figure, month))"

// The kept counts of the whole days [:d1, :d2): the years [:y1, :y2) from
// year rows, the months [:m1, :m2) around them from month rows, the days
// around those from day rows, and what no fold has reached yet from the
// appended rows. The channel counts (the received cases by month) come
// from month rows within the years too.
const Sql kKeptCounts{
    XF_SCOPE_CTE
    ", counted AS ("
    "  SELECT s.figure, s.key, s.unit, "
    "         to_char(date_trunc('month', s.day::timestamp), 'YYYY-MM') AS month, s.n, s.us "
    "    FROM stats_cells s "
    "   WHERE s.unit IN (SELECT code FROM scope) AND ( "
    "         (s.folded AND s.grain = 'y' AND s.figure <> 'channel' "
    "          AND s.day >= CAST(:y1 AS date) AND s.day < CAST(:y2 AS date)) "
    "      OR (s.folded AND s.grain = 'm' AND ( "
    "            (s.day >= CAST(:m1 AS date) AND s.day < CAST(:y1 AS date)) "
    "         OR (s.day >= CAST(:y2 AS date) AND s.day < CAST(:m2 AS date)) "
    "         OR (s.figure = 'channel' AND s.day >= CAST(:y1 AS date) "
    "             AND s.day < CAST(:y2 AS date)))) "
    "      OR (s.folded AND s.grain = 'd' AND ( "
    "            (s.day >= CAST(:d1 AS date) AND s.day < CAST(:m1 AS date)) "
    "         OR (s.day >= CAST(:m2 AS date) AND s.day < CAST(:d2 AS date)))) "
    "      OR (NOT s.folded AND s.day >= CAST(:d1 AS date) AND s.day < CAST(:d2 AS date)))) " XF_STATS_GROUPS,
    Sql::kPlannedEachCall};

// The same counts from the cases and the deadline log, for [:from, :to).
#define XF_PERIOD(col) " " col " >= xf_ts(:from) AND " col " < xf_ts(:to) "
#define XF_IN_SCOPE(col) " AND " col " IN (SELECT code FROM scope) "
const Sql kCountedFromCases{
    XF_SCOPE_CTE
    ", counted AS ("
    "  SELECT v.figure, v.key, c.responsible_unit AS unit, "
    "         to_char(c.received_at AT TIME ZONE CAST(:zone AS text), 'YYYY-MM') AS month, "
    "         1 AS n, 0::bigint AS us "
    "    FROM cases c, LATERAL (VALUES ('channel', c.channel::text), ('category', c.category), "
    "                                  ('stage', c.stage::text), ('state', c.state)) v(figure, key) "
    "   WHERE" XF_PERIOD("c.received_at") XF_IN_SCOPE("c.responsible_unit")
    "  UNION ALL "
    "  SELECT 'repeat', '', c.responsible_unit, "
    "         to_char(c.received_at AT TIME ZONE CAST(:zone AS text), 'YYYY-MM'), 1, 0 "
    "    FROM cases c WHERE" XF_PERIOD("c.received_at") XF_IN_SCOPE("c.responsible_unit")
    "     AND EXISTS (SELECT 1 FROM case_links l WHERE l.case_id = c.id AND l.kind = 'repeat') "
    "  UNION ALL "
    "  SELECT 'accepted', '', c.responsible_unit, "
    "         to_char(c.accepted_at AT TIME ZONE CAST(:zone AS text), 'YYYY-MM'), 1, "
    "         xf_us(c.accepted_at) - xf_us(c.received_at) "
    "    FROM cases c WHERE" XF_PERIOD("c.accepted_at") XF_IN_SCOPE("c.responsible_unit")
    "  UNION ALL "
    "  SELECT 'decided', '', c.responsible_unit, "
    "         to_char(c.decided_at AT TIME ZONE CAST(:zone AS text), 'YYYY-MM'), 1, "
    "         xf_us(c.decided_at) - xf_us(c.accepted_at) "
    "    FROM cases c WHERE" XF_PERIOD("c.decided_at") XF_IN_SCOPE("c.responsible_unit")
    "     AND c.accepted_at IS NOT NULL "
    // Evaluations owed: decisions served in the period whose window has
    // closed (evaluated, lapsed, or left behind by a review request).
    "  UNION ALL "
    "  SELECT 'evaluation', coalesce(c.evaluation, ''), c.responsible_unit, "
    "         to_char(c.served_at AT TIME ZONE CAST(:zone AS text), 'YYYY-MM'), 1, 0 "
    "    FROM cases c WHERE" XF_PERIOD("c.served_at") XF_IN_SCOPE("c.responsible_unit")
    "     AND NOT EXISTS (SELECT 1 FROM case_timers t WHERE t.case_id = c.id "
    "                        AND t.purpose = :evaluation) "
    "  UNION ALL "
    "  SELECT 'office_evaluation', coalesce(c.office_evaluation, ''), c.responsible_unit, "
    "         to_char(c.served_at AT TIME ZONE CAST(:zone AS text), 'YYYY-MM'), 1, 0 "
    "    FROM cases c WHERE" XF_PERIOD("c.served_at") XF_IN_SCOPE("c.responsible_unit")
    "     AND NOT EXISTS (SELECT 1 FROM case_timers t WHERE t.case_id = c.id "
    "                        AND t.purpose = :evaluation) "
    // Deadlines that closed (met or not), by purpose.
    "  UNION ALL "
    "  SELECT 'deadline', d.purpose || ':' || d.met::int, d.owing_unit, "
    "         to_char(d.due_at AT TIME ZONE CAST(:zone AS text), 'YYYY-MM'), 1, 0 "
    "    FROM deadline_log d WHERE" XF_PERIOD("d.due_at") XF_IN_SCOPE("d.owing_unit") ") "
    XF_STATS_GROUPS,
    Sql::kPlannedEachCall};
#undef XF_PERIOD
#undef XF_IN_SCOPE

// Open deadlines of the period already passed (not met, not closed yet).
const Sql kPassedOpen{
    XF_SCOPE_CTE
    "SELECT t.purpose::int, count(*)::int FROM case_timers t "
    " WHERE t.purpose IN (:notice, :handling) AND t.due_at >= xf_ts(:from) "
    "   AND t.due_at < xf_ts(:to) AND t.due_at <= xf_ts(:now) "
    "   AND t.owing_unit IN (SELECT code FROM scope) GROUP BY 1",
    Sql::kPlannedEachCall};

const Sql kKeptZone{"SELECT time_zone FROM stats_meta"};
const Sql kRebuild{"SELECT xf_stats_rebuild(:zone, :force)"};
const Sql kFold{"SELECT xf_stats_fold(:max)"};

// Counts by (figure, key), by (figure, unit) and by (figure, month).
struct Counts {
  struct Sum {
    int64_t n = 0, us = 0;
  };
  std::map<std::pair<std::string, std::string>, Sum> by_key, by_unit, by_month;

  void Add(const Rows& rows) {
    for (Row r : rows) {
      auto& m = r.i32(4) == 3 ? by_key : r.i32(4) == 1 ? by_unit : by_month;
      const std::string second = r.i32(4) == 3 ? r.str(1) : r.i32(4) == 1 ? r.str(2) : r.str(3);
      Sum& s = m[{r.str(0), second}];
      s.n += r.i64(5);
      s.us += r.i64(6);
    }
  }
  int N(const std::string& figure, const std::string& key) const {
    auto it = by_key.find({figure, key});
    return it == by_key.end() ? 0 : static_cast<int>(it->second.n);
  }
  double Days(const std::string& figure) const {
    auto it = by_key.find({figure, ""});
    return it == by_key.end() ? 0 : static_cast<double>(it->second.us) / 86400e6;
  }
  // The keys of `figure` counted at least once, in key order.
  static std::vector<std::pair<std::string, int>> Of(
      const std::map<std::pair<std::string, std::string>, Sum>& m, const std::string& figure) {
    std::vector<std::pair<std::string, int>> out;
    for (auto it = m.lower_bound({figure, ""}); it != m.end() && it->first.first == figure; ++it) {
      if (it->second.n != 0) out.emplace_back(it->first.second, static_cast<int>(it->second.n));
    }
    return out;
  }
};

std::string Purpose(xinfang::v1::TimerPurpose p) { return std::to_string(static_cast<int>(p)); }

Stats ToStats(const Counts& c, const std::map<int, int>& passed) {
  auto passed_of = [&](xinfang::v1::TimerPurpose p) {
    auto it = passed.find(static_cast<int>(p));
    return it == passed.end() ? 0 : it->second;
  };
  auto deadlines = [&](xinfang::v1::TimerPurpose p, int* due, int* met) {
    *met = c.N("deadline", Purpose(p) + ":1");
    *due = *met + c.N("deadline", Purpose(p) + ":0") + passed_of(p);
  };
  Stats st;
  deadlines(xinfang::v1::TIMER_PURPOSE_INTAKE_NOTICE, &st.notice_due, &st.notice_on_time);
  deadlines(xinfang::v1::TIMER_PURPOSE_HANDLING, &st.decision_due, &st.decision_on_time);
  st.by_channel = Counts::Of(c.by_key, "channel");
  for (const auto& [channel, n] : st.by_channel) st.received += n;
  st.online = c.N("channel", std::to_string(static_cast<int>(xinfang::v1::CHANNEL_ONLINE)));
  st.repeats = c.N("repeat", "");
  auto evaluations = [&](const char* figure) {
    Evaluations e;
    for (const auto& [value, n] : Counts::Of(c.by_key, figure)) e.due += n;
    e.satisfied = c.N(figure, "satisfied");
    e.basically_satisfied = c.N(figure, "basically_satisfied");
    e.dissatisfied = c.N(figure, "dissatisfied");
    e.lapsed = c.N(figure, "lapsed");
    return e;
  };
  st.handling_unit = evaluations("evaluation");
  st.petition_office = evaluations("office_evaluation");
  st.accepted = c.N("accepted", "");
  st.acceptance_days_sum = c.Days("accepted");
  st.decided = c.N("decided", "");
  st.decision_days_sum = c.Days("decided");
  st.by_category = Counts::Of(c.by_key, "category");
  st.by_stage = Counts::Of(c.by_key, "stage");
  st.by_state = Counts::Of(c.by_key, "state");
  st.by_unit = Counts::Of(c.by_unit, "channel");
  st.by_month = Counts::Of(c.by_month, "channel");
  return st;
}

}  // namespace

absl::StatusOr<Stats> CaseStore::Statistics(const StatsQuery& q) {
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(q.time_zone, &tz)) {
    return absl::InvalidArgumentError(absl::StrCat("time zone: \"", q.time_zone, "\" is unknown"));
  }
  // The whole local days [d1, d2) of the period, the whole months [m1, m2)
  // among them (none: m1 = m2 = d2), and the whole years [y1, y2) among
  // those (none: y1 = y2 = m2).
  absl::CivilDay d1 = absl::ToCivilDay(q.from, tz);
  if (absl::FromCivil(d1, tz) < q.from) ++d1;
  const absl::CivilDay d2 = absl::ToCivilDay(q.to, tz);
  const bool whole_days = d1 < d2 && !q.recount;
  absl::CivilDay m1 = absl::CivilDay(absl::CivilMonth(d1));
  if (m1 < d1) m1 = absl::CivilDay(absl::CivilMonth(d1) + 1);
  absl::CivilDay m2 = absl::CivilDay(absl::CivilMonth(d2));
  if (m1 >= m2) m1 = m2 = d2;
  absl::CivilDay y1 = absl::CivilDay(absl::CivilYear(m1));
  if (y1 < m1) y1 = absl::CivilDay(absl::CivilYear(m1) + 1);
  absl::CivilDay y2 = absl::CivilDay(absl::CivilYear(m2));
  if (y1 >= y2) y1 = y2 = m2;
  const int64_t now = ToMicros(q.now);
  return WithConn(pool_, "computing statistics", [&](Conn& conn) -> absl::StatusOr<Stats> {
    auto from_cases = [&](Conn::Pipeline& p, absl::Time from, absl::Time to) {
      if (from >= to) return -1;
      return p.Add(kCountedFromCases, {{"unit", q.unit},
                                       {"from", ToMicros(from)},
                                       {"to", ToMicros(to)},
                                       {"zone", q.time_zone},
                                       {"evaluation", static_cast<int>(xinfang::v1::TIMER_PURPOSE_EVALUATION)}});
    };
    Conn::Pipeline p(conn);
    const int zone_at = p.Add(kKeptZone, {});
    const int passed_at = p.Add(kPassedOpen, {{"unit", q.unit},
                                              {"notice", static_cast<int>(xinfang::v1::TIMER_PURPOSE_INTAKE_NOTICE)},
                                              {"handling", static_cast<int>(xinfang::v1::TIMER_PURPOSE_HANDLING)},
                                              {"from", ToMicros(q.from)},
                                              {"to", ToMicros(q.to)},
                                              {"now", now}});
    int kept_at = -1, before_at = -1, after_at = -1, whole_at = -1;
    if (whole_days) {
      kept_at = p.Add(kKeptCounts, {{"unit", q.unit},
                                    {"d1", absl::FormatCivilTime(d1)},
                                    {"d2", absl::FormatCivilTime(d2)},
                                    {"m1", absl::FormatCivilTime(m1)},
                                    {"m2", absl::FormatCivilTime(m2)},
                                    {"y1", absl::FormatCivilTime(y1)},
                                    {"y2", absl::FormatCivilTime(y2)}});
      before_at = from_cases(p, q.from, absl::FromCivil(d1, tz));
      after_at = from_cases(p, absl::FromCivil(d2, tz), q.to);
    }
    std::vector<Rows> r = p.Run();
    Counts counts;
    const bool kept = whole_days && !r[zone_at].empty() && r[zone_at][0].str(0) == q.time_zone;
    if (kept) {
      for (int at : {kept_at, before_at, after_at}) {
        if (at >= 0) counts.Add(r[at]);
      }
    } else {
      // A recount, a period within one day, or counts kept in another zone.
      Conn::Pipeline whole(conn);
      whole_at = from_cases(whole, q.from, q.to);
      std::vector<Rows> w = whole.Run();
      if (whole_at >= 0) counts.Add(w[whole_at]);
    }
    std::map<int, int> passed;
    for (Row row : r[passed_at]) passed[row.i32(0)] = row.i32(1);
    return ToStats(counts, passed);
  });
}

absl::StatusOr<int64_t> CaseStore::RebuildStatistics(const std::string& time_zone, bool force) {
  return WithConn(pool_, "counting the statistics again",
                  [&](Conn& conn) -> absl::StatusOr<int64_t> {
                    // (Checked first without the lock the rebuild takes.)
                    if (!force) {
                      Rows kept = conn.Run(kKeptZone, {});
                      if (!kept.empty() && kept[0].str(0) == time_zone) return 0;
                    }
                    const int64_t n =
                        conn.Run(kRebuild, {{"zone", time_zone}, {"force", force}})[0].i64(0);
                    return std::max<int64_t>(n, 0);
                  });
}

absl::StatusOr<int64_t> CaseStore::FoldStatistics(int max_rows) {
  return WithConn(pool_, "folding the statistics", [&](Conn& conn) -> absl::StatusOr<int64_t> {
    return conn.Run(kFold, {{"max", max_rows}})[0].i64(0);
  });
}

}  // namespace xinfang::storage
