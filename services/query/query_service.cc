#include "services/query/query_service.h"

#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/grpc_util.h"
#include "services/common/validate.h"

namespace xinfang::query {

absl::StatusOr<xinfang::v1::GetCaseResponse> Query::GetCase(
    const workflow::Actor& actor, const xinfang::v1::GetCaseRequest& req) {
  auto rec = LoadCase(core_.store(), req.case_());
  if (!rec.ok()) return rec.status();
  xinfang::v1::GetCaseResponse resp;
  *resp.mutable_case_() =
      ToProto(*rec, core_.EngineFor(rec->snapshot.workflow, rec->snapshot.workflow_version),
              core_.clock().Now());
  return resp;
}

absl::StatusOr<xinfang::v1::GetHistoryResponse> Query::GetHistory(
    const workflow::Actor& actor, const xinfang::v1::GetHistoryRequest& req) {
  auto rec = LoadCase(core_.store(), req.case_());
  if (!rec.ok()) return rec.status();
  auto history = core_.store().History(rec->id);
  if (!history.ok()) return history.status();
  xinfang::v1::GetHistoryResponse resp;
  for (const auto& e : *history) *resp.add_events() = ToProto(e, rec->tracking_number);
  return resp;
}

absl::StatusOr<xinfang::v1::ListCasesResponse> Query::ListCases(
    const workflow::Actor& actor, const xinfang::v1::ListCasesRequest& req) {
  if (req.page_size() < 0 || req.page_size() > 500) {
    return absl::InvalidArgumentError("page_size: 1 to 500 (0: the default, 50)");
  }
  if (!xinfang::v1::Stage_IsValid(req.stage())) return absl::InvalidArgumentError("stage: unknown");
  if (!xinfang::v1::Channel_IsValid(req.channel())) {
    return absl::InvalidArgumentError("channel: unknown");
  }
  for (const auto& [field, value, max] :
       {std::tuple{"state", req.state(), 64}, std::tuple{"category", req.category(), 64},
        std::tuple{"unit", req.unit(), 64}, std::tuple{"petitioner", req.petitioner(), 100}}) {
    if (auto st = CheckText(field, value, max, false); !st.ok()) return st;
  }
  storage::CaseFilter f;
  f.state = req.state();
  f.stage = req.stage();
  f.channel = req.channel();
  f.category = req.category();
  f.unit = req.unit();
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
  if (!f.unit.empty()) {
    auto known = core_.UnitExists(f.unit);
    if (!known.ok()) return known.status();
    if (!*known) return absl::InvalidArgumentError(absl::StrCat("unit: unknown unit '", f.unit, "'"));
  }
  const int page = req.page_size() > 0 ? req.page_size() : 50;
  f.limit = page + 1;  // one more: is there a next page?
  auto rows = core_.store().ListCases(f);
  if (!rows.ok()) return rows.status();
  xinfang::v1::ListCasesResponse resp;
  for (int i = 0; i < static_cast<int>(rows->size()) && i < page; ++i) {
    const storage::CaseRow& r = (*rows)[i];
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
}

grpc::Status CaseQueryServiceImpl::WatchEvents(
    grpc::ServerContext* ctx, const xinfang::v1::WatchEventsRequest* req,
    grpc::ServerWriter<xinfang::v1::WatchEventsResponse>* writer) {
  return Guard("WatchEvents", [&]() -> grpc::Status {
    auto actor = ActorFrom(*ctx);
    if (!actor.ok()) return ToGrpc(actor.status());
    storage::FeedFilter f;
    if (req->from_now()) {
      auto last = core_.store().LastFeedPosition();
      if (!last.ok()) return ToGrpc(last.status());
      f.after = *last;
    } else if (!req->cursor().empty() &&
               (!absl::SimpleAtoi(req->cursor(), &f.after) || f.after < 0)) {
      return ToGrpc(absl::InvalidArgumentError("cursor: not a cursor this service gave out"));
    }
    if (req->has_case_()) {
      auto rec = LoadCase(core_.store(), req->case_());
      if (!rec.ok()) return ToGrpc(rec.status());
      f.case_id = rec->id;
    }
    if (!req->unit().empty()) {
      auto known = core_.UnitExists(req->unit());
      if (!known.ok()) return ToGrpc(known.status());
      if (!*known) {
        return ToGrpc(absl::InvalidArgumentError(absl::StrCat("unit: unknown unit '", req->unit(), "'")));
      }
      f.unit = req->unit();
    }
    for (const std::string& k : req->kinds()) {
      if (auto st = CheckText("kinds", k, 64, true); !st.ok()) return ToGrpc(st);
      f.kinds.push_back(k);
    }
    while (!ctx->IsCancelled()) {
      const uint64_t seen = feed_->generation();
      auto batch = core_.store().ReadFeed(f);
      if (!batch.ok()) return ToGrpc(batch.status());
      for (const storage::FeedEvent& e : *batch) {
        xinfang::v1::WatchEventsResponse r;
        *r.mutable_event() = ToProto(e.stored, e.tracking_number);
        r.set_cursor(absl::StrCat(e.position));
        // A slow consumer blocks only this call: writers never wait for it.
        if (!writer->Write(r)) return grpc::Status::OK;  // the client went away
        f.after = e.position;
      }
      if (static_cast<int>(batch->size()) < f.limit) feed_->WaitPast(seen, absl::Milliseconds(250));
    }
    return grpc::Status(grpc::StatusCode::CANCELLED, "watch cancelled");
  });
}

grpc::Status CaseQueryServiceImpl::ListCases(grpc::ServerContext* ctx,
                                             const xinfang::v1::ListCasesRequest* req,
                                             xinfang::v1::ListCasesResponse* resp) {
  return Serve("ListCases", ctx, resp,
               [&](const workflow::Actor& a) { return query_.ListCases(a, *req); });
}

grpc::Status CaseQueryServiceImpl::GetCase(grpc::ServerContext* ctx,
                                           const xinfang::v1::GetCaseRequest* req,
                                           xinfang::v1::GetCaseResponse* resp) {
  return Serve("GetCase", ctx, resp,
               [&](const workflow::Actor& a) { return query_.GetCase(a, *req); });
}

grpc::Status CaseQueryServiceImpl::GetHistory(grpc::ServerContext* ctx,
                                              const xinfang::v1::GetHistoryRequest* req,
                                              xinfang::v1::GetHistoryResponse* resp) {
  return Serve("GetHistory", ctx, resp,
               [&](const workflow::Actor& a) { return query_.GetHistory(a, *req); });
}

}  // namespace xinfang::query
