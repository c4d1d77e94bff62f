#include "workflow/engine.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"

namespace xinfang::workflow {
namespace {

using xinfang::v1::Action;
using xinfang::v1::FieldSpec;
using xinfang::v1::Role;
using xinfang::v1::Timer;

constexpr int kDefaultMaxTextLength = 4000;
constexpr int kMaxIdentifierLength = 200;
constexpr char kFieldStartPrefix[] = "field:";
// Guards walks up an OrgTree that (wrongly) contains a cycle.
constexpr int kMaxTreeDepth = 64;

template <typename List>
bool Contains(const List& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

bool HasEffect(const Action& a, xinfang::v1::Effect e) {
  return std::find(a.effects().begin(), a.effects().end(), e) != a.effects().end();
}

bool HasRole(const Action& a, Role r) {
  return std::find(a.roles().begin(), a.roles().end(), r) != a.roles().end();
}

std::string DayString(absl::CivilDay day) { return absl::FormatCivilTime(day); }

// UTC, so that events do not depend on the machine's time zone.
std::string Rfc3339(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_full, t, absl::UTCTimeZone());
}

// Strict YYYY-MM-DD of an existing date.
std::optional<absl::CivilDay> ParseDay(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return std::nullopt;
  }
  absl::CivilDay day;
  if (!absl::ParseCivilTime(s, &day)) return std::nullopt;
  if (DayString(day) != s) return std::nullopt;  // 2025-02-30 normalises: refuse
  return day;
}

// Number of code points of valid UTF-8 `s`; nullopt if `s` is not valid UTF-8.
std::optional<size_t> Utf8Length(absl::string_view s) {
  size_t count = 0;
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    int extra;
    uint32_t cp;
    if (c < 0x80) {
      extra = 0;
      cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      cp = c & 0x07;
    } else {
      return std::nullopt;
    }
    if (i + extra >= s.size()) return std::nullopt;  // truncated sequence
    for (int k = 1; k <= extra; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((extra == 1 && cp < 0x80) || (extra == 2 && cp < 0x800) ||
        (extra == 3 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return std::nullopt;
    }
    i += extra + 1;
    ++count;
  }
  return count;
}

absl::Status FieldError(const std::string& name, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("fields.", name, ": ", message));
}

// A unit code or account name: non-empty, no spaces or control characters.
bool IsIdentifier(const std::string& s) {
  if (s.empty() || s.size() > kMaxIdentifierLength) return false;
  return std::none_of(s.begin(), s.end(), [](char ch) {
    auto c = static_cast<unsigned char>(ch);
    return c <= 0x20 || c == 0x7F;
  });
}

Actor SystemActor() { return Actor{"system", xinfang::v1::ROLE_SYSTEM, ""}; }

std::string NormalizeKey(const std::string& s) {
  std::string spaced = absl::StrReplaceAll(s, {{"\u3000", " "}});  // ideographic space
  std::vector<absl::string_view> words =
      absl::StrSplit(spaced, absl::ByAnyChar(" \t\r\n\f\v"), absl::SkipEmpty());
  return absl::AsciiStrToLower(absl::StrJoin(words, " "));
}

// The engine's logic over one definition and calendar (the rules it applies;
// the service layer's Core is another thing: services/common/core.h).
class Rules {
 public:
  Rules(const Definition& def, const Calendar& cal) : def_(def), cal_(cal) {}

  // ---- Timers ----

  absl::Time StartInstant(const Timer& spec, const CaseSnapshot& c, absl::Time now) const {
    const std::string& s = spec.starts_at();
    if (s == "receipt") {
      return c.unit_received_at == absl::Time() ? c.received_at : c.unit_received_at;
    }
    if (absl::StartsWith(s, kFieldStartPrefix)) {
      auto it = c.attributes.find(s.substr(sizeof(kFieldStartPrefix) - 1));
      if (it != c.attributes.end()) {
        if (std::optional<absl::CivilDay> day = ParseDay(it->second)) {
          return std::min(cal_.StartOfDay(*day), now);
        }
      }
    }
    return now;
  }

  static absl::Time WarnAt(const Timer& spec, absl::Time start, const Deadline& d) {
    if (spec.warning_lead_days() <= 0) return d.due_at;
    return std::max(start, d.due_at - absl::Hours(24) * spec.warning_lead_days());
  }

  TimerState StartTimer(const Timer& spec, const CaseSnapshot& c, absl::Time now) const {
    TimerState t;
    t.name = spec.name();
    t.purpose = spec.purpose();
    t.started_at = StartInstant(spec, c, now);
    int length = spec.length();
    if (!spec.length_field().empty()) {
      auto it = c.attributes.find(spec.length_field());
      int days = 0;
      if (it != c.attributes.end() && absl::SimpleAtoi(it->second, &days) && days > 0) length = days;
    }
    t.deadline = cal_.Compute(t.started_at, length, spec.day_kind(), !spec.no_roll_forward());
    t.warn_at = WarnAt(spec, t.started_at, t.deadline);
    t.warned = spec.warning_lead_days() <= 0;  // no warning owed
    return t;
  }

  // The deadline moved: marks whose instant now lies in the future are re-armed.
  static void Rearm(const Timer& spec, TimerState& t, absl::Time now) {
    t.warn_at = WarnAt(spec, t.started_at, t.deadline);
    if (spec.warning_lead_days() > 0 && t.warn_at > now) t.warned = false;
    if (t.deadline.due_at > now) {
      t.overdue = false;
      t.rung = 0;
    }
  }

  void Resume(const Timer& spec, TimerState& t, absl::Time now) const {
    if (!t.suspended_at.has_value()) return;
    t.deadline = cal_.Resume(t.deadline, *t.suspended_at, now, spec.day_kind(),
                              !spec.no_roll_forward());
    t.suspended_at.reset();
    Rearm(spec, t, now);
  }

  static bool FlagsAllow(const Timer& spec, const std::set<std::string>& flags) {
    for (const std::string& f : spec.only_with_flags()) {
      if (flags.count(f) == 0) return false;
    }
    for (const std::string& f : spec.not_with_flags()) {
      if (flags.count(f) > 0) return false;
    }
    return true;
  }

  // Makes c.timers match c.state and c.flags: cancels timers that may not run
  // (or are unknown), starts those that should run and do not, suspends and
  // resumes per suspended_in. Keeps definition order.
  void Reconcile(CaseSnapshot& c, absl::Time now) const {
    std::vector<TimerState> out;
    for (const Timer& spec : def_.proto().timers()) {
      bool running = Contains(spec.running_in(), c.state);
      bool suspending = Contains(spec.suspended_in(), c.state);
      bool allowed = FlagsAllow(spec, c.flags);
      const TimerState* existing = c.FindTimer(spec.name());
      if (existing != nullptr) {
        if (!(running || suspending) || !allowed) continue;  // cancelled
        TimerState t = *existing;
        t.purpose = spec.purpose();
        if (suspending && !t.suspended_at.has_value()) t.suspended_at = now;
        if (running && t.suspended_at.has_value()) Resume(spec, t, now);
        out.push_back(std::move(t));
      } else if (running && allowed) {
        out.push_back(StartTimer(spec, c, now));
      }
    }
    c.timers = std::move(out);
  }

  static TimerState* MutableTimer(CaseSnapshot& c, const std::string& name) {
    for (TimerState& t : c.timers) {
      if (t.name == name) return &t;
    }
    return nullptr;
  }

  static void DiffTimers(const CaseSnapshot& before, const CaseSnapshot& after, Decision& d) {
    for (const TimerState& t : after.timers) {
      const TimerState* old = before.FindTimer(t.name);
      if (old == nullptr || !(*old == t)) d.timers_set.push_back(t);
    }
    for (const TimerState& t : before.timers) {
      if (after.FindTimer(t.name) == nullptr) d.timers_cancelled.push_back(t.name);
    }
  }

  // ---- Guards ----

  // Everything but fields and conflicts: final, from, role, scope, flags,
  // value guards, window, extension-once.
  absl::Status CheckAllowed(const CaseSnapshot& c, const Action& a, const Actor& actor,
                            absl::Time now, const OrgTree& org) const {
    const xinfang::v1::State* state = def_.FindState(c.state);
    if (state == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the case is in state \"", c.state, "\", which workflow ", def_.key(), " does not have"));
    }
    if (state->final()) {
      return absl::FailedPreconditionError(absl::StrCat("case is final (state \"", c.state, "\")"));
    }
    if (!Contains(a.from(), c.state)) {
      return absl::FailedPreconditionError(
          absl::StrCat("action \"", a.name(), "\" is not allowed in state \"", c.state, "\""));
    }
    if (!HasRole(a, actor.role)) {
      return absl::PermissionDeniedError(absl::StrCat("role ", xinfang::v1::Role_Name(actor.role),
                                                      " may not take action \"", a.name(), "\""));
    }
    if (absl::Status s = CheckScope(c, a, actor, org); !s.ok()) return s;
    if (actor.role != xinfang::v1::ROLE_SYSTEM && HeldByAccused(c, org) && !a.stay() &&
        !HasEffect(a, xinfang::v1::EFFECT_MOVE_TO_UNIT)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "Art. 30: the case is held by \"", c.responsible_unit, "\", within the unit complained "
          "about (\"", c.complained_about_unit, "\"): it must first be forwarded to a body "
          "outside that unit"));
    }
    for (const std::string& f : a.requires_flags()) {
      if (c.flags.count(f) == 0) {
        return absl::FailedPreconditionError(
            absl::StrCat("action \"", a.name(), "\" requires flag \"", f, "\""));
      }
    }
    for (const std::string& f : a.forbids_flags()) {
      if (c.flags.count(f) > 0) {
        return absl::FailedPreconditionError(
            absl::StrCat("action \"", a.name(), "\" is refused once flag \"", f, "\" is set"));
      }
    }
    for (const xinfang::v1::ValueGuard& g : a.requires_values()) {
      std::string value = AttributeValue(c, g.attribute());
      if (!Contains(g.any_of(), value)) {
        return absl::FailedPreconditionError(
            absl::StrCat("action \"", a.name(), "\" requires ", g.attribute(), " to be one of [",
                         absl::StrJoin(g.any_of(), ", "), "]; it is \"", value, "\""));
      }
    }
    if (!a.within_timer().empty()) {
      const TimerState* t = c.FindTimer(a.within_timer());
      if (t == nullptr) {
        return absl::FailedPreconditionError(
            absl::StrCat("window \"", a.within_timer(), "\" is not open"));
      }
      if (!t->suspended_at.has_value() && now >= t->deadline.due_at) {
        return absl::FailedPreconditionError(absl::StrCat("window \"", a.within_timer(),
                                                          "\" closed at the end of ",
                                                          DayString(t->deadline.due_day)));
      }
    }
    if (HasEffect(a, xinfang::v1::EFFECT_EXTEND_TIMER)) {
      const TimerState* t = c.FindTimer(a.timer());
      if (t == nullptr) {
        return absl::FailedPreconditionError(
            absl::StrCat("timer \"", a.timer(), "\" is not running: nothing to extend"));
      }
      if (t->extended) {
        return absl::FailedPreconditionError(absl::StrCat(
            "timer \"", a.timer(), "\" was already extended: an extension is granted once"));
      }
    }
    return absl::OkStatus();
  }

  // Arts. 30, 46: the case is never handed to the unit complained about or a
  // unit below it.
  static bool WithinAccused(const CaseSnapshot& c, const std::string& unit, const OrgTree& org) {
    return !c.complained_about_unit.empty() && org.IsWithin(unit, c.complained_about_unit);
  }
  // The case sits with the accused (registered there, or above-complained):
  // it must leave that subtree first.
  static bool HeldByAccused(const CaseSnapshot& c, const OrgTree& org) {
    return WithinAccused(c, c.responsible_unit, org);
  }
  static absl::Status RefuseAccused(const std::string& what, const std::string& unit,
                                    const CaseSnapshot& c) {
    return absl::FailedPreconditionError(absl::StrCat(
        "Art. 30: ", what, " \"", unit, "\" is the unit complained about (\"",
        c.complained_about_unit, "\") or below it; the case never goes there"));
  }

  // The next-higher body reviews; the body above the reviewer re-checks;
  // never one within the unit complained about.
  static absl::StatusOr<std::string> ReviewBody(const CaseSnapshot& c, const OrgTree& org) {
    std::optional<std::string> parent = org.Parent(c.responsible_unit);
    if (!parent.has_value()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "review goes to the next-higher body, and \"", c.responsible_unit, "\" has none"));
    }
    if (WithinAccused(c, *parent, org)) return RefuseAccused("the review body", *parent, c);
    return *parent;
  }
  static absl::StatusOr<std::string> RecheckBody(const CaseSnapshot& c, const OrgTree& org) {
    std::optional<std::string> parent;
    if (!c.review_unit.empty()) parent = org.Parent(c.review_unit);
    if (!parent.has_value()) {
      return absl::FailedPreconditionError(
          absl::StrCat("re-check goes to the body above the review unit, and \"", c.review_unit,
                       "\" has none"));
    }
    if (WithinAccused(c, *parent, org)) return RefuseAccused("the re-check body", *parent, c);
    return *parent;
  }

  static std::string AttributeValue(const CaseSnapshot& c, const std::string& name) {
    if (name == "outcome") return c.outcome;
    if (name == "evaluation") return c.evaluation;
    if (name == "office_evaluation") return c.office_evaluation;
    auto it = c.attributes.find(name);
    return it == c.attributes.end() ? "" : it->second;
  }

  static absl::Status CheckScope(const CaseSnapshot& c, const Action& a, const Actor& actor,
                                 const OrgTree& org) {
    if (actor.role == xinfang::v1::ROLE_SYSTEM) return absl::OkStatus();
    auto must_be = [&](const std::string& unit, const char* what) -> absl::Status {
      if (!unit.empty() && actor.unit == unit) return absl::OkStatus();
      return absl::PermissionDeniedError(
          absl::StrCat("action \"", a.name(), "\" must come from the case's ", what, " (",
                       unit.empty() ? "none" : unit, "), not from unit \"", actor.unit, "\""));
    };
    switch (a.scope()) {
      case xinfang::v1::UNIT_SCOPE_ANY:
        return absl::OkStatus();
      case xinfang::v1::UNIT_SCOPE_REVIEW:
        return must_be(c.review_unit, "review unit");
      case xinfang::v1::UNIT_SCOPE_RECHECK:
        return must_be(c.recheck_unit, "re-check unit");
      case xinfang::v1::UNIT_SCOPE_FORWARDER:
        return must_be(c.forwarder_unit, "forwarding unit");
      default: {
        // Case officers act only for their own unit, and so does everyone
        // for an OWN-scoped action (approving an extension); otherwise the
        // responsible unit or a unit above it may act.
        const bool own_unit_only = a.scope() == xinfang::v1::UNIT_SCOPE_OWN ||
                                   actor.role == xinfang::v1::ROLE_CASE_OFFICER;
        if (!actor.unit.empty() && !c.responsible_unit.empty() &&
            (actor.unit == c.responsible_unit ||
             (!own_unit_only && org.IsWithin(c.responsible_unit, actor.unit)))) {
          return absl::OkStatus();
        }
        return absl::PermissionDeniedError(absl::StrCat(
            "action \"", a.name(), "\" must come from the responsible unit \"", c.responsible_unit,
            own_unit_only ? "\"" : "\" or a unit above it", ", not from \"", actor.unit, "\""));
      }
    }
  }

  // ---- Fields ----

  absl::Status CheckFields(const CaseSnapshot& c, const Action& a, const ActionRequest& req,
                           absl::Time now) const {
    for (const auto& entry : req.fields) {
      const std::string& name = entry.first;
      bool known = std::any_of(a.fields().begin(), a.fields().end(),
                               [&](const FieldSpec& f) { return f.name() == name; });
      if (!known) {
        return FieldError(name, absl::StrCat("unknown field for action \"", a.name(), "\""));
      }
    }
    for (const FieldSpec& spec : a.fields()) {
      auto it = req.fields.find(spec.name());
      if (it == req.fields.end()) {
        if (spec.required()) return FieldError(spec.name(), "required");
        if (spec.has_required_when()) {
          const xinfang::v1::ValueGuard& when = spec.required_when();
          auto other = req.fields.find(when.attribute());
          if (other != req.fields.end() && Contains(when.any_of(), other->second)) {
            return FieldError(spec.name(), absl::StrCat("required when ", when.attribute(),
                                                        " is \"", other->second, "\""));
          }
        }
        continue;
      }
      if (absl::Status s = CheckField(c, a, spec, it->second, req.accounts, now); !s.ok()) return s;
    }
    std::optional<size_t> note_length = Utf8Length(req.note);
    if (!note_length.has_value() || *note_length > kDefaultMaxTextLength) {
      return absl::InvalidArgumentError(absl::StrCat("note: must be valid UTF-8 of at most ",
                                                     kDefaultMaxTextLength, " characters"));
    }
    return absl::OkStatus();
  }

  static absl::Status CheckText(const std::string& name, const std::string& value, int max_length) {
    std::optional<size_t> length = Utf8Length(value);
    if (!length.has_value()) return FieldError(name, "not valid UTF-8");
    if (absl::StripAsciiWhitespace(value).empty()) {
      return FieldError(name, "must not be empty");
    }
    if (*length > static_cast<size_t>(max_length)) {
      return FieldError(name, absl::StrCat("longer than ", max_length, " characters"));
    }
    return absl::OkStatus();
  }

  absl::Status CheckField(const CaseSnapshot& c, const Action& a, const FieldSpec& spec,
                          const std::string& value,
                          const std::map<std::string, AccountFacts>& accounts,
                          absl::Time now) const {
    const std::string& name = spec.name();
    switch (spec.type()) {
      case xinfang::v1::FIELD_TYPE_TEXT:
        return CheckText(name, value,
                         spec.max_length() > 0 ? spec.max_length() : kDefaultMaxTextLength);
      case xinfang::v1::FIELD_TYPE_DATE: {
        std::optional<absl::CivilDay> day = ParseDay(value);
        if (!day.has_value()) return FieldError(name, "not a date (YYYY-MM-DD)");
        absl::CivilDay today = cal_.LocalDay(now);
        if (*day > today) {
          return FieldError(
              name, absl::StrCat(value, " is in the future (today is ", DayString(today), ")"));
        }
        if (c.state_entered_at != absl::Time()) {
          absl::CivilDay entered = cal_.LocalDay(c.state_entered_at);
          if (*day < entered) {
            return FieldError(name,
                              absl::StrCat(value, " is before ", DayString(entered),
                                           ", when the case entered state \"", c.state, "\""));
          }
        }
        if (name == "served_on" && HasEffect(a, xinfang::v1::EFFECT_SET_SERVED) &&
            c.decided_at.has_value() && *day < cal_.LocalDay(*c.decided_at)) {
          return FieldError(name, absl::StrCat(value, " is before the decision (",
                                               DayString(cal_.LocalDay(*c.decided_at)), ")"));
        }
        return absl::OkStatus();
      }
      case xinfang::v1::FIELD_TYPE_UNIT:
        if (!IsIdentifier(value)) {
          return FieldError(name, "must be a non-empty code without spaces");
        }
        return absl::OkStatus();
      case xinfang::v1::FIELD_TYPE_ACCOUNT:
        if (!IsIdentifier(value)) {
          return FieldError(name, "must be a non-empty code without spaces");
        }
        if (accounts.count(value) == 0) {
          return FieldError(name, absl::StrCat("no account \"", value, "\""));
        }
        return absl::OkStatus();
      case xinfang::v1::FIELD_TYPE_CHOICE:
        if (!Contains(spec.choices(), value)) {
          return FieldError(name, absl::StrCat("\"", value, "\" is not one of [",
                                               absl::StrJoin(spec.choices(), ", "), "]"));
        }
        return absl::OkStatus();
      case xinfang::v1::FIELD_TYPE_DAYS: {
        int days = 0;
        bool digits =
            !value.empty() && value.size() <= 6 &&
            std::all_of(value.begin(), value.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
        if (!digits || !absl::SimpleAtoi(value, &days)) {
          return FieldError(name, "not a whole number of days");
        }
        int max = spec.max_days();
        if (HasEffect(a, xinfang::v1::EFFECT_EXTEND_TIMER) && name == "days") {
          if (const Timer* t = def_.FindTimer(a.timer()); t != nullptr) {
            max = std::min(max, t->max_extension_days());
          }
        }
        if (days < 1 || days > max) {
          return FieldError(name, absl::StrCat(days, " is outside 1..", max));
        }
        return absl::OkStatus();
      }
      case xinfang::v1::FIELD_TYPE_BOOL:
        if (value != "true" && value != "false") return FieldError(name, "must be true or false");
        return absl::OkStatus();
      default:
        return FieldError(name, "field has no type in the definition");
    }
  }

  // The officer of EFFECT_ASSIGN_OFFICER: an enabled case officer of the
  // responsible unit who has not declared a conflict (Art. 28).
  static absl::Status CheckOfficer(const CaseSnapshot& c, const ActionRequest& req) {
    auto it = req.fields.find("officer");
    if (it == req.fields.end()) return absl::OkStatus();  // CheckFields: required
    const std::string& officer = it->second;
    const AccountFacts& facts = req.accounts.at(officer);  // CheckFields: known
    if (facts.role != xinfang::v1::ROLE_CASE_OFFICER) {
      return absl::FailedPreconditionError(absl::StrCat(
          "fields.officer: \"", officer, "\" is a ", xinfang::v1::Role_Name(facts.role),
          ", not a ROLE_CASE_OFFICER"));
    }
    if (!facts.enabled) {
      return absl::FailedPreconditionError(
          absl::StrCat("fields.officer: account \"", officer, "\" is disabled"));
    }
    if (facts.unit != c.responsible_unit) {
      return absl::FailedPreconditionError(
          absl::StrCat("fields.officer: \"", officer, "\" belongs to unit \"", facts.unit,
                       "\", not to the responsible unit \"", c.responsible_unit, "\""));
    }
    if (c.conflicted_accounts.count(officer) > 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "Art. 28: \"", officer,
          "\" declared a conflict of interest in this case and may not be assigned"));
    }
    return absl::OkStatus();
  }

  // ---- Actions ----

  absl::StatusOr<Decision> Apply(const CaseSnapshot& c, const ActionRequest& req,
                                 const Actor& actor, absl::Time now, const OrgTree& org) const {
    const Action* found = def_.FindAction(req.action);
    if (found == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("workflow ", def_.key(), " has no action \"", req.action, "\""));
    }
    const Action& a = *found;
    if (absl::Status s = CheckAllowed(c, a, actor, now, org); !s.ok()) return s;
    if (absl::Status s = CheckFields(c, a, req, now); !s.ok()) return s;
    if (HasEffect(a, xinfang::v1::EFFECT_ASSIGN_OFFICER)) {
      if (absl::Status s = CheckOfficer(c, req); !s.ok()) return s;
    }

    auto field = [&](const std::string& name) -> std::string {
      auto it = req.fields.find(name);
      return it == req.fields.end() ? "" : it->second;
    };

    Decision d;
    CaseSnapshot n = c;
    // The action's fields as given: one it declares but was not given has no
    // value now (a second notice without reply_days gets the default, not the
    // first notice's).
    for (const auto& spec : a.fields()) {
      if (req.fields.count(spec.name()) == 0) n.attributes.erase(spec.name());
    }
    for (const auto& [k, v] : req.fields) n.attributes[k] = v;
    for (int e : a.effects()) {
      switch (static_cast<xinfang::v1::Effect>(e)) {
        case xinfang::v1::EFFECT_SET_ACCEPTED:
          n.accepted_at = now;
          break;
        case xinfang::v1::EFFECT_SET_DECIDED:
          n.decided_at = now;
          n.outcome = field("outcome");
          break;
        case xinfang::v1::EFFECT_SET_SERVED: {
          std::optional<absl::CivilDay> day = ParseDay(field("served_on"));
          n.served_at = day.has_value() ? cal_.StartOfDay(*day) : now;
          break;
        }
        case xinfang::v1::EFFECT_SET_EVALUATION: {
          const std::string unit = field("rating"), office = field("office_rating");
          n.evaluation = unit.empty() ? "lapsed" : unit;
          // A definition without the second target (petition@1) records
          // none: only a window that lapsed lapses both.
          n.office_evaluation = !office.empty() ? office : unit.empty() ? "lapsed" : "";
          break;
        }
        case xinfang::v1::EFFECT_DECLARE_CONFLICT: {
          const std::string account = field("account");
          // Art. 28: the person steps aside, or the unit head decides it.
          // Nobody else may mark a colleague as conflicted (which also
          // hides the petitioner from them).
          if (account != actor.account && actor.role != xinfang::v1::ROLE_UNIT_HEAD &&
              actor.role != xinfang::v1::ROLE_SYSTEM) {
            return absl::PermissionDeniedError(
                "fields.account: declare your own conflict of interest; only a unit head "
                "declares one for someone else");
          }
          n.conflicted_accounts.insert(account);
          if (n.case_officer == account) n.case_officer.clear();  // Art. 28: steps aside
          break;
        }
        case xinfang::v1::EFFECT_ASSIGN_OFFICER:
          n.case_officer = field("officer");
          break;
        case xinfang::v1::EFFECT_MOVE_TO_UNIT: {
          std::string target = field("target_unit");
          if (WithinAccused(c, target, org)) return RefuseAccused("fields.target_unit:", target, c);
          if (HeldByAccused(c, org)) {
            // Out of the accused subtree, to any body of the system outside it.
            if (!org.Contains(target)) {
              return FieldError("target_unit", absl::StrCat("unknown unit \"", target, "\""));
            }
          } else if (target == c.responsible_unit || !org.IsWithin(target, c.responsible_unit)) {
            return absl::FailedPreconditionError(absl::StrCat(
                "action \"", a.name(), "\" goes only to a competent lower body: \"", target,
                "\" is not below the responsible unit \"", c.responsible_unit, "\""));
          }
          n.forwarder_unit = c.responsible_unit;
          n.responsible_unit = target;
          n.unit_received_at = now;
          n.case_officer.clear();
          break;
        }
        case xinfang::v1::EFFECT_RETURN_TO_FORWARDER:
          if (c.forwarder_unit.empty()) {
            return absl::FailedPreconditionError(
                absl::StrCat("action \"", a.name(), "\": the case has no forwarding unit"));
          }
          if (WithinAccused(c, c.forwarder_unit, org)) {
            return RefuseAccused("the forwarding unit", c.forwarder_unit, c);
          }
          n.responsible_unit = c.forwarder_unit;
          n.forwarder_unit.clear();
          n.unit_received_at = now;
          n.case_officer.clear();
          break;
        case xinfang::v1::EFFECT_SET_REVIEW_UNIT: {
          absl::StatusOr<std::string> body = ReviewBody(c, org);
          if (!body.ok()) return body.status();
          n.review_unit = *body;
          break;
        }
        case xinfang::v1::EFFECT_SET_RECHECK_UNIT: {
          absl::StatusOr<std::string> body = RecheckBody(c, org);
          if (!body.ok()) return body.status();
          n.recheck_unit = *body;
          break;
        }
        case xinfang::v1::EFFECT_CLOSE:
          n.closed_at = now;
          break;
        case xinfang::v1::EFFECT_NOTIFY_PETITIONER:
          if (!c.anonymous) {
            d.notices.push_back(
                Notice{"petitioner", "",
                       absl::StrCat(a.title().empty() ? a.name() : a.title(), NoticeDetails(req))});
          }
          break;
        default:  // timer effects: after the timers are reconciled below
          break;
      }
    }
    for (const std::string& f : a.sets_flags()) n.flags.insert(f);
    for (const std::string& f : a.clears_flags()) n.flags.erase(f);
    if (!a.stay() && a.to() != c.state) {
      n.state = a.to();
      n.state_entered_at = now;
    }
    const xinfang::v1::State* to = def_.FindState(n.state);
    if (to != nullptr && to->final() && !n.closed_at.has_value()) n.closed_at = now;

    Reconcile(n, now);
    if (HasEffect(a, xinfang::v1::EFFECT_RESTART_TIMERS)) {
      for (TimerState& t : n.timers) {
        const Timer* spec = def_.FindTimer(t.name);
        bool suspended = t.suspended_at.has_value();
        t = StartTimer(*spec, n, now);
        if (suspended) t.suspended_at = now;
      }
    }
    if (!a.timer().empty()) {
      const Timer* spec = def_.FindTimer(a.timer());
      TimerState* t = MutableTimer(n, a.timer());
      if (spec == nullptr || t == nullptr) {
        return absl::FailedPreconditionError(absl::StrCat("action \"", a.name(), "\": timer \"",
                                                          a.timer(), "\" is not running after it"));
      }
      if (HasEffect(a, xinfang::v1::EFFECT_EXTEND_TIMER)) {
        int days = 0;
        (void)absl::SimpleAtoi(field("days"), &days);
        t->deadline = cal_.Extend(t->deadline, days, spec->day_kind(), !spec->no_roll_forward());
        t->extended = true;
        Rearm(*spec, *t, now);
      }
      if (HasEffect(a, xinfang::v1::EFFECT_SUSPEND_TIMER) && !t->suspended_at.has_value()) {
        t->suspended_at = now;
      }
      if (HasEffect(a, xinfang::v1::EFFECT_RESUME_TIMER)) Resume(*spec, *t, now);
    }

    d.events.push_back(Event{a.event_kind().empty() ? a.name() : a.event_kind(), a.name(), c.state,
                             n.state, req.fields, req.note});
    if (const xinfang::v1::DocumentKind* doc = def_.FindDocument(a.document())) {
      if (doc->recipient() != xinfang::v1::DOCUMENT_RECIPIENT_PETITIONER || !c.anonymous) {
        d.documents.push_back(DocumentDue{doc->kind(), d.events.size() - 1});
      }
    }
    DiffTimers(c, n, d);
    d.next = std::move(n);
    return d;
  }

  static std::string NoticeDetails(const ActionRequest& req) {
    if (req.fields.empty()) return "";
    std::vector<std::string> parts;
    for (const auto& [k, v] : req.fields) parts.push_back(absl::StrCat(k, "=", v));
    return absl::StrCat(": ", absl::StrJoin(parts, ", "));
  }

  // ---- Firing ----

  // The unit that owes the deadline of the case's current stage.
  std::string OwingUnit(const CaseSnapshot& c) const {
    const xinfang::v1::State* s = def_.FindState(c.state);
    if (s != nullptr && s->stage() == xinfang::v1::STAGE_REVIEW && !c.review_unit.empty()) {
      return c.review_unit;
    }
    if (s != nullptr && s->stage() == xinfang::v1::STAGE_RECHECK && !c.recheck_unit.empty()) {
      return c.recheck_unit;
    }
    return c.responsible_unit;
  }

  std::string Recipient(const std::string& notify, const CaseSnapshot& c,
                        const OrgTree& org) const {
    std::string unit = OwingUnit(c);
    if (notify == "case_officer") {
      return unit == c.responsible_unit && !c.case_officer.empty() ? c.case_officer : unit;
    }
    if (notify == "supervising_unit") return org.Parent(unit).value_or(unit);
    if (notify == "top") {
      for (int i = 0; i < kMaxTreeDepth; ++i) {
        std::optional<std::string> parent = org.Parent(unit);
        if (!parent.has_value()) break;
        unit = *parent;
      }
      return unit;
    }
    return unit;  // unit_head: the head of the owing unit
  }

  absl::StatusOr<Decision> Fire(const CaseSnapshot& c, const std::string& name, absl::Time now,
                                const OrgTree& org) const {
    Decision d;
    d.next = c;
    const Timer* spec = def_.FindTimer(name);
    TimerState* t = MutableTimer(d.next, name);
    if (spec == nullptr || t == nullptr || t->suspended_at.has_value()) return d;
    CaseSnapshot& n = d.next;
    std::string due_day = DayString(t->deadline.due_day);
    std::string title = spec->title().empty() ? spec->name() : spec->title();
    auto timer_event = [&](std::string kind, std::map<std::string, std::string> fields) {
      fields["timer"] = name;
      fields["due_day"] = due_day;
      d.events.push_back(Event{std::move(kind), "", n.state, n.state, std::move(fields), ""});
    };
    if (!t->warned && now >= t->warn_at) {
      t->warned = true;
      timer_event("deadline_warning", {});
      d.notices.push_back(Notice{"case_officer", Recipient("case_officer", n, org),
                                 absl::StrCat(title, ": due by the end of ", due_day)});
    }
    bool became_overdue = false;
    if (!t->overdue && now >= t->deadline.due_at) {
      t->overdue = true;
      became_overdue = true;
      timer_event("deadline_overdue", {});
    }
    if (t->overdue && spec->expiry().escalate()) {
      for (const xinfang::v1::LadderRung& r : def_.proto().ladder()) {
        if (r.rung() <= t->rung || t->deadline.due_at + absl::Hours(24) * r.delay_days() > now) {
          continue;
        }
        t->rung = r.rung();
        std::string recipient = Recipient(r.notify(), n, org);
        timer_event(
            "escalated",
            {{"rung", absl::StrCat(r.rung())}, {"notify", r.notify()}, {"recipient", recipient}});
        d.notices.push_back(Notice{
            r.notify(), recipient,
            absl::StrCat(title, ": overdue since the end of ", due_day, "; escalation rung ",
                         r.rung(), r.title().empty() ? "" : absl::StrCat(" (", r.title(), ")"))});
      }
    }
    if (became_overdue && !spec->expiry().action().empty()) {
      ActionRequest req;
      req.action = spec->expiry().action();
      req.note = absl::StrCat("timer ", name, " expired at the end of ", due_day);
      absl::StatusOr<Decision> expiry = Apply(n, req, SystemActor(), now, org);
      if (!expiry.ok()) {
        return absl::Status(
            expiry.status().code(),
            absl::StrCat("expiry action of timer \"", name, "\": ", expiry.status().message()));
      }
      for (Event& e : expiry->events) d.events.push_back(std::move(e));
      for (Notice& x : expiry->notices) d.notices.push_back(std::move(x));
      d.next = std::move(expiry->next);
    }
    DiffTimers(c, d.next, d);
    return d;
  }

  Decision RecomputeDeadlines(const CaseSnapshot& c, absl::Time now) const {
    Decision d;
    d.next = c;
    for (TimerState& t : d.next.timers) {
      const Timer* spec = def_.FindTimer(t.name);
      if (spec == nullptr || !t.deadline.provisional) continue;
      const Deadline before = t.deadline;
      t.deadline = cal_.Recompute(before, spec->day_kind(), !spec->no_roll_forward());
      if (t.deadline == before) continue;
      Rearm(*spec, t, now);
      std::map<std::string, std::string> fields{
          {"timer", t.name},
          {"old_due_day", DayString(before.due_day)},
          {"due_day", DayString(t.deadline.due_day)},
          {"provisional", t.deadline.provisional ? "true" : "false"},
          {"terms", ExplainDeadline(t.deadline, spec->day_kind() == xinfang::v1::DAY_KIND_WORKING)}};
      d.events.push_back(Event{"deadline_recomputed", "", c.state, c.state, std::move(fields),
                               "the calendar now has the year's holiday arrangement"});
    }
    DiffTimers(c, d.next, d);
    return d;
  }

  std::optional<absl::Time> NextFireAt(const TimerState& t) const {
    const Timer* spec = def_.FindTimer(t.name);
    if (spec == nullptr || t.suspended_at.has_value()) return std::nullopt;
    std::optional<absl::Time> next;
    auto consider = [&](absl::Time at) {
      if (!next.has_value() || at < *next) next = at;
    };
    if (!t.warned) consider(t.warn_at);
    if (!t.overdue) consider(t.deadline.due_at);
    if (spec->expiry().escalate()) {
      for (const xinfang::v1::LadderRung& r : def_.proto().ladder()) {
        if (r.rung() > t.rung) {
          consider(t.deadline.due_at + absl::Hours(24) * r.delay_days());
          break;
        }
      }
    }
    return next;
  }

  CaseFacts Facts(const CaseSnapshot& c) const {
    CaseFacts f;
    if (const xinfang::v1::State* st = def_.FindState(c.state); st != nullptr) {
      f.stage = st->stage();
      f.final = st->final();
    }
    const auto& timers = def_.proto().timers();
    for (const TimerState& t : c.timers) {
      TimerFacts& tf = f.timers[t.name];
      tf.position = timers.size();
      for (int k = 0; k < timers.size(); ++k) {
        if (timers[k].name() == t.name) tf.position = k;
      }
      tf.owing_unit = OwingUnit(c, t.name);
      tf.fire_at = NextFireAt(t);
    }
    return f;
  }

 private:
  // The unit that owes timer `name`'s deadline (Engine::Facts).
  std::string OwingUnit(const CaseSnapshot& c, const std::string& name) const {
    const Timer* spec = def_.FindTimer(name);
    if (spec == nullptr || spec->running_in().empty()) return c.responsible_unit;
    auto only = [&](xinfang::v1::Stage stage) {
      return std::all_of(spec->running_in().begin(), spec->running_in().end(),
                         [&](const std::string& state) {
                           const xinfang::v1::State* st = def_.FindState(state);
                           return st != nullptr && st->stage() == stage;
                         });
    };
    if (only(xinfang::v1::STAGE_REVIEW) && !c.review_unit.empty()) return c.review_unit;
    if (only(xinfang::v1::STAGE_RECHECK) && !c.recheck_unit.empty()) return c.recheck_unit;
    return c.responsible_unit;
  }

  const Definition& def_;
  const Calendar& cal_;
};

// `d` with the facts of its next case (every Decision the engine gives).
absl::StatusOr<Decision> WithFacts(absl::StatusOr<Decision> d, const Rules& rules) {
  if (d.ok()) d->facts = rules.Facts(d->next);
  return d;
}

}  // namespace

absl::StatusOr<std::string> ReviewBody(const CaseSnapshot& c, const OrgTree& org) {
  return Rules::ReviewBody(c, org);
}

absl::StatusOr<std::string> RecheckBody(const CaseSnapshot& c, const OrgTree& org) {
  return Rules::RecheckBody(c, org);
}

// ---------------------------------------------------------------------------

const TimerState* CaseSnapshot::FindTimer(const std::string& name) const {
  for (const TimerState& t : timers) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::vector<std::string> MapOrgTree::Subtree(const std::string& unit) const {
  std::vector<std::string> out;
  for (const auto& entry : parent_of_) {
    if (IsWithin(entry.first, unit)) out.push_back(entry.first);
  }
  return out;
}

bool OrgTree::IsWithin(const std::string& unit, const std::string& ancestor) const {
  if (unit.empty() || ancestor.empty()) return false;
  std::string current = unit;
  for (int i = 0; i <= kMaxTreeDepth; ++i) {
    if (current == ancestor) return true;
    std::optional<std::string> parent = Parent(current);
    if (!parent.has_value()) return false;
    current = *std::move(parent);
  }
  return false;
}

MapOrgTree::MapOrgTree(std::map<std::string, std::string> parent_of)
    : parent_of_(std::move(parent_of)) {}

std::optional<std::string> MapOrgTree::Parent(const std::string& unit) const {
  auto it = parent_of_.find(unit);
  if (it == parent_of_.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

Engine::Engine(std::shared_ptr<const Definition> definition, const Calendar& calendar)
    : definition_(std::move(definition)), calendar_(calendar) {}

absl::StatusOr<Decision> Engine::Start(const CaseStart& start, const Actor& actor,
                                       absl::Time now) const {
  return WithFacts(StartCase(start, actor, now), Rules(*definition_, calendar_));
}

absl::StatusOr<Decision> Engine::StartCase(const CaseStart& start, const Actor& actor,
                                           absl::Time now) const {
  if (start.received_at > now) {
    return absl::InvalidArgumentError(
        absl::StrCat("received_at ", Rfc3339(start.received_at), " is after now ", Rfc3339(now)));
  }
  if (!IsIdentifier(start.registering_unit)) {
    return absl::InvalidArgumentError("registering_unit: required");
  }
  const Definition& def = *definition_;
  CaseSnapshot n;
  n.workflow = def.name();
  n.workflow_version = def.version();
  n.state = def.proto().initial_state();
  n.state_entered_at = now;
  n.received_at = start.received_at;
  n.unit_received_at = start.received_at;
  n.anonymous = start.anonymous;
  n.flags = start.flags;
  if (start.anonymous) n.flags.insert("anonymous");
  n.responsible_unit = start.registering_unit;
  n.complained_about_unit = start.complained_about_unit;
  n.forwarder_unit = start.forwarder_unit;
  Rules(def, calendar_).Reconcile(n, now);

  Decision d;
  std::map<std::string, std::string> fields{{"responsible_unit", n.responsible_unit},
                                            {"received_at", Rfc3339(start.received_at)}};
  if (!n.forwarder_unit.empty()) fields["forwarder_unit"] = n.forwarder_unit;
  d.events.push_back(Event{"registered", "", "", n.state, std::move(fields), ""});
  d.timers_set = n.timers;
  d.next = std::move(n);
  if (!start.inadmissible.has_value()) return d;

  // Every petition is recorded; the refusal is the intake decision, taken at once.
  const Inadmissible& why = *start.inadmissible;
  const bool again = why.rule == Inadmissible::Rule::kFinalAfterRecheck;
  ActionRequest refuse;
  refuse.action = again ? def.proto().not_accepted_again_action()
                        : def.proto().not_accepted_here_action();
  if (refuse.action.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(again ? "final after re-check: " : "Art. 19: ", why.reason));
  }
  refuse.fields = {{"prior_case", why.prior_tracking_number},
                   {"reason", why.reason},
                   {"article", why.article}};
  const MapOrgTree no_units({});  // the refusal's scope is the system's: no unit is consulted
  absl::StatusOr<Decision> refused =
      Rules(def, calendar_).Apply(d.next, refuse, SystemActor(), now, no_units);
  if (!refused.ok()) return refused.status();
  for (DocumentDue& doc : refused->documents) {
    doc.event += d.events.size();
    d.documents.push_back(std::move(doc));
  }
  for (Event& e : refused->events) d.events.push_back(std::move(e));
  d.notices = std::move(refused->notices);
  d.next = std::move(refused->next);
  d.timers_set = d.next.timers;
  return d;
}

std::vector<const xinfang::v1::Action*> Engine::Available(const CaseSnapshot& c, const Actor& actor,
                                                          absl::Time now,
                                                          const OrgTree& org) const {
  std::vector<const xinfang::v1::Action*> out;
  Rules core(*definition_, calendar_);
  for (const xinfang::v1::Action* a : definition_->ActionsFrom(c.state)) {
    if (core.CheckAllowed(c, *a, actor, now, org).ok()) out.push_back(a);
  }
  return out;
}

absl::StatusOr<Decision> Engine::Apply(const CaseSnapshot& c, const ActionRequest& request,
                                       const Actor& actor, absl::Time now,
                                       const OrgTree& org) const {
  const Rules rules(*definition_, calendar_);
  return WithFacts(rules.Apply(c, request, actor, now, org), rules);
}

absl::StatusOr<Decision> Engine::Fire(const CaseSnapshot& c, const std::string& timer,
                                      absl::Time now, const OrgTree& org) const {
  const Rules rules(*definition_, calendar_);
  return WithFacts(rules.Fire(c, timer, now, org), rules);
}

absl::StatusOr<Decision> Engine::FireAll(const CaseSnapshot& c,
                                         const std::vector<std::string>& timers, absl::Time now,
                                         const OrgTree& org) const {
  const Rules rules(*definition_, calendar_);
  Decision total;
  total.next = c;
  for (const std::string& timer : timers) {
    absl::StatusOr<Decision> d = rules.Fire(total.next, timer, now, org);
    if (!d.ok()) return d.status();
    total.next = std::move(d->next);
    for (Event& e : d->events) total.events.push_back(std::move(e));
    for (TimerState& t : d->timers_set) total.timers_set.push_back(std::move(t));
    for (std::string& t : d->timers_cancelled) total.timers_cancelled.push_back(std::move(t));
    for (Notice& n : d->notices) total.notices.push_back(std::move(n));
  }
  total.facts = rules.Facts(total.next);
  return total;
}

Decision Engine::RecomputeDeadlines(const CaseSnapshot& c, absl::Time now) const {
  const Rules rules(*definition_, calendar_);
  Decision d = rules.RecomputeDeadlines(c, now);
  d.facts = rules.Facts(d.next);
  return d;
}

CaseFacts Engine::Facts(const CaseSnapshot& c) const {
  return Rules(*definition_, calendar_).Facts(c);
}

std::optional<absl::Time> Engine::NextFireAt(const TimerState& t) const {
  return Rules(*definition_, calendar_).NextFireAt(t);
}

absl::StatusOr<Decision> Engine::Migrate(const CaseSnapshot& c, const Engine& to,
                                         const std::map<std::string, std::string>& mapping,
                                         absl::Time now) {
  const Definition& def = to.definition();
  for (const auto& [from, target] : mapping) {
    if (def.FindState(target) == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat("migration maps state \"", from, "\" to \"",
                                                        target, "\", which ", def.key(),
                                                        " does not have"));
    }
  }
  auto it = mapping.find(c.state);
  std::string state = it == mapping.end() ? c.state : it->second;
  if (def.FindState(state) == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("state \"", state, "\" does not exist in ",
                                                      def.key(), ": map it to one that does"));
  }
  Decision d;
  CaseSnapshot n = c;
  n.workflow = def.name();
  n.workflow_version = def.version();
  if (n.state != state) {
    n.state = state;
    n.state_entered_at = now;
  }
  if (def.FindState(state)->final() && !n.closed_at.has_value()) n.closed_at = now;
  Rules(def, to.calendar_).Reconcile(n, now);
  d.events.push_back(Event{"migrated",
                           "",
                           c.state,
                           n.state,
                           {{"from_workflow", absl::StrCat(c.workflow, "@", c.workflow_version)},
                            {"to_workflow", def.key()}},
                           ""});
  Rules::DiffTimers(c, n, d);
  d.next = std::move(n);
  d.facts = Rules(def, to.calendar_).Facts(d.next);
  return d;
}

absl::StatusOr<CaseSnapshot> Replay(const Engine& engine, const std::vector<RecordedStep>& steps,
                                    const OrgTree& org) {
  if (steps.empty() || steps.front().kind != RecordedStep::Kind::kStart) {
    return absl::InvalidArgumentError("replay: the first step must be the start of the case");
  }
  CaseSnapshot c;
  for (size_t i = 0; i < steps.size(); ++i) {
    const RecordedStep& step = steps[i];
    absl::StatusOr<Decision> d;
    switch (step.kind) {
      case RecordedStep::Kind::kStart:
        if (i != 0)
          return absl::InvalidArgumentError(absl::StrCat("replay step ", i, ": a second start"));
        d = engine.Start(step.start, step.actor, step.at);
        break;
      case RecordedStep::Kind::kAction:
        d = engine.Apply(c, step.request, step.actor, step.at, org);
        break;
      case RecordedStep::Kind::kFire:
        d = engine.Fire(c, step.timer, step.at, org);
        break;
    }
    if (!d.ok()) {
      return absl::Status(d.status().code(),
                          absl::StrCat("replay step ", i, ": ", d.status().message()));
    }
    c = std::move(d->next);
  }
  return c;
}

bool SameMatter(const NewMatter& matter, const PriorCase& prior) {
  std::string category = NormalizeKey(matter.category);
  std::string about = NormalizeKey(matter.complained_about);
  if (category.empty() || about.empty()) return false;
  return category == NormalizeKey(prior.category) && about == NormalizeKey(prior.complained_about);
}

std::optional<Inadmissible> CheckAdmissible(const NewMatter& matter,
                                            const std::vector<PriorCase>& priors,
                                            const OrgTree& org, absl::Time now) {
  for (const PriorCase& p : priors) {
    if (!SameMatter(matter, p)) continue;
    if (p.flags.count("final_after_recheck") > 0) {
      return Inadmissible{
          Inadmissible::Rule::kFinalAfterRecheck, p.tracking_number,
          absl::StrCat("the same matter was finally decided after re-check in case ",
                       p.tracking_number, " and is not accepted again"),
          "《信访工作条例》第三十五条"};
    }
  }
  for (const PriorCase& p : priors) {
    if (!SameMatter(matter, p) || !p.open) continue;
    bool in_time = !p.overdue && (!p.due_at.has_value() || now < *p.due_at);
    bool higher =
        p.responsible_unit != matter.unit && org.IsWithin(p.responsible_unit, matter.unit);
    if (in_time && higher) {
      return Inadmissible{
          Inadmissible::Rule::kOpenBelow, p.tracking_number,
          absl::StrCat("the same matter is open and within its time limits in case ",
                       p.tracking_number, " at unit \"", p.responsible_unit,
                       "\"; a higher body does not accept it"),
          "《信访工作条例》第十九条"};
    }
  }
  return std::nullopt;
}

PriorCase SummarizeCase(const Definition& definition, const CaseSnapshot& c,
                        const std::string& tracking_number, const std::string& category,
                        const std::string& complained_about) {
  PriorCase p;
  p.tracking_number = tracking_number;
  p.category = category;
  p.complained_about = complained_about;
  p.state = c.state;
  const xinfang::v1::State* s = definition.FindState(c.state);
  p.open = s == nullptr || !s->final();
  p.responsible_unit = c.responsible_unit;
  if (s != nullptr && s->stage() == xinfang::v1::STAGE_REVIEW && !c.review_unit.empty()) {
    p.responsible_unit = c.review_unit;
  } else if (s != nullptr && s->stage() == xinfang::v1::STAGE_RECHECK && !c.recheck_unit.empty()) {
    p.responsible_unit = c.recheck_unit;
  }
  p.flags = c.flags;
  for (const TimerState& t : c.timers) {
    const xinfang::v1::Timer* spec = definition.FindTimer(t.name);
    if (spec == nullptr || !spec->expiry().escalate()) continue;
    if (t.overdue) p.overdue = true;
    if (!t.suspended_at.has_value() && (!p.due_at.has_value() || t.deadline.due_at < *p.due_at)) {
      p.due_at = t.deadline.due_at;
    }
  }
  return p;
}

}  // namespace xinfang::workflow
