// Internal to services/storage: what the case store's files share — the
// columns they read, the statement that reads a whole case, and the
// readers of those rows. Nothing outside the store includes it.
//
// The case store is split by concern, each file with its SQL at its top:
//   case_rows.cc    these readers, and the history's hash
//   case_writes.cc  the one write path (ChangeBatch): registration, actions,
//                   warnings raised, the sweeper's batches
//   case_reads.cc   a case, its history, a petitioner's earlier cases
//   case_lists.cc   lists, deadlines and the dashboard
//   case_stats.cc   statistics
//   case_feed.cc    the event feed
#ifndef XINFANG_SERVICES_STORAGE_CASE_ROWS_H_
#define XINFANG_SERVICES_STORAGE_CASE_ROWS_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/storage/case_store.h"
#include "services/storage/pq.h"

// The columns of a case row that ReadSnapshot reads, in its order (all but
// attributes and timers).
#define XF_SNAPSHOT_COLUMNS                                                               \
  "workflow, workflow_version, state, xf_us(received_at), responsible_unit, "             \
  "coalesce(forwarder_unit, ''), coalesce(review_unit, ''), coalesce(recheck_unit, ''), " \
  "coalesce(case_officer, ''), anonymous::int, xf_us(accepted_at), xf_us(decided_at), "   \
  "xf_us(served_at), xf_us(closed_at), coalesce(outcome, ''), coalesce(evaluation, ''), " \
  "coalesce(office_evaluation, ''), flags, conflicted_accounts, xf_us(state_entered_at), xf_us(unit_received_at), "          \
  "coalesce(complained_about_unit, '')"

// The timer columns as text fields for string_agg: one timer is
// "name,started,…" (no field holds a comma: names are identifiers, the rest
// numbers and dates), timers are separated by ';'. In XF_TIMER_COLUMNS' order.
#define XF_TIMER_FIELDS                                                                  \
  "t.name, xf_us(t.started_at), t.due_day, xf_us(t.due_at), xf_us(t.warn_at), "           \
  "t.provisional::int, coalesce(xf_us(t.suspended_at)::text, ''), t.extended::int, "      \
  "t.warned::int, t.overdue::int, t.rung, t.counted_from, t.base_days, t.extension_days, " \
  "t.stopped_days, t.rolled::int, t.purpose"

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
    "       (SELECT coalesce(string_agg(concat_ws(',', " XF_TIMER_FIELDS "), ';' " \
    "                                   ORDER BY t.position), '') " \
    "          FROM case_timers t WHERE t.case_id = cases.id) " \
    "  FROM cases"

// The columns ReadEvent reads, in its order.
#define XF_EVENT_COLUMNS                                                                   \
  "e.id, e.case_id, e.seq, e.kind, e.action, e.from_state, e.to_state, e.actor, "          \
  "e.actor_role::int, e.actor_unit, xf_us(e.at), e.note, e.fields::text, e.prev_hash, e.hash"

#define XF_TIMER_COLUMNS                                                                \
  "t.name, xf_us(t.started_at), t.due_day::text, xf_us(t.due_at), xf_us(t.warn_at), " \
  "t.provisional::int, xf_us(t.suspended_at), t.extended::int, t.warned::int, "       \
  "t.overdue::int, t.rung, t.counted_from::text, t.base_days, t.extension_days, "      \
  "t.stopped_days, t.rolled::int, t.purpose"

// A unit and everything below it (all units for '').
#define XF_SCOPE_CTE                                                  \
  "WITH RECURSIVE scope(code) AS ("                                   \
  "  SELECT code FROM units WHERE :unit = '' OR code = :unit"         \
  "  UNION SELECT u.code FROM units u JOIN scope ON u.parent = scope.code) "

namespace xinfang::storage::internal {

// The whole case, by id or tracking number (XF_SELECT_CASE): one statement.
extern const Sql kSelectCaseById;
extern const Sql kSelectCaseByTracking;
// The case registered under a request id, and the request's fingerprint.
extern const Sql kFindRequest;

// How many columns XF_TIMER_COLUMNS has (ReadTimer reads them all).
inline constexpr std::size_t kTimerColumnCount = 17;

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

std::string JoinSet(const std::set<std::string>& s);
std::set<std::string> SplitSet(const std::string& s);
absl::CivilDay ParseDay(absl::string_view s);
std::optional<absl::Time> GetOptTime(const Row& r, int i);

// "张**": the first character of a name, then one * per further character
// (UTF-8 aware), for messages that must not disclose a person.
std::string MaskName(const std::string& name);

// Reads the XF_TIMER_COLUMNS starting at column `j`.
workflow::TimerState ReadTimer(const Row& r, int j);
// Reads the XF_EVENT_COLUMNS starting at column `i`.
StoredEvent ReadEvent(const Row& r, int i);
// Reads the XF_SNAPSHOT_COLUMNS starting at column `i`; the column after them.
int ReadSnapshot(const Row& r, int i, workflow::CaseSnapshot* snap);
// A case from a row of XF_SELECT_CASE (its timers in definition order).
absl::StatusOr<CaseRecord> ParseCase(const Row& r);
// A case by id (`tracking` empty) or by tracking number; NOT_FOUND.
absl::StatusOr<CaseRecord> ReadCase(Conn& conn, int64_t id, const std::string& tracking);
// ALREADY_EXISTS: `rec` was registered under the request id from another request.
absl::Status RequestReused(const CaseRecord& rec);

}  // namespace xinfang::storage::internal

#endif  // XINFANG_SERVICES_STORAGE_CASE_ROWS_H_
