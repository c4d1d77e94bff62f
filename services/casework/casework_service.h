// CaseworkService: every step of the procedure as actions on a case. The
// workflow engine decides; storage applies the decision in one transaction.
#ifndef XINFANG_SERVICES_CASEWORK_CASEWORK_SERVICE_H_
#define XINFANG_SERVICES_CASEWORK_CASEWORK_SERVICE_H_

#include "services/common/core.h"
#include "xinfang/v1/casework.grpc.pb.h"

namespace xinfang::casework {

class Casework {
 public:
  explicit Casework(Core& core) : core_(core) {}
  absl::StatusOr<xinfang::v1::ListActionsResponse> ListActions(
      const workflow::Actor& actor, const xinfang::v1::ListActionsRequest& req);
  // ABORTED when expected_version is stale; the engine's refusals as they come.
  absl::StatusOr<xinfang::v1::TakeActionResponse> TakeAction(
      const workflow::Actor& actor, const xinfang::v1::TakeActionRequest& req);
  absl::StatusOr<xinfang::v1::VerifyHistoryResponse> VerifyHistory(
      const workflow::Actor& actor, const xinfang::v1::VerifyHistoryRequest& req);

 private:
  // Facts about every account the action's FIELD_TYPE_ACCOUNT fields name
  // (unknown names are left out: the engine refuses them naming the field).
  absl::Status LookUpAccounts(const workflow::Definition& def, workflow::ActionRequest* request);
  Core& core_;
};

class CaseworkServiceImpl final : public xinfang::v1::CaseworkService::Service {
 public:
  explicit CaseworkServiceImpl(Core& core) : core_(core), casework_(core) {}
  grpc::Status ListActions(grpc::ServerContext* ctx, const xinfang::v1::ListActionsRequest* req,
                           xinfang::v1::ListActionsResponse* resp) override;
  grpc::Status TakeAction(grpc::ServerContext* ctx, const xinfang::v1::TakeActionRequest* req,
                          xinfang::v1::TakeActionResponse* resp) override;
  grpc::Status VerifyHistory(grpc::ServerContext* ctx,
                             const xinfang::v1::VerifyHistoryRequest* req,
                             xinfang::v1::VerifyHistoryResponse* resp) override;

 private:
  Core& core_;
  Casework casework_;
};

}  // namespace xinfang::casework

#endif  // XINFANG_SERVICES_CASEWORK_CASEWORK_SERVICE_H_
