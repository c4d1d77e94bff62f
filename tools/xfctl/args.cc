#include "tools/xfctl/args.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"

namespace xinfang::xfctl {
namespace {

// On/off flags: they take no value (one given with = is kept, and ignored).
const std::set<std::string> kBoolFlags = {"json",     "anonymous",        "overdue",
                                          "help",     "interactive",      "escalated",
                                          "from-now", "lapsed-satisfied", "until-caught-up",
                                          "same-person", "mine",          "retire",
                                          "all",      "recount"};

absl::Status UsageError(std::string message) {
  return absl::InvalidArgumentError(std::move(message));
}

// Sets the timeout from a config file or the environment, where a bad
// number is not refused (SimpleAtoi leaves 0 then).
void SetTimeoutLeniently(Global& g, const std::string& value) {
  (void)absl::SimpleAtoi(value, &g.timeout);
}

absl::Status ApplyConfig(Global& g, const std::string& text) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string k = line.substr(0, eq), v = line.substr(eq + 1);
    if (k == "timeout") {
      SetTimeoutLeniently(g, v);
      continue;
    }
    // Unknown keys are skipped; a token file that cannot be read is not.
    if (absl::StatusOr<bool> set = SetGlobal(g, k, v); !set.ok()) return set.status();
  }
  return absl::OkStatus();
}

absl::Status ApplyEnv(Global& g, const Getenv& getenv) {
  for (const auto& [var, name] : {std::pair{"XFCTL_SERVER", "server"}, {"XFCTL_TOKEN", "token"},
                                  {"XFCTL_TOKEN_FILE", "token-file"}, {"XFCTL_TLS_CA", "tls-ca"},
                                  {"XFCTL_TLS_CERT", "tls-cert"}, {"XFCTL_TLS_KEY", "tls-key"}}) {
    if (const char* v = getenv(var)) {
      if (absl::StatusOr<bool> set = SetGlobal(g, name, v); !set.ok()) return set.status();
    }
  }
  if (const char* v = getenv("XFCTL_TIMEOUT")) SetTimeoutLeniently(g, v);
  return absl::OkStatus();
}

// "--name=value" or "--name": the name, and the value if inline.
std::pair<std::string, std::string> SplitFlag(const std::string& arg, bool& inline_value) {
  std::string name = arg.substr(2), value;
  inline_value = false;
  if (auto eq = name.find('='); eq != std::string::npos) {
    value = name.substr(eq + 1);
    name = name.substr(0, eq);
    inline_value = true;
  }
  return {name, value};
}

}  // namespace

const std::set<std::string>& GlobalFlags() {
  static const std::set<std::string> kGlobalFlags = {
      "server", "token", "token-file", "tls-ca", "tls-cert", "tls-key", "timeout", "json"};
  return kGlobalFlags;
}

absl::StatusOr<std::string> ReadFile(absl::string_view flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return UsageError(absl::StrCat(flag, ": cannot read '", path, "'"));
  return text.str();
}

absl::StatusOr<bool> SetGlobal(Global& g, absl::string_view name, const std::string& value) {
  if (name == "server") {
    g.server = value;
  } else if (name == "token") {
    g.token = value;
  } else if (name == "token-file") {
    // The later setting wins: config file < environment < flags.
    absl::StatusOr<std::string> text = ReadFile("--token-file", value);
    if (!text.ok()) return text.status();
    g.token = std::string(absl::StripAsciiWhitespace(*text));
  } else if (name == "tls-ca") {
    g.tls_ca = value;
  } else if (name == "tls-cert") {
    g.tls_cert = value;
  } else if (name == "tls-key") {
    g.tls_key = value;
  } else {
    return false;
  }
  return true;
}

absl::StatusOr<Global> LoadSettings(const Getenv& getenv) {
  Global g;
  std::string path;
  if (const char* p = getenv("XFCTL_CONFIG")) {
    path = p;
  } else if (const char* home = getenv("HOME")) {
    path = absl::StrCat(home, "/.config/xfctl/config");
  }
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();  // nothing when there is no file
  if (absl::Status s = ApplyConfig(g, text.str()); !s.ok()) return s;
  if (absl::Status s = ApplyEnv(g, getenv); !s.ok()) return s;
  return g;
}

absl::StatusOr<std::size_t> ParseLeadingFlags(const std::vector<std::string>& in, Global& g,
                                              bool& help) {
  help = false;
  std::size_t i = 0;
  for (; i < in.size() && in[i].rfind("--", 0) == 0; ++i) {
    bool inline_value = false;
    auto [name, value] = SplitFlag(in[i], inline_value);
    if (name == "json") {
      g.json = true;
      continue;
    }
    if (name == "help") {
      help = true;
      return i;
    }
    if (!inline_value) {
      if (i + 1 >= in.size()) return UsageError(absl::StrCat("flag --", name, " needs a value"));
      value = in[++i];
    }
    if (name == "timeout") {
      if (!absl::SimpleAtoi(value, &g.timeout)) return UsageError("--timeout: not a number");
      continue;
    }
    absl::StatusOr<bool> set = SetGlobal(g, name, value);
    if (!set.ok()) return set.status();
    if (!*set) return UsageError(absl::StrCat("unknown global flag --", name, " (see xfctl help)"));
  }
  return i;
}

absl::StatusOr<Args> ParseArgs(const std::vector<std::string>& in, std::size_t from,
                               absl::string_view command, const std::set<std::string>& allowed) {
  Args a;
  for (std::size_t i = from; i < in.size(); ++i) {
    const std::string& s = in[i];
    if (s.rfind("--", 0) != 0 || s.size() <= 2) {
      a.positional.push_back(s);  // "--" and "-x" too
      continue;
    }
    bool inline_value = false;
    auto [name, value] = SplitFlag(s, inline_value);
    if (!GlobalFlags().contains(name) && !allowed.contains(name)) {
      return UsageError(absl::StrCat(command, ": unknown flag --", name, " (see xfctl help)"));
    }
    if (!inline_value && !kBoolFlags.contains(name)) {
      if (i + 1 >= in.size()) return UsageError(absl::StrCat("flag --", name, " needs a value"));
      value = in[++i];
    }
    a.flags.emplace(name, value);
  }
  return a;
}

absl::Status ApplyTrailingFlags(const Args& a, Global& g) {
  if (a.Has("json")) g.json = true;
  // In the set's order: --token-file after --token.
  for (const std::string& flag : GlobalFlags()) {
    if (flag == "json" || flag == "timeout" || !a.Has(flag)) continue;
    if (absl::StatusOr<bool> set = SetGlobal(g, flag, a.Get(flag)); !set.ok()) return set.status();
  }
  absl::StatusOr<int> timeout = a.Number<int>("timeout", g.timeout);
  if (!timeout.ok()) return timeout.status();
  g.timeout = *timeout;
  return absl::OkStatus();
}

absl::StatusOr<PublicStatusArgs> ReadPublicStatusArgs(const Args& a) {
  if (a.positional.size() < 2) {
    return absl::InvalidArgumentError(
        "public status: TRACKING and CODE, as printed on the receipt (xfctl public status "
        "XF20261125-000001 K7QMX-3PD9R)");
  }
  PublicStatusArgs out;
  out.tracking_number = a.positional[0];
  for (std::size_t i = 1; i < a.positional.size(); ++i) out.query_code += a.positional[i];
  return out;
}

}  // namespace xinfang::xfctl
