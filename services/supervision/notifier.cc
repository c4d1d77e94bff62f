#include "services/supervision/notifier.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "services/common/log.h"
#include "services/common/query_code.h"

namespace xinfang::supervision {
namespace {

namespace v1 = xinfang::v1;
constexpr int kFeedBatch = 200;
constexpr int kDeliverBatch = 50;

bool RecordsService(const v1::Action& a) {
  return std::find(a.record().begin(), a.record().end(), v1::RECORD_KIND_SERVICE) !=
         a.record().end();
}

}  // namespace

absl::Duration NotifyBackoff(int attempts) {
  const int doublings = std::clamp(attempts - 1, 0, 20);
  return std::min(absl::Minutes(1) * (int64_t{1} << doublings), absl::Hours(6));
}

Notifier::Notifier(Core& core, std::unique_ptr<MessageChannel> channel)
    : core_(core), channel_(std::move(channel)), outbox_(core.pool()) {}

Notifier::~Notifier() { Stop(); }

bool Notifier::On(const std::string& kind) const {
  const auto& off = core_.config().notify_off;
  return std::find(off.begin(), off.end(), kind) == off.end();
}

absl::Status Notifier::MessagesOf(const storage::FeedEvent& fe,
                                  std::vector<storage::OutboxDraft>* out) {
  const workflow::Event& e = fe.stored.event;
  const workflow::Engine* engine = core_.EngineFor(fe.workflow, fe.workflow_version);
  if (engine == nullptr) return absl::OkStatus();
  const workflow::Definition& def = engine->definition();
  auto draft = [&](const std::string& kind, const std::string& to, std::string subject,
                   std::string body) {
    storage::OutboxDraft d;
    d.event_id = fe.stored.id;
    d.case_id = fe.stored.case_id;
    d.kind = kind;
    d.channel = channel_->name();
    d.recipient = to;
    d.subject = std::move(subject);
    d.body = std::move(body);
    return d;
  };
  // The petitioners' addresses, read only when an event concerns them.
  auto petitioners = [&]() -> absl::StatusOr<std::vector<std::string>> {
    auto rec = core_.store().Get(fe.stored.case_id);
    if (!rec.ok()) return rec.status();
    std::set<std::string> to;
    if (!rec->intake.anonymous()) {
      for (const v1::Petitioner& p : rec->intake.petitioners()) {
        if (!p.email().empty()) to.insert(p.email());
      }
    }
    return std::vector<std::string>(to.begin(), to.end());
  };
  const std::string status_url =
      PublicStatusUrl(core_.config().public_status_url, fe.tracking_number);
  const std::string see = status_url.empty()
                              ? "凭信访编号和查询码可在网上查询办理情况。"
                              : absl::StrCat("凭查询码可在网上查询办理情况：", status_url);

  // petitioner_document: a document reached the petitioner.
  if (On("petitioner_document") && !e.action.empty()) {
    const v1::Action* a = def.FindAction(e.action);
    std::string number;
    auto n = e.fields.find("document_number");
    if (a != nullptr && n != e.fields.end() && !workflow::DocumentAwaitsService(*a)) {
      number = n->second;
    }
    if (a != nullptr && RecordsService(*a)) {
      // The decision or opinion served: the document of the action that led
      // to the state the service was recorded in.
      auto docs = core_.store().Documents(fe.stored.case_id);
      if (!docs.ok()) return docs.status();
      for (const storage::DocumentRow& d : *docs) {
        const v1::Action* by = def.FindAction(d.action);
        if (by != nullptr && by->to() == e.from_state && workflow::DocumentAwaitsService(*by)) {
          number = d.number;
        }
      }
    }
    if (!number.empty()) {
      auto doc = core_.store().Document(number);
      if (!doc.ok()) return doc.status();
      if (doc->recipient == v1::DOCUMENT_RECIPIENT_PETITIONER) {
        auto to = petitioners();
        if (!to.ok()) return to.status();
        for (const std::string& addr : *to) {
          storage::OutboxDraft d = draft(
              "petitioner_document", addr,
              absl::StrCat(doc->title, "（信访编号 ", fe.tracking_number, "）"),
              absl::StrCat("您好：\n\n您的信访事项（信访编号 ", fe.tracking_number, "）的",
                           doc->title, "（", doc->number, "）已出具，见附件。\n\n", see,
                           "\n\n此邮件由信访系统自动发送，请勿回复。\n"));
          d.attachment_name = absl::StrCat(doc->title, "-", doc->number, ".html");
          d.attachment = doc->body;
          out->push_back(std::move(d));
        }
      }
    }
  }

  // petitioner_window: one of the petitioner's own windows closes soon.
  if (On("petitioner_window") && e.kind == "deadline_warning") {
    auto t = e.fields.find("timer");
    const v1::Timer* timer = t == e.fields.end() ? nullptr : def.FindTimer(t->second);
    const v1::TimerPurpose purpose = timer == nullptr ? v1::TIMER_PURPOSE_UNSPECIFIED
                                                      : timer->purpose();
    const char* what = purpose == v1::TIMER_PURPOSE_EVALUATION       ? "评价处理结果"
                       : purpose == v1::TIMER_PURPOSE_REVIEW_REQUEST  ? "申请复查"
                       : purpose == v1::TIMER_PURPOSE_RECHECK_REQUEST ? "申请复核"
                                                                      : nullptr;
    if (what != nullptr) {
      auto to = petitioners();
      if (!to.ok()) return to.status();
      const std::string due = e.fields.count("due_day") ? e.fields.at("due_day") : "";
      for (const std::string& addr : *to) {
        out->push_back(draft(
            "petitioner_window", addr,
            absl::StrCat(what, "的期限将于 ", due, " 届满（信访编号 ", fe.tracking_number, "）"),
            absl::StrCat("您好：\n\n您的信访事项（信访编号 ", fe.tracking_number, "）", what,
                         "的期限将于 ", due, " 届满，逾期不再办理。\n\n", see,
                         "\n\n此邮件由信访系统自动发送，请勿回复。\n")));
      }
    }
  }

  // escalation: the staff of the rung. Never the petitioner's name.
  if (On("escalation") && e.kind == "escalated") {
    const std::string notify = e.fields.count("notify") ? e.fields.at("notify") : "";
    const std::string recipient = e.fields.count("recipient") ? e.fields.at("recipient") : "";
    auto org = core_.Org();
    if (!org.ok()) return org.status();
    absl::StatusOr<std::vector<std::string>> to;
    if (recipient.empty()) {
      to = std::vector<std::string>{};
    } else if (!(*org)->Contains(recipient)) {  // an account: the case officer
      to = outbox_.EmailsOfAccounts({recipient});
    } else if (notify == "unit_head") {
      to = outbox_.EmailsOfUnit(recipient, {"unit_head"});
    } else if (notify == "case_officer") {  // no officer yet: the unit's heads
      to = outbox_.EmailsOfUnit(recipient, {"unit_head"});
    } else {  // supervising_unit, top
      to = outbox_.EmailsOfUnit(recipient, {"unit_head", "supervisor"});
    }
    if (!to.ok()) return to.status();
    const std::string timer_name = e.fields.count("timer") ? e.fields.at("timer") : "";
    const v1::Timer* timer = def.FindTimer(timer_name);
    const std::string title = timer == nullptr ? timer_name : timer->title();
    const std::string rung = e.fields.count("rung") ? e.fields.at("rung") : "";
    std::string rung_title;
    for (const auto& r : def.proto().ladder()) {
      if (absl::StrCat(r.rung()) == rung) rung_title = r.title();
    }
    const std::string due = e.fields.count("due_day") ? e.fields.at("due_day") : "";
    for (const std::string& addr : *to) {
      out->push_back(draft(
          "escalation", addr,
          absl::StrCat("督办提醒：", fe.tracking_number, " ", title, " 已逾期"),
          absl::StrCat("信访事项 ", fe.tracking_number, " 的期限「", title, "」已于 ", due,
                       " 届满而未办结，现升级至第 ", rung, " 级",
                       rung_title.empty() ? "" : absl::StrCat("（", rung_title, "）"),
                       "。\n请登录信访系统查看并督促办理。\n\n此邮件由信访系统自动发送，请勿回复。\n")));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Notifier::Pass> Notifier::ProcessOnce() {
  absl::MutexLock one(&process_mu_);
  Pass pass;
  if (channel_ == nullptr) return pass;
  // Events reach the feed through the sequencer; a process without the
  // query service (a split deployment) places them itself.
  if (auto placed = core_.store().SequenceEvents(5000); !placed.ok()) return placed.status();
  for (;;) {
    auto from = outbox_.Cursor();
    if (!from.ok()) return from.status();
    storage::FeedFilter f;
    f.after = *from;
    f.limit = kFeedBatch;
    auto events = core_.store().ReadFeed(f);
    if (!events.ok()) return events.status();
    if (events->empty()) break;
    std::vector<storage::OutboxDraft> drafts;
    for (const storage::FeedEvent& e : *events) {
      if (auto s = MessagesOf(e, &drafts); !s.ok()) return s;
    }
    auto moved = outbox_.Advance(*from, events->back().position, drafts, core_.clock().Now());
    if (!moved.ok()) return moved.status();
    if (!*moved) break;  // another process took this stretch: its messages are made
    pass.made += static_cast<int>(drafts.size());
    if (static_cast<int>(events->size()) < kFeedBatch) break;
  }
  for (;;) {
    auto delivered = outbox_.Deliver(
        core_.clock().Now(), kDeliverBatch, kNotifyMaxAttempts, NotifyBackoff,
        [&](const storage::OutboxMessage& m) {
          OutboundMessage out;
          out.to = m.draft.recipient;
          out.subject = m.draft.subject;
          out.text = m.draft.body;
          out.attachment_name = m.draft.attachment_name;
          out.attachment_html = m.draft.attachment;
          out.message_id = absl::StrCat("<outbox-", m.id, ".", absl::ToUnixSeconds(m.created_at),
                                        "@xinfang>");
          out.date = core_.clock().Now();
          const absl::Status s = channel_->Send(out);
          if (!s.ok()) {
            LogWarn(absl::StrCat("notifications: message ", m.id, " to ", m.draft.recipient,
                                 " (try ", m.attempts + 1, "): ", s.message()));
          }
          return s;
        });
    if (!delivered.ok()) return delivered.status();
    pass.delivered.sent += delivered->sent;
    pass.delivered.retried += delivered->retried;
    pass.delivered.failed += delivered->failed;
    if (delivered->sent + delivered->retried + delivered->failed < kDeliverBatch) break;
  }
  return pass;
}

void Notifier::Start(absl::Duration interval) {
  if (channel_ == nullptr) return;
  background_.Start(core_.config().db_url, interval, "notifications", nullptr, [this] {
    if (auto p = ProcessOnce(); !p.ok()) {
      LogWarn(absl::StrCat("notifications: ", p.status().message()));
    }
  });
}

void Notifier::Stop() { background_.Stop(); }

}  // namespace xinfang::supervision
