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

// A case with its petitioners' registry ids ("position:person,…"), its
// related cases' tracking numbers ("XF…,XF…") and its attributes (a JSON
// object) in one row: one round trip.
constexpr char kSelectCase[] =
    "SELECT id, tracking_number, version, head_seq, head_hash, xf_us(registered_at), "
    "       registered_by, intake::text, " XF_SNAPSHOT_COLUMNS ", "
    "       (SELECT coalesce(string_agg(p.position || ':' || p.person_id, ','), '') "
    "          FROM case_petitioners p WHERE p.case_id = cases.id), "
    "       (SELECT coalesce(string_agg(r.tracking_number, ',' ORDER BY r.id), '') "
    "          FROM cases r WHERE r.id IN ("
    "            SELECT e.case_id FROM case_petitioners p JOIN case_petitioners e "
    "                ON e.person_id = p.person_id AND e.category = p.category "
    "               AND e.case_id < p.case_id "
    "             WHERE p.case_id = cases.id)), "
    "       attributes::text, "
    "       (SELECT coalesce(json_agg(json_build_array(e.action, e.from_state, e.to_state, "
    "                        e.actor, e.actor_unit, xf_us(e.at)::text, e.fields) ORDER BY e.seq), "
    "                        '[]')::text "
    "          FROM case_events e WHERE e.case_id = cases.id AND e.action <> '') "
    "  FROM cases";

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

constexpr char kSelectTimers[] =
    "SELECT " XF_TIMER_COLUMNS " FROM case_timers t WHERE t.case_id = :id";

// A unit and everything below it (all units for '').
#define XF_SCOPE_CTE                                                  \
  "WITH RECURSIVE scope(code) AS ("                                   \
  "  SELECT code FROM units WHERE :unit1 = '' OR code = :unit2"       \
  "  UNION SELECT u.code FROM units u JOIN scope ON u.parent = scope.code) "

constexpr char kSelectDue[] =
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
    " ORDER BY t.due_at, t.case_id, t.name LIMIT :lim";

constexpr char kSequence[] = R"sql(
  WITH pending AS (
         SELECT id, row_number() OVER (ORDER BY id) AS rn
           FROM case_events WHERE position IS NULL ORDER BY id LIMIT :max),
       placed AS (
         UPDATE case_events e SET position = b.last_position + p.rn
           FROM pending p, event_sequencer b WHERE e.id = p.id
         RETURNING e.position)
  UPDATE event_sequencer SET last_position = coalesce((SELECT max(position) FROM placed),
                                                      last_position)
  RETURNING (SELECT count(*) FROM placed)::int)sql";

constexpr char kReadFeed[] =
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
    " ORDER BY e.position LIMIT :lim";

// On-time rate of a deadline: those falling due in the period, closed (met
// or not) or still open and already passed (not met).
constexpr char kStatsDeadlines[] =
    XF_SCOPE_CTE
    "SELECT (SELECT count(*) FROM deadline_log d WHERE d.name = :t1 "
    "          AND d.due_at >= xf_ts(:from1) AND d.due_at < xf_ts(:to1) "
    "          AND d.owing_unit IN (SELECT code FROM scope))::int "
    "     + (SELECT count(*) FROM case_timers t WHERE t.name = :t2 "
    "          AND t.due_at >= xf_ts(:from2) AND t.due_at < xf_ts(:to2) "
    "          AND t.due_at <= xf_ts(:now2) AND t.owing_unit IN (SELECT code FROM scope))::int, "
    "       (SELECT count(*) FROM deadline_log d WHERE d.name = :t3 AND d.met "
    "          AND d.due_at >= xf_ts(:from3) AND d.due_at < xf_ts(:to3) "
    "          AND d.owing_unit IN (SELECT code FROM scope))::int";

// Cases received in the period at units of the subtree.
#define XF_RECEIVED                                                                  \
  " FROM cases c WHERE c.received_at >= xf_ts(:from) AND c.received_at < xf_ts(:to) " \
  "   AND c.responsible_unit IN (SELECT code FROM scope) "

constexpr char kStatsReceived[] =
    XF_SCOPE_CTE
    "SELECT count(*)::int, "
    "  (count(*) FILTER (WHERE EXISTS (SELECT 1 FROM case_links l "
    "                    WHERE l.case_id = c.id AND l.kind = 'repeat')))::int, "
    "  (count(*) FILTER (WHERE c.channel = 4))::int " XF_RECEIVED;

// Evaluations owed: decisions served in the period whose window has closed
// (evaluated, lapsed, or left behind by a review request).
constexpr char kStatsEvaluation[] =
    XF_SCOPE_CTE
    "SELECT count(*)::int, "
    "  (count(*) FILTER (WHERE c.evaluation = 'satisfied'))::int, "
    "  (count(*) FILTER (WHERE c.evaluation = 'basically_satisfied'))::int, "
    "  (count(*) FILTER (WHERE c.evaluation = 'dissatisfied'))::int, "
    "  (count(*) FILTER (WHERE c.evaluation = 'lapsed'))::int "
    "  FROM cases c WHERE c.served_at >= xf_ts(:from) AND c.served_at < xf_ts(:to) "
    "   AND c.responsible_unit IN (SELECT code FROM scope) "
    "   AND NOT EXISTS (SELECT 1 FROM case_timers t WHERE t.case_id = c.id AND t.name = :eval)";

constexpr char kStatsCycles[] =
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
    "           AND c.responsible_unit IN (SELECT code FROM scope))::float8 / 86400";

constexpr char kDashboard[] =
    XF_SCOPE_CTE
    "SELECT c.responsible_unit, c.stage::int, count(DISTINCT c.id)::int, "
    "  (count(t.name) FILTER (WHERE t.suspended_at IS NULL AND t.due_at > xf_ts(:now1) "
    "                          AND t.due_at <= xf_ts(:soon)))::int, "
    "  (count(t.name) FILTER (WHERE t.suspended_at IS NULL AND t.due_at <= xf_ts(:now2)))::int, "
    "  (count(t.name) FILTER (WHERE t.rung > 0))::int, "
    "  (count(t.name) FILTER (WHERE t.name = :notice))::int "
    "  FROM cases c LEFT JOIN case_timers t ON t.case_id = c.id "
    " WHERE NOT c.final AND c.responsible_unit IN (SELECT code FROM scope) "
    " GROUP BY 1, 2 ORDER BY 1, 2";

constexpr char kUpdateCase[] = R"sql(
  UPDATE cases SET
    version = version + 1, state = :state, stage = :stage, final = (:final = 1),
    responsible_unit = :responsible_unit,
    forwarder_unit = nullif(:forwarder_unit, ''), review_unit = nullif(:review_unit, ''),
    recheck_unit = nullif(:recheck_unit, ''), case_officer = nullif(:case_officer, ''),
    accepted_at = xf_ts(:accepted_at), decided_at = xf_ts(:decided_at),
    served_at = xf_ts(:served_at), closed_at = xf_ts(:closed_at),
    outcome = nullif(:outcome, ''), evaluation = nullif(:evaluation, ''),
    flags = :flags, attributes = CAST(:attributes AS jsonb),
    conflicted_accounts = :conflicted, updated_at = xf_ts(:now),
    state_entered_at = xf_ts(:state_entered_at), unit_received_at = xf_ts(:unit_received_at)
  WHERE id = :id AND version = :expected
  RETURNING version, head_seq, head_hash)sql";

constexpr char kSetHead[] = "UPDATE cases SET head_seq = :seq, head_hash = :hash WHERE id = :id";

constexpr char kInsertCase[] = R"sql(
  INSERT INTO cases (tracking_number, request_id, workflow, workflow_version, state, stage,
                     final, channel, received_at, registered_at, registered_by,
                     registering_unit, responsible_unit, forwarder_unit, anonymous, purpose,
                     category, complained_about_unit, summary, flags, intake, updated_at,
                     state_entered_at, unit_received_at, request_hash, closed_at, attributes)
  VALUES (:tracking, :request_id, :workflow, :workflow_version, :state, :stage,
          (:final = 1), :channel, xf_ts(:received_at), xf_ts(:now), :registered_by,
          :registering_unit, :responsible_unit, nullif(:forwarder_unit, ''), (:anonymous = 1),
          :purpose, :category, nullif(:complained_unit, ''), :summary, :flags,
          CAST(:intake AS jsonb), xf_ts(:now), xf_ts(:state_entered_at),
          xf_ts(:unit_received_at), :request_hash, xf_ts(:closed_at),
          CAST(:attributes AS jsonb))
  ON CONFLICT (request_id) DO NOTHING
  RETURNING id)sql";

constexpr char kInsertEvent[] = R"sql(
  INSERT INTO case_events (case_id, seq, kind, action, from_state, to_state, actor, actor_role,
                           actor_unit, at, note, fields, prev_hash, hash)
  VALUES (:case_id, :seq, :kind, :action, :from_state, :to_state, :actor, :role, :unit,
          xf_ts(:at), :note, CAST(:fields AS jsonb), :prev_hash, :hash)
  RETURNING id)sql";

constexpr char kDeleteTimers[] = R"sql(
  DELETE FROM case_timers WHERE case_id = :id
  RETURNING name, xf_us(started_at), xf_us(due_at), owing_unit, overdue::int)sql";

constexpr char kLogDeadline[] = R"sql(
  INSERT INTO deadline_log (case_id, name, owing_unit, started_at, due_at, closed_at, met)
  VALUES (:case_id, :name, :unit, xf_ts(:started), xf_ts(:due), xf_ts(:closed), (:met = 1)))sql";

constexpr char kInsertTimer[] = R"sql(
  INSERT INTO case_timers (case_id, name, started_at, due_day, due_at, warn_at, provisional,
                           suspended_at, extended, warned, overdue, rung, next_fire_at,
                           owing_unit, counted_from, base_days, extension_days, stopped_days,
                           rolled)
  VALUES (:case_id, :name, xf_ts(:started_at), CAST(:due_day AS date), xf_ts(:due_at),
          xf_ts(:warn_at), (:provisional = 1), xf_ts(:suspended_at), (:extended = 1),
          (:warned = 1), (:overdue = 1), :rung, xf_ts(:next_fire_at), :owing_unit,
          CAST(:counted_from AS date), :base_days, :extension_days, :stopped_days,
          (:rolled = 1)))sql";

constexpr char kSelectEvents[] =
    "SELECT " XF_EVENT_COLUMNS " FROM case_events e WHERE e.case_id = :id ORDER BY e.seq";

constexpr char kNotify[] = "SELECT pg_notify('" XF_EVENTS_CHANNEL "', CAST(:id AS text))";

// ---- The sweeper's path: a batch of cases per transaction, written with a
// few set-based statements (the same rows WriteDecision writes one by one) ----

// Locks up to :lim cases with due timers, earliest first. Only the case rows
// are locked: every writer locks the case row first, so sweepers and
// casework never deadlock; SKIP LOCKED lets sweepers share the work. A case
// with several due timers may come more than once.
constexpr char kClaimDue[] = R"sql(
  SELECT c.id FROM case_timers t JOIN cases c ON c.id = t.case_id
   WHERE t.next_fire_at <= xf_ts(:now)
   ORDER BY t.next_fire_at LIMIT :lim
   FOR UPDATE OF c SKIP LOCKED)sql";

// The claimed cases (:ids, an array literal), read after the claim: what
// another sweeper committed before our lock was granted is seen.
constexpr char kSweepCases[] =
    "SELECT id, tracking_number, version, head_seq, head_hash, " XF_SNAPSHOT_COLUMNS
    "  FROM cases WHERE id = ANY (CAST(:ids AS bigint[]))";

constexpr char kSweepAttributes[] =
    "SELECT c.id, a.key, a.value FROM cases c, jsonb_each_text(c.attributes) a "
    " WHERE c.id = ANY (CAST(:ids AS bigint[]))";

// Due timers come first, earliest (then by name) first: the order to fire them.
constexpr char kSweepTimers[] =
    "SELECT t.case_id, " XF_TIMER_COLUMNS
    ", t.owing_unit, xf_us(t.next_fire_at) "
    "  FROM case_timers t WHERE t.case_id = ANY (CAST(:ids AS bigint[])) "
    " ORDER BY t.case_id, t.next_fire_at, t.name";

// Undecidable cases: their due timers wait kSweepRetryDelay.
constexpr char kSweepPutBack[] = R"sql(
  UPDATE case_timers SET next_fire_at = xf_ts(:retry)
   WHERE case_id = ANY (CAST(:ids AS bigint[])) AND next_fire_at <= xf_ts(:now))sql";

// kUpdateCase for many cases (and the new head of each history); returns
// how many passed the version check.
constexpr char kSweepUpdateCases[] = R"sql(
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
  SELECT count(*)::int FROM changed)sql";

// kInsertEvent for many events, all by one actor at one instant, inserted
// (and so numbered) in the order given.
constexpr char kSweepInsertEvents[] = R"sql(
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
   ORDER BY n.i)sql";

constexpr char kSweepDeleteTimers[] =
    "DELETE FROM case_timers WHERE case_id = ANY (CAST(:ids AS bigint[]))";

constexpr char kSweepInsertTimers[] = R"sql(
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
           extension_days, stopped_days, rolled))sql";

constexpr char kSweepLogDeadlines[] = R"sql(
  INSERT INTO deadline_log (case_id, name, owing_unit, started_at, due_at, closed_at, met)
  SELECT n.case_id, n.name, n.unit, xf_ts(n.started), xf_ts(n.due), xf_ts(:closed), n.met
    FROM unnest(CAST(:case_id AS bigint[]), CAST(:name AS text[]), CAST(:unit AS text[]),
                CAST(:started AS bigint[]), CAST(:due AS bigint[]), CAST(:met AS boolean[]))
      AS n(case_id, name, unit, started, due, met))sql";

// kNotify for each case.
constexpr char kSweepNotify[] = "SELECT count(*)::int FROM (SELECT pg_notify('" XF_EVENTS_CHANNEL
                                "', CAST(n.id AS text)) "
                                "  FROM unnest(CAST(:ids AS bigint[])) AS n(id)) notified";

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

absl::CivilDay ParseDay(const std::string& s) {
  absl::CivilDay d;
  absl::ParseCivilTime(s, &d);
  return d;
}

// Optional instant <-> (micros, indicator) for SOCI.
struct OptTime {
  long long us = 0;
  soci::indicator ind = soci::i_null;
  OptTime() = default;
  explicit OptTime(const std::optional<absl::Time>& t) {
    if (t.has_value()) {
      us = ToMicros(*t);
      ind = soci::i_ok;
    }
  }
  // Unset instants (absl::Time()) are stored as NULL.
  static OptTime UnlessUnset(absl::Time t) {
    return OptTime(t == absl::Time() ? std::nullopt : std::optional(t));
  }
  std::optional<int64_t> micros() const {
    return ind == soci::i_ok ? std::optional<int64_t>(us) : std::nullopt;
  }
};

std::optional<absl::Time> GetOptTime(const soci::row& r, std::size_t i) {
  if (r.get_indicator(i) == soci::i_null) return std::nullopt;
  return FromMicros(r.get<long long>(i));
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

// Reads the timer columns of kSelectTimers starting at column `j`.
TimerState ReadTimer(const soci::row& t, std::size_t j) {
  TimerState ts;
  ts.name = t.get<std::string>(j++);
  ts.started_at = FromMicros(t.get<long long>(j++));
  ts.deadline.due_day = ParseDay(t.get<std::string>(j++));
  ts.deadline.due_at = FromMicros(t.get<long long>(j++));
  ts.warn_at = FromMicros(t.get<long long>(j++));
  ts.deadline.provisional = t.get<int>(j++) != 0;
  ts.suspended_at = GetOptTime(t, j++);
  ts.extended = t.get<int>(j++) != 0;
  ts.warned = t.get<int>(j++) != 0;
  ts.overdue = t.get<int>(j++) != 0;
  ts.rung = t.get<int>(j++);
  ts.deadline.counted_from = ParseDay(t.get<std::string>(j++));
  ts.deadline.base_days = t.get<int>(j++);
  ts.deadline.extension_days = t.get<int>(j++);
  ts.deadline.stopped_days = t.get<int>(j++);
  ts.deadline.rolled = t.get<int>(j++) != 0;
  return ts;
}

// Reads the XF_EVENT_COLUMNS starting at column `i`.
StoredEvent ReadEvent(const soci::row& r, std::size_t i) {
  StoredEvent e;
  e.id = r.get<long long>(i++);
  e.case_id = r.get<long long>(i++);
  e.seq = r.get<int>(i++);
  e.event.kind = r.get<std::string>(i++);
  e.event.action = r.get<std::string>(i++);
  e.event.from_state = r.get<std::string>(i++);
  e.event.to_state = r.get<std::string>(i++);
  e.actor.account = r.get<std::string>(i++);
  e.actor.role = static_cast<xinfang::v1::Role>(r.get<int>(i++));
  e.actor.unit = r.get<std::string>(i++);
  e.at = FromMicros(r.get<long long>(i++));
  e.event.note = r.get<std::string>(i++);
  google::protobuf::Struct fields;
  if (google::protobuf::util::JsonStringToMessage(r.get<std::string>(i++), &fields).ok()) {
    for (const auto& [k, v] : fields.fields()) e.event.fields[k] = v.string_value();
  }
  e.prev_hash = r.get<std::string>(i++);
  e.hash = r.get<std::string>(i++);
  return e;
}

// Reads the XF_SNAPSHOT_COLUMNS starting at column `i`; the column after them.
std::size_t ReadSnapshot(const soci::row& r, std::size_t i, CaseSnapshot* snap) {
  snap->workflow = r.get<std::string>(i++);
  snap->workflow_version = r.get<int>(i++);
  snap->state = r.get<std::string>(i++);
  snap->received_at = FromMicros(r.get<long long>(i++));
  snap->responsible_unit = r.get<std::string>(i++);
  snap->forwarder_unit = r.get<std::string>(i++);
  snap->review_unit = r.get<std::string>(i++);
  snap->recheck_unit = r.get<std::string>(i++);
  snap->case_officer = r.get<std::string>(i++);
  snap->anonymous = r.get<int>(i++) != 0;
  snap->accepted_at = GetOptTime(r, i++);
  snap->decided_at = GetOptTime(r, i++);
  snap->served_at = GetOptTime(r, i++);
  snap->closed_at = GetOptTime(r, i++);
  snap->outcome = r.get<std::string>(i++);
  snap->evaluation = r.get<std::string>(i++);
  snap->flags = SplitSet(r.get<std::string>(i++));
  snap->conflicted_accounts = SplitSet(r.get<std::string>(i++));
  snap->state_entered_at = GetOptTime(r, i++).value_or(absl::Time());
  snap->unit_received_at = GetOptTime(r, i++).value_or(absl::Time());
  snap->complained_about_unit = r.get<std::string>(i++);
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

absl::StatusOr<CaseRecord> LoadCase(soci::session& s, const std::string& where_column,
                                    const std::string& key_text, long long key_id,
                                    const CaseStore::EngineLookup& engine_for) {
  soci::row r;
  if (where_column == "id") {
    s << kSelectCase << " WHERE id = :id", soci::use(key_id, "id"), soci::into(r);
  } else {
    s << kSelectCase << " WHERE tracking_number = :t", soci::use(key_text, "t"), soci::into(r);
  }
  if (!s.got_data()) {
    return absl::NotFoundError(where_column == "id"
                                   ? absl::StrCat("case ", key_id, " not found")
                                   : absl::StrCat("case ", key_text, " not found"));
  }
  CaseRecord c;
  std::size_t i = 0;
  c.id = r.get<long long>(i++);
  c.tracking_number = r.get<std::string>(i++);
  c.version = r.get<long long>(i++);
  c.head_seq = r.get<int>(i++);
  c.head_hash = r.get<std::string>(i++);
  c.registered_at = FromMicros(r.get<long long>(i++));
  c.registered_by = r.get<std::string>(i++);
  const std::string intake_json = r.get<std::string>(i++);
  CaseSnapshot& snap = c.snapshot;
  i = ReadSnapshot(r, i, &snap);
  const std::string petitioners = r.get<std::string>(i++);
  const std::string related = r.get<std::string>(i++);
  const std::string attributes = r.get<std::string>(i++);
  const std::string actions = r.get<std::string>(i++);
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

  long long id = c.id;
  ForEachRow(
      s, kSelectTimers, [&](soci::statement& st) { st.exchange(soci::use(id, "id")); },
      [&](const soci::row& t) { snap.timers.push_back(ReadTimer(t, 0)); });
  SortTimers(engine_for(snap.workflow, snap.workflow_version), &snap);
  return c;
}

// Appends `events` after the case's history head (`seq`, `prev_hash`),
// chaining hashes, and records the new head on the case row. Returns them
// as stored.
std::vector<StoredEvent> AppendEvents(soci::session& s, long long case_id, int seq,
                                      std::string prev_hash,
                                      const std::vector<workflow::Event>& events,
                                      const workflow::Actor& actor, absl::Time now) {
  long long at = ToMicros(now);
  std::vector<StoredEvent> stored;
  for (const workflow::Event& e : events) {
    ++seq;
    // Stored instants have microsecond precision: hash what is stored.
    const std::string hash = EventHash(prev_hash, case_id, seq, e, actor, FromMicros(at));
    const std::string fields = JsonObject(e.fields);
    const int role = static_cast<int>(actor.role);
    long long event_id = 0;
    s << kInsertEvent, soci::use(case_id, "case_id"), soci::use(seq, "seq"),
        soci::use(e.kind, "kind"), soci::use(e.action, "action"),
        soci::use(e.from_state, "from_state"), soci::use(e.to_state, "to_state"),
        soci::use(actor.account, "actor"), soci::use(role, "role"),
        soci::use(actor.unit, "unit"), soci::use(at, "at"), soci::use(e.note, "note"),
        soci::use(fields, "fields"), soci::use(prev_hash, "prev_hash"),
        soci::use(hash, "hash"), soci::into(event_id);
    stored.push_back(StoredEvent{event_id, case_id, seq, e, actor, FromMicros(at), prev_hash, hash});
    prev_hash = hash;
  }
  s << kSetHead, soci::use(seq, "seq"), soci::use(prev_hash, "hash"), soci::use(case_id, "id");
  return stored;
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
// strings (kUpdateCase, kSweepUpdateCases).
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

// The columns of a timer row (kInsertTimer, kSweepInsertTimers).
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

// Replaces the case's timer rows; when one of them fires within a minute of
// `now`, tells sweepers in other processes (NOTIFY xinfang_timers, sent at
// commit) so they need not wait out their interval.
void ReplaceTimers(soci::session& s, long long case_id, const CaseSnapshot& snap,
                   const workflow::Engine* engine, absl::Time now) {
  {
    std::vector<OldTimer> old;
    ForEachRow(
        s, kDeleteTimers, [&](soci::statement& st) { st.exchange(soci::use(case_id, "id")); },
        [&](const soci::row& r) {
          old.push_back(OldTimer{r.get<std::string>(0), r.get<std::string>(3),
                                 r.get<long long>(1), r.get<long long>(2), r.get<int>(4) != 0});
        });
    long long closed = ToMicros(now);
    for (const OldTimer& o : old) {
      if (!Closes(o, snap)) continue;
      int met = Met(o, closed) ? 1 : 0;
      s << kLogDeadline, soci::use(case_id, "case_id"), soci::use(o.name, "name"),
          soci::use(o.unit, "unit"), soci::use(o.started, "started"), soci::use(o.due, "due"),
          soci::use(closed, "closed"), soci::use(met, "met");
    }
  }
  bool soon = false;
  for (const TimerState& t : snap.timers) {
    TimerColumns c(t, snap, engine);
    soon = soon || c.FiresSoon(now);
    s << kInsertTimer, soci::use(case_id, "case_id"), soci::use(t.name, "name"),
        soci::use(c.started, "started_at"), soci::use(c.due_day, "due_day"),
        soci::use(c.due_at, "due_at"), soci::use(c.warn_at, "warn_at"),
        soci::use(c.provisional, "provisional"),
        soci::use(c.suspended.us, c.suspended.ind, "suspended_at"),
        soci::use(c.extended, "extended"), soci::use(c.warned, "warned"),
        soci::use(c.overdue, "overdue"), soci::use(c.rung, "rung"),
        soci::use(c.next.us, c.next.ind, "next_fire_at"), soci::use(c.owing, "owing_unit"),
        soci::use(c.counted_from, "counted_from"), soci::use(c.base_days, "base_days"),
        soci::use(c.extension_days, "extension_days"),
        soci::use(c.stopped_days, "stopped_days"), soci::use(c.rolled, "rolled");
  }
  if (soon) s << "SELECT pg_notify('" << kTimersChannel << "', '')";
}

// A case the sweeper claimed, read under its row lock.
struct Claimed {
  DueCase due;
  int head_seq = 0;
  std::string head_hash;
  std::vector<OldTimer> old_timers;
};

// Reads the claimed cases (`ids`, an array literal): snapshots with their
// attributes and timers, due timers, history heads. In id order.
std::vector<Claimed> LoadClaimed(soci::session& s, const std::string& ids, long long now_us,
                                 const CaseStore::EngineLookup& engine_for) {
  std::vector<Claimed> out;
  std::map<long long, Claimed*> by_id;
  {
    soci::rowset<soci::row> rows = (s.prepare << kSweepCases, soci::use(ids, "ids"));
    for (const soci::row& r : rows) {
      Claimed& c = out.emplace_back();
      c.due.id = r.get<long long>(0);
      c.due.tracking_number = r.get<std::string>(1);
      c.due.version = r.get<long long>(2);
      c.head_seq = r.get<int>(3);
      c.head_hash = r.get<std::string>(4);
      ReadSnapshot(r, 5, &c.due.snapshot);
    }
  }
  std::sort(out.begin(), out.end(),
            [](const Claimed& a, const Claimed& b) { return a.due.id < b.due.id; });
  for (Claimed& c : out) by_id[c.due.id] = &c;
  {
    long long id = 0;
    std::string key, value;
    soci::statement st = (s.prepare << kSweepAttributes, soci::use(ids, "ids"), soci::into(id),
                          soci::into(key), soci::into(value));
    st.execute();
    while (st.fetch()) by_id.at(id)->due.snapshot.attributes[key] = value;
  }
  {
    soci::rowset<soci::row> rows = (s.prepare << kSweepTimers, soci::use(ids, "ids"));
    for (const soci::row& r : rows) {
      Claimed& c = *by_id.at(r.get<long long>(0));
      TimerState t = ReadTimer(r, 1);
      const std::optional<absl::Time> next_fire = GetOptTime(r, 1 + kTimerColumnCount + 1);
      if (next_fire.has_value() && ToMicros(*next_fire) <= now_us) {
        c.due.due_timers.push_back(t.name);
      }
      c.old_timers.push_back(OldTimer{t.name, r.get<std::string>(1 + kTimerColumnCount),
                                      ToMicros(t.started_at),
                                      ToMicros(t.deadline.due_at), t.overdue});
      c.due.snapshot.timers.push_back(std::move(t));
    }
  }
  for (Claimed& c : out) {
    SortTimers(engine_for(c.due.snapshot.workflow, c.due.snapshot.workflow_version),
               &c.due.snapshot);
  }
  return out;
}

// A claimed case and what its due timers mean.
struct Swept {
  const Claimed* claimed;
  workflow::Decision decision;
};

// Writes the decisions of a batch as WriteDecision would one by one, as the
// "system" actor at `now`: the case rows (version check), the events
// (hash-chained after each history's head), the timers, the closed
// deadlines, and a notification per case. The rows are locked by the caller.
// Returns the events written; ABORTED if a version moved (which the caller's
// row locks rule out), INTERNAL without an engine for a decision.
absl::StatusOr<int> WriteSwept(soci::session& s, const std::vector<Swept>& swept, absl::Time now,
                               const CaseStore::EngineLookup& engine_for) {
  const workflow::Actor system{"system", xinfang::v1::ROLE_SYSTEM, ""};
  const long long now_us = ToMicros(now);
  const absl::Time at = FromMicros(now_us);  // stored instants are microseconds: hash those
  struct {
    SqlArray id, expected, state, stage, final, responsible_unit, forwarder_unit, review_unit,
        recheck_unit, case_officer, accepted_at, decided_at, served_at, closed_at, outcome,
        evaluation, flags, attributes, conflicted, state_entered_at, unit_received_at, head_seq,
        head_hash;
  } cases;
  struct {
    SqlArray case_id, seq, kind, action, from_state, to_state, note, fields, prev_hash, hash;
  } events;
  struct {
    SqlArray case_id, name, started_at, due_day, due_at, warn_at, provisional, suspended_at,
        extended, warned, overdue, rung, next_fire_at, owing_unit, counted_from, base_days,
        extension_days, stopped_days, rolled;
  } timers;
  struct {
    SqlArray case_id, name, unit, started, due, met;
  } closed;
  bool soon = false;
  for (const Swept& w : swept) {
    const long long id = w.claimed->due.id;
    const CaseSnapshot& snap = w.decision.next;
    const workflow::Engine* engine = engine_for(snap.workflow, snap.workflow_version);
    if (engine == nullptr) {
      return absl::InternalError(
          absl::StrCat("no engine for ", snap.workflow, "@", snap.workflow_version));
    }
    int seq = w.claimed->head_seq;
    std::string prev_hash = w.claimed->head_hash;
    for (const workflow::Event& e : w.decision.events) {
      ++seq;
      std::string hash = EventHash(prev_hash, id, seq, e, system, at);
      events.case_id.AddInt(id);
      events.seq.AddInt(seq);
      events.kind.AddText(e.kind);
      events.action.AddText(e.action);
      events.from_state.AddText(e.from_state);
      events.to_state.AddText(e.to_state);
      events.note.AddText(e.note);
      events.fields.AddText(JsonObject(e.fields));
      events.prev_hash.AddText(prev_hash);
      events.hash.AddText(hash);
      prev_hash = std::move(hash);
    }

    const CaseColumns c(snap, *engine);
    cases.id.AddInt(id);
    cases.expected.AddInt(w.claimed->due.version);
    cases.state.AddText(snap.state);
    cases.stage.AddInt(c.stage);
    cases.final.AddBool(c.final != 0);
    cases.responsible_unit.AddText(snap.responsible_unit);
    cases.forwarder_unit.AddText(snap.forwarder_unit);
    cases.review_unit.AddText(snap.review_unit);
    cases.recheck_unit.AddText(snap.recheck_unit);
    cases.case_officer.AddText(snap.case_officer);
    cases.accepted_at.AddOptInt(c.accepted.micros());
    cases.decided_at.AddOptInt(c.decided.micros());
    cases.served_at.AddOptInt(c.served.micros());
    cases.closed_at.AddOptInt(c.closed.micros());
    cases.outcome.AddText(snap.outcome);
    cases.evaluation.AddText(snap.evaluation);
    cases.flags.AddText(c.flags);
    cases.attributes.AddText(c.attributes);
    cases.conflicted.AddText(c.conflicted);
    cases.state_entered_at.AddOptInt(c.entered.micros());
    cases.unit_received_at.AddOptInt(c.unit_received.micros());
    cases.head_seq.AddInt(seq);
    cases.head_hash.AddText(prev_hash);

    for (const OldTimer& o : w.claimed->old_timers) {
      if (!Closes(o, snap)) continue;
      closed.case_id.AddInt(id);
      closed.name.AddText(o.name);
      closed.unit.AddText(o.unit);
      closed.started.AddInt(o.started);
      closed.due.AddInt(o.due);
      closed.met.AddBool(Met(o, now_us));
    }
    for (const TimerState& t : snap.timers) {
      const TimerColumns tc(t, snap, engine);
      soon = soon || tc.FiresSoon(now);
      timers.case_id.AddInt(id);
      timers.name.AddText(t.name);
      timers.started_at.AddInt(tc.started);
      timers.due_day.AddText(tc.due_day);
      timers.due_at.AddInt(tc.due_at);
      timers.warn_at.AddInt(tc.warn_at);
      timers.provisional.AddBool(tc.provisional != 0);
      timers.suspended_at.AddOptInt(tc.suspended.micros());
      timers.extended.AddBool(tc.extended != 0);
      timers.warned.AddBool(tc.warned != 0);
      timers.overdue.AddBool(tc.overdue != 0);
      timers.rung.AddInt(tc.rung);
      timers.next_fire_at.AddOptInt(tc.next.micros());
      timers.owing_unit.AddText(tc.owing);
      timers.counted_from.AddText(tc.counted_from);
      timers.base_days.AddInt(tc.base_days);
      timers.extension_days.AddInt(tc.extension_days);
      timers.stopped_days.AddInt(tc.stopped_days);
      timers.rolled.AddBool(tc.rolled != 0);
    }
  }

  int updated = 0;
  s << kSweepUpdateCases, soci::use(cases.id.Literal(), "id"),
      soci::use(cases.expected.Literal(), "expected"), soci::use(cases.state.Literal(), "state"),
      soci::use(cases.stage.Literal(), "stage"), soci::use(cases.final.Literal(), "final"),
      soci::use(cases.responsible_unit.Literal(), "responsible_unit"),
      soci::use(cases.forwarder_unit.Literal(), "forwarder_unit"),
      soci::use(cases.review_unit.Literal(), "review_unit"),
      soci::use(cases.recheck_unit.Literal(), "recheck_unit"),
      soci::use(cases.case_officer.Literal(), "case_officer"),
      soci::use(cases.accepted_at.Literal(), "accepted_at"),
      soci::use(cases.decided_at.Literal(), "decided_at"),
      soci::use(cases.served_at.Literal(), "served_at"),
      soci::use(cases.closed_at.Literal(), "closed_at"),
      soci::use(cases.outcome.Literal(), "outcome"),
      soci::use(cases.evaluation.Literal(), "evaluation"),
      soci::use(cases.flags.Literal(), "flags"),
      soci::use(cases.attributes.Literal(), "attributes"),
      soci::use(cases.conflicted.Literal(), "conflicted"), soci::use(now_us, "now"),
      soci::use(cases.state_entered_at.Literal(), "state_entered_at"),
      soci::use(cases.unit_received_at.Literal(), "unit_received_at"),
      soci::use(cases.head_seq.Literal(), "head_seq"),
      soci::use(cases.head_hash.Literal(), "head_hash"), soci::into(updated);
  if (updated != cases.id.size()) {
    return absl::AbortedError(absl::StrCat("sweeper: ", cases.id.size() - updated,
                                           " claimed case(s) changed under the row lock"));
  }
  if (events.case_id.size() > 0) {
    const int role = static_cast<int>(system.role);
    s << kSweepInsertEvents, soci::use(system.account, "actor"), soci::use(role, "role"),
        soci::use(system.unit, "unit"), soci::use(now_us, "at"),
        soci::use(events.case_id.Literal(), "case_id"), soci::use(events.seq.Literal(), "seq"),
        soci::use(events.kind.Literal(), "kind"), soci::use(events.action.Literal(), "action"),
        soci::use(events.from_state.Literal(), "from_state"),
        soci::use(events.to_state.Literal(), "to_state"), soci::use(events.note.Literal(), "note"),
        soci::use(events.fields.Literal(), "fields"),
        soci::use(events.prev_hash.Literal(), "prev_hash"),
        soci::use(events.hash.Literal(), "hash");
  }
  s << kSweepDeleteTimers, soci::use(cases.id.Literal(), "ids");
  if (timers.case_id.size() > 0) {
    s << kSweepInsertTimers, soci::use(timers.case_id.Literal(), "case_id"),
        soci::use(timers.name.Literal(), "name"),
        soci::use(timers.started_at.Literal(), "started_at"),
        soci::use(timers.due_day.Literal(), "due_day"),
        soci::use(timers.due_at.Literal(), "due_at"),
        soci::use(timers.warn_at.Literal(), "warn_at"),
        soci::use(timers.provisional.Literal(), "provisional"),
        soci::use(timers.suspended_at.Literal(), "suspended_at"),
        soci::use(timers.extended.Literal(), "extended"),
        soci::use(timers.warned.Literal(), "warned"),
        soci::use(timers.overdue.Literal(), "overdue"), soci::use(timers.rung.Literal(), "rung"),
        soci::use(timers.next_fire_at.Literal(), "next_fire_at"),
        soci::use(timers.owing_unit.Literal(), "owing_unit"),
        soci::use(timers.counted_from.Literal(), "counted_from"),
        soci::use(timers.base_days.Literal(), "base_days"),
        soci::use(timers.extension_days.Literal(), "extension_days"),
        soci::use(timers.stopped_days.Literal(), "stopped_days"),
        soci::use(timers.rolled.Literal(), "rolled");
  }
  if (closed.case_id.size() > 0) {
    s << kSweepLogDeadlines, soci::use(closed.case_id.Literal(), "case_id"),
        soci::use(closed.name.Literal(), "name"), soci::use(closed.unit.Literal(), "unit"),
        soci::use(closed.started.Literal(), "started"), soci::use(closed.due.Literal(), "due"),
        soci::use(now_us, "closed"), soci::use(closed.met.Literal(), "met");
  }
  int notified = 0;
  s << kSweepNotify, soci::use(cases.id.Literal(), "ids"), soci::into(notified);
  if (soon) s << "SELECT pg_notify('" << kTimersChannel << "', '')";
  return events.case_id.size();
}

}  // namespace

std::vector<StoredEvent> AppendToHistory(soci::session& s, int64_t case_id,
                                         const std::vector<workflow::Event>& events,
                                         const workflow::Actor& actor, absl::Time now) {
  long long id = case_id;
  int head_seq = 0;
  std::string head_hash;
  s << "SELECT head_seq, head_hash FROM cases WHERE id = :id FOR NO KEY UPDATE", soci::use(id, "id"),
      soci::into(head_seq), soci::into(head_hash);
  if (!s.got_data()) return {};
  std::vector<StoredEvent> stored = AppendEvents(s, id, head_seq, head_hash, events, actor, now);
  s << kNotify, soci::use(id, "id");
  return stored;
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

CaseStore::CaseStore(Pool& pool, EngineLookup engine_for)
    : pool_(pool), engine_for_(std::move(engine_for)) {}

absl::StatusOr<CaseRecord> CaseStore::Get(int64_t id) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    return LoadCase(lease->session(), "id", "", id, engine_for_);
  } catch (...) {
    return StatusFromCurrentException("reading a case");
  }
}

absl::StatusOr<std::optional<CaseRecord>> CaseStore::FindReplay(const std::string& request_id,
                                                                const std::string& request_hash) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  soci::session& s = lease->session();
  try {
    long long id = 0;
    std::string hash;
    s << "SELECT id, request_hash FROM cases WHERE request_id = :r", soci::use(request_id, "r"),
        soci::into(id), soci::into(hash);
    if (!s.got_data()) return std::optional<CaseRecord>();
    auto rec = LoadCase(s, "id", "", id, engine_for_);
    if (!rec.ok()) return rec.status();
    if (hash != request_hash) {
      return absl::AlreadyExistsError(absl::StrCat(
          "request_id: already used for a different petition (case ", rec->tracking_number,
          "): use a new request_id for a new petition"));
    }
    return std::optional<CaseRecord>(std::move(*rec));
  } catch (...) {
    return StatusFromCurrentException("looking up a request id");
  }
}

absl::StatusOr<CaseRecord> CaseStore::GetByTracking(const std::string& tracking_number) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    return LoadCase(lease->session(), "tracking", tracking_number, 0, engine_for_);
  } catch (...) {
    return StatusFromCurrentException("reading a case");
  }
}

absl::StatusOr<CreateResult> CaseStore::Create(const NewCase& c) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  soci::session& s = lease->session();
  try {
    auto replay = [&]() -> absl::StatusOr<CreateResult> {
      long long existing = 0;
      std::string hash;
      s << "SELECT id, request_hash FROM cases WHERE request_id = :r",
          soci::use(c.request_id, "r"), soci::into(existing), soci::into(hash);
      if (!s.got_data()) return absl::InternalError("replayed request vanished");
      auto rec = LoadCase(s, "id", "", existing, engine_for_);
      if (!rec.ok()) return rec.status();
      if (hash != c.request_hash) {
        return absl::AlreadyExistsError(absl::StrCat(
            "request_id: already used for a different petition (case ", rec->tracking_number,
            "): use a new request_id for a new petition"));
      }
      return CreateResult{std::move(*rec), true};
    };
    // (A retry was answered before this call by FindReplay; one racing with
    // this insert loses at the insert's ON CONFLICT and is replayed there.)

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

    soci::transaction tx(s);
    long long seqno = 0;
    s << "SELECT nextval('tracking_seq')", soci::into(seqno);
    const std::string tracking = absl::StrFormat("%s%06d", c.tracking_prefix, seqno);
    long long id = 0;
    {
      const int stage = state != nullptr ? static_cast<int>(state->stage()) : 0;
      const int final = state != nullptr && state->final() ? 1 : 0;
      const int channel = static_cast<int>(c.intake.channel());
      const long long received = ToMicros(snap.received_at);
      const long long now = ToMicros(c.now);
      const int anonymous = snap.anonymous ? 1 : 0;
      const int purpose = static_cast<int>(c.intake.purpose());
      const std::string flags = JoinSet(snap.flags);
      const std::string wf = snap.workflow;
      const int wfv = snap.workflow_version;
      const long long entered = ToMicros(snap.state_entered_at);
      const long long unit_received = ToMicros(snap.unit_received_at);
      // A petition not accepted at registration is closed at once, with the
      // refusal's fields recorded.
      OptTime closed(snap.closed_at);
      const std::string attributes = JsonObject(snap.attributes);
      s << kInsertCase, soci::use(tracking, "tracking"), soci::use(c.request_id, "request_id"),
          soci::use(wf, "workflow"), soci::use(wfv, "workflow_version"),
          soci::use(snap.state, "state"), soci::use(stage, "stage"), soci::use(final, "final"),
          soci::use(channel, "channel"), soci::use(received, "received_at"),
          soci::use(now, "now"), soci::use(c.actor.account, "registered_by"),
          soci::use(c.intake.registering_unit(), "registering_unit"),
          soci::use(snap.responsible_unit, "responsible_unit"),
          soci::use(snap.forwarder_unit, "forwarder_unit"), soci::use(anonymous, "anonymous"),
          soci::use(purpose, "purpose"), soci::use(c.intake.category(), "category"),
          soci::use(c.intake.complained_about_unit(), "complained_unit"),
          soci::use(c.intake.summary(), "summary"), soci::use(flags, "flags"),
          soci::use(intake_json, "intake"), soci::use(entered, "state_entered_at"),
          soci::use(unit_received, "unit_received_at"), soci::use(c.request_hash, "request_hash"),
          soci::use(closed.us, closed.ind, "closed_at"), soci::use(attributes, "attributes"),
          soci::into(id);
      if (!s.got_data()) {
        // A concurrent retry with the same request id won the race.
        tx.rollback();
        return replay();
      }
    }

    // Petitioners: match the registry, then link each one's previous case in
    // the same category as a repeat petition (the earlier ones are reached
    // through the petitioner index: Case.related_tracking_numbers).
    std::set<long long> related;
    int position = 0;
    for (const xinfang::v1::Petitioner& p : c.intake.petitioners()) {
      long long person = 0;
      if (!p.id_number().empty()) {
        // The registry keeps the name the number was first registered with;
        // this case keeps the name given now (in its intake).
        // No row lock unless something changes: a frequent petitioner's
        // registrations do not queue behind each other on the person row.
        std::string registered_name;
        soci::indicator found = soci::i_null;
        s << "SELECT id, name FROM persons WHERE id_number = :idn", soci::use(p.id_number(), "idn"),
            soci::into(person, found), soci::into(registered_name);
        if (!s.got_data() || found == soci::i_null) {
          s << R"sql(INSERT INTO persons (name, id_number, phone, address)
                     VALUES (:name, :idn, nullif(:phone, ''), nullif(:address, ''))
                     ON CONFLICT (id_number) DO NOTHING RETURNING id)sql",
              soci::use(p.name(), "name"), soci::use(p.id_number(), "idn"),
              soci::use(p.phone(), "phone"), soci::use(p.address(), "address"),
              soci::into(person);
          if (s.got_data()) {
            registered_name = p.name();
          } else {  // registered by a concurrent call meanwhile
            s << "SELECT id, name FROM persons WHERE id_number = :idn",
                soci::use(p.id_number(), "idn"), soci::into(person), soci::into(registered_name);
          }
        }
        if (registered_name != p.name() && !p.same_person_confirmed()) {
          // Not merged silently: a mistyped number would attach this petition
          // to someone else. The rollback undoes the upsert.
          const std::string field = absl::StrCat("intake.petitioners[", position, "]");
          return absl::FailedPreconditionError(absl::StrCat(
              field, ".id_number: already registered to ", MaskName(registered_name),
              ", not to the name given; check the number, or set ", field,
              ".same_person_confirmed if it is the same person"));
        }
        // Newer contact details replace older ones; the row is locked only
        // when they differ.
        s << R"sql(UPDATE persons
                      SET phone = coalesce(nullif(:phone, ''), phone),
                          address = coalesce(nullif(:address, ''), address)
                    WHERE id = :id
                      AND (phone IS DISTINCT FROM coalesce(nullif(:phone2, ''), phone)
                           OR address IS DISTINCT FROM coalesce(nullif(:address2, ''), address)))sql",
            soci::use(p.phone(), "phone"), soci::use(p.address(), "address"),
            soci::use(person, "id"), soci::use(p.phone(), "phone2"),
            soci::use(p.address(), "address2");
      } else {
        soci::indicator ind = soci::i_null;
        if (!p.phone().empty()) {
          s << "SELECT min(id) FROM persons WHERE name = :name AND phone = :phone",
              soci::use(p.name(), "name"), soci::use(p.phone(), "phone"),
              soci::into(person, ind);
        }
        if (ind == soci::i_null) {
          s << R"sql(INSERT INTO persons (name, phone, address)
                     VALUES (:name, nullif(:phone, ''), nullif(:address, '')) RETURNING id)sql",
              soci::use(p.name(), "name"), soci::use(p.phone(), "phone"),
              soci::use(p.address(), "address"), soci::into(person);
        }
      }
      s << R"sql(INSERT INTO case_petitioners (case_id, position, person_id, category)
                 VALUES (:c, :p, :person, :category))sql",
          soci::use(id, "c"), soci::use(position, "p"), soci::use(person, "person"),
          soci::use(c.intake.category(), "category");
      ++position;
      // The matter's previous case for this person: one index probe,
      // whatever the petitioner's history.
      long long previous = 0;
      soci::indicator has_previous = soci::i_null;
      s << R"sql(SELECT max(case_id) FROM case_petitioners
                  WHERE person_id = :person AND category = :category AND case_id < :id)sql",
          soci::use(person, "person"), soci::use(c.intake.category(), "category"),
          soci::use(id, "id"), soci::into(previous, has_previous);
      if (has_previous == soci::i_ok) related.insert(previous);
    }
    for (long long r : related) {
      s << "INSERT INTO case_links (case_id, related_id, kind) VALUES (:c, :r, 'repeat')",
          soci::use(id, "c"), soci::use(r, "r");
    }

    std::vector<workflow::Event> events = c.start.events;
    if (!related.empty() && !events.empty()) {
      events.front().fields["repeat_of"] = absl::StrJoin(related, ",");
    }
    AppendEvents(s, id, 0, "", events, c.actor, c.now);
    ReplaceTimers(s, id, snap, engine, c.now);
    s << kNotify, soci::use(id, "id");
    tx.commit();
    auto rec = LoadCase(s, "id", "", id, engine_for_);
    if (!rec.ok()) return rec.status();
    return CreateResult{std::move(*rec), false};
  } catch (...) {
    return StatusFromCurrentException("registering a case");
  }
}

absl::StatusOr<Applied> CaseStore::Apply(int64_t id, int64_t expected_version,
                                         const workflow::Decision& decision,
                                         const workflow::Actor& actor, absl::Time now) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  soci::session& s = lease->session();
  try {
    soci::transaction tx(s);
    absl::StatusOr<std::vector<StoredEvent>> written =
        WriteDecision(s, id, expected_version, decision, actor, now);
    if (!written.ok()) {
      tx.rollback();
      return written.status();
    }
    tx.commit();
    auto rec = LoadCase(s, "id", "", id, engine_for_);
    if (!rec.ok()) return rec.status();
    return Applied{std::move(*rec), std::move(*written)};
  } catch (...) {
    return StatusFromCurrentException("applying a change to a case");
  }
}

absl::StatusOr<std::vector<StoredEvent>> CaseStore::WriteDecision(
    soci::session& s, int64_t id, int64_t expected_version, const workflow::Decision& decision,
    const workflow::Actor& actor, absl::Time now) {
  const CaseSnapshot& snap = decision.next;
  const workflow::Engine* engine = engine_for_(snap.workflow, snap.workflow_version);
  if (engine == nullptr) {
    return absl::InternalError(
        absl::StrCat("no engine for ", snap.workflow, "@", snap.workflow_version));
  }
  long long case_id = id;
  long long expected = expected_version;
  long long new_version = 0;
  long long now_us = ToMicros(now);
  CaseColumns c(snap, *engine);
  int head_seq = 0;
  std::string head_hash;
  s << kUpdateCase, soci::use(snap.state, "state"), soci::use(c.stage, "stage"),
      soci::use(c.final, "final"), soci::use(snap.responsible_unit, "responsible_unit"),
      soci::use(snap.forwarder_unit, "forwarder_unit"), soci::use(snap.review_unit, "review_unit"),
      soci::use(snap.recheck_unit, "recheck_unit"), soci::use(snap.case_officer, "case_officer"),
      soci::use(c.accepted.us, c.accepted.ind, "accepted_at"),
      soci::use(c.decided.us, c.decided.ind, "decided_at"),
      soci::use(c.served.us, c.served.ind, "served_at"),
      soci::use(c.closed.us, c.closed.ind, "closed_at"), soci::use(snap.outcome, "outcome"),
      soci::use(snap.evaluation, "evaluation"), soci::use(c.flags, "flags"),
      soci::use(c.attributes, "attributes"), soci::use(c.conflicted, "conflicted"),
      soci::use(now_us, "now"), soci::use(c.entered.us, c.entered.ind, "state_entered_at"),
      soci::use(c.unit_received.us, c.unit_received.ind, "unit_received_at"),
      soci::use(case_id, "id"), soci::use(expected, "expected"), soci::into(new_version),
      soci::into(head_seq), soci::into(head_hash);
  if (!s.got_data()) {
    long long current = 0;
    s << "SELECT version FROM cases WHERE id = :id", soci::use(case_id, "id"),
        soci::into(current);
    if (!s.got_data()) return absl::NotFoundError(absl::StrCat("case ", id, " not found"));
    return absl::AbortedError(absl::StrCat("case ", id, " is at version ", current, ", not ",
                                           expected_version, ": read it again and retry"));
  }
  std::vector<StoredEvent> stored =
      AppendEvents(s, case_id, head_seq, head_hash, decision.events, actor, now);
  ReplaceTimers(s, case_id, snap, engine, now);
  s << kNotify, soci::use(case_id, "id");
  return stored;
}

absl::StatusOr<SweepResult> CaseStore::SweepDue(absl::Time now, int batch, const Decide& decide) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  soci::session& s = lease->session();
  SweepResult result;
  try {
    soci::transaction tx(s);
    const long long now_us = ToMicros(now);
    std::set<long long> claimed_ids;
    {
      long long id = 0;
      soci::statement st = (s.prepare << kClaimDue, soci::use(now_us, "now"),
                            soci::use(batch, "lim"), soci::into(id));
      st.execute();
      while (st.fetch()) claimed_ids.insert(id);
    }
    result.claimed = static_cast<int>(claimed_ids.size());
    if (claimed_ids.empty()) {
      tx.commit();
      return result;
    }
    SqlArray ids;
    for (long long id : claimed_ids) ids.AddInt(id);
    const std::vector<Claimed> claimed = LoadClaimed(s, ids.Literal(), now_us, engine_for_);

    std::vector<Swept> swept;
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
      swept.push_back(Swept{&c, std::move(*decision)});
    }
    if (put_back.size() > 0) {
      const long long retry_us = ToMicros(now + kSweepRetryDelay);
      s << kSweepPutBack, soci::use(retry_us, "retry"), soci::use(put_back.Literal(), "ids"),
          soci::use(now_us, "now");
    }
    if (!swept.empty()) {
      auto events = WriteSwept(s, swept, now, engine_for_);
      if (!events.ok()) return events.status();
      result.cases = static_cast<int>(swept.size());
      result.events = *events;
    }
    tx.commit();
    return result;
  } catch (...) {
    return StatusFromCurrentException("firing due timers");
  }
}

absl::StatusOr<std::vector<int64_t>> CaseStore::CasesWithProvisionalTimers(int64_t after_id,
                                                                           int limit) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    std::vector<int64_t> ids;
    long long after = after_id;
    ForEachRow(
        lease->session(),
        "SELECT DISTINCT case_id FROM case_timers WHERE provisional AND case_id > :after "
        " ORDER BY case_id LIMIT :lim",
        [&](soci::statement& st) {
          st.exchange(soci::use(after, "after"));
          st.exchange(soci::use(limit, "lim"));
        },
        [&](const soci::row& r) { ids.push_back(r.get<long long>(0)); });
    return ids;
  } catch (...) {
    return StatusFromCurrentException("reading provisional deadlines");
  }
}

absl::StatusOr<std::optional<absl::Time>> CaseStore::NextFireAt() {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    long long us = 0;
    soci::indicator ind = soci::i_null;
    lease->session() << "SELECT xf_us(min(next_fire_at)) FROM case_timers", soci::into(us, ind);
    if (ind == soci::i_null) return std::optional<absl::Time>();
    return std::optional<absl::Time>(FromMicros(us));
  } catch (...) {
    return StatusFromCurrentException("reading the next deadline");
  }
}

absl::StatusOr<std::vector<StoredEvent>> CaseStore::History(int64_t id) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  soci::session& s = lease->session();
  try {
    long long case_id = id;
    long long exists = 0;
    s << "SELECT id FROM cases WHERE id = :id", soci::use(case_id, "id"), soci::into(exists);
    if (!s.got_data()) return absl::NotFoundError(absl::StrCat("case ", id, " not found"));
    std::vector<StoredEvent> out;
    ForEachRow(
        s, kSelectEvents, [&](soci::statement& st) { st.exchange(soci::use(case_id, "id")); },
        [&](const soci::row& r) { out.push_back(ReadEvent(r, 0)); });
    return out;
  } catch (...) {
    return StatusFromCurrentException("reading a case's history");
  }
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
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  soci::session& s = lease->session();
  try {
    std::set<long long> ids;
    SqlArray below_units;
    for (const std::string& u : units_below) below_units.AddText(u);
    const std::string below = below_units.Literal();
    for (const xinfang::v1::Petitioner& p : petitioners) {
      if (p.id_number().empty() && p.phone().empty()) continue;
      ForEachRow(
          s,
          R"sql(SELECT cp.case_id FROM persons ps
                  JOIN case_petitioners cp ON cp.person_id = ps.id AND cp.category = :category
                  JOIN cases c ON c.id = cp.case_id
                 WHERE ((:idn <> '' AND ps.id_number = :idn2)
                        OR (:idn3 = '' AND ps.name = :name AND ps.phone = :phone))
                   AND ((NOT c.final
                         AND (c.responsible_unit = ANY (CAST(:below1 AS text[]))
                              OR c.review_unit = ANY (CAST(:below2 AS text[]))
                              OR c.recheck_unit = ANY (CAST(:below3 AS text[]))))
                        OR position(',final_after_recheck,' IN ',' || c.flags || ',') > 0)
                 ORDER BY cp.case_id DESC LIMIT :lim)sql",
          [&](soci::statement& st) {
            st.exchange(soci::use(category, "category"));
            st.exchange(soci::use(p.id_number(), "idn"));
            st.exchange(soci::use(p.id_number(), "idn2"));
            st.exchange(soci::use(p.id_number(), "idn3"));
            st.exchange(soci::use(p.name(), "name"));
            st.exchange(soci::use(p.phone(), "phone"));
            st.exchange(soci::use(below, "below1"));
            st.exchange(soci::use(below, "below2"));
            st.exchange(soci::use(below, "below3"));
            st.exchange(soci::use(limit, "lim"));
          },
          [&](const soci::row& r) { ids.insert(r.get<long long>(0)); });
    }
    std::vector<CaseRecord> out;
    for (auto it = ids.rbegin(); it != ids.rend() && static_cast<int>(out.size()) < limit; ++it) {
      auto rec = LoadCase(s, "id", "", *it, engine_for_);
      if (!rec.ok()) return rec.status();
      out.push_back(std::move(*rec));
    }
    return out;
  } catch (...) {
    return StatusFromCurrentException("finding the petitioner's earlier cases");
  }
}

absl::StatusOr<std::vector<DueRow>> CaseStore::ListDue(const DueQuery& q) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    long long before = ToMicros(q.before);
    int limit = q.limit, stage = q.stage, escalated = q.escalated_only ? 1 : 0;
    int has_after = q.after.has_value() ? 1 : 0;
    long long after_due = q.after ? ToMicros(q.after->due_at) : 0;
    long long after_id = q.after ? q.after->case_id : 0;
    std::string after_name = q.after ? q.after->timer : "";
    std::vector<DueRow> out;
    soci::rowset<soci::row> rows =
        (lease->session().prepare << kSelectDue, soci::use(q.unit, "unit1"),
         soci::use(q.unit, "unit2"), soci::use(before, "before"), soci::use(q.timer, "timer1"),
         soci::use(q.timer, "timer2"), soci::use(q.case_officer, "officer1"),
         soci::use(q.case_officer, "officer2"), soci::use(stage, "stage1"),
         soci::use(stage, "stage2"), soci::use(escalated, "escalated"),
         soci::use(has_after, "has_after"),
         soci::use(after_due, "after_due"), soci::use(after_id, "after_id"),
         soci::use(after_name, "after_name"), soci::use(limit, "lim"));
    for (const soci::row& r : rows) {
      DueRow d;
      d.case_id = r.get<long long>(0);
      d.tracking_number = r.get<std::string>(1);
      d.state = r.get<std::string>(2);
      d.responsible_unit = r.get<std::string>(3);
      d.stage = r.get<int>(4);
      d.owing_unit = r.get<std::string>(5);
      d.workflow = r.get<std::string>(6);
      d.workflow_version = r.get<int>(7);
      d.timer = ReadTimer(r, 8);
      d.case_officer = r.get<std::string>(8 + kTimerColumnCount);
      out.push_back(std::move(d));
    }
    return out;
  } catch (...) {
    return StatusFromCurrentException("listing deadlines");
  }
}

absl::StatusOr<int> CaseStore::SequenceEvents(int max) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  soci::session& s = lease->session();
  try {
    // Idle: nothing unplaced (a partial-index probe), so no lock and no write.
    int pending = 0;
    s << "SELECT count(*) FROM (SELECT 1 FROM case_events WHERE position IS NULL LIMIT 1) p",
        soci::into(pending);
    if (pending == 0) return 0;
    soci::transaction tx(s);
    // The row lock serialises sequencers (one per query process may run).
    s << "SELECT last_position FROM event_sequencer FOR UPDATE";
    int placed = 0;
    s << kSequence, soci::use(max, "max"), soci::into(placed);
    if (placed > 0) s << "SELECT pg_notify('" << kFeedChannel << "', '')";
    tx.commit();
    return placed;
  } catch (...) {
    return StatusFromCurrentException("sequencing events");
  }
}

absl::StatusOr<int64_t> CaseStore::LastFeedPosition() {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    long long last = 0;
    lease->session() << "SELECT last_position FROM event_sequencer", soci::into(last);
    return static_cast<int64_t>(last);
  } catch (...) {
    return StatusFromCurrentException("reading the feed position");
  }
}

absl::StatusOr<std::vector<FeedEvent>> CaseStore::ReadFeed(const FeedFilter& f) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    long long after = f.after, case_id = f.case_id;
    int limit = f.limit;
    const std::string kinds = absl::StrJoin(f.kinds, ",");
    std::vector<FeedEvent> out;
    soci::rowset<soci::row> rows =
        (lease->session().prepare << kReadFeed, soci::use(f.unit, "unit1"),
         soci::use(f.unit, "unit2"), soci::use(after, "after"), soci::use(case_id, "case1"),
         soci::use(case_id, "case2"), soci::use(f.unit, "unit3"), soci::use(kinds, "kinds1"),
         soci::use(kinds, "kinds2"), soci::use(limit, "lim"));
    for (const soci::row& r : rows) {
      FeedEvent fe;
      fe.position = r.get<long long>(0);
      fe.tracking_number = r.get<std::string>(1);
      fe.responsible_unit = r.get<std::string>(2);
      fe.complained_about_unit = r.get<std::string>(3);
      fe.conflicted_accounts = SplitSet(r.get<std::string>(4));
      fe.registrar_holding = r.get<std::string>(5);
      fe.workflow = r.get<std::string>(6);
      fe.workflow_version = r.get<int>(7);
      fe.stored = ReadEvent(r, 8);
      out.push_back(std::move(fe));
    }
    return out;
  } catch (...) {
    return StatusFromCurrentException("reading the event feed");
  }
}

absl::StatusOr<Stats> CaseStore::Statistics(const StatsQuery& q) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  soci::session& s = lease->session();
  try {
    Stats st;
    long long from = ToMicros(q.from), to = ToMicros(q.to), now = ToMicros(q.now);
    auto deadlines = [&](const std::string& timer, int* due, int* met) {
      s << kStatsDeadlines, soci::use(q.unit, "unit1"), soci::use(q.unit, "unit2"),
          soci::use(timer, "t1"), soci::use(from, "from1"), soci::use(to, "to1"),
          soci::use(timer, "t2"), soci::use(from, "from2"),
          soci::use(to, "to2"), soci::use(now, "now2"), soci::use(timer, "t3"),
          soci::use(from, "from3"), soci::use(to, "to3"), soci::into(*due), soci::into(*met);
    };
    deadlines(q.notice_timer, &st.notice_due, &st.notice_on_time);
    deadlines(q.handling_timer, &st.decision_due, &st.decision_on_time);
    if (!q.rates_only) {
      s << kStatsReceived, soci::use(q.unit, "unit1"), soci::use(q.unit, "unit2"),
          soci::use(from, "from"), soci::use(to, "to"), soci::into(st.received),
          soci::into(st.repeats), soci::into(st.online);
    }
    s << kStatsEvaluation, soci::use(q.unit, "unit1"), soci::use(q.unit, "unit2"),
        soci::use(from, "from"), soci::use(to, "to"), soci::use(q.evaluation_timer, "eval"),
        soci::into(st.evaluation_due), soci::into(st.satisfied),
        soci::into(st.basically_satisfied), soci::into(st.dissatisfied), soci::into(st.lapsed);
    if (q.rates_only) return st;
    s << kStatsCycles, soci::use(q.unit, "unit1"), soci::use(q.unit, "unit2"),
        soci::use(from, "from1"), soci::use(to, "to1"), soci::use(from, "from2"),
        soci::use(to, "to2"), soci::use(from, "from3"), soci::use(to, "to3"),
        soci::use(from, "from4"), soci::use(to, "to4"), soci::into(st.accepted),
        soci::into(st.acceptance_days_sum), soci::into(st.decided),
        soci::into(st.decision_days_sum);
    // `column` is an expression of the code's own, never a caller's text.
    auto breakdown = [&](const std::string& column, std::vector<std::pair<std::string, int>>* out) {
      std::string key;
      int n = 0;
      soci::statement stmt =
          (s.prepare << (XF_SCOPE_CTE "SELECT " + column + "::text, count(*)::int " XF_RECEIVED
                         "GROUP BY 1 ORDER BY 1"),
           soci::use(q.unit, "unit1"), soci::use(q.unit, "unit2"), soci::use(from, "from"),
           soci::use(to, "to"), soci::into(key), soci::into(n));
      stmt.execute();
      while (stmt.fetch()) out->emplace_back(key, n);
    };
    breakdown("c.channel", &st.by_channel);
    breakdown("c.category", &st.by_category);
    breakdown("c.stage", &st.by_stage);
    breakdown("c.state", &st.by_state);
    breakdown("c.responsible_unit", &st.by_unit);
    // The zone comes from the server's configuration (an IANA name, checked
    // here again before it is spliced into the statement as a literal).
    const bool zone_ok = !q.time_zone.empty() && std::all_of(q.time_zone.begin(), q.time_zone.end(), [](char ch) {
      return absl::ascii_isalnum(static_cast<unsigned char>(ch)) || ch == '/' || ch == '_' ||
             ch == '+' || ch == '-';
    });
    if (!zone_ok) {
      return absl::InvalidArgumentError("time zone: not an IANA zone name");
    }
    breakdown("to_char(c.received_at AT TIME ZONE '" + q.time_zone + "', 'YYYY-MM')",
              &st.by_month);
    return st;
  } catch (...) {
    return StatusFromCurrentException("computing statistics");
  }
}

// The first page of a filtered list is the newest `limit` matches. With a
// few units (and categories) named, one backward index scan per unit (and
// category) — (responsible_unit, stage, id) or (responsible_unit, category,
// id), migration 0008 — yields at most `limit` rows each, and the newest of
// those are the answer: the cost follows the page size and the number of
// units, not the table. Only the filters given are in the statement.
absl::StatusOr<std::vector<CaseRow>> CaseStore::ListCases(const CaseFilter& f) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    long long now = ToMicros(f.now), before_id = f.before_id;
    int stage = f.stage, channel = f.channel, limit = f.limit;
    long long from = f.received_from ? ToMicros(*f.received_from) : 0;
    long long before = f.received_before ? ToMicros(*f.received_before) : 0;
    SqlArray unit_list, category_list;
    for (const std::string& u : f.units) unit_list.AddText(u);
    for (const std::string& k : f.categories) category_list.AddText(k);
    const std::string& units = unit_list.Literal();
    const std::string& categories = category_list.Literal();
    std::string conditions = "TRUE";
    auto when = [&](bool given, const char* sql) {
      if (given) absl::StrAppend(&conditions, " AND ", sql);
    };
    // A scan per unit pays while the units are few; a wide scope (a whole
    // city, the province) is better served by one scan filtering on them.
    constexpr std::size_t kMaxUnitScans = 8;
    const bool per_unit = !f.units.empty() && f.units.size() <= kMaxUnitScans;
    when(per_unit, "c.responsible_unit = u.code");
    when(!per_unit && !f.units.empty(), "c.responsible_unit = ANY(:units::text[])");
    when(!f.categories.empty(), "c.category = k.code");
    when(before_id > 0, "c.id < :before_id");
    when(!f.state.empty(), "c.state = :state");
    when(stage != 0, "c.stage = :stage");
    when(channel != 0, "c.channel = :channel");
    when(f.received_from.has_value(), "c.received_at >= xf_ts(:from)");
    when(f.received_before.has_value(), "c.received_at < xf_ts(:before)");
    when(f.overdue_only,
         "EXISTS (SELECT 1 FROM case_timers t WHERE t.case_id = c.id "
         "AND t.suspended_at IS NULL AND t.due_at <= xf_ts(:now1))");
    when(!f.petitioner.empty(),
         "EXISTS (SELECT 1 FROM case_petitioners cp JOIN persons p ON p.id = cp.person_id "
         "WHERE cp.case_id = c.id AND (p.name = :who1 OR p.id_number = upper(:who2) "
         "OR p.phone = :who3))");
    std::string sources;
    if (per_unit) absl::StrAppend(&sources, "unnest(:units::text[]) AS u(code) CROSS JOIN ");
    if (!f.categories.empty()) {
      absl::StrAppend(&sources, "unnest(:categories::text[]) AS k(code) CROSS JOIN ");
    }
    const std::string sql = absl::StrCat(
        "SELECT c.id, c.tracking_number, c.state, c.stage::int, c.channel::int, c.category, "
        "       c.responsible_unit, xf_us(c.received_at), c.summary, "
        "       EXISTS (SELECT 1 FROM case_timers t WHERE t.case_id = c.id "
        "                  AND t.suspended_at IS NULL AND t.due_at <= xf_ts(:now2))::int, "
        "       coalesce(c.complained_about_unit, ''), c.conflicted_accounts, "
        "       CASE WHEN c.responsible_unit = c.registering_unit THEN c.registering_unit "
        "            ELSE '' END "
        "  FROM ", sources,
        "       LATERAL (SELECT c.* FROM cases c WHERE ", conditions,
        "                 ORDER BY c.id DESC LIMIT :lim1) c "
        " ORDER BY c.id DESC LIMIT :lim2");
    auto bind = [&](soci::statement& st) {
      if (!f.units.empty()) st.exchange(soci::use(units, "units"));
      if (!f.categories.empty()) st.exchange(soci::use(categories, "categories"));
      if (before_id > 0) st.exchange(soci::use(before_id, "before_id"));
      if (!f.state.empty()) st.exchange(soci::use(f.state, "state"));
      if (stage != 0) st.exchange(soci::use(stage, "stage"));
      if (channel != 0) st.exchange(soci::use(channel, "channel"));
      if (f.received_from.has_value()) st.exchange(soci::use(from, "from"));
      if (f.received_before.has_value()) st.exchange(soci::use(before, "before"));
      if (f.overdue_only) st.exchange(soci::use(now, "now1"));
      if (!f.petitioner.empty()) {
        st.exchange(soci::use(f.petitioner, "who1"));
        st.exchange(soci::use(f.petitioner, "who2"));
        st.exchange(soci::use(f.petitioner, "who3"));
      }
      st.exchange(soci::use(now, "now2"));
      st.exchange(soci::use(limit, "lim1"));
      st.exchange(soci::use(limit, "lim2"));
    };
    std::vector<CaseRow> out;
    ForEachRow(lease->session(), sql, bind, [&](const soci::row& r) {
      CaseRow c;
      c.id = r.get<long long>(0);
      c.tracking_number = r.get<std::string>(1);
      c.state = r.get<std::string>(2);
      c.stage = r.get<int>(3);
      c.channel = r.get<int>(4);
      c.category = r.get<std::string>(5);
      c.responsible_unit = r.get<std::string>(6);
      c.received_at = FromMicros(r.get<long long>(7));
      c.summary = r.get<std::string>(8);
      c.overdue = r.get<int>(9) != 0;
      c.complained_about_unit = r.get<std::string>(10);
      c.conflicted_accounts = SplitSet(r.get<std::string>(11));
      c.registrar_holding = r.get<std::string>(12);
      out.push_back(std::move(c));
    });
    return out;
  } catch (...) {
    return StatusFromCurrentException("listing cases");
  }
}

absl::StatusOr<std::vector<DashboardCount>> CaseStore::Dashboard(const std::string& unit,
                                                                 absl::Time now,
                                                                 absl::Duration soon,
                                                                 const std::string& notice_timer) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    long long now_us = ToMicros(now), soon_us = ToMicros(now + soon);
    std::vector<DashboardCount> out;
    soci::rowset<soci::row> rows =
        (lease->session().prepare << kDashboard, soci::use(unit, "unit1"),
         soci::use(unit, "unit2"), soci::use(now_us, "now1"), soci::use(soon_us, "soon"),
         soci::use(now_us, "now2"), soci::use(notice_timer, "notice"));
    for (const soci::row& r : rows) {
      out.push_back(DashboardCount{r.get<std::string>(0), r.get<int>(1), r.get<int>(2),
                                   r.get<int>(3), r.get<int>(4), r.get<int>(5), r.get<int>(6)});
    }
    return out;
  } catch (...) {
    return StatusFromCurrentException("counting for the dashboard");
  }
}

absl::StatusOr<std::map<std::string, std::string>> CaseStore::Units() {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    std::map<std::string, std::string> out;
    std::string code, parent;
    soci::statement st = (lease->session().prepare
                              << "SELECT code, coalesce(parent, '') FROM units",
                          soci::into(code), soci::into(parent));
    st.execute();
    while (st.fetch()) out[code] = parent;
    return out;
  } catch (...) {
    return StatusFromCurrentException("reading units");
  }
}

absl::StatusOr<std::map<std::string, std::string>> CaseStore::Names() {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    std::map<std::string, std::string> out;
    std::string key, name;
    soci::statement st =
        (lease->session().prepare << "SELECT 'unit:' || code, name FROM units UNION ALL "
                                     "SELECT 'category:' || code, name FROM categories",
         soci::into(key), soci::into(name));
    st.execute();
    while (st.fetch()) out[key] = name;
    return out;
  } catch (...) {
    return StatusFromCurrentException("reading unit and category names");
  }
}

absl::StatusOr<std::map<std::string, bool>> CaseStore::Categories() {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    std::map<std::string, bool> out;
    std::string code;
    int active = 0;
    soci::statement st = (lease->session().prepare << "SELECT code, active::int FROM categories",
                          soci::into(code), soci::into(active));
    st.execute();
    while (st.fetch()) out[code] = active != 0;
    return out;
  } catch (...) {
    return StatusFromCurrentException("reading categories");
  }
}

}  // namespace xinfang::storage
