// The bootstrap every server binary shares: parse configuration, open the
// core (database, migrations, definitions, calendar), register the services
// with health checking and reflection, serve until SIGTERM/SIGINT, then drain
// in-flight calls and exit 0. A bad setting or an unreachable database ends
// start-up with one clear line on stderr and exit code 2 (usage) or 1.
#ifndef XINFANG_SERVICES_COMMON_SERVER_H_
#define XINFANG_SERVICES_COMMON_SERVER_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/codegen/service_type.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "services/common/core.h"
#include "services/common/metrics.h"

namespace xinfang {

using ServiceFactory = std::function<std::vector<std::unique_ptr<grpc::Service>>(Core&)>;

// How a server listens beyond its address.
struct ListenOptions {
  std::shared_ptr<grpc::ServerCredentials> credentials;  // nullptr: plaintext
  int max_message_bytes = 1 << 20;  // larger requests: RESOURCE_EXHAUSTED
  Metrics* metrics = nullptr;  // counts every call; nullptr: none (request ids still)
  // Threads kept waiting for calls. gRPC's default keeps two: with more calls
  // in flight it starts a thread per call and ends it after (a thread's
  // start and exit cost more than a case read). The pool's size is the
  // useful most: calls beyond it wait for a connection anyway.
  int handler_threads = 8;
};

// Builds and starts a gRPC server on `listen` hosting `services`, with the
// standard health checking (reporting SERVING; its descriptor is served by
// reflection) and server reflection v1alpha and v1. Appends the reflection
// v1 service to `services`, which must outlive the server like the others.
// nullptr when the address cannot be bound; *port receives the bound port.
std::unique_ptr<grpc::Server> StartServer(const std::string& listen,
                                          std::vector<std::unique_ptr<grpc::Service>>& services,
                                          int* port, const ListenOptions& options = {});

// TLS (and with a client CA, mutual TLS) credentials from the configured PEM
// files; plaintext (nullptr) when none are configured. INVALID_ARGUMENT
// naming an unreadable file.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFrom(
    const ServerConfig& config);

int ServerMain(int argc, char** argv, const std::string& program, const ServiceFactory& make);

}  // namespace xinfang

#endif  // XINFANG_SERVICES_COMMON_SERVER_H_
