// The process's Prometheus metrics (prometheus-cpp's core library): one
// registry, owned by Core, that the rest of the server reaches only through
// the narrow calls below. docs/monitoring.md lists every series.
//
// Thread-safety: every method may be called from any thread.
#ifndef XINFANG_SERVICES_COMMON_METRICS_H_
#define XINFANG_SERVICES_COMMON_METRICS_H_

#include <grpcpp/support/server_interceptor.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/strings/string_view.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
template <typename T>
class Family;
}  // namespace prometheus

namespace xinfang {

// Open and overdue deadlines owed by one top-level unit and its subtree.
struct UnitDeadlines {
  std::string unit;
  int64_t open = 0;
  int64_t overdue = 0;
};

// The connection pool's counters (storage::PoolStats, copied so that this
// header needs no storage).
struct PoolGauges {
  int size = 0;
  int in_use = 0;
  uint64_t waits = 0;     // leases that found every connection taken
  uint64_t timeouts = 0;  // of which gave up (UNAVAILABLE)
  double wait_seconds = 0;
};

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // One finished call: `method` is gRPC's "/package.Service/Method", `code`
  // the status code. `seconds` goes to the latency histogram unless
  // negative (streams, whose duration is not a latency).
  void RecordRpc(absl::string_view method, int code, double seconds);

  // One sweeper pass that handled `cases` cases (0 when nothing was due);
  // `ok` false when it failed.
  void RecordSweep(int cases, bool ok);
  // One petition checked against every warning rule in `seconds` (the
  // rules' queries, at the server); `raised` warnings raised for it.
  void RecordWarningCheck(double seconds, int raised);
  // A warning raised by the clock (a group petition left unaccepted).
  void RecordWarningRaised();
  // Age of the oldest due timer not yet fired (0 when none is due).
  void SetSweeperLag(double seconds);
  // The event feed: the last position given out, the committed events not
  // yet placed in it, and the age of the oldest of those (0 when none).
  void SetFeed(int64_t head, int64_t unsequenced, double lag_seconds);
  // Replaces the deadline gauges (units absent from `units` drop out).
  void SetDeadlines(const std::vector<UnitDeadlines>& units);
  // xinfang_build_info{version, schema} 1.
  void SetBuildInfo(absl::string_view version, int schema);
  // Read when metrics are rendered (the pool's counters are read, not
  // pushed). Set once, before serving.
  void SetPoolSource(std::function<PoolGauges()> source);

  // The text exposition format (version 0.0.4), as /metrics serves it.
  std::string Render();

  // A server interceptor factory that calls RecordRpc for every call the
  // gRPC server answers (the HTTP face's calls pass through it too), and
  // carries the call's request id (log.h): the caller's x-request-id
  // metadata when it is a sane token, else a new one; it is returned in the
  // response's initial metadata. `metrics` may be null (request ids only).
  static std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> InterceptorFactory(
      Metrics* metrics);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* rpcs_;
  prometheus::Family<prometheus::Histogram>* rpc_seconds_;
  prometheus::Counter* sweeps_;
  prometheus::Counter* sweep_errors_;
  prometheus::Counter* swept_cases_;
  prometheus::Gauge* sweeper_lag_;
  prometheus::Histogram* warning_check_seconds_;
  prometheus::Counter* warnings_raised_;
  prometheus::Gauge* feed_head_;
  prometheus::Gauge* feed_unsequenced_;
  prometheus::Gauge* feed_lag_;
  prometheus::Family<prometheus::Gauge>* open_deadlines_;
  prometheus::Family<prometheus::Gauge>* overdue_deadlines_;
  prometheus::Family<prometheus::Gauge>* build_info_;
  prometheus::Gauge* pool_size_;
  prometheus::Gauge* pool_in_use_;
  prometheus::Counter* pool_waits_;
  prometheus::Counter* pool_timeouts_;
  prometheus::Counter* pool_wait_seconds_;

  absl::Mutex mu_;
  std::function<PoolGauges()> pool_source_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, prometheus::Gauge*> open_by_unit_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, prometheus::Gauge*> overdue_by_unit_ ABSL_GUARDED_BY(mu_);
};

}  // namespace xinfang

#endif  // XINFANG_SERVICES_COMMON_METRICS_H_
