#include "services/common/auth.h"

#include <algorithm>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/grpc_util.h"

namespace xinfang {

RateLimiter::Bucket& RateLimiter::Refill(const std::string& key,
                                         std::chrono::steady_clock::time_point now) {
  auto [it, fresh] = buckets_.try_emplace(key, Bucket{static_cast<double>(burst_), now});
  Bucket& b = it->second;
  if (!fresh) {
    const double secs = std::chrono::duration<double>(now - b.at).count();
    b.tokens = std::min<double>(burst_, b.tokens + std::max(0.0, secs) * rate_);
    b.at = now;
  }
  return b;
}

bool RateLimiter::Allow(const std::string& key, std::chrono::steady_clock::time_point now) {
  if (rate_ <= 0) return true;
  absl::MutexLock lock(&mu_);
  // Full buckets carry no information: forget them now and then, so the
  // map does not grow with every address ever seen.
  if (buckets_.size() > 100000) {
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      Refill(it->first, now);
      it = it->second.tokens >= burst_ ? buckets_.erase(it) : std::next(it);
    }
    // Still too many (a flood from as many addresses): start afresh rather
    // than scan them all again on the next call.
    if (buckets_.size() > 100000) buckets_.clear();
  }
  Bucket& b = Refill(key, now);
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

std::chrono::milliseconds RateLimiter::RetryAfter(const std::string& key,
                                                  std::chrono::steady_clock::time_point now) {
  if (rate_ <= 0) return std::chrono::milliseconds(0);
  absl::MutexLock lock(&mu_);
  const Bucket& b = Refill(key, now);
  if (b.tokens >= 1) return std::chrono::milliseconds(0);
  return std::chrono::milliseconds(static_cast<int64_t>((1 - b.tokens) / rate_ * 1000) + 1);
}

std::string BearerTokenOf(const grpc::ServerContext& ctx) {
  const auto& md = ctx.client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) return "";
  const std::string value(it->second.data(), it->second.size());
  constexpr absl::string_view kBearer = "bearer ";
  if (value.size() <= kBearer.size() ||
      !absl::EqualsIgnoreCase(absl::string_view(value).substr(0, kBearer.size()), kBearer)) {
    return "";
  }
  return std::string(absl::StripAsciiWhitespace(absl::string_view(value).substr(kBearer.size())));
}

std::string PeerOf(const grpc::ServerContext& ctx) {
  std::string peer = ctx.peer();
  peer = peer.substr(0, peer.rfind(':'));  // "ipv4:127.0.0.1:5678" → the address
  // A call forwarded by the HTTP face (http_face.h) comes over the in-process
  // channel, which only the server itself can open: the face names the peer.
  if (absl::StartsWith(ctx.peer(), "inproc")) {
    auto it = ctx.client_metadata().find("x-xinfang-peer");
    peer = it == ctx.client_metadata().end()
               ? "inproc"
               : absl::StrCat("http:", std::string(it->second.data(), it->second.size()));
  }
  return peer;
}

absl::Status Authenticator::CheckSignIn(const std::string& account, const std::string& peer) {
  if (failures_.RetryAfter(peer) > std::chrono::milliseconds(0)) {
    return absl::ResourceExhaustedError("too many failed sign-ins from this address: wait");
  }
  if (auto wait = signin_failures_.RetryAfter(account); wait > std::chrono::milliseconds(0)) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "too many failed sign-ins of this account: wait ", wait.count() / 1000 + 1, " s"));
  }
  return absl::OkStatus();
}

void Authenticator::FailedSignIn(const std::string& account, const std::string& peer) {
  failures_.Allow(peer);
  signin_failures_.Allow(account);
}

absl::StatusOr<workflow::Actor> Authenticator::Authenticate(const grpc::ServerContext& ctx) {
  const std::string peer = PeerOf(ctx);
  const std::string token = BearerTokenOf(ctx);
  if (token.empty()) {
    return absl::UnauthenticatedError(
        "no bearer token: send metadata \"authorization: Bearer <token>\" (xfctl --token)");
  }
  // A guesser is slowed and refused; the valid tokens of others behind the
  // same address (an office's NAT) are served: the address's failure count
  // is consulted only once a token has failed.
  auto refuse = [&](absl::Status failed) -> absl::Status {
    if (failures_.Allow(peer)) return failed;
    // Over the limit: the attempt waits a little (a guess costs time, not
    // just a round trip) and is refused whatever it was.
    std::this_thread::sleep_for(kFailedSignInDelay);
    return absl::ResourceExhaustedError(
        absl::StrCat("too many failed sign-ins from this address: retry in ",
                     failures_.RetryAfter(peer).count(), " ms"));
  };
  if (token.size() > 256) return absl::UnauthenticatedError(storage::kUnknownToken);
  auto account = store_.Authenticate(token, clock_.Now());
  if (!account.ok()) {
    // Guessing shows as unknown tokens; a stale (revoked, expired) token of
    // a real account is not counted, so one old script cannot lock out
    // everyone behind the same address.
    if (account.status().message() == storage::kUnknownToken) return refuse(account.status());
    return account.status();
  }
  if (!limiter_.Allow(account->name)) {
    return absl::ResourceExhaustedError(
        absl::StrCat("rate limit: account '", account->name, "' is over its calls per second; retry in ",
                     limiter_.RetryAfter(account->name).count(), " ms"));
  }
  workflow::Actor actor;
  actor.account = account->name;
  actor.role = RoleFromName(account->role);
  actor.unit = account->unit;
  return actor;
}

}  // namespace xinfang
