#include "services/storage/outbox_store.h"

#include "absl/strings/str_cat.h"
#include "services/storage/pq.h"
#include "services/storage/sql_array.h"

namespace xinfang::storage {
namespace {

const Sql kCursor{"SELECT position FROM outbox_cursor"};
const Sql kLockCursor{"SELECT position FROM outbox_cursor FOR UPDATE"};
const Sql kMoveCursor{"UPDATE outbox_cursor SET position = :to"};
const Sql kInsert{R"sql(
  INSERT INTO outbox (event_id, case_id, kind, channel, recipient, subject, body,
                      attachment_name, attachment, created_at, next_attempt_at)
  VALUES (:e, :c, :k, :ch, :r, :s, :b, :an, :a, xf_ts(:now), xf_ts(:now))
  ON CONFLICT (event_id, kind, channel, recipient) DO NOTHING)sql"};

#define XF_OUTBOX_COLUMNS                                                                    \
  "o.id, o.event_id, o.case_id, o.kind, o.channel, o.recipient, o.subject, o.body, "         \
  "o.attachment_name, o.attachment, c.tracking_number, o.state, o.attempts, "                \
  "xf_us(o.created_at), xf_us(o.next_attempt_at), xf_us(o.sent_at), o.last_error"

const Sql kClaim{"SELECT " XF_OUTBOX_COLUMNS " FROM outbox o JOIN cases c ON c.id = o.case_id "
                 "WHERE o.state = 'pending' AND o.next_attempt_at <= xf_ts(:now) "
                 "ORDER BY o.next_attempt_at, o.id LIMIT :lim FOR UPDATE OF o SKIP LOCKED"};
const Sql kSent{"UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_at = xf_ts(:now), "
                "last_error = '' WHERE id = :id"};
const Sql kRetry{"UPDATE outbox SET attempts = attempts + 1, next_attempt_at = xf_ts(:next), "
                 "last_error = :err WHERE id = :id"};
const Sql kFailed{"UPDATE outbox SET state = 'failed', attempts = attempts + 1, "
                  "last_error = :err WHERE id = :id"};
const Sql kOfCase{"SELECT " XF_OUTBOX_COLUMNS " FROM outbox o JOIN cases c ON c.id = o.case_id "
                  "WHERE o.case_id = :c ORDER BY o.id"};
const Sql kEmailsOfAccounts{
    "SELECT DISTINCT email FROM accounts WHERE name = ANY (CAST(:names AS text[])) "
    "AND disabled_at IS NULL AND email <> '' ORDER BY email"};
const Sql kEmailsOfUnit{
    "SELECT DISTINCT email FROM accounts WHERE unit = :u AND role = ANY (CAST(:roles AS text[])) "
    "AND disabled_at IS NULL AND email <> '' ORDER BY email"};

OutboxMessage ReadMessage(const Row& r) {
  OutboxMessage m;
  m.id = r.i64(0);
  m.draft.event_id = r.i64(1);
  m.draft.case_id = r.i64(2);
  m.draft.kind = r.str(3);
  m.draft.channel = r.str(4);
  m.draft.recipient = r.str(5);
  m.draft.subject = r.str(6);
  m.draft.body = r.str(7);
  m.draft.attachment_name = r.str(8);
  m.draft.attachment = r.str(9);
  m.tracking_number = r.str(10);
  m.state = r.str(11);
  m.attempts = r.i32(12);
  m.created_at = FromMicros(r.i64(13));
  m.next_attempt_at = FromMicros(r.i64(14));
  if (!r.null(15)) m.sent_at = FromMicros(r.i64(15));
  m.last_error = r.str(16);
  return m;
}

std::vector<std::string> Strings(const Rows& rows) {
  std::vector<std::string> out;
  for (Row r : rows) out.push_back(r.str(0));
  return out;
}

}  // namespace

absl::StatusOr<int64_t> OutboxStore::Cursor() {
  return WithConn(pool_, "reading the outbox cursor", [&](Conn& c) -> absl::StatusOr<int64_t> {
    Rows rows = c.Run(kCursor, {});
    if (rows.empty()) return absl::InternalError("the outbox cursor is missing (migration 0022)");
    return rows[0].i64(0);
  });
}

absl::StatusOr<bool> OutboxStore::Advance(int64_t from, int64_t to,
                                          const std::vector<OutboxDraft>& drafts, absl::Time now) {
  return WithConn(pool_, "making notifications", [&](Conn& conn) -> absl::StatusOr<bool> {
    Transaction tx(conn);
    Rows cur = conn.Run(kLockCursor, {});
    if (cur.empty() || cur[0].i64(0) != from) return false;  // another process moved it
    Conn::Pipeline p(conn);
    const int64_t now_us = ToMicros(now);
    for (const OutboxDraft& d : drafts) {
      p.Add(kInsert, {{"e", d.event_id},
                      {"c", d.case_id},
                      {"k", d.kind},
                      {"ch", d.channel},
                      {"r", d.recipient},
                      {"s", d.subject},
                      {"b", d.body},
                      {"an", d.attachment_name},
                      {"a", d.attachment},
                      {"now", now_us}});
    }
    p.Add(kMoveCursor, {{"to", to}});
    p.Run();
    tx.Commit();
    return true;
  });
}

absl::StatusOr<DeliveryResult> OutboxStore::Deliver(
    absl::Time now, int max, int max_attempts, const std::function<absl::Duration(int)>& backoff,
    const Send& send) {
  return WithConn(pool_, "delivering notifications", [&](Conn& conn) -> absl::StatusOr<DeliveryResult> {
    DeliveryResult result;
    Transaction tx(conn);
    Rows claimed = conn.Run(kClaim, {{"now", ToMicros(now)}, {"lim", max}});
    for (Row r : claimed) {
      const OutboxMessage m = ReadMessage(r);
      const absl::Status s = send(m);
      if (s.ok()) {
        conn.Run(kSent, {{"now", ToMicros(now)}, {"id", m.id}});
        ++result.sent;
      } else if (absl::IsUnavailable(s) && m.attempts + 1 < max_attempts) {
        conn.Run(kRetry, {{"next", ToMicros(now + backoff(m.attempts + 1))},
                          {"err", std::string(s.message())},
                          {"id", m.id}});
        ++result.retried;
      } else {
        conn.Run(kFailed, {{"err", std::string(s.message())}, {"id", m.id}});
        ++result.failed;
      }
    }
    tx.Commit();
    return result;
  });
}

absl::StatusOr<std::vector<OutboxMessage>> OutboxStore::OfCase(int64_t case_id) {
  return WithConn(pool_, "reading a case's notifications",
                  [&](Conn& c) -> absl::StatusOr<std::vector<OutboxMessage>> {
                    std::vector<OutboxMessage> out;
                    for (Row r : c.Run(kOfCase, {{"c", case_id}})) out.push_back(ReadMessage(r));
                    return out;
                  });
}

absl::StatusOr<std::vector<std::string>> OutboxStore::EmailsOfAccounts(
    const std::vector<std::string>& names) {
  SqlArray a;
  for (const std::string& n : names) a.AddText(n);
  const std::string lit = a.Literal();
  return WithConn(pool_, "reading e-mail addresses",
                  [&](Conn& c) -> absl::StatusOr<std::vector<std::string>> {
                    return Strings(c.Run(kEmailsOfAccounts, {{"names", lit}}));
                  });
}

absl::StatusOr<std::vector<std::string>> OutboxStore::EmailsOfUnit(
    const std::string& unit, const std::vector<std::string>& roles) {
  SqlArray a;
  for (const std::string& r : roles) a.AddText(r);
  const std::string lit = a.Literal();
  return WithConn(pool_, "reading e-mail addresses",
                  [&](Conn& c) -> absl::StatusOr<std::vector<std::string>> {
                    return Strings(c.Run(kEmailsOfUnit, {{"u", unit}, {"roles", lit}}));
                  });
}

}  // namespace xinfang::storage
