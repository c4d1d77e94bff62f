#include "services/storage/listener.h"

#include <libpq-fe.h>
#include <poll.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "services/storage/db.h"

namespace xinfang::storage {

Listener::Listener(std::string conninfo, std::vector<std::string> channels)
    : conninfo_(std::move(conninfo)), channels_(std::move(channels)) {}

Listener::~Listener() {
  if (conn_ != nullptr) PQfinish(conn_);
}

absl::StatusOr<std::unique_ptr<Listener>> Listener::Open(const std::string& url,
                                                         std::vector<std::string> channels) {
  auto conninfo = ToConninfo(url);
  if (!conninfo.ok()) return conninfo.status();
  std::unique_ptr<Listener> l(
      new Listener(WithConnectTimeout(*conninfo, absl::Seconds(5)), std::move(channels)));
  l->Connect();  // if the database is down now, Wait() keeps trying

  return l;
}

bool Listener::Connect() {
  if (conn_ != nullptr) PQfinish(conn_);
  conn_ = PQconnectdb(conninfo_.c_str());
  if (PQstatus(conn_) != CONNECTION_OK) {
    PQfinish(conn_);
    conn_ = nullptr;
    return false;
  }
  bool ok = true;
  for (const std::string& channel : channels_) {
    char* quoted = PQescapeIdentifier(conn_, channel.c_str(), channel.size());
    PGresult* r = PQexec(conn_, absl::StrCat("LISTEN ", quoted).c_str());
    PQfreemem(quoted);
    ok = ok && PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
  }
  if (!ok) {
    PQfinish(conn_);
    conn_ = nullptr;
  }
  return ok;
}

bool Listener::Wait(absl::Duration timeout) {
  if ((conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) && !Connect()) {
    std::this_thread::sleep_for(absl::ToChronoMilliseconds(timeout));
    return false;
  }
  auto drain = [this] {
    bool any = false;
    while (PGnotify* n = PQnotifies(conn_)) {
      any = true;
      PQfreemem(n);
    }
    return any;
  };
  if (drain()) return true;
  pollfd pfd{PQsocket(conn_), POLLIN, 0};
  const int ms = static_cast<int>(std::max<int64_t>(0, absl::ToInt64Milliseconds(timeout)));
  if (poll(&pfd, 1, ms) <= 0) return false;
  if (PQconsumeInput(conn_) == 0) {  // the connection broke: reopen next time
    PQfinish(conn_);
    conn_ = nullptr;
    return false;
  }
  return drain();
}

}  // namespace xinfang::storage
