// The PostgreSQL connection pool and the one place where SOCI's exceptions
// become absl::Status values. Nothing outside services/storage sees SOCI.
//
// Thread-safety: Pool is thread-safe; a Lease (and the session it holds)
// belongs to one thread at a time.
#ifndef XINFANG_SERVICES_STORAGE_DB_H_
#define XINFANG_SERVICES_STORAGE_DB_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "services/storage/pq.h"

namespace soci {
class connection_pool;
class session;
class statement;
class row;
}  // namespace soci

namespace xinfang::storage {

struct PoolOptions {
  std::string url;          // libpq conninfo or postgresql:// URL
  int size = 8;             // connections opened at start
  absl::Duration lease_timeout = absl::Seconds(5);  // waiting for a free connection
  absl::Duration connect_timeout = absl::Seconds(5);
};

class Pool;

// The pool's counters since it opened (for metrics).
struct PoolStats {
  int size = 0;
  int in_use = 0;          // leased now
  uint64_t waits = 0;      // leases that found every connection taken
  uint64_t timeouts = 0;   // of which gave up (UNAVAILABLE)
  double wait_seconds = 0;  // time spent in those waits
};

// A leased connection; returns it to the pool when destroyed.
class Lease {
 public:
  Lease(Lease&& other) noexcept;
  Lease& operator=(Lease&&) = delete;
  ~Lease();
  soci::session& session() { return conn_->session(); }
  soci::session& operator*() { return conn_->session(); }
  // The same connection with its prepared statements (pq.h).
  Conn& conn() { return *conn_; }

 private:
  friend class Pool;
  Lease(Pool* pool, std::size_t pos, Conn* conn);
  Pool* pool_;
  std::size_t pos_;
  Conn* conn_;
};

class Pool {
 public:
  // Opens `options.size` connections. UNAVAILABLE with the server's message
  // (for the operator at start-up: it names the host and port) when the
  // database cannot be reached; INVALID_ARGUMENT for a bad size.
  static absl::StatusOr<std::unique_ptr<Pool>> Open(const PoolOptions& options);
  ~Pool();

  // A connection, waiting at most lease_timeout. UNAVAILABLE on time-out.
  // A connection found broken is reconnected before it is handed out.
  absl::StatusOr<Lease> Acquire();

  int size() const { return size_; }
  const std::string& url() const { return url_; }
  PoolStats Stats() const;

 private:
  friend class Lease;
  Pool(std::unique_ptr<soci::connection_pool> pool, int size, std::string url,
       absl::Duration lease_timeout);
  void GiveBack(std::size_t pos);

  std::unique_ptr<soci::connection_pool> pool_;
  std::vector<std::unique_ptr<Conn>> conns_;  // one per pooled session, same position
  int size_;
  std::string url_;
  absl::Duration lease_timeout_;
  std::atomic<int> in_use_{0};
  std::atomic<uint64_t> waits_{0}, timeouts_{0}, wait_ns_{0};
};

// Turns the exception in flight (call only inside a catch block) into a
// Status: PostgreSQL SQLSTATE 40001/40P01 → ABORTED, 23505 → ALREADY_EXISTS,
// 23xxx → FAILED_PRECONDITION, 08xxx / 57Pxx / lost connection → UNAVAILABLE,
// anything else → INTERNAL. This is the one place where database errors
// become messages a client may read: the message is CleanDatabaseStatus's
// (`what` and the code's meaning; never SQL text, a SQLSTATE, or the database
// host and port). The detail (SQLSTATE, the server's first line with quoted
// values masked) goes to the database error log. `what` says what was being
// done, in words a client may read ("reading a case").
absl::Status StatusFromCurrentException(const std::string& what);

// The client-facing status for a database error of `code` while doing `what`.
absl::Status CleanDatabaseStatus(absl::StatusCode code, absl::string_view what);

// Where StatusFromCurrentException logs the detail (default: a line on
// stderr). Set once at start-up, before any call; not thread-safe.
void SetDatabaseErrorLog(std::function<void(const std::string&)> sink);

// A postgresql:// (or postgres://) URL as libpq key=value conninfo, which is
// what SOCI passes on intact; other strings are returned unchanged.
// INVALID_ARGUMENT for a malformed URL.
absl::StatusOr<std::string> ToConninfo(const std::string& url);

// Adds libpq's connect_timeout to a key=value conninfo if it has none.
std::string WithConnectTimeout(const std::string& conninfo, absl::Duration timeout);

// Runs `sql` once — not as a server-side prepared statement, which costs
// two more round trips (prepare, deallocate) — and calls `on_row` for each
// row. `bind` adds the statement's soci::use parameters.
void ForEachRow(soci::session& s, const std::string& sql,
                const std::function<void(soci::statement&)>& bind,
                const std::function<void(const soci::row&)>& on_row);

// Leases a connection and runs `body(Conn&)` on it, turning a database
// error into a status (StatusFromCurrentException with `what`). `body`
// returns a Status or a StatusOr. The one lease-and-error frame of every
// store call.
template <typename Body>
auto WithConn(Pool& pool, const char* what, Body&& body)
    -> decltype(body(std::declval<Conn&>())) {
  auto lease = pool.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    return body(lease->conn());
  } catch (...) {
    return StatusFromCurrentException(what);
  }
}

// Microseconds since the Unix epoch: how instants cross the SQL boundary
// (SQL helpers xf_ts(bigint) and xf_us(timestamptz), migration 0001).
int64_t ToMicros(absl::Time t);
absl::Time FromMicros(int64_t us);

}  // namespace xinfang::storage

#endif  // XINFANG_SERVICES_STORAGE_DB_H_
