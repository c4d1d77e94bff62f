// The petitions and the instant the integration tests start from, in one
// place: each test varies the usual petition rather than writing its own.
#ifndef XINFANG_TESTS_TESTING_PETITIONS_H_
#define XINFANG_TESTS_TESTING_PETITIONS_H_

#include <string>

#include "absl/time/time.h"
#include "xinfang/v1/intake.pb.h"

namespace xinfang::testing {

// 2026-03-02 09:00 in Shanghai, a Monday: where the simulated clocks start.
absl::Time Monday();

// The usual petition: one worker, 张三 (ID number 11010519491231002X, phone
// 13800000000), comes in person about three months' unpaid wages
// (wages.arrears, a claim) at 某建筑公司.
xinfang::v1::RegisterCaseRequest WagesVisit(const std::string& request_id);

// An anonymous visit about unpaid wages, registered for `unit` (empty: the
// clerk's own): with no petitioner, no rule across cases can interfere.
xinfang::v1::RegisterCaseRequest AnonymousWagesVisit(const std::string& request_id,
                                                     const std::string& unit = "");

}  // namespace xinfang::testing

#endif  // XINFANG_TESTS_TESTING_PETITIONS_H_
