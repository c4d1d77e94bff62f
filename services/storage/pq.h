// Prepared statements, cached per pooled connection, run through libpq.
//
// Every statement the service sends often is a `Sql` constant: its text
// (with SOCI-style :name placeholders) is turned into $n once per process,
// prepared on a connection the first time that connection runs it, and from
// then on executed by name — PostgreSQL parses and plans it once per
// connection, not once per call. A connection that is replaced (reconnected
// after a failover, a restart, a broken socket) starts with an empty cache,
// so nothing refers to a statement the new server session never saw.
//
// Values cross as text, as SOCI sends them; the server infers each
// parameter's type from the statement, exactly as for an unprepared one.
// A failure throws DatabaseError, which StatusFromCurrentException (db.h)
// turns into a status like any SOCI error.
//
// Thread-safety: a Conn belongs to the thread holding its Lease; Sql
// constants are immutable after static initialisation.
#ifndef XINFANG_SERVICES_STORAGE_PQ_H_
#define XINFANG_SERVICES_STORAGE_PQ_H_

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include "absl/strings/string_view.h"
#include <type_traits>
#include <vector>

#include "absl/strings/str_cat.h"

struct pg_conn;
struct pg_result;

namespace soci {
class session;
}

namespace xinfang::storage {

// A database error with its SQLSTATE ("" when the connection itself failed).
class DatabaseError : public std::runtime_error {
 public:
  DatabaseError(std::string sqlstate, const std::string& message)
      : std::runtime_error(message), sqlstate_(std::move(sqlstate)) {}
  const std::string& sqlstate() const { return sqlstate_; }

 private:
  std::string sqlstate_;
};

// One statement of the service. Define each as a namespace-scope constant
// (`const Sql kX{"SELECT … WHERE id = :id"};`) next to the code that runs
// it; the text must outlive the process (a literal).
class Sql {
 public:
  // kPrepared: parsed and planned once per connection (PostgreSQL may then
  // settle on one generic plan). kPlannedEachCall: sent with its values
  // and planned for them every time — for the heavy reads (statistics, the
  // dashboard), whose best plan depends on the period and scope asked for
  // and whose planning is nothing beside their run.
  enum Planning { kPrepared, kPlannedEachCall };
  explicit Sql(const char* text, Planning planning = kPrepared);
  // For a statement put together at run time from the code's own pieces
  // (a list's optional filters): one Sql per distinct text, kept for the
  // life of the process, so it is prepared once per connection like the
  // constants. Never for text that carries a caller's values.
  static const Sql& Intern(const std::string& text, Planning planning = kPrepared);
  Sql(const Sql&) = delete;
  Sql& operator=(const Sql&) = delete;

  // The text with $1…$n in place of the names, in order of first use.
  const std::string& text() const { return text_; }
  // The placeholder names; names()[k] is $(k+1).
  const std::vector<std::string>& names() const { return names_; }
  // A process-wide number: the statement's name on the server is "xf<id>".
  int id() const { return id_; }
  Planning planning() const { return planning_; }

 private:
  std::string text_;
  std::vector<std::string> names_;
  int id_;
  Planning planning_;
};

// A parameter: its placeholder's name and its value as text, or NULL.
class Arg {
 public:
  template <typename T>
  Arg(absl::string_view name, const T& value) : name_(name) {
    Set(value);
  }
  absl::string_view name() const { return name_; }
  const std::optional<std::string>& value() const { return value_; }

 private:
  template <typename T>
  void Set(const std::optional<T>& v) {
    if (v.has_value()) Set(*v);
  }
  void Set(std::nullptr_t) {}
  void Set(const std::string& v) { value_ = v; }
  void Set(absl::string_view v) { value_ = std::string(v); }
  void Set(const char* v) { value_ = std::string(v); }
  void Set(bool v) { value_ = v ? "t" : "f"; }
  template <typename T, typename = std::enable_if_t<std::is_arithmetic_v<T>>>
  void Set(T v) {
    value_ = absl::StrCat(v);
  }

  absl::string_view name_;
  std::optional<std::string> value_;
};

// One row of a result; columns by position, as text.
class Row {
 public:
  Row(const pg_result* res, int row) : res_(res), row_(row) {}
  bool null(int col) const;
  absl::string_view view(int col) const;  // "" for NULL
  std::string str(int col) const { return std::string(view(col)); }
  int64_t i64(int col) const;  // 0 for NULL
  int i32(int col) const { return static_cast<int>(i64(col)); }
  double f64(int col) const;
  bool boolean(int col) const;  // 't' or a non-zero number
  std::optional<int64_t> opt_i64(int col) const {
    return null(col) ? std::nullopt : std::optional<int64_t>(i64(col));
  }

 private:
  const pg_result* res_;
  int row_;
};

// A statement's result, held in memory.
class Rows {
 public:
  explicit Rows(pg_result* res);
  Rows(Rows&&) noexcept;
  Rows& operator=(Rows&&) noexcept;
  ~Rows();
  int size() const { return size_; }
  bool empty() const { return size_ == 0; }
  Row operator[](int i) const { return Row(res_, i); }
  // Rows affected by an INSERT, UPDATE or DELETE without RETURNING.
  int64_t affected() const;

  class iterator {
   public:
    iterator(const pg_result* res, int i) : res_(res), i_(i) {}
    Row operator*() const { return Row(res_, i_); }
    iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator!=(const iterator& o) const { return i_ != o.i_; }

   private:
    const pg_result* res_;
    int i_;
  };
  iterator begin() const { return iterator(res_, 0); }
  iterator end() const { return iterator(res_, size_); }

 private:
  pg_result* res_;
  int size_;
};

// A pooled connection: SOCI's session (for transactions and the statements
// not yet moved here) and libpq's handle with the statements prepared on it.
// The round trips to the server this thread has made through Conn (each
// Exec, each pipeline's sync, a single statement being a pipeline of one):
// lets a test hold a store call to its budget of round trips.
int64_t RoundTripsOnThisThread();

class Conn {
 public:
  explicit Conn(soci::session* session) : session_(session) {}
  soci::session& session() { return *session_; }

  // Runs `sql` with `args` (every placeholder named exactly once; an arg
  // naming no placeholder is a programming error, as is a missing one).
  // Throws DatabaseError.
  Rows Run(const Sql& sql, std::initializer_list<Arg> args) {
    return Run(sql, args.begin(), args.end());
  }
  Rows Run(const Sql& sql, const std::vector<Arg>& args) {
    return Run(sql, args.data(), args.data() + args.size());
  }

  // Runs a statement once, unprepared and without parameters (BEGIN,
  // COMMIT, LOCK …). Throws DatabaseError.
  void Exec(const char* text);

  // Several statements in one round trip (libpq's pipeline mode): each is
  // sent (prepared first where this connection has not yet), then one sync,
  // then every result is read. The statements run in order; after a failure
  // the rest are skipped and the first error is thrown (DatabaseError), as
  // Run would. Arguments are copied when added.
  class Pipeline {
   public:
    explicit Pipeline(Conn& conn) : conn_(conn) {}
    // Adds a statement; its index in Run()'s result.
    int Add(const Sql& sql, std::initializer_list<Arg> args) {
      return Add(sql, std::vector<Arg>(args));
    }
    int Add(const Sql& sql, std::vector<Arg> args);
    // Adds a statement without parameters that is not prepared (BEGIN, COMMIT).
    int AddText(const char* text);
    int size() const { return static_cast<int>(items_.size()); }
    std::vector<Rows> Run();

   private:
    struct Item {
      const Sql* sql = nullptr;  // null: text
      const char* text = nullptr;
      std::vector<std::optional<std::string>> values;
    };
    Conn& conn_;
    std::vector<Item> items_;
  };

  // Called by the pool when it hands the connection out: a different libpq
  // handle (a reconnect) forgets every prepared statement.
  void Refresh();
  // How many statements are prepared on this connection (for tests).
  int prepared_count() const;

 private:
  friend class Pipeline;
  Rows Run(const Sql& sql, const Arg* begin, const Arg* end);
  // The values of `args` in the order of `sql`'s placeholders.
  static std::vector<const std::optional<std::string>*> Order(const Sql& sql, const Arg* begin,
                                                              const Arg* end);
  pg_conn* Handle();
  soci::session* session_;
  pg_conn* conn_ = nullptr;
  std::vector<bool> prepared_;
};

// Sent right after BEGIN by the write transactions (a case's change, the
// sweeper's batch, the warnings pass): their prepared statements find rows
// by key or by arrays of keys, which one generic plan serves for any values.
// Without it PostgreSQL kept a custom plan, made anew on every call, for
// those with arrays (the case rows' update: 0.4 ms of planning a call, more
// than it runs). Reads whose best plan depends on the values are sent with
// Sql::kPlannedEachCall instead.
inline constexpr char kKeepGenericPlans[] = "SET LOCAL plan_cache_mode = force_generic_plan";

// A transaction on a connection: BEGIN now, COMMIT on Commit(), ROLLBACK
// when destroyed uncommitted (an early return, an exception).
class Transaction {
 public:
  explicit Transaction(Conn& conn) : conn_(conn) { conn_.Exec("BEGIN"); }
  // BEGIN is (or was) sent by the caller, in a pipeline.
  enum Begun { kBegunInPipeline };
  Transaction(Conn& conn, Begun) : conn_(conn) {}
  // COMMIT was sent, in a pipeline that succeeded.
  void Committed() { done_ = true; }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  void Commit();
  void Rollback();

 private:
  Conn& conn_;
  bool done_ = false;
};

}  // namespace xinfang::storage

#endif  // XINFANG_SERVICES_STORAGE_PQ_H_
