#!/usr/bin/env bash
# One benchmark result row per run (docs/benchmarks.md):
#   ./deploy/bench.sh [flags] register|get|list|life|all|timers|repeat|soak|queue|warnings|reads
# Builds if needed, starts a throwaway PostgreSQL (fsync on) in a temp dir,
# migrates and seeds N cases (xfseed), starts xinfang-server on a free
# loopback port, runs a warm-up and the scenario (xfbench) and, for register
# and get, pgbench at the same concurrency right after, three times: the
# service's own SQL (deploy/bench/<s>.sql) with -M extended (--pgbench-mode),
# the same SQL with -M prepared (as the server sends it: prepared once per
# connection), and the floor (deploy/bench/<s>-floor.sql, -M prepared: the
# same logical work in the fewest round trips PostgreSQL allows); prints a
# RESULT line per scenario with the service's throughput as a fraction of
# the first (fraction=) and of the floor (fraction_of_floor=), the server's
# peak RSS (VmHWM) and its time from start to SERVING. Everything it creates
# lives in the temp dir, removed at the end.
#
# Flags:
#   --cases N            seeded cases (default 10000)
#   --concurrency C      calls in flight, and pgbench clients (default 32)
#   --duration S         measured seconds per scenario (default 10)
#   --warmup S           warm-up seconds before each scenario (default 3)
#   --threads T          xfbench threads (default 1)
#   --burst N            timers: deadlines falling due at once (default 100000)
#   --supervisors K      timers: server processes sweeping together (default 1)
#   --pgbench-mode M     the first pgbench figure's -M: extended (default) or
#                        prepared (the scripts pipeline: not simple)
#   --server-flag F      passed to xinfang-server (repeatable), e.g. --server-flag=--pool-size=16
#   --results DIR        keep the JSON, pg_stat_statements and settings there
#   --build-dir DIR      default build/ in this tree
#   --max-seconds S      the whole run is stopped after S seconds (default 1800)
#   --history N          repeat: earlier cases of the frequent petitioner (default 1000)
#   --rss-every S        soak: seconds between samples of the server's RSS (default 10)
#   --wave N             warnings: seeded petitions against one employer (default 200)
#   --report-calls N     warnings: situation reports timed (default 5)
#   --reads-calls K      reads: calls timed per read (default 5)
#   --reads-timeout S    reads: the longest one call may take (default 300)
#
# repeat: a frequent petitioner (重复信访人) with N earlier cases of the same
# matter registers again beside fresh petitioners: a quarter of the slots
# register for that person, the rest for new people; the RESULT line gives
# both kinds' throughput and latency beside a fresh-only run at the same
# concurrency, and their ratios.
#
# queue: an officer's queue (the console's 我的待办): 1,000 open cases with
# running deadlines are assigned to one officer (bench-officer; by SQL, as the
# seed assigns none), and ListDeadlines for that officer — every open
# deadline, up to 1,000 a call — is timed one call at a time.
#
# warnings: early warning and the situation report (docs/warnings.md) at
# --cases N, with a seeded wave of --wave petitions against one employer:
# new petitions (xfbench register, one at a time, --duration seconds) are each
# checked against every rule by the server's processor as they arrive
# ("live"); then --duration seconds of petitions arrive while the
# processor's cursor is held and are checked afterwards in batches
# ("backlog": the check's own cost, nothing else running). The check time
# per petition comes from the histogram xinfang_warning_check_seconds (the
# share within 2 and 5 ms, and the mean). Then the situation report for the whole
# tree and the last full year, --report-calls calls one at a time (xfctl,
# wall time).
#
# reads: the supervisor's reads at --cases N (meant for 1M), one call at a
# time through the server, as xfctl makes them (wall time of the command, so
# xfctl's own start is in it: reads-whoami is that floor), --reads-calls K
# calls each: the statistics of the whole tree over the last year and the
# last three years (xfctl stats), the dashboard of the top unit (xfctl sup
# dashboard) and the first page of its overdue cases (xfctl case list
# --overdue). A RESULT line per read: p50, max and the first call's time,
# the call's mean time at the server (its own latency histogram, from
# /metrics: without xfctl's start and the network), and what it returned
# (received cases, open cases, rows).
#
# soak: --duration seconds of mixed calls (20% register, 50% get, 30% list)
# against one server, sampling its VmRSS; RESULT says whether it stayed flat
# (first, last and highest sample). Bounded by --duration and --max-seconds.
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

CASES=10000 CONC=32 DURATION=10 WARMUP=3 THREADS=1 BURST=100000 SUPERVISORS=1 HISTORY=1000
WAVE=200 REPORT_CALLS=5 READS_CALLS=5 READS_TIMEOUT=300
PGMODE=extended RESULTS="" BUILD="$XF_ROOT/build" MAX_SECONDS=1800 RSS_EVERY=10
# The per-account rate limit is off: xfbench floods from a handful of accounts.
SERVER_FLAGS=(--rate-limit 0)
SCENARIOS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --cases) CASES=$2; shift ;;
    --concurrency) CONC=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --warmup) WARMUP=$2; shift ;;
    --threads) THREADS=$2; shift ;;
    --burst) BURST=$2; shift ;;
    --supervisors) SUPERVISORS=$2; shift ;;
    --pgbench-mode) PGMODE=$2; shift ;;
    --server-flag=*) SERVER_FLAGS+=("${1#--server-flag=}") ;;
    --results) RESULTS=$2; shift ;;
    --build-dir) BUILD=$2; shift ;;
    --max-seconds) MAX_SECONDS=$2; shift ;;
    --history) HISTORY=$2; shift ;;
    --rss-every) RSS_EVERY=$2; shift ;;
    --wave) WAVE=$2; shift ;;
    --report-calls) REPORT_CALLS=$2; shift ;;
    --reads-calls) READS_CALLS=$2; shift ;;
    --reads-timeout) READS_TIMEOUT=$2; shift ;;
    register|get|list|life|timers|repeat|soak|queue|warnings|reads) SCENARIOS+=("$1") ;;
    all) SCENARIOS+=(register get list life) ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ ${#SCENARIOS[@]} -gt 0 ] || { echo "bench.sh: name a scenario: register|get|list|life|all|timers|repeat|soak|queue|warnings|reads" >&2; exit 2; }
# The scripts pipeline statements (\startpipeline), which -M simple cannot.
case "$PGMODE" in extended|prepared) ;; *) echo "bench.sh: --pgbench-mode extended|prepared" >&2; exit 2 ;; esac

TMP=$(mktemp -d /tmp/xf-bench.XXXXXX)
chmod 755 "$TMP"
SERVER_PIDS=()
cleanup() {
  local pid
  for pid in "${SERVER_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${SERVER_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  xf_pg_stop "$TMP/pg"
  if [ -n "$RESULTS" ]; then mkdir -p "$RESULTS" && cp -r "$TMP"/results/. "$RESULTS"/ 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
# The hard cap: the whole run, whatever it waits on.
MAIN_PID=$$
( trap 'kill $! 2>/dev/null; exit 0' TERM
  sleep "$MAX_SECONDS" & wait $!
  echo "bench.sh: time limit of $MAX_SECONDS s reached" >&2
  kill -TERM "$MAIN_PID" ) >/dev/null 2>&1 &
WATCHDOG=$!
trap 'kill $WATCHDOG 2>/dev/null || true; cleanup' EXIT
mkdir -p "$TMP/results"

for b in services/xinfang-server tools/xfbench tools/xfseed tools/xfctl; do
  if [ ! -x "$BUILD/$b" ]; then xf_build "$BUILD" >/dev/null; break; fi
done
PGBENCH=$XF_PG_BIN/pgbench

# ---- PostgreSQL: fsync on, pg_stat_statements for the per-call profile ----
PGPORT=$(xf_free_port $((56000 + RANDOM % 2000)))
xf_pg_init "$TMP/pg" "$PGPORT"
cat >>"$TMP/pg/data/postgresql.conf" <<CONF
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = top
max_wal_size = 4GB
CONF
xf_pg_start "$TMP/pg"
xf_pg_createdb "$PGPORT" xinfang
DB="postgresql://xinfang@127.0.0.1:$PGPORT/xinfang"
psql "$DB" -qc "CREATE EXTENSION pg_stat_statements" >/dev/null
psql "$DB" -Atc "SELECT name || ' = ' || setting || coalesce(unit, '') FROM pg_settings
  WHERE name IN ('server_version', 'fsync', 'synchronous_commit', 'wal_level', 'shared_buffers',
                 'max_connections', 'max_wal_size', 'checkpoint_timeout', 'work_mem',
                 'effective_cache_size', 'random_page_cost', 'jit') ORDER BY name" \
  >"$TMP/results/pg_settings.txt"

# ---- Seed ----
NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
SEED_ARGS=(--db "$DB" --migrate --cases "$CASES" --now "$NOW" --out "$TMP/results")
if [[ " ${SCENARIOS[*]} " == *" timers "* ]]; then SEED_ARGS+=(--burst "$BURST"); fi
if [[ " ${SCENARIOS[*]} " == *" warnings "* ]]; then SEED_ARGS+=(--wave "$WAVE"); fi
xf_log "seeding $CASES cases"
timeout "$MAX_SECONDS" "$BUILD/tools/xfseed" "${SEED_ARGS[@]}" | tee "$TMP/results/seed.json" >&2
SEED_SECONDS=$(sed -n 's/.*"total_seconds": \([0-9.]*\).*/\1/p' "$TMP/results/seed.json")
psql "$DB" -qc "VACUUM ANALYZE" >/dev/null
# The first administrator; the bench-* accounts and their tokens come once a
# server runs (xf_bench_tokens).
ADMIN_TOKEN=$("$BUILD/services/xinfang-server" --db "$DB" --data-dir "$XF_ROOT/deploy" \
  --bootstrap-admin bench-admin 2>>"$TMP/results/bootstrap.log")
TOKENS="$TMP/tokens"

# start_server NAME [flags...]: starts xinfang-server on a free loopback port;
# sets PORT and PID, and SERVING_MS (start to SERVING: the port file is
# written once the health service says SERVING).
start_server() {
  local name=$1; shift
  local portfile="$TMP/$name.port" t0 t1
  t0=$(date +%s%N)
  XINFANG_PORT_FILE="$portfile" "$BUILD/services/xinfang-server" --db "$DB" --listen 127.0.0.1:0 \
    --data-dir "$XF_ROOT/deploy" "${SERVER_FLAGS[@]}" "$@" >>"$TMP/results/$name.log" 2>&1 &
  PID=$!
  SERVER_PIDS+=("$PID")
  for _ in $(seq 1000); do
    [ -s "$portfile" ] && break
    kill -0 "$PID" 2>/dev/null || { cat "$TMP/results/$name.log" >&2; exit 1; }
    sleep 0.01
  done
  [ -s "$portfile" ] || { echo "bench.sh: $name did not start" >&2; exit 1; }
  t1=$(date +%s%N)
  PORT=$(cat "$portfile")
  SERVING_MS=$(( (t1 - t0) / 1000000 ))
  [ -s "$TOKENS" ] || xf_bench_tokens "$BUILD/tools/xfctl" "127.0.0.1:$PORT" "$ADMIN_TOKEN" "$TOKENS"
}

json() { grep -o "\"$2\": [0-9.]*" "$1" | head -1 | sed 's/.*: //'; }
# p of the scenario's own call kind: "calls": {"<name>": {... "latency_ms": {... "p99": X
lat() { grep -o "\"$2\": {\"count\": [0-9]*, \"ok\": [0-9]*, \"latency_ms\": {[^}]*}" "$1" \
          | grep -o "\"$3\": [0-9.]*" | head -1 | sed 's/.*: //'; }
rss_mb() { awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$1/status"; }

XFBENCH=("$BUILD/tools/xfbench" --concurrency "$CONC" --threads "$THREADS" --tokens-file "$TOKENS"
         --tracking-file "$TMP/results/tracking.txt" --units-file "$TMP/results/units.txt")

# run_pgbench NAME MODE SCRIPT ROLE: pgbench for --duration seconds at the
# scenario's concurrency; prints "TPS AVG_MS" ("n/a n/a" when it failed).
# The script's token lookup looks up the token xfbench sends for ROLE.
run_pgbench() {
  local name=$1 mode=$2 script=$3 role=$4 out="$TMP/results/$1.txt" token_hash tps avg
  token_hash=$(awk -v r="$role" '$1 == r { printf "%s", $2 }' "$TOKENS" | sha256sum | cut -d' ' -f1)
  timeout $((DURATION + 60)) "$PGBENCH" -n -M "$mode" -c "$CONC" -j 2 -T "$DURATION" -r \
    -D ncases="$CASES" -D now="$(date +%s%6N)" -D token_hash="$token_hash" -f "$script" "$DB" \
    >"$out" 2>&1 || true
  tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$out" | head -1)
  avg=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' "$out" | head -1)
  # A run that aborted or failed transactions gives no figure.
  if grep -q "aborted\|^pgbench: error" "$out" || ! grep -q "number of failed transactions: 0 " "$out"; then
    xf_log "$name: pgbench failed (see $name.txt):"; grep -m3 "error\|aborted\|failed" "$out" >&2 || true
    tps="" avg=""
  fi
  echo "${tps:-n/a} ${avg:-n/a}"
}

pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a + 0 > 0) printf "%.0f%%", 100 * a / b; else print "n/a" }'; }

run_scenario() {
  local s=$1 out="$TMP/results/$1.json" pgb="" frac="n/a" tps="n/a" pgb_avg="n/a"
  local ptps="n/a" pavg="n/a" ftps="n/a" favg="n/a" ffrac="n/a"
  start_server "server-$s"
  local pid=$PID serving=$SERVING_MS address="127.0.0.1:$PORT"
  xf_log "$s: warm-up ${WARMUP}s"
  "${XFBENCH[@]}" --address "$address" --scenario "$s" --warmup 0 --duration "$WARMUP" --json >/dev/null
  psql "$DB" -qAtc "SELECT pg_stat_statements_reset()" >/dev/null
  xf_log "$s: ${DURATION}s at $CONC in flight"
  "${XFBENCH[@]}" --address "$address" --scenario "$s" --warmup 0 --duration "$DURATION" --json >"$out"
  local rss; rss=$(rss_mb "$pid")
  # Where the time goes in the database: statements per call, slowest first.
  psql "$DB" -qAF $'\t' -c "SELECT calls, round(total_exec_time::numeric, 1) AS total_ms,
      round(mean_exec_time::numeric, 3) AS mean_ms, rows, left(regexp_replace(query, '\s+', ' ', 'g'), 160)
      FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'xinfang')
      ORDER BY total_exec_time DESC LIMIT 25" >"$TMP/results/$s.statements.tsv"
  local statements; statements=$(psql "$DB" -qAtc "SELECT sum(calls) FROM pg_stat_statements
      WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'xinfang')")
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  local completed; completed=$(json "$out" completed)
  local thr; thr=$(json "$out" throughput)
  local qpc; qpc=$(awk -v a="$statements" -v b="$completed" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }')
  local role=""
  case "$s" in
    register) pgb="$XF_ROOT/deploy/bench/register"; role=intake_clerk ;;
    get) pgb="$XF_ROOT/deploy/bench/get"; role=service ;;
  esac
  if [ -n "$pgb" ]; then
    # The service's SQL with -M extended by default (a parse and plan per
    # statement: the figure as it was measured before), then prepared (as the
    # server sends it, prepared once per connection), then the floor: the
    # same work in the fewest round trips.
    xf_log "$s: pgbench ${DURATION}s, $CONC clients, -M $PGMODE, on the service's SQL"
    read -r tps pgb_avg < <(run_pgbench "$s.pgbench" "$PGMODE" "$pgb.sql" "$role")
    xf_log "$s: pgbench ${DURATION}s, $CONC clients, -M prepared, on the service's SQL"
    read -r ptps pavg < <(run_pgbench "$s.pgbench-prepared" prepared "$pgb.sql" "$role")
    xf_log "$s: pgbench ${DURATION}s, $CONC clients, -M prepared, on the floor ($(basename "$pgb")-floor.sql)"
    read -r ftps favg < <(run_pgbench "$s.floor" prepared "$pgb-floor.sql" "$role")
    frac=$(pct "$thr" "$tps")
    ffrac=$(pct "$thr" "$ftps")
  fi
  local main=$s
  printf 'RESULT %-8s cases=%s conc=%s service=%s/s p50=%sms p90=%sms p99=%sms p99.9=%sms max=%sms errors=%s pgbench=%s/s pgbench_avg=%sms fraction=%s statements/call=%s rss_peak=%sMB start_to_serving=%sms pgbench_prepared=%s/s pgbench_prepared_avg=%sms floor=%s/s floor_avg=%sms fraction_of_floor=%s\n' \
    "$s" "$CASES" "$CONC" "$thr" "$(lat "$out" "$main" p50)" "$(lat "$out" "$main" p90)" \
    "$(lat "$out" "$main" p99)" "$(lat "$out" "$main" p99_9)" "$(lat "$out" "$main" max)" \
    "$(json "$out" errors)" "$tps" "$pgb_avg" "$frac" "$qpc" "$rss" "$serving" \
    "$ptps" "$pavg" "$ftps" "$favg" "$ffrac" | tee -a "$TMP/results/results.txt"
}

run_timers() {
  local addresses=() pids=() k
  for k in $(seq "$SUPERVISORS"); do
    start_server "supervisor-$k" --simulated-clock "$NOW" --sweep-interval-ms 3600000
    addresses+=("127.0.0.1:$PORT"); pids+=("$PID")
  done
  local advance; advance=$(( $(json "$TMP/results/seed.json" burst_due_in_seconds) + 60 ))
  local out="$TMP/results/timers.json"
  xf_log "timers: $BURST deadlines fall due; $SUPERVISORS process(es) sweep"
  "$BUILD/tools/xfbench" --scenario timers --tokens-file "$TOKENS" --address "$(IFS=,; echo "${addresses[*]}")" \
    --advance "$advance" --max-seconds 600 --json >"$out"
  local rss="" pid
  for pid in "${pids[@]}"; do rss="$rss$(rss_mb "$pid")MB "; kill -TERM "$pid"; done
  printf 'RESULT timers   cases=%s burst=%s supervisors=%s all_fired=%ss unfired=%s overdue_listed=%s errors=%s rss_peak=%s\n' \
    "$CASES" "$BURST" "$SUPERVISORS" "$(json "$out" all_fired_seconds)" \
    "$(json "$out" unfired_escalations)" "$(json "$out" overdue_deadlines)" "$(json "$out" errors)" \
    "$rss" | tee -a "$TMP/results/results.txt"
}

run_repeat() {
  start_server "server-repeat"
  local pid=$PID address="127.0.0.1:$PORT" fresh="$TMP/results/repeat-fresh.json"
  local mixed="$TMP/results/repeat-mixed.json"
  xf_log "repeat: $HISTORY earlier cases for one petitioner"
  "${XFBENCH[@]}" --address "$address" --scenario register --concurrency 4 --repeat-share 1 \
    --count "$HISTORY" --max-seconds 600 --json >"$TMP/results/repeat-history.json"
  xf_log "repeat: fresh petitioners only, ${DURATION}s at $CONC in flight"
  "${XFBENCH[@]}" --address "$address" --scenario register --warmup "$WARMUP" --duration "$DURATION" \
    --json >"$fresh"
  xf_log "repeat: a quarter of the slots for the frequent petitioner, ${DURATION}s"
  "${XFBENCH[@]}" --address "$address" --scenario register --repeat-share 0.25 --warmup "$WARMUP" \
    --duration "$DURATION" --json >"$mixed"
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  local n_fresh n_mixed n_repeat
  n_fresh=$(lat "$fresh" register count); n_mixed=$(lat "$mixed" register count)
  n_repeat=$(lat "$mixed" register-repeat count)
  local secs=$DURATION
  awk -v f="$n_fresh" -v m="$n_mixed" -v r="$n_repeat" -v s="$secs" -v c="$CONC" -v h="$HISTORY" \
      -v fp50="$(lat "$fresh" register p50)" -v fp99="$(lat "$fresh" register p99)" \
      -v mp50="$(lat "$mixed" register p50)" -v mp99="$(lat "$mixed" register p99)" \
      -v rp50="$(lat "$mixed" register-repeat p50)" -v rp99="$(lat "$mixed" register-repeat p99)" \
      -v e="$(json "$mixed" errors)" 'BEGIN {
    fr = f / s; mr = m / s; rr = r / s
    printf "RESULT repeat   history=%s conc=%s fresh_only=%.0f/s p50=%sms p99=%sms | beside_repeats: fresh=%.0f/s p50=%sms p99=%sms repeat=%.0f/s p50=%sms p99=%sms errors=%s | p99 ratios fresh=%.2f repeat=%.2f\n",
      h, c, fr, fp50, fp99, mr, mp50, mp99, rr, rp50, rp99, e, mp99 / fp99, rp99 / fp99
  }' | tee -a "$TMP/results/results.txt"
}

# Memory over time: mixed calls for --duration seconds, the server's RSS
# sampled every --rss-every seconds.
run_soak() {
  local out="$TMP/results/soak.json"
  start_server server-soak
  local pid=$PID address="127.0.0.1:$PORT"
  xf_log "soak: ${DURATION}s of mixed calls at $CONC in flight, RSS every ${RSS_EVERY}s"
  "${XFBENCH[@]}" --address "$address" --scenario soak --warmup 0 --duration "$DURATION" \
    --rss-pid "$pid" --rss-every "$RSS_EVERY" --json >"$out" 2>"$TMP/results/soak.rss.txt"
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  printf 'RESULT soak     cases=%s conc=%s duration=%ss service=%s/s errors=%s rss_first=%sMB rss_last=%sMB rss_max=%sMB samples=%s\n' \
    "$CASES" "$CONC" "$DURATION" "$(json "$out" throughput)" "$(json "$out" errors)" \
    "$(json "$out" rss_first_mb)" "$(json "$out" rss_last_mb)" "$(json "$out" rss_max_mb)" \
    "$(grep -c 'rss t=' "$TMP/results/soak.rss.txt")" | tee -a "$TMP/results/results.txt"
}

run_queue() {
  local out="$TMP/results/queue.json"
  psql "$DB" -qAtc "UPDATE cases SET case_officer = 'bench-officer' WHERE id IN (
      SELECT DISTINCT case_id FROM case_timers WHERE suspended_at IS NULL ORDER BY case_id LIMIT 1000)" >/dev/null
  psql "$DB" -qc "ANALYZE cases" >/dev/null
  local deadlines; deadlines=$(psql "$DB" -qAtc "SELECT count(*) FROM case_timers t JOIN cases c ON c.id = t.case_id
      WHERE c.case_officer = 'bench-officer' AND t.suspended_at IS NULL")
  start_server server-queue
  local pid=$PID address="127.0.0.1:$PORT"
  xf_log "queue: $deadlines deadlines of one officer, one call at a time, ${DURATION}s"
  "${XFBENCH[@]}" --address "$address" --scenario queue --officer bench-officer --concurrency 1 \
    --warmup "$WARMUP" --duration "$DURATION" --json >"$out"
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  printf 'RESULT queue    cases=%s officer_cases=1000 deadlines=%s service=%s/s p50=%sms p90=%sms p99=%sms max=%sms errors=%s\n' \
    "$CASES" "$deadlines" "$(json "$out" throughput)" "$(lat "$out" queue p50)" "$(lat "$out" queue p90)" \
    "$(lat "$out" queue p99)" "$(lat "$out" queue max)" "$(json "$out" errors)" | tee -a "$TMP/results/results.txt"
}

run_warnings() {
  local out="$TMP/results/warnings.json" year=$(( $(date -u +%Y) - 1 ))
  XINFANG_HTTP_PORT_FILE="$TMP/warnings.http" start_server server-warnings --http-listen 127.0.0.1:0
  local pid=$PID address="127.0.0.1:$PORT" http; http=$(cat "$TMP/warnings.http")
  caught_up() {  # bounded wait until the processor has consumed the whole feed
    for _ in $(seq 1200); do
      [ "$(psql "$DB" -qAtc "SELECT (SELECT position FROM warning_cursor) >= (SELECT last_position FROM event_sequencer)
          AND NOT EXISTS (SELECT 1 FROM case_events WHERE position IS NULL)")" = t ] && { echo yes; return; }
      sleep 0.1
    done
    echo no
  }
  metric() { curl -fsS "http://127.0.0.1:$http/metrics" | sed -n "s/^$1 \([0-9.e+]*\)$/\1/p"; }
  snapshot() {  # count sum within_2ms within_5ms
    echo "$(metric xinfang_warning_check_seconds_count) $(metric xinfang_warning_check_seconds_sum)" \
      "$(metric 'xinfang_warning_check_seconds_bucket{le="0.002"}')" \
      "$(metric 'xinfang_warning_check_seconds_bucket{le="0.005"}')"
  }
  # Live: each petition checked as it arrives, registrations one at a time.
  xf_log "warnings: new petitions one at a time for ${DURATION}s, each checked as it arrives"
  "${XFBENCH[@]}" --address "$address" --scenario register --concurrency 1 --warmup 0 \
    --duration "$DURATION" --json >"$out"
  local caught; caught=$(caught_up)
  local live; live=$(snapshot)
  # Backlog: the cursor held while petitions arrive, then released: the
  # processor alone, batch after batch (its own cost, without registrations
  # competing for the two cores).
  xf_log "warnings: a backlog of ${DURATION}s of petitions, then checked in batches"
  psql "$DB" -qc "BEGIN; SELECT 1 FROM warning_cursor FOR UPDATE; SELECT pg_sleep($DURATION + 2); COMMIT;" >/dev/null &
  local holder=$!
  sleep 0.5
  "${XFBENCH[@]}" --address "$address" --scenario register --concurrency 1 --warmup 0 \
    --duration "$DURATION" --json >"$TMP/results/warnings-backlog.json"
  wait "$holder"
  local t0 t1 backlog; t0=$(date +%s%N)
  backlog=$(caught_up); t1=$(date +%s%N)
  local after; after=$(snapshot)
  local raised; raised=$(psql "$DB" -qAtc "SELECT count(*) FROM warnings")
  local linked; linked=$(psql "$DB" -qAtc "SELECT coalesce(sum(case_count), 0) FROM warnings")
  # The situation report: the whole tree, the last full year, one call at a time.
  local sup_token; sup_token=$(awk '$1 == "supervisor" {print $2}' "$TOKENS")
  local times=()
  for _ in $(seq "$REPORT_CALLS"); do
    local r0 r1; r0=$(date +%s%N)
    "$BUILD/tools/xfctl" --server "$address" --token "$sup_token" --timeout 60 report --period "$year" \
      --format json >"$TMP/results/report.json"
    r1=$(date +%s%N)
    times+=($(( (r1 - r0) / 1000000 )))
  done
  local sorted; sorted=$(printf '%s\n' "${times[@]}" | sort -n | tr '\n' ' ')
  local median; median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  local received; received=$(tr -d '\n' <"$TMP/results/report.json" | grep -o '"received": {[^}]*}' | grep -o '"count": [0-9]*' | sed 's/.*: //')
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
  awk -v cases="$CASES" -v wave="$WAVE" -v reg="$(json "$out" throughput)" -v live="$live" -v after="$after" \
      -v drain_ms="$(( (t1 - t0) / 1000000 ))" -v raised="$raised" -v linked="$linked" -v caught="$caught/$backlog" \
      -v year="$year" -v med="$median" -v all="$sorted" -v received="$received" 'BEGIN {
    split(live, a, " "); split(after, b, " ");
    n1 = a[1]; n2 = b[1] - a[1];
    printf "RESULT warnings cases=%s wave=%s register=%s/s live: checked=%d check_mean=%.2fms within_2ms=%.1f%% within_5ms=%.1f%% backlog: checked=%d check_mean=%.2fms within_2ms=%.1f%% within_5ms=%.1f%% drained_in=%sms warnings=%s linked=%s caught_up=%s report_year=%s report_received=%s report_median=%sms report_ms=[%s]\n",
      cases, wave, reg, n1, (n1 > 0 ? 1000 * a[2] / n1 : 0), (n1 > 0 ? 100 * a[3] / n1 : 0), (n1 > 0 ? 100 * a[4] / n1 : 0),
      n2, (n2 > 0 ? 1000 * (b[2] - a[2]) / n2 : 0), (n2 > 0 ? 100 * (b[3] - a[3]) / n2 : 0), (n2 > 0 ? 100 * (b[4] - a[4]) / n2 : 0),
      drain_ms, raised, linked, caught, year, received, med, all }' | tee -a "$TMP/results/results.txt"
}

# The supervisor's reads, one call at a time, as xfctl makes them.
READS_FAILED=0
run_reads() {
  XINFANG_HTTP_PORT_FILE="$TMP/reads.http" start_server server-reads --http-listen 127.0.0.1:0
  local pid=$PID address="127.0.0.1:$PORT" http; http=$(cat "$TMP/reads.http")
  # rpc_totals METHOD: "SUM COUNT" of the server's own latency histogram for
  # the method (xinfang_rpc_duration_seconds), to tell the call's time at the
  # server from xfctl's start and the network.
  rpc_totals() {
    curl -fsS "http://127.0.0.1:$http/metrics" | awk -v m="method=\"$1\"" '
      index($0, "xinfang_rpc_duration_seconds_sum{") == 1 && index($0, m) { s += $NF }
      index($0, "xinfang_rpc_duration_seconds_count{") == 1 && index($0, m) { c += $NF }
      END { printf "%.6f %d\n", s, c }'
  }
  local sup_token; sup_token=$(awk '$1 == "supervisor" {print $2}' "$TOKENS")
  local top; top=$(psql "$DB" -qAtc "SELECT code FROM units WHERE parent IS NULL ORDER BY code LIMIT 1")
  local to; to=$(date -u -d tomorrow +%F)
  local from1; from1=$(date -u -d '1 year ago' +%F)
  local from3; from3=$(date -u -d '3 years ago' +%F)
  # read_calls NAME METHOD WHAT XFCTL-ARGS...: K calls; each call's output is kept
  # (the last one in reads-NAME.out), its wall time in ms in reads-NAME.ms; the
  # RESULT line adds the mean time of METHOD at the server over those calls.
  read_calls() {
    local name=$1 method=$2 what=$3; shift 3
    local times=() errors=0 k t0 t1 before after
    before=$(rpc_totals "$method")
    xf_log "reads: $name ($what), $READS_CALLS calls one at a time"
    for k in $(seq "$READS_CALLS"); do
      t0=$(date +%s%N)
      if ! timeout $((READS_TIMEOUT + 10)) "$BUILD/tools/xfctl" --server "$address" --token "$sup_token" \
          --timeout "$READS_TIMEOUT" "$@" >"$TMP/results/reads-$name.out" 2>"$TMP/results/reads-$name.err"; then
        errors=$((errors + 1))
        sed -n 1p "$TMP/results/reads-$name.err" >&2
      fi
      t1=$(date +%s%N)
      times+=($(( (t1 - t0) / 1000000 )))
    done
    after=$(rpc_totals "$method")
    local at_server; at_server=$(awk -v b="$before" -v a="$after" 'BEGIN {
      split(b, x, " "); split(a, y, " "); n = y[2] - x[2];
      if (n > 0) printf "%.1fms", 1000 * (y[1] - x[1]) / n; else printf "n/a" }')
    printf '%s\n' "${times[@]}" >"$TMP/results/reads-$name.ms"
    local returned=""
    case "$name" in
      stats-*) returned="received=$(tr -d '\n ' <"$TMP/results/reads-$name.out" | { grep -o '"received":[0-9]*' || true; } | head -1 | sed 's/.*://')" ;;
      dashboard*) returned="open_cases=$({ grep -o '"open_cases": [0-9]*' "$TMP/results/reads-$name.out" || true; } | awk '{n += $2} END {print n + 0}')" ;;
      overdue-list) returned="rows=$(grep -c '"tracking_number"' "$TMP/results/reads-$name.out" || true)" ;;
    esac
    printf '%s\n' "${times[@]}" | sort -n | awk -v name="reads-$name" -v cases="$CASES" -v what="$what" \
        -v first="${times[0]}" -v errors="$errors" -v returned="$returned" -v at_server="$at_server" '
      { a[NR] = $1 } END {
        n = NR
        printf "RESULT %s cases=%s calls=%d p50=%sms max=%sms first=%sms at_server_mean=%s errors=%s%s what=\"%s\"\n",
          name, cases, n, a[int((n + 1) / 2)], a[n], first, at_server, errors, (returned != "" ? " " returned : ""), what
      }' | tee -a "$TMP/results/results.txt"
  }
  read_calls whoami WhoAmI "xfctl start and one authenticated call: the floor of the figures below" whoami
  read_calls stats-1y GetStatistics "statistics, whole tree ($top), $from1 to $to" \
    stats --from "$from1" --to "$to" --unit "$top" --format json
  read_calls stats-3y GetStatistics "statistics, whole tree ($top), $from3 to $to" \
    stats --from "$from3" --to "$to" --unit "$top" --format json
  # The same periods counted from the cases (the old way, and the check of
  # the kept counts): one call each, and the figures must be equal.
  local calls=$READS_CALLS
  READS_CALLS=1
  read_calls recount-1y GetStatistics "statistics counted from the cases, $from1 to $to" \
    stats --from "$from1" --to "$to" --unit "$top" --format json --recount
  read_calls recount-3y GetStatistics "statistics counted from the cases, $from3 to $to" \
    stats --from "$from3" --to "$to" --unit "$top" --format json --recount
  READS_CALLS=$calls
  # same_output RESULT-NAME A B: the kept counts' output A equals the recount's B
  # (but for the moment each was asked at: the board's "now").
  same_output() {
    local equal=yes
    if ! diff <(grep -v '"now":' "$TMP/results/reads-$2.out") \
              <(grep -v '"now":' "$TMP/results/reads-$3.out") >"$TMP/results/reads-$1.diff"; then
      head -20 "$TMP/results/reads-$1.diff" >&2
      equal=NO
      READS_FAILED=1
    fi
    echo "RESULT reads-$1 cases=$CASES equal=$equal" | tee -a "$TMP/results/results.txt"
  }
  same_output kept-equals-recount-1y stats-1y recount-1y
  same_output kept-equals-recount-3y stats-3y recount-3y
  read_calls dashboard Dashboard "dashboard of $top (counts per unit and stage)" --json sup dashboard --unit "$top"
  READS_CALLS=1
  read_calls dashboard-recount Dashboard "dashboard counted from the cases" --json sup dashboard --unit "$top" --recount
  READS_CALLS=$calls
  same_output dashboard-kept-equals-recount dashboard dashboard-recount
  read_calls overdue-list ListCases "first page of $top's overdue cases" --json case list --unit "$top" --overdue
  kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
}

{
  echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "postgresql: $(tr '\n' ';' <"$TMP/results/pg_settings.txt")"
  echo "seed: $CASES cases in ${SEED_SECONDS}s"
} | tee "$TMP/results/environment.txt"
for s in "${SCENARIOS[@]}"; do
  case "$s" in
    timers) run_timers ;;
    repeat) run_repeat ;;
    soak) run_soak ;;
    queue) run_queue ;;
    warnings) run_warnings ;;
    reads) run_reads ;;
    *) run_scenario "$s" ;;
  esac
done
[ "$READS_FAILED" = 0 ] || { echo "bench.sh: the kept statistics or board differ from a recount" >&2; exit 1; }
