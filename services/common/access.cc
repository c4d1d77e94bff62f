#include "services/common/access.h"

#include <algorithm>
#include <initializer_list>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/grpc_util.h"
#include "services/common/validate.h"

namespace xinfang {

namespace {

using xinfang::v1::Role;
constexpr Role kClerk = xinfang::v1::ROLE_INTAKE_CLERK;
constexpr Role kOfficer = xinfang::v1::ROLE_CASE_OFFICER;
constexpr Role kHead = xinfang::v1::ROLE_UNIT_HEAD;
constexpr Role kSupervisor = xinfang::v1::ROLE_SUPERVISOR;
constexpr Role kAdmin = xinfang::v1::ROLE_ADMINISTRATOR;
constexpr Role kAuditor = xinfang::v1::ROLE_AUDITOR;
constexpr Role kService = xinfang::v1::ROLE_SERVICE;

// Which roles may call each RPC. Within an RPC, the unit scope (and for
// actions the workflow definition) narrows further. docs/api.md mirrors it.
const std::map<std::string, std::set<Role>>& RpcRoles() {
  static const auto* table = new std::map<std::string, std::set<Role>>{
      // IntakeService
      {"RegisterCase", {kClerk}},
      {"ReissueQueryCode", {kClerk}},
      // CaseworkService: acting; which action is the definition's business.
      {"ListActions", {kClerk, kOfficer, kHead, kSupervisor, kService}},
      {"TakeAction", {kClerk, kOfficer, kHead, kSupervisor, kService}},
      {"VerifyHistory", {kClerk, kOfficer, kHead, kSupervisor, kAuditor}},
      // CaseQueryService: reading.
      {"GetCase", {kClerk, kOfficer, kHead, kSupervisor, kAuditor, kService}},
      {"GetHistory", {kClerk, kOfficer, kHead, kSupervisor, kAuditor, kService}},
      {"ListCases", {kClerk, kOfficer, kHead, kSupervisor, kAuditor, kService}},
      {"WatchEvents", {kOfficer, kHead, kSupervisor, kAuditor, kService}},
      {"GetStatistics", {kHead, kSupervisor, kAuditor, kService}},
      {"ListDocuments", {kClerk, kOfficer, kHead, kSupervisor, kAuditor, kService}},
      {"GetDocument", {kClerk, kOfficer, kHead, kSupervisor, kAuditor, kService}},
      {"ListNotifications", {kClerk, kOfficer, kHead, kSupervisor, kAuditor}},
      // SupervisionService.
      {"ListDeadlines", {kOfficer, kHead, kSupervisor, kAuditor, kService}},
      {"Dashboard", {kHead, kSupervisor, kAuditor, kService}},
      {"ListWarnings", {kHead, kSupervisor, kAuditor, kService}},
      {"GetWarning", {kHead, kSupervisor, kAuditor, kService}},
      {"UpdateWarning", {kHead, kSupervisor}},
      {"GetSituationReport", {kHead, kSupervisor, kAuditor, kService}},
      // AdminService.
      {"GetServerInfo", {kClerk, kOfficer, kHead, kSupervisor, kAdmin, kAuditor, kService}},
      {"WhoAmI", {kClerk, kOfficer, kHead, kSupervisor, kAdmin, kAuditor, kService}},
      {"AdvanceClock", {kSupervisor, kAdmin}},
      {"CreateAccount", {kAdmin}},
      {"SetAccountDisabled", {kAdmin}},
      {"SetAccountEmail", {kAdmin}},
      {"IssueToken", {kAdmin}},
      {"RevokeToken", {kAdmin}},
      {"ListAccounts", {kAdmin, kAuditor}},
      {"ListTokens", {kAdmin, kAuditor}},
      {"ListAccessLog", {kAuditor}},
      {"SetPassword", {kAdmin}},
      {"SignOut", {kClerk, kOfficer, kHead, kSupervisor, kAdmin, kAuditor, kService}},
      {"ListReferenceData", {kClerk, kOfficer, kHead, kSupervisor, kAdmin, kAuditor}},
      {"PutUnit", {kAdmin}},
      {"PutCategory", {kAdmin}},
      {"MigrateCases", {kAdmin}},
      // SignIn and ChangePassword need no token: the password is the proof.
      // PublicService (GetPublicStatus, EvaluateCase, GetPublicDocument) neither: the
      // query code is.
  };
  return *table;
}

// Keeps the first `head` and last `tail` characters (bytes: the numbers
// are ASCII), stars in between; all stars when too short to show any.
std::string Mask(const std::string& s, std::size_t head, std::size_t tail) {
  if (s.empty()) return s;
  if (s.size() <= head + tail) return std::string(s.size(), '*');
  return s.substr(0, head) + std::string(s.size() - head - tail, '*') + s.substr(s.size() - tail);
}

}  // namespace

absl::Status CheckRpc(const std::string& rpc, Role role) {
  const auto& table = RpcRoles();
  auto it = table.find(rpc);
  if (it == table.end()) return absl::InternalError(absl::StrCat(rpc, ": no access rule"));
  if (it->second.count(role) > 0) return absl::OkStatus();
  std::vector<std::string> allowed;
  for (Role r : it->second) allowed.push_back(RoleName(r));
  return absl::PermissionDeniedError(absl::StrCat(rpc, ": not for role ", RoleName(role),
                                                  " (allowed: ", absl::StrJoin(allowed, ", "),
                                                  ")"));
}

bool SeesEveryUnit(Role role) {
  return role == kAuditor || role == kService || role == xinfang::v1::ROLE_SYSTEM;
}

bool SeesPersonalNumbers(Role role) {
  return role == kClerk || role == kOfficer || role == kAuditor;
}

std::string ScopeOf(const workflow::Actor& actor) {
  return SeesEveryUnit(actor.role) ? "" : actor.unit;
}

absl::Status CheckCaseInScope(const workflow::Actor& actor, const std::string& tracking,
                              const std::string& responsible_unit, const workflow::OrgTree& org) {
  const std::string scope = ScopeOf(actor);
  if (scope.empty() || org.IsWithin(responsible_unit, scope)) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat("case ", tracking, ": handled by unit ",
                                                  responsible_unit, ", outside your unit ", scope));
}

absl::StatusOr<std::string> ScopedUnit(const workflow::Actor& actor, const std::string& field,
                                       const std::string& requested,
                                       const workflow::MapOrgTree& org) {
  const std::string scope = ScopeOf(actor);
  if (requested.empty()) return scope;
  if (auto s = CheckText(field, requested, 64, false); !s.ok()) return s;
  if (!org.Contains(requested)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": unknown unit '", requested, "'"));
  }
  if (scope.empty() || org.IsWithin(requested, scope)) return requested;
  return absl::PermissionDeniedError(
      absl::StrCat(field, ": unit ", requested, " is outside your unit ", scope));
}

View ViewOf(const workflow::Actor& actor, const CaseTies& ties, const workflow::OrgTree& org) {
  if (actor.role == kService) return View::kRedacted;
  if (ties.conflicted_accounts.count(actor.account) > 0) return View::kRedacted;
  if (!ties.complained_about_unit.empty() && org.IsWithin(actor.unit, ties.complained_about_unit) &&
      actor.unit != ties.registrar_holding) {
    return View::kRedacted;
  }
  return SeesPersonalNumbers(actor.role) ? View::kFull : View::kMasked;
}

void Show(View view, xinfang::v1::Case* c) {
  if (view == View::kFull) return;
  xinfang::v1::CaseIntake* in = c->mutable_intake();
  if (view == View::kMasked) {
    for (auto& p : *in->mutable_petitioners()) {
      p.set_id_number(MaskIdNumber(p.id_number()));
      p.set_phone(MaskPhone(p.phone()));
      p.set_email(MaskEmail(p.email()));
    }
    if (in->has_call()) in->mutable_call()->set_caller_number(MaskPhone(in->call().caller_number()));
    return;
  }
  // Redacted: who petitioned, and what they said about whom, are gone.
  in->clear_petitioners();
  in->clear_summary();
  in->clear_request();
  in->clear_facts_and_reasons();
  in->clear_complained_about();
  in->clear_attachments();
  in->clear_issue_location();
  switch (in->channel_details_case()) {
    case xinfang::v1::CaseIntake::kVisit:
      in->mutable_visit()->clear_representatives();
      break;
    case xinfang::v1::CaseIntake::kCall:
      in->mutable_call()->clear_caller_number();
      break;
    case xinfang::v1::CaseIntake::kLetter:
      in->mutable_letter()->clear_sender_address();
      in->mutable_letter()->clear_scan_references();
      break;
    case xinfang::v1::CaseIntake::kOnline:
      in->mutable_online()->clear_reference();
      break;
    default:
      break;
  }
  c->clear_attributes();
  c->clear_related_tracking_numbers();
  // The record keeps who did what when; the words (reasons, texts) go.
  for (auto& x : *c->mutable_routing()) x.clear_reason();
  for (auto& x : *c->mutable_objections()) {
    x.clear_reasons();
    x.clear_answer_reason();
  }
  for (auto& x : *c->mutable_extensions()) {
    x.clear_reason();
    x.clear_answer_reason();
  }
  for (auto& x : *c->mutable_decisions()) x.clear_text();
  for (auto& x : *c->mutable_services()) {  // the people on the receipt
    x.clear_signed_by();
    x.clear_witness();
  }
  c->set_redacted(true);
}

void Show(View view, xinfang::v1::CaseSummary* s) {
  if (view == View::kRedacted) s->clear_summary();
}

void Show(View view, xinfang::v1::CaseEvent* e, const workflow::Definition* def) {
  if (view != View::kRedacted) return;
  e->clear_note();
  // Events the system records (registration, deadlines, escalation) carry
  // only units, timers, days and rungs.
  if (e->action().empty()) return;
  const xinfang::v1::Action* action = def != nullptr ? def->FindAction(e->action()) : nullptr;
  auto* fields = e->mutable_fields();
  for (auto it = fields->begin(); it != fields->end();) {
    bool keep = false;
    if (action != nullptr) {
      for (const auto& spec : action->fields()) {
        if (spec.name() == it->first) {
          keep = spec.type() != xinfang::v1::FIELD_TYPE_TEXT &&
                 spec.type() != xinfang::v1::FIELD_TYPE_UNSPECIFIED;
        }
      }
    }
    it = keep ? std::next(it) : fields->erase(it);
  }
}

bool HasPersonalNumbers(const xinfang::v1::Case& c) {
  for (const auto& p : c.intake().petitioners()) {
    if (!p.id_number().empty() || !p.phone().empty() || !p.email().empty()) return true;
  }
  return c.intake().has_call() && !c.intake().call().caller_number().empty();
}

std::string MaskIdNumber(const std::string& id) { return Mask(id, 6, 4); }
std::string MaskPhone(const std::string& phone) { return Mask(phone, 3, 4); }

std::string MaskEmail(const std::string& email) {
  const size_t at = email.rfind('@');
  if (at == std::string::npos) return Mask(email, 0, 0);
  return Mask(email.substr(0, at), 1, 0) + email.substr(at);
}

std::string MaskName(const std::string& name) {
  if (name.empty()) return "*";
  // The first UTF-8 sequence: a lead byte and its continuation bytes.
  std::size_t first = 1;
  while (first < name.size() && (static_cast<unsigned char>(name[first]) & 0xC0) == 0x80) ++first;
  const int rest = Utf8Length(absl::string_view(name).substr(first));
  return name.substr(0, first) + std::string(std::max(rest, 1), '*');
}

}  // namespace xinfang
