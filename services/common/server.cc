#include "services/common/server.h"

#include "services/storage/reference_store.h"

#include <algorithm>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/impl/client_unary_call.h>
#include <grpcpp/impl/rpc_method.h>
#include <grpcpp/support/server_interceptor.h>
#include <grpcpp/support/sync_stream.h>
#include <malloc.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "grpc/health/v1/health.pb.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "services/common/http_face.h"
#include "services/common/log.h"
#include "services/common/monitor.h"
#include "services/common/validate.h"

namespace xinfang {

namespace {

// Start-up failures are one line: fold libpq's multi-line messages.
std::string OneLine(absl::string_view message) {
  std::string out;
  bool space = false;
  for (char c : message) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

}  // namespace

namespace {

// grpc.reflection.v1 for clients that speak only v1. gRPC 1.51 serves
// v1alpha, whose messages are the same on the wire: each request is passed,
// as bytes, to that service of this same server over an in-process channel,
// and its answer back.
class ReflectionV1 final : public grpc::reflection::v1::ServerReflection::Service {
 public:
  // Before the server serves (StartServer).
  void SetServer(grpc::Server* server) {
    absl::MutexLock lock(&mu_);
    channel_ = server->InProcessChannel(grpc::ChannelArguments());
  }

  grpc::Status ServerReflectionInfo(
      grpc::ServerContext* ctx,
      grpc::ServerReaderWriter<grpc::reflection::v1::ServerReflectionResponse,
                               grpc::reflection::v1::ServerReflectionRequest>* stream) override {
    static constexpr char kV1alpha[] =
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";
    std::shared_ptr<grpc::Channel> channel;
    {
      absl::MutexLock lock(&mu_);
      channel = channel_;
    }
    if (channel == nullptr) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "starting");
    grpc::ClientContext up_ctx;
    up_ctx.set_deadline(ctx->deadline());
    std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>> up(
        grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer, grpc::ByteBuffer>::Create(
            channel.get(),
            grpc::internal::RpcMethod(kV1alpha, grpc::internal::RpcMethod::BIDI_STREAMING),
            &up_ctx));
    grpc::reflection::v1::ServerReflectionRequest req;
    while (stream->Read(&req)) {
      const std::string bytes = req.SerializeAsString();
      grpc::Slice slice(bytes);
      grpc::ByteBuffer out(&slice, 1);
      grpc::ByteBuffer in;
      if (!up->Write(out) || !up->Read(&in)) break;
      std::vector<grpc::Slice> slices;
      if (!in.Dump(&slices).ok()) break;
      std::string answer;
      for (const grpc::Slice& s : slices) {
        answer.append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
      grpc::reflection::v1::ServerReflectionResponse resp;
      if (!resp.ParseFromString(answer) || !stream->Write(resp)) break;
    }
    up->WritesDone();
    up_ctx.TryCancel();
    (void)up->Finish();
    return grpc::Status::OK;
  }

 private:
  absl::Mutex mu_;
  std::shared_ptr<grpc::Channel> channel_ ABSL_GUARDED_BY(mu_);
};

// A request body that does not decode (malformed bytes, or a string field
// that is not valid UTF-8) is answered by gRPC's generated handler with
// INTERNAL and an empty message, before any xinfang code runs. It is the
// caller's error: this interceptor makes it INVALID_ARGUMENT saying so. No
// xinfang handler answers INTERNAL with an empty message (Guard and the
// storage errors always say something), so nothing else is changed.
class UndecodableRequest final : public grpc::experimental::Interceptor {
 public:
  explicit UndecodableRequest(grpc::experimental::ServerRpcInfo* info)
      : method_(info->method() != nullptr ? info->method() : "") {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      if (status.error_code() == grpc::StatusCode::INTERNAL && status.error_message().empty()) {
        methods->ModifySendStatus(
            grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                         absl::StrCat("request: does not decode as the request of ", method_,
                                      " (malformed, or a string field that is not valid UTF-8)")));
      }
    }
    methods->Proceed();
  }

 private:
  std::string method_;
};

class UndecodableRequestFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new UndecodableRequest(info);
  }
};

}  // namespace

std::unique_ptr<grpc::Server> StartServer(const std::string& listen,
                                          std::vector<std::unique_ptr<grpc::Service>>& services,
                                          int* port, const ListenOptions& options) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  // Health's descriptor in the generated pool, where reflection looks
  // (gRPC's default health service is not generated from a .proto).
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  auto reflection_v1 = std::make_unique<ReflectionV1>();
  ReflectionV1* v1 = reflection_v1.get();
  services.push_back(std::move(reflection_v1));
  grpc::ServerBuilder builder;
  // A port already in use is an error, not a port to share.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  *port = 0;
  builder.AddListeningPort(
      listen, options.credentials ? options.credentials : grpc::InsecureServerCredentials(), port);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetSyncServerOption(grpc::ServerBuilder::MAX_POLLERS,
                              std::max(2, options.handler_threads));
  for (const auto& s : services) builder.RegisterService(s.get());
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<UndecodableRequestFactory>());
  // After UndecodableRequest: it sees the status that is sent.
  interceptors.push_back(Metrics::InterceptorFactory(options.metrics));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || *port == 0) return nullptr;
  v1->SetServer(server.get());
  server->GetHealthCheckService()->SetServingStatus(true);
  return server;
}

namespace {

absl::StatusOr<std::string> ReadPem(const std::string& flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in || text.str().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(flag, ": cannot read '", path, "'"));
  }
  return text.str();
}

// --bootstrap-admin: the first administrator's token on stdout, once.
int Bootstrap(const std::string& program, Core& core) {
  const ServerConfig& config = core.config();
  std::string unit = config.bootstrap_unit;
  if (unit.empty()) {
    auto units = storage::ReadUnits(core.pool());
    if (!units.ok()) {
      std::fprintf(stderr, "%s: %s\n", program.c_str(), OneLine(units.status().message()).c_str());
      return 1;
    }
    int tops = 0;
    for (const auto& [code, parent] : *units) {
      if (parent.empty()) unit = code, ++tops;  // the top of the tree
    }
    if (tops != 1) {
      std::fprintf(stderr, "%s: bootstrap: the tree has %d top units: name one with --bootstrap-unit\n",
                   program.c_str(), tops);
      return 2;
    }
  }
  const absl::Time now = core.clock().Now();
  auto token = core.identity().Bootstrap(config.bootstrap_admin, unit, now,
                                         now + absl::Hours(24 * config.token_ttl_days));
  if (!token.ok()) {
    std::fprintf(stderr, "%s: bootstrap: %s\n", program.c_str(),
                 OneLine(token.status().message()).c_str());
    return 1;
  }
  std::fprintf(stderr, "%s: administrator '%s' of unit %s created; its token (shown once, "
               "expires %s):\n", program.c_str(), config.bootstrap_admin.c_str(), unit.c_str(),
               absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", token->info.expires_at, absl::UTCTimeZone()).c_str());
  std::printf("%s\n", token->secret.c_str());
  return 0;
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFrom(
    const ServerConfig& config) {
  if (config.tls_cert.empty()) return std::shared_ptr<grpc::ServerCredentials>();
  auto cert = ReadPem("--tls-cert", config.tls_cert);
  if (!cert.ok()) return cert.status();
  auto key = ReadPem("--tls-key", config.tls_key);
  if (!key.ok()) return key.status();
  grpc::SslServerCredentialsOptions opts;
  opts.pem_key_cert_pairs.push_back({*key, *cert});
  if (!config.tls_client_ca.empty()) {
    auto ca = ReadPem("--tls-client-ca", config.tls_client_ca);
    if (!ca.ok()) return ca.status();
    opts.pem_root_certs = *ca;
    opts.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(opts);
}

int ServerMain(int argc, char** argv, const std::string& program, const ServiceFactory& make) {
  SetLogProgram(program);
  // glibc gives threads arenas of their own, up to 8 per core; the server's
  // threads then keep freed large requests in many arenas, and RSS creeps up
  // after big or hostile requests (docs/benchmarks.md, "Memory over time").
  // Two arenas keep it bounded at no cost measured here. MALLOC_ARENA_MAX in
  // the environment wins (glibc reads it itself).
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 2);
  // Block the stop signals in every thread; main waits for them below.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGTERM);
  sigaddset(&stop, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  std::vector<std::string> args(argv + 1, argv + argc);
  auto config = ParseServerConfig(args, [](const char* n) -> const char* { return std::getenv(n); });
  if (!config.ok()) {
    std::fprintf(stderr, "%s: %s\n", program.c_str(), OneLine(config.status().message()).c_str());
    return 2;
  }
  if (config->help) {
    std::fputs(ServerUsage(program).c_str(), stdout);
    return 0;
  }
  SetLogLevel(config->log_level);
  SetLogFormat(config->log_format);
  auto credentials = ServerCredentialsFrom(*config);
  if (!credentials.ok()) {
    std::fprintf(stderr, "%s: %s\n", program.c_str(), OneLine(credentials.status().message()).c_str());
    return 2;
  }
  auto core = Core::Open(*config);
  if (!core.ok()) {
    std::fprintf(stderr, "%s: %s\n", program.c_str(), OneLine(core.status().message()).c_str());
    return 1;
  }
  if (config->migrate_only) {
    LogInfo("migrations applied");
    return 0;
  }
  if (config->rebuild_statistics) {
    auto counted = (*core)->store().RebuildStatistics(config->time_zone, true);
    if (!counted.ok()) {
      std::fprintf(stderr, "%s: %s\n", program.c_str(), OneLine(counted.status().message()).c_str());
      return 1;
    }
    LogInfo(absl::StrCat("statistics counted again: ", *counted, " cases in ", config->time_zone));
    return 0;
  }
  if (!config->bootstrap_admin.empty()) return Bootstrap(program, **core);

  std::vector<std::unique_ptr<grpc::Service>> services = make(**core);
  // After the services' own listeners (the sweeper's): a moved simulated
  // clock shows in the gauges before AdvanceClock returns.
  Monitor monitor(**core);
  (*core)->AddClockListener([&monitor] {
    monitor.RefreshLag();
    monitor.RefreshDeadlines();
  });
  int port = 0;
  std::unique_ptr<grpc::Server> server = StartServer(
      config->listen, services, &port,
      ListenOptions{*credentials, config->max_message_bytes, &(*core)->metrics(),
                    config->pool_size});
  if (server == nullptr) {
    std::fprintf(stderr, "%s: cannot listen on %s\n", program.c_str(), config->listen.c_str());
    return 1;
  }
  (*core)->Serving();
  monitor.Start();
  const auto at = config->listen.rfind(':');
  LogInfo(absl::StrCat("serving on ", config->listen.substr(0, at), ":", port,
                       *credentials ? (config->tls_client_ca.empty() ? " (TLS)" : " (mutual TLS)")
                                    : "",
                       (*core)->clock().simulated() ? " (simulated clock)" : "",
                       "; workflows ", absl::StrJoin((*core)->definitions().Keys(), ", ")));
  std::unique_ptr<HttpFace> http;
  if (!config->http_listen.empty()) {
    HttpFaceOptions h;
    h.listen = config->http_listen;
    h.console_dir = config->console_dir;
#ifdef XINFANG_DEFAULT_CONSOLE_DIR
    if (h.console_dir.empty()) h.console_dir = XINFANG_DEFAULT_CONSOLE_DIR;
#endif
    h.cors_origins = config->http_cors_origins;
    h.max_message_bytes = config->max_message_bytes;
    h.tls_cert = config->tls_cert;
    h.tls_key = config->tls_key;
    h.tls_client_ca = config->tls_client_ca;
    h.metrics = [m = &(*core)->metrics()] { return m->Render(); };
    auto started = HttpFace::Start(*server, h);
    if (!started.ok()) {
      std::fprintf(stderr, "%s: %s\n", program.c_str(), OneLine(started.status().message()).c_str());
      server->Shutdown();
      return 1;
    }
    http = std::move(*started);
    const auto hat = config->http_listen.rfind(':');
    LogInfo(absl::StrCat("console and Connect API on ", http->tls() ? "https://" : "http://",
                         config->http_listen.substr(0, hat), ":", http->port(), "/"));
  }
  std::unique_ptr<HttpFace> metrics_face;
  if (!config->metrics_listen.empty()) {
    HttpFaceOptions h;
    h.listen = config->metrics_listen;
    h.metrics = [m = &(*core)->metrics()] { return m->Render(); };
    h.metrics_only = true;
    h.flag = "--metrics-listen";
    auto started = HttpFace::Start(*server, h);
    if (!started.ok()) {
      std::fprintf(stderr, "%s: %s\n", program.c_str(),
                   OneLine(started.status().message()).c_str());
      if (http) http->Stop();
      server->Shutdown();
      return 1;
    }
    metrics_face = std::move(*started);
    const auto mat = config->metrics_listen.rfind(':');
    LogInfo(absl::StrCat("metrics on http://", config->metrics_listen.substr(0, mat), ":",
                         metrics_face->port(), "/metrics"));
  }
  // For scripts that start the server on port 0.
  auto write_port = [](const char* var, int p) {
    if (const char* f = std::getenv(var)) {
      if (FILE* out = std::fopen(f, "w")) {
        std::fprintf(out, "%d\n", p);
        std::fclose(out);
      }
    }
  };
  if (http) write_port("XINFANG_HTTP_PORT_FILE", http->port());
  if (metrics_face) write_port("XINFANG_METRICS_PORT_FILE", metrics_face->port());
  write_port("XINFANG_PORT_FILE", port);

  int sig = 0;
  sigwait(&stop, &sig);
  LogInfo(absl::StrCat("signal ", sig, ": draining in-flight calls"));
  server->GetHealthCheckService()->SetServingStatus(false);
  (*core)->Stopping();
  monitor.Stop();
  if (metrics_face) metrics_face->Stop();
  if (http) http->Stop();  // its calls in flight are answered through the gRPC server
  server->Shutdown(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(absl::ToInt64Milliseconds(config->drain_timeout)));
  server->Wait();
  LogInfo("stopped");
  return 0;
}

}  // namespace xinfang
