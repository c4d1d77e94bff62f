// xfctl queue and sup …: deadlines falling due and overdue, supervision
// notices (督办), the dashboard, early warnings: SupervisionService.
#include <algorithm>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "tools/xfctl/client.h"
#include "tools/xfctl/command.h"
#include "tools/xfctl/print.h"
#include "tools/xfctl/text.h"
#include "xinfang/v1/admin.grpc.pb.h"
#include "xinfang/v1/supervision.grpc.pb.h"

namespace xinfang::xfctl {
namespace {

namespace v1 = xinfang::v1;

// sup due / sup overdue / sup notice list: one page of deadlines, most urgent first.
CommandResult SupList(Context& ctx, const Args& a, bool overdue, const std::string& timer) {
  v1::ListDeadlinesRequest req;
  req.set_unit(a.Get("unit"));
  req.set_overdue_only(overdue || a.Has("overdue"));
  req.set_timer(a.Get("timer", timer));
  // Every notice awaiting a reply, however far its reply deadline.
  if (timer == "notice_reply") req.mutable_before()->set_seconds(4102444800);  // 2100-01-01
  req.set_escalated_only(a.Has("escalated"));
  absl::StatusOr<int> min_days = a.Number<int>("min-days", 0);
  if (!min_days.ok()) return min_days.status();
  req.set_min_days_overdue(*min_days);
  if (absl::Status s = SetListFlags(a, 0, req); !s.ok()) return s;
  auto resp = ctx.client.Call(&v1::SupervisionService::Stub::ListDeadlines, req);
  if (!resp.ok()) return resp.status();
  if (ctx.global.json) return PrintJson(*resp);
  std::vector<std::vector<std::string>> rows = {
      {"tracking", "owing unit", "stage", "state", "timer", "last day", "status"}};
  for (const auto& it : resp->items()) {
    const auto& d = it.deadline();
    std::string status =
        d.overdue() ? absl::StrCat("OVERDUE ", it.days_overdue(), "d") : "due soon";
    if (d.rung() > 0) absl::StrAppend(&status, ", rung ", d.rung());
    if (d.provisional()) status += ", provisional";
    rows.push_back({it.tracking_number(), it.owing_unit(), StageLabel(it.stage()), it.state(),
                    d.timer(), d.due_date(), status});
  }
  std::cout << Table(rows);
  PrintNextPage(resp->next_page_token());
  return 0;
}

// xfctl queue: every open deadline in my scope, nearest first, with the days
// left at the server's clock (the same list the console's 我的待办 shows).
CommandResult Queue(Context& ctx, const Args& a) {
  auto info = ctx.client.Call(&v1::AdminService::Stub::GetServerInfo, v1::GetServerInfoRequest());
  if (!info.ok()) return info.status();
  const absl::CivilDay today =
      absl::ToCivilDay(absl::FromUnixSeconds(info->now().seconds()), Zone());
  v1::ListDeadlinesRequest req;
  req.set_unit(a.Get("unit"));
  req.mutable_before()->set_seconds(4102444800);  // 2100-01-01: every open deadline
  if (absl::Status s = SetListFlags(a, 500, req); !s.ok()) return s;
  if (a.Has("mine") && a.Has("officer")) {
    return absl::InvalidArgumentError("--mine and --officer: give one");
  }
  if (a.Has("officer")) req.set_case_officer(a.Get("officer"));
  if (a.Has("mine")) {
    auto me = ctx.client.Call(&v1::AdminService::Stub::WhoAmI, v1::WhoAmIRequest());
    if (!me.ok()) return me.status();
    req.set_case_officer(me->account().name());
  }
  auto resp = ctx.client.Call(&v1::SupervisionService::Stub::ListDeadlines, req);
  if (!resp.ok()) return resp.status();
  std::vector<v1::DueItem> items(resp->items().begin(), resp->items().end());
  std::stable_sort(items.begin(), items.end(), [](const v1::DueItem& x, const v1::DueItem& y) {
    return x.deadline().due_date() < y.deadline().due_date();
  });
  if (ctx.global.json) {
    v1::ListDeadlinesResponse sorted;
    for (const auto& it : items) *sorted.add_items() = it;
    sorted.set_next_page_token(resp->next_page_token());
    return PrintJson(sorted);
  }
  std::vector<std::vector<std::string>> rows = {
      {"tracking", "timer", "last day", "days left", "stage", "state", "owing unit", "officer"}};
  for (const auto& it : items) {
    const auto& d = it.deadline();
    absl::CivilDay due;
    std::string left = "?";
    if (absl::ParseCivilTime(d.due_date(), &due)) left = absl::StrCat(due - today);
    if (d.overdue()) left = absl::StrCat("OVERDUE ", it.days_overdue(), "d");
    if (d.rung() > 0) absl::StrAppend(&left, ", rung ", d.rung());
    rows.push_back({it.tracking_number(), d.timer(), d.due_date(), left, StageLabel(it.stage()),
                    it.state(), it.owing_unit(),
                    it.case_officer().empty() ? "-" : it.case_officer()});
  }
  std::cout << Table(rows);
  PrintNextPage(resp->next_page_token());
  return 0;
}

CommandResult SupDashboard(Context& ctx, const Args& a) {
  v1::DashboardRequest req;
  req.set_unit(a.Get("unit"));
  req.set_recount(a.Has("recount"));
  auto resp = ctx.client.Call(&v1::SupervisionService::Stub::Dashboard, req);
  if (!resp.ok()) return resp.status();
  if (ctx.global.json) return PrintJson(*resp);
  std::vector<std::vector<std::string>> rows = {
      {"unit", "stage", "open", "due soon", "overdue", "escalated", "notices"}};
  int totals[5] = {0, 0, 0, 0, 0};
  for (const auto& r : resp->rows()) {
    rows.push_back({r.unit(), StageLabel(r.stage()), absl::StrCat(r.open_cases()),
                    absl::StrCat(r.due_soon()), absl::StrCat(r.overdue()),
                    absl::StrCat(r.escalated()), absl::StrCat(r.notices_awaiting_reply())});
    totals[0] += r.open_cases();
    totals[1] += r.due_soon();
    totals[2] += r.overdue();
    totals[3] += r.escalated();
    totals[4] += r.notices_awaiting_reply();
  }
  rows.push_back({"total", "", absl::StrCat(totals[0]), absl::StrCat(totals[1]),
                  absl::StrCat(totals[2]), absl::StrCat(totals[3]), absl::StrCat(totals[4])});
  std::cout << "as of " << Local(resp->now()) << "\n" << Table(rows);
  return 0;
}

// sup notice issue|reply: the casework actions issue_notice / reply_notice.
CommandResult SupNotice(Context& ctx, const std::string& verb, const Args& a) {
  if (a.positional.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("sup notice ", verb, ": give the tracking number"));
  }
  Args act;
  act.positional = {a.positional[0], verb == "issue" ? "issue_notice" : "reply_notice"};
  if (verb == "issue") {
    act.flags.emplace("field", "notice_kind=" + a.Get("kind", "urge"));
    act.flags.emplace("field", "notice_text=" + a.Get("text"));
    if (a.Has("reply-days")) act.flags.emplace("field", "reply_days=" + a.Get("reply-days"));
  } else {
    act.flags.emplace("field", "reply_text=" + a.Get("text"));
  }
  return CaseAct(ctx, act);
}

// Follows the event stream; with --cursor-file, resumes from the cursor saved

std::string SeverityLabel(v1::WarningSeverity s) {
  switch (s) {
    case v1::WARNING_SEVERITY_HIGH: return "红 high";
    case v1::WARNING_SEVERITY_MEDIUM: return "黄 medium";
    case v1::WARNING_SEVERITY_LOW: return "蓝 low";
    default: return "-";
  }
}

std::string WarningStateLabel(v1::WarningState s) {
  switch (s) {
    case v1::WARNING_STATE_RAISED: return "raised";
    case v1::WARNING_STATE_ACKNOWLEDGED: return "acknowledged";
    case v1::WARNING_STATE_HANDLED: return "handled";
    case v1::WARNING_STATE_CLOSED: return "closed";
    default: return "-";
  }
}

CommandResult SupWarnings(Context& ctx, const Args& a) {
  v1::ListWarningsRequest req;
  req.set_unit(a.Get("unit"));
  req.set_rule(a.Get("rule"));
  std::vector<std::string> states = a.All("state");
  if (a.Has("all")) states = {"raised", "acknowledged", "handled", "closed"};
  for (const std::string& st : states) {
    v1::WarningState v = v1::WARNING_STATE_UNSPECIFIED;
    for (auto c : {v1::WARNING_STATE_RAISED, v1::WARNING_STATE_ACKNOWLEDGED,
                   v1::WARNING_STATE_HANDLED, v1::WARNING_STATE_CLOSED}) {
      if (WarningStateLabel(c) == st) v = c;
    }
    if (v == v1::WARNING_STATE_UNSPECIFIED) {
      return absl::InvalidArgumentError("--state: raised, acknowledged, handled or closed");
    }
    req.add_states(v);
  }
  absl::StatusOr<int> page_size = a.Number<int>("page-size", 0);
  if (!page_size.ok()) return page_size.status();
  req.set_page_size(*page_size);
  req.set_page_token(a.Get("page-token"));
  auto r = ctx.client.Call(&v1::SupervisionService::Stub::ListWarnings, req);
  if (!r.ok()) return r.status();
  if (ctx.global.json) return PrintJson(*r);
  std::vector<std::vector<std::string>> rows = {
      {"id", "severity", "rule", "about", "petitions", "state", "raised", "detail"}};
  for (const auto& w : r->warnings()) {
    rows.push_back({absl::StrCat(w.id()), SeverityLabel(w.severity()), w.rule_title(),
                    w.subject_label(), absl::StrCat(w.case_count()), WarningStateLabel(w.state()),
                    Local(w.raised_at()), w.detail()});
  }
  std::cout << Table(rows);
  if (!r->next_page_token().empty()) {
    std::cout << "next page: --page-token " << r->next_page_token() << "\n";
  }
  return 0;
}

CommandResult SupWarning(Context& ctx, const Args& a) {
  if (a.positional.size() != 2) {
    return absl::InvalidArgumentError("sup warning: show|ack|handle|close ID");
  }
  const std::string verb = a.positional[0];
  int64_t id = 0;
  if (!absl::SimpleAtoi(a.positional[1], &id)) {
    return absl::InvalidArgumentError("sup warning: ID is a number");
  }
  v1::GetWarningRequest get;
  get.set_id(id);
  absl::StatusOr<v1::Warning> w = ctx.client.Call(&v1::SupervisionService::Stub::GetWarning, get);
  if (!w.ok()) return w.status();
  if (verb != "show") {
    v1::UpdateWarningRequest req;
    req.set_id(id);
    absl::StatusOr<int64_t> version = a.Number<int64_t>("version", w->version());
    if (!version.ok()) return version.status();
    req.set_expected_version(*version);
    req.set_note(a.Get("note"));
    if (verb == "ack") {
      req.set_state(v1::WARNING_STATE_ACKNOWLEDGED);
    } else if (verb == "handle") {
      req.set_state(v1::WARNING_STATE_HANDLED);
    } else if (verb == "close") {
      req.set_state(v1::WARNING_STATE_CLOSED);
    } else {
      return absl::InvalidArgumentError("sup warning: show, ack, handle or close");
    }
    w = ctx.client.Call(&v1::SupervisionService::Stub::UpdateWarning, req);
    if (!w.ok()) return w.status();
  }
  if (ctx.global.json) return PrintJson(*w);
  std::cout << Table(
      {{"预警 Warning", absl::StrCat(w->id(), " (version ", w->version(), ")")},
       {"规则 Rule", absl::StrCat(w->rule_title(), " (", w->rule(), ")")},
       {"等级 Severity", SeverityLabel(w->severity())},
       {"对象 About", w->subject_label()},
       {"状态 State", WarningStateLabel(w->state())},
       {"依据 Detail", w->detail()},
       {"时段 Window", absl::StrCat(Local(w->window_start()), " – ", Local(w->window_end()))}});
  std::vector<std::vector<std::string>> cases = {{"tracking", "received", "unit", "category"}};
  for (const auto& c : w->cases()) {
    cases.push_back(
        {c.tracking_number(), Local(c.received_at()), c.registering_unit(), c.category()});
  }
  std::cout << "\n" << Table(cases);
  std::vector<std::vector<std::string>> steps = {{"step", "by", "at", "note"}};
  for (const auto& s : w->steps()) {
    steps.push_back({WarningStateLabel(s.state()), s.by(), Local(s.at()), s.note()});
  }
  std::cout << "\n" << Table(steps);
  return 0;
}

// `sup notice` without a verb it knows.
CommandResult SupNoticeVerbs(Context&, const Args&) {
  return absl::InvalidArgumentError("sup notice: issue, reply or list");
}

}  // namespace

const std::vector<Command>& SupCommands() {
  static const auto* const kCommands = new std::vector<Command>{
      {{"queue"},
       "queue [--unit U] [--stage S] [--mine | --officer NAME]",
       "my queue: every open deadline in my scope, nearest first, days\n"
       "left; --mine: only the cases assigned to me",
       {"unit", "stage", "page-size", "page-token", "mine", "officer"},
       Queue},
      {{"sup", "due"},
       "sup due [filters]",
       "deadlines falling due within 7 days (and overdue ones)",
       {"unit", "overdue", "timer", "stage", "escalated", "min-days", "page-size", "page-token"},
       [](Context& ctx, const Args& a) { return SupList(ctx, a, false, ""); }},
      {{"sup", "overdue"},
       "sup overdue [filters]",
       "deadlines already passed\n"
       "filters: --unit U (owing unit and below) --stage S --timer T\n"
       "         --escalated --min-days N (overdue at least N days)\n"
       "         --page-size N --page-token T",
       {"unit", "timer", "stage", "escalated", "min-days", "page-size", "page-token"},
       [](Context& ctx, const Args& a) { return SupList(ctx, a, true, ""); }},
      {{"sup", "notice", "issue"},
       "sup notice issue TRACKING --kind urge|interview|public_notice|listed_supervision "
       "--text TEXT [--reply-days N]",
       "督办: press the responsible unit",
       {"kind", "text", "reply-days"},
       [](Context& ctx, const Args& a) { return SupNotice(ctx, "issue", a); }},
      {{"sup", "notice", "reply"},
       "sup notice reply TRACKING --text TEXT",
       "the unit's written reply",
       {"text"},
       [](Context& ctx, const Args& a) { return SupNotice(ctx, "reply", a); }},
      {{"sup", "notice", "list"},
       "sup notice list [filters]",
       "notices awaiting a reply",
       {"unit", "page-size", "page-token"},
       [](Context& ctx, const Args& a) { return SupList(ctx, a, false, "notice_reply"); }},
      {{"sup", "notice"}, "", "", {}, SupNoticeVerbs},
      {{"sup", "dashboard"},
       "sup dashboard [--unit U] [--recount]",
       "counts per unit and stage; --recount counts from the cases themselves (slow; checks the "
       "kept counts)",
       {"unit", "recount"},
       SupDashboard},
      {{"sup", "warnings"},
       "sup warnings [--unit U] [--state raised|acknowledged|handled|closed]... [--all] [--rule R]",
       "early warnings (open ones unless --state or --all), newest first",
       {"unit", "state", "rule", "all", "page-size", "page-token"},
       SupWarnings},
      // One entry for the four verbs: the warning is read before the verb is
      // looked at (an unknown verb of a warning that exists is refused after).
      {{"sup", "warning"},
       "sup warning show|ack|handle|close ID [--note TEXT] [--version N]",
       "one warning with its petitions and steps; move it on\n"
       "(handle needs --note; --version defaults to the current one)",
       {"note", "version"},
       SupWarning},
  };
  return *kCommands;
}

}  // namespace xinfang::xfctl
