// COPY ... FROM STDIN (text format) into one table over its own libpq
// connection, fed from a buffer that a sender thread drains, so generating
// rows and PostgreSQL inserting them overlap.
//
// Thread-safety: Row building (Field, EndRow) belongs to one producer thread;
// the stream's own thread does the I/O.
#ifndef XINFANG_TOOLS_XFSEED_COPY_STREAM_H_
#define XINFANG_TOOLS_XFSEED_COPY_STREAM_H_

#include <libpq-fe.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace xinfang::xfseed {

class CopyStream {
 public:
  // Connects to `conninfo` (a libpq URL or key=value string), runs `setup`
  // (e.g. "SET session_replication_role = replica"; may be empty) and starts
  // `COPY table (columns) FROM STDIN`. UNAVAILABLE / INTERNAL with the
  // server's message.
  static absl::StatusOr<std::unique_ptr<CopyStream>> Open(const std::string& conninfo,
                                                          const std::string& setup,
                                                          const std::string& table,
                                                          const std::string& columns);
  ~CopyStream();

  // Appends one column of the current row, escaped for the text format.
  void Field(std::string_view v);
  void Field(long long v);
  void Null();
  // Ends the current row; hands a full buffer to the sender.
  void EndRow();
  // Sends what is left, ends the COPY and returns its result. Call once.
  absl::Status Finish();

  long long rows() const { return rows_; }

 private:
  CopyStream(PGconn* conn, std::string table);
  void Send();  // the sender thread
  void Hand();  // moves buf_ to the queue (waits while the queue is full)

  PGconn* conn_;
  std::string table_;
  std::string buf_;
  bool first_in_row_ = true;
  long long rows_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  bool done_ = false;
  std::string error_;
  std::thread sender_;
};

}  // namespace xinfang::xfseed

#endif  // XINFANG_TOOLS_XFSEED_COPY_STREAM_H_
