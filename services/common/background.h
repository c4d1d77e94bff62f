// A pass that follows the database's changes in a background thread: run
// once at start, then whenever a process announces a change (LISTEN
// xinfang_events) and at least every interval. The early-warning processor
// and the notification outbox run this way.
//
// Thread-safety: Start and Stop from one thread; the pass runs on the
// background thread only.
#ifndef XINFANG_SERVICES_COMMON_BACKGROUND_H_
#define XINFANG_SERVICES_COMMON_BACKGROUND_H_

#include <functional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace xinfang {

class Background {
 public:
  Background() = default;
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;
  ~Background() { Stop(); }

  // Starts the thread (no-op while one runs): `first` once, then `pass`
  // again and again. `what` names it in the log ("warnings").
  void Start(std::string db_url, absl::Duration interval, std::string what,
             std::function<void()> first, std::function<void()> pass);
  // Stops the thread after its current pass and joins it.
  void Stop();

 private:
  void Loop(const std::string& db_url, absl::Duration interval, const std::string& what,
            const std::function<void()>& first, const std::function<void()>& pass);

  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace xinfang

#endif  // XINFANG_SERVICES_COMMON_BACKGROUND_H_
