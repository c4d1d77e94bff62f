#include "services/admin/admin_service.h"

#include "services/common/grpc_util.h"

namespace xinfang::admin {

grpc::Status AdminServiceImpl::GetServerInfo(grpc::ServerContext* ctx,
                                             const xinfang::v1::GetServerInfoRequest* req,
                                             xinfang::v1::GetServerInfoResponse* resp) {
  return Serve("GetServerInfo", ctx, resp,
               [&](const workflow::Actor&) -> absl::StatusOr<xinfang::v1::GetServerInfoResponse> {
                 xinfang::v1::GetServerInfoResponse r;
                 r.set_version(XINFANG_VERSION);
                 *r.mutable_now() = ToProto(core_.clock().Now());
                 r.set_simulated_clock(core_.clock().simulated());
                 r.set_time_zone(core_.config().time_zone);
                 for (const auto& k : core_.definitions().Keys()) r.add_workflows(k);
                 for (const auto& s : services_) r.add_services(s);
                 return r;
               });
}

grpc::Status AdminServiceImpl::AdvanceClock(grpc::ServerContext* ctx,
                                            const xinfang::v1::AdvanceClockRequest* req,
                                            xinfang::v1::AdvanceClockResponse* resp) {
  return Serve("AdvanceClock", ctx, resp,
               [&](const workflow::Actor& a) -> absl::StatusOr<xinfang::v1::AdvanceClockResponse> {
                 if (a.role != xinfang::v1::ROLE_ADMINISTRATOR &&
                     a.role != xinfang::v1::ROLE_SUPERVISOR) {
                   return absl::PermissionDeniedError(
                       "AdvanceClock: administrators and supervisors only");
                 }
                 SimulatedClock* clock = core_.simulated_clock();
                 if (clock == nullptr) {
                   return absl::FailedPreconditionError(
                       "the server runs on the real clock: start it with --simulated-clock");
                 }
                 if (req->seconds() < 0 || req->seconds() > 366LL * 86400) {
                   return absl::InvalidArgumentError("seconds: must be 0 .. one year");
                 }
                 xinfang::v1::AdvanceClockResponse r;
                 *r.mutable_now() = ToProto(clock->Advance(absl::Seconds(req->seconds())));
                 core_.ClockAdvanced();
                 return r;
               });
}

}  // namespace xinfang::admin
