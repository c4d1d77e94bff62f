// Reaching people outside the office: the channels the notification outbox
// delivers through (services/supervision/notifier.h). E-mail over SMTP is
// built in; an office's SMS gateway is another MessageChannel (see
// docs/notifications.md for the interface an adapter implements).
//
// Thread-compatible: one channel is used by one thread at a time.
#ifndef XINFANG_SERVICES_COMMON_MAIL_H_
#define XINFANG_SERVICES_COMMON_MAIL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace xinfang {

// One message to one person.
struct OutboundMessage {
  std::string to;       // an e-mail address (or, for an SMS channel, a phone number)
  std::string subject;  // UTF-8, one line
  std::string text;     // UTF-8 plain text
  // An attached page (a written document), optional: its file name and HTML.
  std::string attachment_name, attachment_html;
  // Stable per outbox message ("<outbox-17.1701234567@host>"): a receiver
  // that sees it twice (a retry after a lost reply) can tell.
  std::string message_id;
  absl::Time date;
};

class MessageChannel {
 public:
  virtual ~MessageChannel() = default;
  // "email", "sms": the outbox's channel column.
  virtual std::string name() const = 0;
  // Delivers `m`. OK once the gateway has accepted it; UNAVAILABLE when it
  // may work later (no connection, a 4xx reply: retried with backoff);
  // INVALID_ARGUMENT when it never will (a 5xx reply, a refused address).
  virtual absl::Status Send(const OutboundMessage& m) = 0;
};

// E-mail by SMTP (RFC 5321), plain TCP to a relay the office runs (on the
// same machine or its network); a MIME message (RFC 2045) with a UTF-8
// text part and the document as an HTML attachment.
class SmtpChannel final : public MessageChannel {
 public:
  // `server` is host:port; `from` the sender address.
  SmtpChannel(std::string server, std::string from, absl::Duration timeout = absl::Seconds(10));
  std::string name() const override { return "email"; }
  absl::Status Send(const OutboundMessage& m) override;

 private:
  std::string host_, port_, from_;
  absl::Duration timeout_;
};

// The message as sent by SmtpChannel (headers and MIME body, CRLF lines),
// before dot-stuffing; `from` is the sender address.
std::string MimeMessage(const OutboundMessage& m, const std::string& from);

// A plausible e-mail address: one @, something on each side, a dot in the
// domain, no spaces or control characters, at most 254 bytes.
bool IsEmailAddress(const std::string& s);

}  // namespace xinfang

#endif  // XINFANG_SERVICES_COMMON_MAIL_H_
