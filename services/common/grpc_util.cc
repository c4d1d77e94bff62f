#include "services/common/grpc_util.h"

#include <algorithm>
#include <exception>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
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
    {xinfang::v1::ROLE_PETITIONER, "petitioner"},
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

xinfang::v1::Deadline ToProto(const workflow::TimerState& t, absl::Time now,
                              const workflow::Engine* engine) {
  xinfang::v1::Deadline d;
  d.set_timer(t.name);
  d.set_purpose(t.purpose);
  *d.mutable_due_at() = ToProto(t.deadline.due_at);
  d.set_due_date(absl::FormatCivilTime(t.deadline.due_day));
  *d.mutable_warn_at() = ToProto(t.warn_at);
  d.set_provisional(t.deadline.provisional);
  d.set_suspended(t.suspended_at.has_value());
  d.set_overdue(t.overdue || (!t.suspended_at.has_value() && now >= t.deadline.due_at));
  d.set_rung(t.rung);
  const workflow::Deadline& terms = t.deadline;
  const xinfang::v1::Timer* spec =
      engine != nullptr ? engine->definition().FindTimer(t.name) : nullptr;
  const bool working = spec != nullptr && spec->day_kind() == xinfang::v1::DAY_KIND_WORKING;
  d.set_counted_from(absl::FormatCivilTime(terms.counted_from));
  d.set_base_days(terms.base_days);
  d.set_extension_days(terms.extension_days);
  d.set_stopped_days(terms.stopped_days);
  d.set_rolled(terms.rolled);
  d.set_working_days(working);
  d.set_explanation(workflow::ExplainDeadline(terms, working));
  if (spec != nullptr) d.set_title(spec->title());
  return d;
}

namespace {

// The value of the first field of `a` of `type` that the action was given
// (only required fields when `required_only`); empty if none.
std::string FieldOf(const xinfang::v1::Action& a, const storage::TakenAction& t,
                    xinfang::v1::FieldType type, bool required_only = false) {
  for (const xinfang::v1::FieldSpec& f : a.fields()) {
    if (f.type() != type || (required_only && !f.required())) continue;
    auto it = t.fields.find(f.name());
    if (it != t.fields.end()) return it->second;
  }
  return "";
}

xinfang::v1::Stage StageOf(const workflow::Definition& def, const std::string& state) {
  const xinfang::v1::State* s = def.FindState(state);
  return s == nullptr ? xinfang::v1::STAGE_UNSPECIFIED : s->stage();
}

// The case's record, from the actions taken and their record kinds.
void FillRecord(const storage::CaseRecord& r, const workflow::Definition& def,
                xinfang::v1::Case* c) {
  using xinfang::v1::FIELD_TYPE_CHOICE;
  using xinfang::v1::FIELD_TYPE_DATE;
  using xinfang::v1::FIELD_TYPE_DAYS;
  using xinfang::v1::FIELD_TYPE_TEXT;
  using xinfang::v1::FIELD_TYPE_UNIT;
  std::string unit = r.intake.registering_unit();  // who holds the case
  std::vector<std::string> senders;                  // for returns, innermost last
  for (const storage::TakenAction& t : r.actions) {
    const xinfang::v1::Action* a = def.FindAction(t.action);
    if (a == nullptr) continue;
    auto days = [&] {
      int d = 0;
      return absl::SimpleAtoi(FieldOf(*a, t, FIELD_TYPE_DAYS), &d) ? d : 0;
    };
    for (int kind : a->record()) {
      switch (static_cast<xinfang::v1::RecordKind>(kind)) {
        case xinfang::v1::RECORD_KIND_ROUTING: {
          xinfang::v1::RoutingRecord* x = c->add_routing();
          std::string to = FieldOf(*a, t, FIELD_TYPE_UNIT);
          if (to.empty() && !senders.empty()) {  // a return to the sender
            to = senders.back();
            senders.pop_back();
          } else if (!to.empty()) {
            senders.push_back(unit);
          }
          x->set_action(t.action);
          x->set_from_unit(unit);
          x->set_to_unit(to);
          x->set_reason(FieldOf(*a, t, FIELD_TYPE_TEXT));
          x->set_by(t.actor);
          *x->mutable_at() = ToProto(t.at);
          unit = to;
          break;
        }
        case xinfang::v1::RECORD_KIND_OBJECTION: {
          xinfang::v1::ObjectionRecord* x = c->add_objections();
          x->set_reasons(FieldOf(*a, t, FIELD_TYPE_TEXT));
          x->set_by(t.actor);
          *x->mutable_at() = ToProto(t.at);
          break;
        }
        case xinfang::v1::RECORD_KIND_OBJECTION_ANSWER: {
          if (c->objections().empty() || !c->objections().rbegin()->answer().empty()) break;
          xinfang::v1::ObjectionRecord* x = c->mutable_objections()->Mutable(c->objections_size() - 1);
          x->set_answer(t.action);
          x->set_answer_reason(FieldOf(*a, t, FIELD_TYPE_TEXT));
          x->set_answered_by(t.actor);
          *x->mutable_answered_at() = ToProto(t.at);
          break;
        }
        case xinfang::v1::RECORD_KIND_EXTENSION_REQUEST: {
          xinfang::v1::ExtensionRecord* x = c->add_extensions();
          x->set_requested_by(t.actor);
          *x->mutable_requested_at() = ToProto(t.at);
          x->set_reason(FieldOf(*a, t, FIELD_TYPE_TEXT));
          x->set_requested_days(days());
          break;
        }
        case xinfang::v1::RECORD_KIND_EXTENSION_ANSWER: {
          if (c->extensions().empty() || !c->extensions().rbegin()->answer().empty()) {
            c->add_extensions();  // answered without a recorded request
          }
          xinfang::v1::ExtensionRecord* x = c->mutable_extensions()->Mutable(c->extensions_size() - 1);
          x->set_answer(t.action);
          x->set_approved(std::find(a->effects().begin(), a->effects().end(),
                                    xinfang::v1::EFFECT_EXTEND_TIMER) != a->effects().end());
          x->set_answered_by(t.actor);
          *x->mutable_answered_at() = ToProto(t.at);
          x->set_days(days());
          x->set_petitioner_told_on(FieldOf(*a, t, FIELD_TYPE_DATE));
          x->set_answer_reason(FieldOf(*a, t, FIELD_TYPE_TEXT));
          break;
        }
        case xinfang::v1::RECORD_KIND_DECISION: {
          xinfang::v1::DecisionRecord* x = c->add_decisions();
          x->set_stage(StageOf(def, t.to_state));
          x->set_outcome(FieldOf(*a, t, FIELD_TYPE_CHOICE));
          x->set_text(FieldOf(*a, t, FIELD_TYPE_TEXT, /*required_only=*/true));
          x->set_decided_by(t.actor);
          x->set_unit(t.actor_unit);
          *x->mutable_decided_at() = ToProto(t.at);
          break;
        }
        case xinfang::v1::RECORD_KIND_SERVICE: {
          xinfang::v1::ServiceRecord* x = c->add_services();
          x->set_stage(StageOf(def, t.from_state));
          auto named = [&](const char* name) {
            auto it = t.fields.find(name);
            return it == t.fields.end() ? std::string() : it->second;
          };
          x->set_served_on(named("served_on"));
          x->set_method(named("method"));
          x->set_receipt(named("receipt"));
          x->set_signed_by(named("signed_by"));
          x->set_witness(named("witness"));
          x->set_served_by(named("served_by"));
          x->set_recorded_by(t.actor);
          *x->mutable_recorded_at() = ToProto(t.at);
          break;
        }
        case xinfang::v1::RECORD_KIND_HEARING_START: {
          xinfang::v1::HearingRecord* x = c->add_hearings();
          *x->mutable_started_at() = ToProto(t.at);
          x->set_unit(t.actor_unit);
          x->set_started_by(t.actor);
          break;
        }
        case xinfang::v1::RECORD_KIND_HEARING_END:
          if (!c->hearings().empty() && !c->hearings().rbegin()->has_ended_at()) {
            *c->mutable_hearings()->Mutable(c->hearings_size() - 1)->mutable_ended_at() =
                ToProto(t.at);
          }
          break;
        default:
          break;
      }
    }
  }
}

}  // namespace

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
    if (const auto* st = engine->definition().FindState(s.state)) {
      c.set_stage(st->stage());
      c.set_state_title(st->title());
    }
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
  c.set_office_evaluation(s.office_evaluation);
  for (const workflow::TimerState& t : s.timers) *c.add_deadlines() = ToProto(t, now, engine);
  for (const std::string& f : s.flags) c.add_flags(f);
  for (const std::string& t : r.related_tracking_numbers) c.add_related_tracking_numbers(t);
  for (const auto& [k, v] : s.attributes) (*c.mutable_attributes())[k] = v;
  c.set_forwarder_unit(s.forwarder_unit);
  c.set_review_unit(s.review_unit);
  c.set_recheck_unit(s.recheck_unit);
  if (engine != nullptr) FillRecord(r, engine->definition(), &c);
  return c;
}

void AddNames(const std::map<std::string, std::string>& names, xinfang::v1::Case* c) {
  auto unit = [&](const std::string& code) {
    if (code.empty()) return;
    auto it = names.find("unit:" + code);
    if (it != names.end()) (*c->mutable_unit_names())[code] = it->second;
  };
  for (const std::string* code :
       {&c->responsible_unit(), &c->forwarder_unit(), &c->review_unit(), &c->recheck_unit(),
        &c->intake().registering_unit(), &c->intake().complained_about_unit()}) {
    unit(*code);
  }
  for (const auto& r : c->routing()) {
    unit(r.from_unit());
    unit(r.to_unit());
  }
  for (const auto& d : c->decisions()) unit(d.unit());
  if (auto it = names.find("category:" + c->intake().category()); it != names.end()) {
    c->set_category_name(it->second);
  }
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
  const std::string& registrar = rec.intake.registering_unit();
  return ViewOf(actor,
                CaseTies{rec.intake.complained_about_unit(), rec.snapshot.conflicted_accounts,
                         rec.snapshot.responsible_unit == registrar ? registrar : ""},
                org);
}

absl::StatusOr<xinfang::v1::Case> CaseFor(Core& core, const workflow::Actor& actor,
                                          const char* rpc, const storage::CaseRecord& rec,
                                          const workflow::OrgTree& org, absl::Time now) {
  xinfang::v1::Case c =
      ToProto(rec, core.EngineFor(rec.snapshot.workflow, rec.snapshot.workflow_version), now);
  const View view = ViewOfRecord(actor, rec, org);
  Show(view, &c);
  auto names = core.Names();
  if (!names.ok()) return names.status();
  AddNames(**names, &c);
  if (view == View::kFull && HasPersonalNumbers(c)) {
    storage::AccessRecord r{core.clock().Now(), actor.account, RoleName(actor.role), actor.unit,
                            rpc, rec.id};
    if (auto s = core.identity().RecordAccess({r}); !s.ok()) return s;
  }
  return c;
}

xinfang::v1::Document ToProto(const storage::DocumentRow& d,
                              const std::map<std::string, std::string>& names) {
  xinfang::v1::Document out;
  out.set_number(d.number);
  out.set_kind(d.kind);
  out.set_title(d.title);
  out.set_recipient(static_cast<xinfang::v1::DocumentRecipient>(d.recipient));
  out.set_tracking_number(d.tracking_number);
  out.set_unit(d.unit);
  out.set_unit_name(NameOf(names, "unit", d.unit));
  *out.mutable_issued_at() = ToProto(d.issued_at);
  out.set_issued_by(d.issued_by);
  out.set_event_seq(d.event_seq);
  out.set_template_version(d.template_version);
  out.set_sha256(d.sha256);
  out.set_html(d.body);
  return out;
}

}  // namespace xinfang
