#include "tools/xfctl/client.h"

#include <chrono>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tools/xfctl/command.h"

namespace xinfang::xfctl {
namespace {

std::string CodeName(grpc::StatusCode c) {
  static const char* kNames[] = {"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT",
                                 "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
                                 "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
                                 "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
                                 "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS",
                                 "UNAUTHENTICATED"};
  const int i = static_cast<int>(c);
  return i >= 0 && i < 17 ? kNames[i] : absl::StrCat("code ", i);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> Credentials(const Global& g) {
  if (g.tls_ca.empty() && g.tls_cert.empty() && g.tls_key.empty()) {
    return grpc::InsecureChannelCredentials();
  }
  if (g.tls_cert.empty() != g.tls_key.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  grpc::SslCredentialsOptions opts;
  // Each file into its field, in this order (the first unreadable one is named).
  for (auto [flag, path, field] : {std::tuple{"--tls-ca", &g.tls_ca, &opts.pem_root_certs},
                                   {"--tls-cert", &g.tls_cert, &opts.pem_cert_chain},
                                   {"--tls-key", &g.tls_key, &opts.pem_private_key}}) {
    if (path->empty()) continue;
    absl::StatusOr<std::string> pem = ReadFile(flag, *path);
    if (!pem.ok()) return pem.status();
    *field = *std::move(pem);
  }
  return grpc::SslCredentials(opts);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Client>> Client::Create(const Global& g) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> creds = Credentials(g);
  if (!creds.ok()) return creds.status();
  return std::unique_ptr<Client>(new Client(g, grpc::CreateChannel(g.server, *creds)));
}

void Client::Prepare(grpc::ClientContext& ctx) const {
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(g_.timeout));
  Identify(ctx);
}

void Client::Identify(grpc::ClientContext& ctx) const {
  if (!g_.token.empty()) ctx.AddMetadata("authorization", "Bearer " + g_.token);
}

absl::Status Client::Failure(const grpc::Status& s) {
  return CallFailure(static_cast<absl::StatusCode>(s.error_code()),
                     absl::StrCat(CodeName(s.error_code()), ": ", s.error_message()));
}

}  // namespace xinfang::xfctl
