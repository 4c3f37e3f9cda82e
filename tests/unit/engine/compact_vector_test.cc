// The 8-byte vector of per-customer containers (runtime/exec/compact_vector.h),
// checked against std::vector under random inserts and erases, with elements that
// own memory (the sanitizer build sees a leak or a double free).
#include "exec/compact_vector.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace juncture::runtime {
namespace {

static_assert(sizeof(CompactVector<std::string>) == sizeof(void*));

std::vector<std::string> Items(const CompactVector<std::string>& v) {
  return std::vector<std::string>(v.begin(), v.end());
}

TEST(CompactVector, AgreesWithStdVectorUnderRandomInsertsAndErases) {
  CompactVector<std::string> v;
  std::vector<std::string> ref;
  std::mt19937 rng(11);
  for (int step = 0; step < 20000; ++step) {
    const size_t at = ref.empty() ? 0 : rng() % (ref.size() + 1);
    const std::string s = "element-long-enough-to-allocate-" + std::to_string(step);
    switch (rng() % 5) {
      case 0:
      case 1:
        EXPECT_EQ(*v.emplace(v.begin() + at, s), s);
        ref.insert(ref.begin() + static_cast<std::ptrdiff_t>(at), s);
        break;
      case 2:
        if (at < ref.size()) {
          v.erase(v.begin() + at);
          ref.erase(ref.begin() + static_cast<std::ptrdiff_t>(at));
        }
        break;
      case 3:
        if (at < ref.size()) {  // a range to the end, as FlatMap::Rekey erases
          v.erase(v.begin() + at, v.end());
          ref.erase(ref.begin() + static_cast<std::ptrdiff_t>(at), ref.end());
        }
        break;
      default:
        if (!ref.empty()) {  // an element of the vector itself, inserted into it
          const size_t from = rng() % ref.size();
          v.emplace(v.begin() + at, v[from]);
          ref.insert(ref.begin() + static_cast<std::ptrdiff_t>(at), std::string(ref[from]));
        }
    }
    ASSERT_EQ(v.size(), ref.size());
    if (step % 1000 == 0) {
      ASSERT_EQ(Items(v), ref);
    }
  }
  EXPECT_EQ(Items(v), ref);
}

TEST(CompactVector, CopiesAreApartAndMovesLeaveTheSourceEmpty) {
  CompactVector<std::string> a;
  for (int i = 0; i < 10; ++i) a.emplace(a.end(), "value-long-enough-to-allocate-" + std::to_string(i));
  CompactVector<std::string> b = a;
  b[0] = "changed";
  EXPECT_EQ(a[0], "value-long-enough-to-allocate-0");
  CompactVector<std::string> c = std::move(a);
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(a.begin(), a.end());
  EXPECT_EQ(c.size(), 10u);
  a = c;  // the moved-from vector takes a copy
  EXPECT_EQ(Items(a), Items(c));
  c = std::move(b);
  EXPECT_EQ(c[0], "changed");
  c.clear();
  EXPECT_TRUE(c.empty());
}

// As the cap logs use it: a log per channel up to the one sent on, times appended.
TEST(CompactVector, ResizeGrowsWithEmptyElementsAndShrinks) {
  CompactVector<CompactVector<int64_t>> logs;
  logs.resize(3);
  ASSERT_EQ(logs.size(), 3u);
  for (const auto& log : logs) EXPECT_TRUE(log.empty());
  logs[2].push_back(7);
  logs[2].push_back(9);
  logs.resize(5);
  EXPECT_EQ(logs[2].size(), 2u);
  EXPECT_EQ(logs[2][1], 9);
  EXPECT_TRUE(logs[4].empty());
  logs.resize(1);
  EXPECT_EQ(logs.size(), 1u);
  CompactVector<int64_t> ints;
  ints.resize(4);
  for (int64_t v : ints) EXPECT_EQ(v, 0);
}

}  // namespace
}  // namespace juncture::runtime
