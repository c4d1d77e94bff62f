#include "services/common/core.h"

#include "services/storage/reference_store.h"

#include <filesystem>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "services/common/log.h"
#include "services/storage/migrations.h"

namespace xinfang {

std::string DefaultDataDir() {
#ifdef XINFANG_DEFAULT_DATA_DIR
  return XINFANG_DEFAULT_DATA_DIR;
#else
  return "/usr/share/xinfang";
#endif
}

Core::Core(ServerConfig config) : config_(std::move(config)) {}

absl::StatusOr<std::unique_ptr<Core>> Core::Open(const ServerConfig& config) {
  // The detail of database errors goes to the server's log; clients get
  // storage's clean messages.
  static std::once_flag log_wired;
  std::call_once(log_wired, [] {
    storage::SetDatabaseErrorLog([](const std::string& line) { LogError(line); });
  });
  std::unique_ptr<Core> core(new Core(config));
  if (core->config_.data_dir.empty()) core->config_.data_dir = DefaultDataDir();
  const std::string dir = core->config_.data_dir;

  if (config.simulated_clock.has_value()) {
    auto sim = std::make_unique<SimulatedClock>(*config.simulated_clock);
    core->simulated_ = sim.get();
    core->clock_ = std::move(sim);
  } else {
    core->clock_ = std::make_unique<SystemClock>();
  }

  auto calendar = workflow::Calendar::LoadDirectory(dir + "/calendar");
  if (!calendar.ok()) {
    return absl::Status(calendar.status().code(),
                        absl::StrCat("calendar: ", calendar.status().message()));
  }
  core->calendar_ = std::move(*calendar);
  auto registry = workflow::DefinitionRegistry::LoadDirectory(dir + "/workflows");
  if (!registry.ok()) {
    return absl::Status(registry.status().code(),
                        absl::StrCat("workflow definitions: ", registry.status().message()));
  }
  core->registry_ = std::move(*registry);
  for (const std::string& key : core->registry_.Keys()) {
    const auto at = key.rfind('@');
    auto def = core->registry_.Get(key.substr(0, at), std::stoi(key.substr(at + 1)));
    if (!def.ok()) return def.status();
    core->engines_[key] = std::make_unique<workflow::Engine>(*def, core->calendar_);
  }
  auto latest = core->registry_.Latest(kDefaultWorkflow);
  if (!latest.ok()) {
    return absl::NotFoundError(absl::StrCat("workflow definitions: no '", kDefaultWorkflow,
                                            "' definition in ", dir, "/workflows"));
  }
  core->default_engine_ = core->engines_.at((*latest)->key()).get();

  std::vector<const workflow::Definition*> definitions;
  for (const auto& [key, engine] : core->engines_) definitions.push_back(&engine->definition());
  auto documents = DocumentTemplates::Load(dir + "/documents", definitions);
  if (!documents.ok()) {
    return absl::Status(documents.status().code(),
                        absl::StrCat("document templates: ", documents.status().message()));
  }
  core->documents_ = std::move(*documents);

  auto rules = workflow::WarningRules::LoadFile(dir + "/warnings/rules.textproto");
  if (!rules.ok()) {
    return absl::Status(rules.status().code(),
                        absl::StrCat("warning rules: ", rules.status().message()));
  }
  core->warning_rules_ = std::move(*rules);

  storage::PoolOptions popts;
  popts.url = config.db_url;
  popts.size = config.pool_size;
  auto pool = storage::Pool::Open(popts);
  if (!pool.ok()) {
    return absl::Status(pool.status().code(),
                        absl::StrCat("database unreachable: ", pool.status().message()));
  }
  core->pool_ = std::move(*pool);
  auto migrated = storage::Migrate(*core->pool_);
  if (!migrated.ok()) {
    return absl::Status(migrated.status().code(),
                        absl::StrCat("migrations: ", migrated.status().message()));
  }
  for (const std::string& name : migrated->applied) LogInfo(absl::StrCat("applied migration ", name));
#ifdef XINFANG_VERSION
  const char* version = XINFANG_VERSION;
#else
  const char* version = "unknown";
#endif
  // The database is at the newest migration this binary knows (Migrate
  // refuses a newer one).
  core->metrics_->SetBuildInfo(version, storage::BuiltInMigrations().back().number);
  storage::Pool* pool_raw = core->pool_.get();
  core->metrics_->SetPoolSource([pool_raw] {
    const storage::PoolStats p = pool_raw->Stats();
    return PoolGauges{p.size, p.in_use, p.waits, p.timeouts, p.wait_seconds};
  });
  core->store_ = std::make_unique<storage::CaseStore>(*core->pool_);
  core->identity_ = std::make_unique<storage::IdentityStore>(*core->pool_);
  core->warnings_ = std::make_unique<storage::WarningStore>(*core->pool_);
  if (!config.migrate_only && !config.rebuild_statistics) {
    // The statistics' kept counts are in the office's zone: counted at the
    // first start, and again when the zone changed (docs/statistics.md).
    auto counted = core->store_->RebuildStatistics(config.time_zone, false);
    if (!counted.ok()) return counted.status();
    if (*counted > 0) {
      LogInfo(absl::StrCat("statistics: counted ", *counted, " cases in ", config.time_zone));
    }
  }
  if (!config.migrate_only) {
    // The rules' scopes name units and categories: they must exist.
    auto org = core->Org();
    auto categories = core->Categories();
    if (!org.ok()) return org.status();
    if (!categories.ok()) return categories.status();
    absl::Status known = core->warning_rules_->CheckReferences(
        [&](const std::string& u) { return (*org)->Contains(u); },
        [&](const std::string& c) { return (*categories)->count(c) > 0; });
    if (!known.ok()) return absl::InvalidArgumentError(absl::StrCat("warning rules: ", known.message()));
  }
  core->auth_ = std::make_unique<Authenticator>(*core->identity_, *core->clock_,
                                                config.rate_limit, config.rate_burst);
  // (Not for a process that only migrates or bootstraps and exits.)
  if (!config.db_replica_url.empty() && !config.migrate_only && !config.rebuild_statistics &&
      config.bootstrap_admin.empty()) {
    core->replica_thread_ = std::thread([raw = core.get()] { raw->WatchReplica(); });
  }
  return core;
}

Core::~Core() {
  {
    absl::MutexLock lock(&replica_mu_);
    replica_stop_ = true;
  }
  if (replica_thread_.joinable()) replica_thread_.join();
}

storage::CaseStore& Core::read_store() {
  storage::CaseStore* replica = replica_ready_.load(std::memory_order_acquire);
  if (replica != nullptr && replica_gate_->Fresh()) return *replica;
  return *store_;
}

void Core::WatchReplica() {
  // Often enough that a healthy replica stays fresh between two checks.
  const absl::Duration every = std::min(absl::Milliseconds(250), config_.db_replica_max_lag / 4);
  auto stopped_after = [this](absl::Duration d) {
    absl::MutexLock lock(&replica_mu_);
    return replica_mu_.AwaitWithTimeout(absl::Condition(&replica_stop_), d);
  };
  std::string last_problem;
  while (replica_pool_ == nullptr) {
    // The reads' pool, and one connection to each database for the checks
    // (so that they never wait behind reads for a lease).
    absl::Status opened = absl::OkStatus();
    auto open = [&](const std::string& url, int size) -> std::unique_ptr<storage::Pool> {
      if (!opened.ok()) return nullptr;
      storage::PoolOptions popts;
      popts.url = url;
      popts.size = size;
      auto pool = storage::Pool::Open(popts);
      if (pool.ok()) return std::move(*pool);
      opened = pool.status();
      return nullptr;
    };
    auto reads = open(config_.db_replica_url, std::max(2, config_.pool_size / 2));
    auto check_primary = open(config_.db_url, 1);
    auto check_replica = open(config_.db_replica_url, 1);
    if (opened.ok()) {
      replica_pool_ = std::move(reads);
      replica_check_pools_[0] = std::move(check_primary);
      replica_check_pools_[1] = std::move(check_replica);
      break;
    }
    if (std::string(opened.message()) != last_problem) {
      last_problem = std::string(opened.message());
      LogWarn(absl::StrCat("replica reads: the replica is unreachable, reading from the primary: ",
                           last_problem));
    }
    if (stopped_after(absl::Seconds(1))) return;
  }
  replica_store_ = std::make_unique<storage::CaseStore>(*replica_pool_);
  replica_gate_ = std::make_unique<storage::ReplicaGate>(
      *replica_check_pools_[0], *replica_check_pools_[1], config_.db_replica_max_lag);
  replica_ready_.store(replica_store_.get(), std::memory_order_release);
  bool fresh = false;
  do {
    const absl::Status checked = replica_gate_->Check();
    if (replica_gate_->Fresh() != fresh) {
      fresh = !fresh;
      if (fresh) {
        LogInfo("replica reads: on (the replica is within the lag bound)");
      } else {
        LogWarn(absl::StrCat("replica reads: off, reading from the primary: the replica is ",
                             absl::FormatDuration(replica_gate_->Behind()), " behind",
                             checked.ok() ? "" : absl::StrCat(" (", checked.message(), ")")));
      }
    }
  } while (!stopped_after(every));
}

bool Core::KnownState(const std::string& state) const {
  for (const auto& [key, engine] : engines_) {
    if (engine->definition().FindState(state) != nullptr) return true;
  }
  return false;
}

bool Core::KnownTimer(const std::string& timer) const {
  for (const auto& [key, engine] : engines_) {
    if (engine->definition().FindTimer(timer) != nullptr) return true;
  }
  return false;
}

const workflow::Engine* Core::EngineFor(const std::string& name, int version) const {
  auto it = engines_.find(absl::StrCat(name, "@", version));
  return it == engines_.end() ? nullptr : it->second.get();
}

namespace {
// How long read reference data (units, categories) is reused.
constexpr std::chrono::seconds kReferenceTtl(5);
}  // namespace

absl::StatusOr<std::shared_ptr<const workflow::MapOrgTree>> Core::Org() {
  if (auto s = RefreshReference(); !s.ok()) return s;
  absl::MutexLock lock(&reference_mu_);
  return org_;
}

absl::StatusOr<std::shared_ptr<const std::map<std::string, bool>>> Core::Categories() {
  if (auto s = RefreshReference(); !s.ok()) return s;
  absl::MutexLock lock(&reference_mu_);
  return categories_;
}

absl::StatusOr<std::vector<storage::DocumentDraft>> Core::DraftDocuments(
    const workflow::Engine& engine, const workflow::Decision& decision,
    const xinfang::v1::CaseIntake& intake, const workflow::Actor& actor, absl::Time now) {
  if (decision.documents.empty()) return std::vector<storage::DocumentDraft>{};
  auto org = Org();
  if (!org.ok()) return org.status();
  auto names = Names();
  if (!names.ok()) return names.status();
  absl::TimeZone zone;
  if (!absl::LoadTimeZone(config_.time_zone, &zone)) {
    return absl::FailedPreconditionError(absl::StrCat("unknown time zone ", config_.time_zone));
  }
  DocumentFacts facts{&intake, &engine, org->get(), names->get(), actor, now, zone};
  return xinfang::DraftDocuments(*documents_, decision, facts);
}

absl::StatusOr<std::shared_ptr<const std::map<std::string, std::string>>> Core::Names() {
  if (auto s = RefreshReference(); !s.ok()) return s;
  absl::MutexLock lock(&reference_mu_);
  return names_;
}

void Core::ReferenceChanged() {
  absl::MutexLock lock(&reference_mu_);
  org_ = nullptr;
}

absl::Status Core::RefreshReference() {
  const auto now = std::chrono::steady_clock::now();
  {
    absl::MutexLock lock(&reference_mu_);
    if (org_ != nullptr && now - reference_read_ < kReferenceTtl) return absl::OkStatus();
  }
  auto units = storage::ReadUnits(*pool_);
  if (!units.ok()) return units.status();
  auto categories = storage::ReadCategories(*pool_);
  if (!categories.ok()) return categories.status();
  auto names = storage::ReadNames(*pool_);
  if (!names.ok()) return names.status();
  absl::MutexLock lock(&reference_mu_);
  org_ = std::make_shared<const workflow::MapOrgTree>(std::move(*units));
  categories_ = std::make_shared<const std::map<std::string, bool>>(std::move(*categories));
  names_ = std::make_shared<const std::map<std::string, std::string>>(std::move(*names));
  reference_read_ = now;
  return absl::OkStatus();
}


std::string NameOf(const std::map<std::string, std::string>& names, const std::string& kind,
                   const std::string& code) {
  if (code.empty()) return "";
  auto it = names.find(absl::StrCat(kind, ":", code));
  return it == names.end() ? code : it->second;
}

}  // namespace xinfang
