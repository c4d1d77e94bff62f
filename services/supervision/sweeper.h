// The timer sweeper: fires due deadlines (warnings, overdue marking, expiry
// actions, escalation rungs) through the workflow engine and applies each
// decision through the one storage path. Any number of sweepers, in any
// number of processes, may run against one database: each (timer, rung)
// fires exactly once (CaseStore::SweepDue).
//
// Thread-safety: Start/Stop/SweepOnce may be called from any thread.
#ifndef XINFANG_SERVICES_SUPERVISION_SWEEPER_H_
#define XINFANG_SERVICES_SUPERVISION_SWEEPER_H_

#include <atomic>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/core.h"
#include "services/storage/listener.h"

namespace xinfang::supervision {

struct SweeperOptions {
  int batch = 200;                          // cases per transaction
  absl::Duration interval = absl::Seconds(1);  // longest sleep between passes
  // Batches in flight at once while much is due, each on its own pool
  // connection: while one waits for its commit, the others read, decide and
  // write.
  int parallel = 4;
};

class Sweeper {
 public:
  Sweeper(Core& core, SweeperOptions options);
  ~Sweeper();  // stops the background thread

  // Fires everything due at the clock's now, batch after batch (up to
  // `parallel` at once when the first batch found work), until nothing due
  // is left unclaimed (or a batch fails: its error is returned once the
  // others have stopped). Returns the cases handled.
  absl::StatusOr<int> SweepOnce();

  // Recomputes every provisional deadline under the calendar this process
  // loaded (a year's holiday arrangement may have been added since it was
  // set): each case whose deadlines change gets the engine's decision
  // through the one write path, with a "deadline_recomputed" event per timer,
  // so the history records it and supervisors see it in the feed. A case
  // changed concurrently (ABORTED) is left for the next start. Returns the
  // cases changed. Runs once when the background thread starts.
  absl::StatusOr<int> RecomputeProvisional();

  // Runs SweepOnce in a background thread: every `interval`, sooner when the
  // next deadline is nearer (real clock), and when any process announces a
  // timer due within a minute (LISTEN xinfang_timers). (After the simulated
  // clock moves, SweepOnce is called directly.)
  void Start();
  void Stop();


 private:
  void Loop();
  // SweepOnce without its metrics.
  absl::StatusOr<int> Pass();
  // One SweepDue batch; adds the cases it handled to `handled`. Returns the
  // cases it claimed (0: nothing due was left unclaimed).
  absl::StatusOr<int> Batch(absl::Time now, const workflow::OrgTree& org,
                            std::atomic<int>& handled);
  // Batches until one claims nothing or fails.
  absl::Status Drain(absl::Time now, const workflow::OrgTree& org, std::atomic<int>& handled);

  Core& core_;
  const SweeperOptions options_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  absl::Mutex sweep_mu_;  // one pass at a time in this process
  std::thread thread_;
  std::unique_ptr<storage::Listener> listener_;  // used by the loop thread only
};

}  // namespace xinfang::supervision

#endif  // XINFANG_SERVICES_SUPERVISION_SWEEPER_H_
