// A latency histogram with log-linear buckets (as HdrHistogram): values
// below 128 have a bucket each; above, every power of two is split into 64
// buckets, so a percentile is within 1/64 (1.6%) of the true value. Values
// are whole microseconds up to about 2^57.
//
// Thread-safety: Record may be called from any number of threads at once
// (relaxed atomics); read the results after the writers have stopped.
#ifndef XINFANG_TOOLS_XFBENCH_HISTOGRAM_H_
#define XINFANG_TOOLS_XFBENCH_HISTOGRAM_H_

#include <array>
#include <atomic>
#include <cstdint>

namespace xinfang::xfbench {

class Histogram {
 public:
  static constexpr int kBuckets = 64 * 53;

  void Record(uint64_t micros);

  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  uint64_t max() const { return max_.load(std::memory_order_relaxed); }
  double mean() const;
  // The value at quantile q (0..1]: the upper bound of the bucket holding the
  // ceil(q * count)-th smallest value, never above max(). 0 when empty.
  uint64_t Quantile(double q) const;

  // Bucket arithmetic, public for tests.
  static int Index(uint64_t v);
  static uint64_t UpperBound(int index);

 private:
  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_{0};
  std::atomic<uint64_t> max_{0};
};

}  // namespace xinfang::xfbench

#endif  // XINFANG_TOOLS_XFBENCH_HISTOGRAM_H_
