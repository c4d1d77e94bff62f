#include "services/admin/admin_service.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/admin/passwords.h"
#include "services/common/access.h"
#include "services/common/auth.h"
#include "services/common/grpc_util.h"
#include "services/common/log.h"
#include "services/common/mail.h"
#include "services/storage/reference_store.h"
#include "services/common/validate.h"

namespace xinfang::admin {
namespace {

using xinfang::v1::Role;

xinfang::v1::Account ToProto(const storage::Account& a) {
  xinfang::v1::Account out;
  out.set_name(a.name);
  out.set_display_name(a.display_name);
  out.set_role(RoleFromName(a.role));
  out.set_unit(a.unit);
  *out.mutable_created_at() = xinfang::ToProto(a.created_at);
  out.set_created_by(a.created_by);
  out.set_disabled(a.disabled_at.has_value());
  out.set_email(a.email);
  return out;
}

xinfang::v1::Token ToProto(const storage::TokenInfo& t, absl::Time now) {
  xinfang::v1::Token out;
  out.set_id(t.id);
  out.set_account(t.account);
  out.set_label(t.label);
  *out.mutable_created_at() = xinfang::ToProto(t.created_at);
  out.set_created_by(t.created_by);
  *out.mutable_expires_at() = xinfang::ToProto(t.expires_at);
  out.set_expired(now >= t.expires_at);
  out.set_session(t.session);
  if (t.revoked_at) {
    out.set_revoked(true);
    *out.mutable_revoked_at() = xinfang::ToProto(*t.revoked_at);
  }
  return out;
}

// Auditors and service accounts see every unit (access.h, ScopeOf): a
// caller limited to a unit below the top may not create them or manage
// them, or it would reach beyond its subtree through them.
absl::Status CheckReach(const workflow::Actor& caller, Role role, const workflow::OrgTree& org,
                        const std::string& what) {
  const std::string scope = ScopeOf(caller);
  if (scope.empty() || !SeesEveryUnit(role) || !org.Parent(scope).has_value()) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      absl::StrCat(what, ": ", RoleName(role), " accounts see every unit; only an administrator "
                   "of the top unit manages them, not one of ", scope));
}

}  // namespace

absl::StatusOr<xinfang::v1::GetServerInfoResponse> Admin::GetServerInfo(
    const workflow::Actor&, const xinfang::v1::GetServerInfoRequest&) {
  xinfang::v1::GetServerInfoResponse r;
  r.set_version(XINFANG_VERSION);
  *r.mutable_now() = xinfang::ToProto(core_.clock().Now());
  r.set_simulated_clock(core_.clock().simulated());
  r.set_time_zone(core_.config().time_zone);
  for (const auto& k : core_.definitions().Keys()) r.add_workflows(k);
  for (const auto& s : services_) r.add_services(s);
  return r;
}

absl::StatusOr<xinfang::v1::AdvanceClockResponse> Admin::AdvanceClock(
    const workflow::Actor&, const xinfang::v1::AdvanceClockRequest& req) {
  SimulatedClock* clock = core_.simulated_clock();
  if (clock == nullptr) {
    return absl::FailedPreconditionError(
        "the server runs on the real clock: start it with --simulated-clock");
  }
  if (req.seconds() < 0 || req.seconds() > 366LL * 86400) {
    return absl::InvalidArgumentError("seconds: must be 0 .. one year");
  }
  xinfang::v1::AdvanceClockResponse r;
  *r.mutable_now() = xinfang::ToProto(clock->Advance(absl::Seconds(req.seconds())));
  core_.ClockAdvanced();
  return r;
}

absl::StatusOr<storage::Account> Admin::AccountInScope(const workflow::Actor& actor,
                                                       const std::string& field,
                                                       const std::string& name) {
  if (name.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  auto account = core_.identity().GetAccount(name);
  if (!account.ok()) return account.status();
  auto org = core_.Org();
  if (!org.ok()) return org.status();
  const std::string scope = ScopeOf(actor);
  if (!scope.empty() && !(*org)->IsWithin(account->unit, scope)) {
    return absl::PermissionDeniedError(absl::StrCat("account '", name, "' belongs to unit ",
                                                    account->unit, ", outside your unit ", scope));
  }
  if (auto s = CheckReach(actor, RoleFromName(account->role), **org,
                          absl::StrCat("account '", name, "'"));
      !s.ok()) {
    return s;
  }
  return account;
}

absl::StatusOr<xinfang::v1::WhoAmIResponse> Admin::WhoAmI(const workflow::Actor& actor,
                                                          const xinfang::v1::WhoAmIRequest&) {
  auto account = core_.identity().GetAccount(actor.account);
  if (!account.ok()) return account.status();
  xinfang::v1::WhoAmIResponse r;
  *r.mutable_account() = ToProto(*account);
  return r;
}

absl::StatusOr<xinfang::v1::CreateAccountResponse> Admin::CreateAccount(
    const workflow::Actor& actor, const xinfang::v1::CreateAccountRequest& req) {
  const xinfang::v1::Account& in = req.account();
  if (auto s = CheckAccountName("account.name", in.name()); !s.ok()) return s;
  if (auto s = CheckText("account.display_name", in.display_name(), 64, false); !s.ok()) {
    return s;
  }
  if (!in.email().empty() && !IsEmailAddress(in.email())) {
    return absl::InvalidArgumentError("account.email: not an e-mail address");
  }
  if (in.role() == xinfang::v1::ROLE_UNSPECIFIED || in.role() == xinfang::v1::ROLE_SYSTEM ||
      in.role() == xinfang::v1::ROLE_PETITIONER || !xinfang::v1::Role_IsValid(in.role())) {
    return absl::InvalidArgumentError(
        "account.role: one of intake_clerk, case_officer, unit_head, supervisor, "
        "administrator, auditor, service");
  }
  auto org = core_.Org();
  if (!org.ok()) return org.status();
  auto unit = ScopedUnit(actor, "account.unit", in.unit(), **org);
  if (!unit.ok()) return unit.status();
  if (unit->empty()) return absl::InvalidArgumentError("account.unit: required");
  if (auto s = CheckReach(actor, in.role(), **org, "account.role"); !s.ok()) return s;
  storage::Account account;
  account.name = in.name();
  account.display_name = in.display_name();
  account.role = RoleName(in.role());
  account.unit = *unit;
  account.created_at = core_.clock().Now();
  account.created_by = actor.account;
  account.email = in.email();
  if (auto s = core_.identity().CreateAccount(account); !s.ok()) return s;
  xinfang::v1::CreateAccountResponse r;
  *r.mutable_account() = ToProto(account);
  return r;
}

absl::StatusOr<xinfang::v1::ListAccountsResponse> Admin::ListAccounts(
    const workflow::Actor& actor, const xinfang::v1::ListAccountsRequest& req) {
  auto org = core_.Org();
  if (!org.ok()) return org.status();
  if (!req.unit().empty()) {
    if (auto u = ScopedUnit(actor, "unit", req.unit(), **org); !u.ok()) return u.status();
  }
  auto accounts = core_.identity().ListAccounts(req.unit());
  if (!accounts.ok()) return accounts.status();
  const std::string scope = ScopeOf(actor);
  xinfang::v1::ListAccountsResponse r;
  for (const storage::Account& acc : *accounts) {
    if (scope.empty() || (*org)->IsWithin(acc.unit, scope)) *r.add_accounts() = ToProto(acc);
  }
  return r;
}

absl::StatusOr<xinfang::v1::SetAccountDisabledResponse> Admin::SetAccountDisabled(
    const workflow::Actor& actor, const xinfang::v1::SetAccountDisabledRequest& req) {
  auto account = AccountInScope(actor, "name", req.name());
  if (!account.ok()) return account.status();
  if (req.disabled() && account->name == actor.account) {
    return absl::FailedPreconditionError(
        "name: you cannot disable your own account (ask another administrator)");
  }
  std::optional<absl::Time> at;
  if (req.disabled()) at = core_.clock().Now();
  if (auto s = core_.identity().SetDisabled(account->name, at); !s.ok()) return s;
  account->disabled_at = at;
  xinfang::v1::SetAccountDisabledResponse r;
  *r.mutable_account() = ToProto(*account);
  return r;
}

absl::StatusOr<xinfang::v1::SetAccountDisabledResponse> Admin::SetAccountEmail(
    const workflow::Actor& actor, const xinfang::v1::SetAccountEmailRequest& req) {
  if (!req.email().empty() && !IsEmailAddress(req.email())) {
    return absl::InvalidArgumentError("email: not an e-mail address");
  }
  auto account = AccountInScope(actor, "name", req.name());
  if (!account.ok()) return account.status();
  if (auto s = core_.identity().SetEmail(account->name, req.email()); !s.ok()) return s;
  account->email = req.email();
  xinfang::v1::SetAccountDisabledResponse r;
  *r.mutable_account() = ToProto(*account);
  return r;
}

absl::StatusOr<xinfang::v1::IssueTokenResponse> Admin::IssueToken(
    const workflow::Actor& actor, const xinfang::v1::IssueTokenRequest& req) {
  if (req.ttl_days() < 0 || req.ttl_days() > 366) {
    return absl::InvalidArgumentError("ttl_days: 1 to 366 (0: the default, 90)");
  }
  if (auto s = CheckText("label", req.label(), 100, false); !s.ok()) return s;
  auto account = AccountInScope(actor, "account", req.account());
  if (!account.ok()) return account.status();
  const absl::Time now = core_.clock().Now();
  const int days = req.ttl_days() > 0 ? req.ttl_days() : 90;
  auto token = core_.identity().IssueToken(account->name, req.label(), actor.account, now,
                                           now + absl::Hours(24 * days));
  if (!token.ok()) return token.status();
  xinfang::v1::IssueTokenResponse r;
  *r.mutable_token() = ToProto(token->info, now);
  r.set_secret(token->secret);
  return r;
}

absl::StatusOr<xinfang::v1::RevokeTokenResponse> Admin::RevokeToken(
    const workflow::Actor& actor, const xinfang::v1::RevokeTokenRequest& req) {
  if (req.token_id() <= 0) return absl::InvalidArgumentError("token_id: required");
  auto token = core_.identity().GetToken(req.token_id());
  if (!token.ok()) return token.status();
  if (auto acc = AccountInScope(actor, "token_id", token->account); !acc.ok()) return acc.status();
  const absl::Time now = core_.clock().Now();
  auto revoked = core_.identity().RevokeToken(req.token_id(), now);
  if (!revoked.ok()) return revoked.status();
  xinfang::v1::RevokeTokenResponse r;
  *r.mutable_token() = ToProto(*revoked, now);
  return r;
}

absl::StatusOr<xinfang::v1::ListTokensResponse> Admin::ListTokens(
    const workflow::Actor& actor, const xinfang::v1::ListTokensRequest& req) {
  if (!req.account().empty()) {
    if (auto acc = AccountInScope(actor, "account", req.account()); !acc.ok()) {
      return acc.status();
    }
  }
  auto org = core_.Org();
  if (!org.ok()) return org.status();
  auto accounts = core_.identity().ListAccounts("");
  if (!accounts.ok()) return accounts.status();
  std::map<std::string, std::string> unit_of;
  for (const auto& acc : *accounts) unit_of[acc.name] = acc.unit;
  auto tokens = core_.identity().ListTokens(req.account());
  if (!tokens.ok()) return tokens.status();
  const std::string scope = ScopeOf(actor);
  const absl::Time now = core_.clock().Now();
  xinfang::v1::ListTokensResponse r;
  for (const storage::TokenInfo& t : *tokens) {
    if (scope.empty() || (*org)->IsWithin(unit_of[t.account], scope)) {
      *r.add_tokens() = ToProto(t, now);
    }
  }
  return r;
}

absl::StatusOr<xinfang::v1::ListAccessLogResponse> Admin::ListAccessLog(
    const workflow::Actor&, const xinfang::v1::ListAccessLogRequest& req) {
  if (req.page_size() < 0 || req.page_size() > 1000) {
    return absl::InvalidArgumentError("page_size: 1 to 1000 (0: the default, 100)");
  }
  storage::AccessFilter f;
  f.account = req.account();
  f.limit = (req.page_size() > 0 ? req.page_size() : 100) + 1;
  if (!req.tracking_number().empty()) {
    xinfang::v1::CaseRef ref;
    ref.set_tracking_number(req.tracking_number());
    auto rec = LoadCase(core_.store(), ref);
    if (!rec.ok()) return rec.status();
    f.case_id = rec->id;
  }
  if (!req.page_token().empty() &&
      (!absl::SimpleAtoi(req.page_token(), &f.before_id) || f.before_id <= 0)) {
    return absl::InvalidArgumentError("page_token: not a token this service gave out");
  }
  auto entries = core_.identity().ListAccess(f);
  if (!entries.ok()) return entries.status();
  xinfang::v1::ListAccessLogResponse r;
  const int page = f.limit - 1;
  for (int i = 0; i < static_cast<int>(entries->size()) && i < page; ++i) {
    const storage::AccessEntry& e = (*entries)[i];
    xinfang::v1::AccessLogEntry* out = r.add_entries();
    out->set_id(e.id);
    *out->mutable_at() = xinfang::ToProto(e.record.at);
    out->set_account(e.record.account);
    out->set_role(RoleFromName(e.record.role));
    out->set_unit(e.record.unit);
    out->set_rpc(e.record.rpc);
    out->set_case_id(e.record.case_id);
    out->set_tracking_number(e.tracking_number);
  }
  if (static_cast<int>(entries->size()) > page) {
    r.set_next_page_token(absl::StrCat((*entries)[page - 1].id));
  }
  return r;
}

absl::StatusOr<xinfang::v1::SetPasswordResponse> Admin::SetPassword(
    const workflow::Actor& actor, const xinfang::v1::SetPasswordRequest& req) {
  auto account = AccountInScope(actor, "account", req.account());
  if (!account.ok()) return account.status();
  if (account->role == "service") {
    return absl::FailedPreconditionError(
        "account: a service account uses bearer tokens, not a password");
  }
  if (auto s = CheckNewPassword("password", account->name, req.password()); !s.ok()) return s;
  auto hash = HashPassword(req.password());
  if (!hash.ok()) return hash.status();
  // Whoever it is set for chooses their own at the first sign-in.
  if (auto s = core_.identity().SetPassword(account->name, *hash, account->name != actor.account,
                                            core_.clock().Now());
      !s.ok()) {
    return s;
  }
  xinfang::v1::SetPasswordResponse r;
  *r.mutable_account() = ToProto(*account);
  return r;
}

absl::StatusOr<xinfang::v1::SignInResponse> Admin::PasswordSignIn(
    const std::string& peer, const std::string& account, const std::string& password,
    const std::string* new_password) {
  const char* pw_field = new_password ? "current_password" : "password";
  if (account.empty() || account.size() > 64) {
    return absl::InvalidArgumentError("account: required");
  }
  if (password.empty() || password.size() > 512) {
    return absl::InvalidArgumentError(absl::StrCat(pw_field, ": required"));
  }
  if (auto s = core_.auth().CheckSignIn(account, peer); !s.ok()) return s;
  auto stored = core_.identity().GetPassword(account);
  if (!stored.ok() && stored.status().code() != absl::StatusCode::kNotFound) return stored.status();
  const bool right = VerifyPassword(stored.ok() ? stored->hash : "", password);
  if (!right) {
    core_.auth().FailedSignIn(account, peer);
    return absl::UnauthenticatedError("wrong account or password");
  }
  if (stored->account.disabled_at.has_value()) {
    return absl::UnauthenticatedError(absl::StrCat("account '", account, "' is disabled"));
  }
  const absl::Time now = core_.clock().Now();
  xinfang::v1::SignInResponse r;
  *r.mutable_account() = ToProto(stored->account);
  if (new_password != nullptr) {
    if (auto s = CheckNewPassword("new_password", account, *new_password); !s.ok()) return s;
    if (*new_password == password) {
      return absl::InvalidArgumentError("new_password: the same as the current one");
    }
    auto hash = HashPassword(*new_password);
    if (!hash.ok()) return hash.status();
    if (auto s = core_.identity().SetPassword(account, *hash, false, now); !s.ok()) return s;
  } else if (stored->must_change) {
    r.set_password_change_required(true);
    return r;
  }
  const ServerConfig& config = core_.config();
  auto session = core_.identity().IssueSession(account, now,
                                               now + absl::Hours(config.session_max_hours),
                                               absl::Minutes(config.session_idle_minutes));
  if (!session.ok()) return session.status();
  r.set_secret(session->secret);
  *r.mutable_token() = ToProto(session->info, now);
  r.set_idle_minutes(config.session_idle_minutes);
  return r;
}

absl::StatusOr<xinfang::v1::SignInResponse> Admin::SignIn(const xinfang::v1::SignInRequest& req,
                                                          const std::string& peer) {
  return PasswordSignIn(peer, req.account(), req.password(), nullptr);
}

absl::StatusOr<xinfang::v1::SignInResponse> Admin::ChangePassword(
    const xinfang::v1::ChangePasswordRequest& req, const std::string& peer) {
  return PasswordSignIn(peer, req.account(), req.current_password(), &req.new_password());
}

absl::StatusOr<xinfang::v1::SignOutResponse> Admin::SignOut(const workflow::Actor&,
                                                            const std::string& secret) {
  if (auto s = core_.identity().RevokeSecret(secret, core_.clock().Now()); !s.ok()) return s;
  return xinfang::v1::SignOutResponse();
}

namespace {

void Fill(const storage::RefRow& row, xinfang::v1::RefItem* item) {
  item->set_code(row.code);
  item->set_name(row.name);
  item->set_parent(row.parent);
  item->set_active(row.active);
}

// The code and name every reference item needs.
absl::Status CheckRefItem(const std::string& code, const std::string& name,
                          const std::string& parent) {
  if (auto s = CheckCode("code", code); !s.ok()) return s;
  if (auto s = CheckText("name", name, 64, false); !s.ok()) return s;
  if (name.empty()) return absl::InvalidArgumentError("name: required");
  if (!parent.empty()) {
    if (auto s = CheckCode("parent", parent); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// Whether the actor's scope is the whole tree (an account of the top unit).
bool AtTop(const workflow::Actor& actor, const workflow::MapOrgTree& org) {
  const std::string scope = ScopeOf(actor);
  if (scope.empty()) return true;
  auto parent = org.Parent(scope);
  return !parent.has_value() || parent->empty();
}

}  // namespace

absl::StatusOr<xinfang::v1::ListReferenceDataResponse> Admin::ListReferenceData(
    const workflow::Actor&, const xinfang::v1::ListReferenceDataRequest& req) {
  auto lists = storage::ListReference(core_.pool(), req.include_inactive());
  if (!lists.ok()) return lists.status();
  xinfang::v1::ListReferenceDataResponse r;
  for (const auto& row : lists->units) Fill(row, r.add_units());
  for (const auto& row : lists->categories) Fill(row, r.add_categories());
  return r;
}

absl::StatusOr<xinfang::v1::PutUnitResponse> Admin::PutUnit(
    const workflow::Actor& actor, const xinfang::v1::PutUnitRequest& req) {
  if (auto s = CheckRefItem(req.code(), req.name(), req.parent()); !s.ok()) return s;
  auto org = core_.Org();
  if (!org.ok()) return org.status();
  // An existing unit must be in the administrator's subtree; a new one
  // goes under a parent that is.
  const bool exists = (*org)->Contains(req.code());
  const std::string& anchor = exists ? req.code() : req.parent();
  if (!anchor.empty()) {
    auto scoped = ScopedUnit(actor, exists ? "code" : "parent", anchor, **org);
    if (!scoped.ok()) return scoped.status();
  } else if (!AtTop(actor, **org)) {
    return absl::PermissionDeniedError("parent: required (a unit of your subtree)");
  }
  auto put = storage::PutUnit(core_.pool(), {req.code(), req.name(), req.parent(), true});
  if (!put.ok()) return put.status();
  core_.ReferenceChanged();
  LogInfo(absl::StrCat("unit ", put->row.code, put->created ? " added under " : " renamed, under ",
                       put->row.parent.empty() ? "(top)" : put->row.parent, " by ",
                       actor.account));
  xinfang::v1::PutUnitResponse r;
  Fill(put->row, r.mutable_unit());
  r.set_created(put->created);
  return r;
}

absl::StatusOr<xinfang::v1::PutCategoryResponse> Admin::PutCategory(
    const workflow::Actor& actor, const xinfang::v1::PutCategoryRequest& req) {
  if (auto s = CheckRefItem(req.code(), req.name(), req.parent()); !s.ok()) return s;
  auto org = core_.Org();
  if (!org.ok()) return org.status();
  // Categories are the whole office's: the top unit's administrators keep them.
  if (!AtTop(actor, **org)) {
    return absl::PermissionDeniedError(absl::StrCat(
        "code: categories are kept by an administrator of the top unit, not of ", actor.unit));
  }
  auto put = storage::PutCategory(core_.pool(),
                                  {req.code(), req.name(), req.parent(), req.active()});
  if (!put.ok()) return put.status();
  core_.ReferenceChanged();
  LogInfo(absl::StrCat("category ", put->row.code, put->created ? " added" : " changed",
                       put->row.active ? "" : " (retired)", " by ", actor.account));
  xinfang::v1::PutCategoryResponse r;
  Fill(put->row, r.mutable_category());
  r.set_created(put->created);
  return r;
}

absl::StatusOr<xinfang::v1::MigrateCasesResponse> Admin::MigrateCases(
    const workflow::Actor& actor, const xinfang::v1::MigrateCasesRequest& req) {
  auto org = core_.Org();
  if (!org.ok()) return org.status();
  // The procedure is the whole office's: so are its versions.
  if (!AtTop(actor, **org)) {
    return absl::PermissionDeniedError(absl::StrCat(
        "cases are moved between procedure versions by an administrator of the top unit, not of ",
        actor.unit));
  }
  const std::string workflow = req.workflow().empty() ? kDefaultWorkflow : req.workflow();
  if (req.from_version() <= 0) return absl::InvalidArgumentError("from_version: required");
  const workflow::Engine* from = core_.EngineFor(workflow, req.from_version());
  if (from == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("from_version: ", workflow, "@",
                                                   req.from_version(), " is not loaded"));
  }
  int to_version = req.to_version();
  if (to_version == 0) {
    auto latest = core_.definitions().Latest(workflow);
    if (!latest.ok()) return latest.status();
    to_version = (*latest)->version();
  }
  const workflow::Engine* to = core_.EngineFor(workflow, to_version);
  if (to == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("to_version: ", workflow, "@", to_version, " is not loaded"));
  }
  if (to_version == req.from_version()) {
    return absl::InvalidArgumentError("to_version: the same as from_version");
  }
  const int limit = req.limit() == 0 ? 500 : req.limit();
  if (auto s = CheckRange("limit", limit, 1, 5000, " (0: the default, 500)"); !s.ok()) return s;
  const std::map<std::string, std::string> states(req.states().begin(), req.states().end());
  for (const auto& [old_state, new_state] : states) {
    if (from->definition().FindState(old_state) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("states: \"", old_state, "\" is no state of ",
                                                     from->definition().key()));
    }
    if (to->definition().FindState(new_state) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("states: \"", new_state, "\" is no state of ",
                                                     to->definition().key()));
    }
  }

  xinfang::v1::MigrateCasesResponse resp;
  resp.set_from(from->definition().key());
  resp.set_to(to->definition().key());
  resp.set_last_id(req.after_id());
  int looked = 0;
  while (looked < limit) {
    auto ids = core_.store().OpenCasesOf(workflow, req.from_version(), resp.last_id(),
                                         std::min(100, limit - looked));
    if (!ids.ok()) return ids.status();
    if (ids->empty()) break;
    for (int64_t id : *ids) {
      ++looked;
      resp.set_last_id(id);
      // A change that wins the race since the read is read again.
      absl::Status moved;
      std::string tracking;
      for (int attempt = 0; attempt < 3; ++attempt) {
        auto rec = core_.store().Get(id);
        if (!rec.ok()) return rec.status();
        tracking = rec->tracking_number;
        if (rec->snapshot.workflow_version != req.from_version()) {  // moved meanwhile
          moved = absl::AlreadyExistsError("moved meanwhile");
          break;
        }
        const absl::Time now = core_.clock().Now();
        auto decision = workflow::Engine::Migrate(rec->snapshot, *to, states, now);
        if (!decision.ok()) {
          moved = decision.status();
          break;
        }
        if (req.dry_run()) {
          moved = absl::OkStatus();
          break;
        }
        auto applied = core_.store().Apply(id, rec->version, *decision, actor, now);
        moved = applied.status();
        if (!absl::IsAborted(moved)) break;
      }
      if (moved.ok()) {
        resp.set_migrated(resp.migrated() + 1);
      } else if (!absl::IsAlreadyExists(moved)) {
        if (!absl::IsFailedPrecondition(moved) && !absl::IsAborted(moved)) return moved;
        xinfang::v1::MigrationRefusal* r = resp.add_refused();
        r->set_tracking_number(tracking);
        r->set_reason(std::string(moved.message()));
      }
    }
  }
  auto rest = core_.store().OpenCasesOf(workflow, req.from_version(), resp.last_id(), 1);
  if (!rest.ok()) return rest.status();
  resp.set_more(!rest->empty());
  if (!req.dry_run() && resp.migrated() > 0) {
    LogInfo(absl::StrCat(resp.migrated(), " case(s) moved from ", resp.from(), " to ", resp.to(),
                         " by ", actor.account));
  }
  return resp;
}

grpc::Status AdminServiceImpl::MigrateCases(grpc::ServerContext* ctx,
                                            const xinfang::v1::MigrateCasesRequest* req,
                                            xinfang::v1::MigrateCasesResponse* resp) {
  return Serve("MigrateCases", core_, ctx, resp,
               [&](const workflow::Actor& a) { return admin_.MigrateCases(a, *req); });
}

grpc::Status AdminServiceImpl::GetServerInfo(grpc::ServerContext* ctx,
                                             const xinfang::v1::GetServerInfoRequest* req,
                                             xinfang::v1::GetServerInfoResponse* resp) {
  return Serve("GetServerInfo", core_, ctx, resp,
               [&](const workflow::Actor& a) { return admin_.GetServerInfo(a, *req); });
}

grpc::Status AdminServiceImpl::AdvanceClock(grpc::ServerContext* ctx,
                                            const xinfang::v1::AdvanceClockRequest* req,
                                            xinfang::v1::AdvanceClockResponse* resp) {
  return Serve("AdvanceClock", core_, ctx, resp,
               [&](const workflow::Actor& a) { return admin_.AdvanceClock(a, *req); });
}

grpc::Status AdminServiceImpl::WhoAmI(grpc::ServerContext* ctx,
                                      const xinfang::v1::WhoAmIRequest* req,
                                      xinfang::v1::WhoAmIResponse* resp) {
  return Serve("WhoAmI", core_, ctx, resp,
               [&](const workflow::Actor& a) { return admin_.WhoAmI(a, *req); });
}

grpc::Status AdminServiceImpl::SetAccountEmail(grpc::ServerContext* ctx,
                                               const xinfang::v1::SetAccountEmailRequest* req,
                                               xinfang::v1::SetAccountDisabledResponse* resp) {
  return Serve("SetAccountEmail", core_, ctx, resp,
               [&](const workflow::Actor& a) { return admin_.SetAccountEmail(a, *req); });
}

grpc::Status AdminServiceImpl::CreateAccount(grpc::ServerContext* ctx,
                                             const xinfang::v1::CreateAccountRequest* req,
                                             xinfang::v1::CreateAccountResponse* resp) {
  return Serve("CreateAccount", core_, ctx, resp,
               [&](const workflow::Actor& a) { return admin_.CreateAccount(a, *req); });
}

grpc::Status AdminServiceImpl::ListAccounts(grpc::ServerContext* ctx,
                                            const xinfang::v1::ListAccountsRequest* req,
                                            xinfang::v1::ListAccountsResponse* resp) {
  return Serve("ListAccounts", core_, ctx, resp,
               [&](const workflow::Actor& a) { return admin_.ListAccounts(a, *req); });
}

grpc::Status AdminServiceImpl::SetAccountDisabled(
    grpc::ServerContext* ctx, const xinfang::v1::SetAccountDisabledRequest* req,
    xinfang::v1::SetAccountDisabledResponse* resp) {
  return Serve("SetAccountDisabled", core_, ctx, resp,
               [&](const workflow::Actor& a) { return admin_.SetAccountDisabled(a, *req); });
}

grpc::Status AdminServiceImpl::IssueToken(grpc::ServerContext* ctx,
                                          const xinfang::v1::IssueTokenRequest* req,
                                          xinfang::v1::IssueTokenResponse* resp) {
  return Serve("IssueToken", core_, ctx, resp,
               [&](const workflow::Actor& a) { return admin_.IssueToken(a, *req); });
}

grpc::Status AdminServiceImpl::RevokeToken(grpc::ServerContext* ctx,
                                           const xinfang::v1::RevokeTokenRequest* req,
                                           xinfang::v1::RevokeTokenResponse* resp) {
  return Serve("RevokeToken", core_, ctx, resp,
               [&](const workflow::Actor& a) { return admin_.RevokeToken(a, *req); });
}

grpc::Status AdminServiceImpl::ListTokens(grpc::ServerContext* ctx,
                                          const xinfang::v1::ListTokensRequest* req,
                                          xinfang::v1::ListTokensResponse* resp) {
  return Serve("ListTokens", core_, ctx, resp,
               [&](const workflow::Actor& a) { return admin_.ListTokens(a, *req); });
}

grpc::Status AdminServiceImpl::ListAccessLog(grpc::ServerContext* ctx,
                                             const xinfang::v1::ListAccessLogRequest* req,
                                             xinfang::v1::ListAccessLogResponse* resp) {
  return Serve("ListAccessLog", core_, ctx, resp,
               [&](const workflow::Actor& a) { return admin_.ListAccessLog(a, *req); });
}

grpc::Status AdminServiceImpl::SetPassword(grpc::ServerContext* ctx,
                                           const xinfang::v1::SetPasswordRequest* req,
                                           xinfang::v1::SetPasswordResponse* resp) {
  return Serve("SetPassword", core_, ctx, resp,
               [&](const workflow::Actor& a) { return admin_.SetPassword(a, *req); });
}

// SignIn and ChangePassword admit nobody: the password is the credential.
grpc::Status AdminServiceImpl::SignIn(grpc::ServerContext* ctx,
                                      const xinfang::v1::SignInRequest* req,
                                      xinfang::v1::SignInResponse* resp) {
  return ServeOpen("SignIn", resp, [&] { return admin_.SignIn(*req, PeerOf(*ctx)); });
}

grpc::Status AdminServiceImpl::ChangePassword(grpc::ServerContext* ctx,
                                              const xinfang::v1::ChangePasswordRequest* req,
                                              xinfang::v1::SignInResponse* resp) {
  return ServeOpen("ChangePassword", resp,
                   [&] { return admin_.ChangePassword(*req, PeerOf(*ctx)); });
}

grpc::Status AdminServiceImpl::SignOut(grpc::ServerContext* ctx,
                                       const xinfang::v1::SignOutRequest*,
                                       xinfang::v1::SignOutResponse* resp) {
  return Serve("SignOut", core_, ctx, resp,
               [&](const workflow::Actor& a) { return admin_.SignOut(a, BearerTokenOf(*ctx)); });
}

grpc::Status AdminServiceImpl::ListReferenceData(grpc::ServerContext* ctx,
                                                 const xinfang::v1::ListReferenceDataRequest* req,
                                                 xinfang::v1::ListReferenceDataResponse* resp) {
  return Serve("ListReferenceData", core_, ctx, resp,
               [&](const workflow::Actor& a) { return admin_.ListReferenceData(a, *req); });
}

grpc::Status AdminServiceImpl::PutUnit(grpc::ServerContext* ctx,
                                       const xinfang::v1::PutUnitRequest* req,
                                       xinfang::v1::PutUnitResponse* resp) {
  return Serve("PutUnit", core_, ctx, resp,
               [&](const workflow::Actor& a) { return admin_.PutUnit(a, *req); });
}

grpc::Status AdminServiceImpl::PutCategory(grpc::ServerContext* ctx,
                                           const xinfang::v1::PutCategoryRequest* req,
                                           xinfang::v1::PutCategoryResponse* resp) {
  return Serve("PutCategory", core_, ctx, resp,
               [&](const workflow::Actor& a) { return admin_.PutCategory(a, *req); });
}

}  // namespace xinfang::admin
