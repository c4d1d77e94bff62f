// One line per event on stderr, as text
//   2026-11-24T10:00:00.000Z info xinfang-server [req=4f2a…]: message
// or as JSON lines (--log-format json)
//   {"ts":"2026-11-24T10:00:00.000Z","level":"info","program":"xinfang-server",
//    "request_id":"4f2a…","msg":"message"}
// A line written while a thread serves a call carries that call's request id
// (the caller's x-request-id, else one made up; metrics.h's interceptor sets
// it). Messages never hold personal data: callers log codes, ids and counts,
// not request fields (docs/monitoring.md).
//
// Thread-safety: all functions may be called from any thread; SetLogFormat,
// SetLogLevel and SetLogProgram belong to start-up.
#ifndef XINFANG_SERVICES_COMMON_LOG_H_
#define XINFANG_SERVICES_COMMON_LOG_H_

#include <string>
#include <string_view>

#include "services/common/config.h"

namespace xinfang {

void SetLogLevel(LogLevel level);
void SetLogFormat(LogFormat format);
void SetLogProgram(std::string_view program);
// Whether a line of `level` would be written.
bool LogEnabled(LogLevel level);
void Log(LogLevel level, std::string_view message);
inline void LogInfo(std::string_view m) { Log(LogLevel::kInfo, m); }
inline void LogWarn(std::string_view m) { Log(LogLevel::kWarn, m); }
inline void LogError(std::string_view m) { Log(LogLevel::kError, m); }
inline void LogDebug(std::string_view m) {
  if (LogEnabled(LogLevel::kDebug)) Log(LogLevel::kDebug, m);
}

// The request id of the call this thread serves; "" clears it.
void SetRequestId(std::string_view id);
const std::string& CurrentRequestId();
// A new random request id (16 hex digits).
std::string NewRequestId();
// Whether a caller's request id may be kept (and logged): 1 to 64 letters,
// digits, '-', '_' or '.'.
bool SaneRequestId(std::string_view id);

}  // namespace xinfang

#endif  // XINFANG_SERVICES_COMMON_LOG_H_
