// The case store's one write path: every change to a case — a registration,
// an action, a warning raised, the sweeper's batch — goes through
// ChangeBatch and the same few set-based statements, pipelined: a
// registration in three round trips, an action in two.
#include "services/storage/case_store.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/storage/case_documents.h"
#include "services/storage/case_rows.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/json_util.h"
#include "services/storage/json.h"
#include "services/storage/listener.h"
#include "services/storage/sql_array.h"

namespace xinfang::storage {
namespace {

using namespace internal;  // NOLINT: the store's shared row readers (case_rows.h)
using workflow::CaseSnapshot;
using workflow::TimerState;

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
    "SELECT version, head_seq, head_hash, tracking_number FROM cases WHERE id = :id "
    "FOR NO KEY UPDATE"};
const Sql kOldTimers{
    "SELECT name, xf_us(started_at), xf_us(due_at), owing_unit, overdue, purpose "
    "  FROM case_timers WHERE case_id = :id"};

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

// In definition order, as the engine keeps a case's timers.
const Sql kSweepTimers{
    "SELECT t.case_id, " XF_TIMER_COLUMNS
    ", t.owing_unit, xf_us(t.next_fire_at) "
    "  FROM case_timers t WHERE t.case_id = ANY (CAST(:ids AS bigint[])) "
    " ORDER BY t.case_id, t.position"};

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
      version = c.version + 1, workflow = n.workflow, workflow_version = n.workflow_version,
      state = n.state, stage = n.stage, final = n.final,
      responsible_unit = n.responsible_unit,
      forwarder_unit = nullif(n.forwarder_unit, ''), review_unit = nullif(n.review_unit, ''),
      recheck_unit = nullif(n.recheck_unit, ''), case_officer = nullif(n.case_officer, ''),
      accepted_at = xf_ts(n.accepted_at), decided_at = xf_ts(n.decided_at),
      served_at = xf_ts(n.served_at), closed_at = xf_ts(n.closed_at),
      outcome = nullif(n.outcome, ''), evaluation = nullif(n.evaluation, ''),
      office_evaluation = nullif(n.office_evaluation, ''),
      flags = n.flags, attributes = n.attributes, conflicted_accounts = n.conflicted,
      updated_at = xf_ts(:now), state_entered_at = xf_ts(n.state_entered_at),
      unit_received_at = xf_ts(n.unit_received_at), head_seq = n.head_seq,
      head_hash = n.head_hash
    FROM unnest(CAST(:id AS bigint[]), CAST(:expected AS bigint[]), CAST(:workflow AS text[]),
                CAST(:workflow_version AS integer[]), CAST(:state AS text[]),
                CAST(:stage AS smallint[]), CAST(:final AS boolean[]),
                CAST(:responsible_unit AS text[]), CAST(:forwarder_unit AS text[]),
                CAST(:review_unit AS text[]), CAST(:recheck_unit AS text[]),
                CAST(:case_officer AS text[]), CAST(:accepted_at AS bigint[]),
                CAST(:decided_at AS bigint[]), CAST(:served_at AS bigint[]),
                CAST(:closed_at AS bigint[]), CAST(:outcome AS text[]),
                CAST(:evaluation AS text[]), CAST(:office_evaluation AS text[]),
                CAST(:flags AS text[]),
                CAST(:attributes AS jsonb[]), CAST(:conflicted AS text[]),
                CAST(:state_entered_at AS bigint[]), CAST(:unit_received_at AS bigint[]),
                CAST(:head_seq AS integer[]), CAST(:head_hash AS text[]))
      AS n(id, expected, workflow, workflow_version, state, stage, final, responsible_unit, forwarder_unit, review_unit,
           recheck_unit, case_officer, accepted_at, decided_at, served_at, closed_at, outcome,
           evaluation, office_evaluation, flags, attributes, conflicted, state_entered_at,
           unit_received_at, head_seq, head_hash)
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
                           rolled, purpose, position, case_unit, case_stage)
  SELECT n.case_id, n.name, xf_ts(n.started_at), n.due_day, xf_ts(n.due_at), xf_ts(n.warn_at),
         n.provisional, xf_ts(n.suspended_at), n.extended, n.warned, n.overdue, n.rung,
         xf_ts(n.next_fire_at), n.owing_unit, n.counted_from, n.base_days, n.extension_days,
         n.stopped_days, n.rolled, n.purpose, n.position, n.case_unit, n.case_stage
    FROM unnest(CAST(:case_id AS bigint[]), CAST(:name AS text[]),
                CAST(:started_at AS bigint[]), CAST(:due_day AS date[]),
                CAST(:due_at AS bigint[]), CAST(:warn_at AS bigint[]),
                CAST(:provisional AS boolean[]), CAST(:suspended_at AS bigint[]),
                CAST(:extended AS boolean[]), CAST(:warned AS boolean[]),
                CAST(:overdue AS boolean[]), CAST(:rung AS integer[]),
                CAST(:next_fire_at AS bigint[]), CAST(:owing_unit AS text[]),
                CAST(:counted_from AS date[]), CAST(:base_days AS integer[]),
                CAST(:extension_days AS integer[]), CAST(:stopped_days AS integer[]),
                CAST(:rolled AS boolean[]), CAST(:purpose AS smallint[]),
                CAST(:position AS smallint[]), CAST(:case_unit AS text[]),
                CAST(:case_stage AS smallint[]))
      AS n(case_id, name, started_at, due_day, due_at, warn_at, provisional, suspended_at,
           extended, warned, overdue, rung, next_fire_at, owing_unit, counted_from, base_days,
           extension_days, stopped_days, rolled, purpose, position, case_unit,
           case_stage))sql"};

// The deadlines a change closes, each counted for the statistics on its
// local due day (migration 0017; not before the counts are first built).
const Sql kWriteClosed{ R"sql(
  WITH logged AS (
    INSERT INTO deadline_log (case_id, name, owing_unit, started_at, due_at, closed_at, met,
                              purpose)
    SELECT n.case_id, n.name, n.unit, xf_ts(n.started), xf_ts(n.due), xf_ts(:closed), n.met,
           n.purpose
      FROM unnest(CAST(:case_id AS bigint[]), CAST(:name AS text[]), CAST(:unit AS text[]),
                  CAST(:started AS bigint[]), CAST(:due AS bigint[]), CAST(:met AS boolean[]),
                  CAST(:purpose AS smallint[]))
        AS n(case_id, name, unit, started, due, met, purpose)
    RETURNING owing_unit, due_at, met, purpose)
  INSERT INTO stats_cells (grain, day, unit, figure, key, n, us, folded)
  SELECT 'd', (l.due_at AT TIME ZONE m.time_zone)::date, l.owing_unit, 'deadline',
         l.purpose || ':' || l.met::int, count(*), 0, false
    FROM logged l CROSS JOIN stats_meta m
   GROUP BY 2, 3, 5)sql"};

// After a change's rows, links and timers are written: the statistics'
// counts follow (migration 0017).
const Sql kProjectStats{"SELECT xf_stats_project(CAST(:ids AS bigint[]))"};

// A notification per case (sent at commit).
const Sql kWriteNotify{ "SELECT count(*)::int FROM (SELECT pg_notify('" XF_EVENTS_CHANNEL
                                "', CAST(n.id AS text)) "
                                "  FROM unnest(CAST(:ids AS bigint[])) AS n(id)) notified"};

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
// The petitioner's query code, as a keyed hash (migration 0019; written by
// QueryCodeStore, query_code_store.h, on a reissue).
const Sql kInsertQueryCode{
    "INSERT INTO case_query_codes (case_id, salt, hash, issued_at, issued_by) "
    "VALUES (:c, decode(:salt, 'hex'), decode(:hash, 'hex'), xf_ts(:now), :by)"};

const Sql kInsertLink{
    "INSERT INTO case_links (case_id, related_id, kind) VALUES (:c, :r, 'repeat')"};

// The columns a change writes to a case row besides the snapshot's own
// strings (kUpdateCase, kWriteCases).
struct CaseColumns {
  CaseColumns(const CaseSnapshot& snap, const workflow::CaseFacts& facts) {
    stage = static_cast<int>(facts.stage);
    final = facts.final ? 1 : 0;
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
  TimerColumns(const TimerState& t, const workflow::TimerFacts& facts)
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
        owing(facts.owing_unit),
        position(facts.position),
        next_fire(facts.fire_at),
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
  int position;
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
  int purpose = 0;
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

OldTimer ReadOldTimer(const Row& r) {
  return OldTimer{r.str(0), r.str(3), r.i64(1), r.i64(2), r.boolean(4), r.i32(5)};
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
  // after it; with a `decision`, the case row becomes its next case with
  // the facts the engine gave (checked against `expected` version, or not
  // written when `expected` is 0: a new case, inserted by the caller with
  // the returned head) and its timers replace `old`, logging those a change
  // closes. Without one, only the history grows (no version change).
  // Returns the history's new head; INTERNAL when the decision carries no
  // facts, or none for one of its timers (it did not come from the engine).
  absl::StatusOr<Head> Add(int64_t id, Head head, const std::vector<workflow::Event>& events,
                           const workflow::Decision* decision, int64_t expected,
                           const std::vector<OldTimer>& old) {
    if (decision != nullptr) {
      if (decision->facts.stage == xinfang::v1::STAGE_UNSPECIFIED) {
        return absl::InternalError(absl::StrCat(
            "case ", id, ": the decision carries no facts (it did not come from the engine)"));
      }
      for (const TimerState& t : decision->next.timers) {
        if (decision->facts.timers.count(t.name) == 0) {
          return absl::InternalError(
              absl::StrCat("case ", id, ": the decision carries no facts for timer ", t.name));
        }
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
    if (decision == nullptr) {
      heads_.id.AddInt(id);
      heads_.seq.AddInt(head.seq);
      heads_.hash.AddText(head.hash);
      return head;
    }
    const CaseSnapshot& snap = decision->next;
    if (expected != 0) {
      const CaseColumns c(snap, decision->facts);
      cases_.id.AddInt(id);
      cases_.expected.AddInt(expected);
      cases_.workflow.AddText(snap.workflow);
      cases_.workflow_version.AddInt(snap.workflow_version);
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
      cases_.office_evaluation.AddText(snap.office_evaluation);
      cases_.flags.AddText(c.flags);
      cases_.attributes.AddText(c.attributes);
      cases_.conflicted.AddText(c.conflicted);
      cases_.state_entered_at.AddOptInt(c.entered.micros());
      cases_.unit_received_at.AddOptInt(c.unit_received.micros());
      cases_.head_seq.AddInt(head.seq);
      cases_.head_hash.AddText(head.hash);
    }
    replaced_.AddInt(id);
    if (expected != 0) stored_before_.AddInt(id);
    for (const OldTimer& o : old) {
      if (!Closes(o, snap)) continue;
      closed_.case_id.AddInt(id);
      closed_.name.AddText(o.name);
      closed_.unit.AddText(o.unit);
      closed_.started.AddInt(o.started);
      closed_.due.AddInt(o.due);
      closed_.met.AddBool(Met(o, now_us_));
      closed_.purpose.AddInt(o.purpose);
    }
    const absl::Time now = FromMicros(now_us_);
    for (const TimerState& t : snap.timers) {
      const TimerColumns tc(t, decision->facts.timers.at(t.name));
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
      timers_.purpose.AddInt(static_cast<int>(t.purpose));
      timers_.position.AddInt(tc.position);
      timers_.case_unit.AddText(snap.responsible_unit);
      timers_.case_stage.AddInt(static_cast<int>(decision->facts.stage));
    }
    return head;
  }

  // Queues the batch's statements on `p` (after whatever the caller queued
  // before: a new case's row comes first).
  void AddTo(Conn::Pipeline& p) {
    if (cases_.id.size() > 0) {
      cases_at_ = p.Add(kWriteCases, {{"id", cases_.id.Literal()},
                                      {"expected", cases_.expected.Literal()},
                                      {"workflow", cases_.workflow.Literal()},
                                      {"workflow_version", cases_.workflow_version.Literal()},
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
                                      {"office_evaluation", cases_.office_evaluation.Literal()},
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
    if (stored_before_.size() > 0) {
      p.Add(kWriteDeleteTimers, {{"ids", stored_before_.Literal()}});
    }
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
                           {"rolled", timers_.rolled.Literal()},
                           {"purpose", timers_.purpose.Literal()},
                           {"position", timers_.position.Literal()},
                           {"case_unit", timers_.case_unit.Literal()},
                           {"case_stage", timers_.case_stage.Literal()}});
    }
    if (closed_.case_id.size() > 0) {
      p.Add(kWriteClosed, {{"case_id", closed_.case_id.Literal()},
                           {"name", closed_.name.Literal()},
                           {"unit", closed_.unit.Literal()},
                           {"started", closed_.started.Literal()},
                           {"due", closed_.due.Literal()},
                           {"closed", now_us_},
                           {"met", closed_.met.Literal()},
                           {"purpose", closed_.purpose.Literal()}});
    }
    for (const auto& [case_id, doc] : documents_) QueueInsert(p, case_id, doc, actor_.account, now_us_);
    if (replaced_.size() > 0) p.Add(kProjectStats, {{"ids", replaced_.Literal()}});
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

  // A written document of case `id`, numbered and sealed (Seal): its row is
  // written with the change.
  void AddDocument(int64_t id, SealedDocument doc) { documents_.emplace_back(id, std::move(doc)); }

 private:
  workflow::Actor actor_;
  int64_t now_us_;
  struct {
    SqlArray id, expected, workflow, workflow_version, state, stage, final, responsible_unit, forwarder_unit, review_unit,
        recheck_unit, case_officer, accepted_at, decided_at, served_at, closed_at, outcome,
        evaluation, office_evaluation, flags, attributes, conflicted, state_entered_at,
        unit_received_at, head_seq, head_hash;
  } cases_;
  struct {
    SqlArray id, seq, hash;
  } heads_;
  struct {
    SqlArray case_id, seq, kind, action, from_state, to_state, note, fields, prev_hash, hash;
  } events_;
  SqlArray replaced_;  // cases whose timers are replaced
  SqlArray stored_before_;  // those of them with timers to remove (not new ones)
  struct {
    SqlArray case_id, name, started_at, due_day, due_at, warn_at, provisional, suspended_at,
        extended, warned, overdue, rung, next_fire_at, owing_unit, counted_from, base_days,
        extension_days, stopped_days, rolled, purpose, position, case_unit, case_stage;
  } timers_;
  struct {
    SqlArray case_id, name, unit, started, due, met, purpose;
  } closed_;
  SqlArray notify_;
  std::vector<std::pair<int64_t, SealedDocument>> documents_;
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
std::vector<Claimed> LoadClaimed(Conn& conn, const std::string& ids, int64_t now_us) {
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
  std::map<int64_t, std::vector<std::pair<int64_t, std::string>>> due;  // (fire at, name)
  for (Row r : results[timers_at]) {
    Claimed& c = *by_id.at(r.i64(0));
    TimerState t = ReadTimer(r, 1);
    const std::optional<absl::Time> next_fire = GetOptTime(r, 1 + kTimerColumnCount + 1);
    if (next_fire.has_value() && ToMicros(*next_fire) <= now_us) {
      due[c.due.id].emplace_back(ToMicros(*next_fire), t.name);
    }
    c.old_timers.push_back(OldTimer{t.name, r.str(1 + kTimerColumnCount), ToMicros(t.started_at),
                                    ToMicros(t.deadline.due_at), t.overdue,
                                    static_cast<int>(t.purpose)});
    c.due.snapshot.timers.push_back(std::move(t));
  }
  // Due timers fire earliest (then by name) first.
  for (auto& [id, timers] : due) {
    std::sort(timers.begin(), timers.end());
    for (auto& [at, name] : timers) by_id.at(id)->due.due_timers.push_back(std::move(name));
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
  (void)batch.Add(case_id, {head[0].i32(0), head[0].str(1)}, events, nullptr, 0, {});
  Conn::Pipeline p(conn);
  batch.AddTo(p);
  auto stored = batch.Written(p.Run());
  return stored.ok() ? std::move(*stored) : std::vector<StoredEvent>();
}

namespace {

// Every write transaction begins so (pq.h, kKeepGenericPlans).
void BeginWrite(Conn::Pipeline& p) {
  p.AddText("BEGIN");
  p.AddText(kKeepGenericPlans);
}

}  // namespace

CaseStore::CaseStore(Pool& pool) : pool_(pool) {}

absl::StatusOr<CreateResult> CaseStore::Create(const NewCase& c) {
  return WithConn(pool_, "registering a case", [&](Conn& conn) -> absl::StatusOr<CreateResult> {
    // (A retry was answered before this call by FindReplay; one racing with
    // this insert loses at the request id's unique index and is replayed.)
    auto replay = [&]() -> absl::StatusOr<CreateResult> {
      Rows found = conn.Run(kFindRequest, {{"r", c.request_id}});
      if (found.empty()) return absl::InternalError("replayed request vanished");
      auto rec = ReadCase(conn, found[0].i64(0), "");
      if (!rec.ok()) return rec.status();
      if (found[0].str(1) != c.request_hash) return RequestReused(*rec);
      return CreateResult{std::move(*rec), true};
    };

    const CaseSnapshot& snap = c.start.next;
    std::string intake_json;
    if (!google::protobuf::util::MessageToJsonString(c.intake, &intake_json).ok()) {
      return absl::InternalError("intake does not serialise to JSON");
    }

    // Round trip 1: the transaction, the case's id and tracking number.
    Transaction tx(conn, Transaction::kBegunInPipeline);
    int64_t id = 0;
    std::string tracking;
    std::vector<Rows> numbered;  // also the documents' numbers
    std::vector<int> numbered_at;
    {
      Conn::Pipeline p(conn);
      BeginWrite(p);
      const int ids_at = p.Add(kNextIds, {});
      numbered_at = QueueNumbering(p, c.documents);
      numbered = p.Run();
      id = numbered[ids_at][0].i64(0);
      tracking = absl::StrFormat("%s%06d", c.tracking_prefix, numbered[ids_at][0].i64(1));
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
    auto sealed = Seal(c.documents, numbered, numbered_at, tracking, 0, &events);
    if (!sealed.ok()) return sealed.status();
    ChangeBatch batch(c.actor, c.now);
    auto head = batch.Add(id, {}, events, &c.start, 0, {});
    if (!head.ok()) return head.status();
    for (SealedDocument& d : *sealed) batch.AddDocument(id, std::move(d));

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
                        {"stage", static_cast<int>(c.start.facts.stage)},
                        {"final", c.start.facts.final ? 1 : 0},
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
    if (!c.query_code_hash.empty()) {
      p.Add(kInsertQueryCode, {{"c", id},
                               {"salt", c.query_code_salt},
                               {"hash", c.query_code_hash},
                               {"now", now},
                               {"by", c.actor.account}});
    }
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
    auto rec = ParseCase(results[read_at][0]);
    if (!rec.ok()) return rec.status();
    return CreateResult{std::move(*rec), false};
  });
}

absl::StatusOr<Applied> CaseStore::Apply(int64_t id, int64_t expected_version,
                                         const workflow::Decision& decision,
                                         const workflow::Actor& actor, absl::Time now,
                                         const std::vector<DocumentDraft>& documents) {
  return WithConn(pool_, "applying a change to a case", [&](Conn& conn) -> absl::StatusOr<Applied> {
    // Round trip 1: the case row locked, its version, head and timers.
    Transaction tx(conn, Transaction::kBegunInPipeline);
    Conn::Pipeline read(conn);
    BeginWrite(read);
    const int row_at = read.Add(kLockCase, {{"id", id}});
    const int timers_at = read.Add(kOldTimers, {{"id", id}});
    const std::vector<int> numbered_at = QueueNumbering(read, documents);
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
    std::vector<workflow::Event> events = decision.events;
    auto sealed = Seal(documents, before, numbered_at, row.str(3), row.i32(1), &events);
    if (!sealed.ok()) return sealed.status();
    ChangeBatch batch(actor, now);
    auto head =
        batch.Add(id, {row.i32(1), row.str(2)}, events, &decision, expected_version, old);
    if (!head.ok()) return head.status();
    for (SealedDocument& d : *sealed) batch.AddDocument(id, std::move(d));
    Conn::Pipeline write(conn);
    batch.AddTo(write);
    write.AddText("COMMIT");
    const int read_at = write.Add(kSelectCaseById, {{"id", id}});
    const std::vector<Rows> results = write.Run();
    tx.Committed();
    auto stored = batch.Written(results);
    if (!stored.ok()) return stored.status();
    auto rec = ParseCase(results[read_at][0]);
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
      BeginWrite(p);
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
    const std::vector<Claimed> claimed = LoadClaimed(conn, ids.Literal(), now_us);

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
      auto head = batch.Add(c.due.id, {c.head_seq, c.head_hash}, decision->events, &*decision,
                            c.due.version, c.old_timers);
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

}  // namespace xinfang::storage
