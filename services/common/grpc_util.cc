#include "services/common/grpc_util.h"

#include <algorithm>
#include <exception>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/common/log.h"
#include "services/common/validate.h"

namespace xinfang {

namespace {

// Role names in status messages appear one way: the short form of RoleName
// ("intake_clerk"). Messages made elsewhere with the enum's name
// ("ROLE_INTAKE_CLERK", e.g. the workflow engine's) are rewritten here.
std::string ShortRoleNames(absl::string_view message) {
  std::string out;
  std::size_t i = 0;
  while (i < message.size()) {
    const std::size_t at = message.find("ROLE_", i);
    if (at == absl::string_view::npos) break;
    std::size_t end = at + 5;
    while (end < message.size() && (absl::ascii_isupper(message[end]) || message[end] == '_')) {
      ++end;
    }
    xinfang::v1::Role role;
    absl::StrAppend(&out, message.substr(i, at - i));
    if (xinfang::v1::Role_Parse(std::string(message.substr(at, end - at)), &role) &&
        role != xinfang::v1::ROLE_UNSPECIFIED) {
      absl::StrAppend(&out, RoleName(role));
    } else {
      absl::StrAppend(&out, message.substr(at, end - at));
    }
    i = end;
  }
  absl::StrAppend(&out, message.substr(i));
  return out;
}

}  // namespace

grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  if (s.code() == absl::StatusCode::kInternal || s.code() == absl::StatusCode::kUnknown ||
      s.code() == absl::StatusCode::kDataLoss || s.code() == absl::StatusCode::kUnavailable) {
    LogError(absl::StrCat("returning ", absl::StatusCodeToString(s.code()), ": ", s.message()));
  }
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), ShortRoleNames(s.message()));
}

grpc::Status Guard(const char* rpc, const std::function<grpc::Status()>& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    LogError(absl::StrCat(rpc, ": unexpected exception: ", e.what()));
  } catch (...) {
    LogError(absl::StrCat(rpc, ": unexpected exception"));
  }
  return grpc::Status(grpc::StatusCode::INTERNAL, "internal error (logged on the server)");
}

namespace {
constexpr std::pair<xinfang::v1::Role, const char*> kRoles[] = {
    {xinfang::v1::ROLE_INTAKE_CLERK, "intake_clerk"},
    {xinfang::v1::ROLE_CASE_OFFICER, "case_officer"},
    {xinfang::v1::ROLE_UNIT_HEAD, "unit_head"},
    {xinfang::v1::ROLE_SUPERVISOR, "supervisor"},
    {xinfang::v1::ROLE_ADMINISTRATOR, "administrator"},
    {xinfang::v1::ROLE_AUDITOR, "auditor"},
    {xinfang::v1::ROLE_SERVICE, "service"},
    {xinfang::v1::ROLE_SYSTEM, "system"},
};

}  // namespace

std::string RoleName(xinfang::v1::Role role) {
  for (const auto& [r, name] : kRoles) {
    if (r == role) return name;
  }
  return "unspecified";
}

xinfang::v1::Role RoleFromName(const std::string& name) {
  for (const auto& [r, n] : kRoles) {
    if (name == n) return r;
  }
  return xinfang::v1::ROLE_UNSPECIFIED;
}

absl::StatusOr<workflow::Actor> Admit(const char* rpc, Core& core,
                                      const grpc::ServerContext& ctx) {
  auto actor = core.auth().Authenticate(ctx);
  if (!actor.ok()) return actor.status();
  if (auto s = CheckRpc(rpc, actor->role); !s.ok()) return s;
  return actor;
}

google::protobuf::Timestamp ToProto(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t us = absl::ToUnixMicros(t);
  int64_t secs = us / 1000000, rem = us % 1000000;
  if (rem < 0) {
    rem += 1000000;
    --secs;
  }
  ts.set_seconds(secs);
  ts.set_nanos(static_cast<int32_t>(rem * 1000));
  return ts;
}

absl::Time FromProto(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

xinfang::v1::Deadline ToProto(const workflow::TimerState& t, absl::Time now) {
  xinfang::v1::Deadline d;
  d.set_timer(t.name);
  *d.mutable_due_at() = ToProto(t.deadline.due_at);
  d.set_due_date(absl::FormatCivilTime(t.deadline.due_day));
  *d.mutable_warn_at() = ToProto(t.warn_at);
  d.set_provisional(t.deadline.provisional);
  d.set_suspended(t.suspended_at.has_value());
  d.set_overdue(t.overdue || (!t.suspended_at.has_value() && now >= t.deadline.due_at));
  d.set_rung(t.rung);
  return d;
}

xinfang::v1::Case ToProto(const storage::CaseRecord& r, const workflow::Engine* engine,
                          absl::Time now) {
  xinfang::v1::Case c;
  const workflow::CaseSnapshot& s = r.snapshot;
  c.set_id(r.id);
  c.set_tracking_number(r.tracking_number);
  c.set_version(r.version);
  c.set_workflow(s.workflow);
  c.set_workflow_version(s.workflow_version);
  c.set_state(s.state);
  if (engine != nullptr) {
    if (const auto* st = engine->definition().FindState(s.state)) c.set_stage(st->stage());
  }
  c.set_responsible_unit(s.responsible_unit);
  c.set_case_officer(s.case_officer);
  *c.mutable_intake() = r.intake;
  c.set_registered_by(r.registered_by);
  *c.mutable_registered_at() = ToProto(r.registered_at);
  if (s.accepted_at) *c.mutable_accepted_at() = ToProto(*s.accepted_at);
  if (s.decided_at) *c.mutable_decided_at() = ToProto(*s.decided_at);
  if (s.served_at) *c.mutable_served_at() = ToProto(*s.served_at);
  if (s.closed_at) *c.mutable_closed_at() = ToProto(*s.closed_at);
  c.set_outcome(s.outcome);
  c.set_evaluation(s.evaluation);
  for (const workflow::TimerState& t : s.timers) *c.add_deadlines() = ToProto(t, now);
  for (const std::string& f : s.flags) c.add_flags(f);
  for (const std::string& t : r.related_tracking_numbers) c.add_related_tracking_numbers(t);
  for (const auto& [k, v] : s.attributes) (*c.mutable_attributes())[k] = v;
  return c;
}

xinfang::v1::CaseEvent ToProto(const storage::StoredEvent& e, const std::string& tracking) {
  xinfang::v1::CaseEvent p;
  p.set_id(e.id);
  p.set_case_id(e.case_id);
  p.set_tracking_number(tracking);
  p.set_seq(e.seq);
  p.set_kind(e.event.kind);
  p.set_action(e.event.action);
  p.set_from_state(e.event.from_state);
  p.set_to_state(e.event.to_state);
  p.set_actor(e.actor.account);
  p.set_actor_role(e.actor.role);
  p.set_actor_unit(e.actor.unit);
  *p.mutable_at() = ToProto(e.at);
  p.set_note(e.event.note);
  for (const auto& [k, v] : e.event.fields) (*p.mutable_fields())[k] = v;
  p.set_hash(e.hash);
  return p;
}

absl::StatusOr<storage::CaseRecord> LoadCase(storage::CaseStore& store,
                                             const xinfang::v1::CaseRef& ref) {
  switch (ref.ref_case()) {
    case xinfang::v1::CaseRef::kId:
      return store.Get(ref.id());
    case xinfang::v1::CaseRef::kTrackingNumber:
      if (ref.tracking_number().empty() || ref.tracking_number().size() > 64) {
        return absl::InvalidArgumentError("case.tracking_number: empty or too long");
      }
      if (auto s = CheckText("case.tracking_number", ref.tracking_number(), 64, true); !s.ok()) {
        return s;
      }
      return store.GetByTracking(ref.tracking_number());
    default:
      return absl::InvalidArgumentError("case: give an id or a tracking_number");
  }
}

}  // namespace xinfang

namespace xinfang {

absl::StatusOr<storage::CaseRecord> LoadVisibleCase(Core& core, const workflow::Actor& actor,
                                                    const xinfang::v1::CaseRef& ref,
                                                    const workflow::OrgTree& org) {
  auto rec = LoadCase(core.store(), ref);
  if (!rec.ok()) return rec.status();
  if (auto s = CheckCaseInScope(actor, rec->tracking_number, rec->snapshot.responsible_unit, org);
      !s.ok()) {
    return s;
  }
  return rec;
}

View ViewOfRecord(const workflow::Actor& actor, const storage::CaseRecord& rec,
                  const workflow::OrgTree& org) {
  return ViewOf(actor, CaseTies{rec.intake.complained_about_unit(), rec.snapshot.conflicted_accounts},
                org);
}

absl::StatusOr<xinfang::v1::Case> CaseFor(Core& core, const workflow::Actor& actor,
                                          const char* rpc, const storage::CaseRecord& rec,
                                          const workflow::OrgTree& org, absl::Time now) {
  xinfang::v1::Case c =
      ToProto(rec, core.EngineFor(rec.snapshot.workflow, rec.snapshot.workflow_version), now);
  const View view = ViewOfRecord(actor, rec, org);
  Show(view, &c);
  if (view == View::kFull && HasPersonalNumbers(c)) {
    storage::AccessRecord r{core.clock().Now(), actor.account, RoleName(actor.role), actor.unit,
                            rpc, rec.id};
    if (auto s = core.identity().RecordAccess({r}); !s.ok()) return s;
  }
  return c;
}

}  // namespace xinfang
