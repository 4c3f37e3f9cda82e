// `juncture fmt` (FormatSource): comments stay next to what they were written by, the
// result says the same thing, and formatting it again changes nothing. Exact cases
// first, then every .jny file of the repository and of the conformance cases.
#include "juncture/compiler/format.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ast/formatter.h"
#include "juncture/compiler/compiler.h"
#include "parse/parser.h"

namespace juncture::compiler {
namespace {

namespace fs = std::filesystem;

std::string Fmt(const std::string& text) {
  Result<std::string> r = FormatSource("t.jny", text);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : std::string();
}

// Every comment's text, in order.
std::vector<std::string> Comments(const std::string& text) {
  SourceManager sm;
  std::vector<std::string> out;
  for (const ast::Comment& c : ParseComments(sm, sm.AddFile("t.jny", text))) out.push_back(c.text);
  return out;
}

constexpr const char* kEvents = "event cart {\n  value: float\n}\n\nevent purchase { }\n\n";

TEST(Fmt, CommentsStayWithTheirLines) {
  const std::string source = std::string(kEvents) +
                             "// The rescue.\n"
                             "journey rescue {   // trailing on the head\n"
                             "  priority    3\n"
                             "  // before the trigger\n"
                             "  on cart when event.value>10 // big enough\n"
                             "\n"
                             "  wait 1h\n"
                             "  /* a block\n"
                             "     comment */\n"
                             "  send email \"x\"\n"
                             "  // last words, inside the journey\n"
                             "}\n"
                             "// the end\n";
  EXPECT_EQ(Fmt(source), std::string(kEvents) +
                             "// The rescue.\n"
                             "journey rescue {  // trailing on the head\n"
                             "  priority 3\n"
                             "  // before the trigger\n"
                             "  on cart when event.value > 10  // big enough\n"
                             "\n"
                             "  wait 1h\n"
                             "  /* a block\n"
                             "     comment */\n"
                             "  send email \"x\"\n"
                             "  // last words, inside the journey\n"
                             "}\n"
                             "// the end\n");
}

TEST(Fmt, CommentsFollowHeaderClausesPutInCanonicalOrder) {
  // `title` prints before `priority`: each keeps its own comment.
  const std::string source = std::string(kEvents) +
                             "journey j {\n"
                             "  // how urgent\n"
                             "  priority 3\n"
                             "  // what marketers see\n"
                             "  title \"J\"\n"
                             "  on cart\n"
                             "  send email \"x\"\n"
                             "}\n";
  EXPECT_EQ(Fmt(source), std::string(kEvents) +
                             "journey j {\n"
                             "  // what marketers see\n"
                             "  title \"J\"\n"
                             "  // how urgent\n"
                             "  priority 3\n"
                             "  on cart\n"
                             "\n"
                             "  send email \"x\"\n"
                             "}\n");
}

TEST(Fmt, CommentsInsideNestedBlocksAndElseLines) {
  const std::string source = std::string(kEvents) +
                             "journey j {\n"
                             "  on cart\n"
                             "  if event.value > 1 {\n"
                             "    send email \"a\"\n"
                             "    // end of the first arm\n"
                             "  } else {   // the other arm\n"
                             "    split {\n"
                             "      50%: send email \"b\" // half\n"
                             "      50%: control\n"
                             "      // no third arm\n"
                             "    }\n"
                             "  }\n"
                             "}\n";
  EXPECT_EQ(Fmt(source), std::string(kEvents) +
                             "journey j {\n"
                             "  on cart\n"
                             "\n"
                             "  if event.value > 1 {\n"
                             "    send email \"a\"\n"
                             "    // end of the first arm\n"
                             "  } else {  // the other arm\n"
                             "    split {\n"
                             "      50%: send email \"b\"  // half\n"
                             "      50%: control\n"
                             "      // no third arm\n"
                             "    }\n"
                             "  }\n"
                             "}\n");
}

TEST(Fmt, TwoTrailingCommentsThatMeetOnOneLineStayTwo) {
  // The expression spans two lines with a comment on each; printed on one line, the
  // second comment would end up inside the first.
  const std::string source = std::string(kEvents) +
                             "segment s = event.value > 1 // one\n"
                             "  or event.value < 0 // two\n";
  const std::string out = Fmt(source);
  EXPECT_EQ(Comments(out), Comments(source));
  EXPECT_EQ(out, std::string(kEvents) + "segment s = event.value > 1 or event.value < 0  // one\n// two\n");
}

TEST(Fmt, LongSendsAndConditionsBreakAndShortOnesJoin) {
  const std::string source =
      std::string(kEvents) +
      "journey j {\n"
      "  on cart when event.value > 100000000 and event.value < 200000000 and event.value != 150000000"
      " and event.value != 160000000\n"
      "  send email \"t\" {\n"
      "    a: 1,\n"
      "    b: 2\n"
      "  }\n"
      "  send email \"long_template_name\" { first: event.value * 2, second: event.value * 3, third: "
      "event.value * 4 }\n"
      "}\n";
  EXPECT_EQ(Fmt(source), std::string(kEvents) +
                             "journey j {\n"
                             "  on cart when event.value > 100000000\n"
                             "      and event.value < 200000000\n"
                             "      and event.value != 150000000\n"
                             "      and event.value != 160000000\n"
                             "\n"
                             "  send email \"t\" { a: 1, b: 2 }\n"
                             "  send email \"long_template_name\" {\n"
                             "    first: event.value * 2,\n"
                             "    second: event.value * 3,\n"
                             "    third: event.value * 4\n"
                             "  }\n"
                             "}\n");
}

TEST(Fmt, ConstsWrittenTogetherStayTogether) {
  EXPECT_EQ(Fmt("const A = 1\nconst B = 2\n\n\nconst C = 3\n"), "const A = 1\nconst B = 2\n\nconst C = 3\n");
}

TEST(Fmt, ASyntaxErrorIsReportedAndNothingFormatted) {
  Result<std::string> r = FormatSource("bad.jny", "journey j {\n  on\n}\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("bad.jny:"), std::string::npos) << r.status().message();
}

// ---- Every .jny file we have --------------------------------------------------------

std::string SourceDir() {
  const char* dir = std::getenv("JUNCTURE_SOURCE_DIR");
  return dir ? dir : ".";
}

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The .jny files of the repository (not build folders) and of the conformance cases,
// by folder: a folder's files are one program.
std::map<std::string, std::vector<std::string>> ProgramsByFolder() {
  std::map<std::string, std::vector<std::string>> out;
  auto add = [&](const fs::path& root) {
    if (!fs::exists(root)) return;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
      const std::string name = it->path().filename().string();
      if (it->is_directory() && (name.starts_with("build") || name.starts_with(".") || name == "node_modules")) {
        it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file() && it->path().extension() == ".jny") {
        out[it->path().parent_path().string()].push_back(it->path().string());
      }
    }
  };
  for (const char* dir : {"examples", "tests", "bench", "docs"}) add(fs::path(SourceDir()) / dir);
  add(fs::path(SourceDir()) / ".." / "shared" / "conformance");
  for (auto& [folder, files] : out) std::sort(files.begin(), files.end());
  return out;
}

TEST(Fmt, EveryJnyFileKeepsItsCommentsAndMeaningAndIsStable) {
  int formatted = 0, programs = 0;
  for (const auto& [folder, files] : ProgramsByFolder()) {
    std::vector<std::pair<std::string, std::string>> before, after;
    bool all_parse = true;
    for (const std::string& path : files) {
      const std::string text = Read(path);
      Result<std::string> once = FormatSource(path, text);
      if (!once.ok()) {
        // Only a file with syntax errors (lint cases, fuzz seeds) may be refused.
        EXPECT_EQ(once.status().code(), StatusCode::kInvalidArgument) << once.status().message();
        all_parse = false;
        continue;
      }
      ++formatted;
      Result<std::string> twice = FormatSource(path, *once);
      ASSERT_TRUE(twice.ok()) << path << ": " << twice.status().message();
      EXPECT_EQ(*twice, *once) << path << ": formatting is not idempotent";
      std::vector<std::string> was = Comments(text), now = Comments(*once);
      std::sort(was.begin(), was.end());  // a comment moves with its header clause
      std::sort(now.begin(), now.end());
      EXPECT_EQ(now, was) << path;
      before.emplace_back(path, text);
      after.emplace_back(path, *once);
    }
    if (!all_parse || before.empty()) continue;
    // The same program: the same IR, or the same errors.
    auto a = CompileSources(before, CompileOptions{});
    auto b = CompileSources(after, CompileOptions{});
    ASSERT_EQ(a->ok(), b->ok()) << folder;
    if (a->ok()) {
      EXPECT_EQ(a->PrintIr(), b->PrintIr()) << folder;
      ++programs;
    } else {
      EXPECT_EQ(a->diagnostics().size(), b->diagnostics().size()) << folder;
    }
  }
  EXPECT_GE(formatted, 100);
  // The repository's own folders hold 8 whole programs; the shared conformance
  // cases add theirs when they are beside the checkout (a lone clone has none).
  const bool conformance = fs::exists(fs::path(SourceDir()) / ".." / "shared" / "conformance");
  EXPECT_GE(programs, conformance ? 10 : 8);
}

TEST(Fmt, TheExamplesAreInCanonicalForm) {
  for (const std::string& path : ExpandInputs({SourceDir() + "/examples"})) {
    const std::string text = Read(path);
    EXPECT_EQ(Fmt(text), text) << path << " is not formatted: run `juncture fmt -w examples/`";
  }
}

}  // namespace
}  // namespace juncture::compiler
