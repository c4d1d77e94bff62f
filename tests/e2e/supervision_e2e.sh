#!/usr/bin/env bash
# A server on a simulated clock: a case left untouched climbs the whole
# ladder as the clock is advanced, visible in `xfctl sup overdue`, the
# dashboard and the case history; a notice is issued and answered.
. "$(dirname "$0")/lib.sh"

start_server sim xinfang-server --simulated-clock 2026-03-02T09:00:00+08:00
sup() { xf_as "$PORT_sim" sup1 supervisor prov "$@"; }
out=$(xf "$PORT_sim" --json case register --channel call --caller-number 12351 --name 孙八 \
  --category wages.arrears --summary "欠薪半年")
t=$(echo "$out" | json_field tracking_number)
[ -n "$t" ] || fail "no tracking number: $out"

[ -z "$(sup sup overdue | grep "$t")" ] || fail "overdue before its deadline"
sup clock advance 16d >/dev/null                       # 3/18 09:00: overdue, rung 1
sup sup overdue | grep "$t" | grep -q "rung 1" || fail "rung 1 not shown: $(sup sup overdue)"
sup clock advance 3d >/dev/null                        # 3/21: rung 2
sup clock advance 4d >/dev/null                        # 3/25: rung 3
sup clock advance 8d >/dev/null                        # 4/2: rung 4, the top
sup sup overdue | grep "$t" | grep -q "rung 4" || fail "rung 4 not shown: $(sup sup overdue)"
history=$(sup case history "$t")
for want in deadline_warning deadline_overdue; do
  [ "$(echo "$history" | grep -c "$want")" = 1 ] || fail "$want not exactly once: $history"
done
[ "$(echo "$history" | grep -c escalated)" = 4 ] || fail "not four rungs: $history"
sup sup dashboard | grep -q "prov.organs.office" || fail "dashboard: $(sup sup dashboard)"

# A supervision notice, listed until the unit replies.
sup sup notice issue "$t" --kind listed_supervision --text "挂牌督办：限期十日答复" --reply-days 10 >/dev/null
sup sup notice list | grep -q "$t" || fail "notice not listed"
xf_as "$PORT_sim" head1 unit_head prov.organs.office \
  sup notice reply "$t" --text "已责成企业支付" >/dev/null
[ -z "$(sup sup notice list | grep "$t")" ] || fail "answered notice still listed"

# An officer's own queue, and the reference lists kept by the administrator.
xf_as "$PORT_sim" officer7 case_officer prov.organs.office whoami >/dev/null   # the account exists
xf "$PORT_sim" case act "$t" accept >/dev/null || fail "accept"
xf_as "$PORT_sim" head1 unit_head prov.organs.office case act "$t" assign_officer --field officer=officer7 >/dev/null ||
  fail "assign_officer: $(xf_as "$PORT_sim" head1 unit_head prov.organs.office case actions "$t")"
mine=$(xf_as "$PORT_sim" officer7 case_officer prov.organs.office queue --mine)
echo "$mine" | grep "$t" | grep -q officer7 || fail "queue --mine: $mine"
other=$(xf_as "$PORT_sim" officer8 case_officer prov.organs.office queue --mine)
[ -z "$(echo "$other" | grep "$t")" ] || fail "another officer's queue shows the case: $other"
adm() { "$XF_BIN/tools/xfctl" --server "127.0.0.1:$PORT_sim" --token "$E2E_ADMIN_TOKEN" "$@"; }
adm admin unit put prov.city-c --name "C市总工会" --parent prov | grep -q "added unit prov.city-c" || fail "unit put"
rc=0; err=$(adm admin unit put prov.city-c --name "C市总工会" --parent prov.organs 2>&1) || rc=$?
[ "$rc" != 0 ] && grep -q "fixed" <<<"$err" || fail "unit move not refused: $rc $err"
adm admin category put wages.bonus --name 奖金 --parent wages | grep -q "added category" || fail "category put"
adm admin category put wages.bonus --name 奖金 --parent wages --retire | grep -q "retired" || fail "category retire"
[ -z "$(xf "$PORT_sim" admin reference | grep wages.bonus)" ] || fail "a retired category is still offered"
adm admin reference --all | grep wages.bonus | grep -q retired || fail "reference --all"

# Early warning: three petitions against one employer, written three ways,
# raise one warning (the server's processor, within a few seconds); it is
# moved on with xfctl; the situation report counts this month's petitions.
for form in 东方纺织有限公司 东方纺织集团 东方纺织厂; do
  xf "$PORT_sim" case register --channel call --caller-number 12351 --anonymous --category wages.arrears \
    --summary "欠薪" --complained-about "$form" >/dev/null || fail "register against $form"
done
w=""
for _ in $(seq 100); do
  w=$(sup sup warnings --rule same_employer | grep 东方纺织 || true)
  [ -n "$w" ] && break
  sleep 0.1
done
[ -n "$w" ] || fail "no same_employer warning: $(sup sup warnings --all)"
grep -q "3 " <<<"$w" || fail "not three petitions: $w"
id=$(echo "$w" | awk '{print $1}')
sup sup warning show "$id" | grep -c "XF" | grep -q 3 || fail "warning show: $(sup sup warning show "$id")"
rc=0; err=$(sup sup warning handle "$id" 2>&1) || rc=$?
[ "$rc" != 0 ] && grep -q "INVALID_ARGUMENT: note" <<<"$err" || fail "handle without a note: $rc $err"
sup sup warning handle "$id" --note "已约谈" | grep -q handled || fail "handle"
[ -z "$(sup sup warnings | grep "^$id ")" ] || fail "a handled warning is still open"
month=$(sup --json info | sed -n 's/.*"now": "\([0-9]*-[0-9]*\)-.*/\1/p' | head -1)
[ -n "$month" ] || month=2026-04
report=$(sup report --period "$month" --format csv)
echo "$report" | head -1 | grep -q "\"$month\"" || fail "report header: $report"
grep -q '"group petitions"\|集体访' <<<"$report" || fail "report rows: $report"
err=$(sup report --period 2026-13 2>&1) && fail "a bad period accepted: $err"
grep -q "INVALID_ARGUMENT: period" <<<"$err" || fail "a bad period: $err"
stop_server sim
echo "supervision_e2e: ok"
