// The injected clock. Production uses SystemClock; demos and black-box tests
// use SimulatedClock (only behind --simulated-clock), which moves only when
// told to. Thread-safe.
#ifndef XINFANG_SERVICES_COMMON_CLOCK_H_
#define XINFANG_SERVICES_COMMON_CLOCK_H_

#include <atomic>
#include <cstdint>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace xinfang {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
  virtual bool simulated() const { return false; }
};

class SystemClock final : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

class SimulatedClock final : public Clock {
 public:
  explicit SimulatedClock(absl::Time start) : us_(absl::ToUnixMicros(start)) {}
  absl::Time Now() const override { return absl::FromUnixMicros(us_.load()); }
  bool simulated() const override { return true; }
  // Moves the clock forward by `d` (>= 0) and returns the new time.
  absl::Time Advance(absl::Duration d) {
    return absl::FromUnixMicros(us_.fetch_add(absl::ToInt64Microseconds(d)) +
                                absl::ToInt64Microseconds(d));
  }

 private:
  std::atomic<int64_t> us_;
};

}  // namespace xinfang

#endif  // XINFANG_SERVICES_COMMON_CLOCK_H_
