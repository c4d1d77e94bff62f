// IntakeService: registers petitions from every channel.
#ifndef XINFANG_SERVICES_INTAKE_INTAKE_SERVICE_H_
#define XINFANG_SERVICES_INTAKE_INTAKE_SERVICE_H_

#include "services/common/core.h"
#include "xinfang/v1/intake.grpc.pb.h"

namespace xinfang::intake {

// The logic, usable without gRPC.
class Intake {
 public:
  explicit Intake(Core& core) : core_(core) {}
  // Validates, starts the case in the workflow engine and stores it in one
  // transaction; a retried request_id returns the original case.
  // UNAUTHENTICATED/PERMISSION_DENIED for the caller, INVALID_ARGUMENT naming
  // the field, UNAVAILABLE when the database is.
  absl::StatusOr<xinfang::v1::RegisterCaseResponse> Register(
      const workflow::Actor& actor, xinfang::v1::RegisterCaseRequest request);

 private:
  xinfang::v1::RegisterCaseResponse Response(const workflow::Actor& actor,
                                             const storage::CaseRecord& rec,
                                             const workflow::OrgTree& org, bool replayed);
  Core& core_;
};

class IntakeServiceImpl final : public xinfang::v1::IntakeService::Service {
 public:
  explicit IntakeServiceImpl(Core& core) : core_(core), intake_(core) {}
  grpc::Status RegisterCase(grpc::ServerContext* ctx, const xinfang::v1::RegisterCaseRequest* req,
                            xinfang::v1::RegisterCaseResponse* resp) override;

 private:
  Core& core_;
  Intake intake_;
};

}  // namespace xinfang::intake

#endif  // XINFANG_SERVICES_INTAKE_INTAKE_SERVICE_H_
