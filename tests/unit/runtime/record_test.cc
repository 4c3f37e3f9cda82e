#include "juncture/runtime/record.h"

#include <vector>

#include <gtest/gtest.h>

namespace juncture::runtime {
namespace {

TEST(RecordTest, WritesAndReadsEveryRepresentation) {
  std::vector<uint8_t> bytes(JN_EVENT_FIELDS_OFFSET + 48, 0);
  RecordWriter w(bytes.data());
  const char* text = "hello";
  w.SetBool(56, true);
  w.SetInt(64, -42);
  w.SetFloat(72, 2.5);
  w.SetStr(80, JnStr{text, 5, 7});
  w.SetPresent(JN_EVENT_PRESENT_OFFSET, 3);
  RecordView r(bytes.data());
  EXPECT_TRUE(r.GetBool(56));
  EXPECT_EQ(r.GetInt(64), -42);
  EXPECT_DOUBLE_EQ(r.GetFloat(72), 2.5);
  EXPECT_EQ(r.GetString(80), "hello");
  EXPECT_EQ(r.GetStr(80).sym, 7);
  EXPECT_TRUE(r.IsPresent(JN_EVENT_PRESENT_OFFSET, 3));
  EXPECT_FALSE(r.IsPresent(JN_EVENT_PRESENT_OFFSET, 2));
  EXPECT_TRUE(r.IsPresent(JN_EVENT_PRESENT_OFFSET, -1));  // required fields
  EXPECT_EQ(r.header().present, uint64_t{1} << 3);
}

TEST(RecordTest, OutOfRangePresenceBitsAreIgnored) {
  std::vector<uint8_t> bytes(JN_EVENT_FIELDS_OFFSET, 0);
  RecordWriter w(bytes.data());
  w.SetPresent(JN_EVENT_PRESENT_OFFSET, 64);
  w.SetPresent(JN_EVENT_PRESENT_OFFSET, -5);
  EXPECT_EQ(RecordView(bytes.data()).header().present, 0u);
}

}  // namespace
}  // namespace juncture::runtime
