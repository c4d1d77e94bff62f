// xfbench: a gRPC load generator for xinfang. It keeps --concurrency calls
// in flight on --threads threads (the async CompletionQueue API: each slot
// starts its next call when the previous one completes), records latency
// in a log-linear histogram and counts errors by gRPC status code.
// docs/benchmarks.md explains the scenarios and how deploy/bench.sh runs it.
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tools/benchdata/bench_data.h"
#include "tools/xfbench/histogram.h"
#include "xinfang/v1/admin.grpc.pb.h"
#include "xinfang/v1/casework.grpc.pb.h"
#include "xinfang/v1/intake.grpc.pb.h"
#include "xinfang/v1/query.grpc.pb.h"
#include "xinfang/v1/supervision.grpc.pb.h"

namespace xinfang::xfbench {
namespace {

namespace v1 = xinfang::v1;
using Clock = std::chrono::steady_clock;

constexpr char kUsage[] = R"(usage: xfbench --scenario register|get|list|queue|life|timers|soak [flags]
  --address HOST:PORT   server (loopback only; repeat or comma-separate for several)
                        default 127.0.0.1:50051 [XFBENCH_ADDRESS]
  --concurrency N       calls in flight (default 32)
  --threads N           threads driving the completion queue (default 1)
  --channels N          connections per address (default 2)
  --duration S          measure for S seconds after the warm-up (default 10)
  --count N             or: stop after N measured calls (lives for life)
  --warmup S            seconds of calls not measured first (default 2)
  --max-seconds S       hard cap on the whole run (default warmup + duration + 60,
                        with --count 300)
  --timeout S           deadline of each call (default 10)
  --token T             the bearer token for every call (or:)
  --tokens-file F       lines "ROLE TOKEN": each call is made in the role it needs
                        (register: intake_clerk; get: service; list, queue: supervisor;
                        life: intake_clerk, unit_head, case_officer; timers:
                        supervisor), falling back to --token
  --life-unit U         the unit life registers its cases in (default
                        prov.organs.office): the case_officer must belong to it
  --tracking-file F     tracking numbers for get (xfseed --out writes tracking.txt)
  --units-file F        units for register and list (default: migration 0002's)
  --list-filters K      unit+stage, unit+category or mixed (default mixed)
  --officer NAME        queue: the case officer whose queue is read
  --page-size N         queue: deadlines per call (default 1000)
  --advance S           timers: seconds to move each server's simulated clock
  --seed N              random seed (default: from the clock)
  --rss-pid PID         sample the server's resident memory (/proc/PID/status VmRSS)
                        during the run: a line on stderr each --rss-every, and
                        first/last/max in the report
  --rss-every S         seconds between RSS samples (default 10)
  --json                one JSON object on stdout instead of the text report

Scenarios:
  register  IntakeService.RegisterCase, realistic intakes, a fresh request_id each
  get       CaseQueryService.GetCase by tracking number
  list      CaseQueryService.ListCases, first page, two filters
            --repeat-share F: that share of the slots registers, every time, for
            one frequent petitioner (same person, category and matter),
            timed apart as register-repeat
  life      register, accept, assign_officer, decide, serve, evaluate (TakeAction
            with the version each step returned); latency per step and per life
  queue     SupervisionService.ListDeadlines for one officer's cases (--officer),
            every open deadline, --page-size of them: the console's 我的待办
  soak      a bounded mix for memory over time: 20% register, 50% get, 30% list,
            for --duration seconds (with --rss-pid: is RSS flat?)
  timers    AdminService.AdvanceClock on every --address at once (servers started
            with --simulated-clock): time until all have fired what fell due,
            then a check through SupervisionService.ListDeadlines
)";

struct Options {
  std::string scenario;
  std::vector<std::string> addresses;
  int concurrency = 32;
  int threads = 1;
  int channels = 2;
  double duration = 10;
  long long count = 0;
  double warmup = 2;
  double max_seconds = 0;
  double timeout = 10;
  std::string token;
  std::map<std::string, std::string> tokens;  // role -> token (--tokens-file)
  std::string unit = "prov.organs.office";    // --life-unit
  std::string tracking_file, units_file;
  std::string list_filters = "mixed";
  std::string officer;  // --officer (queue)
  int page_size = 1000;  // --page-size (queue)
  long long advance = 0;
  // register: this share of the slots registers for one frequent petitioner
  // (same person, category and matter every time), timed as "register-repeat".
  double repeat_share = 0;
  uint64_t seed = 0;
  bool json = false;
  int rss_pid = 0;        // --rss-pid: 0, no sampling
  double rss_every = 10;  // --rss-every seconds
};

[[noreturn]] void Fail(const std::string& msg, int code = 2) {
  std::fprintf(stderr, "xfbench: %s\n", msg.c_str());
  std::exit(code);
}

// Loopback only: 127.0.0.0/8, ::1, localhost, or a Unix socket.
bool IsLoopback(const std::string& address) {
  if (absl::StartsWith(address, "unix:")) return true;
  std::string host = address;
  if (absl::StartsWith(host, "[")) {
    host = host.substr(1, host.find(']') - 1);
  } else if (auto colon = host.rfind(':'); colon != std::string::npos && host.find(':') == colon) {
    host = host.substr(0, colon);
  }
  return host == "localhost" || host == "::1" || absl::StartsWith(host, "127.");
}

Options ParseOptions(int argc, char** argv) {
  Options o;
  if (const char* a = std::getenv("XFBENCH_ADDRESS")) o.addresses = absl::StrSplit(a, ',');
  std::vector<std::string> addresses;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i], v;
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (a == "--json") { o.json = true; continue; }
    if (auto eq = a.find('='); eq != std::string::npos) {
      v = a.substr(eq + 1);
      a = a.substr(0, eq);
    } else if (i + 1 < argc) {
      v = argv[++i];
    } else {
      Fail(absl::StrCat("flag ", a, " needs a value (see --help)"));
    }
    auto number = [&](auto* out) {
      if (!absl::SimpleAtoi(v, out)) Fail(absl::StrCat(a, ": not a number: ", v));
    };
    auto real = [&](double* out) {
      if (!absl::SimpleAtod(v, out) || *out < 0) Fail(absl::StrCat(a, ": not a number: ", v));
    };
    if (a == "--scenario") o.scenario = v;
    else if (a == "--address") {
      for (absl::string_view part : absl::StrSplit(v, ',', absl::SkipEmpty())) addresses.emplace_back(part);
    }
    else if (a == "--concurrency") number(&o.concurrency);
    else if (a == "--threads") number(&o.threads);
    else if (a == "--channels") number(&o.channels);
    else if (a == "--duration") real(&o.duration);
    else if (a == "--count") number(&o.count);
    else if (a == "--warmup") real(&o.warmup);
    else if (a == "--max-seconds") real(&o.max_seconds);
    else if (a == "--timeout") real(&o.timeout);
    else if (a == "--token") o.token = v;
    else if (a == "--tokens-file") {
      std::ifstream in(v);
      if (!in) Fail(absl::StrCat("--tokens-file: cannot read '", v, "'"));
      std::string role, token;
      while (in >> role >> token) o.tokens[role] = token;
    }
    else if (a == "--life-unit") o.unit = v;
    else if (a == "--tracking-file") o.tracking_file = v;
    else if (a == "--units-file") o.units_file = v;
    else if (a == "--list-filters") o.list_filters = v;
    else if (a == "--officer") o.officer = v;
    else if (a == "--page-size") number(&o.page_size);
    else if (a == "--advance") number(&o.advance);
    else if (a == "--repeat-share") {
      real(&o.repeat_share);
      if (o.repeat_share > 1) Fail("--repeat-share: a share from 0 to 1");
    }
    else if (a == "--seed") number(&o.seed);
    else if (a == "--rss-pid")
      number(&o.rss_pid);
    else if (a == "--rss-every")
      real(&o.rss_every);
    else Fail(absl::StrCat("unknown flag ", a, " (see --help)"));
  }
  if (!addresses.empty()) o.addresses = addresses;
  if (o.addresses.empty()) o.addresses = {"127.0.0.1:50051"};
  for (const std::string& a : o.addresses) {
    if (!IsLoopback(a)) Fail(absl::StrCat("--address ", a, ": loopback only (127.0.0.1, ::1, localhost, unix:)"));
  }
  static const std::set<std::string> kScenarios = {"register", "get",    "list", "queue",
                                                   "life",     "timers", "soak"};
  if (!kScenarios.contains(o.scenario))
    Fail("--scenario: register, get, list, queue, life, timers or soak");
  if (o.scenario == "queue" && o.officer.empty()) Fail("--officer: required for the queue scenario");
  if (o.page_size < 1 || o.page_size > 1000) Fail("--page-size: 1 to 1000");
  if (o.rss_every < 0.1) Fail("--rss-every: at least 0.1 s");
  if (o.concurrency < 1 || o.concurrency > 10000) Fail("--concurrency: 1 to 10000");
  if (o.threads < 1 || o.threads > 16) Fail("--threads: 1 to 16");
  if (o.channels < 1 || o.channels > 64) Fail("--channels: 1 to 64");
  if (o.count < 0) Fail("--count: negative");
  if (o.list_filters != "mixed" && o.list_filters != "unit+stage" && o.list_filters != "unit+category") {
    Fail("--list-filters: unit+stage, unit+category or mixed");
  }
  if (o.max_seconds <= 0) o.max_seconds = o.count > 0 ? 300 : o.warmup + o.duration + 60;
  if (o.seed == 0) o.seed = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now())) ^ getpid();
  return o;
}

double Ms(uint64_t micros) { return static_cast<double>(micros) / 1000.0; }

// Latency and errors of one kind of call.
struct Stats {
  Histogram latency;
  std::mutex mu;
  std::map<std::string, long long> errors;        // by status code name
  std::map<std::string, std::string> error_text;  // the first message of each
  std::atomic<long long> ok{0};

  void Record(const grpc::Status& st, uint64_t micros) {
    latency.Record(micros);
    if (st.ok()) {
      ok.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    static constexpr const char* kNames[] = {
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
        "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
        "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
        "UNAUTHENTICATED"};
    const int code = static_cast<int>(st.error_code());
    const std::string name = code >= 0 && code <= 16 ? kNames[code] : absl::StrCat("CODE_", code);
    std::lock_guard<std::mutex> l(mu);
    ++errors[name];
    error_text.emplace(name, st.error_message());
  }
  long long error_count() {
    std::lock_guard<std::mutex> l(mu);
    long long n = 0;
    for (const auto& [k, v] : errors) n += v;
    return n;
  }
};

// A call's completion, as the completion queue hands it back.
struct Tag {
  virtual ~Tag() = default;
  virtual void Done() = 0;
};

template <typename Resp>
struct Call final : Tag {
  grpc::ClientContext ctx;
  Resp resp;
  grpc::Status status;
  Clock::time_point started = Clock::now();
  std::unique_ptr<grpc::ClientAsyncResponseReader<Resp>> rpc;
  std::function<void(Call&)> done;
  void Done() override {
    done(*this);
    delete this;
  }
};

class Bench;

// One of --concurrency slots: starts a call, and the next when it completes.
class Slot {
 public:
  Slot(Bench& bench, int index, uint64_t seed);
  void Next();

 private:
  void Register(bool life);
  void Get();
  void List();
  void Queue();
  void LifeStep();

  Bench& bench_;
  int index_;
  benchdata::Rng rng_;
  std::unique_ptr<v1::IntakeService::Stub> intake_;
  std::unique_ptr<v1::CaseQueryService::Stub> query_;
  std::unique_ptr<v1::SupervisionService::Stub> supervision_;
  std::unique_ptr<v1::CaseworkService::Stub> casework_;
  long long serial_ = 0;
  // life: the case being carried through, its version, the step, its start
  std::string tracking_;
  long long version_ = 0;
  int step_ = 0;
  Clock::time_point life_started_;
  bool life_measured_ = false;
};

class Bench {
 public:
  explicit Bench(const Options& o) : o_(o) {
    for (const std::string& a : o.addresses) {
      for (int c = 0; c < o.channels; ++c) {
        grpc::ChannelArguments args;
        args.SetInt("xfbench.channel", c);  // distinct arguments: a connection each
        channels_.push_back(grpc::CreateCustomChannel(a, grpc::InsecureChannelCredentials(), args));
      }
    }
    tracking_ = benchdata::ReadLines(o.tracking_file);
    units_ = o.units_file.empty() ? benchdata::DefaultUnits() : benchdata::ReadLines(o.units_file);
    if (units_.empty()) Fail(absl::StrCat("--units-file ", o.units_file, ": no units"));
  }

  const Options& options() const { return o_; }
  const std::vector<std::string>& tracking() const { return tracking_; }
  const std::vector<std::string>& units() const { return units_; }
  Stats& stats(const std::string& name) {
    std::lock_guard<std::mutex> l(mu_);
    auto& s = stats_[name];
    if (!s) s = std::make_unique<Stats>();
    return *s;
  }
  std::shared_ptr<grpc::Channel> channel(int slot) { return channels_[slot % channels_.size()]; }
  grpc::CompletionQueue* cq() { return &cq_; }
  absl::Duration server_offset() const { return server_offset_; }
  absl::TimeZone server_zone() const { return server_zone_; }

  // The call's deadline and the bearer token of `role` (--tokens-file),
  // else --token.
  void Identify(grpc::ClientContext& ctx, const std::string& role) const {
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::milliseconds(static_cast<int64_t>(o_.timeout * 1000)));
    auto it = o_.tokens.find(role);
    const std::string& token = it != o_.tokens.end() ? it->second : o_.token;
    if (!token.empty()) ctx.AddMetadata("authorization", absl::StrCat("Bearer ", token));
  }

  // Whether a call that started at `t` counts, and whether to start more.
  bool Measured(Clock::time_point t) const { return t >= measure_from_; }
  bool Stopping() const { return stopping_.load(); }
  // A measured unit of work (a call; a whole life for life) completed.
  void Completed() {
    const long long n = completed_.fetch_add(1) + 1;
    last_completion_ns_.store(Clock::now().time_since_epoch().count());
    if (o_.count > 0 && n >= o_.count) stopping_.store(true);
  }
  void Started() { in_flight_.fetch_add(1); }
  void Finished() {
    if (in_flight_.fetch_sub(1) == 1 && stopping_.load()) {
      std::lock_guard<std::mutex> l(mu_);
      if (!shut_down_) {
        shut_down_ = true;
        cq_.Shutdown();
      }
    }
  }

  // Starts the slots and the threads; returns when the run is over.
  void Run();
  void Report();
  void Timers();

 private:
  void ReadServerInfo();
  // Until the run stops: the server's VmRSS every --rss-every seconds.
  void SampleRss();

  const Options& o_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::string> tracking_, units_;
  grpc::CompletionQueue cq_;
  std::mutex mu_;
  bool shut_down_ = false;  // GUARDED_BY(mu_)
  std::map<std::string, std::unique_ptr<Stats>> stats_;  // GUARDED_BY(mu_)
  std::vector<std::unique_ptr<Slot>> slots_;
  std::atomic<bool> stopping_{false};
  std::atomic<long long> in_flight_{0};
  std::atomic<long long> completed_{0};
  std::atomic<int64_t> last_completion_ns_{0};
  Clock::time_point start_, measure_from_;
  double measured_seconds_ = 0;
  absl::Duration server_offset_;
  absl::TimeZone server_zone_ = absl::FixedTimeZone(8 * 3600);
  std::vector<std::string> timer_lines_;
  std::map<std::string, double> timer_figures_;
  std::vector<std::pair<double, double>> rss_;  // (seconds since start, MB); the sampler's
};

// VmRSS of `pid` in MB; negative when it cannot be read.
double RssMb(int pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (!absl::StartsWith(line, "VmRSS:")) continue;
    double kb = 0;
    std::vector<std::string> parts = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (parts.size() >= 2 && absl::SimpleAtod(parts[1], &kb)) return kb / 1024.0;
  }
  return -1;
}

void Bench::SampleRss() {
  auto next = Clock::now();
  do {
    const double mb = RssMb(o_.rss_pid);
    const double t = std::chrono::duration<double>(Clock::now() - start_).count();
    if (mb >= 0) {
      rss_.push_back({t, mb});
      std::fprintf(stderr, "xfbench: rss t=%.0fs %.1f MB\n", t, mb);
    }
    next += std::chrono::milliseconds(static_cast<int64_t>(o_.rss_every * 1000));
    while (!stopping_.load() && Clock::now() < next) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  } while (!stopping_.load());
  const double mb = RssMb(o_.rss_pid);
  if (mb >= 0) rss_.push_back({std::chrono::duration<double>(Clock::now() - start_).count(), mb});
}

template <typename Resp, typename Prepare>
void Start(Bench& b, int slot, Prepare prepare, std::function<void(Call<Resp>&)> done,
           const std::string& role) {
  auto* call = new Call<Resp>();
  b.Identify(call->ctx, role);
  call->done = std::move(done);
  b.Started();
  call->rpc = prepare(&call->ctx, b.cq());
  call->rpc->StartCall();
  call->rpc->Finish(&call->resp, &call->status, call);
  (void)slot;
}

Slot::Slot(Bench& bench, int index, uint64_t seed)
    : bench_(bench),
      index_(index),
      rng_(seed),
      intake_(v1::IntakeService::NewStub(bench.channel(index))),
      query_(v1::CaseQueryService::NewStub(bench.channel(index))),
      supervision_(v1::SupervisionService::NewStub(bench.channel(index))),
      casework_(v1::CaseworkService::NewStub(bench.channel(index))) {}

uint64_t Micros(Clock::time_point from) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - from).count());
}

void Slot::Next() {
  if (bench_.Stopping()) return;
  const std::string& s = bench_.options().scenario;
  if (s == "register") Register(false);
  else if (s == "get") Get();
  else if (s == "list") List();
  else if (s == "queue") Queue();
  else if (s == "soak") {
    const uint32_t pick = rng_() % 10;
    if (pick < 2)
      Register(false);
    else if (pick < 7)
      Get();
    else
      List();
  } else
    LifeStep();
}

void Slot::Register(bool life) {
  v1::RegisterCaseRequest req;
  req.set_request_id(absl::StrFormat("xfb-%08x-%d-%d", static_cast<uint32_t>(rng_()), index_, ++serial_));
  const auto& units = bench_.units();
  const std::string unit = life ? bench_.options().unit : units[rng_() % units.size()];
  *req.mutable_intake() = benchdata::Intake(rng_, absl::Now() - absl::Minutes(benchdata::Uniform(rng_, 1, 600)), unit);
  if (life) req.mutable_intake()->set_registering_unit(unit);
  // The first repeat_share of the slots petition again and again, as one person.
  const bool repeat = !life && index_ < static_cast<int>(bench_.options().repeat_share *
                                                             bench_.options().concurrency + 0.5);
  if (repeat) {
    v1::CaseIntake& in = *req.mutable_intake();
    in.set_anonymous(false);
    in.clear_petitioners();
    v1::Petitioner* p = in.add_petitioners();
    p->set_name("重复信访人");
    p->set_id_number("11010519491231002X");
    p->set_phone("13900000000");
    in.set_category("wages.arrears");
    in.set_complained_about("某建筑有限公司");
    in.set_registering_unit("prov.organs.office");
  }
  Start<v1::RegisterCaseResponse>(
      bench_, index_,
      [&](grpc::ClientContext* ctx, grpc::CompletionQueue* cq) {
        return intake_->PrepareAsyncRegisterCase(ctx, req, cq);
      },
      [this, life, repeat](Call<v1::RegisterCaseResponse>& c) {
        const bool measured = bench_.Measured(c.started);
        if (measured) {
          bench_.stats(repeat ? "register-repeat" : "register").Record(c.status, Micros(c.started));
        }
        if (life) {
          if (c.status.ok()) {
            tracking_ = c.resp.case_().tracking_number();
            version_ = c.resp.case_().version();
            step_ = 1;
          }
        } else if (measured) {
          bench_.Completed();
        }
        Next();  // before Finished: the queue must not shut down in between
        bench_.Finished();
      },
      "intake_clerk");
}

void Slot::Get() {
  v1::GetCaseRequest req;
  const auto& t = bench_.tracking();
  req.mutable_case_()->set_tracking_number(t.empty() ? "XF00000000-000001" : t[rng_() % t.size()]);
  Start<v1::GetCaseResponse>(
      bench_, index_,
      [&](grpc::ClientContext* ctx, grpc::CompletionQueue* cq) {
        return query_->PrepareAsyncGetCase(ctx, req, cq);
      },
      [this](Call<v1::GetCaseResponse>& c) {
        if (bench_.Measured(c.started)) {
          bench_.stats("get").Record(c.status, Micros(c.started));
          bench_.Completed();
        }
        Next();  // before Finished: the queue must not shut down in between
        bench_.Finished();
      },
      "service");
}

void Slot::List() {
  v1::ListCasesRequest req;
  const auto& units = bench_.units();
  req.set_unit(units[rng_() % units.size()]);
  std::string kind = bench_.options().list_filters;
  if (kind == "mixed") kind = rng_() % 2 ? "unit+stage" : "unit+category";
  if (kind == "unit+stage") {
    static const std::vector<benchdata::Weighted<v1::Stage>> kStages = {
        {v1::STAGE_INTAKE, 2}, {v1::STAGE_HANDLING, 4}, {v1::STAGE_EVALUATION, 1}, {v1::STAGE_FINAL, 3}};
    req.set_stage(benchdata::Pick(rng_, kStages));
  } else {
    req.set_category(benchdata::Pick(rng_, benchdata::CategoryWeights()));
  }
  const std::string name = absl::StrCat("list ", kind);
  Start<v1::ListCasesResponse>(
      bench_, index_,
      [&](grpc::ClientContext* ctx, grpc::CompletionQueue* cq) {
        return query_->PrepareAsyncListCases(ctx, req, cq);
      },
      [this, name](Call<v1::ListCasesResponse>& c) {
        if (bench_.Measured(c.started)) {
          bench_.stats("list").Record(c.status, Micros(c.started));
          bench_.stats(name).Record(c.status, Micros(c.started));
          bench_.Completed();
        }
        Next();  // before Finished: the queue must not shut down in between
        bench_.Finished();
      },
      "supervisor");
}

void Slot::Queue() {
  v1::ListDeadlinesRequest req;
  req.set_case_officer(bench_.options().officer);
  req.set_page_size(bench_.options().page_size);
  req.mutable_before()->set_seconds(4102444800);  // 2100-01-01: every open deadline
  Start<v1::ListDeadlinesResponse>(
      bench_, index_,
      [&](grpc::ClientContext* ctx, grpc::CompletionQueue* cq) {
        return supervision_->PrepareAsyncListDeadlines(ctx, req, cq);
      },
      [this](Call<v1::ListDeadlinesResponse>& c) {
        if (bench_.Measured(c.started)) {
          bench_.stats("queue").Record(c.status, Micros(c.started));
          bench_.Completed();
        }
        Next();  // before Finished: the queue must not shut down in between
        bench_.Finished();
      },
      "supervisor");
}

// A whole case life: step 0 registers, 1..5 take the actions.
void Slot::LifeStep() {
  if (step_ == 0) {
    life_started_ = Clock::now();
    life_measured_ = bench_.Measured(life_started_);
    Register(true);
    return;
  }
  struct Step {
    const char* action;
    const char* role;
  };
  static constexpr Step kSteps[] = {{"accept", "intake_clerk"},
                                    {"assign_officer", "unit_head"},
                                    {"decide", "case_officer"},
                                    {"serve", "case_officer"},
                                    {"evaluate", "intake_clerk"}};
  const Step& st = kSteps[step_ - 1];
  v1::TakeActionRequest req;
  req.mutable_case_()->set_tracking_number(tracking_);
  req.set_action(st.action);
  req.set_expected_version(version_);
  auto& f = *req.mutable_fields();
  switch (step_) {
    case 1: f["notice"] = "本机关已受理您反映的事项，将依法办理并按期答复。"; break;
    case 2: f["officer"] = "bench-officer"; break;
    case 3:
      f["outcome"] = "support";
      f["decision_text"] = "经调查核实，责成用人单位依法整改并于十五日内答复信访人。";
      break;
    case 4: {
      const absl::CivilDay today =
          absl::ToCivilDay(absl::Now() + bench_.server_offset(), bench_.server_zone());
      f["served_on"] = absl::StrFormat("%04d-%02d-%02d", today.year(), today.month(), today.day());
      f["method"] = "in_person";
      f["receipt"] = "signed";
      f["signed_by"] = "信访人本人";
      break;
    }
    default:
      f["rating"] = "satisfied";
      f["office_rating"] = "satisfied";
      f["channel"] = "call";
      break;
  }
  const std::string name = st.action;
  Start<v1::TakeActionResponse>(
      bench_, index_,
      [&](grpc::ClientContext* ctx, grpc::CompletionQueue* cq) {
        return casework_->PrepareAsyncTakeAction(ctx, req, cq);
      },
      [this, name](Call<v1::TakeActionResponse>& c) {
        if (life_measured_) bench_.stats(name).Record(c.status, Micros(c.started));
        if (!c.status.ok()) {
          step_ = 0;  // this life failed: start a new one
        } else if (++step_ > 5) {
          if (life_measured_) {
            bench_.stats("life").Record(grpc::Status::OK, Micros(life_started_));
            bench_.Completed();
          }
          step_ = 0;
        } else {
          version_ = c.resp.case_().version();
        }
        Next();  // before Finished: the queue must not shut down in between
        bench_.Finished();
      },
      st.role);
}

void Bench::ReadServerInfo() {
  auto stub = v1::AdminService::NewStub(channels_.front());
  grpc::ClientContext ctx;
  Identify(ctx, o_.tokens.empty() ? "" : o_.tokens.begin()->first);
  v1::GetServerInfoResponse info;
  grpc::Status st = stub->GetServerInfo(&ctx, v1::GetServerInfoRequest(), &info);
  if (!st.ok()) {
    Fail(absl::StrCat("GetServerInfo on ", o_.addresses.front(), ": ", st.error_message(),
                      " (is the server running?)"), 1);
  }
  server_offset_ = absl::FromUnixSeconds(info.now().seconds()) - absl::Now();
  absl::TimeZone tz;
  if (absl::LoadTimeZone(info.time_zone(), &tz)) server_zone_ = tz;
}

void Bench::Run() {
  ReadServerInfo();
  if ((o_.scenario == "get" || o_.scenario == "soak") && tracking_.empty()) {
    // No file: sample the newest cases through ListCases.
    auto stub = v1::CaseQueryService::NewStub(channels_.front());
    std::string token;
    for (int page = 0; page < 20 && tracking_.size() < 10000; ++page) {
      grpc::ClientContext ctx;
      Identify(ctx, "service");
      v1::ListCasesRequest req;
      req.set_page_size(500);
      req.set_page_token(token);
      v1::ListCasesResponse resp;
      if (!stub->ListCases(&ctx, req, &resp).ok()) break;
      for (const auto& c : resp.cases()) tracking_.push_back(c.tracking_number());
      token = resp.next_page_token();
      if (token.empty()) break;
    }
    if (tracking_.empty() && o_.scenario == "get") {
      Fail("get: no tracking numbers (--tracking-file, or register some cases)", 1);
    }
  }
  start_ = Clock::now();
  measure_from_ = start_ + std::chrono::milliseconds(static_cast<int64_t>(o_.warmup * 1000));
  std::thread sampler;
  if (o_.rss_pid > 0) sampler = std::thread([this] { SampleRss(); });
  for (int i = 0; i < o_.concurrency; ++i) {
    slots_.push_back(std::make_unique<Slot>(*this, i, o_.seed + static_cast<uint64_t>(i) * 7919));
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < o_.threads; ++t) {
    threads.emplace_back([this] {
      void* tag;
      bool ok;
      while (cq_.Next(&tag, &ok)) static_cast<Tag*>(tag)->Done();
    });
  }
  Started();  // held until every slot has started, so the queue cannot shut down early
  for (auto& s : slots_) s->Next();
  // The clock: stop at the end of the duration (unless --count) or the hard cap.
  const auto cap = start_ + std::chrono::milliseconds(static_cast<int64_t>(o_.max_seconds * 1000));
  const auto end = o_.count > 0 ? cap : measure_from_ + std::chrono::milliseconds(static_cast<int64_t>(o_.duration * 1000));
  while (!stopping_.load() && Clock::now() < std::min(end, cap)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const auto stopped = Clock::now();
  stopping_.store(true);
  if (o_.count > 0 && stopped >= cap) {
    std::fprintf(stderr, "xfbench: hard cap of %.0f s reached before --count\n", o_.max_seconds);
  }
  Finished();  // the hold taken above
  // In-flight calls end by their deadline at the latest; then give up.
  const auto drain = Clock::now() + std::chrono::milliseconds(static_cast<int64_t>(o_.timeout * 1000) + 5000);
  while (in_flight_.load() > 0 && Clock::now() < drain) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (in_flight_.load() > 0) Fail("calls did not finish after their deadline", 1);
  for (auto& t : threads) t.join();
  if (sampler.joinable()) sampler.join();
  const auto last = Clock::time_point(Clock::duration(last_completion_ns_.load()));
  const auto until = o_.count > 0 ? std::max(last, measure_from_) : std::max(measure_from_, stopped);
  measured_seconds_ = std::chrono::duration<double>(until - measure_from_).count();
}

// timers: every server's simulated clock moves at once; each AdvanceClock
// returns after that server's sweeper has fired what fell due.
void Bench::Timers() {
  if (o_.advance <= 0) Fail("timers: --advance SECONDS is required (xfseed prints burst_due_in_seconds)");
  const auto t0 = Clock::now();
  std::vector<std::thread> threads;
  std::mutex mu;
  for (const std::string& address : o_.addresses) {
    threads.emplace_back([&, address] {
      auto stub = v1::AdminService::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
      grpc::ClientContext ctx;
      Identify(ctx, "supervisor");
      ctx.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::milliseconds(static_cast<int64_t>(o_.max_seconds * 1000)));
      v1::AdvanceClockRequest req;
      req.set_seconds(o_.advance);
      v1::AdvanceClockResponse resp;
      const auto started = Clock::now();
      grpc::Status st = stub->AdvanceClock(&ctx, req, &resp);
      const uint64_t us = Micros(started);
      stats("advance_clock").Record(st, us);
      std::lock_guard<std::mutex> l(mu);
      timer_lines_.push_back(absl::StrFormat("%s: AdvanceClock %.1f ms%s", address, Ms(us),
                                             st.ok() ? "" : absl::StrCat(" ", st.error_message())));
    });
  }
  for (auto& t : threads) t.join();
  timer_figures_["all_fired_seconds"] = std::chrono::duration<double>(Clock::now() - t0).count();
  // Check: deadlines past due that have not climbed a rung, i.e. not fired.
  auto stub = v1::SupervisionService::NewStub(channels_.front());
  long long overdue = 0, unfired = 0;
  std::string token;
  const auto check_until = t0 + std::chrono::milliseconds(static_cast<int64_t>(o_.max_seconds * 1000));
  for (int page = 0; page < 10000 && Clock::now() < check_until; ++page) {
    grpc::ClientContext ctx;
    Identify(ctx, "supervisor");
    v1::ListDeadlinesRequest req;
    req.set_overdue_only(true);
    req.set_page_size(1000);
    req.set_page_token(token);
    v1::ListDeadlinesResponse resp;
    grpc::Status st = stub->ListDeadlines(&ctx, req, &resp);
    if (!st.ok()) {
      stats("list_deadlines").Record(st, 0);
      break;
    }
    for (const auto& item : resp.items()) {
      ++overdue;
      if (item.deadline().rung() == 0) ++unfired;
    }
    token = resp.next_page_token();
    if (token.empty()) break;
  }
  timer_figures_["overdue_deadlines"] = static_cast<double>(overdue);
  timer_figures_["unfired_escalations"] = static_cast<double>(unfired);
  measured_seconds_ = timer_figures_["all_fired_seconds"];
}

void Bench::Report() {
  const std::string main = o_.scenario == "timers" ? "advance_clock" : o_.scenario;
  long long errors = 0;
  for (auto& [name, s] : stats_) {
    if (name == main || o_.scenario == "life" || o_.scenario == "timers" || o_.scenario == "soak") {
      errors += s->error_count();
    }
  }
  const long long done = completed_.load();
  const double throughput = measured_seconds_ > 0 ? static_cast<double>(done) / measured_seconds_ : 0;
  auto lat = [](Histogram& h) {
    return std::map<std::string, double>{{"p50", Ms(h.Quantile(0.5))},   {"p90", Ms(h.Quantile(0.9))},
                                         {"p99", Ms(h.Quantile(0.99))},  {"p99_9", Ms(h.Quantile(0.999))},
                                         {"max", Ms(h.max())},           {"mean", h.mean() / 1000.0}};
  };
  if (o_.json) {
    std::string out = absl::StrFormat(
        "{\"scenario\": \"%s\", \"addresses\": \"%s\", \"concurrency\": %d, \"threads\": %d, "
        "\"channels\": %d, \"warmup_s\": %.1f, \"measured_s\": %.3f, \"completed\": %lld, "
        "\"throughput\": %.1f, \"errors\": %lld",
        o_.scenario, absl::StrJoin(o_.addresses, ","), o_.concurrency, o_.threads, o_.channels,
        o_.warmup, measured_seconds_, done, throughput, errors);
    for (const auto& [k, v] : timer_figures_) absl::StrAppendFormat(&out, ", \"%s\": %.3f", k, v);
    if (!rss_.empty()) {
      double peak = 0;
      for (const auto& [t, mb] : rss_) peak = std::max(peak, mb);
      absl::StrAppendFormat(&out,
                            ", \"rss_first_mb\": %.1f, \"rss_last_mb\": %.1f, \"rss_max_mb\": %.1f",
                            rss_.front().second, rss_.back().second, peak);
    }
    out += ", \"calls\": {";
    bool first = true;
    for (auto& [name, s] : stats_) {
      absl::StrAppendFormat(&out, "%s\"%s\": {\"count\": %d, \"ok\": %lld, \"latency_ms\": {",
                            first ? "" : ", ", name, s->latency.count(), s->ok.load());
      first = false;
      bool f2 = true;
      for (const auto& [k, v] : lat(s->latency)) {
        absl::StrAppendFormat(&out, "%s\"%s\": %.3f", f2 ? "" : ", ", k, v);
        f2 = false;
      }
      out += "}, \"errors\": {";
      f2 = true;
      std::lock_guard<std::mutex> l(s->mu);
      for (const auto& [code, n] : s->errors) {
        absl::StrAppendFormat(&out, "%s\"%s\": %lld", f2 ? "" : ", ", code, n);
        f2 = false;
      }
      out += "}}";
    }
    out += "}}";
    std::puts(out.c_str());
    return;
  }
  std::printf("scenario %s on %s: concurrency %d, %d thread(s), %d channel(s) per address\n",
              o_.scenario.c_str(), absl::StrJoin(o_.addresses, ",").c_str(), o_.concurrency,
              o_.threads, o_.channels);
  for (const std::string& l : timer_lines_) std::printf("  %s\n", l.c_str());
  for (const auto& [k, v] : timer_figures_) std::printf("  %s: %.3f\n", k.c_str(), v);
  if (!rss_.empty()) {
    double peak = 0;
    for (const auto& [t, mb] : rss_) peak = std::max(peak, mb);
    std::printf("server rss: first %.1f MB, last %.1f MB, max %.1f MB (%zu samples)\n",
                rss_.front().second, rss_.back().second, peak, rss_.size());
  }
  if (o_.scenario != "timers") {
    std::printf("measured %.2f s after %.1f s warm-up: %lld %s, %.1f/s\n", measured_seconds_,
                o_.warmup, done, o_.scenario == "life" ? "lives" : "calls", throughput);
  }
  std::printf("%-22s %8s %8s %8s %8s %8s %8s  errors\n", "latency (ms)", "count", "p50", "p90",
              "p99", "p99.9", "max");
  for (auto& [name, s] : stats_) {
    auto l = lat(s->latency);
    std::string errs;
    std::lock_guard<std::mutex> g(s->mu);
    for (const auto& [code, n] : s->errors) {
      absl::StrAppend(&errs, errs.empty() ? "" : ", ", code, " ", n, " (", s->error_text[code], ")");
    }
    std::printf("%-22s %8llu %8.2f %8.2f %8.2f %8.2f %8.2f  %s\n", name.c_str(),
                static_cast<unsigned long long>(s->latency.count()), l["p50"], l["p90"], l["p99"],
                l["p99_9"], l["max"], errs.empty() ? "none" : errs.c_str());
  }
}

}  // namespace

int Main(int argc, char** argv) {
  const Options o = ParseOptions(argc, argv);
  Bench bench(o);
  if (o.scenario == "timers") {
    bench.Timers();
  } else {
    bench.Run();
  }
  bench.Report();
  return 0;
}

}  // namespace xinfang::xfbench

int main(int argc, char** argv) { return xinfang::xfbench::Main(argc, argv); }
