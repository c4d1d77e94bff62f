// The numbering and sealing of written documents inside a change's
// transaction (case_documents.cc), shared by the one write path
// (case_writes.cc). Internal to the case store.
#ifndef XINFANG_SERVICES_STORAGE_CASE_DOCUMENTS_H_
#define XINFANG_SERVICES_STORAGE_CASE_DOCUMENTS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/storage/case_store.h"
#include "services/storage/db.h"

namespace xinfang::storage::internal {

// A draft with its number given and its body final.
struct SealedDocument {
  const DocumentDraft* draft = nullptr;
  int seq = 0;
  std::string number, body, sha256;
  int event_seq = 0;
  std::string action;
};

// Queues, after the case row is locked, each draft's next number in its
// series; returns the results' indexes.
std::vector<int> QueueNumbering(Conn::Pipeline& p, const std::vector<DocumentDraft>& drafts);

// Fills numbers and the tracking number into the drafts' bodies, hashes
// them and records number and hash in their events (of a change appended
// after `head_seq`), before the events are hashed into the history.
absl::StatusOr<std::vector<SealedDocument>> Seal(const std::vector<DocumentDraft>& drafts,
                                                 const std::vector<Rows>& results,
                                                 const std::vector<int>& at,
                                                 const std::string& tracking_number,
                                                 int head_seq,
                                                 std::vector<workflow::Event>* events);

// Queues the document's row (after the case's row and events).
void QueueInsert(Conn::Pipeline& p, int64_t case_id, const SealedDocument& s,
                 const std::string& issued_by, int64_t at_us);

}  // namespace xinfang::storage::internal

#endif  // XINFANG_SERVICES_STORAGE_CASE_DOCUMENTS_H_
