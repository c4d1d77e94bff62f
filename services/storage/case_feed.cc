// The case store's event feed: the sequencer that gives committed events
// their positions, and reads of the feed after a cursor.
#include "services/storage/case_store.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/storage/case_rows.h"
#include "services/storage/listener.h"

namespace xinfang::storage {
namespace {

using namespace internal;  // NOLINT: the store's shared row readers (case_rows.h)
using workflow::CaseSnapshot;
using workflow::TimerState;

const Sql kSequence{ R"sql(
  WITH pending AS (
         SELECT id, row_number() OVER (ORDER BY id) AS rn
           FROM case_events WHERE position IS NULL ORDER BY id LIMIT :max),
       placed AS (
         UPDATE case_events e SET position = b.last_position + p.rn
           FROM pending p, event_sequencer b WHERE e.id = p.id
         RETURNING e.position)
  UPDATE event_sequencer SET last_position = coalesce((SELECT max(position) FROM placed),
                                                      last_position)
  RETURNING (SELECT count(*) FROM placed)::int)sql"};

const Sql kReadFeed{
    XF_SCOPE_CTE
    "SELECT e.position, c.tracking_number, c.responsible_unit, "
    "       coalesce(c.complained_about_unit, ''), c.conflicted_accounts, "
    "       CASE WHEN c.responsible_unit = c.registering_unit THEN c.registering_unit "
    "            ELSE '' END, c.workflow, c.workflow_version, " XF_EVENT_COLUMNS " "
    "  FROM case_events e JOIN cases c ON c.id = e.case_id "
    " WHERE e.position > :after "
    "   AND (:case1 = 0 OR e.case_id = :case2) "
    "   AND (:unit3 = '' OR c.responsible_unit IN (SELECT code FROM scope)) "
    "   AND (:kinds1 = '' OR e.kind = ANY (string_to_array(:kinds2, ','))) "
    " ORDER BY e.position LIMIT :lim"};

const Sql kAnyUnsequenced{
    "SELECT 1 FROM case_events WHERE position IS NULL LIMIT 1"};
const Sql kLockSequencer{"SELECT last_position FROM event_sequencer FOR UPDATE"};
const Sql kLastPosition{"SELECT last_position FROM event_sequencer"};
const Sql kNotifyFeed{"SELECT pg_notify('xinfang_feed', '')"};

}  // namespace

absl::StatusOr<int> CaseStore::SequenceEvents(int max) {
  return WithConn(pool_, "sequencing events", [&](Conn& conn) -> absl::StatusOr<int> {
    // Idle: nothing unplaced (a partial-index probe), so no lock and no write.
    if (conn.Run(kAnyUnsequenced, {}).empty()) return 0;
    // The rest in one round trip. The row lock serialises sequencers (one
    // per query process may run); the placing statement that follows takes
    // its snapshot after the lock is granted, so it sees what the sequencer
    // before it placed. Listeners are told even when a sequencer in between
    // placed everything (they find nothing new).
    Transaction tx(conn, Transaction::kBegunInPipeline);
    Conn::Pipeline p(conn);
    p.AddText("BEGIN");
    p.Add(kLockSequencer, {});
    const int sequenced_at = p.Add(kSequence, {{"max", max}});
    p.Add(kNotifyFeed, {});
    p.AddText("COMMIT");
    const std::vector<Rows> results = p.Run();
    tx.Committed();
    return results[sequenced_at][0].i32(0);
  });
}

absl::StatusOr<int64_t> CaseStore::LastFeedPosition() {
  return WithConn(pool_, "reading the feed position", [&](Conn& conn) -> absl::StatusOr<int64_t> {
    return conn.Run(kLastPosition, {})[0].i64(0);
  });
}

absl::StatusOr<std::vector<FeedEvent>> CaseStore::ReadFeed(const FeedFilter& f) {
  return WithConn(pool_, "reading the event feed",
                  [&](Conn& conn) -> absl::StatusOr<std::vector<FeedEvent>> {
                    std::vector<FeedEvent> out;
                    Rows rows = conn.Run(kReadFeed, {{"unit", f.unit},
                                                     {"after", f.after},
                                                     {"case1", f.case_id},
                                                     {"case2", f.case_id},
                                                     {"unit3", f.unit},
                                                     {"kinds1", absl::StrJoin(f.kinds, ",")},
                                                     {"kinds2", absl::StrJoin(f.kinds, ",")},
                                                     {"lim", f.limit}});
                    for (Row r : rows) {
                      FeedEvent fe;
                      fe.position = r.i64(0);
                      fe.tracking_number = r.str(1);
                      fe.responsible_unit = r.str(2);
                      fe.complained_about_unit = r.str(3);
                      fe.conflicted_accounts = SplitSet(r.str(4));
                      fe.registrar_holding = r.str(5);
                      fe.workflow = r.str(6);
                      fe.workflow_version = r.i32(7);
                      fe.stored = ReadEvent(r, 8);
                      out.push_back(std::move(fe));
                    }
                    return out;
                  });
}

}  // namespace xinfang::storage
