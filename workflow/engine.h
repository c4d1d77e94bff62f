// The workflow engine: given a case snapshot, an action (or a fired timer),
// the actor and the time, it decides the case's next state, the events to
// append and the timers to set and cancel, or refuses with a precise reason.
//
// The engine has no database and no network. It is deterministic: the same
// inputs give the same decision, so replaying a case's events through it
// reproduces the case's state (see Replay). Only storage applies a Decision.
//
// Errors (absl::Status codes, mapped one-to-one to gRPC at the edge):
//  - FAILED_PRECONDITION: the action is not allowed in the current state, the
//    case is final, a window has closed, a flag guard fails, the extension was
//    already used, or the officer has a declared conflict. The message names
//    the rule.
//  - PERMISSION_DENIED: the actor's role may not take the action, or the
//    actor's unit is not the one the action must come from.
//  - INVALID_ARGUMENT: a field is missing, unknown, too long or malformed;
//    the message starts with the field's name ("fields.days: ...").
//  - NOT_FOUND: no such action in the definition.
//
// Thread-safety: an Engine is immutable; const methods may be called
// concurrently. It keeps references to the Definition and Calendar, which
// must outlive it.
#ifndef XINFANG_WORKFLOW_ENGINE_H_
#define XINFANG_WORKFLOW_ENGINE_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "workflow/calendar.h"
#include "workflow/definition.h"
#include "xinfang/v1/case.pb.h"

namespace xinfang::workflow {

// One running (or suspended) deadline of a case.
struct TimerState {
  std::string name;
  // The definition's purpose of the timer (set by the engine when it starts
  // or reconciles the timer; storage records it).
  xinfang::v1::TimerPurpose purpose = xinfang::v1::TIMER_PURPOSE_UNSPECIFIED;
  absl::Time started_at;
  Deadline deadline;                       // current deadline (after extension/suspension)
  // deadline.due_at - warning lead, never before started_at (== due_at if
  // the timer has no lead; then `warned` starts true: no warning is owed).
  absl::Time warn_at;
  std::optional<absl::Time> suspended_at;  // set while the clock is stopped
  bool extended = false;
  // Marks of what Fire has done for the current deadline. When the deadline
  // moves later (extension, resumption), marks whose instant is now in the
  // future are cleared, so the new deadline gets its own warning and ladder.
  bool warned = false;   // the warning has fired
  bool overdue = false;  // the deadline has passed and been marked
  int rung = 0;          // escalation rungs climbed

  // The next instant at which Engine::Fire has something to do for this
  // timer; nullopt when suspended or when nothing is left to fire.
  // (Computed by Engine::NextFireAt, which knows the ladder.)
  friend bool operator==(const TimerState&, const TimerState&) = default;
};

// What the engine needs to know of a case. Storage loads it; the engine
// returns the next one inside a Decision.
struct CaseSnapshot {
  std::string workflow;
  int workflow_version = 0;
  std::string state;
  // When the case entered `state` (set on every change of state, not by an
  // action that stays in the same state). DATE fields may not precede its
  // day. absl::Time() (unset, e.g. not stored) skips that bound; served_on is
  // still bounded by decided_at.
  absl::Time state_entered_at;
  absl::Time received_at;
  // When the responsible unit received the matter: received_at, or the time it
  // was forwarded/assigned to the unit or returned to it. "receipt" timers
  // count from it; absl::Time() (unset, e.g. not stored) means received_at.
  absl::Time unit_received_at;
  bool anonymous = false;
  std::set<std::string> flags;
  std::string responsible_unit;
  // The unit complained about (被反映对象), when it is one of ours; empty
  // otherwise. Arts. 30, 46: the case never goes to it or a unit below it.
  std::string complained_about_unit;
  std::string forwarder_unit;  // who forwarded/assigned it to us, if anyone
  std::string review_unit;
  std::string recheck_unit;
  std::string case_officer;
  std::optional<absl::Time> accepted_at, decided_at, served_at, closed_at;
  std::string outcome;
  // The petitioner's evaluation of the two targets (有权处理单位, 信访工作机构):
  // satisfied | basically_satisfied | dissatisfied | lapsed; empty while none.
  std::string evaluation;
  std::string office_evaluation;
  // Values recorded by actions' fields, by field name: the last action that
  // declares a field sets it (or, when not given, clears it).
  std::map<std::string, std::string> attributes;
  std::vector<TimerState> timers;  // open timers only, in definition order
  // Accounts that declared a conflict of interest on this case (Art. 28).
  std::set<std::string> conflicted_accounts;

  const TimerState* FindTimer(const std::string& name) const;
  friend bool operator==(const CaseSnapshot&, const CaseSnapshot&) = default;
};

struct Actor {
  std::string account;
  xinfang::v1::Role role = xinfang::v1::ROLE_UNSPECIFIED;
  std::string unit;
};

// The organisation tree, as far as the engine needs it.
class OrgTree {
 public:
  virtual ~OrgTree() = default;
  // The parent unit; nullopt for the top or an unknown unit.
  virtual std::optional<std::string> Parent(const std::string& unit) const = 0;
  // True if `unit` is a unit of the tree.
  virtual bool Contains(const std::string& unit) const = 0;
  // True if `unit` is `ancestor` or lies below it.
  bool IsWithin(const std::string& unit, const std::string& ancestor) const;
};

// A fixed tree: unit -> parent ("" for a top unit; a unit may also be left
// out when it has no parent).
class MapOrgTree final : public OrgTree {
 public:
  explicit MapOrgTree(std::map<std::string, std::string> parent_of);
  std::optional<std::string> Parent(const std::string& unit) const override;
  // True if `unit` is a key of the map (every unit, when built from all).
  bool Contains(const std::string& unit) const override { return parent_of_.count(unit) > 0; }
  // `unit` and every unit below it, in code order.
  std::vector<std::string> Subtree(const std::string& unit) const;
  // How many units the tree has.
  std::size_t size() const { return parent_of_.size(); }

 private:
  std::map<std::string, std::string> parent_of_;
};

// What the engine must know of an account that an action names (a
// FIELD_TYPE_ACCOUNT field): the service looks it up; the engine has no database.
struct AccountFacts {
  xinfang::v1::Role role = xinfang::v1::ROLE_UNSPECIFIED;
  std::string unit;
  bool enabled = false;
  friend bool operator==(const AccountFacts&, const AccountFacts&) = default;
};

struct ActionRequest {
  std::string action;
  std::map<std::string, std::string> fields;
  std::string note;
  // Every account named by a FIELD_TYPE_ACCOUNT field of the request, by
  // name; a name missing here is an unknown account (INVALID_ARGUMENT).
  std::map<std::string, AccountFacts> accounts;
};

// An event to append to the case's history.
struct Event {
  // "registered", the action's event_kind (default: its name), "deadline_warning",
  // "deadline_overdue", "escalated", "migrated".
  std::string kind;
  std::string action;  // the action taken, empty for timer events
  std::string from_state;
  std::string to_state;
  // The action's fields; timer events: timer, due_day (+ rung, notify,
  // recipient for "escalated"); "migrated": from_workflow, to_workflow.
  std::map<std::string, std::string> fields;
  std::string note;
  friend bool operator==(const Event&, const Event&) = default;
};

// A notice the service must send (to the petitioner, the unit head, a supervisor…).
struct Notice {
  std::string kind;       // "petitioner", "case_officer", "unit_head", "supervising_unit", "top"
  std::string recipient;  // a unit or account; empty for the petitioner
  std::string text;
  friend bool operator==(const Notice&, const Notice&) = default;
};

// What follows from a case under its definition, beside the snapshot
// itself: computed by the engine (Engine::Facts) and carried in every
// Decision, so that storage records it without knowing the rules.
struct TimerFacts {
  int position = 0;        // the timer's place in the definition: cases list their timers in it
  std::string owing_unit;  // who owes the deadline (see Engine::Facts)
  std::optional<absl::Time> fire_at;  // when Fire next has something to do; nullopt: never
  friend bool operator==(const TimerFacts&, const TimerFacts&) = default;
};
struct CaseFacts {
  xinfang::v1::Stage stage = xinfang::v1::STAGE_UNSPECIFIED;  // of the case's state
  bool final = false;                                         // the state is final
  std::map<std::string, TimerFacts> timers;                   // each open timer's, by name
  friend bool operator==(const CaseFacts&, const CaseFacts&) = default;
};

// A written document the decision issues (Action.document): the service
// writes it, storage numbers it and records its number and hash in the
// action's event. Not owed to an anonymous petitioner.
struct DocumentDue {
  std::string kind;  // a DocumentKind of the definition
  size_t event = 0;  // the action's event: an index into Decision::events
  friend bool operator==(const DocumentDue&, const DocumentDue&) = default;
};

struct Decision {
  CaseSnapshot next;                         // the case after the decision
  std::vector<Event> events;                 // in order
  std::vector<DocumentDue> documents;        // written documents issued
  std::vector<TimerState> timers_set;        // started or changed timers (also in next.timers)
  std::vector<std::string> timers_cancelled; // names of timers that stop
  std::vector<Notice> notices;
  CaseFacts facts;                           // Engine::Facts(next)
};

// Why a petition is not accepted at registration (CheckAdmissible).
struct Inadmissible {
  enum class Rule {
    kFinalAfterRecheck,  // 不再受理: the same matter was finally decided after re-check
    kOpenBelow,          // 不予受理 (Art. 19): open and within its time limits at a lower body
  };
  Rule rule = Rule::kFinalAfterRecheck;
  std::string prior_tracking_number;
  std::string reason;   // for the petitioner and the history, naming the prior case
  std::string article;  // the legal basis
  friend bool operator==(const Inadmissible&, const Inadmissible&) = default;
};

// Registration input for Engine::Start.
struct CaseStart {
  absl::Time received_at;
  bool anonymous = false;
  std::string registering_unit;  // becomes the responsible unit
  std::string complained_about_unit;  // CaseSnapshot::complained_about_unit
  std::set<std::string> flags;   // e.g. "forwarded_in" for a matter sent to us
  std::string forwarder_unit;
  // Set when CheckAdmissible found the matter inadmissible: the case is still
  // registered, and the definition's not-accepted action is taken at once.
  std::optional<Inadmissible> inadmissible;
};

// Where a request for review (复查) of `c` goes: the next-higher body above
// its responsible unit; and for re-check (复核): the body above its review
// unit. FAILED_PRECONDITION when there is none, or when that body is the
// unit complained about or below it (Arts. 30, 46). The effects
// EFFECT_SET_REVIEW_UNIT / EFFECT_SET_RECHECK_UNIT and the petitioner's
// status page ("where to go") both ask here.
absl::StatusOr<std::string> ReviewBody(const CaseSnapshot& c, const OrgTree& org);
absl::StatusOr<std::string> RecheckBody(const CaseSnapshot& c, const OrgTree& org);

class Engine {
 public:
  Engine(std::shared_ptr<const Definition> definition, const Calendar& calendar);

  const Definition& definition() const { return *definition_; }

  // A new case in the definition's initial state, with its timers started and
  // a "registered" event. Flags are start.flags plus "anonymous" when
  // start.anonymous. "receipt" timers count from start.received_at (not from
  // `now`, the registration). INVALID_ARGUMENT if received_at is after now or
  // registering_unit is empty. With start.inadmissible, the definition's
  // not_accepted_again_action / not_accepted_here_action follows in the same
  // decision (fields prior_case, reason, article; a notice to the petitioner
  // unless anonymous); FAILED_PRECONDITION naming the rule when the definition
  // has no such action.
  absl::StatusOr<Decision> Start(const CaseStart& start, const Actor& actor,
                                 absl::Time now) const;

  // The actions `actor` may take on `c` now (state, role, unit scope, flags
  // and open windows all checked), in definition order.
  std::vector<const xinfang::v1::Action*> Available(const CaseSnapshot& c, const Actor& actor,
                                                    absl::Time now, const OrgTree& org) const;

  // Applies one action. Checks, in this order (the first failure is returned):
  // the action exists (NOT_FOUND); the case is not final, its state is in
  // `from` (FAILED_PRECONDITION); the role (PERMISSION_DENIED); the unit scope
  // (PERMISSION_DENIED; ROLE_SYSTEM has no unit and skips it); flag and value
  // guards, the `within_timer` window (open while the timer runs and now <
  // due_at), extension once, conflict of interest (FAILED_PRECONDITION);
  // fields (INVALID_ARGUMENT: unknown names, required ones, types: DATE is
  // YYYY-MM-DD between the day the case entered its state and today, DAYS is
  // 1..max_days (and the timer's max_extension_days for an extension), CHOICE
  // one of choices, TEXT non-blank valid UTF-8 of at most max_length code
  // points, UNIT/ACCOUNT a code without spaces); then effects, which may still
  // refuse with FAILED_PRECONDITION (forward/assign to a unit that is not
  // strictly below the responsible unit; review or re-check with no higher
  // body; return with no forwarder). Then the timers are reconciled with the
  // new state and flags: timers that may no longer run are cancelled, those
  // that should run are started, suspended_in/running_in suspend and resume.
  // The Decision holds one event for the action (kind = event_kind or name,
  // fields = request fields), the timers set (new or changed) and cancelled.
  absl::StatusOr<Decision> Apply(const CaseSnapshot& c, const ActionRequest& request,
                                 const Actor& actor, absl::Time now,
                                 const OrgTree& org) const;

  // A timer's fire instant has come (now >= NextFireAt). Returns what is due
  // at `now` for that timer, each at most once, in this order of events:
  // "deadline_warning" (now >= warn_at), "deadline_overdue" (now >= due_at),
  // "escalated" for each ladder rung with due_at + delay_days <= now not yet
  // climbed (only if expiry.escalate; fields rung, notify, recipient), then
  // the events of the expiry action taken as ROLE_SYSTEM on becoming overdue.
  // Event fields include timer and due_day; notices go with the warning and
  // each rung. An unknown, cancelled or suspended timer gives an empty
  // decision (next == c, no events): a stale fire is harmless. An error only
  // if the expiry action is refused (a definition bug Validate prevents).
  absl::StatusOr<Decision> Fire(const CaseSnapshot& c, const std::string& timer,
                                absl::Time now, const OrgTree& org) const;

  // Fires each of `timers` in turn (as Fire, each on the case the one before
  // left) and returns one decision with all their events, timer changes and
  // notices: what a sweeper applies for a case's due timers.
  absl::StatusOr<Decision> FireAll(const CaseSnapshot& c, const std::vector<std::string>& timers,
                                   absl::Time now, const OrgTree& org) const;

  // Recomputes the case's provisional deadlines under this engine's calendar
  // (after a year's holiday arrangement was loaded): each provisional timer
  // gets the deadline its terms now give (warning and marks re-armed as on an
  // extension), and one "deadline_recomputed" event per changed timer records
  // timer, old_due_day, due_day, provisional and the terms in one line. An
  // empty decision (no events, next == c) when nothing changes. Pure.
  Decision RecomputeDeadlines(const CaseSnapshot& c, absl::Time now) const;

  // When Fire next has something to do for `t`; nullopt if never (suspended,
  // or the ladder is exhausted / the timer does not escalate).
  std::optional<absl::Time> NextFireAt(const TimerState& t) const;

  // The facts storage records of `c` beside the snapshot: its state's stage
  // and finality; per timer its place in the definition, its next fire
  // instant (NextFireAt) and the unit that owes it — a timer that runs only
  // in review states is the review unit's, only in re-check states the
  // re-check unit's, any other (one that spans stages, like a supervision
  // notice's) the responsible unit's. Every Decision carries Facts(next).
  CaseFacts Facts(const CaseSnapshot& c) const;

  // Moves a case to another definition version: `mapping` gives a state of
  // the new definition for states of the old one (unmapped states keep their
  // name). FAILED_PRECONDITION naming the state if any target of `mapping`, or
  // the case's resulting state, does not exist in `to`. Timers of the old state
  // are kept (deadline, warnings and rungs included) if `to` has a timer of the
  // same name running or suspended in the new state, else cancelled; timers of
  // `to` that should run in the new state and did not are started as on entry
  // at `now` (a "receipt" timer still counts from the unit's receipt). One
  // "migrated" event records old and new key and state.
  static absl::StatusOr<Decision> Migrate(const CaseSnapshot& c, const Engine& to,
                                          const std::map<std::string, std::string>& mapping,
                                          absl::Time now);

 private:
  // Start without the decision's facts.
  absl::StatusOr<Decision> StartCase(const CaseStart& start, const Actor& actor,
                                     absl::Time now) const;

  std::shared_ptr<const Definition> definition_;
  const Calendar& calendar_;
};

// ---- Rules across cases (Art. 19; finality after re-check) ----
//
// These need the petitioner's other cases, which the engine does not load:
// the service summarises them (SummarizeCase) and calls CheckAdmissible before
// registering a new case.

// A petition about to be registered (or accepted) at `unit`.
struct NewMatter {
  std::string category;          // content category code, e.g. "wages.arrears"
  std::string complained_about;  // 被反映对象, free text
  std::string unit;              // the unit the matter is brought to
};

// What CheckAdmissible needs to know of one of the petitioner's earlier cases.
struct PriorCase {
  std::string tracking_number;
  std::string category;
  std::string complained_about;
  // The unit handling the case now: the responsible unit, or the review or
  // re-check unit while the case is in those stages.
  std::string responsible_unit;
  std::string state;
  bool open = false;      // not in a final state
  // An office deadline (an escalating timer) of the case has been missed.
  bool overdue = false;
  // The earliest running office deadline, if any; past it the case is no
  // longer "within its time limits".
  std::optional<absl::Time> due_at;
  std::set<std::string> flags;  // "final_after_recheck" after a served re-check
};

// Two matters are the same when category and complained_about are equal after
// trimming, collapsing inner whitespace and lowering ASCII letters.
bool SameMatter(const NewMatter& matter, const PriorCase& prior);

// Whether the matter may be accepted at matter.unit; nullopt when it may.
// Otherwise the rule that refuses it, naming the prior case:
//  - kFinalAfterRecheck when a prior case of the same matter carries the flag
//    final_after_recheck (the same facts are never accepted again);
//  - kOpenBelow (Art. 19) when a prior case of the same matter is open and
//    within its time limits (not overdue, earliest due_at after `now`) at a
//    unit strictly below matter.unit.
// The petition is registered either way (Engine::Start). Pure; thread-safe.
std::optional<Inadmissible> CheckAdmissible(const NewMatter& matter,
                                            const std::vector<PriorCase>& priors,
                                            const OrgTree& org, absl::Time now);

// Summarises a case for CheckAdmissible: open unless its state is final;
// overdue and due_at from the timers whose expiry escalates (office deadlines).
PriorCase SummarizeCase(const Definition& definition, const CaseSnapshot& c,
                        const std::string& tracking_number, const std::string& category,
                        const std::string& complained_about);

// A recorded step, enough to replay it: Start, Apply or Fire.
struct RecordedStep {
  enum class Kind { kStart, kAction, kFire };
  Kind kind = Kind::kAction;
  CaseStart start;          // kStart
  ActionRequest request;    // kAction
  std::string timer;        // kFire
  Actor actor;
  absl::Time at;
};

// Replays steps from an empty case: the result must equal the snapshot the
// steps produced one by one. The first failing step's status is returned.
absl::StatusOr<CaseSnapshot> Replay(const Engine& engine, const std::vector<RecordedStep>& steps,
                                    const OrgTree& org);

}  // namespace xinfang::workflow

#endif  // XINFANG_WORKFLOW_ENGINE_H_
