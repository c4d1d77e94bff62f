// Early warning (docs/warnings.md): each default rule of
// deploy/warnings/rules.textproto driven just under its threshold and over
// it on a simulated clock, fuzzy employer names, the warning's life,
// redaction, two processors on one database, the recount, and the
// situation report against counts the test keeps itself.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <soci/soci.h>

#include <map>
#include <optional>
#include <thread>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/substitute.h"
#include "absl/time/civil_time.h"
#include "services/supervision/warnings.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"
#include "workflow/warning_rules.h"

namespace xinfang {
namespace {

namespace v1 = xinfang::v1;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::Caller;
using testing::TestServer;

const Caller kClerk{"w-clerk", "intake_clerk", "prov.organs.edu"};
const Caller kCityClerk{"w-city-clerk", "intake_clerk", "prov.city-a"};
const Caller kSupervisor{"w-sup", "supervisor", "prov"};
const Caller kEduHead{"w-edu-head", "unit_head", "prov.organs.edu"};
const Caller kHealthHead{"w-health-head", "unit_head", "prov.organs.health"};
const Caller kCityHead{"w-city-head", "unit_head", "prov.city-a"};

absl::Time Local(int y, int m, int d, int hh = 9) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, 0, 0), absl::FixedTimeZone(8 * 3600));
}

struct Petition {
  std::string name = "";     // empty: a new person each time
  std::string phone = "";
  std::string category = "insurance";
  std::string employer = "";
  std::string complained_unit = "";
  v1::Channel channel = v1::CHANNEL_CALL;
  int people = 0;  // a visit with this many present
  v1::Purpose purpose = v1::PURPOSE_CLAIM;
  const Caller* clerk = &kClerk;
  std::optional<absl::Time> received_at;  // a letter logged after it arrived
};

class WarningsTest : public ::testing::Test {
 protected:
  // `background`: the server runs its own warning processor (as production
  // does); without it only the test's calls process.
  explicit WarningsTest(absl::Time start = Local(2026, 3, 2), bool background = true)
      : server_(start, background) {}

  std::string Register(const Petition& p) {
    v1::RegisterCaseRequest r;
    r.set_request_id(absl::StrCat("warning-case-", ++n_));
    v1::CaseIntake* in = r.mutable_intake();
    in->set_channel(p.people > 0 ? v1::CHANNEL_VISIT : p.channel);
    if (p.people > 0) {
      in->mutable_visit()->set_people_present(p.people);
      in->mutable_visit()->add_representatives("代表甲");
    } else if (p.channel == v1::CHANNEL_ONLINE) {
      in->mutable_online()->set_platform("12351");
    }
    in->set_purpose(p.purpose);
    in->set_category(p.category);
    if (p.received_at) in->mutable_received_at()->set_seconds(absl::ToUnixSeconds(*p.received_at));
    in->set_summary(absl::StrCat("第", n_, "件"));
    in->set_complained_about(p.employer);
    in->set_complained_about_unit(p.complained_unit);
    auto* who = in->add_petitioners();
    who->set_name(p.name.empty() ? absl::StrCat("信访人", n_) : p.name);
    who->set_phone(p.phone.empty() ? absl::StrCat("1380000", 1000 + n_) : p.phone);
    v1::RegisterCaseResponse resp;
    auto ctx = server_.Context(*p.clerk);
    grpc::Status s = server_.intake()->RegisterCase(ctx.get(), r, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.case_().tracking_number();
  }

  void Process() { ASSERT_TRUE(server_.ProcessWarnings().ok()); }

  void AdvanceTo(absl::Time to) { ASSERT_TRUE(server_.AdvanceTo(to).ok()); }

  // Every warning the caller may see, in any state, newest first.
  std::vector<v1::Warning> Warnings(const Caller& who, const std::string& rule = "") {
    v1::ListWarningsRequest req;
    req.set_rule(rule);
    for (auto s : {v1::WARNING_STATE_RAISED, v1::WARNING_STATE_ACKNOWLEDGED,
                   v1::WARNING_STATE_HANDLED, v1::WARNING_STATE_CLOSED}) {
      req.add_states(s);
    }
    v1::ListWarningsResponse resp;
    auto ctx = server_.Context(who);
    grpc::Status s = server_.supervision()->ListWarnings(ctx.get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {resp.warnings().begin(), resp.warnings().end()};
  }

  absl::StatusOr<v1::Warning> Get(const Caller& who, int64_t id) {
    v1::GetWarningRequest req;
    req.set_id(id);
    v1::Warning resp;
    auto ctx = server_.Context(who);
    grpc::Status s = server_.supervision()->GetWarning(ctx.get(), req, &resp);
    if (!s.ok()) return testing::FromGrpc(s);
    return resp;
  }

  absl::StatusOr<v1::Warning> Update(const Caller& who, int64_t id, int64_t version,
                                     v1::WarningState state, const std::string& note = "") {
    v1::UpdateWarningRequest req;
    req.set_id(id);
    req.set_expected_version(version);
    req.set_state(state);
    req.set_note(note);
    v1::Warning resp;
    auto ctx = server_.Context(who);
    grpc::Status s = server_.supervision()->UpdateWarning(ctx.get(), req, &resp);
    if (!s.ok()) return testing::FromGrpc(s);
    return resp;
  }

  std::vector<std::string> Trackings(const v1::Warning& w) {
    std::vector<std::string> out;
    for (const auto& c : w.cases()) out.push_back(c.tracking_number());
    return out;
  }

  TestServer server_;
  int n_ = 0;
};

TEST_F(WarningsTest, TheDefaultRulesFileLoadsAndBadFilesNameEveryProblemWithItsLine) {
  auto rules = workflow::WarningRules::LoadFile(testing::SourceDir() +
                                                "/deploy/warnings/rules.textproto");
  ASSERT_TRUE(rules.ok()) << rules.status();
  EXPECT_EQ(rules->Enabled().size(), 5u);
  auto bad = workflow::WarningRules::Parse(R"pb(version: 1
rules {
  name: "Bad Name"
  title: "x"
  kind: WARNING_RULE_KIND_REPEAT_PETITIONER
  severity: WARNING_SEVERITY_LOW
  window_days: 0
  threshold: 2
  similarity: 0.5
}
rules {
  name: "two"
  title: "y"
  kind: WARNING_RULE_KIND_CATEGORY_SURGE
  severity: WARNING_SEVERITY_LOW
  window_days: 7
  threshold: 3
  factor: 0.5
  baseline_windows: 8
}
)pb",
                                           "rules.textproto");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string m(bad.status().message());
  EXPECT_THAT(m, ::testing::HasSubstr("rules.textproto:3: Bad Name: name must be"));
  EXPECT_THAT(m, ::testing::HasSubstr("rules.textproto:7: Bad Name: window_days must be 1..366"));
  EXPECT_THAT(m, ::testing::HasSubstr("rules.textproto:9: Bad Name: similarity has no meaning"));
  EXPECT_THAT(m, ::testing::HasSubstr("rules.textproto:18: two: factor must be 1..100"));
  auto big = workflow::WarningRules::Parse(R"pb(version: 1
rules {
  name: "r"
  title: "x"
  kind: WARNING_RULE_KIND_SAME_EMPLOYER
  severity: WARNING_SEVERITY_LOW
  window_days: 30
  threshold: 101
  similarity: 0.5
})pb",
                                           "t.textproto");
  ASSERT_FALSE(big.ok());
  EXPECT_THAT(std::string(big.status().message()),
              ::testing::HasSubstr("t.textproto:8: r: threshold must be 2..100"));
  auto syntax = workflow::WarningRules::Parse("version: 1\nrules { name: }\n", "r.textproto");
  ASSERT_FALSE(syntax.ok());
  EXPECT_THAT(std::string(syntax.status().message()), ::testing::HasSubstr("r.textproto:2:"));
  // A scope naming a unit the organisation does not have.
  auto unknown = workflow::WarningRules::Parse(R"pb(version: 1
rules {
  name: "r"
  title: "x"
  kind: WARNING_RULE_KIND_GROUP_NOT_ACCEPTED
  severity: WARNING_SEVERITY_LOW
  window_days: 3
  min_people: 5
  unit: "nowhere"
})pb",
                                               "u.textproto");
  ASSERT_TRUE(unknown.ok()) << unknown.status();
  absl::Status known = unknown->CheckReferences([](const std::string&) { return false; },
                                                [](const std::string&) { return true; });
  EXPECT_EQ(known.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(known.message()),
              ::testing::HasSubstr("u.textproto:9: r: unknown unit \"nowhere\""));
}

TEST_F(WarningsTest, RepeatPetitionerWithinSevenDaysAcrossChannels) {
  Petition p;
  p.name = "张三丰";
  p.phone = "13912345678";
  Register(p);
  Register(Petition{});  // another person the same day
  Process();
  EXPECT_THAT(Warnings(kSupervisor, "repeat_petitioner"), IsEmpty());
  // Back eight days and an hour later: outside the seven days, nothing.
  AdvanceTo(Local(2026, 3, 10, 10));
  const std::string second = Register(p);
  Process();
  EXPECT_THAT(Warnings(kSupervisor, "repeat_petitioner"), IsEmpty());
  // Six days after that, by letter: two within seven days.
  AdvanceTo(Local(2026, 3, 16, 9));
  p.channel = v1::CHANNEL_LETTER;
  const std::string third = Register(p);
  Process();
  auto ws = Warnings(kSupervisor, "repeat_petitioner");
  ASSERT_EQ(ws.size(), 1u);
  EXPECT_EQ(ws[0].subject_label(), "张**");
  EXPECT_EQ(ws[0].severity(), v1::WARNING_SEVERITY_MEDIUM);
  EXPECT_EQ(ws[0].state(), v1::WARNING_STATE_RAISED);
  auto full = Get(kSupervisor, ws[0].id());
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_THAT(Trackings(*full), ElementsAre(second, third));
  EXPECT_EQ(full->case_count(), 2);
  // The name never appears in the warning.
  EXPECT_EQ(full->SerializeAsString().find("张三丰"), std::string::npos);
  EXPECT_EQ(full->Utf8DebugString().find("张三丰"), std::string::npos);
  // Another within the wave joins it: still one warning.
  Register(p);
  Process();
  ws = Warnings(kSupervisor, "repeat_petitioner");
  ASSERT_EQ(ws.size(), 1u);
  EXPECT_EQ(ws[0].case_count(), 3);
  // The raise is in the history of the petition that triggered it.
  EXPECT_EQ(server_.db().Query(absl::StrCat(
                "SELECT count(*) FROM case_events e JOIN cases c ON c.id = e.case_id "
                "WHERE e.kind = 'warning_raised' AND c.tracking_number = '", third, "'")),
            "1");
}

// A letter received long ago and logged now joins the wave it belongs to
// (or none), and never stops the processor.
TEST_F(WarningsTest, ALateLoggedPetitionJoinsItsOwnWave) {
  Petition p;
  p.name = "钱九";
  p.phone = "13411112222";
  const std::string a = Register(p);
  AdvanceTo(Local(2026, 3, 4));
  const std::string b = Register(p);  // wave 1: a, b
  AdvanceTo(Local(2026, 3, 20));
  const std::string c = Register(p);
  AdvanceTo(Local(2026, 3, 22));
  const std::string d = Register(p);  // wave 2: c, d
  Process();
  auto ws = Warnings(kSupervisor, "repeat_petitioner");
  ASSERT_EQ(ws.size(), 2u);
  // A letter received on 3/3, logged on 3/23.
  AdvanceTo(Local(2026, 3, 23));
  p.channel = v1::CHANNEL_LETTER;
  p.received_at = Local(2026, 3, 3);
  const std::string e = Register(p);
  Petition fresh;  // the processor goes on after it
  fresh.name = "钱九";
  fresh.phone = "13411112222";
  const std::string f = Register(fresh);
  auto n = server_.ProcessWarnings();
  ASSERT_TRUE(n.ok()) << n.status();
  ws = Warnings(kSupervisor, "repeat_petitioner");
  ASSERT_EQ(ws.size(), 2u);
  auto first = Get(kSupervisor, ws[1].id());
  auto second = Get(kSupervisor, ws[0].id());
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_THAT(Trackings(*first), ElementsAre(a, e, b));
  EXPECT_THAT(Trackings(*second), ElementsAre(c, d, f));
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM warning_petitions"), "6");
}

// A handled or closed warning is done with: the person back again starts a
// new warning, visible in the open list.
TEST_F(WarningsTest, AfterAWarningIsClosedANewWaveIsRaisedAgain) {
  Petition p;
  p.name = "吴十";
  p.phone = "13322223333";
  Register(p);
  Register(p);
  Process();
  auto ws = Warnings(kSupervisor, "repeat_petitioner");
  ASSERT_EQ(ws.size(), 1u);
  ASSERT_TRUE(Update(kSupervisor, ws[0].id(), ws[0].version(), v1::WARNING_STATE_CLOSED).ok());
  AdvanceTo(Local(2026, 3, 4));
  Register(p);
  Process();
  ws = Warnings(kSupervisor, "repeat_petitioner");
  ASSERT_EQ(ws.size(), 2u);
  EXPECT_EQ(ws[0].state(), v1::WARNING_STATE_RAISED);
  EXPECT_EQ(ws[1].state(), v1::WARNING_STATE_CLOSED);
  EXPECT_EQ(ws[1].case_count(), 2);  // the closed one took no more
}

// Someone who stepped aside from a petition (a declared conflict) is not
// shown it through a warning.
TEST_F(WarningsTest, AConflictedAccountDoesNotSeeThePetitionsItSteppedAsideFrom) {
  Petition p;
  p.name = "郑一";
  p.phone = "13233334444";
  const std::string a = Register(p);
  const std::string b = Register(p);
  Process();
  auto ws = Warnings(kSupervisor, "repeat_petitioner");
  ASSERT_EQ(ws.size(), 1u);
  server_.db().Query(absl::StrCat("UPDATE cases SET conflicted_accounts = '", kEduHead.account,
                                  "' WHERE tracking_number IN ('", a, "', '", b, "')"));
  EXPECT_THAT(Get(kEduHead, ws[0].id()), testing::StatusIs(absl::StatusCode::kNotFound));
  auto sup = Get(kSupervisor, ws[0].id());
  ASSERT_TRUE(sup.ok());
  EXPECT_EQ(sup->cases_size(), 2);
}

TEST_F(WarningsTest, SameEmployerMatchedFuzzily) {
  // Two against one employer under different legal forms, one against a
  // different employer with a similar name: under the threshold of three.
  Petition a;
  a.employer = "华夏建筑工程有限公司";
  Register(a);
  a.employer = "华夏建筑工程集团";
  Register(a);
  Petition other;
  other.employer = "华夏建设";
  Register(other);
  Process();
  EXPECT_THAT(Warnings(kSupervisor, "same_employer"), IsEmpty());
  // The third, written yet another way, within 30 days.
  AdvanceTo(Local(2026, 3, 20));
  a.employer = "华夏建筑工程三处";
  const std::string third = Register(a);
  Process();
  auto ws = Warnings(kSupervisor, "same_employer");
  ASSERT_EQ(ws.size(), 1u);
  EXPECT_EQ(ws[0].case_count(), 3);
  EXPECT_EQ(ws[0].severity(), v1::WARNING_SEVERITY_HIGH);
  // A fourth spelled as the first joins the same wave.
  a.employer = "华夏建筑工程（集团）有限公司";
  Register(a);
  Process();
  ws = Warnings(kSupervisor, "same_employer");
  ASSERT_EQ(ws.size(), 1u);
  EXPECT_EQ(ws[0].case_count(), 4);
  // Forty days on, the wave is over: two more are under the threshold again.
  AdvanceTo(Local(2026, 5, 1));
  Register(a);
  Register(a);
  Process();
  EXPECT_EQ(Warnings(kSupervisor, "same_employer").size(), 1u);
  (void)third;
}

TEST_F(WarningsTest, ComplaintsAboutOneOfOurUnitsAreNeverShownToThatUnit) {
  Petition p;
  p.complained_unit = "prov.organs.health";
  p.employer = "";
  for (int i = 0; i < 3; ++i) Register(p);
  Process();
  auto ws = Warnings(kSupervisor, "same_employer");
  ASSERT_EQ(ws.size(), 1u);
  EXPECT_EQ(ws[0].subject(), "unit:prov.organs.health");
  // The registering unit's head sees it; the complained-about unit's does
  // not, neither in the list nor by id.
  EXPECT_EQ(Warnings(kEduHead, "same_employer").size(), 1u);
  EXPECT_THAT(Warnings(kHealthHead, "same_employer"), IsEmpty());
  EXPECT_THAT(Get(kHealthHead, ws[0].id()), testing::StatusIs(absl::StatusCode::kNotFound));
  // A unit of another branch sees nothing of it either.
  EXPECT_THAT(Warnings(kCityHead), IsEmpty());
  EXPECT_THAT(Get(kCityHead, ws[0].id()), testing::StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(WarningsTest, GroupPetitionNotAcceptedWithinThreeDays) {
  Petition group;
  group.people = 6;
  group.category = "wages.arrears";
  const std::string waiting = Register(group);
  const std::string taken = Register(group);
  Petition small = group;
  small.people = 4;  // under min_people
  Register(small);
  Petition other = group;
  other.category = "insurance";  // outside the rule's categories
  Register(other);
  Process();
  ASSERT_TRUE(server_.Act(taken, "accept", kClerk).ok());
  // Two days and 23 hours: not yet.
  AdvanceTo(Local(2026, 3, 5, 8));
  Process();
  EXPECT_THAT(Warnings(kSupervisor, "group_not_accepted"), IsEmpty());
  AdvanceTo(Local(2026, 3, 5, 9) + absl::Minutes(1));
  auto ws = Warnings(kSupervisor, "group_not_accepted");
  ASSERT_EQ(ws.size(), 1u);
  EXPECT_EQ(ws[0].subject(), absl::StrCat("case:", waiting));
  // Once only.
  AdvanceTo(Local(2026, 3, 9));
  Process();
  EXPECT_EQ(Warnings(kSupervisor, "group_not_accepted").size(), 1u);
}

TEST_F(WarningsTest, CategorySurgeAboveItsEightWeekMean) {
  // Eight weeks of 2 petitions a week in wages.overtime.
  for (int week = 0; week < 8; ++week) {
    AdvanceTo(Local(2026, 3, 2) + absl::Hours(24 * 7 * week) + absl::Hours(1));
    Petition p;
    p.category = "wages.overtime";
    Register(p);
    Register(p);
  }
  // The ninth week: nine petitions (under the threshold of 10) ...
  AdvanceTo(Local(2026, 3, 2) + absl::Hours(24 * 7 * 8) + absl::Hours(2));
  Petition p;
  p.category = "wages.overtime";
  for (int i = 0; i < 9; ++i) Register(p);
  Process();
  EXPECT_THAT(Warnings(kSupervisor, "category_surge"), IsEmpty());
  // ... and the tenth: 10 > 2 x the mean (2.0 a week, counting this week's
  // first petitions' days) and >= 10.
  Register(p);
  Process();
  auto ws = Warnings(kSupervisor, "category_surge");
  ASSERT_EQ(ws.size(), 1u);
  EXPECT_EQ(ws[0].subject(), "category:wages.overtime");
  EXPECT_EQ(ws[0].subject_label(), "加班与工时");
}

TEST_F(WarningsTest, UnitVolumeRiseOnTheMonthBefore) {
  // 14 petitions at prov.city-a in the first 30 days, then 20 in the next
  // 30: 20 < 1.5 x 14 = 21, under; the 21st is over.
  Petition p;
  p.clerk = &kCityClerk;
  for (int i = 0; i < 14; ++i) Register(p);
  AdvanceTo(Local(2026, 4, 2, 10));
  for (int i = 0; i < 20; ++i) Register(p);
  Process();
  EXPECT_THAT(Warnings(kSupervisor, "unit_volume_rise"), IsEmpty());
  Register(p);
  Process();
  auto ws = Warnings(kSupervisor, "unit_volume_rise");
  ASSERT_EQ(ws.size(), 1u);
  EXPECT_EQ(ws[0].subject(), "unit:prov.city-a");
  EXPECT_EQ(ws[0].severity(), v1::WARNING_SEVERITY_LOW);
}

TEST_F(WarningsTest, AWarningMovesOnAndOnlyOn) {
  Petition p;
  p.name = "王五";
  p.phone = "13700001111";
  Register(p);
  Register(p);
  Process();
  auto ws = Warnings(kSupervisor);
  ASSERT_EQ(ws.size(), 1u);
  const int64_t id = ws[0].id();
  int64_t v = ws[0].version();
  // A stale version, a missing note, a bad state, an unknown warning.
  EXPECT_THAT(Update(kSupervisor, id, v + 5, v1::WARNING_STATE_ACKNOWLEDGED),
              testing::StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(Update(kSupervisor, 0, v, v1::WARNING_STATE_ACKNOWLEDGED),
              testing::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Update(kSupervisor, id, v, v1::WARNING_STATE_HANDLED),
              testing::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Update(kSupervisor, id, v, v1::WARNING_STATE_RAISED),
              testing::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Update(kSupervisor, id + 1000, v, v1::WARNING_STATE_ACKNOWLEDGED),
              testing::StatusIs(absl::StatusCode::kNotFound));
  // Clerks may not act on warnings.
  EXPECT_THAT(Update(kClerk, id, v, v1::WARNING_STATE_ACKNOWLEDGED),
              testing::StatusIs(absl::StatusCode::kPermissionDenied));
  auto acked = Update(kSupervisor, id, v, v1::WARNING_STATE_ACKNOWLEDGED);
  ASSERT_TRUE(acked.ok()) << acked.status();
  auto handled = Update(kEduHead, id, acked->version(), v1::WARNING_STATE_HANDLED, "已约谈");
  ASSERT_TRUE(handled.ok()) << handled.status();
  EXPECT_THAT(Update(kSupervisor, id, handled->version(), v1::WARNING_STATE_ACKNOWLEDGED),
              testing::StatusIs(absl::StatusCode::kFailedPrecondition));
  // Stale and a step back: the stale version is what the caller must fix first.
  EXPECT_THAT(Update(kSupervisor, id, acked->version(), v1::WARNING_STATE_ACKNOWLEDGED),
              testing::StatusIs(absl::StatusCode::kAborted));
  auto closed = Update(kSupervisor, id, handled->version(), v1::WARNING_STATE_CLOSED);
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_THAT(Update(kSupervisor, id, closed->version(), v1::WARNING_STATE_CLOSED),
              testing::StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_EQ(closed->steps_size(), 4);
  // Closed is the end of its life: it is never deleted (its links rely on it).
  {
    auto lease = server_.core().pool().Acquire();
    ASSERT_TRUE(lease.ok()) << lease.status();
    for (const char* sql : {"DELETE FROM warnings", "TRUNCATE warnings CASCADE"}) {
      bool refused = false;
      try {
        lease->session() << std::string(sql);
      } catch (const std::exception& e) {
        refused = std::string(e.what()).find("never deleted") != std::string::npos;
      }
      EXPECT_TRUE(refused) << sql;
    }
  }
  EXPECT_EQ(server_.db().Query(absl::StrCat("SELECT count(*) FROM warning_cases WHERE warning_id = ",
                                            id)),
            "2");
  EXPECT_EQ(closed->steps(0).by(), "system");
  EXPECT_EQ(closed->steps(2).by(), kEduHead.account);
  EXPECT_EQ(closed->steps(2).note(), "已约谈");
  // The default list shows open warnings only.
  v1::ListWarningsRequest req;
  v1::ListWarningsResponse resp;
  auto ctx = server_.Context(kSupervisor);
  ASSERT_TRUE(server_.supervision()->ListWarnings(ctx.get(), req, &resp).ok());
  EXPECT_EQ(resp.warnings_size(), 0);
  // Bad list filters name their field.
  req.set_page_size(501);
  auto ctx2 = server_.Context(kSupervisor);
  grpc::Status s = server_.supervision()->ListWarnings(ctx2.get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), ::testing::HasSubstr("page_size"));
  req.set_page_size(0);
  req.set_page_token("not-a-token");
  auto ctx4 = server_.Context(kSupervisor);
  s = server_.supervision()->ListWarnings(ctx4.get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), ::testing::HasSubstr("page_token"));
  req.clear_page_token();
  req.add_states(static_cast<v1::WarningState>(9));
  auto ctx5 = server_.Context(kSupervisor);
  s = server_.supervision()->ListWarnings(ctx5.get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), ::testing::HasSubstr("states"));
  req.clear_states();
  req.set_rule("no_such_rule");
  auto ctx3 = server_.Context(kSupervisor);
  s = server_.supervision()->ListWarnings(ctx3.get(), req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), ::testing::HasSubstr("rule"));
}

// Two processors on one database, as two replicas would run: each
// petition is counted once and each wave raised once.
TEST_F(WarningsTest, TwoReplicasRaiseNothingTwice) {
  ServerConfig config = server_.core().config();
  config.sweep_interval = absl::ZeroDuration();
  auto other = Core::Open(config);
  ASSERT_TRUE(other.ok()) << other.status();
  supervision::Warnings replica(**other);
  Petition p;
  p.name = "赵六";
  p.phone = "13600001111";
  Petition e;
  e.employer = "东海电子有限公司";
  std::atomic<bool> done{false};
  std::thread second([&] {
    while (!done.load()) ASSERT_TRUE(replica.ProcessOnce().ok());
  });
  for (int i = 0; i < 6; ++i) {
    Register(p);
    Register(e);
    Process();
  }
  done = true;
  second.join();
  Process();
  ASSERT_TRUE(replica.ProcessOnce().ok());
  EXPECT_EQ(Warnings(kSupervisor, "repeat_petitioner").size(), 1u);
  EXPECT_EQ(Warnings(kSupervisor, "same_employer").size(), 1u);
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM (SELECT rule FROM warnings GROUP BY rule "
                               "HAVING count(*) > 1) twice"),
            "0");
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM warning_petitions"), "12");
  EXPECT_EQ(server_.db().Query("SELECT sum(n) FROM petition_days"), "12");
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM case_events WHERE kind = 'warning_raised'"),
            server_.db().Query("SELECT count(*) FROM warnings"));
  EXPECT_EQ(server_.db().Query("SELECT sum(case_count) FROM warnings "
                               "WHERE rule IN ('repeat_petitioner', 'same_employer')"),
            "12");
}

class QuietWarningsTest : public WarningsTest {
 protected:
  QuietWarningsTest() : WarningsTest(Local(2026, 3, 2), /*background=*/false) {}
};

// A processor that stops and another that starts later (a restart) go on
// from the cursor: what came meanwhile is checked, nothing twice.
TEST_F(QuietWarningsTest, ARestartedProcessorCatchesUpFromItsCursor) {
  ServerConfig config = server_.core().config();
  config.sweep_interval = absl::ZeroDuration();
  auto other = Core::Open(config);
  ASSERT_TRUE(other.ok()) << other.status();
  Petition p;
  p.name = "冯二";
  p.phone = "13144445555";
  Register(p);
  Register(p);
  {
    supervision::Warnings first(**other);
    ASSERT_TRUE(first.ProcessOnce().ok());
  }
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM warnings WHERE rule = 'repeat_petitioner'"),
            "1");
  Register(p);  // while no processor runs
  supervision::Warnings restarted(**other);
  auto n = restarted.ProcessOnce();
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_GE(*n, 1);  // the third petition's events: nobody else processes here
  auto ws = Warnings(kSupervisor, "repeat_petitioner");
  ASSERT_EQ(ws.size(), 1u);
  EXPECT_EQ(ws[0].case_count(), 3);
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM warning_petitions"), "3");
  EXPECT_EQ(server_.db().Query("SELECT (position >= (SELECT last_position FROM event_sequencer))::int "
                               "FROM warning_cursor"),
            "1");
}

// The counts kept as petitions arrive equal a recount from the raw tables.
TEST_F(WarningsTest, TheKeptCountsEqualARecount) {
  for (int i = 0; i < 30; ++i) {
    Petition p;
    p.channel = i % 3 == 0 ? v1::CHANNEL_ONLINE : v1::CHANNEL_LETTER;
    p.category = i % 2 ? "wages.arrears" : "safety.injury";
    p.employer = i % 4 == 0 ? "南方纺织厂" : "";
    p.people = i % 5 == 0 ? 7 : 0;
    if (i % 6 == 0) {
      p.name = "孙七";
      p.phone = "13500001111";
    }
    p.clerk = i % 2 ? &kClerk : &kCityClerk;
    Register(p);
    if (i % 10 == 9) AdvanceTo(Local(2026, 3, 2) + absl::Hours(24 * 20 * (i / 10 + 1)));
  }
  Process();
  // The kept counts against the raw tables, by SQL of the test's own.
  EXPECT_EQ(
      server_.db().Query(
          "SELECT string_agg(d || u || k || n, ',' ORDER BY d, u, k) FROM (SELECT "
          "(received_at AT TIME ZONE 'Asia/Shanghai')::date AS d, registering_unit AS u, "
          "category AS k, count(*) AS n FROM cases GROUP BY 1, 2, 3) raw"),
      server_.db().Query("SELECT string_agg(day || unit || category || n, ',' "
                         "ORDER BY day, unit, category) FROM petition_days"));
  EXPECT_EQ(server_.db().Query(
                "SELECT string_agg(m || u || k || n, ',' ORDER BY m, u, k) FROM (SELECT "
                "date_trunc('month', received_at AT TIME ZONE 'Asia/Shanghai')::date AS m, "
                "registering_unit AS u, channel::text AS k, count(*) AS n FROM cases "
                "GROUP BY 1, 2, 3) raw"),
            server_.db().Query("SELECT string_agg(month || unit || key || n, ',' "
                               "ORDER BY month, unit, key) FROM situation_months "
                               "WHERE dim = 'channel'"));
  // The per-day totals (migration 0023) equal the raw counts by unit and by
  // category, and the rules' questions give the same sums from them as
  // from petition_days (a rule scoped to every category or every unit).
  const char* kUnitTotals =
      "SELECT string_agg(day || unit || n, ',' ORDER BY unit, day) FROM petition_unit_days";
  const char* kCategoryTotals =
      "SELECT string_agg(day || category || n, ',' ORDER BY category, day) "
      "FROM petition_category_days";
  EXPECT_EQ(server_.db().Query(kUnitTotals),
            server_.db().Query(
                "SELECT string_agg(d || u || n, ',' ORDER BY u, d) FROM (SELECT "
                "(received_at AT TIME ZONE 'Asia/Shanghai')::date AS d, registering_unit AS u, "
                "count(*) AS n FROM cases GROUP BY 1, 2) raw"));
  EXPECT_EQ(server_.db().Query(kCategoryTotals),
            server_.db().Query(
                "SELECT string_agg(d || k || n, ',' ORDER BY k, d) FROM (SELECT "
                "(received_at AT TIME ZONE 'Asia/Shanghai')::date AS d, category AS k, "
                "count(*) AS n FROM cases GROUP BY 1, 2) raw"));
  const char* kBothWays =
      "SELECT string_agg(format('%s %s/%s %s/%s', k, a.before, a.recent, b.before, b.recent), "
      "',' ORDER BY k) FROM (SELECT DISTINCT $1 AS k FROM cases) keys, "
      "LATERAL $0(k, DATE '2026-02-01', DATE '2026-03-20', DATE '2026-06-30', '{}') a, "
      "LATERAL $0(k, DATE '2026-02-01', DATE '2026-03-20', DATE '2026-06-30', "
      "  (SELECT array_agg(DISTINCT $2) FROM cases)) b";
  for (const auto& [fn, key, other] :
       {std::tuple{"xf_warn_unit_days", "registering_unit", "split_part(category, '.', 1)"},
        std::tuple{"xf_warn_category_days", "category", "registering_unit"}}) {
    const std::string sums = server_.db().Query(absl::Substitute(kBothWays, fn, key, other));
    for (absl::string_view row : absl::StrSplit(sums, ',')) {
      std::vector<std::string> parts = absl::StrSplit(row, ' ');
      ASSERT_EQ(parts.size(), 3u) << row;
      EXPECT_EQ(parts[1], parts[2]) << fn << ": " << row;
    }
    EXPECT_THAT(sums, ::testing::ContainsRegex("[1-9][0-9]*/[1-9]")) << fn << ": " << sums;
  }
  const std::string kept_unit_totals = server_.db().Query(kUnitTotals);
  const std::string kept_category_totals = server_.db().Query(kCategoryTotals);
  const std::string kept_days =
      server_.db().Query("SELECT string_agg(day || unit || category || n, ',' "
                         "ORDER BY day, unit, category) FROM petition_days");
  const std::string kept_months = server_.db().Query(
      "SELECT string_agg(month || unit || dim || key || n, ',' ORDER BY month, unit, dim, key) "
      "FROM situation_months");
  auto n = server_.core().warnings().Rebuild(server_.core().config().time_zone, true);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 30);
  EXPECT_EQ(server_.db().Query("SELECT string_agg(day || unit || category || n, ',' "
                               "ORDER BY day, unit, category) FROM petition_days"),
            kept_days);
  EXPECT_EQ(server_.db().Query("SELECT string_agg(month || unit || dim || key || n, ',' "
                               "ORDER BY month, unit, dim, key) FROM situation_months"),
            kept_months);
  EXPECT_NE(kept_months, "");
  EXPECT_EQ(server_.db().Query(kUnitTotals), kept_unit_totals);
  EXPECT_EQ(server_.db().Query(kCategoryTotals), kept_category_totals);
}

class ReportTest : public WarningsTest {
 protected:
  ReportTest() : WarningsTest(Local(2025, 3, 3)) {}

  absl::StatusOr<v1::GetSituationReportResponse> Report(const Caller& who,
                                                        const std::string& unit,
                                                        const std::string& period) {
    v1::GetSituationReportRequest req;
    req.set_unit(unit);
    req.set_period(period);
    v1::GetSituationReportResponse resp;
    auto ctx = server_.Context(who);
    grpc::Status s = server_.query()->GetSituationReport(ctx.get(), req, &resp);
    if (!s.ok()) return testing::FromGrpc(s);
    return resp;
  }
};

std::map<std::string, std::array<int, 3>> ByKey(
    const google::protobuf::RepeatedPtrField<v1::PeriodCount>& in) {
  std::map<std::string, std::array<int, 3>> out;
  for (const auto& c : in) out[c.key()] = {c.count(), c.previous(), c.last_year()};
  return out;
}

TEST_F(ReportTest, FiguresEqualTheTestsOwnCounts) {
  // The plan: March 2025 (a year before), February 2026 (the previous
  // month) and March 2026 (the period); the test counts as it registers.
  struct Plan {
    absl::Time at;
    int period;  // 2: last year, 1: previous, 0: the period
    int cases;
  };
  const Plan plan[] = {{Local(2025, 3, 10), 2, 5}, {Local(2026, 2, 10), 1, 7},
                       {Local(2026, 3, 10), 0, 12}};
  std::map<std::string, std::array<int, 3>> channel, category, unit, purpose;
  std::array<int, 3> total{}, group{};
  std::map<std::string, int> employers;
  int repeats = 0;
  int i = 0;
  for (const Plan& step : plan) {
    AdvanceTo(step.at);
    for (int k = 0; k < step.cases; ++k, ++i) {
      Petition p;
      p.channel = i % 2 ? v1::CHANNEL_CALL : v1::CHANNEL_ONLINE;
      p.category = i % 3 ? "wages.arrears" : "insurance";
      p.purpose = i % 4 ? v1::PURPOSE_CLAIM : v1::PURPOSE_SUGGESTION;
      p.clerk = i % 5 ? &kClerk : &kCityClerk;
      p.people = i % 6 == 0 ? 5 : 0;
      p.employer = i % 3 == 0 ? "北辰机械有限公司" : "";
      const bool same = step.period == 0 && k < 3;  // one person thrice
      if (same) {
        p.name = "周八";
        p.phone = "13300001111";
        // Same person and category: the second and third are repeats.
        p.category = "insurance";
        if (k > 0) ++repeats;
      }
      Register(p);
      const int at = step.period;
      ++total[at];
      channel[p.people > 0 ? "visit" : p.channel == v1::CHANNEL_CALL ? "call" : "online"][at]++;
      category[p.category][at]++;
      unit[p.clerk->unit][at]++;
      purpose[p.purpose == v1::PURPOSE_CLAIM ? "claim" : "suggestion"][at]++;
      if (p.people >= 5) group[at]++;
      if (at == 0 && !p.employer.empty()) employers["北辰机械"]++;
    }
  }
  Process();
  auto r = Report(kSupervisor, "", "2026-03");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->previous_period(), "2026-02");
  EXPECT_EQ(r->last_year_period(), "2025-03");
  EXPECT_EQ(r->received().count(), total[0]);
  EXPECT_EQ(r->received().previous(), total[1]);
  EXPECT_EQ(r->received().last_year(), total[2]);
  EXPECT_EQ(ByKey(r->by_channel()), channel);
  EXPECT_EQ(ByKey(r->by_category()), category);
  EXPECT_EQ(ByKey(r->by_unit()), unit);
  EXPECT_EQ(ByKey(r->by_purpose()), purpose);
  EXPECT_EQ(r->group_petitions().count(), group[0]);
  EXPECT_EQ(r->group_petitions().previous(), group[1]);
  ASSERT_EQ(r->top_employers_size(), 1);
  EXPECT_EQ(r->top_employers(0).key(), "北辰机械");
  EXPECT_EQ(r->top_employers(0).count(), employers["北辰机械"]);
  EXPECT_EQ(r->repeat_petitions().numerator(), repeats);
  EXPECT_EQ(r->repeat_petitions().denominator(), total[0]);
  ASSERT_EQ(r->repeat_petitioners_size(), 1);
  EXPECT_EQ(r->repeat_petitioners(0).masked_name(), "周*");
  EXPECT_EQ(r->repeat_petitioners(0).petitions(), repeats);
  // Every case is still open: the backlog holds them all, by age.
  int backlog = 0;
  for (const auto& b : r->backlog_by_age()) backlog += b.count();
  EXPECT_EQ(backlog, total[0] + total[1] + total[2]);
  EXPECT_EQ(r->backlog_by_age(0).key(), "0-15");
  EXPECT_EQ(r->backlog_by_age(4).key(), "91+");
  EXPECT_EQ(r->backlog_by_age(4).count(), total[2]);
  EXPECT_EQ(r->warnings_raised(),
            std::stoi(server_.db().Query(
                "SELECT count(*) FROM warnings WHERE raised_at >= '2026-03-01 00:00+08' "
                "AND raised_at < '2026-04-01 00:00+08'")));
  EXPECT_GE(r->warnings_raised(), 1);  // the repeat petitioner at least
  EXPECT_EQ(r->names().at("prov.organs.edu"), "省教育厅机关工会");
  // A quarter and a year; a subtree.
  auto q = Report(kSupervisor, "", "2026-Q1");
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->received().count(), total[0] + total[1]);
  EXPECT_EQ(q->previous_period(), "2025-Q4");
  auto y = Report(kSupervisor, "", "2025");
  ASSERT_TRUE(y.ok()) << y.status();
  EXPECT_EQ(y->received().count(), total[2]);
  auto city = Report(kCityHead, "", "2026-03");
  ASSERT_TRUE(city.ok()) << city.status();
  EXPECT_EQ(city->received().count(), unit["prov.city-a"][0]);
  // Bad periods and units name the field; another branch is refused.
  for (const char* bad : {"", "2026-13", "2026-Q5", "26-03", "2026/03", "2026-00"}) {
    EXPECT_THAT(Report(kSupervisor, "", bad), testing::StatusIs(absl::StatusCode::kInvalidArgument))
        << bad;
  }
  EXPECT_THAT(Report(kSupervisor, "nowhere", "2026"),
              testing::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Report(kCityHead, "prov.organs.edu", "2026"),
              testing::StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(Report(kClerk, "", "2026"), testing::StatusIs(absl::StatusCode::kPermissionDenied));
}

}  // namespace
}  // namespace xinfang
