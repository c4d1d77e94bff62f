// Who may do what, and what they see: the one place that decides
//   - which roles may call each RPC (CheckRpc; the table is in access.cc and
//     in docs/api.md "Access"),
//   - which cases a caller sees: those whose responsible unit lies in the
//     caller's unit subtree; auditors and service accounts see every unit,
//   - how much of a case: everything, personal numbers masked, or redacted
//     (procedure.md §3: anyone in the unit complained about, or who declared
//     a conflict of interest, and every service account, sees the case with
//     the petitioner's identity and the accusation text removed).
// Every read path builds its response and then passes it through Show().
#ifndef XINFANG_SERVICES_COMMON_ACCESS_H_
#define XINFANG_SERVICES_COMMON_ACCESS_H_

#include <set>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "workflow/definition.h"
#include "workflow/engine.h"
#include "xinfang/v1/case.pb.h"
#include "xinfang/v1/query.pb.h"

namespace xinfang {

// PERMISSION_DENIED unless `role` may call `rpc` ("GetCase", …).
// INTERNAL for an RPC missing from the table (a programming error).
absl::Status CheckRpc(const std::string& rpc, xinfang::v1::Role role);

// Auditors and service accounts (and the system) see every unit.
bool SeesEveryUnit(xinfang::v1::Role role);
// Intake clerks, case officers and auditors see ID and phone numbers (unless
// the case is redacted for them).
bool SeesPersonalNumbers(xinfang::v1::Role role);

// The unit subtree whose cases `actor` sees; empty: every unit.
std::string ScopeOf(const workflow::Actor& actor);

// PERMISSION_DENIED unless a case with this responsible unit is in scope.
absl::Status CheckCaseInScope(const workflow::Actor& actor, const std::string& tracking,
                              const std::string& responsible_unit, const workflow::OrgTree& org);

// The unit filter of a list, stream or count: empty → the caller's scope; a
// unit inside the scope → itself; an unknown unit → INVALID_ARGUMENT, any
// other → PERMISSION_DENIED, naming `field`.
absl::StatusOr<std::string> ScopedUnit(const workflow::Actor& actor, const std::string& field,
                                       const std::string& requested,
                                       const workflow::MapOrgTree& org);

enum class View {
  kFull,      // everything
  kMasked,    // ID and phone numbers masked
  kRedacted,  // identity and accusation removed
};

// What ties a case to a reader.
struct CaseTies {
  std::string complained_about_unit;
  std::set<std::string> conflicted_accounts;
  // The registering unit while it still holds the case, else empty. A
  // complaint about the registering office itself, or a unit above it, must
  // be forwarded out of that subtree (Art. 30); until then the office that
  // registered it sees it in full: it must pass it on, and the petitioner
  // brought it there.
  std::string registrar_holding;
};

View ViewOf(const workflow::Actor& actor, const CaseTies& ties, const workflow::OrgTree& org);

// Apply a view in place. Events keep their kind, states, actor, time and
// hash (so a redacted history still verifies); a redacted event loses its
// note and, for an action, every field that is not a date, unit, account,
// choice, number or flag of the action's definition (`def` may be null: all
// fields go). The system's own events keep their fields (units, timers,
// days, rungs).
void Show(View view, xinfang::v1::Case* c);
void Show(View view, xinfang::v1::CaseSummary* s);
void Show(View view, xinfang::v1::CaseEvent* e, const workflow::Definition* def);

// True when a case shown in full carries an ID or phone number, so the read
// must be recorded.
bool HasPersonalNumbers(const xinfang::v1::Case& c);

// "110101********1234", "138****5678".
std::string MaskIdNumber(const std::string& id);
std::string MaskPhone(const std::string& phone);
// "z*******@example.com": the first character and the domain.
std::string MaskEmail(const std::string& email);
// A person's name as warnings and reports show it: its first character, a
// star for each other ("张*", "欧阳**"). Never the name itself.
std::string MaskName(const std::string& name);

}  // namespace xinfang

#endif  // XINFANG_SERVICES_COMMON_ACCESS_H_
