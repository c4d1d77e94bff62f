#!/usr/bin/env bash
# High availability (docs/high-availability.md): etcd and two Patroni-managed
# PostgreSQL nodes (a primary and a synchronous standby) on loopback, one
# xinfang-server on the multi-host URL. Registrations and actions run at a
# steady rate; the primary's machine is lost (kill -9 of its Patroni and its
# postmaster) mid-way. Afterwards: every call that answered OK is in the
# database, no case is half-written, every history verifies, the sweeper fires
# timers again, and the lost node rejoins as the synchronous standby. Prints
# the unavailability window (first failed call to the first OK call after it).
set -euo pipefail
XF_SRC=${XF_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
CLUSTER=$(mktemp -d /tmp/xf-ha.XXXXXX)
ha_stop() { "$XF_SRC/deploy/ha/cluster.sh" stop "$CLUSTER" || true; rm -rf "$CLUSTER"; }
trap ha_stop EXIT
"$XF_SRC/deploy/ha/cluster.sh" start "$CLUSTER" >/dev/null
echo "ha_e2e: etcd and two Patroni nodes up in ${SECONDS} s"
. "$CLUSTER/cluster.env"
# lib.sh makes its database through this URL; the primary's host first, so
# that the bootstrap (which lib.sh runs on a URL without the read-write
# attribute) lands on the primary.
first=$("$XF_SRC/deploy/ha/cluster.sh" primary "$CLUSTER")
if [ "$first" = node1 ]; then hosts="127.0.0.1:$PG_PORT_1,127.0.0.1:$PG_PORT_2"
else hosts="127.0.0.1:$PG_PORT_2,127.0.0.1:$PG_PORT_1"; fi
export XINFANG_TEST_PG="postgresql://xinfang@$hosts/postgres?target_session_attrs=read-write"
# lib.sh sets its own exit trap before it may fail (the bootstrap): the
# cluster is stopped on that path too.
trap() {
  if [ "$1" = e2e_cleanup ]; then builtin trap 'e2e_cleanup; ha_stop' EXIT; else builtin trap "$@"; fi
}
. "$(dirname "$0")/lib.sh"
unset -f trap
E2E_URL="$E2E_URL?target_session_attrs=read-write"
echo "$E2E_URL" | grep -q ",127.0.0.1:" || fail "not a multi-host URL: $E2E_URL"

# Replica reads go to the synchronous standby (the node that is not primary).
if [ "$first" = node1 ]; then standby_port=$PG_PORT_2; else standby_port=$PG_PORT_1; fi
start_server ha xinfang-server --simulated-clock 2026-03-02T09:00:00+08:00 \
  --db-replica "postgresql://xinfang@127.0.0.1:$standby_port/$E2E_DB" --db-replica-max-lag-ms 500
# wait_log TEXT N: until the server has logged TEXT N times (at most 15 s).
wait_log() {
  for _ in $(seq 150); do
    [ "$(grep -c "$1" "$E2E_TMP/ha.log")" -ge "$2" ] && return 0
    sleep 0.1
  done
  fail "the server did not log '$1' ($2 times): $(tail -5 "$E2E_TMP/ha.log")"
}
on_standby() { psql "postgresql://xinfang@127.0.0.1:$standby_port/$E2E_DB" -tAc "$1"; }
# When the standby last began a case list (ListCases' query, by its text).
list_started() {
  on_standby "SELECT coalesce(max(query_start)::text, 'never') FROM pg_stat_activity
     WHERE query LIKE '%c.tracking_number, c.state, c.stage::int%' AND pid <> pg_backend_pid()"
}
wait_log "replica reads: on" 1
# A caller reads its own write: the standby applied the commit before it
# answered (synchronous_commit = remote_apply), and the list is served there.
t=$(xf "$PORT_ha" --json case register --channel call --caller-number 13100000001 --name 读者 \
  --category wages.arrears --summary "副本读" | json_field tracking_number)
before=$(list_started)
grep -q "$t" <<<"$(xf "$PORT_ha" case list)" || fail "the replica-served list misses $t"
[ "$(list_started)" != "$before" ] || fail "the case list was not served by the standby"
# Replay stopped on the standby while the primary moves on: past the lag
# bound, lists go to the primary; when replay resumes, back to the standby.
# (Patroni resumes a paused replay unless its management is paused too.)
patronictl -c "$CLUSTER/node1/patroni.yml" pause --wait >/dev/null
on_standby "SELECT pg_wal_replay_pause()" >/dev/null
psql "$E2E_URL" -qc "SET synchronous_commit = local; CREATE TABLE xf_lag_probe (x int)"
wait_log "replica reads: off" 1
before=$(list_started)
grep -q "$t" <<<"$(xf "$PORT_ha" case list)" || fail "the primary-served list misses $t"
[ "$(list_started)" = "$before" ] || fail "a list went to a standby beyond the lag bound"
on_standby "SELECT pg_wal_replay_resume()" >/dev/null
patronictl -c "$CLUSTER/node1/patroni.yml" resume --wait >/dev/null
wait_log "replica reads: on" 2
grep -q "$t" <<<"$(xf "$PORT_ha" case list)" || fail "the list misses $t after replay resumed"
[ "$(list_started)" != "$before" ] || fail "lists did not return to the standby"
echo "ha_e2e: replica reads: served by the standby, to the primary beyond the lag bound, and back"
now() { date +%s.%N; }
export XFCTL_TIMEOUT=5

# The load: a registration, and on every other case an action (accept). Each
# call's outcome is recorded; a failed call is not retried (its effect is
# unknown to the caller, as to a real clerk whose screen showed an error).
ok_cases=() accepted=() registered_only=() failures=0 first_fail="" back_ok="" killed=""
deadline=$(( $(date +%s) + 100 ))
for i in $(seq 1 400); do
  [ "$(date +%s)" -lt "$deadline" ] || fail "the load did not recover within 100 s"
  if [ "$i" = 8 ]; then
    "$XF_SRC/deploy/ha/cluster.sh" kill "$first" "$CLUSTER"
    killed=$(now)
  fi
  t=""
  if out=$(xf "$PORT_ha" --json case register --channel call --caller-number "1300000$i" \
        --name "测试$i" --category wages.arrears --summary "欠薪 $i" 2>&1); then
    t=$(echo "$out" | json_field tracking_number)
    [ -n "$t" ] || fail "OK without a tracking number: $out"
    ok_cases+=("$t")
    if [ $((i % 2)) = 0 ]; then
      if xf "$PORT_ha" case act "$t" accept --field notice="已受理" >/dev/null 2>&1; then
        accepted+=("$t")
      else
        failures=$((failures + 1)); [ -n "$first_fail" ] || first_fail=$(now)
        [ -n "$killed" ] || fail "an action failed before the primary was lost"
      fi
    else
      registered_only+=("$t")
    fi
    if [ -n "$first_fail" ] && [ -z "$back_ok" ]; then back_ok=$(now); fi
  else
    [ -n "$killed" ] || fail "a registration failed before the primary was lost: $out"
    grep -qi "unavailable\|deadline" <<<"$out" || fail "a failed call is not UNAVAILABLE: $out"
    failures=$((failures + 1)); [ -n "$first_fail" ] || first_fail=$(now)
  fi
  # Enough OK calls after the failover: stop.
  if [ -n "$back_ok" ] && [ ${#ok_cases[@]} -ge 24 ]; then break; fi
  sleep 0.05
done
[ -n "$killed" ] || fail "the primary was never killed"
[ -n "$back_ok" ] || fail "no call failed, or none succeeded after the failover"
kill -0 "$PID_ha" || fail "the server died during the failover"
second=$("$XF_SRC/deploy/ha/cluster.sh" primary "$CLUSTER")
[ "$second" != "$first" ] || fail "$first is still the primary"
window=$(awk -v a="$first_fail" -v b="$back_ok" 'BEGIN { printf "%.1f", b - a }')
echo "ha_e2e: primary $first lost; $second promoted; $failures calls failed;" \
  "unavailable for ${window} s (first failed call to the first OK call after it)"

# Every OK call is in the database, as it answered.
psql_new() { psql "$E2E_URL" -tAc "$1"; }
list=$(printf "'%s'," "${ok_cases[@]}")
[ "$(psql_new "SELECT count(*) FROM cases WHERE tracking_number IN (${list%,})")" = "${#ok_cases[@]}" ] \
  || fail "an OK registration is missing"
for t in "${accepted[@]}"; do
  [ "$(psql_new "SELECT state FROM cases WHERE tracking_number = '$t'")" = accepted ] \
    || fail "$t: the OK accept is lost"
done
# No case half-written: each has its history up to its head, a registration
# event first, and an open case its deadline timers.
[ "$(psql_new "SELECT count(*) FROM cases c WHERE head_seq <> (SELECT max(seq) FROM case_events e
      WHERE e.case_id = c.id) OR head_seq <> (SELECT count(*) FROM case_events e WHERE e.case_id = c.id)")" = 0 ] \
  || fail "a case whose history does not end at its head"
[ "$(psql_new "SELECT count(*) FROM cases c WHERE NOT final AND NOT EXISTS
      (SELECT 1 FROM case_timers t WHERE t.case_id = c.id)")" = 0 ] || fail "an open case without a timer"
# Every history verifies, those of failed calls that did commit too.
audit() { xf_as "$PORT_ha" audit1 auditor prov "$@"; }
for t in $(psql_new "SELECT tracking_number FROM cases"); do
  audit case verify "$t" | grep -q intact || fail "$t: history does not verify"
done

# The sweeper resumes: 16 days on, every registered-only case is overdue,
# exactly once each.
sup() { xf_as "$PORT_ha" sup1 supervisor prov "$@"; }
sup clock advance 16d >/dev/null
list=$(printf "'%s'," "${registered_only[@]}")
[ "$(psql_new "SELECT count(*) FROM cases c WHERE tracking_number IN (${list%,}) AND (SELECT count(*)
      FROM case_events e WHERE e.case_id = c.id AND e.kind = 'deadline_overdue') = 1")" \
  = "${#registered_only[@]}" ] || fail "the sweeper did not fire each deadline exactly once"
t=${registered_only[0]}
[ "$(sup case history "$t" | grep -c deadline_overdue)" = 1 ] || fail "$t: $(sup case history "$t")"

# Fail back: the lost node rejoins and becomes the synchronous standby again.
"$XF_SRC/deploy/ha/cluster.sh" start-node "$first" "$CLUSTER"
"$XF_SRC/deploy/ha/cluster.sh" wait-sync "$CLUSTER" 90
rejoined_port_var="PG_PORT_${first#node}"
[ "$(psql "postgresql://xinfang@127.0.0.1:${!rejoined_port_var}/$E2E_DB" -tAc \
      "SELECT pg_is_in_recovery()")" = t ] || fail "$first did not rejoin as a standby"
stop_server ha
echo "ha_e2e: ok (${#ok_cases[@]} registrations, ${#accepted[@]} accepts; window ${window} s; ${SECONDS} s in all)"
