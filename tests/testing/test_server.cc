#include "tests/testing/test_server.h"

#include <cstdlib>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "services/common/server.h"
#include "services/server/services.h"

namespace xinfang::testing {

TestServer::TestServer(std::optional<absl::Time> simulated_start, bool sweeper) {
  ServerConfig config;
  config.db_url = db_.url();
  config.data_dir = SourceDir() + "/deploy";
  config.pool_size = 4;
  config.simulated_clock = simulated_start;
  if (!sweeper) config.sweep_interval = absl::ZeroDuration();
  auto core = Core::Open(config);
  if (!core.ok()) {
    std::cerr << "TestServer: " << core.status() << "\n";
    std::abort();
  }
  core_ = std::move(*core);
  services_ = MakeServices({"intake", "casework", "supervision", "query", "admin"})(*core_);
  int port = 0;
  server_ = StartServer("127.0.0.1:0", services_, &port);
  if (server_ == nullptr) {
    std::cerr << "TestServer: cannot listen\n";
    std::abort();
  }
  core_->Serving();
  channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                 grpc::InsecureChannelCredentials());
}

TestServer::~TestServer() {
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  server_->Wait();
}

std::unique_ptr<grpc::ClientContext> TestServer::Context(const Caller& who) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  if (!who.account.empty()) ctx->AddMetadata("x-xinfang-account", who.account);
  if (!who.role.empty()) ctx->AddMetadata("x-xinfang-role", who.role);
  if (!who.unit.empty()) ctx->AddMetadata("x-xinfang-unit", who.unit);
  return ctx;
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
