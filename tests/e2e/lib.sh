# Helpers for the end-to-end scripts: a fresh database with a bootstrapped
# administrator, server processes on free loopback ports, xfctl with the
# token of an account of any role. Everything started is stopped on exit.
set -euo pipefail
. "$XF_SRC/deploy/lib/common.sh"

E2E_TMP=$(mktemp -d /tmp/xf-e2e.XXXXXX)
chmod 755 "$E2E_TMP"
E2E_PIDS=()
E2E_OWN_PG=""

e2e_cleanup() {
  local pid
  for pid in "${E2E_PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  if [ -n "${E2E_DB:-}" ]; then
    psql "$E2E_ADMIN" -qc "DROP DATABASE IF EXISTS $E2E_DB WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  [ -n "$E2E_OWN_PG" ] && "$XF_SRC/deploy/pg.sh" stop "$E2E_OWN_PG"
  rm -rf "$E2E_TMP"
}
trap e2e_cleanup EXIT

if [ -n "${XINFANG_TEST_PG:-}" ]; then
  E2E_ADMIN=$XINFANG_TEST_PG
else
  E2E_OWN_PG="$E2E_TMP/pg"
  E2E_ADMIN=$("$XF_SRC/deploy/pg.sh" start "$E2E_OWN_PG")
fi
E2E_DB="xf_e2e_$$"
psql "$E2E_ADMIN" -qc "CREATE DATABASE $E2E_DB" >/dev/null
E2E_URL="${E2E_ADMIN%/*}/$E2E_DB"
# The first administrator (this also applies the migrations).
E2E_ADMIN_TOKEN=$("$XF_BIN/services/xinfang-server" --db "$E2E_URL" --data-dir "$XF_SRC/deploy" \
  --bootstrap-admin e2e-admin 2>"$E2E_TMP/bootstrap.log") || { cat "$E2E_TMP/bootstrap.log" >&2; exit 1; }

fail() { echo "FAIL: $*" >&2; exit 1; }

# start_server NAME BINARY [flags...]: starts it on a free port; sets PORT_<NAME> and PID_<NAME>.
# BINARY is a name in the build's services/, or an absolute path to an
# installed binary (which finds its data directory itself).
start_server() {
  local name=$1 bin=$2; shift 2
  local portfile="$E2E_TMP/$name.port" exe="$XF_BIN/services/$bin" data=(--data-dir "$XF_SRC/deploy")
  if [[ $bin == /* ]]; then exe=$bin; data=(); fi
  rm -f "$portfile"
  XINFANG_PORT_FILE="$portfile" "$exe" --db "$E2E_URL" --listen 127.0.0.1:0 \
    "${data[@]}" "$@" >>"$E2E_TMP/$name.log" 2>&1 &
  local pid=$!
  E2E_PIDS+=("$pid")
  for _ in $(seq 150); do
    [ -s "$portfile" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$E2E_TMP/$name.log" >&2; fail "$bin exited at start"; }
    sleep 0.1
  done
  [ -s "$portfile" ] || fail "$bin did not start"
  printf -v "PORT_$name" '%s' "$(cat "$portfile")"
  printf -v "PID_$name" '%s' "$pid"
}

# stop_server NAME: SIGTERM, and the exit code must be 0.
stop_server() {
  local name=$1 pid_var="PID_$1"
  local pid=${!pid_var}
  kill -TERM "$pid"
  local rc=0
  wait "$pid" || rc=$?
  [ "$rc" = 0 ] || { cat "$E2E_TMP/$name.log" >&2; fail "$name exited $rc after SIGTERM"; }
}

# token PORT NAME ROLE UNIT: the token of account NAME (created with ROLE
# and UNIT through the server on PORT the first time it is asked for).
token() {
  local port=$1 name=$2 role=$3 unit=$4 file="$E2E_TMP/token.$2"
  if [ ! -s "$file" ]; then
    "$XF_BIN/tools/xfctl" --server "127.0.0.1:$port" --token "$E2E_ADMIN_TOKEN" \
      admin account create "$name" --role "$role" --unit "$unit" >/dev/null
    "$XF_BIN/tools/xfctl" --server "127.0.0.1:$port" --token "$E2E_ADMIN_TOKEN" \
      admin token issue "$name" --label e2e >"$file" 2>/dev/null
  fi
  cat "$file"
}

# xf_as PORT NAME ROLE UNIT [xfctl args...]: xfctl as that account.
xf_as() {
  local port=$1 name=$2 role=$3 unit=$4; shift 4
  local t
  t=$(token "$port" "$name" "$role" "$unit")
  "$XF_BIN/tools/xfctl" --server "127.0.0.1:$port" --token "$t" "$@"
}

# xf PORT [xfctl args...] as an intake clerk of the petition office.
xf() {
  local port=$1; shift
  xf_as "$port" clerk1 intake_clerk prov.organs.office "$@"
}

json_field() { sed -n "s/.*\"$1\": \"\([^\"]*\)\".*/\1/p" | head -1; }
