// Early warnings and the situation report's counts in PostgreSQL
// (migration 0014): a projection of the event feed whose cursor advances in
// the same transaction that records the petitions, counts them and raises
// warnings; the warnings' own life; the report's figures.
//
// The rules themselves (thresholds, windows, what raises a warning) are the
// supervision layer's (services/supervision/warnings.h): this store gives
// it facts and writes what it decides.
//
// Errors: NOT_FOUND (no such warning), ABORTED (stale expected version),
// UNAVAILABLE (no connection), INTERNAL.
// Thread-safety: thread-safe; each call leases its own connection.
#ifndef XINFANG_SERVICES_STORAGE_WARNING_STORE_H_
#define XINFANG_SERVICES_STORAGE_WARNING_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/storage/db.h"
#include "workflow/engine.h"
#include "workflow/warning_rules.h"

namespace xinfang::storage {

// A petition as the rules see it.
struct WarnPetition {
  int64_t case_id = 0;
  std::string tracking_number;
  absl::Time received_at;
  std::string day;  // YYYY-MM-DD of receipt in the office's time zone
  std::string unit;  // registering unit
  std::string category;
  std::string employer;         // normalised employer name; empty if none
  std::string complained_unit;  // the complained-about unit, if one of ours
  int people = 0;               // people present at a visit, or petitioners
  bool accepted = false;        // accepted (now)
  bool final = false;           // final (now)
  std::vector<std::pair<int64_t, std::string>> persons;  // registry id, name
};

// A rule's scope: registering units (empty: all) and categories with those
// below them (empty: all).
struct WarnScope {
  std::vector<std::string> units;
  std::vector<std::string> categories;
};

struct CaseAt {
  int64_t case_id = 0;
  absl::Time received_at;
  std::string unit;             // the registering unit
  std::string complained_unit;  // the complained-about unit, when one of ours
};

// A rule needs at most its threshold, and a warning links at most that many
// petitions at a time.
inline constexpr int kMaxCounted = workflow::kMaxWarningThreshold;

// A warning to raise, or the wave it extends.
struct WarnWave {
  std::string rule, rule_title, subject, subject_label, detail;
  int kind = 0;      // xinfang.v1.WarningRuleKind
  int severity = 0;  // xinfang.v1.WarningSeverity
  absl::Time start;  // receipt of the earliest petition counted
  absl::Time end;    // the wave goes on for petitions received before this
  absl::Time at;     // receipt of the petition that triggers it now
  std::vector<CaseAt> cases;      // the petitions counted (linked)
  int64_t trigger_case_id = 0;    // its history records the raise
};

// One question a rule asks about a petition (docs/warnings.md).
struct WarnQuestion {
  enum class Kind {
    // Petitions in scope received within `window` before or after `at`
    // (ends included): of a person (`key`: the registry id); against an
    // employer whose normalised name is at least `similarity` similar
    // (pg_trgm) to `key`; against one of our units (`key`).
    kPerson,
    kEmployer,
    kComplained,
    // Petitions a day summed over days (lo, split] and (split, hi] (days
    // YYYY-MM-DD): of a category (`key`) within the scope's units, or of a
    // unit (`key`) within the scope's categories.
    kCategoryDays,
    kUnitDays,
  };
  Kind kind = Kind::kPerson;
  std::string key;
  double similarity = 0;
  absl::Time at;
  absl::Duration window;
  std::string lo, split, hi;
  const WarnScope* scope = nullptr;  // the rule's; never null
};

struct WarnAnswer {
  // A petitions question: oldest first, at most 2 * kMaxCounted + 1 of
  // those nearest `at`.
  std::vector<CaseAt> cases;
  // A days question: the sums over (lo, split] and (split, hi].
  int before = 0, recent = 0;
};

// The facts and writes of one batch; valid only inside WarningStore::Process.
class WarnBatch {
 public:
  virtual ~WarnBatch() = default;

  // Answers every question of one petition in one round trip, in order.
  virtual std::vector<WarnAnswer> Ask(const std::vector<WarnQuestion>& questions) = 0;

  // Raises the wave, or extends a live open warning (raised or
  // acknowledged, its window holding wave.at) of the same rule for the same
  // subject, or one already linking a counted petition: links the
  // petitions, moves window_end on, refreshes the detail (its version, which
  // guards its life, stays). A raise appends "warning_raised" to the trigger
  // case's history. Returns the warning's id and whether it was raised now.
  virtual std::pair<int64_t, bool> RaiseOrExtend(const WarnWave& wave) = 0;
  // Looks at `case_id` again for `rule` once `fire_at` has passed (once).
  virtual void Watch(const std::string& rule, int64_t case_id, absl::Time fire_at) = 0;
};

// One thing to decide: a new petition (watch_rule empty), or a group
// petition whose watch for `watch_rule` came due, with its state now.
struct WarnItem {
  const WarnPetition* petition = nullptr;
  std::string watch_rule;
};

struct ProcessResult {
  int consumed = -1;  // feed events and watches; -1: another replica holds the cursor
  int failed = 0;     // items whose decision failed (rolled back alone, not retried)
  absl::Status last_error;
};

struct WarningRow {
  int64_t id = 0;
  std::string rule, rule_title, subject, subject_label, detail;
  int kind = 0, severity = 0, state = 0;
  int64_t version = 0;
  absl::Time raised_at, window_start, window_end;
  int case_count = 0;
  std::vector<std::string> units, complained_units;
  struct Case {
    int64_t case_id = 0;
    std::string tracking_number, unit, category;
    absl::Time received_at;
    std::vector<std::string> conflicted_accounts;  // who declared a conflict on it
  };
  struct Step {
    int state = 0;
    std::string by, note;
    absl::Time at;
  };
  std::vector<Case> cases;  // Get only
  std::vector<Step> steps;  // Get only
};

struct WarningQuery {
  std::vector<std::string> units;        // a petition registered at one of these; empty: all
  std::vector<std::string> hidden_from;  // none of its complained-about units is one of these
  std::vector<int> states;               // empty: all
  std::string rule;                      // empty: all
  int64_t before_id = 0;                 // keyset: ids below this; 0: newest
  int limit = 50;
};

// The situation report's counts: three periods of whole months
// [from, to) (dates YYYY-MM-01): 0 the period, 1 the previous, 2 a year before.
struct ReportQuery {
  std::vector<std::string> units;  // registering units; empty: all
  std::string from[3], to[3];
  absl::Time period_start, period_end;  // period 0 as instants (warnings raised)
  absl::Time now;                       // the backlog's ages
};

struct ReportCounts {
  // dim -> key -> counts per period ("total" has key "").
  std::map<std::string, std::map<std::string, std::array<int, 3>>> dims;
  std::map<std::string, std::array<int, 3>> by_unit;
  std::vector<std::pair<std::string, int>> top_employers;    // period 0
  std::vector<std::pair<std::string, int>> repeat_persons;   // name, petitions; period 0
  std::vector<std::pair<std::string, int>> backlog_by_age;   // buckets in order
  int warnings_raised = 0;
};

class WarningStore {
 public:
  explicit WarningStore(Pool& pool) : pool_(pool) {}

  // Recounts every petition from the raw tables when the counts were kept
  // in another time zone than `zone` (or always, if `force`); places the
  // cursor at the end of the feed. Returns the petitions counted (0 when
  // nothing was done).
  absl::StatusOr<int64_t> Rebuild(const std::string& zone, bool force);

  // One batch in one transaction: claims the cursor (FOR UPDATE SKIP
  // LOCKED: when another replica holds it, consumed is -1 at once), records
  // the petitions of the next `max_events` feed events, then one at a time
  // in feed order counts each and hands it to `decide` (which raises
  // through the batch), then the group watches due at `now`; and advances
  // the cursor. Each decision runs in a savepoint: one that fails is rolled
  // back alone and reported (failed, last_error), never retried, so one bad
  // petition cannot hold up the rest. Other errors roll the batch back.
  using Decide = std::function<absl::Status(WarnBatch& batch, const WarnItem& item)>;
  absl::StatusOr<ProcessResult> Process(int max_events, absl::Time now, const Decide& decide);

  // Warnings matching q, newest first (no cases or steps).
  absl::StatusOr<std::vector<WarningRow>> List(const WarningQuery& q);
  // One warning with its petitions and steps; NOT_FOUND.
  absl::StatusOr<WarningRow> Get(int64_t id);
  // Moves warning `id` to `state` if its version is still expected_version,
  // recording the step; returns it as Get does. NOT_FOUND, ABORTED.
  absl::StatusOr<WarningRow> SetState(int64_t id, int64_t expected_version, int state,
                                      const std::string& by, const std::string& note,
                                      absl::Time now);

  // The situation report's counts.
  absl::StatusOr<ReportCounts> Report(const ReportQuery& q);

 private:
  Pool& pool_;
};

}  // namespace xinfang::storage

#endif  // XINFANG_SERVICES_STORAGE_WARNING_STORE_H_
