// AdminService: server information and the simulated clock. (Units,
// accounts, categories and calendars arrive with the identity issue.)
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

 private:
  Core& core_;
  std::vector<std::string> services_;
};

}  // namespace xinfang::admin

#endif  // XINFANG_SERVICES_ADMIN_ADMIN_SERVICE_H_
