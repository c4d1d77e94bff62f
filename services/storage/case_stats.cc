// The case store's statistics (procedure.md §4 as docs/statistics.md
// gives them): raw counts over the period, rates computed by the caller.
#include "services/storage/case_store.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/storage/case_rows.h"
#include "absl/strings/ascii.h"

namespace xinfang::storage {
namespace {

using namespace internal;  // NOLINT: the store's shared row readers (case_rows.h)
using workflow::CaseSnapshot;
using workflow::TimerState;

// On-time rate of a deadline: those falling due in the period, closed (met
// or not) or still open and already passed (not met).
const Sql kStatsDeadlines{
    XF_SCOPE_CTE
    "SELECT (SELECT count(*) FROM deadline_log d WHERE d.name = :t1 "
    "          AND d.due_at >= xf_ts(:from1) AND d.due_at < xf_ts(:to1) "
    "          AND d.owing_unit IN (SELECT code FROM scope))::int "
    "     + (SELECT count(*) FROM case_timers t WHERE t.name = :t2 "
    "          AND t.due_at >= xf_ts(:from2) AND t.due_at < xf_ts(:to2) "
    "          AND t.due_at <= xf_ts(:now2) AND t.owing_unit IN (SELECT code FROM scope))::int, "
    "       (SELECT count(*) FROM deadline_log d WHERE d.name = :t3 AND d.met "
    "          AND d.due_at >= xf_ts(:from3) AND d.due_at < xf_ts(:to3) "
    "          AND d.owing_unit IN (SELECT code FROM scope))::int",
    Sql::kPlannedEachCall};

// Cases received in the period at units of the subtree.
#define XF_RECEIVED                                                                  \
  " FROM cases c WHERE c.received_at >= xf_ts(:from) AND c.received_at < xf_ts(:to) " \
  "   AND c.responsible_unit IN (SELECT code FROM scope) "

const Sql kStatsReceived{
    XF_SCOPE_CTE
    "SELECT count(*)::int, "
    "  (count(*) FILTER (WHERE EXISTS (SELECT 1 FROM case_links l "
    "                    WHERE l.case_id = c.id AND l.kind = 'repeat')))::int, "
    "  (count(*) FILTER (WHERE c.channel = 4))::int " XF_RECEIVED,
    Sql::kPlannedEachCall};

// Evaluations owed: decisions served in the period whose window has closed
// (evaluated, lapsed, or left behind by a review request).
const Sql kStatsEvaluation{
    XF_SCOPE_CTE
    "SELECT count(*)::int, "
    "  (count(*) FILTER (WHERE c.evaluation = 'satisfied'))::int, "
    "  (count(*) FILTER (WHERE c.evaluation = 'basically_satisfied'))::int, "
    "  (count(*) FILTER (WHERE c.evaluation = 'dissatisfied'))::int, "
    "  (count(*) FILTER (WHERE c.evaluation = 'lapsed'))::int "
    "  FROM cases c WHERE c.served_at >= xf_ts(:from) AND c.served_at < xf_ts(:to) "
    "   AND c.responsible_unit IN (SELECT code FROM scope) "
    "   AND NOT EXISTS (SELECT 1 FROM case_timers t WHERE t.case_id = c.id AND t.name = :eval)",
    Sql::kPlannedEachCall};

const Sql kStatsCycles{
    XF_SCOPE_CTE
    "SELECT (SELECT count(*) FROM cases c WHERE c.accepted_at >= xf_ts(:from1) "
    "          AND c.accepted_at < xf_ts(:to1) AND c.responsible_unit IN (SELECT code FROM scope))::int, "
    "       (SELECT coalesce(sum(extract(epoch FROM c.accepted_at - c.received_at)), 0) "
    "          FROM cases c WHERE c.accepted_at >= xf_ts(:from2) AND c.accepted_at < xf_ts(:to2) "
    "           AND c.responsible_unit IN (SELECT code FROM scope))::float8 / 86400, "
    "       (SELECT count(*) FROM cases c WHERE c.decided_at >= xf_ts(:from3) "
    "          AND c.decided_at < xf_ts(:to3) AND c.accepted_at IS NOT NULL "
    "          AND c.responsible_unit IN (SELECT code FROM scope))::int, "
    "       (SELECT coalesce(sum(extract(epoch FROM c.decided_at - c.accepted_at)), 0) "
    "          FROM cases c WHERE c.decided_at >= xf_ts(:from4) AND c.decided_at < xf_ts(:to4) "
    "           AND c.accepted_at IS NOT NULL "
    "           AND c.responsible_unit IN (SELECT code FROM scope))::float8 / 86400",
    Sql::kPlannedEachCall};

}  // namespace

absl::StatusOr<Stats> CaseStore::Statistics(const StatsQuery& q) {
  // The zone comes from the server's configuration (an IANA name, checked
  // here again before it is spliced into the statement as a literal).
  const bool zone_ok =
      !q.time_zone.empty() && std::all_of(q.time_zone.begin(), q.time_zone.end(), [](char ch) {
        return absl::ascii_isalnum(static_cast<unsigned char>(ch)) || ch == '/' || ch == '_' ||
               ch == '+' || ch == '-';
      });
  if (!q.rates_only && !zone_ok) return absl::InvalidArgumentError("time zone: not an IANA zone name");
  return WithConn(pool_, "computing statistics", [&](Conn& conn) -> absl::StatusOr<Stats> {
    Stats st;
    const int64_t from = ToMicros(q.from), to = ToMicros(q.to), now = ToMicros(q.now);
    auto deadlines = [&](const std::string& timer, int* due, int* met) {
      Rows r = conn.Run(kStatsDeadlines, {{"unit", q.unit},
                                          {"t1", timer},
                                          {"from1", from},
                                          {"to1", to},
                                          {"t2", timer},
                                          {"from2", from},
                                          {"to2", to},
                                          {"now2", now},
                                          {"t3", timer},
                                          {"from3", from},
                                          {"to3", to}});
      *due = r[0].i32(0);
      *met = r[0].i32(1);
    };
    deadlines(q.notice_timer, &st.notice_due, &st.notice_on_time);
    deadlines(q.handling_timer, &st.decision_due, &st.decision_on_time);
    if (!q.rates_only) {
      Rows r = conn.Run(kStatsReceived, {{"unit", q.unit}, {"from", from}, {"to", to}});
      st.received = r[0].i32(0);
      st.repeats = r[0].i32(1);
      st.online = r[0].i32(2);
    }
    {
      Rows r = conn.Run(kStatsEvaluation,
                        {{"unit", q.unit}, {"from", from}, {"to", to}, {"eval", q.evaluation_timer}});
      st.evaluation_due = r[0].i32(0);
      st.satisfied = r[0].i32(1);
      st.basically_satisfied = r[0].i32(2);
      st.dissatisfied = r[0].i32(3);
      st.lapsed = r[0].i32(4);
    }
    if (q.rates_only) return st;
    {
      Rows r = conn.Run(kStatsCycles, {{"unit", q.unit},
                                       {"from1", from},
                                       {"to1", to},
                                       {"from2", from},
                                       {"to2", to},
                                       {"from3", from},
                                       {"to3", to},
                                       {"from4", from},
                                       {"to4", to}});
      st.accepted = r[0].i32(0);
      st.acceptance_days_sum = r[0].f64(1);
      st.decided = r[0].i32(2);
      st.decision_days_sum = r[0].f64(3);
    }
    // `column` is an expression of the code's own, never a caller's text.
    auto breakdown = [&](const std::string& column, std::vector<std::pair<std::string, int>>* out) {
      const Sql& sql = Sql::Intern(XF_SCOPE_CTE "SELECT " + column +
                                   "::text, count(*)::int " XF_RECEIVED "GROUP BY 1 ORDER BY 1",
                                   Sql::kPlannedEachCall);
      for (Row r : conn.Run(sql, {{"unit", q.unit}, {"from", from}, {"to", to}})) {
        out->emplace_back(r.str(0), r.i32(1));
      }
    };
    breakdown("c.channel", &st.by_channel);
    breakdown("c.category", &st.by_category);
    breakdown("c.stage", &st.by_stage);
    breakdown("c.state", &st.by_state);
    breakdown("c.responsible_unit", &st.by_unit);
    breakdown("to_char(c.received_at AT TIME ZONE '" + q.time_zone + "', 'YYYY-MM')",
              &st.by_month);
    return st;
  });
}

}  // namespace xinfang::storage
