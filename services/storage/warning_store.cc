#include "services/storage/warning_store.h"

#include <soci/soci.h>

#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/storage/case_store.h"
#include "services/storage/sql_array.h"

namespace xinfang::storage {
namespace {

// ---- The projection ----

constexpr char kClaimCursor[] =
    "SELECT position, time_zone FROM warning_cursor FOR UPDATE SKIP LOCKED";
constexpr char kNextEvents[] =
    "SELECT position, case_id, kind FROM case_events WHERE position > :after "
    " ORDER BY position LIMIT :lim";
// Records the batch's petitions; returns those recorded now (a petition is
// counted and decided once).
constexpr char kRecord[] =
    "SELECT array_to_string(xf_record_petitions(CAST(:ids AS bigint[]), :zone), ',')";
const Sql kCount{ "SELECT xf_count_petitions(ARRAY[CAST(:id AS bigint)])"};
constexpr char kMoveCursor[] = "UPDATE warning_cursor SET position = :pos";
constexpr char kRebuild[] = "SELECT xf_rebuild_warning_counts(:zone)";
constexpr char kCursorZone[] = "SELECT time_zone FROM warning_cursor";

// The petitions of a batch with their state now, in the order given.
const Sql kPetitions{ R"sql(
  SELECT w.case_id, c.tracking_number, xf_us(w.received_at), w.day::text, w.unit, w.category,
         coalesce(e.name, ''), coalesce(w.complained_unit, ''), w.people,
         (c.accepted_at IS NOT NULL)::int, c.final::int,
         coalesce((SELECT string_agg(cp.person_id::text || ':' || p.name, E'\x1f'
                                     ORDER BY cp.position)
                     FROM case_petitioners cp JOIN persons p ON p.id = cp.person_id
                    WHERE cp.case_id = c.id), '')
    FROM unnest(CAST(:ids AS bigint[])) WITH ORDINALITY AS b (id, n)
    JOIN warning_petitions w ON w.case_id = b.id
    JOIN cases c ON c.id = w.case_id
    LEFT JOIN employer_names e ON e.id = w.employer_id
   ORDER BY b.n)sql"};

const Sql kDueWatches{ R"sql(
  DELETE FROM warning_watch WHERE (rule, case_id) IN (
    SELECT rule, case_id FROM warning_watch WHERE fire_at <= xf_ts(:now)
     ORDER BY fire_at, case_id LIMIT :lim)
  RETURNING rule, case_id)sql"};

const Sql kWatch{
    "INSERT INTO warning_watch (rule, case_id, fire_at) VALUES (:rule, :id, xf_ts(:at)) "
    "ON CONFLICT DO NOTHING"};

// The rules' questions: functions of migrations 0014 and 0023 (their plans
// are made once per connection), all of a petition's in one call.
const Sql kAsk{
    "SELECT q, case_id, received_us, registering_unit, complained_unit, before, recent "
    "  FROM xf_warn_ask(CAST(:kinds AS text[]), CAST(:keys AS text[]), CAST(:sims AS real[]), "
    "    CAST(:ats AS bigint[]), CAST(:wins AS bigint[]), CAST(:units AS text[]), "
    "    CAST(:cats AS text[]), CAST(:los AS text[]), CAST(:splits AS text[]), "
    "    CAST(:his AS text[]), :lim)"};
const Sql kWave{
    "SELECT id, raised::int FROM xf_warn_wave(:rule, :kind, :severity, :title, :subject, :label, "
    "  xf_ts(:now), xf_ts(:start), xf_ts(:end), xf_ts(:at), CAST(:ids AS bigint[]), "
    "  CAST(:units AS text[]), CAST(:complained AS text[]), :detail, :trigger)"};

const Sql kInsertStep{ R"sql(
  INSERT INTO warning_steps (warning_id, seq, state, by_account, at, note)
  SELECT :id, coalesce(max(seq), 0) + 1, :state, :by, xf_ts(:at), :note
    FROM warning_steps WHERE warning_id = :id2)sql"};

// A step in a warning's life, after its last.
void InsertStep(Conn& conn, int64_t id, int state, const std::string& by, int64_t at,
                const std::string& note) {
  conn.Run(kInsertStep,
           {{"id", id}, {"state", state}, {"by", by}, {"at", at}, {"note", note}, {"id2", id}});
}

// ---- Reading and moving warnings ----

#define XF_WARNING_COLUMNS                                                              \
  "w.id, w.rule, w.rule_title, w.subject, w.subject_label, w.detail, w.kind::int, "     \
  "w.severity::int, w.state::int, w.version, xf_us(w.raised_at), xf_us(w.window_start), " \
  "xf_us(w.window_end), w.case_count, array_to_string(w.units, ','), "                  \
  "array_to_string(w.complained_units, ',') "

constexpr char kListWarnings[] =
    "SELECT " XF_WARNING_COLUMNS " FROM warnings w "
    " WHERE (CAST(:units AS text[]) = '{}' OR w.units && CAST(:units2 AS text[])) "
    "   AND NOT (w.complained_units && CAST(:hidden AS text[])) "
    "   AND (CAST(:states AS int[]) = '{}' OR w.state = ANY (CAST(:states2 AS int[]))) "
    "   AND (:rule = '' OR w.rule = :rule2) "
    "   AND (:before = 0 OR w.id < :before2) "
    " ORDER BY w.id DESC LIMIT :lim";
constexpr char kGetWarning[] = "SELECT " XF_WARNING_COLUMNS " FROM warnings w WHERE w.id = :id";
constexpr char kWarningCases[] =
    "SELECT c.id, c.tracking_number, p.unit, p.category, xf_us(p.received_at), "
    "       c.conflicted_accounts "
    "  FROM warning_cases wc JOIN cases c ON c.id = wc.case_id "
    "  JOIN warning_petitions p ON p.case_id = c.id "
    " WHERE wc.warning_id = :id ORDER BY p.received_at, c.id";
constexpr char kWarningSteps[] =
    "SELECT state::int, by_account, xf_us(at), note FROM warning_steps "
    " WHERE warning_id = :id ORDER BY seq";
constexpr char kSetState[] =
    "UPDATE warnings SET state = :state, version = version + 1 "
    " WHERE id = :id AND version = :expected RETURNING version";
constexpr char kWarningVersion[] = "SELECT version FROM warnings WHERE id = :id";

// ---- The situation report ----

#define XF_REPORT_PERIODS                                                         \
  " JOIN (VALUES (0, CAST(:f0 AS date), CAST(:t0 AS date)), "                       \
  "              (1, CAST(:f1 AS date), CAST(:t1 AS date)), "                       \
  "              (2, CAST(:f2 AS date), CAST(:t2 AS date))) AS per (p, f, t) "      \
  "   ON s.month >= per.f AND s.month < per.t "
#define XF_REPORT_UNITS \
  " AND (CAST(:units AS text[]) = '{}' OR s.unit = ANY (CAST(:units2 AS text[]))) "

constexpr char kReportDims[] =
    "SELECT per.p, s.dim, s.key, sum(s.n)::int FROM situation_months s " XF_REPORT_PERIODS
    " WHERE s.dim IN ('total', 'channel', 'category', 'purpose', 'group', 'repeat') "
    XF_REPORT_UNITS " GROUP BY 1, 2, 3";
constexpr char kReportUnits[] =
    "SELECT per.p, s.unit, sum(s.n)::int FROM situation_months s " XF_REPORT_PERIODS
    " WHERE s.dim = 'total' " XF_REPORT_UNITS " GROUP BY 1, 2";
constexpr char kReportTop[] =
    "SELECT s.key, sum(s.n)::int FROM situation_months s "
    " WHERE s.dim = :dim AND s.month >= CAST(:f0 AS date) AND s.month < CAST(:t0 AS date) "
    XF_REPORT_UNITS " GROUP BY s.key ORDER BY 2 DESC, 1 LIMIT 10";
constexpr char kReportBacklog[] = R"sql(
  SELECT CASE WHEN age <= 15 THEN 0 WHEN age <= 30 THEN 1 WHEN age <= 60 THEN 2
              WHEN age <= 90 THEN 3 ELSE 4 END, count(*)::int
    FROM (SELECT floor(extract(epoch FROM xf_ts(:now) - c.received_at) / 86400) AS age
            FROM cases c
           WHERE NOT c.final
             AND (CAST(:units AS text[]) = '{}' OR c.responsible_unit = ANY (CAST(:units2 AS text[])))
         ) a
   GROUP BY 1 ORDER BY 1)sql";
constexpr char kReportWarnings[] =
    "SELECT count(*)::int FROM warnings w "
    " WHERE w.raised_at >= xf_ts(:from) AND w.raised_at < xf_ts(:to) "
    "   AND (CAST(:units AS text[]) = '{}' OR w.units && CAST(:units2 AS text[]))";
constexpr char kPersonNames[] =
    "SELECT id::text, name FROM persons WHERE id = ANY (CAST(:ids AS bigint[]))";

std::string Literal(const std::vector<std::string>& v) {
  SqlArray a;
  for (const std::string& s : v) a.AddText(s);
  return a.Literal();
}

std::string IntLiteral(const std::vector<int64_t>& v) {
  SqlArray a;
  for (int64_t x : v) a.AddInt(x);
  return a.Literal();
}

std::vector<std::string> SplitList(const std::string& s) {
  if (s.empty()) return {};
  return absl::StrSplit(s, ',');
}

WarningRow ReadWarning(const soci::row& r) {
  WarningRow w;
  w.id = r.get<long long>(0);
  w.rule = r.get<std::string>(1);
  w.rule_title = r.get<std::string>(2);
  w.subject = r.get<std::string>(3);
  w.subject_label = r.get<std::string>(4);
  w.detail = r.get<std::string>(5);
  w.kind = r.get<int>(6);
  w.severity = r.get<int>(7);
  w.state = r.get<int>(8);
  w.version = r.get<long long>(9);
  w.raised_at = FromMicros(r.get<long long>(10));
  w.window_start = FromMicros(r.get<long long>(11));
  w.window_end = FromMicros(r.get<long long>(12));
  w.case_count = r.get<int>(13);
  w.units = SplitList(r.get<std::string>(14));
  w.complained_units = SplitList(r.get<std::string>(15));
  return w;
}

// Reads the petitions of `ids` (an array literal) in that order.
std::vector<WarnPetition> LoadPetitions(Conn& conn, const std::string& ids) {
  std::vector<WarnPetition> out;
  for (Row r : conn.Run(kPetitions, {{"ids", ids}})) {
    WarnPetition p;
    p.case_id = r.i64(0);
    p.tracking_number = r.str(1);
    p.received_at = FromMicros(r.i64(2));
    p.day = r.str(3);
    p.unit = r.str(4);
    p.category = r.str(5);
    p.employer = r.str(6);
    p.complained_unit = r.str(7);
    p.people = r.i32(8);
    p.accepted = r.i32(9) != 0;
    p.final = r.i32(10) != 0;
    for (absl::string_view person : absl::StrSplit(r.str(11), '\x1f', absl::SkipEmpty())) {
      std::pair<absl::string_view, absl::string_view> kv =
          absl::StrSplit(person, absl::MaxSplits(':', 1));
      int64_t id = 0;
      if (absl::SimpleAtoi(kv.first, &id)) p.persons.emplace_back(id, std::string(kv.second));
    }
    out.push_back(std::move(p));
  }
  return out;
}

class Batch final : public WarnBatch {
 public:
  Batch(Conn& conn, absl::Time now) : conn_(conn), now_(now) {}

  std::vector<WarnAnswer> Ask(const std::vector<WarnQuestion>& questions) override {
    std::vector<WarnAnswer> out(questions.size());
    if (questions.empty()) return out;
    SqlArray kinds, keys, sims, ats, wins, units, cats, los, splits, his;
    for (const WarnQuestion& q : questions) {
      kinds.AddText(KindName(q.kind));
      keys.AddText(q.key);
      // Stored similarities are reals: compare at that precision.
      sims.AddText(absl::StrCat(static_cast<float>(q.similarity)));
      ats.AddInt(ToMicros(q.at));
      wins.AddInt(absl::ToInt64Microseconds(q.window));
      units.AddText(Literal(q.scope->units));
      cats.AddText(Literal(q.scope->categories));
      los.AddText(q.lo);
      splits.AddText(q.split);
      his.AddText(q.hi);
    }
    const int limit = 2 * kMaxCounted + 1;
    for (Row r : conn_.Run(kAsk, {{"kinds", kinds.Literal()},
                                  {"keys", keys.Literal()},
                                  {"sims", sims.Literal()},
                                  {"ats", ats.Literal()},
                                  {"wins", wins.Literal()},
                                  {"units", units.Literal()},
                                  {"cats", cats.Literal()},
                                  {"los", los.Literal()},
                                  {"splits", splits.Literal()},
                                  {"his", his.Literal()},
                                  {"lim", limit}})) {
      const int i = r.i32(0) - 1;
      if (i < 0 || i >= static_cast<int>(out.size())) continue;
      const WarnQuestion::Kind kind = questions[i].kind;
      if (kind == WarnQuestion::Kind::kCategoryDays || kind == WarnQuestion::Kind::kUnitDays) {
        out[i].before = r.i32(5);
        out[i].recent = r.i32(6);
      } else {
        out[i].cases.push_back(CaseAt{r.i64(1), FromMicros(r.i64(2)), r.str(3), r.str(4)});
      }
    }
    for (WarnAnswer& a : out) {
      std::sort(a.cases.begin(), a.cases.end(), [](const CaseAt& x, const CaseAt& y) {
        return x.received_at != y.received_at ? x.received_at < y.received_at
                                              : x.case_id < y.case_id;
      });
    }
    return out;
  }

  std::pair<int64_t, bool> RaiseOrExtend(const WarnWave& w) override {
    SqlArray id_list, unit_list, complained_list;
    for (const CaseAt& c : w.cases) {
      id_list.AddInt(c.case_id);
      unit_list.AddText(c.unit);
      complained_list.AddText(c.complained_unit);
    }
    const std::string ids = id_list.Literal(), units = unit_list.Literal(),
                      complained = complained_list.Literal();
    const long long at = ToMicros(w.at), start = ToMicros(w.start), end = ToMicros(w.end);
    const long long now = ToMicros(now_), trigger = w.trigger_case_id;
    const Rows waved = conn_.Run(kWave, {{"rule", w.rule},
                                         {"kind", w.kind},
                                         {"severity", w.severity},
                                         {"title", w.rule_title},
                                         {"subject", w.subject},
                                         {"label", w.subject_label},
                                         {"now", now},
                                         {"start", start},
                                         {"end", end},
                                         {"at", at},
                                         {"ids", ids},
                                         {"units", units},
                                         {"complained", complained},
                                         {"detail", w.detail},
                                         {"trigger", trigger}});
    const int64_t id = waved.empty() ? 0 : waved[0].i64(0);
    const bool raised = !waved.empty() && waved[0].i32(1) != 0;
    if (raised) {
      InsertStep(conn_, id, /*WARNING_STATE_RAISED*/ 1, "system", now, w.detail);
      workflow::Event e;
      e.kind = "warning_raised";
      e.fields = {{"warning", absl::StrCat(id)},
                  {"rule", w.rule},
                  {"severity", absl::StrCat(w.severity)}};
      workflow::Actor system;
      system.account = "system";
      system.role = xinfang::v1::ROLE_SYSTEM;
      AppendToHistory(conn_, w.trigger_case_id, {e}, system, now_);
    }
    return {id, raised};
  }

  void Watch(const std::string& rule, int64_t case_id, absl::Time fire_at) override {
    conn_.Run(kWatch, {{"rule", rule}, {"id", case_id}, {"at", ToMicros(fire_at)}});
  }

 private:
  static const char* KindName(WarnQuestion::Kind k) {
    switch (k) {
      case WarnQuestion::Kind::kPerson:
        return "person";
      case WarnQuestion::Kind::kEmployer:
        return "employer";
      case WarnQuestion::Kind::kComplained:
        return "complained";
      case WarnQuestion::Kind::kCategoryDays:
        return "category_days";
      case WarnQuestion::Kind::kUnitDays:
        return "unit_days";
    }
    return "";
  }

  Conn& conn_;
  absl::Time now_;
};

}  // namespace

absl::StatusOr<int64_t> WarningStore::Rebuild(const std::string& zone, bool force) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  soci::session& s = lease->session();
  try {
    if (!force) {
      std::string kept;
      s << kCursorZone, soci::into(kept);
      if (s.got_data() && kept == zone) return 0;
    }
    soci::transaction tx(s);
    long long n = 0;
    s << kRebuild, soci::use(zone, "zone"), soci::into(n);
    tx.commit();
    return n;
  } catch (...) {
    return StatusFromCurrentException("recounting petitions for the warnings");
  }
}

absl::StatusOr<ProcessResult> WarningStore::Process(int max_events, absl::Time now,
                                                     const Decide& decide) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  soci::session& s = lease->session();
  try {
    soci::transaction tx(s);
    // One plan per prepared statement below (pq.h; the petitions' facts by
    // an array of ids had been planned anew for every batch, 1.2 ms at 1M).
    s << kKeepGenericPlans;
    ProcessResult result;
    long long after = 0;
    std::string zone;
    s << kClaimCursor, soci::into(after), soci::into(zone);
    if (!s.got_data()) {
      tx.rollback();
      return result;
    }
    result.consumed = 0;
    std::vector<int64_t> registered;
    long long last = after;
    ForEachRow(
        s, kNextEvents,
        [&](soci::statement& st) {
          st.exchange(soci::use(after, "after"));
          st.exchange(soci::use(max_events, "lim"));
        },
        [&](const soci::row& r) {
          last = r.get<long long>(0);
          ++result.consumed;
          if (r.get<std::string>(2) == "registered") registered.push_back(r.get<long long>(1));
        });
    Batch batch(lease->conn(), now);
    // One decision in a savepoint: a failure is rolled back alone.
    auto guarded = [&](const WarnItem& item) {
      s << "SAVEPOINT xf_warn";
      absl::Status st;
      try {
        st = decide(batch, item);
      } catch (...) {
        st = StatusFromCurrentException("evaluating the warning rules for a petition");
      }
      if (st.ok()) {
        s << "RELEASE SAVEPOINT xf_warn";
      } else {
        s << "ROLLBACK TO SAVEPOINT xf_warn";
        ++result.failed;
        result.last_error = absl::Status(
            st.code(), absl::StrCat(item.petition->tracking_number, ": ", st.message()));
      }
    };
    if (!registered.empty()) {
      const std::string ids = IntLiteral(registered);
      std::string fresh_text;
      s << kRecord, soci::use(ids, "ids"), soci::use(zone, "zone"), soci::into(fresh_text);
      std::set<int64_t> fresh;
      for (absl::string_view v : absl::StrSplit(fresh_text, ',', absl::SkipEmpty())) {
        int64_t id = 0;
        if (absl::SimpleAtoi(v, &id)) fresh.insert(id);
      }
      std::vector<int64_t> order;  // feed order, each once
      for (int64_t id : registered) {
        if (fresh.erase(id) > 0) order.push_back(id);
      }
      for (const WarnPetition& p : LoadPetitions(lease->conn(), IntLiteral(order))) {
        // Counted just before it is decided: the rules see the petitions
        // before it in the feed, never those after it in the batch.
        lease->conn().Run(kCount, {{"id", p.case_id}});
        guarded(WarnItem{&p, ""});
      }
    }
    {
      const long long now_us = ToMicros(now);
      const int limit = 500;
      std::vector<std::pair<std::string, int64_t>> due;
      for (Row r : lease->conn().Run(kDueWatches, {{"now", now_us}, {"lim", limit}})) {
        due.emplace_back(r.str(0), r.i64(1));
      }
      if (!due.empty()) {
        std::vector<int64_t> due_ids;
        for (const auto& d : due) due_ids.push_back(d.second);
        std::map<int64_t, WarnPetition> loaded;
        for (WarnPetition& p : LoadPetitions(lease->conn(), IntLiteral(due_ids))) {
          loaded.emplace(p.case_id, std::move(p));
        }
        for (const auto& d : due) {
          auto it = loaded.find(d.second);
          if (it != loaded.end()) guarded(WarnItem{&it->second, d.first});
        }
        result.consumed += static_cast<int>(due.size());
      }
    }
    if (last != after) s << kMoveCursor, soci::use(last, "pos");
    tx.commit();
    return result;
  } catch (...) {
    return StatusFromCurrentException("evaluating the warning rules");
  }
}

absl::StatusOr<std::vector<WarningRow>> WarningStore::List(const WarningQuery& q) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    const std::string units = Literal(q.units), hidden = Literal(q.hidden_from);
    SqlArray st;
    for (int x : q.states) st.AddInt(x);
    const std::string states = st.Literal();
    long long before = q.before_id;
    int limit = q.limit;
    std::vector<WarningRow> out;
    ForEachRow(
        lease->session(), kListWarnings,
        [&](soci::statement& s) {
          s.exchange(soci::use(units, "units"));
          s.exchange(soci::use(units, "units2"));
          s.exchange(soci::use(hidden, "hidden"));
          s.exchange(soci::use(states, "states"));
          s.exchange(soci::use(states, "states2"));
          s.exchange(soci::use(q.rule, "rule"));
          s.exchange(soci::use(q.rule, "rule2"));
          s.exchange(soci::use(before, "before"));
          s.exchange(soci::use(before, "before2"));
          s.exchange(soci::use(limit, "lim"));
        },
        [&](const soci::row& r) { out.push_back(ReadWarning(r)); });
    return out;
  } catch (...) {
    return StatusFromCurrentException("listing warnings");
  }
}

namespace {

absl::StatusOr<WarningRow> GetIn(soci::session& s, int64_t id) {
  long long wid = id;
  std::optional<WarningRow> w;
  ForEachRow(
      s, kGetWarning, [&](soci::statement& st) { st.exchange(soci::use(wid, "id")); },
      [&](const soci::row& r) { w = ReadWarning(r); });
  if (!w) return absl::NotFoundError(absl::StrCat("warning ", id, " not found"));
  ForEachRow(
      s, kWarningCases, [&](soci::statement& st) { st.exchange(soci::use(wid, "id")); },
      [&](const soci::row& r) {
        WarningRow::Case c{r.get<long long>(0), r.get<std::string>(1), r.get<std::string>(2),
                           r.get<std::string>(3), FromMicros(r.get<long long>(4)), {}};
        for (absl::string_view a :
             absl::StrSplit(r.get<std::string>(5), ',', absl::SkipEmpty())) {
          c.conflicted_accounts.emplace_back(a);
        }
        w->cases.push_back(std::move(c));
      });
  ForEachRow(
      s, kWarningSteps, [&](soci::statement& st) { st.exchange(soci::use(wid, "id")); },
      [&](const soci::row& r) {
        w->steps.push_back(WarningRow::Step{r.get<int>(0), r.get<std::string>(1),
                                            r.get<std::string>(3),
                                            FromMicros(r.get<long long>(2))});
      });
  return *std::move(w);
}

}  // namespace

absl::StatusOr<WarningRow> WarningStore::Get(int64_t id) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    return GetIn(lease->session(), id);
  } catch (...) {
    return StatusFromCurrentException("reading a warning");
  }
}

absl::StatusOr<WarningRow> WarningStore::SetState(int64_t id, int64_t expected_version,
                                                  int state, const std::string& by,
                                                  const std::string& note, absl::Time now) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  soci::session& s = lease->session();
  try {
    soci::transaction tx(s);
    long long wid = id, expected = expected_version, version = 0, at = ToMicros(now);
    s << kSetState, soci::use(state, "state"), soci::use(wid, "id"),
        soci::use(expected, "expected"), soci::into(version);
    if (!s.got_data()) {
      long long current = 0;
      s << kWarningVersion, soci::use(wid, "id"), soci::into(current);
      if (!s.got_data()) return absl::NotFoundError(absl::StrCat("warning ", id, " not found"));
      return absl::AbortedError(absl::StrCat("warning ", id, " is at version ", current,
                                             ", not ", expected_version,
                                             ": read it again and retry"));
    }
    InsertStep(lease->conn(), id, state, by, at, note);
    absl::StatusOr<WarningRow> w = GetIn(s, id);
    if (!w.ok()) return w.status();
    tx.commit();
    return w;
  } catch (...) {
    return StatusFromCurrentException("updating a warning");
  }
}

absl::StatusOr<ReportCounts> WarningStore::Report(const ReportQuery& q) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  soci::session& s = lease->session();
  try {
    ReportCounts out;
    const std::string units = Literal(q.units);
    auto bind_periods = [&](soci::statement& st) {
      st.exchange(soci::use(q.from[0], "f0"));
      st.exchange(soci::use(q.to[0], "t0"));
      st.exchange(soci::use(q.from[1], "f1"));
      st.exchange(soci::use(q.to[1], "t1"));
      st.exchange(soci::use(q.from[2], "f2"));
      st.exchange(soci::use(q.to[2], "t2"));
      st.exchange(soci::use(units, "units"));
      st.exchange(soci::use(units, "units2"));
    };
    ForEachRow(s, kReportDims, bind_periods, [&](const soci::row& r) {
      out.dims[r.get<std::string>(1)][r.get<std::string>(2)][r.get<int>(0)] = r.get<int>(3);
    });
    ForEachRow(s, kReportUnits, bind_periods, [&](const soci::row& r) {
      out.by_unit[r.get<std::string>(1)][r.get<int>(0)] = r.get<int>(2);
    });
    auto top = [&](const std::string& dim, std::vector<std::pair<std::string, int>>* into) {
      ForEachRow(
          s, kReportTop,
          [&](soci::statement& st) {
            st.exchange(soci::use(dim, "dim"));
            st.exchange(soci::use(q.from[0], "f0"));
            st.exchange(soci::use(q.to[0], "t0"));
            st.exchange(soci::use(units, "units"));
            st.exchange(soci::use(units, "units2"));
          },
          [&](const soci::row& r) { into->emplace_back(r.get<std::string>(0), r.get<int>(1)); });
    };
    top("employer", &out.top_employers);
    std::vector<std::pair<std::string, int>> persons;
    top("repeat_person", &persons);
    if (!persons.empty()) {
      SqlArray ids;
      for (const auto& p : persons) {
        int64_t id = 0;
        if (absl::SimpleAtoi(p.first, &id)) ids.AddInt(id);
      }
      const std::string lit = ids.Literal();
      std::map<std::string, std::string> names;
      ForEachRow(
          s, kPersonNames, [&](soci::statement& st) { st.exchange(soci::use(lit, "ids")); },
          [&](const soci::row& r) { names[r.get<std::string>(0)] = r.get<std::string>(1); });
      for (const auto& p : persons) out.repeat_persons.emplace_back(names[p.first], p.second);
    }
    const long long now = ToMicros(q.now);
    static const char* kBuckets[] = {"0-15", "16-30", "31-60", "61-90", "91+"};
    std::array<int, 5> backlog{};
    ForEachRow(
        s, kReportBacklog,
        [&](soci::statement& st) {
          st.exchange(soci::use(now, "now"));
          st.exchange(soci::use(units, "units"));
          st.exchange(soci::use(units, "units2"));
        },
        [&](const soci::row& r) {
          const int b = r.get<int>(0);
          if (b >= 0 && b < 5) backlog[b] = r.get<int>(1);
        });
    for (int i = 0; i < 5; ++i) out.backlog_by_age.emplace_back(kBuckets[i], backlog[i]);
    const long long from = ToMicros(q.period_start), to = ToMicros(q.period_end);
    s << kReportWarnings, soci::use(from, "from"), soci::use(to, "to"),
        soci::use(units, "units"), soci::use(units, "units2"), soci::into(out.warnings_raised);
    return out;
  } catch (...) {
    return StatusFromCurrentException("computing the situation report");
  }
}

}  // namespace xinfang::storage
