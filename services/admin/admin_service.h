// AdminService: server information, the simulated clock, accounts, tokens
// and the access log.
#ifndef XINFANG_SERVICES_ADMIN_ADMIN_SERVICE_H_
#define XINFANG_SERVICES_ADMIN_ADMIN_SERVICE_H_

#include <string>
#include <vector>

#include "services/common/core.h"
#include "xinfang/v1/admin.grpc.pb.h"

namespace xinfang::admin {

class AdminServiceImpl final : public xinfang::v1::AdminService::Service {
 public:
  // `services`: the names of the services this process hosts.
  AdminServiceImpl(Core& core, std::vector<std::string> services)
      : core_(core), services_(std::move(services)) {}
  grpc::Status GetServerInfo(grpc::ServerContext* ctx, const xinfang::v1::GetServerInfoRequest* req,
                             xinfang::v1::GetServerInfoResponse* resp) override;
  // FAILED_PRECONDITION without --simulated-clock; INVALID_ARGUMENT for a
  // negative or over-a-year step; PERMISSION_DENIED unless administrator or supervisor.
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
  grpc::Status IssueToken(grpc::ServerContext* ctx, const xinfang::v1::IssueTokenRequest* req,
                          xinfang::v1::IssueTokenResponse* resp) override;
  grpc::Status RevokeToken(grpc::ServerContext* ctx, const xinfang::v1::RevokeTokenRequest* req,
                           xinfang::v1::RevokeTokenResponse* resp) override;
  grpc::Status ListTokens(grpc::ServerContext* ctx, const xinfang::v1::ListTokensRequest* req,
                          xinfang::v1::ListTokensResponse* resp) override;
  grpc::Status ListAccessLog(grpc::ServerContext* ctx, const xinfang::v1::ListAccessLogRequest* req,
                             xinfang::v1::ListAccessLogResponse* resp) override;
  // Passwords and sessions (passwords.h).
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
  // Administration of the reference lists (reference_store.h): units within
  // the administrator's own subtree; categories by an administrator of the top unit.
  grpc::Status PutUnit(grpc::ServerContext* ctx, const xinfang::v1::PutUnitRequest* req,
                       xinfang::v1::PutUnitResponse* resp) override;
  grpc::Status PutCategory(grpc::ServerContext* ctx, const xinfang::v1::PutCategoryRequest* req,
                           xinfang::v1::PutCategoryResponse* resp) override;

 private:
  // The account `name`, PERMISSION_DENIED unless its unit is in the actor's scope.
  // `field` names the request field in errors.
  absl::StatusOr<storage::Account> AccountInScope(const workflow::Actor& actor,
                                                  const std::string& field,
                                                  const std::string& name);
  // SignIn and ChangePassword (with a non-empty `new_password`).
  absl::StatusOr<xinfang::v1::SignInResponse> PasswordSignIn(const grpc::ServerContext& ctx,
                                                             const std::string& account,
                                                             const std::string& password,
                                                             const std::string* new_password);
  Core& core_;
  std::vector<std::string> services_;
};

}  // namespace xinfang::admin

#endif  // XINFANG_SERVICES_ADMIN_ADMIN_SERVICE_H_
