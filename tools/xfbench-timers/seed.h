// Bulk seeding for the sweeper's load tests and tools/xfbench-timers: many
// cases whose timers fall due at once, written with a few set-based SQL
// statements instead of one registration each.
//
// Thread-compatible; every call opens its own connection.
#ifndef XINFANG_TOOLS_XFBENCH_TIMERS_SEED_H_
#define XINFANG_TOOLS_XFBENCH_TIMERS_SEED_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace xinfang::bench {

// Copies case `template_id` `copies` times in one transaction: its row
// (tracking number "BULK-<id>"), its timers and its history, which must be
// the registration event alone. Each copy's event is hashed anew for the
// copy's id, so every copy's history verifies (CaseStore::Verify). Returns
// the new ids. NOT_FOUND without the template; FAILED_PRECONDITION when its
// history is not exactly one event; UNAVAILABLE/INTERNAL from the database.
absl::StatusOr<std::vector<int64_t>> CloneCase(const std::string& db_url, int64_t template_id,
                                               int copies);

}  // namespace xinfang::bench

#endif  // XINFANG_TOOLS_XFBENCH_TIMERS_SEED_H_
