// An in-process server for integration tests: a Core on a fresh test
// database, every service registered, listening on a free loopback port,
// and client stubs that send an actor's bearer token (each Caller becomes an
// account of its role and unit, with a token, on first use).
#ifndef XINFANG_TESTS_TESTING_TEST_SERVER_H_
#define XINFANG_TESTS_TESTING_TEST_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <map>
#include <mutex>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/common/core.h"
#include "tests/testing/test_db.h"
#include "xinfang/v1/admin.grpc.pb.h"
#include "xinfang/v1/casework.grpc.pb.h"
#include "xinfang/v1/intake.grpc.pb.h"
#include "xinfang/v1/public.grpc.pb.h"
#include "xinfang/v1/query.grpc.pb.h"
#include "xinfang/v1/supervision.grpc.pb.h"

namespace xinfang::testing {

// A gRPC status as an absl::Status (same code and message).
absl::Status FromGrpc(const grpc::Status& s);

struct Caller {
  std::string account;
  std::string role;  // "intake_clerk", ...
  std::string unit;
};

class TestServer {
 public:
  // `simulated_start`: run on a simulated clock from that instant.
  // `sweeper`: run the timer sweeper in this server (as production does).
  // `configure`: changes the server's configuration before it starts (rate
  // limits, message size, ...); the database, data directory, clock and
  // sweeper settings above are already filled in.
  explicit TestServer(std::optional<absl::Time> simulated_start = std::nullopt,
                      bool sweeper = true,
                      const std::function<void(ServerConfig&)>& configure = nullptr);
  ~TestServer();

  Core& core() { return *core_; }
  TestDatabase& db() { return db_; }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }

  // A context carrying `who`'s bearer token and a 10 s deadline. A Caller
  // with no account sends no token; one with an unknown role sends a token
  // no server knows.
  std::unique_ptr<grpc::ClientContext> Context(const Caller& who);
  // A context carrying `token` (none when empty) and a 10 s deadline.
  static std::unique_ptr<grpc::ClientContext> TokenContext(const std::string& token);
  // `who`'s token: creates (or re-roles) the account and issues a token
  // valid for ten years of the server's clock, once per account.
  std::string TokenFor(const Caller& who);

  // RegisterCase / GetCase as `who`; the gRPC status as an absl::Status.
  absl::StatusOr<xinfang::v1::RegisterCaseResponse> Register(
      const xinfang::v1::RegisterCaseRequest& req, const Caller& who);
  absl::StatusOr<xinfang::v1::Case> GetCase(const std::string& tracking, const Caller& who);

  // Takes `action` on case `tracking` as `who`, at the case's current
  // version unless `version` is given; the gRPC status as an absl::Status.
  absl::StatusOr<xinfang::v1::Case> Act(const std::string& tracking, const std::string& action,
                                        const Caller& who,
                                        const std::map<std::string, std::string>& fields = {},
                                        int64_t version = 0);
  // PublicService.GetPublicStatus without any token, as a petitioner's
  // phone calls it.
  absl::StatusOr<xinfang::v1::GetPublicStatusResponse> PublicStatus(const std::string& tracking,
                                                                    const std::string& code);

  // Moves the simulated clock to `to` through AdminService (which sweeps).
  absl::Status AdvanceTo(absl::Time to);

  // Runs the early-warning processor over everything committed so far (as
  // the background thread would): the warnings of the petitions registered
  // before the call are raised when it returns.
  absl::StatusOr<int> ProcessWarnings();

  std::unique_ptr<xinfang::v1::IntakeService::Stub> intake();
  std::unique_ptr<xinfang::v1::CaseworkService::Stub> casework();
  std::unique_ptr<xinfang::v1::CaseQueryService::Stub> query();
  std::unique_ptr<xinfang::v1::SupervisionService::Stub> supervision();
  std::unique_ptr<xinfang::v1::AdminService::Stub> admin();

 private:
  TestDatabase db_;
  std::unique_ptr<Core> core_;
  std::vector<std::unique_ptr<grpc::Service>> services_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::mutex mu_;
  std::map<std::string, std::pair<Caller, std::string>> tokens_;  // by account; guarded by mu_
};

}  // namespace xinfang::testing

#endif  // XINFANG_TESTS_TESTING_TEST_SERVER_H_
