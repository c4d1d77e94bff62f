#include "services/storage/pq.h"

#include <libpq-fe.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <algorithm>
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
Sql::Sql(const char* text, Planning planning)
    : id_(next_sql_id.fetch_add(1)), planning_(planning) {
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

const Sql& Sql::Intern(const std::string& text, Planning planning) {
  static absl::Mutex mu(absl::kConstInit);
  static auto* interned = new std::map<std::string, std::unique_ptr<std::string>>;
  static auto* sqls = new std::map<std::string, std::unique_ptr<Sql>>;
  absl::MutexLock lock(&mu);
  const std::string key = absl::StrCat(planning, ":", text);
  auto it = sqls->find(key);
  if (it != sqls->end()) return *it->second;
  auto& kept = (*interned)[key];
  kept = std::make_unique<std::string>(text);
  auto& sql = (*sqls)[key];
  sql = std::make_unique<Sql>(kept->c_str(), planning);
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

// Round trips made by this thread (RoundTripsOnThisThread).
thread_local int64_t tl_round_trips = 0;

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

std::vector<const std::optional<std::string>*> Conn::Order(const Sql& sql, const Arg* begin,
                                                           const Arg* end) {
  const auto& names = sql.names();
  const std::size_t given = static_cast<std::size_t>(end - begin);
  if (given != names.size()) {
    throw std::logic_error(absl::StrCat("statement xf", sql.id(), " takes ", names.size(),
                                        " parameters, given ", given));
  }
  std::vector<const std::optional<std::string>*> out(names.size());
  for (std::size_t k = 0; k < names.size(); ++k) {
    for (const Arg* a = begin; a != end; ++a) {
      if (a->name() == names[k]) out[k] = &a->value();
    }
    if (out[k] == nullptr) {
      throw std::logic_error(absl::StrCat("statement xf", sql.id(), ": no value for :", names[k]));
    }
  }
  return out;
}

// One statement is a pipeline of one: the same prepare-then-execute path, and
// a statement new to this connection is prepared and run in one round trip.
Rows Conn::Run(const Sql& sql, const Arg* begin, const Arg* end) {
  Pipeline p(*this);
  p.Add(sql, std::vector<Arg>(begin, end));
  return std::move(p.Run()[0]);
}

int Conn::Pipeline::Add(const Sql& sql, std::vector<Arg> args) {
  Item item;
  item.sql = &sql;
  for (const auto* v : Conn::Order(sql, args.data(), args.data() + args.size())) {
    item.values.push_back(*v);
  }
  items_.push_back(std::move(item));
  return size() - 1;
}

int Conn::Pipeline::AddText(const char* text) {
  Item item;
  item.text = text;
  items_.push_back(std::move(item));
  return size() - 1;
}

std::vector<Rows> Conn::Pipeline::Run() {
  PGconn* conn = conn_.Handle();
  if (PQenterPipelineMode(conn) != 1) throw DatabaseError("08000", PQerrorMessage(conn));
  // What was sent, in order: a statement's result, or a Prepare's (-1 - id).
  std::vector<int> sent;
  std::string error_state, error_message;
  auto fail = [&](const char* what) {
    if (error_message.empty()) {
      error_state = PQstatus(conn) != CONNECTION_OK ? "08006" : "";
      error_message = absl::StrCat(what, ": ", PQerrorMessage(conn));
    }
  };
  std::vector<int> preparing;  // ids prepared in this pipeline
  for (int i = 0; i < size() && error_message.empty(); ++i) {
    const Item& item = items_[i];
    if (item.sql == nullptr) {
      if (PQsendQueryParams(conn, item.text, 0, nullptr, nullptr, nullptr, nullptr, 0) != 1) {
        fail("sending");
      }
      sent.push_back(i);
      continue;
    }
    std::vector<const char*> values(item.values.size());
    for (std::size_t k = 0; k < values.size(); ++k) {
      values[k] = item.values[k].has_value() ? item.values[k]->c_str() : nullptr;
    }
    if (item.sql->planning() == Sql::kPlannedEachCall) {
      if (PQsendQueryParams(conn, item.sql->text().c_str(), static_cast<int>(values.size()),
                            nullptr, values.data(), nullptr, nullptr, 0) != 1) {
        fail("sending");
        break;
      }
      sent.push_back(i);
      continue;
    }
    const int id = item.sql->id();
    const std::string name = absl::StrCat("xf", id);
    if (static_cast<std::size_t>(id) >= conn_.prepared_.size()) conn_.prepared_.resize(id + 1);
    if (!conn_.prepared_[id] &&
        std::find(preparing.begin(), preparing.end(), id) == preparing.end()) {
      if (PQsendPrepare(conn, name.c_str(), item.sql->text().c_str(), 0, nullptr) != 1) {
        fail("preparing");
        break;
      }
      preparing.push_back(id);
      sent.push_back(-1 - id);
    }
    if (PQsendQueryPrepared(conn, name.c_str(), static_cast<int>(values.size()), values.data(),
                            nullptr, nullptr, 0) != 1) {
      fail("sending");
      break;
    }
    sent.push_back(i);
  }
  if (PQpipelineSync(conn) != 1) fail("syncing");
  ++tl_round_trips;
  std::vector<Rows> results;
  results.reserve(items_.size());
  for (int k = 0; k < size(); ++k) results.emplace_back(nullptr);
  // Every command's results end with a null; the sync ends the pipeline.
  for (int s : sent) {
    PGresult* res = nullptr;
    while ((res = PQgetResult(conn)) != nullptr) {
      const ExecStatusType st = PQresultStatus(res);
      if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        if (s >= 0) {
          results[s] = Rows(res);
        } else {
          conn_.prepared_[-1 - s] = true;
          PQclear(res);
        }
        continue;
      }
      if (st != PGRES_PIPELINE_ABORTED && error_message.empty()) {
        const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        error_state = state != nullptr ? state : "";
        const char* m = PQresultErrorMessage(res);
        error_message = m != nullptr ? m : "";
      }
      PQclear(res);
    }
  }
  // The sync's own result, then out of pipeline mode.
  for (PGresult* res = PQgetResult(conn); res != nullptr; res = PQgetResult(conn)) {
    const bool sync = PQresultStatus(res) == PGRES_PIPELINE_SYNC;
    PQclear(res);
    if (sync) break;
  }
  PQexitPipelineMode(conn);
  if (error_message.empty() && PQstatus(conn) != CONNECTION_OK) fail("reading results");
  if (!error_message.empty()) {
    if (error_state.empty() && PQstatus(conn) != CONNECTION_OK) error_state = "08006";
    throw DatabaseError(error_state, error_message);
  }
  return results;
}

int64_t RoundTripsOnThisThread() { return tl_round_trips; }

void Conn::Exec(const char* text) {
  PGconn* conn = Handle();
  ++tl_round_trips;
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
