// Prepared statements cached per pooled connection (services/storage/pq.h),
// against a real PostgreSQL: each statement is prepared once per
// connection, a replaced connection prepares again, values and NULLs cross
// intact, and errors keep their SQLSTATE's status.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "services/storage/db.h"
#include "services/storage/pq.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_db.h"

namespace xinfang::storage {
namespace {

using testing::IsOk;
using testing::StatusIs;
using testing::TestDatabase;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const Sql kEcho{"SELECT :a::text, :b::bigint, :a::text || ':x' || ':y', 'it''s :not', :c::int"};
const Sql kBackend{"SELECT pg_backend_pid()"};
const Sql kPreparedHere{"SELECT count(*) FROM pg_prepared_statements WHERE name = :name"};
const Sql kDivide{"SELECT 1 / :d::int"};

TEST(SqlTest, NamesBecomeNumberedParametersOutsideQuotesAndCasts) {
  EXPECT_EQ(kEcho.text(),
            "SELECT $1::text, $2::bigint, $1::text || ':x' || ':y', 'it''s :not', $3::int");
  EXPECT_THAT(kEcho.names(), ElementsAre("a", "b", "c"));
  EXPECT_NE(kEcho.id(), kBackend.id());
  // Interned text is one statement, whoever builds it.
  const Sql& one = Sql::Intern(std::string("SELECT :v::int + 1"));
  const Sql& two = Sql::Intern(absl::StrCat("SELECT :v", "::int + 1"));
  EXPECT_EQ(&one, &two);
}

TEST(ConnTest, ValuesAndNullsRoundTrip) {
  TestDatabase db;
  auto pool = Pool::Open(PoolOptions{db.url(), 1});
  ASSERT_THAT(pool, IsOk());
  absl::Status st = WithConn(**pool, "echo", [&](Conn& c) {
    Rows rows = c.Run(kEcho, {{"a", std::string("王小明, \"x\"")},
                              {"b", int64_t{-9007199254740993}},
                              {"c", std::optional<int>()}});
    EXPECT_EQ(rows.size(), 1);
    EXPECT_EQ(rows[0].str(0), "王小明, \"x\"");
    EXPECT_EQ(rows[0].i64(1), -9007199254740993);
    EXPECT_EQ(rows[0].str(2), "王小明, \"x\":x:y");
    EXPECT_EQ(rows[0].str(3), "it's :not");
    EXPECT_TRUE(rows[0].null(4));
    EXPECT_EQ(rows[0].opt_i64(4), std::nullopt);
    return absl::OkStatus();
  });
  EXPECT_THAT(st, IsOk());
}

// The point of it all: the second run of a statement on a connection does
// not prepare it again (the server lists it once), and a connection the pool
// replaced (its backend terminated, as in a failover) prepares it afresh.
TEST(ConnTest, EachStatementIsPreparedOncePerConnectionAndAgainAfterAReconnect) {
  TestDatabase db;
  auto pool = Pool::Open(PoolOptions{db.url(), 1});
  ASSERT_THAT(pool, IsOk());
  const std::string name = absl::StrCat("xf", kBackend.id());
  int pid_before = 0;
  absl::Status st = WithConn(**pool, "first", [&](Conn& c) {
    pid_before = c.Run(kBackend, {})[0].i32(0);
    const int prepared = c.prepared_count();
    c.Run(kBackend, {});
    EXPECT_EQ(c.prepared_count(), prepared) << "prepared twice";
    EXPECT_EQ(c.Run(kPreparedHere, {{"name", name}})[0].i64(0), 1);
    return absl::OkStatus();
  });
  ASSERT_THAT(st, IsOk());
  ASSERT_EQ(db.Query(absl::StrCat("SELECT pg_terminate_backend(", pid_before, ")::int")), "1");
  for (int i = 0; i < 100 && db.Query(absl::StrCat("SELECT count(*)::text FROM pg_stat_activity "
                                                   "WHERE pid = ", pid_before)) != "0";
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  st = WithConn(**pool, "after the reconnect", [&](Conn& c) {
    EXPECT_EQ(c.prepared_count(), 0);
    const int pid_after = c.Run(kBackend, {})[0].i32(0);
    EXPECT_NE(pid_after, pid_before);
    EXPECT_EQ(c.Run(kPreparedHere, {{"name", name}})[0].i64(0), 1);
    return absl::OkStatus();
  });
  EXPECT_THAT(st, IsOk());
}

// A heavy read is planned for its values on every call: never prepared, so
// no generic plan can settle in for it.
TEST(ConnTest, AStatementPlannedEachCallIsNeverPrepared) {
  TestDatabase db;
  auto pool = Pool::Open(PoolOptions{db.url(), 1});
  ASSERT_THAT(pool, IsOk());
  static const Sql kHeavy{"SELECT :n::int * 2", Sql::kPlannedEachCall};
  absl::Status st = WithConn(**pool, "heavy", [&](Conn& c) {
    const int before = c.prepared_count();
    for (int i = 0; i < 7; ++i) EXPECT_EQ(c.Run(kHeavy, {{"n", i}})[0].i32(0), 2 * i);
    Conn::Pipeline p(c);
    p.Add(kHeavy, {{"n", 21}});
    EXPECT_EQ(p.Run()[0][0].i32(0), 42);
    EXPECT_EQ(c.prepared_count(), before);
    EXPECT_EQ(c.Run(kPreparedHere, {{"name", absl::StrCat("xf", kHeavy.id())}})[0].i64(0), 0);
    return absl::OkStatus();
  });
  EXPECT_THAT(st, IsOk());
}

// Several statements in one round trip run in order; a failure in the
// middle skips the rest and is the error raised.
TEST(ConnTest, APipelineRunsInOrderAndStopsAtTheFirstError) {
  TestDatabase db;
  auto pool = Pool::Open(PoolOptions{db.url(), 1});
  ASSERT_THAT(pool, IsOk());
  db.Query("CREATE TABLE pq_p (k int PRIMARY KEY)");
  static const Sql kPut{"INSERT INTO pq_p VALUES (:k)"};
  static const Sql kCount{"SELECT count(*) FROM pq_p"};
  absl::Status ok = WithConn(**pool, "pipeline", [&](Conn& c) -> absl::Status {
    Conn::Pipeline p(c);
    p.AddText("BEGIN");
    p.Add(kPut, {{"k", 1}});
    const int count_at = p.Add(kCount, {});
    p.AddText("COMMIT");
    EXPECT_EQ(p.Run()[count_at][0].i64(0), 1);
    return absl::OkStatus();
  });
  EXPECT_THAT(ok, IsOk());
  absl::Status failed = WithConn(**pool, "pipeline twice", [&](Conn& c) -> absl::Status {
    Transaction tx(c, Transaction::kBegunInPipeline);
    Conn::Pipeline p(c);
    p.AddText("BEGIN");
    p.Add(kPut, {{"k", 2}});
    p.Add(kPut, {{"k", 1}});  // a duplicate: the rest is skipped
    p.Add(kPut, {{"k", 3}});
    p.AddText("COMMIT");
    p.Run();
    tx.Committed();
    return absl::OkStatus();
  });
  EXPECT_THAT(failed, StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(db.Query("SELECT string_agg(k::text, ',' ORDER BY k) FROM pq_p"), "1");
}

TEST(ConnTest, ErrorsKeepTheirStatusAndTheTransactionRollsBack) {
  TestDatabase db;
  auto pool = Pool::Open(PoolOptions{db.url(), 1});
  ASSERT_THAT(pool, IsOk());
  db.Query("CREATE TABLE pq_t (k int PRIMARY KEY)");
  static const Sql kInsert{"INSERT INTO pq_t VALUES (:k)"};
  absl::Status dup = WithConn(**pool, "inserting twice", [&](Conn& c) -> absl::Status {
    Transaction tx(c);
    c.Run(kInsert, {{"k", 1}});
    c.Run(kInsert, {{"k", 1}});
    tx.Commit();
    return absl::OkStatus();
  });
  EXPECT_THAT(dup, StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("inserting twice")));
  EXPECT_EQ(db.Query("SELECT count(*)::text FROM pq_t"), "0");  // rolled back whole
  absl::Status zero = WithConn(**pool, "dividing", [&](Conn& c) -> absl::Status {
    c.Run(kDivide, {{"d", 0}});
    return absl::OkStatus();
  });
  EXPECT_THAT(zero, StatusIs(absl::StatusCode::kInternal, HasSubstr("dividing")));
  // The connection is usable afterwards (no transaction left open).
  absl::Status after = WithConn(**pool, "after", [&](Conn& c) -> absl::Status {
    c.Run(kInsert, {{"k", 2}});
    return absl::OkStatus();
  });
  EXPECT_THAT(after, IsOk());
  EXPECT_EQ(db.Query("SELECT count(*)::text FROM pq_t"), "1");
}

TEST(ConnTest, AMissingOrStrayArgumentIsAProgrammingErrorNotASilentNull) {
  TestDatabase db;
  auto pool = Pool::Open(PoolOptions{db.url(), 1});
  ASSERT_THAT(pool, IsOk());
  absl::Status missing = WithConn(**pool, "echo", [&](Conn& c) -> absl::Status {
    c.Run(kEcho, {{"a", "x"}, {"b", 1}, {"z", 2}});
    return absl::OkStatus();
  });
  EXPECT_THAT(missing, StatusIs(absl::StatusCode::kInternal));
}

}  // namespace
}  // namespace xinfang::storage
