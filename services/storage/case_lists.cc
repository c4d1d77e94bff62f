// The case store's lists: deadlines (the queue, the sweeper's next fire
// instant), cases by filter, the dashboard's counts.
#include "services/storage/case_store.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/storage/case_rows.h"
#include "services/storage/sql_array.h"

namespace xinfang::storage {
namespace {

using namespace internal;  // NOLINT: the store's shared row readers (case_rows.h)
using workflow::CaseSnapshot;
using workflow::TimerState;

const Sql kSelectDue{
    XF_SCOPE_CTE
    "SELECT c.id, c.tracking_number, c.state, c.responsible_unit, c.stage::int, t.owing_unit, "
    "       c.workflow, c.workflow_version, " XF_TIMER_COLUMNS ", coalesce(c.case_officer, '') "
    "  FROM case_timers t JOIN cases c ON c.id = t.case_id "
    " WHERE t.due_at < xf_ts(:before) AND t.suspended_at IS NULL "
    "   AND t.owing_unit IN (SELECT code FROM scope) "
    "   AND (:officer1 = '' OR c.case_officer = :officer2) "
    "   AND (:timer1 = '' OR t.name = :timer2) "
    "   AND (:stage1 = 0 OR c.stage = :stage2) "
    "   AND (:escalated = 0 OR t.rung > 0) "
    "   AND (:has_after = 0 OR (t.due_at, t.case_id, t.name) > "
    "        (xf_ts(:after_due), :after_id, :after_name)) "
    " ORDER BY t.due_at, t.case_id, t.name LIMIT :lim"};

// The board: open cases, escalated timers and notices from the kept counts
// (board_cells, migration 0017); the deadlines due soon and overdue at `now`
// from the open cases' running timers due before `soon` (migration 0018).
const Sql kDashboard{
    XF_SCOPE_CTE
    ", kept AS ("
    "  SELECT unit, stage, sum(open) AS open, sum(escalated) AS escalated, "
    "         sum(notices) AS notices "
    "    FROM board_cells WHERE unit IN (SELECT code FROM scope) GROUP BY 1, 2), "
    "  timed AS ("
    "  SELECT case_unit AS unit, case_stage AS stage, "
    "         count(*) FILTER (WHERE due_at > xf_ts(:now1)) AS soon, "
    "         count(*) FILTER (WHERE due_at <= xf_ts(:now2)) AS overdue "
    "    FROM case_timers "
    "   WHERE suspended_at IS NULL AND case_stage <> 7 AND due_at <= xf_ts(:soon) "
    "     AND case_unit IN (SELECT code FROM scope) GROUP BY 1, 2) "
    "SELECT k.unit, k.stage::int, k.open::int, coalesce(t.soon, 0)::int, "
    "       coalesce(t.overdue, 0)::int, k.escalated::int, k.notices::int "
    "  FROM kept k LEFT JOIN timed t ON t.unit = k.unit AND t.stage = k.stage "
    " WHERE k.open > 0 ORDER BY 1, 2",
    Sql::kPlannedEachCall};

// The board counted from the cases and their timers themselves (to check
// the kept counts: DashboardQuery.recount).
const Sql kDashboardRecount{
    XF_SCOPE_CTE
    "SELECT c.responsible_unit, c.stage::int, count(DISTINCT c.id)::int, "
    "  (count(t.name) FILTER (WHERE t.suspended_at IS NULL AND t.due_at > xf_ts(:now1) "
    "                          AND t.due_at <= xf_ts(:soon)))::int, "
    "  (count(t.name) FILTER (WHERE t.suspended_at IS NULL AND t.due_at <= xf_ts(:now2)))::int, "
    "  (count(t.name) FILTER (WHERE t.rung > 0))::int, "
    "  (count(t.name) FILTER (WHERE t.purpose = :notice))::int "
    "  FROM cases c LEFT JOIN case_timers t ON t.case_id = c.id "
    " WHERE NOT c.final AND c.responsible_unit IN (SELECT code FROM scope) "
    " GROUP BY 1, 2 ORDER BY 1, 2",
    Sql::kPlannedEachCall};

// The open cases of one procedure version, in id order (MigrateCases).
const Sql kOpenOfVersion{
    "SELECT id FROM cases WHERE workflow = :w AND workflow_version = :v AND NOT final "
    "AND id > :after ORDER BY id LIMIT :lim"};
const Sql kProvisional{
    "SELECT DISTINCT case_id FROM case_timers WHERE provisional AND case_id > :after "
    " ORDER BY case_id LIMIT :lim"};
const Sql kNextFire{"SELECT xf_us(min(next_fire_at)) FROM case_timers"};

}  // namespace

absl::StatusOr<std::vector<int64_t>> CaseStore::CasesWithProvisionalTimers(int64_t after_id,
                                                                           int limit) {
  return WithConn(pool_, "reading provisional deadlines",
                  [&](Conn& c) -> absl::StatusOr<std::vector<int64_t>> {
                    std::vector<int64_t> ids;
                    for (Row r : c.Run(kProvisional, {{"after", after_id}, {"lim", limit}})) {
                      ids.push_back(r.i64(0));
                    }
                    return ids;
                  });
}

absl::StatusOr<std::vector<int64_t>> CaseStore::OpenCasesOf(const std::string& workflow,
                                                            int version, int64_t after_id,
                                                            int limit) {
  return WithConn(pool_, "reading the open cases of a procedure version",
                  [&](Conn& c) -> absl::StatusOr<std::vector<int64_t>> {
                    std::vector<int64_t> ids;
                    for (Row r : c.Run(kOpenOfVersion, {{"w", workflow},
                                                        {"v", version},
                                                        {"after", after_id},
                                                        {"lim", limit}})) {
                      ids.push_back(r.i64(0));
                    }
                    return ids;
                  });
}

absl::StatusOr<std::optional<absl::Time>> CaseStore::NextFireAt() {
  return WithConn(pool_, "reading the next deadline",
                  [&](Conn& c) -> absl::StatusOr<std::optional<absl::Time>> {
                    return GetOptTime(c.Run(kNextFire, {})[0], 0);
                  });
}

absl::StatusOr<std::vector<DueRow>> CaseStore::ListDue(const DueQuery& q) {
  return WithConn(pool_, "listing deadlines", [&](Conn& conn) -> absl::StatusOr<std::vector<DueRow>> {
    std::vector<DueRow> out;
    Rows rows = conn.Run(kSelectDue, {{"unit", q.unit},
                                      {"before", ToMicros(q.before)},
                                      {"timer1", q.timer},
                                      {"timer2", q.timer},
                                      {"officer1", q.case_officer},
                                      {"officer2", q.case_officer},
                                      {"stage1", q.stage},
                                      {"stage2", q.stage},
                                      {"escalated", q.escalated_only ? 1 : 0},
                                      {"has_after", q.after.has_value() ? 1 : 0},
                                      {"after_due", q.after ? ToMicros(q.after->due_at) : 0},
                                      {"after_id", q.after ? q.after->case_id : 0},
                                      {"after_name", q.after ? q.after->timer : ""},
                                      {"lim", q.limit}});
    for (Row r : rows) {
      DueRow d;
      d.case_id = r.i64(0);
      d.tracking_number = r.str(1);
      d.state = r.str(2);
      d.responsible_unit = r.str(3);
      d.stage = r.i32(4);
      d.owing_unit = r.str(5);
      d.workflow = r.str(6);
      d.workflow_version = r.i32(7);
      d.timer = ReadTimer(r, 8);
      d.case_officer = r.str(8 + kTimerColumnCount);
      out.push_back(std::move(d));
    }
    return out;
  });
}

// The first page of a filtered list is the newest `limit` matches. With a
// few units (and categories) named, one backward index scan per unit (and
// category) — (responsible_unit, stage, id) or (responsible_unit, category,
// id), migration 0008 — yields at most `limit` rows each, and the newest of
// those are the answer: the cost follows the page size and the number of
// units, not the table. Only the filters given are in the statement.
//
// The overdue list walks the running deadlines past due instead, newest
// case first (migration 0024): one step per case, each the next case below
// the last among the deadlines the sweeper has marked overdue and those past
// due it has not marked yet (normally none), until `limit` cases pass the
// other filters. It stops by itself, so its cost follows the page, not the
// newest cases whose deadlines are still running.
absl::StatusOr<std::vector<CaseRow>> CaseStore::ListCases(const CaseFilter& f) {
  SqlArray unit_list, category_list;
  for (const std::string& u : f.units) unit_list.AddText(u);
  for (const std::string& k : f.categories) category_list.AddText(k);
  std::string conditions = "TRUE";
  std::vector<Arg> args;
  auto when = [&](bool given, const char* sql) {
    if (given) absl::StrAppend(&conditions, " AND ", sql);
    return given;
  };
  // A scan per unit pays while the units are few; a wide scope (a whole
  // city, the province) is better served by one scan filtering on them.
  constexpr std::size_t kMaxUnitScans = 8;
  const bool walk_overdue = f.overdue_only;
  const bool per_unit = !walk_overdue && !f.units.empty() && f.units.size() <= kMaxUnitScans;
  const bool per_category = !walk_overdue && !f.categories.empty();
  // The overdue walk scopes by the deadlines' copy of their case's unit
  // (case_timers.case_unit, rewritten with the case's every change).
  when(per_unit, "c.responsible_unit = u.code");
  when(!walk_overdue && !per_unit && !f.units.empty(), "c.responsible_unit = ANY(:units::text[])");
  if (!f.units.empty()) args.emplace_back("units", unit_list.Literal());
  when(per_category, "c.category = k.code");
  when(!per_category && !f.categories.empty(), "c.category = ANY(:categories::text[])");
  if (!f.categories.empty()) args.emplace_back("categories", category_list.Literal());
  if (when(f.before_id > 0, "c.id < :before_id")) args.emplace_back("before_id", f.before_id);
  if (when(!f.state.empty(), "c.state = :state")) args.emplace_back("state", f.state);
  if (when(f.stage != 0, "c.stage = :stage")) args.emplace_back("stage", f.stage);
  if (when(f.channel != 0, "c.channel = :channel")) args.emplace_back("channel", f.channel);
  if (when(f.received_from.has_value(), "c.received_at >= xf_ts(:from)")) {
    args.emplace_back("from", ToMicros(*f.received_from));
  }
  if (when(f.received_before.has_value(), "c.received_at < xf_ts(:before)")) {
    args.emplace_back("before", ToMicros(*f.received_before));
  }
  if (when(!f.petitioner.empty(),
           "EXISTS (SELECT 1 FROM case_petitioners cp JOIN persons p ON p.id = cp.person_id "
           "WHERE cp.case_id = c.id AND (p.name = :who OR p.id_number = upper(:who) "
           "OR p.phone = :who))")) {
    args.emplace_back("who", f.petitioner);
  }
  args.emplace_back("now", ToMicros(f.now));
  args.emplace_back("lim", f.limit);
  static constexpr char kColumns[] =
      "SELECT c.id, c.tracking_number, c.state, c.stage::int, c.channel::int, c.category, "
      "       c.responsible_unit, xf_us(c.received_at), c.summary, "
      "       EXISTS (SELECT 1 FROM case_timers t WHERE t.case_id = c.id "
      "                  AND t.suspended_at IS NULL AND t.due_at <= xf_ts(:now)), "
      "       coalesce(c.complained_about_unit, ''), c.conflicted_accounts, "
      "       CASE WHEN c.responsible_unit = c.registering_unit THEN c.registering_unit "
      "            ELSE '' END ";
  std::string text;
  if (walk_overdue) {
    args.emplace_back("start", f.before_id > 0 ? f.before_id
                                               : std::numeric_limits<int64_t>::max());
    const std::string timer_scope =
        f.units.empty() ? "" : " AND t.case_unit = ANY(:units::text[])";
    // The newest case below `bound` with a running deadline past due.
    auto next_below = [&](const char* bound) {
      return absl::StrCat(
          "greatest((SELECT t.case_id FROM case_timers t "
          "           WHERE t.overdue AND t.suspended_at IS NULL AND t.due_at <= xf_ts(:now)",
          timer_scope, " AND t.case_id < ", bound,
          "           ORDER BY t.case_id DESC LIMIT 1), "
          "          (SELECT max(x) FROM unmarked, unnest(unmarked.ids) AS x WHERE x < ", bound,
          "))");
    };
    text = absl::StrCat(
        "WITH RECURSIVE unmarked AS MATERIALIZED ("
        "  SELECT coalesce(array_agg(DISTINCT t.case_id), '{}') AS ids FROM case_timers t "
        "   WHERE NOT t.overdue AND t.suspended_at IS NULL AND t.due_at <= xf_ts(:now)",
        timer_scope, "), "
        "walk(id, found) AS ("
        "  SELECT ", next_below(":start"), ", 0 "
        "  UNION ALL "
        "  SELECT ", next_below("w.id"), ", "
        "         w.found + (EXISTS (SELECT 1 FROM cases c WHERE c.id = w.id AND ", conditions,
        "))::int "
        "    FROM walk w WHERE w.id IS NOT NULL AND w.found < :lim) ",
        kColumns, "  FROM walk w JOIN cases c ON c.id = w.id WHERE ", conditions,
        " ORDER BY c.id DESC LIMIT :lim");
  } else {
    std::string sources;
    if (per_unit) absl::StrAppend(&sources, "unnest(:units::text[]) AS u(code) CROSS JOIN ");
    if (per_category) {
      absl::StrAppend(&sources, "unnest(:categories::text[]) AS k(code) CROSS JOIN ");
    }
    text = absl::StrCat(kColumns, "  FROM ", sources,
                        "       LATERAL (SELECT c.* FROM cases c WHERE ", conditions,
                        "                 ORDER BY c.id DESC LIMIT :lim) c "
                        " ORDER BY c.id DESC LIMIT :lim");
  }
  const Sql& sql = Sql::Intern(text);
  return WithConn(pool_, "listing cases", [&](Conn& conn) -> absl::StatusOr<std::vector<CaseRow>> {
    std::vector<CaseRow> out;
    for (Row r : conn.Run(sql, args)) {
      CaseRow c;
      c.id = r.i64(0);
      c.tracking_number = r.str(1);
      c.state = r.str(2);
      c.stage = r.i32(3);
      c.channel = r.i32(4);
      c.category = r.str(5);
      c.responsible_unit = r.str(6);
      c.received_at = FromMicros(r.i64(7));
      c.summary = r.str(8);
      c.overdue = r.boolean(9);
      c.complained_about_unit = r.str(10);
      c.conflicted_accounts = SplitSet(r.str(11));
      c.registrar_holding = r.str(12);
      out.push_back(std::move(c));
    }
    return out;
  });
}

absl::StatusOr<std::vector<DashboardCount>> CaseStore::Dashboard(const std::string& unit,
                                                                 absl::Time now,
                                                                 absl::Duration soon,
                                                                 bool recount) {
  return WithConn(pool_, "counting for the dashboard",
                  [&](Conn& conn) -> absl::StatusOr<std::vector<DashboardCount>> {
                    std::vector<DashboardCount> out;
                    std::vector<Arg> params{{"unit", unit},
                                            {"now1", ToMicros(now)},
                                            {"soon", ToMicros(now + soon)},
                                            {"now2", ToMicros(now)}};
                    if (recount) {
                      params.push_back(
                          {"notice", static_cast<int>(xinfang::v1::TIMER_PURPOSE_NOTICE_REPLY)});
                    }
                    Rows rows = conn.Run(recount ? kDashboardRecount : kDashboard, params);
                    for (Row r : rows) {
                      out.push_back(DashboardCount{r.str(0), r.i32(1), r.i32(2), r.i32(3),
                                                   r.i32(4), r.i32(5), r.i32(6)});
                    }
                    return out;
                  });
}

}  // namespace xinfang::storage
