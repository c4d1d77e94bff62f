#include "services/query/feed.h"

#include "absl/strings/str_cat.h"
#include "services/common/log.h"

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

}  // namespace xinfang::query
