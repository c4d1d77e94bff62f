// The receipt (回执) printed for the petitioner at registration and shown
// again with the case: the tracking number, the day it was received, the
// date by which the intake decision is owed in writing, a refusal at
// registration with its basis.
#ifndef XINFANG_SERVICES_COMMON_RECEIPT_H_
#define XINFANG_SERVICES_COMMON_RECEIPT_H_

#include <string>

#include "workflow/calendar.h"
#include "xinfang/v1/case.pb.h"

namespace xinfang {

std::string ReceiptText(const xinfang::v1::Case& c, const workflow::Calendar& calendar);

}  // namespace xinfang

#endif  // XINFANG_SERVICES_COMMON_RECEIPT_H_
