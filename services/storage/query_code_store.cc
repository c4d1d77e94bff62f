#include "services/storage/query_code_store.h"

#include "absl/strings/str_cat.h"

namespace xinfang::storage {
namespace {

const Sql kUpsertCode{
    "INSERT INTO case_query_codes (case_id, salt, hash, issued_at, issued_by) "
    "VALUES (:c, decode(:salt, 'hex'), decode(:hash, 'hex'), xf_ts(:now), :by) "
    "ON CONFLICT (case_id) DO UPDATE SET salt = EXCLUDED.salt, hash = EXCLUDED.hash, "
    "  issued_at = EXCLUDED.issued_at, issued_by = EXCLUDED.issued_by"};
const Sql kFindCode{
    "SELECT c.id, encode(q.salt, 'hex'), encode(q.hash, 'hex') "
    "  FROM cases c JOIN case_query_codes q ON q.case_id = c.id WHERE c.tracking_number = :t"};
const Sql kRecordLookup{
    "INSERT INTO access_log (at, account, role, unit, rpc, case_id) "
    "SELECT xf_ts(:at), 'public', 'public', :peer, :rpc, id FROM cases WHERE tracking_number = :t"};
const Sql kClosedDeadlines{
    "SELECT purpose, xf_us(due_at), xf_us(closed_at), met FROM deadline_log "
    " WHERE case_id = :c ORDER BY due_at, id"};

}  // namespace

absl::StatusOr<StoredEvent> QueryCodeStore::Reissue(int64_t case_id, const std::string& salt,
                                                    const std::string& hash,
                                                    const workflow::Event& event,
                                                    const workflow::Actor& actor, absl::Time now) {
  return WithConn(pool_, "reissuing a query code", [&](Conn& conn) -> absl::StatusOr<StoredEvent> {
    Transaction tx(conn);
    std::vector<StoredEvent> stored = AppendToHistory(conn, case_id, {event}, actor, now);
    if (stored.empty()) return absl::NotFoundError(absl::StrCat("case ", case_id, " not found"));
    conn.Run(kUpsertCode, {{"c", case_id},
                           {"salt", salt},
                           {"hash", hash},
                           {"now", ToMicros(now)},
                           {"by", actor.account}});
    tx.Commit();
    return stored.front();
  });
}

absl::StatusOr<std::optional<StoredQueryCode>> QueryCodeStore::Find(
    const std::string& tracking_number) {
  return WithConn(pool_, "looking up a query code",
                  [&](Conn& conn) -> absl::StatusOr<std::optional<StoredQueryCode>> {
                    Rows r = conn.Run(kFindCode, {{"t", tracking_number}});
                    if (r.empty()) return std::nullopt;
                    return StoredQueryCode{r[0].i64(0), r[0].str(1), r[0].str(2)};
                  });
}

absl::Status QueryCodeStore::RecordLookup(const std::string& tracking_number,
                                          const std::string& peer, const std::string& rpc,
                                          absl::Time at) {
  return WithConn(pool_, "recording a public lookup", [&](Conn& conn) -> absl::Status {
    conn.Run(kRecordLookup,
             {{"at", ToMicros(at)}, {"peer", peer}, {"rpc", rpc}, {"t", tracking_number}});
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<ClosedDeadline>> QueryCodeStore::ClosedDeadlines(int64_t case_id) {
  return WithConn(pool_, "reading a case's deadlines",
                  [&](Conn& conn) -> absl::StatusOr<std::vector<ClosedDeadline>> {
                    std::vector<ClosedDeadline> out;
                    for (Row r : conn.Run(kClosedDeadlines, {{"c", case_id}})) {
                      out.push_back(ClosedDeadline{r.i32(0), FromMicros(r.i64(1)),
                                                   FromMicros(r.i64(2)), r.boolean(3)});
                    }
                    return out;
                  });
}

}  // namespace xinfang::storage
