#!/usr/bin/env bash
# Measures backups and restores at size: a throwaway cluster archiving WAL
# into a pgBackRest repository, N cases loaded by xfseed, then
#  - a full backup of the loaded database, and a restore of it (the copy);
#  - a restore from the full backup taken before the load, to a time after
#    it (the copy of the small backup plus the replay of all the load's WAL).
# Prints one line of figures. Everything lives in a temp dir removed on exit.
#   deploy/backup/measure-restore.sh [CASES]   (default 100000; build/ must be built)
set -euo pipefail
. "$(dirname "$0")/../lib/common.sh"
CASES=${1:-100000}
BUILD=${XINFANG_BUILD_DIR:-$XF_ROOT/build}
T=$(mktemp -d /tmp/xf-measure.XXXXXX)
chmod 755 "$T"
cleanup() { for d in pg r1 r2; do xf_pg_stop "$T/$d"; done; rm -rf "$T"; }
trap cleanup EXIT
now_ms() { echo $(($(date +%s%N) / 1000000)); }
secs() { printf '%d.%01d' $(($1 / 1000)) $((($1 % 1000) / 100)); }

xf_backup_cluster "$T" "$(xf_free_port 57000)"
conf=$XF_BACKUP_CONF
port=$(xf_pg_port "$T/pg")
psql -h 127.0.0.1 -p "$port" -U xinfang -d postgres -qc "CREATE DATABASE xinfang"
url="postgresql://xinfang@127.0.0.1:$port/xinfang"
"$BUILD/services/xinfang-server" --db "$url" --data-dir "$XF_ROOT/deploy" --migrate-only 2>/dev/null
xf_backup "$conf" --type=full backup                       # before the load

t=$(now_ms)
"$BUILD/tools/xfseed" --db "$url" --cases "$CASES" --now 2026-11-01T09:00:00+08:00 --out "$T" \
  --max-seconds 3600 >/dev/null
seed_ms=$(($(now_ms) - t))
after_load=$(psql "$url" -tAc "SELECT clock_timestamp()")
psql "$url" -qtAc "SELECT txid_current()" >/dev/null     # a commit after that time, to stop at
xf_backup "$conf" --log-level-console=error check
db_size=$(psql "$url" -tAc "SELECT pg_size_pretty(pg_database_size('xinfang'))")
wal=$(psql "$url" -tAc "SELECT pg_size_pretty(pg_current_wal_lsn() - '0/0'::pg_lsn)")

t=$(now_ms)
xf_backup "$conf" --type=full backup
backup_ms=$(($(now_ms) - t))
xf_backup "$conf" --log-level-console=error check
repo=$(du -sh "$T/backup/repo" | cut -f1)
xf_pg_stop "$T/pg"

restore() {  # restore DIR TIME: prints the milliseconds until promoted
  local dir=$1 time=$2 p t0
  p=$(xf_free_port $((port + 1)))
  t0=$(now_ms)
  xf_backup_restore "$conf" "$T/$dir" "$time" "$p" >&2
  echo "archive_mode = off" >>"$T/$dir/data/postgresql.conf"
  xf_pg_start "$T/$dir"
  xf_pg_wait_promoted "$T/$dir"
  echo $(($(now_ms) - t0))
  [ "$(psql -h 127.0.0.1 -p "$p" -U xinfang -d xinfang -tAc "SELECT count(*) >= $CASES FROM cases")" = t ] ||
    { echo "the restored copy lacks cases" >&2; exit 1; }
  xf_pg_stop "$T/$dir"
  rm -rf "${T:?}/$dir"
}
copy_ms=$(restore r1 latest)
replay_ms=$(restore r2 "$after_load")
echo "cases=$CASES seed=$(secs "$seed_ms")s db=$db_size wal_written=$wal repo=$repo" \
  "full_backup=$(secs "$backup_ms")s restore_from_full=$(secs "$copy_ms")s" \
  "restore_replaying_the_load=$(secs "$replay_ms")s"
