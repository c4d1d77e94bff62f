#!/usr/bin/env bash
# The split binaries: intake and query as separate processes on one database.
. "$(dirname "$0")/lib.sh"

start_server intake xinfang-intake
start_server query xinfang-query
out=$(xf "$PORT_intake" --json case register --channel online --platform 12351 --ref WX-1 \
  --name 陈七 --category insurance --summary "单位未缴纳社会保险")
tracking=$(echo "$out" | json_field tracking_number)
[ -n "$tracking" ] || fail "no tracking number: $out"
show=$(xf "$PORT_query" --json case show "$tracking")
grep -q "陈七" <<<"$show" || fail "query process does not see the case: $show"
# The intake process does not host the query service.
rc=0; err=$(xf "$PORT_intake" case show "$tracking" 2>&1) || rc=$?
[ "$rc" != 0 ] && grep -q UNIMPLEMENTED <<<"$err" || fail "intake process answered a query: $err"
stop_server intake
stop_server query
echo "split_e2e: ok"
