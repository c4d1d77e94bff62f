// The event feed (CaseQueryService.WatchEvents) against a real PostgreSQL:
// commit order, a transaction that commits late, resuming, filters.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "services/query/feed.h"
#include "services/storage/db.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"

namespace xinfang {
namespace {

namespace v1 = xinfang::v1;
using testing::Caller;
using testing::IsOkAndHolds;
using testing::StatusIs;
using testing::TestServer;
using ::testing::ElementsAre;

const Caller kClerk{"clerk1", "intake_clerk", "prov.organs.office"};
const Caller kService{"svc-dashboard", "service", "prov"};

class FeedTest : public ::testing::Test {
 protected:
  FeedTest() : server_(std::nullopt, /*sweeper=*/false) {}

  std::string Register(const std::string& rid, const std::string& name) {
    v1::RegisterCaseRequest r;
    r.set_request_id(rid);
    v1::CaseIntake* in = r.mutable_intake();
    in->set_channel(v1::CHANNEL_ONLINE);
    in->mutable_online()->set_platform("12351");
    in->set_purpose(v1::PURPOSE_CLAIM);
    in->set_category("wages.arrears");
    in->set_summary("网上反映欠薪");
    in->add_petitioners()->set_name(name);
    v1::RegisterCaseResponse resp;
    auto ctx = server_.Context(kClerk);
    grpc::Status s = server_.intake()->RegisterCase(ctx.get(), r, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.case_().tracking_number();
  }

  void Accept(const std::string& t) { ASSERT_TRUE(server_.Act(t, "accept", kClerk).ok()); }


  // Reads `n` events from a stream (bounded in time); the last cursor.
  struct Got {
    std::vector<v1::CaseEvent> events;
    std::string cursor;
  };
  Got Watch(v1::WatchEventsRequest req, std::size_t n, absl::Duration limit = absl::Seconds(10)) {
    Got got;
    auto stub = server_.query();
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + server_.TokenFor(kService));
    ctx.set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(limit));
    auto stream = stub->WatchEvents(&ctx, req);
    v1::WatchEventsResponse r;
    while (got.events.size() < n && stream->Read(&r)) {
      if (r.caught_up()) continue;  // the marker after the backlog
      got.events.push_back(r.event());
      got.cursor = r.cursor();
    }
    ctx.TryCancel();
    return got;
  }

  static std::vector<std::string> Kinds(const Got& g) {
    std::vector<std::string> out;
    for (const auto& e : g.events) out.push_back(absl::StrCat(e.tracking_number(), ":", e.kind()));
    return out;
  }

  TestServer server_;
};

TEST_F(FeedTest, FromTheBeginningThenLiveThenResumed) {
  const std::string a = Register("feed-a-000001", "甲");
  const std::string b = Register("feed-b-000001", "乙");
  v1::WatchEventsRequest req;
  Got first = Watch(req, 2);
  EXPECT_THAT(Kinds(first), ElementsAre(a + ":registered", b + ":registered"));

  // A live consumer receives an event committed while it waits, within a
  // fraction of a second of the commit.
  std::atomic<int64_t> called_us{0}, returned_us{0};
  std::thread later([&] {
    absl::SleepFor(absl::Milliseconds(300));  // let the consumer start waiting
    called_us = absl::ToUnixMicros(absl::Now());
    Accept(a);
    returned_us = absl::ToUnixMicros(absl::Now());
  });
  req.set_cursor(first.cursor);
  Got live = Watch(req, 1);
  const absl::Time received = absl::Now();
  later.join();
  ASSERT_EQ(live.events.size(), 1u);
  EXPECT_EQ(live.events[0].kind(), "accept");
  // The commit is inside the writing call. From the call's return the wait
  // is the feed's own; the call itself can be slow on a busy machine (a CI
  // run's parallel tests: 860 ms once), which is not the feed's to answer.
  const absl::Duration from_call = received - absl::FromUnixMicros(called_us.load());
  const absl::Duration after_return =
      std::max(absl::ZeroDuration(), received - absl::FromUnixMicros(returned_us.load()));
  std::cout << "write call to consumer (at most): " << absl::FormatDuration(from_call)
            << "; after the call returned: " << absl::FormatDuration(after_return) << "\n";
  EXPECT_LT(after_return, absl::Milliseconds(500));

  // Resuming from the first cursor gives exactly what followed it.
  Got resumed = Watch(req, 1, absl::Seconds(2));
  EXPECT_THAT(Kinds(resumed), ElementsAre(a + ":accept"));
  // And from the last cursor, nothing (within a short wait).
  req.set_cursor(live.cursor);
  EXPECT_TRUE(Watch(req, 1, absl::Milliseconds(800)).events.empty());
}

// A writer holds its transaction open while later ones commit: the consumer
// sees the later ones first, then the held one once it commits, each exactly
// once: a consumer at the head never skips a late commit.
TEST_F(FeedTest, ALateCommitIsNeverSkipped) {
  const std::string a = Register("feed-late-a01", "丙");
  const std::string b = Register("feed-late-b01", "丁");
  const std::string id_a = server_.db().Query(
      absl::StrCat("SELECT id FROM cases WHERE tracking_number = '", a, "'"));
  v1::WatchEventsRequest req;
  Got head = Watch(req, 2);
  ASSERT_EQ(head.events.size(), 2u);

  // The held writer: an event for case a inside an open transaction (its id
  // is taken now, before b's events).
  soci::session held(soci::postgresql, *storage::ToConninfo(server_.db().url()));
  soci::transaction tx(held);
  held << "INSERT INTO case_events (case_id, seq, kind, actor, actor_role, at, prev_hash, hash) "
          "VALUES (" << id_a << ", 99, 'held_note', 'clerk1', 1, now(), '', '')";
  Accept(b);  // commits after the held insert took its id
  req.set_cursor(head.cursor);
  Got before = Watch(req, 1);
  EXPECT_THAT(Kinds(before), ElementsAre(b + ":accept"));
  tx.commit();
  req.set_cursor(before.cursor);
  Got after = Watch(req, 1);
  EXPECT_THAT(Kinds(after), ElementsAre(a + ":held_note"));
  // From the head cursor again: both, in commit order, once each.
  req.set_cursor(head.cursor);
  Got all = Watch(req, 3, absl::Seconds(2));
  EXPECT_THAT(Kinds(all), ElementsAre(b + ":accept", a + ":held_note"));
}

// A watch open when the server begins to stop ends at once with UNAVAILABLE
// (resume with the last cursor) instead of holding up the drain.
TEST_F(FeedTest, AStoppingServerEndsOpenWatches) {
  Register("feed-stop-a01", "庚");
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + server_.TokenFor(kService));
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  auto stream = server_.query()->WatchEvents(&ctx, v1::WatchEventsRequest());
  v1::WatchEventsResponse r;
  ASSERT_TRUE(stream->Read(&r));  // the registration; the watch now waits
  const absl::Time stop = absl::Now();
  server_.core().Stopping();
  while (stream->Read(&r)) {
  }
  grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_LT(absl::Now() - stop, absl::Seconds(3));
}

// Replaying from the beginning ends in a marker, not a time-out: the backlog,
// then one message with caught_up and no event, whose cursor is the last
// event's; then live events.
TEST_F(FeedTest, TheBacklogEndsInACaughtUpMarker) {
  const std::string a = Register("feed-mark-a01", "辛");
  const std::string b = Register("feed-mark-b01", "壬");
  // Both in the feed before the watch starts (the feed's thread places them
  // too, a moment after their commit): they are the backlog.
  ASSERT_TRUE(server_.core().store().SequenceEvents(100).ok());
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + server_.TokenFor(kService));
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::WatchEventsRequest req;
  req.set_cursor("0");
  auto stream = server_.query()->WatchEvents(&ctx, req);
  std::vector<v1::WatchEventsResponse> got;
  v1::WatchEventsResponse r;
  while (stream->Read(&r)) {
    got.push_back(r);
    if (r.caught_up()) break;
  }
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].event().tracking_number(), a);
  EXPECT_FALSE(got[0].caught_up());
  EXPECT_EQ(got[1].event().tracking_number(), b);
  EXPECT_TRUE(got[2].caught_up());
  EXPECT_FALSE(got[2].has_event());
  EXPECT_EQ(got[2].cursor(), got[1].cursor());
  // Live events follow the marker, and no second marker comes.
  Accept(a);
  ASSERT_TRUE(stream->Read(&r));
  EXPECT_FALSE(r.caught_up());
  EXPECT_EQ(r.event().kind(), "accept");
  ctx.TryCancel();
  (void)stream->Finish();

  // from_now: nothing to replay, the marker at once.
  grpc::ClientContext now_ctx;
  now_ctx.AddMetadata("authorization", "Bearer " + server_.TokenFor(kService));
  now_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  v1::WatchEventsRequest now;
  now.set_from_now(true);
  auto live = server_.query()->WatchEvents(&now_ctx, now);
  ASSERT_TRUE(live->Read(&r));
  EXPECT_TRUE(r.caught_up());
  EXPECT_FALSE(r.has_event());
  now_ctx.TryCancel();
  (void)live->Finish();
}

TEST_F(FeedTest, FiltersAndBadRequests) {
  const std::string a = Register("feed-filt-a01", "戊");
  const std::string b = Register("feed-filt-b01", "己");
  Accept(a);
  Accept(b);
  v1::WatchEventsRequest one;
  one.mutable_case_()->set_tracking_number(b);
  EXPECT_THAT(Kinds(Watch(one, 2)), ElementsAre(b + ":registered", b + ":accept"));
  v1::WatchEventsRequest kinds;
  kinds.add_kinds("accept");
  EXPECT_THAT(Kinds(Watch(kinds, 2)), ElementsAre(a + ":accept", b + ":accept"));
  v1::WatchEventsRequest elsewhere;
  elsewhere.set_unit("prov.city-a");
  EXPECT_TRUE(Watch(elsewhere, 1, absl::Milliseconds(800)).events.empty());
  v1::WatchEventsRequest now;
  now.set_from_now(true);
  EXPECT_TRUE(Watch(now, 1, absl::Milliseconds(800)).events.empty());

  auto code = [&](const v1::WatchEventsRequest& req) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + server_.TokenFor(kService));
    auto stream = server_.query()->WatchEvents(&ctx, req);
    v1::WatchEventsResponse r;
    while (stream->Read(&r)) {
    }
    return stream->Finish().error_code();
  };
  v1::WatchEventsRequest bad;
  bad.add_kinds("a,b");
  EXPECT_EQ(code(bad), grpc::StatusCode::INVALID_ARGUMENT);
  bad.clear_kinds();
  bad.set_cursor("abc");
  EXPECT_EQ(code(bad), grpc::StatusCode::INVALID_ARGUMENT);
  bad.clear_cursor();
  bad.mutable_case_()->set_tracking_number("XF-none");
  EXPECT_EQ(code(bad), grpc::StatusCode::NOT_FOUND);
}

// The watch's logic needs no gRPC: a sink for the responses and a
// cancellation check are all it takes, and each way it ends is told apart.
TEST_F(FeedTest, TheWatchRunsWithoutGrpc) {
  const std::string a = Register("feed-bare-a01", "癸");
  ASSERT_TRUE(server_.core().store().SequenceEvents(100).ok());
  const workflow::Actor service{kService.account, v1::ROLE_SERVICE, kService.unit};
  query::Feed feed(server_.core());  // not started: waits only run out (1 s)
  std::vector<v1::WatchEventsResponse> got;
  bool cancel = false;
  auto collect = [&](const v1::WatchEventsResponse& r) {
    got.push_back(r);
    cancel = r.caught_up();
    return true;
  };
  auto cancelled = [&] { return cancel; };
  EXPECT_THAT(query::Watch(server_.core(), feed, service, {}, collect, cancelled),
              IsOkAndHolds(query::WatchEnd::kCancelled));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].event().tracking_number(), a);
  EXPECT_TRUE(got[1].caught_up());
  EXPECT_EQ(got[1].cursor(), got[0].cursor());

  auto never = [] { return false; };
  auto gone = [](const v1::WatchEventsResponse&) { return false; };
  EXPECT_THAT(query::Watch(server_.core(), feed, service, {}, gone, never),
              IsOkAndHolds(query::WatchEnd::kClientGone));
  v1::WatchEventsRequest bad;
  bad.set_cursor("abc");
  EXPECT_THAT(query::Watch(server_.core(), feed, service, bad, collect, never),
              StatusIs(absl::StatusCode::kInvalidArgument));
  feed.Close();
  EXPECT_THAT(query::Watch(server_.core(), feed, service, {}, collect, never),
              IsOkAndHolds(query::WatchEnd::kClosed));
}

}  // namespace
}  // namespace xinfang
