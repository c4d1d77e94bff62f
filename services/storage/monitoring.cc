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

constexpr char kFeedState[] = R"sql(
SELECT (SELECT last_position FROM event_sequencer),
       (SELECT count(*) FROM case_events WHERE position IS NULL),
       coalesce((SELECT xf_us(min(at)) FROM case_events WHERE position IS NULL), 0))sql";

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

absl::StatusOr<FeedState> ReadFeedState(Pool& pool) {
  auto lease = pool.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    long long head = 0, unsequenced = 0, oldest = 0;
    lease->session() << kFeedState, soci::into(head), soci::into(unsequenced), soci::into(oldest);
    FeedState f{head, unsequenced, std::nullopt};
    if (unsequenced > 0) f.oldest_unsequenced = absl::FromUnixMicros(oldest);
    return f;
  } catch (...) {
    return StatusFromCurrentException("reading the event feed's state");
  }
}

}  // namespace xinfang::storage
