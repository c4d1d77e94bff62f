#include "services/query/public_service.h"

#include <algorithm>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "services/common/act.h"
#include "services/common/grpc_util.h"
#include "services/common/query_code.h"
#include "services/common/validate.h"
#include "services/storage/query_code_store.h"

namespace xinfang::query {
namespace {

namespace v1 = xinfang::v1;

// Lookups per minute as a token bucket: n at once, n refilled a minute.
RateLimiter PerMinute(int n) { return RateLimiter(n / 60.0, std::max(n, 1)); }

const char* StageText(v1::Stage s) {
  switch (s) {
    case v1::STAGE_INTAKE:
      return "登记受理";
    case v1::STAGE_HANDLING:
      return "办理中";
    case v1::STAGE_DECISION:
      return "已出具处理意见";
    case v1::STAGE_EVALUATION:
      return "处理意见已送达";
    case v1::STAGE_REVIEW:
      return "复查";
    case v1::STAGE_RECHECK:
      return "复核";
    case v1::STAGE_FINAL:
      return "已办结";
    default:
      return "";
  }
}

// The dates the petitioner is owed or has, by purpose: title, whether it is
// the petitioner's own window. Other timers (objection, supervision
// replies) are the offices' business.
struct Owed {
  const char* title;
  bool window;
};
const std::map<v1::TimerPurpose, Owed>& OwedDates() {
  static const auto* m = new std::map<v1::TimerPurpose, Owed>{
      {v1::TIMER_PURPOSE_INTAKE_NOTICE, {"书面告知是否受理", false}},
      {v1::TIMER_PURPOSE_HANDLING, {"出具处理意见书", false}},
      {v1::TIMER_PURPOSE_EVALUATION, {"评价处理结果", true}},
      {v1::TIMER_PURPOSE_REVIEW_REQUEST, {"申请复查", true}},
      {v1::TIMER_PURPOSE_REVIEW_ANSWER, {"出具复查意见书", false}},
      {v1::TIMER_PURPOSE_RECHECK_REQUEST, {"申请复核", true}},
      {v1::TIMER_PURPOSE_RECHECK_ANSWER, {"出具复核意见书", false}},
  };
  return *m;
}

const char* DateStatusText(v1::PublicDateStatus s) {
  switch (s) {
    case v1::PUBLIC_DATE_STATUS_PENDING:
      return "进行中";
    case v1::PUBLIC_DATE_STATUS_MET:
      return "按期";
    case v1::PUBLIC_DATE_STATUS_LATE:
      return "逾期完成";
    case v1::PUBLIC_DATE_STATUS_OVERDUE:
      return "已逾期";
    case v1::PUBLIC_DATE_STATUS_CLOSED:
      return "已结束";
    default:
      return "";
  }
}

std::string OutcomeText(const std::string& outcome) {
  static const auto* m = new std::map<std::string, std::string>{{"support", "支持"},
                                                                {"explain", "解释说明"},
                                                                {"not_supported", "不予支持"},
                                                                {"mediation_agreement", "调解协议"},
                                                                {"upheld", "维持"},
                                                                {"changed", "变更"},
                                                                {"revoked", "撤销"}};
  auto it = m->find(outcome);
  return it == m->end() ? outcome : it->second;
}

// "直接送达，签收": the method and the receipt of a proof of service.
std::string ServiceText(const v1::ServiceRecord& s) {
  static const auto* m = new std::map<std::string, std::string>{
      {"in_person", "直接送达"}, {"post", "邮寄送达"},     {"electronic", "电子送达"},
      {"public_notice", "公告送达"}, {"signed", "签收"}, {"refused", "拒收，留置送达"},
      {"confirmed", "已确认收到"},  {"announced", "已公告"}};
  std::vector<std::string> parts;
  for (const std::string& code : {s.method(), s.receipt()}) {
    auto it = m->find(code);
    if (it != m->end()) parts.push_back(it->second);
  }
  return absl::StrJoin(parts, "，");
}

const char* DecisionTitle(v1::Stage s) {
  switch (s) {
    case v1::STAGE_REVIEW:
      return "复查意见书";
    case v1::STAGE_RECHECK:
      return "复核意见书";
    default:
      return "处理意见书";
  }
}

// "办理中 in handling" → "办理中": a state's title in Chinese.
std::string ChinesePart(const std::string& title) {
  return std::string(absl::StripAsciiWhitespace(
      std::vector<std::string>(absl::StrSplit(title, absl::MaxSplits(' ', 1)))[0]));
}

}  // namespace

PublicStatus::PublicStatus(Core& core, Ticker ticker)
    : core_(core),
      ticker_(std::move(ticker)),
      per_address_(PerMinute(core.config().public_lookups_per_address)),
      per_number_(PerMinute(core.config().public_lookups_per_number)) {}

absl::StatusOr<v1::GetPublicStatusResponse> PublicStatus::Get(const v1::GetPublicStatusRequest& req,
                                                              const std::string& peer) {
  auto case_id = Authenticate(req.tracking_number(), req.query_code(), peer, "GetPublicStatus");
  if (!case_id.ok()) return case_id.status();
  return View(*case_id);
}

absl::StatusOr<v1::GetPublicStatusResponse> PublicStatus::Evaluate(
    const v1::EvaluateCaseRequest& req, const std::string& peer) {
  // The request's names for the fields of the action "evaluate_online".
  static constexpr std::pair<const char*, const char*> kFields[] = {
      {"unit_rating", "rating"},
      {"unit_reason", "rating_reason"},
      {"office_rating", "office_rating"},
      {"office_reason", "office_rating_reason"}};
  const std::string given[] = {req.unit_rating(), req.unit_reason(), req.office_rating(),
                               req.office_reason()};
  for (int i = 0; i < 4; ++i) {
    if (auto s = CheckText(kFields[i].first, given[i], 4000, false); !s.ok()) return s;
  }
  auto case_id = Authenticate(req.tracking_number(), req.query_code(), peer, "EvaluateCase");
  if (!case_id.ok()) return case_id.status();
  workflow::ActionRequest action;
  action.action = "evaluate_online";
  for (int i = 0; i < 4; ++i) {
    if (!given[i].empty()) action.fields[kFields[i].second] = given[i];
  }
  const workflow::Actor petitioner{"petitioner", v1::ROLE_PETITIONER, ""};
  // The petitioner read no version: a change that won the race is read
  // again and the evaluation decided on it.
  for (int attempt = 0;; ++attempt) {
    auto rec = core_.store().Get(*case_id);
    if (!rec.ok()) return rec.status();
    auto org = core_.Org();
    if (!org.ok()) return org.status();
    auto applied = Act(core_, *rec, rec->version, action, petitioner, **org);
    if (applied.ok()) break;
    const absl::Status& refused = applied.status();
    if (refused.code() == absl::StatusCode::kAborted) {  // a change won the race: read again
      if (attempt == 2) {
        return absl::AbortedError("the case is being changed right now: please try again");
      }
      continue;
    }
    std::string message(refused.message());
    for (const auto& [outer, inner] : kFields) {
      const std::string engine_name = absl::StrCat("fields.", inner, ":");
      if (absl::StartsWith(message, engine_name)) {
        message = absl::StrCat(outer, ":", message.substr(engine_name.size()));
        break;
      }
    }
    for (const auto& [outer, inner] : kFields) {  // "required when rating is …"
      message = absl::StrReplaceAll(message, {{absl::StrCat(" when ", inner, " is "),
                                               absl::StrCat(" when ", outer, " is ")}});
    }
    if (refused.code() == absl::StatusCode::kFailedPrecondition &&
        !req.unit_rating().empty() && req.unit_rating() != "lapsed" &&
        !req.office_rating().empty() && rec->snapshot.evaluation == req.unit_rating() &&
        rec->snapshot.office_evaluation == req.office_rating()) {
      break;  // a retry of the evaluation that was taken: its answer again
    }
    if (refused.code() == absl::StatusCode::kFailedPrecondition ||
        refused.code() == absl::StatusCode::kPermissionDenied) {
      // Not served yet, already evaluated, or the window lapsed.
      return absl::FailedPreconditionError(
          absl::StrCat("the evaluation window is not open for this case (", message, ")"));
    }
    return absl::Status(refused.code(), message);
  }
  return View(*case_id);
}

absl::StatusOr<int64_t> PublicStatus::Authenticate(const std::string& tracking_number,
                                                   const std::string& query_code,
                                                   const std::string& peer,
                                                   const std::string& rpc) {
  const std::string tracking =
      absl::AsciiStrToUpper(absl::StripAsciiWhitespace(tracking_number));
  if (auto s = CheckText("tracking_number", tracking, 32, true); !s.ok()) return s;
  if (auto s = CheckText("query_code", query_code, 64, true); !s.ok()) return s;
  const auto now = ticker_();
  if (!per_address_.Allow(peer, now)) {
    return absl::ResourceExhaustedError(
        absl::StrCat("too many status lookups from this address: retry in ",
                     per_address_.RetryAfter(peer, now).count() / 1000 + 1, " s"));
  }
  if (!per_number_.Allow(tracking, now)) {
    return absl::ResourceExhaustedError(
        absl::StrCat("too many status lookups of this tracking number: retry in ",
                     per_number_.RetryAfter(tracking, now).count() / 1000 + 1, " s"));
  }
  storage::QueryCodeStore store(core_.pool());
  auto stored = store.Find(tracking);
  if (!stored.ok()) return stored.status();
  // The same hash and comparison whether or not the number exists.
  const bool match = QueryCodeMatches(query_code, stored->has_value() ? (*stored)->salt : "",
                                      stored->has_value() ? (*stored)->hash : "") &&
                     stored->has_value();
  // The same statement either way: it records nothing for an unknown number.
  if (auto s = store.RecordLookup(tracking, peer, match ? rpc : absl::StrCat(rpc, ": wrong code"),
                                  core_.clock().Now());
      !s.ok()) {
    return s;
  }
  if (!match) return absl::NotFoundError(kNoSuchCase);
  return (*stored)->case_id;
}

absl::StatusOr<v1::GetPublicStatusResponse> PublicStatus::View(int64_t case_id) {
  auto rec = core_.store().Get(case_id);
  if (!rec.ok()) return rec.status();
  const workflow::Engine* engine =
      core_.EngineFor(rec->snapshot.workflow, rec->snapshot.workflow_version);
  const absl::Time now = core_.clock().Now();
  const v1::Case c = ToProto(*rec, engine, now);
  auto org = core_.Org();
  if (!org.ok()) return org.status();
  auto names = core_.Names();
  if (!names.ok()) return names.status();
  auto name_of = [&](const std::string& unit) { return NameOf(**names, "unit", unit); };
  const workflow::Calendar& cal = core_.calendar();
  auto day = [&](absl::Time t) { return absl::FormatCivilTime(cal.LocalDay(t)); };

  v1::GetPublicStatusResponse r;
  r.set_tracking_number(c.tracking_number());
  r.set_received_on(day(FromProto(c.intake().received_at())));
  r.set_stage(c.stage());
  r.set_stage_text(StageText(c.stage()));
  r.set_state(c.state());
  r.set_state_text(ChinesePart(c.state_title()));
  r.set_handling_unit_name(name_of(c.responsible_unit()));
  r.set_final(c.stage() == v1::STAGE_FINAL);
  r.set_summary(c.intake().summary());
  r.set_evaluation(c.evaluation());
  r.set_office_evaluation(c.office_evaluation());
  if (engine != nullptr) {
    const workflow::Actor petitioner{"petitioner", v1::ROLE_PETITIONER, ""};
    for (const v1::Action* a : engine->Available(rec->snapshot, petitioner, now, **org)) {
      if (a->name() == "evaluate_online") r.set_can_evaluate(true);
    }
  }
  *r.mutable_as_of() = ToProto(now);

  // The dates: those closed (met or not), then those open.
  std::vector<std::pair<std::string, v1::PublicDate>> dates;
  storage::QueryCodeStore store(core_.pool());
  auto closed = store.ClosedDeadlines(case_id);
  if (!closed.ok()) return closed.status();
  for (const storage::ClosedDeadline& d : *closed) {
    auto owed = OwedDates().find(static_cast<v1::TimerPurpose>(d.purpose));
    if (owed == OwedDates().end()) continue;
    v1::PublicDate p;
    p.set_purpose(owed->first);
    p.set_title(owed->second.title);
    p.set_petitioners_window(owed->second.window);
    p.set_last_day(day(d.due_at - absl::Microseconds(1)));  // due_at is exclusive
    p.set_closed_on(day(d.closed_at));
    p.set_status(owed->second.window ? v1::PUBLIC_DATE_STATUS_CLOSED
                 : d.met             ? v1::PUBLIC_DATE_STATUS_MET
                                     : v1::PUBLIC_DATE_STATUS_LATE);
    dates.emplace_back(p.last_day(), std::move(p));
  }
  for (const v1::Deadline& d : c.deadlines()) {
    auto owed = OwedDates().find(d.purpose());
    if (owed == OwedDates().end()) continue;
    v1::PublicDate p;
    p.set_purpose(d.purpose());
    p.set_title(owed->second.title);
    p.set_petitioners_window(owed->second.window);
    p.set_last_day(d.due_date());
    p.set_provisional(d.provisional());
    p.set_suspended(d.suspended());
    p.set_status(d.overdue() ? v1::PUBLIC_DATE_STATUS_OVERDUE : v1::PUBLIC_DATE_STATUS_PENDING);
    if (owed->second.window && !d.overdue()) {
      v1::PublicWindow* w = r.add_open_windows();
      w->set_purpose(d.purpose());
      w->set_title(owed->second.title);
      w->set_last_day(d.due_date());
      // Where to go: the unit that handled the matter rates it; review goes
      // to the next-higher body, re-check to the body above the reviewer.
      std::string unit = c.responsible_unit();
      // "<before>DAY 前向 UNIT <after>"
      const char* before = "请于 ";
      const char* after =
          " 前分别评价办理单位和信访工作机构（满意、基本满意或不满意）：可在本页网上评价，"
          "也可当面、电话或书信向 ";
      // The engine decides where review and re-check go (never to the
      // unit complained about); none: the window shows no unit.
      if (d.purpose() == v1::TIMER_PURPOSE_REVIEW_REQUEST) {
        unit = workflow::ReviewBody(rec->snapshot, **org).value_or("");
        before = "如对处理意见不服，可于 ";
        after = " 书面申请复查。";
      } else if (d.purpose() == v1::TIMER_PURPOSE_RECHECK_REQUEST) {
        unit = workflow::RecheckBody(rec->snapshot, **org).value_or("");
        before = "如对复查意见不服，可于 ";
        after = " 书面申请复核。";
      }
      w->set_unit(unit);
      w->set_unit_name(unit.empty() ? "" : name_of(unit));
      if (d.purpose() == v1::TIMER_PURPOSE_EVALUATION) {
        w->set_how(absl::StrCat(before, d.due_date(), after, w->unit_name(), " 评价。"));
      } else {
        w->set_how(absl::StrCat(before, d.due_date(), " 前向 ", w->unit_name(), after));
      }
    }
    dates.emplace_back(p.last_day(), std::move(p));
  }
  std::stable_sort(dates.begin(), dates.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [_, p] : dates) {
    p.set_status_text(DateStatusText(p.status()));
    *r.add_dates() = std::move(p);
  }

  // The decisions and opinions, once served: never who wrote them.
  for (const v1::DecisionRecord& d : c.decisions()) {
    const v1::ServiceRecord* served = nullptr;
    for (const v1::ServiceRecord& s : c.services()) {
      if (s.stage() == d.stage()) served = &s;
    }
    if (served == nullptr) continue;
    v1::PublicDecision* p = r.add_decisions();
    p->set_stage(d.stage());
    p->set_title(DecisionTitle(d.stage()));
    p->set_outcome(d.outcome());
    p->set_outcome_text(OutcomeText(d.outcome()));
    p->set_text(d.text());
    p->set_unit_name(name_of(d.unit()));
    p->set_served_on(served->served_on());
    p->set_service_text(ServiceText(*served));
  }

  // The written documents to the petitioner; a decision's or opinion's once served.
  auto docs = PetitionersDocuments(*rec, c, engine);
  if (!docs.ok()) return docs.status();
  for (const storage::DocumentRow& d : *docs) {
    v1::PublicDocument* p = r.add_documents();
    p->set_number(d.number);
    p->set_title(d.title);
    p->set_issued_on(absl::FormatCivilTime(core_.calendar().LocalDay(d.issued_at)));
  }
  return r;
}

absl::StatusOr<std::vector<storage::DocumentRow>> PublicStatus::PetitionersDocuments(
    const storage::CaseRecord& rec, const v1::Case& c, const workflow::Engine* engine) {
  auto docs = core_.store().Documents(rec.id);
  if (!docs.ok()) return docs.status();
  std::vector<storage::DocumentRow> out;
  for (storage::DocumentRow& d : *docs) {
    if (d.recipient != v1::DOCUMENT_RECIPIENT_PETITIONER) continue;
    // A decision or opinion reaches the petitioner by its service.
    const v1::Action* a = engine == nullptr ? nullptr : engine->definition().FindAction(d.action);
    if (a != nullptr && workflow::DocumentAwaitsService(*a)) {
      const v1::State* to = engine->definition().FindState(a->to());
      const bool served = to != nullptr && std::any_of(c.services().begin(), c.services().end(),
                                                       [&](const v1::ServiceRecord& s) {
                                                         return s.stage() == to->stage();
                                                       });
      if (!served) continue;
    }
    out.push_back(std::move(d));
  }
  return out;
}

absl::StatusOr<v1::PublicDocument> PublicStatus::Document(
    const v1::GetPublicDocumentRequest& req, const std::string& peer) {
  if (req.number().empty()) return absl::InvalidArgumentError("number: required (the 文号)");
  if (auto s = CheckText("number", req.number(), 200, false); !s.ok()) return s;
  auto case_id =
      Authenticate(req.tracking_number(), req.query_code(), peer, "GetPublicDocument");
  if (!case_id.ok()) return case_id.status();
  auto rec = core_.store().Get(*case_id);
  if (!rec.ok()) return rec.status();
  const workflow::Engine* engine =
      core_.EngineFor(rec->snapshot.workflow, rec->snapshot.workflow_version);
  const v1::Case c = ToProto(*rec, engine, core_.clock().Now());
  auto docs = PetitionersDocuments(*rec, c, engine);
  if (!docs.ok()) return docs.status();
  for (const storage::DocumentRow& d : *docs) {
    if (d.number != req.number()) continue;
    auto full = core_.store().Document(d.number);
    if (!full.ok()) return full.status();
    v1::PublicDocument out;
    out.set_number(full->number);
    out.set_title(full->title);
    out.set_issued_on(absl::FormatCivilTime(core_.calendar().LocalDay(full->issued_at)));
    out.set_html(full->body);
    out.set_sha256(full->sha256);
    return out;
  }
  return absl::NotFoundError(
      absl::StrCat("number: no document ", req.number(), " to the petitioner on this case"));
}

grpc::Status PublicServiceImpl::GetPublicStatus(grpc::ServerContext* ctx,
                                                const xinfang::v1::GetPublicStatusRequest* req,
                                                xinfang::v1::GetPublicStatusResponse* resp) {
  // No token: the query code is the credential (as SignIn's password is).
  return ServeOpen("GetPublicStatus", resp, [&] { return status_.Get(*req, PeerOf(*ctx)); });
}

grpc::Status PublicServiceImpl::EvaluateCase(grpc::ServerContext* ctx,
                                             const xinfang::v1::EvaluateCaseRequest* req,
                                             xinfang::v1::GetPublicStatusResponse* resp) {
  return ServeOpen("EvaluateCase", resp, [&] { return status_.Evaluate(*req, PeerOf(*ctx)); });
}

grpc::Status PublicServiceImpl::GetPublicDocument(grpc::ServerContext* ctx,
                                                  const xinfang::v1::GetPublicDocumentRequest* req,
                                                  xinfang::v1::PublicDocument* resp) {
  return ServeOpen("GetPublicDocument", resp,
                   [&] { return status_.Document(*req, PeerOf(*ctx)); });
}

}  // namespace xinfang::query
