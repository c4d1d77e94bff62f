#include "services/common/config.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "services/common/mail.h"
#include "services/common/validate.h"
#include "services/storage/db.h"

namespace xinfang {
namespace {

struct Setting {
  const char* flag;
  const char* env;
};

constexpr Setting kSettings[] = {
    {"db", "XINFANG_DB_URL"},
    {"db-replica", "XINFANG_DB_REPLICA"},
    {"db-replica-max-lag-ms", "XINFANG_DB_REPLICA_MAX_LAG_MS"},
    {"listen", "XINFANG_LISTEN"},
    {"time-zone", "XINFANG_TIME_ZONE"},
    {"log-level", "XINFANG_LOG_LEVEL"},
    {"data-dir", "XINFANG_DATA_DIR"},
    {"pool-size", "XINFANG_POOL_SIZE"},
    {"simulated-clock", "XINFANG_SIMULATED_CLOCK"},
    {"production", "XINFANG_PRODUCTION"},
    {"max-receipt-age-days", "XINFANG_MAX_RECEIPT_AGE_DAYS"},
    {"drain-timeout-seconds", "XINFANG_DRAIN_TIMEOUT_SECONDS"},
    {"sweep-interval-ms", "XINFANG_SWEEP_INTERVAL_MS"},
    {"sweep-batch", "XINFANG_SWEEP_BATCH"},
    {"tls-cert", "XINFANG_TLS_CERT"},
    {"tls-key", "XINFANG_TLS_KEY"},
    {"tls-client-ca", "XINFANG_TLS_CLIENT_CA"},
    {"max-message-bytes", "XINFANG_MAX_MESSAGE_BYTES"},
    {"rate-limit", "XINFANG_RATE_LIMIT"},
    {"rate-burst", "XINFANG_RATE_BURST"},
    {"bootstrap-admin", nullptr},
    {"bootstrap-unit", nullptr},
    {"token-ttl-days", nullptr},
    {"sweep-parallel", "XINFANG_SWEEP_PARALLEL"},
    {"http-listen", "XINFANG_HTTP_LISTEN"},
    {"console-dir", "XINFANG_CONSOLE_DIR"},
    {"http-cors-origins", "XINFANG_HTTP_CORS_ORIGINS"},
    {"session-idle-minutes", "XINFANG_SESSION_IDLE_MINUTES"},
    {"session-max-hours", "XINFANG_SESSION_MAX_HOURS"},
    {"log-format", "XINFANG_LOG_FORMAT"},
    {"metrics-listen", "XINFANG_METRICS_LISTEN"},
    {"public-status-url", "XINFANG_PUBLIC_STATUS_URL"},
    {"public-lookups-per-address", "XINFANG_PUBLIC_LOOKUPS_PER_ADDRESS"},
    {"public-lookups-per-number", "XINFANG_PUBLIC_LOOKUPS_PER_NUMBER"},
    {"smtp-server", "XINFANG_SMTP_SERVER"},
    {"smtp-from", "XINFANG_SMTP_FROM"},
    {"notify-off", "XINFANG_NOTIFY_OFF"},
};

// The installed layout (cmake --install): <prefix>/share/xinfang when this
// binary runs from <prefix>/bin and that directory holds workflows/; else "".
std::string InstalledShareDir() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec || exe.parent_path().filename() != "bin") return "";
  const std::filesystem::path share = exe.parent_path().parent_path() / "share" / "xinfang";
  if (!std::filesystem::is_directory(share / "workflows", ec)) return "";
  return share.string();
}

// "host:port" with a host and a port 0-65535.
bool IsHostPort(const std::string& value) {
  const auto colon = value.rfind(':');
  int port = 0;
  return colon != std::string::npos && colon != 0 &&
         absl::SimpleAtoi(value.substr(colon + 1), &port) && port >= 0 && port <= 65535;
}

absl::Status Apply(ServerConfig& c, const std::string& name, const std::string& value,
                   const std::string& origin) {
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat(origin, ": ", why));
  };
  if (name == "db") {
    if (value.empty()) return bad("database URL is empty");
    if (auto conninfo = storage::ToConninfo(value); !conninfo.ok()) {
      return bad(std::string(conninfo.status().message()));
    }
    c.db_url = value;
  } else if (name == "db-replica") {
    // Empty: no replica (every read on the primary).
    if (auto conninfo = storage::ToConninfo(value); !conninfo.ok()) {
      return bad(std::string(conninfo.status().message()));
    }
    c.db_replica_url = value;
  } else if (name == "db-replica-max-lag-ms") {
    int ms = 0;
    if (!absl::SimpleAtoi(value, &ms) || ms < 100 || ms > 3600000) {
      return bad(absl::StrCat("'", value, "' is not a number of milliseconds from 100 to 3600000"));
    }
    c.db_replica_max_lag = absl::Milliseconds(ms);
  } else if (name == "listen") {
    if (!IsHostPort(value)) return bad(absl::StrCat("'", value, "' is not host:port"));
    c.listen = value;
  } else if (name == "time-zone") {
    if (value != "Asia/Shanghai" && value != "+08:00" && value != "UTC+8") {
      return bad(absl::StrCat("time zone '", value,
                              "' is not supported: the statutory deadlines are in Asia/Shanghai"));
    }
    c.time_zone = "Asia/Shanghai";
  } else if (name == "log-level") {
    if (value == "debug") c.log_level = LogLevel::kDebug;
    else if (value == "info") c.log_level = LogLevel::kInfo;
    else if (value == "warn") c.log_level = LogLevel::kWarn;
    else if (value == "error") c.log_level = LogLevel::kError;
    else return bad(absl::StrCat("log level '", value, "' is not debug, info, warn or error"));
  } else if (name == "data-dir") {
    c.data_dir = value;
  } else if (name == "pool-size") {
    if (!absl::SimpleAtoi(value, &c.pool_size) || c.pool_size < 1 || c.pool_size > 256) {
      return bad(absl::StrCat("pool size '", value, "' is not a number from 1 to 256"));
    }
  } else if (name == "simulated-clock") {
    absl::Time t;
    std::string err;
    if (!absl::ParseTime(absl::RFC3339_full, value, &t, &err)) {
      return bad(absl::StrCat("'", value, "' is not an RFC 3339 instant (", err, ")"));
    }
    c.simulated_clock = t;
  } else if (name == "production") {
    // A bare --production flag arrives as "true"; an empty variable is off.
    if (value == "1" || value == "true") c.production = true;
    else if (value == "" || value == "0" || value == "false") c.production = false;
    else return bad(absl::StrCat("'", value, "' is not true or false"));
  } else if (name == "max-receipt-age-days") {
    int days = 0;
    if (!absl::SimpleAtoi(value, &days) || days < 0 || days > 3650) {
      return bad(absl::StrCat("'", value, "' is not a number of days from 0 to 3650"));
    }
    c.max_receipt_age = absl::Hours(24 * days);
  } else if (name == "drain-timeout-seconds") {
    int secs = 0;
    if (!absl::SimpleAtoi(value, &secs) || secs < 0 || secs > 3600) {
      return bad(absl::StrCat("'", value, "' is not a number of seconds from 0 to 3600"));
    }
    c.drain_timeout = absl::Seconds(secs);
  } else if (name == "sweep-interval-ms") {
    int ms = 0;
    if (!absl::SimpleAtoi(value, &ms) || ms < 0 || ms > 3600000) {
      return bad(absl::StrCat("'", value, "' is not a number of milliseconds from 0 to 3600000"));
    }
    c.sweep_interval = absl::Milliseconds(ms);
  } else if (name == "sweep-batch") {
    if (!absl::SimpleAtoi(value, &c.sweep_batch) || c.sweep_batch < 1 || c.sweep_batch > 10000) {
      return bad(absl::StrCat("'", value, "' is not a number from 1 to 10000"));
    }
  } else if (name == "tls-cert") {
    c.tls_cert = value;
  } else if (name == "tls-key") {
    c.tls_key = value;
  } else if (name == "tls-client-ca") {
    c.tls_client_ca = value;
  } else if (name == "max-message-bytes") {
    if (!absl::SimpleAtoi(value, &c.max_message_bytes) || c.max_message_bytes < 4096 ||
        c.max_message_bytes > (64 << 20)) {
      return bad(absl::StrCat("'", value, "' is not a number of bytes from 4096 to 67108864"));
    }
  } else if (name == "rate-limit") {
    if (!absl::SimpleAtod(value, &c.rate_limit) || !std::isfinite(c.rate_limit) ||
        c.rate_limit < 0 || c.rate_limit > 1e6) {
      return bad(absl::StrCat("'", value, "' is not a number of calls per second (0: off)"));
    }
  } else if (name == "rate-burst") {
    if (!absl::SimpleAtoi(value, &c.rate_burst) || c.rate_burst < 1 || c.rate_burst > 1000000) {
      return bad(absl::StrCat("'", value, "' is not a number from 1 to 1000000"));
    }
  } else if (name == "bootstrap-admin") {
    if (auto st = CheckAccountName(origin, value); !st.ok()) return st;
    c.bootstrap_admin = value;
  } else if (name == "bootstrap-unit") {
    c.bootstrap_unit = value;
  } else if (name == "token-ttl-days") {
    if (!absl::SimpleAtoi(value, &c.token_ttl_days) || c.token_ttl_days < 1 ||
        c.token_ttl_days > 3660) {
      return bad(absl::StrCat("'", value, "' is not a number of days from 1 to 3660"));
    }
  } else if (name == "http-listen") {
    if (!value.empty() && !IsHostPort(value)) {
      return bad(absl::StrCat("'", value, "' is not host:port"));
    }
    c.http_listen = value;
  } else if (name == "console-dir") {
    c.console_dir = value;
  } else if (name == "http-cors-origins") {
    c.http_cors_origins.clear();
    for (absl::string_view o : absl::StrSplit(value, ',', absl::SkipWhitespace())) {
      o = absl::StripAsciiWhitespace(o);
      if (!absl::StartsWith(o, "http://") && !absl::StartsWith(o, "https://")) {
        return bad(absl::StrCat("'", o, "' is not an origin (https://host[:port])"));
      }
      c.http_cors_origins.emplace_back(o);
    }
  } else if (name == "session-idle-minutes") {
    if (!absl::SimpleAtoi(value, &c.session_idle_minutes) || c.session_idle_minutes < 2 ||
        c.session_idle_minutes > 24 * 60) {
      return bad(absl::StrCat("'", value, "' is not a number of minutes from 2 to 1440"));
    }
  } else if (name == "session-max-hours") {
    if (!absl::SimpleAtoi(value, &c.session_max_hours) || c.session_max_hours < 1 ||
        c.session_max_hours > 24 * 31) {
      return bad(absl::StrCat("'", value, "' is not a number of hours from 1 to 744"));
    }
  } else if (name == "log-format") {
    if (value == "text") c.log_format = LogFormat::kText;
    else if (value == "json") c.log_format = LogFormat::kJson;
    else return bad(absl::StrCat("log format '", value, "' is not text or json"));
  } else if (name == "metrics-listen") {
    if (!value.empty() && !IsHostPort(value)) {
      return bad(absl::StrCat("'", value, "' is not host:port"));
    }
    c.metrics_listen = value;
  } else if (name == "public-status-url") {
    if (!value.empty() && !absl::StartsWith(value, "http://") &&
        !absl::StartsWith(value, "https://")) {
      return bad(absl::StrCat("'", value, "' is not an http:// or https:// address"));
    }
    if (absl::StrContains(value, "#") || value.size() > 200) {
      return bad("the address may not have a #fragment or exceed 200 characters");
    }
    c.public_status_url = value;
  } else if (name == "public-lookups-per-address" || name == "public-lookups-per-number") {
    int n = 0;
    if (!absl::SimpleAtoi(value, &n) || n < 0 || n > 100000) {
      return bad(absl::StrCat("'", value, "' is not a number of lookups from 0 (no limit) to 100000"));
    }
    (name == "public-lookups-per-address" ? c.public_lookups_per_address
                                          : c.public_lookups_per_number) = n;
  } else if (name == "smtp-server") {
    if (!value.empty() && !IsHostPort(value)) {
      return bad(absl::StrCat("'", value, "' is not host:port"));
    }
    c.smtp_server = value;
  } else if (name == "smtp-from") {
    if (!IsEmailAddress(value)) return bad(absl::StrCat("'", value, "' is not an e-mail address"));
    c.smtp_from = value;
  } else if (name == "notify-off") {
    c.notify_off.clear();
    for (absl::string_view k : absl::StrSplit(value, ',', absl::SkipWhitespace())) {
      const std::string kind(absl::StripAsciiWhitespace(k));
      if (kind != "petitioner_document" && kind != "petitioner_window" && kind != "escalation") {
        return bad(absl::StrCat("'", kind,
                                "' is not petitioner_document, petitioner_window or escalation"));
      }
      c.notify_off.push_back(kind);
    }
  } else if (name == "sweep-parallel") {
    if (!absl::SimpleAtoi(value, &c.sweep_parallel) || c.sweep_parallel < 1 ||
        c.sweep_parallel > 16) {
      return bad(absl::StrCat("'", value, "' is not a number from 1 to 16"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ServerConfig> ParseServerConfig(const std::vector<std::string>& args,
                                               const char* (*env)(const char*)) {
  ServerConfig c;
  if (env != nullptr) {
    for (const Setting& s : kSettings) {
      if (s.env == nullptr) continue;
      const char* v = env(s.env);
      if (v == nullptr) continue;
      if (auto st = Apply(c, s.flag, v, s.env); !st.ok()) return st;
    }
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      c.help = true;
      continue;
    }
    if (a == "--migrate-only") {
      c.migrate_only = true;
      continue;
    }
    if (a == "--rebuild-statistics") {
      c.rebuild_statistics = true;
      continue;
    }
    if (!absl::StartsWith(a, "--")) {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", a, "'"));
    }
    std::string name = a.substr(2), value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    bool known = false;
    for (const Setting& s : kSettings) known = known || name == s.flag;
    if (!known) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name, " (see --help)"));
    }
    if (!has_value && name == "production") value = "true";
    if (!has_value && name != "production") {
      if (i + 1 >= args.size()) {
        return absl::InvalidArgumentError(absl::StrCat("flag --", name, " needs a value"));
      }
      value = args[++i];
    }
    if (auto st = Apply(c, name, value, "--" + name); !st.ok()) return st;
  }
  if (c.help) return c;
  if (c.db_url.empty()) {
    return absl::InvalidArgumentError(
        "no database: set --db or XINFANG_DB_URL (e.g. postgresql://user@127.0.0.1:5432/xinfang)");
  }
  if (c.tls_cert.empty() != c.tls_key.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together: give both or neither");
  }
  if (!c.tls_client_ca.empty() && c.tls_cert.empty()) {
    return absl::InvalidArgumentError("--tls-client-ca needs --tls-cert and --tls-key");
  }
  if (c.production && c.simulated_clock.has_value()) {
    return absl::InvalidArgumentError(
        "--simulated-clock is refused in production mode (--production / XINFANG_PRODUCTION)");
  }
  // Installed, the data and the console are found beside bin/; else the
  // defaults stay empty and the source tree's deploy/ and web/dist apply
  // (DefaultDataDir, XINFANG_DEFAULT_CONSOLE_DIR).
  if (const std::string share = InstalledShareDir(); !share.empty()) {
    std::error_code ec;
    if (c.data_dir.empty()) c.data_dir = share;
    if (c.console_dir.empty() && std::filesystem::exists(share + "/console/index.html", ec)) {
      c.console_dir = share + "/console";
    }
  }
  return c;
}

std::string ServerUsage(const std::string& program) {
  return absl::StrCat(
      "usage: ", program, " [flags]\n",
      "Flags (each also read from its environment variable; flags win):\n"
      "  --db URL                   XINFANG_DB_URL       PostgreSQL conninfo or URL (required)\n"
      "  --db-replica URL           XINFANG_DB_REPLICA   a streaming replica (e.g. the synchronous standby) for\n"
      "                                                  reads that may be stale: case lists, statistics, the\n"
      "                                                  dashboard, deadline lists, the event feed's backlog\n"
      "  --db-replica-max-lag-ms N  XINFANG_DB_REPLICA_MAX_LAG_MS  those reads go to the primary while the\n"
      "                                                  replica is further behind than this, default 2000\n"
      "  --listen HOST:PORT         XINFANG_LISTEN       default 127.0.0.1:50051\n"
      "  --time-zone ZONE           XINFANG_TIME_ZONE    Asia/Shanghai (the only one supported)\n"
      "  --log-level LEVEL          XINFANG_LOG_LEVEL    debug|info|warn|error, default info\n"
      "  --log-format FORMAT        XINFANG_LOG_FORMAT   text (default) or json: one JSON object a line\n"
      "  --data-dir DIR             XINFANG_DATA_DIR     holds workflows/ and calendar/, default\n"
      "                                                  PREFIX/share/xinfang when installed, else deploy/\n"
      "  --pool-size N              XINFANG_POOL_SIZE    database connections, default 8\n"
      "  --simulated-clock TIME     XINFANG_SIMULATED_CLOCK  start a simulated clock at an RFC 3339\n"
      "                                                  instant; enables AdminService.AdvanceClock\n"
      "  --production               XINFANG_PRODUCTION   refuse the simulated clock\n"
      "  --max-receipt-age-days N   XINFANG_MAX_RECEIPT_AGE_DAYS  how far back a receipt time may be, default 30\n"
      "  --sweep-interval-ms N      XINFANG_SWEEP_INTERVAL_MS  timer sweeper period, default 1000; 0 turns\n"
      "                                                  the sweeper off in this process\n"
      "  --sweep-batch N            XINFANG_SWEEP_BATCH  cases per sweeper transaction, default 200\n"
      "  --sweep-parallel N         XINFANG_SWEEP_PARALLEL  sweeper transactions in flight at once,\n"
      "                                                  each on a pool connection, default 4\n"
      "  --migrate-only                                  apply the migrations and exit\n"
      "  --rebuild-statistics                            apply the migrations, count the\n"
      "                                                  statistics again from the cases, exit\n"
      "  --drain-timeout-seconds N  XINFANG_DRAIN_TIMEOUT_SECONDS  SIGTERM grace for in-flight calls, default 10\n"
      "  --tls-cert FILE            XINFANG_TLS_CERT     serve TLS with this PEM certificate chain\n"
      "  --tls-key FILE             XINFANG_TLS_KEY      and this PEM private key\n"
      "  --tls-client-ca FILE       XINFANG_TLS_CLIENT_CA  require client certificates signed by this CA (mTLS)\n"
      "  --max-message-bytes N      XINFANG_MAX_MESSAGE_BYTES  largest request accepted, default 1048576\n"
      "  --rate-limit N             XINFANG_RATE_LIMIT   calls per second per account, default 50; 0: off\n"
      "  --rate-burst N             XINFANG_RATE_BURST   calls an idle account may make at once, default 100\n"
      "  --http-listen HOST:PORT    XINFANG_HTTP_LISTEN  also serve the API (Connect protocol) and the\n"
      "                                                  console over HTTP (HTTPS with --tls-cert); off by default\n"
      "  --console-dir DIR          XINFANG_CONSOLE_DIR  the built console, default\n"
      "                                                  PREFIX/share/xinfang/console when installed, else web/dist\n"
      "  --http-cors-origins LIST   XINFANG_HTTP_CORS_ORIGINS  origins allowed cross-origin, comma-separated;\n"
      "                                                  none by default\n"
      "  --session-idle-minutes N   XINFANG_SESSION_IDLE_MINUTES  a sign-in lapses after N minutes unused, default 30\n"
      "  --session-max-hours N      XINFANG_SESSION_MAX_HOURS  and after N hours in any case, default 12\n"
      "  --public-status-url URL    XINFANG_PUBLIC_STATUS_URL  the petitioner's status page, printed on\n"
      "                                                  receipts with a QR code, default\n"
      "                                                  http://127.0.0.1:8080/status; empty: none\n"
      "  --public-lookups-per-address N  XINFANG_PUBLIC_LOOKUPS_PER_ADDRESS  public status lookups an\n"
      "                                                  address may make at once, refilled N a minute,\n"
      "                                                  default 10; 0: no limit\n"
      "  --public-lookups-per-number N  XINFANG_PUBLIC_LOOKUPS_PER_NUMBER  the same per tracking number,\n"
      "                                                  default 5; 0: no limit\n"
      "  --smtp-server HOST:PORT    XINFANG_SMTP_SERVER  send notifications by e-mail through this SMTP\n"
      "                                                  relay; empty (the default): none are made\n"
      "  --smtp-from ADDRESS        XINFANG_SMTP_FROM    their sender, default xinfang@localhost\n"
      "  --notify-off KINDS         XINFANG_NOTIFY_OFF   kinds not sent, comma-separated: petitioner_document,\n"
      "                                                  petitioner_window, escalation\n"
      "  --metrics-listen HOST:PORT XINFANG_METRICS_LISTEN  serve only GET /metrics (Prometheus) here;\n"
      "                                                  the --http-listen port serves /metrics too\n"
      "  --bootstrap-admin NAME [--bootstrap-unit CODE] [--token-ttl-days N]\n"
      "                             create the first administrator (unit: the top of the tree),\n"
      "                             print its token once and exit\n");
}

}  // namespace xinfang
