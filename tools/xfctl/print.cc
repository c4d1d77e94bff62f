#include "tools/xfctl/print.h"

#include <fstream>
#include <iostream>
#include <map>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace xinfang::xfctl {
namespace {

namespace v1 = xinfang::v1;

const std::map<std::string, v1::Stage> kStages = {
    {"intake", v1::STAGE_INTAKE},     {"handling", v1::STAGE_HANDLING},
    {"decision", v1::STAGE_DECISION}, {"evaluation", v1::STAGE_EVALUATION},
    {"review", v1::STAGE_REVIEW},     {"recheck", v1::STAGE_RECHECK},
    {"final", v1::STAGE_FINAL}};

}  // namespace

std::string Json(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  o.add_whitespace = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, o);
  return out;
}

absl::Status WriteOut(const Args& a, const std::string& content) {
  if (!a.Has("out")) return absl::OkStatus();
  std::ofstream out(a.Get("out"), std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) return absl::InvalidArgumentError(absl::StrCat("--out: cannot write ", a.Get("out")));
  return absl::OkStatus();
}

int PrintJson(const google::protobuf::Message& m) {
  std::cout << Json(m);
  return 0;
}

absl::TimeZone Zone() {
  absl::TimeZone tz;
  if (!absl::LoadTimeZone("Asia/Shanghai", &tz)) tz = absl::FixedTimeZone(8 * 3600);
  return tz;
}

std::string Local(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return "";
  return absl::FormatTime("%Y-%m-%d %H:%M", absl::FromUnixSeconds(t.seconds()), Zone());
}

std::string StageLabel(v1::Stage s) {
  for (const auto& [name, stage] : kStages) {
    if (stage == s) return name;
  }
  return "?";
}

absl::StatusOr<v1::Stage> StageFlag(const Args& a) {
  if (!a.Has("stage")) return v1::STAGE_UNSPECIFIED;
  auto it = kStages.find(a.Get("stage"));
  if (it == kStages.end()) {
    return absl::InvalidArgumentError(
        "--stage: intake, handling, decision, evaluation, review, recheck or final");
  }
  return it->second;
}

void PrintNextPage(const std::string& token) {
  if (!token.empty()) std::cout << "more: --page-token " << token << "\n";
}

}  // namespace xinfang::xfctl
