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
  // Every registration issues a query code (query_code.h), returned once,
  // written in the registration's transaction; a retry issues a new one
  // (the earlier code stops working; the history records it), so the
  // receipt printed from any answer carries a working code.
  absl::StatusOr<xinfang::v1::RegisterCaseResponse> Register(
      const workflow::Actor& actor, xinfang::v1::RegisterCaseRequest request);

  // A new query code for a case in the actor's scope; the old one stops
  // working and the history records "query_code_issued". INVALID_ARGUMENT
  // naming the field, NOT_FOUND, PERMISSION_DENIED, UNAVAILABLE.
  absl::StatusOr<xinfang::v1::ReissueQueryCodeResponse> ReissueQueryCode(
      const workflow::Actor& actor, const xinfang::v1::ReissueQueryCodeRequest& request);

 private:
  xinfang::v1::RegisterCaseResponse Response(const workflow::Actor& actor,
                                             const storage::CaseRecord& rec,
                                             const workflow::OrgTree& org, bool replayed,
                                             const xinfang::v1::QueryCode& code);
  // The code as handed out: itself, the status address, the QR code.
  xinfang::v1::QueryCode Handed(const std::string& code, const std::string& tracking) const;
  // Replaces the case's code with a new one, recording `reason`.
  absl::StatusOr<xinfang::v1::QueryCode> Reissue(const workflow::Actor& actor,
                                                 const storage::CaseRecord& rec,
                                                 const std::string& reason);
  Core& core_;
};

class IntakeServiceImpl final : public xinfang::v1::IntakeService::Service {
 public:
  explicit IntakeServiceImpl(Core& core) : core_(core), intake_(core) {}
  grpc::Status RegisterCase(grpc::ServerContext* ctx, const xinfang::v1::RegisterCaseRequest* req,
                            xinfang::v1::RegisterCaseResponse* resp) override;
  grpc::Status ReissueQueryCode(grpc::ServerContext* ctx,
                                const xinfang::v1::ReissueQueryCodeRequest* req,
                                xinfang::v1::ReissueQueryCodeResponse* resp) override;

 private:
  Core& core_;
  Intake intake_;
};

}  // namespace xinfang::intake

#endif  // XINFANG_SERVICES_INTAKE_INTAKE_SERVICE_H_
