// The statistics of `juncture report` against values computed by hand.
#include "juncture/report/stats.h"

#include <gtest/gtest.h>

#include "juncture/report/format.h"

namespace juncture::tools::report {
namespace {

constexpr double kTol = 1e-6;

TEST(DifferenceOfProportions, MatchesHandComputedIntervals) {
  // 30/100 vs 20/100: se = sqrt(.3·.7/100 + .2·.8/100) = sqrt(.0037) = .060828;
  // 1.959964 · .060828 = .119220, so .1 ± .119220 = [-.019220, .219220]: crosses 0.
  auto d = DifferenceOfProportions(30, 100, 20, 100);
  ASSERT_TRUE(d);
  EXPECT_NEAR(d->difference, 0.1, kTol);
  EXPECT_NEAR(d->standard_error, 0.060828, kTol);
  EXPECT_NEAR(d->low, -0.019220, kTol);
  EXPECT_NEAR(d->high, 0.219220, kTol);
  EXPECT_FALSE(d->significant);
  EXPECT_TRUE(d->approximation_ok);

  // Ten times the sample: se = sqrt(.00037) = .019235; .1 ± .037700 = [.062299, .137701].
  d = DifferenceOfProportions(300, 1000, 200, 1000);
  ASSERT_TRUE(d);
  EXPECT_NEAR(d->standard_error, 0.019235, kTol);
  EXPECT_NEAR(d->low, 0.062299, kTol);
  EXPECT_NEAR(d->high, 0.137701, kTol);
  EXPECT_TRUE(d->significant);

  // Unequal arms, unpooled: 12/40 = .3 vs 3/30 = .1; se = sqrt(.3·.7/40 + .1·.9/30)
  // = sqrt(.00525 + .003) = .090830; .2 ± .178023 = [.021977, .378023].
  d = DifferenceOfProportions(12, 40, 3, 30);
  ASSERT_TRUE(d);
  EXPECT_NEAR(d->standard_error, 0.090830, kTol);
  EXPECT_NEAR(d->low, 0.021977, kTol);
  EXPECT_NEAR(d->high, 0.378023, kTol);
  EXPECT_TRUE(d->significant);
  EXPECT_FALSE(d->approximation_ok);  // 3 control conversions: fewer than 5
}

TEST(DifferenceOfProportions, NegativeUpliftIsSignificantBelowZero) {
  auto d = DifferenceOfProportions(200, 1000, 300, 1000);
  ASSERT_TRUE(d);
  EXPECT_NEAR(d->difference, -0.1, kTol);
  EXPECT_NEAR(d->high, -0.062299, kTol);
  EXPECT_TRUE(d->significant);
}

TEST(DifferenceOfProportions, NoEntriesInAnArmIsNotApplicable) {
  EXPECT_FALSE(DifferenceOfProportions(3, 10, 0, 0));
  EXPECT_FALSE(DifferenceOfProportions(0, 0, 3, 10));
  // No conversions anywhere: a zero-width interval at 0, not significant.
  auto d = DifferenceOfProportions(0, 50, 0, 50);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->low, 0);
  EXPECT_EQ(d->high, 0);
  EXPECT_FALSE(d->significant);
  EXPECT_FALSE(d->approximation_ok);
}

TEST(EstimateProportion, WaldIntervalClippedToZeroOne) {
  // .3 ± 1.959964 · sqrt(.3·.7/100) = .3 ± .089817.
  auto p = EstimateProportion(30, 100);
  ASSERT_TRUE(p);
  EXPECT_NEAR(p->rate, 0.3, kTol);
  EXPECT_NEAR(p->low, 0.210183, kTol);
  EXPECT_NEAR(p->high, 0.389817, kTol);
  // 1/4 = .25 ± 1.959964 · sqrt(.25·.75/4) = .25 ± .424345: clipped below at 0.
  p = EstimateProportion(1, 4);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->low, 0);
  EXPECT_NEAR(p->high, 0.674345, kTol);
  EXPECT_FALSE(EstimateProportion(0, 0));
}

TEST(Quantiles, NearestRank) {
  std::vector<int64_t> hundred;
  for (int i = 100; i >= 1; --i) hundred.push_back(i);  // any order
  auto q = ComputeQuantiles(hundred);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->count, 100u);
  EXPECT_EQ(q->p50, 50);
  EXPECT_EQ(q->p90, 90);
  EXPECT_EQ(q->p99, 99);
  EXPECT_EQ(q->max, 100);

  // Ten values: p50 is the 5th, p90 the 9th, p99 the 10th (⌈9.9⌉).
  q = ComputeQuantiles({10, 20, 30, 40, 50, 60, 70, 80, 90, 100});
  ASSERT_TRUE(q);
  EXPECT_EQ(q->p50, 50);
  EXPECT_EQ(q->p90, 90);
  EXPECT_EQ(q->p99, 100);

  // Three values: p50 is the 2nd (⌈1.5⌉), p90 the 3rd.
  q = ComputeQuantiles({5, 1, 3});
  ASSERT_TRUE(q);
  EXPECT_EQ(q->p50, 3);
  EXPECT_EQ(q->p90, 5);

  q = ComputeQuantiles({7});
  ASSERT_TRUE(q);
  EXPECT_EQ(q->p50, 7);
  EXPECT_EQ(q->max, 7);
  EXPECT_FALSE(ComputeQuantiles({}));
}

TEST(Quantiles, ATailOfOnePercentShowsAtP99NotP90) {
  std::vector<int64_t> v(1000, 10);
  for (int i = 0; i < 11; ++i) v[i] = 5000;  // 1.1% slow
  auto q = ComputeQuantiles(v);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->p90, 10);
  EXPECT_EQ(q->p99, 5000);
}

TEST(FormatSpan, ReadableUnits) {
  EXPECT_EQ(FormatSpan(0), "0s");
  EXPECT_EQ(FormatSpan(850'000), "850ms");
  EXPECT_EQ(FormatSpan(12'400'000), "12.4s");
  EXPECT_EQ(FormatSpan(150'000'000), "2m30s");
  EXPECT_EQ(FormatSpan(97'200'000'000), "1d3h");
}

}  // namespace
}  // namespace juncture::tools::report
