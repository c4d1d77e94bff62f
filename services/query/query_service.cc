#include "services/query/query_service.h"

#include <tuple>

#include <algorithm>
#include <array>
#include <functional>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/common/access.h"
#include "services/common/grpc_util.h"
#include "services/common/receipt.h"
#include "services/common/validate.h"
#include "services/storage/outbox_store.h"

namespace xinfang::query {

absl::StatusOr<xinfang::v1::GetCaseResponse> Query::GetCase(
    const workflow::Actor& actor, const xinfang::v1::GetCaseRequest& req) {
  auto org = core_.Org();
  if (!org.ok()) return org.status();
  auto rec = LoadVisibleCase(core_, actor, req.case_(), **org);
  if (!rec.ok()) return rec.status();
  auto shown = CaseFor(core_, actor, "GetCase", *rec, **org, core_.clock().Now());
  if (!shown.ok()) return shown.status();
  xinfang::v1::GetCaseResponse resp;
  if (!shown->redacted()) resp.set_receipt(ReceiptText(*shown, core_.calendar()));
  *resp.mutable_case_() = std::move(*shown);
  return resp;
}

absl::StatusOr<xinfang::v1::GetHistoryResponse> Query::GetHistory(
    const workflow::Actor& actor, const xinfang::v1::GetHistoryRequest& req) {
  auto org = core_.Org();
  if (!org.ok()) return org.status();
  auto rec = LoadVisibleCase(core_, actor, req.case_(), **org);
  if (!rec.ok()) return rec.status();
  auto history = core_.store().History(rec->id);
  if (!history.ok()) return history.status();
  const View view = ViewOfRecord(actor, *rec, **org);
  const workflow::Engine* engine =
      core_.EngineFor(rec->snapshot.workflow, rec->snapshot.workflow_version);
  xinfang::v1::GetHistoryResponse resp;
  for (const auto& e : *history) {
    xinfang::v1::CaseEvent* out = resp.add_events();
    *out = ToProto(e, rec->tracking_number);
    Show(view, out, engine != nullptr ? &engine->definition() : nullptr);
  }
  return resp;
}

absl::StatusOr<xinfang::v1::ListCasesResponse> Query::ListCases(
    const workflow::Actor& actor, const xinfang::v1::ListCasesRequest& req) {
  if (auto st = CheckRange("page_size", req.page_size(), 0, 500, " (0: the default, 50)");
      !st.ok()) {
    return st;
  }
  if (!xinfang::v1::Stage_IsValid(req.stage())) {
    return absl::InvalidArgumentError(absl::StrCat("stage: unknown stage ", req.stage()));
  }
  if (!xinfang::v1::Channel_IsValid(req.channel())) {
    return absl::InvalidArgumentError(absl::StrCat("channel: unknown channel ", req.channel()));
  }
  for (const auto& [field, value, max] :
       {std::tuple{"state", req.state(), 64}, std::tuple{"category", req.category(), 64},
        std::tuple{"unit", req.unit(), 64}, std::tuple{"petitioner", req.petitioner(), 100}}) {
    if (auto st = CheckText(field, value, max, false); !st.ok()) return st;
  }
  if (!req.state().empty() && !core_.KnownState(req.state())) {
    return absl::InvalidArgumentError(absl::StrCat("state: unknown state '", req.state(), "'"));
  }
  if (req.has_received_from()) {
    if (auto st = CheckTimestamp("received_from", req.received_from()); !st.ok()) return st;
  }
  if (req.has_received_before()) {
    if (auto st = CheckTimestamp("received_before", req.received_before()); !st.ok()) return st;
  }
  storage::CaseFilter f;
  f.state = req.state();
  f.stage = req.stage();
  f.channel = req.channel();

  f.overdue_only = req.overdue_only();
  f.now = core_.clock().Now();
  if (req.has_received_from()) f.received_from = FromProto(req.received_from());
  if (req.has_received_before()) f.received_before = FromProto(req.received_before());
  if (f.received_from && f.received_before && *f.received_from >= *f.received_before) {
    return absl::InvalidArgumentError("received_from: must be before received_before");
  }
  f.petitioner = req.petitioner();
  if (!req.page_token().empty() &&
      (!absl::SimpleAtoi(req.page_token(), &f.before_id) || f.before_id <= 0)) {
    return absl::InvalidArgumentError("page_token: not a token this service gave out");
  }
  auto org = core_.Org();
  if (!org.ok()) return org.status();
  auto scoped = ScopedUnit(actor, "unit", req.unit(), **org);
  if (!scoped.ok()) return scoped.status();
  if (!scoped->empty()) {
    // A subtree that is the whole tree filters nothing (every case's unit is
    // a unit of the tree), and the list is faster without the filter.
    std::vector<std::string> units = (*org)->Subtree(*scoped);
    if (units.size() < (*org)->size()) f.units = std::move(units);
  }
  if (!req.category().empty()) {
    // The category and those below it ("wages" takes "wages.arrears").
    auto categories = core_.Categories();
    if (!categories.ok()) return categories.status();
    for (const auto& [code, active] : **categories) {
      if (code == req.category() || absl::StartsWith(code, req.category() + ".")) {
        f.categories.push_back(code);
      }
    }
    if (f.categories.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("category: unknown category '", req.category(), "'"));
    }
  }
  // Searching by a person is for those who see persons; and a case the
  // reader sees redacted must not answer "did X petition against us?".
  if (!f.petitioner.empty()) {
    if (!SeesPersonalNumbers(actor.role)) {
      return absl::PermissionDeniedError(
          "petitioner: searching by petitioner is for intake clerks, case officers and auditors");
    }
  }
  const int page = req.page_size() > 0 ? req.page_size() : 50;
  f.limit = page + 1;  // one more: is there a next page?
  auto rows = core_.read_store().ListCases(f);
  if (!rows.ok()) return rows.status();
  // A search by a whole ID or phone number looks a person up: each case it
  // shows in full is recorded like a full read (auditors see it in
  // ListAccessLog) before the list is returned.
  const bool looks_up_person = IsValidResidentId(f.petitioner) || IsValidPhone(f.petitioner);
  std::vector<storage::AccessRecord> looked_up;
  xinfang::v1::ListCasesResponse resp;
  for (int i = 0; i < static_cast<int>(rows->size()) && i < page; ++i) {
    const storage::CaseRow& r = (*rows)[i];
    const View view =
        ViewOf(actor, CaseTies{r.complained_about_unit, r.conflicted_accounts, r.registrar_holding}, **org);
    if (!f.petitioner.empty() && view == View::kRedacted) continue;
    xinfang::v1::CaseSummary* c = resp.add_cases();
    c->set_id(r.id);
    c->set_tracking_number(r.tracking_number);
    c->set_state(r.state);
    c->set_stage(static_cast<xinfang::v1::Stage>(r.stage));
    c->set_channel(static_cast<xinfang::v1::Channel>(r.channel));
    c->set_category(r.category);
    c->set_responsible_unit(r.responsible_unit);
    *c->mutable_received_at() = ToProto(r.received_at);
    c->set_summary(r.summary);
    c->set_overdue(r.overdue);
    Show(view, c);
    if (looks_up_person && view == View::kFull) {
      looked_up.push_back(storage::AccessRecord{f.now, actor.account, RoleName(actor.role),
                                                actor.unit, "ListCases", r.id});
    }
  }
  if (!looked_up.empty()) {
    if (auto st = core_.identity().RecordAccess(looked_up); !st.ok()) return st;
  }
  if (static_cast<int>(rows->size()) > page) {
    resp.set_next_page_token(absl::StrCat((*rows)[page - 1].id));
  }
  return resp;
}

CaseQueryServiceImpl::CaseQueryServiceImpl(Core& core)
    : core_(core), query_(core), feed_(std::make_unique<Feed>(core)) {
  Feed* feed = feed_.get();
  core.AddServingListener([feed] { feed->Start(); });
  core.AddStoppingListener([feed] { feed->Close(); });
}

grpc::Status CaseQueryServiceImpl::WatchEvents(
    grpc::ServerContext* ctx, const xinfang::v1::WatchEventsRequest* req,
    grpc::ServerWriter<xinfang::v1::WatchEventsResponse>* writer) {
  return Guard("WatchEvents", [&]() -> grpc::Status {
    auto actor = Admit("WatchEvents", core_, *ctx);
    if (!actor.ok()) return ToGrpc(actor.status());
    auto end = Watch(
        core_, *feed_, *actor, *req,
        [&](const xinfang::v1::WatchEventsResponse& r) { return writer->Write(r); },
        [&] { return ctx->IsCancelled(); });
    if (!end.ok()) return ToGrpc(end.status());
    switch (*end) {
      case WatchEnd::kClientGone:
        return grpc::Status::OK;
      case WatchEnd::kClosed:
        return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                            "the server is stopping: resume with the last cursor");
      case WatchEnd::kCancelled:
        break;
    }
    return grpc::Status(grpc::StatusCode::CANCELLED, "watch cancelled");
  });
}

namespace {

xinfang::v1::Rate MakeRate(int numerator, int denominator) {
  xinfang::v1::Rate r;
  r.set_numerator(numerator);
  r.set_denominator(denominator);
  r.set_rate(denominator > 0 ? static_cast<double>(numerator) / denominator : 0.0);
  return r;
}

// One evaluation target's figures (docs/statistics.md).
xinfang::v1::EvaluationFigures EvaluationFiguresOf(const storage::Evaluations& e,
                                                   bool lapsed_counts_as_satisfied) {
  xinfang::v1::EvaluationFigures f;
  *f.mutable_participation() =
      MakeRate(e.satisfied + e.basically_satisfied + e.dissatisfied, e.due);
  *f.mutable_satisfaction() = MakeRate(
      e.satisfied + e.basically_satisfied + (lapsed_counts_as_satisfied ? e.lapsed : 0), e.due);
  f.set_participation_satisfaction(f.participation().rate() * f.satisfaction().rate());
  f.set_satisfied(e.satisfied);
  f.set_basically_satisfied(e.basically_satisfied);
  f.set_dissatisfied(e.dissatisfied);
  f.set_lapsed(e.lapsed);
  return f;
}

void AddCounts(const std::vector<std::pair<std::string, int>>& in,
               const std::function<std::string(const std::string&)>& label,
               google::protobuf::RepeatedPtrField<xinfang::v1::Count>* out) {
  for (const auto& [key, n] : in) {
    xinfang::v1::Count* c = out->Add();
    c->set_key(label(key));
    c->set_count(n);
  }
}

std::string ChannelKey(const std::string& number) {
  int n = 0;
  (void)absl::SimpleAtoi(number, &n);
  switch (n) {
    case xinfang::v1::CHANNEL_VISIT: return "visit";
    case xinfang::v1::CHANNEL_CALL: return "call";
    case xinfang::v1::CHANNEL_LETTER: return "letter";
    case xinfang::v1::CHANNEL_ONLINE: return "online";
    default: return number;
  }
}

std::string StageKey(const std::string& number) {
  int n = 0;
  (void)absl::SimpleAtoi(number, &n);
  std::string name = xinfang::v1::Stage_Name(static_cast<xinfang::v1::Stage>(n));
  absl::string_view v = name;
  absl::ConsumePrefix(&v, "STAGE_");
  return absl::AsciiStrToLower(v);
}

std::string PurposeKey(const std::string& number) {
  int n = 0;
  (void)absl::SimpleAtoi(number, &n);
  std::string name = xinfang::v1::Purpose_Name(static_cast<xinfang::v1::Purpose>(n));
  absl::string_view v = name;
  if (!absl::ConsumePrefix(&v, "PURPOSE_")) return number;
  return absl::AsciiStrToLower(v);
}

// A report period: "2026", "2026-Q1" or "2026-03" as whole months [first,
// first + months).
struct Period {
  absl::CivilMonth first;
  int months = 0;
  std::string Label() const {
    if (months == 12) return absl::StrCat(first.year());
    if (months == 3) return absl::StrCat(first.year(), "-Q", (first.month() - 1) / 3 + 1);
    return absl::FormatCivilTime(first);
  }
  Period Shift(int by_months) const { return Period{first + by_months, months}; }
};

absl::StatusOr<Period> ParsePeriod(const std::string& text) {
  const absl::Status bad = absl::InvalidArgumentError(
      "period: a year (2026), a quarter (2026-Q1) or a month (2026-03)");
  int year = 0;
  if (text.size() < 4 || !absl::SimpleAtoi(text.substr(0, 4), &year) || year < 1970 ||
      year > 9998) {
    return bad;
  }
  if (text.size() == 4) return Period{absl::CivilMonth(year, 1), 12};
  int n = 0;
  if (text.size() == 7 && text[4] == '-' && text[5] == 'Q' && absl::SimpleAtoi(text.substr(6), &n) &&
      n >= 1 && n <= 4) {
    return Period{absl::CivilMonth(year, 3 * (n - 1) + 1), 3};
  }
  if (text.size() == 7 && text[4] == '-' && absl::ascii_isdigit(text[5]) &&
      absl::SimpleAtoi(text.substr(5), &n) && n >= 1 && n <= 12) {
    return Period{absl::CivilMonth(year, n), 1};
  }
  return bad;
}

}  // namespace

absl::StatusOr<xinfang::v1::GetSituationReportResponse> Query::GetSituationReport(
    const workflow::Actor& actor, const xinfang::v1::GetSituationReportRequest& req) {
  auto period = ParsePeriod(req.period());
  if (!period.ok()) return period.status();
  auto org = core_.Org();
  if (!org.ok()) return org.status();
  auto scoped = ScopedUnit(actor, "unit", req.unit(), **org);
  if (!scoped.ok()) return scoped.status();
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(core_.config().time_zone, &tz)) {
    return absl::InternalError("the office's time zone is not known to this machine");
  }
  const Period periods[3] = {*period, period->Shift(-period->months), period->Shift(-12)};
  storage::ReportQuery q;
  if (!scoped->empty()) q.units = (*org)->Subtree(*scoped);
  for (int i = 0; i < 3; ++i) {
    q.from[i] = absl::FormatCivilTime(absl::CivilDay(periods[i].first));
    q.to[i] = absl::FormatCivilTime(absl::CivilDay(periods[i].first + periods[i].months));
  }
  q.period_start = absl::FromCivil(periods[0].first, tz);
  q.period_end = absl::FromCivil(periods[0].first + periods[0].months, tz);
  q.now = core_.clock().Now();
  auto counts = core_.warnings().Report(q);
  if (!counts.ok()) return counts.status();
  storage::StatsQuery sq;
  sq.unit = *scoped;
  sq.from = q.period_start;
  sq.to = q.period_end;
  sq.now = q.now;
  sq.time_zone = core_.config().time_zone;
  auto st = core_.read_store().Statistics(sq);
  if (!st.ok()) return st.status();
  auto names = core_.Names();
  if (!names.ok()) return names.status();

  xinfang::v1::GetSituationReportResponse r;
  r.set_unit(*scoped);
  r.set_period(periods[0].Label());
  r.set_previous_period(periods[1].Label());
  r.set_last_year_period(periods[2].Label());
  *r.mutable_period_start() = ToProto(q.period_start);
  *r.mutable_period_end() = ToProto(q.period_end);
  *r.mutable_as_of() = ToProto(q.now);
  auto fill = [](xinfang::v1::PeriodCount* c, const std::string& key,
                 const std::array<int, 3>& n) {
    c->set_key(key);
    c->set_count(n[0]);
    c->set_previous(n[1]);
    c->set_last_year(n[2]);
  };
  auto dim = [&](const std::string& name) -> const std::map<std::string, std::array<int, 3>>& {
    static const std::map<std::string, std::array<int, 3>> kNone;
    auto it = counts->dims.find(name);
    return it == counts->dims.end() ? kNone : it->second;
  };
  auto single = [&](const std::string& name) {
    auto it = dim(name).find("");
    return it == dim(name).end() ? std::array<int, 3>{} : it->second;
  };
  // Most in the period first, then by key.
  auto ranked = [&](const std::map<std::string, std::array<int, 3>>& m,
                    const std::function<std::string(const std::string&)>& key,
                    google::protobuf::RepeatedPtrField<xinfang::v1::PeriodCount>* out) {
    std::vector<std::pair<std::string, std::array<int, 3>>> v(m.begin(), m.end());
    std::stable_sort(v.begin(), v.end(),
                     [](const auto& a, const auto& b) { return a.second[0] > b.second[0]; });
    for (const auto& [k, n] : v) fill(out->Add(), key(k), n);
  };
  auto same = [](const std::string& k) { return k; };
  fill(r.mutable_received(), "", single("total"));
  ranked(dim("channel"), ChannelKey, r.mutable_by_channel());
  ranked(dim("category"), same, r.mutable_by_category());
  ranked(dim("purpose"), PurposeKey, r.mutable_by_purpose());
  ranked(counts->by_unit, same, r.mutable_by_unit());
  fill(r.mutable_group_petitions(), "", single("group"));
  for (const auto& [name, n] : counts->top_employers) {
    xinfang::v1::Count* c = r.add_top_employers();
    c->set_key(name);
    c->set_count(n);
  }
  for (const auto& item : r.by_category()) {
    if (r.top_matters_size() == 10 || item.count() == 0) break;
    xinfang::v1::Count* c = r.add_top_matters();
    c->set_key(item.key());
    c->set_count(item.count());
  }
  for (const auto& [name, n] : counts->repeat_persons) {
    xinfang::v1::RepeatPetitioner* p = r.add_repeat_petitioners();
    p->set_masked_name(MaskName(name));
    p->set_petitions(n);
  }
  *r.mutable_repeat_petitions() = MakeRate(single("repeat")[0], single("total")[0]);
  *r.mutable_on_time_acceptance_notice() = MakeRate(st->notice_on_time, st->notice_due);
  *r.mutable_on_time_completion() = MakeRate(st->decision_on_time, st->decision_due);
  *r.mutable_handling_unit() = EvaluationFiguresOf(st->handling_unit, false);
  *r.mutable_petition_office() = EvaluationFiguresOf(st->petition_office, false);
  *r.mutable_participation() = r.handling_unit().participation();
  *r.mutable_satisfaction() = r.handling_unit().satisfaction();
  AddCounts(counts->backlog_by_age, same, r.mutable_backlog_by_age());
  r.set_warnings_raised(counts->warnings_raised);
  auto name_of = [&](const std::string& key) {
    auto it = (*names)->find(key);
    if (it != (*names)->end()) (*r.mutable_names())[key.substr(key.find(':') + 1)] = it->second;
  };
  for (const auto& c : r.by_unit()) name_of("unit:" + c.key());
  for (const auto& c : r.by_category()) name_of("category:" + c.key());
  return r;
}

absl::StatusOr<xinfang::v1::GetStatisticsResponse> Query::GetStatistics(
    const workflow::Actor& actor, const xinfang::v1::GetStatisticsRequest& req) {
  if (!req.has_period_start()) return absl::InvalidArgumentError("period_start: required");
  if (!req.has_period_end()) return absl::InvalidArgumentError("period_end: required");
  if (auto st = CheckTimestamp("period_start", req.period_start()); !st.ok()) return st;
  if (auto st = CheckTimestamp("period_end", req.period_end()); !st.ok()) return st;
  storage::StatsQuery q;
  q.from = FromProto(req.period_start());
  q.to = FromProto(req.period_end());
  if (q.from >= q.to) {
    return absl::InvalidArgumentError("period_start: must be before period_end (exclusive)");
  }
  auto org = core_.Org();
  if (!org.ok()) return org.status();
  auto scoped = ScopedUnit(actor, "unit", req.unit(), **org);
  if (!scoped.ok()) return scoped.status();
  q.unit = *scoped;
  q.now = core_.clock().Now();
  q.time_zone = core_.config().time_zone;
  q.recount = req.recount();
  auto st = core_.read_store().Statistics(q);
  if (!st.ok()) return st.status();
  xinfang::v1::GetStatisticsResponse r;
  *r.mutable_on_time_acceptance_notice() = MakeRate(st->notice_on_time, st->notice_due);
  *r.mutable_on_time_completion() = MakeRate(st->decision_on_time, st->decision_due);
  *r.mutable_repeat_petitions() = MakeRate(st->repeats, st->received);
  *r.mutable_handling_unit() =
      EvaluationFiguresOf(st->handling_unit, req.lapsed_counts_as_satisfied());
  *r.mutable_petition_office() =
      EvaluationFiguresOf(st->petition_office, req.lapsed_counts_as_satisfied());
  *r.mutable_participation() = r.handling_unit().participation();
  *r.mutable_satisfaction() = r.handling_unit().satisfaction();
  r.set_lapsed_counts_as_satisfied(req.lapsed_counts_as_satisfied());
  r.set_average_acceptance_days(st->accepted > 0 ? st->acceptance_days_sum / st->accepted : 0);
  r.set_average_decision_days(st->decided > 0 ? st->decision_days_sum / st->decided : 0);
  *r.mutable_online_share() = MakeRate(st->online, st->received);
  r.set_received(st->received);
  auto same = [](const std::string& k) { return k; };
  AddCounts(st->by_channel, ChannelKey, r.mutable_by_channel());
  AddCounts(st->by_category, same, r.mutable_by_category());
  AddCounts(st->by_stage, StageKey, r.mutable_by_stage());
  AddCounts(st->by_state, same, r.mutable_by_state());
  AddCounts(st->by_unit, same, r.mutable_by_unit());
  AddCounts(st->by_month, same, r.mutable_by_month());
  return r;
}

grpc::Status CaseQueryServiceImpl::GetSituationReport(
    grpc::ServerContext* ctx, const xinfang::v1::GetSituationReportRequest* req,
    xinfang::v1::GetSituationReportResponse* resp) {
  return Serve("GetSituationReport", core_, ctx, resp,
               [&](const workflow::Actor& a) { return query_.GetSituationReport(a, *req); });
}

grpc::Status CaseQueryServiceImpl::GetStatistics(grpc::ServerContext* ctx,
                                                 const xinfang::v1::GetStatisticsRequest* req,
                                                 xinfang::v1::GetStatisticsResponse* resp) {
  return Serve("GetStatistics", core_, ctx, resp,
               [&](const workflow::Actor& a) { return query_.GetStatistics(a, *req); });
}

grpc::Status CaseQueryServiceImpl::ListCases(grpc::ServerContext* ctx,
                                             const xinfang::v1::ListCasesRequest* req,
                                             xinfang::v1::ListCasesResponse* resp) {
  return Serve("ListCases", core_, ctx, resp,
               [&](const workflow::Actor& a) { return query_.ListCases(a, *req); });
}

absl::StatusOr<xinfang::v1::ListDocumentsResponse> Query::ListDocuments(
    const workflow::Actor& actor, const xinfang::v1::ListDocumentsRequest& req) {
  auto org = core_.Org();
  if (!org.ok()) return org.status();
  auto rec = LoadVisibleCase(core_, actor, req.case_(), **org);
  if (!rec.ok()) return rec.status();
  auto docs = core_.store().Documents(rec->id);
  if (!docs.ok()) return docs.status();
  auto names = core_.Names();
  if (!names.ok()) return names.status();
  xinfang::v1::ListDocumentsResponse resp;
  for (const storage::DocumentRow& d : *docs) *resp.add_documents() = ToProto(d, **names);
  return resp;
}

absl::StatusOr<xinfang::v1::Document> Query::GetDocument(
    const workflow::Actor& actor, const xinfang::v1::GetDocumentRequest& req) {
  if (req.number().empty()) return absl::InvalidArgumentError("number: required (the 文号)");
  if (auto s = CheckText("number", req.number(), 200, false); !s.ok()) return s;
  auto doc = core_.store().Document(req.number());
  if (!doc.ok()) return doc.status();
  auto org = core_.Org();
  if (!org.ok()) return org.status();
  xinfang::v1::CaseRef ref;
  ref.set_id(doc->case_id);
  auto rec = LoadVisibleCase(core_, actor, ref, **org);
  if (!rec.ok()) return rec.status();
  if (doc->recipient == xinfang::v1::DOCUMENT_RECIPIENT_PETITIONER &&
      ViewOfRecord(actor, *rec, **org) == View::kRedacted) {
    return absl::PermissionDeniedError(absl::StrCat(
        "document ", doc->number, " names the petitioner, whom you may not see on case ",
        rec->tracking_number));
  }
  auto names = core_.Names();
  if (!names.ok()) return names.status();
  return ToProto(*doc, **names);
}

absl::StatusOr<xinfang::v1::ListNotificationsResponse> Query::ListNotifications(
    const workflow::Actor& actor, const xinfang::v1::ListNotificationsRequest& req) {
  auto org = core_.Org();
  if (!org.ok()) return org.status();
  auto rec = LoadVisibleCase(core_, actor, req.case_(), **org);
  if (!rec.ok()) return rec.status();
  storage::OutboxStore outbox(core_.pool());
  auto messages = outbox.OfCase(rec->id);
  if (!messages.ok()) return messages.status();
  const View view = ViewOfRecord(actor, *rec, **org);
  xinfang::v1::ListNotificationsResponse resp;
  for (const storage::OutboxMessage& m : *messages) {
    xinfang::v1::Notification* n = resp.add_notifications();
    n->set_id(m.id);
    n->set_kind(m.draft.kind);
    n->set_channel(m.draft.channel);
    // The petitioner's address is theirs: masked as the case's numbers are,
    // and not for a reader the case is redacted for.
    const bool petitioner = m.draft.kind != "escalation";
    if (!petitioner || view == View::kFull) {
      n->set_recipient(m.draft.recipient);
    } else if (view == View::kMasked) {
      n->set_recipient(MaskEmail(m.draft.recipient));
    }
    n->set_subject(m.draft.subject);
    n->set_state(m.state);
    n->set_attempts(m.attempts);
    *n->mutable_created_at() = ToProto(m.created_at);
    if (m.sent_at) *n->mutable_sent_at() = ToProto(*m.sent_at);
    if (m.state == "pending") *n->mutable_next_attempt_at() = ToProto(m.next_attempt_at);
    n->set_last_error(m.last_error);
    n->set_event_id(m.draft.event_id);
  }
  return resp;
}

grpc::Status CaseQueryServiceImpl::ListNotifications(
    grpc::ServerContext* ctx, const xinfang::v1::ListNotificationsRequest* req,
    xinfang::v1::ListNotificationsResponse* resp) {
  return Serve("ListNotifications", core_, ctx, resp,
               [&](const workflow::Actor& a) { return query_.ListNotifications(a, *req); });
}

grpc::Status CaseQueryServiceImpl::ListDocuments(grpc::ServerContext* ctx,
                                                 const xinfang::v1::ListDocumentsRequest* req,
                                                 xinfang::v1::ListDocumentsResponse* resp) {
  return Serve("ListDocuments", core_, ctx, resp,
               [&](const workflow::Actor& a) { return query_.ListDocuments(a, *req); });
}

grpc::Status CaseQueryServiceImpl::GetDocument(grpc::ServerContext* ctx,
                                               const xinfang::v1::GetDocumentRequest* req,
                                               xinfang::v1::Document* resp) {
  return Serve("GetDocument", core_, ctx, resp,
               [&](const workflow::Actor& a) { return query_.GetDocument(a, *req); });
}

grpc::Status CaseQueryServiceImpl::GetCase(grpc::ServerContext* ctx,
                                           const xinfang::v1::GetCaseRequest* req,
                                           xinfang::v1::GetCaseResponse* resp) {
  return Serve("GetCase", core_, ctx, resp,
               [&](const workflow::Actor& a) { return query_.GetCase(a, *req); });
}

grpc::Status CaseQueryServiceImpl::GetHistory(grpc::ServerContext* ctx,
                                              const xinfang::v1::GetHistoryRequest* req,
                                              xinfang::v1::GetHistoryResponse* resp) {
  return Serve("GetHistory", core_, ctx, resp,
               [&](const workflow::Actor& a) { return query_.GetHistory(a, *req); });
}

}  // namespace xinfang::query
