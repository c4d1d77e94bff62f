// xfctl report, watch, stats: what CaseQueryService answers beyond single
// cases (the situation report, the event feed, the statistics).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "tools/xfctl/client.h"
#include "tools/xfctl/command.h"
#include "tools/xfctl/print.h"
#include "tools/xfctl/text.h"
#include "xinfang/v1/query.grpc.pb.h"

namespace xinfang::xfctl {
namespace {

namespace v1 = xinfang::v1;

std::string Csv(const std::vector<std::vector<std::string>>& rows) {
  std::string out;
  for (const auto& row : rows) {
    std::vector<std::string> cells;
    for (const auto& cell : row) {
      std::string q = "\"";
      for (char ch : cell) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
      cells.push_back(q + "\"");
    }
    absl::StrAppend(&out, absl::StrJoin(cells, ","), "\n");
  }
  return out;
}

// --format table|csv|json; json by default with --json.
absl::StatusOr<std::string> FormatFlag(const Context& ctx, const Args& a) {
  const std::string format = a.Get("format", ctx.global.json ? "json" : "table");
  if (format != "json" && format != "csv" && format != "table") {
    return absl::InvalidArgumentError("--format: table, csv or json");
  }
  return format;
}

CommandResult ReportCommand(Context& ctx, const Args& a) {
  v1::GetSituationReportRequest req;
  req.set_unit(a.Get("unit"));
  req.set_period(a.Get("period"));
  if (req.period().empty()) {
    return absl::InvalidArgumentError("report: --period 2026, 2026-Q1 or 2026-03");
  }
  absl::StatusOr<std::string> format = FormatFlag(ctx, a);
  if (!format.ok()) return format.status();
  auto resp = ctx.client.Call(&v1::CaseQueryService::Stub::GetSituationReport, req);
  if (!resp.ok()) return resp.status();
  const v1::GetSituationReportResponse& r = *resp;
  if (*format == "json") return PrintJson(r);
  auto change = [](int now, int before) {
    if (before == 0) return std::string(now == 0 ? "0%" : "new");
    return absl::StrFormat("%+.0f%%", 100.0 * (now - before) / before);
  };
  auto name = [&](const std::string& key) {
    auto it = r.names().find(key);
    return it == r.names().end() ? key : absl::StrCat(key, " ", it->second);
  };
  std::vector<std::vector<std::string>> rows = {
      {"figure", r.period(), r.previous_period(), "change", r.last_year_period(), "change"}};
  auto add = [&](const std::string& label, const v1::PeriodCount& c) {
    rows.push_back({label, absl::StrCat(c.count()), absl::StrCat(c.previous()),
                    change(c.count(), c.previous()), absl::StrCat(c.last_year()),
                    change(c.count(), c.last_year())});
  };
  add("收到 received", r.received());
  add("集体访/联名信 group petitions", r.group_petitions());
  for (const auto& [title, counts] :
       {std::pair{"channel", &r.by_channel()}, std::pair{"purpose", &r.by_purpose()},
        std::pair{"category", &r.by_category()}, std::pair{"unit", &r.by_unit()}}) {
    for (const auto& c : *counts) add(absl::StrCat(title, " ", name(c.key())), c);
  }
  auto rate = [](const v1::Rate& x) {
    return absl::StrFormat("%.1f%% (%d/%d)", 100 * x.rate(), x.numerator(), x.denominator());
  };
  std::vector<std::vector<std::string>> more = {{"figure", r.period()}};
  more.push_back({"重复信访率 repeat petitions", rate(r.repeat_petitions())});
  more.push_back({"按期受理告知率 on-time acceptance notice", rate(r.on_time_acceptance_notice())});
  more.push_back({"按期办结率 on-time completion", rate(r.on_time_completion())});
  more.push_back({"参评率 participation", rate(r.participation())});
  more.push_back({"满意率 satisfaction", rate(r.satisfaction())});
  more.push_back({"满意率 satisfaction, 信访工作机构 petition office",
                  rate(r.petition_office().satisfaction())});
  more.push_back({"预警 warnings raised", absl::StrCat(r.warnings_raised())});
  for (const auto& c : r.top_employers()) {
    more.push_back({absl::StrCat("用人单位 employer ", c.key()), absl::StrCat(c.count())});
  }
  for (const auto& c : r.top_matters()) {
    more.push_back({absl::StrCat("事项 matter ", name(c.key())), absl::StrCat(c.count())});
  }
  for (const auto& p : r.repeat_petitioners()) {
    more.push_back({absl::StrCat("重复信访人 repeat petitioner ", p.masked_name()),
                    absl::StrCat(p.petitions())});
  }
  for (const auto& c : r.backlog_by_age()) {
    more.push_back(
        {absl::StrCat("积案 open, days since receipt ", c.key()), absl::StrCat(c.count())});
  }
  if (*format == "csv") {
    std::cout << Csv(rows) << Csv(more);
    return 0;
  }
  std::cout << "situation report " << r.period() << (r.unit().empty() ? "" : " for ")
            << r.unit() << ", as of " << Local(r.as_of()) << "\n"
            << Table(rows) << "\n"
            << Table(more);
  return 0;
}

// Follows the event stream; with --cursor-file, resumes from the cursor saved
// there and saves each event's cursor after printing it.
CommandResult Watch(Context& ctx, const Args& a) {
  v1::WatchEventsRequest req;
  const std::string cursor_file = a.Get("cursor-file");
  req.set_cursor(a.Get("cursor"));
  if (!cursor_file.empty() && !a.Has("cursor")) {
    std::ifstream in(cursor_file);
    std::string saved;
    if (in >> saved) req.set_cursor(saved);
  }
  req.set_from_now(a.Has("from-now"));
  if (a.Has("case")) req.mutable_case_()->set_tracking_number(a.Get("case"));
  req.set_unit(a.Get("unit"));
  for (const auto& k : a.All("kind")) req.add_kinds(k);
  int limit = 0;
  if (a.Has("count") && (!absl::SimpleAtoi(a.Get("count"), &limit) || limit < 1)) {
    return absl::InvalidArgumentError("--count: a positive number");
  }
  auto stub = v1::CaseQueryService::NewStub(ctx.client.channel());
  grpc::ClientContext call;
  ctx.client.Identify(call);  // no deadline: a watch lasts until stopped (or --count)
  auto stream = stub->WatchEvents(&call, req);
  v1::WatchEventsResponse r;
  int n = 0;
  const bool until_caught_up = a.Has("until-caught-up");
  bool stopped = false;  // by us: --count or --until-caught-up
  while (stream->Read(&r)) {
    // The server's marker that the backlog is over is not an event: not
    // printed (but with --json), not counted; its cursor is saved like an
    // event's.
    if (ctx.global.json) {
      std::string line;
      google::protobuf::util::JsonPrintOptions o;
      o.preserve_proto_field_names = true;
      (void)google::protobuf::util::MessageToJsonString(r, &line, o);
      std::cout << line << "\n";
    } else if (!r.caught_up()) {
      const auto& e = r.event();
      std::string state = e.from_state() != e.to_state() && !e.from_state().empty()
                              ? absl::StrCat(e.from_state(), " → ", e.to_state())
                              : e.to_state();
      // Printed as they come: fixed column widths keep the lines aligned.
      std::cout << PadRight(Local(e.at()), 18) << PadRight(e.tracking_number(), 19)
                << PadRight(e.kind(), 18) << PadRight(state, 28) << e.actor() << "/"
                << e.actor_unit() << "\n";
    }
    std::cout << std::flush;
    if (!cursor_file.empty()) {
      std::ofstream out(cursor_file + ".tmp", std::ios::trunc);
      out << r.cursor() << "\n";
      out.close();
      std::rename((cursor_file + ".tmp").c_str(), cursor_file.c_str());
    }
    if (r.caught_up()) {
      if (!until_caught_up) continue;
      stopped = true;
      call.TryCancel();
      break;
    }
    if (limit > 0 && ++n >= limit) {
      stopped = true;
      call.TryCancel();
      break;
    }
  }
  grpc::Status s = stream->Finish();
  // Our own stop (--count, --until-caught-up) is CANCELLED; a server that
  // stops says UNAVAILABLE.
  if (!s.ok() && !(stopped && s.error_code() == grpc::StatusCode::CANCELLED)) {
    return Client::Failure(s);
  }
  return 0;
}


// The office's statistics (docs/statistics.md) for a unit subtree and a period.
CommandResult StatsCommand(Context& ctx, const Args& a) {
  v1::GetStatisticsRequest req;
  req.set_unit(a.Get("unit"));
  req.set_lapsed_counts_as_satisfied(a.Has("lapsed-satisfied"));
  req.set_recount(a.Has("recount"));
  absl::CivilDay from, to;
  if (!absl::ParseCivilTime(a.Get("from"), &from) || !absl::ParseCivilTime(a.Get("to"), &to)) {
    return absl::InvalidArgumentError(
        "stats: --from and --to are required dates (YYYY-MM-DD; --to inclusive: the last day "
        "counted)");
  }
  req.mutable_period_start()->set_seconds(absl::ToUnixSeconds(absl::FromCivil(from, Zone())));
  req.mutable_period_end()->set_seconds(absl::ToUnixSeconds(absl::FromCivil(to + 1, Zone())));
  absl::StatusOr<std::string> format = FormatFlag(ctx, a);
  if (!format.ok()) return format.status();
  auto resp = ctx.client.Call(&v1::CaseQueryService::Stub::GetStatistics, req);
  if (!resp.ok()) return resp.status();
  const v1::GetStatisticsResponse& r = *resp;
  if (*format == "json") return PrintJson(r);
  auto rate = [](const v1::Rate& x) {
    return std::vector<std::string>{absl::StrFormat("%.1f%%", 100 * x.rate()),
                                    absl::StrCat(x.numerator(), "/", x.denominator())};
  };
  std::vector<std::vector<std::string>> rows = {{"figure", "value", "of"}};
  auto add = [&](const std::string& name, const v1::Rate& x) {
    auto v = rate(x);
    rows.push_back({name, v[0], v[1]});
  };
  add("按期受理告知率 on-time acceptance notice", r.on_time_acceptance_notice());
  add("按期办结率 on-time completion", r.on_time_completion());
  add("重复信访率 repeat petitions", r.repeat_petitions());
  // The evaluation per target: the handling body (有权处理单位, also the
  // unqualified rows) and the petition office (信访工作机构).
  const char* lapsed = r.lapsed_counts_as_satisfied() ? " (lapsed counted)" : "";
  add("参评率 participation", r.participation());
  add(absl::StrCat("满意率 satisfaction", lapsed), r.satisfaction());
  for (const auto& [target, f] : {std::pair{"办理单位 handling body", &r.handling_unit()},
                                  std::pair{"信访工作机构 petition office", &r.petition_office()}}) {
    add(absl::StrCat("参评率 participation, ", target), f->participation());
    add(absl::StrCat("满意率 satisfaction, ", target, lapsed), f->satisfaction());
    rows.push_back({absl::StrCat("参评满意率 participation × satisfaction, ", target),
                    absl::StrFormat("%.1f%%", 100 * f->participation_satisfaction()), ""});
  }
  add("网上信访占比 online share", r.online_share());
  rows.push_back({"平均受理周期 avg. acceptance (days)",
                  absl::StrFormat("%.1f", r.average_acceptance_days()), ""});
  rows.push_back({"平均办理周期 avg. decision (days)",
                  absl::StrFormat("%.1f", r.average_decision_days()), ""});
  rows.push_back({"收到 received", absl::StrCat(r.received()), ""});
  for (const auto& [title, counts] :
       {std::pair{"channel", &r.by_channel()}, std::pair{"category", &r.by_category()},
        std::pair{"stage", &r.by_stage()}, std::pair{"state", &r.by_state()},
        std::pair{"unit", &r.by_unit()}, std::pair{"month", &r.by_month()}}) {
    for (const auto& c : *counts) {
      rows.push_back({absl::StrCat(title, " ", c.key()), absl::StrCat(c.count()), ""});
    }
  }
  if (*format == "csv") {
    std::cout << Csv(rows);
    return 0;
  }
  // The period as the API states it: start inclusive, end exclusive.
  std::cout << "period " << absl::FormatCivilTime(from) << " 00:00 (inclusive) to "
            << absl::FormatCivilTime(to + 1)
            << " 00:00 (exclusive), Asia/Shanghai: through the end of " << absl::FormatCivilTime(to)
            << "\n";
  std::cout << Table(rows);
  return 0;
}

}  // namespace

const std::vector<Command>& QueryCommands() {
  static const auto* const kCommands = new std::vector<Command>{
      {{"report"},
       "report --period 2026|2026-Q1|2026-03 [--unit U] [--format table|csv|json]",
       "the situation report (信访形势分析) beside the previous\n"
       "period and the same period a year before",
       {"unit", "period", "format"},
       ReportCommand},
      {{"watch"},
       "watch [--cursor C | --cursor-file F] [--from-now] [--case T] [--unit U] [--kind K]... "
       "[--count N] [--until-caught-up]",
       "follow case events in commit order; with --cursor-file,\n"
       "resume where the last run stopped",
       {"cursor", "cursor-file", "from-now", "case", "unit", "kind", "count", "until-caught-up"},
       Watch},
      {{"stats"},
       "stats --from YYYY-MM-DD --to YYYY-MM-DD [--unit U] [--lapsed-satisfied] [--recount] "
       "[--format table|csv|json]",
       "the statistics of docs/statistics.md for a unit subtree;\n"
       "--recount counts from the cases themselves (slow; checks the kept counts)",
       {"unit", "from", "to", "format", "lapsed-satisfied", "recount"},
       StatsCommand},
  };
  return *kCommands;
}

}  // namespace xinfang::xfctl
