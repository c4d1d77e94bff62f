#!/usr/bin/env bash
# The all-in-one server as a process: register with xfctl, read back by
# tracking number, SIGTERM (exit 0), restart, read again.
. "$(dirname "$0")/lib.sh"

start_server one xinfang-server
out=$(xf "$PORT_one" --json case register --channel letter --name 王五 --phone 13900000001 \
  --category contract.dismissal --summary "被违法解除劳动合同" --postmark 2026-11-20 \
  --sender-address "某市某区某路1号" --request-id e2e-letter-0001)
tracking=$(echo "$out" | json_field tracking_number)
[ -n "$tracking" ] || fail "no tracking number in: $out"
echo "registered $tracking"

show=$(xf "$PORT_one" case show "$tracking")
echo "$show" | grep -q "王五" || fail "case show lacks the petitioner: $show"
echo "$show" | grep -q "intake_notice" || fail "case show lacks the deadline: $show"
echo "$show" | grep -q "registered" || fail "case show lacks the state"

# A retry with the same request id returns the same case.
again=$(xf "$PORT_one" --json case register --channel letter --name 王五 --phone 13900000001 \
  --category contract.dismissal --summary "被违法解除劳动合同" --request-id e2e-letter-0001)
[ "$(echo "$again" | json_field tracking_number)" = "$tracking" ] || fail "retry made a new case"

# Bad input: a clear status naming the field, exit code 1.
rc=0; err=$(xf "$PORT_one" case register --channel visit --name 赵六 --category wages.arrears \
  --summary x --representative a --representative b --representative c --representative d \
  --representative e --representative f 2>&1) || rc=$?
[ "$rc" = 1 ] || fail "six representatives: exit $rc"
echo "$err" | grep -q "INVALID_ARGUMENT: intake.visit.representatives" || fail "unclear error: $err"

stop_server one
start_server two xinfang-server
show=$(xf "$PORT_two" --json case show "$tracking")
echo "$show" | grep -q "\"tracking_number\": \"$tracking\"" || fail "not found after restart: $show"
echo "$show" | grep -q "王五" || fail "petitioner lost after restart"
stop_server two
echo "server_e2e: ok"
