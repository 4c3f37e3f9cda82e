#include "juncture/compiler/diagnostic.h"

#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace juncture::compiler {
namespace {

TEST(DiagnosticTest, GccStyleWithCaretAndRange) {
  SourceManager sm;
  FileId f = sm.AddFile("dir/a.jny", "journey j {\n\ton purchse\n}\n");
  DiagnosticSink sink;
  sink.Error(ErrorCode::kUnknownEvent, {{f, 2, 5}, {f, 2, 12}}, "unknown event 'purchse'");
  sink.Note({{f, 1, 9}, {f, 1, 10}}, "in this journey");
  EXPECT_EQ(FormatText(sm, sink.diagnostics()),
            "dir/a.jny:2:5: error: unknown event 'purchse' [unknown-event]\n"
            "  \ton purchse\n"
            "  \t   ^~~~~~~\n"
            "dir/a.jny:1:9: note: in this journey\n"
            "  journey j {\n"
            "          ^\n");
}

TEST(DiagnosticTest, WarningsCarryTheirCodeAndCanBeDisabled) {
  SourceManager sm;
  FileId f = sm.AddFile("a.jny", "segment s = true\n");
  WarningSet w;
  w.Disable(WarnCode::kUnusedConst);
  DiagnosticSink sink(w);
  sink.Warning(WarnCode::kUnusedSegment, {{f, 1, 9}, {f, 1, 10}}, "segment 's' is never used");
  sink.Warning(WarnCode::kUnusedConst, {{f, 1, 1}, {f, 1, 1}}, "dropped");
  sink.Note({{f, 1, 1}, {f, 1, 1}}, "dropped with its warning");
  ASSERT_EQ(sink.diagnostics().size(), 1u);
  EXPECT_FALSE(sink.has_errors());
  EXPECT_NE(FormatText(sm, sink.diagnostics()).find("never used [-Wunused-segment]"),
            std::string::npos);
}

TEST(DiagnosticTest, SortedByPosition) {
  SourceManager sm;
  FileId a = sm.AddFile("a.jny", "x\ny\n");
  FileId b = sm.AddFile("b.jny", "z\n");
  DiagnosticSink sink;
  sink.Error(ErrorCode::kSyntax, {{b, 1, 1}, {b, 1, 1}}, "third");
  sink.Error(ErrorCode::kSyntax, {{a, 2, 1}, {a, 2, 1}}, "second");
  sink.Error(ErrorCode::kSyntax, {{a, 1, 1}, {a, 1, 1}}, "first");
  sink.SortByLocation();
  ASSERT_EQ(sink.diagnostics().size(), 3u);
  EXPECT_EQ(sink.diagnostics()[0].message, "first");
  EXPECT_EQ(sink.diagnostics()[2].message, "third");
}

TEST(DiagnosticTest, JsonAndSarifCarryTheSameFacts) {
  SourceManager sm;
  FileId f = sm.AddFile("a.jny", "const A = \"x\"\n");
  DiagnosticSink sink;
  sink.Warning(WarnCode::kUnusedConst, {{f, 1, 7}, {f, 1, 8}}, "const 'A' is never used");
  auto j = nlohmann::json::parse(FormatJson(sm, sink.diagnostics()));
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["line"], 1);
  EXPECT_EQ(j[0]["column"], 7);
  EXPECT_EQ(j[0]["severity"], "warning");
  EXPECT_EQ(j[0]["code"], "unused-const");
  auto s = nlohmann::json::parse(FormatSarif(sm, sink.diagnostics()));
  EXPECT_EQ(s["version"], "2.1.0");
  EXPECT_EQ(s["runs"][0]["results"][0]["ruleId"], "unused-const");
  EXPECT_EQ(s["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startColumn"], 7);
}

TEST(DiagnosticTest, ErrorsCarryTheirClassEverywhereAndSarifHasEndsAndNotes) {
  SourceManager sm;
  FileId f = sm.AddFile("a.jny", "segment s = t\nconst t = 1\n");
  DiagnosticSink sink;
  sink.Error(ErrorCode::kType, {{f, 1, 13}, {f, 1, 14}}, "a segment must be a bool, not int");
  sink.Note({{f, 2, 7}, {f, 2, 8}}, "'t' is declared here");
  EXPECT_NE(FormatText(sm, sink.diagnostics()).find("not int [type]\n"), std::string::npos);
  auto j = nlohmann::json::parse(FormatJson(sm, sink.diagnostics()));
  EXPECT_EQ(j[0]["code"], "type");
  EXPECT_EQ(j[0]["end_column"], 14);
  auto s = nlohmann::json::parse(FormatSarif(sm, sink.diagnostics()));
  const auto& result = s["runs"][0]["results"][0];
  EXPECT_EQ(result["ruleId"], "type");
  EXPECT_EQ(result["level"], "error");
  const auto& region = result["locations"][0]["physicalLocation"]["region"];
  EXPECT_EQ(region["startLine"], 1);
  EXPECT_EQ(region["endLine"], 1);
  EXPECT_EQ(region["endColumn"], 14);
  ASSERT_EQ(result["relatedLocations"].size(), 1u);
  EXPECT_EQ(result["relatedLocations"][0]["message"]["text"], "'t' is declared here");
  EXPECT_EQ(result["relatedLocations"][0]["physicalLocation"]["region"]["startLine"], 2);
  const auto& rules = s["runs"][0]["tool"]["driver"]["rules"];
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0]["id"], "type");
}

TEST(DiagnosticTest, EveryErrorClassHasItsOwnName) {
  std::set<std::string_view> names;
  for (int i = 1; i <= kErrorCodeCount; ++i) {
    std::string_view name = ErrorCodeName(static_cast<ErrorCode>(i));
    EXPECT_FALSE(name.empty()) << i;
    EXPECT_TRUE(names.insert(name).second) << name << " twice";
    for (int w = 1; w < kWarnCodeCount; ++w) EXPECT_NE(name, WarnCodeName(static_cast<WarnCode>(w)));
  }
  EXPECT_EQ(ErrorCodeName(static_cast<ErrorCode>(kErrorCodeCount + 1)), "");
}

TEST(DiagnosticTest, WarnCodeNamesRoundTrip) {
  for (int i = 1; i < kWarnCodeCount; ++i) {
    auto code = static_cast<WarnCode>(i);
    EXPECT_EQ(WarnCodeFromName(WarnCodeName(code)), code);
  }
  EXPECT_FALSE(WarnCodeFromName("no-such-warning").has_value());
}

}  // namespace
}  // namespace juncture::compiler
