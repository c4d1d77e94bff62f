#!/usr/bin/env bash
# TLS and mutual TLS end to end with xfctl, on certificates made by
# deploy/make-certs.sh.
. "$(dirname "$0")/lib.sh"

certs="$E2E_TMP/certs"
"$XF_SRC/deploy/make-certs.sh" "$certs" >/dev/null
x() {  # x PORT [xfctl args...] as the bootstrapped administrator
  local port=$1; shift
  "$XF_BIN/tools/xfctl" --server "127.0.0.1:$port" --token "$E2E_ADMIN_TOKEN" --timeout 5 "$@"
}

# TLS: the CA's client gets through; a plaintext client does not.
start_server tls xinfang-server --tls-cert "$certs/server.pem" --tls-key "$certs/server.key"
x "$PORT_tls" --tls-ca "$certs/ca.pem" whoami | grep -q e2e-admin || fail "whoami over TLS"
rc=0; err=$(x "$PORT_tls" whoami 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q UNAVAILABLE <<<"$err" || fail "plaintext client reached a TLS server: $err"
# A token is still required over TLS.
rc=0; err=$("$XF_BIN/tools/xfctl" --server "127.0.0.1:$PORT_tls" --tls-ca "$certs/ca.pem" info 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q UNAUTHENTICATED <<<"$err" || fail "TLS without a token: $err"
grep -q "(TLS)" "$E2E_TMP/tls.log" || fail "server did not log TLS"
stop_server tls

# Mutual TLS: a client certificate signed by the CA is required.
start_server mtls xinfang-server --tls-cert "$certs/server.pem" --tls-key "$certs/server.key" \
  --tls-client-ca "$certs/ca.pem"
x "$PORT_mtls" --tls-ca "$certs/ca.pem" --tls-cert "$certs/client.pem" --tls-key "$certs/client.key" \
  whoami | grep -q e2e-admin || fail "whoami over mutual TLS"
rc=0; err=$(x "$PORT_mtls" --tls-ca "$certs/ca.pem" whoami 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q UNAVAILABLE <<<"$err" || fail "no client certificate accepted: $err"
# A certificate from another CA is refused too.
other="$E2E_TMP/other"
"$XF_SRC/deploy/make-certs.sh" "$other" >/dev/null
rc=0; err=$(x "$PORT_mtls" --tls-ca "$certs/ca.pem" --tls-cert "$other/client.pem" \
  --tls-key "$other/client.key" whoami 2>&1) || rc=$?
[ "$rc" = 1 ] || fail "a foreign client certificate was accepted: $err"
stop_server mtls

# Settings that cannot work stop the server at once (exit 2).
rc=0; "$XF_BIN/services/xinfang-server" --db "$E2E_URL" --tls-cert "$certs/server.pem" \
  >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "--tls-cert without --tls-key: exit $rc"
rc=0; "$XF_BIN/services/xinfang-server" --db "$E2E_URL" --tls-cert /nonexistent.pem \
  --tls-key "$certs/server.key" >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "unreadable certificate: exit $rc"
echo "tls_e2e: ok"
