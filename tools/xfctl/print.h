// What more than one group of commands prints, and the flags they share:
// JSON, local times, stages (by name, both ways), list pages.
#ifndef XINFANG_TOOLS_XFCTL_PRINT_H_
#define XINFANG_TOOLS_XFCTL_PRINT_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "tools/xfctl/args.h"
#include "xinfang/v1/case.pb.h"

namespace xinfang::xfctl {

// The message as indented JSON with the proto field names (--json).
std::string Json(const google::protobuf::Message& m);
// Prints Json(m): a command's whole output with --json. Returns 0, the exit
// code, for `return PrintJson(resp);`.
int PrintJson(const google::protobuf::Message& m);
// With --out FILE, writes `content` there (a document's page); nothing
// without it. INVALID_ARGUMENT "--out: cannot write FILE".
absl::Status WriteOut(const Args& a, const std::string& content);

// The office's time zone, Asia/Shanghai (UTC+8 if the zone is not installed).
absl::TimeZone Zone();
// "2026-03-02 09:00" in Zone(); "" for an unset time.
std::string Local(const google::protobuf::Timestamp& t);

// "handling" for STAGE_HANDLING; "?" for none.
std::string StageLabel(xinfang::v1::Stage s);
// --stage NAME; STAGE_UNSPECIFIED (no filter) without the flag.
absl::StatusOr<xinfang::v1::Stage> StageFlag(const Args& a);

// The flags of a list of cases or deadlines: --page-token, --page-size
// (`page_size` without it) and --stage.
template <typename Req>
absl::Status SetListFlags(const Args& a, int page_size, Req& req) {
  req.set_page_token(a.Get("page-token"));
  absl::StatusOr<int> size = a.Number<int>("page-size", page_size);
  if (!size.ok()) return size.status();
  req.set_page_size(*size);
  absl::StatusOr<xinfang::v1::Stage> stage = StageFlag(a);
  if (!stage.ok()) return stage.status();
  req.set_stage(*stage);
  return absl::OkStatus();
}

// "more: --page-token T" when there is a next page.
void PrintNextPage(const std::string& token);

}  // namespace xinfang::xfctl

#endif  // XINFANG_TOOLS_XFCTL_PRINT_H_
