// Whether reads that may be stale can go to a streaming replica now: a
// replica is used only while it is known to hold everything its primary had
// written at most `max_lag` ago.
//
// How that is known: Check() reads the primary's WAL position (P) and then
// the replica's replay position (R). A sample (t, P) with P <= R proves the
// replica holds everything committed on the primary before t. The newest
// such t is the replica's watermark; the replica is fresh until watermark +
// max_lag. No clocks of two machines are compared, and a replica that stops
// answering (or replaying) stops being fresh at most max_lag after the last
// proof, whether or not Check() runs.
//
// Thread-safety: Check() from one thread at a time; Fresh() and Behind()
// from any thread.
#ifndef XINFANG_SERVICES_STORAGE_REPLICA_H_
#define XINFANG_SERVICES_STORAGE_REPLICA_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <utility>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "services/storage/db.h"

namespace xinfang::storage {

class ReplicaGate {
 public:
  // Both pools outlive the gate.
  ReplicaGate(Pool& primary, Pool& replica, absl::Duration max_lag);

  // One sample of both positions. UNAVAILABLE (and no new proof) when either
  // database cannot be read. A replica that is not in recovery (it was
  // promoted, or the URL reached a primary) reports its own WAL position.
  absl::Status Check();

  // True while the replica's watermark is at most max_lag old.
  bool Fresh() const;

  // How old the watermark is now; InfiniteDuration before the first proof.
  absl::Duration Behind() const;

 private:
  using SteadyTime = std::chrono::steady_clock::time_point;
  Pool& primary_;
  Pool& replica_;
  const absl::Duration max_lag_;
  std::deque<std::pair<SteadyTime, int64_t>> samples_;  // (when, primary position); Check() only
  // The watermark, as steady-clock nanoseconds since its epoch; 0: none yet.
  std::atomic<int64_t> watermark_ns_{0};
};

}  // namespace xinfang::storage

#endif  // XINFANG_SERVICES_STORAGE_REPLICA_H_
