#include "services/common/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/log.h"

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

std::unique_ptr<grpc::Server> StartServer(
    const std::string& listen, const std::vector<std::unique_ptr<grpc::Service>>& services,
    int* port) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // A port already in use is an error, not a port to share.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  *port = 0;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), port);
  builder.SetMaxReceiveMessageSize(4 * 1024 * 1024);
  for (const auto& s : services) builder.RegisterService(s.get());
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || *port == 0) return nullptr;
  server->GetHealthCheckService()->SetServingStatus(true);
  return server;
}

int ServerMain(int argc, char** argv, const std::string& program, const ServiceFactory& make) {
  SetLogProgram(program);
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
  auto core = Core::Open(*config);
  if (!core.ok()) {
    std::fprintf(stderr, "%s: %s\n", program.c_str(), OneLine(core.status().message()).c_str());
    return 1;
  }
  if (config->migrate_only) {
    LogInfo("migrations applied");
    return 0;
  }

  std::vector<std::unique_ptr<grpc::Service>> services = make(**core);
  int port = 0;
  std::unique_ptr<grpc::Server> server = StartServer(config->listen, services, &port);
  if (server == nullptr) {
    std::fprintf(stderr, "%s: cannot listen on %s\n", program.c_str(), config->listen.c_str());
    return 1;
  }
  (*core)->Serving();
  const auto at = config->listen.rfind(':');
  LogInfo(absl::StrCat("serving on ", config->listen.substr(0, at), ":", port,
                       (*core)->clock().simulated() ? " (simulated clock)" : "",
                       "; workflows ", absl::StrJoin((*core)->definitions().Keys(), ", ")));
  // For scripts that start the server on port 0.
  if (const char* f = std::getenv("XINFANG_PORT_FILE")) {
    if (FILE* out = std::fopen(f, "w")) {
      std::fprintf(out, "%d\n", port);
      std::fclose(out);
    }
  }

  int sig = 0;
  sigwait(&stop, &sig);
  LogInfo(absl::StrCat("signal ", sig, ": draining in-flight calls"));
  server->GetHealthCheckService()->SetServingStatus(false);
  (*core)->Stopping();
  server->Shutdown(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(absl::ToInt64Milliseconds(config->drain_timeout)));
  server->Wait();
  LogInfo("stopped");
  return 0;
}

}  // namespace xinfang
