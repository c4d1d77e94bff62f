#!/usr/bin/env bash
# The HTTP face (--http-listen) with curl over loopback: Connect unary calls in
# JSON and protobuf, errors with field violations, the same authentication,
# limits and access log as gRPC, WatchEvents as a Connect server stream,
# security headers, CORS only when configured, the console's static files,
# HTTPS, and a split service.
. "$(dirname "$0")/lib.sh"

console="$E2E_TMP/console"
mkdir -p "$console/assets"
echo '<!doctype html><title>xinfang console</title>' >"$console/index.html"
echo 'console.log("app")' >"$console/assets/app-abc123.js"
echo 'console.log("zipped")' | gzip -9 >"$console/assets/app-abc123.js.gz"

XINFANG_HTTP_PORT_FILE="$E2E_TMP/one.http" start_server one xinfang-server \
  --http-listen 127.0.0.1:0 --console-dir "$console"
H="http://127.0.0.1:$(cat "$E2E_TMP/one.http")"
grep -q "console and Connect API on http://127.0.0.1:" "$E2E_TMP/one.log" || fail "no HTTP address logged"
admin=$E2E_ADMIN_TOKEN
clerk=$(token "$PORT_one" clerk1 intake_clerk prov.organs.office)
audit=$(token "$PORT_one" audit1 auditor prov)

# call TOKEN METHOD JSON: a unary Connect call; prints the body, then the HTTP status on its own line.
call() {
  curl -sS -o "$E2E_TMP/body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    ${1:+-H "Authorization: Bearer $1"} --data-binary "$3" "$H/xinfang.v1.$2" >"$E2E_TMP/status"
  cat "$E2E_TMP/body"
}
status() { cat "$E2E_TMP/status"; }

# A unary call in JSON.
out=$(call "$admin" AdminService/WhoAmI '{}')
[ "$(status)" = 200 ] || fail "WhoAmI: $(status) $out"
[ "$(echo "$out" | jq -r .account.name)" = e2e-admin ] || fail "WhoAmI: $out"

# Register a visit in JSON, as curl would.
out=$(call "$clerk" IntakeService/RegisterCase '{
  "requestId": "http-e2e-0001",
  "intake": {"channel": "CHANNEL_VISIT", "visit": {"peoplePresent": 1},
    "petitioners": [{"name": "钱七", "idNumber": "11010519491231002X", "phone": "13800000009"}],
    "purpose": "PURPOSE_CLAIM", "category": "wages.arrears", "summary": "拖欠工资", "complainedAbout": "某公司"}}')
[ "$(status)" = 200 ] || fail "RegisterCase: $(status) $out"
tracking=$(echo "$out" | jq -r .case.trackingNumber)
[[ $tracking == XF* ]] || fail "no tracking number: $out"
echo "$out" | jq -r .receipt | grep -q "信访事项回执" || fail "no receipt: $out"
echo "registered $tracking over HTTP"

# The petitioner's status without a token, with the code from the receipt;
# a wrong code is not_found (404), like an unknown number.
code=$(echo "$out" | jq -r .queryCode.code)
[[ $code =~ ^[2-9A-Z]{5}-[2-9A-Z]{5}$ ]] || fail "no query code: $out"
out=$(call "" PublicService/GetPublicStatus "{\"trackingNumber\": \"$tracking\", \"queryCode\": \"$code\"}")
[ "$(status)" = 200 ] || fail "GetPublicStatus: $(status) $out"
[ "$(echo "$out" | jq -r .stage)" = STAGE_INTAKE ] || fail "GetPublicStatus: $out"
grep -q "钱七\|clerk1" <<<"$out" && fail "the public status names a person: $out"
out=$(call "" PublicService/GetPublicStatus "{\"trackingNumber\": \"$tracking\", \"queryCode\": \"22222-22222\"}")
[ "$(status)" = 404 ] || fail "GetPublicStatus, wrong code: $(status) $out"
[ "$(echo "$out" | jq -r .message)" = "no case with this tracking number and query code" ] || fail "$out"
echo "public status over HTTP without a token; a wrong code is not_found"

# The same call in protobuf (application/proto), encoded and decoded by protoc.
printf 'case { tracking_number: "%s" }' "$tracking" |
  protoc -I "$XF_SRC/proto" --encode=xinfang.v1.GetCaseRequest xinfang/v1/query.proto >"$E2E_TMP/req.bin"
code=$(curl -sS -o "$E2E_TMP/resp.bin" -D "$E2E_TMP/headers" -w '%{http_code}' -X POST \
  -H 'Content-Type: application/proto' -H "Authorization: Bearer $clerk" \
  --data-binary @"$E2E_TMP/req.bin" "$H/xinfang.v1.CaseQueryService/GetCase")
[ "$code" = 200 ] || fail "GetCase in protobuf: $code"
grep -qi '^content-type: application/proto' "$E2E_TMP/headers" || fail "protobuf content type"
protoc -I "$XF_SRC/proto" --decode=xinfang.v1.GetCaseResponse xinfang/v1/query.proto \
  <"$E2E_TMP/resp.bin" | grep -q "tracking_number: \"$tracking\"" || fail "GetCase protobuf answer"

# The reference lists a form picks from; the receipt again for a reprint.
out=$(call "$clerk" AdminService/ListReferenceData '{}')
echo "$out" | jq -e '.units[] | select(.code == "prov.organs.office")' >/dev/null || fail "units: $out"
echo "$out" | jq -e '.categories[] | select(.code == "wages.arrears")' >/dev/null || fail "categories: $out"
out=$(call "$clerk" CaseQueryService/GetCase "{\"case\": {\"trackingNumber\": \"$tracking\"}}")
echo "$out" | jq -r .receipt | grep -q "编号: $tracking" || fail "no receipt to reprint: $out"

# The access log records the HTTP read of unmasked numbers, as for gRPC.
out=$(call "$audit" AdminService/ListAccessLog '{}')
echo "$out" | jq -e '.entries[] | select(.account == "clerk1" and .rpc == "GetCase")' >/dev/null ||
  fail "access log lacks the HTTP GetCase: $out"

# Errors: Connect error JSON with the offending field in a google.rpc.BadRequest.
out=$(call "$clerk" IntakeService/RegisterCase '{"requestId": "http-e2e-0002",
  "intake": {"channel": "CHANNEL_VISIT", "visit": {"peoplePresent": 1},
    "petitioners": [{"name": "钱七", "idNumber": "110105194912310021"}],
    "purpose": "PURPOSE_CLAIM", "category": "wages.arrears", "summary": "拖欠工资"}}')
[ "$(status)" = 400 ] || fail "bad ID number: $(status) $out"
[ "$(echo "$out" | jq -r .code)" = invalid_argument ] || fail "bad ID code: $out"
[ "$(echo "$out" | jq -r '.details[0].type')" = google.rpc.BadRequest ] || fail "no BadRequest: $out"
[ "$(echo "$out" | jq -r '.details[0].debug.fieldViolations[0].field')" = "intake.petitioners[0].id_number" ] ||
  fail "field not named: $out"
# The detail's value is the protobuf google.rpc.BadRequest (base64 without padding).
v=$(echo "$out" | jq -r '.details[0].value')
while [ $(( ${#v} % 4 )) != 0 ]; do v="$v="; done
echo "$v" | base64 -d | protoc --decode_raw | grep -q 'intake.petitioners\[0\].id_number' ||
  fail "BadRequest value does not decode"
out=$(call "$clerk" IntakeService/RegisterCase '{"intake": {"chanel": 1}}')
[ "$(status)" = 400 ] && grep -q "not a JSON xinfang.v1.RegisterCaseRequest" <<<"$out" ||
  fail "misspelt JSON field: $(status) $out"
out=$(call "" AdminService/WhoAmI '{}')
[ "$(status)" = 401 ] && [ "$(echo "$out" | jq -r .code)" = unauthenticated ] || fail "no token: $(status) $out"
out=$(call "$clerk" CaseQueryService/GetStatistics '{}')
[ "$(status)" = 403 ] && [ "$(echo "$out" | jq -r .code)" = permission_denied ] || fail "clerk statistics: $out"
out=$(call "$clerk" CaseQueryService/NoSuchMethod '{}')
[ "$(status)" = 501 ] && [ "$(echo "$out" | jq -r .code)" = unimplemented ] || fail "unknown method: $out"
out=$(call "$clerk" grpc.health.v1.Health/Check '{}')
[ "$(status)" = 501 ] || fail "only xinfang.v1 is served: $(status)"
code=$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: text/plain' -d x \
  "$H/xinfang.v1.AdminService/WhoAmI")
[ "$code" = 415 ] || fail "text/plain: $code"
# A version conflict is aborted (409): the console says "changed by someone else".
out=$(call "$clerk" CaseworkService/TakeAction "{\"case\": {\"trackingNumber\": \"$tracking\"},
  \"action\": \"accept\", \"expectedVersion\": 99, \"fields\": {\"notice\": \"已受理\"}}")
[ "$(status)" = 409 ] && [ "$(echo "$out" | jq -r .code)" = aborted ] || fail "stale version: $(status) $out"

# Failed sign-ins slow down per address over HTTP too (the face names the peer).
slowed=no
for i in $(seq 60); do
  call xf_made-up-token AdminService/WhoAmI '{}' >/dev/null
  [ "$(status)" = 429 ] && { slowed=yes; break; }
done
[ "$slowed" = yes ] || fail "guessing tokens over HTTP was not slowed: $(status)"

# Security headers; no CORS without configuration.
curl -sS -D "$E2E_TMP/h" -o /dev/null -X POST -H 'Content-Type: application/json' \
  -H 'Origin: http://evil.example' -H "Authorization: Bearer $admin" -d '{}' \
  "$H/xinfang.v1.AdminService/GetServerInfo"
grep -qi "^content-security-policy: default-src 'self'" "$E2E_TMP/h" || fail "no CSP"
grep -qi '^x-content-type-options: nosniff' "$E2E_TMP/h" || fail "no nosniff"
grep -qi '^x-frame-options: deny' "$E2E_TMP/h" || fail "no frame deny"
grep -qi '^access-control-allow-origin' "$E2E_TMP/h" && fail "CORS without configuration"

# The console's files: index.html for screens, assets by name, nothing outside.
curl -sS -D "$E2E_TMP/h" "$H/" | grep -q "xinfang console" || fail "GET /"
grep -qi '^x-frame-options: deny' "$E2E_TMP/h" || fail "no frame deny on the console"
curl -sS "$H/queue/mine?x=1" | grep -q "xinfang console" || fail "a screen's path"
curl -sS -D "$E2E_TMP/h" "$H/assets/app-abc123.js" | grep -q 'console.log' || fail "an asset"
grep -qi '^content-type: text/javascript' "$E2E_TMP/h" || fail "asset content type"
grep -qi '^cache-control: public, max-age=31536000, immutable' "$E2E_TMP/h" || fail "asset caching"
grep -qi '^content-encoding' "$E2E_TMP/h" && fail "gzip to a client that did not ask"
curl -sS --compressed -D "$E2E_TMP/h" "$H/assets/app-abc123.js" | grep -q 'zipped' || fail "the gzip twin"
grep -qi '^content-encoding: gzip' "$E2E_TMP/h" || fail "no content-encoding: gzip"
code=$(curl -sS -o /dev/null -w '%{http_code}' --path-as-is "$H/assets/../../../etc/passwd")
[ "$code" = 400 ] || fail "path traversal: $code"
code=$(curl -sS -o /dev/null -w '%{http_code}' "$H/assets/missing.js")
[ "$code" = 404 ] || fail "missing asset: $code"

# WatchEvents as a Connect server stream: enveloped JSON messages, then the end of stream.
printf '\x00\x00\x00\x00\x02{}' >"$E2E_TMP/watch.req"
curl -sS -N --max-time 3 -X POST -H 'Content-Type: application/connect+json' \
  -H "Authorization: Bearer $audit" --data-binary @"$E2E_TMP/watch.req" \
  "$H/xinfang.v1.CaseQueryService/WatchEvents" >"$E2E_TMP/watch.out" || true
grep -aq "\"trackingNumber\":\"$tracking\"" "$E2E_TMP/watch.out" || fail "no event in the stream: $(head -c 300 "$E2E_TMP/watch.out")"
grep -aq '"kind":"registered"' "$E2E_TMP/watch.out" || fail "no registered event: $(head -c 300 "$E2E_TMP/watch.out")"
# Without a token: 200, and the end-of-stream message carries the error.
curl -sS --max-time 5 -X POST -H 'Content-Type: application/connect+json' \
  --data-binary @"$E2E_TMP/watch.req" "$H/xinfang.v1.CaseQueryService/WatchEvents" >"$E2E_TMP/watch.out"
[ "$(head -c 1 "$E2E_TMP/watch.out" | od -An -tu1 | tr -d ' ')" = 2 ] || fail "no end-of-stream flag"
grep -aq '"error":{"code":"unauthenticated"' "$E2E_TMP/watch.out" || fail "stream error: $(cat "$E2E_TMP/watch.out")"

# A stream still open at SIGTERM does not hold the server up.
curl -sS -N --max-time 30 -X POST -H 'Content-Type: application/connect+json' \
  -H "Authorization: Bearer $audit" --data-binary @"$E2E_TMP/watch.req" \
  "$H/xinfang.v1.CaseQueryService/WatchEvents" >/dev/null 2>&1 &
watcher=$!
sleep 1
start=$(date +%s)
stop_server one
[ $(( $(date +%s) - start )) -le 8 ] || fail "stopping with an open stream took too long"
wait "$watcher" || true

# CORS for a configured origin only; HTTPS with the gRPC port's certificate.
certs="$E2E_TMP/certs"
"$XF_SRC/deploy/make-certs.sh" "$certs" >/dev/null
XINFANG_HTTP_PORT_FILE="$E2E_TMP/two.http" start_server two xinfang-server \
  --http-listen 127.0.0.1:0 --http-cors-origins https://console.example \
  --tls-cert "$certs/server.pem" --tls-key "$certs/server.key"
S="https://127.0.0.1:$(cat "$E2E_TMP/two.http")"
curl -sS --cacert "$certs/ca.pem" -D "$E2E_TMP/h" -o /dev/null -X OPTIONS \
  -H 'Origin: https://console.example' -H 'Access-Control-Request-Method: POST' \
  "$S/xinfang.v1.AdminService/WhoAmI" || fail "HTTPS preflight"
grep -qi '^access-control-allow-origin: https://console.example' "$E2E_TMP/h" || fail "CORS origin"
grep -qi '^access-control-allow-headers: .*Connect-Protocol-Version' "$E2E_TMP/h" || fail "CORS headers"
out=$(curl -sS --cacert "$certs/ca.pem" -X POST -H 'Content-Type: application/json' \
  -H "Authorization: Bearer $admin" -d '{}' "$S/xinfang.v1.AdminService/WhoAmI")
[ "$(echo "$out" | jq -r .account.name)" = e2e-admin ] || fail "WhoAmI over HTTPS: $out"
curl -sS -o /dev/null "http://127.0.0.1:$(cat "$E2E_TMP/two.http")/" 2>/dev/null &&
  fail "plain HTTP answered on the HTTPS port"
stop_server two

# A split service serves its own RPCs over HTTP; the others are unimplemented there.
XINFANG_HTTP_PORT_FILE="$E2E_TMP/intake.http" start_server intake xinfang-intake --http-listen 127.0.0.1:0
H="http://127.0.0.1:$(cat "$E2E_TMP/intake.http")"
out=$(call "$clerk" IntakeService/RegisterCase '{"requestId": "http-e2e-0003",
  "intake": {"channel": "CHANNEL_CALL", "call": {"callerNumber": "12351"},
    "petitioners": [{"name": "孙八"}], "purpose": "PURPOSE_CLAIM", "category": "wages.arrears", "summary": "欠薪"}}')
[ "$(status)" = 200 ] || fail "RegisterCase on xinfang-intake: $(status) $out"
out=$(call "$clerk" CaseQueryService/GetCase "{\"case\": {\"trackingNumber\": \"$tracking\"}}")
[ "$(status)" = 501 ] || fail "GetCase on xinfang-intake: $(status) $out"
stop_server intake
echo "http_e2e: ok"
