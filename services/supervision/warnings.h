// Early warning (docs/warnings.md): the processor that checks each new
// petition against the rules (workflow/warning_rules.h) as it arrives in
// the event feed, and the warnings' reads and life for SupervisionService.
//
// The processor follows the feed with a cursor kept in the database; each
// batch is one transaction (storage::WarningStore::Process) that records,
// counts and raises, so a restart catches up where it stopped, and replicas
// take turns: nothing is raised twice. Group petitions are looked at again
// when their acceptance window ends (on the clock: the simulated clock's
// moves run it at once).
//
// Thread-safety: thread-safe.
#ifndef XINFANG_SERVICES_SUPERVISION_WARNINGS_H_
#define XINFANG_SERVICES_SUPERVISION_WARNINGS_H_

#include <atomic>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "services/common/background.h"
#include "services/common/core.h"
#include "services/storage/listener.h"
#include "xinfang/v1/supervision.pb.h"
#include "xinfang/v1/warning.pb.h"

namespace xinfang::supervision {

class Warnings {
 public:
  explicit Warnings(Core& core);
  ~Warnings();  // stops the thread

  // Processes the feed up to its end and the watches due now, batch after
  // batch (or until Stop). Returns the events and watches consumed (0 when
  // another replica holds the cursor or nothing was new).
  absl::StatusOr<int> ProcessOnce();

  // Runs ProcessOnce in a background thread when any process announces a
  // change (LISTEN xinfang_events) and at least every `interval`.
  void Start(absl::Duration interval);
  void Stop();

  // SupervisionService's calls (docs/api.md): the caller's view.
  absl::StatusOr<xinfang::v1::ListWarningsResponse> List(
      const workflow::Actor& actor, const xinfang::v1::ListWarningsRequest& req);
  absl::StatusOr<xinfang::v1::Warning> Get(const workflow::Actor& actor, int64_t id);
  absl::StatusOr<xinfang::v1::Warning> Update(const workflow::Actor& actor,
                                              const xinfang::v1::UpdateWarningRequest& req);

 private:
  // What a pass checks every petition with: the organisation, the names,
  // the enabled rules and their scopes, read once per ProcessOnce.
  struct Pass {
    std::shared_ptr<const workflow::MapOrgTree> org;
    std::shared_ptr<const std::map<std::string, std::string>> names;
    std::vector<const xinfang::v1::WarningRule*> rules;
    std::vector<storage::WarnScope> scopes;  // one per rule
  };
  // What the rules say of one new petition, or of a group petition whose
  // acceptance window has ended.
  absl::Status Decide(storage::WarnBatch& batch, const storage::WarnItem& item, const Pass& pass);

  Core& core_;
  absl::Mutex process_mu_;  // one pass at a time in this process
  std::atomic<bool> stopping_{false};  // Stop(): a pass ends after its batch
  Background background_;
};

}  // namespace xinfang::supervision

#endif  // XINFANG_SERVICES_SUPERVISION_WARNINGS_H_
