// Authentication at the edge of every RPC but health checking: the bearer
// token of metadata "authorization: Bearer <token>" names an account (one
// indexed lookup of its SHA-256 per call, so a revoked token or a disabled
// account is refused at once, in every process), and a token bucket per
// account slows a caller that floods the server without slowing the others.
//
// Thread-safety: Authenticator is thread-safe.
#ifndef XINFANG_SERVICES_COMMON_AUTH_H_
#define XINFANG_SERVICES_COMMON_AUTH_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <string>
#include <unordered_map>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/status/statusor.h"
#include "services/common/clock.h"
#include "services/storage/identity_store.h"
#include "workflow/engine.h"

namespace xinfang {

// Token buckets by key, on the steady clock (load is real time even when
// the case clock is simulated).
class RateLimiter {
 public:
  // `rate` tokens per second, at most `burst` saved; rate 0 allows all.
  RateLimiter(double rate, int burst) : rate_(rate), burst_(burst) {}
  // Takes a token for `key`; false when its bucket is empty. `now` is for tests.
  bool Allow(const std::string& key,
             std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());
  // How long until `key` has a token again (zero when it has one).
  std::chrono::milliseconds RetryAfter(const std::string& key,
                                       std::chrono::steady_clock::time_point now =
                                           std::chrono::steady_clock::now());

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point at;
  };
  Bucket& Refill(const std::string& key, std::chrono::steady_clock::time_point now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const double rate_;
  const int burst_;
  absl::Mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
};

// How long a refused sign-in attempt from an address over its failure limit
// waits before it is answered.
inline constexpr std::chrono::milliseconds kFailedSignInDelay{200};
// The caller's address as the limits count it: "ipv4:127.0.0.1:5678" →
// "ipv4:127.0.0.1"; a call forwarded by the HTTP face → "http:<address>".
std::string PeerOf(const grpc::ServerContext& ctx);
// The bearer token of the call's "authorization" metadata; empty when none.
std::string BearerTokenOf(const grpc::ServerContext& ctx);

class Authenticator {
 public:
  Authenticator(storage::IdentityStore& store, const Clock& clock, double rate, int burst)
      : store_(store), clock_(clock), limiter_(rate, burst), failures_(1, 20),
        signin_failures_(1.0 / 30, 5) {}

  // Password sign-in (SignIn, ChangePassword): RESOURCE_EXHAUSTED while the
  // account (5 failures, then one every 30 s) or the address (20, then one a
  // second) has used up its failed attempts.
  absl::Status CheckSignIn(const std::string& account, const std::string& peer);
  // Counts a failed password against the account and the address.
  void FailedSignIn(const std::string& account, const std::string& peer);

  // The caller of a call. UNAUTHENTICATED without a bearer token or with an
  // unknown, expired or revoked one (or a disabled account);
  // RESOURCE_EXHAUSTED when the account is over its rate, or when an unknown
  // token comes from a peer address over its failure rate (such an attempt
  // is also delayed kFailedSignInDelay). A valid token is served whatever
  // its address's failures: the guesser is locked out, not the office.
  absl::StatusOr<workflow::Actor> Authenticate(const grpc::ServerContext& ctx);

 private:
  storage::IdentityStore& store_;
  const Clock& clock_;
  RateLimiter limiter_;   // per account
  RateLimiter failures_;  // unknown tokens and wrong passwords per peer address: 1/s, 20 at once
  RateLimiter signin_failures_;  // wrong passwords per account
};

}  // namespace xinfang

#endif  // XINFANG_SERVICES_COMMON_AUTH_H_
