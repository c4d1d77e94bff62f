# The statistics' kept counts equal a recount from the cases, at 10,000
# cases (docs/statistics.md): as seeded (xfseed counts them), after a server
# changed them — the sweeper's batches on a moved clock, registrations and
# actions —, after the sweeper folded them, and after they were counted again
# from scratch (xinfang-server --rebuild-statistics). The supervisors' board
# likewise.
. "$(dirname "$0")/lib.sh"

CASES=${STATS_E2E_CASES:-10000}
NOW=2026-06-15T01:00:00Z
"$XF_BIN/tools/xfseed" --db "$E2E_URL" --cases "$CASES" --now "$NOW" --out "$E2E_TMP" \
  --max-seconds 240 >"$E2E_TMP/seed.json"
sql() { psql "$E2E_URL" -qAtc "$1"; }
TOP=$(sql "SELECT code FROM units WHERE parent IS NULL ORDER BY code LIMIT 1")
# Two units below the top with cases of their own.
mapfile -t UNITS < <(sql "SELECT responsible_unit FROM cases WHERE responsible_unit <> '$TOP'
                           GROUP BY 1 ORDER BY count(*) DESC LIMIT 2")
[ "$(sql "SELECT count(*) FROM stats_case")" = "$CASES" ] || fail "xfseed did not count the cases"

start_server srv xinfang-server --simulated-clock 2026-06-15T09:00:00+08:00
SUP=$(token "$PORT_srv" sup-e2e supervisor "$TOP")
CLERK=$(token "$PORT_srv" clerk-e2e intake_clerk "$TOP")
xf() { "$XF_BIN/tools/xfctl" --server "127.0.0.1:$PORT_srv" --token "$SUP" "$@"; }

# every period and unit below: `stats` and `stats --recount` print the same JSON.
compare() {
  local when=$1 compared=0 unit period
  for unit in "$TOP" "${UNITS[@]}"; do
    for period in "2023-06-15 2026-06-30" "2025-06-15 2026-06-30" "2026-01-01 2026-03-31" \
                  "2026-03-01 2026-03-31" "2026-05-17 2026-06-30" "2025-12-31 2025-12-31" \
                  "2026-06-15 2026-06-15" "2026-07-01 2026-09-30"; do
      set -- $period
      local kept recount
      kept=$(xf stats --from "$1" --to "$2" --unit "$unit" --format json)
      recount=$(xf stats --from "$1" --to "$2" --unit "$unit" --format json --recount)
      if [ "$kept" != "$recount" ]; then
        diff <(echo "$kept") <(echo "$recount") | head -20 >&2
        fail "$when: $unit $1..$2: kept counts differ from a recount"
      fi
      compared=$((compared + 1))
    done
  done
  # The supervisors' board: kept == recount for the whole tree and each unit.
  for unit in "$TOP" "${UNITS[@]}"; do
    kept=$(xf --json sup dashboard --unit "$unit")
    recount=$(xf --json sup dashboard --unit "$unit" --recount)
    if [ "$kept" != "$recount" ]; then
      diff <(echo "$kept") <(echo "$recount") | head -20 >&2
      fail "$when: $unit: the board's kept counts differ from a recount"
    fi
    grep -q '"open_cases": [1-9]' <<<"$kept" || fail "$when: $unit: no open cases on the board"
  done
  echo "stats_e2e: $when: $compared periods and 3 boards equal"
}
compare "as seeded"

# The year's first quarter must not be empty: the comparison means something.
q1=$(xf stats --from 2026-01-01 --to 2026-03-31 --unit "$TOP" --format json | tr -d ' \n')
echo "$q1" | grep -q '"received":[1-9]' || fail "no cases received in 2026-Q1: $q1"

# Changes through the server: 40 days of deadlines swept in batches (lapsed
# evaluations, overdue marks, expiry actions), registrations, actions.
xf clock advance 20d >/dev/null
for i in 1 2 3 4 5 6; do
  "$XF_BIN/tools/xfctl" --server "127.0.0.1:$PORT_srv" --token "$CLERK" case register --channel visit \
    --name "统计$i" --category wages.arrears --summary "拖欠工资 $i" --request "支付" \
    --complained-about "某建筑公司" --people 1 --request-id "stats-e2e-$i" >/dev/null
done
first=$(sql "SELECT tracking_number FROM cases WHERE request_id = 'stats-e2e-1'")
"$XF_BIN/tools/xfctl" --server "127.0.0.1:$PORT_srv" --token "$CLERK" case act "$first" accept \
  --field notice="已受理" >/dev/null
xf clock advance 20d >/dev/null
[ "$(sql "SELECT count(*) FROM stats_case")" = "$((CASES + 6))" ] || fail "the registrations were not counted"
compare "after the server's changes"

# The sweeper folds what the changes appended.
unfolded() {
  sql "SELECT (SELECT count(*) FROM stats_cells WHERE NOT folded)
            + (SELECT count(*) FROM board_cells WHERE NOT folded)"
}
for _ in $(seq 100); do
  [ "$(unfolded)" = 0 ] && break
  sleep 0.2
done
[ "$(unfolded)" = 0 ] || fail "the sweeper did not fold the counts"
compare "folded"

# Counted again from scratch.
stop_server srv
"$XF_BIN/services/xinfang-server" --db "$E2E_URL" --data-dir "$XF_SRC/deploy" --rebuild-statistics \
  >"$E2E_TMP/rebuild.log" 2>&1 || { cat "$E2E_TMP/rebuild.log" >&2; fail "--rebuild-statistics"; }
grep -q "statistics counted again: $((CASES + 6)) cases" "$E2E_TMP/rebuild.log" || fail "rebuild: count"
start_server srv xinfang-server --simulated-clock 2026-07-25T09:00:00+08:00
compare "rebuilt"
echo "stats_e2e: ok"
