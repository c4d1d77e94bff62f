#include "services/common/receipt.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "services/common/grpc_util.h"

namespace xinfang {
namespace {

const char* ChannelName(xinfang::v1::Channel c) {
  switch (c) {
    case xinfang::v1::CHANNEL_VISIT: return "来访";
    case xinfang::v1::CHANNEL_CALL: return "来电";
    case xinfang::v1::CHANNEL_LETTER: return "来信";
    case xinfang::v1::CHANNEL_ONLINE: return "网上信访";
    default: return "";
  }
}

}  // namespace

std::string ReceiptText(const xinfang::v1::Case& c, const workflow::Calendar& calendar,
                        const xinfang::v1::QueryCode* code) {
  const absl::CivilDay received = calendar.LocalDay(FromProto(c.intake().received_at()));
  std::string text = absl::StrFormat(
      "信访事项回执\n编号: %s\n收到日期: %04d年%02d月%02d日 (%s)\n事项: %s\n", c.tracking_number(),
      received.year(), received.month(), received.day(), ChannelName(c.intake().channel()),
      c.intake().summary());
  for (const auto& d : c.deadlines()) {
    if (d.purpose() != xinfang::v1::TIMER_PURPOSE_INTAKE_NOTICE) continue;
    absl::CivilDay due;
    absl::ParseCivilTime(d.due_date(), &due);
    absl::StrAppendFormat(&text, "本机关将于 %04d年%02d月%02d日 前书面告知是否受理%s。\n",
                          due.year(), due.month(), due.day(), d.provisional() ? " (暂定)" : "");
  }
  // Not accepted at registration (final after re-check, or Art. 19): the
  // refusal and its basis, as the engine recorded them.
  const auto& attributes = c.attributes();
  if (c.has_closed_at() && attributes.contains("prior_case") && attributes.contains("article")) {
    absl::StrAppend(&text, "本事项不予受理 (", attributes.at("article"), "): 与 ",
                    attributes.at("prior_case"), " 为同一事项。",
                    c.intake().anonymous() ? "" : "书面告知书另行送达。", "\n");
  }
  if (c.intake().anonymous()) text += "匿名信访事项不书面告知受理情况。\n";
  if (code == nullptr || code->code().empty()) {
    absl::StrAppend(&text, "查询请提供编号 ", c.tracking_number(), "。\n");
    return text;
  }
  absl::StrAppend(&text, "查询码: ", code->code(), " (请妥善保管; 遗失可向登记机关申请补发)\n");
  if (!code->status_url().empty()) {
    absl::StrAppend(&text, "凭编号和查询码查询办理情况: ", code->status_url(), "\n",
                    code->qr_text());
  } else {
    absl::StrAppend(&text, "凭编号和查询码查询办理情况。\n");
  }
  return text;
}

}  // namespace xinfang
