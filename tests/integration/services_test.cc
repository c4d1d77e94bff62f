// The services over real gRPC on loopback, against a real PostgreSQL.
#include <gmock/gmock.h>
#include <google/protobuf/descriptor.pb.h>
#include <gtest/gtest.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "tests/testing/petitions.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"

namespace xinfang {
namespace {

namespace v1 = xinfang::v1;
using testing::Monday;
using testing::Caller;
using testing::TestServer;
using ::testing::HasSubstr;

const Caller kClerk{"clerk1", "intake_clerk", "prov.organs.office"};
const Caller kOfficer{"officer1", "case_officer", "prov.organs.office"};
const Caller kHead{"head1", "unit_head", "prov.organs.office"};
const Caller kSupervisor{"sup1", "supervisor", "prov.organs"};

// The usual petition brought by two people, 李四 speaking for them, against
// no named employer.
v1::RegisterCaseRequest VisitRequest(const std::string& request_id) {
  v1::RegisterCaseRequest r = testing::WagesVisit(request_id);
  r.mutable_intake()->mutable_visit()->set_people_present(2);
  r.mutable_intake()->mutable_visit()->add_representatives("李四");
  r.mutable_intake()->clear_complained_about();
  return r;
}

class ServicesTest : public ::testing::Test {
 protected:
  explicit ServicesTest(std::optional<absl::Time> start = Monday()) : server_(start) {
    // The officers the tests assign: accounts of the office (officer0..5).
    for (int i = 0; i < 6; ++i) {
      server_.TokenFor(Caller{absl::StrCat("officer", i), "case_officer", kOfficer.unit});
    }
  }

  absl::StatusOr<v1::RegisterCaseResponse> Register(const v1::RegisterCaseRequest& req,
                                                    const Caller& who = kClerk) {
    return server_.Register(req, who);
  }

  absl::StatusOr<v1::Case> Get(const std::string& tracking, const Caller& who = kClerk) {
    return server_.GetCase(tracking, who);
  }

  absl::StatusOr<v1::Case> Act(const std::string& tracking, const std::string& action,
                               const Caller& who, std::map<std::string, std::string> fields = {},
                               int64_t version = 0) {
    return server_.Act(tracking, action, who, fields, version);
  }

  TestServer server_;
};

TEST_F(ServicesTest, RegisterAndReadBack) {
  auto r = Register(VisitRequest("req-visit-0001"));
  ASSERT_THAT(r, testing::IsOk());
  const v1::Case& c = r->case_();
  EXPECT_THAT(c.tracking_number(), HasSubstr("XF20260302-"));
  EXPECT_EQ(c.state(), "registered");
  EXPECT_EQ(c.state_title(), "已登记 registered");  // the definition's title
  EXPECT_EQ(c.stage(), v1::STAGE_INTAKE);
  EXPECT_EQ(c.responsible_unit(), "prov.organs.office");
  EXPECT_EQ(c.registered_by(), "clerk1");
  // Received 2026-03-02: the 15-day intake notice is due 2026-03-17 (a Tuesday).
  bool found = false;
  for (const auto& d : c.deadlines()) {
    if (d.timer() == "intake_notice") {
      found = true;
      EXPECT_EQ(d.purpose(), v1::TIMER_PURPOSE_INTAKE_NOTICE);
      EXPECT_EQ(d.due_date(), "2026-03-17");
      EXPECT_FALSE(d.provisional());
    }
  }
  EXPECT_TRUE(found);
  EXPECT_THAT(r->receipt(), HasSubstr(c.tracking_number()));
  EXPECT_THAT(r->receipt(), HasSubstr("2026年03月17日"));

  auto back = Get(c.tracking_number());
  ASSERT_THAT(back, testing::IsOk());
  EXPECT_EQ(back->intake().petitioners(0).name(), "张三");
  EXPECT_EQ(back->intake().visit().representatives(0), "李四");
  EXPECT_EQ(back->version(), 1);
  EXPECT_THAT(Get("XF20260302-999999"), testing::StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(ServicesTest, RetriedRegistrationReturnsTheSameCase) {
  auto first = Register(VisitRequest("req-retry-0001"));
  ASSERT_THAT(first, testing::IsOk());
  auto retry = Register(VisitRequest("req-retry-0001"));
  ASSERT_THAT(retry, testing::IsOk());
  EXPECT_TRUE(retry->replayed());
  EXPECT_EQ(retry->case_().tracking_number(), first->case_().tracking_number());
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM cases"), "1");
}

TEST_F(ServicesTest, CallerMustIdentifyAndHoldARole) {
  EXPECT_THAT(Register(VisitRequest("req-anon-0001"), Caller{}),
              testing::StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(Register(VisitRequest("req-anon-0002"), Caller{"x", "wizard", "prov"}),
              testing::StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(Register(VisitRequest("req-sup-0001"), kSupervisor),
              testing::StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM cases"), "0");
}

struct BadInput {
  const char* name;
  std::function<void(v1::RegisterCaseRequest&)> spoil;
  const char* field;
};

TEST_F(ServicesTest, BadInputNamesTheFieldAndWritesNothing) {
  const std::vector<BadInput> cases = {
      {"no request id", [](auto& r) { r.set_request_id(""); }, "request_id"},
      {"no channel", [](auto& r) { r.mutable_intake()->set_channel(v1::CHANNEL_UNSPECIFIED); },
       "intake.channel"},
      {"details of another channel",
       [](auto& r) { r.mutable_intake()->mutable_call()->set_caller_number("13800000000"); },
       "intake.channel_details"},
      {"empty summary", [](auto& r) { r.mutable_intake()->set_summary("   "); }, "intake.summary"},
      {"oversized summary", [](auto& r) { r.mutable_intake()->set_summary(std::string(501 * 3, 'a')); },
       "intake.summary"},
      {"control character", [](auto& r) { r.mutable_intake()->set_request("bad \x01 byte"); },
       "intake.request"},
      {"bad ID checksum",
       [](auto& r) { r.mutable_intake()->mutable_petitioners(0)->set_id_number("110105194912310021"); },
       "intake.petitioners[0].id_number"},
      {"bad phone", [](auto& r) { r.mutable_intake()->mutable_petitioners(0)->set_phone("call me"); },
       "intake.petitioners[0].phone"},
      {"unknown category", [](auto& r) { r.mutable_intake()->set_category("wages.nonexistent"); },
       "intake.category"},
      {"unknown unit complained about",
       [](auto& r) { r.mutable_intake()->set_complained_about_unit("nowhere"); },
       "intake.complained_about_unit"},
      {"future receipt",
       [](auto& r) {
         r.mutable_intake()->mutable_received_at()->set_seconds(absl::ToUnixSeconds(Monday()) + 3600);
       },
       "intake.received_at"},
      {"receipt too old",
       [](auto& r) {
         r.mutable_intake()->mutable_received_at()->set_seconds(absl::ToUnixSeconds(Monday()) -
                                                                86400 * 400);
       },
       "intake.received_at"},
      {"six representatives",
       [](auto& r) {
         for (int i = 0; i < 5; ++i) r.mutable_intake()->mutable_visit()->add_representatives("代表");
       },
       "intake.visit.representatives"},
      {"no petitioner and not anonymous", [](auto& r) { r.mutable_intake()->clear_petitioners(); },
       "intake.petitioners"},
      {"no purpose", [](auto& r) { r.mutable_intake()->set_purpose(v1::PURPOSE_UNSPECIFIED); },
       "intake.purpose"},
  };
  int n = 0;
  for (const BadInput& b : cases) {
    SCOPED_TRACE(b.name);
    v1::RegisterCaseRequest req = VisitRequest(absl::StrCat("req-bad-input-", n++));
    b.spoil(req);
    auto r = Register(req);
    EXPECT_THAT(r, testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(b.field)));
  }
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM cases"), "0");
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM case_events"), "0");
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM persons"), "0");
}

TEST_F(ServicesTest, AnonymousPetitionOwesNoNotice) {
  v1::RegisterCaseRequest req = VisitRequest("req-anonymous-01");
  req.mutable_intake()->clear_petitioners();
  req.mutable_intake()->set_anonymous(true);
  auto r = Register(req);
  ASSERT_THAT(r, testing::IsOk());
  for (const auto& d : r->case_().deadlines()) EXPECT_NE(d.timer(), "intake_notice");
}

TEST_F(ServicesTest, TheProofOfServiceIsRecordedAndItsPeopleAreRedacted) {
  auto r = Register(VisitRequest("req-proof-00001"));
  ASSERT_THAT(r, testing::IsOk());
  const std::string t = r->case_().tracking_number();
  ASSERT_THAT(Act(t, "accept", kClerk), testing::IsOk());
  ASSERT_THAT(Act(t, "assign_officer", kHead, {{"officer", "officer1"}}), testing::IsOk());
  ASSERT_THAT(Act(t, "decide", kOfficer, {{"outcome", "support"}, {"decision_text", "支持"}}),
              testing::IsOk());
  // No proof, no service: the method and the receipt are required, and a
  // refusal needs its witness.
  EXPECT_THAT(Act(t, "serve", kClerk, {{"served_on", "2026-03-02"}}),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, "fields.method: required"));
  EXPECT_THAT(Act(t, "serve", kClerk,
                  {{"served_on", "2026-03-02"}, {"method", "in_person"}, {"receipt", "refused"}}),
              testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                "fields.witness: required when receipt is \"refused\""));
  auto served = Act(t, "serve", kClerk,
                    {{"served_on", "2026-03-02"},
                     {"method", "in_person"},
                     {"receipt", "refused"},
                     {"witness", "社区主任李四"},
                     {"served_by", "王送达"}});
  ASSERT_THAT(served, testing::IsOk());
  ASSERT_EQ(served->services_size(), 1);
  const v1::ServiceRecord& s = served->services(0);
  EXPECT_EQ(s.served_on(), "2026-03-02");
  EXPECT_EQ(s.method(), "in_person");
  EXPECT_EQ(s.receipt(), "refused");
  EXPECT_EQ(s.witness(), "社区主任李四");
  EXPECT_EQ(s.served_by(), "王送达");
  EXPECT_EQ(s.recorded_by(), "clerk1");
  // The windows count from the proven date.
  for (const v1::Deadline& d : served->deadlines()) {
    if (d.purpose() == v1::TIMER_PURPOSE_REVIEW_REQUEST) EXPECT_EQ(d.due_date(), "2026-04-01");
  }
  // A service account sees the case redacted: not the people on the receipt.
  auto svc = server_.GetCase(t, Caller{"svc1", "service", "prov"});
  ASSERT_THAT(svc, testing::IsOk());
  ASSERT_TRUE(svc->redacted());
  ASSERT_EQ(svc->services_size(), 1);
  EXPECT_EQ(svc->services(0).receipt(), "refused");
  EXPECT_EQ(svc->services(0).witness(), "");
  EXPECT_EQ(svc->services(0).served_by(), "王送达");  // staff, not the petitioner's side
  EXPECT_EQ(svc->services(0).served_on(), "2026-03-02");
  // Nor in the history: the serve event keeps its choices and date only.
  auto ctx = server_.Context(Caller{"svc1", "service", "prov"});
  v1::GetHistoryRequest hreq;
  hreq.mutable_case_()->set_tracking_number(t);
  v1::GetHistoryResponse history;
  ASSERT_TRUE(server_.query()->GetHistory(ctx.get(), hreq, &history).ok());
  bool seen = false;
  for (const v1::CaseEvent& e : history.events()) {
    if (e.action() != "serve") continue;
    seen = true;
    EXPECT_EQ(e.fields().at("receipt"), "refused");
    EXPECT_EQ(e.fields().count("witness"), 0u);
    EXPECT_EQ(e.fields().count("served_by"), 0u);
  }
  EXPECT_TRUE(seen);
}

TEST_F(ServicesTest, AFullLifeThroughEveryHandlingStep) {
  auto r = Register(VisitRequest("req-life-000001"));
  ASSERT_THAT(r, testing::IsOk());
  const std::string t = r->case_().tracking_number();
  ASSERT_THAT(Act(t, "accept", kClerk), testing::IsOk());
  ASSERT_THAT(Act(t, "assign_officer", kHead, {{"officer", "officer1"}}), testing::IsOk());
  ASSERT_THAT(Act(t, "decide", kOfficer, {{"outcome", "support"}, {"decision_text", "支持其诉求"}}),
              testing::IsOk());
  ASSERT_THAT(Act(t, "serve", kClerk, {{"served_on", "2026-03-02"}, {"method", "in_person"}, {"receipt", "signed"}, {"signed_by", "张三"}}), testing::IsOk());
  ASSERT_THAT(Act(t, "evaluate", kClerk,
                  {{"rating", "satisfied"}, {"office_rating", "satisfied"}, {"channel", "visit"}}), testing::IsOk());
  auto closed = Act(t, "close", kOfficer);
  ASSERT_THAT(closed, testing::IsOk());
  EXPECT_EQ(closed->state(), "closed");
  EXPECT_EQ(closed->stage(), v1::STAGE_FINAL);
  EXPECT_EQ(closed->outcome(), "support");
  EXPECT_EQ(closed->evaluation(), "satisfied");
  EXPECT_EQ(closed->case_officer(), "officer1");
  EXPECT_EQ(closed->version(), 7);
  EXPECT_EQ(closed->deadlines_size(), 0);

  v1::VerifyHistoryRequest vreq;
  vreq.mutable_case_()->set_tracking_number(t);
  v1::VerifyHistoryResponse vresp;
  auto ctx = server_.Context(kSupervisor);
  ASSERT_TRUE(server_.casework()->VerifyHistory(ctx.get(), vreq, &vresp).ok());
  EXPECT_TRUE(vresp.intact());
  EXPECT_EQ(vresp.events(), 7);

  server_.db().Exec("ALTER TABLE case_events DISABLE TRIGGER case_events_append_only");
  server_.db().Exec("UPDATE case_events SET actor = 'someone_else' WHERE seq = 4");
  auto ctx2 = server_.Context(kSupervisor);
  ASSERT_TRUE(server_.casework()->VerifyHistory(ctx2.get(), vreq, &vresp).ok());
  EXPECT_FALSE(vresp.intact());
  EXPECT_EQ(vresp.first_broken_seq(), 4);
}

TEST_F(ServicesTest, RefusalsCarryTheRightCodeAndWriteNothing) {
  auto r = Register(VisitRequest("req-refuse-0001"));
  ASSERT_THAT(r, testing::IsOk());
  const std::string t = r->case_().tracking_number();
  // Wrong state: nothing to decide before acceptance.
  EXPECT_THAT(Act(t, "decide", kOfficer, {{"outcome", "support"}, {"decision_text", "x"}}),
              testing::StatusIs(absl::StatusCode::kFailedPrecondition));
  // Role: a supervisor may not accept.
  EXPECT_THAT(Act(t, "accept", kSupervisor), testing::StatusIs(absl::StatusCode::kPermissionDenied));
  // Unknown action.
  EXPECT_THAT(Act(t, "teleport", kClerk), testing::StatusIs(absl::StatusCode::kNotFound));
  // Stale version.
  EXPECT_THAT(Act(t, "accept", kClerk, {}, 7), testing::StatusIs(absl::StatusCode::kAborted));
  ASSERT_THAT(Act(t, "accept", kClerk), testing::IsOk());
  // Missing required field.
  EXPECT_THAT(Act(t, "assign_officer", kHead),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("officer")));
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM case_events"), "2");
  EXPECT_EQ(server_.db().Query("SELECT version FROM cases"), "2");
}

// Art. 28 through the service: the declaration is stored with the case and
// blocks assigning that officer; the case stays in its state.
TEST_F(ServicesTest, DeclaredConflictBlocksAssignment) {
  auto r = Register(VisitRequest("req-recusal-0001"));
  ASSERT_THAT(r, testing::IsOk());
  const std::string t = r->case_().tracking_number();
  ASSERT_THAT(Act(t, "accept", kClerk), testing::IsOk());
  auto declared = Act(t, "declare_conflict", kOfficer,
                      {{"account", "officer1"}, {"reason", "与信访人系亲属"}});
  ASSERT_THAT(declared, testing::IsOk());
  EXPECT_EQ(declared->state(), "accepted");
  EXPECT_THAT(Act(t, "assign_officer", kHead, {{"officer", "officer1"}}),
              testing::StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("Art. 28")));
  EXPECT_THAT(Act(t, "assign_officer", kHead, {{"officer", "officer2"}}), testing::IsOk());
  EXPECT_EQ(server_.db().Query("SELECT conflicted_accounts FROM cases"), "officer1");
}

TEST_F(ServicesTest, TwoClientsOnOneVersionExactlyOneWins) {
  auto r = Register(VisitRequest("req-race-000001"));
  ASSERT_THAT(r, testing::IsOk());
  const std::string t = r->case_().tracking_number();
  ASSERT_THAT(Act(t, "accept", kClerk), testing::IsOk());
  std::vector<absl::Status> results(6);
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      results[i] = Act(t, "assign_officer", kHead, {{"officer", absl::StrCat("officer", i)}}, 2)
                       .status();
    });
  }
  for (auto& th : threads) th.join();
  int ok = 0, aborted = 0;
  for (const auto& s : results) {
    if (s.ok()) ++ok;
    if (s.code() == absl::StatusCode::kAborted) ++aborted;
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(aborted, 5);
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM case_events"), "3");
}

TEST_F(ServicesTest, SimulatedClockMovesDeadlinesToOverdue) {
  auto r = Register(VisitRequest("req-clock-00001"));
  ASSERT_THAT(r, testing::IsOk());
  const std::string t = r->case_().tracking_number();
  v1::AdvanceClockRequest adv;
  adv.set_seconds(16 * 86400);
  v1::AdvanceClockResponse resp;
  auto ctx = server_.Context(kClerk);
  EXPECT_EQ(server_.admin()->AdvanceClock(ctx.get(), adv, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  auto ctx2 = server_.Context(kSupervisor);
  ASSERT_TRUE(server_.admin()->AdvanceClock(ctx2.get(), adv, &resp).ok());
  EXPECT_EQ(resp.now().seconds(), absl::ToUnixSeconds(Monday()) + 16 * 86400);
  auto c = Get(t);
  ASSERT_THAT(c, testing::IsOk());
  bool overdue = false;
  for (const auto& d : c->deadlines()) overdue = overdue || (d.timer() == "intake_notice" && d.overdue());
  EXPECT_TRUE(overdue);

  v1::ListDeadlinesRequest lreq;
  lreq.set_overdue_only(true);
  lreq.set_unit("prov.organs");
  v1::ListDeadlinesResponse lresp;
  auto ctx3 = server_.Context(kSupervisor);
  ASSERT_TRUE(server_.supervision()->ListDeadlines(ctx3.get(), lreq, &lresp).ok());
  ASSERT_GE(lresp.items_size(), 1);
  EXPECT_EQ(lresp.items(0).tracking_number(), t);
  // Another branch of the tree is not this supervisor's to see.
  lreq.set_unit("prov.city-a");
  auto ctx4 = server_.Context(kSupervisor);
  EXPECT_EQ(server_.supervision()->ListDeadlines(ctx4.get(), lreq, &lresp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

v1::RegisterCaseRequest ChannelRequest(v1::Channel channel, const std::string& request_id) {
  v1::RegisterCaseRequest r = VisitRequest(request_id);
  v1::CaseIntake* in = r.mutable_intake();
  in->set_channel(channel);
  switch (channel) {
    case v1::CHANNEL_CALL:
      in->mutable_call()->set_caller_number("12351");
      in->mutable_call()->set_call_reference("CALL-0001");
      break;
    case v1::CHANNEL_LETTER:
      in->mutable_letter()->set_postmark_date("2026-02-27");
      in->mutable_letter()->set_sender_address("某市某区某路1号");
      in->mutable_letter()->add_scan_references("scan://letters/0001.pdf");
      break;
    case v1::CHANNEL_ONLINE:
      in->mutable_online()->set_platform("12351");
      in->mutable_online()->set_reference("WX-0001");
      break;
    default:
      break;
  }
  in->set_complained_about("某建筑公司");
  return r;
}

class ChannelLifeTest : public ServicesTest,
                        public ::testing::WithParamInterface<v1::Channel> {};

// Every channel through handling, a dissatisfied evaluation, review by the
// next-higher unit, re-check by the one above with a hearing, and finality:
// afterwards the same matter is never accepted again.
TEST_P(ChannelLifeTest, ThroughReviewAndRecheckToFinality) {
  const Caller kReviewHead{"rhead", "unit_head", "prov.organs"};
  const Caller kRecheckHead{"chead", "unit_head", "prov"};
  const std::string rid = absl::StrCat("req-life-ch-", static_cast<int>(GetParam()));
  auto r = Register(ChannelRequest(GetParam(), rid));
  ASSERT_THAT(r, testing::IsOk());
  const std::string t = r->case_().tracking_number();
  EXPECT_EQ(r->case_().intake().channel(), GetParam());
  ASSERT_THAT(Act(t, "accept", kClerk), testing::IsOk());
  ASSERT_THAT(Act(t, "assign_officer", kHead, {{"officer", "officer1"}}), testing::IsOk());
  ASSERT_THAT(Act(t, "decide", kOfficer, {{"outcome", "not_supported"}, {"decision_text", "不予支持"}}),
              testing::IsOk());
  ASSERT_THAT(Act(t, "serve", kClerk, {{"served_on", "2026-03-02"}, {"method", "in_person"}, {"receipt", "signed"}, {"signed_by", "张三"}}), testing::IsOk());
  ASSERT_THAT(Act(t, "evaluate", kClerk,
                  {{"rating", "dissatisfied"},
                   {"rating_reason", "欠薪未解决"},
                   {"office_rating", "satisfied"},
                   {"channel", "call"}}), testing::IsOk());
  auto review = Act(t, "request_review", kClerk, {{"reasons", "事实认定有误"}});
  ASSERT_THAT(review, testing::IsOk());
  EXPECT_EQ(review->stage(), v1::STAGE_REVIEW);
  // The review is answered by the next-higher unit only.
  EXPECT_THAT(Act(t, "review_opinion", kHead, {{"review_outcome", "upheld"}, {"opinion_text", "维持"}}),
              testing::StatusIs(absl::StatusCode::kPermissionDenied));
  ASSERT_THAT(Act(t, "review_opinion", kReviewHead,
                  {{"review_outcome", "upheld"}, {"opinion_text", "维持原处理意见"}}),
              testing::IsOk());
  ASSERT_THAT(Act(t, "serve_review", kReviewHead, {{"served_on", "2026-03-02"}, {"method", "in_person"}, {"receipt", "signed"}, {"signed_by", "张三"}}), testing::IsOk());
  ASSERT_THAT(Act(t, "request_recheck", kClerk, {{"reasons", "仍不服"}}), testing::IsOk());
  // Re-check belongs to the unit above the reviewer.
  EXPECT_THAT(Act(t, "start_hearing", kReviewHead), testing::StatusIs(absl::StatusCode::kPermissionDenied));
  auto hearing = Act(t, "start_hearing", kRecheckHead);
  ASSERT_THAT(hearing, testing::IsOk());
  bool suspended = false;
  for (const auto& d : hearing->deadlines()) suspended = suspended || (d.timer() == "recheck_answer" && d.suspended());
  EXPECT_TRUE(suspended);
  ASSERT_THAT(Act(t, "end_hearing", kRecheckHead), testing::IsOk());
  ASSERT_THAT(Act(t, "recheck_opinion", kRecheckHead,
                  {{"recheck_outcome", "upheld"}, {"opinion_text", "复核维持"}}),
              testing::IsOk());
  auto final = Act(t, "serve_recheck", kRecheckHead, {{"served_on", "2026-03-02"}, {"method", "in_person"}, {"receipt", "signed"}, {"signed_by", "张三"}});
  ASSERT_THAT(final, testing::IsOk());
  EXPECT_EQ(final->state(), "closed");
  EXPECT_EQ(final->stage(), v1::STAGE_FINAL);
  EXPECT_THAT(final->flags(), ::testing::Contains("final_after_recheck"));
  EXPECT_EQ(final->deadlines_size(), 0);
  EXPECT_EQ(final->version(), 14);  // registration + 13 actions

  // The same facts and reasons are not accepted again, at any unit: the
  // petition is recorded and answered "not accepted", linked to the case.
  auto again = Register(ChannelRequest(GetParam(), rid + "-again"));
  ASSERT_THAT(again, testing::IsOk());
  EXPECT_EQ(again->case_().state(), "not_accepted");
  EXPECT_EQ(again->case_().attributes().at("prior_case"), t);
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM cases"), "2");
}

INSTANTIATE_TEST_SUITE_P(EveryChannel, ChannelLifeTest,
                         ::testing::Values(v1::CHANNEL_VISIT, v1::CHANNEL_CALL,
                                           v1::CHANNEL_LETTER, v1::CHANNEL_ONLINE));

// Art. 19: a matter open and within its time limits at a lower unit is not
// accepted when brought to a higher body (recorded, answered); at the same
// unit it is a repeat.
TEST_F(ServicesTest, SameMatterOpenBelowIsNotAcceptedAbove) {
  const Caller kEduClerk{"edu1", "intake_clerk", "prov.organs.edu"};
  const Caller kOrgansClerk{"org1", "intake_clerk", "prov.organs"};
  auto below = Register(ChannelRequest(v1::CHANNEL_VISIT, "req-art19-below"), kEduClerk);
  ASSERT_THAT(below, testing::IsOk());
  auto above = Register(ChannelRequest(v1::CHANNEL_LETTER, "req-art19-above"), kOrgansClerk);
  ASSERT_THAT(above, testing::IsOk());
  EXPECT_EQ(above->case_().state(), "not_accepted");
  EXPECT_EQ(above->case_().attributes().at("prior_case"), below->case_().tracking_number());
  EXPECT_THAT(above->case_().attributes().at("article"), HasSubstr("第十九条"));
  // A different matter of the same petitioner is fine above.
  v1::RegisterCaseRequest other = ChannelRequest(v1::CHANNEL_LETTER, "req-art19-other");
  other.mutable_intake()->set_category("insurance");
  EXPECT_THAT(Register(other, kOrgansClerk), testing::IsOk());
  // The same matter again at the same unit is a repeat petition, linked.
  auto repeat = Register(ChannelRequest(v1::CHANNEL_CALL, "req-art19-repeat"), kEduClerk);
  ASSERT_THAT(repeat, testing::IsOk());
  EXPECT_THAT(repeat->case_().related_tracking_numbers(),
              ::testing::Contains(below->case_().tracking_number()));
}

// A retry is answered with the original case even after the case moved on
// (here: forwarded to a lower unit, which would make a new petition on the
// same matter an Art. 19 refusal).
TEST_F(ServicesTest, ARetryGetsTheOriginalEvenAfterTheCaseMovedOn) {
  const Caller kOrgansClerk{"org1", "intake_clerk", "prov.organs"};
  v1::RegisterCaseRequest req = ChannelRequest(v1::CHANNEL_VISIT, "req-retry-moved");
  auto first = Register(req, kOrgansClerk);
  ASSERT_THAT(first, testing::IsOk());
  ASSERT_THAT(Act(first->case_().tracking_number(), "forward", kOrgansClerk,
                  {{"target_unit", "prov.organs.edu"}}),
              testing::IsOk());
  auto retry = Register(req, kOrgansClerk);
  ASSERT_THAT(retry, testing::IsOk());
  EXPECT_TRUE(retry->replayed());
  EXPECT_EQ(retry->case_().tracking_number(), first->case_().tracking_number());
  EXPECT_EQ(retry->case_().responsible_unit(), "prov.organs.edu");
}

absl::StatusOr<v1::ListCasesResponse> ListCases(TestServer& server,
                                                const v1::ListCasesRequest& req) {
  v1::ListCasesResponse resp;
  // An auditor: every unit, and searching by petitioner is allowed.
  auto ctx = server.Context(Caller{"audit1", "auditor", "prov"});
  grpc::Status s = server.query()->ListCases(ctx.get(), req, &resp);
  if (!s.ok()) return testing::FromGrpc(s);
  return resp;
}

std::vector<std::string> Trackings(const v1::ListCasesResponse& r) {
  std::vector<std::string> out;
  for (const auto& c : r.cases()) out.push_back(c.tracking_number());
  return out;
}

TEST_F(ServicesTest, ListCasesFilters) {
  const Caller kEduClerk{"edu1", "intake_clerk", "prov.organs.edu"};
  auto visit = Register(ChannelRequest(v1::CHANNEL_VISIT, "req-list-visit"));
  v1::RegisterCaseRequest letter = ChannelRequest(v1::CHANNEL_LETTER, "req-list-letter");
  letter.mutable_intake()->set_category("insurance");
  letter.mutable_intake()->mutable_petitioners(0)->set_name("钱十");
  letter.mutable_intake()->mutable_petitioners(0)->clear_id_number();
  letter.mutable_intake()->mutable_petitioners(0)->set_phone("13911112222");
  auto l = Register(letter, kEduClerk);
  v1::RegisterCaseRequest online = ChannelRequest(v1::CHANNEL_ONLINE, "req-list-online");
  online.mutable_intake()->set_category("wages.overtime");
  online.mutable_intake()->mutable_petitioners(0)->set_name("吴一");
  online.mutable_intake()->mutable_petitioners(0)->clear_id_number();
  auto o = Register(online);
  ASSERT_THAT(visit, testing::IsOk());
  ASSERT_THAT(l, testing::IsOk());
  ASSERT_THAT(o, testing::IsOk());
  const std::string tv = visit->case_().tracking_number(), tl = l->case_().tracking_number(),
                    to = o->case_().tracking_number();
  ASSERT_THAT(Act(tv, "accept", kClerk), testing::IsOk());

  auto list = [&](std::function<void(v1::ListCasesRequest&)> set) {
    v1::ListCasesRequest req;
    set(req);
    auto r = ListCases(server_, req);
    EXPECT_THAT(r, testing::IsOk());
    return r.ok() ? Trackings(*r) : std::vector<std::string>{};
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(list([](auto&) {}), (V{to, tl, tv}));  // newest first
  EXPECT_EQ(list([](auto& r) { r.set_channel(v1::CHANNEL_LETTER); }), (V{tl}));
  EXPECT_EQ(list([](auto& r) { r.set_category("wages"); }), (V{to, tv}));  // and below
  // Not a prefix match: "wages.over" names no category, which is an error,
  // not an empty list.
  {
    v1::ListCasesRequest req;
    req.set_category("wages.over");
    EXPECT_THAT(ListCases(server_, req),
                testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("wages.over")));
  }
  EXPECT_EQ(list([](auto& r) { r.set_stage(v1::STAGE_HANDLING); }), (V{tv}));
  EXPECT_EQ(list([](auto& r) { r.set_state("registered"); }), (V{to, tl}));
  EXPECT_EQ(list([](auto& r) { r.set_unit("prov.organs.edu"); }), (V{tl}));
  EXPECT_EQ(list([](auto& r) { r.set_unit("prov.organs"); }).size(), 3u);
  EXPECT_EQ(list([](auto& r) { r.set_petitioner("13911112222"); }), (V{tl}));
  EXPECT_EQ(list([](auto& r) { r.set_petitioner("11010519491231002x"); }), (V{tv}));
  EXPECT_EQ(list([](auto& r) { r.set_petitioner("吴一"); }), (V{to}));
  EXPECT_EQ(list([](auto& r) { r.set_overdue_only(true); }), (V{}));
  EXPECT_EQ(list([](auto& r) { r.mutable_received_from()->set_seconds(absl::ToUnixSeconds(Monday())); }),
            (V{to, tl, tv}));
  EXPECT_EQ(list([](auto& r) { r.mutable_received_before()->set_seconds(absl::ToUnixSeconds(Monday())); }),
            (V{}));
  // Bad filters name themselves.
  v1::ListCasesRequest bad;
  bad.set_unit("nowhere");
  EXPECT_THAT(ListCases(server_, bad), testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unit")));
  bad.clear_unit();
  bad.set_page_token("x1");
  EXPECT_THAT(ListCases(server_, bad), testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_token")));
  bad.clear_page_token();
  bad.set_page_size(501);
  EXPECT_THAT(ListCases(server_, bad), testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("page_size")));
}

// The overdue list: the cases with a running deadline past due at the
// server's clock, newest first, in pages, with the other filters. A
// suspended deadline does not count; a deadline past due counts whether or
// not the sweeper has marked it overdue yet, and a mark on a deadline moved
// into the future does not.
TEST_F(ServicesTest, ListCasesOverdue) {
  const Caller kEduClerk{"edu1", "intake_clerk", "prov.organs.edu"};
  std::vector<std::string> t;  // oldest first, one a day
  for (int i = 0; i < 6; ++i) {
    v1::RegisterCaseRequest r = ChannelRequest(i % 2 ? v1::CHANNEL_ONLINE : v1::CHANNEL_CALL,
                                               absl::StrCat("req-overdue-", i));
    r.mutable_intake()->mutable_petitioners(0)->set_name(absl::StrCat("来电人", i));
    r.mutable_intake()->mutable_petitioners(0)->clear_id_number();
    r.mutable_intake()->mutable_petitioners(0)->set_phone(absl::StrCat("1390000000", i));
    auto c = Register(r, i == 4 ? kEduClerk : kClerk);
    ASSERT_THAT(c, testing::IsOk());
    t.push_back(c->case_().tracking_number());
    ASSERT_THAT(server_.AdvanceTo(server_.core().clock().Now() + absl::Hours(24)), testing::IsOk());
  }
  ASSERT_THAT(Act(t[2], "accept", kClerk), testing::IsOk());  // handling runs 60 days
  // Four weeks on: every 15-day intake notice but t[2]'s is past due.
  ASSERT_THAT(server_.AdvanceTo(Monday() + absl::Hours(24 * 28)), testing::IsOk());
  v1::RegisterCaseRequest fresh_req = ChannelRequest(v1::CHANNEL_CALL, "req-overdue-fresh");
  fresh_req.mutable_intake()->mutable_petitioners(0)->set_name("新来电人");
  fresh_req.mutable_intake()->mutable_petitioners(0)->clear_id_number();
  auto fresh = Register(fresh_req);
  ASSERT_THAT(fresh, testing::IsOk());

  auto page = [&](std::function<void(v1::ListCasesRequest&)> set) {
    v1::ListCasesRequest req;
    req.set_overdue_only(true);
    set(req);
    auto r = ListCases(server_, req);
    EXPECT_THAT(r, testing::IsOk());
    if (r.ok()) {
      for (const auto& c : r->cases()) EXPECT_TRUE(c.overdue()) << c.tracking_number();
    }
    return r.ok() ? *r : v1::ListCasesResponse{};
  };
  auto list = [&](std::function<void(v1::ListCasesRequest&)> set) { return Trackings(page(set)); };
  using V = std::vector<std::string>;
  EXPECT_EQ(list([](auto&) {}), (V{t[5], t[4], t[3], t[1], t[0]}));
  EXPECT_EQ(list([](auto& r) { r.set_unit("prov"); }), (V{t[5], t[4], t[3], t[1], t[0]}));
  EXPECT_EQ(list([](auto& r) { r.set_unit("prov.organs.edu"); }), (V{t[4]}));
  EXPECT_EQ(list([](auto& r) { r.set_unit("prov.organs.office"); }), (V{t[5], t[3], t[1], t[0]}));
  EXPECT_EQ(list([](auto& r) { r.set_unit("prov.city-a"); }), (V{}));
  EXPECT_EQ(list([](auto& r) { r.set_channel(v1::CHANNEL_ONLINE); }), (V{t[5], t[3], t[1]}));
  EXPECT_EQ(list([](auto& r) { r.set_stage(v1::STAGE_HANDLING); }), (V{}));
  // Pages of two: each overdue case once, in order.
  V seen;
  std::string token;
  for (int pages = 0; pages < 10; ++pages) {
    v1::ListCasesResponse p = page([&](auto& r) {
      r.set_page_size(2);
      r.set_page_token(token);
    });
    for (const auto& c : p.cases()) seen.push_back(c.tracking_number());
    token = p.next_page_token();
    if (token.empty()) break;
  }
  EXPECT_EQ(seen, (V{t[5], t[4], t[3], t[1], t[0]}));

  auto timers_of = [&](const std::string& tracking) {
    return absl::StrCat("case_id = (SELECT id FROM cases WHERE tracking_number = '", tracking, "')");
  };
  // A suspended deadline is not overdue.
  server_.db().Exec(absl::StrCat("UPDATE case_timers SET suspended_at = due_at WHERE ", timers_of(t[3])));
  // Past due but not (yet) marked by the sweeper: overdue all the same.
  server_.db().Exec(absl::StrCat("UPDATE case_timers SET overdue = false WHERE ", timers_of(t[5])));
  // Marked, but due in the future: not overdue.
  server_.db().Exec(absl::StrCat("UPDATE case_timers SET overdue = true WHERE ",
                                 timers_of(fresh->case_().tracking_number())));
  EXPECT_EQ(list([](auto&) {}), (V{t[5], t[4], t[1], t[0]}));
  EXPECT_EQ(list([](auto& r) { r.set_unit("prov.organs.office"); }), (V{t[5], t[1], t[0]}));
}

// Paging newest-first while another client keeps registering: every case
// committed before paging began is listed exactly once, in order.
TEST_F(ServicesTest, ListCasesPagesStayStableUnderConcurrentInserts) {
  for (int i = 0; i < 40; ++i) {
    v1::RegisterCaseRequest r = ChannelRequest(v1::CHANNEL_CALL, absl::StrCat("req-page-", 1000 + i));
    r.mutable_intake()->mutable_petitioners(0)->set_name(absl::StrCat("来电人", i));
    r.mutable_intake()->mutable_petitioners(0)->clear_id_number();
    ASSERT_THAT(Register(r), testing::IsOk());
  }
  const std::string before = server_.db().Query("SELECT string_agg(tracking_number, ',' ORDER BY id DESC) FROM cases");
  std::atomic<bool> stop{false};
  std::atomic<int> added{0};
  std::thread writer([&] {
    for (int i = 0; i < 200 && !stop; ++i) {
      v1::RegisterCaseRequest r = ChannelRequest(v1::CHANNEL_ONLINE, absl::StrCat("req-page-new-", i));
      r.mutable_intake()->mutable_petitioners(0)->set_name(absl::StrCat("网民", i));
      r.mutable_intake()->mutable_petitioners(0)->clear_id_number();
      if (Register(r).ok()) ++added;
    }
  });
  std::vector<std::string> seen;
  std::string token;
  v1::ListCasesRequest req;
  req.set_page_size(7);
  int pages = 0;
  do {
    req.set_page_token(token);
    auto page = ListCases(server_, req);
    ASSERT_THAT(page, testing::IsOk());
    for (const auto& c : page->cases()) seen.push_back(c.tracking_number());
    token = page->next_page_token();
    ++pages;
  } while (!token.empty() && pages < 100);
  stop = true;
  writer.join();
  EXPECT_GT(added.load(), 0);
  // Everything that existed is there once, in the same order, after whatever
  // was added before the first page was read.
  std::vector<std::string> existing = absl::StrSplit(before, ',');
  auto first = std::find(seen.begin(), seen.end(), existing.front());
  ASSERT_NE(first, seen.end());
  EXPECT_EQ(std::vector<std::string>(first, seen.end()), existing);
  std::set<std::string> unique(seen.begin(), seen.end());
  EXPECT_EQ(unique.size(), seen.size());
}

TEST_F(ServicesTest, HealthCheckingAndReflectionAreOn) {
  auto health = grpc::health::v1::Health::NewStub(server_.channel());
  grpc::health::v1::HealthCheckRequest hreq;
  grpc::health::v1::HealthCheckResponse hresp;
  grpc::ClientContext hctx;  // health checking needs no identity
  ASSERT_TRUE(health->Check(&hctx, hreq, &hresp).ok());
  EXPECT_EQ(hresp.status(), grpc::health::v1::HealthCheckResponse::SERVING);

  auto reflection = grpc::reflection::v1alpha::ServerReflection::NewStub(server_.channel());
  grpc::ClientContext rctx;
  auto stream = reflection->ServerReflectionInfo(&rctx);
  grpc::reflection::v1alpha::ServerReflectionRequest rreq;
  rreq.set_list_services("");
  ASSERT_TRUE(stream->Write(rreq));
  stream->WritesDone();
  grpc::reflection::v1alpha::ServerReflectionResponse rresp;
  ASSERT_TRUE(stream->Read(&rresp));
  std::set<std::string> names;
  for (const auto& svc : rresp.list_services_response().service()) names.insert(svc.name());
  EXPECT_TRUE(stream->Finish().ok());
  for (const char* want : {"xinfang.v1.IntakeService", "xinfang.v1.CaseworkService",
                           "xinfang.v1.CaseQueryService", "xinfang.v1.SupervisionService",
                           "xinfang.v1.AdminService", "grpc.health.v1.Health"}) {
    EXPECT_TRUE(names.contains(want)) << want;
  }
}

// Reflection v1 (what newer clients speak) as well as v1alpha: the same
// services, and descriptors of xinfang's services and of health itself.
TEST_F(ServicesTest, ReflectionV1ServesEveryServiceAndHealthsDescriptor) {
  namespace r1 = grpc::reflection::v1;
  auto reflection = r1::ServerReflection::NewStub(server_.channel());
  grpc::ClientContext ctx;  // reflection needs no identity
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto stream = reflection->ServerReflectionInfo(&ctx);
  auto ask = [&](const r1::ServerReflectionRequest& req) {
    r1::ServerReflectionResponse resp;
    EXPECT_TRUE(stream->Write(req));
    EXPECT_TRUE(stream->Read(&resp));
    return resp;
  };
  r1::ServerReflectionRequest list;
  list.set_list_services("*");
  std::set<std::string> names;
  const r1::ServerReflectionResponse listed = ask(list);
  for (const auto& svc : listed.list_services_response().service()) names.insert(svc.name());
  for (const char* want :
       {"xinfang.v1.IntakeService", "xinfang.v1.CaseworkService", "xinfang.v1.CaseQueryService",
        "xinfang.v1.SupervisionService", "xinfang.v1.AdminService", "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection", "grpc.reflection.v1.ServerReflection"}) {
    EXPECT_TRUE(names.contains(want)) << want;
  }
  // Each listed service can be described (the file that defines it).
  for (const std::string& service : names) {
    r1::ServerReflectionRequest symbol;
    symbol.set_file_containing_symbol(service);
    r1::ServerReflectionResponse resp = ask(symbol);
    ASSERT_EQ(resp.message_response_case(), r1::ServerReflectionResponse::kFileDescriptorResponse)
        << service << ": " << resp.error_response().error_message();
    bool found = false;
    for (const std::string& bytes : resp.file_descriptor_response().file_descriptor_proto()) {
      google::protobuf::FileDescriptorProto file;
      ASSERT_TRUE(file.ParseFromString(bytes));
      for (const auto& s : file.service()) {
        if (absl::StrCat(file.package(), ".", s.name()) != service) continue;
        found = true;
        if (service == "grpc.health.v1.Health") {
          ASSERT_GE(s.method_size(), 1);
          EXPECT_EQ(s.method(0).name(), "Check");
        }
      }
    }
    EXPECT_TRUE(found) << service;
  }
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

class RealClockServicesTest : public ServicesTest {
 protected:
  RealClockServicesTest() : ServicesTest(std::nullopt) {}
};

TEST_F(RealClockServicesTest, AdvanceClockIsRefusedOnTheRealClock) {
  v1::AdvanceClockRequest adv;
  adv.set_seconds(60);
  v1::AdvanceClockResponse resp;
  auto ctx = server_.Context(kSupervisor);
  EXPECT_EQ(server_.admin()->AdvanceClock(ctx.get(), adv, &resp).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

}  // namespace
}  // namespace xinfang
