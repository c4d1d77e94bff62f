#include "services/common/act.h"

#include "absl/strings/str_cat.h"

namespace xinfang {

absl::StatusOr<storage::Applied> Act(Core& core, const storage::CaseRecord& rec,
                                     int64_t expected_version,
                                     const workflow::ActionRequest& request,
                                     const workflow::Actor& actor, const workflow::OrgTree& org) {
  const workflow::Engine* engine =
      core.EngineFor(rec.snapshot.workflow, rec.snapshot.workflow_version);
  if (engine == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("the case's workflow version ",
                                                      rec.snapshot.workflow, "@",
                                                      rec.snapshot.workflow_version,
                                                      " is not loaded"));
  }
  const absl::Time now = core.clock().Now();
  auto decision = engine->Apply(rec.snapshot, request, actor, now, org);
  if (!decision.ok()) return decision.status();
  // The written documents it issues, numbered and sealed in the same transaction.
  auto documents = core.DraftDocuments(*engine, *decision, rec.intake, actor, now);
  if (!documents.ok()) return documents.status();
  return core.store().Apply(rec.id, expected_version, *decision, actor, now, *documents);
}

}  // namespace xinfang
