// Keeps the metrics that need the database fresh without touching it on
// each scrape: a background thread reads the sweeper lag (the age of the
// oldest due timer not yet fired: one indexed min()) every `lag_every`, and
// the open and overdue deadlines per top-level unit (a scan of the timers)
// every `deadlines_every`, and hands them to Core::metrics().
//
// Thread-safety: Start and Stop from one thread.
#ifndef XINFANG_SERVICES_COMMON_MONITOR_H_
#define XINFANG_SERVICES_COMMON_MONITOR_H_

#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/core.h"

namespace xinfang {

struct MonitorOptions {
  absl::Duration lag_every = absl::Seconds(5);
  absl::Duration deadlines_every = absl::Seconds(60);
};

class Monitor {
 public:
  Monitor(Core& core, MonitorOptions options = {});
  ~Monitor();  // Stop()

  // Reads both at once, then starts the thread.
  void Start();
  void Stop();

  // One reading of each (what the thread does); a failed read is logged and
  // leaves the gauges as they were.
  void RefreshLag();
  void RefreshDeadlines();

 private:
  void Loop();
  Core& core_;
  const MonitorOptions options_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace xinfang

#endif  // XINFANG_SERVICES_COMMON_MONITOR_H_
