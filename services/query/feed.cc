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
               [&] { return generation_ > seen || stop_; });
  return generation_;
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
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
    }
    // Place everything committed so far (several batches if need be).
    for (;;) {
      auto placed = core_.store().SequenceEvents(kBatch);
      if (!placed.ok()) {
        LogWarn(absl::StrCat("event feed: ", placed.status().message()));
        break;
      }
      if (*placed < kBatch) break;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++generation_;
    }
    cv_.notify_all();
    if (listener != nullptr) {
      listener->Wait(kPoll);
    } else {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, absl::ToChronoMilliseconds(kPoll), [this] { return stop_; });
    }
  }
}

}  // namespace xinfang::query
