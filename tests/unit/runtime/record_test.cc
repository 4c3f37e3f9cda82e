#include "juncture/runtime/record.h"

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "juncture/runtime/event.h"

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

// A record is one allocation: its layout (zeroed, 16-byte aligned), then the arena
// its strings go to while it lasts; a string that does not fit gets a block of its own.
TEST(RecordTest, StringsGoToTheArenaUntilItIsFullThenApart) {
  RecordRef<Record> r = Record::Make(64, 16);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->size(), 64u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(r->data()) % 16, 0u);
  for (uint32_t i = 0; i < 64; ++i) ASSERT_EQ(r->data()[i], 0) << i;
  const uint8_t* begin = r->data();
  const uint8_t* end = begin + 64 + 16;
  auto inside = [&](JnStr s) {
    auto* p = reinterpret_cast<const uint8_t*>(s.data);
    return p >= begin + 64 && p + s.len <= end;
  };
  JnStr a = r->Own("abcdefgh");  // 8 bytes: fits
  JnStr b = r->Own("ijklm");      // 8 more (aligned): fits exactly
  EXPECT_FALSE(r->overflowed());
  JnStr c = r->Own("nop");        // none left: a block of its own
  EXPECT_TRUE(r->overflowed());
  EXPECT_TRUE(inside(a));
  EXPECT_TRUE(inside(b));
  EXPECT_FALSE(inside(c));
  EXPECT_EQ(std::string_view(a.data, a.len), "abcdefgh");
  EXPECT_EQ(std::string_view(b.data, b.len), "ijklm");
  EXPECT_EQ(std::string_view(c.data, c.len), "nop");
}

// The blocks of an overflowed record are its own: other records that overflow and
// go (their addresses reused by the next ones) leave a live record's strings intact.
// (The sanitizer build checks that every block is freed with its record.)
TEST(RecordTest, OverflowedBlocksGoWithTheirRecordOnly) {
  RecordRef<Record> kept = Record::Make(16, 0);
  JnStr k1 = kept->Own("kept-one-longer-than-sixteen");
  JnStr k2 = kept->Own("kept-two");
  for (int i = 0; i < 2000; ++i) {
    RecordRef<Record> r = Record::Make(16, 8);
    JnStr s = r->Own("fits-in8");
    JnStr t = r->Own("overflow-" + std::to_string(i));
    EXPECT_EQ(std::string_view(t.data, t.len), "overflow-" + std::to_string(i));
    EXPECT_EQ(std::string_view(s.data, s.len), "fits-in8");
  }
  EXPECT_TRUE(kept->overflowed());
  EXPECT_EQ(std::string_view(k1.data, k1.len), "kept-one-longer-than-sixteen");
  EXPECT_EQ(std::string_view(k2.data, k2.len), "kept-two");
}

// References share one record; a read-only one is made from a writable one; moving
// leaves the source empty; the record (and its views) lives while one reference does.
TEST(RecordTest, ReferencesShareTheRecordUntilTheLastGoes) {
  RecordRef<Record> w = Record::Make(JN_EVENT_FIELDS_OFFSET, 8);
  JnStr s = w->Own("kept");
  RecordPtr r = w;  // read-only, the same record
  EXPECT_EQ(r.get(), w.get());
  RecordPtr copy = r;
  EXPECT_TRUE(copy == r);
  RecordPtr moved = std::move(copy);
  EXPECT_FALSE(copy);
  EXPECT_TRUE(copy == nullptr);
  EXPECT_EQ(moved.get(), w.get());
  w.reset();
  r.reset();
  EXPECT_FALSE(w);
  // `moved` still holds the record: its string is still there (ASan builds check it).
  EXPECT_EQ(std::string_view(s.data, s.len), "kept");
  std::vector<RecordPtr> many(100, moved);
  moved = nullptr;
  EXPECT_EQ(std::string_view(s.data, s.len), "kept");
  EXPECT_EQ(many.back()->size(), uint32_t{JN_EVENT_FIELDS_OFFSET});
}

}  // namespace
}  // namespace juncture::runtime
