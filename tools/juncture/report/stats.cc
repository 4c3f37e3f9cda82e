#include "juncture/report/stats.h"

#include <algorithm>
#include <cmath>

namespace juncture::tools::report {

int64_t NearestRank(const std::vector<int64_t>& sorted, double q) {
  // ⌈q·n⌉ with a tolerance so that 0.9·10 is 9, not 10 after rounding error.
  double rank = std::ceil(q * static_cast<double>(sorted.size()) - 1e-9);
  size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return sorted[std::min(index, sorted.size() - 1)];
}

std::optional<Quantiles> ComputeQuantiles(std::vector<int64_t> values) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  Quantiles q;
  q.count = values.size();
  q.p50 = NearestRank(values, 0.50);
  q.p90 = NearestRank(values, 0.90);
  q.p99 = NearestRank(values, 0.99);
  q.max = values.back();
  return q;
}

std::optional<Proportion> EstimateProportion(uint64_t x, uint64_t n) {
  if (n == 0) return std::nullopt;
  Proportion p;
  p.successes = std::min(x, n);
  p.trials = n;
  p.rate = static_cast<double>(p.successes) / static_cast<double>(n);
  double half = kZ95 * std::sqrt(p.rate * (1 - p.rate) / static_cast<double>(n));
  p.low = std::max(0.0, p.rate - half);
  p.high = std::min(1.0, p.rate + half);
  return p;
}

std::optional<Difference> DifferenceOfProportions(uint64_t xa, uint64_t na, uint64_t xb,
                                                  uint64_t nb) {
  if (na == 0 || nb == 0) return std::nullopt;
  xa = std::min(xa, na);
  xb = std::min(xb, nb);
  double pa = static_cast<double>(xa) / static_cast<double>(na);
  double pb = static_cast<double>(xb) / static_cast<double>(nb);
  Difference d;
  d.difference = pa - pb;
  d.standard_error = std::sqrt(pa * (1 - pa) / static_cast<double>(na) +
                               pb * (1 - pb) / static_cast<double>(nb));
  d.low = d.difference - kZ95 * d.standard_error;
  d.high = d.difference + kZ95 * d.standard_error;
  d.significant = d.low > 0 || d.high < 0;
  d.approximation_ok = xa >= 5 && na - xa >= 5 && xb >= 5 && nb - xb >= 5;
  return d;
}

}  // namespace juncture::tools::report
