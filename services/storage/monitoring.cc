#include "services/storage/monitoring.h"

#include <soci/soci.h>

namespace xinfang::storage {

namespace {

constexpr char kDeadlinesByTopUnit[] = R"sql(
WITH RECURSIVE tree (code, top, depth) AS (
    SELECT code, code, 0 FROM units WHERE parent IS NULL
  UNION ALL
    SELECT u.code, CASE WHEN t.depth = 0 THEN u.code ELSE t.top END, t.depth + 1
      FROM units u JOIN tree t ON u.parent = t.code
)
SELECT t.top,
       count(ct.case_id),
       count(ct.case_id) FILTER (WHERE ct.overdue OR (ct.suspended_at IS NULL
                                                      AND ct.due_at <= xf_ts(:now)))
  FROM tree t LEFT JOIN case_timers ct ON ct.owing_unit = t.code
 GROUP BY t.top
 ORDER BY t.top)sql";

}  // namespace

absl::StatusOr<std::vector<TopUnitDeadlines>> DeadlinesByTopUnit(Pool& pool, absl::Time now) {
  auto lease = pool.Acquire();
  if (!lease.ok()) return lease.status();
  std::vector<TopUnitDeadlines> out;
  try {
    long long at = ToMicros(now);
    ForEachRow(
        lease->session(), kDeadlinesByTopUnit,
        [&](soci::statement& st) { st.exchange(soci::use(at, "now")); },
        [&](const soci::row& r) {
          out.push_back(
              TopUnitDeadlines{r.get<std::string>(0), r.get<long long>(1), r.get<long long>(2)});
        });
  } catch (...) {
    return StatusFromCurrentException("counting deadlines by unit");
  }
  return out;
}

}  // namespace xinfang::storage
