// serve/leases.h's assignment: rendezvous hashing spreads the partitions over the live
// instances, and an instance joining or leaving moves only its own share.
#include "leases.h"  // serve/, a private header of juncture_serve

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace juncture::serve {
namespace {

constexpr uint32_t kPartitions = 64;

std::map<uint32_t, std::string> Assign(const std::vector<std::string>& live) {
  std::map<uint32_t, std::string> out;
  for (uint32_t p = 0; p < kPartitions; ++p) out[p] = live[PartitionLeases::OwnerOf(p, live)];
  return out;
}

TEST(LeaseAssignment, EveryInstanceGetsAShare) {
  std::map<std::string, int> count;
  for (const auto& [p, owner] : Assign({"i-1", "i-2", "i-3"})) ++count[owner];
  ASSERT_EQ(count.size(), 3u);
  for (const auto& [owner, n] : count) EXPECT_GE(n, 10) << owner;  // 64 / 3 = 21 on average
}

TEST(LeaseAssignment, AJoiningInstanceTakesOnlyItsShareAndALeavingOneGivesOnlyItsOwn) {
  auto two = Assign({"i-1", "i-2"});
  auto three = Assign({"i-1", "i-2", "i-3"});
  int moved = 0;
  for (uint32_t p = 0; p < kPartitions; ++p) {
    if (two[p] != three[p]) {
      EXPECT_EQ(three[p], "i-3") << p << " moved between the two that stayed";
      ++moved;
    }
  }
  EXPECT_GT(moved, 0);
  // The order the live instances are listed in changes nothing.
  EXPECT_EQ(Assign({"i-3", "i-1", "i-2"}), three);
}

}  // namespace
}  // namespace juncture::serve
