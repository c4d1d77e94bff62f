#!/usr/bin/env bash
# Metrics as an operator sees them: a server with --http-listen and
# --metrics-listen on loopback, Debian's Prometheus scraping /metrics every
# second, a small load through xfctl (registrations, a refused call, a moved
# simulated clock), and Prometheus' HTTP API showing the series move: the
# RegisterCase call count and its latency histogram, the pool gauges, the
# sweeper's firings, open and overdue deadlines per top-level unit, the
# build and schema version.
. "$(dirname "$0")/lib.sh"
command -v prometheus >/dev/null || fail "prometheus is not installed (Debian package prometheus)"

XINFANG_HTTP_PORT_FILE="$E2E_TMP/one.http" XINFANG_METRICS_PORT_FILE="$E2E_TMP/one.metrics" \
  start_server one xinfang-server --http-listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 \
  --simulated-clock 2026-03-02T09:00:00+08:00 --pool-size 6
H="127.0.0.1:$(cat "$E2E_TMP/one.http")"
M="127.0.0.1:$(cat "$E2E_TMP/one.metrics")"
grep -q "metrics on http://127.0.0.1:" "$E2E_TMP/one.log" || fail "no metrics address logged"

# /metrics on the HTTP port, in Prometheus' text format.
code=$(curl -sS -o "$E2E_TMP/metrics.txt" -D "$E2E_TMP/headers" -w '%{http_code}' "http://$H/metrics")
[ "$code" = 200 ] || fail "GET /metrics: $code"
grep -qi '^content-type: text/plain; version=0.0.4' "$E2E_TMP/headers" || fail "content type: $(cat "$E2E_TMP/headers")"
schema=$(ls "$XF_SRC/services/storage/migrations" | tail -1 | cut -c1-4 | sed 's/^0*//')
grep -q "^xinfang_build_info{.*schema=\"$schema\".*} 1" "$E2E_TMP/metrics.txt" ||
  fail "no build info with schema $schema: $(grep build_info "$E2E_TMP/metrics.txt")"
# The metrics port serves /metrics and nothing else.
[ "$(curl -sS -o /dev/null -w '%{http_code}' "http://$M/metrics")" = 200 ] || fail "metrics port /metrics"
[ "$(curl -sS -o /dev/null -w '%{http_code}' "http://$M/")" = 404 ] || fail "metrics port serves /"
[ "$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{}' \
  "http://$M/xinfang.v1.AdminService/WhoAmI")" = 404 ] || fail "metrics port serves the API"

# Prometheus, scraping the HTTP port every second.
pport=$(xf_free_port $((19090 + RANDOM % 2000)))
cat >"$E2E_TMP/prometheus.yml" <<CONF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: xinfang
    static_configs:
      - targets: ["$H"]
CONF
prometheus --config.file="$E2E_TMP/prometheus.yml" --storage.tsdb.path="$E2E_TMP/prom-data" \
  --web.listen-address="127.0.0.1:$pport" >"$E2E_TMP/prometheus.out" 2>&1 &
PROM_PID=$!
E2E_PIDS+=("$PROM_PID")
P="http://127.0.0.1:$pport"
for _ in $(seq 100); do
  curl -sf --max-time 2 "$P/-/ready" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -sf --max-time 2 "$P/-/ready" >/dev/null || { cat "$E2E_TMP/prometheus.out" >&2; fail "prometheus not ready"; }

# q EXPR: the value of the first sample of an instant query ("none" if empty).
q() {
  curl -sS --max-time 5 "$P/api/v1/query" --data-urlencode "query=$1" |
    jq -r '.data.result[0].value[1] // "none"'
}
# await EXPR: until EXPR has a sample (the query filters: `... >= 5`), at most 20 s.
await() {
  local v
  for _ in $(seq 80); do
    v=$(q "$1")
    [ "$v" != none ] && { echo "$v"; return 0; }
    sleep 0.25
  done
  fail "no sample for: $1 (last scrape: $(curl -sS "$P/api/v1/targets" | jq -c '.data.activeTargets[0] | {health, lastError}'))"
}

await 'up{job="xinfang"} == 1' >/dev/null
before=$(q 'sum(xinfang_rpc_requests_total{method="RegisterCase"})')
[ "$before" = none ] || [ "$before" = 0 ] || fail "RegisterCase counted before any: $before"
[ "$(await 'xinfang_db_pool_connections')" = 6 ] || fail "pool size gauge"
await 'xinfang_db_pool_in_use >= 0' >/dev/null
await 'xinfang_db_pool_waits_total >= 0' >/dev/null

# The load: five registrations and one refused for its input.
for i in 1 2 3 4 5; do
  xf "$PORT_one" case register --channel call --caller-number 12351 --name "测试$i" \
    --category wages.arrears --summary "欠薪 $i" >/dev/null
done
xf "$PORT_one" case register --channel call --caller-number 12351 --name "测试" \
  --category no.such.category --summary "x" >/dev/null 2>&1 && fail "a bad category was accepted"

ok=$(await 'sum(xinfang_rpc_requests_total{service="xinfang.v1.IntakeService",method="RegisterCase",code="OK"}) >= 5')
[ "$ok" = 5 ] || fail "RegisterCase OK count $ok, want 5"
await 'sum(xinfang_rpc_requests_total{method="RegisterCase",code="INVALID_ARGUMENT"}) >= 1' >/dev/null
[ "$(await 'sum(xinfang_rpc_duration_seconds_count{method="RegisterCase"}) >= 6')" = 6 ] ||
  fail "histogram count for RegisterCase"
p50=$(await 'histogram_quantile(0.5, sum by (le) (xinfang_rpc_duration_seconds_bucket{method="RegisterCase"})) > 0')
echo "RegisterCase median under load: ${p50}s"
# The calls xfctl made to find its token are counted too (AdminService).
await 'sum(xinfang_rpc_requests_total{service="xinfang.v1.AdminService"}) >= 2' >/dev/null

# Deadlines: five open intake deadlines owed under prov.organs; sixteen days
# later all overdue, fired by the sweeper, and the lag back to 0.
xf_as "$PORT_one" sup1 supervisor prov clock advance 16d >/dev/null
await 'xinfang_deadlines_overdue{unit="prov.organs"} >= 5' >/dev/null
open=$(await 'xinfang_deadlines_open{unit="prov.organs"} >= 5')
overdue=$(q 'xinfang_deadlines_overdue{unit="prov.organs"}')
[ "$open" -ge "$overdue" ] || fail "open $open < overdue $overdue"
[ "$(q 'xinfang_deadlines_open{unit="prov.city-a"}')" = 0 ] || fail "prov.city-a has deadlines"
fired=$(await 'xinfang_sweeper_cases_fired_total >= 5')
[ "$(q 'xinfang_sweeper_lag_seconds')" = 0 ] || fail "sweeper lag after the sweep"
await 'xinfang_sweeper_passes_total{result="ok"} >= 1' >/dev/null
# The event feed: every event of these cases placed, none waiting.
head=$(await 'xinfang_feed_head_position >= 10')
[ "$(q 'xinfang_feed_unsequenced_events')" = 0 ] || fail "events left unsequenced"
[ "$(q 'xinfang_feed_lag_seconds')" = 0 ] || fail "feed lag with nothing waiting"
echo "event feed at position $head"
echo "deadlines under prov.organs: $open open, $overdue overdue; sweeper fired $fired case(s)"

stop_server one
kill -TERM "$PROM_PID"
wait "$PROM_PID" || true
echo "metrics_e2e: ok"
