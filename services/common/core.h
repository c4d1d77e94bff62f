// What every service of a process shares: configuration, the clock, the
// database pool and case store, the calendar, the workflow definitions and
// their engines. Built once at start-up; thread-safe afterwards.
#ifndef XINFANG_SERVICES_COMMON_CORE_H_
#define XINFANG_SERVICES_COMMON_CORE_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>
#include <map>
#include <vector>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/status/statusor.h"
#include "services/common/auth.h"
#include "services/common/clock.h"
#include "services/common/config.h"
#include "services/common/documents.h"
#include "services/common/metrics.h"
#include "services/storage/case_store.h"
#include "services/storage/db.h"
#include "services/storage/identity_store.h"
#include "services/storage/replica.h"
#include "services/storage/warning_store.h"
#include "workflow/calendar.h"
#include "workflow/definition.h"
#include "workflow/engine.h"
#include "workflow/warning_rules.h"

namespace xinfang {

// The name of the workflow new cases start with.
inline constexpr char kDefaultWorkflow[] = "petition";

class Core {
 public:
  // Loads calendars and definitions from config.data_dir, connects to the
  // database and applies migrations. The error message is the one line the
  // server prints before exiting.
  static absl::StatusOr<std::unique_ptr<Core>> Open(const ServerConfig& config);
  ~Core();  // stops the replica watch

  const ServerConfig& config() const { return config_; }
  const Clock& clock() const { return *clock_; }
  // nullptr unless started with --simulated-clock.
  SimulatedClock* simulated_clock() { return simulated_; }
  storage::CaseStore& store() { return *store_; }
  // For reads that may be stale (lists, statistics, the dashboard, the event
  // feed's backlog): the replica's store while --db-replica is set, its pool
  // is open and the replica is at most --db-replica-max-lag behind; the
  // primary's store otherwise. Reads a caller acts on (a case, its history)
  // use store(). docs/high-availability.md states the rules.
  storage::CaseStore& read_store();
  storage::Pool& pool() { return *pool_; }
  storage::IdentityStore& identity() { return *identity_; }
  // Early warnings and the situation report's counts (primary).
  storage::WarningStore& warnings() { return *warnings_; }
  // The early-warning rules (data_dir/warnings/rules.textproto).
  const workflow::WarningRules& warning_rules() const { return *warning_rules_; }
  Authenticator& auth() { return *auth_; }
  // The process's metrics (metrics.h); /metrics renders them.
  Metrics& metrics() { return *metrics_; }
  const workflow::Calendar& calendar() const { return calendar_; }
  const workflow::DefinitionRegistry& definitions() const { return registry_; }
  // The written documents' templates (data_dir/documents, documents.h).
  const DocumentTemplates& document_templates() const { return *documents_; }

  // The written documents `decision` issues (taken by `actor` at `now` on a
  // case with `intake`), rendered for the store: empty when it issues none.
  absl::StatusOr<std::vector<storage::DocumentDraft>> DraftDocuments(
      const workflow::Engine& engine, const workflow::Decision& decision,
      const xinfang::v1::CaseIntake& intake, const workflow::Actor& actor, absl::Time now);

  // The engine for a case's workflow version; nullptr if unknown.
  const workflow::Engine* EngineFor(const std::string& name, int version) const;
  // Whether any loaded workflow definition has a state (a timer) of this name.
  bool KnownState(const std::string& state) const;
  bool KnownTimer(const std::string& timer) const;
  // The engine new cases start with (latest version of kDefaultWorkflow).
  const workflow::Engine& DefaultEngine() const { return *default_engine_; }

  // Called (synchronously, in registration order) after AdminService moves
  // the simulated clock, so that e.g. the sweeper acts on the moved time
  // before the call returns. Register before serving starts.
  void AddClockListener(std::function<void()> listener) { clock_listeners_.push_back(std::move(listener)); }
  void ClockAdvanced() const {
    for (const auto& l : clock_listeners_) l();
  }

  // Called once the server listens (ServerMain, TestServer): background
  // work such as the sweeper starts here, never in a process that then
  // fails to bind its port.
  void AddServingListener(std::function<void()> listener) {
    serving_listeners_.push_back(std::move(listener));
  }
  void Serving() const {
    for (const auto& l : serving_listeners_) l();
  }

  // Called when the server begins to stop (before it drains): long-lived
  // calls such as event watches end so the drain need not wait for them.
  void AddStoppingListener(std::function<void()> listener) {
    stopping_listeners_.push_back(std::move(listener));
  }
  void Stopping() const {
    for (const auto& l : stopping_listeners_) l();
  }

  // The organisation tree: parents for the engine, Contains() for
  // validating unit codes. Read from the database at most every few seconds
  // (units change by AdminService.PutUnit, possibly in another process).
  absl::StatusOr<std::shared_ptr<const workflow::MapOrgTree>> Org();
  // Every category code and whether it is active; cached like Org().
  absl::StatusOr<std::shared_ptr<const std::map<std::string, bool>>> Categories();
  // "unit:<code>" / "category:<code>" -> name (CaseStore::Names); cached like Org().
  absl::StatusOr<std::shared_ptr<const std::map<std::string, std::string>>> Names();
  // Units or categories changed through this process: the next read of the
  // above re-reads them (other processes see the change within the cache's
  // few seconds).
  void ReferenceChanged();

 private:
  explicit Core(ServerConfig config);
  // Re-reads units and categories when the cached copy is too old.
  absl::Status RefreshReference();
  ServerConfig config_;
  std::unique_ptr<Clock> clock_;
  SimulatedClock* simulated_ = nullptr;
  workflow::Calendar calendar_;
  workflow::DefinitionRegistry registry_;
  std::map<std::string, std::unique_ptr<workflow::Engine>> engines_;
  const workflow::Engine* default_engine_ = nullptr;
  std::unique_ptr<storage::Pool> pool_;
  std::unique_ptr<storage::CaseStore> store_;
  // Replica reads (--db-replica): the watch thread opens the pool (retrying
  // while the replica is down), then checks its lag every few hundred ms.
  void WatchReplica();
  std::unique_ptr<storage::Pool> replica_pool_;             // set once, by the watch
  std::unique_ptr<storage::Pool> replica_check_pools_[2];   // primary, replica: the gate's
  std::unique_ptr<storage::CaseStore> replica_store_;       // set once, by the watch
  std::unique_ptr<storage::ReplicaGate> replica_gate_;      // set once, by the watch
  std::atomic<storage::CaseStore*> replica_ready_{nullptr};  // published after the three above
  absl::Mutex replica_mu_;
  bool replica_stop_ ABSL_GUARDED_BY(replica_mu_) = false;
  std::thread replica_thread_;
  std::unique_ptr<storage::IdentityStore> identity_;
  std::unique_ptr<storage::WarningStore> warnings_;
  std::optional<workflow::WarningRules> warning_rules_;
  std::optional<DocumentTemplates> documents_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<Metrics> metrics_ = std::make_unique<Metrics>();
  std::vector<std::function<void()>> clock_listeners_;
  std::vector<std::function<void()>> serving_listeners_;
  std::vector<std::function<void()>> stopping_listeners_;
  // Reference data cache (Org, Categories).
  absl::Mutex reference_mu_;
  std::shared_ptr<const workflow::MapOrgTree> org_ ABSL_GUARDED_BY(reference_mu_);
  std::shared_ptr<const std::map<std::string, bool>> categories_ ABSL_GUARDED_BY(reference_mu_);
  std::shared_ptr<const std::map<std::string, std::string>> names_
      ABSL_GUARDED_BY(reference_mu_);
  std::chrono::steady_clock::time_point reference_read_ ABSL_GUARDED_BY(reference_mu_);
};

// The name people read for a code of `kind` ("unit", "category") in
// Core::Names(): "prov" -> "省总工会"; the code itself when it has none.
std::string NameOf(const std::map<std::string, std::string>& names, const std::string& kind,
                   const std::string& code);

// The data directory used when --data-dir is not given.
std::string DefaultDataDir();

}  // namespace xinfang

#endif  // XINFANG_SERVICES_COMMON_CORE_H_
