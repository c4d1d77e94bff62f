// xfctl: the command-line client of intake staff, case officers and
// supervisors. `xfctl help` lists the commands; docs/cli.md explains them.
// The commands are a table (command.h), a file per group; this file reads
// the settings, finds the command and turns its failure into an exit code.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tools/xfctl/args.h"
#include "tools/xfctl/client.h"
#include "tools/xfctl/command.h"

namespace xinfang::xfctl {
namespace {

constexpr char kUsageHead[] = "usage: xfctl [global flags] COMMAND [args]\n\nCommands:\n";

constexpr char kUsageTail[] = R"(
Global flags (environment in brackets):
  --server HOST:PORT   [XFCTL_SERVER]     default 127.0.0.1:50051
  --token TOKEN        [XFCTL_TOKEN]      your bearer token (xf_…), from your administrator
  --token-file FILE    [XFCTL_TOKEN_FILE] read the token from a file (keeps it out of `ps`)
  --tls-ca FILE        [XFCTL_TLS_CA]     use TLS; trust server certificates signed by this CA
  --tls-cert FILE      [XFCTL_TLS_CERT]   client certificate for mutual TLS (with --tls-key)
  --tls-key FILE       [XFCTL_TLS_KEY]    its private key
  --timeout SECONDS    [XFCTL_TIMEOUT]    per call, default 10
  --json                                  machine-readable output
  Defaults may also be set as KEY=VALUE lines (server, token, token-file, tls-ca,
  tls-cert, tls-key, timeout) in $XFCTL_CONFIG or ~/.config/xfctl/config.

case register flags:
  --channel visit|call|letter|online (required)   --received-at RFC3339 (default now)
  --name NAME --id-number ID --phone PHONE --address ADDR   (main petitioner)
  --co-petitioner NAME (repeatable)   --anonymous
  --same-person   the ID number is already registered under another name: it is the same person
  --purpose claim|suggestion|appeal|accusation|other   --category CODE
  --summary TEXT --request TEXT --facts TEXT --location TEXT
  --complained-about TEXT --complained-unit UNIT --attachment REF (repeatable)
  visit: --people N --representative NAME (repeatable, at most 5)
  call: --caller-number PHONE --call-ref REF
  letter: --postmark YYYY-MM-DD --sender-address ADDR --scan REF (repeatable)
  online: --platform NAME --ref REF
  --request-id ID   retry-safe id (default: a new random one)
  --interactive     ask for the details one by one (also the default when run
                    at a terminal with no flags)
)";

const std::vector<Command>& Commands() {
  static const auto* const kTable = [] {
    auto* table = new std::vector<Command>;
    for (const std::vector<Command>* group : {&CaseCommands(), &PublicCommands(), &SupCommands(),
                                              &QueryCommands(), &AdminCommands()}) {
      table->insert(table->end(), group->begin(), group->end());
    }
    return table;
  }();
  return *kTable;
}

std::string Usage() { return kUsageHead + CommandsHelp(Commands()) + kUsageTail; }

// The exit code, or the failure main prints.
CommandResult Run(const std::vector<std::string>& in) {
  absl::StatusOr<Global> g = LoadSettings(std::getenv);
  if (!g.ok()) return g.status();
  // Global flags come before the command (and may follow it).
  bool help = false;
  absl::StatusOr<std::size_t> at = ParseLeadingFlags(in, *g, help);
  if (!at.ok()) return at.status();
  if (help) {
    std::cout << Usage();
    return 0;
  }
  if (*at >= in.size() || in[*at] == "help") {
    std::cout << Usage();
    return *at >= in.size() ? 2 : 0;
  }
  absl::StatusOr<Invocation> invocation = Resolve(Commands(), in, *at);
  if (!invocation.ok()) return invocation.status();
  if (absl::Status s = ApplyTrailingFlags(invocation->args, *g); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(*g);
  if (!client.ok()) return client.status();
  Context ctx{*g, **client};
  return invocation->command->run(ctx, invocation->args);
}

}  // namespace

int Main(int argc, char** argv) {
  CommandResult code = Run(std::vector<std::string>(argv + 1, argv + argc));
  if (!code.ok()) {
    std::fprintf(stderr, "xfctl: %s\n", std::string(code.status().message()).c_str());
    return ExitCode(code.status());
  }
  return *code;
}

}  // namespace xinfang::xfctl

int main(int argc, char** argv) { return xinfang::xfctl::Main(argc, argv); }
