// The parse layer: valid syntax builds the AST, every syntax error is reported at its
// position, and hostile input is rejected without a crash.
#include "parse/parser.h"

#include <random>

#include <gtest/gtest.h>

#include "../test_util.h"

namespace juncture::compiler {
namespace {

using juncture::testing::Brief;
using juncture::testing::CompileOne;

std::optional<ast::Module> Parse(const std::string& text, DiagnosticSink& sink,
                                 SourceManager& sm) {
  FileId f = sm.AddFile("t.jny", text);
  return ParseFile(sm, f, sink);
}

TEST(ParserTest, BuildsDeclarationsInOrder) {
  SourceManager sm;
  DiagnosticSink sink;
  auto m = Parse("event a { x: int }\nprofile { }\nchannel c { }\nsegment s = true\n"
                 "const K = 1\njourney j { on a send c \"t\" }\n",
                 sink, sm);
  ASSERT_TRUE(m.has_value()) << juncture::testing::Brief(*CompileOne(""));
  ASSERT_EQ(m->decls.size(), 6u);
  EXPECT_EQ(m->decls[0]->kind, ast::DeclKind::kEvent);
  EXPECT_EQ(m->decls[5]->kind, ast::DeclKind::kJourney);
  EXPECT_EQ(m->decls[5]->name, "j");
}

TEST(ParserTest, Literals) {
  SourceManager sm;
  DiagnosticSink sink;
  auto m = Parse("const A = 1d12h\nconst B = 15%\nconst C = \"a\\\"b\\u{1F600}\\n\"\n"
                 "const D = 12.50\nconst E = [1, 2, 3]\n",
                 sink, sm);
  ASSERT_TRUE(m.has_value());
  auto lit = [&](int i) {
    return static_cast<const ast::LiteralExpr&>(*static_cast<ast::ConstDecl&>(*m->decls[i]).value);
  };
  EXPECT_EQ(lit(0).lit, ast::LiteralKind::kDuration);
  EXPECT_EQ(lit(0).int_value, 36LL * 3600 * 1000000);
  EXPECT_EQ(lit(1).lit, ast::LiteralKind::kPercent);
  EXPECT_DOUBLE_EQ(lit(1).float_value, 0.15);
  EXPECT_EQ(lit(2).string_value, "a\"b\xF0\x9F\x98\x80\n");
  EXPECT_EQ(lit(3).lit, ast::LiteralKind::kFloat);
  EXPECT_DOUBLE_EQ(lit(3).float_value, 12.5);
}

TEST(ParserTest, PrecedenceFollowsTheSpec) {
  SourceManager sm;
  DiagnosticSink sink;
  // not binds looser than comparisons; and looser than not; or loosest.
  auto m = Parse("segment s = not a == b and c or d\n", sink, sm);
  ASSERT_TRUE(m.has_value());
  const auto& top = static_cast<const ast::BinaryExpr&>(
      *static_cast<ast::SegmentDecl&>(*m->decls[0]).value);
  EXPECT_EQ(top.op, ast::BinaryOp::kOr);
  const auto& left = static_cast<const ast::BinaryExpr&>(*top.lhs);
  EXPECT_EQ(left.op, ast::BinaryOp::kAnd);
  const auto& neg = static_cast<const ast::UnaryExpr&>(*left.lhs);
  EXPECT_EQ(neg.op, ast::UnaryOp::kNot);
  EXPECT_EQ(static_cast<const ast::BinaryExpr&>(*neg.operand).op, ast::BinaryOp::kEq);
}

TEST(ParserTest, ComparisonsInAndStringOpsShareOneLevel) {
  SourceManager sm;
  DiagnosticSink sink;
  // Left-associative at one level: (a in b) == c.
  auto m = Parse("segment s = a in b == c\n", sink, sm);
  ASSERT_TRUE(m.has_value());
  const auto& top = static_cast<const ast::BinaryExpr&>(
      *static_cast<ast::SegmentDecl&>(*m->decls[0]).value);
  EXPECT_EQ(top.op, ast::BinaryOp::kEq);
  EXPECT_EQ(static_cast<const ast::BinaryExpr&>(*top.lhs).op, ast::BinaryOp::kIn);
}

TEST(ParserTest, KeywordsMayNameFields) {
  auto c = CompileOne("event page { title: string  count: int }\nprofile { }\n"
                      "channel push { consent true }\n"
                      "journey j { on page when event.count > 1  send push \"t\" { title: event.title } }\n");
  EXPECT_TRUE(c->ok()) << Brief(*c);
}

TEST(ParserTest, SyntaxErrorHasPositionAndExpectation) {
  auto c = CompileOne("event e { }\nprofile { }\njourney j {\n  on e\n  wait 10 minutes\n}\n");
  ASSERT_FALSE(c->ok());
  std::string b = Brief(*c);
  EXPECT_NE(b.find("5:8: error: unexpected '10'; expected a duration"), std::string::npos) << b;
  EXPECT_NE(b.find("needs a unit"), std::string::npos) << b;
}

TEST(ParserTest, ReportsEverySyntaxError) {
  auto c = CompileOne("event e { x: }\nevent f { y: int = }\n");
  std::string b = Brief(*c);
  EXPECT_NE(b.find("1:14: error"), std::string::npos) << b;
  EXPECT_NE(b.find("2:20: error"), std::string::npos) << b;
}

TEST(ParserTest, BadCharactersAndUnterminatedStrings) {
  auto c = CompileOne("const A = 1 $\nconst B = \"open\n");
  std::string b = Brief(*c);
  EXPECT_NE(b.find("1:13: error: unexpected character '$'"), std::string::npos) << b;
  EXPECT_NE(b.find("2:11: error: unterminated string literal"), std::string::npos) << b;
}

TEST(ParserTest, LiteralErrors) {
  auto c = CompileOne("const A = 99999999999999999999\nconst B = \"bad \\q\"\n"
                      "channel c { quiet 25:00 .. 08:00 }\nconst D = 999999999999w\n");
  std::string b = Brief(*c);
  EXPECT_NE(b.find("1:11: error: integer '99999999999999999999' is out of range"),
            std::string::npos) << b;
  EXPECT_NE(b.find("2:16: error: invalid escape sequence"), std::string::npos) << b;
  EXPECT_NE(b.find("3:19: error: invalid clock time '25:00'"), std::string::npos) << b;
  EXPECT_NE(b.find("4:11: error: duration is too large"), std::string::npos) << b;
}

TEST(ParserTest, HeaderClauseAfterStepIsAnError) {
  auto c = CompileOne("event e { }\nprofile { }\nchannel c { consent true }\n"
                      "journey j {\n  on e\n  send c \"t\"\n  priority 3\n}\n");
  std::string b = Brief(*c);
  EXPECT_NE(b.find("7:3: error: header clause 'priority' must come before the steps"),
            std::string::npos) << b;
}

TEST(ParserTest, InvalidUtf8IsReportedWithItsPosition) {
  auto c = CompileOne("const A = 1\nconst B = \"\xC3\x28\"\n");
  std::string b = Brief(*c);
  EXPECT_NE(b.find("2:12: error: invalid UTF-8"), std::string::npos) << b;
}

TEST(ParserTest, DeepNestingIsRejectedNotCrashed) {
  std::string deep = "const A = " + std::string(100000, '(') + "1" + std::string(100000, ')');
  auto c = CompileOne(deep);
  EXPECT_NE(Brief(*c).find("nesting is too deep"), std::string::npos);
  auto c2 = CompileOne("const A = " + std::string(5000, '-') + "1\n");
  EXPECT_NE(Brief(*c2).find("too many `not` or `-` in a row"), std::string::npos);
  std::string chain = "const A = 1";
  for (int i = 0; i < 20000; ++i) chain += " + 1";
  auto c3 = CompileOne(chain);
  EXPECT_NE(Brief(*c3).find("nested too deeply"), std::string::npos);
}

TEST(ParserTest, RandomBytesNeverCrash) {
  std::mt19937 rng(12345);
  const std::string alphabet = "event journey on when send wait until { } ( ) [ ] \" : 1 2h 3% "
                               "21:00 .. ?? and or not in , . - + * / % = < > ! x y \n";
  for (int i = 0; i < 300; ++i) {
    std::string text;
    int n = static_cast<int>(rng() % 200);
    for (int k = 0; k < n; ++k) {
      if (rng() % 4 == 0) {
        text += static_cast<char>(rng() % 256);
      } else {
        text += alphabet[rng() % alphabet.size()];
      }
    }
    auto c = CompileOne(text);
    // Anything goes except a crash; a failed compile must say why.
    if (!c->ok()) {
      EXPECT_FALSE(c->diagnostics().empty());
    }
  }
}

}  // namespace
}  // namespace juncture::compiler
