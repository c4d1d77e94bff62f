#include "services/common/http_face.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/util/json_util.h>
#include <grpcpp/generic/generic_stub.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "services/common/log.h"
#include "services/storage/json.h"

namespace xinfang {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
namespace pb = google::protobuf;

namespace {

constexpr const char* kCodeNames[] = {
    "ok",           "canceled",           "unknown",   "invalid_argument", "deadline_exceeded",
    "not_found",    "already_exists",     "permission_denied", "resource_exhausted",
    "failed_precondition", "aborted",     "out_of_range", "unimplemented", "internal",
    "unavailable",  "data_loss",          "unauthenticated"};

std::string CodeName(grpc::StatusCode code) {
  const int c = static_cast<int>(code);
  return c >= 0 && c <= 16 ? kCodeNames[c] : "unknown";
}

void Varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

void LengthDelimited(std::string& out, int field, absl::string_view bytes) {
  Varint(out, (static_cast<uint64_t>(field) << 3) | 2);
  Varint(out, bytes.size());
  out.append(bytes.data(), bytes.size());
}

bool IsFieldPath(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '[' &&
        c != ']') {
      return false;
    }
  }
  return true;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> FieldViolations(absl::string_view message) {
  std::vector<std::pair<std::string, std::string>> out;
  const auto colon = message.find(": ");
  if (colon == absl::string_view::npos) return out;
  for (absl::string_view f : absl::StrSplit(message.substr(0, colon), ", ")) {
    if (!IsFieldPath(f)) return {};
    out.emplace_back(std::string(f), std::string(message));
  }
  return out;
}

int ConnectHttpStatus(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::CANCELLED: return 499;
    case grpc::StatusCode::INVALID_ARGUMENT: return 400;
    case grpc::StatusCode::DEADLINE_EXCEEDED: return 504;
    case grpc::StatusCode::NOT_FOUND: return 404;
    case grpc::StatusCode::ALREADY_EXISTS: return 409;
    case grpc::StatusCode::PERMISSION_DENIED: return 403;
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return 429;
    case grpc::StatusCode::FAILED_PRECONDITION: return 400;
    case grpc::StatusCode::ABORTED: return 409;
    case grpc::StatusCode::OUT_OF_RANGE: return 400;
    case grpc::StatusCode::UNIMPLEMENTED: return 501;
    case grpc::StatusCode::UNAVAILABLE: return 503;
    case grpc::StatusCode::UNAUTHENTICATED: return 401;
    default: return 500;
  }
}

std::string ConnectErrorJson(const grpc::Status& status) {
  std::string json = absl::StrCat("{\"code\":\"", CodeName(status.error_code()),
                                  "\",\"message\":", storage::JsonQuote(status.error_message()));
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    const auto violations = FieldViolations(status.error_message());
    if (!violations.empty()) {
      // google.rpc.BadRequest{field_violations: [{field, description}]}, by hand:
      // googleapis' protos are not in Debian's libprotobuf-dev.
      std::string bad_request;
      std::vector<std::string> debug;
      for (const auto& [field, description] : violations) {
        std::string v;
        LengthDelimited(v, 1, field);
        LengthDelimited(v, 2, description);
        LengthDelimited(bad_request, 1, v);
        debug.push_back(absl::StrCat("{\"field\":", storage::JsonQuote(field),
                                     ",\"description\":", storage::JsonQuote(description), "}"));
      }
      std::string value = absl::Base64Escape(bad_request);
      while (!value.empty() && value.back() == '=') value.pop_back();
      absl::StrAppend(&json, ",\"details\":[{\"type\":\"google.rpc.BadRequest\",\"value\":\"",
                      value, "\",\"debug\":{\"fieldViolations\":[", absl::StrJoin(debug, ","),
                      "]}}]");
    }
  }
  return json + "}";
}

namespace {

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

constexpr const char* kCsp =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

std::string ContentTypeOf(const std::string& path) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
      {".json", "application/json"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
      {".jpg", "image/jpeg"}, {".ico", "image/x-icon"}, {".woff2", "font/woff2"},
      {".woff", "font/woff"}, {".ttf", "font/ttf"}, {".txt", "text/plain; charset=utf-8"},
      {".map", "application/json"}};
  for (const auto& [ext, type] : kTypes) {
    if (absl::EndsWith(path, ext)) return type;
  }
  return "application/octet-stream";
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::stringstream text;
  text << in.rdbuf();
  *out = text.str();
  return static_cast<bool>(in) || in.eof();
}

// Waits until `fd` is readable (or closed); false after `ms` without.
bool WaitReadable(int fd, int ms) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  return ::poll(&p, 1, ms) != 0;
}

// True when the peer closed (or we shut the socket down): readable with no
// bytes left to read.
bool PeerGone(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) return true;
  char c;
  return ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

}  // namespace

struct HttpFace::Impl {
  HttpFaceOptions options;
  grpc::Server* server = nullptr;
  std::shared_ptr<grpc::Channel> channel;
  net::io_context io;
  tcp::acceptor acceptor{io};
  std::unique_ptr<net::ssl::context> ssl;
  int port = 0;
  std::thread accept_thread;
  std::atomic<bool> stopping{false};
  absl::Mutex mu;
  std::set<int> sockets ABSL_GUARDED_BY(mu);  // the fds of open connections

  void AcceptLoop();
  void Connection(tcp::socket socket);
  template <class Stream>
  void Serve(Stream& stream, int fd, const std::string& peer);
  template <class Stream>
  bool Handle(Stream& stream, int fd, const std::string& peer, Request& req);
  void Finish(Response& res, const Request& req);
  Response Static(const Request& req);
  Response Error(const Request& req, const grpc::Status& s);
  template <class Stream>
  bool Stream_(Stream& stream, int fd, const Request& req, const std::string& path,
               const pb::MethodDescriptor& method, bool json, const std::string& peer);
};

void HttpFace::Impl::AcceptLoop() {
  while (!stopping) {
    beast::error_code ec;
    tcp::socket socket = acceptor.accept(ec);
    if (stopping) break;
    if (ec) {
      if (ec != net::error::connection_aborted) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    {
      absl::MutexLock lock(&mu);
      if (static_cast<int>(sockets.size()) >= kMaxConnections) {
        socket.close(ec);  // over the limit: the client retries later
        continue;
      }
      sockets.insert(socket.native_handle());
    }
    std::thread([this, s = std::move(socket)]() mutable { Connection(std::move(s)); }).detach();
  }
}

void HttpFace::Impl::Connection(tcp::socket socket) {
  const int fd = socket.native_handle();
  beast::error_code ec;
  std::string peer = "unknown";
  if (auto ep = socket.remote_endpoint(ec); !ec) peer = ep.address().to_string();
  socket.set_option(tcp::no_delay(true), ec);
  try {
    if (ssl) {
      net::ssl::stream<tcp::socket&> stream(socket, *ssl);
      if (WaitReadable(fd, 10000)) {
        stream.handshake(net::ssl::stream_base::server, ec);
        if (!ec) Serve(stream, fd, peer);
        stream.shutdown(ec);
      }
    } else {
      Serve(socket, fd, peer);
    }
  } catch (const std::exception& e) {
    LogWarn(absl::StrCat("http: connection from ", peer, ": ", e.what()));
  }
  socket.shutdown(tcp::socket::shutdown_both, ec);
  {
    absl::MutexLock lock(&mu);
    sockets.erase(fd);
    socket.close(ec);
  }
}

template <class Stream>
void HttpFace::Impl::Serve(Stream& stream, int fd, const std::string& peer) {
  beast::flat_buffer buffer;
  while (!stopping) {
    // An idle keep-alive connection is closed after a minute. (Over TLS the
    // stream may hold bytes already read from the socket: no such wait.)
    if (!ssl && buffer.size() == 0 && !WaitReadable(fd, 60000)) return;
    http::request_parser<http::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(static_cast<std::uint64_t>(options.max_message_bytes) + 5);
    beast::error_code ec;
    http::read(stream, buffer, parser, ec);
    if (ec == http::error::body_limit) {
      Request req;
      Response res = Error(req, grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                             absl::StrCat("request larger than ",
                                                          options.max_message_bytes, " bytes")));
      res.keep_alive(false);
      http::write(stream, res, ec);
      return;
    }
    if (ec) return;
    Request req = parser.release();
    if (!Handle(stream, fd, peer, req)) return;
  }
}

void HttpFace::Impl::Finish(Response& res, const Request& req) {
  res.set(http::field::server, "xinfang");
  res.set("Content-Security-Policy", kCsp);
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Frame-Options", "DENY");
  res.set("Referrer-Policy", "no-referrer");
  const auto origin = req[http::field::origin];
  if (!origin.empty()) {
    for (const std::string& o : options.cors_origins) {
      if (o == origin) {
        res.set(http::field::access_control_allow_origin, origin);
        res.set(http::field::vary, "Origin");
        res.set(http::field::access_control_expose_headers, "Grpc-Status, Grpc-Message");
      }
    }
  }
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
}

Response HttpFace::Impl::Error(const Request& req, const grpc::Status& s) {
  Response res{static_cast<http::status>(ConnectHttpStatus(s.error_code())), req.version()};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.body() = ConnectErrorJson(s);
  Finish(res, req);
  return res;
}

Response HttpFace::Impl::Static(const Request& req) {
  Response res{http::status::ok, req.version()};
  std::string target(req.target());
  target = target.substr(0, target.find_first_of("?#"));
  if (target.empty() || target[0] != '/' || absl::StrContains(target, "..") ||
      absl::StrContains(target, "\\") || absl::StrContains(target, std::string(1, '\0'))) {
    res.result(http::status::bad_request);
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.body() = "bad path\n";
    Finish(res, req);
    return res;
  }
  // A path without a dot is a screen of the single-page console.
  const std::string last = target.substr(target.rfind('/') + 1);
  std::string file = last.find('.') == std::string::npos ? "/index.html" : target;
  std::string body;
  if (options.console_dir.empty() || !ReadFile(options.console_dir + file, &body)) {
    res.result(http::status::not_found);
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.body() = file == "/index.html"
                     ? "The console is not built: run `npm ci && npm run build` in web/ (or ./deploy/run.sh).\n"
                     : "not found\n";
    Finish(res, req);
    return res;
  }
  // A gzip twin written at build time (web/scripts/compress.mjs) is sent
  // to clients that accept it.
  if (absl::StrContains(absl::AsciiStrToLower(std::string(req[http::field::accept_encoding])), "gzip")) {
    if (std::string gz; ReadFile(options.console_dir + file + ".gz", &gz)) {
      body = std::move(gz);
      res.set(http::field::content_encoding, "gzip");
    }
  }
  res.set(http::field::vary, "Accept-Encoding");
  res.set(http::field::content_type, ContentTypeOf(file));
  // Vite names built assets by their hash: they never change under a name.
  res.set(http::field::cache_control, absl::StartsWith(file, "/assets/")
                                          ? "public, max-age=31536000, immutable"
                                          : "no-cache");
  if (req.method() != http::verb::head) res.body() = std::move(body);
  Finish(res, req);
  if (req.method() == http::verb::head) res.content_length(body.size());
  return res;
}

namespace {

// Runs one completion-queue step; false when the operation failed.
bool Await(grpc::CompletionQueue& cq, void* tag) {
  void* got = nullptr;
  bool ok = false;
  if (!cq.Next(&got, &ok)) return false;
  return got == tag && ok;
}

void Drain(grpc::CompletionQueue& cq) {
  cq.Shutdown();
  void* tag;
  bool ok;
  while (cq.Next(&tag, &ok)) {
  }
}

grpc::ByteBuffer ToBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string FromBuffer(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

// The request as protobuf bytes, from JSON or from protobuf (checked).
grpc::Status Decode(const pb::Descriptor& type, absl::string_view body, bool json,
                    std::string* bytes) {
  std::unique_ptr<pb::Message> msg(
      pb::MessageFactory::generated_factory()->GetPrototype(&type)->New());
  if (json) {
    // An empty body is the empty message, as for protobuf.
    const absl::string_view text = absl::StripAsciiWhitespace(body);
    if (!text.empty()) {
      auto st = pb::util::JsonStringToMessage(std::string(text), msg.get());
      if (!st.ok()) {
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                            absl::StrCat("request body is not a JSON ", type.full_name(), ": ",
                                         st.message().ToString()));
      }
    }
  } else if (!msg->ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrCat("request body is not a protobuf ", type.full_name()));
  }
  *bytes = msg->SerializeAsString();
  return grpc::Status::OK;
}

// A response message as JSON (proto3 JSON mapping) or protobuf.
grpc::Status Encode(const pb::Descriptor& type, const std::string& bytes, bool json,
                    std::string* out) {
  if (!json) {
    *out = bytes;
    return grpc::Status::OK;
  }
  std::unique_ptr<pb::Message> msg(
      pb::MessageFactory::generated_factory()->GetPrototype(&type)->New());
  if (!msg->ParseFromString(bytes)) {
    return grpc::Status(grpc::StatusCode::INTERNAL, "response does not parse");
  }
  auto st = pb::util::MessageToJsonString(*msg, out);
  if (!st.ok()) return grpc::Status(grpc::StatusCode::INTERNAL, st.message().ToString());
  return grpc::Status::OK;
}

// The caller's X-Request-Id, when sane, as the call's x-request-id.
void ForwardRequestId(const Request& req, grpc::ClientContext& ctx) {
  const auto id = req["X-Request-Id"];
  if (SaneRequestId(std::string_view(id.data(), id.size()))) {
    ctx.AddMetadata("x-request-id", std::string(id));
  }
}

// The request id the server answered with ("" if none).
std::string RequestIdOf(const grpc::ClientContext& ctx) {
  const auto& md = ctx.GetServerInitialMetadata();
  auto it = md.find("x-request-id");
  return it == md.end() ? "" : std::string(it->second.data(), it->second.size());
}

std::string Envelope(uint8_t flags, absl::string_view data) {
  std::string out(5, '\0');
  out[0] = static_cast<char>(flags);
  const uint32_t n = static_cast<uint32_t>(data.size());
  out[1] = static_cast<char>(n >> 24);
  out[2] = static_cast<char>(n >> 16);
  out[3] = static_cast<char>(n >> 8);
  out[4] = static_cast<char>(n);
  out.append(data.data(), data.size());
  return out;
}

}  // namespace

template <class Stream>
bool HttpFace::Impl::Handle(Stream& stream, int fd, const std::string& peer, Request& req) {
  beast::error_code ec;
  const std::string target(req.target());
  if (req.method() == http::verb::options) {
    Response res{http::status::no_content, req.version()};
    const auto origin = req[http::field::origin];
    for (const std::string& o : options.cors_origins) {
      if (!origin.empty() && o == origin) {
        res.set(http::field::access_control_allow_methods, "POST, GET");
        res.set(http::field::access_control_allow_headers,
                "Authorization, Content-Type, Connect-Protocol-Version, Connect-Timeout-Ms, "
                "X-User-Agent");
        res.set(http::field::access_control_max_age, "7200");
      }
    }
    Finish(res, req);
    http::write(stream, res, ec);
    return !ec && req.keep_alive();
  }
  const bool metrics_path = target.substr(0, target.find_first_of("?#")) == "/metrics";
  if (options.metrics_only && !(metrics_path && (req.method() == http::verb::get ||
                                                 req.method() == http::verb::head))) {
    Response res{http::status::not_found, req.version()};
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.body() = "only GET /metrics here\n";
    Finish(res, req);
    http::write(stream, res, ec);
    return !ec && req.keep_alive();
  }
  if (metrics_path && options.metrics &&
      (req.method() == http::verb::get || req.method() == http::verb::head)) {
    Response res{http::status::ok, req.version()};
    res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    res.set(http::field::cache_control, "no-store");
    if (req.method() == http::verb::get) res.body() = options.metrics();
    Finish(res, req);
    http::write(stream, res, ec);
    return !ec && req.keep_alive();
  }
  if (req.method() == http::verb::get || req.method() == http::verb::head) {
    Response res = Static(req);
    http::write(stream, res, ec);
    return !ec && req.keep_alive();
  }
  auto reply = [&](Response res) {
    http::write(stream, res, ec);
    return !ec && req.keep_alive();
  };
  if (req.method() != http::verb::post) {
    Response res{http::status::method_not_allowed, req.version()};
    res.set(http::field::allow, "GET, HEAD, POST, OPTIONS");
    Finish(res, req);
    return reply(std::move(res));
  }
  // /xinfang.v1.Service/Method
  const auto slash = target.rfind('/');
  const std::string service = slash == std::string::npos || slash == 0 ? "" : target.substr(1, slash - 1);
  const std::string name = slash == std::string::npos ? "" : target.substr(slash + 1);
  const pb::ServiceDescriptor* sd =
      absl::StartsWith(service, "xinfang.v1.")
          ? pb::DescriptorPool::generated_pool()->FindServiceByName(service)
          : nullptr;
  const pb::MethodDescriptor* method = sd ? sd->FindMethodByName(name) : nullptr;
  if (method == nullptr || method->client_streaming()) {
    return reply(Error(req, grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                                         absl::StrCat("no procedure ", target))));
  }
  std::string type(req[http::field::content_type]);
  type = absl::AsciiStrToLower(absl::StripAsciiWhitespace(type.substr(0, type.find(';'))));
  const bool streaming = absl::StartsWith(type, "application/connect+");
  const bool json = type == "application/json" || type == "application/connect+json";
  const bool known = json || type == "application/proto" || type == "application/connect+proto";
  if (!known || streaming != method->server_streaming()) {
    Response res{http::status::unsupported_media_type, req.version()};
    res.set(http::field::accept_encoding, "identity");
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.body() = method->server_streaming()
                     ? "a server stream: application/connect+json or application/connect+proto\n"
                     : "a unary call: application/json or application/proto\n";
    Finish(res, req);
    return reply(std::move(res));
  }
  const auto encoding = req[streaming ? "Connect-Content-Encoding" : "Content-Encoding"];
  if (!encoding.empty() && encoding != "identity") {
    return reply(Error(req, grpc::Status(grpc::StatusCode::UNIMPLEMENTED,
                                         "compressed requests are not supported: send identity")));
  }
  if (streaming) return Stream_(stream, fd, req, target, *method, json, peer);

  std::string request_bytes;
  if (auto st = Decode(*method->input_type(), req.body(), json, &request_bytes); !st.ok()) {
    return reply(Error(req, st));
  }
  grpc::ClientContext ctx;
  if (auto auth = req[http::field::authorization]; !auth.empty()) {
    ctx.AddMetadata("authorization", std::string(auth));
  }
  ctx.AddMetadata("x-xinfang-peer", peer);
  ForwardRequestId(req, ctx);
  absl::Duration timeout = options.default_timeout;
  if (int64_t ms = 0; absl::SimpleAtoi(std::string(req["Connect-Timeout-Ms"]), &ms) && ms > 0) {
    timeout = std::min(timeout, absl::Milliseconds(ms));
  }
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  grpc::CompletionQueue cq;
  grpc::GenericStub stub(channel);
  const grpc::ByteBuffer request = ToBuffer(request_bytes);
  grpc::ByteBuffer response;
  grpc::Status status;
  auto call = stub.PrepareUnaryCall(&ctx, target, request, &cq);
  call->StartCall();
  call->Finish(&response, &status, &cq);
  if (!Await(cq, &cq)) status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "server stopping");
  Drain(cq);
  const std::string request_id = RequestIdOf(ctx);
  if (!status.ok()) {
    Response res = Error(req, status);
    if (!request_id.empty()) res.set("X-Request-Id", request_id);
    return reply(std::move(res));
  }
  Response res{http::status::ok, req.version()};
  if (!request_id.empty()) res.set("X-Request-Id", request_id);
  res.set(http::field::content_type, json ? "application/json" : "application/proto");
  res.set(http::field::cache_control, "no-store");
  if (auto st = Encode(*method->output_type(), FromBuffer(response), json, &res.body()); !st.ok()) {
    return reply(Error(req, st));
  }
  Finish(res, req);
  return reply(std::move(res));
}

template <class Stream>
bool HttpFace::Impl::Stream_(Stream& stream, int fd, const Request& req, const std::string& path,
                             const pb::MethodDescriptor& method, bool json,
                             const std::string& peer) {
  beast::error_code ec;
  // The response: 200 at once, then enveloped messages, then the end-of-stream
  // message (flag 2) with the error, if any, as JSON.
  http::response<http::empty_body> head{http::status::ok, req.version()};
  head.set(http::field::content_type, json ? "application/connect+json" : "application/connect+proto");
  head.set(http::field::cache_control, "no-store");
  {
    Response tmp;
    Finish(tmp, req);
    for (const auto& f : tmp) head.set(f.name_string(), f.value());
  }
  head.erase(http::field::content_length);
  head.chunked(true);
  head.keep_alive(false);
  http::response_serializer<http::empty_body> sr{head};
  http::write_header(stream, sr, ec);
  if (ec) return false;
  auto end = [&](const grpc::Status& s) {
    std::string body = s.ok() ? "{}" : absl::StrCat("{\"error\":", ConnectErrorJson(s), "}");
    net::write(stream, http::make_chunk(net::buffer(Envelope(2, body))), ec);
    if (!ec) net::write(stream, http::make_chunk_last(), ec);
    return false;
  };
  const std::string& body = req.body();
  if (body.size() < 5 || (static_cast<uint8_t>(body[0]) & 1) != 0) {
    return end(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                            "request: one uncompressed enveloped message"));
  }
  const uint32_t n = (static_cast<uint8_t>(body[1]) << 24) | (static_cast<uint8_t>(body[2]) << 16) |
                     (static_cast<uint8_t>(body[3]) << 8) | static_cast<uint8_t>(body[4]);
  if (n != body.size() - 5) {
    return end(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "request: envelope length"));
  }
  std::string request_bytes;
  if (auto st = Decode(*method.input_type(), absl::string_view(body).substr(5), json, &request_bytes);
      !st.ok()) {
    return end(st);
  }
  grpc::ClientContext ctx;
  if (auto auth = req[http::field::authorization]; !auth.empty()) {
    ctx.AddMetadata("authorization", std::string(auth));
  }
  ctx.AddMetadata("x-xinfang-peer", peer);
  ForwardRequestId(req, ctx);
  if (int64_t ms = 0; absl::SimpleAtoi(std::string(req["Connect-Timeout-Ms"]), &ms) && ms > 0) {
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Milliseconds(ms)));
  }
  grpc::CompletionQueue cq;
  grpc::GenericStub stub(channel);
  auto call = stub.PrepareCall(&ctx, path, &cq);
  int tags[4];
  // Waits for `tag`, cancelling the call once the client has gone.
  auto wait = [&](void* tag) {
    void* got = nullptr;
    bool ok = false;
    for (;;) {
      const auto r = cq.AsyncNext(&got, &ok, std::chrono::system_clock::now() + std::chrono::seconds(1));
      if (r == grpc::CompletionQueue::SHUTDOWN) return false;
      if (r == grpc::CompletionQueue::GOT_EVENT) return got == tag && ok;
      if (stopping || PeerGone(fd)) ctx.TryCancel();
    }
  };
  grpc::Status status;
  bool gone = false;
  call->StartCall(&tags[0]);
  if (wait(&tags[0])) {
    call->WriteLast(ToBuffer(request_bytes), grpc::WriteOptions(), &tags[1]);
    if (wait(&tags[1])) {
      for (;;) {
        grpc::ByteBuffer msg;
        call->Read(&msg, &tags[2]);
        if (!wait(&tags[2])) break;
        std::string out;
        if (auto st = Encode(*method.output_type(), FromBuffer(msg), json, &out); !st.ok()) {
          ctx.TryCancel();
          break;
        }
        net::write(stream, http::make_chunk(net::buffer(Envelope(0, out))), ec);
        if (ec) {
          gone = true;
          ctx.TryCancel();
          break;
        }
      }
    }
  }
  call->Finish(&status, &tags[3]);
  void* got;
  bool ok;
  while (cq.Next(&got, &ok) && got != &tags[3]) {
  }
  Drain(cq);
  if (!gone) end(status);
  return false;
}

HttpFace::HttpFace(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpFace::~HttpFace() { Stop(); }

int HttpFace::port() const { return impl_->port; }
bool HttpFace::tls() const { return impl_->ssl != nullptr; }

absl::StatusOr<std::unique_ptr<HttpFace>> HttpFace::Start(grpc::Server& server,
                                                          const HttpFaceOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->server = &server;
  impl->channel = server.InProcessChannel(grpc::ChannelArguments());
  const auto colon = options.listen.rfind(':');
  int port = -1;
  if (colon == std::string::npos || !absl::SimpleAtoi(options.listen.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(options.flag, ": '", options.listen, "' is not host:port"));
  }
  std::string host = options.listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") host = "127.0.0.1";
  beast::error_code ec;
  const auto address = net::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat(options.flag, ": '", host, "' is not an IP address"));
  }
  if (!options.tls_cert.empty()) {
    impl->ssl = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
    impl->ssl->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                           net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                           net::ssl::context::no_tlsv1_1);
    impl->ssl->use_certificate_chain_file(options.tls_cert, ec);
    if (!ec) impl->ssl->use_private_key_file(options.tls_key, net::ssl::context::pem, ec);
    if (!ec && !options.tls_client_ca.empty()) {
      impl->ssl->load_verify_file(options.tls_client_ca, ec);
      impl->ssl->set_verify_mode(net::ssl::verify_peer | net::ssl::verify_fail_if_no_peer_cert);
    }
    if (ec) return absl::InvalidArgumentError(absl::StrCat("--http-listen TLS: ", ec.message()));
  }
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat(options.flag, ": cannot listen on ", options.listen, ": ",
                                               ec.message()));
  }
  impl->port = impl->acceptor.local_endpoint().port();
  Impl* raw = impl.get();
  impl->accept_thread = std::thread([raw] { raw->AcceptLoop(); });
  return std::unique_ptr<HttpFace>(new HttpFace(std::move(impl)));
}

void HttpFace::Stop() {
  if (impl_ == nullptr || impl_->stopping.exchange(true)) return;
  ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);  // wakes accept()
  if (impl_->accept_thread.joinable()) impl_->accept_thread.join();
  beast::error_code ec;
  impl_->acceptor.close(ec);
  absl::MutexLock lock(&impl_->mu);
  // Reading ends: idle connections see EOF, streams notice and cancel, a call
  // in flight still writes its answer.
  for (int fd : impl_->sockets) ::shutdown(fd, SHUT_RD);
  Impl* impl = impl_.get();
  auto idle = [impl]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(impl->mu) { return impl->sockets.empty(); };
  impl_->mu.Await(absl::Condition(&idle));
}

}  // namespace xinfang
