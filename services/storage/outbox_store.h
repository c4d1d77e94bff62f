// The notification outbox (migration 0022): messages made from the event
// feed behind a cursor, delivered with retries, each recorded as sent or
// failed. services/supervision/notifier.h decides what to say to whom; this
// stores it and hands it to a channel exactly as the rows say.
//
// Errors: UNAVAILABLE (no connection), INTERNAL.
// Thread-safety: thread-safe; each call leases its own connection.
#ifndef XINFANG_SERVICES_STORAGE_OUTBOX_STORE_H_
#define XINFANG_SERVICES_STORAGE_OUTBOX_STORE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/storage/db.h"

namespace xinfang::storage {

// A message to make: one person, one case event.
struct OutboxDraft {
  int64_t event_id = 0;
  int64_t case_id = 0;
  std::string kind;       // petitioner_document | petitioner_window | escalation
  std::string channel;    // email
  std::string recipient;  // the address
  std::string subject, body;
  std::string attachment_name, attachment;
};

// A stored message.
struct OutboxMessage {
  int64_t id = 0;
  OutboxDraft draft;
  std::string tracking_number;
  std::string state;  // pending | sent | failed
  int attempts = 0;
  absl::Time created_at, next_attempt_at;
  std::optional<absl::Time> sent_at;
  std::string last_error;
};

struct DeliveryResult {
  int sent = 0, retried = 0, failed = 0;
};

class OutboxStore {
 public:
  explicit OutboxStore(Pool& pool) : pool_(pool) {}

  // How far the feed has been turned into messages.
  absl::StatusOr<int64_t> Cursor();

  // Records `drafts` (made from the feed's events after `from`, up to `to`)
  // and moves the cursor to `to`, in one transaction — if the cursor is
  // still at `from`; otherwise another process did it first: nothing is
  // written and false returned. A message already made (the same event,
  // kind, channel and recipient) is not made again.
  absl::StatusOr<bool> Advance(int64_t from, int64_t to, const std::vector<OutboxDraft>& drafts,
                               absl::Time now);

  // Hands each pending message due at `now` (at most `max`, oldest first) to
  // `send`, and records what came of it in the same transaction, which
  // holds the messages (FOR UPDATE SKIP LOCKED: another process delivering
  // at once takes others). Sent: state sent. UNAVAILABLE: tried again after
  // `backoff(attempts)`, failed after `max_attempts`. Any other error:
  // failed at once. The error is kept in last_error.
  using Send = std::function<absl::Status(const OutboxMessage&)>;
  absl::StatusOr<DeliveryResult> Deliver(absl::Time now, int max, int max_attempts,
                                         const std::function<absl::Duration(int)>& backoff,
                                         const Send& send);

  // A case's messages, oldest first.
  absl::StatusOr<std::vector<OutboxMessage>> OfCase(int64_t case_id);

  // The e-mail addresses of the enabled accounts named, or of the enabled
  // accounts of `unit` with one of `roles`; accounts without one are left out.
  absl::StatusOr<std::vector<std::string>> EmailsOfAccounts(const std::vector<std::string>& names);
  absl::StatusOr<std::vector<std::string>> EmailsOfUnit(const std::string& unit,
                                                        const std::vector<std::string>& roles);

 private:
  Pool& pool_;
};

}  // namespace xinfang::storage

#endif  // XINFANG_SERVICES_STORAGE_OUTBOX_STORE_H_
