#include "services/intake/intake_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/common/grpc_util.h"
#include "services/common/query_code.h"
#include "services/common/receipt.h"
#include "services/common/validate.h"
#include "services/storage/query_code_store.h"

namespace xinfang::intake {

// The history event of a query code issued after registration (the first
// is part of the registration).
constexpr char kCodeIssued[] = "query_code_issued";


absl::StatusOr<xinfang::v1::RegisterCaseResponse> Intake::Register(
    const workflow::Actor& actor, xinfang::v1::RegisterCaseRequest request) {
  const std::string& rid = request.request_id();
  const bool printable = std::all_of(rid.begin(), rid.end(), [](char c) { return c > 0x20 && c < 0x7f; });
  if (rid.size() < 8 || rid.size() > 64 || !printable) {
    return absl::InvalidArgumentError(
        "request_id: required, 8 to 64 printable ASCII characters (a UUID, say)");
  }
  // The request as the client sent it, before defaults are filled in: a
  // retry must send the same petition.
  const std::string request_hash = storage::Sha256Hex(request.intake().SerializeAsString());
  auto org = core_.Org();  // one read serves scope, validation and the rules below
  if (!org.ok()) return org.status();
  // A retry gets its original case back, whatever has happened since.
  {
    auto replay = core_.store().FindReplay(rid, request_hash);
    if (!replay.ok()) return replay.status();
    if (replay->has_value()) {
      const std::string& unit = (**replay).intake.registering_unit();
      if (!(*org)->IsWithin(unit, actor.unit)) {
        return absl::PermissionDeniedError(absl::StrCat(
            "request_id: registered by unit ", unit, ", outside your unit ", actor.unit));
      }
      auto code = Reissue(actor, **replay, "registration_retried");
      if (!code.ok()) return code.status();
      return Response(actor, **replay, **org, true, *code);
    }
  }
  xinfang::v1::CaseIntake& in = *request.mutable_intake();
  if (in.registering_unit().empty()) in.set_registering_unit(actor.unit);
  auto categories = core_.Categories();
  if (!categories.ok()) return categories.status();
  auto category = (*categories)->find(in.category());
  const bool category_known = category != (*categories)->end() && category->second;
  const absl::Time now = core_.clock().Now();
  IntakeRules rules{now, core_.config().max_receipt_age,
                    [&](const std::string& u) { return (*org)->Contains(u); },
                    [&](const std::string&) { return category_known; }};
  if (auto s = ValidateIntake(in, rules); !s.ok()) return s;
  if (!(*org)->IsWithin(in.registering_unit(), actor.unit)) {
    return absl::PermissionDeniedError(absl::StrCat(
        "intake.registering_unit: ", in.registering_unit(), " is outside your unit ", actor.unit));
  }

  // Rules across cases: Art. 19 (the same matter, open and in time below,
  // is not accepted at a higher body) and finality after re-check. Such a
  // petition is still registered; the engine records the refusal.
  std::optional<workflow::Inadmissible> inadmissible;
  {
    // Only cases the rules can concern: open below this unit, or final.
    std::vector<std::string> below = (*org)->Subtree(in.registering_unit());
    std::erase(below, in.registering_unit());
    auto priors = core_.store().CasesOfPetitioners(
        {in.petitioners().begin(), in.petitioners().end()}, in.category(), below, 200);
    if (!priors.ok()) return priors.status();
    std::vector<workflow::PriorCase> summaries;
    for (const storage::CaseRecord& p : *priors) {
      const workflow::Engine* e = core_.EngineFor(p.snapshot.workflow, p.snapshot.workflow_version);
      if (e == nullptr) continue;
      summaries.push_back(workflow::SummarizeCase(e->definition(), p.snapshot, p.tracking_number,
                                                  p.intake.category(),
                                                  p.intake.complained_about()));
    }
    workflow::NewMatter matter{in.category(), in.complained_about(), in.registering_unit()};
    inadmissible = workflow::CheckAdmissible(matter, summaries, **org, now);
  }

  const workflow::Engine& engine = core_.DefaultEngine();
  workflow::CaseStart start;
  start.received_at = FromProto(in.received_at());
  start.anonymous = in.anonymous();
  start.registering_unit = in.registering_unit();
  start.inadmissible = std::move(inadmissible);
  start.complained_about_unit = in.complained_about_unit();
  auto decision = engine.Start(start, actor, now);
  if (!decision.ok()) return decision.status();

  // A petition refused at registration is answered in writing at once.
  auto documents = core_.DraftDocuments(engine, *decision, in, actor, now);
  if (!documents.ok()) return documents.status();

  storage::NewCase nc;
  nc.documents = std::move(*documents);
  nc.request_id = rid;
  nc.request_hash = request_hash;
  nc.intake = in;
  nc.start = std::move(*decision);
  nc.actor = actor;
  nc.now = now;
  const absl::CivilDay today = core_.calendar().LocalDay(now);
  nc.tracking_prefix = absl::StrFormat("XF%04d%02d%02d-", today.year(), today.month(), today.day());
  const std::string code = NewQueryCode();
  const QueryCodeHash hashed = HashQueryCode(code);
  nc.query_code_salt = hashed.salt;
  nc.query_code_hash = hashed.hash;
  auto created = core_.store().Create(nc);
  if (!created.ok()) return created.status();
  if (created->replayed) {  // a concurrent retry made the case: its code is not ours
    auto again = Reissue(actor, created->record, "registration_retried");
    if (!again.ok()) return again.status();
    return Response(actor, created->record, **org, true, *again);
  }
  return Response(actor, created->record, **org, false,
                  Handed(code, created->record.tracking_number));
}

xinfang::v1::QueryCode Intake::Handed(const std::string& code,
                                      const std::string& tracking) const {
  xinfang::v1::QueryCode q;
  q.set_code(code);
  q.set_status_url(PublicStatusUrl(core_.config().public_status_url, tracking));
  QrCode qr = RenderQr(q.status_url());
  q.set_qr_svg(std::move(qr.svg));
  q.set_qr_text(std::move(qr.text));
  return q;
}

absl::StatusOr<xinfang::v1::QueryCode> Intake::Reissue(const workflow::Actor& actor,
                                                       const storage::CaseRecord& rec,
                                                       const std::string& reason) {
  const std::string code = NewQueryCode();
  const QueryCodeHash hashed = HashQueryCode(code);
  workflow::Event e;
  e.kind = kCodeIssued;
  e.fields = {{"reason", reason}};
  storage::QueryCodeStore store(core_.pool());
  auto stored = store.Reissue(rec.id, hashed.salt, hashed.hash, e, actor, core_.clock().Now());
  if (!stored.ok()) return stored.status();
  return Handed(code, rec.tracking_number);
}

absl::StatusOr<xinfang::v1::ReissueQueryCodeResponse> Intake::ReissueQueryCode(
    const workflow::Actor& actor, const xinfang::v1::ReissueQueryCodeRequest& request) {
  if (auto s = CheckText("reason", request.reason(), 200, false); !s.ok()) return s;
  if (request.tracking_number().empty()) {
    return absl::InvalidArgumentError("tracking_number: required");
  }
  auto org = core_.Org();
  if (!org.ok()) return org.status();
  xinfang::v1::CaseRef ref;
  ref.set_tracking_number(request.tracking_number());
  auto rec = LoadVisibleCase(core_, actor, ref, **org);
  if (!rec.ok()) return rec.status();
  // The code opens the petitioner's view: never for whom the case is
  // redacted (the unit complained about, a declared conflict).
  const View view = ViewOfRecord(actor, *rec, **org);
  if (view == View::kRedacted) {
    return absl::PermissionDeniedError(absl::StrCat(
        "case ", rec->tracking_number, ": redacted for you, so not yours to reissue its code"));
  }
  auto code = Reissue(actor, *rec, request.reason().empty() ? "lost" : request.reason());
  if (!code.ok()) return code.status();
  xinfang::v1::ReissueQueryCodeResponse resp;
  resp.set_tracking_number(rec->tracking_number);
  xinfang::v1::Case shown =
      ToProto(*rec, core_.EngineFor(rec->snapshot.workflow, rec->snapshot.workflow_version),
              core_.clock().Now());
  Show(view, &shown);
  if (auto names = core_.Names(); names.ok()) AddNames(**names, &shown);
  resp.set_receipt(ReceiptText(shown, core_.calendar(), &*code));
  *resp.mutable_query_code() = std::move(*code);
  return resp;
}

// The registered case and its receipt as the clerk may see them (a clerk of
// the unit complained about gets both redacted, like every other read).
xinfang::v1::RegisterCaseResponse Intake::Response(const workflow::Actor& actor,
                                                   const storage::CaseRecord& rec,
                                                   const workflow::OrgTree& org, bool replayed,
                                                   const xinfang::v1::QueryCode& code) {
  xinfang::v1::RegisterCaseResponse resp;
  *resp.mutable_case_() =
      ToProto(rec, core_.EngineFor(rec.snapshot.workflow, rec.snapshot.workflow_version),
              core_.clock().Now());
  Show(ViewOfRecord(actor, rec, org), resp.mutable_case_());
  if (auto names = core_.Names(); names.ok()) AddNames(**names, resp.mutable_case_());
  resp.set_receipt(ReceiptText(resp.case_(), core_.calendar(), &code));
  resp.set_replayed(replayed);
  *resp.mutable_query_code() = code;
  return resp;
}

grpc::Status IntakeServiceImpl::RegisterCase(grpc::ServerContext* ctx,
                                             const xinfang::v1::RegisterCaseRequest* req,
                                             xinfang::v1::RegisterCaseResponse* resp) {
  return Serve("RegisterCase", core_, ctx, resp,
               [&](const workflow::Actor& a) { return intake_.Register(a, *req); });
}

grpc::Status IntakeServiceImpl::ReissueQueryCode(grpc::ServerContext* ctx,
                                                 const xinfang::v1::ReissueQueryCodeRequest* req,
                                                 xinfang::v1::ReissueQueryCodeResponse* resp) {
  return Serve("ReissueQueryCode", core_, ctx, resp,
               [&](const workflow::Actor& a) { return intake_.ReissueQueryCode(a, *req); });
}

}  // namespace xinfang::intake
