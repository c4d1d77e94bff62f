#include "services/supervision/sweeper.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/log.h"

namespace xinfang::supervision {
namespace {
// How often a waiting sweeper checks for Stop().
constexpr absl::Duration kSlice = absl::Milliseconds(100);
// Appended statistics counts folded per sweeper pass (CaseStore::FoldStatistics).
constexpr int kFoldRows = 20000;
}  // namespace

Sweeper::Sweeper(Core& core, SweeperOptions options) : core_(core), options_(options) {}

Sweeper::~Sweeper() { Stop(); }

absl::StatusOr<int> Sweeper::Batch(absl::Time now, const workflow::OrgTree& org,
                                   std::atomic<int>& handled) {
  auto result = core_.store().SweepDue(
      now, options_.batch,
      [&](const storage::DueCase& c) -> absl::StatusOr<workflow::Decision> {
        const workflow::Engine* engine =
            core_.EngineFor(c.snapshot.workflow, c.snapshot.workflow_version);
        if (engine == nullptr) {
          return absl::FailedPreconditionError(absl::StrCat("workflow ", c.snapshot.workflow, "@",
                                                            c.snapshot.workflow_version,
                                                            " is not loaded here"));
        }
        return engine->FireAll(c.snapshot, c.due_timers, now, org);
      });
  if (!result.ok()) return result.status();
  if (result->failed > 0) {
    LogWarn(absl::StrCat("sweeper: ", result->failed, " case(s) refused: ",
                         result->last_error.message()));
  }
  handled += result->cases;
  return result->claimed;
}

absl::Status Sweeper::Drain(absl::Time now, const workflow::OrgTree& org,
                            std::atomic<int>& handled) {
  for (;;) {
    auto claimed = Batch(now, org, handled);
    if (!claimed.ok()) return claimed.status();
    // Refused cases were put back; what other batches hold is theirs.
    if (*claimed == 0) return absl::OkStatus();
  }
}

absl::StatusOr<int> Sweeper::SweepOnce() {
  auto swept = Pass();
  core_.metrics().RecordSweep(swept.ok() ? *swept : 0, swept.ok());
  return swept;
}

absl::StatusOr<int> Sweeper::Pass() {
  absl::MutexLock lock(&sweep_mu_);
  auto org = core_.Org();
  if (!org.ok()) return org.status();
  const absl::Time now = core_.clock().Now();
  std::atomic<int> handled{0};
  // One batch first: an idle pass costs one claim, and batches run side by
  // side only when there is work.
  auto claimed = Batch(now, **org, handled);
  if (!claimed.ok()) return claimed.status();
  if (*claimed > 0) {
    std::vector<absl::Status> errors(std::max(1, options_.parallel));
    std::vector<std::thread> helpers;
    for (std::size_t i = 1; i < errors.size(); ++i) {
      helpers.emplace_back([&, i] { errors[i] = Drain(now, **org, handled); });
    }
    errors[0] = Drain(now, **org, handled);
    for (std::thread& t : helpers) t.join();
    for (const absl::Status& e : errors) {
      if (!e.ok()) return e;
    }
  }
  if (handled > 0) LogDebug(absl::StrCat("sweeper: fired timers of ", handled.load(), " case(s)"));
  return handled.load();
}

absl::StatusOr<int> Sweeper::RecomputeProvisional() {
  const workflow::Actor system{"system", xinfang::v1::ROLE_SYSTEM, ""};
  int changed = 0;
  int64_t after = 0;
  for (;;) {
    auto ids = core_.store().CasesWithProvisionalTimers(after, 500);
    if (!ids.ok()) return ids.status();
    if (ids->empty()) break;
    after = ids->back();
    for (int64_t id : *ids) {
      auto rec = core_.store().Get(id);
      if (!rec.ok()) return rec.status();
      const workflow::Engine* engine =
          core_.EngineFor(rec->snapshot.workflow, rec->snapshot.workflow_version);
      if (engine == nullptr) continue;
      const absl::Time now = core_.clock().Now();
      workflow::Decision d = engine->RecomputeDeadlines(rec->snapshot, now);
      if (d.events.empty()) continue;
      auto applied = core_.store().Apply(id, rec->version, d, system, now);
      if (absl::IsAborted(applied.status())) continue;  // changed meanwhile: next start
      if (!applied.ok()) return applied.status();
      ++changed;
    }
  }
  if (changed > 0) LogInfo(absl::StrCat("sweeper: recomputed provisional deadlines of ", changed, " case(s)"));
  return changed;
}

void Sweeper::Start() {
  absl::MutexLock lock(&mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void Sweeper::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void Sweeper::Loop() {
  if (auto l = storage::Listener::Open(core_.config().db_url, {storage::kTimersChannel}); l.ok()) {
    listener_ = std::move(*l);
  } else {
    LogWarn(absl::StrCat("sweeper: no LISTEN connection, interval only: ", l.status().message()));
  }
  if (auto r = RecomputeProvisional(); !r.ok()) {
    LogWarn(absl::StrCat("sweeper: recomputing provisional deadlines: ", r.status().message()));
  }
  for (;;) {
    auto swept = SweepOnce();
    if (!swept.ok()) LogWarn(absl::StrCat("sweeper: ", swept.status().message()));
    // The counts changes appended for the statistics, folded into their day
    // month and year rows (a bounded batch per pass).
    if (auto folded = core_.store().FoldStatistics(kFoldRows); !folded.ok()) {
      LogWarn(absl::StrCat("sweeper: folding the statistics: ", folded.status().message()));
    }
    absl::Duration wait = options_.interval;
    if (!core_.clock().simulated()) {
      auto next = core_.store().NextFireAt();
      if (next.ok() && next->has_value()) {
        wait = std::max(absl::ZeroDuration(),
                        std::min(wait, **next - core_.clock().Now() + absl::Milliseconds(5)));
      }
    }
    // Wait in short slices: a notification or Stop() ends the wait.
    const absl::Time until = absl::Now() + wait;
    for (;;) {
      {
        absl::MutexLock lock(&mu_);
        if (stop_) return;
        if (listener_ == nullptr) mu_.AwaitWithTimeout(absl::Condition(&stop_), std::min(wait, kSlice));
      }
      const absl::Duration left = until - absl::Now();
      if (left <= absl::ZeroDuration()) break;
      if (listener_ != nullptr && listener_->Wait(std::min(left, kSlice))) break;
    }
  }
}

}  // namespace xinfang::supervision
