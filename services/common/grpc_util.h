// The edge between gRPC and the rest: status mapping (absl codes are gRPC's
// codes, mapped once here), the calling actor, and proto conversion of cases
// and events.
#ifndef XINFANG_SERVICES_COMMON_GRPC_UTIL_H_
#define XINFANG_SERVICES_COMMON_GRPC_UTIL_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "services/common/access.h"
#include "services/common/core.h"
#include "services/storage/case_store.h"
#include "workflow/engine.h"
#include "xinfang/v1/case.pb.h"
#include "xinfang/v1/casework.pb.h"

namespace xinfang {

grpc::Status ToGrpc(const absl::Status& s);

// Runs `body`, turning any exception into INTERNAL (logged), so nothing
// reaches a client as UNKNOWN.
grpc::Status Guard(const char* rpc, const std::function<grpc::Status()>& body);

// Who calls: authenticates the call (Authenticator) and checks that the
// account's role may call `rpc` (access.h). UNAUTHENTICATED,
// RESOURCE_EXHAUSTED or PERMISSION_DENIED.
absl::StatusOr<workflow::Actor> Admit(const char* rpc, Core& core, const grpc::ServerContext& ctx);

// The glue of every RPC: admit the caller, run `fn(actor)` (returning
// absl::StatusOr<Resp>), copy the result out, map the status, catch all.
template <typename Resp, typename Fn>
grpc::Status Serve(const char* rpc, Core& core, const grpc::ServerContext* ctx, Resp* resp,
                   Fn fn) {
  return Guard(rpc, [&] {
    auto actor = Admit(rpc, core, *ctx);
    if (!actor.ok()) return ToGrpc(actor.status());
    absl::StatusOr<Resp> r = fn(*actor);
    if (!r.ok()) return ToGrpc(r.status());
    *resp = std::move(*r);
    return grpc::Status::OK;
  });
}

// The glue of an RPC that admits everyone (SignIn, ChangePassword,
// GetPublicStatus: a password or a query code is the credential): run `fn()`
// (returning absl::StatusOr<Resp>), copy the result out, map the status,
// catch all.
template <typename Resp, typename Fn>
grpc::Status ServeOpen(const char* rpc, Resp* resp, Fn fn) {
  return Guard(rpc, [&] {
    absl::StatusOr<Resp> r = fn();
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
// Fills c.unit_names and c.category_name for the codes `c` mentions, from
// Core::Names().
void AddNames(const std::map<std::string, std::string>& names, xinfang::v1::Case* c);

// `engine` (the case's, may be null) knows the timer's day kind for the
// explanation.
xinfang::v1::Deadline ToProto(const workflow::TimerState& t, absl::Time now,
                              const workflow::Engine* engine);

// A stored case as the API shows it (deadlines marked overdue at `now`).
xinfang::v1::Case ToProto(const storage::CaseRecord& r, const workflow::Engine* engine,
                          absl::Time now);
xinfang::v1::CaseEvent ToProto(const storage::StoredEvent& e, const std::string& tracking);
// A stored document as the API shows it (its text when read with it);
// `names` gives the unit's name ("unit:<code>").
xinfang::v1::Document ToProto(const storage::DocumentRow& d,
                              const std::map<std::string, std::string>& names);

// Loads the case a CaseRef names. INVALID_ARGUMENT when the ref is empty.
absl::StatusOr<storage::CaseRecord> LoadCase(storage::CaseStore& store,
                                             const xinfang::v1::CaseRef& ref);
// LoadCase, then PERMISSION_DENIED unless the case is in the actor's scope.
absl::StatusOr<storage::CaseRecord> LoadVisibleCase(Core& core, const workflow::Actor& actor,
                                                    const xinfang::v1::CaseRef& ref,
                                                    const workflow::OrgTree& org);

// A stored case as `actor` may see it (access.h: full, masked or redacted);
// a read of unmasked ID or phone numbers is recorded (access_log) before it
// is returned, under `rpc`.
absl::StatusOr<xinfang::v1::Case> CaseFor(Core& core, const workflow::Actor& actor,
                                          const char* rpc, const storage::CaseRecord& rec,
                                          const workflow::OrgTree& org, absl::Time now);
// How `actor` sees the events of `rec` (and the view itself).
View ViewOfRecord(const workflow::Actor& actor, const storage::CaseRecord& rec,
                  const workflow::OrgTree& org);

}  // namespace xinfang

#endif  // XINFANG_SERVICES_COMMON_GRPC_UTIL_H_
