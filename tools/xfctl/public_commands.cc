// xfctl public status, case reissue-code: the petitioner's side (the query
// code and PublicService). `public status` needs no token.
#include <fstream>
#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tools/xfctl/client.h"
#include "tools/xfctl/command.h"
#include "tools/xfctl/print.h"
#include "xinfang/v1/intake.grpc.pb.h"
#include "xinfang/v1/public.grpc.pb.h"

namespace xinfang::xfctl {
namespace {

namespace v1 = xinfang::v1;

CommandResult PrintStatus(Context& ctx, const v1::GetPublicStatusResponse& r) {
  if (ctx.global.json) return PrintJson(r);
  std::cout << absl::StrFormat("编号 Tracking      %s\n", r.tracking_number())
            << absl::StrFormat("收到 Received      %s\n", r.received_on())
            << absl::StrFormat("阶段 Stage         %s (%s)%s\n", r.stage_text(),
                               v1::Stage_Name(r.stage()), r.final() ? " 已终结 final" : "")
            << absl::StrFormat("状态 State         %s (%s)\n", r.state_text(), r.state())
            << absl::StrFormat("办理单位 Unit      %s\n", r.handling_unit_name())
            << absl::StrFormat("事项 Matter        %s\n", r.summary());
  if (!r.evaluation().empty()) {
    std::cout << "评价 Evaluation    办理单位 " << r.evaluation() << ", 信访工作机构 "
              << r.office_evaluation() << "\n";
  }
  if (r.dates_size() > 0) {
    std::cout << "\n期限 Dates\n";
    for (const v1::PublicDate& d : r.dates()) {
      std::cout << absl::StrFormat(
          "  %-10s  %s  %s%s%s%s\n", d.title(), d.last_day(), d.status_text(),
          d.closed_on().empty() ? "" : absl::StrCat(" ", d.closed_on()),
          d.provisional() ? " (暂定)" : "", d.suspended() ? " (中止计算)" : "");
    }
  }
  if (r.decisions_size() > 0) {
    std::cout << "\n处理结果 Decisions\n";
    for (const v1::PublicDecision& d : r.decisions()) {
      std::cout << absl::StrFormat("  %s  %s (%s)  %s  送达 %s %s\n    %s\n", d.title(),
                                   d.outcome_text(), d.outcome(), d.unit_name(), d.served_on(),
                                   d.service_text(), d.text());
    }
  }
  if (r.documents_size() > 0) {
    std::cout << "\n文书 Documents\n";
    for (const v1::PublicDocument& d : r.documents()) {
      std::cout << absl::StrFormat("  %s  %s  %s\n", d.issued_on(), d.title(), d.number());
    }
  }
  if (r.open_windows_size() > 0) {
    std::cout << "\n可以办理 Open now\n";
    for (const v1::PublicWindow& w : r.open_windows()) {
      std::cout << absl::StrFormat("  %s  至 %s  %s\n", w.title(), w.last_day(), w.how());
    }
  }
  if (r.can_evaluate()) {
    std::cout << "\n(evaluate online: xfctl public evaluate " << r.tracking_number()
              << " CODE --unit RATING --office RATING)\n";
  }
  return 0;
}

CommandResult PublicStatusCommand(Context& ctx, const Args& a) {
  auto args = ReadPublicStatusArgs(a);
  if (!args.ok()) return args.status();
  v1::GetPublicStatusRequest req;
  req.set_tracking_number(args->tracking_number);
  req.set_query_code(args->query_code);
  auto resp = ctx.client.Call(&v1::PublicService::Stub::GetPublicStatus, req);
  if (!resp.ok()) return resp.status();
  return PrintStatus(ctx, *resp);
}

CommandResult PublicEvaluateCommand(Context& ctx, const Args& a) {
  auto args = ReadPublicStatusArgs(a);
  if (!args.ok()) return args.status();
  v1::EvaluateCaseRequest req;
  req.set_tracking_number(args->tracking_number);
  req.set_query_code(args->query_code);
  req.set_unit_rating(a.Get("unit"));
  req.set_unit_reason(a.Get("unit-reason"));
  req.set_office_rating(a.Get("office"));
  req.set_office_reason(a.Get("office-reason"));
  auto resp = ctx.client.Call(&v1::PublicService::Stub::EvaluateCase, req);
  if (!resp.ok()) return resp.status();
  return PrintStatus(ctx, *resp);
}

CommandResult PublicDocumentCommand(Context& ctx, const Args& a) {
  if (a.positional.size() != 3) {
    return absl::InvalidArgumentError(
        "public document: TRACKING CODE NUMBER [--out FILE.html] (the number as the status lists it)");
  }
  v1::GetPublicDocumentRequest req;
  req.set_tracking_number(a.positional[0]);
  req.set_query_code(a.positional[1]);
  req.set_number(a.positional[2]);
  auto resp = ctx.client.Call(&v1::PublicService::Stub::GetPublicDocument, req);
  if (!resp.ok()) return resp.status();
  if (auto s = WriteOut(a, resp->html()); !s.ok()) return s;
  if (ctx.global.json) return PrintJson(*resp);
  std::cout << resp->title() << "  " << resp->number() << "  " << resp->issued_on() << "\n"
            << "SHA-256 " << resp->sha256() << "\n"
            << (a.Has("out") ? absl::StrCat("written to ", a.Get("out"), "\n")
                             : std::string("(--out FILE.html writes the page to print)\n"));
  return 0;
}

CommandResult ReissueCodeCommand(Context& ctx, const Args& a) {
  if (a.positional.size() != 1) {
    return absl::InvalidArgumentError("case reissue-code: TRACKING [--reason TEXT]");
  }
  v1::ReissueQueryCodeRequest req;
  req.set_tracking_number(a.positional[0]);
  req.set_reason(a.Get("reason"));
  auto resp = ctx.client.Call(&v1::IntakeService::Stub::ReissueQueryCode, req);
  if (!resp.ok()) return resp.status();
  if (ctx.global.json) return PrintJson(*resp);
  std::cout << "新查询码 New query code  " << resp->query_code().code()
            << "\n(the earlier code no longer works)\n\n"
            << resp->receipt();
  return 0;
}

}  // namespace

const std::vector<Command>& PublicCommands() {
  static const auto* const kCommands = new std::vector<Command>{
      {{"public", "status"},
       "public status TRACKING CODE",
       "the petitioner's view of a case, with the query code from the receipt (no token)",
       {},
       PublicStatusCommand},
      {{"public", "evaluate"},
       "public evaluate TRACKING CODE --unit RATING [--unit-reason TEXT] --office RATING "
       "[--office-reason TEXT]",
       "the petitioner's evaluation of the handling body and of the petition office, online "
       "(RATING: satisfied, basically_satisfied, dissatisfied; a reason with dissatisfied)",
       {"unit", "unit-reason", "office", "office-reason"},
       PublicEvaluateCommand},
      {{"public", "document"},
       "public document TRACKING CODE NUMBER [--out FILE.html]",
       "a written document served on the petitioner, as the status lists it (no token)",
       {"out"},
       PublicDocumentCommand},
      {{"case", "reissue-code"},
       "case reissue-code TRACKING [--reason TEXT]",
       "a new query code for a petitioner who lost theirs (the old one stops working)",
       {"reason"},
       ReissueCodeCommand},
  };
  return *kCommands;
}

}  // namespace xinfang::xfctl
