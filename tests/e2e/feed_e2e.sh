#!/usr/bin/env bash
# Following case events with `xfctl watch`: resumable with a saved cursor,
# nothing missed or repeated across runs.
. "$(dirname "$0")/lib.sh"

start_server one xinfang-server
cur="$E2E_TMP/cursor"
reg() { xf "$PORT_one" --json case register --channel online --platform 12351 --name "$1" \
          --category wages.arrears --summary "$2" | json_field tracking_number; }
a=$(reg 郑一 "第一件"); b=$(reg 王二 "第二件")
svc_token=$(token "$PORT_one" svc service prov)
w() { timeout 20 "$XF_BIN/tools/xfctl" --server "127.0.0.1:$PORT_one" --token "$svc_token" \
        watch --cursor-file "$cur" "$@"; }
first=$(w --count 1)
grep -q "$a" <<<"$first" || fail "first watch: $first"
second=$(w --count 1)
grep -q "$b" <<<"$second" || fail "resumed watch did not continue after $a: $second"
# A change made while nobody watches is delivered on the next run, once.
c=$(reg 李三 "第三件")
third=$(w --count 1)
grep -q "$c" <<<"$third" || fail "event made between runs: $third"
json=$(w --count 1 --json --cursor 0)
grep -q "\"tracking_number\":\"$a\"" <<<"$json" || fail "--cursor 0 must start again: $json"
# Replaying everything ends at the server's caught-up marker instead of waiting.
replay=$(timeout 20 "$XF_BIN/tools/xfctl" --server "127.0.0.1:$PORT_one" --token "$svc_token" \
           watch --cursor 0 --until-caught-up) || fail "watch --until-caught-up did not end: $replay"
for t in "$a" "$b" "$c"; do grep -q "$t" <<<"$replay" || fail "replay lacks $t: $replay"; done
# The same cases through case list: newest first, filtered.
list=$(xf "$PORT_one" case list)
[ "$(echo "$list" | grep -c XF)" = 3 ] || fail "case list: $list"
[ "$(echo "$list" | grep XF | head -1 | cut -d' ' -f1)" = "$c" ] || fail "not newest first: $list"
grep -q "$b" <<<"$(xf "$PORT_one" case list --petitioner 王二)" || fail "petitioner filter"
today=$(TZ=Asia/Shanghai date +%F)
[ "$(xf "$PORT_one" case list --from "$today" --to "$today" | grep -c XF)" = 3 ] || fail "date range"
stats=$(xf_as "$PORT_one" sup1 supervisor prov stats --from "$today" --to "$today" --format csv)
grep -q '"收到 received","3"' <<<"$stats" || fail "stats: $stats"
stop_server one
echo "feed_e2e: ok"
