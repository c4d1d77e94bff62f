#include "services/query/query_service.h"

#include "services/common/grpc_util.h"

namespace xinfang::query {

absl::StatusOr<xinfang::v1::GetCaseResponse> Query::GetCase(
    const workflow::Actor& actor, const xinfang::v1::GetCaseRequest& req) {
  auto rec = LoadCase(core_.store(), req.case_());
  if (!rec.ok()) return rec.status();
  xinfang::v1::GetCaseResponse resp;
  *resp.mutable_case_() =
      ToProto(*rec, core_.EngineFor(rec->snapshot.workflow, rec->snapshot.workflow_version),
              core_.clock().Now());
  return resp;
}

absl::StatusOr<xinfang::v1::GetHistoryResponse> Query::GetHistory(
    const workflow::Actor& actor, const xinfang::v1::GetHistoryRequest& req) {
  auto rec = LoadCase(core_.store(), req.case_());
  if (!rec.ok()) return rec.status();
  auto history = core_.store().History(rec->id);
  if (!history.ok()) return history.status();
  xinfang::v1::GetHistoryResponse resp;
  for (const auto& e : *history) *resp.add_events() = ToProto(e, rec->tracking_number);
  return resp;
}

grpc::Status CaseQueryServiceImpl::GetCase(grpc::ServerContext* ctx,
                                           const xinfang::v1::GetCaseRequest* req,
                                           xinfang::v1::GetCaseResponse* resp) {
  return Serve("GetCase", ctx, resp,
               [&](const workflow::Actor& a) { return query_.GetCase(a, *req); });
}

grpc::Status CaseQueryServiceImpl::GetHistory(grpc::ServerContext* ctx,
                                              const xinfang::v1::GetHistoryRequest* req,
                                              xinfang::v1::GetHistoryResponse* resp) {
  return Serve("GetHistory", ctx, resp,
               [&](const workflow::Actor& a) { return query_.GetHistory(a, *req); });
}

}  // namespace xinfang::query
