// The event feed of a query process: a sequencer thread that places newly
// committed events in the feed (CaseStore::SequenceEvents) whenever any
// process announces a change (LISTEN xinfang_events, xinfang_feed) and at
// least every 200 ms, and a generation counter that WatchEvents handlers wait
// on; the generation grows only when events were placed here or another
// process announced some. Thread-safe. Watch is WatchEvents without gRPC.
#ifndef XINFANG_SERVICES_QUERY_FEED_H_
#define XINFANG_SERVICES_QUERY_FEED_H_

#include <cstdint>
#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/common/core.h"
#include "services/storage/listener.h"
#include "xinfang/v1/query.pb.h"

namespace xinfang::query {

class Feed {
 public:
  explicit Feed(Core& core) : core_(core) {}
  ~Feed();  // stops the thread

  void Start();
  void Stop();

  // The generation now; it grows whenever the feed may have new events.
  uint64_t generation();
  // Waits until the generation is past `seen`, `timeout` passes or the feed
  // closes; returns the generation then.
  uint64_t WaitPast(uint64_t seen, absl::Duration timeout);

  // The server is stopping: open watches end (UNAVAILABLE, resume with the
  // last cursor) instead of holding up the drain.
  void Close();
  bool closed();

 private:
  void Loop();

  Core& core_;
  absl::Mutex mu_;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// How a watch ended, short of an error.
enum class WatchEnd {
  kClientGone,  // `write` returned false
  kCancelled,   // `cancelled` returned true
  kClosed,      // the feed closed: the server is stopping
};

// One WatchEvents call: writes the events of `feed` that `actor` may see
// (each as the actor's view of its case shows it) after the request's cursor,
// a caught-up marker once the backlog is over, then new events as they are
// placed, until it ends. INVALID_ARGUMENT, NOT_FOUND, PERMISSION_DENIED for
// the request; the database's errors as they come.
absl::StatusOr<WatchEnd> Watch(
    Core& core, Feed& feed, const workflow::Actor& actor,
    const xinfang::v1::WatchEventsRequest& req,
    const std::function<bool(const xinfang::v1::WatchEventsResponse&)>& write,
    const std::function<bool()>& cancelled);

}  // namespace xinfang::query

#endif  // XINFANG_SERVICES_QUERY_FEED_H_
