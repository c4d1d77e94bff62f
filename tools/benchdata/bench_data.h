// Realistic petition data for the benchmark tools (xfbench, xfseed): Chinese
// names, valid resident ID numbers, phone numbers, companies, summaries by
// category, channel details, and the weighted distributions both tools draw
// from. No database and no network.
//
// Thread-safety: the functions are pure given their Rng; an Rng belongs to
// one thread.
#ifndef XINFANG_TOOLS_BENCHDATA_BENCH_DATA_H_
#define XINFANG_TOOLS_BENCHDATA_BENCH_DATA_H_

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "xinfang/v1/case.pb.h"

namespace xinfang::benchdata {

using Rng = std::mt19937_64;

// A choice among weighted items.
template <typename T>
struct Weighted {
  T value;
  int weight;
};

template <typename T>
const T& Pick(Rng& rng, const std::vector<Weighted<T>>& items) {
  int total = 0;
  for (const auto& w : items) total += w.weight;
  int r = static_cast<int>(rng() % static_cast<uint64_t>(total));
  for (const auto& w : items) {
    if (r < w.weight) return w.value;
    r -= w.weight;
  }
  return items.back().value;
}

// Uniform integer in [lo, hi].
int64_t Uniform(Rng& rng, int64_t lo, int64_t hi);
// True with probability p.
bool Chance(Rng& rng, double p);

// The leaf categories of migration 0002 with their share of petitions.
const std::vector<Weighted<std::string>>& CategoryWeights();
// Channels by share: online 40%, visit 25%, call 20%, letter 15%.
const std::vector<Weighted<xinfang::v1::Channel>>& ChannelWeights();
const std::vector<Weighted<xinfang::v1::Purpose>>& PurposeWeights();

// A Chinese personal name (surname by frequency, one or two given characters).
std::string PersonName(Rng& rng);
// A valid 18-digit resident ID: region, birth date 1955–2004, sequence and
// the ISO 7064 check character (services/common/validate.cc accepts it).
std::string ResidentId(Rng& rng);
// A mainland mobile number (11 digits).
std::string MobilePhone(Rng& rng);
// A postal address in the province.
std::string Address(Rng& rng);
// A company name, e.g. "A市宏达建筑工程有限公司".
std::string Company(Rng& rng);

// The text of a petition in `category`: summary (≤ 60 chars), request and
// facts (a few sentences), about `company`.
struct PetitionText {
  std::string summary;
  std::string request;
  std::string facts;
  std::string location;
};
PetitionText Petition(Rng& rng, const std::string& category, const std::string& company);

// A complete intake as a clerk would register it: channel and its details,
// petitioners (none when anonymous), purpose, category, texts. `received_at`
// and `registering_unit` are set as given; `anonymous_share` is the chance
// of an anonymous petition (online and letters only).
xinfang::v1::CaseIntake Intake(Rng& rng, absl::Time received_at,
                               const std::string& registering_unit,
                               double anonymous_share = 0.02);

// The units of migration 0002 (used when no units file is given).
const std::vector<std::string>& DefaultUnits();

// Reads one value a line (blank lines and '#' comments skipped). Empty on a
// missing file.
std::vector<std::string> ReadLines(const std::string& path);

}  // namespace xinfang::benchdata

#endif  // XINFANG_TOOLS_BENCHDATA_BENCH_DATA_H_
