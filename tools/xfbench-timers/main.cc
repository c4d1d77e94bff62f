// xfbench-timers: how long the timer sweeper takes when many timers fall due
// at once. Seeds N cases (one registration, bulk-copied) in a fresh database
// of the given cluster, starts P xinfang-supervision processes on a simulated
// clock 30 days later (each case then owes 5 events: warning, overdue and 3
// escalation rungs), waits until nothing is due and prints the wall time.
// Then checks every event was written once and that histories verify.
//
//   xfbench-timers --pg=postgresql://xinfang@127.0.0.1:PORT/postgres
//                  [--cases=100000] [--processes=1] [--batch=N] [--timeout-s=600]
//
// Loopback only; bounded by --timeout-s; the database is dropped at the end.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "services/common/core.h"
#include "services/common/log.h"
#include "services/intake/intake_service.h"
#include "services/storage/db.h"
#include "tools/xfbench-timers/seed.h"

extern char** environ;

namespace xinfang::bench {
namespace {

struct Options {
  std::string pg;  // admin URL of the cluster (…/postgres)
  int cases = 100000;
  int processes = 1;
  int batch = 0;     // 0: the sweeper's default
  int parallel = 0;  // batches in flight per process; 0: the sweeper's default
  int timeout_s = 600;
  std::string sweeper;  // path of xinfang-supervision
  bool keep = false;    // keep the database
};

constexpr char kUsage[] =
    "usage: xfbench-timers --pg=URL [--cases=N] [--processes=1|2|...] [--batch=N]\n"
    "                      [--parallel=N] [--timeout-s=S] [--sweeper=PATH] [--keep]\n"
    "  --pg         admin URL of a PostgreSQL cluster on this machine (…/postgres);\n"
    "               default $XINFANG_TEST_PG\n"
    "  --sweeper    default: ../services/xinfang-supervision beside this program\n";

absl::TimeZone Shanghai() { return absl::FixedTimeZone(8 * 3600); }
// Registration instant, and the instant the sweepers run at: intake notice
// warning, overdue and rungs 1-3 due; rung 4 not yet.
const absl::Time kRegistered =
    absl::FromCivil(absl::CivilSecond(2026, 3, 2, 9, 0, 0), Shanghai());
const absl::Time kSweepAt = absl::FromCivil(absl::CivilSecond(2026, 4, 1, 9, 0, 0), Shanghai());
constexpr int kEventsPerCase = 5;

[[noreturn]] void Fail(const std::string& msg) {
  std::cerr << "xfbench-timers: " << msg << "\n";
  std::exit(1);
}

Options Parse(int argc, char** argv) {
  Options o;
  if (const char* env = std::getenv("XINFANG_TEST_PG")) o.pg = env;
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n > 0) {
    std::string dir(self, n);
    dir = dir.substr(0, dir.rfind('/'));
    o.sweeper = dir + "/../services/xinfang-supervision";
  }
  for (int i = 1; i < argc; ++i) {
    absl::string_view a = argv[i];
    auto value = [&](absl::string_view flag, std::string* out) {
      if (!absl::ConsumePrefix(&a, flag)) return false;
      *out = std::string(a);
      return true;
    };
    auto number = [&](absl::string_view flag, int* out) {
      std::string v;
      if (!value(flag, &v)) return false;
      if (!absl::SimpleAtoi(v, out) || *out < 0) Fail(absl::StrCat("bad ", flag, v));
      return true;
    };
    if (value("--pg=", &o.pg) || value("--sweeper=", &o.sweeper) ||
        number("--cases=", &o.cases) || number("--processes=", &o.processes) ||
        number("--batch=", &o.batch) || number("--parallel=", &o.parallel) ||
        number("--timeout-s=", &o.timeout_s)) {
      continue;
    }
    if (a == "--keep") {
      o.keep = true;
    } else {
      std::cerr << kUsage;
      std::exit(a == "--help" ? 0 : 2);
    }
  }
  if (o.pg.empty()) Fail("--pg (or XINFANG_TEST_PG) is required");
  if (o.cases < 1 || o.processes < 1) Fail("--cases and --processes must be at least 1");
  return o;
}

std::string Conninfo(const std::string& url) {
  auto c = storage::ToConninfo(url);
  if (!c.ok()) Fail(std::string(c.status().message()));
  return *c;
}

// Runs one statement on a connection of its own; the first column of the
// first row as a number (0 if none).
long long Scalar(const std::string& url, const std::string& sql) {
  try {
    soci::session s(soci::postgresql, Conninfo(url));
    long long v = 0;
    soci::indicator ind = soci::i_ok;
    s << sql, soci::into(v, ind);
    return ind == soci::i_ok ? v : 0;
  } catch (const std::exception& e) {
    Fail(absl::StrCat(sql, ": ", e.what()));
  }
}

void Exec(const std::string& url, const std::string& sql) {
  try {
    soci::session s(soci::postgresql, Conninfo(url));
    s << sql;
  } catch (const std::exception& e) {
    Fail(absl::StrCat(sql, ": ", e.what()));
  }
}

pid_t SpawnSweeper(const Options& o, const std::string& db_url) {
  std::vector<std::string> args = {
      o.sweeper,
      "--db=" + db_url,
      "--simulated-clock=" + absl::FormatTime(absl::RFC3339_full, kSweepAt, absl::UTCTimeZone()),
      "--sweep-interval-ms=20",
      "--listen=127.0.0.1:0",
      "--log-level=warn"};
  if (o.batch > 0) args.push_back(absl::StrCat("--sweep-batch=", o.batch));
  if (o.parallel > 0) args.push_back(absl::StrCat("--sweep-parallel=", o.parallel));
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawn(&pid, o.sweeper.c_str(), nullptr, nullptr, argv.data(), environ) != 0) {
    Fail(absl::StrCat("cannot start ", o.sweeper));
  }
  return pid;
}

// SIGTERM, then SIGKILL if it has not exited within 10 s.
void Stop(pid_t pid) {
  kill(pid, SIGTERM);
  const absl::Time kill_at = absl::Now() + absl::Seconds(10);
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (absl::Now() > kill_at) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
}

int Run(const Options& o) {
  const std::string db = absl::StrCat("xfbench_timers_", getpid());
  const std::string url = o.pg.substr(0, o.pg.rfind('/') + 1) + db;
  Exec(o.pg, absl::StrCat("CREATE DATABASE ", db));

  // A Core of our own: migrations, the template case, and verification.
  SetLogLevel(LogLevel::kWarn);
  ServerConfig config;
  config.db_url = url;
  config.data_dir = DefaultDataDir();
  config.simulated_clock = kRegistered;
  config.pool_size = 2;
  auto core = Core::Open(config);
  if (!core.ok()) Fail(std::string(core.status().message()));

  const absl::Time seed_start = absl::Now();
  xinfang::v1::RegisterCaseRequest r;
  r.set_request_id("xfbench-template");
  xinfang::v1::CaseIntake* in = r.mutable_intake();
  in->set_channel(xinfang::v1::CHANNEL_CALL);
  in->set_purpose(xinfang::v1::PURPOSE_CLAIM);
  in->set_category("wages.arrears");
  in->set_summary("拖欠工资");
  in->add_petitioners()->set_name("来电人");
  const workflow::Actor clerk{"clerk1", xinfang::v1::ROLE_INTAKE_CLERK, "prov.organs.office"};
  auto registered = intake::Intake(**core).Register(clerk, r);
  if (!registered.ok()) Fail(absl::StrCat("registering the template: ", registered.status().ToString()));
  const long long template_id = Scalar(
      url, absl::StrCat("SELECT id FROM cases WHERE tracking_number = '",
                        registered->case_().tracking_number(), "'"));
  auto ids = CloneCase(url, template_id, o.cases - 1);
  if (!ids.ok()) Fail(absl::StrCat("seeding: ", ids.status().ToString()));
  Exec(url, "VACUUM ANALYZE");
  const std::string due_sql = absl::StrCat(
      "SELECT count(*) FROM case_timers WHERE next_fire_at <= xf_ts(",
      storage::ToMicros(kSweepAt), ")");
  const long long due = Scalar(url, due_sql);
  std::cout << absl::StreamFormat("seeded %d cases (%d timers due) in %.1f s\n", o.cases, due,
                                  absl::ToDoubleSeconds(absl::Now() - seed_start));

  // The sweepers, until nothing is due.
  const absl::Time start = absl::Now();
  std::vector<pid_t> pids;
  for (int i = 0; i < o.processes; ++i) pids.push_back(SpawnSweeper(o, url));
  const std::string any_due = absl::StrCat(
      "SELECT count(*) FROM (SELECT 1 FROM case_timers WHERE next_fire_at <= xf_ts(",
      storage::ToMicros(kSweepAt), ") LIMIT 1) d");
  const absl::Time give_up = start + absl::Seconds(o.timeout_s);
  bool done = false;
  while (!(done = Scalar(url, any_due) == 0) && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  const absl::Duration took = absl::Now() - start;
  for (pid_t pid : pids) Stop(pid);

  // Exactly once, and intact histories.
  const long long events =
      Scalar(url, "SELECT count(*) FROM case_events WHERE actor = 'system'");
  const long long doubled = Scalar(url, R"sql(
    SELECT count(*) FROM (
      SELECT case_id, fields->>'timer', kind, coalesce(fields->>'rung', '')
        FROM case_events WHERE kind IN ('deadline_warning', 'deadline_overdue', 'escalated')
       GROUP BY 1, 2, 3, 4 HAVING count(*) > 1) d)sql");
  int broken = 0, checked = 0;
  const int step = std::max<int>(1, static_cast<int>(ids->size()) / 200);
  for (std::size_t i = 0; i < ids->size(); i += step, ++checked) {
    auto v = (*core)->store().Verify((*ids)[i]);
    if (!v.ok() || !v->intact) ++broken;
  }
  const long long expected = static_cast<long long>(o.cases) * kEventsPerCase;
  std::cout << absl::StreamFormat(
      "%d sweeper process(es), batch %s, parallel %s: %s %d cases (%d events) in %.2f s "
      "(%.0f cases/s)\n",
      o.processes, o.batch > 0 ? absl::StrCat(o.batch) : "default",
      o.parallel > 0 ? absl::StrCat(o.parallel) : "default",
      done ? "fired all timers of" : "TIMED OUT on", o.cases, events,
      absl::ToDoubleSeconds(took), o.cases / absl::ToDoubleSeconds(took));
  std::cout << absl::StreamFormat("events %d of %d expected, %d doubled, %d of %d sampled "
                                  "histories broken\n",
                                  events, expected, doubled, broken, checked);
  core->reset();
  if (!o.keep) Exec(o.pg, absl::StrCat("DROP DATABASE ", db, " WITH (FORCE)"));
  return done && events == expected && doubled == 0 && broken == 0 ? 0 : 1;
}

}  // namespace
}  // namespace xinfang::bench

int main(int argc, char** argv) {
  return xinfang::bench::Run(xinfang::bench::Parse(argc, argv));
}
