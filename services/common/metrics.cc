#include "services/common/metrics.h"

#include <grpcpp/grpcpp.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "services/common/log.h"

namespace xinfang {

namespace {

constexpr const char* kCodes[] = {
    "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
    "DATA_LOSS", "UNAUTHENTICATED"};

const char* CodeName(int code) { return code >= 0 && code <= 16 ? kCodes[code] : "UNKNOWN"; }

// Latency buckets in seconds: 1 ms to 10 s.
const prometheus::Histogram::BucketBoundaries& Buckets() {
  static const prometheus::Histogram::BucketBoundaries b = {
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return b;
}

// Raises a counter to `total` (a cumulative count read from elsewhere).
void RaiseTo(prometheus::Counter& c, double total) {
  if (total > c.Value()) c.Increment(total - c.Value());
}

}  // namespace

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  auto& r = *registry_;
  rpcs_ = &prometheus::BuildCounter()
               .Name("xinfang_rpc_requests_total")
               .Help("Calls answered, by service, method and gRPC status code")
               .Register(r);
  rpc_seconds_ = &prometheus::BuildHistogram()
                      .Name("xinfang_rpc_duration_seconds")
                      .Help("Time from a unary call's arrival to its status, by service and method")
                      .Register(r);
  auto& sweeps = prometheus::BuildCounter()
                     .Name("xinfang_sweeper_passes_total")
                     .Help("Sweeper passes, by result")
                     .Register(r);
  sweeps_ = &sweeps.Add({{"result", "ok"}});
  sweep_errors_ = &sweeps.Add({{"result", "error"}});
  swept_cases_ = &prometheus::BuildCounter()
                      .Name("xinfang_sweeper_cases_fired_total")
                      .Help("Cases whose due timers the sweeper fired")
                      .Register(r)
                      .Add({});
  sweeper_lag_ = &prometheus::BuildGauge()
                      .Name("xinfang_sweeper_lag_seconds")
                      .Help("Age of the oldest due timer not yet fired (0: none due)")
                      .Register(r)
                      .Add({});
  warning_check_seconds_ =
      &prometheus::BuildHistogram()
           .Name("xinfang_warning_check_seconds")
           .Help("Time to check one new petition against every early-warning rule")
           .Register(r)
           .Add({}, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.002, 0.005, 0.01,
                                                            0.025, 0.05, 0.1, 0.25, 1});
  warnings_raised_ = &prometheus::BuildCounter()
                          .Name("xinfang_warnings_raised_total")
                          .Help("Early warnings raised")
                          .Register(r)
                          .Add({});
  feed_head_ = &prometheus::BuildGauge()
                    .Name("xinfang_feed_head_position")
                    .Help("Last position of the event feed (compare a consumer's cursor)")
                    .Register(r)
                    .Add({});
  feed_unsequenced_ = &prometheus::BuildGauge()
                           .Name("xinfang_feed_unsequenced_events")
                           .Help("Committed case events not yet placed in the event feed")
                           .Register(r)
                           .Add({});
  feed_lag_ = &prometheus::BuildGauge()
                   .Name("xinfang_feed_lag_seconds")
                   .Help("Age of the oldest committed event not yet in the feed (0: none)")
                   .Register(r)
                   .Add({});
  open_deadlines_ = &prometheus::BuildGauge()
                         .Name("xinfang_deadlines_open")
                         .Help("Running deadlines owed by a top-level unit's subtree")
                         .Register(r);
  overdue_deadlines_ = &prometheus::BuildGauge()
                            .Name("xinfang_deadlines_overdue")
                            .Help("Running deadlines past due, by top-level unit")
                            .Register(r);
  build_info_ =
      &prometheus::BuildGauge()
           .Name("xinfang_build_info")
           .Help("Always 1: the server's version and its database schema (migration number)")
           .Register(r);
  pool_size_ = &prometheus::BuildGauge()
                    .Name("xinfang_db_pool_connections")
                    .Help("Database connections in the pool")
                    .Register(r)
                    .Add({});
  pool_in_use_ = &prometheus::BuildGauge()
                      .Name("xinfang_db_pool_in_use")
                      .Help("Database connections leased now")
                      .Register(r)
                      .Add({});
  pool_waits_ = &prometheus::BuildCounter()
                     .Name("xinfang_db_pool_waits_total")
                     .Help("Leases that found every connection taken and had to wait")
                     .Register(r)
                     .Add({});
  pool_timeouts_ = &prometheus::BuildCounter()
                        .Name("xinfang_db_pool_timeouts_total")
                        .Help("Leases that waited in vain (the call got UNAVAILABLE)")
                        .Register(r)
                        .Add({});
  pool_wait_seconds_ = &prometheus::BuildCounter()
                            .Name("xinfang_db_pool_wait_seconds_total")
                            .Help("Time spent waiting for a free connection")
                            .Register(r)
                            .Add({});
}

Metrics::~Metrics() = default;

void Metrics::RecordRpc(absl::string_view method, int code, double seconds) {
  // "/xinfang.v1.IntakeService/RegisterCase"
  absl::string_view service, name = method;
  if (const auto slash = method.rfind('/'); slash != absl::string_view::npos && slash > 0) {
    service = method.substr(method[0] == '/' ? 1 : 0, slash - (method[0] == '/' ? 1 : 0));
    name = method.substr(slash + 1);
  }
  const std::string s(service), m(name);
  rpcs_->Add({{"service", s}, {"method", m}, {"code", CodeName(code)}}).Increment();
  if (seconds >= 0) rpc_seconds_->Add({{"service", s}, {"method", m}}, Buckets()).Observe(seconds);
}

void Metrics::RecordSweep(int cases, bool ok) {
  (ok ? sweeps_ : sweep_errors_)->Increment();
  if (cases > 0) swept_cases_->Increment(cases);
}

void Metrics::RecordWarningCheck(double seconds, int raised) {
  warning_check_seconds_->Observe(seconds);
  if (raised > 0) warnings_raised_->Increment(raised);
}

void Metrics::RecordWarningRaised() { warnings_raised_->Increment(); }

void Metrics::SetSweeperLag(double seconds) { sweeper_lag_->Set(seconds > 0 ? seconds : 0); }

void Metrics::SetFeed(int64_t head, int64_t unsequenced, double lag_seconds) {
  feed_head_->Set(static_cast<double>(head));
  feed_unsequenced_->Set(static_cast<double>(unsequenced));
  feed_lag_->Set(lag_seconds > 0 ? lag_seconds : 0);
}

void Metrics::SetDeadlines(const std::vector<UnitDeadlines>& units) {
  absl::MutexLock lock(&mu_);
  std::map<std::string, prometheus::Gauge*> open, overdue;
  for (const UnitDeadlines& u : units) {
    auto o = open_by_unit_.find(u.unit);
    prometheus::Gauge* og =
        o != open_by_unit_.end() ? o->second : &open_deadlines_->Add({{"unit", u.unit}});
    auto d = overdue_by_unit_.find(u.unit);
    prometheus::Gauge* dg =
        d != overdue_by_unit_.end() ? d->second : &overdue_deadlines_->Add({{"unit", u.unit}});
    og->Set(static_cast<double>(u.open));
    dg->Set(static_cast<double>(u.overdue));
    open[u.unit] = og;
    overdue[u.unit] = dg;
  }
  for (const auto& [unit, g] : open_by_unit_) {
    if (!open.count(unit)) open_deadlines_->Remove(g);
  }
  for (const auto& [unit, g] : overdue_by_unit_) {
    if (!overdue.count(unit)) overdue_deadlines_->Remove(g);
  }
  open_by_unit_ = std::move(open);
  overdue_by_unit_ = std::move(overdue);
}

void Metrics::SetBuildInfo(absl::string_view version, int schema) {
  build_info_->Add({{"version", std::string(version)}, {"schema", absl::StrCat(schema)}}).Set(1);
}

void Metrics::SetPoolSource(std::function<PoolGauges()> source) {
  absl::MutexLock lock(&mu_);
  pool_source_ = std::move(source);
}

std::string Metrics::Render() {
  std::function<PoolGauges()> source;
  {
    absl::MutexLock lock(&mu_);
    source = pool_source_;
  }
  if (source) {
    const PoolGauges p = source();
    pool_size_->Set(p.size);
    pool_in_use_->Set(p.in_use);
    RaiseTo(*pool_waits_, static_cast<double>(p.waits));
    RaiseTo(*pool_timeouts_, static_cast<double>(p.timeouts));
    RaiseTo(*pool_wait_seconds_, p.wait_seconds);
  }
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

namespace {

constexpr char kRequestIdKey[] = "x-request-id";

class CallInterceptor final : public grpc::experimental::Interceptor {
 public:
  CallInterceptor(grpc::experimental::ServerRpcInfo* info, Metrics* metrics)
      : metrics_(metrics),
        method_(info->method() != nullptr ? info->method() : ""),
        unary_(info->type() == grpc::experimental::ServerRpcInfo::Type::UNARY),
        start_(std::chrono::steady_clock::now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      auto* md = methods->GetRecvInitialMetadata();
      if (md != nullptr) {
        auto it = md->find(kRequestIdKey);
        if (it != md->end() &&
            SaneRequestId(std::string_view(it->second.data(), it->second.size()))) {
          id_.assign(it->second.data(), it->second.size());
        } else {
          id_ = NewRequestId();
          if (it != md->end()) md->erase(it);
          // The handler reads it from the context like a caller's own.
          md->emplace(grpc::string_ref(kRequestIdKey), grpc::string_ref(id_));
        }
        SetRequestId(id_);  // the handler runs on this thread (synchronous server)
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_INITIAL_METADATA)) {
      if (auto* md = methods->GetSendInitialMetadata(); md != nullptr && !id_.empty()) {
        md->emplace(kRequestIdKey, id_);
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const int code = static_cast<int>(methods->GetSendStatus().error_code());
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      if (metrics_ != nullptr) metrics_->RecordRpc(method_, code, unary_ ? seconds : -1);
      LogDebug(absl::StrCat("rpc ", method_, " ", CodeName(code), " ",
                            static_cast<int64_t>(seconds * 1e6), "us"));
      SetRequestId("");
    }
    methods->Proceed();
  }

 private:
  Metrics* metrics_;
  std::string method_;
  bool unary_;
  std::chrono::steady_clock::time_point start_;
  std::string id_;
};

class CallInterceptorFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CallInterceptorFactory(Metrics* metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new CallInterceptor(info, metrics_);
  }

 private:
  Metrics* metrics_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> Metrics::InterceptorFactory(
    Metrics* metrics) {
  return std::make_unique<CallInterceptorFactory>(metrics);
}

}  // namespace xinfang
