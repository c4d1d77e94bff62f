// One-line logs to stderr: "2026-11-24T10:00:00Z info xinfang-server: message".
#ifndef XINFANG_SERVICES_COMMON_LOG_H_
#define XINFANG_SERVICES_COMMON_LOG_H_

#include <string_view>

#include "services/common/config.h"

namespace xinfang {

void SetLogLevel(LogLevel level);
void SetLogProgram(std::string_view program);
void Log(LogLevel level, std::string_view message);
inline void LogInfo(std::string_view m) { Log(LogLevel::kInfo, m); }
inline void LogWarn(std::string_view m) { Log(LogLevel::kWarn, m); }
inline void LogError(std::string_view m) { Log(LogLevel::kError, m); }
inline void LogDebug(std::string_view m) { Log(LogLevel::kDebug, m); }

}  // namespace xinfang

#endif  // XINFANG_SERVICES_COMMON_LOG_H_
