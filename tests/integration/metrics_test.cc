// The metrics registry (services/common/metrics.h) rendered as Prometheus
// text; the pool's wait counters and the deadline counts per top-level unit
// against a real PostgreSQL; the log and metrics settings.
#include "services/common/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <thread>

#include "services/common/config.h"
#include "services/storage/db.h"
#include "services/storage/migrations.h"
#include "services/storage/monitoring.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_db.h"

namespace xinfang {
namespace {

using ::testing::HasSubstr;
using testing::IsOk;
using ::testing::Not;
using testing::StatusIs;

constexpr char kRegister[] = "/xinfang.v1.IntakeService/RegisterCase";

TEST(MetricsTest, CallsByMethodAndCodeWithLatency) {
  Metrics m;
  m.RecordRpc(kRegister, 0, 0.004);
  m.RecordRpc(kRegister, 0, 0.3);
  m.RecordRpc(kRegister, 3, 0.001);
  m.RecordRpc("/xinfang.v1.CaseQueryService/WatchEvents", 1, -1);  // a stream: no latency
  const std::string text = m.Render();
  EXPECT_THAT(text, HasSubstr("xinfang_rpc_requests_total{code=\"OK\",method=\"RegisterCase\","
                              "service=\"xinfang.v1.IntakeService\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("xinfang_rpc_requests_total{code=\"INVALID_ARGUMENT\","
                              "method=\"RegisterCase\",service=\"xinfang.v1.IntakeService\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("xinfang_rpc_requests_total{code=\"CANCELLED\",method=\"WatchEvents\""));
  EXPECT_THAT(text, HasSubstr("xinfang_rpc_duration_seconds_count{method=\"RegisterCase\","
                              "service=\"xinfang.v1.IntakeService\"} 3\n"));
  // 0.001 and 0.004 are within 5 ms; 0.3 is not within 0.25 s.
  EXPECT_THAT(text, HasSubstr("xinfang_rpc_duration_seconds_bucket{method=\"RegisterCase\","
                              "service=\"xinfang.v1.IntakeService\",le=\"0.005\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("xinfang_rpc_duration_seconds_bucket{method=\"RegisterCase\","
                              "service=\"xinfang.v1.IntakeService\",le=\"0.25\"} 2\n"));
  EXPECT_THAT(text, Not(HasSubstr("xinfang_rpc_duration_seconds_count{method=\"WatchEvents\"")));
  EXPECT_THAT(text, HasSubstr("# TYPE xinfang_rpc_duration_seconds histogram"));
}

TEST(MetricsTest, DeadlineGaugesFollowTheLatestReading) {
  Metrics m;
  m.SetDeadlines({{"prov.organs", 7, 2}, {"prov.city-a", 1, 0}});
  std::string text = m.Render();
  EXPECT_THAT(text, HasSubstr("xinfang_deadlines_open{unit=\"prov.organs\"} 7\n"));
  EXPECT_THAT(text, HasSubstr("xinfang_deadlines_overdue{unit=\"prov.organs\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("xinfang_deadlines_open{unit=\"prov.city-a\"} 1\n"));
  m.SetDeadlines({{"prov.organs", 3, 3}});  // prov.city-a removed from the tree
  text = m.Render();
  EXPECT_THAT(text, HasSubstr("xinfang_deadlines_open{unit=\"prov.organs\"} 3\n"));
  EXPECT_THAT(text, Not(HasSubstr("prov.city-a")));
}

TEST(MetricsTest, SweeperPoolAndBuildInfo) {
  Metrics m;
  m.RecordSweep(0, true);
  m.RecordSweep(12, true);
  m.RecordSweep(0, false);
  m.SetSweeperLag(42.5);
  m.SetFeed(1234, 3, 1.5);
  m.SetBuildInfo("1.2.3", 12);
  PoolGauges pool{8, 3, 5, 1, 0.25};
  m.SetPoolSource([&pool] { return pool; });
  std::string text = m.Render();
  EXPECT_THAT(text, HasSubstr("xinfang_sweeper_passes_total{result=\"ok\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("xinfang_sweeper_passes_total{result=\"error\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("xinfang_sweeper_cases_fired_total 12\n"));
  EXPECT_THAT(text, HasSubstr("xinfang_sweeper_lag_seconds 42.5\n"));
  EXPECT_THAT(text, HasSubstr("xinfang_feed_head_position 1234\n"));
  EXPECT_THAT(text, HasSubstr("xinfang_feed_unsequenced_events 3\n"));
  EXPECT_THAT(text, HasSubstr("xinfang_feed_lag_seconds 1.5\n"));
  EXPECT_THAT(text, HasSubstr("xinfang_build_info{schema=\"12\",version=\"1.2.3\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("xinfang_db_pool_connections 8\n"));
  EXPECT_THAT(text, HasSubstr("xinfang_db_pool_in_use 3\n"));
  EXPECT_THAT(text, HasSubstr("xinfang_db_pool_waits_total 5\n"));
  EXPECT_THAT(text, HasSubstr("xinfang_db_pool_timeouts_total 1\n"));
  pool.waits = 9;  // counters follow the pool's own
  pool.in_use = 0;
  text = m.Render();
  EXPECT_THAT(text, HasSubstr("xinfang_db_pool_waits_total 9\n"));
  EXPECT_THAT(text, HasSubstr("xinfang_db_pool_in_use 0\n"));
}

// What one call costs the metrics (the interceptor's RecordRpc), for
// docs/monitoring.md; a loose bound only catches a pathology.
TEST(MetricsTest, RecordingACallIsCheap) {
  Metrics m;
  constexpr int kCalls = 200000;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kCalls; ++i) m.RecordRpc(kRegister, i % 7 == 0 ? 3 : 0, 0.002);
  const double ns =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() /
      kCalls;
  std::printf("RecordRpc: %.0f ns per call\n", ns);
  EXPECT_LT(ns, 20000);
}

TEST(MetricsConfigTest, LogFormatAndMetricsListen) {
  auto env = [](const char*) -> const char* { return nullptr; };
  auto c = ParseServerConfig(
      {"--db", "postgresql://x@h/db", "--log-format", "json", "--metrics-listen", "127.0.0.1:9464"},
      env);
  ASSERT_THAT(c.status(), IsOk());
  EXPECT_EQ(c->log_format, LogFormat::kJson);
  EXPECT_EQ(c->metrics_listen, "127.0.0.1:9464");
  EXPECT_THAT(
      ParseServerConfig({"--db", "postgresql://x@h/db", "--log-format", "xml"}, env).status(),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--log-format")));
  EXPECT_THAT(
      ParseServerConfig({"--db", "postgresql://x@h/db", "--metrics-listen", "9464"}, env).status(),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--metrics-listen: '9464'")));
  auto json_env = [](const char* n) -> const char* {
    return std::string(n) == "XINFANG_LOG_FORMAT" ? "json" : nullptr;
  };
  auto e = ParseServerConfig({"--db", "postgresql://x@h/db"}, json_env);
  ASSERT_THAT(e.status(), IsOk());
  EXPECT_EQ(e->log_format, LogFormat::kJson);
}

TEST(PoolStatsTest, WaitsAndTimeoutsAreCounted) {
  testing::TestDatabase db;
  storage::PoolOptions o;
  o.url = db.url();
  o.size = 1;
  o.lease_timeout = absl::Milliseconds(100);
  auto pool = storage::Pool::Open(o);
  ASSERT_THAT(pool.status(), IsOk());
  {
    auto held = (*pool)->Acquire();
    ASSERT_THAT(held.status(), IsOk());
    EXPECT_EQ((*pool)->Stats().in_use, 1);
    EXPECT_THAT((*pool)->Acquire().status(), StatusIs(absl::StatusCode::kUnavailable));
  }
  storage::PoolStats s = (*pool)->Stats();
  EXPECT_EQ(s.size, 1);
  EXPECT_EQ(s.in_use, 0);
  EXPECT_EQ(s.waits, 1u);
  EXPECT_EQ(s.timeouts, 1u);
  EXPECT_GE(s.wait_seconds, 0.09);
  // A wait that ends with a connection: counted as a wait, not a timeout.
  auto held = (*pool)->Acquire();
  ASSERT_THAT(held.status(), IsOk());
  std::thread release([&held] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    storage::Lease gone = std::move(*held);
  });
  EXPECT_THAT((*pool)->Acquire().status(), IsOk());
  release.join();
  s = (*pool)->Stats();
  EXPECT_EQ(s.waits, 2u);
  EXPECT_EQ(s.timeouts, 1u);
}

// A fresh, migrated database with a one-connection pool.
class MonitoringTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::PoolOptions o;
    o.url = db.url();
    o.size = 1;
    auto opened = storage::Pool::Open(o);
    ASSERT_THAT(opened.status(), IsOk());
    pool = std::move(*opened);
    ASSERT_THAT(storage::Migrate(*pool).status(), IsOk());
  }
  testing::TestDatabase db;
  std::unique_ptr<storage::Pool> pool;
};

TEST_F(MonitoringTest, DeadlinesByTopUnit) {
  // Timers owed deep under prov.organs, by prov itself and under
  // prov.city-a: overdue by date, marked overdue, suspended past its date,
  // not yet due. (Case rows are left out: the foreign key is not checked
  // for this superuser session.)
  db.Exec(R"sql(
    DO $$ BEGIN
    PERFORM set_config('session_replication_role', 'replica', true);
    INSERT INTO case_timers (case_id, name, started_at, due_day, due_at, warn_at, provisional,
                             suspended_at, overdue, owing_unit, counted_from) VALUES
      (1, 'a', '2026-03-01', '2026-03-10', '2026-03-10 16:00Z', '2026-03-08', false, NULL, false,
       'prov.organs.office', '2026-03-01'),
      (2, 'a', '2026-03-01', '2026-03-30', '2026-03-30 16:00Z', '2026-03-28', false, NULL, true,
       'prov.organs.edu', '2026-03-01'),
      (3, 'a', '2026-03-01', '2026-03-10', '2026-03-10 16:00Z', '2026-03-08', false,
       '2026-03-05', false, 'prov.organs', '2026-03-01'),
      (4, 'a', '2026-03-01', '2026-03-30', '2026-03-30 16:00Z', '2026-03-28', false, NULL, false,
       'prov', '2026-03-01'),
      (5, 'a', '2026-03-01', '2026-03-09', '2026-03-09 16:00Z', '2026-03-08', false, NULL, false,
       'prov.city-a.dist-1', '2026-03-01');
    END $$;
  )sql");
  auto rows = storage::DeadlinesByTopUnit(
      *pool, absl::FromCivil(absl::CivilSecond(2026, 3, 20), absl::UTCTimeZone()));
  ASSERT_THAT(rows.status(), IsOk());
  std::map<std::string, std::pair<int64_t, int64_t>> got;
  for (const auto& r : *rows) got[r.unit] = {r.open, r.overdue};
  const std::map<std::string, std::pair<int64_t, int64_t>> want = {
      {"prov", {1, 0}}, {"prov.city-a", {1, 1}}, {"prov.organs", {3, 2}}};
  EXPECT_EQ(got, want);
}

// The feed's head and the events committed but not yet placed in it.
TEST_F(MonitoringTest, FeedState) {
  auto empty = storage::ReadFeedState(*pool);
  ASSERT_THAT(empty.status(), IsOk());
  EXPECT_EQ(empty->head, 0);
  EXPECT_EQ(empty->unsequenced, 0);
  EXPECT_FALSE(empty->oldest_unsequenced.has_value());
  // Two placed events and two waiting (case rows left out as above).
  db.Exec(R"sql(
    DO $$ BEGIN
    PERFORM set_config('session_replication_role', 'replica', true);
    INSERT INTO case_events (case_id, seq, kind, actor, actor_role, at, prev_hash, hash, position)
    VALUES (1, 1, 'registered', 'a', 1, '2026-03-01 01:00Z', '', 'h1', 1),
           (1, 2, 'accepted', 'a', 1, '2026-03-01 02:00Z', 'h1', 'h2', 2),
           (2, 1, 'registered', 'a', 1, '2026-03-01 03:00Z', '', 'h3', NULL),
           (2, 2, 'accepted', 'a', 1, '2026-03-01 04:00Z', 'h3', 'h4', NULL);
    UPDATE event_sequencer SET last_position = 2;
    END $$;
  )sql");
  auto f = storage::ReadFeedState(*pool);
  ASSERT_THAT(f.status(), IsOk());
  EXPECT_EQ(f->head, 2);
  EXPECT_EQ(f->unsequenced, 2);
  ASSERT_TRUE(f->oldest_unsequenced.has_value());
  EXPECT_EQ(*f->oldest_unsequenced,
            absl::FromCivil(absl::CivilSecond(2026, 3, 1, 3, 0, 0), absl::UTCTimeZone()));
}

}  // namespace
}  // namespace xinfang
