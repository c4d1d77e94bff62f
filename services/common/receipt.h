// The receipt (回执) printed for the petitioner at registration and shown
// again with the case: the tracking number, the day it was received, the
// date by which the intake decision is owed in writing, a refusal at
// registration with its basis; at registration (and on a reissue) also the
// query code, the public status address and its QR code.
#ifndef XINFANG_SERVICES_COMMON_RECEIPT_H_
#define XINFANG_SERVICES_COMMON_RECEIPT_H_

#include <string>

#include "workflow/calendar.h"
#include "xinfang/v1/case.pb.h"
#include "xinfang/v1/intake.pb.h"

namespace xinfang {

// `code`: the query code issued with this receipt; null when reprinted (the
// code is shown once: only its hash is kept).
std::string ReceiptText(const xinfang::v1::Case& c, const workflow::Calendar& calendar,
                        const xinfang::v1::QueryCode* code = nullptr);

}  // namespace xinfang

#endif  // XINFANG_SERVICES_COMMON_RECEIPT_H_
