#include "services/supervision/supervision_service.h"

#include "services/common/grpc_util.h"

namespace xinfang::supervision {

SupervisionServiceImpl::SupervisionServiceImpl(Core& core) : core_(core) {
  if (core.config().sweep_interval <= absl::ZeroDuration()) return;
  sweeper_ = std::make_unique<Sweeper>(
      core, SweeperOptions{core.config().sweep_batch, core.config().sweep_interval});
  Sweeper* sweeper = sweeper_.get();
  core.AddClockListener([sweeper] { (void)sweeper->SweepOnce(); });
  sweeper_->Start();
}

grpc::Status SupervisionServiceImpl::ListDeadlines(grpc::ServerContext* ctx,
                                                   const xinfang::v1::ListDeadlinesRequest* req,
                                                   xinfang::v1::ListDeadlinesResponse* resp) {
  return Serve("ListDeadlines", ctx, resp,
               [&](const workflow::Actor&) -> absl::StatusOr<xinfang::v1::ListDeadlinesResponse> {
                 const absl::Time now = core_.clock().Now();
                 storage::DueQuery q;
                 q.before = req->has_before() ? FromProto(req->before()) : now + absl::Hours(24 * 7);
                 if (req->overdue_only()) q.before = now;
                 q.unit = req->unit();
                 q.limit = req->page_size() > 0 ? std::min(req->page_size(), 1000) : 100;
                 auto rows = core_.store().ListDue(q);
                 if (!rows.ok()) return rows.status();
                 xinfang::v1::ListDeadlinesResponse r;
                 for (const storage::DueRow& row : *rows) {
                   xinfang::v1::DueItem* item = r.add_items();
                   item->set_case_id(row.case_id);
                   item->set_tracking_number(row.tracking_number);
                   item->set_state(row.state);
                   item->set_responsible_unit(row.responsible_unit);
                   *item->mutable_deadline() = ToProto(row.timer, now);
                 }
                 return r;
               });
}

}  // namespace xinfang::supervision
