// xfbench-timers: how long the timer sweeper takes when many timers fall due
// at once. Seeds N cases (one registration, bulk-copied) in a fresh database
// of the given cluster, starts P xinfang-supervision processes on a simulated
// clock at an instant when every case's intake notice owes the same events
// (--scenario), waits until nothing is due and prints the wall time. Then
// checks every event was written once and that sampled histories verify.
//
//   xfbench-timers --pg=postgresql://xinfang@127.0.0.1:PORT/postgres
//                  [--cases=100000] [--processes=1] [--scenario=month] [--batch=N]
//
// Loopback only; bounded by --timeout-s (default 600); the database is
// dropped at the end. Exit status 0 only if all fired, once, intact.
#include <signal.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
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

absl::TimeZone Shanghai() { return absl::FixedTimeZone(8 * 3600); }
absl::Time Local(int y, int m, int d, int hh = 0) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, 0, 0), Shanghai());
}
// Registration instant of every case: its 15-day intake notice is due at the
// end of 2026-03-17, with a warning 3 days before and escalation rungs after.
const absl::Time kRegistered = Local(2026, 3, 2, 9);

// When the sweepers run, and what each case then owes.
struct Scenario {
  const char* name;
  absl::Time at;
  int events_per_case;
};
const Scenario kScenarios[] = {
    {"warning", Local(2026, 3, 15), 1},   // the warning
    {"deadline", Local(2026, 3, 18), 3},  // warning, overdue, rung 1
    {"month", Local(2026, 4, 1, 9), 5},   // warning, overdue, rungs 1-3
};

struct Options {
  std::string pg;  // admin URL of the cluster (…/postgres)
  int cases = 100000;
  int processes = 1;
  int batch = 0;     // 0: the sweeper's default
  int parallel = 0;  // batches in flight per process; 0: the sweeper's default
  int timeout_s = 600;
  std::string sweeper;  // path of xinfang-supervision
  bool keep = false;    // keep the database
  Scenario scenario = kScenarios[2];
};

constexpr char kUsage[] =
    "usage: xfbench-timers --pg=URL [--cases=N] [--processes=1|2|...] [--batch=N]\n"
    "                      [--parallel=N] [--scenario=warning|deadline|month]\n"
    "                      [--timeout-s=S] [--sweeper=PATH] [--keep]\n"
    "  --pg         admin URL of a PostgreSQL cluster on this machine (…/postgres);\n"
    "               default $XINFANG_TEST_PG\n"
    "  --scenario   what each case owes when the sweepers run: its warning (1 event),\n"
    "               its deadline (warning, overdue, rung 1) or, the default, a month\n"
    "               later (warning, overdue, rungs 1-3: 5 events)\n"
    "  --sweeper    default: ../services/xinfang-supervision beside this program\n";

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
    if (value("--pg=", &o.pg) || value("--sweeper=", &o.sweeper) || number("--cases=", &o.cases) ||
        number("--processes=", &o.processes) || number("--batch=", &o.batch) ||
        number("--parallel=", &o.parallel) || number("--timeout-s=", &o.timeout_s)) {
      continue;
    }
    std::string scenario;
    if (value("--scenario=", &scenario)) {
      auto it = std::find_if(std::begin(kScenarios), std::end(kScenarios),
                             [&](const Scenario& sc) { return scenario == sc.name; });
      if (it == std::end(kScenarios)) Fail("--scenario: warning, deadline or month");
      o.scenario = *it;
    } else if (a == "--keep") {
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
      "--simulated-clock=" +
          absl::FormatTime(absl::RFC3339_full, o.scenario.at, absl::UTCTimeZone()),
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

// CPU time (user + system) the process has used so far.
absl::Duration CpuTime(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command name (which ends with the last ')'): state is
  // field 3, utime 14, stime 15.
  std::vector<std::string> f = absl::StrSplit(stat.substr(stat.rfind(')') + 2), ' ');
  long long utime = 0, stime = 0;
  if (f.size() < 13 || !absl::SimpleAtoi(f[11], &utime) || !absl::SimpleAtoi(f[12], &stime)) {
    return absl::ZeroDuration();
  }
  return absl::Seconds(static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK));
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
  if (!registered.ok())
    Fail(absl::StrCat("registering the template: ", registered.status().ToString()));
  const long long template_id =
      Scalar(url, absl::StrCat("SELECT id FROM cases WHERE tracking_number = '",
                               registered->case_().tracking_number(), "'"));
  auto ids = CloneCase(url, template_id, o.cases - 1);
  if (!ids.ok()) Fail(absl::StrCat("seeding: ", ids.status().ToString()));
  Exec(url, "VACUUM ANALYZE");
  const std::string due_sql =
      absl::StrCat("SELECT count(*) FROM case_timers WHERE next_fire_at <= xf_ts(",
                   storage::ToMicros(o.scenario.at), ")");
  const long long due = Scalar(url, due_sql);
  std::cout << absl::StreamFormat("seeded %d cases (%d timers due) in %.1f s\n", o.cases, due,
                                  absl::ToDoubleSeconds(absl::Now() - seed_start));

  // The sweepers, until nothing is due.
  const absl::Time start = absl::Now();
  std::vector<pid_t> pids;
  for (int i = 0; i < o.processes; ++i) pids.push_back(SpawnSweeper(o, url));
  const std::string any_due =
      absl::StrCat("SELECT count(*) FROM (SELECT 1 FROM case_timers WHERE next_fire_at <= xf_ts(",
                   storage::ToMicros(o.scenario.at), ") LIMIT 1) d");
  const absl::Time give_up = start + absl::Seconds(o.timeout_s);
  bool done = false;
  while (!(done = Scalar(url, any_due) == 0) && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  const absl::Duration took = absl::Now() - start;
  absl::Duration cpu;
  for (pid_t pid : pids) cpu += CpuTime(pid);
  for (pid_t pid : pids) Stop(pid);

  // Exactly once, and intact histories.
  const long long events = Scalar(url, "SELECT count(*) FROM case_events WHERE actor = 'system'");
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
  const long long expected = static_cast<long long>(o.cases) * o.scenario.events_per_case;
  std::cout << absl::StreamFormat(
      "%s: %d sweeper process(es), batch %s, parallel %s: %s %d cases (%d events) in "
      "%.2f s (%.0f cases/s)\n",
      o.scenario.name, o.processes, o.batch > 0 ? absl::StrCat(o.batch) : "default",
      o.parallel > 0 ? absl::StrCat(o.parallel) : "default",
      done ? "fired all timers of" : "TIMED OUT on", o.cases, events, absl::ToDoubleSeconds(took),
      o.cases / absl::ToDoubleSeconds(took));
  std::cout << absl::StreamFormat("sweeper processes used %.1f s of CPU\n",
                                  absl::ToDoubleSeconds(cpu));
  std::cout << absl::StreamFormat(
      "events %d of %d expected, %d doubled, %d of %d sampled "
      "histories broken\n",
      events, expected, doubled, broken, checked);
  core->reset();
  if (!o.keep) Exec(o.pg, absl::StrCat("DROP DATABASE ", db, " WITH (FORCE)"));
  return done && events == expected && doubled == 0 && broken == 0 ? 0 : 1;
}

}  // namespace
}  // namespace xinfang::bench

int main(int argc, char** argv) { return xinfang::bench::Run(xinfang::bench::Parse(argc, argv)); }
