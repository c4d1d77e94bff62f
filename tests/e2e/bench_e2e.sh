#!/usr/bin/env bash
# The benchmark tools for real: xfseed loads 1,000 cases (and a burst of
# deadlines falling due together), a server reads them, xfbench runs every
# scenario for a bounded count with zero errors and sane JSON; pgbench runs
# the captured SQL of deploy/bench/ (extended and prepared) and the floors
# against the same database, and the server verifies the floor's history;
# bench.sh's reads scenario runs at 500 cases.
. "$(dirname "$0")/lib.sh"

SEED="$XF_BIN/tools/xfseed" BENCH="$XF_BIN/tools/xfbench"
NOW=$(date -u +%Y-%m-%dT%H:%M:%SZ)
out=$("$SEED" --db "$E2E_URL" --migrate --cases 1000 --burst 200 --wave 30 --now "$NOW" --out "$E2E_TMP" --max-seconds 120)
echo "seed: $out"
field() { echo "$1" | grep -o "\"$2\": [0-9.]*" | head -1 | sed 's/.*: //'; }
[ "$(field "$out" cases)" = 1000 ] || fail "seed: cases"
[ "$(wc -l <"$E2E_TMP/tracking.txt")" -ge 900 ] || fail "seed: tracking sample"
overdue=$(field "$out" overdue_cases)
[ "$overdue" -ge 1 ] && [ "$overdue" -le 60 ] || fail "seed: $overdue overdue cases, want about 1%"
[ "$(psql "$E2E_URL" -Atc "SELECT count(*) FROM cases")" = 1230 ] || fail "seed: rows"
# The early-warning counts cover every seeded case, the wave's four spellings
# are one employer, and the processor's cursor stands at the end of the feed.
[ "$(psql "$E2E_URL" -Atc "SELECT count(*) FROM warning_petitions")" = 1230 ] || fail "seed: warning counts"
wave=$(psql "$E2E_URL" -Atc "SELECT count(*) FROM warning_petitions w JOIN employer_names e ON e.id = w.employer_id
  WHERE e.name = 'a市宏达建筑工程' AND w.received_at > now() - interval '8 days'")
[ "$wave" -ge 30 ] || fail "seed: the wave counted as $wave petitions against one employer"
[ "$(psql "$E2E_URL" -Atc "SELECT position = (SELECT last_position FROM event_sequencer) FROM warning_cursor")" = t ] ||
  fail "seed: warning cursor"
[ "$(psql "$E2E_URL" -Atc "SELECT count(*) FROM case_events WHERE position IS NULL")" = 0 ] || fail "seed: unsequenced events"

# The service reads the seeded cases (and verifies a hash chain), on the
# clock the data set stands at.
start_server srv xinfang-server --simulated-clock "$NOW" --rate-limit 0
xf_bench_tokens "$XF_BIN/tools/xfctl" "127.0.0.1:$PORT_srv" "$E2E_ADMIN_TOKEN" "$E2E_TMP/tokens"
[ "$(wc -l <"$E2E_TMP/tokens")" = 5 ] || fail "bench tokens"
T=$(sed -n 5p "$E2E_TMP/tracking.txt")
grep -q "$T" <<<"$(xf_as "$PORT_srv" audit1 auditor prov case show "$T")" || fail "GetCase of a seeded case"
grep -q "intact" <<<"$(xf_as "$PORT_srv" audit1 auditor prov case verify "$T")" || fail "seeded history does not verify"

check_run() {  # check_run JSON: zero errors, something done, latencies in order
  local j=$1
  echo "$j"
  [ "$(field "$j" errors)" = 0 ] || fail "errors in: $j"
  [ "$(field "$j" completed)" -ge 1 ] || fail "nothing completed: $j"
  local p50 p99 mx
  p50=$(echo "$j" | grep -o '"p50": [0-9.]*' | head -1 | sed 's/.*: //')
  p99=$(echo "$j" | grep -o '"p99": [0-9.]*' | head -1 | sed 's/.*: //')
  mx=$(echo "$j" | grep -o '"max": [0-9.]*' | head -1 | sed 's/.*: //')
  awk -v a="$p50" -v b="$p99" -v c="$mx" 'BEGIN { exit !(a > 0 && a <= b && b <= c) }' || fail "latencies out of order: $j"
}
common=(--address "127.0.0.1:$PORT_srv" --tokens-file "$E2E_TMP/tokens" --concurrency 4 --warmup 0 --max-seconds 60 --json
        --tracking-file "$E2E_TMP/tracking.txt" --units-file "$E2E_TMP/units.txt")
for s in register get list; do
  check_run "$("$BENCH" --scenario "$s" --count 40 "${common[@]}")"
done
# An officer's queue: 30 open cases assigned to bench-officer.
psql "$E2E_URL" -qAtc "UPDATE cases SET case_officer = 'bench-officer' WHERE id IN (
  SELECT DISTINCT case_id FROM case_timers WHERE suspended_at IS NULL ORDER BY case_id LIMIT 30)" >/dev/null
check_run "$("$BENCH" --scenario queue --officer bench-officer --count 20 "${common[@]}")"
n=$(xf_as "$PORT_srv" sup-q supervisor prov --json queue --officer bench-officer | grep -o '"tracking_number"' | wc -l)
[ "$n" -ge 30 ] || fail "queue: $n deadlines of the officer's 30 cases"
j=$("$BENCH" --scenario life --count 4 "${common[@]}")
check_run "$j"
grep -q '"evaluate": {"count": [1-9]' <<<"$j" || fail "life: no evaluate step"

# Loopback only.
if "$BENCH" --scenario get --address 10.1.2.3:50051 --count 1 2>/dev/null; then fail "non-loopback accepted"; fi

# Timers: the burst falls due; AdvanceClock returns when it has fired.
advance=$(( $(field "$out" burst_due_in_seconds) + 60 ))
# Without a token xfbench stops at once, saying why.
rc=0; err=$("$BENCH" --scenario get --count 5 --address "127.0.0.1:$PORT_srv" --warmup 0 \
  --max-seconds 20 --tracking-file "$E2E_TMP/tracking.txt" --json 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q "no bearer token" <<<"$err" || fail "no token: $rc $err"
j=$("$BENCH" --scenario timers --tokens-file "$E2E_TMP/tokens" --address "127.0.0.1:$PORT_srv" --advance "$advance" --max-seconds 120 --json)
echo "$j"
[ "$(field "$j" errors)" = 0 ] || fail "timers: errors"
awk -v u="$(field "$j" unfired_escalations)" 'BEGIN { exit !(u == 0) }' || fail "timers: unfired deadlines left"
fired=$(psql "$E2E_URL" -Atc "SELECT count(*) FROM case_timers WHERE name = 'intake_notice' AND rung > 0 AND case_id > 1000")
[ "$fired" = 200 ] || fail "timers: $fired of 200 burst deadlines escalated"
# The pgbench scripts run against the seeded schema: the service's SQL as it
# sends it (extended) and prepared, and the floors (prepared).
hash_of() { awk -v r="$1" '$1 == r { printf "%s", $2 }' "$E2E_TMP/tokens" | sha256sum | cut -d' ' -f1; }
pgb() {  # pgb MODE SCRIPT TOKEN_HASH
  /usr/lib/postgresql/15/bin/pgbench -n -M "$1" -c 2 -t 5 -D ncases=1000 -D now="$(date +%s%6N)" -D token_hash="$3" \
    -f "$2" "$E2E_URL" >"$E2E_TMP/pgb.txt" 2>&1 || { cat "$E2E_TMP/pgb.txt"; fail "pgbench -M $1 $2"; }
  grep -q "number of failed transactions: 0 " "$E2E_TMP/pgb.txt" || { cat "$E2E_TMP/pgb.txt"; fail "pgbench -M $1 $2 failed"; }
}
for f in get register; do
  role=service; [ "$f" = register ] && role=intake_clerk
  hash=$(hash_of "$role")
  # The captured token lookup finds the account, as the service's does.
  [ "$(psql "$E2E_URL" -Atc "SELECT count(*) FROM tokens WHERE hash = decode('$hash', 'hex')")" = 1 ] || fail "pgbench $f: token hash"
  pgb extended "$XF_SRC/deploy/bench/$f.sql" "$hash"
  pgb prepared "$XF_SRC/deploy/bench/$f.sql" "$hash"
  pgb prepared "$XF_SRC/deploy/bench/$f-floor.sql" "$hash"
done
count() { psql "$E2E_URL" -Atc "$1"; }
# register.sql: 2 clients x 5 x 2 modes; the floor 10; each case with its
# petitioner, first event (the history's head unless the server's warning
# processor has appended since) and timer.
[ "$(count "SELECT count(*) FROM cases WHERE tracking_number LIKE 'PGB-%'")" = 20 ] || fail "register.sql: cases"
[ "$(count "SELECT count(*) FROM cases WHERE tracking_number LIKE 'PGF-%'")" = 10 ] || fail "register-floor.sql: cases"
[ "$(count "SELECT count(*) FROM cases c WHERE c.tracking_number LIKE 'PG_-%'
  AND (SELECT count(*) FROM case_petitioners p WHERE p.case_id = c.id) = 1
  AND EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = c.id AND e.seq = 1
              AND (e.hash = c.head_hash OR c.head_seq > 1))
  AND (SELECT count(*) FROM case_timers t WHERE t.case_id = c.id) = 1")" = 30 ] || fail "pgbench cases incomplete"
# The floor computes the first event's hash in SQL: the server verifies it,
# also for a repeat petition (the second case of one person links the first
# and names it in the event: repeat_of).
T=$(count "SELECT tracking_number FROM cases WHERE tracking_number LIKE 'PGF-%' ORDER BY id LIMIT 1")
grep -q "intact" <<<"$(xf_as "$PORT_srv" audit1 auditor prov case verify "$T")" || fail "floor's history does not verify"
sed 's/^\\set idn .*/\\set idn 110105199001011234/' "$XF_SRC/deploy/bench/register-floor.sql" >"$E2E_TMP/repeat-floor.sql"
/usr/lib/postgresql/15/bin/pgbench -n -M prepared -c 1 -t 2 -D now="$(date +%s%6N)" -D token_hash="$(hash_of intake_clerk)" \
  -f "$E2E_TMP/repeat-floor.sql" "$E2E_URL" >"$E2E_TMP/pgb.txt" 2>&1 || { cat "$E2E_TMP/pgb.txt"; fail "repeat floor"; }
T=$(count "SELECT c.tracking_number FROM cases c JOIN case_links l ON l.case_id = c.id AND l.kind = 'repeat'
  WHERE c.tracking_number LIKE 'PGF-%'")
[ -n "$T" ] || fail "floor: no repeat link"
grep -q "intact" <<<"$(xf_as "$PORT_srv" audit1 auditor prov case verify "$T")" || fail "floor's repeat history does not verify"
# Another role's token registers nothing.
pgb prepared "$XF_SRC/deploy/bench/register-floor.sql" "$(hash_of service)"
[ "$(count "SELECT count(*) FROM cases WHERE tracking_number LIKE 'PGF-%'")" = 12 ] || fail "floor: registered for a service token"
stop_server srv

# bench.sh's reads at a small size: every read answers, without errors.
out=$("$XF_SRC/deploy/bench.sh" --build-dir "$XF_BIN" --cases 500 --reads-calls 1 --max-seconds 200 reads \
  2>"$E2E_TMP/bench-reads.log") || { tail -20 "$E2E_TMP/bench-reads.log"; fail "bench.sh reads"; }
echo "$out"
for r in whoami stats-1y stats-3y recount-1y recount-3y dashboard dashboard-recount overdue-list; do
  # Each read also timed at the server (its latency histogram), which is
  # below the wall time of the xfctl command that made it.
  line=$(grep "^RESULT reads-$r cases=500 calls=1 p50=[0-9]*ms .*at_server_mean=[0-9.]*ms errors=0" <<<"$out") ||
    fail "bench.sh reads: $r"
  wall=$(sed 's/.* p50=\([0-9]*\)ms .*/\1/' <<<"$line")
  server=$(sed 's/.* at_server_mean=\([0-9.]*\)ms .*/\1/' <<<"$line")
  awk -v s="$server" -v w="$wall" 'BEGIN { exit !(s <= w) }' ||
    fail "bench.sh reads: $r took ${server} ms at the server, more than the ${wall} ms of the whole command"
done
grep -q "^RESULT reads-stats-3y .* received=500 " <<<"$out" || fail "bench.sh reads: 3 years of 500 cases"
# The seeded cases' kept counts (xfseed rebuilds them) equal a recount.
for p in 1y 3y; do
  grep -q "^RESULT reads-kept-equals-recount-$p cases=500 equal=yes" <<<"$out" ||
    fail "bench.sh reads: kept statistics differ from a recount over $p"
done
grep -q "^RESULT reads-dashboard-kept-equals-recount cases=500 equal=yes" <<<"$out" ||
  fail "bench.sh reads: the board's kept counts differ from a recount"
echo "bench_e2e: ok"
