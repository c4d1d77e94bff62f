// The procedure's rules end to end, over real gRPC and a real PostgreSQL:
// every petition is recorded (also one not accepted), the accused never hold
// the case, data a clerk cannot corrupt, the full case record, the deadline
// arithmetic as the API explains it, and provisional deadlines recomputed
// when a year's calendar is loaded.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "services/supervision/sweeper.h"
#include "tests/testing/petitions.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"

namespace xinfang {
namespace {

namespace v1 = xinfang::v1;
using testing::Monday;
using testing::Caller;
using ::testing::Contains;
using ::testing::HasSubstr;
using testing::IsOk;
using ::testing::Not;
using testing::StatusIs;
using testing::TestServer;

constexpr char kOffice[] = "prov.organs.office";
const Caller kClerk{"clerk1", "intake_clerk", kOffice};
const Caller kOfficer{"officer1", "case_officer", kOffice};
const Caller kHead{"head1", "unit_head", kOffice};
// The review body (the office's parent) and the re-check body (the top).
const Caller kReviewOfficer{"r-officer", "case_officer", "prov.organs"};
const Caller kReviewClerk{"r-clerk", "intake_clerk", "prov.organs"};
const Caller kRecheckOfficer{"rc-officer", "case_officer", "prov"};
const Caller kRecheckClerk{"rc-clerk", "intake_clerk", "prov"};
const Caller kEduClerk{"edu-clerk", "intake_clerk", "prov.organs.edu"};
const Caller kHealthClerk{"health-clerk", "intake_clerk", "prov.organs.health"};

// The usual petition, by 王五 against 某建筑公司.
v1::RegisterCaseRequest Petition(const std::string& request_id) {
  v1::RegisterCaseRequest r = testing::WagesVisit(request_id);
  v1::CaseIntake* in = r.mutable_intake();
  in->set_summary("某建筑公司拖欠三个月工资");
  in->clear_request();
  in->mutable_petitioners(0)->set_name("王五");
  in->mutable_petitioners(0)->set_phone("13800000001");
  return r;
}

class ProcedureTest : public ::testing::Test {
 protected:
  ProcedureTest() : server_(Monday()) {}

  absl::StatusOr<v1::RegisterCaseResponse> Register(const v1::RegisterCaseRequest& req,
                                                    const Caller& who = kClerk) {
    return server_.Register(req, who);
  }

  absl::StatusOr<v1::Case> Get(const std::string& tracking, const Caller& who = kClerk) {
    return server_.GetCase(tracking, who);
  }

  std::vector<std::string> Offered(const std::string& tracking, const Caller& who) {
    v1::ListActionsRequest req;
    req.mutable_case_()->set_tracking_number(tracking);
    v1::ListActionsResponse resp;
    auto ctx = server_.Context(who);
    EXPECT_TRUE(server_.casework()->ListActions(ctx.get(), req, &resp).ok());
    std::vector<std::string> out;
    for (const auto& a : resp.actions()) out.push_back(a.name());
    return out;
  }

  std::vector<std::string> HistoryKinds(const std::string& tracking, const Caller& who = kClerk) {
    v1::GetHistoryRequest req;
    req.mutable_case_()->set_tracking_number(tracking);
    v1::GetHistoryResponse resp;
    auto ctx = server_.Context(who);
    EXPECT_TRUE(server_.query()->GetHistory(ctx.get(), req, &resp).ok());
    std::vector<std::string> out;
    for (const auto& e : resp.events()) out.push_back(e.kind());
    return out;
  }

  const v1::Deadline* FindDeadline(const v1::Case& c, const std::string& timer) {
    for (const auto& d : c.deadlines()) {
      if (d.timer() == timer) return &d;
    }
    return nullptr;
  }

  // Drives a registered case through decision, review and re-check (with a
  // three-day hearing) to its final end; returns the tracking number.
  std::string ToFinalAfterRecheck(const std::string& request_id) {
    auto r = Register(Petition(request_id));
    EXPECT_THAT(r, IsOk());
    const std::string t = r->case_().tracking_number();
    server_.TokenFor(kOfficer);  // the officer's account exists before assignment
    EXPECT_THAT(server_.Act(t, "accept", kClerk), IsOk());
    EXPECT_THAT(server_.Act(t, "assign_officer", kHead, {{"officer", "officer1"}}), IsOk());
    EXPECT_THAT(
        server_.Act(t, "request_extension", kOfficer, {{"reason", "需调查取证"}, {"days", "10"}}),
        IsOk());
    EXPECT_THAT(server_.Act(t, "approve_extension", kHead,
                            {{"days", "10"}, {"petitioner_told_on", "2026-03-02"}}),
                IsOk());
    EXPECT_THAT(server_.Act(t, "decide", kOfficer,
                            {{"outcome", "not_supported"}, {"decision_text", "经查不予支持"}}),
                IsOk());
    EXPECT_THAT(
        server_.Act(t, "serve", kClerk, {{"served_on", "2026-03-02"}, {"method", "in_person"}, {"receipt", "signed"}, {"signed_by", "张三"}}),
        IsOk());
    EXPECT_THAT(server_.Act(t, "request_review", kClerk, {{"reasons", "不服处理意见"}}), IsOk());
    EXPECT_THAT(server_.Act(t, "review_opinion", kReviewOfficer,
                            {{"review_outcome", "upheld"}, {"opinion_text", "维持原处理意见"}}),
                IsOk());
    EXPECT_THAT(server_.Act(t, "serve_review", kReviewClerk, {{"served_on", "2026-03-02"}, {"method", "in_person"}, {"receipt", "signed"}, {"signed_by", "张三"}}),
                IsOk());
    EXPECT_THAT(server_.Act(t, "request_recheck", kClerk, {{"reasons", "仍不服"}}), IsOk());
    EXPECT_THAT(server_.Act(t, "start_hearing", kRecheckOfficer), IsOk());
    EXPECT_THAT(server_.AdvanceTo(Monday() + absl::Hours(24 * 3)), IsOk());
    EXPECT_THAT(server_.Act(t, "end_hearing", kRecheckOfficer), IsOk());
    EXPECT_THAT(server_.Act(t, "recheck_opinion", kRecheckOfficer,
                            {{"recheck_outcome", "upheld"}, {"opinion_text", "维持复查意见"}}),
                IsOk());
    EXPECT_THAT(server_.Act(t, "serve_recheck", kRecheckClerk, {{"served_on", "2026-03-05"}, {"method", "in_person"}, {"receipt", "signed"}, {"signed_by", "张三"}}),
                IsOk());
    return t;
  }

  TestServer server_;
};

// ---- A full case record, and every petition recorded ----

TEST_F(ProcedureTest, TheCaseCarriesWhatTheProcedureProduced) {
  const std::string t = ToFinalAfterRecheck("req-record-0001");
  auto c = Get(t);
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->state(), "closed");
  EXPECT_EQ(c->review_unit(), "prov.organs");
  EXPECT_EQ(c->recheck_unit(), "prov");
  ASSERT_EQ(c->extensions_size(), 1);
  EXPECT_EQ(c->extensions(0).requested_by(), "officer1");
  EXPECT_EQ(c->extensions(0).requested_days(), 10);
  EXPECT_EQ(c->extensions(0).reason(), "需调查取证");
  EXPECT_TRUE(c->extensions(0).approved());
  EXPECT_EQ(c->extensions(0).answered_by(), "head1");
  EXPECT_EQ(c->extensions(0).petitioner_told_on(), "2026-03-02");
  ASSERT_EQ(c->decisions_size(), 3);
  EXPECT_EQ(c->decisions(0).stage(), v1::STAGE_DECISION);
  EXPECT_EQ(c->decisions(0).outcome(), "not_supported");
  EXPECT_EQ(c->decisions(0).text(), "经查不予支持");
  EXPECT_EQ(c->decisions(0).decided_by(), "officer1");
  EXPECT_EQ(c->decisions(1).stage(), v1::STAGE_REVIEW);
  EXPECT_EQ(c->decisions(1).unit(), "prov.organs");
  EXPECT_EQ(c->decisions(2).stage(), v1::STAGE_RECHECK);
  EXPECT_EQ(c->decisions(2).text(), "维持复查意见");
  ASSERT_EQ(c->services_size(), 3);
  EXPECT_EQ(c->services(0).method(), "in_person");
  EXPECT_EQ(c->services(2).served_on(), "2026-03-05");
  EXPECT_EQ(c->services(2).stage(), v1::STAGE_RECHECK);
  ASSERT_EQ(c->hearings_size(), 1);
  EXPECT_TRUE(c->hearings(0).has_ended_at());
  EXPECT_EQ(c->hearings(0).ended_at().seconds() - c->hearings(0).started_at().seconds(), 3 * 86400);
  // Codes come with the names people read.
  EXPECT_EQ(c->unit_names().at("prov"), "省总工会");
  EXPECT_EQ(c->unit_names().at(kOffice), "省直机关工会信访办公室");
  EXPECT_EQ(c->category_name(), "欠薪");
}

TEST_F(ProcedureTest, AMatterFinalAfterRecheckIsRegisteredLinkedAndAnswered) {
  const std::string first = ToFinalAfterRecheck("req-final-0001");
  auto again = Register(Petition("req-final-0002"));
  ASSERT_THAT(again, IsOk());  // not refused: every petition is recorded
  const v1::Case& c = again->case_();
  EXPECT_NE(c.tracking_number(), first);
  EXPECT_EQ(c.state(), "not_accepted");
  EXPECT_EQ(c.stage(), v1::STAGE_FINAL);
  EXPECT_THAT(c.related_tracking_numbers(), Contains(first));
  EXPECT_EQ(c.attributes().at("prior_case"), first);
  EXPECT_THAT(c.attributes().at("article"), HasSubstr("第三十五条"));
  EXPECT_THAT(again->receipt(), HasSubstr(c.tracking_number()));
  EXPECT_THAT(again->receipt(), HasSubstr("不予受理"));
  // Answered in writing at once: the 不再受理告知书, numbered, naming both cases.
  auto docs = server_.core().store().Documents(c.id());
  ASSERT_THAT(docs, IsOk());
  ASSERT_EQ(docs->size(), 1u);
  EXPECT_EQ((*docs)[0].kind, "no_further_acceptance_notice");
  EXPECT_EQ((*docs)[0].event_seq, 2);  // the refusal's event
  auto doc = server_.core().store().Document((*docs)[0].number);
  ASSERT_THAT(doc, IsOk());
  EXPECT_THAT(doc->body, HasSubstr(c.tracking_number()));
  EXPECT_THAT(doc->body, HasSubstr(first));
  EXPECT_THAT(doc->body, Not(HasSubstr("{{")));
  // The same petitioner twice within seven days: the early-warning rule
  // raises on the second petition. The background pass may or may not have
  // run yet; one pass here makes the history the same every time.
  ASSERT_THAT(server_.ProcessWarnings(), IsOk());
  EXPECT_THAT(HistoryKinds(c.tracking_number()),
              ::testing::ElementsAre("registered", "not_accepted_again", "warning_raised"));
  // Counted, and counted as a repeat petition.
  storage::StatsQuery q;
  q.from = Monday() - absl::Hours(24);
  q.to = Monday() + absl::Hours(24 * 30);
  q.now = server_.core().clock().Now();
  auto stats = server_.core().store().Statistics(q);
  ASSERT_THAT(stats, IsOk());
  EXPECT_EQ(stats->received, 2);
  EXPECT_EQ(stats->repeats, 1);
  // A retry of the same registration is not a third case.
  ASSERT_THAT(Register(Petition("req-final-0002")), IsOk());
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM cases"), "2");
}

TEST_F(ProcedureTest, Art19TheSameOpenMatterAtAHigherBodyIsRecordedAndNotAcceptedHere) {
  auto below = Register(Petition("req-art19-0001"), kEduClerk);
  ASSERT_THAT(below, IsOk());
  EXPECT_EQ(below->case_().state(), "registered");
  const Caller organs_clerk{"organs-clerk", "intake_clerk", "prov.organs"};
  auto above = Register(Petition("req-art19-0002"), organs_clerk);
  ASSERT_THAT(above, IsOk());
  EXPECT_EQ(above->case_().state(), "not_accepted");
  EXPECT_EQ(above->case_().attributes().at("prior_case"), below->case_().tracking_number());
  EXPECT_THAT(above->case_().attributes().at("article"), HasSubstr("第十九条"));
  EXPECT_THAT(HistoryKinds(above->case_().tracking_number(), organs_clerk),
              Contains("not_accepted_here"));
}

// ---- The accused never hold the case ----

TEST_F(ProcedureTest, AComplaintAboutTheRegisteringOfficeLeavesItsSubtree) {
  v1::RegisterCaseRequest req = Petition("req-accused-0001");
  req.mutable_intake()->set_complained_about_unit("prov.organs.edu");
  req.mutable_intake()->set_facts_and_reasons("教育厅机关工会不作为");
  auto r = Register(req, kEduClerk);
  ASSERT_THAT(r, IsOk());
  // The office that must pass it on sees it in full, receipt included.
  EXPECT_FALSE(r->case_().redacted());
  EXPECT_EQ(r->case_().intake().petitioners(0).name(), "王五");
  EXPECT_THAT(r->receipt(), HasSubstr("某建筑公司拖欠三个月工资"));
  const std::string t = r->case_().tracking_number();
  // It may only forward the case out of its own subtree.
  std::vector<std::string> offered = Offered(t, kEduClerk);
  EXPECT_THAT(offered, Contains("forward"));
  EXPECT_THAT(offered, Not(Contains("accept")));
  EXPECT_THAT(server_.Act(t, "accept", kEduClerk),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("Art. 30")));
  ASSERT_THAT(server_.Act(t, "forward", kEduClerk, {{"target_unit", "prov.organs.health"}}),
              IsOk());
  // Once out, the accused office no longer reaches the case at all.
  EXPECT_THAT(Get(t, kEduClerk), StatusIs(absl::StatusCode::kPermissionDenied));
  // The unit above the accused office, not itself accused, reads it in full.
  const Caller organs_head{"organs-head", "unit_head", "prov.organs"};
  auto above = Get(t, organs_head);
  ASSERT_THAT(above, IsOk());
  EXPECT_FALSE(above->redacted());
  auto holder = Get(t, kHealthClerk);
  ASSERT_THAT(holder, IsOk());
  EXPECT_FALSE(holder->redacted());
  ASSERT_EQ(holder->routing_size(), 1);
  EXPECT_EQ(holder->routing(0).from_unit(), "prov.organs.edu");
  EXPECT_EQ(holder->routing(0).to_unit(), "prov.organs.health");
}

TEST_F(ProcedureTest, ForwardingToTheUnitComplainedAboutIsRefused) {
  v1::RegisterCaseRequest req = Petition("req-accused-0002");
  req.mutable_intake()->set_complained_about_unit("prov.organs.edu");
  const Caller organs_clerk{"organs-clerk", "intake_clerk", "prov.organs"};
  auto r = Register(req, organs_clerk);
  ASSERT_THAT(r, IsOk());
  const std::string t = r->case_().tracking_number();
  for (const char* action : {"forward", "assign"}) {
    EXPECT_THAT(server_.Act(t, action, organs_clerk, {{"target_unit", "prov.organs.edu"}}),
                StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("Art. 30")));
  }
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM case_events"), "1");
}

TEST_F(ProcedureTest, AssignOfficerTakesOnlyAnEnabledOfficerOfTheUnit) {
  auto r = Register(Petition("req-assign-0001"));
  ASSERT_THAT(r, IsOk());
  const std::string t = r->case_().tracking_number();
  ASSERT_THAT(server_.Act(t, "accept", kClerk), IsOk());
  server_.TokenFor(kClerk);
  server_.TokenFor(Caller{"far-officer", "case_officer", "prov.organs.edu"});
  server_.TokenFor(Caller{"gone-officer", "case_officer", kOffice});
  server_.db().Exec("UPDATE accounts SET disabled_at = now() WHERE name = 'gone-officer'");
  EXPECT_THAT(server_.Act(t, "assign_officer", kHead, {{"officer", "nobody"}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("fields.officer")));
  EXPECT_THAT(
      server_.Act(t, "assign_officer", kHead, {{"officer", "clerk1"}}),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not a case_officer")));
  EXPECT_THAT(server_.Act(t, "assign_officer", kHead, {{"officer", "far-officer"}}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("responsible unit")));
  EXPECT_THAT(server_.Act(t, "assign_officer", kHead, {{"officer", "gone-officer"}}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("disabled")));
  server_.TokenFor(kOfficer);
  auto assigned = server_.Act(t, "assign_officer", kHead, {{"officer", "officer1"}});
  ASSERT_THAT(assigned, IsOk());
  EXPECT_EQ(assigned->case_officer(), "officer1");
}

// ---- Data a clerk cannot corrupt ----

TEST_F(ProcedureTest, AnIdNumberRegisteredUnderAnotherNameIsNotMergedSilently) {
  ASSERT_THAT(Register(Petition("req-person-0001")), IsOk());
  v1::RegisterCaseRequest other = Petition("req-person-0002");
  other.mutable_intake()->mutable_petitioners(0)->set_name("赵六");
  other.mutable_intake()->set_category("contract.dismissal");
  auto refused = Register(other);
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kFailedPrecondition,
                                HasSubstr("intake.petitioners[0].id_number")));
  EXPECT_THAT(refused.status().message(), HasSubstr("王*"));
  EXPECT_THAT(refused.status().message(), Not(HasSubstr("王五")));
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM cases"), "1");
  // Confirmed by the clerk: registered to that person; earlier names stay.
  other.set_request_id("req-person-0003");
  other.mutable_intake()->mutable_petitioners(0)->set_same_person_confirmed(true);
  auto confirmed = Register(other);
  ASSERT_THAT(confirmed, IsOk());
  EXPECT_EQ(confirmed->case_().intake().petitioners(0).name(), "赵六");
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM persons"), "1");
  EXPECT_EQ(server_.db().Query("SELECT name FROM persons"), "王五");
  EXPECT_EQ(
      server_.db().Query("SELECT intake->'petitioners'->0->>'name' FROM cases ORDER BY id LIMIT 1"),
      "王五");
}

// A refusal at a later petitioner leaves nothing of the registration: the
// earlier petitioner the registry took in during the same call is gone too.
TEST_F(ProcedureTest, ARegistrationRefusedAtItsSecondPetitionerRegistersNoOne) {
  ASSERT_THAT(Register(Petition("req-person-0101")), IsOk());
  v1::RegisterCaseRequest two = Petition("req-person-0102");
  two.mutable_intake()->mutable_visit()->set_people_present(2);
  v1::Petitioner first = two.intake().petitioners(0);
  auto* newcomer = two.mutable_intake()->mutable_petitioners(0);
  newcomer->Clear();
  newcomer->set_name("孙七");
  newcomer->set_phone("13800000077");
  *two.mutable_intake()->add_petitioners() = first;
  two.mutable_intake()->mutable_petitioners(1)->set_name("赵六");  // not the registry's 王五
  EXPECT_THAT(Register(two), StatusIs(absl::StatusCode::kFailedPrecondition,
                                      HasSubstr("intake.petitioners[1].id_number")));
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM cases"), "1");
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM persons"), "1");
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM case_petitioners"), "1");
}

TEST_F(ProcedureTest, AGroupVisitNamesItsRepresentatives) {
  v1::RegisterCaseRequest req = Petition("req-group-0001");
  req.mutable_intake()->mutable_visit()->set_people_present(8);
  EXPECT_THAT(Register(req), StatusIs(absl::StatusCode::kInvalidArgument,
                                      HasSubstr("intake.visit.representatives")));
  req.mutable_intake()->mutable_visit()->add_representatives("代表甲");
  EXPECT_THAT(Register(req), IsOk());
}

// ---- Deadlines as the API explains them ----

TEST_F(ProcedureTest, EachDeadlineSaysHowItWasComputed) {
  auto r = Register(Petition("req-deadline-01"));
  ASSERT_THAT(r, IsOk());
  const std::string t = r->case_().tracking_number();
  const v1::Deadline* notice = FindDeadline(r->case_(), "intake_notice");
  ASSERT_NE(notice, nullptr);
  EXPECT_EQ(notice->counted_from(), "2026-03-02");
  EXPECT_EQ(notice->base_days(), 15);
  EXPECT_EQ(notice->explanation(), "2026-03-02 + 15 days = 2026-03-17");
  server_.TokenFor(kOfficer);
  ASSERT_THAT(server_.Act(t, "accept", kClerk), IsOk());
  ASSERT_THAT(server_.Act(t, "assign_officer", kHead, {{"officer", "officer1"}}), IsOk());
  ASSERT_THAT(server_.Act(t, "request_extension", kOfficer, {{"reason", "复杂"}, {"days", "30"}}),
              IsOk());
  auto extended = server_.Act(t, "approve_extension", kHead,
                              {{"days", "30"}, {"petitioner_told_on", "2026-03-02"}});
  ASSERT_THAT(extended, IsOk());
  const v1::Deadline* handling = FindDeadline(*extended, "handling");
  ASSERT_NE(handling, nullptr);
  // 2026-03-02 + 60 + 30 days = 2026-05-31, a Sunday → Monday 06-01.
  EXPECT_EQ(handling->due_date(), "2026-06-01");
  EXPECT_EQ(handling->extension_days(), 30);
  EXPECT_TRUE(handling->rolled());
  EXPECT_EQ(handling->explanation(),
            "2026-03-02 + 60 + 30 (extension) days = 2026-05-31, a rest day, rolled to 2026-06-01");
}

// A deadline counted into a year with no holiday arrangement is provisional;
// once that year's calendar is loaded it is recomputed, recorded in the
// history, and no longer provisional.
TEST(ProvisionalDeadlineTest, RecomputedWhenTheYearsCalendarIsLoaded) {
  // 2026-12-20 + 15 days = 2027-01-04, a Monday: provisional (no 2027 file).
  TestServer server(
      absl::FromCivil(absl::CivilSecond(2026, 12, 20, 10, 0, 0), absl::FixedTimeZone(8 * 3600)),
      /*sweeper=*/false);
  auto registered = server.Register(Petition("req-provisional-1"), kClerk);
  ASSERT_THAT(registered, IsOk());
  const std::string t = registered->case_().tracking_number();
  bool provisional = false;
  for (const auto& d : registered->case_().deadlines()) {
    if (d.timer() == "intake_notice") {
      EXPECT_EQ(d.due_date(), "2027-01-04");
      provisional = d.provisional();
    }
  }
  ASSERT_TRUE(provisional);

  // The office adds 2027's arrangement (here: 1/1–1/4 off) to its data directory.
  const std::string data = absl::StrCat(::testing::TempDir(), "/xf-data-", getpid());
  std::filesystem::remove_all(data);
  std::filesystem::copy(testing::SourceDir() + "/deploy", data,
                        std::filesystem::copy_options::recursive);
  {
    std::ofstream y(data + "/calendar/2027.textproto");
    y << "year: 2027\n";
    for (const char* d : {"2027-01-01", "2027-01-02", "2027-01-03", "2027-01-04"}) {
      y << "overrides { date: \"" << d << "\" kind: DAY_OVERRIDE_KIND_OFF name: \"元旦\" }\n";
    }
  }
  ServerConfig config;
  config.db_url = server.db().url();
  config.data_dir = data;
  config.pool_size = 2;
  config.simulated_clock =
      absl::FromCivil(absl::CivilSecond(2026, 12, 21, 10, 0, 0), absl::FixedTimeZone(8 * 3600));
  auto restarted = Core::Open(config);
  ASSERT_THAT(restarted, IsOk());
  supervision::Sweeper sweeper(**restarted, supervision::SweeperOptions{});
  EXPECT_THAT(sweeper.RecomputeProvisional(), testing::IsOkAndHolds(1));
  EXPECT_THAT(sweeper.RecomputeProvisional(), testing::IsOkAndHolds(0));  // nothing left to do

  auto after = server.GetCase(t, kClerk);
  ASSERT_THAT(after, IsOk());
  bool found = false;
  for (const auto& d : after->deadlines()) {
    if (d.timer() != "intake_notice") continue;
    found = true;
    EXPECT_EQ(d.due_date(), "2027-01-05");
    EXPECT_FALSE(d.provisional());
    EXPECT_EQ(d.explanation(),
              "2026-12-20 + 15 days = 2027-01-04, a rest day, rolled to 2027-01-05");
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(
      server.db().Query("SELECT count(*) FROM case_events WHERE kind = 'deadline_recomputed'"),
      "1");
  EXPECT_EQ(server.db().Query(
                "SELECT fields->>'old_due_day' || ' ' || (fields->>'due_day') FROM case_events "
                "WHERE kind = 'deadline_recomputed'"),
            "2027-01-04 2027-01-05");
  std::filesystem::remove_all(data);
}

}  // namespace
}  // namespace xinfang
