#include "services/query/feed.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/access.h"
#include "services/common/grpc_util.h"
#include "services/common/log.h"
#include "services/common/validate.h"

namespace xinfang::query {
namespace {
constexpr absl::Duration kPoll = absl::Milliseconds(200);
constexpr int kBatch = 5000;
}  // namespace

Feed::~Feed() { Stop(); }

void Feed::Start() {
  absl::MutexLock lock(&mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void Feed::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

uint64_t Feed::generation() {
  absl::MutexLock lock(&mu_);
  return generation_;
}

uint64_t Feed::WaitPast(uint64_t seen, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto past = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return generation_ > seen || stop_ || closed_;
  };
  mu_.AwaitWithTimeout(absl::Condition(&past), timeout);
  return generation_;
}

void Feed::Close() {
  {
    absl::MutexLock lock(&mu_);
    closed_ = true;
  }
}

bool Feed::closed() {
  absl::MutexLock lock(&mu_);
  return closed_;
}

void Feed::Loop() {
  std::unique_ptr<storage::Listener> listener;
  if (auto l = storage::Listener::Open(core_.config().db_url,
                                       {storage::kEventsChannel, storage::kFeedChannel});
      l.ok()) {
    listener = std::move(*l);
  } else {
    LogWarn(absl::StrCat("event feed: no LISTEN connection, polling: ", l.status().message()));
  }
  bool notified = true;  // first pass: whatever is there
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (stop_) return;
    }
    // Place everything committed so far (several batches if need be).
    int placed_total = 0;
    for (;;) {
      auto placed = core_.store().SequenceEvents(kBatch);
      if (!placed.ok()) {
        LogWarn(absl::StrCat("event feed: ", placed.status().message()));
        break;
      }
      placed_total += *placed;
      if (*placed < kBatch) break;
    }
    // Another process's sequencer may have placed events: a notification
    // (xinfang_feed) wakes the watchers as well.
    if (placed_total > 0 || notified) {
      {
        absl::MutexLock lock(&mu_);
        ++generation_;  // waiters' conditions are looked at again on unlock
      }
    }
    notified = false;
    if (listener != nullptr) {
      notified = listener->Wait(kPoll);
    } else {
      notified = true;  // polling: no way to know, so look
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stop_), kPoll);
    }
  }
}

absl::StatusOr<WatchEnd> Watch(
    Core& core, Feed& feed, const workflow::Actor& actor,
    const xinfang::v1::WatchEventsRequest& req,
    const std::function<bool(const xinfang::v1::WatchEventsResponse&)>& write,
    const std::function<bool()>& cancelled) {
  auto org = core.Org();
  if (!org.ok()) return org.status();
  storage::FeedFilter f;
  if (req.from_now()) {
    auto last = core.store().LastFeedPosition();
    if (!last.ok()) return last.status();
    f.after = *last;
  } else if (!req.cursor().empty() &&
             (!absl::SimpleAtoi(req.cursor(), &f.after) || f.after < 0)) {
    return absl::InvalidArgumentError("cursor: not a cursor this service gave out");
  }
  if (req.has_case_()) {
    auto rec = LoadVisibleCase(core, actor, req.case_(), **org);
    if (!rec.ok()) return rec.status();
    f.case_id = rec->id;
  }
  auto scoped = ScopedUnit(actor, "unit", req.unit(), **org);
  if (!scoped.ok()) return scoped.status();
  f.unit = *scoped;
  for (const std::string& k : req.kinds()) {
    if (auto st = CheckText("kinds", k, 64, true); !st.ok()) return st;
    if (k.find(',') != std::string::npos) {
      return absl::InvalidArgumentError("kinds: an event kind has no comma");
    }
    f.kinds.push_back(k);
  }
  bool caught_up = false;
  while (!cancelled()) {
    if (feed.closed()) return WatchEnd::kClosed;
    const uint64_t seen = feed.generation();
    // The backlog may come from a replica within its lag bound: it holds a
    // prefix of the feed, so a short batch there only ends the backlog
    // early; from then on, the primary.
    auto batch = (caught_up ? core.store() : core.read_store()).ReadFeed(f);
    if (!batch.ok()) return batch.status();
    for (const storage::FeedEvent& e : *batch) {
      xinfang::v1::WatchEventsResponse r;
      *r.mutable_event() = ToProto(e.stored, e.tracking_number);
      const workflow::Engine* engine = core.EngineFor(e.workflow, e.workflow_version);
      const CaseTies ties{e.complained_about_unit, e.conflicted_accounts, e.registrar_holding};
      Show(ViewOf(actor, ties, **org), r.mutable_event(),
           engine != nullptr ? &engine->definition() : nullptr);
      r.set_cursor(absl::StrCat(e.position));
      // A slow consumer blocks only this call: writers never wait for it.
      if (!write(r)) return WatchEnd::kClientGone;
      f.after = e.position;
    }
    // Woken when events are placed; the timeout only bounds how long a
    // cancelled client holds this thread.
    if (static_cast<int>(batch->size()) < f.limit) {
      if (!caught_up) {
        // The backlog is over (a short batch): say so once.
        caught_up = true;
        xinfang::v1::WatchEventsResponse marker;
        marker.set_caught_up(true);
        marker.set_cursor(absl::StrCat(f.after));
        if (!write(marker)) return WatchEnd::kClientGone;
      }
      feed.WaitPast(seen, absl::Seconds(1));
    }
  }
  return WatchEnd::kCancelled;
}

}  // namespace xinfang::query
