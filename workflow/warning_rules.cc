#include "workflow/warning_rules.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "absl/strings/ascii.h"

namespace xinfang::workflow {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::TextFormat;
using xinfang::v1::WarningRule;
using xinfang::v1::WarningRuleKind;

constexpr size_t kMaxRulesBytes = 1 << 20;

// Which of the numeric settings each kind reads; a setting given to a kind
// that ignores it is a mistake worth naming.
struct Uses {
  bool threshold, similarity, min_people, factor, baseline_windows;
};

Uses UsesOf(WarningRuleKind kind) {
  switch (kind) {
    case v1::WARNING_RULE_KIND_REPEAT_PETITIONER: return {true, false, false, false, false};
    case v1::WARNING_RULE_KIND_SAME_EMPLOYER: return {true, true, false, false, false};
    case v1::WARNING_RULE_KIND_GROUP_NOT_ACCEPTED: return {false, false, true, false, false};
    case v1::WARNING_RULE_KIND_CATEGORY_SURGE: return {true, false, false, true, true};
    case v1::WARNING_RULE_KIND_UNIT_VOLUME_RISE: return {true, false, false, true, false};
    default: return {false, false, false, false, false};
  }
}

bool IsName(const std::string& s) {
  if (s.empty() || s.size() > 64 || !absl::ascii_islower(static_cast<unsigned char>(s[0]))) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char ch) {
    return absl::ascii_islower(static_cast<unsigned char>(ch)) ||
           absl::ascii_isdigit(static_cast<unsigned char>(ch)) || ch == '_';
  });
}

}  // namespace

bool IsReferenceCode(const std::string& s) {
  if (s.empty() || s.size() > 64 || !absl::ascii_isalnum(static_cast<unsigned char>(s[0]))) {
    return false;
  }
  return std::all_of(s.begin(), s.end(), [](char ch) {
    return absl::ascii_islower(static_cast<unsigned char>(ch)) ||
           absl::ascii_isdigit(static_cast<unsigned char>(ch)) || ch == '.' || ch == '_' ||
           ch == '-';
  });
}

absl::StatusOr<WarningRules> WarningRules::Parse(const std::string& text, const std::string& file) {
  std::vector<Problem> problems;
  if (text.size() > kMaxRulesBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, ":0: -: larger than ", kMaxRulesBytes, " bytes"));
  }
  WarningRules rules;
  rules.file_ = file;
  TextFormat::ParseInfoTree tree;
  ProblemCollector collector(file, &problems);
  TextFormat::Parser parser;
  parser.RecordErrorsTo(&collector);
  parser.WriteLocationsTo(&tree);
  if (parser.ParseFromString(text, &rules.proto_)) {
    const auto* top = xinfang::v1::WarningRules::descriptor();
    const FieldDescriptor* rules_field = top->FindFieldByName("rules");
    auto line_of = [&](int i, const char* field) {
      const TextFormat::ParseInfoTree* r = tree.GetTreeForNested(rules_field, i);
      const FieldDescriptor* f = WarningRule::descriptor()->FindFieldByName(field);
      int line = -1;
      if (r != nullptr && f != nullptr) line = r->GetLocation(f, f->is_repeated() ? 0 : -1).line;
      if (line < 0) line = tree.GetLocation(rules_field, i).line;
      return line >= 0 ? line + 1 : 0;
    };
    auto add = [&](int i, const char* field, const std::string& name, std::string message) {
      int line = line_of(i, field);
      problems.push_back(Problem{file, line, name, std::move(message)});
    };
    const auto& p = rules.proto_;
    if (p.version() < 1) {
      int line = tree.GetLocation(top->FindFieldByName("version"), -1).line;
      problems.push_back(Problem{file, line >= 0 ? line + 1 : 0, "", "version must be 1 or more"});
    }
    std::set<std::string> names;
    for (int i = 0; i < p.rules_size(); ++i) {
      const WarningRule& r = p.rules(i);
      for (const char* f : {"name", "title", "kind", "severity", "window_days", "threshold",
                            "unit", "categories", "similarity", "min_people", "factor",
                            "baseline_windows"}) {
        rules.lines_[{i, f}] = line_of(i, f);
      }
      const std::string& n = r.name();
      if (!IsName(n)) add(i, "name", n, "name must be a lower_snake_case name");
      if (!names.insert(n).second) add(i, "name", n, "duplicate rule name");
      if (r.title().empty() || r.title().size() > 400) {
        add(i, "title", n, "title must be given, at most 400 bytes");
      }
      if (!v1::WarningRuleKind_IsValid(r.kind()) ||
          r.kind() == v1::WARNING_RULE_KIND_UNSPECIFIED) {
        add(i, "kind", n, "kind must be given");
      }
      if (r.severity() == v1::WARNING_SEVERITY_UNSPECIFIED ||
          !v1::WarningSeverity_IsValid(r.severity())) {
        add(i, "severity", n, "severity must be given");
      }
      if (r.window_days() < 1 || r.window_days() > 366) {
        add(i, "window_days", n, "window_days must be 1..366");
      }
      if (!r.unit().empty() && !IsReferenceCode(r.unit())) add(i, "unit", n, "unit is not a unit code");
      for (const std::string& c : r.categories()) {
        if (!IsReferenceCode(c)) add(i, "categories", n, absl::StrCat("\"", c, "\" is not a category code"));
      }
      // Each numeric setting: used by this kind and then within its range,
      // or not used and then not given.
      const Uses uses = UsesOf(r.kind());
      const bool surge_or_rise = uses.factor;
      auto setting = [&](const char* field, bool used, double value, double lo, double hi) {
        if (!used) {
          if (value != 0) add(i, field, n, absl::StrCat(field, " has no meaning for this kind"));
        } else if (!(value >= lo && value <= hi)) {
          add(i, field, n, absl::StrCat(field, " must be ", lo, "..", hi));
        }
      };
      setting("threshold", uses.threshold, r.threshold(), surge_or_rise ? 1 : 2,
              surge_or_rise ? 100000 : kMaxWarningThreshold);
      setting("similarity", uses.similarity, r.similarity(), 0.3, 1);
      setting("min_people", uses.min_people, r.min_people(), 2, 10000);
      setting("factor", uses.factor, r.factor(), 1, 100);
      setting("baseline_windows", uses.baseline_windows, r.baseline_windows(), 1, 52);
    }
  }
  if (!problems.empty()) {
    std::stable_sort(problems.begin(), problems.end(),
                     [](const Problem& a, const Problem& b) { return a.line < b.line; });
    return absl::InvalidArgumentError(JoinProblems(problems));
  }
  return rules;
}

absl::StatusOr<WarningRules> WarningRules::LoadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read warning rules ", path));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::NotFoundError(absl::StrCat("cannot read warning rules ", path));
  return Parse(text.str(), path);
}

absl::Status WarningRules::CheckReferences(
    const std::function<bool(const std::string&)>& unit_known,
    const std::function<bool(const std::string&)>& category_known) const {
  std::vector<Problem> problems;
  for (int i = 0; i < proto_.rules_size(); ++i) {
    const WarningRule& r = proto_.rules(i);
    auto line = [&](const char* f) {
      auto it = lines_.find({i, f});
      return it == lines_.end() ? 0 : it->second;
    };
    if (!r.unit().empty() && !unit_known(r.unit())) {
      problems.push_back(Problem{file_, line("unit"), r.name(),
                                 absl::StrCat("unknown unit \"", r.unit(), "\"")});
    }
    for (const std::string& c : r.categories()) {
      if (!category_known(c)) {
        problems.push_back(Problem{file_, line("categories"), r.name(),
                                   absl::StrCat("unknown category \"", c, "\"")});
      }
    }
  }
  if (problems.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(JoinProblems(problems));
}

std::vector<const WarningRule*> WarningRules::Enabled() const {
  std::vector<const WarningRule*> out;
  for (const WarningRule& r : proto_.rules()) {
    if (!r.disabled()) out.push_back(&r);
  }
  return out;
}

const WarningRule* WarningRules::Find(const std::string& name) const {
  for (const WarningRule& r : proto_.rules()) {
    if (r.name() == name) return &r;
  }
  return nullptr;
}

}  // namespace xinfang::workflow
