#include "services/supervision/warnings.h"

#include <algorithm>
#include <optional>
#include <vector>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "services/common/access.h"
#include "services/common/grpc_util.h"
#include "services/common/log.h"
#include "services/common/validate.h"

namespace xinfang::supervision {
namespace {

using storage::CaseAt;
using storage::WarnPetition;
using storage::WarnScope;
using storage::WarnWave;
using xinfang::v1::WarningRule;

constexpr int kBatchEvents = 500;

std::string DayPlus(const std::string& day, int days) {
  absl::CivilDay d;
  if (!absl::ParseCivilTime(day, &d)) return day;
  return absl::FormatCivilTime(d + days);
}

bool InCategories(const std::string& category, const WarningRule& rule) {
  if (rule.categories().empty()) return true;
  for (const std::string& k : rule.categories()) {
    if (category == k || (category.size() > k.size() && category.compare(0, k.size(), k) == 0 &&
                          category[k.size()] == '.')) {
      return true;
    }
  }
  return false;
}

// The petitions within one window that hold the new one: the window ending
// at its receipt or the one starting there, whichever counts more. (A
// petition may be registered after others received later than it.)
std::vector<CaseAt> Wave(absl::Time t, const std::vector<CaseAt>& around) {
  std::vector<CaseAt> before, after;
  for (const CaseAt& c : around) {
    if (c.received_at <= t) before.push_back(c);
    if (c.received_at >= t) after.push_back(c);
  }
  // The nearest kMaxCounted of each side.
  const std::size_t n = storage::kMaxCounted;
  if (before.size() > n) before.erase(before.begin(), before.end() - n);
  if (after.size() > n) after.resize(n);
  return after.size() > before.size() ? after : before;
}

xinfang::v1::Warning ToProto(const storage::WarningRow& w) {
  xinfang::v1::Warning out;
  out.set_id(w.id);
  out.set_rule(w.rule);
  out.set_rule_title(w.rule_title);
  out.set_kind(static_cast<xinfang::v1::WarningRuleKind>(w.kind));
  out.set_severity(static_cast<xinfang::v1::WarningSeverity>(w.severity));
  out.set_subject(w.subject);
  out.set_subject_label(w.subject_label);
  out.set_state(static_cast<xinfang::v1::WarningState>(w.state));
  out.set_version(w.version);
  *out.mutable_raised_at() = xinfang::ToProto(w.raised_at);
  *out.mutable_window_start() = xinfang::ToProto(w.window_start);
  *out.mutable_window_end() = xinfang::ToProto(w.window_end);
  out.set_case_count(w.case_count);
  out.set_detail(w.detail);
  for (const std::string& u : w.units) out.add_units(u);
  for (const auto& c : w.cases) {
    auto* wc = out.add_cases();
    wc->set_case_id(c.case_id);
    wc->set_tracking_number(c.tracking_number);
    *wc->mutable_received_at() = xinfang::ToProto(c.received_at);
    wc->set_registering_unit(c.unit);
    wc->set_category(c.category);
  }
  for (const auto& s : w.steps) {
    auto* st = out.add_steps();
    st->set_state(static_cast<xinfang::v1::WarningState>(s.state));
    st->set_by(s.by);
    *st->mutable_at() = xinfang::ToProto(s.at);
    st->set_note(s.note);
  }
  return out;
}

// Whom a warning is shown to (docs/warnings.md), as the list's filter and
// as the check of one warning: a petition registered at one of `units`
// (empty: any), and none complaining about the caller's unit or a unit
// above it (`hidden_from`).
struct Sight {
  std::vector<std::string> units;
  std::vector<std::string> hidden_from;
};

// `unit`: the caller's scope, or a unit within it (ScopedUnit).
Sight SightOf(const workflow::Actor& actor, const std::string& unit,
              const workflow::MapOrgTree& org) {
  Sight s;
  if (!unit.empty()) s.units = org.Subtree(unit);
  for (std::optional<std::string> u = actor.unit; u && !u->empty(); u = org.Parent(*u)) {
    s.hidden_from.push_back(*u);
  }
  return s;
}

bool Sees(const Sight& s, const storage::WarningRow& w) {
  auto among = [](const std::vector<std::string>& list, const std::string& x) {
    return std::find(list.begin(), list.end(), x) != list.end();
  };
  for (const std::string& c : w.complained_units) {
    if (among(s.hidden_from, c)) return false;
  }
  return s.units.empty() || std::any_of(w.units.begin(), w.units.end(), [&](const std::string& u) {
           return among(s.units, u);
         });
}

}  // namespace

Warnings::Warnings(Core& core) : core_(core) {}

Warnings::~Warnings() { Stop(); }

absl::StatusOr<int> Warnings::ProcessOnce() {
  absl::MutexLock one_pass(&process_mu_);
  // Events reach the feed through the sequencer; a process without the
  // query service (a split deployment) places them itself.
  if (auto placed = core_.store().SequenceEvents(5000); !placed.ok()) return placed.status();
  // What every petition of the pass is checked with, read once.
  Pass pass;
  auto org = core_.Org();
  if (!org.ok()) return org.status();
  auto names = core_.Names();
  if (!names.ok()) return names.status();
  pass.org = *org;
  pass.names = *names;
  pass.rules = core_.warning_rules().Enabled();
  for (const WarningRule* r : pass.rules) {
    WarnScope s;
    if (!r->unit().empty()) s.units = pass.org->Subtree(r->unit());
    s.categories.assign(r->categories().begin(), r->categories().end());
    pass.scopes.push_back(std::move(s));
  }
  int total = 0;
  while (!stopping_.load()) {
    auto r = core_.warnings().Process(
        kBatchEvents, core_.clock().Now(),
        [this, &pass](storage::WarnBatch& b, const storage::WarnItem& item) {
          return Decide(b, item, pass);
        });
    if (!r.ok()) return r.status();
    if (r->failed > 0) {
      LogWarn(absl::StrCat("warnings: ", r->failed, " petition(s) not checked, e.g. ",
                           r->last_error.message()));
    }
    if (r->consumed <= 0) return total;
    total += r->consumed;
  }
  return total;
}

absl::Status Warnings::Decide(storage::WarnBatch& batch, const storage::WarnItem& item,
                              const Pass& pass) {
  auto name_of = [&](const std::string& key) {
    auto it = pass.names->find(key);
    return it == pass.names->end() ? key.substr(key.find(':') + 1) : it->second;
  };
  const std::vector<const WarningRule*>& rules = pass.rules;
  const std::vector<WarnScope>& scopes = pass.scopes;
  auto in_scope = [&](const WarnPetition& p, size_t i) {
    const WarningRule& r = *rules[i];
    return (r.unit().empty() || pass.org->IsWithin(p.unit, r.unit())) &&
           InCategories(p.category, r);
  };
  auto wave_of = [](const WarningRule& r, const WarnPetition& p) {
    WarnWave w;
    w.rule = r.name();
    w.rule_title = r.title();
    w.kind = r.kind();
    w.severity = r.severity();
    w.at = p.received_at;
    w.trigger_case_id = p.case_id;
    return w;
  };
  // A warning about this one petition (a surge or a rise it tipped, a group
  // petition left unaccepted): its window runs window_days from its receipt.
  auto about_one = [&](const WarningRule& r, const WarnPetition& p, std::string subject,
                       std::string label, std::string detail) {
    WarnWave w = wave_of(r, p);
    w.subject = std::move(subject);
    w.subject_label = std::move(label);
    w.start = p.received_at;
    w.end = p.received_at + absl::Hours(24) * r.window_days();
    w.cases = {CaseAt{p.case_id, p.received_at, p.unit, p.complained_unit}};
    w.detail = std::move(detail);
    return w;
  };

  if (item.watch_rule.empty()) {
    const WarnPetition& p = *item.petition;
    const absl::Time started = absl::Now();
    int raised = 0;
    auto raise = [&](WarnWave w) {
      if (batch.RaiseOrExtend(w).second) ++raised;
    };
    // A run of petitions counted against `threshold` within the window.
    auto counted = [&](const WarningRule& r, WarnWave w, const std::vector<CaseAt>& cases,
                       const std::string& what) {
      if (static_cast<int>(cases.size()) < r.threshold()) return;
      const absl::Duration window = absl::Hours(24) * r.window_days();
      w.start = cases.front().received_at;
      w.end = cases.back().received_at + window;
      w.cases = cases;
      const int n = static_cast<int>(cases.size());
      w.detail = absl::StrFormat("%s%d日内%s%d件（阈值%d）", what, r.window_days(),
                                 n >= storage::kMaxCounted ? "至少" : "", n, r.threshold());
      raise(std::move(w));
    };
    // Each rule's questions, asked together in one round trip; first[i]:
    // where rule i's questions start (kNone: it asks none).
    constexpr size_t kNone = static_cast<size_t>(-1);
    std::vector<storage::WarnQuestion> questions;
    std::vector<size_t> first(rules.size(), kNone);
    std::vector<bool> applies(rules.size());
    using Kind = storage::WarnQuestion::Kind;
    auto ask = [&](size_t i, Kind kind, std::string key) -> storage::WarnQuestion& {
      if (first[i] == kNone) first[i] = questions.size();
      storage::WarnQuestion& q = questions.emplace_back();
      q.kind = kind;
      q.key = std::move(key);
      q.at = p.received_at;
      q.window = absl::Hours(24) * rules[i]->window_days();
      q.scope = &scopes[i];
      return q;
    };
    auto days = [&](size_t i, Kind kind, std::string key, int lo, int split) {
      storage::WarnQuestion& q = ask(i, kind, std::move(key));
      q.lo = DayPlus(p.day, lo);
      q.split = DayPlus(p.day, split);
      q.hi = p.day;
    };
    for (size_t i = 0; i < rules.size(); ++i) {
      const WarningRule& r = *rules[i];
      applies[i] = in_scope(p, i);
      if (!applies[i]) continue;
      const int w_days = r.window_days();
      switch (r.kind()) {
        case v1::WARNING_RULE_KIND_REPEAT_PETITIONER:
          for (const auto& person : p.persons) ask(i, Kind::kPerson, absl::StrCat(person.first));
          break;
        case v1::WARNING_RULE_KIND_SAME_EMPLOYER:
          if (!p.complained_unit.empty()) {
            ask(i, Kind::kComplained, p.complained_unit);
          } else if (!p.employer.empty()) {
            ask(i, Kind::kEmployer, p.employer).similarity = r.similarity();
          }
          break;
        case v1::WARNING_RULE_KIND_CATEGORY_SURGE:
          days(i, Kind::kCategoryDays, p.category, -w_days * (1 + r.baseline_windows()), -w_days);
          break;
        case v1::WARNING_RULE_KIND_UNIT_VOLUME_RISE:
          days(i, Kind::kUnitDays, p.unit, -2 * w_days, -w_days);
          break;
        default:
          break;
      }
    }
    const std::vector<storage::WarnAnswer> answers = batch.Ask(questions);
    for (size_t i = 0; i < rules.size(); ++i) {
      if (!applies[i]) continue;
      const WarningRule& r = *rules[i];
      const int w_days = r.window_days();
      const absl::Time t = p.received_at;
      const storage::WarnAnswer* a = first[i] == kNone ? nullptr : &answers[first[i]];
      switch (r.kind()) {
        case v1::WARNING_RULE_KIND_REPEAT_PETITIONER:
          for (size_t k = 0; k < p.persons.size(); ++k) {
            WarnWave w = wave_of(r, p);
            w.subject = absl::StrCat("person:", p.persons[k].first);
            w.subject_label = MaskName(p.persons[k].second);
            counted(r, std::move(w), Wave(t, a[k].cases), "同一信访人");
          }
          break;
        case v1::WARNING_RULE_KIND_SAME_EMPLOYER: {
          if (a == nullptr) break;
          WarnWave w = wave_of(r, p);
          if (!p.complained_unit.empty()) {
            w.subject = absl::StrCat("unit:", p.complained_unit);
            w.subject_label = name_of(absl::StrCat("unit:", p.complained_unit));
            counted(r, std::move(w), Wave(t, a->cases), "反映同一单位");
          } else {
            w.subject = absl::StrCat("employer:", p.employer);
            w.subject_label = p.employer;
            counted(r, std::move(w), Wave(t, a->cases), "反映同一用人单位");
          }
          break;
        }
        case v1::WARNING_RULE_KIND_GROUP_NOT_ACCEPTED:
          if (p.people >= r.min_people() && !p.accepted && !p.final) {
            batch.Watch(r.name(), p.case_id, t + absl::Hours(24) * w_days);
          }
          break;
        case v1::WARNING_RULE_KIND_CATEGORY_SURGE: {
          const double mean = static_cast<double>(a->before) / r.baseline_windows();
          if (a->recent >= r.threshold() && a->recent > r.factor() * mean) {
            const std::string subject = absl::StrCat("category:", p.category);
            raise(about_one(r, p, subject, name_of(subject),
                            absl::StrFormat("%d日内%d件，前%d期均值%.1f（倍数%.1f）", w_days,
                                            a->recent, r.baseline_windows(), mean, r.factor())));
          }
          break;
        }
        case v1::WARNING_RULE_KIND_UNIT_VOLUME_RISE:
          if (a->recent >= r.threshold() && a->recent >= r.factor() * a->before) {
            const std::string subject = absl::StrCat("unit:", p.unit);
            raise(about_one(r, p, subject, name_of(subject),
                            absl::StrFormat("%d日内%d件，上期%d件（倍数%.1f）", w_days, a->recent,
                                            a->before, r.factor())));
          }
          break;
        default:
          break;
      }
    }
    core_.metrics().RecordWarningCheck(absl::ToDoubleSeconds(absl::Now() - started), raised);
  }

  // A group petition whose acceptance window has ended.
  if (!item.watch_rule.empty()) {
    const WarnPetition& p = *item.petition;
    const WarningRule* r = core_.warning_rules().Find(item.watch_rule);
    if (r == nullptr || r->disabled() || p.accepted || p.final) return absl::OkStatus();
    const WarnWave w =
        about_one(*r, p, absl::StrCat("case:", p.tracking_number), p.tracking_number,
                  absl::StrFormat("%d人，%d日内未受理", p.people, r->window_days()));
    if (batch.RaiseOrExtend(w).second) core_.metrics().RecordWarningRaised();
  }
  return absl::OkStatus();
}

void Warnings::Start(absl::Duration interval) {
  stopping_ = false;
  background_.Start(
      core_.config().db_url, interval, "warnings",
      [this] {
        if (auto n = core_.warnings().Rebuild(core_.config().time_zone, false); !n.ok()) {
          LogWarn(absl::StrCat("warnings: recounting in the office's time zone: ",
                               n.status().message()));
        } else if (*n > 0) {
          LogInfo(absl::StrCat("warnings: recounted ", *n, " petitions in ",
                               core_.config().time_zone));
        }
      },
      [this] {
        if (auto n = ProcessOnce(); !n.ok()) {
          LogWarn(absl::StrCat("warnings: ", n.status().message()));
        }
      });
}

void Warnings::Stop() {
  stopping_ = true;
  background_.Stop();
}

absl::StatusOr<xinfang::v1::ListWarningsResponse> Warnings::List(
    const workflow::Actor& actor, const xinfang::v1::ListWarningsRequest& req) {
  if (auto st = CheckRange("page_size", req.page_size(), 0, 500, " (0: the default, 50)");
      !st.ok()) {
    return st;
  }
  auto org = core_.Org();
  if (!org.ok()) return org.status();
  auto unit = ScopedUnit(actor, "unit", req.unit(), **org);
  if (!unit.ok()) return unit.status();
  if (!req.rule().empty() && core_.warning_rules().Find(req.rule()) == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("rule: unknown rule '", req.rule(), "'"));
  }
  storage::WarningQuery q;
  Sight sight = SightOf(actor, *unit, **org);
  q.units = std::move(sight.units);
  q.hidden_from = std::move(sight.hidden_from);
  for (int s : req.states()) {
    if (!xinfang::v1::WarningState_IsValid(s) || s == xinfang::v1::WARNING_STATE_UNSPECIFIED) {
      return absl::InvalidArgumentError(absl::StrCat("states: unknown state ", s));
    }
    q.states.push_back(s);
  }
  if (q.states.empty()) {
    q.states = {xinfang::v1::WARNING_STATE_RAISED, xinfang::v1::WARNING_STATE_ACKNOWLEDGED};
  }
  q.rule = req.rule();
  q.limit = req.page_size() == 0 ? 50 : req.page_size();
  if (!req.page_token().empty() &&
      (!absl::SimpleAtoi(req.page_token(), &q.before_id) || q.before_id <= 0)) {
    return absl::InvalidArgumentError("page_token: not a token this service gave out");
  }
  auto rows = core_.warnings().List(q);
  if (!rows.ok()) return rows.status();
  xinfang::v1::ListWarningsResponse resp;
  for (const storage::WarningRow& w : *rows) *resp.add_warnings() = ToProto(w);
  if (static_cast<int>(rows->size()) == q.limit) {
    resp.set_next_page_token(absl::StrCat(rows->back().id));
  }
  return resp;
}

absl::StatusOr<xinfang::v1::Warning> Warnings::Get(const workflow::Actor& actor, int64_t id) {
  if (id <= 0) return absl::InvalidArgumentError("id: a warning id is a positive number");
  auto w = core_.warnings().Get(id);
  if (!w.ok()) return w.status();
  auto org = core_.Org();
  if (!org.ok()) return org.status();
  // Out of sight is indistinguishable from absent.
  if (!Sees(SightOf(actor, ScopeOf(actor), **org), *w)) {
    return absl::NotFoundError(absl::StrCat("warning ", id, " not found"));
  }
  // Petitions the caller stepped aside from (a declared conflict) are not
  // listed to them; a warning of only such petitions is not theirs to see.
  const std::size_t linked = w->cases.size();
  std::erase_if(w->cases, [&](const storage::WarningRow::Case& c) {
    return std::find(c.conflicted_accounts.begin(), c.conflicted_accounts.end(), actor.account) !=
           c.conflicted_accounts.end();
  });
  if (linked > 0 && w->cases.empty()) {
    return absl::NotFoundError(absl::StrCat("warning ", id, " not found"));
  }
  return ToProto(*w);
}

absl::StatusOr<xinfang::v1::Warning> Warnings::Update(
    const workflow::Actor& actor, const xinfang::v1::UpdateWarningRequest& req) {
  using xinfang::v1::WarningState;
  const WarningState to = req.state();
  if (to != xinfang::v1::WARNING_STATE_ACKNOWLEDGED && to != xinfang::v1::WARNING_STATE_HANDLED &&
      to != xinfang::v1::WARNING_STATE_CLOSED) {
    return absl::InvalidArgumentError("state: acknowledged, handled or closed");
  }
  if (auto st = CheckText("note", req.note(), 2000, to == xinfang::v1::WARNING_STATE_HANDLED);
      !st.ok()) {
    return st;
  }
  auto current = Get(actor, req.id());
  if (!current.ok()) return current.status();
  // A stale version first: the warning moved on since the caller read it.
  if (req.expected_version() != current->version()) {
    return absl::AbortedError(absl::StrCat("warning ", req.id(), " is at version ",
                                           current->version(), ", not ", req.expected_version(),
                                           ": read it again and retry"));
  }
  if (current->state() == xinfang::v1::WARNING_STATE_CLOSED) {
    return absl::FailedPreconditionError(absl::StrCat("warning ", req.id(), " is closed"));
  }
  if (to <= current->state()) {
    return absl::FailedPreconditionError(
        absl::StrCat("warning ", req.id(), " is already ",
                     xinfang::v1::WarningState_Name(current->state()), ": a warning moves on only"));
  }
  auto w = core_.warnings().SetState(req.id(), req.expected_version(), to, actor.account,
                                     req.note(), core_.clock().Now());
  if (!w.ok()) return w.status();
  return ToProto(*w);
}

}  // namespace xinfang::supervision
