#include "tools/xfbench/histogram.h"

#include <algorithm>
#include <cmath>

namespace xinfang::xfbench {

int Histogram::Index(uint64_t v) {
  if (v < 128) return static_cast<int>(v);
  const int msb = 63 - __builtin_clzll(v);
  const int shift = msb - 6;
  const int index = (shift + 1) * 64 + static_cast<int>((v >> shift) - 64);
  return std::min(index, kBuckets - 1);
}

uint64_t Histogram::UpperBound(int index) {
  if (index < 128) return static_cast<uint64_t>(index);
  const int shift = index / 64 - 1;
  const uint64_t sub = static_cast<uint64_t>(index % 64 + 64);
  return ((sub + 1) << shift) - 1;
}

void Histogram::Record(uint64_t micros) {
  buckets_[Index(micros)].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(micros, std::memory_order_relaxed);
  uint64_t seen = max_.load(std::memory_order_relaxed);
  while (micros > seen && !max_.compare_exchange_weak(seen, micros, std::memory_order_relaxed)) {
  }
}

double Histogram::mean() const {
  const uint64_t n = count();
  return n == 0 ? 0.0 : static_cast<double>(sum_.load(std::memory_order_relaxed)) / n;
}

uint64_t Histogram::Quantile(double q) const {
  const uint64_t n = count();
  if (n == 0) return 0;
  const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * n)));
  uint64_t seen = 0;
  for (int i = 0; i < kBuckets; ++i) {
    seen += buckets_[i].load(std::memory_order_relaxed);
    if (seen >= rank) return std::min(UpperBound(i), max());
  }
  return max();
}

}  // namespace xinfang::xfbench
