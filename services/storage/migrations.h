// Schema migrations: the numbered SQL files of services/storage/migrations,
// compiled into the binary, applied in order, each exactly once.
#ifndef XINFANG_SERVICES_STORAGE_MIGRATIONS_H_
#define XINFANG_SERVICES_STORAGE_MIGRATIONS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/storage/db.h"

namespace xinfang::storage {

struct Migration {
  int number;        // from the file name NNNN_what.sql
  std::string name;  // "0001_init"
  std::string sql;
};

// The migrations built into this binary, in order.
const std::vector<Migration>& BuiltInMigrations();

struct MigrationResult {
  std::vector<std::string> applied;  // names applied by this call
  int total = 0;                      // migrations recorded after the call
};

// Applies every migration not yet recorded in schema_migrations, each in its
// own transaction together with its record. A session-level advisory lock
// serialises concurrent callers (several replicas starting at once): the
// second waits, then finds nothing to do. FAILED_PRECONDITION if the database
// records a migration this binary does not know (a newer schema);
// UNAVAILABLE if the database cannot be reached; INTERNAL with the
// migration's name if its SQL fails (nothing of it is applied).
absl::StatusOr<MigrationResult> Migrate(Pool& pool);

}  // namespace xinfang::storage

#endif  // XINFANG_SERVICES_STORAGE_MIGRATIONS_H_
