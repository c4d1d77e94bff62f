#!/usr/bin/env bash
# Two xinfang-server processes on one database behind Debian's HAProxy
# (deploy/ha/haproxy.cfg): gRPC over HTTP/2 and the HTTP face. Registrations
# run through HAProxy; one server is killed (kill -9) mid-way and the client
# goes on after at most one retry (same request id: no duplicate). Then both
# servers' simulated clocks are moved at once, so both sweepers race for the
# same due timers: every (timer, rung) must fire exactly once.
. "$(dirname "$0")/lib.sh"

clock=2026-03-02T09:00:00+08:00
serve() {  # serve NAME: a server with gRPC and HTTP on free ports
  XINFANG_HTTP_PORT_FILE="$E2E_TMP/$1.http" start_server "$1" xinfang-server \
    --simulated-clock "$clock" --http-listen 127.0.0.1:0 --console-dir "$E2E_TMP"
}
serve a
serve b
# Below the kernel's ephemeral range (32768-60999), so no client socket of
# the tests running beside this one holds the ports between check and bind.
export XF_HAPROXY_GRPC="127.0.0.1:$(xf_free_port 26000)"
export XF_HAPROXY_HTTP="127.0.0.1:$(xf_free_port $((${XF_HAPROXY_GRPC#*:} + 1)))"
export XF_HAPROXY_STATS="127.0.0.1:$(xf_free_port $((${XF_HAPROXY_HTTP#*:} + 1)))"
export XF_SERVER_A_GRPC="127.0.0.1:$PORT_a" XF_SERVER_B_GRPC="127.0.0.1:$PORT_b"
export XF_SERVER_A_HTTP="127.0.0.1:$(cat "$E2E_TMP/a.http")"
export XF_SERVER_B_HTTP="127.0.0.1:$(cat "$E2E_TMP/b.http")"
haproxy -c -q -f "$XF_SRC/deploy/ha/haproxy.cfg" || fail "haproxy.cfg does not check"
haproxy -db -f "$XF_SRC/deploy/ha/haproxy.cfg" >"$E2E_TMP/haproxy.log" 2>&1 &
E2E_PIDS+=("$!")
LB=${XF_HAPROXY_GRPC#*:}
for _ in $(seq 50); do
  xf "$LB" whoami >/dev/null 2>&1 && break
  sleep 0.1
done
xf "$LB" whoami >/dev/null || fail "no answer through haproxy: $(tail -5 "$E2E_TMP/haproxy.log")"

# The HTTP face through haproxy, too.
admin_code=$(curl -sS -o "$E2E_TMP/who" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  -H "Authorization: Bearer $E2E_ADMIN_TOKEN" -d '{}' "http://$XF_HAPROXY_HTTP/xinfang.v1.AdminService/WhoAmI")
[ "$admin_code" = 200 ] && grep -q e2e-admin "$E2E_TMP/who" || fail "WhoAmI over HTTP: $admin_code"

# The load, through haproxy: a failed call is retried once with its request id.
cases=() retried=0
for i in $(seq 1 30); do
  if [ "$i" = 11 ]; then kill -KILL "$PID_a"; wait "$PID_a" 2>/dev/null || true; fi
  args=(--json case register --request-id "ha-lb-$$-$i" --channel call --caller-number "1390000$i"
        --name "负载$i" --category wages.arrears --summary "欠薪 $i")
  if ! out=$(xf "$LB" "${args[@]}" 2>&1); then
    retried=$((retried + 1))
    out=$(xf "$LB" "${args[@]}" 2>&1) || fail "call $i failed twice: $out"
  fi
  t=$(echo "$out" | json_field tracking_number)
  [ -n "$t" ] || fail "no tracking number: $out"
  cases+=("$t")
done
[ "$(printf '%s\n' "${cases[@]}" | sort -u | wc -l)" = 30 ] || fail "a retried call made a second case"
[ "$(psql "$E2E_URL" -tAc "SELECT count(*) FROM cases WHERE request_id LIKE 'ha-lb-$$-%'")" = 30 ] \
  || fail "not 30 cases in the database"
grep -q "xinfang_grpc/b" "$E2E_TMP/haproxy.log" || fail "server b never answered"
echo "haproxy_e2e: server a killed under load; $retried call(s) needed a retry"

# A fresh server a (its simulated clock at the same start as b's), then
# both clocks move at once: two sweepers, the same due timers.
serve a

sup_at() { xf_as "$1" sup1 supervisor prov "${@:2}"; }
advance_both() {
  sup_at "$PORT_a" clock advance "$1" >"$E2E_TMP/adv.a" 2>&1 &
  local pa=$!
  sup_at "$PORT_b" clock advance "$1" >"$E2E_TMP/adv.b" 2>&1 &
  local pb=$!
  wait "$pa" || fail "advance on a: $(cat "$E2E_TMP/adv.a")"
  wait "$pb" || fail "advance on b: $(cat "$E2E_TMP/adv.b")"
}
advance_both 16d   # overdue, rung 1
advance_both 3d    # rung 2
for t in "${cases[@]}"; do
  h=$(sup_at "$PORT_b" case history "$t")
  [ "$(echo "$h" | grep -c deadline_overdue)" = 1 ] || fail "$t: overdue not exactly once: $h"
  [ "$(echo "$h" | grep -c escalated)" = 2 ] || fail "$t: not exactly two rungs: $h"
done
stop_server b
stop_server a
echo "haproxy_e2e: ok"
