// A customer's unknown traits in one block (runtime/exec/trait_bag.h): checked against
// a vector of pairs, the form it replaced, under random sets with a bound.
#include "exec/trait_bag.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace juncture::runtime {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

static_assert(sizeof(TraitBag) == sizeof(void*));

Pairs Items(const TraitBag& bag) {
  Pairs out;
  bag.ForEach([&](std::string_view k, std::string_view v) { out.emplace_back(k, v); });
  return out;
}

TEST(TraitBag, StartsEmptyAndKeepsTheOrderTraitsCameIn) {
  TraitBag bag;
  EXPECT_TRUE(bag.empty());
  EXPECT_EQ(bag.size(), 0u);
  EXPECT_TRUE(bag.Set("first_name", "\"Ada\"", 0));
  EXPECT_TRUE(bag.Set("age", "36", 0));
  EXPECT_TRUE(bag.Set("first_name", "\"Grace\"", 0));  // replaced in place
  EXPECT_EQ(Items(bag), (Pairs{{"first_name", "\"Grace\""}, {"age", "36"}}));
  EXPECT_FALSE(bag.empty());
  EXPECT_EQ(bag.size(), 2u);
}

TEST(TraitBag, ABoundDropsNewNamesButStillReplacesKnownOnes) {
  TraitBag bag;
  EXPECT_TRUE(bag.Set("a", "1", 2));
  EXPECT_TRUE(bag.Set("b", "2", 2));
  EXPECT_FALSE(bag.Set("c", "3", 2));
  EXPECT_TRUE(bag.Set("a", "10", 2));
  EXPECT_EQ(Items(bag), (Pairs{{"a", "10"}, {"b", "2"}}));
}

TEST(TraitBag, CopiesAreIndependentAndEmptyValuesAndNamesSurvive) {
  TraitBag bag;
  bag.Set("", "", 0);
  bag.Set("x", std::string(300, 'v'), 0);
  TraitBag copy = bag;
  copy.Set("x", "short", 0);
  EXPECT_EQ(Items(bag), (Pairs{{"", ""}, {"x", std::string(300, 'v')}}));
  EXPECT_EQ(Items(copy), (Pairs{{"", ""}, {"x", "short"}}));
  TraitBag moved = std::move(copy);
  EXPECT_EQ(Items(moved).size(), 2u);
}

TEST(TraitBag, AgreesWithAVectorOfPairsUnderRandomSets) {
  std::mt19937 rng(7);
  for (int round = 0; round < 50; ++round) {
    TraitBag bag;
    Pairs model;
    const size_t max = round % 5;  // 0: no bound
    for (int op = 0; op < 200; ++op) {
      std::string name = "t" + std::to_string(rng() % 12);
      std::string text = std::string(rng() % 40, static_cast<char>('a' + rng() % 26));
      auto it = std::find_if(model.begin(), model.end(), [&](auto& p) { return p.first == name; });
      bool kept = true;
      if (it != model.end()) {
        it->second = text;
      } else if (max == 0 || model.size() < max) {
        model.emplace_back(name, text);
      } else {
        kept = false;
      }
      ASSERT_EQ(bag.Set(name, text, max), kept);
      ASSERT_EQ(Items(bag), model);
      ASSERT_EQ(bag.size(), model.size());
    }
  }
}

}  // namespace
}  // namespace juncture::runtime
