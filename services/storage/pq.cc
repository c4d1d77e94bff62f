#include "services/storage/pq.h"

#include <libpq-fe.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/synchronization/mutex.h"

namespace xinfang::storage {
namespace {

std::atomic<int> next_sql_id{0};

bool IdentStart(char c) { return absl::ascii_isalpha(c) || c == '_'; }
bool IdentChar(char c) { return absl::ascii_isalnum(c) || c == '_'; }

}  // namespace

// :name → $n, as SOCI does it: not inside quotes, not the second colon of a
// cast (::int), a name used twice is one parameter.
Sql::Sql(const char* text) : id_(next_sql_id.fetch_add(1)) {
  const absl::string_view in(text);
  char quote = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
      text_ += c;
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      text_ += c;
      continue;
    }
    if (c == ':' && i + 1 < in.size() && in[i + 1] == ':') {
      text_ += "::";
      ++i;
      continue;
    }
    if (c == ':' && i + 1 < in.size() && IdentStart(in[i + 1])) {
      std::size_t j = i + 1;
      while (j < in.size() && IdentChar(in[j])) ++j;
      const std::string name(in.substr(i + 1, j - i - 1));
      std::size_t k = 0;
      while (k < names_.size() && names_[k] != name) ++k;
      if (k == names_.size()) names_.push_back(name);
      absl::StrAppend(&text_, "$", k + 1);
      i = j - 1;
      continue;
    }
    text_ += c;
  }
}

const Sql& Sql::Intern(const std::string& text) {
  static absl::Mutex mu(absl::kConstInit);
  static auto* interned = new std::map<std::string, std::unique_ptr<std::string>>;
  static auto* sqls = new std::map<std::string, std::unique_ptr<Sql>>;
  absl::MutexLock lock(&mu);
  auto it = sqls->find(text);
  if (it != sqls->end()) return *it->second;
  auto& kept = (*interned)[text];
  kept = std::make_unique<std::string>(text);
  auto& sql = (*sqls)[text];
  sql = std::make_unique<Sql>(kept->c_str());
  return *sql;
}

bool Row::null(int col) const { return PQgetisnull(res_, row_, col) != 0; }

absl::string_view Row::view(int col) const {
  return absl::string_view(PQgetvalue(res_, row_, col),
                          static_cast<std::size_t>(PQgetlength(res_, row_, col)));
}

int64_t Row::i64(int col) const {
  if (null(col)) return 0;
  int64_t v = 0;
  const absl::string_view t = view(col);
  if (!absl::SimpleAtoi(t, &v)) {
    // A boolean column read as a number.
    if (t == "t") return 1;
    if (t == "f") return 0;
    throw DatabaseError("", absl::StrCat("column ", col, " is not an integer"));
  }
  return v;
}

double Row::f64(int col) const {
  if (null(col)) return 0;
  double v = 0;
  if (!absl::SimpleAtod(view(col), &v)) {
    throw DatabaseError("", absl::StrCat("column ", col, " is not a number"));
  }
  return v;
}

bool Row::boolean(int col) const {
  const absl::string_view t = view(col);
  if (t == "t") return true;
  if (t == "f" || t.empty()) return false;
  return i64(col) != 0;
}

Rows::Rows(pg_result* res) : res_(res), size_(res != nullptr ? PQntuples(res) : 0) {}
Rows::Rows(Rows&& o) noexcept : res_(o.res_), size_(o.size_) {
  o.res_ = nullptr;
  o.size_ = 0;
}
Rows& Rows::operator=(Rows&& o) noexcept {
  if (this != &o) {
    if (res_ != nullptr) PQclear(res_);
    res_ = o.res_;
    size_ = o.size_;
    o.res_ = nullptr;
    o.size_ = 0;
  }
  return *this;
}
Rows::~Rows() {
  if (res_ != nullptr) PQclear(res_);
}

int64_t Rows::affected() const {
  int64_t n = 0;
  if (res_ != nullptr) (void)absl::SimpleAtoi(PQcmdTuples(res_), &n);
  return n;
}

namespace {

// Throws for a result that is not a success; otherwise returns it.
pg_result* Checked(PGconn* conn, PGresult* res) {
  const ExecStatusType st = res != nullptr ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return res;
  std::string state, message;
  if (res != nullptr) {
    const char* s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    state = s != nullptr ? s : "";
    const char* m = PQresultErrorMessage(res);
    message = m != nullptr ? m : "";
    PQclear(res);
  }
  if (message.empty()) message = PQerrorMessage(conn);
  // No SQLSTATE: the connection failed (libpq's own message says so).
  if (state.empty() && PQstatus(conn) != CONNECTION_OK) state = "08006";
  throw DatabaseError(state, message);
}

}  // namespace

pg_conn* Conn::Handle() {
  auto* backend = static_cast<soci::postgresql_session_backend*>(session_->get_backend());
  PGconn* conn = backend != nullptr ? backend->conn_ : nullptr;
  if (conn == nullptr) throw DatabaseError("08003", "no database connection");
  if (conn != conn_) {  // first use, or SOCI reconnected behind our back
    conn_ = conn;
    prepared_.clear();
  }
  return conn;
}

void Conn::Refresh() {
  auto* backend = static_cast<soci::postgresql_session_backend*>(session_->get_backend());
  PGconn* conn = backend != nullptr ? backend->conn_ : nullptr;
  // Forget everything whenever the pool reconnected, even if libpq happened
  // to allocate the new handle where the old one was.
  conn_ = conn;
  prepared_.clear();
}

int Conn::prepared_count() const {
  int n = 0;
  for (bool p : prepared_) n += p ? 1 : 0;
  return n;
}

Rows Conn::Run(const Sql& sql, const Arg* begin, const Arg* end) {
  PGconn* conn = Handle();
  const std::string name = absl::StrCat("xf", sql.id());
  if (static_cast<std::size_t>(sql.id()) >= prepared_.size()) prepared_.resize(sql.id() + 1);
  if (!prepared_[sql.id()]) {
    PQclear(Checked(conn, PQprepare(conn, name.c_str(), sql.text().c_str(), 0, nullptr)));
    prepared_[sql.id()] = true;
  }
  const auto& names = sql.names();
  const std::size_t given = static_cast<std::size_t>(end - begin);
  if (given != names.size()) {
    throw std::logic_error(absl::StrCat("statement xf", sql.id(), " takes ", names.size(),
                                        " parameters, given ", given));
  }
  const char* values[64];
  if (names.size() > 64) throw std::logic_error("more than 64 parameters");
  for (std::size_t k = 0; k < names.size(); ++k) {
    const Arg* found = nullptr;
    for (const Arg* a = begin; a != end; ++a) {
      if (a->name() == names[k]) found = a;
    }
    if (found == nullptr) {
      throw std::logic_error(absl::StrCat("statement xf", sql.id(), ": no value for :", names[k]));
    }
    values[k] = found->value().has_value() ? found->value()->c_str() : nullptr;
  }
  return Rows(Checked(conn, PQexecPrepared(conn, name.c_str(), static_cast<int>(names.size()),
                                           values, nullptr, nullptr, 0)));
}

void Conn::Exec(const char* text) {
  PGconn* conn = Handle();
  PQclear(Checked(conn, PQexec(conn, text)));
}

Transaction::~Transaction() {
  if (done_) return;
  try {
    conn_.Exec("ROLLBACK");
  } catch (...) {
    // The connection is gone: so is the transaction.
  }
}

void Transaction::Rollback() {
  conn_.Exec("ROLLBACK");
  done_ = true;
}

void Transaction::Commit() {
  conn_.Exec("COMMIT");
  done_ = true;
}

}  // namespace xinfang::storage
