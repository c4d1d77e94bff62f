#!/usr/bin/env bash
# Runs xinfang on this machine: installs missing Debian packages, builds,
# starts a private PostgreSQL (data in .xinfang/, loopback and a Unix socket
# only, its WAL archived by pgBackRest), and starts xinfang-server on
# 127.0.0.1:50051, which applies the migrations. Running it again reuses the data.
#   ./deploy/run.sh            start (or report that it is running)
#   ./deploy/run.sh stop       stop the servers (the demo's too) and the database
#   ./deploy/run.sh status
#   ./deploy/run.sh bootstrap [NAME]   create the first administrator (default
#                              name: admin) and print its token, once
#   ./deploy/run.sh backup [full|diff|incr|info]   a pgBackRest backup (default
#                              diff; the first is always full), or the list
#   ./deploy/run.sh restore --to TIME|latest   restore the database as it was at
#                              TIME (e.g. "2026-11-29 15:30:00+08") or as late as the
#                              archive reaches; the data before is kept aside
#   ./deploy/run.sh demo [start|stop|status|bootstrap [NAME]|reset] [server flags...]
#                              a demo server on a simulated clock with its own
#                              database (xinfang_demo), on 127.0.0.1:50061 and :8081
# Extra flags after `start` go to xinfang-server (e.g. --log-level debug).
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

STATE="$XF_ROOT/.xinfang"
PG="$STATE/pg"
BUILD="$XF_ROOT/build"
BACKUP="$STATE/backup"
BACKUP_CONF="$BACKUP/pgbackrest.conf"
# The backup repository: put it on another disk (docs/operations.md).
BACKUP_REPO=${XINFANG_BACKUP_REPO:-$BACKUP/repo}

demo=no
if [ "${1:-}" = demo ]; then demo=yes; shift; fi
if [ $demo = yes ]; then
  # The demo: its own database, ports, log and clock; never the real data.
  DB_NAME=xinfang_demo
  PIDFILE="$STATE/demo.pid"
  LOG="$STATE/demo.log"
  LISTEN=${XINFANG_DEMO_LISTEN:-127.0.0.1:50061}
  HTTP_LISTEN=${XINFANG_DEMO_HTTP_LISTEN:-127.0.0.1:8081}
  MODE_FLAGS=(--simulated-clock "${XINFANG_DEMO_CLOCK:-2026-03-02T09:00:00+08:00}")
  ME="./deploy/run.sh demo"
else
  DB_NAME=xinfang
  PIDFILE="$STATE/server.pid"
  LOG="$STATE/server.log"
  LISTEN=${XINFANG_LISTEN:-127.0.0.1:50051}
  HTTP_LISTEN=${XINFANG_HTTP_LISTEN:-127.0.0.1:8080}   # the console and the Connect API
  MODE_FLAGS=()
  ME="./deploy/run.sh"
fi

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
server_running() { running "$PIDFILE"; }
pg_running() { [ -d "$PG/data" ] && xf_pg_run "$XF_PG_BIN/pg_ctl" -D "$PG/data" status >/dev/null 2>&1; }
db_url() { echo "postgresql://xinfang@127.0.0.1:$(xf_pg_port "$PG")/$DB_NAME"; }

stop_server() {  # stop_server PIDFILE
  if running "$1"; then
    xf_log "stopping the server (pid $(cat "$1"))"
    kill -TERM "$(cat "$1")"
    for _ in $(seq 50); do running "$1" || break; sleep 0.2; done
  fi
  rm -f "$1"
}
stop_pg() { if [ -d "$PG/data" ]; then xf_log "stopping PostgreSQL"; xf_pg_stop "$PG"; fi; }

# WAL archiving to the repository, set once per cluster (archive_mode is
# read at PostgreSQL's start: call this before starting it).
ensure_archiving() {
  xf_backup_conf "$PG" "$BACKUP" "$BACKUP_REPO" >/dev/null
  if ! xf_backup_archiving "$PG"; then
    xf_log "archiving WAL to the pgBackRest repository $BACKUP_REPO"
    xf_backup_archive_on "$PG" "$BACKUP_CONF"
  fi
}

start_pg() {
  mkdir -p "$STATE"
  if [ ! -d "$PG/data" ]; then
    xf_log "creating a private PostgreSQL cluster in $PG"
    xf_pg_init "$PG" "$(xf_free_port 55432)"
  fi
  if pg_running && ! xf_backup_archiving "$PG"; then
    xf_log "restarting PostgreSQL to turn WAL archiving on"
    xf_pg_stop "$PG"
  fi
  ensure_archiving
  if ! pg_running; then
    xf_log "starting PostgreSQL on 127.0.0.1:$(xf_pg_port "$PG")"
    xf_pg_start "$PG"
  fi
  xf_backup "$BACKUP_CONF" --log-level-console=error stanza-create
}

need_pg() {
  pg_running || { echo "xinfang is not running: $ME first" >&2; exit 1; }
}

cmd=${1:-start}
[ $# -gt 0 ] && shift
case "$cmd" in
  stop)
    if [ $demo = yes ]; then
      stop_server "$PIDFILE"
      running "$STATE/server.pid" || stop_pg
    else
      stop_server "$STATE/demo.pid"
      stop_server "$PIDFILE"
      stop_pg
    fi
    exit 0 ;;
  status)
    if server_running; then echo "xinfang-server${MODE_FLAGS:+ (demo)} running (pid $(cat "$PIDFILE")) on $LISTEN, console http://$HTTP_LISTEN/"; else echo "xinfang-server${MODE_FLAGS:+ (demo)} not running"; fi
    exit 0 ;;
  bootstrap)
    need_pg
    exec "$BUILD/services/xinfang-server" --db "$(db_url)" \
      --bootstrap-admin "${1:-admin}" --token-ttl-days "${XINFANG_BOOTSTRAP_TTL_DAYS:-30}" ;;
  reset)
    [ $demo = yes ] || { echo "only the demo is reset: ./deploy/run.sh demo reset" >&2; exit 2; }
    stop_server "$PIDFILE"
    need_pg
    xf_log "dropping the demo database $DB_NAME"
    psql -h 127.0.0.1 -p "$(xf_pg_port "$PG")" -U xinfang -d postgres -qc \
      "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" >/dev/null
    echo "The demo database is gone; ./deploy/run.sh demo starts a new one (then ./deploy/run.sh demo bootstrap)."
    exit 0 ;;
  backup)
    [ $demo = no ] || { echo "the demo is not backed up" >&2; exit 2; }
    type=${1:-diff}
    case "$type" in full|diff|incr|info) ;; *) echo "backup: type must be full, diff, incr or info, not '$type'" >&2; exit 2 ;; esac
    need_pg
    xf_backup_archiving "$PG" || { echo "WAL archiving is off: ./deploy/run.sh stop, then ./deploy/run.sh turns it on" >&2; exit 1; }
    if [ "$type" != info ]; then
      xf_log "taking a $type backup into $BACKUP_REPO"
      xf_backup "$BACKUP_CONF" --type="$type" backup
    fi
    xf_backup "$BACKUP_CONF" info
    exit 0 ;;
  restore)
    [ $demo = no ] || { echo "the demo is not restored: ./deploy/run.sh demo reset" >&2; exit 2; }
    [ "${1:-}" = --to ] && [ -n "${2:-}" ] ||
      { echo "usage: $0 restore --to TIME|latest (e.g. \"2026-11-29 15:30:00+08\")" >&2; exit 2; }
    to=$2
    [ -f "$BACKUP_CONF" ] || { echo "no backup configuration in $BACKUP: nothing to restore from" >&2; exit 1; }
    stop_server "$STATE/demo.pid"
    stop_server "$PIDFILE"
    # The WAL being written goes to the repository too (a switch, archived).
    if pg_running; then
      xf_backup "$BACKUP_CONF" --log-level-console=error check ||
        xf_log "warning: the last WAL segment did not reach the repository"
    fi
    stop_pg
    aside="$PG/data.before-restore-$(date -u +%Y%m%dT%H%M%SZ)"
    xf_log "moving the current data aside to $aside (remove it yourself once the restore is checked)"
    mv "$PG/data" "$aside"
    xf_log "restoring to $to"
    start=$(date +%s)
    if ! xf_backup_restore "$BACKUP_CONF" "$PG" "$to" || ! xf_pg_start "$PG" || ! xf_pg_wait_promoted "$PG"; then
      xf_pg_stop "$PG"
      rm -rf "$PG/data"
      mv "$aside" "$PG/data"
      echo "restore failed; the data before it is back in place (./deploy/run.sh starts it)" >&2
      exit 1
    fi
    xf_log "restored in $(($(date +%s) - start)) s; take a full backup soon: ./deploy/run.sh backup full"
    set -- ;;   # go on to start the server
  start) ;;
  *) echo "usage: $0 [start [server flags...]|stop|status|bootstrap [NAME]|backup [full|diff|incr|info]|restore --to TIME|demo ...]" >&2; exit 2 ;;
esac

if [ $demo = no ]; then
  for a in "$@"; do
    case "$a" in
      --simulated-clock*) echo "a simulated clock is for the demo's own database: ./deploy/run.sh demo (XINFANG_DEMO_CLOCK sets its start)" >&2; exit 2 ;;
    esac
  done
fi

if server_running; then
  echo "xinfang-server is already running on $LISTEN (pid $(cat "$PIDFILE")); $ME stop first to restart it."
  exit 0
fi

xf_install_packages
xf_build "$BUILD"
start_pg
port=$(xf_pg_port "$PG")
xf_pg_createdb "$port" "$DB_NAME"

DB_URL=$(db_url)
[ $demo = yes ] || echo "$DB_URL" >"$STATE/db_url"
xf_log "starting xinfang-server on $LISTEN and http://$HTTP_LISTEN/ (log: $LOG)"
nohup "$BUILD/services/xinfang-server" --db "$DB_URL" --listen "$LISTEN" --http-listen "$HTTP_LISTEN" \
  "${MODE_FLAGS[@]}" "$@" >>"$LOG" 2>&1 </dev/null &
echo $! >"$PIDFILE"
answered=no
for _ in $(seq 150); do
  # Without a token the server answers UNAUTHENTICATED: it is up.
  probe=$(env -u XFCTL_TOKEN -u XFCTL_TOKEN_FILE -u XFCTL_TLS_CA -u XFCTL_TLS_CERT -u XFCTL_TLS_KEY \
    XFCTL_CONFIG=/dev/null "$BUILD/tools/xfctl" --server "$LISTEN" --timeout 1 info 2>&1 || true)
  if [[ $probe == *UNAUTHENTICATED* ]]; then
    answered=yes
    break
  fi
  if ! server_running; then echo "xinfang-server exited:" >&2; tail -5 "$LOG" >&2; rm -f "$PIDFILE"; exit 1; fi
  sleep 0.2
done
if [ "$answered" != yes ]; then
  echo "xinfang-server did not answer on $LISTEN within 30 s; its log:" >&2
  tail -5 "$LOG" >&2
  exit 1
fi

cat <<TXT

xinfang${MODE_FLAGS:+ (demo, simulated clock)} is running: server $LISTEN, database $DB_URL
The console and the Connect API: http://$HTTP_LISTEN/
Every call needs a token. The first time, create the administrator (see
README.md for the whole walkthrough):
  export PATH="$BUILD/tools:\$PATH" XFCTL_SERVER=$LISTEN
  export XFCTL_TOKEN=\$($ME bootstrap admin)
  xfctl whoami
  xfctl admin account create clerk1 --role intake_clerk --unit prov.organs.office
Stop it with: $ME stop
TXT
if [ $demo = yes ]; then
  echo "Move its clock with xfctl clock advance 16d; start the demo afresh with: ./deploy/run.sh demo reset"
else
  echo "Back up with: ./deploy/run.sh backup (WAL is archived continuously to $BACKUP_REPO)"
fi
