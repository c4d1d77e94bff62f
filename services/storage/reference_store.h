// The reference lists a form picks from: the organisation's units and the
// petition categories, with their names (read-only; migration 0002 seeds them).
//
// Thread-safety: the function leases its own session from the pool.
#ifndef XINFANG_SERVICES_STORAGE_REFERENCE_STORE_H_
#define XINFANG_SERVICES_STORAGE_REFERENCE_STORE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/storage/db.h"

namespace xinfang::storage {

struct RefRow {
  std::string code, name, parent;  // parent empty at the top
};

struct ReferenceLists {
  std::vector<RefRow> units;       // by code
  std::vector<RefRow> categories;  // active ones, by code
};

// UNAVAILABLE when no connection is to be had.
absl::StatusOr<ReferenceLists> ListReference(Pool& pool);

}  // namespace xinfang::storage

#endif  // XINFANG_SERVICES_STORAGE_REFERENCE_STORE_H_
