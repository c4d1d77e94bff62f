// xfctl's commands as a table: one entry per command, each group of commands
// in its own file (case_commands.cc, sup_commands.cc, …), concatenated by
// main.cc. Dispatch, the flags a command accepts and `xfctl help` all come
// from the table, so a new command is added in one place.
#ifndef XINFANG_TOOLS_XFCTL_COMMAND_H_
#define XINFANG_TOOLS_XFCTL_COMMAND_H_

#include <cstddef>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tools/xfctl/args.h"

namespace xinfang::xfctl {

class Client;

// What a command runs with: the settings and a client for the server.
struct Context {
  const Global& global;
  Client& client;
};

// A command's outcome: its exit code (0, or 3 when `case verify` finds a
// broken chain), or a failure, which main prints as "xfctl: MESSAGE" and
// exits with ExitCode().
using CommandResult = absl::StatusOr<int>;

struct Command {
  // The words that name it, e.g. {"case", "show"}. The first word, or the
  // first two when no command is that word alone, name its group and must
  // open the command line; the group's flags are those of all its commands
  // (the `sup notice` verbs share one list). Further words ("create" of
  // admin account create) are read after the flags, as the first positional
  // arguments, and taken off them. A command whose path is its group's
  // answers when the words that follow name none of the others.
  std::vector<std::string> path;
  // How it is called, after "xfctl " ("case show TRACKING"). Empty: not
  // listed in `xfctl help`.
  std::string usage;
  // What it does, in `xfctl help`: lines at column 33, the first beside the
  // usage when that leaves room.
  std::string summary;
  // Its own flags (without "--"), besides the global ones.
  std::set<std::string> flags;
  CommandResult (*run)(Context& ctx, const Args& args);
};

// The tables of the groups, in the order of `xfctl help`.
const std::vector<Command>& CaseCommands();
// `public status` and `case reissue-code`: the petitioner's side.
const std::vector<Command>& PublicCommands();
const std::vector<Command>& SupCommands();
const std::vector<Command>& QueryCommands();
const std::vector<Command>& AdminCommands();

// `case act`, which `sup notice issue|reply` stand for.
CommandResult CaseAct(Context& ctx, const Args& a);

// A command line's command and its arguments (without the words naming it).
struct Invocation {
  const Command* command = nullptr;
  Args args;
};

// The command in[at] on names, its flags parsed. Errors: an unknown command
// ("unknown command 'case frob' (see xfctl help)"), and those of ParseArgs.
absl::StatusOr<Invocation> Resolve(const std::vector<Command>& table,
                                   const std::vector<std::string>& in, std::size_t at);

// The commands' lines of `xfctl help`, in table order.
std::string CommandsHelp(const std::vector<Command>& table);

// A call that failed (the server's error, or none reached): exit 1. Every
// other failure is a usage error (exit 2).
absl::Status CallFailure(absl::StatusCode code, absl::string_view message);
int ExitCode(const absl::Status& failure);

}  // namespace xinfang::xfctl

#endif  // XINFANG_TOOLS_XFCTL_COMMAND_H_
