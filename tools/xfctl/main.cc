// xfctl: the command-line client of intake staff, case officers and
// supervisors. `xfctl help` lists the commands; docs/cli.md explains them.
#include <grpcpp/grpcpp.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "tools/xfctl/text.h"
#include "xinfang/v1/admin.grpc.pb.h"
#include "xinfang/v1/casework.grpc.pb.h"
#include "xinfang/v1/intake.grpc.pb.h"
#include "xinfang/v1/query.grpc.pb.h"
#include "xinfang/v1/supervision.grpc.pb.h"

namespace xinfang::xfctl {
namespace {

namespace v1 = xinfang::v1;

constexpr char kUsage[] = R"(usage: xfctl [global flags] COMMAND [args]

Commands:
  case register [flags]          register a petition (flags below)
  case show TRACKING             a case with its deadlines and timeline
  case list [filters]            cases, newest first: --state --stage --channel --category
                                 --unit (and below) --overdue --from/--to YYYY-MM-DD (received)
                                 --petitioner NAME|ID|PHONE --page-size N --page-token T
  case history TRACKING          the case's events
  case actions TRACKING          what you may do with the case now
  case act TRACKING ACTION [--field NAME=VALUE]... [--note TEXT] [--version N]
  case verify TRACKING           check the history's hash chain
  queue [--unit U] [--stage S] [--mine | --officer NAME]
                                 my queue: every open deadline in my scope, nearest first, days
                                 left; --mine: only the cases assigned to me
  sup due [filters]              deadlines falling due within 7 days (and overdue ones)
  sup overdue [filters]          deadlines already passed
     filters: --unit U (owing unit and below) --stage S --timer T --escalated
              --min-days N (overdue at least N days) --page-size N --page-token T
  sup notice issue TRACKING --kind urge|interview|public_notice|listed_supervision
                 --text TEXT [--reply-days N]      督办: press the responsible unit
  sup notice reply TRACKING --text TEXT            the unit's written reply
  sup notice list [filters]      notices awaiting a reply
  sup dashboard [--unit U]       counts per unit and stage
  sup warnings [--unit U] [--state raised|acknowledged|handled|closed]... [--all] [--rule R]
                                 early warnings (open ones unless --state or --all), newest first
  sup warning show|ack|handle|close ID [--note TEXT] [--version N]
                                 one warning with its petitions and steps; move it on
                                 (handle needs --note; --version defaults to the current one)
  report --period 2026|2026-Q1|2026-03 [--unit U] [--format table|csv|json]
                                 the situation report (信访形势分析) beside the previous
                                 period and the same period a year before
  watch [--cursor C | --cursor-file F] [--from-now] [--case T] [--unit U] [--kind K]... [--count N] [--until-caught-up]
                                 follow case events in commit order; with --cursor-file,
                                 resume where the last run stopped
  stats --from YYYY-MM-DD --to YYYY-MM-DD [--unit U] [--lapsed-satisfied] [--format table|csv|json]
                                 the statistics of docs/statistics.md for a unit subtree
  clock advance DURATION         move a simulated clock (e.g. 36h, 15d)
  info                           what the server runs
  whoami                         the account your token belongs to
  admin account create NAME --role ROLE --unit UNIT [--display-name TEXT]
  admin account list [--unit U]  accounts (of your unit and below)
  admin account disable|enable NAME   a disabled account's tokens stop working at once
  admin account password NAME    set a person's password (read from stdin; changed at first sign-in)
  admin token issue ACCOUNT [--ttl-days N] [--label TEXT]
                                 a new token: printed once, never stored by the server
  admin token list [ACCOUNT]     tokens (never their secrets)
  admin token revoke ID          refused from the next call on
  admin unit put CODE --name TEXT [--parent UNIT]
                                 add a unit under PARENT, or rename one (its parent is fixed)
  admin category put CODE --name TEXT [--parent CODE] [--retire]
                                 add or rename a category; --retire stops offering it
  admin reference [--all]        units and categories (--all: with retired categories)
  admin access-log [--account A] [--case TRACKING] [--page-size N] [--page-token T]
                                 who read unmasked ID or phone numbers (auditors)

Global flags (environment in brackets):
  --server HOST:PORT   [XFCTL_SERVER]     default 127.0.0.1:50051
  --token TOKEN        [XFCTL_TOKEN]      your bearer token (xf_…), from your administrator
  --token-file FILE    [XFCTL_TOKEN_FILE] read the token from a file (keeps it out of `ps`)
  --tls-ca FILE        [XFCTL_TLS_CA]     use TLS; trust server certificates signed by this CA
  --tls-cert FILE      [XFCTL_TLS_CERT]   client certificate for mutual TLS (with --tls-key)
  --tls-key FILE       [XFCTL_TLS_KEY]    its private key
  --timeout SECONDS    [XFCTL_TIMEOUT]    per call, default 10
  --json                                  machine-readable output
  Defaults may also be set as KEY=VALUE lines (server, token, token-file, tls-ca,
  tls-cert, tls-key, timeout) in $XFCTL_CONFIG or ~/.config/xfctl/config.

case register flags:
  --channel visit|call|letter|online (required)   --received-at RFC3339 (default now)
  --name NAME --id-number ID --phone PHONE --address ADDR   (main petitioner)
  --co-petitioner NAME (repeatable)   --anonymous
  --same-person   the ID number is already registered under another name: it is the same person
  --purpose claim|suggestion|appeal|accusation|other   --category CODE
  --summary TEXT --request TEXT --facts TEXT --location TEXT
  --complained-about TEXT --complained-unit UNIT --attachment REF (repeatable)
  visit: --people N --representative NAME (repeatable, at most 5)
  call: --caller-number PHONE --call-ref REF
  letter: --postmark YYYY-MM-DD --sender-address ADDR --scan REF (repeatable)
  online: --platform NAME --ref REF
  --request-id ID   retry-safe id (default: a new random one)
  --interactive     ask for the details one by one (also the default when run
                    at a terminal with no flags)
)";

struct Global {
  std::string server = "127.0.0.1:50051";
  std::string token;
  std::string tls_ca, tls_cert, tls_key;
  int timeout = 10;
  bool json = false;
};

// Flags after the command: --name value (repeatable) or --flag.
struct Args {
  std::vector<std::string> positional;
  std::multimap<std::string, std::string> flags;
  std::string Get(const std::string& k, const std::string& def = "") const {
    auto it = flags.find(k);
    return it == flags.end() ? def : it->second;
  }
  std::vector<std::string> All(const std::string& k) const {
    std::vector<std::string> out;
    for (auto [it, end] = flags.equal_range(k); it != end; ++it) out.push_back(it->second);
    return out;
  }
  bool Has(const std::string& k) const { return flags.contains(k); }
};

const std::set<std::string> kBoolFlags = {"json",     "anonymous",        "overdue",
                                          "help",     "interactive",      "escalated",
                                          "from-now", "lapsed-satisfied", "until-caught-up", "same-person",
                                          "mine",     "retire",           "all"};
const std::set<std::string> kGlobalFlags = {"server", "token",    "token-file", "tls-ca",
                                            "tls-cert", "tls-key", "timeout",    "json"};

// Flags each command takes besides the global ones.
const std::map<std::string, std::set<std::string>> kCommandFlags = {
    {"case register",
     {"channel",
      "received-at",
      "name",
      "id-number",
      "phone",
      "address",
      "co-petitioner",
      "anonymous",
      "purpose",
      "category",
      "summary",
      "request",
      "facts",
      "location",
      "complained-about",
      "complained-unit",
      "attachment",
      "people",
      "representative",
      "caller-number",
      "call-ref",
      "postmark",
      "sender-address",
      "scan",
      "platform",
      "ref",
      "request-id",
      "interactive",
      "same-person"}},
    {"case show", {}},
    {"case list",
     {"state", "stage", "channel", "category", "unit", "overdue", "from", "to", "petitioner",
      "page-size", "page-token"}},
    {"case history", {}},
    {"case actions", {}},
    {"case act", {"field", "note", "version"}},
    {"case verify", {}},
    {"sup due",
     {"unit", "overdue", "timer", "stage", "escalated", "min-days", "page-size", "page-token"}},
    {"sup overdue", {"unit", "timer", "stage", "escalated", "min-days", "page-size", "page-token"}},
    {"sup dashboard", {"unit"}},
    {"sup warnings", {"unit", "state", "rule", "all", "page-size", "page-token"}},
    {"sup warning", {"note", "version"}},
    {"report", {"unit", "period", "format"}},
    {"sup notice", {"unit", "kind", "text", "reply-days", "page-size", "page-token"}},
    {"clock advance", {}},
    {"stats", {"unit", "from", "to", "format", "lapsed-satisfied"}},
    {"watch",
     {"cursor", "cursor-file", "from-now", "case", "unit", "kind", "count", "until-caught-up"}},
    {"info", {}},
    {"queue", {"unit", "stage", "page-size", "page-token", "mine", "officer"}},
    {"whoami", {}},
    {"admin account", {"role", "unit", "display-name"}},
    {"admin token", {"ttl-days", "label"}},
    {"admin access-log", {"account", "case", "page-size", "page-token"}},
    {"admin unit", {"name", "parent"}},
    {"admin category", {"name", "parent", "retire"}},
    {"admin reference", {"all"}},
};

bool HasNoInlineValue(const std::string& arg) { return arg.find('=') == std::string::npos; }

[[noreturn]] void Fail(const std::string& msg, int code = 2) {
  std::fprintf(stderr, "xfctl: %s\n", msg.c_str());
  std::exit(code);
}

// `allowed`: the command's own flags (global ones are always allowed).
Args ParseArgs(const std::vector<std::string>& in, std::size_t from, const std::string& command,
               const std::set<std::string>& allowed) {
  Args a;
  for (std::size_t i = from; i < in.size(); ++i) {
    const std::string& s = in[i];
    if (s.rfind("--", 0) == 0 && s.size() > 2) {
      std::string name = s.substr(2), value;
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
      }
      if (!kGlobalFlags.contains(name) && !allowed.contains(name)) {
        Fail(absl::StrCat(command, ": unknown flag --", name, " (see xfctl help)"));
      }
      if (HasNoInlineValue(s) && !kBoolFlags.contains(name)) {
        if (i + 1 >= in.size()) Fail(absl::StrCat("flag --", name, " needs a value"));
        value = in[++i];
      }
      a.flags.emplace(name, value);
    } else {
      a.positional.push_back(s);
    }
  }
  return a;
}

std::string ReadFileOrFail(const std::string& flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) Fail(absl::StrCat(flag, ": cannot read '", path, "'"));
  return text.str();
}

// Sets a global string setting by its flag name; false if there is none.
bool SetGlobal(Global& g, const std::string& name, const std::string& value) {
  if (name == "server") g.server = value;
  else if (name == "token") g.token = value;
  // The later setting wins: config file < environment < flags.
  else if (name == "token-file") g.token = std::string(absl::StripAsciiWhitespace(
      ReadFileOrFail("--token-file", value)));
  else if (name == "tls-ca") g.tls_ca = value;
  else if (name == "tls-cert") g.tls_cert = value;
  else if (name == "tls-key") g.tls_key = value;
  else return false;
  return true;
}

void LoadConfigFile(Global& g) {
  std::string path;
  if (const char* p = std::getenv("XFCTL_CONFIG")) {
    path = p;
  } else if (const char* home = std::getenv("HOME")) {
    path = absl::StrCat(home, "/.config/xfctl/config");
  }
  std::ifstream f(path);
  std::string line;
  while (std::getline(f, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string k = line.substr(0, eq), v = line.substr(eq + 1);
    if (k == "timeout") absl::SimpleAtoi(v, &g.timeout);
    else SetGlobal(g, k, v);
  }
}

void ApplyEnv(Global& g) {
  for (const auto& [var, name] : {std::pair{"XFCTL_SERVER", "server"}, {"XFCTL_TOKEN", "token"},
                                  {"XFCTL_TOKEN_FILE", "token-file"}, {"XFCTL_TLS_CA", "tls-ca"},
                                  {"XFCTL_TLS_CERT", "tls-cert"}, {"XFCTL_TLS_KEY", "tls-key"}}) {
    if (const char* v = std::getenv(var)) SetGlobal(g, name, v);
  }
  if (const char* v = std::getenv("XFCTL_TIMEOUT")) absl::SimpleAtoi(v, &g.timeout);
}

// Plaintext, or TLS when a CA (or a client certificate) is given.
std::shared_ptr<grpc::ChannelCredentials> Credentials(const Global& g) {
  if (g.tls_ca.empty() && g.tls_cert.empty() && g.tls_key.empty()) {
    return grpc::InsecureChannelCredentials();
  }
  if (g.tls_cert.empty() != g.tls_key.empty()) Fail("--tls-cert and --tls-key go together");
  grpc::SslCredentialsOptions opts;
  if (!g.tls_ca.empty()) opts.pem_root_certs = ReadFileOrFail("--tls-ca", g.tls_ca);
  if (!g.tls_cert.empty()) {
    opts.pem_cert_chain = ReadFileOrFail("--tls-cert", g.tls_cert);
    opts.pem_private_key = ReadFileOrFail("--tls-key", g.tls_key);
  }
  return grpc::SslCredentials(opts);
}

class Client {
 public:
  explicit Client(const Global& g)
      : g_(g), channel_(grpc::CreateChannel(g.server, Credentials(g))) {}

  std::shared_ptr<grpc::Channel> channel() const { return channel_; }

  void Prepare(grpc::ClientContext& ctx) const {
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(g_.timeout));
    Identify(ctx);
  }

  // The caller's bearer token only (for calls without a deadline).
  void Identify(grpc::ClientContext& ctx) const {
    if (!g_.token.empty()) ctx.AddMetadata("authorization", "Bearer " + g_.token);
  }

  template <typename Stub, typename Req, typename Resp, typename Method>
  Resp Call(Method method, const Req& req) {
    auto stub = Stub::NewStub(channel_);
    grpc::ClientContext ctx;
    Prepare(ctx);
    Resp resp;
    grpc::Status s = ((*stub).*method)(&ctx, req, &resp);
    if (!s.ok()) {
      Fail(absl::StrCat(CodeName(s.error_code()), ": ", s.error_message()), 1);
    }
    return resp;
  }

  static std::string CodeName(grpc::StatusCode c) {
    static const char* kNames[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT",
                                   "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
                                   "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
                                   "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
                                   "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
                                   "UNAUTHENTICATED"};
    const int i = static_cast<int>(c);
    return i >= 0 && i < 17 ? kNames[i] : absl::StrCat("code ", i);
  }

 private:
  const Global& g_;
  std::shared_ptr<grpc::Channel> channel_;
};

std::string Json(const google::protobuf::Message& m) {
  std::string out;
  google::protobuf::util::JsonPrintOptions o;
  o.preserve_proto_field_names = true;
  o.add_whitespace = true;
  (void)google::protobuf::util::MessageToJsonString(m, &out, o);
  return out;
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

const char* ChannelLabel(v1::Channel c) {
  switch (c) {
    case v1::CHANNEL_VISIT: return "来访 visit";
    case v1::CHANNEL_CALL: return "来电 call";
    case v1::CHANNEL_LETTER: return "来信 letter";
    case v1::CHANNEL_ONLINE: return "网上 online";
    default: return "?";
  }
}

v1::CaseRef Ref(const Args& a, const char* what) {
  if (a.positional.empty()) Fail(absl::StrCat(what, ": give the tracking number"));
  v1::CaseRef r;
  r.set_tracking_number(a.positional[0]);
  return r;
}

std::string RandomRequestId() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd() ^
                      static_cast<uint64_t>(absl::ToUnixNanos(absl::Now())));
  return absl::StrFormat("xfctl-%016x%016x", gen(), gen());
}

// "省总工会 (prov)": a unit by the name the server gives, with its code.
std::string UnitLabel(const v1::Case& c, const std::string& code) {
  if (code.empty()) return "";
  auto it = c.unit_names().find(code);
  return it == c.unit_names().end() ? code : absl::StrCat(it->second, " (", code, ")");
}

std::string Day(const google::protobuf::Timestamp& t) { return Local(t).substr(0, 10); }

// The record of what the procedure produced (Case.routing, .decisions …).
void PrintRecord(const v1::Case& c) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : c.routing()) {
    rows.push_back({"转办 Routing", absl::StrCat(Day(r.at()), " ", r.action(), ": ",
                                                UnitLabel(c, r.from_unit()), " → ",
                                                UnitLabel(c, r.to_unit()), " by ", r.by(),
                                                r.reason().empty() ? "" : "; " + r.reason())});
  }
  for (const auto& o : c.objections()) {
    std::string answer = o.answer().empty()
                             ? "pending"
                             : absl::StrCat(o.answer(), " by ", o.answered_by(), " on ",
                                            Day(o.answered_at()));
    rows.push_back({"异议 Objection", absl::StrCat(Day(o.at()), " by ", o.by(), ": ", o.reasons(),
                                                  " — ", answer)});
  }
  for (const auto& e : c.extensions()) {
    std::string line = absl::StrCat("requested ", Day(e.requested_at()), " by ", e.requested_by(),
                                    " (", e.requested_days(), " days)",
                                    e.reason().empty() ? "" : ": " + e.reason());
    if (!e.answer().empty()) {
      absl::StrAppend(&line, "; ", e.approved() ? "approved " : "refused ", Day(e.answered_at()),
                      " by ", e.answered_by());
      if (e.approved()) {
        absl::StrAppend(&line, ", ", e.days(), " days, petitioner told on ",
                        e.petitioner_told_on());
      }
    }
    rows.push_back({"延期 Extension", line});
  }
  for (const auto& d : c.decisions()) {
    const char* label = d.stage() == v1::STAGE_REVIEW    ? "复查意见 Review"
                        : d.stage() == v1::STAGE_RECHECK ? "复核意见 Re-check"
                                                         : "处理意见 Decision";
    rows.push_back({label, absl::StrCat(Day(d.decided_at()), " ", d.outcome(), " by ",
                                        d.decided_by(), " (", UnitLabel(c, d.unit()), ")",
                                        d.text().empty() ? "" : ": " + d.text())});
  }
  for (const auto& s : c.services()) {
    rows.push_back({"送达 Service", absl::StrCat(s.served_on(), " (", v1::Stage_Name(s.stage()), ")",
                                                s.method().empty() ? "" : ", " + s.method(),
                                                ", recorded by ", s.recorded_by())});
  }
  for (const auto& h : c.hearings()) {
    rows.push_back({"听证 Hearing", absl::StrCat(Local(h.started_at()), " – ",
                                                h.has_ended_at() ? Local(h.ended_at()) : "…",
                                                " ", UnitLabel(c, h.unit()))});
  }
  if (rows.empty()) return;
  std::cout << "\n办理记录 Record\n" << Table(rows);
}

void PrintCase(const v1::Case& c) {
  const auto& in = c.intake();
  std::vector<std::vector<std::string>> rows = {
      {"编号 Tracking", c.tracking_number()},
      {"状态 State", absl::StrCat(c.state(), " (", v1::Stage_Name(c.stage()), ")")},
      {"渠道 Channel", ChannelLabel(in.channel())},
      {"收到 Received", Local(in.received_at())},
      {"登记 Registered", absl::StrCat(Local(c.registered_at()), " by ", c.registered_by())},
      {"承办单位 Unit", UnitLabel(c, c.responsible_unit())},
  };
  if (!in.registering_unit().empty() && in.registering_unit() != c.responsible_unit()) {
    rows.push_back({"登记单位 Registered at", UnitLabel(c, in.registering_unit())});
  }
  if (!c.forwarder_unit().empty()) rows.push_back({"交转单位 Forwarder", UnitLabel(c, c.forwarder_unit())});
  if (!c.review_unit().empty()) rows.push_back({"复查机关 Review body", UnitLabel(c, c.review_unit())});
  if (!c.recheck_unit().empty()) {
    rows.push_back({"复核机关 Re-check body", UnitLabel(c, c.recheck_unit())});
  }
  if (!c.case_officer().empty()) rows.push_back({"承办人 Officer", c.case_officer()});
  if (c.redacted()) {
    rows.push_back({"保密 Redacted", "信访人身份与反映内容对您不可见 (identity and accusation withheld)"});
  }
  if (in.anonymous()) {
    rows.push_back({"信访人 Petitioner", "匿名 anonymous"});
  } else {
    for (int i = 0; i < in.petitioners_size(); ++i) {
      const auto& p = in.petitioners(i);
      std::string who = p.name();
      if (!p.id_number().empty()) absl::StrAppend(&who, "  ", p.id_number());
      if (!p.phone().empty()) absl::StrAppend(&who, "  ", p.phone());
      rows.push_back({i == 0 ? "信访人 Petitioner" : "共同信访人 Co-petitioner", who});
    }
  }
  rows.push_back({"类别 Category", c.category_name().empty()
                                       ? in.category()
                                       : absl::StrCat(c.category_name(), " (", in.category(), ")")});
  rows.push_back({"事项 Summary", in.summary()});
  if (!in.request().empty()) rows.push_back({"诉求 Request", in.request()});
  if (!in.complained_about().empty()) rows.push_back({"被反映对象 About", in.complained_about()});
  if (!in.complained_about_unit().empty()) {
    rows.push_back({"被反映单位 About unit", UnitLabel(c, in.complained_about_unit())});
  }
  if (!c.outcome().empty()) rows.push_back({"处理意见 Outcome", c.outcome()});
  if (!c.evaluation().empty()) rows.push_back({"评价 Evaluation", c.evaluation()});
  if (c.related_tracking_numbers_size() > 0) {
    rows.push_back({"重复件 Repeat of", absl::StrJoin(c.related_tracking_numbers(), ", ")});
  }
  rows.push_back({"版本 Version", absl::StrCat(c.version())});
  std::cout << Table(rows);
  PrintRecord(c);
  if (c.deadlines_size() > 0) {
    std::cout << "\n期限 Deadlines\n";
    std::vector<std::vector<std::string>> d = {
        {"  timer", "due (last day)", "status", "how it was computed"}};
    for (const auto& dl : c.deadlines()) {
      std::string status = dl.overdue() ? "OVERDUE" : "open";
      if (dl.suspended()) status = "suspended";
      if (dl.provisional()) status += ", provisional";
      if (dl.rung() > 0) absl::StrAppend(&status, ", escalated x", dl.rung());
      d.push_back({"  " + dl.timer(), dl.due_date(), status, dl.explanation()});
    }
    std::cout << Table(d);
  }
}

void PrintEvents(const google::protobuf::RepeatedPtrField<v1::CaseEvent>& events) {
  std::vector<std::vector<std::string>> rows = {{"#", "time", "event", "state", "by", "note"}};
  for (const auto& e : events) {
    std::string state = e.to_state();
    if (!e.from_state().empty() && e.from_state() != e.to_state()) {
      state = absl::StrCat(e.from_state(), " → ", e.to_state());
    }
    std::string by = absl::StrCat(e.actor(), "/", e.actor_unit());
    std::string note = e.note();
    const std::map<std::string, std::string> fields(e.fields().begin(), e.fields().end());
    for (const auto& [k, v] : fields) {
      absl::StrAppend(&note, note.empty() ? "" : "; ", k, "=", v);
    }
    rows.push_back({absl::StrCat(e.seq()), Local(e.at()), e.kind(), state, by, note});
  }
  std::cout << Table(rows);
}

// Asks for what a clerk records at the desk, one line each; an empty answer
// keeps the flag's value (if any) or leaves the item out.
Args PromptForIntake(Args a) {
  struct Question {
    const char* flag;
    const char* prompt;
  };
  static constexpr Question kQuestions[] = {
      {"channel", "渠道 channel (visit/call/letter/online)"},
      {"name", "信访人姓名 petitioner's name (empty: anonymous)"},
      {"id-number", "身份证号 ID number"},
      {"phone", "电话 phone"},
      {"address", "地址 address"},
      {"purpose", "目的 purpose (claim/suggestion/appeal/accusation/other)"},
      {"category", "类别 category (e.g. wages.arrears)"},
      {"summary", "事项 summary"},
      {"request", "诉求 request"},
      {"facts", "事实和理由 facts and reasons"},
      {"complained-about", "被反映对象 unit or person complained about"},
  };
  for (const Question& q : kQuestions) {
    const std::string current = a.Get(q.flag);
    std::cerr << q.prompt << (current.empty() ? "" : " [" + current + "]") << ": " << std::flush;
    std::string line;
    if (!std::getline(std::cin, line)) break;
    if (line.empty()) continue;
    a.flags.erase(q.flag);
    a.flags.emplace(q.flag, line);
  }
  if (a.Get("name").empty() && !a.Has("anonymous")) a.flags.emplace("anonymous", "");
  const std::string channel = a.Get("channel");
  const std::vector<Question> details =
      channel == "visit"    ? std::vector<Question>{{"people", "在场人数 people present"}}
      : channel == "call"   ? std::vector<Question>{{"caller-number", "来电号码 caller number"},
                                                    {"call-ref", "来电编号 call reference"}}
      : channel == "letter" ? std::vector<Question>{{"postmark", "邮戳日期 postmark (YYYY-MM-DD)"},
                                                    {"sender-address", "寄信地址 sender address"}}
      : channel == "online" ? std::vector<Question>{{"platform", "平台 platform"},
                                                    {"ref", "平台编号 platform reference"}}
                            : std::vector<Question>{};
  for (const Question& q : details) {
    std::cerr << q.prompt << ": " << std::flush;
    std::string line;
    if (!std::getline(std::cin, line)) break;
    if (!line.empty()) a.flags.emplace(q.flag, line);
  }
  return a;
}

int CaseRegister(Client& client, const Global& g, Args a) {
  // Prompts with --interactive, or when a person runs it with no details.
  if (a.Has("interactive") || (a.flags.empty() && isatty(STDIN_FILENO))) a = PromptForIntake(a);
  v1::RegisterCaseRequest req;
  req.set_request_id(a.Get("request-id", RandomRequestId()));
  v1::CaseIntake& in = *req.mutable_intake();
  const std::string channel = a.Get("channel");
  // A detail of another channel is refused, never dropped.
  const std::map<std::string, std::string> detail_channel = {
      {"people", "visit"},          {"representative", "visit"}, {"caller-number", "call"},
      {"call-ref", "call"},         {"postmark", "letter"},      {"sender-address", "letter"},
      {"scan", "letter"},           {"platform", "online"},      {"ref", "online"}};
  for (const auto& [flag, owner] : detail_channel) {
    if (a.Has(flag) && owner != channel) {
      Fail(absl::StrCat("case register: --", flag, " is a detail of a ", owner,
                        ", not of --channel ", channel.empty() ? "(none)" : channel));
    }
  }
  if (channel == "visit") {
    in.set_channel(v1::CHANNEL_VISIT);
    auto* v = in.mutable_visit();
    int people = 0;
    if (a.Has("people") && !absl::SimpleAtoi(a.Get("people"), &people)) Fail("--people: not a number");
    v->set_people_present(people);
    for (const auto& r : a.All("representative")) v->add_representatives(r);
  } else if (channel == "call") {
    in.set_channel(v1::CHANNEL_CALL);
    in.mutable_call()->set_caller_number(a.Get("caller-number"));
    in.mutable_call()->set_call_reference(a.Get("call-ref"));
  } else if (channel == "letter") {
    in.set_channel(v1::CHANNEL_LETTER);
    auto* l = in.mutable_letter();
    l->set_postmark_date(a.Get("postmark"));
    l->set_sender_address(a.Get("sender-address"));
    for (const auto& s : a.All("scan")) l->add_scan_references(s);
  } else if (channel == "online") {
    in.set_channel(v1::CHANNEL_ONLINE);
    in.mutable_online()->set_platform(a.Get("platform"));
    in.mutable_online()->set_reference(a.Get("ref"));
  } else {
    Fail("case register: --channel must be visit, call, letter or online");
  }
  if (a.Has("received-at")) {
    absl::Time t;
    std::string err;
    if (!absl::ParseTime(absl::RFC3339_full, a.Get("received-at"), &t, &err)) {
      Fail(absl::StrCat("--received-at: not an RFC 3339 instant (", err, ")"));
    }
    in.mutable_received_at()->set_seconds(absl::ToUnixSeconds(t));
  }
  in.set_anonymous(a.Has("anonymous"));
  if (a.Has("name") || a.Has("id-number") || a.Has("phone")) {
    auto* p = in.add_petitioners();
    p->set_name(a.Get("name"));
    p->set_id_number(a.Get("id-number"));
    p->set_phone(a.Get("phone"));
    p->set_address(a.Get("address"));
    p->set_same_person_confirmed(a.Has("same-person"));
  }
  for (const auto& n : a.All("co-petitioner")) in.add_petitioners()->set_name(n);
  static const std::map<std::string, v1::Purpose> kPurposes = {
      {"claim", v1::PURPOSE_CLAIM},           {"suggestion", v1::PURPOSE_SUGGESTION},
      {"appeal", v1::PURPOSE_APPEAL},         {"accusation", v1::PURPOSE_ACCUSATION},
      {"other", v1::PURPOSE_OTHER}};
  const std::string purpose = a.Get("purpose", "claim");
  if (!kPurposes.contains(purpose)) Fail("--purpose: claim, suggestion, appeal, accusation or other");
  in.set_purpose(kPurposes.at(purpose));
  in.set_category(a.Get("category"));
  in.set_summary(a.Get("summary"));
  in.set_request(a.Get("request"));
  in.set_facts_and_reasons(a.Get("facts"));
  in.set_issue_location(a.Get("location"));
  in.set_complained_about(a.Get("complained-about"));
  in.set_complained_about_unit(a.Get("complained-unit"));
  for (const auto& s : a.All("attachment")) in.add_attachments(s);
  auto resp = client.Call<v1::IntakeService, v1::RegisterCaseRequest, v1::RegisterCaseResponse>(
      &v1::IntakeService::Stub::RegisterCase, req);
  if (g.json) {
    std::cout << Json(resp);
    return 0;
  }
  std::cout << (resp.replayed() ? "已登记 (重试返回原件) already registered\n" : "已登记 registered\n");
  PrintCase(resp.case_());
  std::cout << "\n" << resp.receipt();
  return 0;
}

int CaseShow(Client& client, const Global& g, const Args& a) {
  v1::GetCaseRequest req;
  *req.mutable_case_() = Ref(a, "case show");
  auto resp = client.Call<v1::CaseQueryService, v1::GetCaseRequest, v1::GetCaseResponse>(
      &v1::CaseQueryService::Stub::GetCase, req);
  v1::GetHistoryRequest hreq;
  *hreq.mutable_case_() = req.case_();
  auto history = client.Call<v1::CaseQueryService, v1::GetHistoryRequest, v1::GetHistoryResponse>(
      &v1::CaseQueryService::Stub::GetHistory, hreq);
  if (g.json) {
    std::cout << Json(resp);
    return 0;
  }
  PrintCase(resp.case_());
  std::cout << "\n时间线 Timeline\n";
  PrintEvents(history.events());
  return 0;
}

int CaseHistory(Client& client, const Global& g, const Args& a) {
  v1::GetHistoryRequest req;
  *req.mutable_case_() = Ref(a, "case history");
  auto resp = client.Call<v1::CaseQueryService, v1::GetHistoryRequest, v1::GetHistoryResponse>(
      &v1::CaseQueryService::Stub::GetHistory, req);
  if (g.json) {
    std::cout << Json(resp);
    return 0;
  }
  PrintEvents(resp.events());
  return 0;
}

const std::map<std::string, v1::Stage> kStages = {
    {"intake", v1::STAGE_INTAKE},     {"handling", v1::STAGE_HANDLING},
    {"decision", v1::STAGE_DECISION}, {"evaluation", v1::STAGE_EVALUATION},
    {"review", v1::STAGE_REVIEW},     {"recheck", v1::STAGE_RECHECK},
    {"final", v1::STAGE_FINAL}};

v1::Stage StageFlag(const Args& a) {
  auto it = kStages.find(a.Get("stage"));
  if (it == kStages.end()) {
    Fail("--stage: intake, handling, decision, evaluation, review, recheck or final");
  }
  return it->second;
}

std::string StageLabel(v1::Stage s) {
  for (const auto& [name, stage] : kStages) {
    if (stage == s) return name;
  }
  return "?";
}

int CaseList(Client& client, const Global& g, const Args& a) {
  v1::ListCasesRequest req;
  req.set_state(a.Get("state"));
  req.set_category(a.Get("category"));
  req.set_unit(a.Get("unit"));
  req.set_petitioner(a.Get("petitioner"));
  req.set_overdue_only(a.Has("overdue"));
  req.set_page_token(a.Get("page-token"));
  int n = 0;
  if (a.Has("page-size")) {
    if (!absl::SimpleAtoi(a.Get("page-size"), &n)) Fail("--page-size: not a number");
    req.set_page_size(n);
  }
  if (a.Has("stage")) req.set_stage(StageFlag(a));
  if (a.Has("channel")) {
    static const std::map<std::string, v1::Channel> kChannels = {
        {"visit", v1::CHANNEL_VISIT}, {"call", v1::CHANNEL_CALL},
        {"letter", v1::CHANNEL_LETTER}, {"online", v1::CHANNEL_ONLINE}};
    auto it = kChannels.find(a.Get("channel"));
    if (it == kChannels.end()) Fail("--channel: visit, call, letter or online");
    req.set_channel(it->second);
  }
  // Received dates, local days; --to is inclusive (before the next day).
  auto day = [&](const char* flag) {
    absl::CivilDay d;
    if (!absl::ParseCivilTime(a.Get(flag), &d)) Fail(absl::StrCat("--", flag, ": not a date (YYYY-MM-DD)"));
    return d;
  };
  if (a.Has("from")) {
    req.mutable_received_from()->set_seconds(absl::ToUnixSeconds(absl::FromCivil(day("from"), Zone())));
  }
  if (a.Has("to")) {
    req.mutable_received_before()->set_seconds(
        absl::ToUnixSeconds(absl::FromCivil(day("to") + 1, Zone())));
  }
  auto resp = client.Call<v1::CaseQueryService, v1::ListCasesRequest, v1::ListCasesResponse>(
      &v1::CaseQueryService::Stub::ListCases, req);
  if (g.json) {
    std::cout << Json(resp);
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {
      {"tracking", "received", "channel", "category", "unit", "state", "", "summary"}};
  for (const auto& c : resp.cases()) {
    rows.push_back({c.tracking_number(), Local(c.received_at()), ChannelLabel(c.channel()),
                    c.category(), c.responsible_unit(), c.state(), c.overdue() ? "OVERDUE" : "",
                    c.summary()});
  }
  std::cout << Table(rows);
  if (!resp.next_page_token().empty()) {
    std::cout << "more: --page-token " << resp.next_page_token() << "\n";
  }
  return 0;
}

int CaseActions(Client& client, const Global& g, const Args& a) {
  v1::ListActionsRequest req;
  *req.mutable_case_() = Ref(a, "case actions");
  auto resp = client.Call<v1::CaseworkService, v1::ListActionsRequest, v1::ListActionsResponse>(
      &v1::CaseworkService::Stub::ListActions, req);
  if (g.json) {
    std::cout << Json(resp);
    return 0;
  }
  std::cout << "state " << resp.state() << ", version " << resp.version() << "\n";
  std::vector<std::vector<std::string>> rows = {{"action", "title", "to", "fields (* required)"}};
  for (const auto& act : resp.actions()) {
    std::vector<std::string> fields;
    for (const auto& f : act.fields()) {
      std::string s = f.name() + (f.required() ? "*" : "");
      if (f.choices_size() > 0) absl::StrAppend(&s, "(", absl::StrJoin(f.choices(), "|"), ")");
      fields.push_back(s);
    }
    rows.push_back({act.name(), act.title(), act.to(), absl::StrJoin(fields, " ")});
  }
  std::cout << Table(rows);
  return 0;
}

int CaseAct(Client& client, const Global& g, const Args& a) {
  if (a.positional.size() < 2) Fail("case act: give the tracking number and the action");
  v1::TakeActionRequest req;
  req.mutable_case_()->set_tracking_number(a.positional[0]);
  req.set_action(a.positional[1]);
  req.set_note(a.Get("note"));
  for (const auto& f : a.All("field")) {
    auto eq = f.find('=');
    if (eq == std::string::npos) Fail(absl::StrCat("--field ", f, ": expected NAME=VALUE"));
    (*req.mutable_fields())[f.substr(0, eq)] = f.substr(eq + 1);
  }
  long long version = 0;
  if (a.Has("version")) {
    if (!absl::SimpleAtoi(a.Get("version"), &version)) Fail("--version: not a number");
  } else {
    v1::GetCaseRequest get;
    *get.mutable_case_() = req.case_();
    version = client.Call<v1::CaseQueryService, v1::GetCaseRequest, v1::GetCaseResponse>(
                        &v1::CaseQueryService::Stub::GetCase, get)
                  .case_()
                  .version();
  }
  req.set_expected_version(version);
  auto resp = client.Call<v1::CaseworkService, v1::TakeActionRequest, v1::TakeActionResponse>(
      &v1::CaseworkService::Stub::TakeAction, req);
  if (g.json) {
    std::cout << Json(resp);
    return 0;
  }
  PrintEvents(resp.events());
  std::cout << "\n";
  PrintCase(resp.case_());
  return 0;
}

int CaseVerify(Client& client, const Global& g, const Args& a) {
  v1::VerifyHistoryRequest req;
  *req.mutable_case_() = Ref(a, "case verify");
  auto resp = client.Call<v1::CaseworkService, v1::VerifyHistoryRequest, v1::VerifyHistoryResponse>(
      &v1::CaseworkService::Stub::VerifyHistory, req);
  if (g.json) {
    std::cout << Json(resp);
  } else if (resp.intact()) {
    std::cout << "intact: " << resp.events() << " events, hash chain verified\n";
  } else {
    std::cout << "BROKEN at event " << resp.first_broken_seq() << ": " << resp.detail() << "\n";
  }
  return resp.intact() ? 0 : 3;
}

// sup due / sup overdue / sup notice list: one page of deadlines, most urgent first.
int SupList(Client& client, const Global& g, const Args& a, bool overdue, const std::string& timer) {
  v1::ListDeadlinesRequest req;
  req.set_unit(a.Get("unit"));
  req.set_overdue_only(overdue || a.Has("overdue"));
  req.set_timer(a.Get("timer", timer));
  // Every notice awaiting a reply, however far its reply deadline.
  if (timer == "notice_reply") req.mutable_before()->set_seconds(4102444800);  // 2100-01-01
  req.set_escalated_only(a.Has("escalated"));
  req.set_page_token(a.Get("page-token"));
  int n = 0;
  if (a.Has("min-days") && !absl::SimpleAtoi(a.Get("min-days"), &n)) Fail("--min-days: not a number");
  req.set_min_days_overdue(n);
  if (a.Has("page-size") && !absl::SimpleAtoi(a.Get("page-size"), &n)) Fail("--page-size: not a number");
  if (a.Has("page-size")) req.set_page_size(n);
  if (a.Has("stage")) req.set_stage(StageFlag(a));
  auto resp = client.Call<v1::SupervisionService, v1::ListDeadlinesRequest, v1::ListDeadlinesResponse>(
      &v1::SupervisionService::Stub::ListDeadlines, req);
  if (g.json) {
    std::cout << Json(resp);
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {
      {"tracking", "owing unit", "stage", "state", "timer", "last day", "status"}};
  for (const auto& it : resp.items()) {
    const auto& d = it.deadline();
    std::string status = d.overdue() ? absl::StrCat("OVERDUE ", it.days_overdue(), "d") : "due soon";
    if (d.rung() > 0) absl::StrAppend(&status, ", rung ", d.rung());
    if (d.provisional()) status += ", provisional";
    rows.push_back({it.tracking_number(), it.owing_unit(), StageLabel(it.stage()), it.state(),
                    d.timer(), d.due_date(), status});
  }
  std::cout << Table(rows);
  if (!resp.next_page_token().empty()) {
    std::cout << "more: --page-token " << resp.next_page_token() << "\n";
  }
  return 0;
}

// xfctl queue: every open deadline in my scope, nearest first, with the days
// left at the server's clock (the same list the console's 我的待办 shows).
int Queue(Client& client, const Global& g, const Args& a) {
  auto info = client.Call<v1::AdminService, v1::GetServerInfoRequest, v1::GetServerInfoResponse>(
      &v1::AdminService::Stub::GetServerInfo, v1::GetServerInfoRequest());
  const absl::CivilDay today =
      absl::ToCivilDay(absl::FromUnixSeconds(info.now().seconds()), Zone());
  v1::ListDeadlinesRequest req;
  req.set_unit(a.Get("unit"));
  req.mutable_before()->set_seconds(4102444800);  // 2100-01-01: every open deadline
  req.set_page_token(a.Get("page-token"));
  int n = 500;
  if (a.Has("page-size") && !absl::SimpleAtoi(a.Get("page-size"), &n)) Fail("--page-size: not a number");
  req.set_page_size(n);
  if (a.Has("stage")) req.set_stage(StageFlag(a));
  if (a.Has("mine") && a.Has("officer")) Fail("--mine and --officer: give one");
  if (a.Has("officer")) req.set_case_officer(a.Get("officer"));
  if (a.Has("mine")) {
    req.set_case_officer(client.Call<v1::AdminService, v1::WhoAmIRequest, v1::WhoAmIResponse>(
                                   &v1::AdminService::Stub::WhoAmI, v1::WhoAmIRequest())
                             .account()
                             .name());
  }
  auto resp = client.Call<v1::SupervisionService, v1::ListDeadlinesRequest, v1::ListDeadlinesResponse>(
      &v1::SupervisionService::Stub::ListDeadlines, req);
  std::vector<v1::DueItem> items(resp.items().begin(), resp.items().end());
  std::stable_sort(items.begin(), items.end(), [](const v1::DueItem& x, const v1::DueItem& y) {
    return x.deadline().due_date() < y.deadline().due_date();
  });
  if (g.json) {
    v1::ListDeadlinesResponse sorted;
    for (const auto& it : items) *sorted.add_items() = it;
    sorted.set_next_page_token(resp.next_page_token());
    std::cout << Json(sorted);
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {
      {"tracking", "timer", "last day", "days left", "stage", "state", "owing unit", "officer"}};
  for (const auto& it : items) {
    const auto& d = it.deadline();
    absl::CivilDay due;
    std::string left = "?";
    if (absl::ParseCivilTime(d.due_date(), &due)) left = absl::StrCat(due - today);
    if (d.overdue()) left = absl::StrCat("OVERDUE ", it.days_overdue(), "d");
    if (d.rung() > 0) absl::StrAppend(&left, ", rung ", d.rung());
    rows.push_back({it.tracking_number(), d.timer(), d.due_date(), left, StageLabel(it.stage()),
                    it.state(), it.owing_unit(), it.case_officer().empty() ? "-" : it.case_officer()});
  }
  std::cout << Table(rows);
  if (!resp.next_page_token().empty()) std::cout << "more: --page-token " << resp.next_page_token() << "\n";
  return 0;
}

int SupDashboard(Client& client, const Global& g, const Args& a) {
  v1::DashboardRequest req;
  req.set_unit(a.Get("unit"));
  auto resp = client.Call<v1::SupervisionService, v1::DashboardRequest, v1::DashboardResponse>(
      &v1::SupervisionService::Stub::Dashboard, req);
  if (g.json) {
    std::cout << Json(resp);
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {
      {"unit", "stage", "open", "due soon", "overdue", "escalated", "notices"}};
  int totals[5] = {0, 0, 0, 0, 0};
  for (const auto& r : resp.rows()) {
    rows.push_back({r.unit(), StageLabel(r.stage()), absl::StrCat(r.open_cases()),
                    absl::StrCat(r.due_soon()), absl::StrCat(r.overdue()),
                    absl::StrCat(r.escalated()), absl::StrCat(r.notices_awaiting_reply())});
    totals[0] += r.open_cases();
    totals[1] += r.due_soon();
    totals[2] += r.overdue();
    totals[3] += r.escalated();
    totals[4] += r.notices_awaiting_reply();
  }
  rows.push_back({"total", "", absl::StrCat(totals[0]), absl::StrCat(totals[1]),
                  absl::StrCat(totals[2]), absl::StrCat(totals[3]), absl::StrCat(totals[4])});
  std::cout << "as of " << Local(resp.now()) << "\n" << Table(rows);
  return 0;
}

// sup notice issue|reply: the casework actions issue_notice / reply_notice.
int SupNotice(Client& client, const Global& g, const std::string& verb, Args a) {
  if (a.positional.empty()) Fail(absl::StrCat("sup notice ", verb, ": give the tracking number"));
  Args act;
  act.positional = {a.positional[0], verb == "issue" ? "issue_notice" : "reply_notice"};
  if (verb == "issue") {
    act.flags.emplace("field", "notice_kind=" + a.Get("kind", "urge"));
    act.flags.emplace("field", "notice_text=" + a.Get("text"));
    if (a.Has("reply-days")) act.flags.emplace("field", "reply_days=" + a.Get("reply-days"));
  } else {
    act.flags.emplace("field", "reply_text=" + a.Get("text"));
  }
  return CaseAct(client, g, act);
}

// Follows the event stream; with --cursor-file, resumes from the cursor saved
// there and saves each event's cursor after printing it.
int Watch(Client& client, const Global& g, const Args& a) {
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
    Fail("--count: a positive number");
  }
  auto stub = v1::CaseQueryService::NewStub(client.channel());
  grpc::ClientContext ctx;
  client.Identify(ctx);  // no deadline: a watch lasts until stopped (or --count)
  auto stream = stub->WatchEvents(&ctx, req);
  v1::WatchEventsResponse r;
  int n = 0;
  const bool until_caught_up = a.Has("until-caught-up");
  bool stopped = false;  // by us: --count or --until-caught-up
  while (stream->Read(&r)) {
    // The server's marker that the backlog is over is not an event: not
    // printed (but with --json), not counted; its cursor is saved like an
    // event's.
    if (g.json) {
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
      ctx.TryCancel();
      break;
    }
    if (limit > 0 && ++n >= limit) {
      stopped = true;
      ctx.TryCancel();
      break;
    }
  }
  grpc::Status s = stream->Finish();
  // Our own stop (--count, --until-caught-up) is CANCELLED; a server that
  // stops says UNAVAILABLE.
  if (!s.ok() && !(stopped && s.error_code() == grpc::StatusCode::CANCELLED)) {
    Fail(absl::StrCat(Client::CodeName(s.error_code()), ": ", s.error_message()), 1);
  }
  return 0;
}

// The statistics of procedure.md §4 for a unit subtree and a period.
// Rows as CSV (RFC 4180: every cell quoted, quotes doubled).
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

std::string SeverityLabel(v1::WarningSeverity s) {
  switch (s) {
    case v1::WARNING_SEVERITY_HIGH: return "红 high";
    case v1::WARNING_SEVERITY_MEDIUM: return "黄 medium";
    case v1::WARNING_SEVERITY_LOW: return "蓝 low";
    default: return "-";
  }
}

std::string WarningStateLabel(v1::WarningState s) {
  switch (s) {
    case v1::WARNING_STATE_RAISED: return "raised";
    case v1::WARNING_STATE_ACKNOWLEDGED: return "acknowledged";
    case v1::WARNING_STATE_HANDLED: return "handled";
    case v1::WARNING_STATE_CLOSED: return "closed";
    default: return "-";
  }
}

int SupWarnings(Client& client, const Global& g, const Args& a) {
  v1::ListWarningsRequest req;
  req.set_unit(a.Get("unit"));
  req.set_rule(a.Get("rule"));
  std::vector<std::string> states = a.All("state");
  if (a.Has("all")) states = {"raised", "acknowledged", "handled", "closed"};
  for (const std::string& st : states) {
    v1::WarningState v = v1::WARNING_STATE_UNSPECIFIED;
    for (auto c : {v1::WARNING_STATE_RAISED, v1::WARNING_STATE_ACKNOWLEDGED,
                   v1::WARNING_STATE_HANDLED, v1::WARNING_STATE_CLOSED}) {
      if (WarningStateLabel(c) == st) v = c;
    }
    if (v == v1::WARNING_STATE_UNSPECIFIED) Fail("--state: raised, acknowledged, handled or closed");
    req.add_states(v);
  }
  int page_size = 0;
  if (a.Has("page-size") && !absl::SimpleAtoi(a.Get("page-size"), &page_size)) {
    Fail("--page-size: not a number");
  }
  req.set_page_size(page_size);
  req.set_page_token(a.Get("page-token"));
  auto r = client.Call<v1::SupervisionService, v1::ListWarningsRequest, v1::ListWarningsResponse>(
      &v1::SupervisionService::Stub::ListWarnings, req);
  if (g.json) {
    std::cout << Json(r);
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {
      {"id", "severity", "rule", "about", "petitions", "state", "raised", "detail"}};
  for (const auto& w : r.warnings()) {
    rows.push_back({absl::StrCat(w.id()), SeverityLabel(w.severity()), w.rule_title(),
                    w.subject_label(), absl::StrCat(w.case_count()), WarningStateLabel(w.state()),
                    Local(w.raised_at()), w.detail()});
  }
  std::cout << Table(rows);
  if (!r.next_page_token().empty()) std::cout << "next page: --page-token " << r.next_page_token() << "\n";
  return 0;
}

int SupWarning(Client& client, const Global& g, const Args& a) {
  if (a.positional.size() != 2) Fail("sup warning: show|ack|handle|close ID");
  const std::string verb = a.positional[0];
  int64_t id = 0;
  if (!absl::SimpleAtoi(a.positional[1], &id)) Fail("sup warning: ID is a number");
  v1::GetWarningRequest get;
  get.set_id(id);
  v1::Warning w = client.Call<v1::SupervisionService, v1::GetWarningRequest, v1::Warning>(
      &v1::SupervisionService::Stub::GetWarning, get);
  if (verb != "show") {
    v1::UpdateWarningRequest req;
    req.set_id(id);
    int64_t version = w.version();
    if (a.Has("version") && !absl::SimpleAtoi(a.Get("version"), &version)) {
      Fail("--version: not a number");
    }
    req.set_expected_version(version);
    req.set_note(a.Get("note"));
    if (verb == "ack") {
      req.set_state(v1::WARNING_STATE_ACKNOWLEDGED);
    } else if (verb == "handle") {
      req.set_state(v1::WARNING_STATE_HANDLED);
    } else if (verb == "close") {
      req.set_state(v1::WARNING_STATE_CLOSED);
    } else {
      Fail("sup warning: show, ack, handle or close");
    }
    w = client.Call<v1::SupervisionService, v1::UpdateWarningRequest, v1::Warning>(
        &v1::SupervisionService::Stub::UpdateWarning, req);
  }
  if (g.json) {
    std::cout << Json(w);
    return 0;
  }
  std::cout << Table({{"预警 Warning", absl::StrCat(w.id(), " (version ", w.version(), ")")},
                      {"规则 Rule", absl::StrCat(w.rule_title(), " (", w.rule(), ")")},
                      {"等级 Severity", SeverityLabel(w.severity())},
                      {"对象 About", w.subject_label()},
                      {"状态 State", WarningStateLabel(w.state())},
                      {"依据 Detail", w.detail()},
                      {"时段 Window", absl::StrCat(Local(w.window_start()), " – ", Local(w.window_end()))}});
  std::vector<std::vector<std::string>> cases = {{"tracking", "received", "unit", "category"}};
  for (const auto& c : w.cases()) {
    cases.push_back({c.tracking_number(), Local(c.received_at()), c.registering_unit(), c.category()});
  }
  std::cout << "\n" << Table(cases);
  std::vector<std::vector<std::string>> steps = {{"step", "by", "at", "note"}};
  for (const auto& s : w.steps()) {
    steps.push_back({WarningStateLabel(s.state()), s.by(), Local(s.at()), s.note()});
  }
  std::cout << "\n" << Table(steps);
  return 0;
}

int ReportCommand(Client& client, const Global& g, const Args& a) {
  v1::GetSituationReportRequest req;
  req.set_unit(a.Get("unit"));
  req.set_period(a.Get("period"));
  if (req.period().empty()) Fail("report: --period 2026, 2026-Q1 or 2026-03");
  const std::string format = a.Get("format", g.json ? "json" : "table");
  if (format != "json" && format != "csv" && format != "table") Fail("--format: table, csv or json");
  auto r = client.Call<v1::CaseQueryService, v1::GetSituationReportRequest,
                       v1::GetSituationReportResponse>(
      &v1::CaseQueryService::Stub::GetSituationReport, req);
  if (format == "json") {
    std::cout << Json(r);
    return 0;
  }
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
    more.push_back({absl::StrCat("积案 open, days since receipt ", c.key()), absl::StrCat(c.count())});
  }
  if (format == "csv") {
    std::cout << Csv(rows) << Csv(more);
    return 0;
  }
  std::cout << "situation report " << r.period() << (r.unit().empty() ? "" : " for ")
            << r.unit() << ", as of " << Local(r.as_of()) << "\n"
            << Table(rows) << "\n"
            << Table(more);
  return 0;
}

int StatsCommand(Client& client, const Global& g, const Args& a) {
  v1::GetStatisticsRequest req;
  req.set_unit(a.Get("unit"));
  req.set_lapsed_counts_as_satisfied(a.Has("lapsed-satisfied"));
  absl::CivilDay from, to;
  if (!absl::ParseCivilTime(a.Get("from"), &from) || !absl::ParseCivilTime(a.Get("to"), &to)) {
    Fail(
        "stats: --from and --to are required dates (YYYY-MM-DD; --to inclusive: the last day "
        "counted)");
  }
  req.mutable_period_start()->set_seconds(absl::ToUnixSeconds(absl::FromCivil(from, Zone())));
  req.mutable_period_end()->set_seconds(absl::ToUnixSeconds(absl::FromCivil(to + 1, Zone())));
  const std::string format = a.Get("format", g.json ? "json" : "table");
  if (format != "json" && format != "csv" && format != "table") Fail("--format: table, csv or json");
  auto r = client.Call<v1::CaseQueryService, v1::GetStatisticsRequest, v1::GetStatisticsResponse>(
      &v1::CaseQueryService::Stub::GetStatistics, req);
  if (format == "json") {
    std::cout << Json(r);
    return 0;
  }
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
  add("参评率 participation", r.participation());
  add(r.lapsed_counts_as_satisfied() ? "满意率 satisfaction (lapsed counted)"
                                     : "满意率 satisfaction",
      r.satisfaction());
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
  if (format == "csv") {
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

int ClockAdvance(Client& client, const Global& g, const Args& a) {
  if (a.positional.empty()) Fail("clock advance: give a duration, e.g. 36h or 15d");
  std::string d = a.positional[0];
  absl::Duration dur;
  if (!d.empty() && d.back() == 'd') {
    int days = 0;
    if (!absl::SimpleAtoi(d.substr(0, d.size() - 1), &days)) Fail("clock advance: bad duration");
    dur = absl::Hours(24 * days);
  } else if (!absl::ParseDuration(d, &dur)) {
    Fail("clock advance: bad duration (e.g. 90m, 36h, 15d)");
  }
  v1::AdvanceClockRequest req;
  req.set_seconds(absl::ToInt64Seconds(dur));
  auto resp = client.Call<v1::AdminService, v1::AdvanceClockRequest, v1::AdvanceClockResponse>(
      &v1::AdminService::Stub::AdvanceClock, req);
  if (g.json) {
    std::cout << Json(resp);
  } else {
    std::cout << "server clock now " << Local(resp.now()) << " (Asia/Shanghai)\n";
  }
  return 0;
}

int Info(Client& client, const Global& g, const Args&) {
  auto resp = client.Call<v1::AdminService, v1::GetServerInfoRequest, v1::GetServerInfoResponse>(
      &v1::AdminService::Stub::GetServerInfo, v1::GetServerInfoRequest());
  if (g.json) {
    std::cout << Json(resp);
    return 0;
  }
  std::cout << Table({{"version", resp.version()},
                      {"now", absl::StrCat(Local(resp.now()), resp.simulated_clock() ? " (simulated)" : "")},
                      {"time zone", resp.time_zone()},
                      {"workflows", absl::StrJoin(resp.workflows(), ", ")},
                      {"services", absl::StrJoin(resp.services(), ", ")}});
  return 0;
}

std::string RoleLabel(v1::Role r) {
  std::string name = v1::Role_Name(r);
  absl::string_view v = name;
  absl::ConsumePrefix(&v, "ROLE_");
  return absl::AsciiStrToLower(v);
}

v1::Role RoleOrFail(const std::string& name) {
  v1::Role r = v1::ROLE_UNSPECIFIED;
  if (!v1::Role_Parse("ROLE_" + absl::AsciiStrToUpper(name), &r) || r == v1::ROLE_UNSPECIFIED ||
      r == v1::ROLE_SYSTEM) {
    Fail(absl::StrCat("--role: '", name, "' is not one of intake_clerk, case_officer, unit_head, ",
                      "supervisor, administrator, auditor, service"));
  }
  return r;
}

std::vector<std::string> AccountRow(const v1::Account& a) {
  return {a.name(), RoleLabel(a.role()), a.unit(), a.display_name(),
          a.disabled() ? "disabled" : "active"};
}

int WhoAmI(Client& client, const Global& g) {
  auto resp = client.Call<v1::AdminService, v1::WhoAmIRequest, v1::WhoAmIResponse>(
      &v1::AdminService::Stub::WhoAmI, v1::WhoAmIRequest());
  if (g.json) {
    std::cout << Json(resp);
  } else {
    std::cout << Table({{"account", "role", "unit", "name", "status"}, AccountRow(resp.account())});
  }
  return 0;
}

std::string TokenState(const v1::Token& t) {
  if (t.revoked()) return absl::StrCat("revoked ", Local(t.revoked_at()));
  if (t.expired()) return "expired";
  return "active";
}

// xfctl admin account|token|access-log …
int Admin(Client& client, const Global& g, const std::string& what, const Args& a) {
  const std::string verb = a.positional.empty() ? "" : a.positional[0];
  const std::string arg = a.positional.size() > 1 ? a.positional[1] : "";
  if (what == "account" && verb == "create") {
    if (arg.empty()) Fail("admin account create: give the account name");
    v1::CreateAccountRequest req;
    req.mutable_account()->set_name(arg);
    req.mutable_account()->set_role(RoleOrFail(a.Get("role")));
    req.mutable_account()->set_unit(a.Get("unit"));
    req.mutable_account()->set_display_name(a.Get("display-name"));
    auto resp = client.Call<v1::AdminService, v1::CreateAccountRequest, v1::CreateAccountResponse>(
        &v1::AdminService::Stub::CreateAccount, req);
    if (g.json) std::cout << Json(resp);
    else std::cout << "created " << resp.account().name() << " (" << RoleLabel(resp.account().role())
                   << ", " << resp.account().unit() << ")\n";
    return 0;
  }
  if (what == "account" && verb == "list") {
    v1::ListAccountsRequest req;
    req.set_unit(a.Get("unit"));
    auto resp = client.Call<v1::AdminService, v1::ListAccountsRequest, v1::ListAccountsResponse>(
        &v1::AdminService::Stub::ListAccounts, req);
    if (g.json) {
      std::cout << Json(resp);
      return 0;
    }
    std::vector<std::vector<std::string>> rows = {{"account", "role", "unit", "name", "status"}};
    for (const auto& acc : resp.accounts()) rows.push_back(AccountRow(acc));
    std::cout << Table(rows);
    return 0;
  }
  if (what == "account" && (verb == "disable" || verb == "enable")) {
    if (arg.empty()) Fail(absl::StrCat("admin account ", verb, ": give the account name"));
    v1::SetAccountDisabledRequest req;
    req.set_name(arg);
    req.set_disabled(verb == "disable");
    auto resp = client.Call<v1::AdminService, v1::SetAccountDisabledRequest,
                            v1::SetAccountDisabledResponse>(
        &v1::AdminService::Stub::SetAccountDisabled, req);
    if (g.json) std::cout << Json(resp);
    else std::cout << resp.account().name() << ": " << (resp.account().disabled() ? "disabled" : "enabled") << "\n";
    return 0;
  }
  if (what == "account" && verb == "password") {
    if (arg.empty()) Fail("admin account password: give the account name");
    // The password from the first line of standard input, never from argv.
    std::string pw;
    std::getline(std::cin, pw);
    if (!pw.empty() && pw.back() == '\r') pw.pop_back();
    v1::SetPasswordRequest req;
    req.set_account(arg);
    req.set_password(pw);
    auto resp = client.Call<v1::AdminService, v1::SetPasswordRequest, v1::SetPasswordResponse>(
        &v1::AdminService::Stub::SetPassword, req);
    if (g.json) std::cout << Json(resp);
    else std::cout << resp.account().name() << ": password set; to be changed at the first sign-in\n";
    return 0;
  }
  if ((what == "unit" || what == "category") && verb == "put") {
    if (arg.empty()) Fail(absl::StrCat("admin ", what, " put: give the code"));
    if (!a.Has("name")) Fail(absl::StrCat("admin ", what, " put: --name is required"));
    v1::RefItem item;
    bool created = false;
    if (what == "unit") {
      v1::PutUnitRequest req;
      req.set_code(arg);
      req.set_name(a.Get("name"));
      req.set_parent(a.Get("parent"));
      auto resp = client.Call<v1::AdminService, v1::PutUnitRequest, v1::PutUnitResponse>(
          &v1::AdminService::Stub::PutUnit, req);
      if (g.json) {
        std::cout << Json(resp);
        return 0;
      }
      item = resp.unit();
      created = resp.created();
    } else {
      v1::PutCategoryRequest req;
      req.set_code(arg);
      req.set_name(a.Get("name"));
      req.set_parent(a.Get("parent"));
      req.set_active(!a.Has("retire"));
      auto resp = client.Call<v1::AdminService, v1::PutCategoryRequest, v1::PutCategoryResponse>(
          &v1::AdminService::Stub::PutCategory, req);
      if (g.json) {
        std::cout << Json(resp);
        return 0;
      }
      item = resp.category();
      created = resp.created();
    }
    std::cout << (created ? "added " : "changed ") << what << " " << item.code() << " "
              << item.name() << (item.parent().empty() ? "" : " under " + item.parent())
              << (item.active() ? "" : " (retired)") << "\n";
    return 0;
  }
  if (what == "reference") {
    v1::ListReferenceDataRequest req;
    req.set_include_inactive(a.Has("all"));
    auto resp = client.Call<v1::AdminService, v1::ListReferenceDataRequest,
                            v1::ListReferenceDataResponse>(
        &v1::AdminService::Stub::ListReferenceData, req);
    if (g.json) {
      std::cout << Json(resp);
      return 0;
    }
    std::vector<std::vector<std::string>> rows = {{"kind", "code", "name", "parent", "status"}};
    for (const auto& u : resp.units()) rows.push_back({"unit", u.code(), u.name(), u.parent(), "active"});
    for (const auto& c : resp.categories()) {
      rows.push_back({"category", c.code(), c.name(), c.parent(), c.active() ? "active" : "retired"});
    }
    std::cout << Table(rows);
    return 0;
  }
  if (what == "token" && verb == "issue") {
    if (arg.empty()) Fail("admin token issue: give the account name");
    v1::IssueTokenRequest req;
    req.set_account(arg);
    req.set_label(a.Get("label"));
    if (a.Has("ttl-days")) {
      int days = 0;
      if (!absl::SimpleAtoi(a.Get("ttl-days"), &days)) Fail("--ttl-days: not a number");
      req.set_ttl_days(days);
    }
    auto resp = client.Call<v1::AdminService, v1::IssueTokenRequest, v1::IssueTokenResponse>(
        &v1::AdminService::Stub::IssueToken, req);
    if (g.json) {
      std::cout << Json(resp);
      return 0;
    }
    // The secret alone on stdout (for $(…)); what it is on stderr.
    std::cerr << "token " << resp.token().id() << " for " << resp.token().account()
              << ", expires " << Local(resp.token().expires_at())
              << " (shown once: the server keeps only its hash)\n";
    std::cout << resp.secret() << "\n";
    return 0;
  }
  if (what == "token" && verb == "list") {
    v1::ListTokensRequest req;
    req.set_account(arg);
    auto resp = client.Call<v1::AdminService, v1::ListTokensRequest, v1::ListTokensResponse>(
        &v1::AdminService::Stub::ListTokens, req);
    if (g.json) {
      std::cout << Json(resp);
      return 0;
    }
    std::vector<std::vector<std::string>> rows = {
        {"id", "account", "label", "created", "expires", "state"}};
    for (const auto& t : resp.tokens()) {
      rows.push_back({absl::StrCat(t.id()), t.account(), t.label(), Local(t.created_at()),
                      Local(t.expires_at()), TokenState(t)});
    }
    std::cout << Table(rows);
    return 0;
  }
  if (what == "token" && verb == "revoke") {
    int64_t id = 0;
    if (!absl::SimpleAtoi(arg, &id)) Fail("admin token revoke: give the token id (admin token list)");
    v1::RevokeTokenRequest req;
    req.set_token_id(id);
    auto resp = client.Call<v1::AdminService, v1::RevokeTokenRequest, v1::RevokeTokenResponse>(
        &v1::AdminService::Stub::RevokeToken, req);
    if (g.json) std::cout << Json(resp);
    else std::cout << "token " << resp.token().id() << " of " << resp.token().account() << ": "
                   << TokenState(resp.token()) << "\n";
    return 0;
  }
  if (what == "access-log") {
    v1::ListAccessLogRequest req;
    req.set_account(a.Get("account"));
    req.set_tracking_number(a.Get("case"));
    if (a.Has("page-size")) {
      int n = 0;
      if (!absl::SimpleAtoi(a.Get("page-size"), &n)) Fail("--page-size: not a number");
      req.set_page_size(n);
    }
    req.set_page_token(a.Get("page-token"));
    auto resp = client.Call<v1::AdminService, v1::ListAccessLogRequest, v1::ListAccessLogResponse>(
        &v1::AdminService::Stub::ListAccessLog, req);
    if (g.json) {
      std::cout << Json(resp);
      return 0;
    }
    std::vector<std::vector<std::string>> rows = {{"at", "account", "role", "unit", "read", "case"}};
    for (const auto& e : resp.entries()) {
      rows.push_back({Local(e.at()), e.account(), RoleLabel(e.role()), e.unit(), e.rpc(),
                      e.tracking_number()});
    }
    std::cout << Table(rows);
    if (!resp.next_page_token().empty()) {
      std::cout << "more: --page-token " << resp.next_page_token() << "\n";
    }
    return 0;
  }
  Fail("admin: account create|list|disable|enable, token issue|list|revoke, or access-log");
}

}  // namespace

int Main(int argc, char** argv) {
  Global g;
  LoadConfigFile(g);
  ApplyEnv(g);
  std::vector<std::string> in(argv + 1, argv + argc);
  // Global flags come before the command.
  std::size_t i = 0;
  for (; i < in.size() && in[i].rfind("--", 0) == 0; ++i) {
    std::string name = in[i].substr(2), value;
    bool inline_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inline_value = true;
    }
    if (name == "json") { g.json = true; continue; }
    if (name == "help") { std::cout << kUsage; return 0; }
    if (!inline_value) {
      if (i + 1 >= in.size()) Fail(absl::StrCat("flag --", name, " needs a value"));
      value = in[++i];
    }
    if (name == "timeout") {
      if (!absl::SimpleAtoi(value, &g.timeout)) Fail("--timeout: not a number");
    } else if (!SetGlobal(g, name, value)) {
      Fail(absl::StrCat("unknown global flag --", name, " (see xfctl help)"));
    }
  }
  if (i >= in.size() || in[i] == "help") {
    std::cout << kUsage;
    return i >= in.size() ? 2 : 0;
  }
  const std::string cmd = in[i];
  const std::string sub = i + 1 < in.size() ? in[i + 1] : "";
  const bool one_word = cmd == "info" || cmd == "watch" || cmd == "stats" || cmd == "whoami" ||
                        cmd == "queue" || cmd == "report";
  const std::string name = one_word ? cmd : absl::StrCat(cmd, " ", sub);
  auto known = kCommandFlags.find(name);
  if (known == kCommandFlags.end()) {
    Fail(absl::StrCat("unknown command '", name, "' (see xfctl help)"));
  }
  Args parsed = ParseArgs(in, i + (one_word ? 1 : 2), name, known->second);
  // Global flags may also follow the command.
  if (parsed.Has("json")) g.json = true;
  for (const std::string& flag : kGlobalFlags) {
    if (flag != "json" && flag != "timeout" && parsed.Has(flag)) SetGlobal(g, flag, parsed.Get(flag));
  }
  if (parsed.Has("timeout") && !absl::SimpleAtoi(parsed.Get("timeout"), &g.timeout)) {
    Fail("--timeout: not a number");
  }
  Client client(g);
  auto args = [&](std::size_t) { return parsed; };
  if (cmd == "case") {
    if (sub == "register") return CaseRegister(client, g, args(2));
    if (sub == "show") return CaseShow(client, g, args(2));
    if (sub == "list") return CaseList(client, g, args(2));
    if (sub == "history") return CaseHistory(client, g, args(2));
    if (sub == "actions") return CaseActions(client, g, args(2));
    if (sub == "act") return CaseAct(client, g, args(2));
    if (sub == "verify") return CaseVerify(client, g, args(2));
    Fail("case: register, show, history, actions, act or verify");
  }
  if (cmd == "queue") return Queue(client, g, args(1));
  if (cmd == "sup" && sub == "due") return SupList(client, g, args(2), false, "");
  if (cmd == "sup" && sub == "overdue") return SupList(client, g, args(2), true, "");
  if (cmd == "sup" && sub == "dashboard") return SupDashboard(client, g, args(2));
  if (cmd == "sup" && sub == "warnings") return SupWarnings(client, g, args(2));
  if (cmd == "sup" && sub == "warning") return SupWarning(client, g, args(2));
  if (cmd == "report") return ReportCommand(client, g, args(1));
  if (cmd == "sup" && sub == "notice") {
    Args a = args(2);
    const std::string verb = a.positional.empty() ? "" : a.positional[0];
    if (!a.positional.empty()) a.positional.erase(a.positional.begin());
    if (verb == "list") return SupList(client, g, a, false, "notice_reply");
    if (verb == "issue" || verb == "reply") return SupNotice(client, g, verb, a);
    Fail("sup notice: issue, reply or list");
  }
  if (cmd == "clock" && sub == "advance") return ClockAdvance(client, g, args(2));
  if (cmd == "info") return Info(client, g, args(1));
  if (cmd == "whoami") return WhoAmI(client, g);
  if (cmd == "admin") return Admin(client, g, sub, args(2));
  if (cmd == "watch") return Watch(client, g, args(1));
  if (cmd == "stats") return StatsCommand(client, g, args(1));
  Fail(absl::StrCat("unknown command '", cmd, "' (see xfctl help)"));
}

}  // namespace xinfang::xfctl

int main(int argc, char** argv) { return xinfang::xfctl::Main(argc, argv); }
