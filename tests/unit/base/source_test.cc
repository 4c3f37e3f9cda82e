#include "juncture/compiler/source.h"

#include <gtest/gtest.h>

namespace juncture::compiler {
namespace {

TEST(SourceManagerTest, LinesAndColumnsCountCodePoints) {
  SourceManager sm;
  FileId f = sm.AddFile("a.jny", "ab\n\xC3\xA9x\r\nlast");
  EXPECT_EQ(sm.LineText(f, 1), "ab");
  EXPECT_EQ(sm.LineText(f, 2), "\xC3\xA9x");  // the \r is not part of the line
  EXPECT_EQ(sm.LineText(f, 3), "last");
  EXPECT_EQ(sm.LineText(f, 4), "");
  SourceLoc loc = sm.LocForOffset(f, 5);  // 'x' after the two-byte é
  EXPECT_EQ(loc.line, 2u);
  EXPECT_EQ(loc.column, 2u);
}

TEST(Utf8Test, FindsTheFirstInvalidByte) {
  EXPECT_EQ(FindInvalidUtf8("plain"), -1);
  EXPECT_EQ(FindInvalidUtf8("\xF0\x9F\x98\x80 ok"), -1);
  EXPECT_EQ(FindInvalidUtf8("ab\xC3("), 2);        // bad continuation
  EXPECT_EQ(FindInvalidUtf8("\xC0\xAF"), 0);       // overlong
  EXPECT_EQ(FindInvalidUtf8("x\xED\xA0\x80"), 1);  // surrogate
  EXPECT_EQ(FindInvalidUtf8("\xF0\x9F"), 0);       // truncated
}

}  // namespace
}  // namespace juncture::compiler
