// LISTEN on a PostgreSQL channel from a dedicated connection (libpq): lets a
// process wake when another process commits something it cares about. Not
// thread-safe: one thread waits on a Listener.
#ifndef XINFANG_SERVICES_STORAGE_LISTENER_H_
#define XINFANG_SERVICES_STORAGE_LISTENER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

typedef struct pg_conn PGconn;

namespace xinfang::storage {

// Channel on which writers announce a timer that fires within a minute.
inline constexpr char kTimersChannel[] = "xinfang_timers";
// Channel on which every change of a case is announced (payload: case id).
#define XF_EVENTS_CHANNEL "xinfang_events"
inline constexpr char kEventsChannel[] = XF_EVENTS_CHANNEL;
// Channel on which the sequencer announces new positions in the event feed.
inline constexpr char kFeedChannel[] = "xinfang_feed";

class Listener {
 public:
  // Connects and LISTENs on each of `channels`; if the database cannot be
  // reached now, Wait() keeps trying. INVALID_ARGUMENT for a malformed URL.
  static absl::StatusOr<std::unique_ptr<Listener>> Open(const std::string& url,
                                                        std::vector<std::string> channels);
  ~Listener();

  // Waits up to `timeout` for a notification; true when one (or more, all
  // drained) arrived. A broken connection is reopened on the next call;
  // meanwhile it waits out the timeout and returns false.
  bool Wait(absl::Duration timeout);

 private:
  Listener(std::string conninfo, std::vector<std::string> channels);
  bool Connect();
  std::string conninfo_;
  std::vector<std::string> channels_;
  PGconn* conn_ = nullptr;
};

}  // namespace xinfang::storage

#endif  // XINFANG_SERVICES_STORAGE_LISTENER_H_
