#!/usr/bin/env bash
# The restore drill: a cluster archiving its WAL to a pgBackRest repository
# (deploy/backup/), a server on it; cases registered and acted on in groups
# with a full and a differential backup between them; a point in time noted
# between two groups; a restore to that time into a fresh cluster directory;
# a server on the restored copy sees exactly the cases (and actions) from
# before that time, and every history verifies. Prints the restore's time.
set -euo pipefail
. "$XF_SRC/deploy/lib/common.sh"

DRILL=$(mktemp -d /tmp/xf-restore.XXXXXX)
chmod 755 "$DRILL"
drill_cleanup() {
  xf_pg_stop "$DRILL/restored"
  xf_pg_stop "$DRILL/pg"
  rm -rf "$DRILL"
}
trap drill_cleanup EXIT
xf_backup_cluster "$DRILL" "$(xf_free_port $((56000 + RANDOM % 1000)))"
CONF=$XF_BACKUP_CONF
PORT_PG=$(xf_pg_port "$DRILL/pg")

# lib.sh makes its database (and the first administrator) on this cluster.
XINFANG_TEST_PG="postgresql://xinfang@127.0.0.1:$PORT_PG/postgres"
. "$XF_SRC/tests/e2e/lib.sh"
trap 'e2e_cleanup; drill_cleanup' EXIT

start_server live xinfang-server
audit() { local port=$1; shift; xf_as "$port" audit1 auditor prov "$@"; }
register() {  # register PORT NAME: prints the tracking number
  xf "$1" --json case register --channel letter --name "$2" --phone 13900000001 \
    --category wages.arrears --summary "欠薪" --postmark 2026-11-20 --sender-address "某市某路1号" |
    json_field tracking_number
}
declare -a before=() after=()
group() {  # group N ARRAY: registers N cases, appends their numbers to ARRAY
  local -n into=$2
  local i t
  for i in $(seq "$1"); do
    t=$(register "$PORT_live" "甲$i")
    [ -n "$t" ] || fail "registration failed"
    into+=("$t")
  done
}
# Every account this test uses exists before the restore point.
audit "$PORT_live" whoami >/dev/null

group 4 before
xf "$PORT_live" case act "${before[0]}" accept --field notice="已受理" >/dev/null
xf_backup "$CONF" --type=full backup
group 3 before
xf "$PORT_live" case act "${before[1]}" accept --field notice="已受理" >/dev/null
xf_backup "$CONF" --type=diff backup
group 2 before
xf "$PORT_live" case act "${before[5]}" accept --field notice="已受理" >/dev/null
# The point in time: every commit above is before it, every commit below after.
POINT=$(psql "$E2E_URL" -tAc "SELECT clock_timestamp()")
group 3 after
xf "$PORT_live" case act "${before[2]}" accept --field notice="已受理" >/dev/null
# A WAL switch, archived: the repository holds WAL past the point.
xf_backup "$CONF" --log-level-console=error check
stop_server live

start=$(date +%s%N)
RESTORED_PORT=$(xf_free_port $((PORT_PG + 1)))
xf_backup_restore "$CONF" "$DRILL/restored" "$POINT" "$RESTORED_PORT"
# The copy must not archive into the live cluster's repository.
echo "archive_mode = off" >>"$DRILL/restored/data/postgresql.conf"
xf_pg_start "$DRILL/restored"
xf_pg_wait_promoted "$DRILL/restored"
ms=$((($(date +%s%N) - start) / 1000000))
seconds=$((ms / 1000)).$(printf %03d $((ms % 1000)))
size=$(psql -h 127.0.0.1 -p "$RESTORED_PORT" -U xinfang -d postgres -tAc \
  "SELECT pg_size_pretty(sum(pg_database_size(datname))::bigint) FROM pg_database")
echo "restored to $POINT in ${seconds}s (cluster $size)"

E2E_URL="postgresql://xinfang@127.0.0.1:$RESTORED_PORT/$E2E_DB"
start_server restored xinfang-server
got=$(audit "$PORT_restored" case list | grep -o 'XF[0-9]*-[0-9]*' | sort)
want=$(printf '%s\n' "${before[@]}" | sort)
[ "$got" = "$want" ] || fail "cases after the restore: $(echo $got), want $(echo $want)"
for t in "${after[@]}"; do
  rc=0; out=$(audit "$PORT_restored" case show "$t" 2>&1) || rc=$?
  [ "$rc" = 1 ] && grep -q NOT_FOUND <<<"$out" || fail "$t (after the point) is there: $out"
done
state() { audit "$PORT_restored" --json case show "$1" | json_field state; }
for i in 0 1 5; do
  [ "$(state "${before[$i]}")" = accepted ] || fail "${before[$i]}: the acceptance before the point is lost"
done
[ "$(state "${before[2]}")" = registered ] || fail "${before[2]}: the acceptance after the point survived"
for t in "${before[@]}"; do
  audit "$PORT_restored" case verify "$t" | grep -q intact || fail "$t: history does not verify"
done
# The restored service works: a new registration on the copy.
[ -n "$(register "$PORT_restored" 乙1)" ] || fail "no registration on the restored copy"
stop_server restored
echo "restore_e2e: ok (${#before[@]} cases kept, ${#after[@]} after the point gone, restore ${seconds}s)"
