#include "services/storage/db.h"

#include <soci/connection-pool.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <poll.h>

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace xinfang::storage {

namespace {

std::function<void(const std::string&)>& ErrorLog() {
  static auto* sink = new std::function<void(const std::string&)>(
      [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); });
  return *sink;
}

// The first line of a server message, with each double-quoted part that is
// not a plain SQL identifier (a constraint or table name) masked: values
// quoted there may be a petitioner's name or number.
std::string Scrubbed(absl::string_view message) {
  message = message.substr(0, message.find('\n'));
  std::string out;
  for (std::size_t i = 0; i < message.size(); ++i) {
    if (message[i] != '"') {
      out += message[i];
      continue;
    }
    const std::size_t end = message.find('"', i + 1);
    if (end == absl::string_view::npos) {
      out += "\"...";
      break;
    }
    absl::string_view quoted = message.substr(i + 1, end - i - 1);
    const bool identifier = !quoted.empty() &&
                            (absl::ascii_islower(quoted[0]) || quoted[0] == '_') &&
                            std::all_of(quoted.begin(), quoted.end(), [](char c) {
                              return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_';
                            });
    absl::StrAppend(&out, "\"", identifier ? quoted : "...", "\"");
    i = end;
  }
  return out;
}

absl::StatusCode CodeOfSqlState(const std::string& state) {
  if (state == "40001" || state == "40P01") return absl::StatusCode::kAborted;
  if (state == "23505") return absl::StatusCode::kAlreadyExists;
  if (absl::StartsWith(state, "23")) return absl::StatusCode::kFailedPrecondition;
  if (absl::StartsWith(state, "08") || absl::StartsWith(state, "57P")) {
    return absl::StatusCode::kUnavailable;
  }
  return absl::StatusCode::kInternal;
}

struct Classified {
  absl::StatusCode code;
  std::string detail;  // for the server's log and start-up messages
};

Classified Classify(const std::string& what) {
  try {
    throw;
  } catch (const DatabaseError& e) {
    return {CodeOfSqlState(e.sqlstate()),
            absl::StrCat(what, ": SQLSTATE ", e.sqlstate(), ": ", Scrubbed(e.what()))};
  } catch (const soci::postgresql_soci_error& e) {
    const std::string state = e.sqlstate();
    return {CodeOfSqlState(state), absl::StrCat(what, ": SQLSTATE ", state, ": ", Scrubbed(e.get_error_message()))};
  } catch (const soci::soci_error& e) {
    // A dead connection or a refused connect shows up as a plain soci_error
    // (its message names the server, never a petitioner).
    if (e.get_error_category() == soci::soci_error::connection_error ||
        absl::StrContains(e.what(), "connection") || absl::StrContains(e.what(), "server")) {
      // The whole of libpq's message, on one line: where and why.
      std::string detail = e.what();
      std::replace(detail.begin(), detail.end(), '\n', ' ');
      return {absl::StatusCode::kUnavailable, absl::StrCat(what, ": ", detail)};
    }
    return {absl::StatusCode::kInternal, absl::StrCat(what, ": ", Scrubbed(e.get_error_message()))};
  } catch (const std::exception& e) {
    return {absl::StatusCode::kInternal, absl::StrCat(what, ": ", Scrubbed(e.what()))};
  } catch (...) {
    return {absl::StatusCode::kInternal, absl::StrCat(what, ": unknown error")};
  }
}

// Whether an idle connection is to be replaced, without a round trip. A
// pooled connection (it never LISTENs) has nothing to read between
// statements unless the server is closing it — a failover, a restart, an
// administrator's pg_terminate_backend: a FATAL message, then the end of the
// stream, possibly not yet both arrived — so a readable socket means replace.
// A connection that dies silently (a lost network) still fails its next
// statement, with UNAVAILABLE to that one call, and is replaced afterwards.
bool Broken(PGconn* conn) {
  if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) return true;
  pollfd pfd{PQsocket(conn), POLLIN, 0};
  return poll(&pfd, 1, 0) != 0;  // readable, hung up, or an error
}

}  // namespace

Lease::Lease(Pool* pool, std::size_t pos, Conn* conn) : pool_(pool), pos_(pos), conn_(conn) {}

Lease::Lease(Lease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)), pos_(other.pos_), conn_(other.conn_) {}

Lease::~Lease() {
  if (pool_ != nullptr) pool_->GiveBack(pos_);
}

Pool::Pool(std::unique_ptr<soci::connection_pool> pool, int size, std::string url,
           absl::Duration lease_timeout)
    : pool_(std::move(pool)), size_(size), url_(std::move(url)), lease_timeout_(lease_timeout) {
  for (int i = 0; i < size; ++i) conns_.push_back(std::make_unique<Conn>(&pool_->at(i)));
}

Pool::~Pool() = default;

absl::StatusOr<std::unique_ptr<Pool>> Pool::Open(const PoolOptions& options) {
  if (options.size < 1 || options.size > 1000) {
    return absl::InvalidArgumentError(
        absl::StrCat("pool size must be 1..1000, got ", options.size));
  }
  if (options.url.empty()) return absl::InvalidArgumentError("database URL is empty");
  auto conninfo = ToConninfo(options.url);
  if (!conninfo.ok()) return conninfo.status();
  std::string url = WithConnectTimeout(*conninfo, options.connect_timeout);
  auto pool = std::make_unique<soci::connection_pool>(options.size);
  try {
    for (int i = 0; i < options.size; ++i) {
      pool->at(i).open(soci::postgresql, url);
    }
  } catch (...) {
    // Start-up, not a call: the operator reads the server's own message.
    return absl::UnavailableError(Classify("connecting to the database").detail);
  }
  return std::unique_ptr<Pool>(
      new Pool(std::move(pool), options.size, options.url, options.lease_timeout));
}

absl::StatusOr<Lease> Pool::Acquire() {
  std::size_t pos = 0;
  // Counted as a wait when every connection is taken as the lease begins.
  const bool busy = in_use_.load(std::memory_order_relaxed) >= size_;
  const auto start = busy ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point();
  const bool leased =
      pool_->try_lease(pos, static_cast<int>(absl::ToInt64Milliseconds(lease_timeout_)));
  if (busy) {
    waits_.fetch_add(1, std::memory_order_relaxed);
    wait_ns_.fetch_add(std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::steady_clock::now() - start).count(),
                       std::memory_order_relaxed);
  }
  if (leased) in_use_.fetch_add(1, std::memory_order_relaxed);
  if (!leased) {
    timeouts_.fetch_add(1, std::memory_order_relaxed);
    return absl::UnavailableError(
        absl::StrCat("no database connection free within ", absl::FormatDuration(lease_timeout_)));
  }
  soci::session& s = pool_->at(pos);
  Conn& conn = *conns_[pos];
  Lease lease(this, pos, &conn);
  // libpq's own view of the connection, without a round trip (SOCI's
  // is_connected() sends a query on every lease).
  auto* backend = static_cast<soci::postgresql_session_backend*>(s.get_backend());
  if (backend == nullptr || Broken(backend->conn_)) {
    try {
      s.reconnect();
      conn.Refresh();  // the new server session has no prepared statements
    } catch (...) {
      return StatusFromCurrentException("reconnecting to the database");
    }
  }
  return lease;
}

void Pool::GiveBack(std::size_t pos) {
  in_use_.fetch_sub(1, std::memory_order_relaxed);
  pool_->give_back(pos);
}

PoolStats Pool::Stats() const {
  PoolStats s;
  s.size = size_;
  s.in_use = in_use_.load(std::memory_order_relaxed);
  s.waits = waits_.load(std::memory_order_relaxed);
  s.timeouts = timeouts_.load(std::memory_order_relaxed);
  s.wait_seconds = static_cast<double>(wait_ns_.load(std::memory_order_relaxed)) / 1e9;
  return s;
}

void ForEachRow(soci::session& s, const std::string& sql,
                const std::function<void(soci::statement&)>& bind,
                const std::function<void(const soci::row&)>& on_row) {
  soci::row r;
  soci::statement st(s);
  st.exchange(soci::into(r));
  bind(st);
  st.alloc();
  st.prepare(sql, soci::details::st_one_time_query);
  st.define_and_bind();
  for (bool got = st.execute(true); got; got = st.fetch()) on_row(r);
}

void SetDatabaseErrorLog(std::function<void(const std::string&)> sink) {
  ErrorLog() = std::move(sink);
}

absl::Status StatusFromCurrentException(const std::string& what) {
  const Classified c = Classify(what);
  ErrorLog()(absl::StrCat("database error (", absl::StatusCodeToString(c.code), "): ", c.detail));
  return CleanDatabaseStatus(c.code, what);
}

absl::Status CleanDatabaseStatus(absl::StatusCode code, absl::string_view what) {
  switch (code) {
    case absl::StatusCode::kAborted:
      return absl::AbortedError(
          absl::StrCat(what, ": a concurrent change conflicted with this one; retry"));
    case absl::StatusCode::kAlreadyExists:
      return absl::AlreadyExistsError(absl::StrCat(what, ": already exists"));
    case absl::StatusCode::kFailedPrecondition:
      return absl::FailedPreconditionError(
          absl::StrCat(what, ": refused by a consistency rule of the database"));
    case absl::StatusCode::kUnavailable:
      return absl::UnavailableError(
          absl::StrCat(what, ": the database is unavailable; retry later"));
    default:
      return absl::InternalError(absl::StrCat(what, ": internal error (logged on the server)"));
  }
}

namespace {

// Decodes %XX escapes.
std::string PercentDecode(absl::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    int hex = 0;
    if (s[i] == '%' && i + 2 < s.size() && absl::SimpleHexAtoi(s.substr(i + 1, 2), &hex)) {
      out += static_cast<char>(hex);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// A conninfo value, quoted when needed.
std::string Quote(const std::string& v) {
  if (!v.empty() && v.find_first_of(" '\\") == std::string::npos) return v;
  std::string out = "'";
  for (char c : v) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

}  // namespace

absl::StatusOr<std::string> ToConninfo(const std::string& url) {
  absl::string_view rest = url;
  if (!absl::ConsumePrefix(&rest, "postgresql://") && !absl::ConsumePrefix(&rest, "postgres://")) {
    return url;
  }
  std::vector<std::string> parts;
  std::string query;
  if (auto q = rest.find('?'); q != absl::string_view::npos) {
    query = std::string(rest.substr(q + 1));
    rest = rest.substr(0, q);
  }
  std::string dbname;
  if (auto slash = rest.find('/'); slash != absl::string_view::npos) {
    dbname = PercentDecode(rest.substr(slash + 1));
    rest = rest.substr(0, slash);
  }
  if (auto at = rest.rfind('@'); at != absl::string_view::npos) {
    absl::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    if (auto colon = userinfo.find(':'); colon != absl::string_view::npos) {
      parts.push_back("user=" + Quote(PercentDecode(userinfo.substr(0, colon))));
      parts.push_back("password=" + Quote(PercentDecode(userinfo.substr(colon + 1))));
    } else if (!userinfo.empty()) {
      parts.push_back("user=" + Quote(PercentDecode(userinfo)));
    }
  }
  if (!rest.empty()) {
    // One host[:port] or several, comma-separated (libpq tries them in
    // order; with target_session_attrs=read-write it keeps the primary).
    std::vector<std::string> hosts, ports;
    bool any_port = false;
    for (absl::string_view hostport : absl::StrSplit(rest, ',')) {
      absl::string_view host = hostport;
      std::string port_text;
      if (auto colon = hostport.rfind(':');
          colon != absl::string_view::npos && hostport.back() != ']') {
        absl::string_view port = hostport.substr(colon + 1);
        int p = 0;
        if (!absl::SimpleAtoi(port, &p) || p <= 0 || p > 65535) {
          return absl::InvalidArgumentError(absl::StrCat("database URL: bad port '", port, "'"));
        }
        port_text = absl::StrCat(p);
        any_port = true;
        host = hostport.substr(0, colon);
      }
      hosts.push_back(PercentDecode(host));
      ports.push_back(port_text);
    }
    if (any_port) parts.push_back("port=" + absl::StrJoin(ports, ","));
    if (std::any_of(hosts.begin(), hosts.end(), [](const std::string& h) { return !h.empty(); })) {
      parts.push_back("host=" + Quote(absl::StrJoin(hosts, ",")));
    }
  }
  if (!dbname.empty()) parts.push_back("dbname=" + Quote(dbname));
  for (absl::string_view kv : absl::StrSplit(query, '&', absl::SkipEmpty())) {
    auto eq = kv.find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("database URL: bad parameter '", kv, "'"));
    }
    parts.push_back(absl::StrCat(kv.substr(0, eq), "=", Quote(PercentDecode(kv.substr(eq + 1)))));
  }
  return absl::StrJoin(parts, " ");
}

std::string WithConnectTimeout(const std::string& conninfo, absl::Duration timeout) {
  if (absl::StrContains(conninfo, "connect_timeout")) return conninfo;
  const int64_t secs = std::max<int64_t>(1, absl::ToInt64Seconds(timeout));
  return absl::StrCat(conninfo, " connect_timeout=", secs);
}

int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time FromMicros(int64_t us) { return absl::FromUnixMicros(us); }

}  // namespace xinfang::storage
