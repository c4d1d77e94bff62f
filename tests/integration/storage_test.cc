// Storage against a real PostgreSQL: migrations, the pool, the case store.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <soci/soci.h>
#include <spawn.h>
#include <sys/wait.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "services/common/core.h"
#include "services/storage/case_store.h"
#include "services/storage/migrations.h"
#include "services/storage/replica.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_db.h"

extern char** environ;

namespace xinfang {
namespace {

using storage::Migrate;
using storage::Pool;
using storage::PoolOptions;
using testing::IsOk;
using testing::StatusIs;
using testing::TestDatabase;
using ::testing::HasSubstr;

std::unique_ptr<Pool> OpenPool(const std::string& url, int size = 2) {
  auto pool = Pool::Open(PoolOptions{url, size});
  EXPECT_THAT(pool, IsOk());
  return std::move(*pool);
}

TEST(MigrationsTest, ApplyOnceThenNothingTheSecondTime) {
  TestDatabase db;
  auto pool = OpenPool(db.url());
  const int n = static_cast<int>(storage::BuiltInMigrations().size());
  ASSERT_GE(n, 2);
  auto first = Migrate(*pool);
  ASSERT_THAT(first, IsOk());
  EXPECT_EQ(static_cast<int>(first->applied.size()), n);
  EXPECT_EQ(first->total, n);
  auto second = Migrate(*pool);
  ASSERT_THAT(second, IsOk());
  EXPECT_TRUE(second->applied.empty());
  EXPECT_EQ(second->total, n);
  EXPECT_EQ(db.Query("SELECT count(*) FROM schema_migrations"), absl::StrCat(n));
  EXPECT_EQ(db.Query("SELECT name FROM schema_migrations WHERE number = 1"), "0001_init");
  // The reference data went in exactly once.
  EXPECT_EQ(db.Query("SELECT count(*) FROM units WHERE code = 'prov'"), "1");
}

// Two server processes start at once on a new database: the advisory lock
// makes one wait; each migration is applied exactly once and both succeed.
TEST(MigrationsTest, TwoProcessesAtOnce) {
  TestDatabase db;
  const std::string server = testing::BinaryDir() + "/services/xinfang-server";
  const std::string data = "--data-dir=" + testing::SourceDir() + "/deploy";
  const std::string dbflag = "--db=" + db.url();
  std::vector<pid_t> pids;
  for (int i = 0; i < 2; ++i) {
    const char* argv[] = {server.c_str(), dbflag.c_str(), data.c_str(), "--migrate-only",
                          "--log-level=error", nullptr};
    pid_t pid = 0;
    ASSERT_EQ(posix_spawn(&pid, server.c_str(), nullptr, nullptr, const_cast<char**>(argv),
                          environ),
              0);
    pids.push_back(pid);
  }
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
  }
  const int n = static_cast<int>(storage::BuiltInMigrations().size());
  EXPECT_EQ(db.Query("SELECT count(*) FROM schema_migrations"), absl::StrCat(n));
  EXPECT_EQ(db.Query("SELECT count(*) FROM units WHERE code = 'prov'"), "1");
}

TEST(MigrationsTest, ThreadsAtOnceApplyEachOnce) {
  TestDatabase db;
  auto pool = OpenPool(db.url(), 4);
  std::vector<std::thread> threads;
  std::atomic<int> applied{0}, failed{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      auto r = Migrate(*pool);
      if (!r.ok()) {
        ++failed;
        return;
      }
      applied += static_cast<int>(r->applied.size());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(applied.load(), static_cast<int>(storage::BuiltInMigrations().size()));
}

TEST(MigrationsTest, RefusesADatabaseFromANewerVersion) {
  TestDatabase db;
  auto pool = OpenPool(db.url());
  ASSERT_THAT(Migrate(*pool), IsOk());
  db.Query("INSERT INTO schema_migrations (number, name) VALUES (9999, '9999_future')");
  EXPECT_THAT(Migrate(*pool), StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("9999")));
}

TEST(PoolTest, UnreachableDatabaseIsUnavailable) {
  auto pool = Pool::Open(PoolOptions{"postgresql://xinfang@127.0.0.1:1/none", 1,
                                     absl::Seconds(1), absl::Seconds(1)});
  EXPECT_THAT(pool, StatusIs(absl::StatusCode::kUnavailable));
}

TEST(PoolTest, LeaseIsBoundedInTime) {
  TestDatabase db;
  auto pool = Pool::Open(PoolOptions{db.url(), 1, absl::Milliseconds(200)});
  ASSERT_THAT(pool, IsOk());
  auto held = (*pool)->Acquire();
  ASSERT_THAT(held, IsOk());
  const absl::Time start = absl::Now();
  EXPECT_THAT((*pool)->Acquire(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(PoolTest, BadSizeIsInvalid) {
  EXPECT_THAT(Pool::Open(PoolOptions{"postgresql://x@127.0.0.1/x", 0}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// Connections the server closed (a failover, a restart, an administrator)
// are replaced when leased: the next statement on each succeeds, with no
// UNAVAILABLE for a call that happens to get one of them.
TEST(PoolTest, ConnectionsClosedByTheServerAreReplacedWhenLeased) {
  TestDatabase db;
  auto pool = Pool::Open(PoolOptions{db.url(), 3});
  ASSERT_THAT(pool, IsOk());
  // The backend of each connection (all three leased at once).
  auto pids = [&] {
    std::string all;
    std::vector<storage::Lease> held;
    for (int i = 0; i < 3; ++i) {
      auto lease = (*pool)->Acquire();
      EXPECT_THAT(lease, IsOk());
      if (!lease.ok()) break;
      int pid = 0;
      lease->session() << "SELECT pg_backend_pid()", soci::into(pid);
      absl::StrAppend(&all, pid, " ");
      held.push_back(std::move(*lease));
    }
    return all;
  };
  const std::string before = pids();
  ASSERT_EQ(db.Query("SELECT count(pg_terminate_backend(pid))::text FROM pg_stat_activity "
                     "WHERE datname = current_database() AND pid <> pg_backend_pid()"),
            "3");
  // The backends are gone once they no longer show (bounded wait).
  for (int i = 0; i < 100 && db.Query("SELECT count(*)::text FROM pg_stat_activity WHERE "
                                      "datname = current_database() AND pid <> "
                                      "pg_backend_pid()") != "0";
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const std::string after = pids();  // would throw on a dead connection
  EXPECT_NE(after, before);
}

// The lag gate: no proof before the first check; a replica that holds
// everything the primary wrote (here: the same database) is fresh after one.
TEST(ReplicaGateTest, FreshOnlyAfterACheckProvesTheReplicaCaughtUp) {
  TestDatabase db;
  auto primary = Pool::Open(PoolOptions{db.url(), 1});
  auto replica = Pool::Open(PoolOptions{db.url(), 1});
  ASSERT_THAT(primary, IsOk());
  ASSERT_THAT(replica, IsOk());
  storage::ReplicaGate gate(**primary, **replica, absl::Seconds(2));
  EXPECT_FALSE(gate.Fresh());
  EXPECT_EQ(gate.Behind(), absl::InfiniteDuration());
  ASSERT_THAT(gate.Check(), IsOk());
  EXPECT_TRUE(gate.Fresh());
  EXPECT_LT(gate.Behind(), absl::Seconds(2));
}

TEST(ReplicaGateTest, AnUnreachableReplicaIsNeverFresh) {
  TestDatabase db;
  auto primary = Pool::Open(PoolOptions{db.url(), 1});
  ASSERT_THAT(primary, IsOk());
  auto replica = Pool::Open(PoolOptions{db.url(), 1, absl::Milliseconds(100)});
  ASSERT_THAT(replica, IsOk());
  auto held = (*replica)->Acquire();  // the replica's only connection: no lease within 100 ms
  ASSERT_THAT(held, IsOk());
  storage::ReplicaGate gate(**primary, **replica, absl::Seconds(2));
  EXPECT_THAT(gate.Check(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_FALSE(gate.Fresh());
}

// The case store through a Core (definitions, calendar, migrations).
class CaseStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerConfig config;
    config.db_url = db_.url();
    config.data_dir = testing::SourceDir() + "/deploy";
    config.pool_size = 8;
    auto core = Core::Open(config);
    ASSERT_THAT(core, IsOk());
    core_ = std::move(*core);
  }

  storage::NewCase MakeCase(const std::string& request_id) {
    storage::NewCase c;
    c.request_id = request_id;
    c.intake.set_channel(xinfang::v1::CHANNEL_VISIT);
    c.intake.set_purpose(xinfang::v1::PURPOSE_CLAIM);
    c.intake.set_category("wages.arrears");
    c.intake.set_summary("公司拖欠工资三个月");
    c.intake.set_registering_unit("prov.organs.office");
    auto* p = c.intake.add_petitioners();
    p->set_name("张三");
    p->set_id_number("11010519491231002X");
    c.actor = workflow::Actor{"clerk1", xinfang::v1::ROLE_INTAKE_CLERK, "prov.organs.office"};
    c.now = absl::FromCivil(absl::CivilSecond(2026, 3, 2, 9, 0, 0), core_->calendar().zone());
    workflow::CaseStart start;
    start.received_at = c.now - absl::Hours(1);
    start.registering_unit = "prov.organs.office";
    auto d = core_->DefaultEngine().Start(start, c.actor, c.now);
    EXPECT_THAT(d, IsOk());
    c.start = *d;
    c.tracking_prefix = "XF20260302-";
    return c;
  }

  // Registers a case and appends `notes` note events, one change each.
  storage::CaseRecord CaseWithNotes(const std::string& request_id, int notes) {
    auto created = core_->store().Create(MakeCase(request_id));
    EXPECT_THAT(created, IsOk());
    workflow::Decision d;
    d.next = created->record.snapshot;
    d.facts = core_->DefaultEngine().Facts(d.next);
    for (int i = 0; i < notes; ++i) {
      d.events = {workflow::Event{"note_added", "", d.next.state, d.next.state,
                                  {{"n", absl::StrCat(i)}}, "原始记录"}};
      EXPECT_THAT(core_->store().Apply(created->record.id, 1 + i, d, kOfficer1, absl::Now()),
                  IsOk());
    }
    return created->record;
  }

  // Changes history the way only someone with full database rights could:
  // past the append-only trigger.
  void Tamper(const std::string& sql) {
    db_.Exec("ALTER TABLE case_events DISABLE TRIGGER case_events_append_only");
    db_.Exec(sql);
  }

  const workflow::Actor kOfficer1{"officer1", xinfang::v1::ROLE_CASE_OFFICER,
                                  "prov.organs.office"};
  TestDatabase db_;
  std::unique_ptr<Core> core_;
};

TEST_F(CaseStoreTest, CreateStoresCaseEventsAndTimers) {
  auto created = core_->store().Create(MakeCase("request-0001"));
  ASSERT_THAT(created, IsOk());
  EXPECT_FALSE(created->replayed);
  const auto& rec = created->record;
  EXPECT_EQ(rec.tracking_number.rfind("XF20260302-", 0), 0u);
  EXPECT_EQ(rec.version, 1);
  EXPECT_EQ(rec.snapshot.state, core_->DefaultEngine().definition().proto().initial_state());
  EXPECT_EQ(rec.intake.petitioners(0).name(), "张三");
  EXPECT_FALSE(rec.snapshot.timers.empty());
  EXPECT_EQ(db_.Query("SELECT count(*) FROM case_events"), "1");
  EXPECT_EQ(db_.Query(absl::StrCat("SELECT count(*) FROM case_timers WHERE case_id = ", rec.id)),
            absl::StrCat(rec.snapshot.timers.size()));
  auto again = core_->store().GetByTracking(rec.tracking_number);
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->snapshot, rec.snapshot);
  EXPECT_THAT(core_->store().GetByTracking("XF-nope"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(CaseStoreTest, RetriedRequestIdReturnsTheOriginal) {
  auto first = core_->store().Create(MakeCase("request-0002"));
  ASSERT_THAT(first, IsOk());
  auto retry = core_->store().Create(MakeCase("request-0002"));
  ASSERT_THAT(retry, IsOk());
  EXPECT_TRUE(retry->replayed);
  EXPECT_EQ(retry->record.id, first->record.id);
  EXPECT_EQ(db_.Query("SELECT count(*) FROM cases"), "1");
  EXPECT_EQ(db_.Query("SELECT count(*) FROM case_events"), "1");
}

TEST_F(CaseStoreTest, ConcurrentRetriesMakeOneCase) {
  std::vector<std::thread> threads;
  std::vector<int64_t> ids(8, 0);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto r = core_->store().Create(MakeCase("request-race"));
      if (r.ok()) ids[i] = r->record.id;
    });
  }
  for (auto& t : threads) t.join();
  for (int64_t id : ids) EXPECT_EQ(id, ids[0]);
  EXPECT_NE(ids[0], 0);
  EXPECT_EQ(db_.Query("SELECT count(*) FROM cases"), "1");
  EXPECT_EQ(db_.Query("SELECT count(*) FROM case_events"), "1");
}

TEST_F(CaseStoreTest, RepeatPetitionsAreLinked) {
  auto first = core_->store().Create(MakeCase("request-0003"));
  ASSERT_THAT(first, IsOk());
  auto second = core_->store().Create(MakeCase("request-0004"));
  ASSERT_THAT(second, IsOk());
  ASSERT_EQ(second->record.related_tracking_numbers.size(), 1u);
  EXPECT_EQ(second->record.related_tracking_numbers[0], first->record.tracking_number);
  EXPECT_EQ(db_.Query("SELECT count(*) FROM persons"), "1");
}

// Each store call keeps to its budget of round trips to PostgreSQL
// (docs/architecture.md): a case read in 1, an action in 2, a registration
// with a petitioner in 3, a sweeper's batch in 3.
TEST_F(CaseStoreTest, CallsKeepToTheirRoundTrips) {
  storage::CaseStore& store = core_->store();
  auto trips = [](const auto& call) {
    const int64_t before = storage::RoundTripsOnThisThread();
    call();
    return storage::RoundTripsOnThisThread() - before;
  };
  // (Warm: a connection's first use may open it.)
  ASSERT_THAT(store.Create(MakeCase("request-warm")), IsOk());
  absl::StatusOr<storage::CreateResult> created;
  EXPECT_EQ(trips([&] { created = store.Create(MakeCase("request-trips")); }), 3);
  ASSERT_THAT(created, IsOk());
  const int64_t id = created->record.id;
  absl::StatusOr<storage::CaseRecord> read;
  EXPECT_EQ(trips([&] { read = store.Get(id); }), 1);
  ASSERT_THAT(read, IsOk());
  EXPECT_EQ(trips([&] { read = store.GetByTracking(created->record.tracking_number); }), 1);

  workflow::Decision d;
  d.next = read->snapshot;
  d.facts = core_->DefaultEngine().Facts(d.next);
  d.events = {workflow::Event{"note_added", "", d.next.state, d.next.state, {}, "n"}};
  absl::StatusOr<storage::Applied> applied;
  EXPECT_EQ(trips([&] { applied = store.Apply(id, read->version, d, kOfficer1, absl::Now()); }),
            2);
  ASSERT_THAT(applied, IsOk());
  // A change that issues a written document draws its number in the first
  // round trip: still two.
  storage::DocumentDraft doc;
  doc.kind = "acceptance_notice";
  doc.title = "受理告知书";
  doc.recipient = 1;
  doc.unit = "prov.organs.office";
  doc.year = 2026;
  doc.series = "信受";
  doc.number_prefix = "信受〔2026〕";
  doc.number_suffix = "号";
  doc.template_version = 1;
  doc.template_sha256 = std::string(64, '0');
  doc.body = "<p>{{number}} {{tracking_number}}</p>";
  EXPECT_EQ(trips([&] {
              applied = store.Apply(id, applied->record.version, d, kOfficer1, absl::Now(), {doc});
            }),
            2);
  ASSERT_THAT(applied, IsOk());
  EXPECT_EQ(applied->events.at(0).event.fields.at("document_number"), "信受〔2026〕1号");
  auto stored = store.Document("信受〔2026〕1号");
  ASSERT_THAT(stored, IsOk());
  EXPECT_EQ(stored->body, absl::StrCat("<p>信受〔2026〕1号 ", created->record.tracking_number, "</p>"));

  // The intake notice falls due in 15 days: a sweep long after fires it.
  const absl::Time later = absl::Now() + absl::Hours(24 * 400);
  absl::StatusOr<storage::SweepResult> swept;
  EXPECT_EQ(trips([&] {
              swept = store.SweepDue(later, 10, [&](const storage::DueCase& c) {
                return core_->DefaultEngine().FireAll(c.snapshot, c.due_timers, later,
                                                      workflow::MapOrgTree({}));
              });
            }),
            3);
  ASSERT_THAT(swept, IsOk());
  EXPECT_GT(swept->cases, 0);
}

TEST_F(CaseStoreTest, StaleVersionIsAbortedAndChangesNothing) {
  auto created = core_->store().Create(MakeCase("request-0005"));
  ASSERT_THAT(created, IsOk());
  workflow::Decision d;
  d.next = created->record.snapshot;
  d.next.attributes["probe"] = "x";
  d.events.push_back(workflow::Event{"note_added", "", d.next.state, d.next.state, {}, "n"});
  const workflow::Actor actor{"officer1", xinfang::v1::ROLE_CASE_OFFICER, "prov.organs.office"};
  // Storage records what the engine says follows from the case; a decision
  // without it is refused whole.
  auto without_facts = core_->store().Apply(created->record.id, 1, d, actor, absl::Now());
  EXPECT_THAT(without_facts, StatusIs(absl::StatusCode::kInternal, HasSubstr("carries no facts")));
  EXPECT_EQ(db_.Query("SELECT version FROM cases WHERE id = " +
                      std::to_string(created->record.id)),
            "1");
  d.facts = core_->DefaultEngine().Facts(d.next);
  auto applied = core_->store().Apply(created->record.id, 1, d, actor, absl::Now());
  ASSERT_THAT(applied, IsOk());
  EXPECT_EQ(applied->record.version, 2);
  EXPECT_EQ(applied->record.snapshot.attributes.at("probe"), "x");
  ASSERT_EQ(applied->events.size(), 1u);
  EXPECT_EQ(applied->events[0].seq, 2);
  EXPECT_EQ(applied->events[0].event.kind, "note_added");
  d.next.attributes["probe"] = "y";
  EXPECT_THAT(core_->store().Apply(created->record.id, 1, d, actor, absl::Now()),
              StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(db_.Query("SELECT attributes->>'probe' FROM cases"), "x");
  EXPECT_EQ(db_.Query("SELECT count(*) FROM case_events"), "2");
  EXPECT_THAT(core_->store().Apply(424242, 1, d, actor, absl::Now()),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(CaseStoreTest, VerifyFindsTheFirstAlteredEvent) {
  const storage::CaseRecord c = CaseWithNotes("request-0006", 3);
  auto ok = core_->store().Verify(c.id);
  ASSERT_THAT(ok, IsOk());
  EXPECT_TRUE(ok->intact);
  EXPECT_EQ(ok->events, 4);

  Tamper("UPDATE case_events SET note = '篡改' WHERE seq = 3");
  auto broken = core_->store().Verify(c.id);
  ASSERT_THAT(broken, IsOk());
  EXPECT_FALSE(broken->intact);
  EXPECT_EQ(broken->first_broken_seq, 3);
}

TEST_F(CaseStoreTest, HistoryIsAppendOnlyInTheDatabase) {
  auto created = core_->store().Create(MakeCase("request-0008"));
  ASSERT_THAT(created, IsOk());
  auto pool = OpenPool(db_.url(), 1);
  auto lease = pool->Acquire();
  ASSERT_THAT(lease, IsOk());
  // The trigger's refusal reaches the server's log; the status carries no
  // database text.
  std::vector<std::string> logged;
  storage::SetDatabaseErrorLog([&](const std::string& line) { logged.push_back(line); });
  for (const char* sql : {"UPDATE case_events SET note = 'x'", "DELETE FROM case_events"}) {
    try {
      lease->session() << std::string(sql);
      ADD_FAILURE() << sql << " was allowed";
    } catch (...) {
      EXPECT_THAT(
          storage::StatusFromCurrentException("tamper"),
          StatusIs(absl::StatusCode::kInternal, "tamper: internal error (logged on the server)"));
      ASSERT_FALSE(logged.empty());
      EXPECT_THAT(logged.back(), HasSubstr("append-only"));
    }
  }
  storage::SetDatabaseErrorLog(
      [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); });
  EXPECT_EQ(db_.Query("SELECT count(*) FROM case_events"), "1");
}

TEST_F(CaseStoreTest, VerifyCatchesADeletedLastEvent) {
  const storage::CaseRecord c = CaseWithNotes("request-0009", 1);
  Tamper("DELETE FROM case_events WHERE seq = 2");
  auto v = core_->store().Verify(c.id);
  ASSERT_THAT(v, IsOk());
  EXPECT_FALSE(v->intact);
  EXPECT_EQ(v->first_broken_seq, 2);
  EXPECT_THAT(v->detail, HasSubstr("missing"));
}

TEST_F(CaseStoreTest, ARequestIdReusedForAnotherPetitionIsRefused) {
  storage::NewCase first = MakeCase("request-0010");
  first.request_hash = "aaaa";
  ASSERT_THAT(core_->store().Create(first), IsOk());
  storage::NewCase other = MakeCase("request-0010");
  other.request_hash = "bbbb";
  EXPECT_THAT(core_->store().Create(other),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("request_id")));
  EXPECT_EQ(db_.Query("SELECT count(*) FROM cases"), "1");
}

TEST_F(CaseStoreTest, VerifyCatchesAlteredFields) {
  const storage::CaseRecord c = CaseWithNotes("request-0007", 3);
  Tamper("UPDATE case_events SET fields = '{\"n\": \"9\"}' WHERE seq = 2");
  auto v = core_->store().Verify(c.id);
  ASSERT_THAT(v, IsOk());
  EXPECT_EQ(v->first_broken_seq, 2);
}


// A list filtered by a few units scans each unit; by many (a wide scope),
// one scan filtered on the list. Both must give the same page, newest first.
TEST_F(CaseStoreTest, ListsByFewAndByManyUnitsAgree) {
  std::vector<int64_t> ids;
  for (const char* rid : {"list-units-01", "list-units-02", "list-units-03"}) {
    auto created = core_->store().Create(MakeCase(rid));
    ASSERT_THAT(created, IsOk());
    ids.insert(ids.begin(), created->record.id);  // newest first
  }
  auto page = [&](std::vector<std::string> units, std::vector<std::string> categories,
                  int limit, int64_t before_id) {
    storage::CaseFilter f;
    f.units = std::move(units);
    f.categories = std::move(categories);
    f.now = absl::Now();
    f.limit = limit;
    f.before_id = before_id;
    auto rows = core_->store().ListCases(f);
    EXPECT_THAT(rows, IsOk());
    std::vector<int64_t> out;
    if (rows.ok()) {
      for (const storage::CaseRow& r : *rows) out.push_back(r.id);
    }
    return out;
  };
  const std::vector<std::string> few = {"prov.organs.office"};
  std::vector<std::string> many = few;  // more than the per-unit scans, with "quoted" codes
  for (int i = 0; i < 9; ++i) many.push_back(absl::StrCat("x\"unit\\", i));
  EXPECT_EQ(page(few, {}, 50, 0), ids);
  EXPECT_EQ(page(many, {}, 50, 0), ids);
  EXPECT_EQ(page(few, {"wages.arrears"}, 50, 0), ids);
  EXPECT_EQ(page(many, {"wages.arrears", "wages"}, 50, 0), ids);
  EXPECT_EQ(page(many, {"other"}, 50, 0), std::vector<int64_t>{});
  EXPECT_EQ(page({"prov.city-a"}, {}, 50, 0), std::vector<int64_t>{});
  // Pages: the two newest, then what is below the last of them.
  EXPECT_EQ(page(many, {}, 2, 0), (std::vector<int64_t>{ids[0], ids[1]}));
  EXPECT_EQ(page(many, {}, 2, ids[1]), std::vector<int64_t>{ids[2]});
  EXPECT_EQ(page(few, {}, 2, ids[1]), std::vector<int64_t>{ids[2]});
}

}  // namespace
}  // namespace xinfang
