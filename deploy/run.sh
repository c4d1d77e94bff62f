#!/usr/bin/env bash
# Runs xinfang on this machine: installs missing Debian packages, builds,
# starts a private PostgreSQL (data in .xinfang/, loopback and a Unix socket
# only), and starts xinfang-server on 127.0.0.1:50051, which applies the
# migrations. Running it again reuses the data.
#   ./deploy/run.sh            start (or report that it is running)
#   ./deploy/run.sh stop       stop the server and the database
#   ./deploy/run.sh status
#   ./deploy/run.sh bootstrap [NAME]   create the first administrator (default
#                              name: admin) and print its token, once
# Extra flags after `start` go to xinfang-server (e.g. --simulated-clock=2026-03-02T09:00:00+08:00).
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

STATE="$XF_ROOT/.xinfang"
PG="$STATE/pg"
BUILD="$XF_ROOT/build"
PIDFILE="$STATE/server.pid"
LISTEN=${XINFANG_LISTEN:-127.0.0.1:50051}
HTTP_LISTEN=${XINFANG_HTTP_LISTEN:-127.0.0.1:8080}   # the console and the Connect API

server_running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

stop() {
  if server_running; then
    xf_log "stopping xinfang-server"
    kill -TERM "$(cat "$PIDFILE")"
    for _ in $(seq 50); do server_running || break; sleep 0.2; done
  fi
  rm -f "$PIDFILE"
  if [ -d "$PG/data" ]; then xf_log "stopping PostgreSQL"; xf_pg_stop "$PG"; fi
}

cmd=${1:-start}
[ $# -gt 0 ] && shift
case "$cmd" in
  stop) stop; exit 0 ;;
  status)
    if server_running; then echo "xinfang-server running (pid $(cat "$PIDFILE")) on $LISTEN, console http://$HTTP_LISTEN/"; else echo "xinfang-server not running"; fi
    exit 0 ;;
  bootstrap)
    [ -s "$STATE/db_url" ] && xf_pg_run "$XF_PG_BIN/pg_ctl" -D "$PG/data" status >/dev/null 2>&1 ||
      { echo "xinfang is not running: ./deploy/run.sh first" >&2; exit 1; }
    exec "$BUILD/services/xinfang-server" --db "$(cat "$STATE/db_url")" \
      --bootstrap-admin "${1:-admin}" --token-ttl-days "${XINFANG_BOOTSTRAP_TTL_DAYS:-30}" ;;
  start) ;;
  *) echo "usage: $0 [start [server flags...]|stop|status|bootstrap [NAME]]" >&2; exit 2 ;;
esac

if server_running; then
  echo "xinfang-server is already running on $LISTEN (pid $(cat "$PIDFILE")); ./deploy/run.sh stop first to restart it."
  exit 0
fi

xf_install_packages
xf_build "$BUILD"
mkdir -p "$STATE"
if [ ! -d "$PG/data" ]; then
  xf_log "creating a private PostgreSQL cluster in $PG"
  xf_pg_init "$PG" "$(xf_free_port 55432)"
fi
port=$(xf_pg_port "$PG")
if ! xf_pg_run "$XF_PG_BIN/pg_ctl" -D "$PG/data" status >/dev/null 2>&1; then
  xf_log "starting PostgreSQL on 127.0.0.1:$port"
  xf_pg_start "$PG"
fi
xf_pg_createdb "$port" xinfang

DB_URL="postgresql://xinfang@127.0.0.1:$port/xinfang"
echo "$DB_URL" >"$STATE/db_url"
xf_log "starting xinfang-server on $LISTEN and http://$HTTP_LISTEN/ (log: $STATE/server.log)"
nohup "$BUILD/services/xinfang-server" --db "$DB_URL" --listen "$LISTEN" --http-listen "$HTTP_LISTEN" "$@" \
  >>"$STATE/server.log" 2>&1 </dev/null &
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
  if ! server_running; then echo "xinfang-server exited:" >&2; tail -5 "$STATE/server.log" >&2; rm -f "$PIDFILE"; exit 1; fi
  sleep 0.2
done
if [ "$answered" != yes ]; then
  echo "xinfang-server did not answer on $LISTEN within 30 s; its log:" >&2
  tail -5 "$STATE/server.log" >&2
  exit 1
fi

cat <<TXT

xinfang is running: server $LISTEN, database $DB_URL
The console and the Connect API: http://$HTTP_LISTEN/
Every call needs a token. The first time, create the administrator (see
README.md for the whole walkthrough):
  export PATH="$BUILD/tools:\$PATH" XFCTL_SERVER=$LISTEN
  export XFCTL_TOKEN=\$(./deploy/run.sh bootstrap admin)
  xfctl whoami
  xfctl admin account create clerk1 --role intake_clerk --unit prov.organs.office
Stop it with: ./deploy/run.sh stop
TXT
