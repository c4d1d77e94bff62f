#include "services/common/monitor.h"

#include "absl/strings/str_cat.h"
#include "services/common/log.h"
#include "services/storage/monitoring.h"

namespace xinfang {

Monitor::Monitor(Core& core, MonitorOptions options) : core_(core), options_(options) {}

Monitor::~Monitor() { Stop(); }

void Monitor::RefreshLag() {
  auto next = core_.store().NextFireAt();
  if (!next.ok()) {
    LogWarn(absl::StrCat("metrics: reading the sweeper lag: ", next.status().message()));
    return;
  }
  const absl::Time now = core_.clock().Now();
  core_.metrics().SetSweeperLag(
      next->has_value() && **next < now ? absl::ToDoubleSeconds(now - **next) : 0);
  auto feed = storage::ReadFeedState(core_.pool());
  if (!feed.ok()) {
    LogWarn(absl::StrCat("metrics: reading the event feed: ", feed.status().message()));
    return;
  }
  const double lag = feed->oldest_unsequenced.has_value()
                         ? absl::ToDoubleSeconds(now - *feed->oldest_unsequenced)
                         : 0;
  core_.metrics().SetFeed(feed->head, feed->unsequenced, lag);
}

void Monitor::RefreshDeadlines() {
  auto counts = storage::DeadlinesByTopUnit(core_.pool(), core_.clock().Now());
  if (!counts.ok()) {
    LogWarn(absl::StrCat("metrics: counting deadlines: ", counts.status().message()));
    return;
  }
  std::vector<UnitDeadlines> units;
  for (const storage::TopUnitDeadlines& c : *counts) units.push_back({c.unit, c.open, c.overdue});
  core_.metrics().SetDeadlines(units);
}

void Monitor::Start() {
  absl::MutexLock lock(&mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void Monitor::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void Monitor::Loop() {
  absl::Time next_deadlines = absl::InfinitePast();
  for (;;) {
    RefreshLag();
    if (absl::Now() >= next_deadlines) {
      RefreshDeadlines();
      next_deadlines = absl::Now() + options_.deadlines_every;
    }
    absl::MutexLock lock(&mu_);
    if (mu_.AwaitWithTimeout(absl::Condition(&stop_), options_.lag_every)) return;
  }
}

}  // namespace xinfang
