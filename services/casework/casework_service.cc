#include "services/casework/casework_service.h"

#include "absl/strings/str_cat.h"
#include "services/common/act.h"
#include "services/common/grpc_util.h"
#include "services/common/validate.h"

namespace xinfang::casework {

absl::StatusOr<xinfang::v1::ListActionsResponse> Casework::ListActions(
    const workflow::Actor& actor, const xinfang::v1::ListActionsRequest& req) {
  auto org = core_.Org();
  if (!org.ok()) return org.status();
  auto rec = LoadVisibleCase(core_, actor, req.case_(), **org);
  if (!rec.ok()) return rec.status();
  const workflow::Engine* engine =
      core_.EngineFor(rec->snapshot.workflow, rec->snapshot.workflow_version);
  if (engine == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "case workflow ", rec->snapshot.workflow, "@", rec->snapshot.workflow_version,
        " is not loaded on this server"));
  }
  xinfang::v1::ListActionsResponse resp;
  resp.set_version(rec->version);
  resp.set_state(rec->snapshot.state);
  for (const xinfang::v1::Action* a :
       engine->Available(rec->snapshot, actor, core_.clock().Now(), **org)) {
    xinfang::v1::AvailableAction* out = resp.add_actions();
    out->set_name(a->name());
    out->set_title(a->title());
    out->set_to(a->to());
    *out->mutable_fields() = a->fields();
  }
  return resp;
}

absl::Status Casework::LookUpAccounts(const workflow::Definition& def,
                                      workflow::ActionRequest* request) {
  const xinfang::v1::Action* action = def.FindAction(request->action);
  if (action == nullptr) return absl::OkStatus();  // the engine says NOT_FOUND
  for (const xinfang::v1::FieldSpec& spec : action->fields()) {
    if (spec.type() != xinfang::v1::FIELD_TYPE_ACCOUNT) continue;
    auto it = request->fields.find(spec.name());
    if (it == request->fields.end()) continue;
    auto account = core_.identity().GetAccount(it->second);
    if (absl::IsNotFound(account.status())) continue;  // the engine names the field
    if (!account.ok()) return account.status();
    request->accounts[account->name] = workflow::AccountFacts{
        RoleFromName(account->role), account->unit, !account->disabled_at.has_value()};
  }
  return absl::OkStatus();
}

absl::StatusOr<xinfang::v1::TakeActionResponse> Casework::TakeAction(
    const workflow::Actor& actor, const xinfang::v1::TakeActionRequest& req) {
  if (req.action().empty()) return absl::InvalidArgumentError("action: required");
  if (req.expected_version() <= 0) {
    return absl::InvalidArgumentError("expected_version: required (the version you read)");
  }
  if (auto s = CheckText("note", req.note(), 4000, false); !s.ok()) return s;
  for (const auto& [k, v] : req.fields()) {
    if (auto s = CheckText(absl::StrCat("fields.", k), v, 20000, false); !s.ok()) return s;
  }
  auto org = core_.Org();
  if (!org.ok()) return org.status();
  auto rec = LoadVisibleCase(core_, actor, req.case_(), **org);
  if (!rec.ok()) return rec.status();
  if (rec->version != req.expected_version()) {
    return absl::AbortedError(absl::StrCat("case ", rec->tracking_number, " is at version ",
                                           rec->version, ", not ", req.expected_version(),
                                           ": read it again and retry"));
  }
  workflow::ActionRequest ar;
  ar.action = req.action();
  ar.fields = {req.fields().begin(), req.fields().end()};
  ar.note = req.note();
  const workflow::Engine* engine =
      core_.EngineFor(rec->snapshot.workflow, rec->snapshot.workflow_version);
  if (engine != nullptr) {
    if (auto s = LookUpAccounts(engine->definition(), &ar); !s.ok()) return s;
  }
  auto updated = Act(core_, *rec, req.expected_version(), ar, actor, **org);
  if (!updated.ok() && updated.status().code() == absl::StatusCode::kAborted) {
    // Another change won the race after our read: name the case, as above.
    return absl::AbortedError(absl::StrCat("case ", rec->tracking_number,
                                           " was changed by another call since version ",
                                           req.expected_version(), ": read it again and retry"));
  }
  if (!updated.ok()) return updated.status();
  xinfang::v1::TakeActionResponse resp;
  auto shown =
      CaseFor(core_, actor, "TakeAction", updated->record, **org, core_.clock().Now());
  if (!shown.ok()) return shown.status();
  *resp.mutable_case_() = std::move(*shown);
  const View view = ViewOfRecord(actor, updated->record, **org);
  for (const storage::StoredEvent& e : updated->events) {
    xinfang::v1::CaseEvent* out = resp.add_events();
    *out = ToProto(e, updated->record.tracking_number);
    Show(view, out, &engine->definition());  // Act succeeded: the engine is loaded
  }
  return resp;
}

absl::StatusOr<xinfang::v1::VerifyHistoryResponse> Casework::VerifyHistory(
    const workflow::Actor& actor, const xinfang::v1::VerifyHistoryRequest& req) {
  auto org = core_.Org();
  if (!org.ok()) return org.status();
  auto rec = LoadVisibleCase(core_, actor, req.case_(), **org);
  if (!rec.ok()) return rec.status();
  auto v = core_.store().Verify(rec->id);
  if (!v.ok()) return v.status();
  xinfang::v1::VerifyHistoryResponse resp;
  resp.set_intact(v->intact);
  resp.set_events(v->events);
  resp.set_first_broken_seq(v->first_broken_seq);
  resp.set_detail(v->detail);
  return resp;
}

grpc::Status CaseworkServiceImpl::ListActions(grpc::ServerContext* ctx,
                                              const xinfang::v1::ListActionsRequest* req,
                                              xinfang::v1::ListActionsResponse* resp) {
  return Serve("ListActions", core_, ctx, resp,
               [&](const workflow::Actor& a) { return casework_.ListActions(a, *req); });
}

grpc::Status CaseworkServiceImpl::TakeAction(grpc::ServerContext* ctx,
                                             const xinfang::v1::TakeActionRequest* req,
                                             xinfang::v1::TakeActionResponse* resp) {
  return Serve("TakeAction", core_, ctx, resp,
               [&](const workflow::Actor& a) { return casework_.TakeAction(a, *req); });
}

grpc::Status CaseworkServiceImpl::VerifyHistory(grpc::ServerContext* ctx,
                                                const xinfang::v1::VerifyHistoryRequest* req,
                                                xinfang::v1::VerifyHistoryResponse* resp) {
  return Serve("VerifyHistory", core_, ctx, resp,
               [&](const workflow::Actor& a) { return casework_.VerifyHistory(a, *req); });
}

}  // namespace xinfang::casework
