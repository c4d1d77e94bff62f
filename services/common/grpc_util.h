// The edge between gRPC and the rest: status mapping (absl codes are gRPC's
// codes, mapped once here), the calling actor, and proto conversion of cases
// and events.
#ifndef XINFANG_SERVICES_COMMON_GRPC_UTIL_H_
#define XINFANG_SERVICES_COMMON_GRPC_UTIL_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "services/storage/case_store.h"
#include "workflow/engine.h"
#include "xinfang/v1/case.pb.h"
#include "xinfang/v1/casework.pb.h"

namespace xinfang {

grpc::Status ToGrpc(const absl::Status& s);

// Runs `body`, turning any exception into INTERNAL (logged), so nothing
// reaches a client as UNKNOWN.
grpc::Status Guard(const char* rpc, const std::function<grpc::Status()>& body);

// Interim identity until token authentication (issue 7): the caller names
// itself in metadata x-xinfang-account, x-xinfang-role (intake_clerk,
// case_officer, unit_head, supervisor, administrator, auditor, service) and
// x-xinfang-unit; account and unit may come as binary "-bin" metadata (UTF-8). UNAUTHENTICATED when any is missing or the role is unknown.
absl::StatusOr<workflow::Actor> ActorFrom(const grpc::ServerContext& ctx);

// The glue of every RPC: identify the caller, run `fn(actor)` (returning
// absl::StatusOr<Resp>), copy the result out, map the status, catch all.
template <typename Resp, typename Fn>
grpc::Status Serve(const char* rpc, const grpc::ServerContext* ctx, Resp* resp, Fn fn) {
  return Guard(rpc, [&] {
    auto actor = ActorFrom(*ctx);
    if (!actor.ok()) return ToGrpc(actor.status());
    absl::StatusOr<Resp> r = fn(*actor);
    if (!r.ok()) return ToGrpc(r.status());
    *resp = std::move(*r);
    return grpc::Status::OK;
  });
}


// "intake_clerk" <-> ROLE_INTAKE_CLERK.
std::string RoleName(xinfang::v1::Role role);
xinfang::v1::Role RoleFromName(const std::string& name);

google::protobuf::Timestamp ToProto(absl::Time t);
absl::Time FromProto(const google::protobuf::Timestamp& t);

// One deadline as the API shows it: overdue once `now` reaches it (unless
// the clock is stopped).
xinfang::v1::Deadline ToProto(const workflow::TimerState& t, absl::Time now);

// A stored case as the API shows it (deadlines marked overdue at `now`).
xinfang::v1::Case ToProto(const storage::CaseRecord& r, const workflow::Engine* engine,
                          absl::Time now);
xinfang::v1::CaseEvent ToProto(const storage::StoredEvent& e, const std::string& tracking);

// Loads the case a CaseRef names. INVALID_ARGUMENT when the ref is empty.
absl::StatusOr<storage::CaseRecord> LoadCase(storage::CaseStore& store,
                                             const xinfang::v1::CaseRef& ref);

}  // namespace xinfang

#endif  // XINFANG_SERVICES_COMMON_GRPC_UTIL_H_
