#include "tools/xfseed/copy_stream.h"

#include <memory>

#include "absl/strings/str_cat.h"

namespace xinfang::xfseed {
namespace {

constexpr std::size_t kChunk = 1 << 20;  // bytes handed to the sender at a time
constexpr std::size_t kMaxQueued = 8;    // chunks waiting, per table

std::string Message(PGconn* c) {
  std::string m = PQerrorMessage(c);
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m;
}

absl::Status Exec(PGconn* c, const std::string& sql, ExecStatusType want) {
  PGresult* r = PQexec(c, sql.c_str());
  const bool ok = PQresultStatus(r) == want;
  std::string err = ok ? "" : PQresultErrorMessage(r);
  PQclear(r);
  if (!ok) return absl::InternalError(absl::StrCat(sql.substr(0, 60), ": ", err));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<CopyStream>> CopyStream::Open(const std::string& conninfo,
                                                             const std::string& setup,
                                                             const std::string& table,
                                                             const std::string& columns) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::string m = Message(c);
    PQfinish(c);
    return absl::UnavailableError(m);
  }
  if (!setup.empty()) {
    if (auto s = Exec(c, setup, PGRES_COMMAND_OK); !s.ok()) {
      PQfinish(c);
      return s;
    }
  }
  if (auto s = Exec(c, absl::StrCat("COPY ", table, " (", columns, ") FROM STDIN"),
                    PGRES_COPY_IN);
      !s.ok()) {
    PQfinish(c);
    return s;
  }
  std::unique_ptr<CopyStream> cs(new CopyStream(c, table));
  cs->sender_ = std::thread([p = cs.get()] { p->Send(); });
  return cs;
}

CopyStream::CopyStream(PGconn* conn, std::string table) : conn_(conn), table_(std::move(table)) {
  buf_.reserve(kChunk + 64 * 1024);
}

CopyStream::~CopyStream() {
  {
    std::lock_guard<std::mutex> l(mu_);
    done_ = true;
  }
  cv_.notify_all();
  if (sender_.joinable()) sender_.join();
  PQfinish(conn_);
}

void CopyStream::Field(std::string_view v) {
  if (!first_in_row_) buf_ += '\t';
  first_in_row_ = false;
  if (v.find_first_of("\\\t\n\r") == std::string_view::npos) {
    buf_.append(v);
    return;
  }
  for (char ch : v) {
    switch (ch) {
      case '\\': buf_ += "\\\\"; break;
      case '\t': buf_ += "\\t"; break;
      case '\n': buf_ += "\\n"; break;
      case '\r': buf_ += "\\r"; break;
      default: buf_ += ch;
    }
  }
}

void CopyStream::Field(long long v) {
  if (!first_in_row_) buf_ += '\t';
  first_in_row_ = false;
  absl::StrAppend(&buf_, v);
}

void CopyStream::Null() {
  if (!first_in_row_) buf_ += '\t';
  first_in_row_ = false;
  buf_ += "\\N";
}

void CopyStream::EndRow() {
  buf_ += '\n';
  first_in_row_ = true;
  ++rows_;
  if (buf_.size() >= kChunk) Hand();
}

void CopyStream::Hand() {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [this] { return queue_.size() < kMaxQueued || !error_.empty(); });
  queue_.push_back(std::move(buf_));
  buf_.clear();
  buf_.reserve(kChunk + 64 * 1024);
  cv_.notify_all();
}

void CopyStream::Send() {
  for (;;) {
    std::string chunk;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_.wait(l, [this] { return !queue_.empty() || done_; });
      if (queue_.empty()) return;
      chunk = std::move(queue_.front());
      queue_.pop_front();
      cv_.notify_all();
    }
    if (!error_.empty()) continue;  // drain after a failure
    if (PQputCopyData(conn_, chunk.data(), static_cast<int>(chunk.size())) != 1) {
      std::lock_guard<std::mutex> l(mu_);
      error_ = Message(conn_);
      cv_.notify_all();
    }
  }
}

absl::Status CopyStream::Finish() {
  if (!buf_.empty()) Hand();
  {
    std::lock_guard<std::mutex> l(mu_);
    done_ = true;
  }
  cv_.notify_all();
  sender_.join();
  if (!error_.empty()) return absl::InternalError(absl::StrCat("COPY ", table_, ": ", error_));
  if (PQputCopyEnd(conn_, nullptr) != 1) {
    return absl::InternalError(absl::StrCat("COPY ", table_, ": ", Message(conn_)));
  }
  absl::Status st;
  while (PGresult* r = PQgetResult(conn_)) {
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      st = absl::InternalError(absl::StrCat("COPY ", table_, ": ", PQresultErrorMessage(r)));
    }
    PQclear(r);
  }
  return st;
}

}  // namespace xinfang::xfseed
