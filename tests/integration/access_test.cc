// Identity, access and confidentiality (issue 7) over real gRPC and a real
// PostgreSQL: the RPC × role × unit-scope matrix with exact codes, tokens
// (revocation, expiry, disabled accounts, hashes only), confidentiality on
// every read path, and the limits (message size, field lengths, rate).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "google/protobuf/descriptor.h"
#include "tests/testing/petitions.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"

namespace xinfang {
namespace {

namespace v1 = xinfang::v1;
using testing::AnonymousWagesVisit;
using testing::Monday;
using testing::Caller;
using testing::TestServer;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr auto kOk = absl::StatusCode::kOk;
constexpr auto kUnauthenticated = absl::StatusCode::kUnauthenticated;
constexpr auto kDenied = absl::StatusCode::kPermissionDenied;
constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;
constexpr auto kExhausted = absl::StatusCode::kResourceExhausted;
constexpr auto kPrecondition = absl::StatusCode::kFailedPrecondition;

using testing::FromGrpc;

// One unary call carrying `token` (none when empty).
template <typename Stub, typename Req, typename Resp>
absl::StatusOr<Resp> Call(const std::unique_ptr<Stub>& stub,
                          grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                          const std::string& token, const Req& req) {
  auto ctx = TestServer::TokenContext(token);
  Resp resp;
  grpc::Status s = (stub.get()->*method)(ctx.get(), req, &resp);
  if (!s.ok()) return FromGrpc(s);
  return resp;
}

// Shared by every fixture: a server on a simulated clock and typed calls.
class AccessBase : public ::testing::Test {
 protected:
  explicit AccessBase(const std::function<void(ServerConfig&)>& configure = nullptr)
      : server_(Monday(), /*sweeper=*/false, configure) {}

  std::string Token(const Caller& who) { return server_.TokenFor(who); }

  absl::StatusOr<v1::RegisterCaseResponse> Register(const std::string& token,
                                                    const v1::RegisterCaseRequest& req) {
    return Call(server_.intake(), &v1::IntakeService::Stub::RegisterCase, token, req);
  }
  absl::StatusOr<v1::Case> GetCase(const std::string& token, const std::string& tracking) {
    v1::GetCaseRequest req;
    req.mutable_case_()->set_tracking_number(tracking);
    auto r = Call(server_.query(), &v1::CaseQueryService::Stub::GetCase, token, req);
    if (!r.ok()) return r.status();
    return r->case_();
  }
  absl::StatusOr<v1::GetHistoryResponse> History(const std::string& token,
                                                 const std::string& tracking) {
    v1::GetHistoryRequest req;
    req.mutable_case_()->set_tracking_number(tracking);
    return Call(server_.query(), &v1::CaseQueryService::Stub::GetHistory, token, req);
  }
  absl::StatusOr<v1::ListCasesResponse> List(const std::string& token,
                                             const v1::ListCasesRequest& req = {}) {
    return Call(server_.query(), &v1::CaseQueryService::Stub::ListCases, token, req);
  }
  absl::StatusOr<v1::VerifyHistoryResponse> Verify(const std::string& token,
                                                   const std::string& tracking) {
    v1::VerifyHistoryRequest req;
    req.mutable_case_()->set_tracking_number(tracking);
    return Call(server_.casework(), &v1::CaseworkService::Stub::VerifyHistory, token, req);
  }
  absl::StatusOr<v1::TakeActionResponse> Take(const std::string& token,
                                              const std::string& tracking,
                                              const std::string& action, int64_t version,
                                              const std::map<std::string, std::string>& fields = {},
                                              const std::string& note = "") {
    v1::TakeActionRequest req;
    req.mutable_case_()->set_tracking_number(tracking);
    req.set_action(action);
    req.set_expected_version(version);
    for (const auto& [k, v] : fields) (*req.mutable_fields())[k] = v;
    req.set_note(note);
    return Call(server_.casework(), &v1::CaseworkService::Stub::TakeAction, token, req);
  }
  absl::StatusOr<v1::GetStatisticsResponse> Stats(const std::string& token,
                                                  const std::string& unit) {
    v1::GetStatisticsRequest req;
    req.set_unit(unit);
    *req.mutable_period_start() = Timestamp(Monday() - absl::Hours(24 * 30));
    *req.mutable_period_end() = Timestamp(Monday() + absl::Hours(24));
    return Call(server_.query(), &v1::CaseQueryService::Stub::GetStatistics, token, req);
  }
  absl::StatusOr<v1::Account> WhoAmI(const std::string& token) {
    auto r = Call(server_.admin(), &v1::AdminService::Stub::WhoAmI, token, v1::WhoAmIRequest{});
    if (!r.ok()) return r.status();
    return r->account();
  }
  absl::StatusOr<v1::Account> CreateAccount(const std::string& token, const std::string& name,
                                            v1::Role role, const std::string& unit,
                                            const std::string& display_name = "") {
    v1::CreateAccountRequest req;
    req.mutable_account()->set_name(name);
    req.mutable_account()->set_role(role);
    req.mutable_account()->set_unit(unit);
    req.mutable_account()->set_display_name(display_name);
    auto r = Call(server_.admin(), &v1::AdminService::Stub::CreateAccount, token, req);
    if (!r.ok()) return r.status();
    return r->account();
  }
  absl::StatusOr<v1::IssueTokenResponse> IssueToken(const std::string& token,
                                                    const std::string& account, int ttl_days = 0,
                                                    const std::string& label = "test") {
    v1::IssueTokenRequest req;
    req.set_account(account);
    req.set_ttl_days(ttl_days);
    req.set_label(label);
    return Call(server_.admin(), &v1::AdminService::Stub::IssueToken, token, req);
  }
  absl::StatusOr<v1::Token> RevokeToken(const std::string& token, int64_t id) {
    v1::RevokeTokenRequest req;
    req.set_token_id(id);
    auto r = Call(server_.admin(), &v1::AdminService::Stub::RevokeToken, token, req);
    if (!r.ok()) return r.status();
    return r->token();
  }
  absl::StatusOr<v1::Account> SetDisabled(const std::string& token, const std::string& name,
                                          bool disabled) {
    v1::SetAccountDisabledRequest req;
    req.set_name(name);
    req.set_disabled(disabled);
    auto r = Call(server_.admin(), &v1::AdminService::Stub::SetAccountDisabled, token, req);
    if (!r.ok()) return r.status();
    return r->account();
  }
  absl::StatusOr<v1::ListTokensResponse> ListTokens(const std::string& token,
                                                    const std::string& account) {
    v1::ListTokensRequest req;
    req.set_account(account);
    return Call(server_.admin(), &v1::AdminService::Stub::ListTokens, token, req);
  }
  absl::StatusOr<v1::ListAccountsResponse> ListAccounts(const std::string& token,
                                                        const std::string& unit) {
    v1::ListAccountsRequest req;
    req.set_unit(unit);
    return Call(server_.admin(), &v1::AdminService::Stub::ListAccounts, token, req);
  }
  absl::StatusOr<v1::ListAccessLogResponse> AccessLog(const std::string& token,
                                                      const std::string& account,
                                                      const std::string& tracking) {
    v1::ListAccessLogRequest req;
    req.set_account(account);
    req.set_tracking_number(tracking);
    return Call(server_.admin(), &v1::AdminService::Stub::ListAccessLog, token, req);
  }

  // The first `n` events of a watch (fewer only if the stream ended: then
  // `status` is how it ended). The stream is cancelled afterwards.
  struct Watched {
    std::vector<v1::CaseEvent> events;
    absl::Status status;
  };
  Watched Watch(const std::string& token, const v1::WatchEventsRequest& req, std::size_t n) {
    Watched got;
    auto stub = server_.query();
    auto ctx = TestServer::TokenContext(token);
    auto stream = stub->WatchEvents(ctx.get(), req);
    v1::WatchEventsResponse r;
    while (got.events.size() < n && stream->Read(&r)) {
      if (!r.caught_up()) got.events.push_back(r.event());
    }
    if (got.events.size() < n) {
      got.status = FromGrpc(stream->Finish());
      return got;
    }
    ctx->TryCancel();
    (void)stream->Finish();
    return got;
  }

  static google::protobuf::Timestamp Timestamp(absl::Time t) {
    google::protobuf::Timestamp ts;
    ts.set_seconds(absl::ToUnixSeconds(t));
    return ts;
  }

  TestServer server_;
};

// ------------------------------------------------------------------------
// 1. The matrix.

constexpr const char* kRoles[] = {"intake_clerk", "case_officer",  "unit_head", "supervisor",
                                  "administrator", "auditor", "service"};
// The caller's unit relative to the case (or account, or unit) the call is
// about, which always lies in prov.organs.edu.
constexpr const char* kScopeNames[] = {"own", "above", "sibling", "branch"};
constexpr const char* kScopeUnits[] = {"prov.organs.edu", "prov.organs", "prov.organs.health",
                                       "prov.city-a.dist-1"};
constexpr char kHome[] = "prov.organs.edu";

// The policy, stated independently of services/common/access.cc: for each
// RPC (TakeAction: for each of four actions of petition@1), for each role,
// the outcome with the caller in the target's own unit, the unit above it,
// a sibling unit and a unit of another branch. O: OK, D: PERMISSION_DENIED.
// Case RPCs are about a case handled by prov.organs.edu; list, count and
// stream RPCs filter on unit prov.organs.edu; account and token RPCs are
// about an account of prov.organs.edu. Auditors and service accounts see
// every unit; case officers act only in their own unit, and so does anyone
// taking an action of the unit itself (approving an extension); the others
// also act from a unit above.
struct PolicyRow {
  const char* rpc;
  const char* by_role[7];  // in the order of kRoles; each own/above/sibling/branch
};
const PolicyRow kPolicy[] = {
    //                            clerk   officer head    superv  admin   auditor service
    {"RegisterCase",            {"OODD", "DDDD", "DDDD", "DDDD", "DDDD", "DDDD", "DDDD"}},
    {"ReissueQueryCode",        {"OODD", "DDDD", "DDDD", "DDDD", "DDDD", "DDDD", "DDDD"}},
    {"ListActions",             {"OODD", "OODD", "OODD", "OODD", "DDDD", "DDDD", "OOOO"}},
    {"TakeAction/accept",       {"OODD", "ODDD", "OODD", "DDDD", "DDDD", "DDDD", "DDDD"}},
    {"TakeAction/issue_notice", {"DDDD", "DDDD", "OODD", "OODD", "DDDD", "DDDD", "DDDD"}},
    {"TakeAction/evaluate",     {"OODD", "ODDD", "DDDD", "DDDD", "DDDD", "DDDD", "OODD"}},
    {"TakeAction/approve_extension",
                                {"DDDD", "DDDD", "ODDD", "DDDD", "DDDD", "DDDD", "DDDD"}},
    {"VerifyHistory",           {"OODD", "OODD", "OODD", "OODD", "DDDD", "OOOO", "DDDD"}},
    {"GetCase",                 {"OODD", "OODD", "OODD", "OODD", "DDDD", "OOOO", "OOOO"}},
    {"GetHistory",              {"OODD", "OODD", "OODD", "OODD", "DDDD", "OOOO", "OOOO"}},
    {"ListCases",               {"OODD", "OODD", "OODD", "OODD", "DDDD", "OOOO", "OOOO"}},
    {"WatchEvents",             {"DDDD", "OODD", "OODD", "OODD", "DDDD", "OOOO", "OOOO"}},
    {"GetStatistics",           {"DDDD", "DDDD", "OODD", "OODD", "DDDD", "OOOO", "OOOO"}},
    {"ListDocuments",           {"OODD", "OODD", "OODD", "OODD", "DDDD", "OOOO", "OOOO"}},
    {"GetDocument",             {"OODD", "OODD", "OODD", "OODD", "DDDD", "OOOO", "OOOO"}},
    {"ListNotifications",       {"OODD", "OODD", "OODD", "OODD", "DDDD", "OOOO", "DDDD"}},
    {"ListDeadlines",           {"DDDD", "OODD", "OODD", "OODD", "DDDD", "OOOO", "OOOO"}},
    {"Dashboard",               {"DDDD", "DDDD", "OODD", "OODD", "DDDD", "OOOO", "OOOO"}},
    // A warning about petitions registered at prov.organs.edu: out of a
    // caller's sight it is NOT_FOUND, counted here as D.
    {"ListWarnings",            {"DDDD", "DDDD", "OODD", "OODD", "DDDD", "OOOO", "OOOO"}},
    {"GetWarning",              {"DDDD", "DDDD", "OODD", "OODD", "DDDD", "OOOO", "OOOO"}},
    {"UpdateWarning",           {"DDDD", "DDDD", "OODD", "OODD", "DDDD", "DDDD", "DDDD"}},
    {"GetSituationReport",      {"DDDD", "DDDD", "OODD", "OODD", "DDDD", "OOOO", "OOOO"}},
    {"GetServerInfo",           {"OOOO", "OOOO", "OOOO", "OOOO", "OOOO", "OOOO", "OOOO"}},
    {"WhoAmI",                  {"OOOO", "OOOO", "OOOO", "OOOO", "OOOO", "OOOO", "OOOO"}},
    {"AdvanceClock",            {"DDDD", "DDDD", "DDDD", "OOOO", "OOOO", "DDDD", "DDDD"}},
    {"CreateAccount",           {"DDDD", "DDDD", "DDDD", "DDDD", "OODD", "DDDD", "DDDD"}},
    {"ListAccounts",            {"DDDD", "DDDD", "DDDD", "DDDD", "OODD", "OOOO", "DDDD"}},
    {"SetAccountDisabled",      {"DDDD", "DDDD", "DDDD", "DDDD", "OODD", "DDDD", "DDDD"}},
    {"SetAccountEmail",         {"DDDD", "DDDD", "DDDD", "DDDD", "OODD", "DDDD", "DDDD"}},
    {"IssueToken",              {"DDDD", "DDDD", "DDDD", "DDDD", "OODD", "DDDD", "DDDD"}},
    {"RevokeToken",             {"DDDD", "DDDD", "DDDD", "DDDD", "OODD", "DDDD", "DDDD"}},
    {"ListTokens",              {"DDDD", "DDDD", "DDDD", "DDDD", "OODD", "OOOO", "DDDD"}},
    {"ListAccessLog",           {"DDDD", "DDDD", "DDDD", "DDDD", "DDDD", "OOOO", "DDDD"}},
    {"SetPassword",             {"DDDD", "DDDD", "DDDD", "DDDD", "OODD", "DDDD", "DDDD"}},
    {"ListReferenceData",       {"OOOO", "OOOO", "OOOO", "OOOO", "OOOO", "OOOO", "DDDD"}},
    // A new unit under prov.organs.edu; categories only from the top unit
    // (prov), which none of the four callers' units is.
    {"PutUnit",                 {"DDDD", "DDDD", "DDDD", "DDDD", "OODD", "DDDD", "DDDD"}},
    {"PutCategory",             {"DDDD", "DDDD", "DDDD", "DDDD", "DDDD", "DDDD", "DDDD"}},
    // Procedure versions, too, are the top unit's.
    {"MigrateCases",            {"DDDD", "DDDD", "DDDD", "DDDD", "DDDD", "DDDD", "DDDD"}},
    // Last: it revokes the token it is called with.
    {"SignOut",                 {"OOOO", "OOOO", "OOOO", "OOOO", "OOOO", "OOOO", "OOOO"}},
};

class MatrixTest : public AccessBase {
 protected:
  const Caller kAuditorForReads{"reader-auditor", "auditor", "prov"};
  // The matrix's helpers make hundreds of calls a second: no rate limit here.
  MatrixTest() : AccessBase([](ServerConfig& c) { c.rate_limit = 0; }) {}

  const Caller kHomeClerk{"home-clerk", "intake_clerk", kHome};
  const Caller kHomeHead{"home-head", "unit_head", kHome};
  const Caller kHomeOfficer{"home-officer", "case_officer", kHome};
  const Caller kVictim{"victim", "case_officer", kHome};

  void SetUp() override {
    auto r = Register(Token(kHomeClerk), AnonymousWagesVisit("matrix-case-x", kHome));
    ASSERT_THAT(r, testing::IsOk());
    case_x_ = r->case_().tracking_number();
    ASSERT_EQ(r->case_().responsible_unit(), kHome);
    auto accepted = Take(Token(kHomeClerk), case_x_, "accept", 1);
    ASSERT_THAT(accepted, testing::IsOk());
    // A written document of the case (anonymous: the unit's supervision notice).
    ASSERT_THAT(Take(Token(kHomeHead), case_x_, "issue_notice", accepted->case_().version(),
                     {{"notice_kind", "urge"}, {"notice_text", "请按期答复"}}),
                testing::IsOk());
    document_ = server_.db().Query("SELECT number FROM documents WHERE kind = 'supervision_notice'");
    ASSERT_FALSE(document_.empty());
    // Three anonymous petitions against one employer: a warning.
    for (int i = 0; i < 3; ++i) {
      auto req = AnonymousWagesVisit(absl::StrCat("matrix-employer-", i), kHome);
      req.mutable_intake()->set_complained_about("矩阵测试有限公司");
      ASSERT_THAT(Register(Token(kHomeClerk), req), testing::IsOk());
    }
    ASSERT_THAT(server_.ProcessWarnings(), testing::IsOk());
    ASSERT_TRUE(absl::SimpleAtoi(
        server_.db().Query("SELECT id FROM warnings WHERE rule = 'same_employer'"), &warning_));
    Token(kVictim);  // the account the account and token RPCs are about
    Token(kHomeOfficer);  // the officer assign_officer names exists
  }

  // A new case of prov.organs.edu in state "registered", "extension_requested"
  // or "served"; its tracking number and version.
  std::pair<std::string, int64_t> FreshCase(const std::string& state) {
    auto r = Register(Token(kHomeClerk), AnonymousWagesVisit(absl::StrCat("matrix-fresh-", ++n_), kHome));
    EXPECT_THAT(r, testing::IsOk());
    if (!r.ok()) return {"", 0};
    const std::string t = r->case_().tracking_number();
    int64_t v = r->case_().version();
    using Step = std::tuple<Caller, std::string, std::map<std::string, std::string>>;
    std::vector<Step> steps;
    if (state != "registered") {
      steps.push_back({kHomeClerk, "accept", {}});
      steps.push_back({kHomeHead, "assign_officer", {{"officer", kHomeOfficer.account}}});
    }
    if (state == "extension_requested") {
      steps.push_back({kHomeOfficer, "request_extension", {{"reason", "需要调查"}, {"days", "10"}}});
    }
    if (state == "served") {
      steps.push_back({kHomeOfficer, "decide", {{"outcome", "support"}, {"decision_text", "支持"}}});
      steps.push_back({kHomeClerk, "serve", {{"served_on", "2026-03-02"}, {"method", "in_person"}, {"receipt", "signed"}, {"signed_by", "张三"}}});
    }
    for (auto [who, action, fields] : steps) {
      auto a = Take(Token(who), t, action, v, fields);
      EXPECT_THAT(a, testing::IsOk()) << action;
      if (!a.ok()) return {"", 0};
      v = a->case_().version();
    }
    auto now = GetCase(Token(kAuditorForReads), t);
    EXPECT_THAT(now, testing::IsOk());
    if (now.ok()) {
      EXPECT_EQ(now->state(), state);
    }
    return {t, v};
  }

  // Every RPC called with `token`, with a request about prov.organs.edu.
  std::map<std::string, std::function<absl::Status(const std::string&)>> Probes() {
    std::map<std::string, std::function<absl::Status(const std::string&)>> p;
    p["RegisterCase"] = [&](const std::string& tok) {
      return Register(tok, AnonymousWagesVisit(absl::StrCat("matrix-reg-", ++n_), kHome)).status();
    };
    p["ReissueQueryCode"] = [&](const std::string& tok) {
      v1::ReissueQueryCodeRequest req;
      req.set_tracking_number(case_x_);
      return Call(server_.intake(), &v1::IntakeService::Stub::ReissueQueryCode, tok, req).status();
    };
    p["ListActions"] = [&](const std::string& tok) {
      v1::ListActionsRequest req;
      req.mutable_case_()->set_tracking_number(case_x_);
      return Call(server_.casework(), &v1::CaseworkService::Stub::ListActions, tok, req).status();
    };
    p["TakeAction/accept"] = [&](const std::string& tok) {
      auto [t, v] = FreshCase("registered");
      return Take(tok, t, "accept", v).status();
    };
    p["TakeAction/issue_notice"] = [&](const std::string& tok) {
      auto [t, v] = FreshCase("registered");
      return Take(tok, t, "issue_notice", v, {{"notice_kind", "urge"}, {"notice_text", "请按期答复"}})
          .status();
    };
    p["TakeAction/evaluate"] = [&](const std::string& tok) {
      auto [t, v] = FreshCase("served");
      return Take(tok, t, "evaluate", v, {{"rating", "satisfied"}, {"office_rating", "satisfied"}, {"channel", "call"}})
          .status();
    };
    p["TakeAction/approve_extension"] = [&](const std::string& tok) {
      auto [t, v] = FreshCase("extension_requested");
      return Take(tok, t, "approve_extension", v,
                  {{"days", "10"}, {"petitioner_told_on", "2026-03-02"}})
          .status();
    };
    p["VerifyHistory"] = [&](const std::string& tok) { return Verify(tok, case_x_).status(); };
    p["ListDocuments"] = [&](const std::string& tok) {
      v1::ListDocumentsRequest req;
      req.mutable_case_()->set_tracking_number(case_x_);
      return Call(server_.query(), &v1::CaseQueryService::Stub::ListDocuments, tok, req).status();
    };
    p["GetDocument"] = [&](const std::string& tok) {
      v1::GetDocumentRequest req;
      req.set_number(document_);
      return Call(server_.query(), &v1::CaseQueryService::Stub::GetDocument, tok, req).status();
    };
    p["ListNotifications"] = [&](const std::string& tok) {
      v1::ListNotificationsRequest req;
      req.mutable_case_()->set_tracking_number(case_x_);
      return Call(server_.query(), &v1::CaseQueryService::Stub::ListNotifications, tok, req)
          .status();
    };
    p["SetAccountEmail"] = [&](const std::string& tok) {
      v1::SetAccountEmailRequest req;
      req.set_name(kVictim.account);
      req.set_email("victim@example.org");
      return Call(server_.admin(), &v1::AdminService::Stub::SetAccountEmail, tok, req).status();
    };
    p["MigrateCases"] = [&](const std::string& tok) {
      v1::MigrateCasesRequest req;
      req.set_from_version(2);
      req.set_dry_run(true);
      return Call(server_.admin(), &v1::AdminService::Stub::MigrateCases, tok, req).status();
    };
    p["GetCase"] = [&](const std::string& tok) { return GetCase(tok, case_x_).status(); };
    p["GetHistory"] = [&](const std::string& tok) { return History(tok, case_x_).status(); };
    p["ListCases"] = [&](const std::string& tok) {
      v1::ListCasesRequest req;
      req.set_unit(kHome);
      return List(tok, req).status();
    };
    p["WatchEvents"] = [&](const std::string& tok) {
      v1::WatchEventsRequest req;
      req.mutable_case_()->set_tracking_number(case_x_);
      return Watch(tok, req, 1).status;
    };
    p["GetStatistics"] = [&](const std::string& tok) { return Stats(tok, kHome).status(); };
    p["ListDeadlines"] = [&](const std::string& tok) {
      v1::ListDeadlinesRequest req;
      req.set_unit(kHome);
      return Call(server_.supervision(), &v1::SupervisionService::Stub::ListDeadlines, tok, req)
          .status();
    };
    p["Dashboard"] = [&](const std::string& tok) {
      v1::DashboardRequest req;
      req.set_unit(kHome);
      return Call(server_.supervision(), &v1::SupervisionService::Stub::Dashboard, tok, req).status();
    };
    // Out of sight is NOT_FOUND: the matrix counts it as denied.
    auto sight = [](absl::Status s) {
      return s.code() == absl::StatusCode::kNotFound ? absl::PermissionDeniedError(s.message()) : s;
    };
    p["ListWarnings"] = [&](const std::string& tok) {
      v1::ListWarningsRequest req;
      req.set_unit(kHome);
      return Call(server_.supervision(), &v1::SupervisionService::Stub::ListWarnings, tok, req)
          .status();
    };
    p["GetWarning"] = [&, sight](const std::string& tok) {
      v1::GetWarningRequest req;
      req.set_id(warning_);
      return sight(
          Call(server_.supervision(), &v1::SupervisionService::Stub::GetWarning, tok, req).status());
    };
    // With a stale version: ABORTED once access and sight are passed (and
    // the warning stays as it is for the next caller).
    p["UpdateWarning"] = [&, sight](const std::string& tok) {
      v1::UpdateWarningRequest req;
      req.set_id(warning_);
      req.set_expected_version(1000);
      req.set_state(v1::WARNING_STATE_ACKNOWLEDGED);
      absl::Status s = sight(
          Call(server_.supervision(), &v1::SupervisionService::Stub::UpdateWarning, tok, req)
              .status());
      return s.code() == absl::StatusCode::kAborted ? absl::OkStatus() : s;
    };
    p["GetSituationReport"] = [&](const std::string& tok) {
      v1::GetSituationReportRequest req;
      req.set_unit(kHome);
      req.set_period("2026-03");
      return Call(server_.query(), &v1::CaseQueryService::Stub::GetSituationReport, tok, req)
          .status();
    };
    p["GetServerInfo"] = [&](const std::string& tok) {
      return Call(server_.admin(), &v1::AdminService::Stub::GetServerInfo, tok,
                  v1::GetServerInfoRequest{})
          .status();
    };
    p["WhoAmI"] = [&](const std::string& tok) { return WhoAmI(tok).status(); };
    p["AdvanceClock"] = [&](const std::string& tok) {
      v1::AdvanceClockRequest req;
      req.set_seconds(0);
      return Call(server_.admin(), &v1::AdminService::Stub::AdvanceClock, tok, req).status();
    };
    p["CreateAccount"] = [&](const std::string& tok) {
      return CreateAccount(tok, absl::StrCat("made-", ++n_), v1::ROLE_CASE_OFFICER, kHome).status();
    };
    p["ListAccounts"] = [&](const std::string& tok) { return ListAccounts(tok, kHome).status(); };
    p["SetAccountDisabled"] = [&](const std::string& tok) {
      return SetDisabled(tok, kVictim.account, false).status();
    };
    p["IssueToken"] = [&](const std::string& tok) {
      return IssueToken(tok, kVictim.account, 1).status();
    };
    p["RevokeToken"] = [&](const std::string& tok) {
      const absl::Time now = server_.core().clock().Now();
      auto fresh = server_.core().identity().IssueToken(kVictim.account, "probe", "test", now,
                                                        now + absl::Hours(24));
      EXPECT_THAT(fresh, testing::IsOk());
      if (!fresh.ok()) return fresh.status();
      return RevokeToken(tok, fresh->info.id).status();
    };
    p["ListTokens"] = [&](const std::string& tok) {
      return ListTokens(tok, kVictim.account).status();
    };
    p["ListAccessLog"] = [&](const std::string& tok) {
      return AccessLog(tok, "", "").status();
    };
    p["SetPassword"] = [&](const std::string& tok) {
      v1::SetPasswordRequest req;
      req.set_account(kVictim.account);
      req.set_password("probe-password-1");
      return Call(server_.admin(), &v1::AdminService::Stub::SetPassword, tok, req).status();
    };
    p["ListReferenceData"] = [&](const std::string& tok) {
      return Call(server_.admin(), &v1::AdminService::Stub::ListReferenceData, tok,
                  v1::ListReferenceDataRequest())
          .status();
    };
    p["PutUnit"] = [&](const std::string& tok) {
      v1::PutUnitRequest req;
      req.set_code(absl::StrCat("prov.organs.edu.made-", ++n_));
      req.set_name("新设单位");
      req.set_parent(kHome);
      return Call(server_.admin(), &v1::AdminService::Stub::PutUnit, tok, req).status();
    };
    p["PutCategory"] = [&](const std::string& tok) {
      v1::PutCategoryRequest req;
      req.set_code(absl::StrCat("made-", ++n_));
      req.set_name("新设类别");
      req.set_active(true);
      return Call(server_.admin(), &v1::AdminService::Stub::PutCategory, tok, req).status();
    };
    p["SignOut"] = [&](const std::string& tok) {
      return Call(server_.admin(), &v1::AdminService::Stub::SignOut, tok, v1::SignOutRequest())
          .status();
    };
    return p;
  }

  std::string case_x_;
  std::string document_;  // a document of case_x_
  int64_t warning_ = 0;
  int n_ = 0;
};

// The table names every RPC of the five services (a new RPC must be added
// to it), and every row has a probe.
TEST_F(MatrixTest, TheTableCoversEveryRpc) {
  std::set<std::string> in_table;
  for (const PolicyRow& row : kPolicy) {
    const std::string rpc = row.rpc;
    in_table.insert(rpc.substr(0, rpc.find('/')));
    EXPECT_EQ(Probes().count(rpc), 1u) << rpc;
  }
  std::set<std::string> served;
  for (const char* service : {"xinfang.v1.IntakeService", "xinfang.v1.CaseworkService",
                              "xinfang.v1.CaseQueryService", "xinfang.v1.SupervisionService",
                              "xinfang.v1.AdminService"}) {
    const auto* d = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(service);
    ASSERT_NE(d, nullptr) << service;
    for (int i = 0; i < d->method_count(); ++i) served.insert(d->method(i)->name());
  }
  // Need no token (the password is the proof): signin_test.cc.
  served.erase("SignIn");
  served.erase("ChangePassword");
  EXPECT_EQ(in_table, served);
}

TEST_F(MatrixTest, EveryRpcByEveryRoleFromEveryUnit) {
  auto probes = Probes();
  int calls = 0;
  for (const PolicyRow& row : kPolicy) {
    for (int r = 0; r < 7; ++r) {
      ASSERT_EQ(std::string(row.by_role[r]).size(), 4u) << row.rpc;
      for (int s = 0; s < 4; ++s) {
        const Caller who{absl::StrCat("m-", kRoles[r], "-", kScopeNames[s]), kRoles[r],
                         kScopeUnits[s]};
        const absl::StatusCode want = row.by_role[r][s] == 'O' ? kOk : kDenied;
        const absl::Status got = probes.at(row.rpc)(Token(who));
        ++calls;
        EXPECT_EQ(got.code(), want)
            << row.rpc << " by " << kRoles[r] << " of " << kScopeUnits[s] << " ("
            << kScopeNames[s] << "): " << got;
      }
    }
  }
  EXPECT_EQ(calls, static_cast<int>(std::size(kPolicy)) * 7 * 4);
}

// Without a token, or with one no server issued, every RPC is refused
// before anything else is looked at.
TEST_F(MatrixTest, NoTokenOrAGarbageTokenIsUnauthenticatedOnEveryRpc) {
  auto probes = Probes();
  for (const PolicyRow& row : kPolicy) {
    const absl::Status none = probes.at(row.rpc)("");
    EXPECT_EQ(none.code(), kUnauthenticated) << row.rpc << " without a token: " << none;
  }
  // Unknown tokens count as failed sign-ins of this address (20 at once, then
  // one a second: FailedSignInsFromOneAddressAreSlowed); half of these are
  // too long to be a token and are refused without counting.
  const std::string garbage[] = {"xf_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                                 std::string(300, 'x')};
  int i = 0;
  for (const PolicyRow& row : kPolicy) {
    const std::string& g = garbage[i++ % 2];
    const absl::Status got = probes.at(row.rpc)(g);
    EXPECT_EQ(got.code(), kUnauthenticated) << row.rpc << " with a garbage token: " << got;
  }
  // Nothing was done by any of them.
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM accounts WHERE name LIKE 'made-%'"), "0");
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM tokens WHERE revoked_at IS NOT NULL"), "0");
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM case_events WHERE action IN ('evaluate', "
                               "'approve_extension') OR (action = 'accept' AND actor <> 'home-clerk') OR "
                               "(action = 'issue_notice' AND actor <> 'home-head') OR "
                               "(kind = 'registered' AND actor <> 'home-clerk')"),
            "0");
}

// A bearer token that is not one: other schemes and empty values.
TEST_F(MatrixTest, MalformedAuthorizationIsUnauthenticated) {
  for (const std::string value : {"Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "xf_abc", ""}) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", value);
    v1::WhoAmIResponse resp;
    grpc::Status s = server_.admin()->WhoAmI(&ctx, v1::WhoAmIRequest{}, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << "'" << value << "'";
  }
  // The scheme is case-insensitive.
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "bearer " + Token(kHomeClerk));
  v1::WhoAmIResponse resp;
  EXPECT_TRUE(server_.admin()->WhoAmI(&ctx, v1::WhoAmIRequest{}, &resp).ok());
  EXPECT_EQ(resp.account().name(), kHomeClerk.account);
}

// Without a unit filter, lists and counts are limited to the caller's subtree.
TEST_F(MatrixTest, ListsDefaultToTheCallersSubtree) {
  auto trackings = [&](const Caller& who) {
    std::set<std::string> out;
    auto r = List(Token(who));
    EXPECT_THAT(r, testing::IsOk());
    if (r.ok()) {
      for (const auto& c : r->cases()) out.insert(c.tracking_number());
    }
    return out;
  };
  EXPECT_EQ(trackings({"l-officer-own", "case_officer", kHome}).count(case_x_), 1u);
  EXPECT_EQ(trackings({"l-sup-above", "supervisor", "prov.organs"}).count(case_x_), 1u);
  EXPECT_TRUE(trackings({"l-officer-sibling", "case_officer", "prov.organs.health"}).empty());
  EXPECT_TRUE(trackings({"l-head-branch", "unit_head", "prov.city-a"}).empty());
  EXPECT_EQ(trackings({"l-service-branch", "service", "prov.city-a"}).count(case_x_), 1u);
  // Statistics likewise: the sibling counts nothing of prov.organs.edu.
  auto sibling = Stats(Token({"l-head-sibling", "unit_head", "prov.organs.health"}), "");
  ASSERT_THAT(sibling, testing::IsOk());
  EXPECT_EQ(sibling->received(), 0);
  auto own = Stats(Token({"l-head-own", "unit_head", kHome}), "");
  ASSERT_THAT(own, testing::IsOk());
  EXPECT_EQ(own->received(), 4);  // case x and the three behind the fixture's warning
}

// ------------------------------------------------------------------------
// 2. Tokens and accounts.

class TokenTest : public AccessBase {
 protected:
  const Caller kRootAdmin{"root-admin", "administrator", "prov"};
  const Caller kEduAdmin{"edu-admin", "administrator", "prov.organs.edu"};
};

TEST_F(TokenTest, AnIssuedSecretAuthenticatesAndOnlyItsHashIsStored) {
  const std::string admin = Token(kRootAdmin);
  auto created = CreateAccount(admin, "tok-user", v1::ROLE_CASE_OFFICER, "prov.organs.edu", "李雷");
  ASSERT_THAT(created, testing::IsOk());
  EXPECT_EQ(created->created_by(), "root-admin");
  auto issued = IssueToken(admin, "tok-user", 0, "front desk PC 3");
  ASSERT_THAT(issued, testing::IsOk());
  const std::string secret = issued->secret();
  ASSERT_TRUE(secret.size() > 20 && secret.rfind("xf_", 0) == 0) << secret;
  for (char c : secret) ASSERT_TRUE(absl::ascii_isalnum(c) || c == '_' || c == '-') << secret;
  // 90 days by default.
  EXPECT_EQ(issued->token().expires_at().seconds() - issued->token().created_at().seconds(),
            90 * 86400);

  auto me = WhoAmI(secret);
  ASSERT_THAT(me, testing::IsOk());
  EXPECT_EQ(me->name(), "tok-user");
  EXPECT_EQ(me->role(), v1::ROLE_CASE_OFFICER);
  EXPECT_EQ(me->unit(), "prov.organs.edu");
  EXPECT_EQ(me->display_name(), "李雷");

  // The table holds the SHA-256 of the secret, computed here by PostgreSQL,
  // and nothing in any row of it (or of accounts) contains the secret.
  const std::string id = absl::StrCat(issued->token().id());
  EXPECT_EQ(server_.db().Query(absl::StrCat("SELECT count(*) FROM tokens WHERE id = ", id,
                                            " AND hash = sha256(convert_to('", secret, "', 'UTF8'))")),
            "1");
  EXPECT_EQ(server_.db().Query(absl::StrCat("SELECT octet_length(hash) FROM tokens WHERE id = ", id)),
            "32");
  const std::string body = secret.substr(3);
  EXPECT_EQ(server_.db().Query(absl::StrCat(
                "SELECT count(*) FROM tokens t WHERE strpos(t::text, '", body, "') > 0 OR strpos("
                "encode(t.hash, 'escape'), '", body, "') > 0")),
            "0");
  EXPECT_EQ(server_.db().Query(absl::StrCat("SELECT count(*) FROM accounts a WHERE strpos(a::text, '",
                                            body, "') > 0")),
            "0");
  // Listing tokens never shows a secret.
  auto listed = ListTokens(admin, "tok-user");
  ASSERT_THAT(listed, testing::IsOk());
  ASSERT_EQ(listed->tokens_size(), 1);
  EXPECT_EQ(listed->tokens(0).label(), "front desk PC 3");
  EXPECT_THAT(listed->SerializeAsString(), Not(HasSubstr(body)));
}

TEST_F(TokenTest, ARevokedTokenIsRefusedAtOnceOthersStillWork) {
  const std::string admin = Token(kRootAdmin);
  ASSERT_THAT(CreateAccount(admin, "rev-user", v1::ROLE_INTAKE_CLERK, "prov.organs.office"),
              testing::IsOk());
  auto first = IssueToken(admin, "rev-user");
  auto second = IssueToken(admin, "rev-user");
  ASSERT_THAT(first, testing::IsOk());
  ASSERT_THAT(second, testing::IsOk());
  ASSERT_THAT(WhoAmI(first->secret()), testing::IsOk());

  auto revoked = RevokeToken(admin, first->token().id());
  ASSERT_THAT(revoked, testing::IsOk());
  EXPECT_TRUE(revoked->revoked());
  // The very next call with it, on any RPC.
  EXPECT_THAT(WhoAmI(first->secret()), testing::StatusIs(kUnauthenticated, HasSubstr("revoked")));
  EXPECT_THAT(Register(first->secret(), AnonymousWagesVisit("rev-user-0001", "prov.organs.office")),
              testing::StatusIs(kUnauthenticated));
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM cases"), "0");
  // The account's other token is unaffected.
  EXPECT_THAT(WhoAmI(second->secret()), testing::IsOk());
  // Revoking again keeps it revoked; an unknown id is NOT_FOUND.
  EXPECT_THAT(RevokeToken(admin, first->token().id()), testing::IsOk());
  EXPECT_THAT(WhoAmI(first->secret()), testing::StatusIs(kUnauthenticated));
  EXPECT_THAT(RevokeToken(admin, 999999), testing::StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(RevokeToken(admin, 0), testing::StatusIs(kInvalid, HasSubstr("token_id")));
  auto listed = ListTokens(admin, "rev-user");
  ASSERT_THAT(listed, testing::IsOk());
  int revoked_count = 0;
  for (const auto& t : listed->tokens()) revoked_count += t.revoked() ? 1 : 0;
  EXPECT_EQ(revoked_count, 1);
}

TEST_F(TokenTest, AnExpiredTokenIsRefusedAtOnce) {
  const std::string admin = Token(kRootAdmin);
  ASSERT_THAT(CreateAccount(admin, "exp-user", v1::ROLE_SUPERVISOR, "prov.organs"), testing::IsOk());
  auto day = IssueToken(admin, "exp-user", 1);
  ASSERT_THAT(day, testing::IsOk());
  const absl::Time expires = absl::FromUnixSeconds(day->token().expires_at().seconds()) +
                             absl::Nanoseconds(day->token().expires_at().nanos());
  EXPECT_EQ(expires, Monday() + absl::Hours(24));
  EXPECT_THAT(WhoAmI(day->secret()), testing::IsOk());
  // A second before the end it still works ...
  ASSERT_THAT(server_.AdvanceTo(expires - absl::Seconds(1)), testing::IsOk());
  EXPECT_THAT(WhoAmI(day->secret()), testing::IsOk());
  // ... and from the instant it expires it does not.
  ASSERT_THAT(server_.AdvanceTo(expires), testing::IsOk());
  EXPECT_THAT(WhoAmI(day->secret()), testing::StatusIs(kUnauthenticated, HasSubstr("expired")));
  v1::ListCasesRequest req;
  EXPECT_THAT(List(day->secret(), req), testing::StatusIs(kUnauthenticated));
  auto listed = ListTokens(admin, "exp-user");
  ASSERT_THAT(listed, testing::IsOk());
  ASSERT_EQ(listed->tokens_size(), 1);
  EXPECT_TRUE(listed->tokens(0).expired());
  // ttl_days is bounded.
  EXPECT_THAT(IssueToken(admin, "exp-user", 367), testing::StatusIs(kInvalid, HasSubstr("ttl_days")));
  EXPECT_THAT(IssueToken(admin, "exp-user", -1), testing::StatusIs(kInvalid, HasSubstr("ttl_days")));
}

TEST_F(TokenTest, ADisabledAccountsTokensAreRefusedUntilEnabled) {
  const std::string admin = Token(kRootAdmin);
  ASSERT_THAT(CreateAccount(admin, "dis-user", v1::ROLE_UNIT_HEAD, "prov.organs.edu"),
              testing::IsOk());
  auto one = IssueToken(admin, "dis-user");
  auto two = IssueToken(admin, "dis-user");
  ASSERT_THAT(one, testing::IsOk());
  ASSERT_THAT(two, testing::IsOk());
  ASSERT_THAT(RevokeToken(admin, two->token().id()), testing::IsOk());

  auto disabled = SetDisabled(admin, "dis-user", true);
  ASSERT_THAT(disabled, testing::IsOk());
  EXPECT_TRUE(disabled->disabled());
  EXPECT_THAT(WhoAmI(one->secret()), testing::StatusIs(kUnauthenticated, HasSubstr("disabled")));
  EXPECT_THAT(Stats(one->secret(), ""), testing::StatusIs(kUnauthenticated));
  // No new token for a disabled account.
  EXPECT_THAT(IssueToken(admin, "dis-user"), testing::StatusIs(kPrecondition));

  auto enabled = SetDisabled(admin, "dis-user", false);
  ASSERT_THAT(enabled, testing::IsOk());
  EXPECT_FALSE(enabled->disabled());
  EXPECT_THAT(WhoAmI(one->secret()), testing::IsOk());
  // Enabling does not bring back a revoked token.
  EXPECT_THAT(WhoAmI(two->secret()), testing::StatusIs(kUnauthenticated, HasSubstr("revoked")));
  // An administrator cannot lock themself out; unknown accounts are NOT_FOUND.
  EXPECT_THAT(SetDisabled(admin, "root-admin", true), testing::StatusIs(kPrecondition));
  EXPECT_THAT(WhoAmI(admin), testing::IsOk());
  EXPECT_THAT(SetDisabled(admin, "nobody", true), testing::StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(TokenTest, ALowerUnitAdministratorStaysInItsSubtree) {
  const std::string root = Token(kRootAdmin);
  const std::string edu = Token(kEduAdmin);
  ASSERT_THAT(CreateAccount(root, "health-user", v1::ROLE_CASE_OFFICER, "prov.organs.health"),
              testing::IsOk());
  auto health_token = IssueToken(root, "health-user");
  ASSERT_THAT(health_token, testing::IsOk());

  // Outside prov.organs.edu: a sibling, the unit above, the top.
  for (const char* unit : {"prov.organs.health", "prov.organs", "prov"}) {
    EXPECT_THAT(CreateAccount(edu, absl::StrCat("x-", absl::StrReplaceAll(unit, {{".", "-"}})),
                              v1::ROLE_INTAKE_CLERK, unit),
                testing::StatusIs(kDenied, HasSubstr("account.unit")))
        << unit;
  }
  EXPECT_THAT(IssueToken(edu, "health-user"), testing::StatusIs(kDenied));
  EXPECT_THAT(RevokeToken(edu, health_token->token().id()), testing::StatusIs(kDenied));
  EXPECT_THAT(SetDisabled(edu, "health-user", true), testing::StatusIs(kDenied));
  EXPECT_THAT(ListTokens(edu, "health-user"), testing::StatusIs(kDenied));
  EXPECT_THAT(ListAccounts(edu, "prov.organs.health"), testing::StatusIs(kDenied));
  // ... and none of it happened.
  EXPECT_THAT(WhoAmI(health_token->secret()), testing::IsOk());
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM accounts WHERE name LIKE 'x-%'"), "0");
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM tokens WHERE account = 'health-user'"), "1");

  // Inside it, all of it works; an account without a unit gets the admin's.
  auto mine = CreateAccount(edu, "edu-clerk2", v1::ROLE_INTAKE_CLERK, "");
  ASSERT_THAT(mine, testing::IsOk());
  EXPECT_EQ(mine->unit(), "prov.organs.edu");
  auto mine_token = IssueToken(edu, "edu-clerk2");
  ASSERT_THAT(mine_token, testing::IsOk());
  EXPECT_THAT(WhoAmI(mine_token->secret()), testing::IsOk());
  EXPECT_THAT(SetDisabled(edu, "edu-clerk2", true), testing::IsOk());
  EXPECT_THAT(SetDisabled(edu, "edu-clerk2", false), testing::IsOk());
  EXPECT_THAT(RevokeToken(edu, mine_token->token().id()), testing::IsOk());
  // Listing without a unit shows only the subtree.
  auto listed = ListAccounts(edu, "");
  ASSERT_THAT(listed, testing::IsOk());
  std::set<std::string> names;
  for (const auto& a : listed->accounts()) names.insert(a.name());
  EXPECT_EQ(names, (std::set<std::string>{"edu-admin", "edu-clerk2"}));
  auto tokens = ListTokens(edu, "");
  ASSERT_THAT(tokens, testing::IsOk());
  for (const auto& t : tokens->tokens()) EXPECT_NE(t.account(), "health-user");
}

// Auditors and service accounts see every unit, so an administrator of a
// lower unit may neither create them nor issue their tokens: that would
// reach beyond the administrator's subtree.
TEST_F(TokenTest, ALowerUnitAdministratorCannotMintAccountsThatSeeEveryUnit) {
  const std::string root = Token(kRootAdmin);
  const std::string edu = Token(kEduAdmin);
  for (v1::Role role : {v1::ROLE_AUDITOR, v1::ROLE_SERVICE}) {
    const std::string name = absl::StrCat("wide-", static_cast<int>(role));
    EXPECT_THAT(CreateAccount(edu, name + "-by-edu", role, "prov.organs.edu"),
                testing::StatusIs(kDenied, HasSubstr("account.role")))
        << v1::Role_Name(role);
    // One the top administrator placed in prov.organs.edu is not the edu
    // administrator's to hand tokens out for either.
    ASSERT_THAT(CreateAccount(root, name, role, "prov.organs.edu"), testing::IsOk());
    EXPECT_THAT(IssueToken(edu, name), testing::StatusIs(kDenied)) << v1::Role_Name(role);
    EXPECT_THAT(IssueToken(root, name), testing::IsOk());
  }
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM accounts WHERE created_by = 'edu-admin'"), "0");
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM tokens WHERE created_by = 'edu-admin'"), "0");
  // The edu administrator still manages its own kinds of account.
  EXPECT_THAT(CreateAccount(edu, "edu-sup", v1::ROLE_SUPERVISOR, "prov.organs.edu"), testing::IsOk());
  EXPECT_THAT(IssueToken(edu, "edu-sup"), testing::IsOk());
}

TEST_F(TokenTest, BadAccountsNameTheFieldTakenNamesAlreadyExist) {
  const std::string admin = Token(kRootAdmin);
  struct Bad {
    std::string name;
    v1::Role role;
    std::string unit;
    std::string display;
    const char* field;
  };
  const std::vector<Bad> bad = {
      {"", v1::ROLE_INTAKE_CLERK, "prov", "", "account.name"},
      {"Upper", v1::ROLE_INTAKE_CLERK, "prov", "", "account.name"},
      {"has space", v1::ROLE_INTAKE_CLERK, "prov", "", "account.name"},
      {"-dash-first", v1::ROLE_INTAKE_CLERK, "prov", "", "account.name"},
      {std::string(65, 'a'), v1::ROLE_INTAKE_CLERK, "prov", "", "account.name"},
      {"王芳", v1::ROLE_INTAKE_CLERK, "prov", "", "account.name"},
      {"no-role", v1::ROLE_UNSPECIFIED, "prov", "", "account.role"},
      {"system-role", v1::ROLE_SYSTEM, "prov", "", "account.role"},
      {"bad-role", static_cast<v1::Role>(99), "prov", "", "account.role"},
      {"no-unit", v1::ROLE_INTAKE_CLERK, "nowhere", "", "account.unit"},
      {"long-display", v1::ROLE_INTAKE_CLERK, "prov", std::string(65, 'x'), "account.display_name"},
  };
  for (const Bad& b : bad) {
    EXPECT_THAT(CreateAccount(admin, b.name, b.role, b.unit, b.display),
                testing::StatusIs(kInvalid, HasSubstr(b.field)))
        << b.name;
  }
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM accounts"), "1");  // root-admin
  ASSERT_THAT(CreateAccount(admin, "a.b_c-1", v1::ROLE_AUDITOR, "prov"), testing::IsOk());
  EXPECT_THAT(CreateAccount(admin, "a.b_c-1", v1::ROLE_INTAKE_CLERK, "prov.organs"),
              testing::StatusIs(absl::StatusCode::kAlreadyExists));
  auto who = ListAccounts(admin, "prov");
  ASSERT_THAT(who, testing::IsOk());
  for (const auto& a : who->accounts()) {
    if (a.name() == "a.b_c-1") {
      EXPECT_EQ(a.role(), v1::ROLE_AUDITOR);  // unchanged
    }
  }
  // Token requests name their field too.
  EXPECT_THAT(IssueToken(admin, ""), testing::StatusIs(kInvalid, HasSubstr("account")));
  EXPECT_THAT(IssueToken(admin, "a.b_c-1", 0, std::string(101, 'l')),
              testing::StatusIs(kInvalid, HasSubstr("label")));
  EXPECT_THAT(IssueToken(admin, "nobody"), testing::StatusIs(absl::StatusCode::kNotFound));
}

// ------------------------------------------------------------------------
// 3. Confidentiality on every read path.

// What the petition says and who sent it: none of it may reach a redacted
// reader, in any field of any response.
const char kName[] = "王五";
const char kId[] = "110101199003071233";
const char kPhone[] = "13912342222";
const char kAddress[] = "某市某区教育路8号";
const char kSummary[] = "反映教育厅某处长收受好处费";
const char kRequestText[] = "请求查处该处长的违纪行为";
const char kFacts[] = "自2025年起多次索要现金";
const char kAccused[] = "教育厅人事处处长张某";
const char kRepresentative[] = "赵六";
const char kAttachment[] = "scan://complaints/0042.pdf";
const char kLocation[] = "省教育厅三楼人事处";
const char kForwardReason[] = "按管辖转教育厅机关工会办理";
const char kForwardNote[] = "来访人要求对其身份保密";
const char kAcceptNotice[] = "督办：请说明人事处反映事项的办理情况";
const char kAcceptNote[] = "已电话联系信访人核实";
const char kConflictReason[] = "与被反映人系大学同学";

const std::vector<std::string>& Secrets() {
  static const auto* s = new std::vector<std::string>{
      kName,  kId,        kPhone,         kAddress,     kSummary,      kRequestText,
      kFacts, kAccused,   kRepresentative, kAttachment, kLocation,     kForwardReason,
      kForwardNote, kAcceptNotice, kAcceptNote, kConflictReason};
  return *s;
}

// The fields a redacted event keeps: those of the action that are not free
// text (petition@1: units, accounts, choices, dates, days).
const std::map<std::string, std::set<std::string>>& KeptFields() {
  static const auto* m = new std::map<std::string, std::set<std::string>>{
      {"forward", {"target_unit"}},
      {"assign_officer", {"officer"}},
      {"declare_conflict", {"account"}},
      {"issue_notice", {"notice_kind", "reply_days"}},
  };
  return *m;
}

void ExpectNoSecrets(const google::protobuf::Message& m, const std::string& where) {
  const std::string bytes = m.SerializeAsString();
  for (const std::string& s : Secrets()) {
    EXPECT_THAT(bytes, Not(HasSubstr(s))) << where << " shows \"" << s << "\"";
  }
}

void ExpectRedactedEvent(const v1::CaseEvent& e, const std::string& where) {
  SCOPED_TRACE(absl::StrCat(where, ": event ", e.seq(), " ", e.kind()));
  EXPECT_EQ(e.note(), "");
  // An action's event keeps only the fields that are not free text; the
  // system's own events (registered, deadlines) carry no free text at all.
  if (!e.action().empty()) {
    auto it = KeptFields().find(e.action());
    const std::set<std::string> allowed = it == KeptFields().end() ? std::set<std::string>{}
                                                                   : it->second;
    for (const auto& [k, v] : e.fields()) {
      EXPECT_EQ(allowed.count(k), 1u) << "field " << k << "=" << v;
    }
  }
  EXPECT_FALSE(e.hash().empty());
  ExpectNoSecrets(e, where);
}

void ExpectRedactedCase(const v1::Case& c, const std::string& where) {
  SCOPED_TRACE(where);
  EXPECT_TRUE(c.redacted());
  const v1::CaseIntake& in = c.intake();
  EXPECT_EQ(in.petitioners_size(), 0);
  EXPECT_EQ(in.summary(), "");
  EXPECT_EQ(in.request(), "");
  EXPECT_EQ(in.facts_and_reasons(), "");
  EXPECT_EQ(in.complained_about(), "");
  EXPECT_EQ(in.attachments_size(), 0);
  EXPECT_EQ(in.issue_location(), "");
  EXPECT_EQ(in.visit().representatives_size(), 0);
  EXPECT_TRUE(c.attributes().empty());
  // Still a case one can work with.
  EXPECT_FALSE(c.tracking_number().empty());
  EXPECT_FALSE(c.state().empty());
  EXPECT_EQ(c.responsible_unit(), "prov.organs.edu");
  ExpectNoSecrets(c, where);
}

class ConfidentialityTest : public AccessBase {
 protected:
  const Caller kOrgClerk{"org-clerk", "intake_clerk", "prov.organs"};
  const Caller kOrgOfficer{"org-officer", "case_officer", "prov.organs"};
  const Caller kOrgHead{"org-head", "unit_head", "prov.organs"};
  const Caller kOrgSupervisor{"org-sup", "supervisor", "prov.organs"};
  const Caller kEduClerk{"edu-clerk", "intake_clerk", "prov.organs.edu"};
  const Caller kEduOfficer{"edu-officer", "case_officer", "prov.organs.edu"};
  const Caller kEduHead{"edu-head", "unit_head", "prov.organs.edu"};
  const Caller kService{"svc-platform", "service", "prov"};
  const Caller kAuditor{"audit1", "auditor", "prov"};

  // Case C: complained about prov.organs.edu, registered at prov.organs and
  // forwarded to prov.organs.edu, accepted there and given an officer.
  // Case D: the same route, complained about prov.organs.health.
  void SetUp() override {
    v1::RegisterCaseRequest req;
    req.set_request_id("conf-case-c-0001");
    v1::CaseIntake* in = req.mutable_intake();
    in->set_channel(v1::CHANNEL_VISIT);
    in->mutable_visit()->set_people_present(2);
    in->mutable_visit()->add_representatives(kRepresentative);
    in->set_purpose(v1::PURPOSE_ACCUSATION);
    in->set_category("wages.arrears");
    in->set_summary(kSummary);
    in->set_request(kRequestText);
    in->set_facts_and_reasons(kFacts);
    in->set_complained_about(kAccused);
    in->set_issue_location(kLocation);
    in->add_attachments(kAttachment);
    v1::Petitioner* p = in->add_petitioners();
    p->set_name(kName);
    p->set_id_number(kId);
    p->set_phone(kPhone);
    p->set_address(kAddress);
    auto c = Register(Token(kOrgClerk), req);
    ASSERT_THAT(c, testing::IsOk());
    case_c_ = c->case_().tracking_number();
    // The registering clerk is not tied: the receipt carries the matter.
    EXPECT_THAT(c->receipt(), HasSubstr(kSummary));
    EXPECT_FALSE(c->case_().redacted());
    auto fwd = Take(Token(kOrgClerk), case_c_, "forward", c->case_().version(),
                    {{"target_unit", "prov.organs.edu"}, {"reason", kForwardReason}}, kForwardNote);
    ASSERT_THAT(fwd, testing::IsOk());
    ASSERT_EQ(fwd->case_().responsible_unit(), "prov.organs.edu");
    // C accuses prov.organs.edu, which holds it: Art. 30 now refuses such a
    // forward (ForwardingToTheUnitComplainedAboutIsRefused), so the state is
    // made as data from before that rule would have it, and every read path
    // must still keep the accusation from the accused.
    server_.db().Exec(absl::StrCat(
        "UPDATE cases SET complained_about_unit = 'prov.organs.edu', intake = jsonb_set(intake, "
        "'{complainedAboutUnit}', '\"prov.organs.edu\"') WHERE tracking_number = '", case_c_, "'"));
    in->set_complained_about_unit("prov.organs.edu");  // case D below copies this request

    // Case D.
    v1::RegisterCaseRequest other = req;
    other.set_request_id("conf-case-d-0001");
    v1::CaseIntake* oin = other.mutable_intake();
    oin->set_complained_about_unit("prov.organs.health");
    oin->set_summary("反映卫健委机关工会经费问题");
    oin->set_request("请求核查");
    oin->set_facts_and_reasons("经费使用不透明");
    oin->set_complained_about("卫健委机关工会");
    oin->set_issue_location("省卫健委");
    oin->clear_attachments();
    oin->mutable_visit()->clear_representatives();
    oin->clear_petitioners();
    v1::Petitioner* q = oin->add_petitioners();
    q->set_name("孙七");
    q->set_id_number("44030419850615231X");
    q->set_phone("13700001111");
    auto d = Register(Token(kOrgClerk), other);
    ASSERT_THAT(d, testing::IsOk());
    case_d_ = d->case_().tracking_number();
    ASSERT_THAT(Take(Token(kOrgClerk), case_d_, "forward", d->case_().version(),
                     {{"target_unit", "prov.organs.edu"}}),
                testing::IsOk());
  }

  // The accused unit may not take the case on (Art. 30): its officer's
  // acceptance is refused; what it may still do (a supervision notice from
  // its head, which leaves the case where it is) is answered redacted.
  void AcceptAndAssign() {
    auto before = GetCase(Token(kAuditor), case_c_);
    ASSERT_THAT(before, testing::IsOk());
    EXPECT_THAT(Take(Token(kEduOfficer), case_c_, "accept", before->version(),
                     {{"notice", "受理"}}),
                testing::StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("Art. 30")));
    auto noticed = Take(Token(kEduHead), case_c_, "issue_notice", before->version(),
                        {{"notice_kind", "urge"}, {"notice_text", kAcceptNotice}}, kAcceptNote);
    ASSERT_THAT(noticed, testing::IsOk());
    ExpectRedactedCase(noticed->case_(), "TakeAction(issue_notice) response");
    ASSERT_GE(noticed->events_size(), 1);
    for (const auto& e : noticed->events()) {
      ExpectRedactedEvent(e, "TakeAction(issue_notice) events");
      if (e.action() == "issue_notice") {
        EXPECT_EQ(e.fields().at("notice_kind"), "urge");  // not free text: kept
      }
    }
  }

  // Case C as `who` sees it on every read path, all redacted.
  void ExpectRedactedEverywhere(const Caller& who) {
    SCOPED_TRACE(who.account);
    const std::string tok = Token(who);
    auto c = GetCase(tok, case_c_);
    ASSERT_THAT(c, testing::IsOk());
    ExpectRedactedCase(*c, "GetCase");

    auto list = List(tok);
    ASSERT_THAT(list, testing::IsOk());
    bool listed = false;
    for (const auto& s : list->cases()) {
      if (s.tracking_number() == case_c_) {
        listed = true;
        EXPECT_EQ(s.summary(), "");
      }
    }
    EXPECT_TRUE(listed);
    ExpectNoSecrets(*list, "ListCases");

    auto full = History(Token(kAuditor), case_c_);
    ASSERT_THAT(full, testing::IsOk());
    auto history = History(tok, case_c_);
    ASSERT_THAT(history, testing::IsOk());
    ASSERT_EQ(history->events_size(), full->events_size());
    for (int i = 0; i < history->events_size(); ++i) {
      ExpectRedactedEvent(history->events(i), "GetHistory");
      // Same event, same hash: the history is cut, not rewritten.
      EXPECT_EQ(history->events(i).hash(), full->events(i).hash());
      EXPECT_EQ(history->events(i).kind(), full->events(i).kind());
      EXPECT_EQ(history->events(i).to_state(), full->events(i).to_state());
    }

    v1::WatchEventsRequest watch;
    watch.mutable_case_()->set_tracking_number(case_c_);
    Watched w = Watch(tok, watch, full->events_size());
    if (who.role == "intake_clerk") {  // clerks do not watch
      EXPECT_THAT(w.status, testing::StatusIs(kDenied));
    } else {
      ASSERT_EQ(w.events.size(), static_cast<std::size_t>(full->events_size())) << w.status;
      for (const auto& e : w.events) ExpectRedactedEvent(e, "WatchEvents");
    }

    // A search by petitioner never answers "did they petition against us?".
    for (const std::string& who_petitioned : {std::string(kName), std::string(kId),
                                              std::string(kPhone)}) {
      v1::ListCasesRequest search;
      search.set_petitioner(who_petitioned);
      auto found = List(tok, search);
      if (found.ok()) {
        for (const auto& s : found->cases()) EXPECT_NE(s.tracking_number(), case_c_);
      } else {
        EXPECT_THAT(found, testing::StatusIs(kDenied));
      }
    }
  }

  std::string case_c_, case_d_;
};

TEST_F(ConfidentialityTest, TheAccusedUnitSeesItRedactedOnEveryReadPath) {
  AcceptAndAssign();
  // Control: the auditor's view carries everything this test looks for.
  auto full = GetCase(Token(kAuditor), case_c_);
  ASSERT_THAT(full, testing::IsOk());
  EXPECT_FALSE(full->redacted());
  EXPECT_EQ(full->intake().petitioners(0).id_number(), kId);
  EXPECT_EQ(full->intake().summary(), kSummary);
  auto full_history = History(Token(kAuditor), case_c_);
  ASSERT_THAT(full_history, testing::IsOk());
  const std::string all = full_history->SerializeAsString();
  for (const char* s : {kForwardReason, kForwardNote, kAcceptNotice, kAcceptNote}) {
    EXPECT_THAT(all, HasSubstr(s));
  }

  ExpectRedactedEverywhere(kEduOfficer);
  ExpectRedactedEverywhere(kEduHead);
  ExpectRedactedEverywhere(kEduClerk);
  // The redacted history still verifies.
  auto verified = Verify(Token(kEduOfficer), case_c_);
  ASSERT_THAT(verified, testing::IsOk());
  EXPECT_TRUE(verified->intact());
  EXPECT_EQ(verified->events(), full_history->events_size());
  // A petitioner search by the officer runs (officers may search) and finds
  // the petitioner's other cases, not this one; the head may not search.
  v1::ListCasesRequest search;
  search.set_petitioner(kName);
  auto auditor_found = List(Token(kAuditor), search);
  ASSERT_THAT(auditor_found, testing::IsOk());
  ASSERT_EQ(auditor_found->cases_size(), 1);  // the search would find it
  auto officer_found = List(Token(kEduOfficer), search);
  ASSERT_THAT(officer_found, testing::IsOk());
  EXPECT_EQ(officer_found->cases_size(), 0);
  EXPECT_THAT(List(Token(kEduHead), search), testing::StatusIs(kDenied));

  // The same readers see case D, which does not accuse them, in full.
  auto d = GetCase(Token(kEduOfficer), case_d_);
  ASSERT_THAT(d, testing::IsOk());
  EXPECT_FALSE(d->redacted());
  EXPECT_EQ(d->intake().petitioners(0).id_number(), "44030419850615231X");
}

TEST_F(ConfidentialityTest, AReaderDeclaredInConflictSeesItRedacted) {
  AcceptAndAssign();
  // An officer above the unit sees it in full ...
  auto before = GetCase(Token(kOrgOfficer), case_c_);
  ASSERT_THAT(before, testing::IsOk());
  EXPECT_FALSE(before->redacted());
  EXPECT_EQ(before->intake().petitioners(0).id_number(), kId);
  // ... until a conflict of interest is declared for them.
  // A clerk may not mark a colleague; the unit head may.
  EXPECT_THAT(Take(Token(kOrgClerk), case_c_, "declare_conflict", before->version(),
                   {{"account", kOrgOfficer.account}, {"reason", kConflictReason}}),
              testing::StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("fields.account")));
  auto declared = Take(Token(kOrgHead), case_c_, "declare_conflict", before->version(),
                       {{"account", kOrgOfficer.account}, {"reason", kConflictReason}});
  ASSERT_THAT(declared, testing::IsOk());
  ExpectRedactedEverywhere(kOrgOfficer);
  // Still the full view for everyone else there.
  auto clerk = GetCase(Token(kOrgClerk), case_c_);
  ASSERT_THAT(clerk, testing::IsOk());
  EXPECT_FALSE(clerk->redacted());
  // And the conflict concerns this case only.
  auto d = GetCase(Token(kOrgOfficer), case_d_);
  ASSERT_THAT(d, testing::IsOk());
  EXPECT_FALSE(d->redacted());
}

TEST_F(ConfidentialityTest, ASupervisorSeesItMaskedAServiceAccountRedacted) {
  AcceptAndAssign();
  auto masked = GetCase(Token(kOrgSupervisor), case_c_);
  ASSERT_THAT(masked, testing::IsOk());
  EXPECT_FALSE(masked->redacted());
  ASSERT_EQ(masked->intake().petitioners_size(), 1);
  EXPECT_EQ(masked->intake().petitioners(0).id_number(), "110101********1233");
  EXPECT_EQ(masked->intake().petitioners(0).phone(), "139****2222");
  EXPECT_EQ(masked->intake().petitioners(0).name(), kName);
  EXPECT_EQ(masked->intake().summary(), kSummary);
  const std::string bytes = masked->SerializeAsString();
  EXPECT_THAT(bytes, Not(HasSubstr(kId)));
  EXPECT_THAT(bytes, Not(HasSubstr(kPhone)));
  // Masked readers may not search by a person.
  v1::ListCasesRequest search;
  search.set_petitioner(kId);
  EXPECT_THAT(List(Token(kOrgSupervisor), search), testing::StatusIs(kDenied));

  // A service account sees every case redacted, even one that accuses no one
  // it belongs to.
  ExpectRedactedEverywhere(kService);
  auto d = GetCase(Token(kService), case_d_);
  ASSERT_THAT(d, testing::IsOk());
  EXPECT_TRUE(d->redacted());
  EXPECT_EQ(d->intake().petitioners_size(), 0);
}

TEST_F(ConfidentialityTest, FullReadsAreRecordedMaskedAndRedactedOnesAreNot) {
  AcceptAndAssign();
  const std::string auditor = Token(kAuditor);
  auto log_of = [&](const std::string& account, const std::string& tracking) {
    std::vector<std::string> rpcs;
    auto r = AccessLog(auditor, account, tracking);
    EXPECT_THAT(r, testing::IsOk());
    if (r.ok()) {
      for (const auto& e : r->entries()) rpcs.push_back(e.rpc());
    }
    return rpcs;
  };
  // Reads in full: a clerk above the unit (C), the handling officer (D).
  ASSERT_THAT(GetCase(Token(kOrgClerk), case_c_), testing::IsOk());
  ASSERT_THAT(GetCase(Token(kEduOfficer), case_d_), testing::IsOk());
  // Masked and redacted reads.
  ASSERT_THAT(GetCase(Token(kOrgSupervisor), case_c_), testing::IsOk());
  ASSERT_THAT(GetCase(Token(kEduOfficer), case_c_), testing::IsOk());
  ASSERT_THAT(GetCase(Token(kEduHead), case_c_), testing::IsOk());
  ASSERT_THAT(GetCase(Token(kService), case_c_), testing::IsOk());

  EXPECT_THAT(log_of(kOrgClerk.account, case_c_), ::testing::Contains("GetCase"));
  auto edu_officer = AccessLog(auditor, kEduOfficer.account, "");
  ASSERT_THAT(edu_officer, testing::IsOk());
  ASSERT_EQ(edu_officer->entries_size(), 1);
  EXPECT_EQ(edu_officer->entries(0).rpc(), "GetCase");
  EXPECT_EQ(edu_officer->entries(0).tracking_number(), case_d_);
  EXPECT_EQ(edu_officer->entries(0).role(), v1::ROLE_CASE_OFFICER);
  EXPECT_EQ(edu_officer->entries(0).unit(), "prov.organs.edu");
  for (const Caller& who : {kOrgSupervisor, kEduHead, kService}) {
    EXPECT_TRUE(log_of(who.account, "").empty()) << who.account;
  }
  // The entries by case: C's were read in full by the registering clerk
  // (its own responses included) and the auditor, never by edu.
  for (const std::string& rpc_account : {kEduOfficer.account, kEduHead.account}) {
    auto by_case = AccessLog(auditor, rpc_account, case_c_);
    ASSERT_THAT(by_case, testing::IsOk());
    EXPECT_EQ(by_case->entries_size(), 0) << rpc_account;
  }
  // The log is the auditor's alone, and append-only.
  EXPECT_THAT(AccessLog(Token(kOrgSupervisor), "", ""), testing::StatusIs(kDenied));
  EXPECT_THAT(AccessLog(Token({"any-admin", "administrator", "prov"}), "", ""),
              testing::StatusIs(kDenied));
  const std::string count = server_.db().Query("SELECT count(*) FROM access_log");
  EXPECT_NE(count, "0");
}

TEST_F(ConfidentialityTest, StatisticsStayInScope) {
  AcceptAndAssign();
  auto own = Stats(Token(kEduHead), "");
  ASSERT_THAT(own, testing::IsOk());
  EXPECT_EQ(own->received(), 2);  // C and D, both handled by prov.organs.edu now
  for (const auto& u : own->by_unit()) EXPECT_EQ(u.key().rfind("prov.organs.edu", 0), 0u) << u.key();
  ExpectNoSecrets(*own, "GetStatistics");
  EXPECT_THAT(Stats(Token(kEduHead), "prov.organs.edu"), testing::IsOk());
  EXPECT_THAT(Stats(Token(kEduHead), "prov.organs.health"),
              testing::StatusIs(kDenied, HasSubstr("unit")));
  EXPECT_THAT(Stats(Token(kEduHead), "prov.organs"), testing::StatusIs(kDenied, HasSubstr("unit")));
  EXPECT_THAT(Stats(Token(kEduHead), "nowhere"), testing::StatusIs(kInvalid, HasSubstr("unit")));
  auto above = Stats(Token(kOrgSupervisor), "prov.organs");
  ASSERT_THAT(above, testing::IsOk());
  EXPECT_EQ(above->received(), 2);
  ExpectNoSecrets(*above, "GetStatistics");
}

// A petition brought to the very unit it accuses: that office must pass it
// on, so it sees it in full — receipt included — until it has forwarded it
// out of its subtree (Art. 30); then it no longer reaches it.
TEST_F(ConfidentialityTest, TheAccusedOfficeThatRegistersItSeesItInFullUntilItForwardsIt) {
  v1::RegisterCaseRequest req;
  req.set_request_id("conf-receipt-0001");
  v1::CaseIntake* in = req.mutable_intake();
  in->set_channel(v1::CHANNEL_VISIT);
  in->mutable_visit()->set_people_present(1);
  in->mutable_visit()->add_representatives(kRepresentative);
  in->set_purpose(v1::PURPOSE_ACCUSATION);
  in->set_category("wages.arrears");
  in->set_summary(kSummary);
  in->set_request(kRequestText);
  in->set_complained_about(kAccused);
  in->set_complained_about_unit("prov.organs.edu");
  v1::Petitioner* p = in->add_petitioners();
  p->set_name(kName);
  p->set_id_number(kId);
  p->set_phone(kPhone);
  auto r = Register(Token(kEduClerk), req);
  ASSERT_THAT(r, testing::IsOk());
  EXPECT_FALSE(r->case_().redacted());
  EXPECT_EQ(r->case_().intake().petitioners(0).name(), kName);
  EXPECT_THAT(r->receipt(), HasSubstr(r->case_().tracking_number()));
  EXPECT_THAT(r->receipt(), HasSubstr(kSummary));
  // A retry is answered the same way.
  auto again = Register(Token(kEduClerk), req);
  ASSERT_THAT(again, testing::IsOk());
  EXPECT_TRUE(again->replayed());
  EXPECT_FALSE(again->case_().redacted());
  // Out of its subtree, the case is beyond the accused office's reach.
  ASSERT_THAT(Take(Token(kEduClerk), r->case_().tracking_number(), "forward",
                   r->case_().version(), {{"target_unit", "prov.organs.health"}}),
              testing::IsOk());
  EXPECT_THAT(GetCase(Token(kEduClerk), r->case_().tracking_number()),
              testing::StatusIs(kDenied));
}

// ------------------------------------------------------------------------
// 4. Limits.

class LimitsTest : public AccessBase {
 protected:
  const Caller kClerk{"lim-clerk", "intake_clerk", "prov.organs.office"};
};

TEST_F(LimitsTest, ARequestOverTheMaximumMessageSizeIsRefusedAndWritesNothing) {
  v1::RegisterCaseRequest huge = AnonymousWagesVisit("limits-huge-0001", "prov.organs.office");
  huge.mutable_intake()->set_summary(std::string(2 << 20, 'a'));
  EXPECT_THAT(Register(Token(kClerk), huge), testing::StatusIs(kExhausted));
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM cases"), "0");
  // Under the limit, an over-long field is named instead.
  v1::RegisterCaseRequest long_facts = AnonymousWagesVisit("limits-facts-0001", "prov.organs.office");
  long_facts.mutable_intake()->set_facts_and_reasons(std::string(600 * 1024, 'f'));
  EXPECT_THAT(Register(Token(kClerk), long_facts),
              testing::StatusIs(kInvalid, HasSubstr("intake.facts_and_reasons")));
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM cases"), "0");
  // And the server still serves.
  EXPECT_THAT(Register(Token(kClerk), AnonymousWagesVisit("limits-fine-0001", "prov.organs.office")),
              testing::IsOk());
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM cases"), "1");
}

TEST_F(LimitsTest, TooLongFieldsAreNamed) {
  auto r = Register(Token(kClerk), AnonymousWagesVisit("limits-fields-01", "prov.organs.office"));
  ASSERT_THAT(r, testing::IsOk());
  const std::string t = r->case_().tracking_number();
  const int64_t v = r->case_().version();
  EXPECT_THAT(Take(Token(kClerk), t, "accept", v, {}, std::string(4001, 'n')),
              testing::StatusIs(kInvalid, HasSubstr("note")));
  EXPECT_THAT(Take(Token(kClerk), t, "accept", v, {{"notice", std::string(20001, 'x')}}),
              testing::StatusIs(kInvalid, HasSubstr("fields.notice")));
  // Characters, not bytes: 500 Chinese characters are a valid summary, 501 are not.
  v1::RegisterCaseRequest summary = AnonymousWagesVisit("limits-summary-1", "prov.organs.office");
  std::string chars;
  for (int i = 0; i < 501; ++i) chars += "字";
  summary.mutable_intake()->set_summary(chars);
  EXPECT_THAT(Register(Token(kClerk), summary), testing::StatusIs(kInvalid, HasSubstr("intake.summary")));
  v1::ListCasesRequest search;
  search.set_petitioner(std::string(101, 'p'));
  EXPECT_THAT(List(Token(kClerk), search), testing::StatusIs(kInvalid, HasSubstr("petitioner")));
  EXPECT_THAT(GetCase(Token(kClerk), std::string(65, '9')),
              testing::StatusIs(kInvalid, HasSubstr("case.tracking_number")));
  // Nothing was written by any of them.
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM cases"), "1");
  EXPECT_EQ(server_.db().Query("SELECT version FROM cases"), "1");
}

// Unknown tokens from one address: 20 at once, then one a second.
TEST_F(LimitsTest, FailedSignInsFromOneAddressAreSlowed) {
  const std::string unknown = "xf_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";
  for (int i = 0; i < 20; ++i) {
    EXPECT_THAT(WhoAmI(unknown), testing::StatusIs(kUnauthenticated)) << i;
  }
  // Within the next 40 some are refused outright (they would need 20 s).
  int slowed = 0;
  for (int i = 0; i < 40 && slowed == 0; ++i) {
    absl::Status s = WhoAmI(unknown).status();
    if (s.code() == kExhausted) {
      ++slowed;
      EXPECT_THAT(s.message(), HasSubstr("failed sign-ins"));
    } else {
      EXPECT_EQ(s.code(), kUnauthenticated) << s;
    }
  }
  EXPECT_EQ(slowed, 1);
}

// A guesser floods one address with unknown tokens: its attempts are slowed
// and refused, while a valid token from the same address keeps being served
// (the lockout is of the guesser, not of the office behind one NAT).
TEST_F(LimitsTest, AFloodOfBadTokensDoesNotLockOutAGoodOneFromTheSameAddress) {
  const std::string good = Token(kClerk);
  std::atomic<int> refused{0}, unauthenticated{0}, other{0};
  std::vector<std::thread> guessers;
  for (int t = 0; t < 4; ++t) {
    guessers.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        const std::string guess = absl::StrCat("xf_guess", t, "-", i, std::string(36, 'G'));
        const absl::StatusCode code = WhoAmI(guess).status().code();
        if (code == kExhausted) {
          ++refused;
        } else if (code == kUnauthenticated) {
          ++unauthenticated;
        } else {
          ++other;
        }
      }
    });
  }
  // Meanwhile, and after, the good token is served every time.
  int served = 0;
  for (int i = 0; i < 30; ++i) {
    auto who = WhoAmI(good);
    EXPECT_THAT(who, testing::IsOk()) << "call " << i;
    if (who.ok()) ++served;
    absl::SleepFor(absl::Milliseconds(20));
  }
  for (auto& g : guessers) g.join();
  EXPECT_THAT(WhoAmI(good), testing::IsOk());
  EXPECT_EQ(served, 30);
  // 80 guesses: 20 allowed as failures (a few more refill), the rest refused.
  EXPECT_GE(refused.load(), 50);
  EXPECT_LE(unauthenticated.load(), 30);
  EXPECT_EQ(other.load(), 0);
  // The refused guesses still learn nothing but "wait". (The bucket refills
  // one a second in real time: on a slow machine a few more guesses are
  // allowed first, never more than the burst.)
  absl::Status last;
  for (int i = 0; i < 21 && last.code() != kExhausted; ++i) {
    last = WhoAmI(absl::StrCat("xf_one-more-guess-", i, "-GGGGGGGGGGGGGGGGGGGGGGGGGGGGGG")).status();
  }
  EXPECT_THAT(last, testing::StatusIs(kExhausted, HasSubstr("failed sign-ins")));
}

// A case list searched by a whole ID or phone number looks a person up: each
// case it shows in full is in the access log, like a GetCase; a search by
// name is not.
TEST_F(LimitsTest, SearchingByAWholeIdOrPhoneNumberIsRecordedInTheAccessLog) {
  const Caller auditor{"lim-auditor", "auditor", "prov"};
  v1::RegisterCaseRequest req = AnonymousWagesVisit("limits-lookup-01", "prov.organs.office");
  v1::CaseIntake* in = req.mutable_intake();
  in->set_anonymous(false);
  auto* p = in->add_petitioners();
  p->set_name("赵六");
  p->set_id_number("11010519491231002X");
  p->set_phone("13900000000");
  auto reg = Register(Token(kClerk), req);
  ASSERT_THAT(reg, testing::IsOk());
  const std::string tracking = reg->case_().tracking_number();
  auto logged = [&] {
    auto log = AccessLog(Token(auditor), kClerk.account, tracking);
    EXPECT_THAT(log, testing::IsOk());
    int n = 0;
    for (const auto& e : log->entries()) n += e.rpc() == "ListCases";
    return n;
  };
  ASSERT_EQ(logged(), 0);
  v1::ListCasesRequest by_name;
  by_name.set_petitioner("赵六");
  auto listed = List(Token(kClerk), by_name);
  ASSERT_THAT(listed, testing::IsOk());
  ASSERT_EQ(listed->cases_size(), 1);
  EXPECT_EQ(logged(), 0) << "a search by name is not a lookup of a number";
  v1::ListCasesRequest by_id;
  by_id.set_petitioner("11010519491231002X");
  listed = List(Token(kClerk), by_id);
  ASSERT_THAT(listed, testing::IsOk());
  ASSERT_EQ(listed->cases_size(), 1);
  EXPECT_EQ(logged(), 1);
  v1::ListCasesRequest by_phone;
  by_phone.set_petitioner("13900000000");
  ASSERT_THAT(List(Token(kClerk), by_phone), testing::IsOk());
  EXPECT_EQ(logged(), 2);
  auto log = AccessLog(Token(auditor), kClerk.account, tracking);
  ASSERT_THAT(log, testing::IsOk());
  ASSERT_GE(log->entries_size(), 1);
  EXPECT_EQ(log->entries(0).rpc(), "ListCases");
  EXPECT_EQ(log->entries(0).role(), v1::ROLE_INTAKE_CLERK);
  EXPECT_EQ(log->entries(0).tracking_number(), tracking);
}

class RateLimitTest : public AccessBase {
 protected:
  RateLimitTest() : AccessBase([](ServerConfig& c) {
    c.rate_limit = 1;
    c.rate_burst = 5;
  }) {}
};

TEST_F(RateLimitTest, AFloodingAccountIsSlowedNotTheOthers) {
  const std::string flooder = Token({"flooder", "service", "prov"});
  const std::string other = Token({"bystander", "intake_clerk", "prov.organs.office"});
  std::mutex mu;
  std::condition_variable cv;
  bool refused = false;      // guarded by mu
  bool others_done = false;  // guarded by mu
  std::vector<absl::Status> flood;
  const absl::Time start = absl::Now();
  std::thread t([&] {
    // Until refused, then on while the other account calls.
    for (int i = 0; i < 200; ++i) {
      absl::Status s = WhoAmI(flooder).status();
      flood.push_back(s);
      std::lock_guard<std::mutex> lock(mu);
      if (s.code() == kExhausted && !refused) {
        refused = true;
        cv.notify_all();
      }
      if (others_done) break;
    }
    std::lock_guard<std::mutex> lock(mu);
    refused = true;  // never leave the other side waiting
    cv.notify_all();
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return refused; });
  }
  std::vector<absl::Status> others;
  for (int i = 0; i < 5; ++i) {
    others.push_back(WhoAmI(other).status());
    others.push_back(Stats(Token({"bystander-head", "unit_head", "prov.organs"}), "").status());
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    others_done = true;
  }
  t.join();
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);

  int ok = 0, exhausted = 0;
  for (const absl::Status& s : flood) {
    if (s.ok()) {
      ++ok;
    } else {
      EXPECT_EQ(s.code(), kExhausted) << s;
      EXPECT_THAT(s.message(), HasSubstr("rate limit"));
      ++exhausted;
    }
  }
  EXPECT_GE(ok, 5);  // the burst
  EXPECT_LE(ok, 5 + static_cast<int>(seconds) + 1);
  EXPECT_GE(exhausted, 1);
  for (const absl::Status& s : others) EXPECT_THAT(s, testing::IsOk());
}

}  // namespace
}  // namespace xinfang
