#!/usr/bin/env bash
# The web console in a real browser: Debian's chromium, headless, driven by
# playwright-core (web/tests/console.test.mjs) against a server on a
# throwaway database and a simulated clock. Screenshots are kept in
# $XF_BIN/console-artifacts/. The first-screen time (fresh profiles) and
# what it transferred are printed, not asserted (docs/benchmarks.md).
. "$(dirname "$0")/lib.sh"

[ -f "$XF_SRC/web/dist/index.html" ] || fail "the console is not built (web/dist): ./deploy/test.sh builds it"
[ -x /usr/bin/chromium ] || fail "no /usr/bin/chromium (Debian package chromium)"

XINFANG_HTTP_PORT_FILE="$E2E_TMP/one.http" start_server one xinfang-server \
  --http-listen 127.0.0.1:0 --console-dir "$XF_SRC/web/dist" \
  --simulated-clock 2026-03-02T09:00:00+08:00 --sweep-interval-ms 200
x() { "$XF_BIN/tools/xfctl" --server "127.0.0.1:$PORT_one" --token "$E2E_ADMIN_TOKEN" "$@"; }
# People with passwords (changed at their first sign-in by the browser test).
while read -r name role unit; do
  x admin account create "$name" --role "$role" --unit "$unit" >/dev/null
  echo "Initial-$name-1" | x admin account password "$name" >/dev/null
done <<'ACCOUNTS'
clerk1 intake_clerk prov.organs.office
officer1 case_officer prov.organs.office
head1 unit_head prov.organs.office
head2 unit_head prov.organs.office
sup1 supervisor prov
reader1 auditor prov.organs.edu
admin1 administrator prov
ACCOUNTS
# A second case, by token, for the supervisor's board: left to go overdue.
clerk_token=$(x admin token issue clerk1 --label e2e 2>/dev/null)
late=$("$XF_BIN/tools/xfctl" --server "127.0.0.1:$PORT_one" --token "$clerk_token" --json case register \
  --channel call --caller-number 12351 --name 孙八 --category wages.arrears --summary "欠薪半年" |
  json_field tracking_number)
[ -n "$late" ] || fail "no second case"
# Three petitions against one employer under three spellings of its name:
# the server's feed raises a same_employer warning (deploy/warnings/rules.textproto)
# for the supervisor's board.
registered=1
while read -r name employer phone; do
  t=$("$XF_BIN/tools/xfctl" --server "127.0.0.1:$PORT_one" --token "$clerk_token" --json case register \
    --channel call --caller-number "$phone" --name "$name" --category wages.arrears --summary "工地欠薪" \
    --complained-about "$employer" </dev/null | json_field tracking_number)
  [ -n "$t" ] || fail "no case against $employer"
  registered=$((registered + 1))
done <<'EMPLOYER'
赵一 某建筑有限公司 12352
钱二 某建筑集团 12353
李三 某建筑公司 12354
EMPLOYER
head_token=$(x admin token issue head1 --label e2e 2>/dev/null)
sup_token=$(x admin token issue sup1 --label e2e 2>/dev/null)

mkdir -p "$XF_BIN/console-artifacts"
XF_CONSOLE_URL="http://127.0.0.1:$(cat "$E2E_TMP/one.http")" XF_GRPC="127.0.0.1:$PORT_one" \
  XF_XFCTL="$XF_BIN/tools/xfctl" XF_HEAD_TOKEN="$head_token" XF_SUP_TOKEN="$sup_token" \
  XF_CLERK_TOKEN="$clerk_token" XF_LATE_CASE="$late" XF_REGISTERED="$registered" XF_ARTIFACTS="$XF_BIN/console-artifacts" \
  XF_PROFILE="$E2E_TMP/chromium" \
  node --test --test-reporter=spec "$XF_SRC/web/tests/" || fail "browser tests"
# The officer's queue in xfctl: the same deadlines, nearest first, with days left.
officer_token=$(x admin token issue officer1 --label e2e 2>/dev/null)
q=$("$XF_BIN/tools/xfctl" --server "127.0.0.1:$PORT_one" --token "$officer_token" queue)
echo "$q" | grep "$late" | grep -q "OVERDUE 1d, rung 1\|OVERDUE 0d, rung 1" || fail "xfctl queue: $q"
echo "$q" | head -1 | grep -q "days left" || fail "xfctl queue header: $q"
stop_server one
echo "console_e2e: ok"
