// Cases, their append-only hash-chained history and their timers in
// PostgreSQL. The only code that writes case state: every change is one
// transaction that checks the case's version, updates the case row, appends
// the events, replaces the timers and notifies listeners — through one
// writer (ChangeBatch in case_writes.cc) for a registration, an action, a
// warning raised and the sweeper's batch alike. Statements are prepared
// once per connection and sent in pipelines: a registration takes three
// round trips, an action two, a case read one.
//
// Errors: NOT_FOUND (no such case), ABORTED (stale expected version, or a
// serialization failure: redo the read-modify-write), UNAVAILABLE (no
// connection), INVALID_ARGUMENT (unknown unit or category), INTERNAL.
// Thread-safety: thread-safe; each call leases its own connection.
#ifndef XINFANG_SERVICES_STORAGE_CASE_STORE_H_
#define XINFANG_SERVICES_STORAGE_CASE_STORE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/storage/db.h"
#include "workflow/engine.h"
#include "xinfang/v1/case.pb.h"

namespace xinfang::storage {

// An action taken on a case, as its history records it (for the case record).
struct TakenAction {
  std::string action, from_state, to_state, actor, actor_unit;
  absl::Time at;
  std::map<std::string, std::string> fields;
};

struct CaseRecord {
  int64_t id = 0;
  std::string tracking_number;
  int64_t version = 0;
  xinfang::v1::CaseIntake intake;
  std::string registered_by;
  absl::Time registered_at;
  workflow::CaseSnapshot snapshot;
  std::vector<std::string> related_tracking_numbers;  // repeat petitions
  std::vector<TakenAction> actions;  // every action taken, oldest first
  int head_seq = 0;        // seq of the last event of the history
  std::string head_hash;   // its hash
};

struct StoredEvent {
  int64_t id = 0;
  int64_t case_id = 0;
  int seq = 0;
  workflow::Event event;
  workflow::Actor actor;
  absl::Time at;
  std::string prev_hash;
  std::string hash;
};

struct Applied {
  CaseRecord record;               // the case after the change
  std::vector<StoredEvent> events;  // the events this change appended
};

// A written document a change issues (workflow::DocumentDue), as the
// service rendered it. Its body may hold the tokens kDocumentNumberToken and
// kTrackingNumberToken, which the store fills inside the change's
// transaction: the 文号 is number_prefix, the series' next number (per unit,
// year and series, from 1, without gaps: a rolled-back change gives its
// number back) and number_suffix. The store then hashes the body and records
// number and hash in the issuing event (fields document_number,
// document_sha256) before that event is hashed into the history.
struct DocumentDraft {
  std::string kind, title;
  int recipient = 0;  // xinfang.v1.DocumentRecipient
  std::string unit;   // the issuing unit
  int year = 0;       // the local year of issue
  std::string series;
  std::string number_prefix, number_suffix;  // "省总工会信受〔2026〕", "号"
  int template_version = 0;
  std::string template_sha256;
  std::string body;
  size_t event = 0;  // the issuing event: an index into the decision's events
};
inline constexpr char kDocumentNumberToken[] = "{{number}}";
inline constexpr char kTrackingNumberToken[] = "{{tracking_number}}";

// A stored document (table documents, migration 0021).
struct DocumentRow {
  int64_t case_id = 0;
  std::string tracking_number;
  int event_seq = 0;
  std::string action;  // that issued it
  std::string kind, title;
  int recipient = 0;
  std::string unit;
  int year = 0;
  std::string series;
  int seq = 0;
  std::string number;
  absl::Time issued_at;
  std::string issued_by;
  int template_version = 0;
  std::string template_sha256;
  std::string sha256;
  std::string body;  // empty unless asked for
};

struct NewCase {
  std::string request_id;
  xinfang::v1::CaseIntake intake;  // validated by the caller
  workflow::Decision start;        // from Engine::Start
  workflow::Actor actor;
  absl::Time now;
  std::string tracking_prefix;     // e.g. "XF20261124-"
  // Fingerprint of the request as the client sent it: a retry must match,
  // or the request id is refused as used for a different petition.
  std::string request_hash;
  // The query code's salt and keyed hash, hex (query_code_store.h); written
  // in the registration's transaction. Empty: none.
  std::string query_code_salt, query_code_hash;
  // The written documents the start decision issues (a petition not
  // accepted at registration is answered in writing).
  std::vector<DocumentDraft> documents;
};

struct CreateResult {
  CaseRecord record;
  bool replayed = false;  // request_id had been seen: the original case
};

struct VerifyResult {
  bool intact = true;
  int64_t events = 0;
  int first_broken_seq = 0;
  std::string detail;
};

// Hex SHA-256 of `data`.
std::string Sha256Hex(const std::string& data);

// The hash of one event given the previous event's hash (hex SHA-256 over a
// length-prefixed encoding of every recorded column).
std::string EventHash(const std::string& prev_hash, int64_t case_id, int seq,
                      const workflow::Event& event, const workflow::Actor& actor, absl::Time at);

// Appends `events`, which change nothing of the case (a warning raised about
// it), to case `case_id`'s history inside the caller's transaction: after
// the head, read under the case's row lock, hash-chained and notified like
// any change. The case's version stays, so no action on it is refused for
// it. Returns the stored events; none when the case does not exist.
std::vector<StoredEvent> AppendToHistory(Conn& conn, int64_t case_id,
                                         const std::vector<workflow::Event>& events,
                                         const workflow::Actor& actor, absl::Time now);

struct DueQuery {
  absl::Time before;        // deadlines due before this instant
  std::string unit;         // owing unit subtree; empty: all
  std::string timer;        // one timer name; empty: all
  int stage = 0;            // xinfang.v1.Stage of the case; 0: all
  bool escalated_only = false;
  std::string case_officer;  // only cases assigned to this account; empty: any
  int limit = 100;
  // Keyset pagination: rows after (due_at, case_id, timer name).
  struct Key {
    absl::Time due_at;
    int64_t case_id = 0;
    std::string timer;
  };
  std::optional<Key> after;
};

struct DueRow {
  int64_t case_id = 0;
  std::string tracking_number;
  std::string state;
  std::string responsible_unit;
  int stage = 0;
  std::string owing_unit;
  std::string workflow;  // the case's definition, which knows the timer's kind
  int workflow_version = 0;
  workflow::TimerState timer;
  std::string case_officer;  // empty if none assigned
};

struct CaseFilter {
  std::string state;
  int stage = 0;              // xinfang.v1.Stage; 0: any
  int channel = 0;            // xinfang.v1.Channel; 0: any
  std::vector<std::string> categories;  // any of these categories; empty: any
  std::vector<std::string> units;       // responsible unit is one of these; empty: any
  bool overdue_only = false;  // a running deadline at or before `now`
  absl::Time now;
  std::optional<absl::Time> received_from, received_before;
  std::string petitioner;     // name, ID number or phone
  int64_t before_id = 0;      // keyset: only ids below this; 0: from the newest
  int limit = 50;
};

struct CaseRow {
  int64_t id = 0;
  std::string tracking_number;
  std::string state;
  int stage = 0;
  int channel = 0;
  std::string category;
  std::string responsible_unit;
  absl::Time received_at;
  std::string summary;
  bool overdue = false;
  // What ties the case to a reader (services/common/access.h).
  std::string complained_about_unit;
  std::set<std::string> conflicted_accounts;
  std::string registrar_holding;  // the registering unit while it holds the case, else ""
};

// An event in the feed: its position, and the case's tracking number,
// responsible unit, ties to readers and workflow (now).
struct FeedEvent {
  int64_t position = 0;
  std::string tracking_number;
  std::string responsible_unit;
  std::string complained_about_unit;
  std::set<std::string> conflicted_accounts;
  std::string registrar_holding;  // the registering unit while it holds the case, else ""
  std::string workflow;
  int workflow_version = 0;
  StoredEvent stored;
};

struct FeedFilter {
  int64_t after = 0;           // positions after this cursor
  int64_t case_id = 0;         // one case; 0: all
  std::string unit;            // responsible unit subtree; empty: all
  std::vector<std::string> kinds;  // event kinds; empty: all
  int limit = 500;
};

struct StatsQuery {
  std::string unit;          // subtree; empty: all
  absl::Time from, to;       // the period [from, to)
  absl::Time now;
  // The office's zone: its days and months (by_month). The kept counts are
  // in the zone of their last rebuild; a query in another zone recounts.
  std::string time_zone = "Asia/Shanghai";
  // Count from the cases and the deadline log themselves, not from the kept
  // counts (the recount that checks them; slow on a large office).
  bool recount = false;
};

// One evaluation target's counts: the served cases whose evaluation window
// closed (due), by the rating given for that target.
struct Evaluations {
  int due = 0, satisfied = 0, basically_satisfied = 0, dissatisfied = 0, lapsed = 0;
  friend bool operator==(const Evaluations&, const Evaluations&) = default;
};

// Raw counts for docs/statistics.md; rates are computed from them. The
// deadlines are the timers of purpose intake notice (notice_*) and handling
// (decision_*); the evaluation window is the timer of purpose evaluation.
struct Stats {
  int notice_due = 0, notice_on_time = 0;
  int decision_due = 0, decision_on_time = 0;
  int received = 0, repeats = 0, online = 0;
  // The two targets (provincial practice): the body that handled the
  // matter (有权处理单位) and the petition office (信访工作机构).
  Evaluations handling_unit, petition_office;
  int accepted = 0;
  double acceptance_days_sum = 0;
  int decided = 0;
  double decision_days_sum = 0;
  std::vector<std::pair<std::string, int>> by_channel, by_category, by_stage, by_state, by_unit,
      by_month;
  friend bool operator==(const Stats&, const Stats&) = default;
};

struct DashboardCount {
  std::string unit;  // responsible unit
  int stage = 0;
  int open_cases = 0;
  int due_soon = 0;
  int overdue = 0;
  int escalated = 0;
  int notices = 0;
  friend bool operator==(const DashboardCount&, const DashboardCount&) = default;
};

// How long a case the sweeper could not decide waits before it is tried again.
inline constexpr absl::Duration kSweepRetryDelay = absl::Minutes(10);

// A case with due timers as the sweeper decides it, read under the case's
// row lock (no intake, petitioners or links: deciding needs none).
struct DueCase {
  int64_t id = 0;
  std::string tracking_number;
  int64_t version = 0;
  workflow::CaseSnapshot snapshot;
  std::vector<std::string> due_timers;  // names, earliest fire instant (then name) first
};

struct SweepResult {
  int claimed = 0;  // cases locked; 0: nothing due was left unlocked
  int cases = 0;    // cases whose due timers were fired and applied
  int events = 0;   // events appended
  int failed = 0;   // cases the decide callback refused: retried after kSweepRetryDelay
  absl::Status last_error;
};

class CaseStore {
 public:
  // Storage knows no rule: what follows from a case under its definition
  // (stage, finality, who owes each deadline, when it next fires) comes
  // with each decision (workflow::CaseFacts). The pool must outlive the store.
  explicit CaseStore(Pool& pool);

  // Registers a case, idempotent on request_id: a retry (even a concurrent
  // one) returns the original case with replayed = true and writes nothing;
  // ALREADY_EXISTS when the id was used with a different request_hash.
  // Petitioners are matched to the registry by ID number, else by name and
  // phone; earlier cases of the same person in the same category are linked
  // as repeat petitions.
  absl::StatusOr<CreateResult> Create(const NewCase& c);

  // The case registered under `request_id`, if any (nullopt otherwise);
  // ALREADY_EXISTS when it was registered from a different request_hash.
  absl::StatusOr<std::optional<CaseRecord>> FindReplay(const std::string& request_id,
                                                       const std::string& request_hash);

  absl::StatusOr<CaseRecord> Get(int64_t id);
  absl::StatusOr<CaseRecord> GetByTracking(const std::string& tracking_number);

  // Applies an engine decision to case `id` if its version is still
  // `expected_version`; returns the updated record and the appended events.
  // `documents` are the written documents it issues (DocumentDraft).
  absl::StatusOr<Applied> Apply(int64_t id, int64_t expected_version,
                                const workflow::Decision& decision, const workflow::Actor& actor,
                                absl::Time now, const std::vector<DocumentDraft>& documents = {});

  // The case's written documents, oldest first, without their bodies.
  absl::StatusOr<std::vector<DocumentRow>> Documents(int64_t case_id);
  // One document by its number (文号), with its body; NOT_FOUND if none.
  absl::StatusOr<DocumentRow> Document(const std::string& number);

  // Decides what a case's due timers mean now. Called on the sweeping
  // thread, one case after another.
  using Decide = std::function<absl::StatusOr<workflow::Decision>(const DueCase& c)>;

  // Claims up to `batch` cases with timers due at `now` (FOR UPDATE SKIP
  // LOCKED on the case rows, so concurrent sweepers never take the same
  // case), asks `decide` for each, and applies every decision as Apply would
  // (as the "system" actor: version check, case row, hash-chained events,
  // timers, deadline log, notify), all in ONE transaction and with a few
  // set-based statements. A crash before the commit applies nothing; the
  // timer rows record what has fired, so nothing fires twice. A case
  // `decide` refuses is put back for kSweepRetryDelay and does not stop the
  // others. Several calls may run at once, on as many connections.
  // Errors: UNAVAILABLE (no connection), ABORTED (a conflict: sweep again),
  // INTERNAL; the batch is then rolled back whole.
  absl::StatusOr<SweepResult> SweepDue(absl::Time now, int batch, const Decide& decide);

  // Ids of cases with an open provisional deadline, above `after_id`, in id
  // order, at most `limit`.
  absl::StatusOr<std::vector<int64_t>> CasesWithProvisionalTimers(int64_t after_id, int limit);

  // Ids of the open (not final) cases of `workflow`@`version` above
  // `after_id`, in id order, at most `limit`.
  absl::StatusOr<std::vector<int64_t>> OpenCasesOf(const std::string& workflow, int version,
                                                   int64_t after_id, int limit);

  // The earliest instant any timer fires; nullopt when none.
  absl::StatusOr<std::optional<absl::Time>> NextFireAt();

  // The case's events, oldest first.
  absl::StatusOr<std::vector<StoredEvent>> History(int64_t id);

  // Recomputes the hash chain and checks it ends at the head the case row
  // records; reports the first event that does not match.
  absl::StatusOr<VerifyResult> Verify(int64_t id);

  // The earlier cases of the registry persons matching `petitioners` (by ID
  // number, else name and phone) in `category` that the rules across cases
  // can concern: open ones handled (responsible, review or re-check unit) by
  // one of `units_below`, and those final after re-check; newest first, at
  // most `limit`. Bounded by those, not by the petitioner's history.
  absl::StatusOr<std::vector<CaseRecord>> CasesOfPetitioners(
      const std::vector<xinfang::v1::Petitioner>& petitioners, const std::string& category,
      const std::vector<std::string>& units_below, int limit);

  // Cases matching f, newest (highest id) first, at most f.limit.
  absl::StatusOr<std::vector<CaseRow>> ListCases(const CaseFilter& f);

  // The sequencer: gives events of committed transactions that have no
  // place in the feed yet the next positions, in id order, at most `max`
  // per call, in one transaction (serialised by a row lock). Returns how many
  // it placed; then NOTIFYs kFeedChannel if any.
  absl::StatusOr<int> SequenceEvents(int max);

  // The last position placed in the feed so far.
  absl::StatusOr<int64_t> LastFeedPosition();

  // Feed events after f.after, in position order, at most f.limit.
  absl::StatusOr<std::vector<FeedEvent>> ReadFeed(const FeedFilter& f);

  // The counts behind the statistics (docs/statistics.md).
  // Raw counts of a period, from the kept counts (migration 0017): whole
  // local months and days from their rows, the partial days at either end of
  // the period from the cases. INVALID_ARGUMENT for an unknown time zone.
  absl::StatusOr<Stats> Statistics(const StatsQuery& q);
  // Counts everything again in `time_zone`; with `force` false, only when
  // the kept counts are in another zone (or were never counted). Returns the
  // cases counted (0 when nothing was to do).
  absl::StatusOr<int64_t> RebuildStatistics(const std::string& time_zone, bool force);
  // Folds up to `max_rows` of the counts changes appended into the day,
  // month and year rows; returns how many were folded.
  absl::StatusOr<int64_t> FoldStatistics(int max_rows);

  // Open, running deadlines matching q, most urgent first (due_at, case,
  // timer), at most q.limit after q.after.
  absl::StatusOr<std::vector<DueRow>> ListDue(const DueQuery& q);

  // Per responsible unit (in `unit`'s subtree; empty: all) and stage, the
  // open cases and their deadlines at `now`: due before now + `soon`,
  // overdue, escalated, and open supervision notices (the timers of purpose
  // TIMER_PURPOSE_NOTICE_REPLY). Open cases, escalations and notices come
  // from the kept counts (migration 0017), the deadlines from the running
  // timers due before now + `soon`; with `recount`, everything is counted
  // from the cases and their timers (the same figures, slower).
  absl::StatusOr<std::vector<DashboardCount>> Dashboard(const std::string& unit, absl::Time now,
                                                        absl::Duration soon, bool recount = false);

 private:
  Pool& pool_;
};

}  // namespace xinfang::storage

#endif  // XINFANG_SERVICES_STORAGE_CASE_STORE_H_
