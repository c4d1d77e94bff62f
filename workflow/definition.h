// Workflow definitions: loading and validating a procedure written in
// protobuf text format against proto/xinfang/v1/workflow.proto.
//
// Thread-safety: a Definition is immutable once loaded; share it freely.
#ifndef XINFANG_WORKFLOW_DEFINITION_H_
#define XINFANG_WORKFLOW_DEFINITION_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/io/tokenizer.h"
#include "xinfang/v1/workflow.pb.h"

namespace xinfang::workflow {

// One problem found in a definition: where it is and what is wrong.
struct Problem {
  std::string file;
  int line = 0;       // 1-based; 0 when the position is unknown
  std::string name;   // the state, action, timer or rung concerned
  std::string message;

  // "file:line: name: message"
  std::string ToString() const;
};

// Problems one a line, as Problem::ToString (an INVALID_ARGUMENT's message).
std::string JoinProblems(const std::vector<Problem>& problems);

// Collects a text-format parser's errors as Problems of `file` (the loaders
// of definitions and of the warning rules).
class ProblemCollector final : public google::protobuf::io::ErrorCollector {
 public:
  ProblemCollector(std::string file, std::vector<Problem>* out)
      : file_(std::move(file)), out_(out) {}
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override;
  void AddWarning(int, google::protobuf::io::ColumnNumber, const std::string&) override {}

 private:
  std::string file_;
  std::vector<Problem>* out_;
};

class Definition {
 public:
  // Parses and validates text-format `text` (`file` is used in messages).
  // On failure INVALID_ARGUMENT whose message lists every problem, one per
  // line, as Problem::ToString(); Validate gives them as values.
  static absl::StatusOr<std::shared_ptr<const Definition>> Parse(const std::string& text,
                                                                 const std::string& file);
  // Reads `path` and parses it. NOT_FOUND if unreadable.
  static absl::StatusOr<std::shared_ptr<const Definition>> LoadFile(const std::string& path);

  // Every problem of a parsed definition (empty when it is valid):
  // duplicate names, unknown or unreachable states, actions without roles,
  // timers on final states, ladder rungs without a recipient, final states
  // with outgoing actions, timer effects naming unknown timers, bad field
  // specs, a purpose given to two timers. `text` is used to find line numbers (may be empty).
  static std::vector<Problem> Validate(const xinfang::v1::WorkflowDefinition& def,
                                       const std::string& file, const std::string& text);

  const xinfang::v1::WorkflowDefinition& proto() const { return proto_; }
  const std::string& name() const { return proto_.name(); }
  int version() const { return proto_.version(); }
  // "name@version"
  std::string key() const;

  // nullptr when absent.
  const xinfang::v1::State* FindState(const std::string& name) const;
  const xinfang::v1::Action* FindAction(const std::string& name) const;
  const xinfang::v1::Timer* FindTimer(const std::string& name) const;
  // The timer with `purpose` (at most one: Validate); nullptr when none or
  // for TIMER_PURPOSE_UNSPECIFIED.
  const xinfang::v1::Timer* TimerFor(xinfang::v1::TimerPurpose purpose) const;
  // The document kind of that name; nullptr if none.
  const xinfang::v1::DocumentKind* FindDocument(const std::string& kind) const;
  // Actions that may be taken in `state`, in definition order.
  std::vector<const xinfang::v1::Action*> ActionsFrom(const std::string& state) const;

 private:
  explicit Definition(xinfang::v1::WorkflowDefinition proto);
  xinfang::v1::WorkflowDefinition proto_;
  std::map<std::string, int> states_, actions_, timers_;
};

// The definitions a server knows, by name and version. Cases keep the
// version they started with.
// Whether the written document `a` issues reaches the petitioner by its
// service, not when it is written: a decision or an opinion (the action
// records RECORD_KIND_DECISION). Its service is recorded from the state `a`
// leads to. The petitioner's status and the notifications both ask here.
bool DocumentAwaitsService(const xinfang::v1::Action& a);

class DefinitionRegistry {
 public:
  // ALREADY_EXISTS if name@version is registered.
  absl::Status Add(std::shared_ptr<const Definition> def);
  // NOT_FOUND naming name@version.
  absl::StatusOr<std::shared_ptr<const Definition>> Get(const std::string& name,
                                                        int version) const;
  // The highest version of `name`; NOT_FOUND if none.
  absl::StatusOr<std::shared_ptr<const Definition>> Latest(const std::string& name) const;
  std::vector<std::string> Keys() const;

  // Loads every `*.textproto` of `dir`. NOT_FOUND if the directory is missing.
  static absl::StatusOr<DefinitionRegistry> LoadDirectory(const std::string& dir);

 private:
  std::map<std::pair<std::string, int>, std::shared_ptr<const Definition>> defs_;
};

}  // namespace xinfang::workflow

#endif  // XINFANG_WORKFLOW_DEFINITION_H_
