#!/usr/bin/env bash
# Notifications end to end: xinfang-server started with --smtp-server mails
# the petitioner's acceptance notice to a real SMTP server (Debian's
# aiosmtpd, keeping what it receives in a Maildir); xfctl shows it sent.
. "$(dirname "$0")/lib.sh"

smtp_port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$E2E_TMP/mail/tmp" "$E2E_TMP/mail/new" "$E2E_TMP/mail/cur"
/usr/bin/aiosmtpd -n -l "127.0.0.1:$smtp_port" -c aiosmtpd.handlers.Mailbox "$E2E_TMP/mail" \
  >"$E2E_TMP/smtp.log" 2>&1 &
E2E_PIDS+=("$!")
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$smtp_port") 2>/dev/null && break
  sleep 0.1
done

start_server one xinfang-server --smtp-server "127.0.0.1:$smtp_port" \
  --smtp-from xinfang@example.org --public-status-url https://xf.example.org/status
out=$(xf "$PORT_one" --json case register --channel call --caller-number 12351 --call-ref CALL-9 \
  --name 李四 --email lisi@example.com --category wages.arrears --summary "拖欠工资三个月" \
  --request-id e2e-notify-0001)
tracking=$(json_field tracking_number <<<"$out")
[ -n "$tracking" ] || fail "no tracking number: $out"
grep -q '"email": "lisi@example.com"' <<<"$out" || fail "the petitioner's e-mail was not kept: $out"
rc=0; err=$(xf "$PORT_one" case register --channel call --caller-number 12351 --name 王五 \
  --email "wangwu at example" --category wages.arrears --summary x 2>&1) || rc=$?
[ "$rc" = 1 ] && grep -q "INVALID_ARGUMENT: intake.petitioners\[0\].email" <<<"$err" ||
  fail "a bad address was accepted: $err"

xf "$PORT_one" case act "$tracking" accept >/dev/null || fail "accept refused"
# The server's notifier runs in the background: the message arrives within
# seconds (bounded wait, 30 s).
for _ in $(seq 300); do
  [ -n "$(ls -A "$E2E_TMP/mail/new")" ] && break
  sleep 0.1
done
[ -n "$(ls -A "$E2E_TMP/mail/new")" ] || { cat "$E2E_TMP/one.log" >&2; fail "no message arrived"; }
msg=$(cat "$E2E_TMP"/mail/new/*)
grep -q "^X-RcptTo: lisi@example.com" <<<"$msg" || fail "not to the petitioner: $msg"
subject=$(sed -n 's/^Subject: =?UTF-8?B?\(.*\)?=$/\1/p' <<<"$msg" | base64 -d)
grep -q "受理告知书（信访编号 $tracking）" <<<"$subject" || fail "subject: $subject"
grep -q "^Message-ID: <outbox-" <<<"$msg" || fail "no stable Message-ID"

notes=$(xf "$PORT_one" case notifications "$tracking")
grep -q "petitioner_document" <<<"$notes" || fail "case notifications: $notes"
grep -q "lisi@example.com *sent" <<<"$notes" || fail "not recorded as sent: $notes"
[ "$(ls "$E2E_TMP/mail/new" | wc -l)" = 1 ] || fail "more than one message"
stop_server one
echo "notify_e2e: ok"
