// Tests of workflow definitions: the default definition, the validator's
// problems (with file, line and name) and the registry.
#include "workflow/definition.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "google/protobuf/text_format.h"
#include "tests/testing/status_matchers.h"

namespace xinfang::workflow {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using xinfang::testing::IsOk;
using xinfang::testing::StatusIs;
using xinfang::v1::WorkflowDefinition;

const char kDefaultPath[] = XINFANG_SOURCE_DIR "/deploy/workflows/petition-v3.textproto";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::shared_ptr<const Definition> LoadDefault() {
  absl::StatusOr<std::shared_ptr<const Definition>> def = Definition::LoadFile(kDefaultPath);
  EXPECT_THAT(def, IsOk());
  return def.ok() ? *def : nullptr;
}

auto ProblemAt(int line, const std::string& name, const std::string& message_part) {
  return AllOf(Field(&Problem::file, "bad.textproto"), Field(&Problem::line, line),
               Field(&Problem::name, name), Field(&Problem::message, HasSubstr(message_part)));
}

TEST(DefaultDefinitionTest, LoadsAndValidatesWithZeroProblems) {
  std::shared_ptr<const Definition> def = LoadDefault();
  ASSERT_NE(def, nullptr);
  EXPECT_EQ(def->name(), "petition");
  EXPECT_EQ(def->version(), 3);
  EXPECT_EQ(def->key(), "petition@3");
  EXPECT_THAT(Definition::Validate(def->proto(), kDefaultPath, ReadFile(kDefaultPath)), IsEmpty());
  // Versions 1 and 2 stay for the cases registered under them, and still load clean.
  const std::string v2 = XINFANG_SOURCE_DIR "/deploy/workflows/petition-v2.textproto";
  absl::StatusOr<std::shared_ptr<const Definition>> second = Definition::LoadFile(v2);
  ASSERT_THAT(second, IsOk());
  EXPECT_THAT(Definition::Validate((*second)->proto(), v2, ReadFile(v2)), IsEmpty());
  EXPECT_THAT((*second)->proto().documents(), IsEmpty());
  const std::string v1 = XINFANG_SOURCE_DIR "/deploy/workflows/petition-v1.textproto";
  absl::StatusOr<std::shared_ptr<const Definition>> old = Definition::LoadFile(v1);
  ASSERT_THAT(old, IsOk());
  EXPECT_EQ((*old)->version(), 1);
  EXPECT_THAT(Definition::Validate((*old)->proto(), v1, ReadFile(v1)), IsEmpty());
}

// The deadlines of procedure.md §1 are configured facts: check each one.
TEST(DefaultDefinitionTest, EncodesTheStatutoryDeadlines) {
  std::shared_ptr<const Definition> def = LoadDefault();
  ASSERT_NE(def, nullptr);
  struct Expected {
    std::string timer;
    int length;
    xinfang::v1::DayKind kind;
    std::string starts_at;
    int max_extension;
  };
  const std::vector<Expected> table = {
      {"intake_notice", 15, xinfang::v1::DAY_KIND_CALENDAR, "receipt", 0},
      {"objection", 5, xinfang::v1::DAY_KIND_WORKING, "receipt", 0},
      {"handling", 60, xinfang::v1::DAY_KIND_CALENDAR, "entry", 30},
      {"evaluation", 7, xinfang::v1::DAY_KIND_CALENDAR, "field:served_on", 0},
      {"review_request", 30, xinfang::v1::DAY_KIND_CALENDAR, "field:served_on", 0},
      {"review_answer", 30, xinfang::v1::DAY_KIND_CALENDAR, "entry", 0},
      {"recheck_request", 30, xinfang::v1::DAY_KIND_CALENDAR, "field:served_on", 0},
      {"recheck_answer", 30, xinfang::v1::DAY_KIND_CALENDAR, "entry", 0},
      {"notice_reply", 30, xinfang::v1::DAY_KIND_CALENDAR, "entry", 0},
  };
  ASSERT_EQ(def->proto().timers_size(), static_cast<int>(table.size()));
  for (const Expected& e : table) {
    SCOPED_TRACE(e.timer);
    const xinfang::v1::Timer* t = def->FindTimer(e.timer);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->length(), e.length);
    EXPECT_EQ(t->day_kind(), e.kind);
    EXPECT_EQ(t->starts_at(), e.starts_at);
    EXPECT_EQ(t->max_extension_days(), e.max_extension);
    EXPECT_FALSE(t->no_roll_forward());  // roll-forward is the default policy
  }
  EXPECT_THAT(def->FindTimer("intake_notice")->not_with_flags(), ElementsAre("anonymous"));
  EXPECT_THAT(def->FindTimer("recheck_answer")->suspended_in(), ElementsAre("recheck_hearing"));
  EXPECT_EQ(def->FindTimer("evaluation")->expiry().action(), "evaluation_lapse");
  EXPECT_EQ(def->FindTimer("review_request")->expiry().action(), "review_window_lapse");
  EXPECT_EQ(def->FindTimer("recheck_request")->expiry().action(), "recheck_window_lapse");

  std::vector<std::pair<int, std::string>> ladder;
  for (const auto& r : def->proto().ladder()) ladder.emplace_back(r.delay_days(), r.notify());
  EXPECT_THAT(ladder,
              ElementsAre(std::make_pair(0, "case_officer"), std::make_pair(3, "unit_head"),
                          std::make_pair(7, "supervising_unit"), std::make_pair(15, "top")));
}

TEST(DefaultDefinitionTest, LookupsAndActionsFrom) {
  std::shared_ptr<const Definition> def = LoadDefault();
  ASSERT_NE(def, nullptr);
  EXPECT_EQ(def->FindState("nope"), nullptr);
  EXPECT_EQ(def->FindAction("nope"), nullptr);
  EXPECT_EQ(def->FindTimer("nope"), nullptr);
  ASSERT_NE(def->FindState("closed"), nullptr);
  EXPECT_TRUE(def->FindState("closed")->final());
  std::vector<std::string> names;
  for (const auto* a : def->ActionsFrom("registered")) names.push_back(a->name());
  EXPECT_THAT(names, ElementsAre("accept", "forward", "assign", "direct_elsewhere", "route_legal",
                                 "not_accepted_again", "not_accepted_here", "object",
                                 "declare_conflict", "issue_notice", "reply_notice"));
  EXPECT_THAT(def->ActionsFrom("closed"), IsEmpty());
  // The timers the statistics and the receipt find by purpose.
  ASSERT_NE(def->TimerFor(xinfang::v1::TIMER_PURPOSE_INTAKE_NOTICE), nullptr);
  EXPECT_EQ(def->TimerFor(xinfang::v1::TIMER_PURPOSE_INTAKE_NOTICE)->name(), "intake_notice");
  EXPECT_EQ(def->TimerFor(xinfang::v1::TIMER_PURPOSE_HANDLING)->name(), "handling");
  EXPECT_EQ(def->TimerFor(xinfang::v1::TIMER_PURPOSE_EVALUATION)->name(), "evaluation");
  EXPECT_EQ(def->TimerFor(xinfang::v1::TIMER_PURPOSE_NOTICE_REPLY)->name(), "notice_reply");
  EXPECT_EQ(def->TimerFor(xinfang::v1::TIMER_PURPOSE_UNSPECIFIED), nullptr);
  // Every timer of the shipped definition has one, each its own.
  std::set<int> purposes;
  for (const auto& t : def->proto().timers()) {
    EXPECT_NE(t.purpose(), xinfang::v1::TIMER_PURPOSE_UNSPECIFIED) << t.name();
    EXPECT_TRUE(purposes.insert(t.purpose()).second) << t.name();
  }
}

TEST(DefaultDefinitionTest, AdmissionActionsMustFitTheEngine) {
  std::ifstream in(kDefaultPath);
  std::stringstream text;
  text << in.rdbuf();
  // A not-accepted action the system may not take, from the wrong state, without its fields.
  std::string broken = text.str();
  const std::string hook = "not_accepted_here_action: \"not_accepted_here\"";
  ASSERT_NE(broken.find(hook), std::string::npos);
  broken.replace(broken.find(hook), hook.size(), "not_accepted_here_action: \"accept\"");
  absl::StatusOr<std::shared_ptr<const Definition>> def = Definition::Parse(broken, "broken.textproto");
  ASSERT_FALSE(def.ok());
  EXPECT_THAT(std::string(def.status().message()), HasSubstr("must allow ROLE_SYSTEM"));
  EXPECT_THAT(std::string(def.status().message()), HasSubstr("must declare field \"prior_case\""));
}

// One file with one of each problem: all are listed together, each with its
// file, line and name.
// clang-format off
constexpr char kBadDefinition[] = R"txt(name: "bad"
version: 1
initial_state: "a"
states { name: "a" stage: STAGE_INTAKE }
states { name: "b" stage: STAGE_HANDLING }
states { name: "a" stage: STAGE_INTAKE }
states { name: "orphan" stage: STAGE_HANDLING }
states { name: "done" stage: STAGE_FINAL final: true }
actions { name: "go" from: "a" to: "b" roles: [ROLE_CASE_OFFICER] }
actions { name: "go" from: "b" to: "done" roles: [ROLE_CASE_OFFICER] }
actions {
  name: "jump"
  from: "nowhere"
  to: "done"
}
actions { name: "reopen" from: "done" to: "a" roles: [ROLE_UNIT_HEAD] }
actions { name: "orphan_exit" from: "orphan" to: "ghost" roles: [ROLE_UNIT_HEAD] }
timers { name: "t" length: 5 day_kind: DAY_KIND_CALENDAR running_in: ["b"] }
timers {
  name: "t"
  length: 5
  day_kind: DAY_KIND_CALENDAR
  running_in: ["done"]
}
ladder { rung: 1 delay_days: 0 }
)txt";
// clang-format on

TEST(ValidateTest, ListsEveryProblemWithFileLineAndName) {
  WorkflowDefinition proto;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(kBadDefinition, &proto));
  std::vector<Problem> problems = Definition::Validate(proto, "bad.textproto", kBadDefinition);
  EXPECT_THAT(
      problems,
      UnorderedElementsAre(
          ProblemAt(6, "a", "duplicate state name"), ProblemAt(7, "orphan", "unreachable"),
          ProblemAt(10, "go", "duplicate action name"), ProblemAt(12, "jump", "no roles"),
          ProblemAt(13, "jump", "unknown state \"nowhere\" in from"),
          ProblemAt(16, "reopen", "final state \"done\""),
          ProblemAt(17, "orphan_exit", "unknown state \"ghost\" in to"),
          ProblemAt(20, "t", "duplicate timer name"), ProblemAt(23, "t", "final state \"done\""),
          ProblemAt(25, "rung 1", "no recipient")));
  // Sorted by line, so a reader goes through the file top to bottom.
  for (size_t i = 1; i < problems.size(); ++i) {
    EXPECT_LE(problems[i - 1].line, problems[i].line);
  }
}

TEST(ValidateTest, ParseRefusesWithEveryProblemOnItsOwnLine) {
  absl::StatusOr<std::shared_ptr<const Definition>> def =
      Definition::Parse(kBadDefinition, "bad.textproto");
  ASSERT_THAT(def, StatusIs(absl::StatusCode::kInvalidArgument));
  std::string message(def.status().message());
  EXPECT_THAT(message, HasSubstr("bad.textproto:13: jump: unknown state \"nowhere\" in from"));
  EXPECT_THAT(message, HasSubstr("bad.textproto:25: rung 1: rung has no recipient"));
  EXPECT_EQ(std::count(message.begin(), message.end(), '\n'), 9);  // 10 problems
}

TEST(ValidateTest, WithoutTextLinesAreZero) {
  WorkflowDefinition proto;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(kBadDefinition, &proto));
  std::vector<Problem> problems = Definition::Validate(proto, "x", "");
  ASSERT_EQ(problems.size(), 10u);
  for (const Problem& p : problems) EXPECT_EQ(p.line, 0) << p.ToString();
}

TEST(ValidateTest, SyntaxErrorGivesFileAndLine) {
  absl::StatusOr<std::shared_ptr<const Definition>> def = Definition::Parse(
      "name: \"x\"\nversion: 1\nstates { name: \"a\" stage: NOPE }\n", "s.textproto");
  ASSERT_THAT(def, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("s.textproto:3:")));
  EXPECT_THAT(Definition::Parse("name: \"x\" bogus_field: 3", "u.textproto"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bogus_field")));
}

TEST(ValidateTest, ProblemToString) {
  EXPECT_EQ((Problem{"f.textproto", 12, "decide", "no roles"}).ToString(),
            "f.textproto:12: decide: no roles");
}

// Mutations of the (valid) default definition, each breaking one rule.
TEST(ValidateTest, EachRuleOnTheDefaultDefinition) {
  std::shared_ptr<const Definition> def = LoadDefault();
  ASSERT_NE(def, nullptr);
  using Mutation = std::function<void(WorkflowDefinition&)>;
  auto action = [](WorkflowDefinition& d, const std::string& name) {
    for (auto& a : *d.mutable_actions()) {
      if (a.name() == name) return &a;
    }
    return static_cast<xinfang::v1::Action*>(nullptr);
  };
  auto timer = [](WorkflowDefinition& d, const std::string& name) {
    for (auto& t : *d.mutable_timers()) {
      if (t.name() == name) return &t;
    }
    return static_cast<xinfang::v1::Timer*>(nullptr);
  };
  const std::vector<std::tuple<std::string, Mutation, std::string, std::string>> table = {
      {"initial unknown", [](WorkflowDefinition& d) { d.set_initial_state("limbo"); }, "limbo",
       "initial state is not a state"},
      {"no version", [](WorkflowDefinition& d) { d.set_version(0); }, "version", "version"},
      {"bad state name",
       [](WorkflowDefinition& d) { d.mutable_states(1)->set_name("Objection Pending"); },
       "Objection Pending", "lower_snake_case"},
      {"final without stage final",
       [](WorkflowDefinition& d) { d.mutable_states(2)->set_final(true); }, "accepted",
       "STAGE_FINAL"},
      {"purpose given twice",
       [&](WorkflowDefinition& d) {
         timer(d, "review_answer")->set_purpose(xinfang::v1::TIMER_PURPOSE_HANDLING);
       },
       "review_answer", "purpose TIMER_PURPOSE_HANDLING is already timer \"handling\"'s"},
      {"timer effect without timer",
       [&](WorkflowDefinition& d) { action(d, "approve_extension")->clear_timer(); },
       "approve_extension", "needs `timer`"},
      {"timer effect with unknown timer",
       [&](WorkflowDefinition& d) { action(d, "start_hearing")->set_timer("hearing"); },
       "start_hearing", "unknown timer \"hearing\""},
      {"extension of an unextendable timer",
       [&](WorkflowDefinition& d) { timer(d, "handling")->set_max_extension_days(0); },
       "approve_extension", "cannot be extended"},
      {"within unknown timer",
       [&](WorkflowDefinition& d) { action(d, "evaluate")->set_within_timer("eval"); }, "evaluate",
       "within_timer names unknown timer"},
      {"required_when naming no choice field",
       [&](WorkflowDefinition& d) {
         action(d, "evaluate")->mutable_fields(1)->mutable_required_when()->set_attribute("ratin");
       },
       "evaluate.rating_reason", "required_when names \"ratin\", which is not another CHOICE"},
      {"required_when with a value that is no choice",
       [&](WorkflowDefinition& d) {
         action(d, "evaluate")->mutable_fields(1)->mutable_required_when()->add_any_of("angry");
       },
       "evaluate.rating_reason", "required_when value \"angry\" is not a choice of \"rating\""},
      {"required and required_when",
       [&](WorkflowDefinition& d) { action(d, "evaluate")->mutable_fields(1)->set_required(true); },
       "evaluate.rating_reason", "required or required_when, not both"},
      {"office rating not a choice",
       [&](WorkflowDefinition& d) {
         action(d, "evaluate")->mutable_fields(2)->set_type(xinfang::v1::FIELD_TYPE_TEXT);
       },
       "evaluate", "field \"office_rating\" of EFFECT_SET_EVALUATION must be a CHOICE"},
      {"choice without choices",
       [&](WorkflowDefinition& d) { action(d, "decide")->mutable_fields(0)->clear_choices(); },
       "decide.outcome", "no choices"},
      {"days without max",
       [&](WorkflowDefinition& d) {
         action(d, "request_extension")->mutable_fields(1)->set_max_days(0);
       },
       "request_extension.days", "max_days"},
      {"duplicate field",
       [&](WorkflowDefinition& d) {
         *action(d, "decide")->add_fields() = action(d, "decide")->fields(0);
       },
       "decide.outcome", "duplicate field name"},
      {"assign officer without officer",
       [&](WorkflowDefinition& d) { action(d, "assign_officer")->clear_fields(); },
       "assign_officer", "EFFECT_ASSIGN_OFFICER needs a required field \"officer\""},
      {"expiry action unknown",
       [&](WorkflowDefinition& d) {
         timer(d, "evaluation")->mutable_expiry()->set_action("lapse");
       },
       "evaluation", "expiry action \"lapse\" is unknown"},
      {"expiry action not for the system",
       [&](WorkflowDefinition& d) {
         timer(d, "evaluation")->mutable_expiry()->set_action("evaluate");
       },
       "evaluation", "does not allow ROLE_SYSTEM"},
      {"expiry action not from the running state",
       [&](WorkflowDefinition& d) {
         timer(d, "review_request")->mutable_expiry()->set_action("evaluation_lapse");
       },
       "review_request", "cannot be taken in running state \"evaluated\""},
      {"starts_at unknown",
       [&](WorkflowDefinition& d) { timer(d, "handling")->set_starts_at("acceptance"); },
       "handling", "starts_at must be"},
      {"starts_at field that is no date",
       [&](WorkflowDefinition& d) { timer(d, "evaluation")->set_starts_at("field:rating"); },
       "evaluation", "no action's DATE field"},
      {"running and suspended",
       [&](WorkflowDefinition& d) {
         timer(d, "recheck_answer")->add_suspended_in("recheck_requested");
       },
       "recheck_answer", "both running_in and suspended_in"},
      {"timer far too long",
       [&](WorkflowDefinition& d) { timer(d, "handling")->set_length(100000); }, "handling",
       "length must be 1..3660"},
      {"negative warning lead",
       [&](WorkflowDefinition& d) { timer(d, "handling")->set_warning_lead_days(-1); }, "handling",
       "warning_lead_days"},
      {"negative ladder delay",
       [](WorkflowDefinition& d) { d.mutable_ladder(0)->set_delay_days(-2); }, "rung 1",
       "delay_days must be 0..3660"},
      {"decreasing ladder delay",
       [](WorkflowDefinition& d) { d.mutable_ladder(2)->set_delay_days(1); }, "rung 3",
       "must not decrease"},
      {"timer without day kind",
       [&](WorkflowDefinition& d) { timer(d, "objection")->clear_day_kind(); }, "objection",
       "no day_kind"},
      {"unknown recipient",
       [](WorkflowDefinition& d) { d.mutable_ladder(2)->set_notify("minister"); }, "rung 3",
       "unknown recipient"},
      {"rungs out of order", [](WorkflowDefinition& d) { d.mutable_ladder(1)->set_rung(3); },
       "rung 3", "in order"},
      {"escalation without ladder", [](WorkflowDefinition& d) { d.clear_ladder(); },
       "intake_notice", "no ladder"},
      {"dead end",
       [&](WorkflowDefinition& d) { action(d, "serve_recheck")->set_from(0, "recheck_hearing"); },
       "recheck_decided", "no outgoing action"},
      {"document of no kind",
       [&](WorkflowDefinition& d) { action(d, "accept")->set_document("acceptance"); }, "accept",
       "document \"acceptance\" is not a kind of the definition's documents"},
      {"expiry action issuing a document",
       [&](WorkflowDefinition& d) {
         action(d, "evaluation_lapse")->set_document("acceptance_notice");
       },
       "evaluation", "expiry action \"evaluation_lapse\" issues a document"},
      {"document kind twice",
       [](WorkflowDefinition& d) { *d.add_documents() = d.documents(0); }, "acceptance_notice",
       "duplicate document kind"},
      {"document without series",
       [](WorkflowDefinition& d) { d.mutable_documents(1)->clear_series(); },
       "non_acceptance_notice", "no series"},
      {"series with a brace",
       [](WorkflowDefinition& d) { d.mutable_documents(1)->set_series("{信}"); },
       "non_acceptance_notice", "without spaces or braces"},
      {"document without recipient",
       [](WorkflowDefinition& d) { d.mutable_documents(2)->clear_recipient(); },
       "no_further_acceptance_notice", "no recipient"},
      {"document kind not snake case",
       [](WorkflowDefinition& d) { d.mutable_documents(3)->set_kind("Transfer"); }, "Transfer",
       "lower_snake_case"},
      {"value guard without values",
       [&](WorkflowDefinition& d) {
         action(d, "close")->mutable_requires_values(0)->clear_any_of();
       },
       "close", "no any_of"},
  };
  for (const auto& [label, mutate, name, message] : table) {
    SCOPED_TRACE(label);
    WorkflowDefinition proto = def->proto();
    mutate(proto);
    std::vector<Problem> problems = Definition::Validate(proto, "m", "");
    EXPECT_THAT(problems, ::testing::Contains(AllOf(Field(&Problem::name, name),
                                                    Field(&Problem::message, HasSubstr(message)))))
        << ::testing::PrintToString(problems.size());
  }
}

TEST(LoadTest, MissingFileIsNotFound) {
  EXPECT_THAT(Definition::LoadFile("/nonexistent/petition.textproto"),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST(LoadTest, OversizedTextIsRefused) {
  EXPECT_THAT(Definition::Parse(std::string(2 << 20, ' '), "big"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("larger than")));
}

TEST(RegistryTest, LoadsTheDeployDirectory) {
  absl::StatusOr<DefinitionRegistry> reg =
      DefinitionRegistry::LoadDirectory(XINFANG_SOURCE_DIR "/deploy/workflows");
  ASSERT_THAT(reg, IsOk());
  EXPECT_THAT(reg->Keys(), ::testing::ElementsAre("petition@1", "petition@2", "petition@3"));
  EXPECT_THAT(reg->Get("petition", 1), IsOk());
  absl::StatusOr<std::shared_ptr<const Definition>> latest = reg->Latest("petition");
  ASSERT_THAT(latest, IsOk());
  EXPECT_EQ((*latest)->version(), 3);  // new cases start under version 3
  EXPECT_THAT(reg->Get("petition", 99),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("petition@99")));
  EXPECT_THAT(reg->Latest("nothing"), StatusIs(absl::StatusCode::kNotFound));
}

TEST(RegistryTest, VersionsAndDuplicates) {
  std::shared_ptr<const Definition> v1 = LoadDefault();  // petition@3, here the older one
  ASSERT_NE(v1, nullptr);
  WorkflowDefinition p2 = v1->proto();
  p2.set_version(4);
  std::string text;
  ASSERT_TRUE(google::protobuf::TextFormat::PrintToString(p2, &text));
  absl::StatusOr<std::shared_ptr<const Definition>> v2 = Definition::Parse(text, "v2");
  ASSERT_THAT(v2, IsOk());

  DefinitionRegistry reg;
  EXPECT_THAT(reg.Add(*v2), IsOk());
  EXPECT_THAT(reg.Add(v1), IsOk());
  EXPECT_THAT(reg.Add(v1), StatusIs(absl::StatusCode::kAlreadyExists));
  absl::StatusOr<std::shared_ptr<const Definition>> latest = reg.Latest("petition");
  ASSERT_THAT(latest, IsOk());
  EXPECT_EQ((*latest)->version(), 4);
  EXPECT_THAT(reg.Keys(), ElementsAre("petition@3", "petition@4"));
}

// The fuzzer's seeds stay meaningful: the valid ones load, the broken one does not.
TEST(LoadTest, FuzzSeedCorpus) {
  const std::string dir = XINFANG_SOURCE_DIR "/tests/workflow/fuzz/corpus/";
  for (const char* valid : {"petition-v1.textproto", "minimal.textproto", "timers.textproto"}) {
    EXPECT_THAT(Definition::LoadFile(dir + valid), IsOk()) << valid;
  }
  EXPECT_THAT(Definition::LoadFile(dir + "broken.textproto"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(RegistryTest, MissingDirectoryIsNotFound) {
  EXPECT_THAT(DefinitionRegistry::LoadDirectory("/nonexistent/workflows"),
              StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace xinfang::workflow
