#include "services/storage/reference_store.h"

#include <soci/soci.h>

namespace xinfang::storage {

absl::StatusOr<ReferenceLists> ListReference(Pool& pool) {
  auto lease = pool.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    ReferenceLists out;
    auto read = [&](const char* sql, std::vector<RefRow>& into) {
      soci::rowset<soci::row> rows = lease->session().prepare << sql;
      for (const soci::row& r : rows) {
        into.push_back(RefRow{r.get<std::string>(0), r.get<std::string>(1), r.get<std::string>(2)});
      }
    };
    read("SELECT code, name, coalesce(parent, '') FROM units ORDER BY code", out.units);
    read("SELECT code, name, coalesce(parent, '') FROM categories WHERE active ORDER BY code",
         out.categories);
    return out;
  } catch (...) {
    return StatusFromCurrentException("reading units and categories");
  }
}

}  // namespace xinfang::storage
