// SupervisionService: deadlines and overdue cases.
#ifndef XINFANG_SERVICES_SUPERVISION_SUPERVISION_SERVICE_H_
#define XINFANG_SERVICES_SUPERVISION_SUPERVISION_SERVICE_H_

#include <memory>

#include "services/common/core.h"
#include "services/supervision/sweeper.h"
#include "services/supervision/notifier.h"
#include "services/supervision/warnings.h"
#include "xinfang/v1/supervision.grpc.pb.h"

namespace xinfang::supervision {

// "Due soon" on the dashboard: within this long.
inline constexpr absl::Duration kDueSoon = absl::Hours(24 * 7);

// The logic, usable without gRPC.
class Supervision {
 public:
  // Starts the timer sweeper and the warning processor once the server
  // serves, unless config().sweep_interval is zero (then tests drive them).
  explicit Supervision(Core& core);
  absl::StatusOr<xinfang::v1::ListDeadlinesResponse> ListDeadlines(
      const workflow::Actor& actor, const xinfang::v1::ListDeadlinesRequest& req);
  absl::StatusOr<xinfang::v1::DashboardResponse> Dashboard(
      const workflow::Actor& actor, const xinfang::v1::DashboardRequest& req);

  // The early-warning processor and the warnings' logic.
  Warnings& warnings() { return *warnings_; }

 private:
  Core& core_;
  std::unique_ptr<Sweeper> sweeper_;
  std::unique_ptr<Warnings> warnings_;
  std::unique_ptr<Notifier> notifier_;  // with --smtp-server
};

class SupervisionServiceImpl final : public xinfang::v1::SupervisionService::Service {
 public:
  explicit SupervisionServiceImpl(Core& core) : core_(core), supervision_(core) {}
  grpc::Status ListDeadlines(grpc::ServerContext* ctx, const xinfang::v1::ListDeadlinesRequest* req,
                             xinfang::v1::ListDeadlinesResponse* resp) override;
  grpc::Status Dashboard(grpc::ServerContext* ctx, const xinfang::v1::DashboardRequest* req,
                         xinfang::v1::DashboardResponse* resp) override;

  grpc::Status ListWarnings(grpc::ServerContext* ctx, const xinfang::v1::ListWarningsRequest* req,
                            xinfang::v1::ListWarningsResponse* resp) override;
  grpc::Status GetWarning(grpc::ServerContext* ctx, const xinfang::v1::GetWarningRequest* req,
                          xinfang::v1::Warning* resp) override;
  grpc::Status UpdateWarning(grpc::ServerContext* ctx,
                             const xinfang::v1::UpdateWarningRequest* req,
                             xinfang::v1::Warning* resp) override;

  // Supervision::warnings().
  Warnings& warnings() { return supervision_.warnings(); }

 private:
  Core& core_;
  Supervision supervision_;
};

}  // namespace xinfang::supervision

#endif  // XINFANG_SERVICES_SUPERVISION_SUPERVISION_SERVICE_H_
