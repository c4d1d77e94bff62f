// Tests of the workflow engine over the default definition
// (deploy/workflows/petition-v3.textproto) and the real calendar data
// (deploy/calendar): every action allowed and refused, whole lives, timers,
// the ladder, extension, suspension, cross-case rules, migration, and a
// property test that replay reproduces random lives.
#include "workflow/engine.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/text_format.h"
#include "tests/testing/status_matchers.h"
#include "workflow/calendar.h"
#include "workflow/definition.h"

namespace xinfang::workflow {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using xinfang::testing::IsOk;
using xinfang::testing::StatusIs;
using xinfang::v1::Action;
using xinfang::v1::Role;

constexpr absl::StatusCode kFailedPrecondition = absl::StatusCode::kFailedPrecondition;
constexpr absl::StatusCode kPermissionDenied = absl::StatusCode::kPermissionDenied;
constexpr absl::StatusCode kInvalidArgument = absl::StatusCode::kInvalidArgument;

// ---- The world: definition, calendar, engine, organisation ----

struct World {
  std::shared_ptr<const Definition> def;
  std::unique_ptr<Calendar> cal;
  std::unique_ptr<Engine> engine;
  std::string error;
};

const World& W() {
  static const World* const world = [] {
    auto* w = new World;
    absl::StatusOr<std::shared_ptr<const Definition>> def =
        Definition::LoadFile(XINFANG_SOURCE_DIR "/deploy/workflows/petition-v3.textproto");
    absl::StatusOr<Calendar> cal = Calendar::LoadDirectory(XINFANG_SOURCE_DIR "/deploy/calendar");
    if (!def.ok()) {
      w->error = def.status().ToString();
    } else if (!cal.ok()) {
      w->error = cal.status().ToString();
    } else {
      w->def = *def;
      w->cal = std::make_unique<Calendar>(*std::move(cal));
      w->engine = std::make_unique<Engine>(w->def, *w->cal);
    }
    return w;
  }();
  return *world;
}

// prov ─┬─ city ─┬─ dist ── street
//       │        └─ dist2
//       └─ city2
const std::map<std::string, std::string>& ParentOf() {
  static const auto* const kParents = new std::map<std::string, std::string>{
      {"city", "prov"}, {"city2", "prov"}, {"dist", "city"}, {"dist2", "city"}, {"street", "dist"}};
  return *kParents;
}

const MapOrgTree& Org() {
  static const MapOrgTree* const org = new MapOrgTree(ParentOf());
  return *org;
}

std::vector<std::string> UnitsBelow(const std::string& unit) {
  std::vector<std::string> out;
  for (const auto& [child, parent] : ParentOf()) {
    if (child != unit && Org().IsWithin(child, unit)) out.push_back(child);
  }
  return out;
}

absl::Time At(int y, int m, int d, int hh = 10, int mm = 0) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, 0), ShanghaiTimeZone());
}

std::string Day(absl::CivilDay d) { return absl::FormatCivilTime(d); }

Actor Clerk(const std::string& unit) {
  return {"clerk_" + unit, xinfang::v1::ROLE_INTAKE_CLERK, unit};
}
Actor Officer(const std::string& unit, const std::string& account = "officer1") {
  return {account, xinfang::v1::ROLE_CASE_OFFICER, unit};
}
Actor Head(const std::string& unit) { return {"head_" + unit, xinfang::v1::ROLE_UNIT_HEAD, unit}; }

// The unit an actor must belong to for `a` on `c`.
std::string UnitFor(const Action& a, const CaseSnapshot& c) {
  switch (a.scope()) {
    case xinfang::v1::UNIT_SCOPE_REVIEW:
      return c.review_unit;
    case xinfang::v1::UNIT_SCOPE_RECHECK:
      return c.recheck_unit;
    case xinfang::v1::UNIT_SCOPE_FORWARDER:
      return c.forwarder_unit;
    default:
      return c.responsible_unit;
  }
}

Actor ActorFor(const Action& a, const CaseSnapshot& c, Role role) {
  if (role == xinfang::v1::ROLE_SYSTEM) return {"system", role, ""};
  return {absl::StrCat("acct_", role), role, UnitFor(a, c)};
}

// Valid fields for `a` (all of them, optional ones too); nullopt when no
// valid value exists (no unit below to forward to). With `rng`, values vary.
// `actor`, when given, takes the action: a conflict of interest is declared
// for oneself unless a unit head declares it.
std::optional<std::map<std::string, std::string>> FillFields(const Action& a, const CaseSnapshot& c,
                                                             absl::Time now, std::mt19937* rng,
                                                             const Actor* actor = nullptr) {
  std::map<std::string, std::string> out;
  auto pick = [&](int n) { return rng == nullptr ? 0 : static_cast<int>((*rng)() % n); };
  for (const auto& f : a.fields()) {
    if (rng != nullptr && !f.required() && !f.has_required_when() && pick(2) == 0) continue;
    switch (f.type()) {
      case xinfang::v1::FIELD_TYPE_TEXT:
        out[f.name()] = "说明 " + f.name();
        break;
      case xinfang::v1::FIELD_TYPE_DATE:
        out[f.name()] = Day(W().cal->LocalDay(now));
        break;
      case xinfang::v1::FIELD_TYPE_UNIT: {
        std::vector<std::string> below = UnitsBelow(c.responsible_unit);
        if (below.empty()) return std::nullopt;
        out[f.name()] = below[pick(below.size())];
        break;
      }
      case xinfang::v1::FIELD_TYPE_ACCOUNT: {
        // An officer to assign must not have declared a conflict (Art. 28):
        // take one who has not; officer3 never declares one.
        std::vector<std::string> free;
        for (const char* o : {"officer1", "officer2"}) {
          if (f.name() != "officer" || c.conflicted_accounts.count(o) == 0) free.push_back(o);
        }
        out[f.name()] = free.empty() ? "officer3" : free[pick(static_cast<int>(free.size()))];
        if (a.name() == "declare_conflict" && actor != nullptr &&
            actor->role != xinfang::v1::ROLE_UNIT_HEAD) {
          out[f.name()] = actor->account;
        }
        break;
      }
      case xinfang::v1::FIELD_TYPE_CHOICE:
        out[f.name()] = f.choices(pick(f.choices_size()));
        break;
      case xinfang::v1::FIELD_TYPE_DAYS:
        out[f.name()] = absl::StrCat(rng == nullptr ? 10 : 1 + pick(f.max_days()));
        break;
      case xinfang::v1::FIELD_TYPE_BOOL:
        out[f.name()] = "true";
        break;
      default:
        break;
    }
  }
  return out;
}

// Every timer of a snapshot runs (or is suspended) in the current state.
void ExpectTimersConsistent(const CaseSnapshot& c) {
  const xinfang::v1::State* s = W().def->FindState(c.state);
  ASSERT_NE(s, nullptr) << c.state;
  EXPECT_EQ(s->final(), c.closed_at.has_value()) << c.state;
  if (s->final()) {
    EXPECT_THAT(c.timers, IsEmpty()) << c.state;
  }
  for (const TimerState& t : c.timers) {
    const xinfang::v1::Timer* spec = W().def->FindTimer(t.name);
    ASSERT_NE(spec, nullptr);
    bool running = std::count(spec->running_in().begin(), spec->running_in().end(), c.state) > 0;
    bool suspending =
        std::count(spec->suspended_in().begin(), spec->suspended_in().end(), c.state) > 0;
    EXPECT_TRUE(running || suspending) << t.name << " in " << c.state;
    EXPECT_EQ(t.suspended_at.has_value(), suspending) << t.name << " in " << c.state;
    EXPECT_LE(t.warn_at, t.deadline.due_at) << t.name;
  }
}

std::vector<std::string> Kinds(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const Event& e : events) out.push_back(e.kind);
  return out;
}

// The accounts a request's ACCOUNT fields name, as a service would look them
// up: enabled, in the case's responsible unit; "officer…" are case officers,
// "head_…" unit heads, "acct_<n>" have role n, the rest are clerks.
std::map<std::string, AccountFacts> FactsFor(const std::string& action,
                                             const std::map<std::string, std::string>& fields,
                                             const CaseSnapshot& c) {
  std::map<std::string, AccountFacts> out;
  const Action* a = W().def->FindAction(action);
  if (a == nullptr) return out;
  for (const auto& f : a->fields()) {
    auto it = fields.find(f.name());
    if (f.type() != xinfang::v1::FIELD_TYPE_ACCOUNT || it == fields.end()) continue;
    const std::string& name = it->second;
    Role role = xinfang::v1::ROLE_INTAKE_CLERK;
    int n = 0;
    if (name.rfind("officer", 0) == 0) {
      role = xinfang::v1::ROLE_CASE_OFFICER;
    } else if (name.rfind("head_", 0) == 0) {
      role = xinfang::v1::ROLE_UNIT_HEAD;
    } else if (name.rfind("acct_", 0) == 0 && absl::SimpleAtoi(name.substr(5), &n)) {
      role = static_cast<Role>(n);
    }
    out[name] = AccountFacts{role, c.responsible_unit, true};
  }
  return out;
}

// A case's life: applies steps, keeps the snapshot, records steps for Replay.
class Life {
 public:
  Life() = default;

  bool Start(const CaseStart& start, absl::Time now) {
    Actor actor = Clerk(start.registering_unit);
    absl::StatusOr<Decision> d = W().engine->Start(start, actor, now);
    EXPECT_THAT(d, IsOk());
    if (!d.ok()) return false;
    RecordedStep step;
    step.kind = RecordedStep::Kind::kStart;
    step.start = start;
    step.actor = actor;
    step.at = now;
    steps.push_back(step);
    last = *d;
    c = d->next;
    this->now = now;
    return true;
  }

  absl::StatusOr<Decision> Do(const std::string& action, std::map<std::string, std::string> fields,
                              const Actor& actor, absl::Time at) {
    std::map<std::string, AccountFacts> facts = FactsFor(action, fields, c);
    ActionRequest req{action, std::move(fields), "", std::move(facts)};
    absl::StatusOr<Decision> d = W().engine->Apply(c, req, actor, at, Org());
    if (d.ok()) {
      RecordedStep step;
      step.kind = RecordedStep::Kind::kAction;
      step.request = req;
      step.actor = actor;
      step.at = at;
      steps.push_back(step);
      last = *d;
      c = d->next;
      now = at;
    }
    return d;
  }

  absl::StatusOr<Decision> Fire(const std::string& timer, absl::Time at) {
    absl::StatusOr<Decision> d = W().engine->Fire(c, timer, at, Org());
    if (d.ok()) {
      RecordedStep step;
      step.kind = RecordedStep::Kind::kFire;
      step.timer = timer;
      step.actor = Actor{"system", xinfang::v1::ROLE_SYSTEM, ""};
      step.at = at;
      steps.push_back(step);
      last = *d;
      c = d->next;
      now = std::max(now, at);
    }
    return d;
  }

  // Must succeed; the next day at 10:00 unless `at` is given.
  void Must(const std::string& action, std::map<std::string, std::string> fields,
            const Actor& actor, std::optional<absl::Time> at = std::nullopt) {
    absl::Time when = at.value_or(NextDay());
    absl::StatusOr<Decision> d = Do(action, std::move(fields), actor, when);
    EXPECT_THAT(d, IsOk()) << action << " in " << c.state;
  }

  absl::Time NextDay() const {
    absl::CivilDay day = W().cal->LocalDay(now) + 1;
    return At(day.year(), day.month(), day.day());
  }
  std::string Today() const { return Day(W().cal->LocalDay(now)); }

  const TimerState& Timer(const std::string& name) const {
    static const TimerState kNone;
    const TimerState* t = c.FindTimer(name);
    EXPECT_NE(t, nullptr) << "no timer " << name << " in " << c.state;
    return t == nullptr ? kNone : *t;
  }

  CaseSnapshot c;
  Decision last;
  absl::Time now;
  std::vector<RecordedStep> steps;
};

// The canonical path to every non-final state (and to "closed"), starting
// 2025-03-03 at "city", forwarded to "dist" the same day.
Life DriveTo(const std::string& target) {
  Life l;
  CaseStart start;
  start.received_at = At(2025, 3, 3, 9);
  start.registering_unit = "city";
  l.Start(start, At(2025, 3, 3, 9, 30));
  l.Must("forward", {{"target_unit", "dist"}}, Clerk("city"), At(2025, 3, 3, 11));
  if (target == "registered") return l;
  if (target == "objection_pending") {
    l.Must("object", {{"reasons", "不属于本单位"}}, Clerk("dist"));
    return l;
  }
  l.Must("accept", {}, Clerk("dist"));
  if (target == "accepted") return l;
  l.Must("assign_officer", {{"officer", "officer1"}}, Head("dist"));
  if (target == "in_handling") return l;
  if (target == "extension_requested") {
    l.Must("request_extension", {{"reason", "复杂"}, {"days", "20"}}, Officer("dist"));
    return l;
  }
  l.Must("decide", {{"outcome", "support"}, {"decision_text", "支持"}}, Officer("dist"));
  if (target == "decided") return l;
  l.Must("serve", {{"served_on", Day(W().cal->LocalDay(l.NextDay()))}, {"method", "in_person"}, {"receipt", "signed"}, {"signed_by", "张三"}}, Clerk("dist"));
  if (target == "served") return l;
  if (target == "evaluated") {
    l.Must("evaluate", {{"rating", "satisfied"}, {"office_rating", "satisfied"}, {"channel", "call"}}, Clerk("dist"));
    return l;
  }
  l.Must("request_review", {{"reasons", "不服"}}, Clerk("city"));
  if (target == "review_requested") return l;
  l.Must("review_opinion", {{"review_outcome", "upheld"}, {"opinion_text", "维持"}},
         Officer("city", "reviewer"));
  if (target == "review_decided") return l;
  l.Must("serve_review", {{"served_on", Day(W().cal->LocalDay(l.NextDay()))}, {"method", "in_person"}, {"receipt", "signed"}, {"signed_by", "张三"}}, Clerk("city"));
  if (target == "review_served") return l;
  l.Must("request_recheck", {{"reasons", "仍不服"}}, Clerk("city"));
  if (target == "recheck_requested") return l;
  if (target == "recheck_hearing") {
    l.Must("start_hearing", {}, Officer("prov", "rechecker"));
    return l;
  }
  l.Must("recheck_opinion", {{"recheck_outcome", "upheld"}, {"opinion_text", "维持"}},
         Officer("prov", "rechecker"));
  if (target == "recheck_decided") return l;
  l.Must("serve_recheck", {{"served_on", Day(W().cal->LocalDay(l.NextDay()))}, {"method", "in_person"}, {"receipt", "signed"}, {"signed_by", "张三"}}, Clerk("prov"));
  EXPECT_EQ(target, "closed");
  return l;
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NE(W().engine, nullptr) << W().error; }
  const Engine& engine() const { return *W().engine; }
  const Definition& def() const { return *W().def; }
  const Calendar& cal() const { return *W().cal; }
};

// DriveTo, then whatever the action's flag guards need: an open supervision
// notice for reply_notice.
Life DriveToFor(const Action& a, const std::string& from) {
  Life l = DriveTo(from);
  if (std::count(a.requires_flags().begin(), a.requires_flags().end(), "notice_open") > 0) {
    l.Must("issue_notice", {{"notice_kind", "urge"}, {"notice_text", "请加快办理"}},
           Actor{"sup", xinfang::v1::ROLE_SUPERVISOR, "city"});
  }
  return l;
}

// ---- Every action of the default definition, allowed and refused ----

TEST_F(EngineTest, DriveToReachesEveryNonFinalState) {
  for (const auto& s : def().proto().states()) {
    if (s.final()) continue;
    Life l = DriveTo(s.name());
    EXPECT_EQ(l.c.state, s.name());
  }
  EXPECT_EQ(DriveTo("closed").c.state, "closed");
}

TEST_F(EngineTest, EveryActionAllowedFromEachFromStateForEachRole) {
  for (const Action& a : def().proto().actions()) {
    for (const std::string& from : a.from()) {
      for (int r : a.roles()) {
        auto role = static_cast<Role>(r);
        SCOPED_TRACE(absl::StrCat(a.name(), " from ", from, " as ", xinfang::v1::Role_Name(role)));
        Life l = DriveToFor(a, from);
        ASSERT_EQ(l.c.state, from);
        absl::Time now = l.now + absl::Hours(1);
        Actor actor = ActorFor(a, l.c, role);
        std::optional<std::map<std::string, std::string>> fields =
            FillFields(a, l.c, now, nullptr, &actor);
        ASSERT_TRUE(fields.has_value());
        EXPECT_THAT(engine().Available(l.c, actor, now, Org()), Contains(&a));
        absl::StatusOr<Decision> d = l.Do(a.name(), *fields, actor, now);
        ASSERT_THAT(d, IsOk());
        EXPECT_EQ(d->next.state, a.stay() ? from : a.to());
        ASSERT_FALSE(d->events.empty());
        EXPECT_EQ(d->events[0].kind, a.event_kind().empty() ? a.name() : a.event_kind());
        EXPECT_EQ(d->events[0].action, a.name());
        EXPECT_EQ(d->events[0].from_state, from);
        EXPECT_EQ(d->events[0].fields, *fields);
        ExpectTimersConsistent(d->next);
      }
    }
  }
}

TEST_F(EngineTest, EveryActionRefusedFromStatesOutsideFrom) {
  for (const Action& a : def().proto().actions()) {
    for (const auto& s : def().proto().states()) {
      if (std::count(a.from().begin(), a.from().end(), s.name()) > 0) continue;
      if (s.final() && s.name() != "closed") continue;  // one final state suffices
      SCOPED_TRACE(absl::StrCat(a.name(), " from ", s.name()));
      Life l = DriveTo(s.name());
      Actor actor = ActorFor(a, l.c, static_cast<Role>(a.roles(0)));
      absl::Time now = l.now + absl::Hours(1);
      auto fields = FillFields(a, l.c, now, nullptr).value_or(std::map<std::string, std::string>{});
      EXPECT_THAT(l.Do(a.name(), fields, actor, now),
                  StatusIs(kFailedPrecondition,
                           HasSubstr(s.final() ? "case is final" : "is not allowed in state")));
      EXPECT_THAT(engine().Available(l.c, actor, now, Org()), Not(Contains(&a)));
    }
  }
}

TEST_F(EngineTest, EveryActionRefusedForOtherRolesUnitsAndMissingFields) {
  for (const Action& a : def().proto().actions()) {
    const std::string& from = a.from(0);
    Life l = DriveToFor(a, from);
    absl::Time now = l.now + absl::Hours(1);
    auto fields = FillFields(a, l.c, now, nullptr);
    ASSERT_TRUE(fields.has_value());
    Role allowed = static_cast<Role>(a.roles(0));
    for (int r = xinfang::v1::ROLE_INTAKE_CLERK; r <= xinfang::v1::ROLE_PETITIONER; ++r) {
      if (std::count(a.roles().begin(), a.roles().end(), r) > 0) continue;
      SCOPED_TRACE(absl::StrCat(a.name(), " as ", xinfang::v1::Role_Name(static_cast<Role>(r))));
      Actor actor = ActorFor(a, l.c, static_cast<Role>(r));
      if (r == xinfang::v1::ROLE_SYSTEM) actor.unit = UnitFor(a, l.c);
      EXPECT_THAT(l.Do(a.name(), *fields, actor, now),
                  StatusIs(kPermissionDenied, HasSubstr("may not take action")));
    }
    if (a.scope() != xinfang::v1::UNIT_SCOPE_ANY && allowed != xinfang::v1::ROLE_SYSTEM) {
      SCOPED_TRACE(absl::StrCat(a.name(), " from an unrelated unit"));
      Actor stranger = ActorFor(a, l.c, allowed);
      stranger.unit = "city2";
      EXPECT_THAT(l.Do(a.name(), *fields, stranger, now), StatusIs(kPermissionDenied));
      EXPECT_THAT(engine().Available(l.c, stranger, now, Org()), Not(Contains(&a)));
    }
    Actor actor = ActorFor(a, l.c, allowed);
    for (const auto& f : a.fields()) {
      if (!f.required()) continue;
      SCOPED_TRACE(absl::StrCat(a.name(), " without ", f.name()));
      auto missing = *fields;
      missing.erase(f.name());
      EXPECT_THAT(l.Do(a.name(), missing, actor, now),
                  StatusIs(kInvalidArgument, absl::StrCat("fields.", f.name(), ": required")));
    }
    auto extra = *fields;
    extra["bogus"] = "x";
    EXPECT_THAT(l.Do(a.name(), extra, actor, now),
                StatusIs(kInvalidArgument, HasSubstr("fields.bogus: unknown field")));
    EXPECT_EQ(l.c.state, from) << "a refused action changed the case";
  }
}

TEST_F(EngineTest, UnknownActionIsNotFound) {
  Life l = DriveTo("registered");
  EXPECT_THAT(l.Do("teleport", {}, Clerk("dist"), l.now),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("teleport")));
}

TEST_F(EngineTest, FieldTypesAreChecked) {
  Life l = DriveTo("decided");
  Actor clerk = Clerk("dist");
  absl::Time now = l.now + absl::Hours(1);
  EXPECT_THAT(l.Do("serve", {{"served_on", "2025-3-7"}, {"method", "in_person"}, {"receipt", "signed"}, {"signed_by", "张三"}}, clerk, now),
              StatusIs(kInvalidArgument, HasSubstr("fields.served_on: not a date")));
  EXPECT_THAT(l.Do("serve", {{"served_on", "2025-02-30"}, {"method", "in_person"}, {"receipt", "signed"}, {"signed_by", "张三"}}, clerk, now),
              StatusIs(kInvalidArgument, HasSubstr("fields.served_on: not a date")));
  EXPECT_THAT(l.Do("serve", {{"served_on", l.Today()}, {"method", "pigeon"}}, clerk, now),
              StatusIs(kInvalidArgument, HasSubstr("fields.method: \"pigeon\" is not one of")));
  Life h = DriveTo("in_handling");
  now = h.now + absl::Hours(1);
  Actor officer = Officer("dist");
  EXPECT_THAT(h.Do("decide", {{"outcome", "support"}, {"decision_text", "   "}}, officer, now),
              StatusIs(kInvalidArgument, HasSubstr("fields.decision_text: must not be empty")));
  EXPECT_THAT(h.Do("decide", {{"outcome", "support"}, {"decision_text", "\xff\xfe"}}, officer, now),
              StatusIs(kInvalidArgument, HasSubstr("fields.decision_text: not valid UTF-8")));
  // 4000 code points of three bytes each are fine, 4001 are not.
  std::string text;
  for (int i = 0; i < 4000; ++i) text += "字";
  EXPECT_THAT(h.Do("decide", {{"outcome", "support"}, {"decision_text", text}}, officer, now),
              IsOk());
  Life h2 = DriveTo("in_handling");
  EXPECT_THAT(
      h2.Do("decide", {{"outcome", "support"}, {"decision_text", text + "字"}}, officer, now),
      StatusIs(kInvalidArgument, HasSubstr("fields.decision_text: longer than 4000")));
  EXPECT_THAT(h2.Do("request_extension", {{"reason", "r"}, {"days", "ten"}}, officer, now),
              StatusIs(kInvalidArgument, HasSubstr("fields.days: not a whole number")));
  EXPECT_THAT(h2.Do("request_extension", {{"reason", "r"}, {"days", "0"}}, officer, now),
              StatusIs(kInvalidArgument, HasSubstr("fields.days: 0 is outside 1..30")));
  EXPECT_THAT(h2.Do("assign_officer", {{"officer", "two words"}}, Head("dist"), now),
              StatusIs(kInvalidArgument, HasSubstr("fields.officer")));
  Life r = DriveTo("registered");
  EXPECT_THAT(r.Do("route_legal", {{"channel", "court"}}, Clerk("dist"), r.now),
              StatusIs(kInvalidArgument, HasSubstr("fields.channel")));
  EXPECT_THAT(
      r.Do("direct_elsewhere", {{"competent_body", std::string(201, 'x')}}, Clerk("dist"), r.now),
      StatusIs(kInvalidArgument, HasSubstr("longer than 200")));
}

// ---- Whole lives ----

TEST_F(EngineTest, SimpleLifeFromAcceptanceToClosing) {
  Life l;
  CaseStart start;
  start.received_at = At(2025, 3, 3, 9);
  start.registering_unit = "dist";
  ASSERT_TRUE(l.Start(start, At(2025, 3, 3, 9, 30)));
  EXPECT_EQ(l.c.state, "registered");
  EXPECT_THAT(Kinds(l.last.events), ElementsAre("registered"));
  ASSERT_EQ(l.last.timers_set.size(), 1u);
  EXPECT_EQ(l.last.timers_set[0].name, "intake_notice");

  l.Must("accept", {{"notice", "受理告知书"}}, Clerk("dist"), At(2025, 3, 4));
  EXPECT_EQ(l.c.accepted_at, At(2025, 3, 4));
  EXPECT_THAT(l.last.timers_cancelled, ElementsAre("intake_notice"));
  ASSERT_EQ(l.last.notices.size(), 1u);
  EXPECT_EQ(l.last.notices[0].kind, "petitioner");
  EXPECT_EQ(l.Timer("handling").deadline.due_day,
            absl::CivilDay(2025, 5, 6));  // 5/3 in the May break

  l.Must("assign_officer", {{"officer", "officer1"}}, Head("dist"), At(2025, 3, 5));
  EXPECT_EQ(l.c.case_officer, "officer1");
  EXPECT_THAT(l.last.timers_set, IsEmpty());  // the handling clock runs on
  l.Must("decide", {{"outcome", "explain"}, {"decision_text", "解释说明"}}, Officer("dist"),
         At(2025, 3, 20));
  EXPECT_EQ(l.c.outcome, "explain");
  EXPECT_EQ(l.c.decided_at, At(2025, 3, 20));
  EXPECT_THAT(l.last.timers_cancelled, ElementsAre("handling"));
  l.Must("serve", {{"served_on", "2025-03-21"}, {"method", "in_person"}, {"receipt", "signed"}, {"signed_by", "张三"}}, Clerk("dist"), At(2025, 3, 21, 15));
  l.Must("evaluate", {{"rating", "basically_satisfied"}, {"office_rating", "satisfied"}, {"channel", "visit"}}, Clerk("dist"), At(2025, 3, 22));
  EXPECT_EQ(l.c.evaluation, "basically_satisfied");
  l.Must("close", {}, Officer("dist"), At(2025, 3, 23));
  EXPECT_EQ(l.c.state, "closed");
  EXPECT_EQ(l.c.closed_at, At(2025, 3, 23));
  EXPECT_THAT(l.c.timers, IsEmpty());
  EXPECT_THAT(l.last.timers_cancelled, ElementsAre("review_request"));
  EXPECT_THAT(l.Do("request_review", {{"reasons", "x"}}, Clerk("city"), At(2025, 3, 24)),
              StatusIs(kFailedPrecondition, HasSubstr("case is final")));
  EXPECT_THAT(Replay(engine(), l.steps, Org()), xinfang::testing::IsOkAndHolds(l.c));
}

TEST_F(EngineTest, CloseNeedsASatisfiedPetitioner) {
  Life l = DriveTo("served");
  l.Must("evaluate", {{"rating", "dissatisfied"}, {"rating_reason", "未解决"}, {"office_rating", "satisfied"}, {"channel", "letter"}}, Clerk("dist"));
  EXPECT_THAT(l.Do("close", {}, Officer("dist"), l.NextDay()),
              StatusIs(kFailedPrecondition, HasSubstr("evaluation")));
  EXPECT_THAT(engine().Available(l.c, Officer("dist"), l.NextDay(), Org()),
              Not(Contains(def().FindAction("close"))));
}

TEST_F(EngineTest, TheEvaluationRatesTwoTargetsEachWithItsReasonWhenDissatisfied) {
  Life l = DriveTo("served");
  const absl::Time now = l.NextDay();
  // A 不满意 without its reason is refused, naming the reason's field.
  EXPECT_THAT(l.Do("evaluate",
                   {{"rating", "dissatisfied"}, {"office_rating", "satisfied"}, {"channel", "call"}},
                   Clerk("dist"), now),
              StatusIs(kInvalidArgument,
                       "fields.rating_reason: required when rating is \"dissatisfied\""));
  EXPECT_THAT(l.Do("evaluate_online", {{"rating", "satisfied"}, {"office_rating", "dissatisfied"}},
                   Actor{"petitioner", xinfang::v1::ROLE_PETITIONER, ""}, now),
              StatusIs(kInvalidArgument, HasSubstr("fields.office_rating_reason: required")));
  EXPECT_THAT(l.Do("evaluate", {{"rating", "satisfied"}, {"channel", "call"}}, Clerk("dist"), now),
              StatusIs(kInvalidArgument, "fields.office_rating: required"));
  // Staff record the channel, one of the definition's.
  EXPECT_THAT(l.Do("evaluate",
                   {{"rating", "satisfied"}, {"office_rating", "satisfied"}, {"channel", "pigeon"}},
                   Clerk("dist"), now),
              StatusIs(kInvalidArgument, HasSubstr("fields.channel")));
  EXPECT_THAT(l.Do("evaluate_online", {{"rating", "satisfied"}, {"office_rating", "satisfied"}},
                   Clerk("dist"), now),
              StatusIs(kPermissionDenied, HasSubstr("may not take action")));
  // The petitioner rates each target on its own.
  l.Must("evaluate_online",
         {{"rating", "basically_satisfied"},
          {"office_rating", "dissatisfied"},
          {"office_rating_reason", "接待态度差"}},
         Actor{"petitioner", xinfang::v1::ROLE_PETITIONER, ""}, now);
  EXPECT_EQ(l.c.state, "evaluated");
  EXPECT_EQ(l.c.evaluation, "basically_satisfied");
  EXPECT_EQ(l.c.office_evaluation, "dissatisfied");
  EXPECT_EQ(l.last.events[0].fields.at("office_rating_reason"), "接待态度差");
  // Closing follows the handling body's rating.
  l.Must("close", {}, Officer("dist"), l.NextDay());
  // A lapsed window: both targets lapse.
  Life lapse = DriveTo("served");
  ASSERT_THAT(lapse.Fire("evaluation", At(2026, 1, 1)), IsOk());
  EXPECT_EQ(lapse.c.evaluation, "lapsed");
  EXPECT_EQ(lapse.c.office_evaluation, "lapsed");
}

TEST_F(EngineTest, ReviewAndRecheckBodiesAreDecidedInOnePlace) {
  Life l = DriveTo("served");  // at dist, below city, below prov
  EXPECT_THAT(ReviewBody(l.c, Org()), xinfang::testing::IsOkAndHolds(std::string("city")));
  l.c.complained_about_unit = "city";
  EXPECT_THAT(ReviewBody(l.c, Org()), StatusIs(kFailedPrecondition, HasSubstr("Art. 30")));
  l.c.complained_about_unit.clear();
  l.c.review_unit = "city";
  EXPECT_THAT(RecheckBody(l.c, Org()), xinfang::testing::IsOkAndHolds(std::string("prov")));
  l.c.complained_about_unit = "prov";
  EXPECT_THAT(RecheckBody(l.c, Org()), StatusIs(kFailedPrecondition, HasSubstr("Art. 30")));
  l.c.review_unit = "prov";
  l.c.complained_about_unit.clear();
  EXPECT_THAT(RecheckBody(l.c, Org()), StatusIs(kFailedPrecondition, HasSubstr("has none")));
  // The effect asks the same place: the review unit recorded is its answer.
  Life r = DriveTo("served");
  r.Must("request_review", {{"reasons", "不服"}}, Clerk("dist"), r.NextDay());
  EXPECT_EQ(r.c.review_unit, *ReviewBody(DriveTo("served").c, Org()));
}

TEST_F(EngineTest, ReviewAndRecheckWithAHearingThatStopsTheClock) {
  Life l = DriveTo("served");  // served at dist on 3/7
  // Review goes to the next-higher body.
  l.Must("request_review", {{"reasons", "不服处理意见"}}, Clerk("dist"), At(2025, 3, 10));
  EXPECT_EQ(l.c.review_unit, "city");
  EXPECT_EQ(l.Timer("review_answer").deadline.due_day, absl::CivilDay(2025, 4, 9));
  EXPECT_THAT(l.Do("review_opinion", {{"review_outcome", "upheld"}, {"opinion_text", "维持"}},
                   Officer("dist"), At(2025, 3, 11)),
              StatusIs(kPermissionDenied, HasSubstr("review unit")));
  EXPECT_THAT(l.Do("review_opinion", {{"review_outcome", "upheld"}, {"opinion_text", "维持"}},
                   Officer("prov"), At(2025, 3, 11)),
              StatusIs(kPermissionDenied));
  l.Must("review_opinion", {{"review_outcome", "upheld"}, {"opinion_text", "维持"}},
         Officer("city", "reviewer"), At(2025, 3, 11));
  l.Must("serve_review", {{"served_on", "2025-03-12"}, {"method", "in_person"}, {"receipt", "signed"}, {"signed_by", "张三"}}, Clerk("city"), At(2025, 3, 13));
  EXPECT_EQ(l.Timer("recheck_request").deadline.due_day, absl::CivilDay(2025, 4, 11));
  // Re-check goes to the body above the reviewer.
  l.Must("request_recheck", {{"reasons", "仍不服"}}, Clerk("city"), At(2025, 3, 17));
  EXPECT_EQ(l.c.recheck_unit, "prov");
  // 3/17 + 30 = 4/16 (Wednesday).
  EXPECT_EQ(l.Timer("recheck_answer").deadline.due_day, absl::CivilDay(2025, 4, 16));
  EXPECT_THAT(l.Do("start_hearing", {}, Officer("city", "reviewer"), At(2025, 3, 20)),
              StatusIs(kPermissionDenied, HasSubstr("re-check unit")));
  l.Must("start_hearing", {}, Head("prov"), At(2025, 3, 20));
  EXPECT_EQ(l.c.state, "recheck_hearing");
  ASSERT_TRUE(l.Timer("recheck_answer").suspended_at.has_value());
  EXPECT_EQ(engine().NextFireAt(l.Timer("recheck_answer")), std::nullopt);
  // A stopped clock does not fire, however late.
  absl::StatusOr<Decision> idle = engine().Fire(l.c, "recheck_answer", At(2025, 6, 1), Org());
  ASSERT_THAT(idle, IsOk());
  EXPECT_THAT(idle->events, IsEmpty());
  // The hearing lasts from 3/20 to 3/27: seven days added back → 4/23.
  l.Must("end_hearing", {}, Head("prov"), At(2025, 3, 27));
  EXPECT_FALSE(l.Timer("recheck_answer").suspended_at.has_value());
  EXPECT_EQ(l.Timer("recheck_answer").deadline.due_day, absl::CivilDay(2025, 4, 23));
  EXPECT_THAT(l.Do("recheck_opinion", {{"recheck_outcome", "changed"}, {"opinion_text", "变更"}},
                   Officer("city"), At(2025, 3, 28)),
              StatusIs(kPermissionDenied));
  l.Must("recheck_opinion", {{"recheck_outcome", "changed"}, {"opinion_text", "变更"}},
         Officer("prov", "rechecker"), At(2025, 3, 28));
  l.Must("serve_recheck", {{"served_on", "2025-03-28"}, {"method", "in_person"}, {"receipt", "signed"}, {"signed_by", "张三"}}, Clerk("prov"), At(2025, 3, 29));
  EXPECT_EQ(l.c.state, "closed");
  EXPECT_TRUE(l.c.flags.count("final_after_recheck"));
  EXPECT_EQ(l.c.attributes.at("recheck_outcome"), "changed");
  EXPECT_THAT(Replay(engine(), l.steps, Org()), xinfang::testing::IsOkAndHolds(l.c));
}

// What storage records beside the snapshot is the engine's to say: every
// decision carries the facts of its next case.
TEST_F(EngineTest, DecisionsCarryWhoOwesEachDeadlineAndWhenItFires) {
  Life l = DriveTo("served");  // served at dist on 3/7
  EXPECT_EQ(l.last.facts, engine().Facts(l.c));
  EXPECT_EQ(l.last.facts.stage, xinfang::v1::STAGE_EVALUATION);
  EXPECT_FALSE(l.last.facts.final);
  l.Must("request_review", {{"reasons", "不服处理意见"}}, Clerk("dist"), At(2025, 3, 10));
  const CaseFacts& review = l.last.facts;
  EXPECT_EQ(review, engine().Facts(l.c));
  EXPECT_EQ(review.stage, xinfang::v1::STAGE_REVIEW);
  ASSERT_EQ(review.timers.size(), l.c.timers.size());
  // Runs only in review states: the review unit owes it.
  EXPECT_EQ(review.timers.at("review_answer").owing_unit, "city");
  EXPECT_EQ(review.timers.at("review_answer").fire_at,
            engine().NextFireAt(l.Timer("review_answer")));
  // Positions follow the definition, as the snapshot's timers do.
  int last_position = -1;
  for (const TimerState& t : l.c.timers) {
    const int position = review.timers.at(t.name).position;
    EXPECT_GT(position, last_position) << t.name;
    EXPECT_EQ(def().proto().timers(position).name(), t.name);
    last_position = position;
  }
  l.Must("review_opinion", {{"review_outcome", "upheld"}, {"opinion_text", "维持"}},
         Officer("city", "reviewer"), At(2025, 3, 11));
  l.Must("serve_review", {{"served_on", "2025-03-12"}, {"method", "in_person"}, {"receipt", "signed"}, {"signed_by", "张三"}}, Clerk("city"), At(2025, 3, 13));
  l.Must("request_recheck", {{"reasons", "仍不服"}}, Clerk("city"), At(2025, 3, 17));
  EXPECT_EQ(l.last.facts.timers.at("recheck_answer").owing_unit, "prov");
  l.Must("start_hearing", {}, Head("prov"), At(2025, 3, 20));
  // A stopped clock fires nothing.
  EXPECT_EQ(l.last.facts.timers.at("recheck_answer").fire_at, std::nullopt);
  // A stale fire still says what the case is.
  absl::StatusOr<Decision> idle = engine().Fire(l.c, "recheck_answer", At(2025, 6, 1), Org());
  ASSERT_THAT(idle, IsOk());
  EXPECT_EQ(idle->facts, l.last.facts);
  l.Must("end_hearing", {}, Head("prov"), At(2025, 3, 27));
  l.Must("recheck_opinion", {{"recheck_outcome", "changed"}, {"opinion_text", "变更"}},
         Officer("prov", "rechecker"), At(2025, 3, 28));
  l.Must("serve_recheck", {{"served_on", "2025-03-28"}, {"method", "in_person"}, {"receipt", "signed"}, {"signed_by", "张三"}}, Clerk("prov"), At(2025, 3, 29));
  EXPECT_TRUE(l.last.facts.final);
  EXPECT_THAT(l.last.facts.timers, IsEmpty());

  // A sweeper's several due timers, fired as one decision: the facts are
  // those of the case after all of them.
  Life lapse = DriveTo("served");
  absl::StatusOr<Decision> all =
      engine().FireAll(lapse.c, {"evaluation", "evaluation"}, At(2026, 1, 1), Org());
  ASSERT_THAT(all, IsOk());
  EXPECT_THAT(all->events, Not(IsEmpty()));
  EXPECT_NE(all->next.state, lapse.c.state);
  EXPECT_EQ(all->facts, engine().Facts(all->next));
  EXPECT_NE(all->facts, lapse.last.facts);
}

TEST_F(EngineTest, ReviewNeedsAHigherBody) {
  Life l;
  CaseStart start;
  start.received_at = At(2025, 3, 3, 9);
  start.registering_unit = "prov";
  ASSERT_TRUE(l.Start(start, At(2025, 3, 3, 9, 30)));
  l.Must("accept", {}, Clerk("prov"));
  l.Must("assign_officer", {{"officer", "officer1"}}, Head("prov"));
  l.Must("decide", {{"outcome", "not_supported"}, {"decision_text", "不予支持"}}, Officer("prov"));
  l.Must("serve", {{"served_on", Day(cal().LocalDay(l.NextDay()))}, {"method", "in_person"}, {"receipt", "signed"}, {"signed_by", "张三"}}, Clerk("prov"));
  EXPECT_THAT(l.Do("request_review", {{"reasons", "x"}}, Clerk("prov"), l.NextDay()),
              StatusIs(kFailedPrecondition, HasSubstr("next-higher body")));
}

// ---- Deadlines ----

TEST_F(EngineTest, DeadlinesCountFromReceiptNotRegistration) {
  // procedure.md: received 2025-09-20, 15 days → 10/05 in the National Day
  // break → rolls to 10/09. Registered three days later: same deadline.
  Life l;
  CaseStart start;
  start.received_at = At(2025, 9, 20, 16);
  start.registering_unit = "dist";
  ASSERT_TRUE(l.Start(start, At(2025, 9, 23, 9)));
  const TimerState& t = l.Timer("intake_notice");
  EXPECT_EQ(t.started_at, At(2025, 9, 20, 16));
  EXPECT_EQ(t.deadline.due_day, absl::CivilDay(2025, 10, 9));
  EXPECT_EQ(t.deadline.due_at, At(2025, 10, 10, 0));
  EXPECT_EQ(t.warn_at, At(2025, 10, 7, 0));  // three days' lead
  EXPECT_FALSE(t.deadline.provisional);
}

TEST_F(EngineTest, StartRefusesAFutureReceipt) {
  CaseStart start;
  start.received_at = At(2025, 3, 4);
  start.registering_unit = "dist";
  EXPECT_THAT(engine().Start(start, Clerk("dist"), At(2025, 3, 3)),
              StatusIs(kInvalidArgument, HasSubstr("received_at")));
}

TEST_F(EngineTest, AnonymousCasesOweNoNotice) {
  Life l;
  CaseStart start;
  start.received_at = At(2025, 3, 3, 9);
  start.registering_unit = "dist";
  start.anonymous = true;
  ASSERT_TRUE(l.Start(start, At(2025, 3, 3, 10)));
  EXPECT_TRUE(l.c.flags.count("anonymous"));
  EXPECT_EQ(l.c.FindTimer("intake_notice"), nullptr);
  l.Must("accept", {}, Clerk("dist"));
  EXPECT_THAT(l.last.notices, IsEmpty());
  EXPECT_NE(l.c.FindTimer("handling"), nullptr);
}

TEST_F(EngineTest, WindowsStartAtServiceNotAtDecision) {
  Life l = DriveTo("in_handling");
  l.Must("decide", {{"outcome", "support"}, {"decision_text", "支持"}}, Officer("dist"),
         At(2025, 3, 10));
  Actor clerk = Clerk("dist");
  EXPECT_THAT(l.Do("serve", {{"served_on", "2025-03-09"}, {"method", "in_person"}, {"receipt", "signed"}, {"signed_by", "张三"}}, clerk, At(2025, 3, 14)),
              StatusIs(kInvalidArgument, HasSubstr("fields.served_on: 2025-03-09 is before")));
  EXPECT_THAT(l.Do("serve", {{"served_on", "2025-03-15"}, {"method", "in_person"}, {"receipt", "signed"}, {"signed_by", "张三"}}, clerk, At(2025, 3, 14)),
              StatusIs(kInvalidArgument, HasSubstr("in the future")));
  // A snapshot loaded without state_entered_at still keeps served_on after the decision.
  CaseSnapshot loaded = l.c;
  loaded.state_entered_at = absl::Time();
  EXPECT_THAT(engine().Apply(loaded, {"serve", {{"served_on", "2025-03-09"}, {"method", "in_person"}, {"receipt", "signed"}, {"signed_by", "张三"}}, "", {}}, clerk,
                             At(2025, 3, 14), Org()),
              StatusIs(kInvalidArgument, HasSubstr("before the decision")));
  l.Must("serve", {{"served_on", "2025-03-12"}, {"method", "in_person"}, {"receipt", "signed"}, {"signed_by", "张三"}}, clerk, At(2025, 3, 14));
  EXPECT_EQ(l.c.served_at, At(2025, 3, 12, 0));
  EXPECT_EQ(l.Timer("evaluation").started_at, At(2025, 3, 12, 0));
  EXPECT_EQ(l.Timer("evaluation").deadline.due_day, absl::CivilDay(2025, 3, 19));
  EXPECT_EQ(l.Timer("review_request").deadline.due_day, absl::CivilDay(2025, 4, 11));
  // Evaluation is in time on 3/19 and refused on 3/20.
  EXPECT_THAT(l.Do("evaluate", {{"rating", "satisfied"}, {"office_rating", "satisfied"}, {"channel", "call"}}, clerk, At(2025, 3, 20, 8)),
              StatusIs(kFailedPrecondition, HasSubstr("window \"evaluation\" closed")));
  EXPECT_THAT(l.Do("evaluate", {{"rating", "satisfied"}, {"office_rating", "satisfied"}, {"channel", "call"}}, clerk, At(2025, 3, 19, 23, 59)), IsOk());
}

TEST_F(EngineTest, EvaluationLapseAndWindowLapseMakeTheDecisionFinal) {
  Life l = DriveTo("in_handling");
  l.Must("decide", {{"outcome", "support"}, {"decision_text", "支持"}}, Officer("dist"),
         At(2025, 3, 10));
  l.Must("serve", {{"served_on", "2025-03-12"}, {"method", "in_person"}, {"receipt", "signed"}, {"signed_by", "张三"}}, Clerk("dist"), At(2025, 3, 14));
  EXPECT_EQ(engine().NextFireAt(l.Timer("evaluation")), At(2025, 3, 18, 0));  // 2 days' lead
  ASSERT_THAT(l.Fire("evaluation", At(2025, 3, 20, 0)), IsOk());
  EXPECT_THAT(Kinds(l.last.events),
              ElementsAre("deadline_warning", "deadline_overdue", "evaluation_lapse"));
  EXPECT_EQ(l.c.state, "evaluated");
  EXPECT_EQ(l.c.evaluation, "lapsed");
  EXPECT_THAT(l.last.timers_cancelled, ElementsAre("evaluation"));
  EXPECT_THAT(l.Do("close", {}, Officer("dist"), At(2025, 3, 21)),
              StatusIs(kFailedPrecondition));  // lapsed is not satisfied
  // The review window is still open until 4/11, then the decision is final.
  EXPECT_EQ(engine().NextFireAt(l.Timer("review_request")), At(2025, 4, 9, 0));
  ASSERT_THAT(l.Fire("review_request", At(2025, 4, 12, 0)), IsOk());
  EXPECT_THAT(Kinds(l.last.events),
              ElementsAre("deadline_warning", "deadline_overdue", "review_window_lapse"));
  EXPECT_EQ(l.c.state, "closed");
  EXPECT_TRUE(l.c.flags.count("final_after_decision"));
  EXPECT_THAT(l.c.timers, IsEmpty());
  EXPECT_THAT(l.Do("request_review", {{"reasons", "迟了"}}, Clerk("dist"), At(2025, 4, 12, 9)),
              StatusIs(kFailedPrecondition, HasSubstr("case is final")));
  EXPECT_THAT(Replay(engine(), l.steps, Org()), xinfang::testing::IsOkAndHolds(l.c));
}

TEST_F(EngineTest, ReviewRequestRefusedAfterItsWindow) {
  Life l = DriveTo("served");
  const TimerState& t = l.Timer("review_request");
  EXPECT_THAT(l.Do("request_review", {{"reasons", "x"}}, Clerk("dist"), t.deadline.due_at),
              StatusIs(kFailedPrecondition, HasSubstr("window \"review_request\" closed")));
}

TEST_F(EngineTest, UnusedRecheckWindowMakesTheReviewFinal) {
  Life l = DriveTo("review_served");
  const TimerState t = l.Timer("recheck_request");
  ASSERT_THAT(l.Fire("recheck_request", t.deadline.due_at), IsOk());
  EXPECT_EQ(l.c.state, "closed");
  EXPECT_TRUE(l.c.flags.count("final_after_review"));
  EXPECT_FALSE(l.c.flags.count("final_after_recheck"));
}

// ---- Extension ----

TEST_F(EngineTest, ExtensionOnceByTheUnitHeadUpToThirtyDays) {
  Life l;
  CaseStart start;
  start.received_at = At(2025, 6, 9, 9);
  start.registering_unit = "dist";
  ASSERT_TRUE(l.Start(start, At(2025, 6, 9, 10)));
  l.Must("accept", {}, Clerk("dist"), At(2025, 6, 10));
  // 6/10 + 60 = 8/9, a Saturday → Monday 8/11.
  EXPECT_EQ(l.Timer("handling").deadline.due_day, absl::CivilDay(2025, 8, 11));
  l.Must("assign_officer", {{"officer", "officer1"}}, Head("dist"), At(2025, 6, 11));
  EXPECT_THAT(l.Do("request_extension", {{"reason", "复杂"}, {"days", "31"}}, Officer("dist"),
                   At(2025, 8, 1)),
              StatusIs(kInvalidArgument, HasSubstr("fields.days")));
  l.Must("request_extension", {{"reason", "案情复杂"}, {"days", "30"}}, Officer("dist"),
         At(2025, 8, 1));
  std::map<std::string, std::string> approval{{"days", "30"}, {"petitioner_told_on", "2025-08-02"}};
  EXPECT_THAT(l.Do("approve_extension", approval, Officer("dist"), At(2025, 8, 2)),
              StatusIs(kPermissionDenied));
  EXPECT_THAT(l.Do("approve_extension", {{"days", "31"}, {"petitioner_told_on", "2025-08-02"}},
                   Head("dist"), At(2025, 8, 2)),
              StatusIs(kInvalidArgument, HasSubstr("fields.days: 31 is outside 1..30")));
  EXPECT_THAT(l.Do("approve_extension", {{"days", "30"}}, Head("dist"), At(2025, 8, 2)),
              StatusIs(kInvalidArgument, HasSubstr("fields.petitioner_told_on: required")));
  l.Must("approve_extension", approval, Head("dist"), At(2025, 8, 2));
  // The period is lengthened, not the rolled day moved: 6/10 + 90 = Monday 9/8
  // (from the rolled 8/11 it would have been 9/10).
  const TimerState& t = l.Timer("handling");
  EXPECT_EQ(t.deadline.due_day, absl::CivilDay(2025, 9, 8));
  EXPECT_EQ(t.warn_at, At(2025, 9, 2, 0));
  EXPECT_TRUE(t.extended);
  EXPECT_TRUE(l.c.flags.count("extended"));
  ASSERT_EQ(l.last.timers_set.size(), 1u);
  EXPECT_EQ(l.last.timers_set[0].deadline.due_day, absl::CivilDay(2025, 9, 8));
  EXPECT_THAT(Kinds(l.last.events), ElementsAre("approve_extension"));
  // A second extension is refused, by the flag and by the timer itself.
  EXPECT_THAT(l.Do("request_extension", {{"reason", "again"}, {"days", "5"}}, Officer("dist"),
                   At(2025, 8, 3)),
              StatusIs(kFailedPrecondition, HasSubstr("extended")));
  CaseSnapshot forged = l.c;
  forged.state = "extension_requested";
  forged.flags.erase("extended");
  EXPECT_THAT(engine().Apply(forged, {"approve_extension", approval, "", {}}, Head("dist"),
                             At(2025, 8, 3), Org()),
              StatusIs(kFailedPrecondition, HasSubstr("once")));
}

TEST_F(EngineTest, ExtensionMustBeAskedBeforeTheDeadline) {
  Life l = DriveTo("in_handling");
  absl::Time due = l.Timer("handling").deadline.due_at;
  EXPECT_THAT(l.Do("request_extension", {{"reason", "late"}, {"days", "10"}}, Officer("dist"), due),
              StatusIs(kFailedPrecondition, HasSubstr("window \"handling\" closed")));
  EXPECT_THAT(l.Do("request_extension", {{"reason", "in time"}, {"days", "10"}}, Officer("dist"),
                   due - absl::Seconds(1)),
              IsOk());
}

// ---- Forward, assign, objection ----

TEST_F(EngineTest, ForwardAndAssignOnlyToALowerUnit) {
  for (const std::string action : {"forward", "assign"}) {
    SCOPED_TRACE(action);
    Life l;
    CaseStart start;
    start.received_at = At(2025, 3, 3, 9);
    start.registering_unit = "city";
    ASSERT_TRUE(l.Start(start, At(2025, 3, 3, 10)));
    for (const std::string bad : {"city", "city2", "prov", "nowhere"}) {
      EXPECT_THAT(l.Do(action, {{"target_unit", bad}}, Clerk("city"), At(2025, 3, 3, 11)),
                  StatusIs(kFailedPrecondition, HasSubstr("lower body")))
          << bad;
    }
    l.Must(action, {{"target_unit", "street"}}, Clerk("city"), At(2025, 3, 3, 11));
    EXPECT_EQ(l.c.responsible_unit, "street");
    EXPECT_EQ(l.c.forwarder_unit, "city");
    EXPECT_TRUE(l.c.flags.count("forwarded_in"));
    EXPECT_EQ(l.c.flags.count("assigned_in"), action == "assign" ? 1u : 0u);
    // A unit that is neither the responsible unit nor above it may not act.
    EXPECT_THAT(l.Do("accept", {}, Clerk("dist2"), At(2025, 3, 3, 12)),
                StatusIs(kPermissionDenied));
  }
}

TEST_F(EngineTest, ObjectionWithinFiveWorkingDaysOfTheForwardedMatter) {
  // procedure.md: forwarded matter received Friday 2025-09-26 → 5 working
  // days: 9/28 (make-up Sunday), 9/29, 9/30, 10/9, 10/10.
  Life l;
  CaseStart start;
  start.received_at = At(2025, 9, 24, 9);
  start.registering_unit = "city";
  ASSERT_TRUE(l.Start(start, At(2025, 9, 24, 10)));
  EXPECT_EQ(l.c.FindTimer("objection"), nullptr);  // not a forwarded matter
  EXPECT_THAT(l.Do("object", {{"reasons", "x"}}, Clerk("city"), At(2025, 9, 25)),
              StatusIs(kFailedPrecondition, HasSubstr("forwarded_in")));
  l.Must("forward", {{"target_unit", "dist"}}, Clerk("city"), At(2025, 9, 26, 15));
  EXPECT_EQ(l.Timer("objection").deadline.due_day, absl::CivilDay(2025, 10, 10));
  EXPECT_EQ(l.Timer("objection").warn_at, At(2025, 10, 10, 0));
  // The intake notice restarts at the forwarded receipt: 9/26 + 15 = 10/11, a make-up working day.
  EXPECT_EQ(l.Timer("intake_notice").started_at, At(2025, 9, 26, 15));
  EXPECT_EQ(l.Timer("intake_notice").deadline.due_day, absl::CivilDay(2025, 10, 11));

  Life late = l;
  EXPECT_THAT(late.Do("object", {{"reasons", "不属于本单位"}}, Clerk("dist"), At(2025, 10, 11, 8)),
              StatusIs(kFailedPrecondition, HasSubstr("window \"objection\" closed")));
  l.Must("object", {{"reasons", "不属于本单位"}}, Clerk("dist"), At(2025, 10, 10, 17));
  EXPECT_EQ(l.c.state, "objection_pending");
  EXPECT_NE(l.c.FindTimer("intake_notice"), nullptr);  // the notice is still owed

  // Only the sender decides.
  EXPECT_THAT(l.Do("objection_agreed", {}, Clerk("dist"), At(2025, 10, 11, 9)),
              StatusIs(kPermissionDenied, HasSubstr("forwarding unit")));
  Life refused = l;
  refused.Must("objection_refused", {{"reason", "属于你单位"}}, Clerk("city"), At(2025, 10, 11, 9));
  EXPECT_EQ(refused.c.state, "registered");
  EXPECT_EQ(refused.c.responsible_unit, "dist");
  EXPECT_EQ(refused.c.FindTimer("objection"), nullptr);
  EXPECT_THAT(refused.Do("object", {{"reasons", "again"}}, Clerk("dist"), At(2025, 10, 11, 10)),
              StatusIs(kFailedPrecondition, HasSubstr("objected")));

  // A snapshot loaded without unit_received_at counts "receipt" from received_at.
  CaseSnapshot loaded = refused.c;
  loaded.unit_received_at = absl::Time();
  loaded.timers.clear();
  absl::StatusOr<Decision> again = Engine::Migrate(loaded, engine(), {}, At(2025, 10, 12));
  ASSERT_THAT(again, IsOk());
  ASSERT_NE(again->next.FindTimer("intake_notice"), nullptr);
  EXPECT_EQ(again->next.FindTimer("intake_notice")->started_at, At(2025, 9, 24, 9));

  l.Must("objection_agreed", {}, Head("city"), At(2025, 10, 11, 9));
  EXPECT_EQ(l.c.state, "registered");
  EXPECT_EQ(l.c.responsible_unit, "city");
  EXPECT_EQ(l.c.forwarder_unit, "");
  EXPECT_FALSE(l.c.flags.count("forwarded_in"));
  EXPECT_EQ(l.c.FindTimer("objection"), nullptr);
  EXPECT_EQ(l.Timer("intake_notice").started_at, At(2025, 10, 11, 9));
}

// ---- Officers ----

TEST_F(EngineTest, ConflictOfInterestBlocksAssignment) {
  Life l = DriveTo("accepted");
  l.c.conflicted_accounts = {"officer_x"};
  EXPECT_THAT(l.Do("assign_officer", {{"officer", "officer_x"}}, Head("dist"), l.NextDay()),
              StatusIs(kFailedPrecondition, HasSubstr("Art. 28")));
  EXPECT_THAT(l.Do("assign_officer", {{"officer", "officer_y"}}, Head("dist"), l.NextDay()),
              IsOk());
}

// Declaring the conflict is itself an action: the case stays where it is, the
// declared account cannot be assigned, and an assigned officer steps aside.
TEST_F(EngineTest, DeclaredConflictIsRecordedAndTheOfficerStepsAside) {
  Life l = DriveTo("accepted");
  ASSERT_THAT(l.Do("assign_officer", {{"officer", "officer_x"}}, Head("dist"), l.NextDay()), IsOk());
  ASSERT_EQ(l.c.state, "in_handling");
  ASSERT_EQ(l.c.case_officer, "officer_x");
  ASSERT_THAT(l.Do("declare_conflict", {{"account", "officer_x"}, {"reason", "与被反映单位负责人系亲属"}},
                   Head("dist"), l.NextDay()),
              IsOk());
  EXPECT_EQ(l.c.state, "in_handling");
  EXPECT_EQ(l.c.case_officer, "");
  EXPECT_THAT(l.c.conflicted_accounts, ElementsAre("officer_x"));
  ASSERT_EQ(l.last.events.size(), 1u);
  EXPECT_EQ(l.last.events[0].from_state, "in_handling");
  EXPECT_EQ(l.last.events[0].to_state, "in_handling");
  EXPECT_THAT(l.Do("assign_officer", {{"officer", "officer_x"}}, Head("dist"), l.NextDay()),
              StatusIs(kFailedPrecondition, HasSubstr("Art. 28")));
  EXPECT_THAT(l.Do("declare_conflict", {{"account", "officer_y"}}, Head("dist"), l.NextDay()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("reason")));
  // Only the person themself, or the unit head, declares a conflict.
  EXPECT_THAT(l.Do("declare_conflict", {{"account", "officer_y"}, {"reason", "亲属"}},
                   Clerk("dist"), l.NextDay()),
              StatusIs(kPermissionDenied, HasSubstr("declare your own")));
  EXPECT_THAT(l.Do("declare_conflict", {{"account", "clerk_dist"}, {"reason", "亲属"}},
                   Clerk("dist"), l.NextDay()),
              IsOk());
}

TEST(DefinitionStayTest, AStayActionMayNotNameAToState) {
  auto d = Definition::Parse(R"pb(
    name: "t" version: 1 initial_state: "a"
    states { name: "a" stage: STAGE_INTAKE }
    states { name: "z" stage: STAGE_FINAL final: true }
    actions { name: "go" from: "a" to: "z" roles: [ROLE_CASE_OFFICER] }
    actions { name: "note" from: "a" to: "z" stay: true roles: [ROLE_CASE_OFFICER] }
  )pb", "stay.textproto");
  EXPECT_THAT(d, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("stay action")));
}

// ---- Timers firing: warning, overdue, ladder ----

TEST_F(EngineTest, FireGivesWarningOverdueAndEachRungExactlyOnce) {
  Life l = DriveTo("in_handling");
  const TimerState t0 = l.Timer("handling");
  EXPECT_EQ(t0.deadline.due_day, absl::CivilDay(2025, 5, 6));  // accepted 3/4: 5/3 in the break
  absl::Time due = t0.deadline.due_at;
  absl::Time warn = t0.warn_at;
  EXPECT_EQ(warn, due - absl::Hours(24 * 7));
  EXPECT_EQ(engine().NextFireAt(t0), warn);

  ASSERT_THAT(l.Fire("handling", warn - absl::Seconds(1)), IsOk());
  EXPECT_THAT(l.last.events, IsEmpty());
  EXPECT_THAT(l.last.timers_set, IsEmpty());

  for (int repeat = 0; repeat < 2; ++repeat) {
    ASSERT_THAT(l.Fire("handling", warn), IsOk());
    std::vector<std::string> expected;
    if (repeat == 0) expected.push_back("deadline_warning");
    EXPECT_EQ(Kinds(l.last.events), expected) << repeat;
  }
  EXPECT_EQ(engine().NextFireAt(l.Timer("handling")), due);

  for (int repeat = 0; repeat < 2; ++repeat) {
    ASSERT_THAT(l.Fire("handling", due + absl::Hours(1)), IsOk());
    if (repeat == 0) {
      EXPECT_THAT(Kinds(l.last.events), ElementsAre("deadline_overdue", "escalated"));
      EXPECT_EQ(l.last.events[1].fields.at("rung"), "1");
      EXPECT_EQ(l.last.events[1].fields.at("recipient"), "officer1");
      ASSERT_EQ(l.last.notices.size(), 1u);
      EXPECT_EQ(l.last.notices[0].kind, "case_officer");
    } else {
      EXPECT_THAT(l.last.events, IsEmpty());
    }
  }
  EXPECT_TRUE(l.Timer("handling").overdue);
  EXPECT_EQ(engine().NextFireAt(l.Timer("handling")), due + absl::Hours(24 * 3));

  ASSERT_THAT(l.Fire("handling", due + absl::Hours(24 * 3)), IsOk());
  ASSERT_THAT(Kinds(l.last.events), ElementsAre("escalated"));
  EXPECT_EQ(l.last.events[0].fields.at("rung"), "2");
  EXPECT_EQ(l.last.notices.at(0).recipient, "dist");  // the unit head of the responsible unit
  EXPECT_EQ(engine().NextFireAt(l.Timer("handling")), due + absl::Hours(24 * 7));

  // Called late: rungs 3 and 4 at once, in order, then nothing more.
  ASSERT_THAT(l.Fire("handling", due + absl::Hours(24 * 40)), IsOk());
  ASSERT_THAT(Kinds(l.last.events), ElementsAre("escalated", "escalated"));
  EXPECT_EQ(l.last.events[0].fields.at("rung"), "3");
  EXPECT_EQ(l.last.events[1].fields.at("rung"), "4");
  ASSERT_EQ(l.last.notices.size(), 2u);
  EXPECT_EQ(l.last.notices[0].recipient, "city");  // supervising unit
  EXPECT_EQ(l.last.notices[1].recipient, "prov");  // top
  EXPECT_EQ(l.Timer("handling").rung, 4);
  EXPECT_EQ(engine().NextFireAt(l.Timer("handling")), std::nullopt);
  ASSERT_THAT(l.Fire("handling", due + absl::Hours(24 * 80)), IsOk());
  EXPECT_THAT(l.last.events, IsEmpty());
  EXPECT_THAT(Replay(engine(), l.steps, Org()), xinfang::testing::IsOkAndHolds(l.c));
}

TEST_F(EngineTest, OneLateFireGivesEverythingOnceInOrder) {
  Life l = DriveTo("review_requested");
  absl::Time due = l.Timer("review_answer").deadline.due_at;
  ASSERT_THAT(l.Fire("review_answer", due + absl::Hours(24 * 16)), IsOk());
  EXPECT_THAT(Kinds(l.last.events), ElementsAre("deadline_warning", "deadline_overdue", "escalated",
                                                "escalated", "escalated", "escalated"));
  // The review unit owes this deadline: the ladder starts there.
  std::vector<std::string> recipients;
  for (const Notice& n : l.last.notices) recipients.push_back(n.recipient);
  EXPECT_THAT(recipients, ElementsAre("city", "city", "city", "prov", "prov"));
  ASSERT_THAT(l.Fire("review_answer", due + absl::Hours(24 * 17)), IsOk());
  EXPECT_THAT(l.last.events, IsEmpty());
}

TEST_F(EngineTest, StaleFireIsHarmless) {
  Life l = DriveTo("decided");
  absl::StatusOr<Decision> d = engine().Fire(l.c, "handling", At(2026, 1, 1), Org());
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->next, l.c);
  EXPECT_THAT(d->events, IsEmpty());
  d = engine().Fire(l.c, "no_such_timer", At(2026, 1, 1), Org());
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->next, l.c);
}

TEST_F(EngineTest, ObjectionWindowExpiryDoesNotEscalate) {
  Life l = DriveTo("registered");
  absl::Time due = l.Timer("objection").deadline.due_at;
  ASSERT_THAT(l.Fire("objection", due + absl::Hours(24 * 30)), IsOk());
  EXPECT_THAT(Kinds(l.last.events), ElementsAre("deadline_warning", "deadline_overdue"));
  EXPECT_EQ(engine().NextFireAt(l.Timer("objection")), std::nullopt);
}

// ---- Rules across cases ----

TEST_F(EngineTest, Art19RefusesTheSameOpenMatterAtAHigherBody) {
  PriorCase prior;
  prior.tracking_number = "XF-2025-0001";
  prior.category = "wages.arrears";
  prior.complained_about = "某某公司";
  prior.responsible_unit = "dist";
  prior.state = "in_handling";
  prior.open = true;
  prior.due_at = At(2025, 5, 7, 0);
  NewMatter matter{"wages.arrears", " 某某公司 ", "city"};
  absl::Time now = At(2025, 4, 1);
  std::optional<Inadmissible> refused = CheckAdmissible(matter, {prior}, Org(), now);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->rule, Inadmissible::Rule::kOpenBelow);
  EXPECT_EQ(refused->prior_tracking_number, "XF-2025-0001");
  EXPECT_THAT(refused->article, HasSubstr("第十九条"));
  NewMatter at_top = matter;
  at_top.unit = "prov";
  EXPECT_TRUE(CheckAdmissible(at_top, {prior}, Org(), now).has_value());
  // Not higher: the same unit, a sibling, a lower unit.
  for (const std::string unit : {"dist", "dist2", "street", "city2"}) {
    NewMatter m = matter;
    m.unit = unit;
    EXPECT_EQ(CheckAdmissible(m, {prior}, Org(), now), std::nullopt) << unit;
  }
  // Another matter.
  NewMatter other = matter;
  other.complained_about = "另一公司";
  EXPECT_EQ(CheckAdmissible(other, {prior}, Org(), now), std::nullopt);
  // Out of time: overdue, or past its deadline; or no longer open.
  PriorCase overdue = prior;
  overdue.overdue = true;
  EXPECT_EQ(CheckAdmissible(matter, {overdue}, Org(), now), std::nullopt);
  EXPECT_EQ(CheckAdmissible(matter, {prior}, Org(), At(2025, 5, 7, 0)), std::nullopt);
  PriorCase closed = prior;
  closed.open = false;
  EXPECT_EQ(CheckAdmissible(matter, {closed}, Org(), now), std::nullopt);
}

TEST_F(EngineTest, FinalAfterRecheckIsNeverAcceptedAgain) {
  Life l = DriveTo("closed");
  ASSERT_TRUE(l.c.flags.count("final_after_recheck"));
  PriorCase prior = SummarizeCase(def(), l.c, "XF-2025-0002", "labour.contract", "某厂");
  EXPECT_FALSE(prior.open);
  for (const std::string unit : {"dist", "city", "prov", "city2"}) {
    std::optional<Inadmissible> refused =
        CheckAdmissible({"labour.contract", "某厂", unit}, {prior}, Org(), At(2030, 1, 1));
    ASSERT_TRUE(refused.has_value()) << unit;
    EXPECT_EQ(refused->rule, Inadmissible::Rule::kFinalAfterRecheck);
    EXPECT_EQ(refused->prior_tracking_number, "XF-2025-0002");
  }
  EXPECT_EQ(
      CheckAdmissible({"labour.contract", "别的厂", "city"}, {prior}, Org(), At(2030, 1, 1)), std::nullopt);
  // A decision that became final by an unused window is not "after re-check".
  Life lapsed = DriveTo("review_served");
  ASSERT_THAT(lapsed.Fire("recheck_request", lapsed.Timer("recheck_request").deadline.due_at),
              IsOk());
  PriorCase p2 = SummarizeCase(def(), lapsed.c, "XF-2", "labour.contract", "某厂");
  EXPECT_EQ(CheckAdmissible({"labour.contract", "某厂", "city"}, {p2}, Org(), At(2030, 1, 1)), std::nullopt);
}

TEST_F(EngineTest, SummarizeCaseReadsOfficeDeadlines) {
  Life l = DriveTo("in_handling");
  PriorCase p = SummarizeCase(def(), l.c, "XF-3", "c", "x");
  EXPECT_TRUE(p.open);
  EXPECT_FALSE(p.overdue);
  EXPECT_EQ(p.responsible_unit, "dist");
  EXPECT_EQ(p.due_at, l.Timer("handling").deadline.due_at);
  ASSERT_THAT(l.Fire("handling", l.Timer("handling").deadline.due_at), IsOk());
  EXPECT_TRUE(SummarizeCase(def(), l.c, "XF-3", "c", "x").overdue);
  Life r = DriveTo("review_requested");
  EXPECT_EQ(SummarizeCase(def(), r.c, "XF-4", "c", "x").responsible_unit, "city");
}

// ---- Migration ----

std::shared_ptr<const Definition> VersionTwo() {
  xinfang::v1::WorkflowDefinition p = W().def->proto();
  p.set_version(2);
  xinfang::v1::Timer* report = p.add_timers();
  report->set_name("handling_report");
  report->set_length(10);
  report->set_day_kind(xinfang::v1::DAY_KIND_WORKING);
  report->add_running_in("in_handling");
  std::string text;
  google::protobuf::TextFormat::PrintToString(p, &text);
  absl::StatusOr<std::shared_ptr<const Definition>> def = Definition::Parse(text, "v2");
  EXPECT_THAT(def, IsOk());
  return def.ok() ? *def : nullptr;
}

TEST_F(EngineTest, MigrateKeepsMatchingTimersAndStartsNewOnes) {
  std::shared_ptr<const Definition> v2 = VersionTwo();
  ASSERT_NE(v2, nullptr);
  Engine e2(v2, cal());
  Life l = DriveTo("in_handling");
  absl::Time now = l.NextDay();
  absl::StatusOr<Decision> d = Engine::Migrate(l.c, e2, {}, now);
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->next.workflow_version, 2);
  EXPECT_EQ(d->next.state, "in_handling");
  ASSERT_NE(d->next.FindTimer("handling"), nullptr);
  EXPECT_EQ(*d->next.FindTimer("handling"), l.Timer("handling"));
  ASSERT_NE(d->next.FindTimer("handling_report"), nullptr);
  EXPECT_EQ(d->next.FindTimer("handling_report")->started_at, now);
  ASSERT_EQ(d->timers_set.size(), 1u);
  EXPECT_EQ(d->timers_set[0].name, "handling_report");
  EXPECT_THAT(Kinds(d->events), ElementsAre("migrated"));
  EXPECT_EQ(d->events[0].fields.at("to_workflow"), "petition@2");

  absl::StatusOr<Decision> moved = Engine::Migrate(l.c, e2, {{"in_handling", "decided"}}, now);
  ASSERT_THAT(moved, IsOk());
  EXPECT_EQ(moved->next.state, "decided");
  EXPECT_THAT(moved->timers_cancelled, ElementsAre("handling"));
}

TEST_F(EngineTest, MigrateRefusesAMappingToAMissingState) {
  std::shared_ptr<const Definition> v2 = VersionTwo();
  ASSERT_NE(v2, nullptr);
  Engine e2(v2, cal());
  Life l = DriveTo("in_handling");
  EXPECT_THAT(Engine::Migrate(l.c, e2, {{"in_handling", "limbo"}}, l.NextDay()),
              StatusIs(kFailedPrecondition, HasSubstr("limbo")));
  // Even a mapping for a state the case is not in.
  EXPECT_THAT(Engine::Migrate(l.c, e2, {{"served", "gone"}}, l.NextDay()),
              StatusIs(kFailedPrecondition, HasSubstr("gone")));
  CaseSnapshot odd = l.c;
  odd.state = "retired_state";
  EXPECT_THAT(Engine::Migrate(odd, e2, {}, l.NextDay()),
              StatusIs(kFailedPrecondition, HasSubstr("retired_state")));
}

// ---- Replay ----

TEST_F(EngineTest, ReplayNeedsAStartFirst) {
  RecordedStep fire;
  fire.kind = RecordedStep::Kind::kFire;
  fire.timer = "handling";
  EXPECT_THAT(Replay(engine(), {fire}, Org()), StatusIs(kInvalidArgument));
  EXPECT_THAT(Replay(engine(), {}, Org()), StatusIs(kInvalidArgument));
}

TEST_F(EngineTest, ReplayReportsTheFailingStep) {
  Life l = DriveTo("accepted");
  std::vector<RecordedStep> steps = l.steps;
  RecordedStep bad;
  bad.kind = RecordedStep::Kind::kAction;
  bad.request.action = "serve";
  bad.actor = Clerk("dist");
  bad.at = l.NextDay();
  steps.push_back(bad);
  EXPECT_THAT(
      Replay(engine(), steps, Org()),
      StatusIs(kFailedPrecondition, HasSubstr(absl::StrCat("replay step ", steps.size() - 1))));
}

// PROPERTY: random valid lives (actions chosen among Available(), valid
// fields, random time steps, timers fired as they fall due) replay from their
// recorded steps to the same snapshot; every intermediate snapshot keeps its
// timers consistent with its state; a repeated Fire adds nothing.
TEST_F(EngineTest, PropertyRandomLivesReplayToTheSameSnapshot) {
  std::mt19937 rng(20250501);
  const std::vector<std::string> start_units = {"prov", "city", "dist", "street", "dist2"};
  const std::vector<Role> roles = {xinfang::v1::ROLE_INTAKE_CLERK, xinfang::v1::ROLE_CASE_OFFICER,
                                   xinfang::v1::ROLE_UNIT_HEAD, xinfang::v1::ROLE_SERVICE,
                                   xinfang::v1::ROLE_PETITIONER};
  int lives = 0, finals = 0, actions = 0, fires = 0;
  std::set<std::string> seen_actions;
  for (int iter = 0; iter < 300; ++iter) {
    SCOPED_TRACE(absl::StrCat("life ", iter));
    Life l;
    CaseStart start;
    absl::Time base = At(2025, 1, 2) + absl::Hours(24 * static_cast<int>(rng() % 600));
    start.received_at = base - absl::Minutes(rng() % (72 * 60));
    start.registering_unit = start_units[rng() % start_units.size()];
    start.anonymous = rng() % 5 == 0;
    if (rng() % 4 == 0 && start.registering_unit != "prov") {
      start.flags.insert("forwarded_in");
      start.forwarder_unit = *Org().Parent(start.registering_unit);
    }
    ASSERT_TRUE(l.Start(start, base));
    for (int step = 0; step < 40; ++step) {
      if (def().FindState(l.c.state)->final()) break;
      // Time moves on: minutes to days, sometimes weeks.
      absl::Time now = l.now + (rng() % 6 == 0 ? absl::Hours(24 * (1 + rng() % 40))
                                               : absl::Minutes(rng() % (3 * 24 * 60)));
      // Fire every timer that has fallen due, as the sweeper would.
      for (int guard = 0; guard < 20; ++guard) {
        std::optional<std::pair<absl::Time, std::string>> due;
        for (const TimerState& t : l.c.timers) {
          std::optional<absl::Time> at = engine().NextFireAt(t);
          if (at.has_value() && *at <= now && (!due.has_value() || *at < due->first)) {
            due = std::make_pair(*at, t.name);
          }
        }
        if (!due.has_value()) break;
        absl::Time fire_at = rng() % 2 == 0 ? std::max(due->first, l.now) : now;
        ASSERT_THAT(l.Fire(due->second, fire_at), IsOk());
        ++fires;
        ExpectTimersConsistent(l.c);
        absl::StatusOr<Decision> again = engine().Fire(l.c, due->second, fire_at, Org());
        ASSERT_THAT(again, IsOk());
        EXPECT_THAT(again->events, IsEmpty());
        EXPECT_EQ(again->next, l.c);
      }
      if (def().FindState(l.c.state)->final()) break;
      // Choose among the actions some actor may take now.
      std::vector<std::pair<const Action*, Actor>> candidates;
      for (const Action* a : def().ActionsFrom(l.c.state)) {
        for (Role role : roles) {
          Actor actor = ActorFor(*a, l.c, role);
          std::vector<const Action*> avail = engine().Available(l.c, actor, now, Org());
          if (std::count(avail.begin(), avail.end(), a) > 0) candidates.emplace_back(a, actor);
        }
      }
      if (candidates.empty()) continue;  // e.g. only the system can move on: wait
      const auto& [a, actor] = candidates[rng() % candidates.size()];
      std::optional<std::map<std::string, std::string>> fields =
          FillFields(*a, l.c, now, &rng, &actor);
      if (!fields.has_value()) continue;
      absl::StatusOr<Decision> d = l.Do(a->name(), *fields, actor, now);
      if (!d.ok()) {
        // Available() checks everything but fields and effects; the only
        // refusals left are a review or re-check with no higher body.
        EXPECT_THAT(d, StatusIs(kFailedPrecondition, HasSubstr("has none"))) << a->name();
        continue;
      }
      ++actions;
      seen_actions.insert(a->name());
      ExpectTimersConsistent(l.c);
      for (const TimerState& t : d->timers_set) EXPECT_NE(d->next.FindTimer(t.name), nullptr);
      for (const std::string& t : d->timers_cancelled) EXPECT_EQ(d->next.FindTimer(t), nullptr);
    }
    ++lives;
    if (def().FindState(l.c.state)->final()) ++finals;
    absl::StatusOr<CaseSnapshot> replayed = Replay(engine(), l.steps, Org());
    ASSERT_THAT(replayed, IsOk());
    EXPECT_EQ(*replayed, l.c);
  }
  EXPECT_EQ(lives, 300);
  EXPECT_GT(finals, 100);
  EXPECT_GT(actions, 1000);
  EXPECT_GT(fires, 100);
  // The random walk reaches every human action of the definition.
  for (const Action& a : def().proto().actions()) {
    if (a.roles_size() == 1 && a.roles(0) == xinfang::v1::ROLE_SYSTEM) continue;
    EXPECT_TRUE(seen_actions.count(a.name())) << a.name();
  }
}

// Case officers act only for their own unit, whatever the action's scope;
// an extension is approved by the handling unit's own head; a supervision
// notice may come from a unit above.
TEST_F(EngineTest, OfficersAndExtensionApprovalsStayInTheirOwnUnit) {
  Life l = DriveTo("extension_requested");  // responsible unit: dist, below city
  ASSERT_EQ(l.c.responsible_unit, "dist");
  const std::string told = Day(W().cal->LocalDay(l.NextDay()));
  EXPECT_THAT(l.Do("approve_extension", {{"days", "20"}, {"petitioner_told_on", told}},
                   Head("city"), l.NextDay()),
              StatusIs(kPermissionDenied,
                       HasSubstr("must come from the responsible unit \"dist\", not from \"city\"")));
  EXPECT_THAT(l.Do("issue_notice", {{"notice_kind", "urge"}, {"notice_text", "限期答复"}},
                   Head("city"), l.NextDay()),
              IsOk());
  l.Must("approve_extension", {{"days", "20"}, {"petitioner_told_on", told}}, Head("dist"));
  EXPECT_THAT(l.Do("decide", {{"outcome", "support"}, {"decision_text", "支持"}}, Officer("city"),
                   l.NextDay()),
              StatusIs(kPermissionDenied, HasSubstr("responsible unit \"dist\", not from")));
  l.Must("decide", {{"outcome", "support"}, {"decision_text", "支持"}}, Officer("dist"));
}

// ---- Every petition is recorded (Register), also one not accepted ----

TEST_F(EngineTest, AMatterFinalAfterRecheckIsRegisteredAndRefusedAtOnce) {
  CaseStart start;
  start.received_at = At(2025, 6, 2, 9);
  start.registering_unit = "city";
  start.inadmissible = Inadmissible{Inadmissible::Rule::kFinalAfterRecheck, "XF-OLD-1",
                                    "finally decided in XF-OLD-1", "《信访工作条例》第三十五条"};
  Life l;
  ASSERT_TRUE(l.Start(start, At(2025, 6, 2, 10)));
  EXPECT_EQ(l.c.state, "not_accepted");
  EXPECT_TRUE(l.c.closed_at.has_value());
  EXPECT_THAT(l.c.timers, IsEmpty());
  EXPECT_THAT(Kinds(l.last.events), ElementsAre("registered", "not_accepted_again"));
  EXPECT_EQ(l.last.events[1].fields.at("prior_case"), "XF-OLD-1");
  EXPECT_EQ(l.last.events[1].fields.at("article"), "《信访工作条例》第三十五条");
  // The written notice is owed as for any intake decision, and issued.
  ASSERT_EQ(l.last.notices.size(), 1u);
  EXPECT_EQ(l.last.notices[0].kind, "petitioner");
  EXPECT_THAT(l.last.documents,
              ElementsAre(DocumentDue{"no_further_acceptance_notice", 1}));  // the refusal's event
  ExpectTimersConsistent(l.c);
  EXPECT_THAT(Replay(engine(), l.steps, Org()), xinfang::testing::IsOkAndHolds(l.c));
}

TEST_F(EngineTest, AMatterOpenBelowIsRegisteredAndNotAcceptedHere) {
  CaseStart start;
  start.received_at = At(2025, 6, 2, 9);
  start.registering_unit = "prov";
  start.anonymous = true;
  start.inadmissible = Inadmissible{Inadmissible::Rule::kOpenBelow, "XF-OPEN-1",
                                    "open at dist", "《信访工作条例》第十九条"};
  Life l;
  ASSERT_TRUE(l.Start(start, At(2025, 6, 2, 10)));
  EXPECT_EQ(l.c.state, "not_accepted");
  EXPECT_THAT(Kinds(l.last.events), ElementsAre("registered", "not_accepted_here"));
  EXPECT_THAT(l.last.notices, IsEmpty());  // anonymous: no notice is owed
  EXPECT_THAT(l.last.documents, IsEmpty());
}

// ---- Written documents (Action.document) ----

TEST_F(EngineTest, EachDocumentIsIssuedByItsActionToItsEvent) {
  Life l = DriveTo("registered");  // forwarded from city to dist
  EXPECT_THAT(l.last.documents, ElementsAre(DocumentDue{"transfer_notice", 0}));
  l.Must("issue_notice", {{"notice_kind", "urge"}, {"notice_text", "请加快办理"}},
         Actor{"sup", xinfang::v1::ROLE_SUPERVISOR, "city"});
  EXPECT_THAT(l.last.documents, ElementsAre(DocumentDue{"supervision_notice", 0}));
  l.Must("accept", {}, Clerk("dist"));
  EXPECT_THAT(l.last.documents, ElementsAre(DocumentDue{"acceptance_notice", 0}));
  l.Must("assign_officer", {{"officer", "officer1"}}, Head("dist"));
  EXPECT_THAT(l.last.documents, IsEmpty());  // no document for an assignment
  // Every action that names a document issues it, and only those.
  for (const auto& a : def().proto().actions()) {
    if (a.document().empty()) continue;
    EXPECT_NE(def().FindDocument(a.document()), nullptr) << a.name();
  }
}

TEST_F(EngineTest, AnAnonymousPetitionerIsOwedNoDocumentButAUnitIs) {
  Life l;
  CaseStart start;
  start.received_at = At(2025, 3, 3, 9);
  start.registering_unit = "dist";
  start.anonymous = true;
  ASSERT_TRUE(l.Start(start, At(2025, 3, 3, 10)));
  l.Must("accept", {}, Clerk("dist"));
  EXPECT_THAT(l.last.documents, IsEmpty());
  l.Must("issue_notice", {{"notice_kind", "urge"}, {"notice_text", "请加快办理"}},
         Actor{"sup", xinfang::v1::ROLE_SUPERVISOR, "dist"});
  EXPECT_THAT(l.last.documents, ElementsAre(DocumentDue{"supervision_notice", 0}));
}

// ---- The accused never hold the case (Arts. 28, 30, 46) ----

TEST_F(EngineTest, Art30NeverForwardsToTheUnitComplainedAboutOrBelowIt) {
  Life l;
  CaseStart start;
  start.received_at = At(2025, 3, 3, 9);
  start.registering_unit = "city";
  start.complained_about_unit = "dist";
  ASSERT_TRUE(l.Start(start, At(2025, 3, 3, 9, 30)));
  for (const char* target : {"dist", "street"}) {
    for (const char* action : {"forward", "assign"}) {
      EXPECT_THAT(l.Do(action, {{"target_unit", target}}, Clerk("city"), At(2025, 3, 3, 11)),
                  StatusIs(kFailedPrecondition, AllOf(HasSubstr("Art. 30"), HasSubstr(target))))
          << action << " to " << target;
    }
  }
  EXPECT_THAT(l.Do("forward", {{"target_unit", "dist2"}}, Clerk("city"), At(2025, 3, 3, 11)),
              IsOk());
}

TEST_F(EngineTest, Art30ACaseHeldByTheAccusedMustLeaveTheirSubtreeFirst) {
  // Registered at dist, complaining about city (above it): dist holds it.
  Life l;
  CaseStart start;
  start.received_at = At(2025, 3, 3, 9);
  start.registering_unit = "dist";
  start.complained_about_unit = "city";
  ASSERT_TRUE(l.Start(start, At(2025, 3, 3, 9, 30)));
  std::vector<std::string> offered;
  for (const Action* a : engine().Available(l.c, Clerk("dist"), l.now, Org())) {
    offered.push_back(a->name());
  }
  EXPECT_THAT(offered, Contains("forward"));
  EXPECT_THAT(offered, Not(Contains("accept")));
  EXPECT_THAT(offered, Not(Contains("direct_elsewhere")));
  EXPECT_THAT(l.Do("accept", {}, Clerk("dist"), At(2025, 3, 3, 10)),
              StatusIs(kFailedPrecondition, HasSubstr("Art. 30")));
  // Not to a unit still inside the accused subtree, not to an unknown one.
  EXPECT_THAT(l.Do("forward", {{"target_unit", "street"}}, Clerk("dist"), At(2025, 3, 3, 10)),
              StatusIs(kFailedPrecondition, HasSubstr("Art. 30")));
  EXPECT_THAT(l.Do("forward", {{"target_unit", "nowhere"}}, Clerk("dist"), At(2025, 3, 3, 10)),
              StatusIs(kInvalidArgument, HasSubstr("target_unit")));
  // Out of it, to a body elsewhere in the system (not below dist).
  l.Must("forward", {{"target_unit", "city2"}}, Clerk("dist"), At(2025, 3, 3, 11));
  EXPECT_EQ(l.c.responsible_unit, "city2");
  l.Must("accept", {}, Clerk("city2"));
  EXPECT_THAT(Replay(engine(), l.steps, Org()), xinfang::testing::IsOkAndHolds(l.c));
}

TEST_F(EngineTest, Art30ReturnReviewAndRecheckNeverReachTheAccused) {
  Life objection = DriveTo("objection_pending");  // city forwarded to dist
  objection.c.complained_about_unit = "city";
  EXPECT_THAT(objection.Do("objection_agreed", {}, Clerk("city"), objection.NextDay()),
              StatusIs(kFailedPrecondition, HasSubstr("Art. 30")));
  Life served = DriveTo("served");  // at dist; review would go to city
  served.c.complained_about_unit = "city";
  EXPECT_THAT(served.Do("request_review", {{"reasons", "不服"}}, Clerk("dist"), served.NextDay()),
              StatusIs(kFailedPrecondition, HasSubstr("Art. 30")));
}

TEST_F(EngineTest, AssignOfficerTakesOnlyAnEnabledUnconflictedOfficerOfTheUnit) {
  Life l = DriveTo("accepted");  // at dist
  auto assign = [&](const std::string& who, std::map<std::string, AccountFacts> facts) {
    ActionRequest req{"assign_officer", {{"officer", who}}, "", std::move(facts)};
    return engine().Apply(l.c, req, Head("dist"), l.NextDay(), Org());
  };
  const AccountFacts ok{xinfang::v1::ROLE_CASE_OFFICER, "dist", true};
  EXPECT_THAT(assign("ghost", {}), StatusIs(kInvalidArgument, HasSubstr("officer")));
  EXPECT_THAT(assign("clerk1", {{"clerk1", {xinfang::v1::ROLE_INTAKE_CLERK, "dist", true}}}),
              StatusIs(kFailedPrecondition, HasSubstr("not a ROLE_CASE_OFFICER")));
  EXPECT_THAT(assign("o_city", {{"o_city", {xinfang::v1::ROLE_CASE_OFFICER, "city", true}}}),
              StatusIs(kFailedPrecondition, HasSubstr("responsible unit \"dist\"")));
  EXPECT_THAT(assign("o_off", {{"o_off", {xinfang::v1::ROLE_CASE_OFFICER, "dist", false}}}),
              StatusIs(kFailedPrecondition, HasSubstr("disabled")));
  l.c.conflicted_accounts.insert("o_conf");
  EXPECT_THAT(assign("o_conf", {{"o_conf", ok}}),
              StatusIs(kFailedPrecondition, HasSubstr("Art. 28")));
  absl::StatusOr<Decision> d = assign("o_good", {{"o_good", ok}});
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->next.case_officer, "o_good");
}

// ---- Deadline arithmetic through the engine ----

TEST_F(EngineTest, AnApprovedExtensionLengthensTheHandlingPeriod) {
  // Accepted 2025-08-02: 60 days end on 10-01 and roll to 10-09; approved
  // for 30 more days, the period is 90 days: Friday 2025-10-31.
  Life l;
  CaseStart start;
  start.received_at = At(2025, 8, 1, 9);
  start.registering_unit = "dist";
  ASSERT_TRUE(l.Start(start, At(2025, 8, 1, 10)));
  l.Must("accept", {}, Clerk("dist"), At(2025, 8, 2, 10));
  EXPECT_EQ(l.Timer("handling").deadline.due_day, absl::CivilDay(2025, 10, 9));
  l.Must("assign_officer", {{"officer", "officer1"}}, Head("dist"));
  l.Must("request_extension", {{"reason", "复杂"}, {"days", "30"}}, Officer("dist"));
  l.Must("approve_extension", {{"days", "30"}, {"petitioner_told_on", l.Today()}}, Head("dist"),
         l.NextDay());
  const Deadline& d = l.Timer("handling").deadline;
  EXPECT_EQ(d.due_day, absl::CivilDay(2025, 10, 31));
  EXPECT_EQ(d.extension_days, 30);
  EXPECT_FALSE(d.rolled);
}

TEST_F(EngineTest, AHearingLengthensTheRecheckPeriod) {
  Life l = DriveTo("recheck_requested");
  const Deadline before = l.Timer("recheck_answer").deadline;
  const absl::Time stop = l.NextDay();
  l.Must("start_hearing", {}, Officer("prov", "rechecker"), stop);
  l.Must("end_hearing", {}, Officer("prov", "rechecker"), stop + absl::Hours(24 * 3));
  const Deadline& after = l.Timer("recheck_answer").deadline;
  EXPECT_EQ(after.stopped_days, 3);
  EXPECT_EQ(after.counted_from, before.counted_from);
  EXPECT_EQ(after, W().cal->Resume(before, stop, stop + absl::Hours(24 * 3), xinfang::v1::DAY_KIND_CALENDAR, true));
}

TEST_F(EngineTest, ProvisionalDeadlinesAreRecomputedWhenTheYearIsLoaded) {
  // An engine whose calendar lacks 2025: the intake notice of a petition
  // received 2025-09-20 ends on weekends-only Monday 10-06, provisionally.
  Calendar without_2025;
  ASSERT_THAT(without_2025.AddYearFile(XINFANG_SOURCE_DIR "/deploy/calendar/2026.textproto"),
              IsOk());
  const Engine early(W().def, without_2025);
  CaseStart start;
  start.received_at = At(2025, 9, 20, 9);
  start.registering_unit = "city";
  absl::StatusOr<Decision> started = early.Start(start, Clerk("city"), At(2025, 9, 20, 10));
  ASSERT_THAT(started, IsOk());
  const TimerState* notice = started->next.FindTimer("intake_notice");
  ASSERT_NE(notice, nullptr);
  EXPECT_EQ(notice->deadline.due_day, absl::CivilDay(2025, 10, 6));
  EXPECT_TRUE(notice->deadline.provisional);
  // Nothing to do under the same calendar.
  EXPECT_THAT(early.RecomputeDeadlines(started->next, At(2025, 9, 21)).events, IsEmpty());
  // Under the full calendar: 10-09, firm, recorded.
  Decision d = engine().RecomputeDeadlines(started->next, At(2025, 9, 21));
  ASSERT_EQ(d.events.size(), 1u);
  EXPECT_EQ(d.events[0].kind, "deadline_recomputed");
  EXPECT_EQ(d.events[0].fields.at("old_due_day"), "2025-10-06");
  EXPECT_EQ(d.events[0].fields.at("due_day"), "2025-10-09");
  EXPECT_EQ(d.events[0].fields.at("provisional"), "false");
  const TimerState* firm = d.next.FindTimer("intake_notice");
  ASSERT_NE(firm, nullptr);
  EXPECT_EQ(firm->deadline.due_day, absl::CivilDay(2025, 10, 9));
  EXPECT_FALSE(firm->deadline.provisional);
  ASSERT_EQ(d.timers_set.size(), 1u);
  EXPECT_THAT(engine().RecomputeDeadlines(d.next, At(2025, 9, 21)).events, IsEmpty());
}

}  // namespace
}  // namespace xinfang::workflow
