#include "services/storage/migrations.h"

#include <soci/soci.h>

#include <set>

#include "absl/strings/str_cat.h"

namespace xinfang::storage {
namespace {

// Any fixed 64-bit key; "xinfang" in ASCII.
constexpr long long kMigrationLockKey = 0x78696e66616e67;

constexpr char kCreateTable[] = R"sql(
  CREATE TABLE IF NOT EXISTS schema_migrations (
    number      integer PRIMARY KEY,
    name        text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
  ))sql";

// Releases the advisory lock however the function leaves.
class AdvisoryLock {
 public:
  explicit AdvisoryLock(soci::session& s) : s_(s) {
    s_ << "SELECT pg_advisory_lock(" << kMigrationLockKey << ")";
  }
  ~AdvisoryLock() {
    try {
      s_ << "SELECT pg_advisory_unlock(" << kMigrationLockKey << ")";
    } catch (...) {
      // The lock dies with the session anyway.
    }
  }

 private:
  soci::session& s_;
};

}  // namespace

absl::StatusOr<MigrationResult> Migrate(Pool& pool) {
  auto lease = pool.Acquire();
  if (!lease.ok()) return lease.status();
  soci::session& s = lease->session();
  MigrationResult result;
  std::string current = "preparing";
  try {
    AdvisoryLock lock(s);
    {
      // Only when missing: IF NOT EXISTS alone makes PostgreSQL print a NOTICE.
      soci::indicator ind = soci::i_null;
      std::string exists;
      s << "SELECT to_regclass('schema_migrations')::text", soci::into(exists, ind);
      if (ind == soci::i_null) s << kCreateTable;
    }
    std::set<int> done;
    {
      int number = 0;
      soci::statement st = (s.prepare << "SELECT number FROM schema_migrations", soci::into(number));
      st.execute();
      while (st.fetch()) done.insert(number);
    }
    std::set<int> known;
    for (const Migration& m : BuiltInMigrations()) known.insert(m.number);
    for (int n : done) {
      if (!known.contains(n)) {
        return absl::FailedPreconditionError(absl::StrCat(
            "the database has migration ", n,
            " that this binary does not know: it was migrated by a newer version"));
      }
    }
    for (const Migration& m : BuiltInMigrations()) {
      if (done.contains(m.number)) continue;
      current = m.name;
      soci::transaction tx(s);
      // As the file says, with no placeholder parsing (SOCI's would read
      // ':' in a literal after an apostrophe in a comment as a parameter).
      lease->conn().Exec(m.sql.c_str());
      s << "INSERT INTO schema_migrations (number, name) VALUES (:n, :name)",
          soci::use(m.number, "n"), soci::use(m.name, "name");
      tx.commit();
      result.applied.push_back(m.name);
      done.insert(m.number);
    }
    result.total = static_cast<int>(done.size());
  } catch (...) {
    return StatusFromCurrentException(absl::StrCat("migration ", current));
  }
  return result;
}

}  // namespace xinfang::storage
