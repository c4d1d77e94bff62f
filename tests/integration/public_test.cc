// The petitioner's side (issue 15): the query code issued at registration,
// its reissue, and PublicService.GetPublicStatus over real gRPC on loopback,
// against a real PostgreSQL.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <regex>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "services/common/auth.h"
#include "services/common/query_code.h"
#include "services/query/public_service.h"
#include "tests/testing/petitions.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"
#include "xinfang/v1/public.grpc.pb.h"

namespace xinfang {
namespace {

namespace v1 = xinfang::v1;
using testing::Monday;
using testing::WagesVisit;
using testing::Caller;
using testing::FromGrpc;
using ::testing::HasSubstr;
using testing::IsOk;
using ::testing::Not;
using testing::StatusIs;
using testing::TestServer;

const Caller kClerk{"clerk1", "intake_clerk", "prov.organs.office"};
const Caller kOfficer{"officer1", "case_officer", "prov.organs.office"};
const Caller kHead{"head1", "unit_head", "prov.organs.office"};
const Caller kAuditor{"audit1", "auditor", "prov"};
const Caller kNobody{"", "", ""};

std::string Json(const google::protobuf::Message& m) {
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(m, &out);
  return out;
}

class PublicTest : public ::testing::Test {
 protected:
  explicit PublicTest(const std::function<void(ServerConfig&)>& configure = nullptr)
      : server_(Monday(), true, [&](ServerConfig& c) {
          c.public_status_url = "https://xf.example.org/status";
          // Room for a test's many calls on one number; PublicLimitsTest
          // tests the limits.
          c.public_lookups_per_number = 60;
          c.public_lookups_per_address = 60;
          if (configure) configure(c);
        }) {
    server_.TokenFor(kOfficer);  // the officer the tests assign exists
  }

  v1::RegisterCaseResponse Register(const std::string& request_id = "public-0001") {
    auto r = server_.Register(WagesVisit(request_id), kClerk);
    EXPECT_THAT(r, IsOk());
    return r.ok() ? *r : v1::RegisterCaseResponse();
  }

  // GetPublicStatus without any token, as a petitioner's phone calls it.
  absl::StatusOr<v1::GetPublicStatusResponse> Status(const std::string& tracking,
                                                     const std::string& code) {
    return server_.PublicStatus(tracking, code);
  }

  // EvaluateCase without any token: ratings of the handling body and the
  // petition office, with their reasons.
  absl::StatusOr<v1::GetPublicStatusResponse> Evaluate(const std::string& tracking,
                                                       const std::string& code,
                                                       const std::string& unit,
                                                       const std::string& office,
                                                       const std::string& unit_reason = "",
                                                       const std::string& office_reason = "") {
    v1::PublicService::Stub stub(server_.channel());
    auto ctx = server_.Context(kNobody);
    v1::EvaluateCaseRequest req;
    req.set_tracking_number(tracking);
    req.set_query_code(code);
    req.set_unit_rating(unit);
    req.set_unit_reason(unit_reason);
    req.set_office_rating(office);
    req.set_office_reason(office_reason);
    v1::GetPublicStatusResponse resp;
    grpc::Status s = stub.EvaluateCase(ctx.get(), req, &resp);
    if (!s.ok()) return FromGrpc(s);
    return resp;
  }

  // Registers a case and takes it to "served" (on 2026-03-02); its number
  // and code.
  std::pair<std::string, std::string> Served(const std::string& request_id = "public-0001") {
    const v1::RegisterCaseResponse r = Register(request_id);
    const std::string tracking = r.case_().tracking_number();
    EXPECT_THAT(server_.Act(tracking, "accept", kClerk), IsOk());
    EXPECT_THAT(server_.Act(tracking, "assign_officer", kHead, {{"officer", "officer1"}}), IsOk());
    EXPECT_THAT(server_.Act(tracking, "decide", kOfficer,
                            {{"outcome", "support"}, {"decision_text", "责成公司补发工资"}}),
                IsOk());
    EXPECT_THAT(server_.Act(tracking, "serve", kClerk, {{"served_on", "2026-03-02"}, {"method", "in_person"}, {"receipt", "signed"}, {"signed_by", "张三"}}), IsOk());
    return {tracking, r.query_code().code()};
  }

  absl::StatusOr<v1::ReissueQueryCodeResponse> Reissue(const std::string& tracking,
                                                       const Caller& who = kClerk) {
    auto ctx = server_.Context(who);
    v1::ReissueQueryCodeRequest req;
    req.set_tracking_number(tracking);
    req.set_reason("遗失");
    v1::ReissueQueryCodeResponse resp;
    grpc::Status s = server_.intake()->ReissueQueryCode(ctx.get(), req, &resp);
    if (!s.ok()) return FromGrpc(s);
    return resp;
  }

  absl::StatusOr<v1::Case> ActWithNote(const std::string& tracking, const std::string& action,
                                       const Caller& who,
                                       const std::map<std::string, std::string>& fields,
                                       const std::string& note) {
    auto current = server_.GetCase(tracking, kClerk);
    if (!current.ok()) return current.status();
    auto ctx = server_.Context(who);
    v1::TakeActionRequest req;
    req.mutable_case_()->set_tracking_number(tracking);
    req.set_action(action);
    req.set_expected_version(current->version());
    for (const auto& [k, v] : fields) (*req.mutable_fields())[k] = v;
    req.set_note(note);
    v1::TakeActionResponse resp;
    grpc::Status s = server_.casework()->TakeAction(ctx.get(), req, &resp);
    if (!s.ok()) return FromGrpc(s);
    return resp.case_();
  }

  TestServer server_;
};

TEST_F(PublicTest, RegistrationIssuesACodeThatTheReceiptPrintsWithTheAddressAndItsQrCode) {
  const v1::RegisterCaseResponse r = Register();
  const std::string& tracking = r.case_().tracking_number();
  const v1::QueryCode& q = r.query_code();
  EXPECT_TRUE(std::regex_match(q.code(), std::regex("[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}")))
      << q.code();
  EXPECT_EQ(q.status_url(), "https://xf.example.org/status?t=" + tracking);
  EXPECT_THAT(q.qr_svg(), HasSubstr("<svg"));
  EXPECT_THAT(q.qr_text(), HasSubstr("█"));
  EXPECT_THAT(r.receipt(), HasSubstr("查询码: " + q.code()));
  EXPECT_THAT(r.receipt(), HasSubstr(q.status_url()));
  EXPECT_THAT(r.receipt(), HasSubstr(q.qr_text()));
  EXPECT_FALSE(r.replayed());
  // The QR code encodes the address: libqrencode's own rendering of it is
  // the same set of modules (a version-1..40 symbol is square).
  const QrCode again = RenderQr(q.status_url());
  EXPECT_EQ(again.text, q.qr_text());
}

TEST_F(PublicTest, TheCodeIsStoredOnlyAsASaltedHash) {
  const v1::RegisterCaseResponse r = Register();
  const std::string code = r.query_code().code();
  const std::string normal = NormalizeQueryCode(code);
  const std::string id = absl::StrCat(r.case_().id());
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM case_query_codes WHERE case_id = " + id), "1");
  EXPECT_EQ(server_.db().Query("SELECT length(salt) || ',' || length(hash) FROM case_query_codes"),
            "16,32");
  // Nowhere in the database: not in any table's rows as text.
  for (const char* table : {"case_query_codes", "cases", "case_events", "access_log"}) {
    for (const std::string& form : {code, normal}) {
      EXPECT_EQ(server_.db().Query(absl::StrCat("SELECT count(*) FROM ", table,
                                                " t WHERE t::text LIKE '%", form, "%'")),
                "0")
          << table << " holds " << form;
    }
  }
  // The hash is keyed by the salt: the same code under another salt differs.
  const QueryCodeHash a = HashQueryCode(code), b = HashQueryCode(code);
  EXPECT_NE(a.hash, b.hash);
  EXPECT_TRUE(QueryCodeMatches(code, a.salt, a.hash));
  EXPECT_TRUE(QueryCodeMatches(absl::AsciiStrToLower(normal), a.salt, a.hash));
  EXPECT_FALSE(QueryCodeMatches(code, b.salt, a.hash));
}

TEST_F(PublicTest, TheRightCodeGivesTheStageAndTheDatesOwed) {
  const v1::RegisterCaseResponse r = Register();
  const std::string& tracking = r.case_().tracking_number();
  // Typed by hand: lower case, a space instead of the dash.
  std::string typed = absl::AsciiStrToLower(r.query_code().code());
  typed[5] = ' ';
  auto s = Status(tracking, typed);
  ASSERT_THAT(s, IsOk());
  EXPECT_EQ(s->tracking_number(), tracking);
  EXPECT_EQ(s->received_on(), "2026-03-02");
  EXPECT_EQ(s->stage(), v1::STAGE_INTAKE);
  EXPECT_EQ(s->stage_text(), "登记受理");
  EXPECT_EQ(s->state(), "registered");
  EXPECT_EQ(s->state_text(), "已登记");
  EXPECT_EQ(s->handling_unit_name(), "省直机关工会信访办公室");
  ASSERT_EQ(s->dates_size(), 1);
  EXPECT_EQ(s->dates(0).purpose(), v1::TIMER_PURPOSE_INTAKE_NOTICE);
  EXPECT_EQ(s->dates(0).title(), "书面告知是否受理");
  EXPECT_EQ(s->dates(0).last_day(), "2026-03-17");  // 15 days after 2026-03-02
  EXPECT_EQ(s->dates(0).status(), v1::PUBLIC_DATE_STATUS_PENDING);
  EXPECT_FALSE(s->dates(0).petitioners_window());
  EXPECT_EQ(s->open_windows_size(), 0);
  EXPECT_EQ(s->decisions_size(), 0);

  // Accepted on the next day: the notice was met, the handling deadline runs.
  ASSERT_THAT(server_.AdvanceTo(Monday() + absl::Hours(24)), IsOk());
  ASSERT_THAT(server_.Act(tracking, "accept", kClerk), IsOk());
  s = Status(tracking, r.query_code().code());
  ASSERT_THAT(s, IsOk());
  EXPECT_EQ(s->stage(), v1::STAGE_HANDLING);
  ASSERT_EQ(s->dates_size(), 2);
  EXPECT_EQ(s->dates(0).purpose(), v1::TIMER_PURPOSE_INTAKE_NOTICE);
  EXPECT_EQ(s->dates(0).status(), v1::PUBLIC_DATE_STATUS_MET);
  EXPECT_EQ(s->dates(0).status_text(), "按期");
  EXPECT_EQ(s->dates(0).closed_on(), "2026-03-03");
  EXPECT_EQ(s->dates(1).purpose(), v1::TIMER_PURPOSE_HANDLING);
  EXPECT_EQ(s->dates(1).status(), v1::PUBLIC_DATE_STATUS_PENDING);
}

TEST_F(PublicTest, AWrongCodeAndAnUnknownNumberGetTheSameNotFound) {
  const v1::RegisterCaseResponse r = Register();
  const std::string& tracking = r.case_().tracking_number();
  const absl::Status wrong = Status(tracking, "22222-22222").status();
  const absl::Status unknown = Status("XF20260302-999999", r.query_code().code()).status();
  const absl::Status garbage = Status(tracking, "not a code at all").status();
  EXPECT_THAT(wrong, StatusIs(absl::StatusCode::kNotFound, query::kNoSuchCase));
  EXPECT_EQ(wrong, unknown);
  EXPECT_EQ(wrong, garbage);
  // Empty fields are the caller's mistake, named.
  EXPECT_THAT(Status("", "x").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tracking_number")));
  EXPECT_THAT(Status(tracking, "").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("query_code")));
}

TEST_F(PublicTest, LookupsAreInTheAccessLogWithoutTheCode) {
  const v1::RegisterCaseResponse r = Register();
  const std::string& tracking = r.case_().tracking_number();
  ASSERT_THAT(Status(tracking, r.query_code().code()), IsOk());
  ASSERT_THAT(Status(tracking, "22222-22222").status(), StatusIs(absl::StatusCode::kNotFound));
  auto ctx = server_.Context(kAuditor);
  v1::ListAccessLogRequest req;
  req.set_tracking_number(tracking);
  v1::ListAccessLogResponse resp;
  ASSERT_TRUE(server_.admin()->ListAccessLog(ctx.get(), req, &resp).ok());
  ASSERT_EQ(resp.entries_size(), 2);  // newest first
  EXPECT_EQ(resp.entries(0).account(), "public");
  EXPECT_EQ(resp.entries(0).rpc(), "GetPublicStatus: wrong code");
  EXPECT_EQ(resp.entries(1).rpc(), "GetPublicStatus");
  EXPECT_THAT(resp.entries(1).unit(), HasSubstr("127.0.0.1"));
  EXPECT_THAT(Json(resp), Not(HasSubstr(r.query_code().code())));
  EXPECT_THAT(Json(resp), Not(HasSubstr("22222")));
}

TEST_F(PublicTest, AReissuedCodeReplacesTheOldOneAndTheHistoryRecordsIt) {
  const v1::RegisterCaseResponse r = Register();
  const std::string& tracking = r.case_().tracking_number();
  auto again = Reissue(tracking);
  ASSERT_THAT(again, IsOk());
  EXPECT_NE(again->query_code().code(), r.query_code().code());
  EXPECT_THAT(again->receipt(), HasSubstr(again->query_code().code()));
  EXPECT_THAT(Status(tracking, r.query_code().code()).status(),
              StatusIs(absl::StatusCode::kNotFound, query::kNoSuchCase));
  EXPECT_THAT(Status(tracking, again->query_code().code()), IsOk());

  auto ctx = server_.Context(kClerk);
  v1::GetHistoryRequest hreq;
  hreq.mutable_case_()->set_tracking_number(tracking);
  v1::GetHistoryResponse history;
  ASSERT_TRUE(server_.query()->GetHistory(ctx.get(), hreq, &history).ok());
  ASSERT_GE(history.events_size(), 2);
  const v1::CaseEvent& last = history.events(history.events_size() - 1);
  EXPECT_EQ(last.kind(), "query_code_issued");
  EXPECT_EQ(last.actor(), "clerk1");
  EXPECT_EQ(last.fields().at("reason"), "遗失");
  EXPECT_THAT(Json(history), Not(HasSubstr(again->query_code().code())));
  // The chain still verifies, and the case's version did not move.
  v1::VerifyHistoryRequest vreq;
  vreq.mutable_case_()->set_tracking_number(tracking);
  v1::VerifyHistoryResponse verified;
  auto vctx = server_.Context(kClerk);
  ASSERT_TRUE(server_.casework()->VerifyHistory(vctx.get(), vreq, &verified).ok());
  EXPECT_TRUE(verified.intact());
  auto now = server_.GetCase(tracking, kClerk);
  ASSERT_THAT(now, IsOk());
  EXPECT_EQ(now->version(), r.case_().version());

  // Not for a role other than the clerk's, nor outside the clerk's unit.
  EXPECT_THAT(Reissue(tracking, kOfficer).status(), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(Reissue(tracking, Caller{"clerk9", "intake_clerk", "prov.organs.edu"}).status(),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(Reissue("XF20260302-999999").status(), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(PublicTest, ARetriedRegistrationIssuesAWorkingCodeAndSaysSo) {
  const v1::RegisterCaseResponse first = Register("public-retry-1");
  const v1::RegisterCaseResponse retry = Register("public-retry-1");
  EXPECT_TRUE(retry.replayed());
  EXPECT_EQ(retry.case_().tracking_number(), first.case_().tracking_number());
  EXPECT_NE(retry.query_code().code(), first.query_code().code());
  EXPECT_THAT(retry.receipt(), HasSubstr(retry.query_code().code()));
  const std::string& tracking = first.case_().tracking_number();
  EXPECT_THAT(Status(tracking, retry.query_code().code()), IsOk());
  EXPECT_THAT(Status(tracking, first.query_code().code()).status(),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(server_.db().Query("SELECT fields->>'reason' FROM case_events WHERE kind = "
                               "'query_code_issued'"),
            "registration_retried");
}

TEST_F(PublicTest, TheAnswerCarriesNoStaffNamesNotesOrPersonalData) {
  const v1::RegisterCaseResponse r = Register();
  const std::string& tracking = r.case_().tracking_number();
  ASSERT_THAT(ActWithNote(tracking, "accept", kClerk, {}, "内部备注：企业法人与某领导相识"),
              IsOk());
  ASSERT_THAT(
      ActWithNote(tracking, "assign_officer", kHead, {{"officer", "officer1"}}, "交由officer1办理"),
      IsOk());
  ASSERT_THAT(ActWithNote(tracking, "decide", kOfficer,
                          {{"outcome", "support"}, {"decision_text", "支持：责成公司十日内支付"}},
                          "调查记录：约谈企业财务"),
              IsOk());
  auto c = server_.GetCase(tracking, kClerk);
  ASSERT_THAT(c, IsOk());
  ASSERT_EQ(c->case_officer(), "officer1");
  auto s = Status(tracking, r.query_code().code());
  ASSERT_THAT(s, IsOk());
  const std::string json = Json(*s);
  for (const char* secret : {"officer1", "clerk1", "head1", "内部备注", "约谈企业财务", "交由",
                             "张三", "11010519491231002X", "13800000000", "某建筑公司"}) {
    EXPECT_THAT(json, Not(HasSubstr(secret))) << json;
  }
  // Decided but not yet served: the decision is not shown.
  EXPECT_EQ(s->decisions_size(), 0);
  EXPECT_EQ(s->stage(), v1::STAGE_DECISION);
}

TEST_F(PublicTest, OnceServedTheOutcomeAndTheOpenReviewWindowAppear) {
  const v1::RegisterCaseResponse r = Register();
  const std::string& tracking = r.case_().tracking_number();
  ASSERT_THAT(server_.Act(tracking, "accept", kClerk), IsOk());
  ASSERT_THAT(server_.Act(tracking, "assign_officer", kHead, {{"officer", "officer1"}}), IsOk());
  ASSERT_THAT(server_.Act(tracking, "decide", kOfficer,
                          {{"outcome", "not_supported"}, {"decision_text", "经查，诉求缺乏依据"}}),
              IsOk());
  auto served = server_.Act(tracking, "serve", kClerk, {{"served_on", "2026-03-02"}, {"method", "in_person"}, {"receipt", "signed"}, {"signed_by", "张三"}});
  ASSERT_THAT(served, IsOk());
  std::string review_last_day, evaluation_last_day;
  for (const v1::Deadline& d : served->deadlines()) {
    if (d.purpose() == v1::TIMER_PURPOSE_REVIEW_REQUEST) review_last_day = d.due_date();
    if (d.purpose() == v1::TIMER_PURPOSE_EVALUATION) evaluation_last_day = d.due_date();
  }
  ASSERT_FALSE(review_last_day.empty());

  auto s = Status(tracking, r.query_code().code());
  ASSERT_THAT(s, IsOk());
  ASSERT_EQ(s->decisions_size(), 1);
  EXPECT_EQ(s->decisions(0).title(), "处理意见书");
  EXPECT_EQ(s->decisions(0).outcome(), "not_supported");
  EXPECT_EQ(s->decisions(0).outcome_text(), "不予支持");
  EXPECT_EQ(s->decisions(0).text(), "经查，诉求缺乏依据");
  EXPECT_EQ(s->decisions(0).served_on(), "2026-03-02");
  EXPECT_EQ(s->decisions(0).service_text(), "直接送达，签收");  // never who signed
  EXPECT_THAT(Json(*s), Not(HasSubstr("张三")));
  EXPECT_EQ(s->decisions(0).unit_name(), "省直机关工会信访办公室");
  const v1::PublicWindow* review = nullptr;
  for (const v1::PublicWindow& w : s->open_windows()) {
    if (w.purpose() == v1::TIMER_PURPOSE_REVIEW_REQUEST) review = &w;
  }
  ASSERT_NE(review, nullptr) << Json(*s);
  EXPECT_EQ(review->last_day(), review_last_day);
  EXPECT_EQ(review->last_day(), "2026-04-01");  // 30 days after 2026-03-02
  EXPECT_EQ(review->unit(), "prov.organs");     // the next-higher body
  EXPECT_EQ(review->unit_name(), "省直机关工会");
  EXPECT_THAT(review->how(), HasSubstr("2026-04-01 前向 省直机关工会 书面申请复查"));
  bool evaluation = false;
  for (const v1::PublicDate& d : s->dates()) {
    if (d.purpose() == v1::TIMER_PURPOSE_HANDLING) {
      EXPECT_EQ(d.status(), v1::PUBLIC_DATE_STATUS_MET);
    }
    if (d.purpose() == v1::TIMER_PURPOSE_EVALUATION) {
      evaluation = true;
      EXPECT_EQ(d.last_day(), evaluation_last_day);
      EXPECT_TRUE(d.petitioners_window());
    }
  }
  EXPECT_TRUE(evaluation);
}

TEST_F(PublicTest, ThePetitionerEvaluatesBothTargetsOnlineWhileTheWindowIsOpen) {
  const v1::RegisterCaseResponse early = Register("public-early");
  // Before service there is nothing to evaluate.
  auto before = Status(early.case_().tracking_number(), early.query_code().code());
  ASSERT_THAT(before, IsOk());
  EXPECT_FALSE(before->can_evaluate());
  EXPECT_THAT(Evaluate(early.case_().tracking_number(), early.query_code().code(), "satisfied",
                       "satisfied"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not open")));

  const auto [tracking, code] = Served();
  auto open = Status(tracking, code);
  ASSERT_THAT(open, IsOk());
  EXPECT_TRUE(open->can_evaluate());
  const v1::PublicWindow* window = nullptr;
  for (const v1::PublicWindow& w : open->open_windows()) {
    if (w.purpose() == v1::TIMER_PURPOSE_EVALUATION) window = &w;
  }
  ASSERT_NE(window, nullptr) << Json(*open);
  EXPECT_THAT(window->how(), HasSubstr("可在本页网上评价"));

  // A wrong code is the same NOT_FOUND as a lookup; bad fields are named.
  EXPECT_THAT(Evaluate(tracking, "22222-22222", "satisfied", "satisfied"),
              StatusIs(absl::StatusCode::kNotFound, query::kNoSuchCase));
  EXPECT_THAT(Evaluate(tracking, code, "", ""),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unit_rating: required")));
  EXPECT_THAT(Evaluate(tracking, code, "", "satisfied"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unit_rating: required")));
  EXPECT_THAT(Evaluate(tracking, code, "great", "satisfied"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unit_rating:")));
  EXPECT_THAT(Evaluate(tracking, code, "dissatisfied", "satisfied"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "unit_reason: required when unit_rating is \"dissatisfied\""));
  EXPECT_THAT(Evaluate(tracking, code, "satisfied", "dissatisfied"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("office_reason: required when office_rating is")));
  auto unchanged = server_.GetCase(tracking, kClerk);
  ASSERT_THAT(unchanged, IsOk());
  EXPECT_EQ(unchanged->state(), "served");  // refused calls wrote nothing

  auto done = Evaluate(tracking, code, "basically_satisfied", "dissatisfied", "",
                       "等了两个小时才接待");
  ASSERT_THAT(done, IsOk());
  EXPECT_EQ(done->evaluation(), "basically_satisfied");
  EXPECT_EQ(done->office_evaluation(), "dissatisfied");
  EXPECT_FALSE(done->can_evaluate());
  // The case records both, taken by the petitioner, online.
  auto c = server_.GetCase(tracking, kClerk);
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->state(), "evaluated");
  EXPECT_EQ(c->evaluation(), "basically_satisfied");
  EXPECT_EQ(c->office_evaluation(), "dissatisfied");
  auto ctx = server_.Context(kClerk);
  v1::GetHistoryRequest hreq;
  hreq.mutable_case_()->set_tracking_number(tracking);
  v1::GetHistoryResponse history;
  ASSERT_TRUE(server_.query()->GetHistory(ctx.get(), hreq, &history).ok());
  const v1::CaseEvent& last = history.events(history.events_size() - 1);
  EXPECT_EQ(last.kind(), "evaluate_online");
  EXPECT_EQ(last.actor(), "petitioner");
  EXPECT_EQ(last.actor_role(), v1::ROLE_PETITIONER);
  EXPECT_EQ(last.fields().at("office_rating_reason"), "等了两个小时才接待");
  // A retry (the answer was lost on the way) answers the same, changing
  // nothing; a different evaluation is refused: once given, not again.
  auto retried = Evaluate(tracking, code, "basically_satisfied", "dissatisfied", "",
                          "等了两个小时才接待");
  ASSERT_THAT(retried, IsOk());
  EXPECT_EQ(retried->office_evaluation(), "dissatisfied");
  auto after_retry = server_.GetCase(tracking, kClerk);
  ASSERT_THAT(after_retry, IsOk());
  EXPECT_EQ(after_retry->version(), c->version());
  EXPECT_THAT(Evaluate(tracking, code, "satisfied", "satisfied"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not open")));
}

TEST_F(PublicTest, AnEvaluationAfterTheWindowIsRefusedAndBothTargetsLapse) {
  const auto [tracking, code] = Served();
  // Served 2026-03-02: the 7-day window has closed by 2026-03-20.
  ASSERT_THAT(server_.AdvanceTo(Monday() + absl::Hours(24 * 18)), IsOk());
  EXPECT_THAT(Evaluate(tracking, code, "satisfied", "satisfied"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not open")));
  auto s = Status(tracking, code);
  ASSERT_THAT(s, IsOk());
  EXPECT_FALSE(s->can_evaluate());
  EXPECT_EQ(s->evaluation(), "lapsed");
  EXPECT_EQ(s->office_evaluation(), "lapsed");
}

TEST_F(PublicTest, NoAccountCanHoldThePetitionersRole) {
  auto ctx = server_.Context(testing::Caller{"admin", "administrator", "prov"});
  v1::CreateAccountRequest req;
  req.mutable_account()->set_name("fake-petitioner");
  req.mutable_account()->set_role(v1::ROLE_PETITIONER);
  req.mutable_account()->set_unit("prov");
  v1::CreateAccountResponse resp;
  EXPECT_THAT(FromGrpc(server_.admin()->CreateAccount(ctx.get(), req, &resp)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("account.role")));
}

TEST_F(PublicTest, EveryOtherRpcStillNeedsAToken) {
  const v1::RegisterCaseResponse r = Register();
  auto ctx = server_.Context(kNobody);
  v1::GetCaseRequest req;
  req.mutable_case_()->set_tracking_number(r.case_().tracking_number());
  v1::GetCaseResponse resp;
  EXPECT_THAT(FromGrpc(server_.query()->GetCase(ctx.get(), req, &resp)),
              StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(Reissue(r.case_().tracking_number(), kNobody).status(),
              StatusIs(absl::StatusCode::kUnauthenticated));
  auto ctx2 = server_.Context(kNobody);
  v1::RegisterCaseResponse reg;
  EXPECT_THAT(FromGrpc(server_.intake()->RegisterCase(ctx2.get(), WagesVisit("public-none-1"), &reg)),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

// The limits, on a clock the test moves.
class PublicLimitsTest : public PublicTest {
 protected:
  PublicLimitsTest()
      : PublicTest([](ServerConfig& c) {
          c.public_lookups_per_address = 3;
          c.public_lookups_per_number = 2;
        }) {}
};

TEST_F(PublicLimitsTest, PerAddressAndPerNumberAndRefilledAsTimePasses) {
  const v1::RegisterCaseResponse r = Register();
  const std::string& tracking = r.case_().tracking_number();
  const std::string& code = r.query_code().code();
  std::chrono::steady_clock::time_point now{};
  query::PublicStatus status(server_.core(), [&] { return now; });
  auto ask = [&](const std::string& peer, const std::string& number) {
    v1::GetPublicStatusRequest req;
    req.set_tracking_number(number);
    req.set_query_code(code);
    return status.Get(req, peer).status();
  };
  // Per tracking number: 2, from whatever addresses.
  EXPECT_THAT(ask("ipv4:10.0.0.1", tracking), IsOk());
  EXPECT_THAT(ask("ipv4:10.0.0.2", tracking), IsOk());
  EXPECT_THAT(ask("ipv4:10.0.0.3", tracking),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("this tracking number")));
  // Per address: 3, whatever the numbers (unknown ones count too).
  EXPECT_THAT(ask("ipv4:10.0.0.9", "XF20260302-900001"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ask("ipv4:10.0.0.9", "XF20260302-900002"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ask("ipv4:10.0.0.9", "XF20260302-900003"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ask("ipv4:10.0.0.9", "XF20260302-900004"),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("this address")));
  // A minute later both buckets are full again.
  now += std::chrono::seconds(60);
  EXPECT_THAT(ask("ipv4:10.0.0.3", tracking), IsOk());
  EXPECT_THAT(ask("ipv4:10.0.0.9", "XF20260302-900004"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(PublicLimitsTest, OverGrpcTheLimitIsResourceExhausted) {
  const v1::RegisterCaseResponse r = Register();
  const std::string& tracking = r.case_().tracking_number();
  EXPECT_THAT(Status(tracking, r.query_code().code()), IsOk());
  EXPECT_THAT(Status(tracking, r.query_code().code()), IsOk());
  EXPECT_THAT(Status(tracking, r.query_code().code()).status(),
              StatusIs(absl::StatusCode::kResourceExhausted));
}

TEST_F(PublicLimitsTest, EvaluationsCountAgainstTheSameLimits) {
  const auto [tracking, code] = Served();
  // Two a number (PublicLimitsTest): a lookup and an evaluation refused for
  // its missing reason use them up; the next evaluation, right or wrong
  // code, is held back and records nothing.
  EXPECT_THAT(Status(tracking, code), IsOk());
  EXPECT_THAT(Evaluate(tracking, code, "dissatisfied", "satisfied"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unit_reason")));
  EXPECT_THAT(Evaluate(tracking, code, "satisfied", "satisfied"),
              StatusIs(absl::StatusCode::kResourceExhausted, HasSubstr("tracking number")));
  EXPECT_THAT(Evaluate(tracking, "22222-22222", "satisfied", "satisfied"),
              StatusIs(absl::StatusCode::kResourceExhausted));
  auto c = server_.GetCase(tracking, kClerk);
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->state(), "served");
}

}  // namespace
}  // namespace xinfang
