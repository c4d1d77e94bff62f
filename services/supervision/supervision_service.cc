#include "services/supervision/supervision_service.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/common/grpc_util.h"
#include "services/common/log.h"
#include "services/common/validate.h"

namespace xinfang::supervision {

Supervision::Supervision(Core& core)
    : core_(core), warnings_(std::make_unique<Warnings>(core)) {
  // Notifications by e-mail, when a relay is configured (docs/notifications.md).
  if (!core.config().smtp_server.empty()) {
    notifier_ = std::make_unique<Notifier>(
        core, std::make_unique<SmtpChannel>(core.config().smtp_server, core.config().smtp_from));
    Notifier* notifier = notifier_.get();
    core.AddClockListener([notifier] {
      if (auto p = notifier->ProcessOnce(); !p.ok()) {
        LogWarn(absl::StrCat("notifications after the clock moved: ", p.status().message()));
      }
    });
    core.AddServingListener([notifier] { notifier->Start(absl::Seconds(5)); });
    core.AddStoppingListener([notifier] { notifier->Stop(); });
  }
  if (core.config().sweep_interval <= absl::ZeroDuration()) return;
  Warnings* warnings = warnings_.get();
  core.AddClockListener([warnings] {
    if (auto n = warnings->ProcessOnce(); !n.ok()) {
      LogWarn(absl::StrCat("warnings after the clock moved: ", n.status().message()));
    }
  });
  core.AddServingListener([warnings] { warnings->Start(absl::Seconds(1)); });
  core.AddStoppingListener([warnings] { warnings->Stop(); });
  sweeper_ = std::make_unique<Sweeper>(
      core, SweeperOptions{core.config().sweep_batch, core.config().sweep_interval,
                           std::min(core.config().sweep_parallel, core.config().pool_size)});
  Sweeper* sweeper = sweeper_.get();
  core.AddClockListener([sweeper] {
    if (auto swept = sweeper->SweepOnce(); !swept.ok()) {
      LogWarn(absl::StrCat("sweep after the clock moved: ", swept.status().message()));
    }
  });
  core.AddServingListener([sweeper] { sweeper->Start(); });
}

namespace {

std::string PageToken(const storage::DueRow& r) {
  return absl::StrCat(absl::ToUnixMicros(r.timer.deadline.due_at), ":", r.case_id, ":", r.timer.name);
}

absl::StatusOr<storage::DueQuery::Key> ParsePageToken(const std::string& token) {
  std::vector<std::string> parts = absl::StrSplit(token, absl::MaxSplits(':', 2));
  storage::DueQuery::Key key;
  int64_t us = 0;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &us) ||
      !absl::SimpleAtoi(parts[1], &key.case_id) || parts[2].empty()) {
    return absl::InvalidArgumentError("page_token: not a token this service gave out");
  }
  key.due_at = absl::FromUnixMicros(us);
  key.timer = parts[2];
  return key;
}

}  // namespace

absl::StatusOr<xinfang::v1::ListDeadlinesResponse> Supervision::ListDeadlines(
    const workflow::Actor& actor, const xinfang::v1::ListDeadlinesRequest& req) {
  const absl::Time now = core_.clock().Now();
  if (auto st = CheckRange("page_size", req.page_size(), 0, 1000, " (0: the default, 100)");
      !st.ok()) {
    return st;
  }
  if (auto st = CheckRange("min_days_overdue", req.min_days_overdue(), 0, 36500); !st.ok()) {
    return st;
  }
  if (!xinfang::v1::Stage_IsValid(req.stage())) {
    return absl::InvalidArgumentError(absl::StrCat("stage: unknown stage ", req.stage()));
  }
  if (auto st = CheckText("timer", req.timer(), 64, false); !st.ok()) return st;
  if (!req.timer().empty() && !core_.KnownTimer(req.timer())) {
    return absl::InvalidArgumentError(absl::StrCat("timer: unknown timer '", req.timer(), "'"));
  }
  if (auto st = CheckText("unit", req.unit(), 64, false); !st.ok()) return st;
  if (!req.case_officer().empty()) {
    if (auto st = CheckAccountName("case_officer", req.case_officer()); !st.ok()) return st;
  }
  if (req.has_before()) {
    if (auto st = CheckTimestamp("before", req.before()); !st.ok()) return st;
  }
  storage::DueQuery q;
  q.before = req.has_before() ? FromProto(req.before()) : now + kDueSoon;
  if (req.overdue_only() || req.min_days_overdue() > 0) {
    // Overdue from the deadline instant on: due_at <= now - N days (the query's
    // bound is exclusive, and instants are stored to the microsecond).
    q.before = std::min(q.before,
                        now - absl::Hours(24) * req.min_days_overdue() + absl::Microseconds(1));
  }
  q.unit = req.unit();
  q.timer = req.timer();
  q.stage = req.stage();
  q.escalated_only = req.escalated_only();
  q.case_officer = req.case_officer();
  q.limit = req.page_size() > 0 ? req.page_size() : 100;
  if (!req.page_token().empty()) {
    auto key = ParsePageToken(req.page_token());
    if (!key.ok()) return key.status();
    q.after = *key;
  }
  auto org = core_.Org();
  if (!org.ok()) return org.status();
  auto scoped = ScopedUnit(actor, "unit", q.unit, **org);
  if (!scoped.ok()) return scoped.status();
  q.unit = *scoped;
  // One more than asked: whether there is a next page.
  ++q.limit;
  auto rows = core_.read_store().ListDue(q);
  if (!rows.ok()) return rows.status();
  xinfang::v1::ListDeadlinesResponse r;
  *r.mutable_before() = ToProto(q.before);
  const int page = q.limit - 1;
  for (int i = 0; i < static_cast<int>(rows->size()) && i < page; ++i) {
    const storage::DueRow& row = (*rows)[i];
    xinfang::v1::DueItem* item = r.add_items();
    item->set_case_id(row.case_id);
    item->set_tracking_number(row.tracking_number);
    item->set_state(row.state);
    item->set_responsible_unit(row.responsible_unit);
    item->set_owing_unit(row.owing_unit);
    item->set_stage(static_cast<xinfang::v1::Stage>(row.stage));
    item->set_case_officer(row.case_officer);
    const workflow::Engine* engine = core_.EngineFor(row.workflow, row.workflow_version);
    if (engine != nullptr) {
      if (const auto* st = engine->definition().FindState(row.state)) {
        item->set_state_title(st->title());
      }
    }
    *item->mutable_deadline() = ToProto(row.timer, now, engine);
    if (now >= row.timer.deadline.due_at) {
      item->set_days_overdue(static_cast<int>((now - row.timer.deadline.due_at) / absl::Hours(24)));
    }
  }
  if (static_cast<int>(rows->size()) > page) r.set_next_page_token(PageToken((*rows)[page - 1]));
  return r;
}

absl::StatusOr<xinfang::v1::DashboardResponse> Supervision::Dashboard(
    const workflow::Actor& actor, const xinfang::v1::DashboardRequest& req) {
  const absl::Time now = core_.clock().Now();
  auto org = core_.Org();
  if (!org.ok()) return org.status();
  auto unit = ScopedUnit(actor, "unit", req.unit(), **org);
  if (!unit.ok()) return unit.status();
  auto counts = core_.read_store().Dashboard(*unit, now, kDueSoon, req.recount());
  if (!counts.ok()) return counts.status();
  xinfang::v1::DashboardResponse r;
  *r.mutable_now() = ToProto(now);
  for (const storage::DashboardCount& c : *counts) {
    xinfang::v1::DashboardRow* row = r.add_rows();
    row->set_unit(c.unit);
    row->set_stage(static_cast<xinfang::v1::Stage>(c.stage));
    row->set_open_cases(c.open_cases);
    row->set_due_soon(c.due_soon);
    row->set_overdue(c.overdue);
    row->set_escalated(c.escalated);
    row->set_notices_awaiting_reply(c.notices);
  }
  return r;
}

grpc::Status SupervisionServiceImpl::ListDeadlines(grpc::ServerContext* ctx,
                                                   const xinfang::v1::ListDeadlinesRequest* req,
                                                   xinfang::v1::ListDeadlinesResponse* resp) {
  return Serve("ListDeadlines", core_, ctx, resp,
               [&](const workflow::Actor& a) { return supervision_.ListDeadlines(a, *req); });
}

grpc::Status SupervisionServiceImpl::Dashboard(grpc::ServerContext* ctx,
                                               const xinfang::v1::DashboardRequest* req,
                                               xinfang::v1::DashboardResponse* resp) {
  return Serve("Dashboard", core_, ctx, resp,
               [&](const workflow::Actor& a) { return supervision_.Dashboard(a, *req); });
}

grpc::Status SupervisionServiceImpl::ListWarnings(grpc::ServerContext* ctx,
                                                  const xinfang::v1::ListWarningsRequest* req,
                                                  xinfang::v1::ListWarningsResponse* resp) {
  return Serve("ListWarnings", core_, ctx, resp,
               [&](const workflow::Actor& a) { return supervision_.warnings().List(a, *req); });
}

grpc::Status SupervisionServiceImpl::GetWarning(grpc::ServerContext* ctx,
                                                const xinfang::v1::GetWarningRequest* req,
                                                xinfang::v1::Warning* resp) {
  return Serve("GetWarning", core_, ctx, resp,
               [&](const workflow::Actor& a) { return supervision_.warnings().Get(a, req->id()); });
}

grpc::Status SupervisionServiceImpl::UpdateWarning(grpc::ServerContext* ctx,
                                                   const xinfang::v1::UpdateWarningRequest* req,
                                                   xinfang::v1::Warning* resp) {
  return Serve("UpdateWarning", core_, ctx, resp,
               [&](const workflow::Actor& a) { return supervision_.warnings().Update(a, *req); });
}

}  // namespace xinfang::supervision
