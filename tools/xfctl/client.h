// The connection to the server: credentials, deadlines, the bearer token,
// and a failed call as xfctl reports it ("CODE: message", exit 1).
#ifndef XINFANG_TOOLS_XFCTL_CLIENT_H_
#define XINFANG_TOOLS_XFCTL_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tools/xfctl/args.h"

namespace xinfang::xfctl {

class Client {
 public:
  // Plaintext, or TLS when a CA (or a client certificate) is given. Fails
  // when a TLS file cannot be read, or a certificate comes without its key.
  static absl::StatusOr<std::unique_ptr<Client>> Create(const Global& g);

  std::shared_ptr<grpc::Channel> channel() const { return channel_; }

  // The deadline of a call and the caller's token.
  void Prepare(grpc::ClientContext& ctx) const;
  // The caller's bearer token only (for calls without a deadline).
  void Identify(grpc::ClientContext& ctx) const;

  // One unary call, e.g. Call(&v1::AdminService::Stub::WhoAmI, req).
  template <typename Stub, typename Req, typename Resp>
  absl::StatusOr<Resp> Call(grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                            const std::type_identity_t<Req>& req) {
    Stub stub(channel_);
    grpc::ClientContext ctx;
    Prepare(ctx);
    Resp resp;
    grpc::Status s = (stub.*method)(&ctx, req, &resp);
    if (!s.ok()) return Failure(s);
    return resp;
  }

  // A failed call as xfctl reports it: "CODE: message", exit 1.
  static absl::Status Failure(const grpc::Status& s);

 private:
  Client(const Global& g, std::shared_ptr<grpc::Channel> channel)
      : g_(g), channel_(std::move(channel)) {}

  const Global& g_;
  std::shared_ptr<grpc::Channel> channel_;
};

}  // namespace xinfang::xfctl

#endif  // XINFANG_TOOLS_XFCTL_CLIENT_H_
