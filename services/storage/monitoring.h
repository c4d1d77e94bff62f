// Reads for the server's metrics (services/common/monitor.h): cheap
// aggregates over the timers, run every few seconds, never per call.
//
// Thread-safety: the functions may be called from any thread.
#ifndef XINFANG_SERVICES_STORAGE_MONITORING_H_
#define XINFANG_SERVICES_STORAGE_MONITORING_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/storage/db.h"

namespace xinfang::storage {

// Running deadlines owed within one top-level unit's subtree. The top-level
// units are the root of the tree and its children; a deadline owed by the
// root itself counts under the root.
struct TopUnitDeadlines {
  std::string unit;
  int64_t open = 0;     // every running deadline
  int64_t overdue = 0;  // of which past due at `now` (or marked overdue), not suspended
};

// One row per top-level unit (zeros included), by unit code. One query:
// a scan of case_timers joined to the unit tree. UNAVAILABLE when the
// database cannot be reached.
absl::StatusOr<std::vector<TopUnitDeadlines>> DeadlinesByTopUnit(Pool& pool, absl::Time now);

// The event feed's sequencer: the last position given out, and the events
// committed but not yet placed in the feed (a consumer sees them only once
// placed). Two index look-ups (the partial index on unsequenced events).
struct FeedState {
  int64_t head = 0;         // last position given out
  int64_t unsequenced = 0;  // committed events without a position yet
  std::optional<absl::Time> oldest_unsequenced;  // `at` of the oldest of them
};
absl::StatusOr<FeedState> ReadFeedState(Pool& pool);

}  // namespace xinfang::storage

#endif  // XINFANG_SERVICES_STORAGE_MONITORING_H_
