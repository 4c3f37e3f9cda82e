// The statistics of `juncture report` (docs/report.md): quantiles of split times and
// the normal-approximation intervals of conversion rates and their difference.
// Pure functions; no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace juncture::tools::report {

// The two-sided 95% quantile of the standard normal distribution.
inline constexpr double kZ95 = 1.959963984540054;

// p50, p90, p99 and max of a sample, by nearest rank: the q-quantile is the smallest
// value v with at least q·n of the values ≤ v (the ⌈q·n⌉-th smallest).
struct Quantiles {
  uint64_t count = 0;
  int64_t p50 = 0, p90 = 0, p99 = 0, max = 0;
};

// The ⌈q·n⌉-th smallest of `sorted` (ascending, not empty), q in (0, 1].
int64_t NearestRank(const std::vector<int64_t>& sorted, double q);

// Quantiles of `values` (any order); nullopt if empty.
std::optional<Quantiles> ComputeQuantiles(std::vector<int64_t> values);

// A proportion x/n with its 95% interval: rate ± z·sqrt(rate(1−rate)/n) (Wald), clipped
// to [0, 1].
struct Proportion {
  uint64_t successes = 0, trials = 0;
  double rate = 0, low = 0, high = 0;
};

// nullopt when n is 0 (no rate); x must be ≤ n (a larger x is taken as n).
std::optional<Proportion> EstimateProportion(uint64_t x, uint64_t n);

// rate(a) − rate(b) with a 95% interval from the unpooled standard error
// sqrt(pa(1−pa)/na + pb(1−pb)/nb).
struct Difference {
  double difference = 0, standard_error = 0, low = 0, high = 0;
  bool significant = false;        // the interval excludes 0
  bool approximation_ok = false;   // each arm has ≥ 5 successes and ≥ 5 failures
};

// nullopt when either arm has no trials.
std::optional<Difference> DifferenceOfProportions(uint64_t xa, uint64_t na, uint64_t xb,
                                                  uint64_t nb);

}  // namespace juncture::tools::report
