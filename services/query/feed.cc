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
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void Feed::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

uint64_t Feed::generation() {
  std::lock_guard<std::mutex> lock(mu_);
  return generation_;
}

uint64_t Feed::WaitPast(uint64_t seen, absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, absl::ToChronoMilliseconds(timeout),
               [&] { return generation_ > seen || stop_ || closed_; });
  return generation_;
}

void Feed::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

bool Feed::closed() {
  std::lock_guard<std::mutex> lock(mu_);
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
      std::lock_guard<std::mutex> lock(mu_);
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
        std::lock_guard<std::mutex> lock(mu_);
        ++generation_;
      }
      cv_.notify_all();
    }
    notified = false;
    if (listener != nullptr) {
      notified = listener->Wait(kPoll);
    } else {
      notified = true;  // polling: no way to know, so look
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, absl::ToChronoMilliseconds(kPoll), [this] { return stop_; });
    }
  }
}

}  // namespace xinfang::query
