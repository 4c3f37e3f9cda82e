#include "juncture/stdlib/declarations.h"

#include <set>

#include <gtest/gtest.h>

namespace juncture::stdlib {
namespace {

TEST(StdlibDeclarationsTest, EveryFunctionOfTheSpecIsDeclared) {
  for (const char* name : {"lower", "upper", "len", "trim", "abs", "min", "max", "round",
                           "floor", "ceil", "hour_of_day", "day_of_week", "days", "hours",
                           "bucket"}) {
    EXPECT_GE(FindFunction(name), 0) << name;
  }
  EXPECT_EQ(FindFunction("nope"), -1);
}

TEST(StdlibDeclarationsTest, SignaturesAreWellFormed) {
  std::set<std::string_view> symbols;
  for (const Function& f : Functions()) {
    ASSERT_FALSE(f.overloads.empty()) << f.name;
    for (const Overload& o : f.overloads) {
      EXPECT_LE(o.min_args, static_cast<int>(o.params.size())) << f.name;
      // Only the time-zone argument may be left out.
      if (o.min_args < static_cast<int>(o.params.size())) {
        EXPECT_TRUE(o.implicit & kProfileTimezone) << f.name;
      }
      EXPECT_TRUE(o.symbol.starts_with("jn_")) << f.name;
      symbols.insert(o.symbol);
    }
  }
  EXPECT_GE(symbols.size(), 15u);
}

}  // namespace
}  // namespace juncture::stdlib
