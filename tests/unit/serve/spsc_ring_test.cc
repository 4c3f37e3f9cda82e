// serve/spsc_ring.h: the queue between a receiving thread and a shard.
#include "spsc_ring.h"  // serve/, a private header of juncture_serve

#include <gtest/gtest.h>

#include <cstdint>
#include <thread>

namespace juncture::serve {
namespace {

TEST(SpscRing, HoldsItsCapacityRoundedToAPowerOfTwoThenRefuses) {
  SpscRing<int> ring(5);  // 8 slots
  EXPECT_TRUE(ring.empty());
  for (int i = 0; i < 8; ++i) EXPECT_TRUE(ring.Push(i)) << i;
  EXPECT_FALSE(ring.Push(8)) << "full";
  int v = -1;
  ASSERT_TRUE(ring.Pop(&v));
  EXPECT_EQ(v, 0);
  EXPECT_TRUE(ring.Push(8)) << "a slot is free again";
  for (int want = 1; want <= 8; ++want) {
    ASSERT_TRUE(ring.Pop(&v));
    EXPECT_EQ(v, want);
  }
  EXPECT_FALSE(ring.Pop(&v));
  EXPECT_TRUE(ring.empty());
}

TEST(SpscRing, OneProducerOneConsumerEveryValueOnceInOrder) {
  // A small ring, so that both sides wrap around it many times and find it full
  // and empty.
  SpscRing<uint64_t> ring(64);
  constexpr uint64_t kCount = 2'000'000;
  std::thread producer([&] {
    for (uint64_t i = 1; i <= kCount; ++i) {
      while (!ring.Push(i)) std::this_thread::yield();
    }
  });
  uint64_t taken = 0, out_of_order = 0, v = 0;
  while (taken < kCount) {
    if (!ring.Pop(&v)) {
      std::this_thread::yield();
      continue;
    }
    if (v != ++taken) ++out_of_order;  // counted, and the rest still taken
  }
  producer.join();
  EXPECT_EQ(out_of_order, 0u);
  EXPECT_TRUE(ring.empty());
}

}  // namespace
}  // namespace juncture::serve
