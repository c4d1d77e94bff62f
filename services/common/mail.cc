#include "services/common/mail.h"

#include <boost/asio.hpp>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace xinfang {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// RFC 2047: "=?UTF-8?B?…?=" when the text is not plain ASCII.
std::string EncodedWord(const std::string& text) {
  const bool ascii = std::all_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f;
  });
  if (ascii) return text;
  return absl::StrCat("=?UTF-8?B?", absl::Base64Escape(text), "?=");
}

// Base64 in lines of 76 characters (RFC 2045).
std::string Base64Lines(const std::string& data) {
  const std::string b = absl::Base64Escape(data);
  std::string out;
  for (size_t i = 0; i < b.size(); i += 76) absl::StrAppend(&out, b.substr(i, 76), "\r\n");
  return out;
}

// RFC 3986 percent-encoding for a filename* parameter (RFC 2231).
std::string PercentEncoded(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (absl::ascii_isalnum(c) || c == '.' || c == '-' || c == '_') {
      out += static_cast<char>(c);
    } else {
      absl::StrAppend(&out, "%", absl::StrFormat("%02X", c));
    }
  }
  return out;
}

// One SMTP exchange over a connected socket, with a deadline per read.
class Session {
 public:
  explicit Session(tcp::socket& socket) : socket_(socket) {}

  // Reads a (possibly multi-line) reply: its code, and the text for errors.
  absl::StatusOr<int> Reply(std::string* text) {
    for (;;) {
      size_t nl = buffer_.find("\r\n");
      while (nl == std::string::npos) {
        char chunk[1024];
        boost::system::error_code ec;
        const size_t n = socket_.read_some(asio::buffer(chunk), ec);
        if (ec) {
          return absl::UnavailableError(absl::StrCat("SMTP server closed: ", ec.message()));
        }
        buffer_.append(chunk, n);
        if (buffer_.size() > 64 * 1024) return absl::UnavailableError("SMTP reply too long");
        nl = buffer_.find("\r\n");
      }
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 2);
      int code = 0;
      if (line.size() < 3 || !absl::SimpleAtoi(line.substr(0, 3), &code)) {
        return absl::UnavailableError(absl::StrCat("not an SMTP reply: ", line));
      }
      absl::StrAppend(text, line.substr(std::min<size_t>(4, line.size())), " ");
      if (line.size() == 3 || line[3] == ' ') return code;
    }
  }

  // Sends `line` (CRLF added unless empty) and checks the reply's class.
  absl::Status Command(const std::string& line, int expect_class) {
    if (!line.empty()) {
      boost::system::error_code ec;
      asio::write(socket_, asio::buffer(line + "\r\n"), ec);
      if (ec) return absl::UnavailableError(absl::StrCat("SMTP write: ", ec.message()));
    }
    std::string text;
    auto code = Reply(&text);
    if (!code.ok()) return code.status();
    if (*code / 100 == expect_class) return absl::OkStatus();
    const std::string what = absl::StrCat("SMTP ", *code, " ", absl::StripAsciiWhitespace(text),
                                          line.empty() ? "" : absl::StrCat(" (after ", Verb(line), ")"));
    // 4xx: try again later; 5xx: this message will never go.
    return *code / 100 == 4 ? absl::UnavailableError(what) : absl::InvalidArgumentError(what);
  }

  absl::Status Write(const std::string& data) {
    boost::system::error_code ec;
    asio::write(socket_, asio::buffer(data), ec);
    if (ec) return absl::UnavailableError(absl::StrCat("SMTP write: ", ec.message()));
    return absl::OkStatus();
  }

 private:
  static std::string Verb(const std::string& line) { return line.substr(0, line.find(' ')); }
  tcp::socket& socket_;
  std::string buffer_;
};

}  // namespace

bool IsEmailAddress(const std::string& s) {
  if (s.empty() || s.size() > 254) return false;
  for (unsigned char c : s) {
    if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '"' || c == ',' || c == ';') {
      return false;
    }
  }
  const size_t at = s.find('@');
  if (at == std::string::npos || at == 0 || s.find('@', at + 1) != std::string::npos) return false;
  const std::string domain = s.substr(at + 1);
  const size_t dot = domain.find('.');
  return dot != std::string::npos && dot > 0 && domain.back() != '.';
}

std::string MimeMessage(const OutboundMessage& m, const std::string& from) {
  const std::string boundary = absl::StrCat("xf-", absl::ToUnixMicros(m.date), "-part");
  std::string out = absl::StrCat(
      "From: ", EncodedWord("信访系统"), " <", from, ">\r\n", "To: <", m.to, ">\r\n",
      "Subject: ", EncodedWord(m.subject), "\r\n",
      "Date: ", absl::FormatTime("%a, %d %b %Y %H:%M:%S %z", m.date, absl::UTCTimeZone()), "\r\n",
      "Message-ID: ", m.message_id, "\r\n", "MIME-Version: 1.0\r\n");
  const std::string text_part = absl::StrCat(
      "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n",
      Base64Lines(m.text));
  if (m.attachment_html.empty()) return absl::StrCat(out, text_part);
  absl::StrAppend(&out, "Content-Type: multipart/mixed; boundary=\"", boundary, "\"\r\n\r\n",
                  "--", boundary, "\r\n", text_part, "--", boundary, "\r\n",
                  "Content-Type: text/html; charset=UTF-8\r\n",
                  "Content-Disposition: attachment; filename*=UTF-8''",
                  PercentEncoded(m.attachment_name), "\r\n",
                  "Content-Transfer-Encoding: base64\r\n\r\n", Base64Lines(m.attachment_html),
                  "--", boundary, "--\r\n");
  return out;
}

SmtpChannel::SmtpChannel(std::string server, std::string from, absl::Duration timeout)
    : from_(std::move(from)), timeout_(timeout) {
  const size_t colon = server.rfind(':');
  host_ = colon == std::string::npos ? server : server.substr(0, colon);
  port_ = colon == std::string::npos ? "25" : server.substr(colon + 1);
}

absl::Status SmtpChannel::Send(const OutboundMessage& m) {
  if (!IsEmailAddress(m.to)) {
    return absl::InvalidArgumentError(absl::StrCat("not an e-mail address: ", m.to));
  }
  asio::io_context io;
  tcp::socket socket(io);
  boost::system::error_code ec;
  tcp::resolver resolver(io);
  auto endpoints = resolver.resolve(host_, port_, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("SMTP server ", host_, ": ", ec.message()));
  asio::connect(socket, endpoints, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("SMTP server ", host_, ":", port_, ": ", ec.message()));
  }
  // Every read and write waits at most the timeout.
  const int ms = static_cast<int>(absl::ToInt64Milliseconds(timeout_));
  const timeval tv{ms / 1000, (ms % 1000) * 1000};
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  Session s(socket);
  if (auto st = s.Command("", 2); !st.ok()) return st;
  if (auto st = s.Command("EHLO xinfang.localdomain", 2); !st.ok()) return st;
  if (auto st = s.Command(absl::StrCat("MAIL FROM:<", from_, ">"), 2); !st.ok()) return st;
  if (auto st = s.Command(absl::StrCat("RCPT TO:<", m.to, ">"), 2); !st.ok()) return st;
  if (auto st = s.Command("DATA", 3); !st.ok()) return st;
  // Dot-stuffing (RFC 5321 4.5.2): a line that starts with "." gets another.
  std::string body = MimeMessage(m, from_);
  std::string stuffed;
  for (absl::string_view line : absl::StrSplit(body, "\r\n")) {
    if (absl::StartsWith(line, ".")) stuffed += '.';
    absl::StrAppend(&stuffed, line, "\r\n");
  }
  if (auto st = s.Write(stuffed); !st.ok()) return st;
  if (auto st = s.Command(".", 2); !st.ok()) return st;
  (void)s.Command("QUIT", 2);  // the message is accepted whatever QUIT says
  return absl::OkStatus();
}

}  // namespace xinfang
