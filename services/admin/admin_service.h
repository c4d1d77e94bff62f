// AdminService: server information, the simulated clock, accounts, tokens
// and the access log.
#ifndef XINFANG_SERVICES_ADMIN_ADMIN_SERVICE_H_
#define XINFANG_SERVICES_ADMIN_ADMIN_SERVICE_H_

#include <string>
#include <vector>

#include "services/common/core.h"
#include "xinfang/v1/admin.grpc.pb.h"

namespace xinfang::admin {

// The logic, usable without gRPC.
class Admin {
 public:
  // `services`: the names of the services this process hosts.
  Admin(Core& core, std::vector<std::string> services)
      : core_(core), services_(std::move(services)) {}
  absl::StatusOr<xinfang::v1::GetServerInfoResponse> GetServerInfo(
      const workflow::Actor& actor, const xinfang::v1::GetServerInfoRequest& req);
  // FAILED_PRECONDITION without --simulated-clock; INVALID_ARGUMENT for a
  // negative or over-a-year step; PERMISSION_DENIED unless administrator or supervisor.
  absl::StatusOr<xinfang::v1::AdvanceClockResponse> AdvanceClock(
      const workflow::Actor& actor, const xinfang::v1::AdvanceClockRequest& req);
  absl::StatusOr<xinfang::v1::WhoAmIResponse> WhoAmI(const workflow::Actor& actor,
                                                     const xinfang::v1::WhoAmIRequest& req);
  absl::StatusOr<xinfang::v1::CreateAccountResponse> CreateAccount(
      const workflow::Actor& actor, const xinfang::v1::CreateAccountRequest& req);
  absl::StatusOr<xinfang::v1::ListAccountsResponse> ListAccounts(
      const workflow::Actor& actor, const xinfang::v1::ListAccountsRequest& req);
  absl::StatusOr<xinfang::v1::SetAccountDisabledResponse> SetAccountDisabled(
      const workflow::Actor& actor, const xinfang::v1::SetAccountDisabledRequest& req);
  absl::StatusOr<xinfang::v1::SetAccountDisabledResponse> SetAccountEmail(
      const workflow::Actor& actor, const xinfang::v1::SetAccountEmailRequest& req);
  absl::StatusOr<xinfang::v1::IssueTokenResponse> IssueToken(
      const workflow::Actor& actor, const xinfang::v1::IssueTokenRequest& req);
  absl::StatusOr<xinfang::v1::RevokeTokenResponse> RevokeToken(
      const workflow::Actor& actor, const xinfang::v1::RevokeTokenRequest& req);
  absl::StatusOr<xinfang::v1::ListTokensResponse> ListTokens(
      const workflow::Actor& actor, const xinfang::v1::ListTokensRequest& req);
  absl::StatusOr<xinfang::v1::ListAccessLogResponse> ListAccessLog(
      const workflow::Actor& actor, const xinfang::v1::ListAccessLogRequest& req);
  // Passwords and sessions (passwords.h). SignIn and ChangePassword have no
  // actor: `peer` (PeerOf) is the address failed attempts are counted against.
  absl::StatusOr<xinfang::v1::SetPasswordResponse> SetPassword(
      const workflow::Actor& actor, const xinfang::v1::SetPasswordRequest& req);
  absl::StatusOr<xinfang::v1::SignInResponse> SignIn(const xinfang::v1::SignInRequest& req,
                                                     const std::string& peer);
  absl::StatusOr<xinfang::v1::SignInResponse> ChangePassword(
      const xinfang::v1::ChangePasswordRequest& req, const std::string& peer);
  // Revokes `secret`, the bearer token the call came with.
  absl::StatusOr<xinfang::v1::SignOutResponse> SignOut(const workflow::Actor& actor,
                                                       const std::string& secret);
  absl::StatusOr<xinfang::v1::ListReferenceDataResponse> ListReferenceData(
      const workflow::Actor& actor, const xinfang::v1::ListReferenceDataRequest& req);
  // Administration of the reference lists (reference_store.h): units within
  // the administrator's own subtree; categories by an administrator of the top unit.
  absl::StatusOr<xinfang::v1::PutUnitResponse> PutUnit(const workflow::Actor& actor,
                                                       const xinfang::v1::PutUnitRequest& req);
  absl::StatusOr<xinfang::v1::PutCategoryResponse> PutCategory(
      const workflow::Actor& actor, const xinfang::v1::PutCategoryRequest& req);
  // The open cases of one procedure version moved to another (admin.proto).
  absl::StatusOr<xinfang::v1::MigrateCasesResponse> MigrateCases(
      const workflow::Actor& actor, const xinfang::v1::MigrateCasesRequest& req);

 private:
  // The account `name`, PERMISSION_DENIED unless its unit is in the actor's scope.
  // `field` names the request field in errors.
  absl::StatusOr<storage::Account> AccountInScope(const workflow::Actor& actor,
                                                  const std::string& field,
                                                  const std::string& name);
  // SignIn and ChangePassword (with a non-empty `new_password`).
  absl::StatusOr<xinfang::v1::SignInResponse> PasswordSignIn(const std::string& peer,
                                                             const std::string& account,
                                                             const std::string& password,
                                                             const std::string* new_password);
  Core& core_;
  std::vector<std::string> services_;
};

class AdminServiceImpl final : public xinfang::v1::AdminService::Service {
 public:
  // `services`: the names of the services this process hosts.
  AdminServiceImpl(Core& core, std::vector<std::string> services)
      : core_(core), admin_(core, std::move(services)) {}
  grpc::Status GetServerInfo(grpc::ServerContext* ctx, const xinfang::v1::GetServerInfoRequest* req,
                             xinfang::v1::GetServerInfoResponse* resp) override;
  grpc::Status AdvanceClock(grpc::ServerContext* ctx, const xinfang::v1::AdvanceClockRequest* req,
                            xinfang::v1::AdvanceClockResponse* resp) override;
  grpc::Status WhoAmI(grpc::ServerContext* ctx, const xinfang::v1::WhoAmIRequest* req,
                      xinfang::v1::WhoAmIResponse* resp) override;
  grpc::Status CreateAccount(grpc::ServerContext* ctx, const xinfang::v1::CreateAccountRequest* req,
                             xinfang::v1::CreateAccountResponse* resp) override;
  grpc::Status ListAccounts(grpc::ServerContext* ctx, const xinfang::v1::ListAccountsRequest* req,
                            xinfang::v1::ListAccountsResponse* resp) override;
  grpc::Status SetAccountDisabled(grpc::ServerContext* ctx,
                                  const xinfang::v1::SetAccountDisabledRequest* req,
                                  xinfang::v1::SetAccountDisabledResponse* resp) override;
  grpc::Status SetAccountEmail(grpc::ServerContext* ctx,
                               const xinfang::v1::SetAccountEmailRequest* req,
                               xinfang::v1::SetAccountDisabledResponse* resp) override;
  grpc::Status IssueToken(grpc::ServerContext* ctx, const xinfang::v1::IssueTokenRequest* req,
                          xinfang::v1::IssueTokenResponse* resp) override;
  grpc::Status RevokeToken(grpc::ServerContext* ctx, const xinfang::v1::RevokeTokenRequest* req,
                           xinfang::v1::RevokeTokenResponse* resp) override;
  grpc::Status ListTokens(grpc::ServerContext* ctx, const xinfang::v1::ListTokensRequest* req,
                          xinfang::v1::ListTokensResponse* resp) override;
  grpc::Status ListAccessLog(grpc::ServerContext* ctx, const xinfang::v1::ListAccessLogRequest* req,
                             xinfang::v1::ListAccessLogResponse* resp) override;
  grpc::Status SetPassword(grpc::ServerContext* ctx, const xinfang::v1::SetPasswordRequest* req,
                           xinfang::v1::SetPasswordResponse* resp) override;
  grpc::Status SignIn(grpc::ServerContext* ctx, const xinfang::v1::SignInRequest* req,
                      xinfang::v1::SignInResponse* resp) override;
  grpc::Status ChangePassword(grpc::ServerContext* ctx,
                              const xinfang::v1::ChangePasswordRequest* req,
                              xinfang::v1::SignInResponse* resp) override;
  grpc::Status SignOut(grpc::ServerContext* ctx, const xinfang::v1::SignOutRequest* req,
                       xinfang::v1::SignOutResponse* resp) override;
  grpc::Status ListReferenceData(grpc::ServerContext* ctx,
                                 const xinfang::v1::ListReferenceDataRequest* req,
                                 xinfang::v1::ListReferenceDataResponse* resp) override;
  grpc::Status PutUnit(grpc::ServerContext* ctx, const xinfang::v1::PutUnitRequest* req,
                       xinfang::v1::PutUnitResponse* resp) override;
  grpc::Status PutCategory(grpc::ServerContext* ctx, const xinfang::v1::PutCategoryRequest* req,
                           xinfang::v1::PutCategoryResponse* resp) override;
  grpc::Status MigrateCases(grpc::ServerContext* ctx, const xinfang::v1::MigrateCasesRequest* req,
                            xinfang::v1::MigrateCasesResponse* resp) override;

 private:
  Core& core_;
  Admin admin_;
};

}  // namespace xinfang::admin

#endif  // XINFANG_SERVICES_ADMIN_ADMIN_SERVICE_H_
