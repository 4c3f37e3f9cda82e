// The engine's map of customers by id (runtime/exec/customer_map.h): the subset of
// std::unordered_map it stands for, checked against std::unordered_map itself, and
// the promise it adds: entries never move while they are in the map.
#include "exec/customer_map.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace juncture::runtime {
namespace {

// Keys long enough to live outside std::string's inline buffer, and short ones.
std::string Key(int i) {
  return i % 2 == 0 ? "c" + std::to_string(i) : "customer-with-a-long-id-" + std::to_string(i);
}

// The map's contents, ordered, for comparison.
std::map<std::string, int> Contents(const CustomerMap<int>& m) {
  std::map<std::string, int> out;
  for (const auto& [k, v] : m) EXPECT_TRUE(out.emplace(k, v).second) << "twice: " << k;
  return out;
}

TEST(CustomerMap, AgreesWithUnorderedMapUnderRandomInsertsAndErases) {
  CustomerMap<int> m;
  std::unordered_map<std::string, int> ref;
  std::mt19937 rng(7);
  // Keys from a small range so that inserts hit present keys and erases hit absent
  // ones; many erases so that backward shifts run across wrapped-around probes.
  for (int step = 0; step < 200000; ++step) {
    const std::string k = Key(static_cast<int>(rng() % 3000));
    switch (rng() % 4) {
      case 0:
      case 1: {
        const int v = static_cast<int>(rng());
        auto [it, inserted] = m.try_emplace(k, v);
        auto [rit, rinserted] = ref.try_emplace(k, v);
        ASSERT_EQ(inserted, rinserted) << k;
        ASSERT_EQ(it->second, rit->second) << k;
        break;
      }
      case 2: {
        auto it = m.find(k);
        const bool present = ref.erase(k) == 1;
        ASSERT_EQ(it != m.end(), present) << k;
        if (present) m.erase(it);
        break;
      }
      default:
        m.insert_or_assign(k, step);
        ref.insert_or_assign(k, step);
    }
    ASSERT_EQ(m.size(), ref.size());
    if (step % 20000 == 0) {
      std::map<std::string, int> want(ref.begin(), ref.end());
      ASSERT_EQ(Contents(m), want);
    }
  }
  for (const auto& [k, v] : ref) {
    auto it = m.find(k);
    ASSERT_NE(it, m.end()) << k;
    EXPECT_EQ(it->second, v);
  }
  EXPECT_EQ(m.count("never-inserted"), 0u);
}

TEST(CustomerMap, EntriesStayWhereTheyAreWhileTheMapGrowsAndOthersLeave) {
  CustomerMap<std::string> m;
  std::vector<const std::pair<const std::string, std::string>*> where;
  for (int i = 0; i < 5000; ++i) {
    where.push_back(&*m.try_emplace(Key(i), "value " + std::to_string(i)).first);
  }
  for (int i = 1; i < 5000; i += 2) m.erase(m.find(Key(i)));
  for (int i = 5000; i < 20000; ++i) m.try_emplace(Key(i), "later");  // grows, reuses
  for (int i = 0; i < 5000; i += 2) {
    auto it = m.find(Key(i));
    ASSERT_NE(it, m.end());
    EXPECT_EQ(&*it, where[i]) << "moved: " << Key(i);
    EXPECT_EQ(it->second, "value " + std::to_string(i));
  }
  EXPECT_EQ(m.size(), 2500u + 15000u);
}

TEST(CustomerMap, AMovedFromMapIsEmptyAndTheOtherOwnsTheEntries) {
  CustomerMap<std::string> a;
  for (int i = 0; i < 100; ++i) a.try_emplace(Key(i), Key(i));
  const auto* first = &*a.find(Key(0));
  CustomerMap<std::string> b(std::move(a));
  EXPECT_EQ(a.size(), 0u);
  EXPECT_EQ(a.find(Key(0)), a.end());
  EXPECT_EQ(a.begin(), a.end());
  EXPECT_EQ(b.size(), 100u);
  EXPECT_EQ(&*b.find(Key(0)), first);
  a.try_emplace("again", "x");  // the moved-from map is usable
  EXPECT_EQ(a.size(), 1u);
  b = std::move(a);
  EXPECT_EQ(b.size(), 1u);
  EXPECT_EQ(b.find(Key(0)), b.end());
  b.clear();
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.begin(), b.end());
}

}  // namespace
}  // namespace juncture::runtime
