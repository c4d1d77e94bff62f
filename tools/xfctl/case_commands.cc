// xfctl case …: register a petition, show, list and follow a case, take
// the actions the procedure allows, check the history's hash chain.
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tools/xfctl/client.h"
#include "tools/xfctl/command.h"
#include "tools/xfctl/print.h"
#include "tools/xfctl/text.h"
#include "xinfang/v1/casework.grpc.pb.h"
#include "xinfang/v1/intake.grpc.pb.h"
#include "xinfang/v1/query.grpc.pb.h"

namespace xinfang::xfctl {
namespace {

namespace v1 = xinfang::v1;

const char* ChannelLabel(v1::Channel c) {
  switch (c) {
    case v1::CHANNEL_VISIT: return "来访 visit";
    case v1::CHANNEL_CALL: return "来电 call";
    case v1::CHANNEL_LETTER: return "来信 letter";
    case v1::CHANNEL_ONLINE: return "网上 online";
    default: return "?";
  }
}

// A request about the case the first positional argument names; `what`
// (the command) names it in the error without one.
template <typename Req>
absl::StatusOr<Req> CaseRequest(const Args& a, const char* what) {
  if (a.positional.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": give the tracking number"));
  }
  Req req;
  req.mutable_case_()->set_tracking_number(a.positional[0]);
  return req;
}

std::string RandomRequestId() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd() ^
                      static_cast<uint64_t>(absl::ToUnixNanos(absl::Now())));
  return absl::StrFormat("xfctl-%016x%016x", gen(), gen());
}

// "省总工会 (prov)": a unit by the name the server gives, with its code.
std::string UnitLabel(const v1::Case& c, const std::string& code) {
  if (code.empty()) return "";
  auto it = c.unit_names().find(code);
  return it == c.unit_names().end() ? code : absl::StrCat(it->second, " (", code, ")");
}

std::string Day(const google::protobuf::Timestamp& t) { return Local(t).substr(0, 10); }

// The record of what the procedure produced (Case.routing, .decisions …).
void PrintRecord(const v1::Case& c) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : c.routing()) {
    rows.push_back({"转办 Routing", absl::StrCat(Day(r.at()), " ", r.action(), ": ",
                                                UnitLabel(c, r.from_unit()), " → ",
                                                UnitLabel(c, r.to_unit()), " by ", r.by(),
                                                r.reason().empty() ? "" : "; " + r.reason())});
  }
  for (const auto& o : c.objections()) {
    std::string answer = o.answer().empty()
                             ? "pending"
                             : absl::StrCat(o.answer(), " by ", o.answered_by(), " on ",
                                            Day(o.answered_at()));
    rows.push_back({"异议 Objection", absl::StrCat(Day(o.at()), " by ", o.by(), ": ", o.reasons(),
                                                  " — ", answer)});
  }
  for (const auto& e : c.extensions()) {
    std::string line = absl::StrCat("requested ", Day(e.requested_at()), " by ", e.requested_by(),
                                    " (", e.requested_days(), " days)",
                                    e.reason().empty() ? "" : ": " + e.reason());
    if (!e.answer().empty()) {
      absl::StrAppend(&line, "; ", e.approved() ? "approved " : "refused ", Day(e.answered_at()),
                      " by ", e.answered_by());
      if (e.approved()) {
        absl::StrAppend(&line, ", ", e.days(), " days, petitioner told on ",
                        e.petitioner_told_on());
      }
    }
    rows.push_back({"延期 Extension", line});
  }
  for (const auto& d : c.decisions()) {
    const char* label = d.stage() == v1::STAGE_REVIEW    ? "复查意见 Review"
                        : d.stage() == v1::STAGE_RECHECK ? "复核意见 Re-check"
                                                         : "处理意见 Decision";
    rows.push_back({label, absl::StrCat(Day(d.decided_at()), " ", d.outcome(), " by ",
                                        d.decided_by(), " (", UnitLabel(c, d.unit()), ")",
                                        d.text().empty() ? "" : ": " + d.text())});
  }
  for (const auto& s : c.services()) {
    rows.push_back({"送达 Service",
                    absl::StrCat(s.served_on(), " (", v1::Stage_Name(s.stage()), ")",
                                 s.method().empty() ? "" : ", " + s.method(),
                                 s.receipt().empty() ? "" : ", " + s.receipt(),
                                 s.signed_by().empty() ? "" : " by " + s.signed_by(),
                                 s.witness().empty() ? "" : ", witness " + s.witness(),
                                 s.served_by().empty() ? "" : ", served by " + s.served_by(),
                                 ", recorded by ", s.recorded_by())});
  }
  for (const auto& h : c.hearings()) {
    rows.push_back({"听证 Hearing", absl::StrCat(Local(h.started_at()), " – ",
                                                h.has_ended_at() ? Local(h.ended_at()) : "…",
                                                " ", UnitLabel(c, h.unit()))});
  }
  if (rows.empty()) return;
  std::cout << "\n办理记录 Record\n" << Table(rows);
}

void PrintCase(const v1::Case& c) {
  const auto& in = c.intake();
  std::vector<std::vector<std::string>> rows = {
      {"编号 Tracking", c.tracking_number()},
      {"状态 State", absl::StrCat(c.state(), " (", v1::Stage_Name(c.stage()), ")")},
      {"渠道 Channel", ChannelLabel(in.channel())},
      {"收到 Received", Local(in.received_at())},
      {"登记 Registered", absl::StrCat(Local(c.registered_at()), " by ", c.registered_by())},
      {"承办单位 Unit", UnitLabel(c, c.responsible_unit())},
  };
  if (!in.registering_unit().empty() && in.registering_unit() != c.responsible_unit()) {
    rows.push_back({"登记单位 Registered at", UnitLabel(c, in.registering_unit())});
  }
  if (!c.forwarder_unit().empty()) {
    rows.push_back({"交转单位 Forwarder", UnitLabel(c, c.forwarder_unit())});
  }
  if (!c.review_unit().empty()) rows.push_back({"复查机关 Review body", UnitLabel(c, c.review_unit())});
  if (!c.recheck_unit().empty()) {
    rows.push_back({"复核机关 Re-check body", UnitLabel(c, c.recheck_unit())});
  }
  if (!c.case_officer().empty()) rows.push_back({"承办人 Officer", c.case_officer()});
  if (c.redacted()) {
    rows.push_back({"保密 Redacted", "信访人身份与反映内容对您不可见 (identity and accusation withheld)"});
  }
  if (in.anonymous()) {
    rows.push_back({"信访人 Petitioner", "匿名 anonymous"});
  } else {
    for (int i = 0; i < in.petitioners_size(); ++i) {
      const auto& p = in.petitioners(i);
      std::string who = p.name();
      if (!p.id_number().empty()) absl::StrAppend(&who, "  ", p.id_number());
      if (!p.phone().empty()) absl::StrAppend(&who, "  ", p.phone());
      rows.push_back({i == 0 ? "信访人 Petitioner" : "共同信访人 Co-petitioner", who});
    }
  }
  rows.push_back({"类别 Category",
                  c.category_name().empty()
                      ? in.category()
                      : absl::StrCat(c.category_name(), " (", in.category(), ")")});
  rows.push_back({"事项 Summary", in.summary()});
  if (!in.request().empty()) rows.push_back({"诉求 Request", in.request()});
  if (!in.complained_about().empty()) rows.push_back({"被反映对象 About", in.complained_about()});
  if (!in.complained_about_unit().empty()) {
    rows.push_back({"被反映单位 About unit", UnitLabel(c, in.complained_about_unit())});
  }
  if (!c.outcome().empty()) rows.push_back({"处理意见 Outcome", c.outcome()});
  if (!c.evaluation().empty()) {
    rows.push_back({"评价 Evaluation", c.office_evaluation().empty()
                                          ? c.evaluation()
                                          : absl::StrCat("办理单位 ", c.evaluation(),
                                                         ", 信访工作机构 ", c.office_evaluation())});
  }
  if (c.related_tracking_numbers_size() > 0) {
    rows.push_back({"重复件 Repeat of", absl::StrJoin(c.related_tracking_numbers(), ", ")});
  }
  rows.push_back({"版本 Version", absl::StrCat(c.version())});
  std::cout << Table(rows);
  PrintRecord(c);
  if (c.deadlines_size() > 0) {
    std::cout << "\n期限 Deadlines\n";
    std::vector<std::vector<std::string>> d = {
        {"  timer", "due (last day)", "status", "how it was computed"}};
    for (const auto& dl : c.deadlines()) {
      std::string status = dl.overdue() ? "OVERDUE" : "open";
      if (dl.suspended()) status = "suspended";
      if (dl.provisional()) status += ", provisional";
      if (dl.rung() > 0) absl::StrAppend(&status, ", escalated x", dl.rung());
      d.push_back({"  " + dl.timer(), dl.due_date(), status, dl.explanation()});
    }
    std::cout << Table(d);
  }
}

void PrintEvents(const google::protobuf::RepeatedPtrField<v1::CaseEvent>& events) {
  std::vector<std::vector<std::string>> rows = {{"#", "time", "event", "state", "by", "note"}};
  for (const auto& e : events) {
    std::string state = e.to_state();
    if (!e.from_state().empty() && e.from_state() != e.to_state()) {
      state = absl::StrCat(e.from_state(), " → ", e.to_state());
    }
    std::string by = absl::StrCat(e.actor(), "/", e.actor_unit());
    std::string note = e.note();
    const std::map<std::string, std::string> fields(e.fields().begin(), e.fields().end());
    for (const auto& [k, v] : fields) {
      absl::StrAppend(&note, note.empty() ? "" : "; ", k, "=", v);
    }
    rows.push_back({absl::StrCat(e.seq()), Local(e.at()), e.kind(), state, by, note});
  }
  std::cout << Table(rows);
}

// Asks for what a clerk records at the desk, one line each; an empty answer
// keeps the flag's value (if any) or leaves the item out.
Args PromptForIntake(Args a) {
  struct Question {
    const char* flag;
    const char* prompt;
  };
  static constexpr Question kQuestions[] = {
      {"channel", "渠道 channel (visit/call/letter/online)"},
      {"name", "信访人姓名 petitioner's name (empty: anonymous)"},
      {"id-number", "身份证号 ID number"},
      {"phone", "电话 phone"},
      {"address", "地址 address"},
      {"email", "电子邮箱 e-mail (notifications; optional)"},
      {"purpose", "目的 purpose (claim/suggestion/appeal/accusation/other)"},
      {"category", "类别 category (e.g. wages.arrears)"},
      {"summary", "事项 summary"},
      {"request", "诉求 request"},
      {"facts", "事实和理由 facts and reasons"},
      {"complained-about", "被反映对象 unit or person complained about"},
  };
  for (const Question& q : kQuestions) {
    const std::string current = a.Get(q.flag);
    std::cerr << q.prompt << (current.empty() ? "" : " [" + current + "]") << ": " << std::flush;
    std::string line;
    if (!std::getline(std::cin, line)) break;
    if (line.empty()) continue;
    a.flags.erase(q.flag);
    a.flags.emplace(q.flag, line);
  }
  if (a.Get("name").empty() && !a.Has("anonymous")) a.flags.emplace("anonymous", "");
  const std::string channel = a.Get("channel");
  const std::vector<Question> details =
      channel == "visit"    ? std::vector<Question>{{"people", "在场人数 people present"}}
      : channel == "call"   ? std::vector<Question>{{"caller-number", "来电号码 caller number"},
                                                    {"call-ref", "来电编号 call reference"}}
      : channel == "letter" ? std::vector<Question>{{"postmark", "邮戳日期 postmark (YYYY-MM-DD)"},
                                                    {"sender-address", "寄信地址 sender address"}}
      : channel == "online" ? std::vector<Question>{{"platform", "平台 platform"},
                                                    {"ref", "平台编号 platform reference"}}
                            : std::vector<Question>{};
  for (const Question& q : details) {
    std::cerr << q.prompt << ": " << std::flush;
    std::string line;
    if (!std::getline(std::cin, line)) break;
    if (!line.empty()) a.flags.emplace(q.flag, line);
  }
  return a;
}

CommandResult CaseRegister(Context& ctx, const Args& args) {
  Args a = args;
  // Prompts with --interactive, or when a person runs it with no details.
  if (a.Has("interactive") || (a.flags.empty() && isatty(STDIN_FILENO))) a = PromptForIntake(a);
  v1::RegisterCaseRequest req;
  req.set_request_id(a.Get("request-id", RandomRequestId()));
  v1::CaseIntake& in = *req.mutable_intake();
  const std::string channel = a.Get("channel");
  // A detail of another channel is refused, never dropped.
  const std::map<std::string, std::string> detail_channel = {
      {"people", "visit"},          {"representative", "visit"}, {"caller-number", "call"},
      {"call-ref", "call"},         {"postmark", "letter"},      {"sender-address", "letter"},
      {"scan", "letter"},           {"platform", "online"},      {"ref", "online"}};
  for (const auto& [flag, owner] : detail_channel) {
    if (a.Has(flag) && owner != channel) {
      return absl::InvalidArgumentError(
          absl::StrCat("case register: --", flag, " is a detail of a ", owner,
                       ", not of --channel ", channel.empty() ? "(none)" : channel));
    }
  }
  if (channel == "visit") {
    in.set_channel(v1::CHANNEL_VISIT);
    auto* v = in.mutable_visit();
    absl::StatusOr<int> people = a.Number<int>("people", 0);
    if (!people.ok()) return people.status();
    v->set_people_present(*people);
    for (const auto& r : a.All("representative")) v->add_representatives(r);
  } else if (channel == "call") {
    in.set_channel(v1::CHANNEL_CALL);
    in.mutable_call()->set_caller_number(a.Get("caller-number"));
    in.mutable_call()->set_call_reference(a.Get("call-ref"));
  } else if (channel == "letter") {
    in.set_channel(v1::CHANNEL_LETTER);
    auto* l = in.mutable_letter();
    l->set_postmark_date(a.Get("postmark"));
    l->set_sender_address(a.Get("sender-address"));
    for (const auto& s : a.All("scan")) l->add_scan_references(s);
  } else if (channel == "online") {
    in.set_channel(v1::CHANNEL_ONLINE);
    in.mutable_online()->set_platform(a.Get("platform"));
    in.mutable_online()->set_reference(a.Get("ref"));
  } else {
    return absl::InvalidArgumentError(
        "case register: --channel must be visit, call, letter or online");
  }
  if (a.Has("received-at")) {
    absl::Time t;
    std::string err;
    if (!absl::ParseTime(absl::RFC3339_full, a.Get("received-at"), &t, &err)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--received-at: not an RFC 3339 instant (", err, ")"));
    }
    in.mutable_received_at()->set_seconds(absl::ToUnixSeconds(t));
  }
  in.set_anonymous(a.Has("anonymous"));
  if (a.Has("name") || a.Has("id-number") || a.Has("phone")) {
    auto* p = in.add_petitioners();
    p->set_name(a.Get("name"));
    p->set_id_number(a.Get("id-number"));
    p->set_phone(a.Get("phone"));
    p->set_address(a.Get("address"));
    p->set_email(a.Get("email"));
    p->set_same_person_confirmed(a.Has("same-person"));
  }
  for (const auto& n : a.All("co-petitioner")) in.add_petitioners()->set_name(n);
  static const std::map<std::string, v1::Purpose> kPurposes = {
      {"claim", v1::PURPOSE_CLAIM},           {"suggestion", v1::PURPOSE_SUGGESTION},
      {"appeal", v1::PURPOSE_APPEAL},         {"accusation", v1::PURPOSE_ACCUSATION},
      {"other", v1::PURPOSE_OTHER}};
  const std::string purpose = a.Get("purpose", "claim");
  if (!kPurposes.contains(purpose)) {
    return absl::InvalidArgumentError("--purpose: claim, suggestion, appeal, accusation or other");
  }
  in.set_purpose(kPurposes.at(purpose));
  in.set_category(a.Get("category"));
  in.set_summary(a.Get("summary"));
  in.set_request(a.Get("request"));
  in.set_facts_and_reasons(a.Get("facts"));
  in.set_issue_location(a.Get("location"));
  in.set_complained_about(a.Get("complained-about"));
  in.set_complained_about_unit(a.Get("complained-unit"));
  for (const auto& s : a.All("attachment")) in.add_attachments(s);
  auto resp = ctx.client.Call(&v1::IntakeService::Stub::RegisterCase, req);
  if (!resp.ok()) return resp.status();
  if (ctx.global.json) return PrintJson(*resp);
  std::cout << (resp->replayed() ? "已登记 (重试返回原件) already registered\n" : "已登记 registered\n");
  PrintCase(resp->case_());
  std::cout << "\n" << resp->receipt();
  return 0;
}

CommandResult CaseShow(Context& ctx, const Args& a) {
  auto req = CaseRequest<v1::GetCaseRequest>(a, "case show");
  if (!req.ok()) return req.status();
  auto resp = ctx.client.Call(&v1::CaseQueryService::Stub::GetCase, *req);
  if (!resp.ok()) return resp.status();
  v1::GetHistoryRequest hreq;
  *hreq.mutable_case_() = req->case_();
  auto history = ctx.client.Call(&v1::CaseQueryService::Stub::GetHistory, hreq);
  if (!history.ok()) return history.status();
  if (ctx.global.json) return PrintJson(*resp);
  PrintCase(resp->case_());
  std::cout << "\n时间线 Timeline\n";
  PrintEvents(history->events());
  return 0;
}

CommandResult CaseHistory(Context& ctx, const Args& a) {
  auto req = CaseRequest<v1::GetHistoryRequest>(a, "case history");
  if (!req.ok()) return req.status();
  auto resp = ctx.client.Call(&v1::CaseQueryService::Stub::GetHistory, *req);
  if (!resp.ok()) return resp.status();
  if (ctx.global.json) return PrintJson(*resp);
  PrintEvents(resp->events());
  return 0;
}


CommandResult CaseList(Context& ctx, const Args& a) {
  v1::ListCasesRequest req;
  req.set_state(a.Get("state"));
  req.set_category(a.Get("category"));
  req.set_unit(a.Get("unit"));
  req.set_petitioner(a.Get("petitioner"));
  req.set_overdue_only(a.Has("overdue"));
  if (absl::Status s = SetListFlags(a, 0, req); !s.ok()) return s;
  if (a.Has("channel")) {
    static const std::map<std::string, v1::Channel> kChannels = {
        {"visit", v1::CHANNEL_VISIT}, {"call", v1::CHANNEL_CALL},
        {"letter", v1::CHANNEL_LETTER}, {"online", v1::CHANNEL_ONLINE}};
    auto it = kChannels.find(a.Get("channel"));
    if (it == kChannels.end()) {
      return absl::InvalidArgumentError("--channel: visit, call, letter or online");
    }
    req.set_channel(it->second);
  }
  // Received dates, local days; --to is inclusive (before the next day).
  auto day = [&](const char* flag) -> absl::StatusOr<absl::CivilDay> {
    absl::CivilDay d;
    if (!absl::ParseCivilTime(a.Get(flag), &d)) {
      return absl::InvalidArgumentError(absl::StrCat("--", flag, ": not a date (YYYY-MM-DD)"));
    }
    return d;
  };
  if (a.Has("from")) {
    absl::StatusOr<absl::CivilDay> from = day("from");
    if (!from.ok()) return from.status();
    req.mutable_received_from()->set_seconds(absl::ToUnixSeconds(absl::FromCivil(*from, Zone())));
  }
  if (a.Has("to")) {
    absl::StatusOr<absl::CivilDay> to = day("to");
    if (!to.ok()) return to.status();
    req.mutable_received_before()->set_seconds(
        absl::ToUnixSeconds(absl::FromCivil(*to + 1, Zone())));
  }
  auto resp = ctx.client.Call(&v1::CaseQueryService::Stub::ListCases, req);
  if (!resp.ok()) return resp.status();
  if (ctx.global.json) return PrintJson(*resp);
  std::vector<std::vector<std::string>> rows = {
      {"tracking", "received", "channel", "category", "unit", "state", "", "summary"}};
  for (const auto& c : resp->cases()) {
    rows.push_back({c.tracking_number(), Local(c.received_at()), ChannelLabel(c.channel()),
                    c.category(), c.responsible_unit(), c.state(), c.overdue() ? "OVERDUE" : "",
                    c.summary()});
  }
  std::cout << Table(rows);
  PrintNextPage(resp->next_page_token());
  return 0;
}

CommandResult CaseActions(Context& ctx, const Args& a) {
  auto req = CaseRequest<v1::ListActionsRequest>(a, "case actions");
  if (!req.ok()) return req.status();
  auto resp = ctx.client.Call(&v1::CaseworkService::Stub::ListActions, *req);
  if (!resp.ok()) return resp.status();
  if (ctx.global.json) return PrintJson(*resp);
  std::cout << "state " << resp->state() << ", version " << resp->version() << "\n";
  std::vector<std::vector<std::string>> rows = {{"action", "title", "to", "fields (* required)"}};
  for (const auto& act : resp->actions()) {
    std::vector<std::string> fields;
    for (const auto& f : act.fields()) {
      std::string s = f.name() + (f.required() ? "*" : "");
      if (f.choices_size() > 0) absl::StrAppend(&s, "(", absl::StrJoin(f.choices(), "|"), ")");
      fields.push_back(s);
    }
    rows.push_back({act.name(), act.title(), act.to(), absl::StrJoin(fields, " ")});
  }
  std::cout << Table(rows);
  return 0;
}

CommandResult CaseVerify(Context& ctx, const Args& a) {
  auto req = CaseRequest<v1::VerifyHistoryRequest>(a, "case verify");
  if (!req.ok()) return req.status();
  auto resp = ctx.client.Call(&v1::CaseworkService::Stub::VerifyHistory, *req);
  if (!resp.ok()) return resp.status();
  if (ctx.global.json) {
    std::cout << Json(*resp);
  } else if (resp->intact()) {
    std::cout << "intact: " << resp->events() << " events, hash chain verified\n";
  } else {
    std::cout << "BROKEN at event " << resp->first_broken_seq() << ": " << resp->detail() << "\n";
  }
  return resp->intact() ? 0 : 3;
}

// The notifications made about a case and what came of each.
CommandResult CaseNotifications(Context& ctx, const Args& a) {
  auto req = CaseRequest<v1::ListNotificationsRequest>(a, "case notifications");
  if (!req.ok()) return req.status();
  auto resp = ctx.client.Call(&v1::CaseQueryService::Stub::ListNotifications, *req);
  if (!resp.ok()) return resp.status();
  if (ctx.global.json) return PrintJson(*resp);
  std::vector<std::vector<std::string>> rows = {
      {"made", "kind", "to", "state", "tries", "subject / last error"}};
  for (const v1::Notification& n : resp->notifications()) {
    std::string state = n.state();
    if (n.state() == "sent") absl::StrAppend(&state, " ", Local(n.sent_at()));
    if (n.state() == "pending" && n.attempts() > 0) {
      absl::StrAppend(&state, ", next ", Local(n.next_attempt_at()));
    }
    rows.push_back({Local(n.created_at()), n.kind(), n.recipient().empty() ? "(hidden)" : n.recipient(),
                    state, absl::StrCat(n.attempts()),
                    n.last_error().empty() ? n.subject() : absl::StrCat(n.subject(), " — ", n.last_error())});
  }
  if (resp->notifications().empty()) {
    std::cout << "no notifications (none made yet, or the server sends none: --smtp-server)\n";
    return 0;
  }
  std::cout << Table(rows);
  return 0;
}

CommandResult CaseDocuments(Context& ctx, const Args& a) {
  auto req = CaseRequest<v1::ListDocumentsRequest>(a, "case documents");
  if (!req.ok()) return req.status();
  auto resp = ctx.client.Call(&v1::CaseQueryService::Stub::ListDocuments, *req);
  if (!resp.ok()) return resp.status();
  if (ctx.global.json) return PrintJson(*resp);
  std::vector<std::vector<std::string>> rows = {{"文号 number", "title", "issued", "by", "event"}};
  for (const v1::Document& d : resp->documents()) {
    rows.push_back({d.number(), d.title(), Local(d.issued_at()),
                    absl::StrCat(d.unit_name(), " / ", d.issued_by()),
                    absl::StrCat("#", d.event_seq())});
  }
  std::cout << Table(rows);
  if (resp->documents_size() > 0) {
    std::cout << "(xfctl case document NUMBER --out FILE.html saves one to print)\n";
  }
  return 0;
}

// One document: its particulars, and with --out its page written to a file
// (an A4 HTML page: open it in a browser to print, or save it as PDF).
CommandResult CaseDocument(Context& ctx, const Args& a) {
  if (a.positional.size() != 1) {
    return absl::InvalidArgumentError("case document: give the document's number (文号)");
  }
  v1::GetDocumentRequest req;
  req.set_number(a.positional[0]);
  auto resp = ctx.client.Call(&v1::CaseQueryService::Stub::GetDocument, req);
  if (!resp.ok()) return resp.status();
  if (auto s = WriteOut(a, resp->html()); !s.ok()) return s;
  if (ctx.global.json) return PrintJson(*resp);
  std::cout << "文号 Number      " << resp->number() << "\n"
            << "文书 Document    " << resp->title() << " (" << resp->kind() << ")\n"
            << "案件 Case        " << resp->tracking_number() << ", event #" << resp->event_seq()
            << "\n"
            << "出具 Issued      " << Local(resp->issued_at()) << "  " << resp->unit_name()
            << " / " << resp->issued_by() << "\n"
            << "SHA-256         " << resp->sha256() << "\n";
  if (a.Has("out")) {
    std::cout << "written to " << a.Get("out") << " (" << resp->html().size() << " bytes)\n";
  } else {
    std::cout << "(--out FILE.html writes the page to print)\n";
  }
  return 0;
}

}  // namespace

CommandResult CaseAct(Context& ctx, const Args& a) {
  if (a.positional.size() < 2) {
    return absl::InvalidArgumentError("case act: give the tracking number and the action");
  }
  v1::TakeActionRequest req;
  req.mutable_case_()->set_tracking_number(a.positional[0]);
  req.set_action(a.positional[1]);
  req.set_note(a.Get("note"));
  for (const auto& f : a.All("field")) {
    auto eq = f.find('=');
    if (eq == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("--field ", f, ": expected NAME=VALUE"));
    }
    (*req.mutable_fields())[f.substr(0, eq)] = f.substr(eq + 1);
  }
  // The version the action expects: --version, else the case's current one.
  int64_t version = 0;
  if (a.Has("version")) {
    absl::StatusOr<int64_t> given = a.Number<int64_t>("version", 0);
    if (!given.ok()) return given.status();
    version = *given;
  } else {
    v1::GetCaseRequest get;
    *get.mutable_case_() = req.case_();
    auto current = ctx.client.Call(&v1::CaseQueryService::Stub::GetCase, get);
    if (!current.ok()) return current.status();
    version = current->case_().version();
  }
  req.set_expected_version(version);
  auto resp = ctx.client.Call(&v1::CaseworkService::Stub::TakeAction, req);
  if (!resp.ok()) return resp.status();
  if (ctx.global.json) return PrintJson(*resp);
  PrintEvents(resp->events());
  std::cout << "\n";
  PrintCase(resp->case_());
  return 0;
}

const std::vector<Command>& CaseCommands() {
  static const auto* const kCommands = new std::vector<Command>{
      {{"case", "register"},
       "case register [flags]",
       "register a petition (flags below)",
       {"channel", "received-at", "name", "id-number", "phone", "address", "email", "co-petitioner",
        "anonymous", "purpose", "category", "summary", "request", "facts", "location",
        "complained-about", "complained-unit", "attachment", "people", "representative",
        "caller-number", "call-ref", "postmark", "sender-address", "scan", "platform", "ref",
        "request-id", "interactive", "same-person"},
       CaseRegister},
      {{"case", "show"},
       "case show TRACKING",
       "a case with its deadlines and timeline",
       {},
       CaseShow},
      {{"case", "list"},
       "case list [filters]",
       "cases, newest first: --state --stage --channel --category\n"
       "--unit (and below) --overdue --from/--to YYYY-MM-DD (received)\n"
       "--petitioner NAME|ID|PHONE --page-size N --page-token T",
       {"state", "stage", "channel", "category", "unit", "overdue", "from", "to", "petitioner",
        "page-size", "page-token"},
       CaseList},
      {{"case", "history"}, "case history TRACKING", "the case's events", {}, CaseHistory},
      {{"case", "actions"},
       "case actions TRACKING",
       "what you may do with the case now",
       {},
       CaseActions},
      {{"case", "act"},
       "case act TRACKING ACTION [--field NAME=VALUE]... [--note TEXT] [--version N]",
       "",
       {"field", "note", "version"},
       CaseAct},
      {{"case", "verify"},
       "case verify TRACKING",
       "check the history's hash chain and each document's hash",
       {},
       CaseVerify},
      {{"case", "notifications"},
       "case notifications TRACKING",
       "the e-mails made about the case: to whom, sent, pending or failed",
       {},
       CaseNotifications},
      {{"case", "documents"},
       "case documents TRACKING",
       "the written documents (文书) the case's actions issued",
       {},
       CaseDocuments},
      {{"case", "document"},
       "case document NUMBER [--out FILE.html]",
       "one document by its 文号; --out writes its A4 page",
       {"out"},
       CaseDocument},
  };
  return *kCommands;
}

}  // namespace xinfang::xfctl
