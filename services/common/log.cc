#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "services/common/log.h"

#include <atomic>
#include <cstdio>
#include <random>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/storage/json.h"

namespace xinfang {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<int> g_format{static_cast<int>(LogFormat::kText)};
ABSL_CONST_INIT absl::Mutex g_mu(absl::kConstInit);
std::string g_program ABSL_GUARDED_BY(g_mu) = "xinfang";
thread_local std::string t_request_id;

const char* Name(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "?";
}
}  // namespace

void SetLogLevel(LogLevel level) { g_level = static_cast<int>(level); }
void SetLogFormat(LogFormat format) { g_format = static_cast<int>(format); }

void SetLogProgram(std::string_view program) {
  absl::MutexLock lock(&g_mu);
  g_program = std::string(program);
}

bool LogEnabled(LogLevel level) { return static_cast<int>(level) >= g_level.load(); }

void SetRequestId(std::string_view id) { t_request_id.assign(id.data(), id.size()); }
const std::string& CurrentRequestId() { return t_request_id; }

std::string NewRequestId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return absl::StrFormat("%016x", rng());
}

bool SaneRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

void Log(LogLevel level, std::string_view message) {
  if (!LogEnabled(level)) return;
  const std::string ts = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  // A message is one line whatever it holds.
  std::string text(message);
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  std::string line;
  if (static_cast<LogFormat>(g_format.load()) == LogFormat::kJson) {
    absl::MutexLock lock(&g_mu);
    line = absl::StrCat("{\"ts\":\"", ts, "\",\"level\":\"", Name(level), "\",\"program\":",
                        storage::JsonQuote(g_program),
                        t_request_id.empty() ? ""
                                             : absl::StrCat(",\"request_id\":",
                                                            storage::JsonQuote(t_request_id)),
                        ",\"msg\":", storage::JsonQuote(text), "}\n");
    std::fputs(line.c_str(), stderr);
    return;
  }
  absl::MutexLock lock(&g_mu);
  line = absl::StrCat(ts, " ", Name(level), " ", g_program,
                      t_request_id.empty() ? "" : absl::StrCat(" [req=", t_request_id, "]"), ": ",
                      text, "\n");
  std::fputs(line.c_str(), stderr);
}

}  // namespace xinfang
