#include "workflow/definition.h"

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"

namespace xinfang::workflow {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::TextFormat;
using xinfang::v1::Action;
using xinfang::v1::FieldSpec;
using xinfang::v1::LadderRung;
using xinfang::v1::State;
using xinfang::v1::Timer;
using xinfang::v1::WorkflowDefinition;

// Definitions are small; anything bigger is refused before parsing.
constexpr size_t kMaxDefinitionBytes = 1 << 20;
constexpr char kFieldStartPrefix[] = "field:";
// Bounds that keep every day count well inside what the calendar handles
// quickly (ten years of days) and texts within reason.
constexpr int kMaxDays = 3660;
constexpr int kMaxTextLength = 100000;

// Line numbers of the parsed text, found through the parser's location tree.
class Locator {
 public:
  explicit Locator(const std::string& text) {
    if (text.empty() || text.size() > kMaxDefinitionBytes) return;
    WorkflowDefinition scratch;
    std::vector<Problem> ignored;
    ProblemCollector collector("", &ignored);
    TextFormat::Parser parser;
    parser.RecordErrorsTo(&collector);
    parser.WriteLocationsTo(&tree_);
    parser.ParseFromString(text, &scratch);
  }

  // Line (1-based, 0 if unknown) of the index-th value of top-level `field`.
  int Top(const char* field, int index) const {
    return LineOf(&tree_, WorkflowDefinition::descriptor(), field, index);
  }

  // Line of `sub_field[sub_index]` inside the index-th `field` message;
  // falls back to the line of the message itself.
  int Nested(const char* field, int index, const char* sub_field, int sub_index = -1) const {
    const FieldDescriptor* f = WorkflowDefinition::descriptor()->FindFieldByName(field);
    if (f == nullptr || f->message_type() == nullptr) return 0;
    const TextFormat::ParseInfoTree* nested = tree_.GetTreeForNested(f, std::max(index, 0));
    int line = nested == nullptr ? 0 : LineOf(nested, f->message_type(), sub_field, sub_index);
    return line > 0 ? line : Top(field, index);
  }

  // Line of `expiry.<sub_field>` in the index-th timer.
  int TimerExpiry(int index, const char* sub_field) const {
    const FieldDescriptor* timers = WorkflowDefinition::descriptor()->FindFieldByName("timers");
    const TextFormat::ParseInfoTree* timer = tree_.GetTreeForNested(timers, index);
    if (timer == nullptr) return Top("timers", index);
    const FieldDescriptor* expiry = Timer::descriptor()->FindFieldByName("expiry");
    const TextFormat::ParseInfoTree* e = timer->GetTreeForNested(expiry, -1);
    int line = e == nullptr ? 0 : LineOf(e, xinfang::v1::Expiry::descriptor(), sub_field, -1);
    return line > 0 ? line : Nested("timers", index, "expiry");
  }

  // Line of `fields[field_index].<sub_field>` in the index-th action.
  int ActionField(int index, int field_index, const char* sub_field) const {
    const FieldDescriptor* actions = WorkflowDefinition::descriptor()->FindFieldByName("actions");
    const TextFormat::ParseInfoTree* action = tree_.GetTreeForNested(actions, index);
    if (action == nullptr) return Top("actions", index);
    const FieldDescriptor* fields = Action::descriptor()->FindFieldByName("fields");
    const TextFormat::ParseInfoTree* f = action->GetTreeForNested(fields, field_index);
    int line = f == nullptr ? 0 : LineOf(f, FieldSpec::descriptor(), sub_field, -1);
    return line > 0 ? line : Nested("actions", index, "fields", field_index);
  }

 private:
  static int LineOf(const TextFormat::ParseInfoTree* tree, const Descriptor* d, const char* field,
                    int index) {
    const FieldDescriptor* f = d->FindFieldByName(field);
    if (f == nullptr) return 0;
    // The parser CHECKs the index: -1 for singular fields, >= 0 for repeated
    // ones (the first value stands for the whole list).
    index = f->is_repeated() ? std::max(index, 0) : -1;
    int line = tree->GetLocation(f, index).line;
    return line >= 0 ? line + 1 : 0;
  }

  TextFormat::ParseInfoTree tree_;
};

bool IsSnakeName(const std::string& s) {
  if (s.empty() || s.size() > 64 || s[0] < 'a' || s[0] > 'z') return false;
  return std::all_of(s.begin(), s.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
  });
}

const std::set<std::string>& KnownRecipients() {
  static const auto* const kRecipients =
      new std::set<std::string>{"case_officer", "unit_head", "supervising_unit", "top"};
  return *kRecipients;
}

bool IsTimerEffect(xinfang::v1::Effect e) {
  return e == xinfang::v1::EFFECT_EXTEND_TIMER || e == xinfang::v1::EFFECT_SUSPEND_TIMER ||
         e == xinfang::v1::EFFECT_RESUME_TIMER;
}

const FieldSpec* FindField(const Action& a, const std::string& name) {
  for (const FieldSpec& f : a.fields()) {
    if (f.name() == name) return &f;
  }
  return nullptr;
}

// Does the work of Definition::Validate.
class Validator {
 public:
  Validator(const WorkflowDefinition& def, const std::string& file, const std::string& text)
      : def_(def), file_(file), loc_(text) {}

  std::vector<Problem> Run() {
    CheckHeader();
    CheckStates();
    CheckDocuments();
    CheckActions();
    CheckTimers();
    CheckLadder();
    CheckAdmission();
    CheckReachability();
    std::stable_sort(problems_.begin(), problems_.end(),
                     [](const Problem& a, const Problem& b) { return a.line < b.line; });
    return std::move(problems_);
  }

 private:
  void Add(int line, const std::string& name, std::string message) {
    problems_.push_back(Problem{file_, line, name, std::move(message)});
  }

  bool IsState(const std::string& s) const { return states_.count(s) > 0; }
  bool IsFinal(const std::string& s) const {
    auto it = states_.find(s);
    return it != states_.end() && def_.states(it->second).final();
  }

  void CheckFlagNames(const google::protobuf::RepeatedPtrField<std::string>& flags, int line,
                      const std::string& owner, const char* what) {
    for (const std::string& flag : flags) {
      if (!IsSnakeName(flag)) {
        Add(line, owner, absl::StrCat(what, " \"", flag, "\" is not a lower_snake_case name"));
      }
    }
  }

  void CheckHeader() {
    if (def_.name().empty()) {
      Add(loc_.Top("name", -1), "name", "the definition has no name");
    } else if (!IsSnakeName(def_.name())) {
      Add(loc_.Top("name", -1), def_.name(), "the name must be lower_snake_case");
    }
    if (def_.version() < 1) {
      Add(loc_.Top("version", -1), "version", "version must be 1 or more");
    }
    if (def_.states().empty()) Add(0, "states", "the definition has no states");
  }

  void CheckDocuments() {
    std::set<std::pair<std::string, std::string>> titles;
    for (int i = 0; i < def_.documents_size(); ++i) {
      const xinfang::v1::DocumentKind& k = def_.documents(i);
      const int line = loc_.Nested("documents", i, "kind");
      if (!IsSnakeName(k.kind())) {
        Add(line, k.kind(), "document kind must be a non-empty lower_snake_case name");
        continue;
      }
      if (!documents_.insert(k.kind()).second) {
        Add(line, k.kind(), "duplicate document kind");
        continue;
      }
      if (k.title().empty()) Add(line, k.kind(), "document has no title");
      if (k.series().empty()) {
        Add(line, k.kind(), "document has no series (the 文号's series code)");
      } else if (k.series().size() > 30 || k.series().find_first_of(" \t\n{}") != std::string::npos) {
        Add(loc_.Nested("documents", i, "series"), k.kind(),
            "series must be a short code without spaces or braces");
      }
      if (k.recipient() == xinfang::v1::DOCUMENT_RECIPIENT_UNSPECIFIED) {
        Add(line, k.kind(), "document has no recipient");
      }
    }
  }

  void CheckStates() {
    for (int i = 0; i < def_.states_size(); ++i) {
      const State& s = def_.states(i);
      int line = loc_.Nested("states", i, "name");
      if (!IsSnakeName(s.name())) {
        Add(line, s.name(), "state name must be a non-empty lower_snake_case name");
        continue;
      }
      if (!states_.emplace(s.name(), i).second) {
        Add(line, s.name(), "duplicate state name");
        continue;
      }
      if (s.stage() == xinfang::v1::STAGE_UNSPECIFIED) {
        Add(line, s.name(), "state has no stage");
      } else if (s.final() != (s.stage() == xinfang::v1::STAGE_FINAL)) {
        Add(line, s.name(), "final states, and only they, must have stage STAGE_FINAL");
      }
    }
    const std::string& initial = def_.initial_state();
    int line = loc_.Top("initial_state", -1);
    if (initial.empty()) {
      Add(line, "initial_state", "the definition has no initial state");
    } else if (!IsState(initial)) {
      Add(line, initial, "initial state is not a state of the definition");
    } else if (IsFinal(initial)) {
      Add(line, initial, "initial state is final");
    }
  }

  void CheckActions() {
    // Timer names are needed here; index them first (duplicates reported later).
    for (int i = 0; i < def_.timers_size(); ++i) timers_.emplace(def_.timers(i).name(), i);

    for (int i = 0; i < def_.actions_size(); ++i) {
      const Action& a = def_.actions(i);
      const std::string& name = a.name();
      int line = loc_.Nested("actions", i, "name");
      if (!IsSnakeName(name)) {
        Add(line, name, "action name must be a non-empty lower_snake_case name");
      } else if (!actions_.emplace(name, i).second) {
        Add(line, name, "duplicate action name");
      }
      if (a.from().empty()) Add(line, name, "action has no from-state");
      for (int j = 0; j < a.from_size(); ++j) {
        const std::string& from = a.from(j);
        int from_line = loc_.Nested("actions", i, "from", j);
        if (!IsState(from)) {
          Add(from_line, name, absl::StrCat("unknown state \"", from, "\" in from"));
        } else if (IsFinal(from)) {
          Add(from_line, name, absl::StrCat("final state \"", from, "\" has an outgoing action"));
        }
      }
      int to_line = loc_.Nested("actions", i, "to");
      if (a.stay()) {
        if (!a.to().empty()) Add(to_line, name, "a stay action has no to-state");
      } else if (a.to().empty()) {
        Add(to_line, name, "action has no to-state");
      } else if (!IsState(a.to())) {
        Add(to_line, name, absl::StrCat("unknown state \"", a.to(), "\" in to"));
      }
      if (a.roles().empty()) Add(line, name, "action has no roles");
      for (int r : a.roles()) {
        if (r == xinfang::v1::ROLE_UNSPECIFIED) {
          Add(loc_.Nested("actions", i, "roles"), name, "ROLE_UNSPECIFIED is not a role");
        }
      }
      CheckFields(i, a);
      CheckEffects(i, a);
      if (!a.document().empty() && documents_.count(a.document()) == 0) {
        Add(loc_.Nested("actions", i, "document"), name,
            absl::StrCat("document \"", a.document(), "\" is not a kind of the definition's documents"));
      }
      if (!a.within_timer().empty() && timers_.count(a.within_timer()) == 0) {
        Add(loc_.Nested("actions", i, "within_timer"), name,
            absl::StrCat("within_timer names unknown timer \"", a.within_timer(), "\""));
      }
      CheckFlagNames(a.requires_flags(), loc_.Nested("actions", i, "requires_flags"), name, "flag");
      CheckFlagNames(a.forbids_flags(), loc_.Nested("actions", i, "forbids_flags"), name, "flag");
      CheckFlagNames(a.sets_flags(), loc_.Nested("actions", i, "sets_flags"), name, "flag");
      CheckFlagNames(a.clears_flags(), loc_.Nested("actions", i, "clears_flags"), name, "flag");
      for (int g = 0; g < a.requires_values_size(); ++g) {
        const auto& guard = a.requires_values(g);
        int g_line = loc_.Nested("actions", i, "requires_values", g);
        if (guard.attribute().empty()) Add(g_line, name, "requires_values has no attribute");
        if (guard.any_of().empty()) Add(g_line, name, "requires_values has no any_of values");
      }
      if (!a.event_kind().empty() && !IsSnakeName(a.event_kind())) {
        Add(loc_.Nested("actions", i, "event_kind"), name,
            "event_kind must be a lower_snake_case name");
      }
    }
  }

  void CheckFields(int i, const Action& a) {
    std::set<std::string> seen;
    for (int j = 0; j < a.fields_size(); ++j) {
      const FieldSpec& f = a.fields(j);
      int line = loc_.ActionField(i, j, "name");
      std::string who = absl::StrCat(a.name(), ".", f.name());
      if (!IsSnakeName(f.name())) {
        Add(line, who, "field name must be a non-empty lower_snake_case name");
      } else if (!seen.insert(f.name()).second) {
        Add(line, who, "duplicate field name");
      }
      switch (f.type()) {
        case xinfang::v1::FIELD_TYPE_UNSPECIFIED:
          Add(line, who, "field has no type");
          break;
        case xinfang::v1::FIELD_TYPE_CHOICE: {
          if (f.choices().empty()) Add(line, who, "choice field has no choices");
          std::set<std::string> choices;
          for (const std::string& c : f.choices()) {
            if (c.empty() || !choices.insert(c).second) {
              Add(line, who, absl::StrCat("empty or duplicate choice \"", c, "\""));
            }
          }
          break;
        }
        case xinfang::v1::FIELD_TYPE_DAYS:
          if (f.max_days() <= 0 || f.max_days() > kMaxDays) {
            Add(line, who, absl::StrCat("days field needs max_days of 1..", kMaxDays));
          }
          break;
        default:
          break;
      }
      if (f.max_length() < 0 || f.max_length() > kMaxTextLength) {
        Add(line, who, absl::StrCat("max_length must be 0..", kMaxTextLength));
      }
      if (f.has_required_when()) CheckRequiredWhen(loc_.ActionField(i, j, "required_when"), a, f);
    }
  }

  // required_when names a CHOICE field of the same action and some of its
  // choices; a field cannot be both required and required_when.
  void CheckRequiredWhen(int line, const Action& a, const FieldSpec& f) {
    const std::string who = absl::StrCat(a.name(), ".", f.name());
    const xinfang::v1::ValueGuard& when = f.required_when();
    if (f.required()) Add(line, who, "a field is required or required_when, not both");
    const FieldSpec* other = FindField(a, when.attribute());
    if (other == nullptr || other == &f || other->type() != xinfang::v1::FIELD_TYPE_CHOICE) {
      Add(line, who,
          absl::StrCat("required_when names \"", when.attribute(),
                       "\", which is not another CHOICE field of the action"));
      return;
    }
    if (when.any_of().empty()) Add(line, who, "required_when has no any_of values");
    for (const std::string& v : when.any_of()) {
      if (std::find(other->choices().begin(), other->choices().end(), v) ==
          other->choices().end()) {
        Add(line, who, absl::StrCat("required_when value \"", v, "\" is not a choice of \"",
                                    when.attribute(), "\""));
      }
    }
  }

  void CheckEffects(int i, const Action& a) {
    const std::string& name = a.name();
    int line = loc_.Nested("actions", i, "effects");
    bool has_timer_effect = false;
    for (int e : a.effects()) {
      auto effect = static_cast<xinfang::v1::Effect>(e);
      switch (effect) {
        case xinfang::v1::EFFECT_UNSPECIFIED:
          Add(line, name, "EFFECT_UNSPECIFIED is not an effect");
          break;
        case xinfang::v1::EFFECT_ASSIGN_OFFICER:
          RequireField(line, a, "officer", xinfang::v1::FIELD_TYPE_ACCOUNT, effect);
          break;
        case xinfang::v1::EFFECT_DECLARE_CONFLICT:
          RequireField(line, a, "account", xinfang::v1::FIELD_TYPE_ACCOUNT, effect);
          break;
        case xinfang::v1::EFFECT_MOVE_TO_UNIT:
          RequireField(line, a, "target_unit", xinfang::v1::FIELD_TYPE_UNIT, effect);
          break;
        case xinfang::v1::EFFECT_SET_DECIDED:
          RequireField(line, a, "outcome", xinfang::v1::FIELD_TYPE_UNSPECIFIED, effect);
          break;
        case xinfang::v1::EFFECT_EXTEND_TIMER:
          RequireField(line, a, "days", xinfang::v1::FIELD_TYPE_DAYS, effect);
          break;
        case xinfang::v1::EFFECT_SET_SERVED: {
          const FieldSpec* f = FindField(a, "served_on");
          if (f != nullptr && f->type() != xinfang::v1::FIELD_TYPE_DATE) {
            Add(line, name, "field \"served_on\" of EFFECT_SET_SERVED must be a DATE");
          }
          break;
        }
        case xinfang::v1::EFFECT_SET_EVALUATION: {
          for (const char* field : {"rating", "office_rating"}) {
            const FieldSpec* f = FindField(a, field);
            if (f != nullptr && f->type() != xinfang::v1::FIELD_TYPE_CHOICE) {
              Add(line, name,
                  absl::StrCat("field \"", field, "\" of EFFECT_SET_EVALUATION must be a CHOICE"));
            }
          }
          break;
        }
        default:
          break;
      }
      if (IsTimerEffect(effect)) has_timer_effect = true;
    }
    if (!has_timer_effect) {
      if (!a.timer().empty()) {
        Add(loc_.Nested("actions", i, "timer"), name, "timer is set but no timer effect uses it");
      }
      return;
    }
    int timer_line = loc_.Nested("actions", i, "timer");
    auto it = timers_.find(a.timer());
    if (a.timer().empty()) {
      Add(timer_line, name, "a timer effect needs `timer`");
    } else if (it == timers_.end()) {
      Add(timer_line, name, absl::StrCat("timer effect names unknown timer \"", a.timer(), "\""));
    } else {
      bool extends = std::find(a.effects().begin(), a.effects().end(),
                               xinfang::v1::EFFECT_EXTEND_TIMER) != a.effects().end();
      if (extends && def_.timers(it->second).max_extension_days() <= 0) {
        Add(timer_line, name,
            absl::StrCat("timer \"", a.timer(), "\" cannot be extended (max_extension_days 0)"));
      }
    }
  }

  void RequireField(int line, const Action& a, const std::string& field,
                    xinfang::v1::FieldType type, xinfang::v1::Effect effect) {
    const FieldSpec* f = FindField(a, field);
    std::string effect_name = xinfang::v1::Effect_Name(effect);
    if (f == nullptr || !f->required()) {
      Add(line, a.name(), absl::StrCat(effect_name, " needs a required field \"", field, "\""));
    } else if (type != xinfang::v1::FIELD_TYPE_UNSPECIFIED && f->type() != type) {
      Add(line, a.name(),
          absl::StrCat("field \"", field, "\" of ", effect_name, " must be ",
                       xinfang::v1::FieldType_Name(type)));
    }
  }

  void CheckStateList(const google::protobuf::RepeatedPtrField<std::string>& list, int i,
                      const char* field, const std::string& name) {
    for (int j = 0; j < list.size(); ++j) {
      int line = loc_.Nested("timers", i, field, j);
      if (!IsState(list[j])) {
        Add(line, name, absl::StrCat("unknown state \"", list[j], "\" in ", field));
      } else if (IsFinal(list[j])) {
        Add(line, name, absl::StrCat("timer runs in final state \"", list[j], "\""));
      }
    }
  }

  void CheckTimers() {
    std::set<std::string> seen;
    std::set<std::string> date_fields;
    for (const Action& a : def_.actions()) {
      for (const FieldSpec& f : a.fields()) {
        if (f.type() == xinfang::v1::FIELD_TYPE_DATE) date_fields.insert(f.name());
      }
    }
    std::map<int, std::string> purposes;  // purpose -> the timer that has it
    for (int i = 0; i < def_.timers_size(); ++i) {
      const Timer& t = def_.timers(i);
      const std::string& name = t.name();
      int line = loc_.Nested("timers", i, "name");
      if (t.purpose() != xinfang::v1::TIMER_PURPOSE_UNSPECIFIED) {
        auto [it, fresh] = purposes.emplace(t.purpose(), name);
        if (!fresh) {
          Add(loc_.Nested("timers", i, "purpose"), name,
              absl::StrCat("purpose ", xinfang::v1::TimerPurpose_Name(t.purpose()),
                           " is already timer \"", it->second, "\"'s"));
        }
      }
      if (!IsSnakeName(name)) {
        Add(line, name, "timer name must be a non-empty lower_snake_case name");
      } else if (!seen.insert(name).second) {
        Add(line, name, "duplicate timer name");
      }
      if (t.length() < 1 || t.length() > kMaxDays) {
        Add(loc_.Nested("timers", i, "length"), name,
            absl::StrCat("length must be 1..", kMaxDays, " days"));
      }
      if (t.day_kind() == xinfang::v1::DAY_KIND_UNSPECIFIED) {
        Add(line, name, "timer has no day_kind");
      }
      if (t.warning_lead_days() < 0 || t.warning_lead_days() > kMaxDays) {
        Add(loc_.Nested("timers", i, "warning_lead_days"), name,
            absl::StrCat("warning_lead_days must be 0..", kMaxDays));
      }
      if (t.max_extension_days() < 0 || t.max_extension_days() > kMaxDays) {
        Add(loc_.Nested("timers", i, "max_extension_days"), name,
            absl::StrCat("max_extension_days must be 0..", kMaxDays));
      }
      const std::string& starts = t.starts_at();
      if (absl::StartsWith(starts, kFieldStartPrefix)) {
        std::string field = starts.substr(sizeof(kFieldStartPrefix) - 1);
        if (date_fields.count(field) == 0) {
          Add(loc_.Nested("timers", i, "starts_at"), name,
              absl::StrCat("starts_at names \"", field, "\", which is no action's DATE field"));
        }
      } else if (!starts.empty() && starts != "entry" && starts != "receipt") {
        Add(loc_.Nested("timers", i, "starts_at"), name,
            "starts_at must be \"entry\", \"receipt\" or \"field:<date field>\"");
      }
      if (t.running_in().empty()) Add(line, name, "timer runs in no state");
      CheckStateList(t.running_in(), i, "running_in", name);
      CheckStateList(t.suspended_in(), i, "suspended_in", name);
      for (const std::string& s : t.suspended_in()) {
        if (std::find(t.running_in().begin(), t.running_in().end(), s) != t.running_in().end()) {
          Add(loc_.Nested("timers", i, "suspended_in"), name,
              absl::StrCat("state \"", s, "\" is both running_in and suspended_in"));
        }
      }
      CheckFlagNames(t.only_with_flags(), loc_.Nested("timers", i, "only_with_flags"), name,
                     "flag");
      CheckFlagNames(t.not_with_flags(), loc_.Nested("timers", i, "not_with_flags"), name, "flag");
      CheckExpiry(i, t);
    }
  }

  void CheckExpiry(int i, const Timer& t) {
    const std::string& name = t.name();
    if (t.expiry().escalate() && def_.ladder().empty()) {
      Add(loc_.TimerExpiry(i, "escalate"), name, "timer escalates but there is no ladder");
    }
    if (t.expiry().action().empty()) return;
    int line = loc_.TimerExpiry(i, "action");
    auto it = actions_.find(t.expiry().action());
    if (it == actions_.end()) {
      Add(line, name, absl::StrCat("expiry action \"", t.expiry().action(), "\" is unknown"));
      return;
    }
    const Action& a = def_.actions(it->second);
    if (std::find(a.roles().begin(), a.roles().end(), xinfang::v1::ROLE_SYSTEM) ==
        a.roles().end()) {
      Add(line, name, absl::StrCat("expiry action \"", a.name(), "\" does not allow ROLE_SYSTEM"));
    }
    if (!a.document().empty()) {
      // The sweeper takes it with no one to write the document.
      Add(line, name, absl::StrCat("expiry action \"", a.name(), "\" issues a document"));
    }
    for (const FieldSpec& f : a.fields()) {
      if (f.required()) {
        Add(line, name,
            absl::StrCat("expiry action \"", a.name(), "\" has required field \"", f.name(), "\""));
      }
    }
    if (!a.within_timer().empty() || !a.requires_flags().empty() || !a.forbids_flags().empty() ||
        !a.requires_values().empty()) {
      Add(line, name, absl::StrCat("expiry action \"", a.name(), "\" may not have guards"));
    }
    for (const std::string& s : t.running_in()) {
      if (std::find(a.from().begin(), a.from().end(), s) == a.from().end()) {
        Add(line, name,
            absl::StrCat("expiry action \"", a.name(), "\" cannot be taken in running state \"", s,
                         "\""));
      }
    }
  }

  void CheckLadder() {
    int previous_delay = 0;
    for (int i = 0; i < def_.ladder_size(); ++i) {
      const LadderRung& r = def_.ladder(i);
      std::string name = absl::StrCat("rung ", r.rung());
      int line = loc_.Nested("ladder", i, "rung");
      if (r.rung() != i + 1) {
        Add(line, name, absl::StrCat("rungs must be numbered 1, 2, 3… in order; expected ", i + 1));
      }
      if (r.delay_days() < 0 || r.delay_days() > kMaxDays) {
        Add(loc_.Nested("ladder", i, "delay_days"), name,
            absl::StrCat("delay_days must be 0..", kMaxDays));
      } else if (r.delay_days() < previous_delay) {
        Add(loc_.Nested("ladder", i, "delay_days"), name,
            "delay_days must not decrease from one rung to the next");
      }
      previous_delay = std::max(previous_delay, r.delay_days());
      if (r.notify().empty()) {
        Add(line, name, "rung has no recipient (notify)");
      } else if (KnownRecipients().count(r.notify()) == 0) {
        Add(loc_.Nested("ladder", i, "notify"), name,
            absl::StrCat("unknown recipient \"", r.notify(),
                         "\" (case_officer, unit_head, supervising_unit, top)"));
      }
    }
  }

  // The registration-time refusals: actions from the initial state that the
  // system may take, with the fields the engine fills in.
  void CheckAdmission() {
    const std::pair<const char*, const std::string*> hooks[] = {
        {"not_accepted_again_action", &def_.not_accepted_again_action()},
        {"not_accepted_here_action", &def_.not_accepted_here_action()}};
    for (const auto& [key, name] : hooks) {
      if (name->empty()) continue;
      const int line = loc_.Top(key, -1);
      auto it = actions_.find(*name);
      if (it == actions_.end()) {
        Add(line, *name, absl::StrCat(key, " names no action of the definition"));
        continue;
      }
      const Action& a = def_.actions(it->second);
      if (std::find(a.from().begin(), a.from().end(), def_.initial_state()) == a.from().end()) {
        Add(line, *name, absl::StrCat(key, ": the action must be allowed in the initial state"));
      }
      if (std::find(a.roles().begin(), a.roles().end(), xinfang::v1::ROLE_SYSTEM) ==
          a.roles().end()) {
        Add(line, *name, absl::StrCat(key, ": the action must allow ROLE_SYSTEM"));
      }
      for (const char* field : {"prior_case", "reason", "article"}) {
        if (FindField(a, field) == nullptr) {
          Add(line, *name, absl::StrCat(key, ": the action must declare field \"", field, "\""));
        }
      }
    }
  }

  void CheckReachability() {
    if (!IsState(def_.initial_state())) return;
    std::set<std::string> reached{def_.initial_state()};
    std::deque<std::string> queue{def_.initial_state()};
    while (!queue.empty()) {
      std::string s = queue.front();
      queue.pop_front();
      for (const Action& a : def_.actions()) {
        if (std::find(a.from().begin(), a.from().end(), s) == a.from().end()) continue;
        if (IsState(a.to()) && reached.insert(a.to()).second) queue.push_back(a.to());
      }
    }
    for (const auto& [state_name, i] : states_) {
      const std::string& name = state_name;  // named: lambdas may not capture bindings (clang 14)
      const State& s = def_.states(i);
      int line = loc_.Nested("states", i, "name");
      if (reached.count(name) == 0) Add(line, name, "state is unreachable from the initial state");
      if (s.final()) continue;
      bool has_exit =
          std::any_of(def_.actions().begin(), def_.actions().end(), [&](const Action& a) {
            // A stay action does not lead out of the state.
            return !a.stay() && std::find(a.from().begin(), a.from().end(), name) != a.from().end();
          });
      if (!has_exit) Add(line, name, "non-final state has no outgoing action");
    }
  }

  const WorkflowDefinition& def_;
  std::string file_;
  Locator loc_;
  std::map<std::string, int> states_, actions_, timers_;
  std::vector<Problem> problems_;
  std::set<std::string> documents_;
};

}  // namespace

std::string JoinProblems(const std::vector<Problem>& problems) {
  return absl::StrJoin(problems, "\n",
                       [](std::string* out, const Problem& p) { out->append(p.ToString()); });
}

void ProblemCollector::AddError(int line, google::protobuf::io::ColumnNumber column,
                                const std::string& message) {
  out_->push_back(Problem{file_, line >= 0 ? line + 1 : 0, "",
                          absl::StrCat("parse error at column ", column + 1, ": ", message)});
}

std::string Problem::ToString() const {
  return absl::StrCat(file, ":", line, ": ", name.empty() ? "-" : name, ": ", message);
}

Definition::Definition(WorkflowDefinition proto) : proto_(std::move(proto)) {
  for (int i = 0; i < proto_.states_size(); ++i) states_.emplace(proto_.states(i).name(), i);
  for (int i = 0; i < proto_.actions_size(); ++i) actions_.emplace(proto_.actions(i).name(), i);
  for (int i = 0; i < proto_.timers_size(); ++i) timers_.emplace(proto_.timers(i).name(), i);
}

absl::StatusOr<std::shared_ptr<const Definition>> Definition::Parse(const std::string& text,
                                                                    const std::string& file) {
  if (text.size() > kMaxDefinitionBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, ":0: -: definition is larger than ", kMaxDefinitionBytes, " bytes"));
  }
  std::vector<Problem> problems;
  WorkflowDefinition proto;
  ProblemCollector collector(file, &problems);
  TextFormat::Parser parser;
  parser.RecordErrorsTo(&collector);
  if (!parser.ParseFromString(text, &proto)) {
    if (problems.empty()) problems.push_back(Problem{file, 0, "", "text format parse error"});
    return absl::InvalidArgumentError(JoinProblems(problems));
  }
  problems = Validate(proto, file, text);
  if (!problems.empty()) return absl::InvalidArgumentError(JoinProblems(problems));
  return std::shared_ptr<const Definition>(new Definition(std::move(proto)));
}

absl::StatusOr<std::shared_ptr<const Definition>> Definition::LoadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read workflow definition ", path));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::NotFoundError(absl::StrCat("cannot read workflow definition ", path));
  return Parse(text.str(), path);
}

std::vector<Problem> Definition::Validate(const WorkflowDefinition& def, const std::string& file,
                                          const std::string& text) {
  return Validator(def, file, text).Run();
}

std::string Definition::key() const { return absl::StrCat(name(), "@", version()); }

const xinfang::v1::State* Definition::FindState(const std::string& name) const {
  auto it = states_.find(name);
  return it == states_.end() ? nullptr : &proto_.states(it->second);
}

const xinfang::v1::Action* Definition::FindAction(const std::string& name) const {
  auto it = actions_.find(name);
  return it == actions_.end() ? nullptr : &proto_.actions(it->second);
}

const xinfang::v1::Timer* Definition::FindTimer(const std::string& name) const {
  auto it = timers_.find(name);
  return it == timers_.end() ? nullptr : &proto_.timers(it->second);
}

const xinfang::v1::Timer* Definition::TimerFor(xinfang::v1::TimerPurpose purpose) const {
  if (purpose == xinfang::v1::TIMER_PURPOSE_UNSPECIFIED) return nullptr;
  for (const xinfang::v1::Timer& t : proto_.timers()) {
    if (t.purpose() == purpose) return &t;
  }
  return nullptr;
}

const xinfang::v1::DocumentKind* Definition::FindDocument(const std::string& kind) const {
  for (const auto& d : proto_.documents()) {
    if (d.kind() == kind) return &d;
  }
  return nullptr;
}

bool DocumentAwaitsService(const xinfang::v1::Action& a) {
  return std::find(a.record().begin(), a.record().end(), xinfang::v1::RECORD_KIND_DECISION) !=
         a.record().end();
}

std::vector<const xinfang::v1::Action*> Definition::ActionsFrom(const std::string& state) const {
  std::vector<const xinfang::v1::Action*> out;
  for (const Action& a : proto_.actions()) {
    if (std::find(a.from().begin(), a.from().end(), state) != a.from().end()) out.push_back(&a);
  }
  return out;
}

absl::Status DefinitionRegistry::Add(std::shared_ptr<const Definition> def) {
  if (def == nullptr) return absl::InvalidArgumentError("null definition");
  auto key = std::make_pair(def->name(), def->version());
  if (defs_.count(key) > 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("workflow ", def->key(), " is already registered"));
  }
  defs_.emplace(std::move(key), std::move(def));
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const Definition>> DefinitionRegistry::Get(const std::string& name,
                                                                          int version) const {
  auto it = defs_.find(std::make_pair(name, version));
  if (it == defs_.end()) {
    return absl::NotFoundError(absl::StrCat("no workflow definition ", name, "@", version));
  }
  return it->second;
}

absl::StatusOr<std::shared_ptr<const Definition>> DefinitionRegistry::Latest(
    const std::string& name) const {
  std::shared_ptr<const Definition> best;
  for (const auto& [key, def] : defs_) {
    if (key.first == name) best = def;  // the map is ordered by version
  }
  if (best == nullptr) return absl::NotFoundError(absl::StrCat("no workflow definition ", name));
  return best;
}

std::vector<std::string> DefinitionRegistry::Keys() const {
  std::vector<std::string> keys;
  for (const auto& [key, def] : defs_) keys.push_back(def->key());
  return keys;
}

absl::StatusOr<DefinitionRegistry> DefinitionRegistry::LoadDirectory(const std::string& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return absl::NotFoundError(absl::StrCat("no workflow directory ", dir));
  }
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".textproto") {
      files.push_back(entry.path().string());
    }
  }
  if (ec) return absl::NotFoundError(absl::StrCat("cannot list ", dir, ": ", ec.message()));
  std::sort(files.begin(), files.end());
  DefinitionRegistry registry;
  for (const std::string& file : files) {
    absl::StatusOr<std::shared_ptr<const Definition>> def = Definition::LoadFile(file);
    if (!def.ok()) return def.status();
    absl::Status added = registry.Add(*std::move(def));
    if (!added.ok()) return absl::AlreadyExistsError(absl::StrCat(file, ": ", added.message()));
  }
  return registry;
}

}  // namespace xinfang::workflow
