// ExactSum (runtime/exec/exact_sum.h): the running sum of a float window is the exact
// sum of the values in it, rounded once, whatever the order in which they came and
// went.
#include "exec/exact_sum.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace juncture::runtime {
namespace {

__extension__ typedef __int128 Int128;  // GCC and Clang

double Sum(const std::vector<double>& values) {
  ExactSum s;
  for (double v : values) EXPECT_TRUE(s.Add(v));
  return s.Value();
}

TEST(ExactSum, RoundsTheExactSumOnce) {
  // Ten times 0.1 adds up to 1.0 exactly rounded; summed left to right it does not.
  std::vector<double> tenths(10, 0.1);
  double naive = 0;
  for (double v : tenths) naive += v;
  EXPECT_NE(naive, 1.0);
  EXPECT_EQ(Sum(tenths), 1.0);
  // Large values that cancel leave the small ones whole.
  EXPECT_EQ(Sum({1e100, 1.0, -1e100, 1e-100, 1e50, -1.0, -1e50}), 1e-100);
  EXPECT_EQ(Sum({1e16, 1.0, -1e16}), 1.0);
  // Ties round to even, also when the tie is only apparent from the lowest partial.
  EXPECT_EQ(Sum({1.0, 0x1p-53}), 1.0);
  EXPECT_EQ(Sum({1.0, 0x1p-53, 0x1p-80}), 1.0 + 0x1p-52);
  EXPECT_EQ(Sum({1.0, 0x1p-53, -0x1p-80}), 1.0);
}

TEST(ExactSum, ValuesThatLeaveLeaveNothingBehind) {
  ExactSum s;
  for (int i = 0; i < 10; ++i) s.Add(0.1);
  s.Add(1e300);
  s.Add(3.3);
  for (int i = 0; i < 10; ++i) s.Add(-0.1);
  s.Add(-1e300);
  EXPECT_EQ(s.Value(), 3.3);
  s.Add(-3.3);
  EXPECT_EQ(s.Value(), 0.0);
  EXPECT_FALSE(std::signbit(s.Value()));  // +0.0, as a sum from 0.0 would give
  EXPECT_FALSE(std::signbit(Sum({-0.0})));
}

// Values near the largest double: their partial sums never leave the range, whatever
// the order, so the sum is exact; an exact sum beyond the range is infinite.
TEST(ExactSum, ValuesNearTheLargestDoubleSumExactly) {
  EXPECT_EQ(Sum({1e308, 1e308, -1e308}), 1e308);
  EXPECT_EQ(Sum({-1e308, 1e308, 1e308, -1e308, 2.5}), 2.5);
  EXPECT_EQ(Sum({1e308, 1.0, -1e308}), 1.0);
  EXPECT_EQ(Sum({1.5e308, 1.5e308}), std::numeric_limits<double>::infinity());
  EXPECT_EQ(Sum({-1.5e308, -1.5e308}), -std::numeric_limits<double>::infinity());
  ExactSum s;
  EXPECT_TRUE(s.Add(1.5e308));
  EXPECT_TRUE(s.Add(1.5e308));
  EXPECT_TRUE(s.Add(-1.5e308));
  EXPECT_EQ(s.Value(), 1.5e308);
}

// Large values straddling the split (2^996) against the same kind of oracle as below:
// m * 2^e with e in [960, 1016] are multiples of 2^960.
TEST(ExactSum, LargeValuesAroundTheSplitAreTheExactSumRoundedOnce) {
  std::mt19937_64 random(13);
  std::vector<double> values;
  std::vector<Int128> scaled;  // value * 2^-960
  for (int i = 0; i < 20000; ++i) {
    const int64_t m = static_cast<int64_t>(random() % 128) * (random() % 2 ? 1 : -1);
    const int e = 960 + static_cast<int>(random() % 57);
    values.push_back(std::ldexp(static_cast<double>(m), e));
    scaled.push_back(static_cast<Int128>(m) * (static_cast<Int128>(1) << (e - 960)));
  }
  ExactSum s;
  Int128 exact = 0;
  size_t first = 0;
  for (size_t end = 0; end < values.size(); ++end) {
    ASSERT_TRUE(s.Add(values[end]));
    exact += scaled[end];
    const size_t width = 1 + random() % 16;
    while (end + 1 - first > width) {
      ASSERT_TRUE(s.Add(-values[first]));
      exact -= scaled[first];
      ++first;
    }
    ASSERT_EQ(s.Value(), std::ldexp(static_cast<double>(exact), 960)) << end;
  }
}

// Against an independent oracle: values m * 2^e (|m| < 2^53, e in [-30, 30]) are all
// multiples of 2^-30, so the exact sum of up to 64 of them is an integer count of
// 2^-30 that fits in 128 bits; converting that integer to double rounds it once, to nearest even. A window
// slides over a random sequence: each value enters once and leaves once.
TEST(ExactSum, ASlidingWindowIsTheExactSumRoundedOnce) {
  std::mt19937_64 random(7);
  std::vector<double> values;
  std::vector<Int128> scaled;  // value * 2^30
  for (int i = 0; i < 20000; ++i) {
    const int64_t m = static_cast<int64_t>(random() >> 11) * (random() % 2 ? 1 : -1);
    const int e = static_cast<int>(random() % 61) - 30;
    values.push_back(std::ldexp(static_cast<double>(m), e));
    scaled.push_back(static_cast<Int128>(m) * (static_cast<Int128>(1) << (e + 30)));
  }
  ExactSum s;
  Int128 exact = 0;
  size_t first = 0;
  for (size_t end = 0; end < values.size(); ++end) {
    s.Add(values[end]);
    exact += scaled[end];
    const size_t width = 1 + random() % 64;
    while (end + 1 - first > width) {
      s.Add(-values[first]);
      exact -= scaled[first];
      ++first;
    }
    const double want = std::ldexp(static_cast<double>(exact), -30);
    ASSERT_EQ(s.Value(), want) << "window [" << first << ", " << end << "]";
  }
}

TEST(ExactSum, TheOrderDoesNotMatter) {
  std::mt19937_64 random(11);
  std::vector<double> values;
  for (int i = 0; i < 1000; ++i) {
    values.push_back(std::ldexp(static_cast<double>(random() % 1000000) - 500000.0,
                                static_cast<int>(random() % 120) - 60));
  }
  const double sum = Sum(values);
  for (int k = 0; k < 20; ++k) {
    std::shuffle(values.begin(), values.end(), random);
    ASSERT_EQ(Sum(values), sum);
  }
}

}  // namespace
}  // namespace juncture::runtime
