// The reference lists a form picks from — the organisation's units and the
// petition categories, with their names — and their administration (migration
// 0002 seeds them; PutUnit / PutCategory change them).
//
// Thread-safety: each function leases its own session from the pool.
#ifndef XINFANG_SERVICES_STORAGE_REFERENCE_STORE_H_
#define XINFANG_SERVICES_STORAGE_REFERENCE_STORE_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/storage/db.h"

namespace xinfang::storage {

struct RefRow {
  std::string code, name, parent;  // parent empty at the top
  bool active = true;              // units: always; categories: until retired
};

struct ReferenceLists {
  std::vector<RefRow> units;       // by code
  std::vector<RefRow> categories;  // by code; retired ones only on request
};

// UNAVAILABLE when no connection is to be had.
absl::StatusOr<ReferenceLists> ListReference(Pool& pool, bool include_inactive);

// Unit code -> parent code (empty for the top).
absl::StatusOr<std::map<std::string, std::string>> ReadUnits(Pool& pool);
// Every category code, and whether it is active (open to new cases).
absl::StatusOr<std::map<std::string, bool>> ReadCategories(Pool& pool);
// "unit:<code>" and "category:<code>" -> the name people read ("省总工会").
absl::StatusOr<std::map<std::string, std::string>> ReadNames(Pool& pool);

struct PutResult {
  RefRow row;
  bool created = false;
};

// Adds `unit` or renames the unit of its code (one transaction). A new unit
// needs an existing parent (an empty parent only while there are no units);
// an existing unit keeps its parent: another one is FAILED_PRECONDITION, an
// empty one means "unchanged". INVALID_ARGUMENT "parent: ..." for an unknown
// parent. Codes and names are the caller's to check.
absl::StatusOr<PutResult> PutUnit(Pool& pool, const RefRow& unit);

// Adds, renames, re-parents or retires a category (one transaction).
// INVALID_ARGUMENT "parent: ..." for an unknown parent or one that would make
// a cycle.
absl::StatusOr<PutResult> PutCategory(Pool& pool, const RefRow& category);

}  // namespace xinfang::storage

#endif  // XINFANG_SERVICES_STORAGE_REFERENCE_STORE_H_
