#!/usr/bin/env bash
# The server's logs: JSON lines with --log-format json, the call's request id
# (the caller's X-Request-Id, or one the server made up, returned either way)
# on every line a call writes, and no personal data anywhere. A petitioner
# with a distinctive name, ID number and phone is registered, read, and sent
# again in refused calls that carry those values in bad input; no log the
# server wrote may contain any of them.
. "$(dirname "$0")/lib.sh"

# A valid 18-digit ID number (GB 11643 check digit) seen nowhere else.
id17="3201021987$(printf '%02d%02d' $((RANDOM % 12 + 1)) $((RANDOM % 28 + 1)))$(printf '%03d' $((RANDOM % 1000)))"
weights=(7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2)
checks=(1 0 X 9 8 7 6 5 4 3 2)
sum=0
for i in $(seq 0 16); do sum=$((sum + ${id17:$i:1} * weights[i])); done
ID="$id17${checks[$((sum % 11))]}"
PHONE="139$(printf '%08d' $((RANDOM * 32768 + RANDOM)) | tail -c 8)"
NAME="欧阳隐私甲"

XINFANG_HTTP_PORT_FILE="$E2E_TMP/one.http" start_server one xinfang-server \
  --http-listen 127.0.0.1:0 --log-format json --log-level debug
H="http://127.0.0.1:$(cat "$E2E_TMP/one.http")"
clerk=$(token "$PORT_one" clerk1 intake_clerk prov.organs.office)
audit=$(token "$PORT_one" audit1 auditor prov)

# Registered and read over gRPC (xfctl).
out=$(xf "$PORT_one" --json case register --channel visit --people 1 --name "$NAME" --id-number "$ID" \
  --phone "$PHONE" --category wages.arrears --summary "欠薪" --complained-about "某公司")
t=$(echo "$out" | json_field tracking_number)
[ -n "$t" ] || fail "not registered: $out"
grep -q "$NAME" <<<"$(xf "$PORT_one" case show "$t")" || fail "case show lacks the name"
xf_as "$PORT_one" audit1 auditor prov case show "$t" >/dev/null

# call REQUEST_ID METHOD JSON: a Connect call as the clerk, with X-Request-Id
# when REQUEST_ID is not empty; the body on stdout, headers in $E2E_TMP/headers.
call() {
  curl -sS -D "$E2E_TMP/headers" -X POST -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $clerk" ${1:+-H "X-Request-Id: $1"} --data-binary "$3" "$H/xinfang.v1.$2"
}
header() { tr -d '\r' <"$E2E_TMP/headers" | sed -n "s/^$1: //Ip" | head -1; }

# Refused for bad input that carries the personal values.
out=$(call e2e-bad-id IntakeService/RegisterCase "{\"intake\": {\"channel\": \"CHANNEL_VISIT\",
  \"visit\": {\"peoplePresent\": 1}, \"petitioners\": [{\"name\": \"$NAME\", \"idNumber\": \"${ID}9\",
  \"phone\": \"$PHONE\"}], \"category\": \"wages.arrears\", \"summary\": \"欠薪\"}}")
[ "$(echo "$out" | jq -r .code)" = invalid_argument ] || fail "bad ID number accepted: $out"
[ "$(header x-request-id)" = e2e-bad-id ] || fail "request id not returned: $(cat "$E2E_TMP/headers")"
out=$(call "" IntakeService/RegisterCase "{\"intake\": {\"channel\": \"CHANNEL_CALL\",
  \"call\": {\"callerNumber\": \"${PHONE}x\"}, \"petitioners\": [{\"name\": \"$NAME\",
  \"phone\": \"${PHONE}x\", \"idNumber\": \"$ID\"}], \"category\": \"wages.arrears\", \"summary\": \"欠薪\"}}")
[ "$(echo "$out" | jq -r .code)" = invalid_argument ] || fail "bad phone accepted: $out"
made=$(header x-request-id)
[[ $made =~ ^[0-9a-f]{16}$ ]] || fail "no request id made up: '$made'"
# The same ID number under another name: refused (the registered name masked).
out=$(call e2e-other-name IntakeService/RegisterCase "{\"intake\": {\"channel\": \"CHANNEL_VISIT\",
  \"visit\": {\"peoplePresent\": 1}, \"petitioners\": [{\"name\": \"${NAME}乙\", \"idNumber\": \"$ID\"}],
  \"category\": \"wages.arrears\", \"summary\": \"欠薪\"}}")
[ "$(echo "$out" | jq -r .code)" != null ] || fail "same ID, other name accepted: $out"
# A lookup by a tracking number that is the phone number, and a sign-in
# whose account name is the ID number.
call e2e-lookup CaseQueryService/GetCase "{\"case\": {\"trackingNumber\": \"$PHONE\"}}" >/dev/null
curl -sS -X POST -H 'Content-Type: application/json' \
  --data-binary "{\"account\": \"$ID\", \"password\": \"$PHONE\"}" \
  "$H/xinfang.v1.AdminService/SignIn" >/dev/null
# A request id that is not a sane token is replaced, not logged.
call "$PHONE$NAME" AdminService/WhoAmI '{}' >/dev/null 2>&1 || true
stop_server one

log="$E2E_TMP/one.log"
# Every line is one JSON object with the fields the docs promise.
jq -e -s 'length > 0 and all(.[]; (.ts | type) == "string" and (.level | type) == "string"
  and .program == "xinfang-server" and (.msg | type) == "string")' "$log" >/dev/null ||
  fail "not JSON lines: $(grep -v '^{' "$log" | head -3)"
# The calls' lines carry their request ids.
jq -e -s 'any(.[]; .request_id == "e2e-bad-id" and (.msg | test("RegisterCase INVALID_ARGUMENT")))' \
  "$log" >/dev/null || fail "no line of the e2e-bad-id call"
jq -e -s --arg id "$made" 'any(.[]; .request_id == $id)' "$log" >/dev/null ||
  fail "no line with the made-up id $made"
jq -e -s 'all(.[]; if (.msg | startswith("rpc ")) then .request_id != null else true end)' \
  "$log" >/dev/null ||
  fail "a call's line without a request id"

# No personal data in any log the server wrote.
for f in "$E2E_TMP"/*.log; do
  for v in "$NAME" "$ID" "$PHONE"; do
    if grep -F -q -- "$v" "$f"; then
      fail "$(basename "$f") holds personal data '$v': $(grep -F -- "$v" "$f" | head -3)"
    fi
  done
done
echo "logs_e2e: ok ($(wc -l <"$log") lines checked)"
