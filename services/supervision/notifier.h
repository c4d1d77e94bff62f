// Notifications (docs/notifications.md): the outbox's producer and its
// deliverer. The producer follows the event feed with a cursor kept in the
// database (storage::OutboxStore) and makes a message per person for:
//  - petitioner_document: a written document reached the petitioner (an
//    intake or extension notice when issued, a decision or opinion when
//    its service is recorded), with the document attached;
//  - petitioner_window: a petitioner's window (evaluation, review, re-check)
//    is about to close (its deadline warning);
//  - escalation: a missed deadline climbed a rung of the ladder, to the
//    staff of that rung (the officer, the unit's heads, the supervising
//    unit's or the top's heads and supervisors), who are never told who
//    the petitioner is.
// Only people with an address get one; a kind can be turned off
// (--notify-off). The deliverer sends what is due through a MessageChannel
// (e-mail by SMTP), retrying with backoff (1 min, doubling, at most 6 h;
// failed after 8 tries or a permanent refusal), recording each outcome.
// Replicas take turns on the cursor and the outbox's unique key keeps a
// message from being made twice; a message is sent by one process at a time.
//
// Thread-safety: thread-safe.
#ifndef XINFANG_SERVICES_SUPERVISION_NOTIFIER_H_
#define XINFANG_SERVICES_SUPERVISION_NOTIFIER_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/common/background.h"
#include "services/common/core.h"
#include "services/common/mail.h"
#include "services/storage/outbox_store.h"

namespace xinfang::supervision {

inline constexpr int kNotifyMaxAttempts = 8;
// The wait before try n + 1 (n >= 1): one minute, doubling, at most six hours.
absl::Duration NotifyBackoff(int attempts);

class Notifier {
 public:
  // `channel` delivers; nullptr makes no messages and sends none.
  Notifier(Core& core, std::unique_ptr<MessageChannel> channel);
  ~Notifier();  // stops the thread

  struct Pass {
    int made = 0;  // messages made from the feed
    storage::DeliveryResult delivered;
  };
  // Turns the feed up to its end into messages, then delivers what is due
  // at the core's clock.
  absl::StatusOr<Pass> ProcessOnce();

  // Runs ProcessOnce in a background thread when a change is announced
  // (LISTEN xinfang_events) and at least every `interval`.
  void Start(absl::Duration interval);
  void Stop();

 private:
  // The messages one feed event makes.
  absl::Status MessagesOf(const storage::FeedEvent& e, std::vector<storage::OutboxDraft>* out);
  bool On(const std::string& kind) const;

  Core& core_;
  std::unique_ptr<MessageChannel> channel_;
  storage::OutboxStore outbox_;
  absl::Mutex process_mu_;  // one pass at a time in this process
  Background background_;
};

}  // namespace xinfang::supervision

#endif  // XINFANG_SERVICES_SUPERVISION_NOTIFIER_H_
