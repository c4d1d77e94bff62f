// Bad input is the caller's error, database errors reach clients without SQL
// or addresses, filters naming unknown values are refused, and the API says
// the same thing the same way (issues #18 and #12). Real PostgreSQL, real
// gRPC over loopback.
#include <gmock/gmock.h>
#include <grpcpp/impl/client_unary_call.h>
#include <grpcpp/impl/rpc_method.h>
#include <gtest/gtest.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <atomic>
#include <functional>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "services/storage/db.h"
#include "tests/testing/petitions.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_db.h"
#include "tests/testing/test_server.h"

namespace xinfang {
namespace {

namespace v1 = xinfang::v1;
using testing::Monday;
using ::testing::AllOf;
using testing::Caller;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::TestServer;

constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;

const Caller kClerk{"rel-clerk", "intake_clerk", "prov.organs.office"};
const Caller kSupervisor{"rel-sup", "supervisor", "prov"};
const Caller kAdmin{"rel-admin", "administrator", "prov"};

using testing::FromGrpc;

google::protobuf::Timestamp Ts(int64_t seconds, int32_t nanos = 0) {
  google::protobuf::Timestamp t;
  t.set_seconds(seconds);
  t.set_nanos(nanos);
  return t;
}

// What no status message may carry.
auto Clean() {
  return AllOf(Not(HasSubstr("SQLSTATE")), Not(HasSubstr("127.0.0.1")),
               Not(HasSubstr("connection to server")), Not(HasSubstr("SELECT")),
               Not(HasSubstr("ROLE_")));
}

class ReliabilityTest : public ::testing::Test {
 protected:
  ReliabilityTest() : server_(Monday(), /*sweeper=*/false) {}

  template <typename Stub, typename Req, typename Resp>
  absl::StatusOr<Resp> Call(const std::unique_ptr<Stub>& stub,
                            grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                            const Caller& who, const Req& req) {
    auto ctx = server_.Context(who);
    Resp resp;
    grpc::Status s = (stub.get()->*method)(ctx.get(), req, &resp);
    if (!s.ok()) return FromGrpc(s);
    return resp;
  }
  absl::Status ListCases(const v1::ListCasesRequest& req, const Caller& who = kClerk) {
    return Call(server_.query(), &v1::CaseQueryService::Stub::ListCases, who, req).status();
  }
  absl::StatusOr<v1::ListDeadlinesResponse> ListDeadlines(const v1::ListDeadlinesRequest& req) {
    return Call(server_.supervision(), &v1::SupervisionService::Stub::ListDeadlines, kSupervisor,
                req);
  }
  absl::Status Stats(const v1::GetStatisticsRequest& req) {
    return Call(server_.query(), &v1::CaseQueryService::Stub::GetStatistics, kSupervisor, req)
        .status();
  }
  std::string Register(const std::string& request_id) {
    v1::RegisterCaseRequest r = testing::AnonymousWagesVisit(request_id);
    auto resp = Call(server_.intake(), &v1::IntakeService::Stub::RegisterCase, kClerk, r);
    EXPECT_THAT(resp, testing::IsOk());
    return resp.ok() ? resp->case_().tracking_number() : "";
  }

  TestServer server_;
};

// Out-of-range numbers and instants are refused in validation, naming the
// field, before any SQL runs (they used to reach PostgreSQL and come back as
// INTERNAL with its error text).
TEST_F(ReliabilityTest, OutOfRangeNumbersAndTimesNameTheField) {
  const int64_t kFar = int64_t{1} << 62;
  const int64_t kBeforeYear1 = -62135596801;
  const int64_t kAfter9999 = 253402300800;
  struct Bad {
    const char* name;
    std::function<absl::Status()> call;
    const char* field;
  };
  const std::vector<Bad> bad = {
      {"received_from 2^62 s",
       [&] {
         v1::ListCasesRequest r;
         *r.mutable_received_from() = Ts(kFar);
         return ListCases(r);
       },
       "received_from"},
      {"received_before before year 1",
       [&] {
         v1::ListCasesRequest r;
         *r.mutable_received_before() = Ts(kBeforeYear1);
         return ListCases(r);
       },
       "received_before"},
      {"received_from with negative nanos",
       [&] {
         v1::ListCasesRequest r;
         *r.mutable_received_from() = Ts(0, -1);
         return ListCases(r);
       },
       "received_from"},
      {"negative page size",
       [&] {
         v1::ListCasesRequest r;
         r.set_page_size(-5);
         return ListCases(r);
       },
       "page_size"},
      {"min_days_overdue 2^31-1",
       [&] {
         v1::ListDeadlinesRequest r;
         r.set_min_days_overdue(std::numeric_limits<int32_t>::max());
         return ListDeadlines(r).status();
       },
       "min_days_overdue"},
      {"deadlines before 2^62 s",
       [&] {
         v1::ListDeadlinesRequest r;
         *r.mutable_before() = Ts(kFar);
         return ListDeadlines(r).status();
       },
       "before"},
      {"deadlines before year -2^62 s",
       [&] {
         v1::ListDeadlinesRequest r;
         *r.mutable_before() = Ts(-kFar);
         return ListDeadlines(r).status();
       },
       "before"},
      {"deadlines negative page size",
       [&] {
         v1::ListDeadlinesRequest r;
         r.set_page_size(-1);
         return ListDeadlines(r).status();
       },
       "page_size"},
      {"statistics after 9999",
       [&] {
         v1::GetStatisticsRequest r;
         *r.mutable_period_start() = Ts(0);
         *r.mutable_period_end() = Ts(kAfter9999);
         return Stats(r);
       },
       "period_end"},
      {"statistics before year 1",
       [&] {
         v1::GetStatisticsRequest r;
         *r.mutable_period_start() = Ts(-kFar);
         *r.mutable_period_end() = Ts(0);
         return Stats(r);
       },
       "period_start"},
      {"access log negative page size",
       [&] {
         v1::ListAccessLogRequest r;
         r.set_page_size(-1);
         return Call(server_.admin(), &v1::AdminService::Stub::ListAccessLog,
                     Caller{"rel-auditor", "auditor", "prov"}, r)
             .status();
       },
       "page_size"},
  };
  for (const Bad& b : bad) {
    SCOPED_TRACE(b.name);
    EXPECT_THAT(b.call(), testing::StatusIs(kInvalid, AllOf(HasSubstr(b.field), Clean())));
  }
  // The edges themselves are accepted: years 1 and 9999.
  v1::ListCasesRequest edges;
  *edges.mutable_received_from() = Ts(-62135596800);
  *edges.mutable_received_before() = Ts(253402300799, 999999999);
  EXPECT_THAT(ListCases(edges), testing::IsOk());
  v1::ListDeadlinesRequest far;
  *far.mutable_before() = Ts(253402300799);
  far.set_min_days_overdue(36500);
  EXPECT_THAT(ListDeadlines(far), testing::IsOk());
}

// A filter naming a value that does not exist is an error naming the value,
// not an empty answer that looks like "no cases".
TEST_F(ReliabilityTest, FiltersNamingAnUnknownValueAreRefused) {
  Register("rel-filter-0001");
  auto list = [&](const std::function<void(v1::ListCasesRequest&)>& set) {
    v1::ListCasesRequest r;
    set(r);
    return ListCases(r);
  };
  EXPECT_THAT(list([](auto& r) { r.set_state("no_such_state"); }),
              testing::StatusIs(kInvalid, AllOf(HasSubstr("state"), HasSubstr("no_such_state"))));
  EXPECT_THAT(
      list([](auto& r) { r.set_category("no.such.category"); }),
      testing::StatusIs(kInvalid, HasSubstr("category: unknown category 'no.such.category'")));
  EXPECT_THAT(list([](auto& r) { r.set_unit("prov.nowhere"); }),
              testing::StatusIs(kInvalid, HasSubstr("prov.nowhere")));
  EXPECT_THAT(list([](auto& r) { r.set_stage(static_cast<v1::Stage>(99)); }),
              testing::StatusIs(kInvalid, HasSubstr("stage: unknown stage 99")));
  // Known values still filter (and the registered case is found).
  EXPECT_THAT(list([](auto& r) { r.set_state("registered"); }), testing::IsOk());
  EXPECT_THAT(list([](auto& r) { r.set_category("wages"); }), testing::IsOk());

  auto deadlines = [&](const std::function<void(v1::ListDeadlinesRequest&)>& set) {
    v1::ListDeadlinesRequest r;
    set(r);
    return ListDeadlines(r).status();
  };
  EXPECT_THAT(deadlines([](auto& r) { r.set_timer("no_such_timer"); }),
              testing::StatusIs(kInvalid, HasSubstr("timer: unknown timer 'no_such_timer'")));
  EXPECT_THAT(deadlines([](auto& r) { r.set_stage(static_cast<v1::Stage>(42)); }),
              testing::StatusIs(kInvalid, HasSubstr("stage: unknown stage 42")));
  EXPECT_THAT(deadlines([](auto& r) { r.set_unit("prov.nowhere"); }),
              testing::StatusIs(kInvalid, HasSubstr("prov.nowhere")));
  EXPECT_THAT(deadlines([](auto& r) { r.set_timer("intake_notice"); }), testing::IsOk());

  v1::GetStatisticsRequest stats;
  stats.set_unit("prov.nowhere");
  *stats.mutable_period_start() = Ts(absl::ToUnixSeconds(Monday()) - 86400);
  *stats.mutable_period_end() = Ts(absl::ToUnixSeconds(Monday()) + 86400);
  EXPECT_THAT(Stats(stats), testing::StatusIs(kInvalid, HasSubstr("prov.nowhere")));
  v1::DashboardRequest dash;
  dash.set_unit("prov.nowhere");
  EXPECT_THAT(
      Call(server_.supervision(), &v1::SupervisionService::Stub::Dashboard, kSupervisor, dash)
          .status(),
      testing::StatusIs(kInvalid, HasSubstr("prov.nowhere")));
}

// Bytes that do not decode as the request, and strings that are not UTF-8,
// are the caller's error (gRPC's default is INTERNAL with no message).
TEST_F(ReliabilityTest, ARequestThatDoesNotDecodeIsInvalidArgument) {
  auto raw = [&](const std::string& path, const std::string& body) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + server_.TokenFor(kClerk));
    grpc::Slice slice(body);
    grpc::ByteBuffer req(&slice, 1), resp;
    auto channel = server_.channel();
    return grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
        channel.get(),
        grpc::internal::RpcMethod(path.c_str(), grpc::internal::RpcMethod::NORMAL_RPC), &ctx, req,
        &resp);
  };
  // A field 1 whose length runs past the end.
  grpc::Status s = raw("/xinfang.v1.CaseQueryService/GetCase", std::string("\x0a\x7f\x01", 3));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("/xinfang.v1.CaseQueryService/GetCase"));
  // case { tracking_number: "\xff\xfe" }: not UTF-8.
  s = raw("/xinfang.v1.CaseQueryService/GetCase", std::string("\x0a\x04\x12\x02\xff\xfe", 6));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("UTF-8"));
  // A NUL byte is valid UTF-8 but not a tracking number: refused before SQL.
  v1::GetCaseRequest nul;
  nul.mutable_case_()->set_tracking_number(std::string("XF\0", 3));
  EXPECT_THAT(Call(server_.query(), &v1::CaseQueryService::Stub::GetCase, kClerk, nul).status(),
              testing::StatusIs(kInvalid, HasSubstr("case.tracking_number")));
}

// Two calls act on the same version at once: the loser's ABORTED names the
// case's tracking number whether it lost at the read or at the write.
TEST_F(ReliabilityTest, AbortedNamesTheTrackingNumber) {
  const std::string tracking = Register("rel-aborted-01");
  std::vector<absl::Status> got(8);
  std::vector<std::thread> threads;
  std::atomic<bool> go{false};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      while (!go) std::this_thread::yield();
      got[i] = server_.Act(tracking, "accept", kClerk, {{"notice", "已受理"}}, 1).status();
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  int ok = 0;
  for (const absl::Status& s : got) {
    if (s.ok()) {
      ++ok;
      continue;
    }
    EXPECT_EQ(s.code(), absl::StatusCode::kAborted) << s;
    EXPECT_THAT(std::string(s.message()), AllOf(HasSubstr(tracking), Clean())) << s;
  }
  EXPECT_EQ(ok, 1);
}

// Role names appear one way in status messages: the short form.
TEST_F(ReliabilityTest, RoleNamesAppearOneWay) {
  const std::string tracking = Register("rel-roles-0001");
  auto engine = server_.Act(tracking, "accept", kSupervisor, {{"notice", "已受理"}});
  EXPECT_THAT(engine.status(),
              testing::StatusIs(absl::StatusCode::kPermissionDenied,
                                AllOf(HasSubstr("role supervisor"), Not(HasSubstr("ROLE_")))));
  v1::RegisterCaseRequest r;
  auto access = Call(server_.intake(), &v1::IntakeService::Stub::RegisterCase, kAdmin, r);
  EXPECT_THAT(access.status(),
              testing::StatusIs(absl::StatusCode::kPermissionDenied,
                                AllOf(HasSubstr("role administrator"), Not(HasSubstr("ROLE_")))));
}

// ListDeadlines says which bound it used: without `before`, now + 7 days.
TEST_F(ReliabilityTest, ListDeadlinesStatesItsBound) {
  auto r = ListDeadlines(v1::ListDeadlinesRequest());
  ASSERT_THAT(r, testing::IsOk());
  EXPECT_EQ(r->before().seconds(), absl::ToUnixSeconds(Monday() + absl::Hours(24 * 7)));
  v1::ListDeadlinesRequest given;
  *given.mutable_before() = Ts(253402300799);
  r = ListDeadlines(given);
  ASSERT_THAT(r, testing::IsOk());
  EXPECT_EQ(r->before().seconds(), 253402300799);
}

// The one place where database errors become statuses: the client's message
// has no SQL, SQLSTATE, host or port; the log has the SQLSTATE and no values.
TEST(DatabaseErrorsTest, ClientsGetCleanMessagesAndTheLogGetsTheDetail) {
  testing::TestDatabase db;
  std::vector<std::string> logged;
  storage::SetDatabaseErrorLog([&](const std::string& line) { logged.push_back(line); });
  soci::session s(soci::postgresql, *storage::ToConninfo(db.url()));
  s << "CREATE TEMP TABLE people (id_number text UNIQUE)";
  s << "INSERT INTO people VALUES ('11010519491231002X')";
  absl::Status dup;
  try {
    s << "INSERT INTO people VALUES ('11010519491231002X')";
  } catch (...) {
    dup = storage::StatusFromCurrentException("registering a person");
  }
  EXPECT_THAT(dup, testing::StatusIs(absl::StatusCode::kAlreadyExists,
                                     "registering a person: already exists"));
  ASSERT_EQ(logged.size(), 1u);
  EXPECT_THAT(logged[0], HasSubstr("SQLSTATE 23505"));
  EXPECT_THAT(logged[0], HasSubstr("\"people_id_number_key\""));  // identifiers stay
  EXPECT_THAT(logged[0], Not(HasSubstr("11010519491231002X")));   // values do not

  absl::Status bad;
  try {
    s << "SELECT no_such_column FROM people";
  } catch (...) {
    bad = storage::StatusFromCurrentException("listing cases");
  }
  EXPECT_THAT(bad, testing::StatusIs(absl::StatusCode::kInternal,
                                     "listing cases: internal error (logged on the server)"));

  // A database that cannot be reached: UNAVAILABLE without its address.
  absl::Status down;
  try {
    soci::session nowhere(soci::postgresql, "host=127.0.0.1 port=1 dbname=x connect_timeout=2");
  } catch (...) {
    down = storage::StatusFromCurrentException("reading a case");
  }
  EXPECT_THAT(down, testing::StatusIs(absl::StatusCode::kUnavailable,
                                      "reading a case: the database is unavailable; retry later"));
  EXPECT_THAT(logged.back(), HasSubstr("127.0.0.1"));  // the operator sees where
  storage::SetDatabaseErrorLog(
      [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); });
}

// The server's connections are killed under it: the calls that fail say
// UNAVAILABLE (or succeed after reconnecting), never with SQL or an address.
TEST_F(ReliabilityTest, LostConnectionsReachClientsWithoutAddresses) {
  const std::string tracking = Register("rel-lost-00001");
  server_.db().Query(
      "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = "
      "current_database() AND pid <> pg_backend_pid()");
  for (int i = 0; i < 12; ++i) {
    v1::GetCaseRequest req;
    req.mutable_case_()->set_tracking_number(tracking);
    absl::Status s =
        Call(server_.query(), &v1::CaseQueryService::Stub::GetCase, kClerk, req).status();
    if (s.ok()) continue;
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
    EXPECT_THAT(std::string(s.message()), Clean()) << s;
    EXPECT_THAT(std::string(s.message()), Not(HasSubstr(server_.db().Query("SHOW port")))) << s;
  }
}

}  // namespace
}  // namespace xinfang
