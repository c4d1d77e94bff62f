// xfctl's command line: the global settings (config file, environment,
// flags) and a command's flags and positional arguments. Parsing only: no
// output and no exit, so that it can be tested; every error is a usage error
// (InvalidArgument, exit 2), its message what xfctl prints after "xfctl: ".
// The only input besides the strings given is reading the files named by
// the settings (the config file, --token-file), at the moment the setting is
// met, as the command line has always done.
#ifndef XINFANG_TOOLS_XFCTL_ARGS_H_
#define XINFANG_TOOLS_XFCTL_ARGS_H_

#include <cstddef>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace xinfang::xfctl {

// Where and how to call the server, and how to print.
struct Global {
  std::string server = "127.0.0.1:50051";
  std::string token;
  std::string tls_ca, tls_cert, tls_key;
  int timeout = 10;
  bool json = false;
};

// Flags after the command: --name value (repeatable) or --flag.
struct Args {
  std::vector<std::string> positional;
  std::multimap<std::string, std::string> flags;

  // The first value of flag `k`.
  std::string Get(const std::string& k, const std::string& def = "") const {
    auto it = flags.find(k);
    return it == flags.end() ? def : it->second;
  }
  std::vector<std::string> All(const std::string& k) const {
    std::vector<std::string> out;
    for (auto [it, end] = flags.equal_range(k); it != end; ++it) out.push_back(it->second);
    return out;
  }
  bool Has(const std::string& k) const { return flags.contains(k); }

  // The number flag `k` gives, `def` without the flag. The type is the
  // field's: a number too large for it is "not a number" too.
  template <typename Int>
  absl::StatusOr<Int> Number(const std::string& k, Int def) const {
    Int n = def;
    if (Has(k) && !absl::SimpleAtoi(Get(k), &n)) {
      return absl::InvalidArgumentError(absl::StrCat("--", k, ": not a number"));
    }
    return n;
  }
};

// The global flags: accepted before the command and after it.
const std::set<std::string>& GlobalFlags();

// The whole of the file at `path`; "FLAG: cannot read 'PATH'" if it cannot
// be read (`flag` names the setting that gave the path).
absl::StatusOr<std::string> ReadFile(absl::string_view flag, const std::string& path);

// Sets the global string setting `name` (a flag name without "--"); a token
// file is read at once. False if `name` is no such setting.
absl::StatusOr<bool> SetGlobal(Global& g, absl::string_view name, const std::string& value);

// std::getenv, or a stand-in in tests.
using Getenv = std::function<const char*(const char*)>;

// The settings before the command line: the defaults, then the config file
// ($XFCTL_CONFIG, else ~/.config/xfctl/config: KEY=VALUE lines; other lines
// and unknown keys are skipped, a missing file is no error), then the XFCTL_*
// variables. The later setting wins.
absl::StatusOr<Global> LoadSettings(const Getenv& getenv);

// The global flags before the command, in[0] on, into `g`. Returns the index
// of the command's first word (in.size() when there is none). --help stops
// the reading: `help` is set and the index is that of --help.
absl::StatusOr<std::size_t> ParseLeadingFlags(const std::vector<std::string>& in, Global& g,
                                              bool& help);

// A command's flags and positional arguments, in[from] on. `allowed`: the
// command's own flags (the global ones are always allowed); `command` names
// it in the error for a flag it does not take. A flag takes the next word as
// its value unless it is an on/off flag or has "=value".
absl::StatusOr<Args> ParseArgs(const std::vector<std::string>& in, std::size_t from,
                               absl::string_view command, const std::set<std::string>& allowed);

// The global flags that followed the command (in `a`) into `g`. Their order
// does not matter (--token-file wins over --token), unlike before the command.
absl::Status ApplyTrailingFlags(const Args& a, Global& g);

// `public status TRACKING CODE`: the tracking number and the query code as
// printed on the receipt (the code may be typed in groups: "K7QMX 3PD9R" is
// two words, joined). A usage error without both.
struct PublicStatusArgs {
  std::string tracking_number, query_code;
};
absl::StatusOr<PublicStatusArgs> ReadPublicStatusArgs(const Args& a);

}  // namespace xinfang::xfctl

#endif  // XINFANG_TOOLS_XFCTL_ARGS_H_
