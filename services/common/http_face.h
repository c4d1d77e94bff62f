// The HTTP face of a server (--http-listen): every RPC the gRPC server hosts,
// in the Connect protocol (https://connectrpc.com/docs/protocol), and the
// console's static files.
//
//   POST /xinfang.v1.<Service>/<Method>
//     Content-Type application/json or application/proto: a unary call;
//     application/connect+json or application/connect+proto: a server stream
//     (WatchEvents), enveloped as the Connect protocol says.
//   GET  /metrics  the server's Prometheus metrics (when options.metrics is set).
//   GET  /...   the console's files (index.html for a path without a dot).
//
// A caller's X-Request-Id header travels as x-request-id metadata; the
// call's request id (the caller's, or one the server made up) comes back
// in the X-Request-Id response header.
//
// Each call is forwarded in-process into the very same grpc::Server
// (InProcessChannel + GenericStub, the serialized request and the caller's
// Authorization header as metadata), so authentication, rate limits, the
// access log and redaction apply exactly as on the gRPC port: no handler is
// written twice. The caller's address travels as "x-xinfang-peer" metadata,
// trusted only on the in-process channel (auth.cc).
//
// Errors are Connect error JSON {code, message, details}; an INVALID_ARGUMENT
// whose message begins with field paths ("intake.petitioners[0].id_number:
// ...") carries a google.rpc.BadRequest detail naming them (FieldViolations).
// Every response carries CSP, X-Content-Type-Options: nosniff and
// X-Frame-Options: DENY; CORS headers only for the configured origins.
//
// Thread-safety: a thread per connection (at most kMaxConnections); Start and
// Stop from one thread.
#ifndef XINFANG_SERVICES_COMMON_HTTP_FACE_H_
#define XINFANG_SERVICES_COMMON_HTTP_FACE_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace xinfang {

struct HttpFaceOptions {
  std::string listen;                     // host:port; port 0 picks a free one
  std::string console_dir;                // the console's built files; empty: none
  std::vector<std::string> cors_origins;  // origins allowed cross-origin; empty: none
  int max_message_bytes = 1 << 20;        // larger requests: resource_exhausted
  // TLS with these PEM files (both or neither); with a client CA, client
  // certificates signed by it are required (as on the gRPC port).
  std::string tls_cert, tls_key, tls_client_ca;
  absl::Duration default_timeout = absl::Seconds(30);  // unary calls without connect-timeout-ms
  // Renders the body of GET /metrics (Prometheus text format); unset: 404.
  std::function<std::string()> metrics;
  // Serve /metrics only (--metrics-listen): every other request is 404.
  bool metrics_only = false;
  std::string flag = "--http-listen";  // names the setting in errors
};

class HttpFace {
 public:
  static constexpr int kMaxConnections = 512;

  // Listens on options.listen and serves `server` (which must outlive the
  // face). UNAVAILABLE when the address cannot be bound; INVALID_ARGUMENT for
  // a bad address or unreadable TLS files.
  static absl::StatusOr<std::unique_ptr<HttpFace>> Start(grpc::Server& server,
                                                         const HttpFaceOptions& options);
  ~HttpFace();  // Stop()

  int port() const;
  bool tls() const;

  // Stops accepting; idle connections are closed and open streams cancelled
  // at once, calls in flight are answered; returns when every connection
  // has ended. Call it before the gRPC server's Shutdown.
  void Stop();

  struct Impl;

 private:
  explicit HttpFace(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The fields an INVALID_ARGUMENT message names at its start, each with the
// message as its description: "from, to: the period is required" names
// "from" and "to"; a message not starting with "path: " names none.
std::vector<std::pair<std::string, std::string>> FieldViolations(absl::string_view message);

// The Connect error JSON for a gRPC status: {"code": "invalid_argument",
// "message": ..., "details": [google.rpc.BadRequest ...]}.
std::string ConnectErrorJson(const grpc::Status& status);

// The HTTP status the Connect protocol gives a gRPC code (400, 401, ...).
int ConnectHttpStatus(grpc::StatusCode code);

}  // namespace xinfang

#endif  // XINFANG_SERVICES_COMMON_HTTP_FACE_H_
