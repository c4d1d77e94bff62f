// The petitioner's query code (查询码, docs/api.md "PublicService") in
// PostgreSQL: one keyed hash per case (table case_query_codes, migration
// 0019), never the code. A registration writes the first one in its own
// transaction (NewCase::query_code_*, case_writes.cc); this store reissues
// it, looks it up for the public status and records each lookup.
//
// Errors: NOT_FOUND (no such case), UNAVAILABLE (no connection), INTERNAL.
// Thread-safety: thread-safe; each call leases its own connection.
#ifndef XINFANG_SERVICES_STORAGE_QUERY_CODE_STORE_H_
#define XINFANG_SERVICES_STORAGE_QUERY_CODE_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/storage/case_store.h"
#include "services/storage/db.h"
#include "workflow/engine.h"

namespace xinfang::storage {

// A case's stored code: its salt and keyed hash, hex.
struct StoredQueryCode {
  int64_t case_id = 0;
  std::string salt, hash;
};

// A deadline of a case that has closed (deadline_log): its purpose
// (xinfang.v1.TimerPurpose), its due instant (exclusive), when it closed,
// and whether it was met.
struct ClosedDeadline {
  int purpose = 0;
  absl::Time due_at, closed_at;
  bool met = false;
};

class QueryCodeStore {
 public:
  explicit QueryCodeStore(Pool& pool) : pool_(pool) {}

  // Replaces case `case_id`'s code with `salt`/`hash` (hex) and appends
  // `event` to its history, in one transaction. Returns the stored event;
  // NOT_FOUND when the case does not exist.
  absl::StatusOr<StoredEvent> Reissue(int64_t case_id, const std::string& salt,
                                      const std::string& hash, const workflow::Event& event,
                                      const workflow::Actor& actor, absl::Time now);

  // The stored code of the case with this tracking number; nullopt when
  // there is no such case or it has no code (one statement either way).
  absl::StatusOr<std::optional<StoredQueryCode>> Find(const std::string& tracking_number);

  // Records a public lookup of `tracking_number` in the access log (account
  // "public", role "public", unit `peer`, rpc `rpc`); records nothing, with
  // the same one statement, when no case has that number.
  absl::Status RecordLookup(const std::string& tracking_number, const std::string& peer,
                            const std::string& rpc, absl::Time at);

  // The closed deadlines of a case, by due instant.
  absl::StatusOr<std::vector<ClosedDeadline>> ClosedDeadlines(int64_t case_id);

 private:
  Pool& pool_;
};

}  // namespace xinfang::storage

#endif  // XINFANG_SERVICES_STORAGE_QUERY_CODE_STORE_H_
