#include "services/common/background.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "services/common/log.h"
#include "services/storage/listener.h"

namespace xinfang {
namespace {
// How often a wait looks at the stop flag.
constexpr absl::Duration kSlice = absl::Milliseconds(200);
}  // namespace

void Background::Start(std::string db_url, absl::Duration interval, std::string what,
                       std::function<void()> first, std::function<void()> pass) {
  if (thread_.joinable()) return;
  {
    absl::MutexLock lock(&mu_);
    stop_ = false;
  }
  thread_ = std::thread([this, db_url = std::move(db_url), interval, what = std::move(what),
                         first = std::move(first), pass = std::move(pass)] {
    Loop(db_url, interval, what, first, pass);
  });
}

void Background::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void Background::Loop(const std::string& db_url, absl::Duration interval, const std::string& what,
                      const std::function<void()>& first, const std::function<void()>& pass) {
  std::unique_ptr<storage::Listener> listener;
  if (auto l = storage::Listener::Open(db_url, {storage::kEventsChannel}); l.ok()) {
    listener = std::move(*l);
  } else {
    LogWarn(absl::StrCat(what, ": no LISTEN connection, interval only: ", l.status().message()));
  }
  if (first) first();
  for (;;) {
    pass();
    const absl::Time until = absl::Now() + interval;
    for (;;) {
      {
        absl::MutexLock lock(&mu_);
        if (stop_) return;
        if (listener == nullptr) {
          mu_.AwaitWithTimeout(absl::Condition(&stop_), std::min(interval, kSlice));
        }
      }
      const absl::Duration left = until - absl::Now();
      if (left <= absl::ZeroDuration()) break;
      if (listener != nullptr && listener->Wait(std::min(left, kSlice))) break;
    }
  }
}

}  // namespace xinfang
