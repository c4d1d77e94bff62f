#!/usr/bin/env bash
# The all-in-one server as a process: register with xfctl, read back by
# tracking number, SIGTERM (exit 0), restart, read again.
. "$(dirname "$0")/lib.sh"

start_server one xinfang-server
out=$(xf "$PORT_one" --json case register --channel letter --name 王五 --phone 13900000001 \
  --category contract.dismissal --summary "被违法解除劳动合同" --postmark 2026-11-20 \
  --sender-address "某市某区某路1号" --request-id e2e-letter-0001)
tracking=$(echo "$out" | json_field tracking_number)
[ -n "$tracking" ] || fail "no tracking number in: $out"
echo "registered $tracking"

show=$(xf "$PORT_one" case show "$tracking")
grep -q "王五" <<<"$show" || fail "case show lacks the petitioner: $show"
grep -q "intake_notice" <<<"$show" || fail "case show lacks the deadline: $show"
grep -q "registered" <<<"$show" || fail "case show lacks the state"

# A retry with the same request id returns the same case...
again=$(xf "$PORT_one" --json case register --channel letter --name 王五 --phone 13900000001 \
  --category contract.dismissal --summary "被违法解除劳动合同" --postmark 2026-11-20 \
  --sender-address "某市某区某路1号" --request-id e2e-letter-0001)
[ "$(echo "$again" | json_field tracking_number)" = "$tracking" ] || fail "retry made a new case"
grep -q '"replayed": true' <<<"$again" || fail "retry not marked replayed"
code=$(echo "$again" | json_field code)  # a retry's receipt carries a new query code
# ...and the same id with a different petition is refused.
rc=0; err=$(xf "$PORT_one" case register --channel letter --name 王五 --category contract.dismissal \
  --summary "另一件事" --request-id e2e-letter-0001 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q "ALREADY_EXISTS: request_id" <<<"$err" || fail "reused id accepted: $err"

# Bad input: a clear status naming the field, exit code 1.
rc=0; err=$(xf "$PORT_one" case register --channel visit --name 赵六 --category wages.arrears \
  --summary x --representative a --representative b --representative c --representative d \
  --representative e --representative f 2>&1) || rc=$?
[ "$rc" = 1 ] || fail "six representatives: exit $rc"
grep -q "INVALID_ARGUMENT: intake.visit.representatives" <<<"$err" || fail "unclear error: $err"

# A clerk answers prompts instead of writing flags.
out=$(printf 'call\n赵六\n\n13700000002\n\n\nclaim\nwages.overtime\n长期加班无加班费\n\n\n\n12351\nCALL-77\n' |
  xf "$PORT_one" --json case register --interactive 2>/dev/null)
grep -q '"summary": "长期加班无加班费"' <<<"$out" || fail "interactive register: $out"
grep -q '"caller_number": "12351"' <<<"$out" || fail "interactive call details: $out"

# Without a token, or with a made-up one, nothing is answered.
rc=0; err=$("$XF_BIN/tools/xfctl" --server "127.0.0.1:$PORT_one" info 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q UNAUTHENTICATED <<<"$err" || fail "no token accepted: $err"
rc=0; err=$("$XF_BIN/tools/xfctl" --server "127.0.0.1:$PORT_one" --token xf_made-up info 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q "UNAUTHENTICATED: unknown token" <<<"$err" || fail "made-up token: $err"
# A second bootstrap is refused: the first administrator exists.
rc=0; err=$("$XF_BIN/services/xinfang-server" --db "$E2E_URL" --data-dir "$XF_SRC/deploy" \
  --bootstrap-admin another 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q "an administrator exists already" <<<"$err" || fail "second bootstrap: $err"
# Global flags may follow the command; unknown flags are refused.
grep -q "\"tracking_number\"" <<<"$(xf "$PORT_one" case show "$tracking" --json)" || fail "--json after the command"
rc=0; err=$(xf "$PORT_one" case show "$tracking" --colour 2>&1) || rc=$?
[ "$rc" = 2 ] && grep -q "unknown flag --colour" <<<"$err" || fail "unknown flag accepted: $err"

# A second server cannot take a port in use.
rc=0; out=$("$XF_BIN/services/xinfang-server" --db "$E2E_URL" --data-dir "$XF_SRC/deploy" \
  --listen "127.0.0.1:$PORT_one" 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q "cannot listen" <<<"$out" || fail "second server on a used port: $rc $out"

# The intake decision issues its written notice: listed, saved to print, on
# the petitioner's status, and sealed in the history.
xf "$PORT_one" case act "$tracking" accept --field notice=请携带身份证件 >/dev/null ||
  fail "accept refused"
docs=$(xf "$PORT_one" case documents "$tracking")
number=$(grep -o '省直机关工会信访办公室信受〔[0-9]*〕[0-9]*号' <<<"$docs" | head -1)
[ -n "$number" ] || fail "no acceptance notice listed: $docs"
grep -q "受理告知书" <<<"$docs" || fail "the notice's title is missing: $docs"
shown=$(xf "$PORT_one" case document "$number" --out "$E2E_TMP/notice.html")
grep -q "SHA-256" <<<"$shown" || fail "case document: $shown"
grep -q "请携带身份证件" "$E2E_TMP/notice.html" || fail "the saved notice lacks its text"
grep -q "$tracking" "$E2E_TMP/notice.html" || fail "the saved notice lacks the tracking number"
[ "$(sha256sum "$E2E_TMP/notice.html" | cut -d' ' -f1)" = "$(sed -n 's/^SHA-256 *//p' <<<"$shown")" ] ||
  fail "the saved page does not match its hash"
grep -q "hash chain verified" <<<"$(xf "$PORT_one" case verify "$tracking")" || fail "verify"
status=$("$XF_BIN/tools/xfctl" --server "127.0.0.1:$PORT_one" public status "$tracking" "$code")
grep -q "受理告知书  $number" <<<"$status" || fail "the petitioner's status lists no notice: $status"
"$XF_BIN/tools/xfctl" --server "127.0.0.1:$PORT_one" public document "$tracking" "$code" \
  "$number" --out "$E2E_TMP/public.html" >/dev/null || fail "public document"
cmp -s "$E2E_TMP/notice.html" "$E2E_TMP/public.html" || fail "the petitioner's copy differs"

stop_server one
start_server two xinfang-server
show=$(xf "$PORT_two" --json case show "$tracking")
grep -q "\"tracking_number\": \"$tracking\"" <<<"$show" || fail "not found after restart: $show"
grep -q "王五" <<<"$show" || fail "petitioner lost after restart"
stop_server two
echo "server_e2e: ok"
