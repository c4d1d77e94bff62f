// Server configuration from flags and environment (flags win). Every setting
// is documented in docs/configuration.md. A bad or missing setting is an
// INVALID_ARGUMENT whose message is the one line the server prints.
#ifndef XINFANG_SERVICES_COMMON_CONFIG_H_
#define XINFANG_SERVICES_COMMON_CONFIG_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace xinfang {

enum class LogLevel { kDebug, kInfo, kWarn, kError };
enum class LogFormat { kText, kJson };

struct ServerConfig {
  std::string db_url;                    // --db / XINFANG_DB_URL (required)
  // --db-replica / XINFANG_DB_REPLICA: reads that may be stale go there
  // while it is at most db_replica_max_lag behind (docs/high-availability.md).
  std::string db_replica_url;
  absl::Duration db_replica_max_lag = absl::Seconds(2);  // --db-replica-max-lag-ms
  std::string listen = "127.0.0.1:50051";  // --listen / XINFANG_LISTEN
  std::string time_zone = "Asia/Shanghai";  // --time-zone / XINFANG_TIME_ZONE
  LogLevel log_level = LogLevel::kInfo;  // --log-level / XINFANG_LOG_LEVEL
  LogFormat log_format = LogFormat::kText;  // --log-format / XINFANG_LOG_FORMAT: text|json
  std::string data_dir;                  // --data-dir / XINFANG_DATA_DIR: workflows/, calendar/
  int pool_size = 8;                     // --pool-size / XINFANG_POOL_SIZE
  std::optional<absl::Time> simulated_clock;  // --simulated-clock=<RFC 3339>
  bool production = false;               // --production / XINFANG_PRODUCTION=1
  absl::Duration max_receipt_age = absl::Hours(24 * 30);  // --max-receipt-age-days
  absl::Duration drain_timeout = absl::Seconds(10);       // --drain-timeout-seconds
  absl::Duration sweep_interval = absl::Seconds(1);  // --sweep-interval-ms; 0: no sweeper
  int sweep_batch = 200;                              // --sweep-batch: cases per transaction
  int sweep_parallel = 4;  // --sweep-parallel: batches in flight at once, each on a connection
  bool migrate_only = false;             // --migrate-only: apply migrations and exit
  // --rebuild-statistics: apply migrations, count the statistics again, exit
  bool rebuild_statistics = false;
  // Identity and limits (issue 7).
  std::string tls_cert, tls_key;         // --tls-cert / --tls-key: PEM files; both or neither
  std::string tls_client_ca;             // --tls-client-ca: require client certificates (mTLS)
  int max_message_bytes = 1 << 20;       // --max-message-bytes: largest request accepted
  double rate_limit = 50;                // --rate-limit: calls per second per account; 0: off
  int rate_burst = 100;                  // --rate-burst: calls an idle account may make at once
  // --bootstrap-admin NAME [--bootstrap-unit CODE]: create the first
  // administrator, print its token and exit.
  std::string bootstrap_admin, bootstrap_unit;
  int token_ttl_days = 90;               // --token-ttl-days: the bootstrap token's lifetime
  // The HTTP face (issue 14): Connect protocol and the console's files.
  std::string http_listen;               // --http-listen HOST:PORT; empty: no HTTP
  std::string console_dir;               // --console-dir: the built console (default web/dist)
  std::vector<std::string> http_cors_origins;  // --http-cors-origins: comma-separated; none by default
  int session_idle_minutes = 30;         // --session-idle-minutes: a sign-in lapses unused
  int session_max_hours = 12;            // --session-max-hours: and at the latest then
  // --metrics-listen HOST:PORT: a listener serving only GET /metrics (the
  // HTTP face serves /metrics too); empty: none.
  std::string metrics_listen;
  // The petitioner's side (issue 15): the public status page's address,
  // printed on each receipt with the tracking number and as a QR code
  // (--public-status-url; empty: none printed), and how many status lookups
  // an address (--public-lookups-per-address) and a tracking number
  // (--public-lookups-per-number) may make at once, refilled at that many a
  // minute; 0: no limit.
  std::string public_status_url = "http://127.0.0.1:8080/status";
  int public_lookups_per_address = 10;
  int public_lookups_per_number = 5;
  // Notifications (issue 15): e-mail through this SMTP relay (host:port;
  // empty: no messages are made or sent), from this address, with these
  // kinds turned off (docs/notifications.md: petitioner_document,
  // petitioner_window, escalation).
  std::string smtp_server;               // --smtp-server / XINFANG_SMTP_SERVER
  std::string smtp_from = "xinfang@localhost";  // --smtp-from / XINFANG_SMTP_FROM
  std::vector<std::string> notify_off;   // --notify-off / XINFANG_NOTIFY_OFF: comma-separated
  bool help = false;
};

// Parses argv (argv[0] is skipped) over the environment. `env` looks up a
// variable (nullptr: none); tests pass their own.
absl::StatusOr<ServerConfig> ParseServerConfig(const std::vector<std::string>& args,
                                               const char* (*env)(const char*));

// The --help text.
std::string ServerUsage(const std::string& program);

}  // namespace xinfang

#endif  // XINFANG_SERVICES_COMMON_CONFIG_H_
