#!/usr/bin/env bash
# Start-up failures: one clear line and a non-zero exit, never a crash.
. "$(dirname "$0")/lib.sh"

srv="$XF_BIN/services/xinfang-server"
expect_fail() {  # expect_fail WANT_RC PATTERN args...
  local want=$1 pattern=$2; shift 2
  local rc=0 out
  out=$("$@" 2>&1) || rc=$?
  [ "$rc" = "$want" ] || fail "$* exited $rc, want $want: $out"
  [ "$(echo "$out" | wc -l)" = 1 ] || fail "$* printed more than one line: $out"
  grep -q "$pattern" <<<"$out" || fail "$* said '$out', want /$pattern/"
  echo "ok: $out"
}
port=$(xf_free_port 40000)
expect_fail 1 "database unreachable" "$srv" --db "postgresql://xinfang@127.0.0.1:$port/none" --listen 127.0.0.1:0
expect_fail 2 "unknown flag --colour" "$srv" --db "$E2E_URL" --colour
expect_fail 2 "no database" env -u XINFANG_DB_URL "$srv"
expect_fail 2 "log level 'loud'" "$srv" --db "$E2E_URL" --log-level loud
expect_fail 2 "not host:port" "$srv" --db "$E2E_URL" --listen nowhere
expect_fail 2 "RFC 3339" "$srv" --db "$E2E_URL" --simulated-clock yesterday
expect_fail 2 "refused in production" "$srv" --db "$E2E_URL" --production --simulated-clock 2026-01-05T09:00:00+08:00
expect_fail 1 "calendar" "$srv" --db "$E2E_URL" --data-dir /nonexistent
expect_fail 2 "XINFANG_LOG_LEVEL" env XINFANG_LOG_LEVEL=verbose "$srv" --db "$E2E_URL"
expect_fail 2 "bad port" "$srv" --db "postgresql://x@127.0.0.1:99999/x"
echo "startup_e2e: ok"
