#include "tests/testing/test_server.h"

#include "services/supervision/supervision_service.h"

#include <cstdlib>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "services/common/grpc_util.h"
#include "services/common/server.h"
#include "services/server/services.h"

namespace xinfang::testing {

TestServer::TestServer(std::optional<absl::Time> simulated_start, bool sweeper,
                       const std::function<void(ServerConfig&)>& configure) {
  ServerConfig config;
  config.db_url = db_.url();
  config.data_dir = SourceDir() + "/deploy";
  config.pool_size = 4;
  config.simulated_clock = simulated_start;
  if (!sweeper) config.sweep_interval = absl::ZeroDuration();
  // No per-account rate limit unless a test sets one: a fast machine must
  // not turn a busy test into a throttled one.
  config.rate_limit = 0;
  if (configure) configure(config);
  auto core = Core::Open(config);
  if (!core.ok()) {
    std::cerr << "TestServer: " << core.status() << "\n";
    std::abort();
  }
  core_ = std::move(*core);
  services_ = MakeServices({"intake", "casework", "supervision", "query", "admin"})(*core_);
  int port = 0;
  server_ = StartServer("127.0.0.1:0", services_, &port,
                        ListenOptions{nullptr, config.max_message_bytes});
  if (server_ == nullptr) {
    std::cerr << "TestServer: cannot listen\n";
    std::abort();
  }
  core_->Serving();
  channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                 grpc::InsecureChannelCredentials());
}

TestServer::~TestServer() {
  core_->Stopping();
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  server_->Wait();
}

absl::StatusOr<xinfang::v1::GetPublicStatusResponse> TestServer::PublicStatus(
    const std::string& tracking, const std::string& code) {
  xinfang::v1::PublicService::Stub stub(channel_);
  auto ctx = TokenContext("");
  xinfang::v1::GetPublicStatusRequest req;
  req.set_tracking_number(tracking);
  req.set_query_code(code);
  xinfang::v1::GetPublicStatusResponse resp;
  grpc::Status s = stub.GetPublicStatus(ctx.get(), req, &resp);
  if (!s.ok()) return FromGrpc(s);
  return resp;
}

absl::StatusOr<int> TestServer::ProcessWarnings() {
  for (const auto& s : services_) {
    if (auto* sup = dynamic_cast<supervision::SupervisionServiceImpl*>(s.get())) {
      return sup->warnings().ProcessOnce();
    }
  }
  return absl::FailedPreconditionError("no supervision service in this server");
}

std::unique_ptr<grpc::ClientContext> TestServer::TokenContext(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  return ctx;
}

std::unique_ptr<grpc::ClientContext> TestServer::Context(const Caller& who) {
  return TokenContext(who.account.empty() ? "" : TokenFor(who));
}

std::string TestServer::TokenFor(const Caller& who) {
  if (RoleFromName(who.role) == xinfang::v1::ROLE_UNSPECIFIED ||
      RoleFromName(who.role) == xinfang::v1::ROLE_SYSTEM) {
    return "xf_no-such-token";
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tokens_.find(who.account);
  if (it != tokens_.end() && it->second.first.role == who.role &&
      it->second.first.unit == who.unit) {
    return it->second.second;
  }
  db_.Exec(absl::StrCat(
      "INSERT INTO accounts (name, role, unit, created_at, created_by) VALUES ('", who.account,
      "', '", who.role, "', '", who.unit, "', now(), 'test') ON CONFLICT (name) DO UPDATE SET ",
      "role = EXCLUDED.role, unit = EXCLUDED.unit"));
  const absl::Time now = core_->clock().Now();
  auto token = core_->identity().IssueToken(who.account, "test", "test", now,
                                            now + absl::Hours(24 * 3650));
  if (!token.ok()) {
    std::cerr << "TestServer: " << token.status() << "\n";
    std::abort();
  }
  tokens_[who.account] = {who, token->secret};
  return token->secret;
}

absl::Status FromGrpc(const grpc::Status& s) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

absl::StatusOr<xinfang::v1::RegisterCaseResponse> TestServer::Register(
    const xinfang::v1::RegisterCaseRequest& req, const Caller& who) {
  xinfang::v1::RegisterCaseResponse resp;
  auto ctx = Context(who);
  grpc::Status s = intake()->RegisterCase(ctx.get(), req, &resp);
  if (!s.ok()) return FromGrpc(s);
  return resp;
}

absl::StatusOr<xinfang::v1::Case> TestServer::GetCase(const std::string& tracking,
                                                      const Caller& who) {
  xinfang::v1::GetCaseRequest g;
  g.mutable_case_()->set_tracking_number(tracking);
  xinfang::v1::GetCaseResponse gr;
  auto ctx = Context(who);
  grpc::Status s = query()->GetCase(ctx.get(), g, &gr);
  if (!s.ok()) return FromGrpc(s);
  return gr.case_();
}

absl::StatusOr<xinfang::v1::Case> TestServer::Act(const std::string& tracking,
                                                  const std::string& action, const Caller& who,
                                                  const std::map<std::string, std::string>& fields,
                                                  int64_t version) {
  if (version == 0) {
    auto current = GetCase(tracking, who);
    if (!current.ok()) return current.status();
    version = current->version();
  }
  xinfang::v1::TakeActionRequest req;
  req.mutable_case_()->set_tracking_number(tracking);
  req.set_action(action);
  req.set_expected_version(version);
  for (const auto& [k, v] : fields) (*req.mutable_fields())[k] = v;
  xinfang::v1::TakeActionResponse resp;
  auto ctx = Context(who);
  grpc::Status s = casework()->TakeAction(ctx.get(), req, &resp);
  if (!s.ok()) return FromGrpc(s);
  return resp.case_();
}

absl::Status TestServer::AdvanceTo(absl::Time to) {
  const absl::Time now = core_->clock().Now();
  if (to < now) return absl::InvalidArgumentError("AdvanceTo: time only moves forward");
  xinfang::v1::AdvanceClockRequest req;
  req.set_seconds(absl::ToInt64Seconds(to - now));
  xinfang::v1::AdvanceClockResponse resp;
  auto ctx = Context(Caller{"test-supervisor", "supervisor", "prov"});
  return FromGrpc(admin()->AdvanceClock(ctx.get(), req, &resp));
}

std::unique_ptr<xinfang::v1::IntakeService::Stub> TestServer::intake() {
  return xinfang::v1::IntakeService::NewStub(channel_);
}
std::unique_ptr<xinfang::v1::CaseworkService::Stub> TestServer::casework() {
  return xinfang::v1::CaseworkService::NewStub(channel_);
}
std::unique_ptr<xinfang::v1::CaseQueryService::Stub> TestServer::query() {
  return xinfang::v1::CaseQueryService::NewStub(channel_);
}
std::unique_ptr<xinfang::v1::SupervisionService::Stub> TestServer::supervision() {
  return xinfang::v1::SupervisionService::NewStub(channel_);
}
std::unique_ptr<xinfang::v1::AdminService::Stub> TestServer::admin() {
  return xinfang::v1::AdminService::NewStub(channel_);
}

}  // namespace xinfang::testing
