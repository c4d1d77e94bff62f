// The one path of an action on a case, shared by every service that takes
// one (CaseworkService.TakeAction, the petitioner's PublicService.EvaluateCase):
// the case's engine decides, the written documents the decision issues are
// drafted, and the store applies both in one transaction, version-checked.
#ifndef XINFANG_SERVICES_COMMON_ACT_H_
#define XINFANG_SERVICES_COMMON_ACT_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "services/common/core.h"
#include "services/storage/case_store.h"
#include "workflow/engine.h"

namespace xinfang {

// Takes `request` on `rec` (as read) as `actor` at the core's clock, if the
// case is still at `expected_version`. The engine's refusals come back as it
// gave them (fields named "fields.NAME"); FAILED_PRECONDITION when the case's
// workflow version is not loaded; ABORTED when another change won the race
// since `expected_version` (storage's message: callers name the case).
absl::StatusOr<storage::Applied> Act(Core& core, const storage::CaseRecord& rec,
                                     int64_t expected_version,
                                     const workflow::ActionRequest& request,
                                     const workflow::Actor& actor, const workflow::OrgTree& org);

}  // namespace xinfang

#endif  // XINFANG_SERVICES_COMMON_ACT_H_
