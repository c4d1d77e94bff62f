#!/usr/bin/env bash
# cmake --install into a temp prefix: binaries in bin/, data and the console
# in share/xinfang, systemd units naming the installed binaries (checked by
# systemd-analyze verify where it exists). The installed server, started
# with no --data-dir and no --console-dir, reads the prefix's definitions and
# calendars and serves the prefix's console over HTTP, and answers gRPC.
. "$(dirname "$0")/lib.sh"

[ -f "$XF_SRC/web/dist/index.html" ] || fail "web/dist is not built (./deploy/test.sh builds it)"
P="$E2E_TMP/prefix"
cmake --install "$XF_BIN" --prefix "$P" >"$E2E_TMP/install.log" 2>&1 || { cat "$E2E_TMP/install.log" >&2; fail "cmake --install"; }
for f in bin/xinfang-server bin/xinfang-intake bin/xinfang-casework bin/xinfang-supervision \
         bin/xinfang-query bin/xinfang-admin bin/xfctl bin/xfbench bin/xfseed \
         share/xinfang/workflows/petition-v1.textproto share/xinfang/workflows/petition-v2.textproto \
         share/xinfang/calendar/2026.textproto \
         share/xinfang/console/index.html share/xinfang/migrations/0001_init.sql \
         share/xinfang/xinfang.env.example share/xinfang/env/xinfang-server.env.example \
         share/xinfang/pgbackrest.conf.in lib/sysusers.d/xinfang.conf; do
  [ -e "$P/$f" ] || fail "not installed: $f"
done
units=("$P"/lib/systemd/system/xinfang-*.service)
[ ${#units[@]} = 6 ] || fail "want 6 units, got ${#units[@]}"
for u in "${units[@]}"; do
  name=$(basename "$u" .service)
  grep -qx "ExecStart=$P/bin/$name" "$u" || fail "$name: ExecStart does not name the installed binary"
  for opt in ProtectSystem=strict NoNewPrivileges=true PrivateTmp=true ProtectHome=true User=xinfang \
             EnvironmentFile=/etc/xinfang/xinfang.env "EnvironmentFile=/etc/xinfang/$name.env"; do
    grep -qx "$opt" "$u" || fail "$name: no $opt"
  done
done
if command -v systemd-analyze >/dev/null; then
  # verify looks the binaries up; the sandboxing directives must all be known to this systemd.
  SYSTEMD_LOG_LEVEL=warning systemd-analyze verify "${units[@]}" >"$E2E_TMP/verify.log" 2>&1 || true
  if grep -v "Failed to prepare filename\|xinfang.env\|Unknown user\|System has not been booted\|Failed to connect" \
      "$E2E_TMP/verify.log" | grep -q .; then
    cat "$E2E_TMP/verify.log" >&2; fail "systemd-analyze verify"
  fi
  echo "systemd-analyze verify: $(wc -l <"$E2E_TMP/verify.log") lines, none about the units' directives"
fi

# The installed server finds its data through its own path: a broken
# calendar in the prefix stops it (so it read the prefix, not the source tree).
echo "this is not a calendar" >"$P/share/xinfang/calendar/2099.textproto"
rc=0; out=$("$P/bin/xinfang-server" --db "$E2E_URL" --migrate-only 2>&1) || rc=$?
[ "$rc" != 0 ] && grep -q "$P/share/xinfang/calendar" <<<"$out" || fail "installed server ignored the prefix: $rc $out"
rm "$P/share/xinfang/calendar/2099.textproto"
# And the prefix's console: mark the installed copy.
echo "<!-- installed copy -->" >>"$P/share/xinfang/console/index.html"

HTTP_PORT=$(xf_free_port $((18000 + RANDOM % 1000)))
start_server inst "$P/bin/xinfang-server" --http-listen "127.0.0.1:$HTTP_PORT"
GRPC=$PORT_inst
page=""
for _ in $(seq 50); do
  page=$(curl -fsS --max-time 2 "http://127.0.0.1:$HTTP_PORT/" 2>/dev/null) && break
  sleep 0.1
done
grep -q "<!-- installed copy -->" <<<"$page" || fail "the console is not the prefix's: $page"
info=$("$P/bin/xfctl" --server "127.0.0.1:$GRPC" --token "$E2E_ADMIN_TOKEN" info)
grep -q "petition" <<<"$info" || fail "gRPC info: $info"
out=$(xf "$GRPC" --json case register --channel call --caller-number 12351 --name 安装 \
  --category wages.arrears --summary "安装后登记")
[ -n "$(echo "$out" | json_field tracking_number)" ] || fail "no registration on the installed server: $out"
stop_server inst
echo "install_e2e: ok ($(du -sh "$P" | cut -f1) installed)"
