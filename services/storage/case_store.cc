#include "services/storage/case_store.h"

#include <openssl/sha.h>
#include <soci/soci.h>

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "services/storage/json.h"
#include "services/storage/listener.h"
#include "services/storage/sql_array.h"

namespace xinfang::storage {
namespace {

using workflow::CaseSnapshot;
using workflow::TimerState;

// The columns of a case row that ReadSnapshot reads, in its order (all but
// attributes and timers).
#define XF_SNAPSHOT_COLUMNS                                                               \
  "workflow, workflow_version, state, xf_us(received_at), responsible_unit, "             \
  "coalesce(forwarder_unit, ''), coalesce(review_unit, ''), coalesce(recheck_unit, ''), " \
  "coalesce(case_officer, ''), anonymous::int, xf_us(accepted_at), xf_us(decided_at), "   \
  "xf_us(served_at), xf_us(closed_at), coalesce(outcome, ''), coalesce(evaluation, ''), " \
  "flags, conflicted_accounts, xf_us(state_entered_at), xf_us(unit_received_at), "          \
  "coalesce(complained_about_unit, '')"

// The timer columns as text fields for string_agg: one timer is
// "name,started,…" (no field holds a comma: names are identifiers, the rest
// numbers and dates), timers are separated by ';'. In XF_TIMER_COLUMNS' order.
#define XF_TIMER_FIELDS                                                                  \
  "t.name, xf_us(t.started_at), t.due_day, xf_us(t.due_at), xf_us(t.warn_at), "           \
  "t.provisional::int, coalesce(xf_us(t.suspended_at)::text, ''), t.extended::int, "      \
  "t.warned::int, t.overdue::int, t.rung, t.counted_from, t.base_days, t.extension_days, " \
  "t.stopped_days, t.rolled::int"

// A case with its petitioners' registry ids ("position:person,…"), its
// related cases' tracking numbers ("XF…,XF…"), its attributes (a JSON
// object), the actions taken and its timers in one row: one round trip.
#define XF_SELECT_CASE \
    "SELECT id, tracking_number, version, head_seq, head_hash, xf_us(registered_at), " \
    "       registered_by, intake::text, " XF_SNAPSHOT_COLUMNS ", " \
    "       (SELECT coalesce(string_agg(p.position || ':' || p.person_id, ','), '') " \
    "          FROM case_petitioners p WHERE p.case_id = cases.id), " \
    "       (SELECT coalesce(string_agg(r.tracking_number, ',' ORDER BY r.id), '') " \
    "          FROM cases r WHERE r.id IN (" \
    "            SELECT e.case_id FROM case_petitioners p JOIN case_petitioners e " \
    "                ON e.person_id = p.person_id AND e.category = p.category " \
    "               AND e.case_id < p.case_id " \
    "             WHERE p.case_id = cases.id)), " \
    "       attributes::text, " \
    "       (SELECT coalesce(json_agg(json_build_array(e.action, e.from_state, e.to_state, " \
    "                        e.actor, e.actor_unit, xf_us(e.at)::text, e.fields) ORDER BY e.seq), " \
    "                        '[]')::text " \
    "          FROM case_events e WHERE e.case_id = cases.id AND e.action <> ''), " \
    "       (SELECT coalesce(string_agg(concat_ws(',', " XF_TIMER_FIELDS "), ';'), '') " \
    "          FROM case_timers t WHERE t.case_id = cases.id) " \
    "  FROM cases"

const Sql kSelectCaseById{XF_SELECT_CASE " WHERE id = :id"};
const Sql kSelectCaseByTracking{XF_SELECT_CASE " WHERE tracking_number = :t"};

// The columns ReadEvent reads, in its order.
#define XF_EVENT_COLUMNS                                                                   \
  "e.id, e.case_id, e.seq, e.kind, e.action, e.from_state, e.to_state, e.actor, "          \
  "e.actor_role::int, e.actor_unit, xf_us(e.at), e.note, e.fields::text, e.prev_hash, e.hash"

#define XF_TIMER_COLUMNS                                                                \
  "t.name, xf_us(t.started_at), t.due_day::text, xf_us(t.due_at), xf_us(t.warn_at), " \
  "t.provisional::int, xf_us(t.suspended_at), t.extended::int, t.warned::int, "       \
  "t.overdue::int, t.rung, t.counted_from::text, t.base_days, t.extension_days, "      \
  "t.stopped_days, t.rolled::int"

// How many columns XF_TIMER_COLUMNS has (ReadTimer reads them all).
constexpr std::size_t kTimerColumnCount = 16;


// A unit and everything below it (all units for '').
#define XF_SCOPE_CTE                                                  \
  "WITH RECURSIVE scope(code) AS ("                                   \
  "  SELECT code FROM units WHERE :unit = '' OR code = :unit"         \
  "  UNION SELECT u.code FROM units u JOIN scope ON u.parent = scope.code) "

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

const Sql kSequence{ R"sql(
  WITH pending AS (
         SELECT id, row_number() OVER (ORDER BY id) AS rn
           FROM case_events WHERE position IS NULL ORDER BY id LIMIT :max),
       placed AS (
         UPDATE case_events e SET position = b.last_position + p.rn
           FROM pending p, event_sequencer b WHERE e.id = p.id
         RETURNING e.position)
  UPDATE event_sequencer SET last_position = coalesce((SELECT max(position) FROM placed),
                                                      last_position)
  RETURNING (SELECT count(*) FROM placed)::int)sql"};

const Sql kReadFeed{
    XF_SCOPE_CTE
    "SELECT e.position, c.tracking_number, c.responsible_unit, "
    "       coalesce(c.complained_about_unit, ''), c.conflicted_accounts, "
    "       CASE WHEN c.responsible_unit = c.registering_unit THEN c.registering_unit "
    "            ELSE '' END, c.workflow, c.workflow_version, " XF_EVENT_COLUMNS " "
    "  FROM case_events e JOIN cases c ON c.id = e.case_id "
    " WHERE e.position > :after "
    "   AND (:case1 = 0 OR e.case_id = :case2) "
    "   AND (:unit3 = '' OR c.responsible_unit IN (SELECT code FROM scope)) "
    "   AND (:kinds1 = '' OR e.kind = ANY (string_to_array(:kinds2, ','))) "
    " ORDER BY e.position LIMIT :lim"};

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
    "          AND d.owing_unit IN (SELECT code FROM scope))::int"};

// Cases received in the period at units of the subtree.
#define XF_RECEIVED                                                                  \
  " FROM cases c WHERE c.received_at >= xf_ts(:from) AND c.received_at < xf_ts(:to) " \
  "   AND c.responsible_unit IN (SELECT code FROM scope) "

const Sql kStatsReceived{
    XF_SCOPE_CTE
    "SELECT count(*)::int, "
    "  (count(*) FILTER (WHERE EXISTS (SELECT 1 FROM case_links l "
    "                    WHERE l.case_id = c.id AND l.kind = 'repeat')))::int, "
    "  (count(*) FILTER (WHERE c.channel = 4))::int " XF_RECEIVED};

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
    "   AND NOT EXISTS (SELECT 1 FROM case_timers t WHERE t.case_id = c.id AND t.name = :eval)"};

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
    "           AND c.responsible_unit IN (SELECT code FROM scope))::float8 / 86400"};

const Sql kDashboard{
    XF_SCOPE_CTE
    "SELECT c.responsible_unit, c.stage::int, count(DISTINCT c.id)::int, "
    "  (count(t.name) FILTER (WHERE t.suspended_at IS NULL AND t.due_at > xf_ts(:now1) "
    "                          AND t.due_at <= xf_ts(:soon)))::int, "
    "  (count(t.name) FILTER (WHERE t.suspended_at IS NULL AND t.due_at <= xf_ts(:now2)))::int, "
    "  (count(t.name) FILTER (WHERE t.rung > 0))::int, "
    "  (count(t.name) FILTER (WHERE t.name = :notice))::int "
    "  FROM cases c LEFT JOIN case_timers t ON t.case_id = c.id "
    " WHERE NOT c.final AND c.responsible_unit IN (SELECT code FROM scope) "
    " GROUP BY 1, 2 ORDER BY 1, 2"};

// The case row as a registration inserts it, with its history's head.
const Sql kInsertCase{R"sql(
  INSERT INTO cases (id, tracking_number, request_id, workflow, workflow_version, state, stage,
                     final, channel, received_at, registered_at, registered_by,
                     registering_unit, responsible_unit, forwarder_unit, anonymous, purpose,
                     category, complained_about_unit, summary, flags, intake, updated_at,
                     state_entered_at, unit_received_at, request_hash, closed_at, attributes,
                     head_seq, head_hash)
  VALUES (:id, :tracking, :request_id, :workflow, :workflow_version, :state, :stage,
          (:final = 1), :channel, xf_ts(:received_at), xf_ts(:now), :registered_by,
          :registering_unit, :responsible_unit, nullif(:forwarder_unit, ''), (:anonymous = 1),
          :purpose, :category, nullif(:complained_unit, ''), :summary, :flags,
          CAST(:intake AS jsonb), xf_ts(:now), xf_ts(:state_entered_at),
          xf_ts(:unit_received_at), :request_hash, xf_ts(:closed_at),
          CAST(:attributes AS jsonb), :head_seq, :head_hash))sql"};

// A registration's numbers: the case's id (its events' hashes include it)
// and its tracking number.
const Sql kNextIds{"SELECT nextval('cases_id_seq'), nextval('tracking_seq')"};

// Before a change: the case row locked as the change's UPDATE would lock
// it, its version and history head, and the timers it replaces (read under
// that lock).
const Sql kLockCase{
    "SELECT version, head_seq, head_hash FROM cases WHERE id = :id FOR NO KEY UPDATE"};
const Sql kOldTimers{
    "SELECT name, xf_us(started_at), xf_us(due_at), owing_unit, overdue "
    "  FROM case_timers WHERE case_id = :id"};

const Sql kSelectEvents{
    "SELECT " XF_EVENT_COLUMNS " FROM case_events e WHERE e.case_id = :id ORDER BY e.seq"};


// ---- The sweeper's path: a batch of cases per transaction, written with a
// few set-based statements ----

// Locks up to :lim cases with due timers, earliest first. Only the case rows
// are locked: every writer locks the case row first, so sweepers and
// casework never deadlock; SKIP LOCKED lets sweepers share the work. A case
// with several due timers may come more than once.
const Sql kClaimDue{ R"sql(
  SELECT c.id FROM case_timers t JOIN cases c ON c.id = t.case_id
   WHERE t.next_fire_at <= xf_ts(:now)
   ORDER BY t.next_fire_at LIMIT :lim
   FOR UPDATE OF c SKIP LOCKED)sql"};

// The claimed cases (:ids, an array literal), read after the claim: what
// another sweeper committed before our lock was granted is seen.
const Sql kSweepCases{
    "SELECT id, tracking_number, version, head_seq, head_hash, " XF_SNAPSHOT_COLUMNS
    "  FROM cases WHERE id = ANY (CAST(:ids AS bigint[]))"};

const Sql kSweepAttributes{
    "SELECT c.id, a.key, a.value FROM cases c, jsonb_each_text(c.attributes) a "
    " WHERE c.id = ANY (CAST(:ids AS bigint[]))"};

// Due timers come first, earliest (then by name) first: the order to fire them.
const Sql kSweepTimers{
    "SELECT t.case_id, " XF_TIMER_COLUMNS
    ", t.owing_unit, xf_us(t.next_fire_at) "
    "  FROM case_timers t WHERE t.case_id = ANY (CAST(:ids AS bigint[])) "
    " ORDER BY t.case_id, t.next_fire_at, t.name"};

// Undecidable cases: their due timers wait kSweepRetryDelay.
const Sql kSweepPutBack{ R"sql(
  UPDATE case_timers SET next_fire_at = xf_ts(:retry)
   WHERE case_id = ANY (CAST(:ids AS bigint[])) AND next_fire_at <= xf_ts(:now))sql"};

// ---- The one write path (ChangeBatch): a registration, an action, a warning
// raised and the sweeper's batch all write with these statements ----

// The changed case rows with the new head of each history; returns how many
// passed the version check.
const Sql kWriteCases{ R"sql(
  WITH changed AS (
    UPDATE cases c SET
      version = c.version + 1, state = n.state, stage = n.stage, final = n.final,
      responsible_unit = n.responsible_unit,
      forwarder_unit = nullif(n.forwarder_unit, ''), review_unit = nullif(n.review_unit, ''),
      recheck_unit = nullif(n.recheck_unit, ''), case_officer = nullif(n.case_officer, ''),
      accepted_at = xf_ts(n.accepted_at), decided_at = xf_ts(n.decided_at),
      served_at = xf_ts(n.served_at), closed_at = xf_ts(n.closed_at),
      outcome = nullif(n.outcome, ''), evaluation = nullif(n.evaluation, ''),
      flags = n.flags, attributes = n.attributes, conflicted_accounts = n.conflicted,
      updated_at = xf_ts(:now), state_entered_at = xf_ts(n.state_entered_at),
      unit_received_at = xf_ts(n.unit_received_at), head_seq = n.head_seq,
      head_hash = n.head_hash
    FROM unnest(CAST(:id AS bigint[]), CAST(:expected AS bigint[]), CAST(:state AS text[]),
                CAST(:stage AS smallint[]), CAST(:final AS boolean[]),
                CAST(:responsible_unit AS text[]), CAST(:forwarder_unit AS text[]),
                CAST(:review_unit AS text[]), CAST(:recheck_unit AS text[]),
                CAST(:case_officer AS text[]), CAST(:accepted_at AS bigint[]),
                CAST(:decided_at AS bigint[]), CAST(:served_at AS bigint[]),
                CAST(:closed_at AS bigint[]), CAST(:outcome AS text[]),
                CAST(:evaluation AS text[]), CAST(:flags AS text[]),
                CAST(:attributes AS jsonb[]), CAST(:conflicted AS text[]),
                CAST(:state_entered_at AS bigint[]), CAST(:unit_received_at AS bigint[]),
                CAST(:head_seq AS integer[]), CAST(:head_hash AS text[]))
      AS n(id, expected, state, stage, final, responsible_unit, forwarder_unit, review_unit,
           recheck_unit, case_officer, accepted_at, decided_at, served_at, closed_at, outcome,
           evaluation, flags, attributes, conflicted, state_entered_at, unit_received_at,
           head_seq, head_hash)
    WHERE c.id = n.id AND c.version = n.expected
    RETURNING 1)
  SELECT count(*)::int FROM changed)sql"};

// The events, all by one actor at one instant, inserted (and so numbered)
// in the order given.
const Sql kWriteEvents{ R"sql(
  INSERT INTO case_events (case_id, seq, kind, action, from_state, to_state, actor, actor_role,
                           actor_unit, at, note, fields, prev_hash, hash)
  SELECT n.case_id, n.seq, n.kind, n.action, n.from_state, n.to_state, CAST(:actor AS text),
         CAST(:role AS smallint), CAST(:unit AS text), xf_ts(:at), n.note, n.fields,
         n.prev_hash, n.hash
    FROM unnest(CAST(:case_id AS bigint[]), CAST(:seq AS integer[]), CAST(:kind AS text[]),
                CAST(:action AS text[]), CAST(:from_state AS text[]),
                CAST(:to_state AS text[]), CAST(:note AS text[]), CAST(:fields AS jsonb[]),
                CAST(:prev_hash AS text[]), CAST(:hash AS text[]))
      WITH ORDINALITY
      AS n(case_id, seq, kind, action, from_state, to_state, note, fields, prev_hash, hash, i)
   ORDER BY n.i
  RETURNING id, case_id, seq)sql"};

// The new head of histories appended to without a change of the case (a
// warning raised): no version change.
const Sql kWriteHeads{R"sql(
  UPDATE cases c SET head_seq = n.seq, head_hash = n.hash
    FROM unnest(CAST(:id AS bigint[]), CAST(:seq AS integer[]), CAST(:hash AS text[]))
      AS n(id, seq, hash)
   WHERE c.id = n.id)sql"};

const Sql kWriteDeleteTimers{
    "DELETE FROM case_timers WHERE case_id = ANY (CAST(:ids AS bigint[]))"};

const Sql kWriteTimers{ R"sql(
  INSERT INTO case_timers (case_id, name, started_at, due_day, due_at, warn_at, provisional,
                           suspended_at, extended, warned, overdue, rung, next_fire_at,
                           owing_unit, counted_from, base_days, extension_days, stopped_days,
                           rolled)
  SELECT n.case_id, n.name, xf_ts(n.started_at), n.due_day, xf_ts(n.due_at), xf_ts(n.warn_at),
         n.provisional, xf_ts(n.suspended_at), n.extended, n.warned, n.overdue, n.rung,
         xf_ts(n.next_fire_at), n.owing_unit, n.counted_from, n.base_days, n.extension_days,
         n.stopped_days, n.rolled
    FROM unnest(CAST(:case_id AS bigint[]), CAST(:name AS text[]),
                CAST(:started_at AS bigint[]), CAST(:due_day AS date[]),
                CAST(:due_at AS bigint[]), CAST(:warn_at AS bigint[]),
                CAST(:provisional AS boolean[]), CAST(:suspended_at AS bigint[]),
                CAST(:extended AS boolean[]), CAST(:warned AS boolean[]),
                CAST(:overdue AS boolean[]), CAST(:rung AS integer[]),
                CAST(:next_fire_at AS bigint[]), CAST(:owing_unit AS text[]),
                CAST(:counted_from AS date[]), CAST(:base_days AS integer[]),
                CAST(:extension_days AS integer[]), CAST(:stopped_days AS integer[]),
                CAST(:rolled AS boolean[]))
      AS n(case_id, name, started_at, due_day, due_at, warn_at, provisional, suspended_at,
           extended, warned, overdue, rung, next_fire_at, owing_unit, counted_from, base_days,
           extension_days, stopped_days, rolled))sql"};

const Sql kWriteClosed{ R"sql(
  INSERT INTO deadline_log (case_id, name, owing_unit, started_at, due_at, closed_at, met)
  SELECT n.case_id, n.name, n.unit, xf_ts(n.started), xf_ts(n.due), xf_ts(:closed), n.met
    FROM unnest(CAST(:case_id AS bigint[]), CAST(:name AS text[]), CAST(:unit AS text[]),
                CAST(:started AS bigint[]), CAST(:due AS bigint[]), CAST(:met AS boolean[]))
      AS n(case_id, name, unit, started, due, met))sql"};

// A notification per case (sent at commit).
const Sql kWriteNotify{ "SELECT count(*)::int FROM (SELECT pg_notify('" XF_EVENTS_CHANNEL
                                "', CAST(n.id AS text)) "
                                "  FROM unnest(CAST(:ids AS bigint[])) AS n(id)) notified"};

std::string Hex(const unsigned char* p, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 15];
  }
  return out;
}

void AppendField(std::string* out, absl::string_view v) {
  absl::StrAppend(out, v.size(), ":", v, ";");
}

std::string JoinSet(const std::set<std::string>& s) { return absl::StrJoin(s, ","); }

std::set<std::string> SplitSet(const std::string& s) {
  std::set<std::string> out;
  for (absl::string_view part : absl::StrSplit(s, ',', absl::SkipEmpty())) {
    out.emplace(part);
  }
  return out;
}

absl::CivilDay ParseDay(absl::string_view s) {
  absl::CivilDay d;
  absl::ParseCivilTime(s, &d);
  return d;
}

// Optional instant <-> (micros, indicator) for SOCI.
// An optional instant as micros (NULL when absent).
struct OptTime {
  std::optional<int64_t> us;
  OptTime() = default;
  explicit OptTime(const std::optional<absl::Time>& t) {
    if (t.has_value()) us = ToMicros(*t);
  }
  // Unset instants (absl::Time()) are stored as NULL.
  static OptTime UnlessUnset(absl::Time t) {
    return OptTime(t == absl::Time() ? std::nullopt : std::optional(t));
  }
  std::optional<int64_t> micros() const { return us; }
};

std::optional<absl::Time> GetOptTime(const Row& r, int i) {
  if (r.null(i)) return std::nullopt;
  return FromMicros(r.i64(i));
}

// "张**": the first character of a name, then one * per further character
// (UTF-8 aware), for messages that must not disclose a person.
std::string MaskName(const std::string& name) {
  std::string out;
  int chars = 0;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const bool lead = (static_cast<unsigned char>(name[i]) & 0xC0) != 0x80;
    if (lead) ++chars;
    if (chars <= 1) {
      out += name[i];
    } else if (lead) {
      out += '*';
    }
  }
  return out;
}

// A timer from its fields in XF_TIMER_COLUMNS' order, as text: from a row's
// columns or from one entry of XF_TIMER_FIELDS' string_agg.
template <typename Field>
TimerState TimerFromFields(const Field& f) {
  auto num = [&](int k) {
    int64_t v = 0;
    (void)absl::SimpleAtoi(f(k), &v);
    return v;
  };
  TimerState ts;
  ts.name = std::string(f(0));
  ts.started_at = FromMicros(num(1));
  ts.deadline.due_day = ParseDay(f(2));
  ts.deadline.due_at = FromMicros(num(3));
  ts.warn_at = FromMicros(num(4));
  ts.deadline.provisional = num(5) != 0;
  if (!f(6).empty()) ts.suspended_at = FromMicros(num(6));
  ts.extended = num(7) != 0;
  ts.warned = num(8) != 0;
  ts.overdue = num(9) != 0;
  ts.rung = static_cast<int>(num(10));
  ts.deadline.counted_from = ParseDay(f(11));
  ts.deadline.base_days = static_cast<int>(num(12));
  ts.deadline.extension_days = static_cast<int>(num(13));
  ts.deadline.stopped_days = static_cast<int>(num(14));
  ts.deadline.rolled = num(15) != 0;
  return ts;
}

// Reads the XF_TIMER_COLUMNS starting at column `j`.
TimerState ReadTimer(const Row& r, int j) {
  return TimerFromFields([&](int k) { return r.view(j + k); });
}

// The timers of XF_TIMER_FIELDS' string_agg.
std::vector<TimerState> ParseTimers(absl::string_view agg) {
  std::vector<TimerState> out;
  for (absl::string_view one : absl::StrSplit(agg, ';', absl::SkipEmpty())) {
    const std::vector<absl::string_view> f = absl::StrSplit(one, ',');
    if (f.size() != kTimerColumnCount) continue;
    out.push_back(TimerFromFields([&](int k) { return f[k]; }));
  }
  return out;
}

// Reads the XF_EVENT_COLUMNS starting at column `i`.
StoredEvent ReadEvent(const Row& r, int i) {
  StoredEvent e;
  e.id = r.i64(i++);
  e.case_id = r.i64(i++);
  e.seq = r.i32(i++);
  e.event.kind = r.str(i++);
  e.event.action = r.str(i++);
  e.event.from_state = r.str(i++);
  e.event.to_state = r.str(i++);
  e.actor.account = r.str(i++);
  e.actor.role = static_cast<xinfang::v1::Role>(r.i32(i++));
  e.actor.unit = r.str(i++);
  e.at = FromMicros(r.i64(i++));
  e.event.note = r.str(i++);
  google::protobuf::Struct fields;
  if (google::protobuf::util::JsonStringToMessage(r.str(i++), &fields).ok()) {
    for (const auto& [k, v] : fields.fields()) e.event.fields[k] = v.string_value();
  }
  e.prev_hash = r.str(i++);
  e.hash = r.str(i++);
  return e;
}

// Reads the XF_SNAPSHOT_COLUMNS starting at column `i`; the column after them.
int ReadSnapshot(const Row& r, int i, CaseSnapshot* snap) {
  snap->workflow = r.str(i++);
  snap->workflow_version = r.i32(i++);
  snap->state = r.str(i++);
  snap->received_at = FromMicros(r.i64(i++));
  snap->responsible_unit = r.str(i++);
  snap->forwarder_unit = r.str(i++);
  snap->review_unit = r.str(i++);
  snap->recheck_unit = r.str(i++);
  snap->case_officer = r.str(i++);
  snap->anonymous = r.boolean(i++);
  snap->accepted_at = GetOptTime(r, i++);
  snap->decided_at = GetOptTime(r, i++);
  snap->served_at = GetOptTime(r, i++);
  snap->closed_at = GetOptTime(r, i++);
  snap->outcome = r.str(i++);
  snap->evaluation = r.str(i++);
  snap->flags = SplitSet(r.str(i++));
  snap->conflicted_accounts = SplitSet(r.str(i++));
  snap->state_entered_at = GetOptTime(r, i++).value_or(absl::Time());
  snap->unit_received_at = GetOptTime(r, i++).value_or(absl::Time());
  snap->complained_about_unit = r.str(i++);
  return i;
}

// Puts the timers in definition order, as the engine keeps them (left as
// they are without an engine).
void SortTimers(const workflow::Engine* engine, CaseSnapshot* snap) {
  if (engine == nullptr) return;
  const auto& defs = engine->definition().proto().timers();
  auto index = [&](const std::string& name) {
    for (int k = 0; k < defs.size(); ++k) {
      if (defs[k].name() == name) return k;
    }
    return defs.size();
  };
  std::stable_sort(
      snap->timers.begin(), snap->timers.end(),
      [&](const TimerState& a, const TimerState& b) { return index(a.name) < index(b.name); });
}

// A case from a row of XF_SELECT_CASE.
absl::StatusOr<CaseRecord> ParseCase(const Row& r, const CaseStore::EngineLookup& engine_for) {
  CaseRecord c;
  int i = 0;
  c.id = r.i64(i++);
  c.tracking_number = r.str(i++);
  c.version = r.i64(i++);
  c.head_seq = r.i32(i++);
  c.head_hash = r.str(i++);
  c.registered_at = FromMicros(r.i64(i++));
  c.registered_by = r.str(i++);
  const std::string intake_json = r.str(i++);
  CaseSnapshot& snap = c.snapshot;
  i = ReadSnapshot(r, i, &snap);
  const absl::string_view petitioners = r.view(i++);
  const absl::string_view related = r.view(i++);
  const std::string attributes = r.str(i++);
  const std::string actions = r.str(i++);
  snap.timers = ParseTimers(r.view(i++));
  google::protobuf::util::JsonParseOptions jopts;
  jopts.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(intake_json, &c.intake, jopts).ok()) {
    return absl::InternalError(absl::StrCat("case ", c.id, ": stored intake does not parse"));
  }
  google::protobuf::Struct attribute_values;
  if (!google::protobuf::util::JsonStringToMessage(attributes, &attribute_values).ok()) {
    return absl::InternalError(absl::StrCat("case ", c.id, ": stored attributes do not parse"));
  }
  for (const auto& [key, value] : attribute_values.fields()) {
    snap.attributes[key] = value.string_value();
  }
  google::protobuf::ListValue taken;
  if (!google::protobuf::util::JsonStringToMessage(actions, &taken).ok()) {
    return absl::InternalError(absl::StrCat("case ", c.id, ": stored actions do not parse"));
  }
  for (const google::protobuf::Value& v : taken.values()) {
    const auto& a = v.list_value().values();
    if (a.size() != 7) continue;
    TakenAction t{a[0].string_value(), a[1].string_value(), a[2].string_value(),
                  a[3].string_value(), a[4].string_value(), absl::InfinitePast(), {}};
    long long us = 0;
    if (absl::SimpleAtoi(a[5].string_value(), &us)) t.at = FromMicros(us);
    for (const auto& [key, value] : a[6].struct_value().fields()) t.fields[key] = value.string_value();
    c.actions.push_back(std::move(t));
  }
  for (absl::string_view entry : absl::StrSplit(petitioners, ',', absl::SkipEmpty())) {
    int position = 0;
    long long person = 0;
    const auto colon = entry.find(':');
    if (colon == absl::string_view::npos || !absl::SimpleAtoi(entry.substr(0, colon), &position) ||
        !absl::SimpleAtoi(entry.substr(colon + 1), &person)) {
      continue;
    }
    if (position >= 0 && position < c.intake.petitioners_size()) {
      c.intake.mutable_petitioners(position)->set_person_id(person);
    }
  }
  for (absl::string_view tn : absl::StrSplit(related, ',', absl::SkipEmpty())) {
    c.related_tracking_numbers.emplace_back(tn);
  }
  SortTimers(engine_for(snap.workflow, snap.workflow_version), &snap);
  return c;
}

// A case by id (`tracking` empty) or by tracking number: one statement.
absl::StatusOr<CaseRecord> LoadCase(Conn& conn, int64_t id, const std::string& tracking,
                                    const CaseStore::EngineLookup& engine_for) {
  Rows rows = tracking.empty() ? conn.Run(kSelectCaseById, {{"id", id}})
                               : conn.Run(kSelectCaseByTracking, {{"t", tracking}});
  if (rows.empty()) {
    return absl::NotFoundError(tracking.empty() ? absl::StrCat("case ", id, " not found")
                                                : absl::StrCat("case ", tracking, " not found"));
  }
  return ParseCase(rows[0], engine_for);
}

// The unit that owes a deadline: a timer that runs only in review states is
// the review unit's, only in re-check states the re-check unit's; any other
// (one that spans stages, like a supervision notice's) the responsible unit's.
std::string OwingUnit(const CaseSnapshot& snap, const workflow::Engine* engine,
                      const std::string& timer) {
  const xinfang::v1::Timer* spec =
      engine != nullptr ? engine->definition().FindTimer(timer) : nullptr;
  if (spec == nullptr || spec->running_in().empty()) return snap.responsible_unit;
  auto only = [&](xinfang::v1::Stage stage) {
    return std::all_of(spec->running_in().begin(), spec->running_in().end(),
                       [&](const std::string& state) {
                         const auto* st = engine->definition().FindState(state);
                         return st != nullptr && st->stage() == stage;
                       });
  };
  if (only(xinfang::v1::STAGE_REVIEW) && !snap.review_unit.empty()) return snap.review_unit;
  if (only(xinfang::v1::STAGE_RECHECK) && !snap.recheck_unit.empty()) return snap.recheck_unit;
  return snap.responsible_unit;
}

// The columns a change writes to a case row besides the snapshot's own
// strings (kUpdateCase, kWriteCases).
struct CaseColumns {
  CaseColumns(const CaseSnapshot& snap, const workflow::Engine& engine) {
    const xinfang::v1::State* state = engine.definition().FindState(snap.state);
    stage = state != nullptr ? static_cast<int>(state->stage()) : 0;
    final = state != nullptr && state->final() ? 1 : 0;
    accepted = OptTime(snap.accepted_at);
    decided = OptTime(snap.decided_at);
    served = OptTime(snap.served_at);
    closed = OptTime(snap.closed_at);
    entered = OptTime::UnlessUnset(snap.state_entered_at);
    unit_received = OptTime::UnlessUnset(snap.unit_received_at);
    flags = JoinSet(snap.flags);
    conflicted = JoinSet(snap.conflicted_accounts);
    attributes = JsonObject(snap.attributes);
  }
  int stage = 0;
  int final = 0;
  OptTime accepted, decided, served, closed, entered, unit_received;
  std::string flags, conflicted, attributes;
};

// The columns of a timer row (kInsertTimer, kWriteTimers).
struct TimerColumns {
  TimerColumns(const TimerState& t, const CaseSnapshot& snap, const workflow::Engine* engine)
      : started(ToMicros(t.started_at)),
        due_day(absl::FormatCivilTime(t.deadline.due_day)),
        due_at(ToMicros(t.deadline.due_at)),
        warn_at(ToMicros(t.warn_at)),
        provisional(t.deadline.provisional ? 1 : 0),
        suspended(t.suspended_at),
        extended(t.extended ? 1 : 0),
        warned(t.warned ? 1 : 0),
        overdue(t.overdue ? 1 : 0),
        rung(t.rung),
        counted_from(absl::FormatCivilTime(t.deadline.counted_from)),
        base_days(t.deadline.base_days),
        extension_days(t.deadline.extension_days),
        stopped_days(t.deadline.stopped_days),
        rolled(t.deadline.rolled ? 1 : 0),
        owing(OwingUnit(snap, engine, t.name)),
        next_fire(engine != nullptr ? engine->NextFireAt(t) : std::nullopt),
        next(next_fire) {}
  long long started;
  std::string due_day;
  long long due_at, warn_at;
  int provisional;
  OptTime suspended;
  int extended, warned, overdue, rung;
  std::string counted_from;
  int base_days, extension_days, stopped_days, rolled;
  std::string owing;
  std::optional<absl::Time> next_fire;
  OptTime next;
  // Sweepers elsewhere are told of a timer that fires this soon after a change.
  bool FiresSoon(absl::Time now) const {
    return next_fire.has_value() && *next_fire <= now + absl::Minutes(1);
  }
};

// A timer row as it was before a change.
struct OldTimer {
  std::string name, unit;
  long long started = 0, due = 0;
  bool overdue = false;
};

// Whether a change to `snap` closes the deadline `o` (the timer is gone, or
// was restarted): then it is logged, with whether it was met (closed before
// it was due and never marked overdue).
bool Closes(const OldTimer& o, const CaseSnapshot& snap) {
  const TimerState* still = snap.FindTimer(o.name);
  return still == nullptr || ToMicros(still->started_at) != o.started;
}
bool Met(const OldTimer& o, long long closed_us) { return !o.overdue && closed_us < o.due; }

const Sql kNotifyTimers{"SELECT pg_notify('xinfang_timers', '')"};
const Sql kNotifyFeed{"SELECT pg_notify('xinfang_feed', '')"};

OldTimer ReadOldTimer(const Row& r) {
  return OldTimer{r.str(0), r.str(3), r.i64(1), r.i64(2), r.boolean(4)};
}

// The one write path (after leveldb's WriteBatch): every change to cases —
// a registration, an action, a warning raised, the sweeper's batch — is
// collected here and written with the same few set-based statements,
// queued on the caller's pipeline: the case rows (version-checked), the
// hash-chained events, the timers, the closed deadlines, the notifications.
// A new column is added in one place.
class ChangeBatch {
 public:
  ChangeBatch(workflow::Actor actor, absl::Time now)
      : actor_(std::move(actor)), now_us_(ToMicros(now)) {}

  struct Head {
    int seq = 0;
    std::string hash;
  };

  // One case's change from its history's head `head`: `events` appended
  // after it; with `next`, the case row becomes `next` (checked against
  // `expected` version, or not written when `expected` is 0: a new case,
  // inserted by the caller with the returned head) and its timers replace
  // `old`, logging those a change closes. Without `next`, only the history
  // grows (no version change). Returns the history's new head; INTERNAL
  // without an engine for `next`'s workflow.
  absl::StatusOr<Head> Add(int64_t id, Head head, const std::vector<workflow::Event>& events,
                           const CaseSnapshot* next, int64_t expected,
                           const std::vector<OldTimer>& old,
                           const CaseStore::EngineLookup& engine_for) {
    const workflow::Engine* engine = nullptr;
    if (next != nullptr) {
      engine = engine_for(next->workflow, next->workflow_version);
      if (engine == nullptr) {
        return absl::InternalError(
            absl::StrCat("no engine for ", next->workflow, "@", next->workflow_version));
      }
    }
    const absl::Time at = FromMicros(now_us_);  // stored instants are microseconds: hash those
    for (const workflow::Event& e : events) {
      ++head.seq;
      std::string hash = EventHash(head.hash, id, head.seq, e, actor_, at);
      events_.case_id.AddInt(id);
      events_.seq.AddInt(head.seq);
      events_.kind.AddText(e.kind);
      events_.action.AddText(e.action);
      events_.from_state.AddText(e.from_state);
      events_.to_state.AddText(e.to_state);
      events_.note.AddText(e.note);
      events_.fields.AddText(JsonObject(e.fields));
      events_.prev_hash.AddText(head.hash);
      events_.hash.AddText(hash);
      stored_.push_back(StoredEvent{0, id, head.seq, e, actor_, at, head.hash, hash});
      head.hash = std::move(hash);
    }
    notify_.AddInt(id);
    if (next == nullptr) {
      heads_.id.AddInt(id);
      heads_.seq.AddInt(head.seq);
      heads_.hash.AddText(head.hash);
      return head;
    }
    const CaseSnapshot& snap = *next;
    if (expected != 0) {
      const CaseColumns c(snap, *engine);
      cases_.id.AddInt(id);
      cases_.expected.AddInt(expected);
      cases_.state.AddText(snap.state);
      cases_.stage.AddInt(c.stage);
      cases_.final.AddBool(c.final != 0);
      cases_.responsible_unit.AddText(snap.responsible_unit);
      cases_.forwarder_unit.AddText(snap.forwarder_unit);
      cases_.review_unit.AddText(snap.review_unit);
      cases_.recheck_unit.AddText(snap.recheck_unit);
      cases_.case_officer.AddText(snap.case_officer);
      cases_.accepted_at.AddOptInt(c.accepted.micros());
      cases_.decided_at.AddOptInt(c.decided.micros());
      cases_.served_at.AddOptInt(c.served.micros());
      cases_.closed_at.AddOptInt(c.closed.micros());
      cases_.outcome.AddText(snap.outcome);
      cases_.evaluation.AddText(snap.evaluation);
      cases_.flags.AddText(c.flags);
      cases_.attributes.AddText(c.attributes);
      cases_.conflicted.AddText(c.conflicted);
      cases_.state_entered_at.AddOptInt(c.entered.micros());
      cases_.unit_received_at.AddOptInt(c.unit_received.micros());
      cases_.head_seq.AddInt(head.seq);
      cases_.head_hash.AddText(head.hash);
    }
    replaced_.AddInt(id);
    for (const OldTimer& o : old) {
      if (!Closes(o, snap)) continue;
      closed_.case_id.AddInt(id);
      closed_.name.AddText(o.name);
      closed_.unit.AddText(o.unit);
      closed_.started.AddInt(o.started);
      closed_.due.AddInt(o.due);
      closed_.met.AddBool(Met(o, now_us_));
    }
    const absl::Time now = FromMicros(now_us_);
    for (const TimerState& t : snap.timers) {
      const TimerColumns tc(t, snap, engine);
      soon_ = soon_ || tc.FiresSoon(now);
      timers_.case_id.AddInt(id);
      timers_.name.AddText(t.name);
      timers_.started_at.AddInt(tc.started);
      timers_.due_day.AddText(tc.due_day);
      timers_.due_at.AddInt(tc.due_at);
      timers_.warn_at.AddInt(tc.warn_at);
      timers_.provisional.AddBool(tc.provisional != 0);
      timers_.suspended_at.AddOptInt(tc.suspended.micros());
      timers_.extended.AddBool(tc.extended != 0);
      timers_.warned.AddBool(tc.warned != 0);
      timers_.overdue.AddBool(tc.overdue != 0);
      timers_.rung.AddInt(tc.rung);
      timers_.next_fire_at.AddOptInt(tc.next.micros());
      timers_.owing_unit.AddText(tc.owing);
      timers_.counted_from.AddText(tc.counted_from);
      timers_.base_days.AddInt(tc.base_days);
      timers_.extension_days.AddInt(tc.extension_days);
      timers_.stopped_days.AddInt(tc.stopped_days);
      timers_.rolled.AddBool(tc.rolled != 0);
    }
    return head;
  }

  // Queues the batch's statements on `p` (after whatever the caller queued
  // before: a new case's row comes first).
  void AddTo(Conn::Pipeline& p) {
    if (cases_.id.size() > 0) {
      cases_at_ = p.Add(kWriteCases, {{"id", cases_.id.Literal()},
                                      {"expected", cases_.expected.Literal()},
                                      {"state", cases_.state.Literal()},
                                      {"stage", cases_.stage.Literal()},
                                      {"final", cases_.final.Literal()},
                                      {"responsible_unit", cases_.responsible_unit.Literal()},
                                      {"forwarder_unit", cases_.forwarder_unit.Literal()},
                                      {"review_unit", cases_.review_unit.Literal()},
                                      {"recheck_unit", cases_.recheck_unit.Literal()},
                                      {"case_officer", cases_.case_officer.Literal()},
                                      {"accepted_at", cases_.accepted_at.Literal()},
                                      {"decided_at", cases_.decided_at.Literal()},
                                      {"served_at", cases_.served_at.Literal()},
                                      {"closed_at", cases_.closed_at.Literal()},
                                      {"outcome", cases_.outcome.Literal()},
                                      {"evaluation", cases_.evaluation.Literal()},
                                      {"flags", cases_.flags.Literal()},
                                      {"attributes", cases_.attributes.Literal()},
                                      {"conflicted", cases_.conflicted.Literal()},
                                      {"now", now_us_},
                                      {"state_entered_at", cases_.state_entered_at.Literal()},
                                      {"unit_received_at", cases_.unit_received_at.Literal()},
                                      {"head_seq", cases_.head_seq.Literal()},
                                      {"head_hash", cases_.head_hash.Literal()}});
    }
    if (heads_.id.size() > 0) {
      p.Add(kWriteHeads, {{"id", heads_.id.Literal()},
                          {"seq", heads_.seq.Literal()},
                          {"hash", heads_.hash.Literal()}});
    }
    if (events_.case_id.size() > 0) {
      events_at_ = p.Add(kWriteEvents, {{"actor", actor_.account},
                                        {"role", static_cast<int>(actor_.role)},
                                        {"unit", actor_.unit},
                                        {"at", now_us_},
                                        {"case_id", events_.case_id.Literal()},
                                        {"seq", events_.seq.Literal()},
                                        {"kind", events_.kind.Literal()},
                                        {"action", events_.action.Literal()},
                                        {"from_state", events_.from_state.Literal()},
                                        {"to_state", events_.to_state.Literal()},
                                        {"note", events_.note.Literal()},
                                        {"fields", events_.fields.Literal()},
                                        {"prev_hash", events_.prev_hash.Literal()},
                                        {"hash", events_.hash.Literal()}});
    }
    if (replaced_.size() > 0) p.Add(kWriteDeleteTimers, {{"ids", replaced_.Literal()}});
    if (timers_.case_id.size() > 0) {
      p.Add(kWriteTimers, {{"case_id", timers_.case_id.Literal()},
                           {"name", timers_.name.Literal()},
                           {"started_at", timers_.started_at.Literal()},
                           {"due_day", timers_.due_day.Literal()},
                           {"due_at", timers_.due_at.Literal()},
                           {"warn_at", timers_.warn_at.Literal()},
                           {"provisional", timers_.provisional.Literal()},
                           {"suspended_at", timers_.suspended_at.Literal()},
                           {"extended", timers_.extended.Literal()},
                           {"warned", timers_.warned.Literal()},
                           {"overdue", timers_.overdue.Literal()},
                           {"rung", timers_.rung.Literal()},
                           {"next_fire_at", timers_.next_fire_at.Literal()},
                           {"owing_unit", timers_.owing_unit.Literal()},
                           {"counted_from", timers_.counted_from.Literal()},
                           {"base_days", timers_.base_days.Literal()},
                           {"extension_days", timers_.extension_days.Literal()},
                           {"stopped_days", timers_.stopped_days.Literal()},
                           {"rolled", timers_.rolled.Literal()}});
    }
    if (closed_.case_id.size() > 0) {
      p.Add(kWriteClosed, {{"case_id", closed_.case_id.Literal()},
                           {"name", closed_.name.Literal()},
                           {"unit", closed_.unit.Literal()},
                           {"started", closed_.started.Literal()},
                           {"due", closed_.due.Literal()},
                           {"closed", now_us_},
                           {"met", closed_.met.Literal()}});
    }
    if (notify_.size() > 0) p.Add(kWriteNotify, {{"ids", notify_.Literal()}});
    // Sweepers elsewhere need not wait out their interval for a timer
    // firing within a minute.
    if (soon_) p.Add(kNotifyTimers, {});
  }

  // The events as stored, once the pipeline ran; ABORTED when a case's
  // version moved (a caller that locked the rows first never sees it).
  absl::StatusOr<std::vector<StoredEvent>> Written(const std::vector<Rows>& results) {
    if (cases_at_ >= 0 && results[cases_at_][0].i32(0) != cases_.id.size()) {
      return absl::AbortedError(
          absl::StrCat(cases_.id.size() - results[cases_at_][0].i32(0),
                       " case(s) changed meanwhile: read again and retry"));
    }
    if (events_at_ >= 0) {
      const Rows& ids = results[events_at_];
      for (int k = 0; k < ids.size() && k < static_cast<int>(stored_.size()); ++k) {
        stored_[k].id = ids[k].i64(0);
      }
    }
    return std::move(stored_);
  }

  int events() const { return events_.case_id.size(); }

 private:
  workflow::Actor actor_;
  int64_t now_us_;
  struct {
    SqlArray id, expected, state, stage, final, responsible_unit, forwarder_unit, review_unit,
        recheck_unit, case_officer, accepted_at, decided_at, served_at, closed_at, outcome,
        evaluation, flags, attributes, conflicted, state_entered_at, unit_received_at, head_seq,
        head_hash;
  } cases_;
  struct {
    SqlArray id, seq, hash;
  } heads_;
  struct {
    SqlArray case_id, seq, kind, action, from_state, to_state, note, fields, prev_hash, hash;
  } events_;
  SqlArray replaced_;  // cases whose timers are replaced
  struct {
    SqlArray case_id, name, started_at, due_day, due_at, warn_at, provisional, suspended_at,
        extended, warned, overdue, rung, next_fire_at, owing_unit, counted_from, base_days,
        extension_days, stopped_days, rolled;
  } timers_;
  struct {
    SqlArray case_id, name, unit, started, due, met;
  } closed_;
  SqlArray notify_;
  bool soon_ = false;
  std::vector<StoredEvent> stored_;
  int cases_at_ = -1, events_at_ = -1;
};

// A case the sweeper claimed, read under its row lock.
struct Claimed {
  DueCase due;
  int head_seq = 0;
  std::string head_hash;
  std::vector<OldTimer> old_timers;
};

// Reads the claimed cases (`ids`, an array literal): snapshots with their
// attributes and timers, due timers, history heads; in id order. One round
// trip.
std::vector<Claimed> LoadClaimed(Conn& conn, const std::string& ids, int64_t now_us,
                                 const CaseStore::EngineLookup& engine_for) {
  Conn::Pipeline p(conn);
  const int cases_at = p.Add(kSweepCases, {{"ids", ids}});
  const int attributes_at = p.Add(kSweepAttributes, {{"ids", ids}});
  const int timers_at = p.Add(kSweepTimers, {{"ids", ids}});
  const std::vector<Rows> results = p.Run();
  std::vector<Claimed> out;
  std::map<int64_t, Claimed*> by_id;
  for (Row r : results[cases_at]) {
    Claimed& c = out.emplace_back();
    c.due.id = r.i64(0);
    c.due.tracking_number = r.str(1);
    c.due.version = r.i64(2);
    c.head_seq = r.i32(3);
    c.head_hash = r.str(4);
    ReadSnapshot(r, 5, &c.due.snapshot);
  }
  std::sort(out.begin(), out.end(),
            [](const Claimed& a, const Claimed& b) { return a.due.id < b.due.id; });
  for (Claimed& c : out) by_id[c.due.id] = &c;
  for (Row r : results[attributes_at]) {
    by_id.at(r.i64(0))->due.snapshot.attributes[r.str(1)] = r.str(2);
  }
  for (Row r : results[timers_at]) {
    Claimed& c = *by_id.at(r.i64(0));
    TimerState t = ReadTimer(r, 1);
    const std::optional<absl::Time> next_fire = GetOptTime(r, 1 + kTimerColumnCount + 1);
    if (next_fire.has_value() && ToMicros(*next_fire) <= now_us) {
      c.due.due_timers.push_back(t.name);
    }
    c.old_timers.push_back(OldTimer{t.name, r.str(1 + kTimerColumnCount), ToMicros(t.started_at),
                                    ToMicros(t.deadline.due_at), t.overdue});
    c.due.snapshot.timers.push_back(std::move(t));
  }
  for (Claimed& c : out) {
    SortTimers(engine_for(c.due.snapshot.workflow, c.due.snapshot.workflow_version),
               &c.due.snapshot);
  }
  return out;
}

const Sql kHistoryHead{
    "SELECT head_seq, head_hash FROM cases WHERE id = :id FOR NO KEY UPDATE"};

}  // namespace

std::vector<StoredEvent> AppendToHistory(Conn& conn, int64_t case_id,
                                         const std::vector<workflow::Event>& events,
                                         const workflow::Actor& actor, absl::Time now) {
  Rows head = conn.Run(kHistoryHead, {{"id", case_id}});
  if (head.empty()) return {};
  ChangeBatch batch(actor, now);
  // Without a next state the engine is never asked for.
  (void)batch.Add(case_id, {head[0].i32(0), head[0].str(1)}, events, nullptr, 0, {},
                  [](const std::string&, int) -> const workflow::Engine* { return nullptr; });
  Conn::Pipeline p(conn);
  batch.AddTo(p);
  auto stored = batch.Written(p.Run());
  return stored.ok() ? std::move(*stored) : std::vector<StoredEvent>();
}

std::string EventHash(const std::string& prev_hash, int64_t case_id, int seq,
                      const workflow::Event& event, const workflow::Actor& actor, absl::Time at) {
  std::string buf;
  AppendField(&buf, prev_hash);
  AppendField(&buf, absl::StrCat(case_id));
  AppendField(&buf, absl::StrCat(seq));
  AppendField(&buf, event.kind);
  AppendField(&buf, event.action);
  AppendField(&buf, event.from_state);
  AppendField(&buf, event.to_state);
  AppendField(&buf, actor.account);
  AppendField(&buf, absl::StrCat(static_cast<int>(actor.role)));
  AppendField(&buf, actor.unit);
  AppendField(&buf, absl::StrCat(ToMicros(at)));
  AppendField(&buf, event.note);
  AppendField(&buf, absl::StrCat(event.fields.size()));
  for (const auto& [k, v] : event.fields) {
    AppendField(&buf, k);
    AppendField(&buf, v);
  }
  return Sha256Hex(buf);
}

std::string Sha256Hex(const std::string& data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return Hex(digest, sizeof digest);
}


namespace {

const Sql kFindRequest{"SELECT id, request_hash FROM cases WHERE request_id = :r"};
// xf_resolve_petitioner (migration 0015): the registry's id, the name it
// keeps, the matter's previous case.
const Sql kResolvePetitioner{
    "SELECT person_id, registered_name, previous_case "
    "  FROM xf_resolve_petitioner(:name, :idn, :phone, :address, :category, :id)"};
// Newer contact details replace older ones; the row is locked only when
// they differ.
const Sql kUpdateContact{
    "UPDATE persons SET phone = coalesce(nullif(:phone, ''), phone), "
    "                   address = coalesce(nullif(:address, ''), address) "
    " WHERE id = :id AND (phone IS DISTINCT FROM coalesce(nullif(:phone, ''), phone) "
    "                     OR address IS DISTINCT FROM coalesce(nullif(:address, ''), address))"};
const Sql kInsertPetitioner{
    "INSERT INTO case_petitioners (case_id, position, person_id, category) "
    "VALUES (:c, :p, :person, :category)"};
const Sql kInsertLink{
    "INSERT INTO case_links (case_id, related_id, kind) VALUES (:c, :r, 'repeat')"};
const Sql kProvisional{
    "SELECT DISTINCT case_id FROM case_timers WHERE provisional AND case_id > :after "
    " ORDER BY case_id LIMIT :lim"};
const Sql kNextFire{"SELECT xf_us(min(next_fire_at)) FROM case_timers"};
const Sql kCaseExists{"SELECT id FROM cases WHERE id = :id"};
const Sql kEarlierCases{R"sql(
  SELECT cp.case_id FROM persons ps
    JOIN case_petitioners cp ON cp.person_id = ps.id AND cp.category = :category
    JOIN cases c ON c.id = cp.case_id
   WHERE ((:idn <> '' AND ps.id_number = :idn) OR (:idn = '' AND ps.name = :name AND ps.phone = :phone))
     AND ((NOT c.final
           AND (c.responsible_unit = ANY (CAST(:below AS text[]))
                OR c.review_unit = ANY (CAST(:below AS text[]))
                OR c.recheck_unit = ANY (CAST(:below AS text[]))))
          OR position(',final_after_recheck,' IN ',' || c.flags || ',') > 0)
   ORDER BY cp.case_id DESC LIMIT :lim)sql"};
const Sql kAnyUnsequenced{
    "SELECT 1 FROM case_events WHERE position IS NULL LIMIT 1"};
const Sql kLockSequencer{"SELECT last_position FROM event_sequencer FOR UPDATE"};
const Sql kLastPosition{"SELECT last_position FROM event_sequencer"};
const Sql kUnits{"SELECT code, coalesce(parent, '') FROM units"};
const Sql kNames{
    "SELECT 'unit:' || code, name FROM units UNION ALL "
    "SELECT 'category:' || code, name FROM categories"};
const Sql kCategories{"SELECT code, active FROM categories"};

absl::Status RequestReused(const CaseRecord& rec) {
  return absl::AlreadyExistsError(absl::StrCat(
      "request_id: already used for a different petition (case ", rec.tracking_number,
      "): use a new request_id for a new petition"));
}

}  // namespace

CaseStore::CaseStore(Pool& pool, EngineLookup engine_for)
    : pool_(pool), engine_for_(std::move(engine_for)) {}

absl::StatusOr<CaseRecord> CaseStore::Get(int64_t id) {
  return WithConn(pool_, "reading a case", [&](Conn& c) { return LoadCase(c, id, "", engine_for_); });
}

absl::StatusOr<CaseRecord> CaseStore::GetByTracking(const std::string& tracking_number) {
  return WithConn(pool_, "reading a case", [&](Conn& c) {
    return LoadCase(c, 0, tracking_number, engine_for_);
  });
}

absl::StatusOr<std::optional<CaseRecord>> CaseStore::FindReplay(const std::string& request_id,
                                                                const std::string& request_hash) {
  return WithConn(pool_, "looking up a request id",
                  [&](Conn& c) -> absl::StatusOr<std::optional<CaseRecord>> {
                    Rows found = c.Run(kFindRequest, {{"r", request_id}});
                    if (found.empty()) return std::optional<CaseRecord>();
                    auto rec = LoadCase(c, found[0].i64(0), "", engine_for_);
                    if (!rec.ok()) return rec.status();
                    if (found[0].str(1) != request_hash) return RequestReused(*rec);
                    return std::optional<CaseRecord>(std::move(*rec));
                  });
}

absl::StatusOr<CreateResult> CaseStore::Create(const NewCase& c) {
  return WithConn(pool_, "registering a case", [&](Conn& conn) -> absl::StatusOr<CreateResult> {
    // (A retry was answered before this call by FindReplay; one racing with
    // this insert loses at the request id's unique index and is replayed.)
    auto replay = [&]() -> absl::StatusOr<CreateResult> {
      Rows found = conn.Run(kFindRequest, {{"r", c.request_id}});
      if (found.empty()) return absl::InternalError("replayed request vanished");
      auto rec = LoadCase(conn, found[0].i64(0), "", engine_for_);
      if (!rec.ok()) return rec.status();
      if (found[0].str(1) != c.request_hash) return RequestReused(*rec);
      return CreateResult{std::move(*rec), true};
    };

    const CaseSnapshot& snap = c.start.next;
    const workflow::Engine* engine = engine_for_(snap.workflow, snap.workflow_version);
    if (engine == nullptr) {
      return absl::InternalError(
          absl::StrCat("no engine for ", snap.workflow, "@", snap.workflow_version));
    }
    const xinfang::v1::State* state = engine->definition().FindState(snap.state);
    std::string intake_json;
    if (!google::protobuf::util::MessageToJsonString(c.intake, &intake_json).ok()) {
      return absl::InternalError("intake does not serialise to JSON");
    }

    // Round trip 1: the transaction, the case's id and tracking number.
    Transaction tx(conn, Transaction::kBegunInPipeline);
    int64_t id = 0;
    std::string tracking;
    {
      Conn::Pipeline p(conn);
      p.AddText("BEGIN");
      const int ids_at = p.Add(kNextIds, {});
      const std::vector<Rows> r = p.Run();
      id = r[ids_at][0].i64(0);
      tracking = absl::StrFormat("%s%06d", c.tracking_prefix, r[ids_at][0].i64(1));
    }

    // Round trip 2: each petitioner matched to the registry (or registered)
    // with the matter's previous case; a repeat petition links to it (the
    // earlier ones are reached through the petitioner index:
    // Case.related_tracking_numbers).
    std::vector<int64_t> persons;
    std::set<int64_t> related;
    if (c.intake.petitioners_size() > 0) {
      Conn::Pipeline p(conn);
      for (const xinfang::v1::Petitioner& pt : c.intake.petitioners()) {
        p.Add(kResolvePetitioner, {{"name", pt.name()},
                                   {"idn", pt.id_number()},
                                   {"phone", pt.phone()},
                                   {"address", pt.address()},
                                   {"category", c.intake.category()},
                                   {"id", id}});
      }
      const std::vector<Rows> r = p.Run();
      for (int k = 0; k < c.intake.petitioners_size(); ++k) {
        const xinfang::v1::Petitioner& pt = c.intake.petitioners(k);
        persons.push_back(r[k][0].i64(0));
        // The registry keeps the name the number was first registered with;
        // this case keeps the name given now (in its intake). Not merged
        // silently: a mistyped number would attach this petition to
        // someone else. The rollback undoes any registration.
        const std::string registered_name = r[k][0].str(1);
        if (registered_name != pt.name() && !pt.same_person_confirmed()) {
          const std::string field = absl::StrCat("intake.petitioners[", k, "]");
          return absl::FailedPreconditionError(absl::StrCat(
              field, ".id_number: already registered to ", MaskName(registered_name),
              ", not to the name given; check the number, or set ", field,
              ".same_person_confirmed if it is the same person"));
        }
        if (!r[k][0].null(2)) related.insert(r[k][0].i64(2));
      }
    }

    std::vector<workflow::Event> events = c.start.events;
    if (!related.empty() && !events.empty()) {
      events.front().fields["repeat_of"] = absl::StrJoin(related, ",");
    }
    ChangeBatch batch(c.actor, c.now);
    auto head = batch.Add(id, {}, events, &snap, 0, {}, engine_for_);
    if (!head.ok()) return head.status();

    // Round trip 3: the case row, its petitioners and links, the history
    // and timers (the one write path), the commit, and the case as stored.
    Conn::Pipeline p(conn);
    const int64_t now = ToMicros(c.now);
    // A petition not accepted at registration is closed at once, with the
    // refusal's fields recorded.
    p.Add(kInsertCase, {{"id", id},
                        {"tracking", tracking},
                        {"request_id", c.request_id},
                        {"workflow", snap.workflow},
                        {"workflow_version", snap.workflow_version},
                        {"state", snap.state},
                        {"stage", state != nullptr ? static_cast<int>(state->stage()) : 0},
                        {"final", state != nullptr && state->final() ? 1 : 0},
                        {"channel", static_cast<int>(c.intake.channel())},
                        {"received_at", ToMicros(snap.received_at)},
                        {"now", now},
                        {"registered_by", c.actor.account},
                        {"registering_unit", c.intake.registering_unit()},
                        {"responsible_unit", snap.responsible_unit},
                        {"forwarder_unit", snap.forwarder_unit},
                        {"anonymous", snap.anonymous ? 1 : 0},
                        {"purpose", static_cast<int>(c.intake.purpose())},
                        {"category", c.intake.category()},
                        {"complained_unit", c.intake.complained_about_unit()},
                        {"summary", c.intake.summary()},
                        {"flags", JoinSet(snap.flags)},
                        {"intake", intake_json},
                        {"state_entered_at", ToMicros(snap.state_entered_at)},
                        {"unit_received_at", ToMicros(snap.unit_received_at)},
                        {"request_hash", c.request_hash},
                        {"closed_at", OptTime(snap.closed_at).micros()},
                        {"attributes", JsonObject(snap.attributes)},
                        {"head_seq", head->seq},
                        {"head_hash", head->hash}});
    for (int k = 0; k < c.intake.petitioners_size(); ++k) {
      const xinfang::v1::Petitioner& pt = c.intake.petitioners(k);
      p.Add(kInsertPetitioner,
            {{"c", id}, {"p", k}, {"person", persons[k]}, {"category", c.intake.category()}});
      // Newer contact details replace older ones (a registered number's).
      if (!pt.id_number().empty()) {
        p.Add(kUpdateContact,
              {{"phone", pt.phone()}, {"address", pt.address()}, {"id", persons[k]}});
      }
    }
    for (int64_t r : related) p.Add(kInsertLink, {{"c", id}, {"r", r}});
    batch.AddTo(p);
    p.AddText("COMMIT");
    const int read_at = p.Add(kSelectCaseById, {{"id", id}});
    std::vector<Rows> results;
    try {
      results = p.Run();
    } catch (const DatabaseError& e) {
      // A concurrent retry with the same request id won the race.
      if (e.sqlstate() != "23505" || !absl::StrContains(e.what(), "request_id")) throw;
      tx.Rollback();
      return replay();
    }
    tx.Committed();
    if (auto written = batch.Written(results); !written.ok()) return written.status();
    auto rec = ParseCase(results[read_at][0], engine_for_);
    if (!rec.ok()) return rec.status();
    return CreateResult{std::move(*rec), false};
  });
}

absl::StatusOr<Applied> CaseStore::Apply(int64_t id, int64_t expected_version,
                                         const workflow::Decision& decision,
                                         const workflow::Actor& actor, absl::Time now) {
  return WithConn(pool_, "applying a change to a case", [&](Conn& conn) -> absl::StatusOr<Applied> {
    // Round trip 1: the case row locked, its version, head and timers.
    Transaction tx(conn, Transaction::kBegunInPipeline);
    Conn::Pipeline read(conn);
    read.AddText("BEGIN");
    const int row_at = read.Add(kLockCase, {{"id", id}});
    const int timers_at = read.Add(kOldTimers, {{"id", id}});
    const std::vector<Rows> before = read.Run();
    if (before[row_at].empty()) return absl::NotFoundError(absl::StrCat("case ", id, " not found"));
    const Row row = before[row_at][0];
    if (row.i64(0) != expected_version) {
      return absl::AbortedError(absl::StrCat("case ", id, " is at version ", row.i64(0), ", not ",
                                             expected_version, ": read it again and retry"));
    }
    std::vector<OldTimer> old;
    for (Row r : before[timers_at]) old.push_back(ReadOldTimer(r));

    // Round trip 2: the change (the one write path), the commit, the case.
    ChangeBatch batch(actor, now);
    auto head = batch.Add(id, {row.i32(1), row.str(2)}, decision.events, &decision.next,
                          expected_version, old, engine_for_);
    if (!head.ok()) return head.status();
    Conn::Pipeline write(conn);
    batch.AddTo(write);
    write.AddText("COMMIT");
    const int read_at = write.Add(kSelectCaseById, {{"id", id}});
    const std::vector<Rows> results = write.Run();
    tx.Committed();
    auto stored = batch.Written(results);
    if (!stored.ok()) return stored.status();
    auto rec = ParseCase(results[read_at][0], engine_for_);
    if (!rec.ok()) return rec.status();
    return Applied{std::move(*rec), std::move(*stored)};
  });
}

absl::StatusOr<SweepResult> CaseStore::SweepDue(absl::Time now, int batch_size,
                                                const Decide& decide) {
  return WithConn(pool_, "firing due timers", [&](Conn& conn) -> absl::StatusOr<SweepResult> {
    SweepResult result;
    Transaction tx(conn, Transaction::kBegunInPipeline);
    const int64_t now_us = ToMicros(now);
    std::set<int64_t> claimed_ids;
    {
      Conn::Pipeline p(conn);
      p.AddText("BEGIN");
      const int claim_at = p.Add(kClaimDue, {{"now", now_us}, {"lim", batch_size}});
      const std::vector<Rows> claimed = p.Run();
      for (Row r : claimed[claim_at]) claimed_ids.insert(r.i64(0));
    }
    result.claimed = static_cast<int>(claimed_ids.size());
    if (claimed_ids.empty()) {
      tx.Commit();
      return result;
    }
    SqlArray ids;
    for (int64_t id : claimed_ids) ids.AddInt(id);
    const std::vector<Claimed> claimed = LoadClaimed(conn, ids.Literal(), now_us, engine_for_);

    const workflow::Actor system{"system", xinfang::v1::ROLE_SYSTEM, ""};
    ChangeBatch batch(system, now);
    SqlArray put_back;
    for (const Claimed& c : claimed) {
      // Fired by another sweeper between its index entry and our lock.
      if (c.due.due_timers.empty()) continue;
      auto decision = decide(c.due);
      if (!decision.ok()) {
        // Not decidable now (e.g. its workflow version is not loaded here):
        // try again later instead of spinning on it and starving the rest.
        ++result.failed;
        result.last_error =
            absl::Status(decision.status().code(),
                         absl::StrCat(c.due.tracking_number, ": ", decision.status().message()));
        put_back.AddInt(c.due.id);
        continue;
      }
      auto head = batch.Add(c.due.id, {c.head_seq, c.head_hash}, decision->events,
                            &decision->next, c.due.version, c.old_timers, engine_for_);
      if (!head.ok()) return head.status();
      ++result.cases;
    }
    Conn::Pipeline p(conn);
    if (put_back.size() > 0) {
      p.Add(kSweepPutBack, {{"retry", ToMicros(now + kSweepRetryDelay)},
                            {"ids", put_back.Literal()},
                            {"now", now_us}});
    }
    batch.AddTo(p);
    p.AddText("COMMIT");
    const std::vector<Rows> results = p.Run();
    tx.Committed();
    if (auto written = batch.Written(results); !written.ok()) {
      // Under the row locks this cannot happen; the commit went through, so
      // say so loudly rather than hide it.
      return absl::InternalError(absl::StrCat("sweeper: ", written.status().message()));
    }
    result.events = batch.events();
    return result;
  });
}

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

absl::StatusOr<std::optional<absl::Time>> CaseStore::NextFireAt() {
  return WithConn(pool_, "reading the next deadline",
                  [&](Conn& c) -> absl::StatusOr<std::optional<absl::Time>> {
                    return GetOptTime(c.Run(kNextFire, {})[0], 0);
                  });
}

absl::StatusOr<std::vector<StoredEvent>> CaseStore::History(int64_t id) {
  return WithConn(pool_, "reading a case's history",
                  [&](Conn& c) -> absl::StatusOr<std::vector<StoredEvent>> {
                    if (c.Run(kCaseExists, {{"id", id}}).empty()) {
                      return absl::NotFoundError(absl::StrCat("case ", id, " not found"));
                    }
                    std::vector<StoredEvent> out;
                    for (Row r : c.Run(kSelectEvents, {{"id", id}})) out.push_back(ReadEvent(r, 0));
                    return out;
                  });
}
absl::StatusOr<VerifyResult> CaseStore::Verify(int64_t id) {
  auto rec = Get(id);
  if (!rec.ok()) return rec.status();
  auto history = History(id);
  if (!history.ok()) return history.status();
  VerifyResult result;
  result.events = static_cast<int64_t>(history->size());
  std::string prev;
  int expected_seq = 1;
  for (const StoredEvent& e : *history) {
    std::string problem;
    if (e.seq != expected_seq) {
      problem = absl::StrCat("sequence gap: expected event ", expected_seq, ", found ", e.seq);
    } else if (e.prev_hash != prev) {
      problem = "its recorded previous hash does not match the event before it";
    } else if (EventHash(prev, e.case_id, e.seq, e.event, e.actor, e.at) != e.hash) {
      problem = "its content does not match its hash";
    }
    if (!problem.empty()) {
      result.intact = false;
      result.first_broken_seq = e.seq;
      result.detail = absl::StrCat("event ", e.seq, " (", e.event.kind, "): ", problem);
      return result;
    }
    prev = e.hash;
    ++expected_seq;
  }
  // The case row records the head of its history: a missing tail is caught.
  const int last = expected_seq - 1;
  if (last != rec->head_seq || prev != rec->head_hash) {
    result.intact = false;
    result.first_broken_seq = std::min(last, rec->head_seq) + 1;
    result.detail = absl::StrCat("the history ends at event ", last,
                                 " but the case records event ", rec->head_seq,
                                 " as its last: events are missing or were replaced");
  }
  return result;
}

absl::StatusOr<std::vector<CaseRecord>> CaseStore::CasesOfPetitioners(
    const std::vector<xinfang::v1::Petitioner>& petitioners, const std::string& category,
    const std::vector<std::string>& units_below, int limit) {
  return WithConn(
      pool_, "finding the petitioner's earlier cases",
      [&](Conn& conn) -> absl::StatusOr<std::vector<CaseRecord>> {
        std::set<int64_t> ids;
        SqlArray below_units;
        for (const std::string& u : units_below) below_units.AddText(u);
        const std::string below = below_units.Literal();
        for (const xinfang::v1::Petitioner& p : petitioners) {
          if (p.id_number().empty() && p.phone().empty()) continue;
          for (Row r : conn.Run(kEarlierCases, {{"category", category},
                                                {"idn", p.id_number()},
                                                {"name", p.name()},
                                                {"phone", p.phone()},
                                                {"below", below},
                                                {"lim", limit}})) {
            ids.insert(r.i64(0));
          }
        }
        std::vector<CaseRecord> out;
        for (auto it = ids.rbegin(); it != ids.rend() && static_cast<int>(out.size()) < limit;
             ++it) {
          auto rec = LoadCase(conn, *it, "", engine_for_);
          if (!rec.ok()) return rec.status();
          out.push_back(std::move(*rec));
        }
        return out;
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

absl::StatusOr<int> CaseStore::SequenceEvents(int max) {
  return WithConn(pool_, "sequencing events", [&](Conn& conn) -> absl::StatusOr<int> {
    // Idle: nothing unplaced (a partial-index probe), so no lock and no write.
    if (conn.Run(kAnyUnsequenced, {}).empty()) return 0;
    Transaction tx(conn);
    // The row lock serialises sequencers (one per query process may run).
    conn.Run(kLockSequencer, {});
    const int placed = conn.Run(kSequence, {{"max", max}})[0].i32(0);
    if (placed > 0) conn.Run(kNotifyFeed, {});
    tx.Commit();
    return placed;
  });
}

absl::StatusOr<int64_t> CaseStore::LastFeedPosition() {
  return WithConn(pool_, "reading the feed position", [&](Conn& conn) -> absl::StatusOr<int64_t> {
    return conn.Run(kLastPosition, {})[0].i64(0);
  });
}

absl::StatusOr<std::vector<FeedEvent>> CaseStore::ReadFeed(const FeedFilter& f) {
  return WithConn(pool_, "reading the event feed",
                  [&](Conn& conn) -> absl::StatusOr<std::vector<FeedEvent>> {
                    std::vector<FeedEvent> out;
                    Rows rows = conn.Run(kReadFeed, {{"unit", f.unit},
                                                     {"after", f.after},
                                                     {"case1", f.case_id},
                                                     {"case2", f.case_id},
                                                     {"unit3", f.unit},
                                                     {"kinds1", absl::StrJoin(f.kinds, ",")},
                                                     {"kinds2", absl::StrJoin(f.kinds, ",")},
                                                     {"lim", f.limit}});
                    for (Row r : rows) {
                      FeedEvent fe;
                      fe.position = r.i64(0);
                      fe.tracking_number = r.str(1);
                      fe.responsible_unit = r.str(2);
                      fe.complained_about_unit = r.str(3);
                      fe.conflicted_accounts = SplitSet(r.str(4));
                      fe.registrar_holding = r.str(5);
                      fe.workflow = r.str(6);
                      fe.workflow_version = r.i32(7);
                      fe.stored = ReadEvent(r, 8);
                      out.push_back(std::move(fe));
                    }
                    return out;
                  });
}

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
                                   "::text, count(*)::int " XF_RECEIVED "GROUP BY 1 ORDER BY 1");
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

// The first page of a filtered list is the newest `limit` matches. With a
// few units (and categories) named, one backward index scan per unit (and
// category) — (responsible_unit, stage, id) or (responsible_unit, category,
// id), migration 0008 — yields at most `limit` rows each, and the newest of
// those are the answer: the cost follows the page size and the number of
// units, not the table. Only the filters given are in the statement.
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
  const bool per_unit = !f.units.empty() && f.units.size() <= kMaxUnitScans;
  when(per_unit, "c.responsible_unit = u.code");
  when(!per_unit && !f.units.empty(), "c.responsible_unit = ANY(:units::text[])");
  if (!f.units.empty()) args.emplace_back("units", unit_list.Literal());
  if (when(!f.categories.empty(), "c.category = k.code")) {
    args.emplace_back("categories", category_list.Literal());
  }
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
  when(f.overdue_only,
       "EXISTS (SELECT 1 FROM case_timers t WHERE t.case_id = c.id "
       "AND t.suspended_at IS NULL AND t.due_at <= xf_ts(:now))");
  if (when(!f.petitioner.empty(),
           "EXISTS (SELECT 1 FROM case_petitioners cp JOIN persons p ON p.id = cp.person_id "
           "WHERE cp.case_id = c.id AND (p.name = :who OR p.id_number = upper(:who) "
           "OR p.phone = :who))")) {
    args.emplace_back("who", f.petitioner);
  }
  args.emplace_back("now", ToMicros(f.now));
  args.emplace_back("lim", f.limit);
  std::string sources;
  if (per_unit) absl::StrAppend(&sources, "unnest(:units::text[]) AS u(code) CROSS JOIN ");
  if (!f.categories.empty()) {
    absl::StrAppend(&sources, "unnest(:categories::text[]) AS k(code) CROSS JOIN ");
  }
  const Sql& sql = Sql::Intern(absl::StrCat(
      "SELECT c.id, c.tracking_number, c.state, c.stage::int, c.channel::int, c.category, "
      "       c.responsible_unit, xf_us(c.received_at), c.summary, "
      "       EXISTS (SELECT 1 FROM case_timers t WHERE t.case_id = c.id "
      "                  AND t.suspended_at IS NULL AND t.due_at <= xf_ts(:now)), "
      "       coalesce(c.complained_about_unit, ''), c.conflicted_accounts, "
      "       CASE WHEN c.responsible_unit = c.registering_unit THEN c.registering_unit "
      "            ELSE '' END "
      "  FROM ", sources,
      "       LATERAL (SELECT c.* FROM cases c WHERE ", conditions,
      "                 ORDER BY c.id DESC LIMIT :lim) c "
      " ORDER BY c.id DESC LIMIT :lim"));
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
                                                                 const std::string& notice_timer) {
  return WithConn(pool_, "counting for the dashboard",
                  [&](Conn& conn) -> absl::StatusOr<std::vector<DashboardCount>> {
                    std::vector<DashboardCount> out;
                    Rows rows = conn.Run(kDashboard, {{"unit", unit},
                                                      {"now1", ToMicros(now)},
                                                      {"soon", ToMicros(now + soon)},
                                                      {"now2", ToMicros(now)},
                                                      {"notice", notice_timer}});
                    for (Row r : rows) {
                      out.push_back(DashboardCount{r.str(0), r.i32(1), r.i32(2), r.i32(3),
                                                   r.i32(4), r.i32(5), r.i32(6)});
                    }
                    return out;
                  });
}

absl::StatusOr<std::map<std::string, std::string>> CaseStore::Units() {
  return WithConn(pool_, "reading units",
                  [&](Conn& conn) -> absl::StatusOr<std::map<std::string, std::string>> {
                    std::map<std::string, std::string> out;
                    for (Row r : conn.Run(kUnits, {})) out[r.str(0)] = r.str(1);
                    return out;
                  });
}

absl::StatusOr<std::map<std::string, std::string>> CaseStore::Names() {
  return WithConn(pool_, "reading unit and category names",
                  [&](Conn& conn) -> absl::StatusOr<std::map<std::string, std::string>> {
                    std::map<std::string, std::string> out;
                    for (Row r : conn.Run(kNames, {})) out[r.str(0)] = r.str(1);
                    return out;
                  });
}

absl::StatusOr<std::map<std::string, bool>> CaseStore::Categories() {
  return WithConn(pool_, "reading categories",
                  [&](Conn& conn) -> absl::StatusOr<std::map<std::string, bool>> {
                    std::map<std::string, bool> out;
                    for (Row r : conn.Run(kCategories, {})) out[r.str(0)] = r.boolean(1);
                    return out;
                  });
}

}  // namespace xinfang::storage
