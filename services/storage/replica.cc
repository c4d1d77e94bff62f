#include "services/storage/replica.h"

#include <soci/soci.h>

#include "absl/strings/str_cat.h"

namespace xinfang::storage {

namespace {

// WAL positions as byte offsets (pg_lsn - '0/0' is numeric).
constexpr char kPrimaryPosition[] = "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint";
constexpr char kReplicaPosition[] = R"sql(
SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()
             ELSE pg_current_wal_lsn() END - '0/0'::pg_lsn)::bigint)sql";

absl::StatusOr<int64_t> Position(Pool& pool, const char* sql, const char* what) {
  auto lease = pool.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    long long pos = 0;
    soci::indicator ind = soci::i_ok;
    lease->session() << sql, soci::into(pos, ind);
    if (ind != soci::i_ok) return absl::UnavailableError(absl::StrCat(what, ": no position"));
    return static_cast<int64_t>(pos);
  } catch (...) {
    return StatusFromCurrentException(what);
  }
}

int64_t Nanos(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace

ReplicaGate::ReplicaGate(Pool& primary, Pool& replica, absl::Duration max_lag)
    : primary_(primary), replica_(replica), max_lag_(max_lag) {}

absl::Status ReplicaGate::Check() {
  const SteadyTime t = std::chrono::steady_clock::now();
  auto p = Position(primary_, kPrimaryPosition, "reading the primary's WAL position");
  if (!p.ok()) return p.status();
  samples_.emplace_back(t, *p);
  auto r = Position(replica_, kReplicaPosition, "reading the replica's replay position");
  if (!r.ok()) return r.status();
  // The newest sample the replica has reached; older ones are no longer needed.
  int64_t mark = 0;
  while (!samples_.empty() && samples_.front().second <= *r) {
    mark = Nanos(samples_.front().first);
    samples_.pop_front();
  }
  if (mark != 0 && mark > watermark_ns_.load()) watermark_ns_.store(mark);
  // A replica that stopped replaying: keep the samples of the last 2 x max_lag.
  while (samples_.size() > 1 &&
         absl::FromChrono(t - samples_.front().first) > 2 * max_lag_) {
    samples_.pop_front();
  }
  return absl::OkStatus();
}

absl::Duration ReplicaGate::Behind() const {
  const int64_t mark = watermark_ns_.load();
  if (mark == 0) return absl::InfiniteDuration();
  return absl::Nanoseconds(Nanos(std::chrono::steady_clock::now()) - mark);
}

bool ReplicaGate::Fresh() const { return Behind() <= max_lag_; }

}  // namespace xinfang::storage
