# Shared by run.sh, test.sh, bench scripts and the test harness: packages,
# the build, and private PostgreSQL clusters. Source it; it defines functions.

XF_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
XF_PG_BIN=/usr/lib/postgresql/15/bin

# Debian packages the build, the server and the tests need.
XF_PACKAGES="cmake g++ make pkg-config ccache tzdata
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libsoci-dev libboost-dev libpq-dev libssl-dev postgresql
  libgtest-dev libgmock-dev clang-14 libclang-rt-14-dev openssl
  libsodium-dev libqrencode-dev curl jq chromium fonts-noto-cjk pgbackrest python3-aiosmtpd
  prometheus-cpp-dev prometheus patroni etcd-server etcd-client haproxy"

xf_log() { printf '==> %s\n' "$*" >&2; }

# Runs a command as root: directly when we are root, else through sudo.
xf_as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

xf_install_packages() {
  local missing=() p
  for p in $XF_PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # The console's build: Debian's nodejs and npm, unless a node with its npm is there already.
  command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
  [ ${#missing[@]} -eq 0 ] && return 0
  xf_log "installing ${missing[*]}"
  xf_as_root apt-get update -qq
  xf_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

# xf_build BUILD_DIR [cmake args...]: the server and tools, then the console.
xf_build() {
  local dir=$1; shift
  xf_log "building in $dir"
  cmake -S "$XF_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j"${XF_JOBS:-2}"
  xf_build_console
}

# The web console (web/): npm ci from the lock file, the API client generated
# from proto/ by protoc + protoc-gen-es, type-checked and bundled into
# web/dist, which the server serves. Skipped when dist is newer than every source.
xf_build_console() {
  local web="$XF_ROOT/web"
  if [ ! -d "$web/node_modules" ] || [ "$web/package-lock.json" -nt "$web/node_modules/.package-lock.json" ]; then
    xf_log "installing the console's npm packages"
    (cd "$web" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  if [ -f "$web/dist/index.html" ] && [ -z "$(find "$web/src" "$web/index.html" "$web/vite.config.ts" \
      "$XF_ROOT/proto" -newer "$web/dist/index.html" -type f -print -quit)" ]; then
    return 0
  fi
  xf_log "building the console into web/dist"
  (cd "$web" && npm run --silent build >/dev/null)
}

# A TCP port nobody listens on, from the given start upward.
xf_free_port() {
  local p=${1:-55432}
  # In use: something listens there, or (ss, when installed) any socket has
  # it as its local port — a client's ephemeral port blocks a bind as well.
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null ||
        { command -v ss >/dev/null && [ -n "$(ss -Htan "( sport = :$p )" 2>/dev/null)" ]; }; do
    p=$((p + 1))
  done
  echo "$p"
}

# PostgreSQL refuses to run as root: when root, the cluster belongs to the
# 'postgres' user (made by the postgresql package).
xf_pg_user() { if [ "$(id -u)" = 0 ]; then echo postgres; else id -un; fi; }
xf_pg_run() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# xf_pg_init DIR PORT: a new cluster in DIR/data, listening on 127.0.0.1:PORT
# and a Unix socket in DIR only, with superuser 'xinfang' (trust auth: the
# cluster is private to this machine's loopback).
xf_pg_init() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
  xf_pg_run "$XF_PG_BIN/initdb" -D "$dir/data" -U xinfang --auth=trust -E UTF8 \
    --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
  cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
shared_buffers = 256MB
fsync = on
CONF
}

# xf_pg_start DIR: starts the cluster (waits until it accepts connections).
xf_pg_start() {
  local dir=$1
  xf_pg_run "$XF_PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null \
    || { tail -20 "$dir/server.log" >&2; return 1; }
}

xf_pg_stop() {
  local dir=$1
  [ -f "$dir/data/postmaster.pid" ] || return 0
  xf_pg_run "$XF_PG_BIN/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
}

# xf_pg_wait_promoted DIR: waits (at most 10 minutes) until the cluster in
# DIR has left recovery (a restore replays the archived WAL, then promotes).
# Fails at once if it stops meanwhile, e.g. "recovery ended before configured
# recovery target was reached" (no commit after the target time was archived).
xf_pg_wait_promoted() {
  local dir=$1 port state
  port=$(xf_pg_port "$dir")
  for _ in $(seq 3000); do
    state=$(psql -h 127.0.0.1 -p "$port" -U xinfang -d postgres -tAc "SELECT pg_is_in_recovery()" 2>/dev/null || true)
    [ "$state" = f ] && return 0
    if ! xf_pg_run "$XF_PG_BIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
      echo "PostgreSQL in $dir stopped during recovery:" >&2
      grep -E "FATAL|PANIC" "$dir/server.log" | tail -3 >&2
      return 1
    fi
    sleep 0.2
  done
  echo "PostgreSQL in $dir is still recovering after 10 minutes" >&2
  return 1
}

xf_pg_port() { sed -n 's/^port = \([0-9]*\)$/\1/p' "$1/data/postgresql.conf" | tail -1; }

# xf_pg_createdb PORT NAME: creates the database if it does not exist.
xf_pg_createdb() {
  local port=$1 name=$2
  if ! psql -h 127.0.0.1 -p "$port" -U xinfang -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1; then
    psql -h 127.0.0.1 -p "$port" -U xinfang -d postgres -qc "CREATE DATABASE \"$name\"" >/dev/null
  fi
}

# xf_bench_tokens XFCTL ADDRESS ADMIN_TOKEN FILE: creates the accounts xfbench
# acts as (bench-*, one per role it needs) through the server at ADDRESS and
# writes one token each to FILE as "ROLE TOKEN" lines (xfbench --tokens-file).
xf_bench_tokens() {
  local xfctl=$1 address=$2 admin=$3 file=$4 role name unit token
  : >"$file"
  chmod 600 "$file"
  while read -r role name unit; do
    "$xfctl" --server "$address" --token "$admin" admin account create "$name" --role "$role" \
      --unit "$unit" >/dev/null 2>&1 || true   # exists already on a re-run
    token=$("$xfctl" --server "$address" --token "$admin" admin token issue "$name" --label bench 2>/dev/null)
    printf '%s %s\n' "$role" "$token" >>"$file"
  done <<'ACCOUNTS'
intake_clerk bench-clerk prov
case_officer bench-officer prov.organs.office
unit_head bench-head prov.organs.office
supervisor bench-sup prov
service bench-svc prov
ACCOUNTS
}

# Backups with pgBackRest: full and differential backups plus WAL archiving
# into a repository, restores to any point in time (docs/operations.md).
XF_STANZA=xinfang

# xf_backup_conf PGDIR BACKUPDIR [REPO]: writes BACKUPDIR/pgbackrest.conf
# from deploy/backup/pgbackrest.conf.in for the cluster in PGDIR, with the
# repository REPO (default BACKUPDIR/repo) and pgBackRest's log and lock
# files in BACKUPDIR. Prints the config file's path.
xf_backup_conf() {
  local pg=$1 dir=$2 repo=${3:-$2/repo}
  mkdir -p "$dir/log" "$dir/lock" "$repo"
  sed -e "s|@REPO@|$repo|" -e "s|@PGDATA@|$pg/data|" -e "s|@PGPORT@|$(xf_pg_port "$pg")|" \
    -e "s|@PGSOCKET@|$pg|" -e "s|@LOGDIR@|$dir/log|" -e "s|@LOCKDIR@|$dir/lock|" \
    "$XF_ROOT/deploy/backup/pgbackrest.conf.in" >"$dir/pgbackrest.conf"
  if [ "$(id -u)" = 0 ]; then chown postgres "$dir" "$dir/log" "$dir/lock" "$repo" "$dir/pgbackrest.conf"; fi
  echo "$dir/pgbackrest.conf"
}

# xf_backup CONF ARGS...: pgbackrest with that config and xinfang's stanza,
# as the cluster's owner.
xf_backup() {
  local conf=$1; shift
  xf_pg_run pgbackrest --config="$conf" --stanza="$XF_STANZA" "$@"
}

# xf_backup_archive_on PGDIR CONF: WAL archiving into CONF's repository, in
# the cluster's postgresql.conf (read at the next start: archive_mode needs one).
xf_backup_archive_on() {
  local pg=$1 conf=$2
  cat >>"$pg/data/postgresql.conf" <<CONF
# WAL archiving to pgBackRest (xf_backup_archive_on)
wal_level = replica
archive_mode = on
archive_timeout = 60
archive_command = 'pgbackrest --config=$conf --stanza=$XF_STANZA archive-push %p'
CONF
}

# xf_backup_archiving PGDIR: whether the cluster's config archives WAL.
xf_backup_archiving() { grep -q "^archive_mode = on" "$1/data/postgresql.conf"; }

# xf_backup_stanza CONF: creates the stanza (once; again is a no-op) and
# checks that WAL reaches the repository. The cluster must be running.
xf_backup_stanza() {
  xf_backup "$1" --log-level-console=error stanza-create
  xf_backup "$1" --log-level-console=error check
}

# xf_backup_cluster DIR PORT: a new cluster in DIR/pg (as xf_pg_init) that
# archives its WAL into a repository in DIR/backup, started, with its stanza.
# Sets XF_BACKUP_CONF to its pgBackRest configuration (tests, measurements).
xf_backup_cluster() {
  xf_pg_init "$1/pg" "$2"
  XF_BACKUP_CONF=$(xf_backup_conf "$1/pg" "$1/backup")
  xf_backup_archive_on "$1/pg" "$XF_BACKUP_CONF"
  xf_pg_start "$1/pg"
  xf_backup_stanza "$XF_BACKUP_CONF"
}

# xf_backup_restore CONF PGDIR TIME [PORT]: restores the newest backup taken
# before TIME into PGDIR/data (a fresh directory), replaying archived WAL up
# to TIME (any PostgreSQL timestamp, e.g. "2026-11-29 23:40:00+00"), then
# promotes. TIME "latest": the newest backup and all the archived WAL. A TIME
# needs a commit after it in the archive (else PostgreSQL stops: "recovery
# ended before configured recovery target was reached"); to get everything
# there is, use latest. PGDIR/data must not exist. With PORT the copy listens there, its
# socket in PGDIR; without, on the port and socket of the backed-up cluster.
# Does not start it.
xf_backup_restore() {
  local conf=$1 pg=$2 time=$3 port=${4:-}
  [ ! -e "$pg/data" ] || { echo "$pg/data exists: restore into a fresh directory" >&2; return 1; }
  mkdir -p "$pg/data"
  chmod 700 "$pg/data"
  if [ "$(id -u)" = 0 ]; then chown postgres "$pg" "$pg/data"; fi
  local target=(--type=time --target="$time" --target-action=promote)
  [ "$time" = latest ] && target=(--type=default)
  xf_backup "$conf" --log-level-console=warn --pg1-path="$pg/data" restore "${target[@]}"
  if [ -n "$port" ]; then
    printf "port = %s\nunix_socket_directories = '%s'\n" "$port" "$pg" >>"$pg/data/postgresql.conf"
  fi
}
