// The early-warning rules: a text-format file against
// proto/xinfang/v1/warning.proto (deploy/warnings/rules.textproto), loaded
// with the workflow definitions' discipline: every problem is listed at once,
// each with its file and line.
//
// Thread-safety: immutable once loaded; share it freely.
#ifndef XINFANG_WORKFLOW_WARNING_RULES_H_
#define XINFANG_WORKFLOW_WARNING_RULES_H_

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "workflow/definition.h"
#include "xinfang/v1/warning.pb.h"

namespace xinfang::workflow {

// The most petitions a counting rule may require (and a warning links at a
// time): WarningRule.threshold of REPEAT_PETITIONER and SAME_EMPLOYER.
inline constexpr int kMaxWarningThreshold = 100;

// A unit, category or account code: 1 to 64 of a-z 0-9 . _ -, starting
// with a letter or digit (what the units and categories tables accept).
bool IsReferenceCode(const std::string& code);

class WarningRules {
 public:
  // Parses and validates `text` (`file` names it in messages). On failure
  // INVALID_ARGUMENT whose message lists every problem, one a line, as
  // workflow::Problem::ToString ("file:line: rule: message").
  static absl::StatusOr<WarningRules> Parse(const std::string& text, const std::string& file);
  // Reads `path` and parses it. NOT_FOUND if unreadable.
  static absl::StatusOr<WarningRules> LoadFile(const std::string& path);

  // Checks the units and categories the rules' scopes name against the
  // organisation's (the database's, known only once it is open): every
  // unknown code, with the line naming it. OK when all are known.
  absl::Status CheckReferences(const std::function<bool(const std::string&)>& unit_known,
                               const std::function<bool(const std::string&)>& category_known) const;

  const xinfang::v1::WarningRules& proto() const { return proto_; }
  // The rules that are not disabled, in file order.
  std::vector<const xinfang::v1::WarningRule*> Enabled() const;
  // nullptr when no rule has this name.
  const xinfang::v1::WarningRule* Find(const std::string& name) const;

 private:
  WarningRules() = default;
  xinfang::v1::WarningRules proto_;
  std::string file_;
  // (rule index, field name) -> 1-based line, for CheckReferences.
  std::map<std::pair<int, std::string>, int> lines_;
};

}  // namespace xinfang::workflow

#endif  // XINFANG_WORKFLOW_WARNING_RULES_H_
