// xfseed: loads N realistic petition cases into a migrated xinfang database,
// fast (COPY over one connection per table), for benchmarks.
//
// Every case is played through the workflow engine from registration to
// where it stands at --now: the intake decision, assignment, the decision,
// service, the evaluation and closing, with the timers the sweeper would
// have fired on the way (warnings, overdue marks, the escalation ladder,
// lapses). So the rows are the service's own: the case row and its
// snapshot, the hash-chained history with its head, the open timers with
// next_fire_at and owing unit, the deadline log, petitioners and repeat
// links. Most steps are taken in time; a few are late, so that about 1% of
// all cases hold an overdue deadline at --now.
//
// --burst N adds N cases whose intake-notice deadline falls due at one
// instant just after --now (printed as burst_due_at): start a server with
// --simulated-clock=<--now> and advance its clock past it to measure the
// sweeper (xfbench --scenario timers).
//
// The database must be migrated (xfseed does it with --migrate) and hold no
// cases. Output: one JSON summary line on stdout; with --out DIR also
// DIR/tracking.txt (a random sample of tracking numbers), DIR/units.txt and
// DIR/categories.txt for xfbench.
#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <string>
#include <unordered_set>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "services/storage/case_store.h"
#include "services/storage/db.h"
#include "services/storage/json.h"
#include "services/storage/migrations.h"
#include "tools/benchdata/bench_data.h"
#include "tools/xfseed/copy_stream.h"
#include "workflow/calendar.h"
#include "workflow/definition.h"
#include "workflow/engine.h"

namespace xinfang::xfseed {
namespace {

namespace v1 = xinfang::v1;
using benchdata::Chance;
using benchdata::Rng;
using benchdata::Uniform;
using workflow::Actor;
using workflow::CaseSnapshot;
using workflow::TimerState;

constexpr char kUsage[] = R"(usage: xfseed --db URL --cases N [flags]
  --db URL            PostgreSQL URL or conninfo [XINFANG_DB_URL]
  --cases N           cases to load (default 10000)
  --burst N           extra cases whose intake deadline falls due at one instant
                      just after --now (default 0)
  --wave N            extra cases against one employer (宏达建筑, under several legal
                      forms) received in the 7 days before --now: a wave the early-warning
                      rules see (default 0)
  --now RFC3339       the instant the data set stands at (default: now)
  --years Y           receipts spread over the Y years before --now (default 3)
  --late-share P      chance that a step is taken late (default 0.05)
  --stall-share P     chance that a case stalls before a step: it stays overdue
                      (default 0.008; with the late steps ~1% of cases overdue)
  --threads N         generating threads, each with its own COPY connections (default 2)
  --extra-units N     add N city/district units below prov (default 60)
  --data-dir DIR      workflows/ and calendar/ (default: the source tree's deploy/)
  --out DIR           write tracking.txt, units.txt, categories.txt for xfbench
  --sample N          tracking numbers in tracking.txt (default 100000)
  --seed S            random seed (default 1)
  --migrate           apply the migrations first
  --max-seconds S     give up after S seconds (default 600)
)";

struct Options {
  std::string db;
  long long cases = 10000;
  long long burst = 0;
  long long wave = 0;
  absl::Time now = absl::Now();
  int years = 3;
  double late_share = 0.05;
  double stall_share = 0.008;
  int threads = 2;
  int extra_units = 60;
  std::string data_dir = XINFANG_DEFAULT_DATA_DIR;
  std::string out;
  long long sample = 100000;
  uint64_t seed = 1;
  bool migrate = false;
  int max_seconds = 600;
};

[[noreturn]] void Fail(const std::string& msg, int code = 1) {
  std::fprintf(stderr, "xfseed: %s\n", msg.c_str());
  std::exit(code);
}

Options ParseOptions(int argc, char** argv) {
  Options o;
  if (const char* db = std::getenv("XINFANG_DB_URL")) o.db = db;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i], v;
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (a == "--migrate") {
      o.migrate = true;
      continue;
    }
    if (auto eq = a.find('='); eq != std::string::npos) {
      v = a.substr(eq + 1);
      a = a.substr(0, eq);
    } else if (i + 1 < argc) {
      v = argv[++i];
    } else {
      Fail(absl::StrCat("flag ", a, " needs a value (see --help)"), 2);
    }
    auto number = [&](auto* out) {
      if (!absl::SimpleAtoi(v, out)) Fail(absl::StrCat(a, ": not a number: ", v), 2);
    };
    if (a == "--db") o.db = v;
    else if (a == "--cases") number(&o.cases);
    else if (a == "--burst") number(&o.burst);
    else if (a == "--wave") number(&o.wave);
    else if (a == "--years") number(&o.years);
    else if (a == "--extra-units") number(&o.extra_units);
    else if (a == "--sample") number(&o.sample);
    else if (a == "--seed") number(&o.seed);
    else if (a == "--max-seconds") number(&o.max_seconds);
    else if (a == "--threads") number(&o.threads);
    else if (a == "--stall-share") {
      if (!absl::SimpleAtod(v, &o.stall_share)) Fail("--stall-share: not a number", 2);
    }
    else if (a == "--data-dir") o.data_dir = v;
    else if (a == "--out") o.out = v;
    else if (a == "--late-share") {
      if (!absl::SimpleAtod(v, &o.late_share)) Fail("--late-share: not a number", 2);
    } else if (a == "--now") {
      std::string err;
      if (!absl::ParseTime(absl::RFC3339_full, v, &o.now, &err)) {
        Fail(absl::StrCat("--now: not an RFC 3339 time: ", v), 2);
      }
    } else {
      Fail(absl::StrCat("unknown flag ", a, " (see --help)"), 2);
    }
  }
  if (o.db.empty()) Fail("no database: --db URL or XINFANG_DB_URL", 2);
  if (o.cases < 0 || o.burst < 0 || o.wave < 0 || o.years < 1) {
    Fail("--cases, --burst, --wave, --years: out of range", 2);
  }
  return o;
}

// ---- SQL text helpers ----

std::string Ts(absl::Time t) {
  const int64_t us = absl::ToUnixMicros(t);
  int64_t secs = us / 1000000, frac = us % 1000000;
  if (frac < 0) {
    frac += 1000000;
    --secs;
  }
  const absl::CivilSecond c = absl::ToCivilSecond(absl::FromUnixSeconds(secs), absl::UTCTimeZone());
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%06d+00", static_cast<int>(c.year()),
                c.month(), c.day(), c.hour(), c.minute(), c.second(), static_cast<int>(frac));
  return buf;
}
long long Micros(absl::Time t) { return absl::ToUnixMicros(t); }
absl::Time Trunc(absl::Time t) { return absl::FromUnixMicros(absl::ToUnixMicros(t)); }
std::string Day(absl::CivilDay d) { return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day()); }

absl::Status Exec(PGconn* c, const std::string& sql) {
  PGresult* r = PQexec(c, sql.c_str());
  const auto st = PQresultStatus(r);
  std::string err = (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) ? "" : PQresultErrorMessage(r);
  PQclear(r);
  if (!err.empty()) return absl::InternalError(absl::StrCat(sql.substr(0, 80), ": ", err));
  return absl::OkStatus();
}

std::string Scalar(PGconn* c, const std::string& sql) {
  PGresult* r = PQexec(c, sql.c_str());
  std::string v = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
  PQclear(r);
  return v;
}

// Indexes and unique or primary-key constraints of the loaded tables that no
// foreign key depends on: dropped before the load and built again after it,
// which is much faster than maintaining them row by row.
struct Rebuild {
  std::string drop, create;
};

constexpr char kLoadedTables[] =
    "'{cases,case_events,case_timers,persons,case_petitioners,case_links,deadline_log}'";

std::vector<Rebuild> DeferrableIndexes(PGconn* c) {
  const std::string sql = absl::StrCat(
      "SELECT format('DROP INDEX %s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid) "
      "  FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
      " WHERE t.relname = ANY (", kLoadedTables, "::text[]) "
      "   AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) "
      "UNION ALL "
      "SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', k.conrelid::regclass, k.conname), "
      "       format('ALTER TABLE %s ADD CONSTRAINT %I %s', k.conrelid::regclass, k.conname, "
      "              pg_get_constraintdef(k.oid)) "
      "  FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid "
      " WHERE t.relname = ANY (", kLoadedTables, "::text[]) AND k.contype IN ('p', 'u') "
      "   AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' "
      "                      AND f.conindid = k.conindid)");
  std::vector<Rebuild> out;
  PGresult* r = PQexec(c, sql.c_str());
  if (PQresultStatus(r) != PGRES_TUPLES_OK) Fail(absl::StrCat("reading indexes: ", PQresultErrorMessage(r)));
  for (int i = 0; i < PQntuples(r); ++i) out.push_back({PQgetvalue(r, i, 0), PQgetvalue(r, i, 1)});
  PQclear(r);
  return out;
}

// Runs `statements` on two connections in parallel (the machine has two cores).
void RunParallel(const std::string& conninfo, const std::vector<std::string>& statements) {
  std::vector<std::thread> threads;
  std::mutex mu;
  std::size_t next = 0;
  std::string error;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&] {
      PGconn* c = PQconnectdb(conninfo.c_str());
      Exec(c, "SET maintenance_work_mem = '256MB'").IgnoreError();
      for (;;) {
        std::string sql;
        {
          std::lock_guard<std::mutex> l(mu);
          if (next >= statements.size() || !error.empty()) break;
          sql = statements[next++];
        }
        if (auto s = Exec(c, sql); !s.ok()) {
          std::lock_guard<std::mutex> l(mu);
          error = std::string(s.message());
        }
      }
      PQfinish(c);
    });
  }
  for (auto& t : threads) t.join();
  if (!error.empty()) Fail(error);
}

// ---- The organisation ----

struct Unit {
  std::string code, name, parent;
  int weight;  // share of the petitions registered there
};

std::vector<Unit> Units(int extra) {
  std::vector<Unit> u = {{"prov", "", "", 1},
                         {"prov.organs", "", "", 2},
                         {"prov.organs.office", "", "", 12},
                         {"prov.organs.edu", "", "", 4},
                         {"prov.organs.health", "", "", 4},
                         {"prov.organs.transport", "", "", 4},
                         {"prov.city-a", "", "", 8},
                         {"prov.city-a.dist-1", "", "", 6}};
  static constexpr const char* kNames[] = {"二", "三", "四", "五", "六", "七", "八", "九"};
  for (int city = 0; extra > 0; ++city) {
    const std::string code = absl::StrFormat("prov.city-%c", 'b' + city % 25);
    const std::string suffix = city >= 25 ? absl::StrCat(city / 25) : "";
    const std::string letter(1, static_cast<char>('B' + city % 25));
    u.push_back({code + suffix, absl::StrCat(letter, suffix, "市总工会"), "prov", 8});
    --extra;
    for (int d = 1; d <= 5 && extra > 0; ++d, --extra) {
      u.push_back({absl::StrCat(code, suffix, ".dist-", d),
                   absl::StrCat(letter, suffix, "市", kNames[d % 8], "区总工会"),
                   code + suffix, 5});
    }
  }
  return u;
}

// ---- One case, played through the engine ----

struct TimerRow {
  std::string unit;
  absl::Time started, due;
  bool overdue;
  int purpose;
};

struct Writer {
  CopyStream* cases;
  CopyStream* events;
  CopyStream* timers;
  CopyStream* persons;
  CopyStream* petitioners;
  CopyStream* links;
  CopyStream* log;
};

struct Counters {
  long long events = 0, timers = 0, log = 0, persons = 0, overdue_cases = 0, open_cases = 0,
            refused_steps = 0;
  std::map<std::string, long long> by_state;

  void Add(const Counters& o) {
    events += o.events;
    timers += o.timers;
    log += o.log;
    persons += o.persons;
    overdue_cases += o.overdue_cases;
    open_cases += o.open_cases;
    refused_steps += o.refused_steps;
    for (const auto& [k, v] : o.by_state) by_state[k] += v;
  }
};

class CaseSim {
 public:
  CaseSim(const workflow::Engine& engine, const workflow::OrgTree& org, Writer& w, Counters& n,
          long long* event_id, long long* log_id)
      : engine_(engine), org_(org), w_(w), n_(n), event_id_(event_id), log_id_(log_id) {}

  // Registers the case at `at` (a Create): the first events and timers.
  void Register(long long id, const Actor& clerk, absl::Time received, absl::Time at,
                const std::vector<long long>& repeat_of) {
    id_ = id;
    workflow::CaseStart start;
    start.received_at = received;
    start.registering_unit = clerk.unit;
    auto d = engine_.Start(start, clerk, at);
    if (!d.ok()) Fail(absl::StrCat("engine refused a registration: ", d.status().message()));
    if (!repeat_of.empty()) d->events.front().fields["repeat_of"] = absl::StrJoin(repeat_of, ",");
    version_ = 0;
    Commit(*d, clerk, at);
  }

  // Fires every timer falling due up to `until`, as the sweeper would (all
  // due timers of the case in one decision, a second after they fall due).
  void SweepUntil(absl::Time until) {
    static const Actor kSystem{"system", v1::ROLE_SYSTEM, ""};
    for (int guard = 0; guard < 50; ++guard) {
      std::optional<absl::Time> next;
      for (const TimerState& t : snap_.timers) {
        auto at = engine_.NextFireAt(t);
        if (at && (!next || *at < *next)) next = at;
      }
      if (!next || *next > until) return;
      const absl::Time at = std::min(until, *next + absl::Seconds(1));
      std::vector<std::pair<absl::Time, std::string>> due;
      for (const TimerState& t : snap_.timers) {
        auto f = engine_.NextFireAt(t);
        if (f && *f <= at) due.emplace_back(*f, t.name);
      }
      std::sort(due.begin(), due.end());
      std::vector<std::string> names;
      for (auto& [when, name] : due) names.push_back(std::move(name));
      auto total = engine_.FireAll(snap_, names, at, org_);
      if (!total.ok()) return;
      Commit(*total, kSystem, at);
    }
  }

  // Takes `action` at `at` (after the sweeper has caught up); false when the
  // engine refuses (e.g. the window closed meanwhile).
  bool Act(const std::string& action, std::map<std::string, std::string> fields,
           const Actor& actor, absl::Time at) {
    SweepUntil(at);
    workflow::ActionRequest req;
    req.action = action;
    req.fields = std::move(fields);
    // The seeded staff: an officer named in a field is an enabled case
    // officer of the case's unit (the server looks accounts up instead).
    if (auto it = req.fields.find("officer"); it != req.fields.end()) {
      req.accounts[it->second] =
          workflow::AccountFacts{v1::ROLE_CASE_OFFICER, snap_.responsible_unit, true};
    }
    auto d = engine_.Apply(snap_, req, actor, at, org_);
    if (!d.ok()) {
      ++n_.refused_steps;
      return false;
    }
    Commit(*d, actor, at);
    return true;
  }

  const CaseSnapshot& snapshot() const { return snap_; }

  // Writes the case row and its open timers as they stand at `now`.
  void Finish(const std::string& tracking, const std::string& request_id,
              const std::string& request_hash, const v1::CaseIntake& intake,
              const std::string& intake_json, const Actor& clerk, absl::Time registered,
              absl::Time now) {
    const workflow::CaseFacts facts = engine_.Facts(snap_);
    CopyStream& c = *w_.cases;
    c.Field(id_);
    c.Field(tracking);
    c.Field(request_id);
    c.Field(version_);
    c.Field(snap_.workflow);
    c.Field(snap_.workflow_version);
    c.Field(snap_.state);
    c.Field(static_cast<long long>(facts.stage));
    c.Field(facts.final ? "t" : "f");
    c.Field(static_cast<long long>(intake.channel()));
    c.Field(Ts(snap_.received_at));
    c.Field(Ts(registered));
    c.Field(clerk.account);
    c.Field(intake.registering_unit());
    c.Field(snap_.responsible_unit);
    auto opt = [&](const std::string& s) { s.empty() ? c.Null() : c.Field(s); };
    auto opt_time = [&](const std::optional<absl::Time>& t) { t ? c.Field(Ts(*t)) : c.Null(); };
    opt(snap_.forwarder_unit);
    opt(snap_.review_unit);
    opt(snap_.recheck_unit);
    opt(snap_.case_officer);
    c.Field(snap_.anonymous ? "t" : "f");
    c.Field(static_cast<long long>(intake.purpose()));
    c.Field(intake.category());
    opt(intake.complained_about_unit());
    c.Field(intake.summary());
    opt_time(snap_.accepted_at);
    opt_time(snap_.decided_at);
    opt_time(snap_.served_at);
    opt_time(snap_.closed_at);
    opt(snap_.outcome);
    opt(snap_.evaluation);
    opt(snap_.office_evaluation);
    c.Field(absl::StrJoin(snap_.flags, ","));
    c.Field(storage::JsonObject(snap_.attributes));
    c.Field(absl::StrJoin(snap_.conflicted_accounts, ","));
    c.Field(intake_json);
    c.Field(Ts(updated_));
    c.Field(Ts(snap_.state_entered_at));
    c.Field(Ts(snap_.unit_received_at));
    c.Field(seq_);
    c.Field(head_);
    c.Field(request_hash);
    c.EndRow();

    bool overdue = false;
    for (const TimerState& t : snap_.timers) {
      CopyStream& r = *w_.timers;
      r.Field(id_);
      r.Field(t.name);
      r.Field(Ts(t.started_at));
      r.Field(Day(t.deadline.due_day));
      r.Field(Ts(t.deadline.due_at));
      r.Field(Ts(t.warn_at));
      r.Field(t.deadline.provisional ? "t" : "f");
      t.suspended_at ? r.Field(Ts(*t.suspended_at)) : r.Null();
      r.Field(t.extended ? "t" : "f");
      r.Field(t.warned ? "t" : "f");
      r.Field(t.overdue ? "t" : "f");
      r.Field(t.rung);
      const workflow::TimerFacts& tf = facts.timers.at(t.name);
      tf.fire_at ? r.Field(Ts(*tf.fire_at)) : r.Null();
      r.Field(tf.owing_unit);
      r.Field(Day(t.deadline.counted_from));
      r.Field(static_cast<long long>(t.deadline.base_days));
      r.Field(static_cast<long long>(t.deadline.extension_days));
      r.Field(static_cast<long long>(t.deadline.stopped_days));
      r.Field(t.deadline.rolled ? "t" : "f");
      r.Field(static_cast<long long>(t.purpose));
      r.Field(static_cast<long long>(tf.position));
      r.Field(snap_.responsible_unit);
      r.Field(static_cast<long long>(facts.stage));
      r.EndRow();
      ++n_.timers;
      overdue = overdue || (!t.suspended_at && t.deadline.due_at <= now);
    }
    if (overdue) ++n_.overdue_cases;
    if (!facts.final) ++n_.open_cases;
    ++n_.by_state[snap_.state];
  }

 private:
  // What storage does for one decision: append the events (hash-chained),
  // log the deadlines that close, move to the next snapshot.
  void Commit(const workflow::Decision& d, const Actor& actor, absl::Time when) {
    const absl::Time at = Trunc(when);
    for (const workflow::Event& e : d.events) {
      ++seq_;
      const std::string hash = storage::EventHash(head_, id_, seq_, e, actor, at);
      CopyStream& r = *w_.events;
      const long long eid = ++*event_id_;
      r.Field(eid);
      r.Field(id_);
      r.Field(seq_);
      r.Field(e.kind);
      r.Field(e.action);
      r.Field(e.from_state);
      r.Field(e.to_state);
      r.Field(actor.account);
      r.Field(static_cast<long long>(actor.role));
      r.Field(actor.unit);
      r.Field(Ts(at));
      r.Field(e.note);
      r.Field(storage::JsonObject(e.fields));
      r.Field(head_);
      r.Field(hash);
      r.Field(eid);  // position: sequenced in id order
      r.EndRow();
      head_ = hash;
      ++n_.events;
    }
    // Deadlines gone from the snapshot (or restarted) close now.
    std::map<std::string, TimerRow> rows;
    const CaseSnapshot& next = d.next;
    for (const auto& [name, old] : open_) {
      const TimerState* still = next.FindTimer(name);
      if (still != nullptr && Micros(still->started_at) == Micros(old.started)) continue;
      CopyStream& r = *w_.log;
      r.Field(++*log_id_);
      r.Field(id_);
      r.Field(name);
      r.Field(old.unit);
      r.Field(Ts(old.started));
      r.Field(Ts(old.due));
      r.Field(Ts(at));
      r.Field(!old.overdue && at < old.due ? "t" : "f");
      r.Field(static_cast<long long>(old.purpose));
      r.EndRow();
      ++n_.log;
    }
    snap_ = next;
    const workflow::CaseFacts facts = engine_.Facts(snap_);
    for (const TimerState& t : snap_.timers) {
      rows[t.name] = TimerRow{facts.timers.at(t.name).owing_unit, Trunc(t.started_at),
                              Trunc(t.deadline.due_at),
                              t.overdue, static_cast<int>(t.purpose)};
    }
    open_ = std::move(rows);
    ++version_;
    updated_ = at;
  }

  const workflow::Engine& engine_;
  const workflow::OrgTree& org_;
  Writer& w_;
  Counters& n_;
  long long* event_id_;
  long long* log_id_;
  long long id_ = 0;
  long long version_ = 0;
  int seq_ = 0;
  std::string head_;
  absl::Time updated_;
  CaseSnapshot snap_;
  std::map<std::string, TimerRow> open_;
};

// A person of the registry, remembered for repeat petitions.
struct Person {
  long long id;
  v1::Petitioner p;
  std::vector<std::pair<long long, std::string>> cases;  // (case id, category)
};

absl::Duration Days(double d) { return absl::Seconds(d * 86400); }


// Everything the workers share (read-only, but for the set of ID numbers).
struct Shared {
  const Options& o;
  const workflow::Engine& engine;
  const workflow::OrgTree& org;
  const workflow::Calendar& calendar;
  const std::vector<benchdata::Weighted<std::string>>& unit_weights;
  const std::vector<int64_t>& received_us;
  std::mutex id_mu;
  std::unordered_set<std::string> id_numbers;  // GUARDED_BY(id_mu)
};

// Ids are derived from the case id (kIdsPerCase per case), so that workers
// need not coordinate; the feed position of an event is its id.
constexpr long long kIdsPerCase = 100;

// Generates the cases k = index, index + threads, ... over its own COPY streams.
class Worker {
 public:
  Worker(Shared& shared, const std::string& conninfo, const std::string& setup, int index)
      : sh_(shared), rng_(shared.o.seed * 7919 + static_cast<uint64_t>(index) + 1), index_(index) {
    auto open = [&](const char* table, const char* columns) {
      auto s = CopyStream::Open(conninfo, setup, table, columns);
      if (!s.ok()) Fail(absl::StrCat("COPY ", table, ": ", s.status().message()));
      return std::move(*s);
    };
    cases_ = open("cases",
                  "id, tracking_number, request_id, version, workflow, workflow_version, state, "
                  "stage, final, channel, received_at, registered_at, registered_by, "
                  "registering_unit, responsible_unit, forwarder_unit, review_unit, recheck_unit, "
                  "case_officer, anonymous, purpose, category, complained_about_unit, summary, "
                  "accepted_at, decided_at, served_at, closed_at, outcome, evaluation, "
                  "office_evaluation, flags, "
                  "attributes, conflicted_accounts, intake, updated_at, state_entered_at, "
                  "unit_received_at, head_seq, head_hash, request_hash");
    events_ = open("case_events",
                   "id, case_id, seq, kind, action, from_state, to_state, actor, actor_role, "
                   "actor_unit, at, note, fields, prev_hash, hash, position");
    timers_ = open("case_timers",
                   "case_id, name, started_at, due_day, due_at, warn_at, provisional, "
                   "suspended_at, extended, warned, overdue, rung, next_fire_at, owing_unit, "
                   "counted_from, base_days, extension_days, stopped_days, rolled, purpose, "
                   "position, case_unit, case_stage");
    persons_ = open("persons", "id, name, id_number, phone, address, created_at");
    petitioners_ = open("case_petitioners", "case_id, position, person_id, category");
    links_ = open("case_links", "case_id, related_id, kind");
    log_ = open("deadline_log",
                "id, case_id, name, owing_unit, started_at, due_at, closed_at, met, purpose");
    w_ = Writer{cases_.get(), events_.get(), timers_.get(), persons_.get(), petitioners_.get(),
                links_.get(), log_.get()};
  }

  template <typename Elapsed>
  void Run(int threads, const Elapsed& elapsed) {
    const long long total = sh_.o.cases + sh_.o.burst + sh_.o.wave;
    for (long long k = index_; k < total; k += threads) {
      if (((k / threads) & 1023) == 0 && elapsed() > sh_.o.max_seconds) {
        Fail("time limit reached (--max-seconds)");
      }
      One(k);
    }
  }

  void Finish() {
    for (CopyStream* s : {w_.cases, w_.events, w_.timers, w_.persons, w_.petitioners, w_.links, w_.log}) {
      if (auto st = s->Finish(); !st.ok()) Fail(std::string(st.message()));
    }
  }

  const Counters& counters() const { return n_; }
  const std::vector<std::string>& sample() const { return sample_; }
  absl::Time burst_due() const { return burst_due_; }
  long long max_event_id() const { return max_event_id_; }
  long long max_log_id() const { return max_log_id_; }
  long long max_person_id() const { return max_person_id_; }

 private:
  void One(long long k);

  Shared& sh_;
  Rng rng_;
  int index_;
  std::unique_ptr<CopyStream> cases_, events_, timers_, persons_, petitioners_, links_, log_;
  Writer w_;
  Counters n_;
  std::vector<Person> recent_;  // recent petitioners, for repeat petitions
  std::vector<std::string> sample_;
  absl::Time burst_due_;
  long long max_event_id_ = 0, max_log_id_ = 0, max_person_id_ = 0;
};

void Worker::One(long long k) {
  const Options& o = sh_.o;
  Rng& rng = rng_;
  Writer& w = w_;
  const bool is_wave = k >= o.cases + o.burst;
  const bool is_burst = k >= o.cases && !is_wave;
  const long long id = k + 1;
  const std::string unit = is_burst  ? "prov.organs.office"
                           : is_wave ? "prov.city-a"
                                     : benchdata::Pick(rng, sh_.unit_weights);
  // Burst cases: received on one day, 15 days before today, so that their
  // intake notices all fall due at the start of the next working day. Wave
  // cases: within the 7 days before now.
  const absl::Time received =
      is_burst  ? sh_.calendar.StartOfDay(sh_.calendar.LocalDay(o.now) - 15) + absl::Hours(10) +
                      absl::Seconds(Uniform(rng, 0, 3600))
      : is_wave ? o.now - absl::Seconds(Uniform(rng, 3600, 7 * 24 * 3600))
                : absl::FromUnixMicros(sh_.received_us[k]);
  v1::CaseIntake intake = benchdata::Intake(rng, received, unit);
  if (is_burst) intake.set_anonymous(false);
  if (is_wave) {
    static constexpr const char* kForms[] = {"A市宏达建筑工程有限公司", "A市宏达建筑工程集团",
                                             "A市宏达建筑工程股份有限公司", "A市宏达建筑工程"};
    intake.set_complained_about(kForms[k % 4]);
    intake.set_category("wages.arrears");
  }
  if (intake.anonymous()) intake.clear_petitioners();
  if (!intake.anonymous() && intake.petitioners_size() == 0) {
    intake.add_petitioners()->set_name(benchdata::PersonName(rng));
  }
  // Registration: at once for visits and calls, within hours online, days by letter.
  absl::Duration lag = absl::Minutes(Uniform(rng, 2, 40));
  if (intake.channel() == v1::CHANNEL_ONLINE) lag = absl::Minutes(Uniform(rng, 10, 24 * 60));
  if (intake.channel() == v1::CHANNEL_LETTER) lag = absl::Hours(Uniform(rng, 4, 72));
  const absl::Time registered = std::min(o.now, received + lag);

  // Petitioners: a repeat petitioner now and then, else new people.
  std::vector<long long> person_ids;
  std::set<long long> related;
  for (int i = 0; i < intake.petitioners_size(); ++i) {
    v1::Petitioner* p = intake.mutable_petitioners(i);
    if (i == 0 && !recent_.empty() && Chance(rng, 0.04)) {
      Person& prior = recent_[rng() % recent_.size()];
      *p = prior.p;
      person_ids.push_back(prior.id);
      // Linked to the matter's previous case (the server links no more).
      long long previous = 0;
      for (const auto& [cid, cat] : prior.cases) {
        if (cat == intake.category()) previous = std::max(previous, cid);
      }
      if (previous > 0) related.insert(previous);
      prior.cases.emplace_back(id, intake.category());
      continue;
    }
    if (!p->id_number().empty()) {
      std::lock_guard<std::mutex> l(sh_.id_mu);
      while (!sh_.id_numbers.insert(p->id_number()).second) {
        p->set_id_number(benchdata::ResidentId(rng));
      }
    }
    const long long pid = id * 10 + i;
    max_person_id_ = std::max(max_person_id_, pid);
    person_ids.push_back(pid);
    CopyStream& r = *w.persons;
    r.Field(pid);
    r.Field(p->name());
    p->id_number().empty() ? r.Null() : r.Field(p->id_number());
    p->phone().empty() ? r.Null() : r.Field(p->phone());
    p->address().empty() ? r.Null() : r.Field(p->address());
    r.Field(Ts(registered));
    r.EndRow();
    ++n_.persons;
    if (i == 0) {
      Person person{pid, *p, {{id, intake.category()}}};
      if (recent_.size() < 10000) {
        recent_.push_back(std::move(person));
      } else {
        recent_[rng() % recent_.size()] = std::move(person);
      }
    }
  }
  for (std::size_t i = 0; i < person_ids.size(); ++i) {
    w.petitioners->Field(id);
    w.petitioners->Field(static_cast<long long>(i));
    w.petitioners->Field(person_ids[i]);
    w.petitioners->Field(intake.category());
    w.petitioners->EndRow();
  }
  for (long long r : related) {
    w.links->Field(id);
    w.links->Field(r);
    w.links->Field("repeat");
    w.links->EndRow();
  }

  const Actor clerk{absl::StrCat("clerk-", unit), v1::ROLE_INTAKE_CLERK, unit};
  const Actor head{absl::StrCat("head-", unit), v1::ROLE_UNIT_HEAD, unit};
  const Actor officer{absl::StrCat("officer", Uniform(rng, 1, 4), "-", unit),
                      v1::ROLE_CASE_OFFICER, unit};
  long long event_id = id * kIdsPerCase, log_id = id * kIdsPerCase;
  CaseSim sim(sh_.engine, sh_.org, w, n_, &event_id, &log_id);
  sim.Register(id, clerk, received, registered,
               std::vector<long long>(related.begin(), related.end()));

  // The plan: each step some time after the previous one; a late one now
  // and then; a stalled case (no step taken any more) rarely.
  absl::Time t = registered;
  const bool stalled = Chance(rng, o.stall_share);
  const int stall_at = static_cast<int>(Uniform(rng, 0, 2));
  int step = 0;
  auto next = [&](double lo, double hi, double late_lo, double late_hi) {
    if (stalled && step++ == stall_at) return false;
    const bool late = Chance(rng, o.late_share);
    const double a = late ? late_lo : lo, b = late ? late_hi : hi;
    t += Days(static_cast<double>(Uniform(rng, static_cast<int64_t>(a * 100), static_cast<int64_t>(b * 100))) / 100.0);
    return t <= o.now;
  };
  auto day_of = [&](absl::Time at) { return Day(sh_.calendar.LocalDay(at)); };
  [&] {
    if (is_burst) return;
    if (!next(0.2, 12, 16, 40)) return;
    const int fate = static_cast<int>(Uniform(rng, 0, 99));
    if (fate < 3) {
      sim.Act("direct_elsewhere", {{"competent_body", "当地人力资源和社会保障局劳动保障监察机构"}}, clerk, t);
      return;
    }
    if (fate < 5) {
      sim.Act("route_legal", {{"channel", "labour_arbitration"}, {"reason", "属劳动争议仲裁受理范围"}}, clerk, t);
      return;
    }
    if (!sim.Act("accept", {{"notice", "本机关已受理您反映的事项，将依法办理并按期答复。"}}, clerk, t)) return;
    if (!next(0.05, 3, 5, 20)) return;
    if (!sim.Act("assign_officer", {{"officer", officer.account}}, head, t)) return;
    if (!next(8, 55, 61, 95)) return;
    static const std::vector<benchdata::Weighted<std::string>> kOutcomes = {
        {"support", 45}, {"explain", 30}, {"not_supported", 15}, {"mediation_agreement", 10}};
    if (!sim.Act("decide",
                 {{"outcome", benchdata::Pick(rng, kOutcomes)},
                  {"decision_text", "经调查核实，责成用人单位依法整改并于十五日内答复信访人。"}},
                 officer, t)) {
      return;
    }
    if (!next(0.2, 5, 0.2, 5)) return;
    if (!sim.Act("serve", {{"served_on", day_of(t)}, {"method", "in_person"}, {"receipt", "signed"}, {"signed_by", "张三"}}, officer, t)) return;
    if (Chance(rng, 0.35)) return;  // no evaluation: it lapses after 7 days
    if (!next(0.1, 6, 0.1, 6)) return;
    static const std::vector<benchdata::Weighted<std::string>> kRatings = {
        {"satisfied", 78}, {"basically_satisfied", 16}, {"dissatisfied", 6}};
    static const std::vector<benchdata::Weighted<std::string>> kChannels = {
        {"call", 50}, {"visit", 30}, {"letter", 20}};
    const std::string rating = benchdata::Pick(rng, kRatings);
    const std::string office = benchdata::Pick(rng, kRatings);
    std::map<std::string, std::string> fields = {{"rating", rating}, {"office_rating", office}};
    if (rating == "dissatisfied") fields["rating_reason"] = "处理结果未解决欠薪问题";
    if (office == "dissatisfied") fields["office_rating_reason"] = "答复不及时";
    if (Chance(rng, 0.4)) {
      // Online, with the query code (PublicService.EvaluateCase).
      if (!sim.Act("evaluate_online", fields, Actor{"petitioner", v1::ROLE_PETITIONER, ""}, t)) {
        return;
      }
    } else {
      fields["channel"] = benchdata::Pick(rng, kChannels);
      if (!sim.Act("evaluate", fields, clerk, t)) return;
    }
    if (rating == "dissatisfied") return;  // the review window lapses
    if (!next(0.2, 4, 0.2, 4)) return;
    sim.Act("close", {}, officer, t);
  }();
  sim.SweepUntil(o.now);
  if (event_id >= (id + 1) * kIdsPerCase || log_id >= (id + 1) * kIdsPerCase) {
    Fail(absl::StrCat("case ", id, ": more than ", kIdsPerCase, " events"));
  }
  max_event_id_ = std::max(max_event_id_, event_id);
  max_log_id_ = std::max(max_log_id_, log_id);
  if (is_burst) {
    const TimerState* notice = sim.snapshot().FindTimer("intake_notice");
    if (notice != nullptr) burst_due_ = std::max(burst_due_, notice->deadline.due_at);
  }

  const absl::CivilDay reg_day = sh_.calendar.LocalDay(registered);
  const std::string tracking = absl::StrFormat("XF%04d%02d%02d-%06d", reg_day.year(),
                                               reg_day.month(), reg_day.day(), id);
  const std::string request_id = absl::StrFormat("seed-%010d", id);
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(intake, &json).ok()) Fail("intake JSON");
  sim.Finish(tracking, request_id, storage::Sha256Hex(intake.SerializeAsString()), intake, json,
             clerk, registered, o.now);
  if (!is_burst) {
    // A sample of the tracking numbers (each worker keeps its share).
    const long long want = o.sample / std::max(1, o.threads) + 1;
    const long long seen = k / std::max(1, o.threads);
    if (static_cast<long long>(sample_.size()) < want) {
      sample_.push_back(tracking);
    } else if (const long long j = Uniform(rng, 0, seen); j < want) {
      sample_[j] = tracking;
    }
  }
}

}  // namespace

int Main(int argc, char** argv) {
  const Options o = ParseOptions(argc, argv);
  const auto t0 = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };

  auto calendar = workflow::Calendar::LoadDirectory(o.data_dir + "/calendar");
  if (!calendar.ok()) Fail(absl::StrCat("calendar: ", calendar.status().message()));
  auto registry = workflow::DefinitionRegistry::LoadDirectory(o.data_dir + "/workflows");
  if (!registry.ok()) Fail(absl::StrCat("workflows: ", registry.status().message()));
  auto def = registry->Latest("petition");
  if (!def.ok()) Fail(std::string(def.status().message()));
  const workflow::Engine engine(*def, *calendar);

  auto conninfo = storage::ToConninfo(o.db);
  if (!conninfo.ok()) Fail(std::string(conninfo.status().message()), 2);
  if (o.migrate) {
    storage::PoolOptions po;
    po.url = o.db;
    po.size = 1;
    auto pool = storage::Pool::Open(po);
    if (!pool.ok()) Fail(absl::StrCat("database unreachable: ", pool.status().message()));
    if (auto m = storage::Migrate(**pool); !m.ok()) {
      Fail(absl::StrCat("migrations: ", m.status().message()));
    }
  }
  PGconn* admin = PQconnectdb(conninfo->c_str());
  if (PQstatus(admin) != CONNECTION_OK) Fail(absl::StrCat("database: ", PQerrorMessage(admin)));
  if (Scalar(admin, "SELECT to_regclass('cases') IS NOT NULL") != "t") {
    Fail("the database is not migrated (use --migrate)");
  }
  if (Scalar(admin, "SELECT count(*) FROM (SELECT 1 FROM cases LIMIT 1) c") != "0") {
    Fail("the database already holds cases: seed a fresh one");
  }
  // Foreign keys are checked by triggers that a superuser may skip during
  // the load (the rows are consistent by construction); others pay for them.
  const bool super = Scalar(admin, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user") == "t";
  const std::string setup = absl::StrCat(
      "SET synchronous_commit = off",
      super ? "; SET session_replication_role = replica" : "");

  // Units: those of migration 0002 plus extra cities and districts.
  const std::vector<Unit> units = Units(o.extra_units);
  std::map<std::string, std::string> parent_of;
  {
    std::string sql;
    for (const Unit& u : units) {
      if (!u.name.empty()) {
        absl::StrAppend(&sql, sql.empty() ? "INSERT INTO units (code, name, parent) VALUES " : ", ",
                        "('", u.code, "', '", u.name, "', '", u.parent, "')");
      }
    }
    if (!sql.empty()) {
      if (auto s = Exec(admin, sql + " ON CONFLICT (code) DO NOTHING"); !s.ok()) Fail(std::string(s.message()));
    }
    PGresult* r = PQexec(admin, "SELECT code, coalesce(parent, '') FROM units");
    for (int i = 0; i < PQntuples(r); ++i) parent_of[PQgetvalue(r, i, 0)] = PQgetvalue(r, i, 1);
    PQclear(r);
  }
  const workflow::MapOrgTree org(parent_of);
  std::vector<benchdata::Weighted<std::string>> unit_weights;
  for (const Unit& u : units) unit_weights.push_back({u.code, u.weight});

  const std::vector<Rebuild> deferred = DeferrableIndexes(admin);
  for (const Rebuild& r : deferred) {
    if (auto s = Exec(admin, r.drop); !s.ok()) Fail(std::string(s.message()));
  }

  // Receipts in time order (ids and tracking numbers follow registration).
  Rng rng(o.seed);
  const long long total = o.cases + o.burst + o.wave;
  std::vector<int64_t> received_us(o.cases);
  const int64_t span = static_cast<int64_t>(o.years) * 365 * 86400 * 1000000LL;
  const int64_t now_us = Micros(o.now);
  for (auto& r : received_us) r = now_us - Uniform(rng, 60 * 1000000LL, span);
  std::sort(received_us.begin(), received_us.end());

  Shared shared{o, engine, org, *calendar, unit_weights, received_us, {}, {}};
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < o.threads; ++t) {
    workers.push_back(std::make_unique<Worker>(shared, *conninfo, setup, t));
  }
  {
    std::vector<std::thread> threads;
    for (auto& w : workers) threads.emplace_back([&w, &o, &elapsed] { w->Run(o.threads, elapsed); });
    for (auto& t : threads) t.join();
  }
  const double generated = elapsed();
  Counters n;
  std::vector<std::string> sample;
  absl::Time burst_due;
  long long max_event_id = 0, max_log_id = 0, max_person_id = 0;
  for (auto& w : workers) {
    w->Finish();
    n.Add(w->counters());
    sample.insert(sample.end(), w->sample().begin(), w->sample().end());
    burst_due = std::max(burst_due, w->burst_due());
    max_event_id = std::max(max_event_id, w->max_event_id());
    max_log_id = std::max(max_log_id, w->max_log_id());
    max_person_id = std::max(max_person_id, w->max_person_id());
  }
  std::shuffle(sample.begin(), sample.end(), rng);
  if (static_cast<long long>(sample.size()) > o.sample) sample.resize(o.sample);
  const double loaded = elapsed();
  {
    std::vector<std::string> creates;
    for (const Rebuild& r : deferred) creates.push_back(r.create);
    RunParallel(*conninfo, creates);
  }
  const double indexed = elapsed();
  for (const std::string& sql : {
           absl::StrCat("SELECT setval('cases_id_seq', ", std::max(1LL, total), ")"),
           absl::StrCat("SELECT setval('tracking_seq', ", std::max(1LL, total), ")"),
           absl::StrCat("SELECT setval('case_events_id_seq', ", std::max(1LL, max_event_id), ")"),
           absl::StrCat("SELECT setval('persons_id_seq', ", std::max(1LL, max_person_id), ")"),
           absl::StrCat("SELECT setval('deadline_log_id_seq', ", std::max(1LL, max_log_id), ")"),
           absl::StrCat("UPDATE event_sequencer SET last_position = ", max_event_id),
           // The early-warning counts, set-based, and their cursor at the
           // feed's end (docs/warnings.md): seeded cases raise no warnings.
           std::string("SELECT xf_rebuild_warning_counts('Asia/Shanghai')"),
           // The statistics' kept counts, from the seeded cases (migration 0017).
           std::string("SELECT xf_stats_rebuild('Asia/Shanghai', true)"),
           std::string("ANALYZE")}) {
    if (auto s = Exec(admin, sql); !s.ok()) Fail(std::string(s.message()));
  }
  PQfinish(admin);

  if (!o.out.empty()) {
    std::ofstream t(o.out + "/tracking.txt");
    for (const std::string& s : sample) t << s << "\n";
    std::ofstream u(o.out + "/units.txt");
    for (const Unit& x : units) u << x.code << "\n";
    std::ofstream c(o.out + "/categories.txt");
    for (const auto& x : benchdata::CategoryWeights()) c << x.value << "\n";
  }
  std::string states;
  for (const auto& [s, count] : n.by_state) {
    absl::StrAppend(&states, states.empty() ? "" : ", ", "\"", s, "\": ", count);
  }
  std::printf(
      "{\"cases\": %lld, \"burst\": %lld, \"events\": %lld, \"open_timers\": %lld, "
      "\"deadline_log\": %lld, \"persons\": %lld, \"open_cases\": %lld, \"overdue_cases\": %lld, "
      "\"overdue_share\": %.4f, \"refused_steps\": %lld, \"now\": \"%s\", \"burst_due_at\": \"%s\", "
      "\"burst_due_in_seconds\": %lld, \"generate_seconds\": %.1f, \"load_seconds\": %.1f, "
      "\"index_seconds\": %.1f, \"total_seconds\": %.1f, \"by_state\": {%s}}\n",
      o.cases, o.burst, n.events, n.timers, n.log, n.persons, n.open_cases, n.overdue_cases,
      total > 0 ? static_cast<double>(n.overdue_cases) / static_cast<double>(total) : 0.0,
      n.refused_steps, absl::FormatTime(absl::RFC3339_sec, o.now, absl::UTCTimeZone()).c_str(),
      o.burst > 0 ? absl::FormatTime(absl::RFC3339_sec, burst_due, absl::UTCTimeZone()).c_str() : "",
      o.burst > 0 ? static_cast<long long>(absl::ToInt64Seconds(burst_due - o.now)) : 0LL,
      generated, loaded, indexed - loaded, elapsed(), states.c_str());
  return 0;
}

}  // namespace xinfang::xfseed

int main(int argc, char** argv) { return xinfang::xfseed::Main(argc, argv); }
