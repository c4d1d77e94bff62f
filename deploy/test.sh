#!/usr/bin/env bash
# Runs every test: installs missing Debian packages, builds, starts a
# throwaway PostgreSQL on a free port in a temp dir, runs ctest, and removes
# the cluster whatever the outcome. Extra arguments go to ctest (e.g. -R Storage).
set -euo pipefail
. "$(dirname "$0")/lib/common.sh"

xf_install_packages
BUILD=${XINFANG_BUILD_DIR:-$XF_ROOT/build}
xf_build "$BUILD"

TMP=$(mktemp -d /tmp/xinfang-test.XXXXXX)
chmod 755 "$TMP"
cleanup() {
  xf_pg_stop "$TMP/pg"
  rm -rf "$TMP"
}
trap cleanup EXIT
port=$(xf_free_port $((54000 + RANDOM % 1000)))
xf_log "throwaway PostgreSQL on 127.0.0.1:$port in $TMP"
xf_pg_init "$TMP/pg" "$port"
xf_pg_start "$TMP/pg"
export XINFANG_TEST_PG="postgresql://xinfang@127.0.0.1:$port/postgres"

cd "$BUILD"
ctest --output-on-failure -j"${XF_JOBS:-2}" "$@"
