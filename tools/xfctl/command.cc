#include "tools/xfctl/command.h"

#include <algorithm>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tools/xfctl/text.h"

namespace xinfang::xfctl {
namespace {

// Where `xfctl help` starts the summaries.
constexpr int kSummaryColumn = 33;

// The mark of a failed call's status (see ExitCode).
constexpr absl::string_view kCallFailedPayload = "xinfang.xfctl/call-failed";

bool StartsWith(const std::vector<std::string>& words, std::vector<std::string>::const_iterator it,
                std::vector<std::string>::const_iterator end) {
  return static_cast<std::size_t>(end - it) >= words.size() &&
         std::equal(words.begin(), words.end(), it);
}

}  // namespace

absl::StatusOr<Invocation> Resolve(const std::vector<Command>& table,
                                   const std::vector<std::string>& in, std::size_t at) {
  const std::string& first = in.at(at);
  const bool one_word = std::any_of(table.begin(), table.end(), [&](const Command& c) {
    return c.path == std::vector<std::string>{first};
  });
  std::vector<std::string> group = {first};
  if (!one_word) group.push_back(at + 1 < in.size() ? in[at + 1] : "");
  // The group as the errors name it ("case frob"; "case " for `xfctl case`).
  const std::string name = absl::StrJoin(group, " ");
  std::vector<const Command*> members;
  std::set<std::string> flags;
  for (const Command& c : table) {
    if (!StartsWith(group, c.path.begin(), c.path.end())) continue;
    members.push_back(&c);
    flags.insert(c.flags.begin(), c.flags.end());
  }
  if (members.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown command '", name, "' (see xfctl help)"));
  }
  absl::StatusOr<Args> args = ParseArgs(in, at + group.size(), name, flags);
  if (!args.ok()) return args.status();
  // The command whose further words are the most that open the positional
  // arguments: the group's own entry (no further words) matches any.
  const Command* best = nullptr;
  std::size_t verbs = 0;
  for (const Command* c : members) {
    std::vector<std::string> further(c->path.begin() + group.size(), c->path.end());
    if (!StartsWith(further, args->positional.begin(), args->positional.end())) continue;
    if (best == nullptr || further.size() > verbs) {
      best = c;
      verbs = further.size();
    }
  }
  if (best == nullptr) {
    const std::string verb = args->positional.empty() ? "" : " " + args->positional[0];
    return absl::InvalidArgumentError(
        absl::StrCat("unknown command '", name, verb, "' (see xfctl help)"));
  }
  args->positional.erase(args->positional.begin(),
                         args->positional.begin() + static_cast<std::ptrdiff_t>(verbs));
  return Invocation{best, *std::move(args)};
}

std::string CommandsHelp(const std::vector<Command>& table) {
  std::string out;
  for (const Command& c : table) {
    if (c.usage.empty()) continue;
    const std::vector<std::string> summary =
        c.summary.empty() ? std::vector<std::string>()
                          : std::vector<std::string>(absl::StrSplit(c.summary, '\n'));
    std::string line = "  " + c.usage;
    std::size_t next = 0;
    // Beside the usage when two spaces still separate them.
    if (!summary.empty() && DisplayWidth(line) + 2 <= kSummaryColumn) {
      line = PadRight(line, kSummaryColumn) + summary[next++];
    }
    absl::StrAppend(&out, line, "\n");
    for (; next < summary.size(); ++next) {
      absl::StrAppend(&out, std::string(kSummaryColumn, ' '), summary[next], "\n");
    }
  }
  return out;
}

absl::Status CallFailure(absl::StatusCode code, absl::string_view message) {
  absl::Status s(code, message);
  s.SetPayload(kCallFailedPayload, absl::Cord());
  return s;
}

int ExitCode(const absl::Status& failure) {
  return failure.GetPayload(kCallFailedPayload).has_value() ? 1 : 2;
}

}  // namespace xinfang::xfctl
