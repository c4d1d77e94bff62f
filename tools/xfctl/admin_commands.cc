// xfctl clock, info, whoami and admin …: AdminService (every server process
// hosts it): the clock, what the server runs, accounts, tokens, units and
// categories, the access log.
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "tools/xfctl/client.h"
#include "tools/xfctl/command.h"
#include "tools/xfctl/print.h"
#include "tools/xfctl/text.h"
#include "xinfang/v1/admin.grpc.pb.h"

namespace xinfang::xfctl {
namespace {

namespace v1 = xinfang::v1;

CommandResult ClockAdvance(Context& ctx, const Args& a) {
  if (a.positional.empty()) {
    return absl::InvalidArgumentError("clock advance: give a duration, e.g. 36h or 15d");
  }
  std::string d = a.positional[0];
  absl::Duration dur;
  if (!d.empty() && d.back() == 'd') {
    int days = 0;
    if (!absl::SimpleAtoi(d.substr(0, d.size() - 1), &days)) {
      return absl::InvalidArgumentError("clock advance: bad duration");
    }
    dur = absl::Hours(24 * days);
  } else if (!absl::ParseDuration(d, &dur)) {
    return absl::InvalidArgumentError("clock advance: bad duration (e.g. 90m, 36h, 15d)");
  }
  v1::AdvanceClockRequest req;
  req.set_seconds(absl::ToInt64Seconds(dur));
  auto resp = ctx.client.Call(&v1::AdminService::Stub::AdvanceClock, req);
  if (!resp.ok()) return resp.status();
  if (ctx.global.json) return PrintJson(*resp);
  std::cout << "server clock now " << Local(resp->now()) << " (Asia/Shanghai)\n";
  return 0;
}

CommandResult Info(Context& ctx, const Args&) {
  auto resp = ctx.client.Call(&v1::AdminService::Stub::GetServerInfo, v1::GetServerInfoRequest());
  if (!resp.ok()) return resp.status();
  if (ctx.global.json) return PrintJson(*resp);
  std::cout << Table({{"version", resp->version()},
                      {"now", absl::StrCat(Local(resp->now()),
                                           resp->simulated_clock() ? " (simulated)" : "")},
                      {"time zone", resp->time_zone()},
                      {"workflows", absl::StrJoin(resp->workflows(), ", ")},
                      {"services", absl::StrJoin(resp->services(), ", ")}});
  return 0;
}

std::string RoleLabel(v1::Role r) {
  std::string name = v1::Role_Name(r);
  absl::string_view v = name;
  absl::ConsumePrefix(&v, "ROLE_");
  return absl::AsciiStrToLower(v);
}

absl::StatusOr<v1::Role> RoleFlag(const std::string& name) {
  v1::Role r = v1::ROLE_UNSPECIFIED;
  if (!v1::Role_Parse("ROLE_" + absl::AsciiStrToUpper(name), &r) || r == v1::ROLE_UNSPECIFIED ||
      r == v1::ROLE_SYSTEM || r == v1::ROLE_PETITIONER) {
    return absl::InvalidArgumentError(
        absl::StrCat("--role: '", name, "' is not one of intake_clerk, case_officer, unit_head, ",
                     "supervisor, administrator, auditor, service"));
  }
  return r;
}

std::vector<std::string> AccountRow(const v1::Account& a) {
  return {a.name(), RoleLabel(a.role()), a.unit(), a.display_name(),
          a.disabled() ? "disabled" : "active"};
}

CommandResult WhoAmI(Context& ctx, const Args&) {
  auto resp = ctx.client.Call(&v1::AdminService::Stub::WhoAmI, v1::WhoAmIRequest());
  if (!resp.ok()) return resp.status();
  if (ctx.global.json) return PrintJson(*resp);
  std::cout << Table(
      {{"account", "role", "unit", "name", "status"}, AccountRow(resp->account())});
  return 0;
}

std::string TokenState(const v1::Token& t) {
  if (t.revoked()) return absl::StrCat("revoked ", Local(t.revoked_at()));
  if (t.expired()) return "expired";
  return "active";
}

// The account name or other argument after the verb ("" if none).
std::string Arg(const Args& a) { return a.positional.empty() ? "" : a.positional[0]; }

CommandResult AccountCreate(Context& ctx, const Args& a) {
  const std::string name = Arg(a);
  if (name.empty()) {
    return absl::InvalidArgumentError("admin account create: give the account name");
  }
  absl::StatusOr<v1::Role> role = RoleFlag(a.Get("role"));
  if (!role.ok()) return role.status();
  v1::CreateAccountRequest req;
  req.mutable_account()->set_name(name);
  req.mutable_account()->set_role(*role);
  req.mutable_account()->set_unit(a.Get("unit"));
  req.mutable_account()->set_display_name(a.Get("display-name"));
  req.mutable_account()->set_email(a.Get("email"));
  auto resp = ctx.client.Call(&v1::AdminService::Stub::CreateAccount, req);
  if (!resp.ok()) return resp.status();
  if (ctx.global.json) return PrintJson(*resp);
  std::cout << "created " << resp->account().name() << " (" << RoleLabel(resp->account().role())
            << ", " << resp->account().unit() << ")\n";
  return 0;
}

CommandResult AccountEmail(Context& ctx, const Args& a) {
  if (a.positional.size() != 2) {
    return absl::InvalidArgumentError("admin account email: NAME ADDRESS (\"\" clears it)");
  }
  v1::SetAccountEmailRequest req;
  req.set_name(a.positional[0]);
  req.set_email(a.positional[1]);
  auto resp = ctx.client.Call(&v1::AdminService::Stub::SetAccountEmail, req);
  if (!resp.ok()) return resp.status();
  if (ctx.global.json) return PrintJson(*resp);
  std::cout << resp->account().name() << ": "
            << (resp->account().email().empty() ? "no e-mail" : resp->account().email()) << "\n";
  return 0;
}

CommandResult AccountList(Context& ctx, const Args& a) {
  v1::ListAccountsRequest req;
  req.set_unit(a.Get("unit"));
  auto resp = ctx.client.Call(&v1::AdminService::Stub::ListAccounts, req);
  if (!resp.ok()) return resp.status();
  if (ctx.global.json) return PrintJson(*resp);
  std::vector<std::vector<std::string>> rows = {{"account", "role", "unit", "name", "status"}};
  for (const auto& acc : resp->accounts()) rows.push_back(AccountRow(acc));
  std::cout << Table(rows);
  return 0;
}

// admin account disable|enable NAME.
CommandResult AccountDisable(Context& ctx, const Args& a, bool disable) {
  const std::string name = Arg(a);
  if (name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "admin account ", disable ? "disable" : "enable", ": give the account name"));
  }
  v1::SetAccountDisabledRequest req;
  req.set_name(name);
  req.set_disabled(disable);
  auto resp = ctx.client.Call(&v1::AdminService::Stub::SetAccountDisabled, req);
  if (!resp.ok()) return resp.status();
  if (ctx.global.json) return PrintJson(*resp);
  std::cout << resp->account().name() << ": "
            << (resp->account().disabled() ? "disabled" : "enabled") << "\n";
  return 0;
}

CommandResult AccountPassword(Context& ctx, const Args& a) {
  const std::string name = Arg(a);
  if (name.empty()) {
    return absl::InvalidArgumentError("admin account password: give the account name");
  }
  // The password from the first line of standard input, never from argv.
  std::string pw;
  std::getline(std::cin, pw);
  if (!pw.empty() && pw.back() == '\r') pw.pop_back();
  v1::SetPasswordRequest req;
  req.set_account(name);
  req.set_password(pw);
  auto resp = ctx.client.Call(&v1::AdminService::Stub::SetPassword, req);
  if (!resp.ok()) return resp.status();
  if (ctx.global.json) return PrintJson(*resp);
  std::cout << resp->account().name() << ": password set; to be changed at the first sign-in\n";
  return 0;
}

// admin unit|category put CODE: `kind` is "unit" or "category".
CommandResult PutReference(Context& ctx, const Args& a, const std::string& kind) {
  const std::string code = Arg(a);
  if (code.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("admin ", kind, " put: give the code"));
  }
  if (!a.Has("name")) {
    return absl::InvalidArgumentError(absl::StrCat("admin ", kind, " put: --name is required"));
  }
  v1::RefItem item;
  bool created = false;
  if (kind == "unit") {
    v1::PutUnitRequest req;
    req.set_code(code);
    req.set_name(a.Get("name"));
    req.set_parent(a.Get("parent"));
    auto resp = ctx.client.Call(&v1::AdminService::Stub::PutUnit, req);
    if (!resp.ok()) return resp.status();
    if (ctx.global.json) return PrintJson(*resp);
    item = resp->unit();
    created = resp->created();
  } else {
    v1::PutCategoryRequest req;
    req.set_code(code);
    req.set_name(a.Get("name"));
    req.set_parent(a.Get("parent"));
    req.set_active(!a.Has("retire"));
    auto resp = ctx.client.Call(&v1::AdminService::Stub::PutCategory, req);
    if (!resp.ok()) return resp.status();
    if (ctx.global.json) return PrintJson(*resp);
    item = resp->category();
    created = resp->created();
  }
  std::cout << (created ? "added " : "changed ") << kind << " " << item.code() << " "
            << item.name() << (item.parent().empty() ? "" : " under " + item.parent())
            << (item.active() ? "" : " (retired)") << "\n";
  return 0;
}

CommandResult Reference(Context& ctx, const Args& a) {
  v1::ListReferenceDataRequest req;
  req.set_include_inactive(a.Has("all"));
  auto resp = ctx.client.Call(&v1::AdminService::Stub::ListReferenceData, req);
  if (!resp.ok()) return resp.status();
  if (ctx.global.json) return PrintJson(*resp);
  std::vector<std::vector<std::string>> rows = {{"kind", "code", "name", "parent", "status"}};
  for (const auto& u : resp->units())
    rows.push_back({"unit", u.code(), u.name(), u.parent(), "active"});
  for (const auto& c : resp->categories()) {
    rows.push_back({"category", c.code(), c.name(), c.parent(), c.active() ? "active" : "retired"});
  }
  std::cout << Table(rows);
  return 0;
}

CommandResult TokenIssue(Context& ctx, const Args& a) {
  const std::string account = Arg(a);
  if (account.empty()) {
    return absl::InvalidArgumentError("admin token issue: give the account name");
  }
  v1::IssueTokenRequest req;
  req.set_account(account);
  req.set_label(a.Get("label"));
  absl::StatusOr<int> days = a.Number<int>("ttl-days", 0);
  if (!days.ok()) return days.status();
  req.set_ttl_days(*days);
  auto resp = ctx.client.Call(&v1::AdminService::Stub::IssueToken, req);
  if (!resp.ok()) return resp.status();
  if (ctx.global.json) return PrintJson(*resp);
  // The secret alone on stdout (for $(…)); what it is on stderr.
  std::cerr << "token " << resp->token().id() << " for " << resp->token().account()
            << ", expires " << Local(resp->token().expires_at())
            << " (shown once: the server keeps only its hash)\n";
  std::cout << resp->secret() << "\n";
  return 0;
}

CommandResult TokenList(Context& ctx, const Args& a) {
  v1::ListTokensRequest req;
  req.set_account(Arg(a));
  auto resp = ctx.client.Call(&v1::AdminService::Stub::ListTokens, req);
  if (!resp.ok()) return resp.status();
  if (ctx.global.json) return PrintJson(*resp);
  std::vector<std::vector<std::string>> rows = {
      {"id", "account", "label", "created", "expires", "state"}};
  for (const auto& t : resp->tokens()) {
    rows.push_back({absl::StrCat(t.id()), t.account(), t.label(), Local(t.created_at()),
                    Local(t.expires_at()), TokenState(t)});
  }
  std::cout << Table(rows);
  return 0;
}

CommandResult TokenRevoke(Context& ctx, const Args& a) {
  int64_t id = 0;
  if (!absl::SimpleAtoi(Arg(a), &id)) {
    return absl::InvalidArgumentError("admin token revoke: give the token id (admin token list)");
  }
  v1::RevokeTokenRequest req;
  req.set_token_id(id);
  auto resp = ctx.client.Call(&v1::AdminService::Stub::RevokeToken, req);
  if (!resp.ok()) return resp.status();
  if (ctx.global.json) return PrintJson(*resp);
  std::cout << "token " << resp->token().id() << " of " << resp->token().account() << ": "
            << TokenState(resp->token()) << "\n";
  return 0;
}

CommandResult AccessLog(Context& ctx, const Args& a) {
  v1::ListAccessLogRequest req;
  req.set_account(a.Get("account"));
  req.set_tracking_number(a.Get("case"));
  absl::StatusOr<int> page_size = a.Number<int>("page-size", 0);
  if (!page_size.ok()) return page_size.status();
  req.set_page_size(*page_size);
  req.set_page_token(a.Get("page-token"));
  auto resp = ctx.client.Call(&v1::AdminService::Stub::ListAccessLog, req);
  if (!resp.ok()) return resp.status();
  if (ctx.global.json) return PrintJson(*resp);
  std::vector<std::vector<std::string>> rows = {{"at", "account", "role", "unit", "read", "case"}};
  for (const auto& e : resp->entries()) {
    rows.push_back({Local(e.at()), e.account(), RoleLabel(e.role()), e.unit(), e.rpc(),
                    e.tracking_number()});
  }
  std::cout << Table(rows);
  PrintNextPage(resp->next_page_token());
  return 0;
}

// `admin account|token|unit|category` without a verb it knows.
CommandResult AdminVerbs(Context&, const Args&) {
  return absl::InvalidArgumentError(
      "admin: account create|list|disable|enable, token issue|list|revoke, or access-log");
}

// Calls MigrateCases until no open case of the old version is left (each
// call a batch), then prints the totals and every case left behind.
CommandResult MigrateCasesCommand(Context& ctx, const Args& a) {
  v1::MigrateCasesRequest req;
  req.set_workflow(a.Get("workflow"));
  int from = 0, to = 0, limit = 0;
  if (!absl::SimpleAtoi(a.Get("from"), &from) || from <= 0) {
    return absl::InvalidArgumentError("--from: the version the cases are on (1, 2, …)");
  }
  if (a.Has("to") && (!absl::SimpleAtoi(a.Get("to"), &to) || to <= 0)) {
    return absl::InvalidArgumentError("--to: a version number");
  }
  if (a.Has("limit") && (!absl::SimpleAtoi(a.Get("limit"), &limit) || limit <= 0)) {
    return absl::InvalidArgumentError("--limit: cases per call, 1..5000");
  }
  req.set_from_version(from);
  req.set_to_version(to);
  req.set_limit(limit);
  req.set_dry_run(a.Has("dry-run"));
  for (const std::string& m : a.All("map")) {
    const size_t eq = m.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == m.size()) {
      return absl::InvalidArgumentError(absl::StrCat("--map ", m, ": OLD_STATE=NEW_STATE"));
    }
    (*req.mutable_states())[m.substr(0, eq)] = m.substr(eq + 1);
  }
  v1::MigrateCasesResponse total;
  for (;;) {
    auto resp = ctx.client.Call(&v1::AdminService::Stub::MigrateCases, req);
    if (!resp.ok()) return resp.status();
    total.set_from(resp->from());
    total.set_to(resp->to());
    total.set_migrated(total.migrated() + resp->migrated());
    for (const auto& r : resp->refused()) *total.add_refused() = r;
    total.set_last_id(resp->last_id());
    if (!resp->more()) break;
    req.set_after_id(resp->last_id());
  }
  if (ctx.global.json) return PrintJson(total);
  std::cout << (req.dry_run() ? "would move " : "moved ") << total.migrated()
            << " open case(s) from " << total.from() << " to " << total.to() << "\n";
  for (const auto& r : total.refused()) {
    std::cout << "  left on " << total.from() << ": " << r.tracking_number() << "  " << r.reason()
              << "\n";
  }
  return total.refused_size() == 0 ? 0 : 3;
}

}  // namespace

const std::vector<Command>& AdminCommands() {
  static const auto* const kCommands = new std::vector<Command>{
      {{"clock", "advance"}, "clock advance DURATION", "move a simulated clock (e.g. 36h, 15d)", {},
       ClockAdvance},
      {{"info"}, "info", "what the server runs", {}, Info},
      {{"whoami"}, "whoami", "the account your token belongs to", {}, WhoAmI},
      {{"admin", "account", "create"},
       "admin account create NAME --role ROLE --unit UNIT [--display-name TEXT] [--email ADDRESS]",
       "",
       {"role", "unit", "display-name", "email"},
       AccountCreate},
      {{"admin", "account", "email"},
       "admin account email NAME ADDRESS",
       "where the account's notifications go (\"\" clears it)",
       {},
       AccountEmail},
      {{"admin", "account", "list"},
       "admin account list [--unit U]",
       "accounts (of your unit and below)",
       {"unit"},
       AccountList},
      {{"admin", "account", "disable"},
       "admin account disable|enable NAME",
       "a disabled account's tokens stop working at once",
       {},
       [](Context& ctx, const Args& a) { return AccountDisable(ctx, a, true); }},
      // Listed with disable.
      {{"admin", "account", "enable"}, "", "", {},
       [](Context& ctx, const Args& a) { return AccountDisable(ctx, a, false); }},
      {{"admin", "account", "password"},
       "admin account password NAME",
       "set a person's password (read from stdin; changed at first sign-in)",
       {},
       AccountPassword},
      {{"admin", "account"}, "", "", {}, AdminVerbs},
      {{"admin", "token", "issue"},
       "admin token issue ACCOUNT [--ttl-days N] [--label TEXT]",
       "a new token: printed once, never stored by the server",
       {"ttl-days", "label"},
       TokenIssue},
      {{"admin", "token", "list"}, "admin token list [ACCOUNT]", "tokens (never their secrets)", {},
       TokenList},
      {{"admin", "token", "revoke"}, "admin token revoke ID", "refused from the next call on", {},
       TokenRevoke},
      {{"admin", "token"}, "", "", {}, AdminVerbs},
      {{"admin", "unit", "put"},
       "admin unit put CODE --name TEXT [--parent UNIT]",
       "add a unit under PARENT, or rename one (its parent is fixed)",
       {"name", "parent"},
       [](Context& ctx, const Args& a) { return PutReference(ctx, a, "unit"); }},
      {{"admin", "unit"}, "", "", {}, AdminVerbs},
      {{"admin", "category", "put"},
       "admin category put CODE --name TEXT [--parent CODE] [--retire]",
       "add or rename a category; --retire stops offering it",
       {"name", "parent", "retire"},
       [](Context& ctx, const Args& a) { return PutReference(ctx, a, "category"); }},
      {{"admin", "category"}, "", "", {}, AdminVerbs},
      {{"admin", "reference"},
       "admin reference [--all]",
       "units and categories (--all: with retired categories)",
       {"all"},
       Reference},
      {{"admin", "migrate-cases"},
       "admin migrate-cases --from N [--to N] [--map OLD=NEW]... [--dry-run] [--limit N]",
       "move the open cases of one procedure version to another (default: the latest),\n"
       "in batches until none is left; --dry-run only checks",
       {"from", "to", "map", "dry-run", "limit", "workflow"},
       MigrateCasesCommand},
      {{"admin", "access-log"},
       "admin access-log [--account A] [--case TRACKING] [--page-size N] [--page-token T]",
       "who read unmasked ID or phone numbers (auditors)",
       {"account", "case", "page-size", "page-token"},
       AccessLog},
  };
  return *kCommands;
}

}  // namespace xinfang::xfctl
