// Parse -> print -> parse is the identity on the AST, over every example and every
// conformance script: the formatter loses nothing the parser keeps.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

#include "ast/formatter.h"
#include "ast/printer.h"
#include "juncture/compiler/compiler.h"
#include "parse/parser.h"

namespace juncture::compiler {
namespace {

namespace fs = std::filesystem;

std::string SourceDir() {
  const char* dir = std::getenv("JUNCTURE_SOURCE_DIR");
  return dir ? dir : ".";
}

// The AST dump without source positions (which legitimately move).
std::string Shape(const std::string& text, std::string* formatted) {
  SourceManager sm;
  DiagnosticSink sink;
  FileId f = sm.AddFile("x.jny", text);
  auto m = ParseFile(sm, f, sink);
  if (!m) return "parse failed:\n" + FormatText(sm, sink.diagnostics());
  if (formatted) *formatted = ast::FormatProgram(*m);
  ast::Program p;
  p.modules.push_back(std::move(*m));
  return std::regex_replace(ast::PrintAst(p, sm), std::regex("@[0-9]+:[0-9]+"), "@");
}

std::vector<std::string> Scripts() {
  std::vector<std::string> files = ExpandInputs({SourceDir() + "/examples"});
  std::vector<std::string> more = ExpandInputs({SourceDir() + "/../shared/conformance"});
  files.insert(files.end(), more.begin(), more.end());
  return files;
}

TEST(RoundTripTest, ExamplesAndConformanceScripts) {
  std::vector<std::string> files = Scripts();
  ASSERT_GE(files.size(), 7u) << "examples not found under " << SourceDir();
  int checked = 0;
  for (const std::string& path : files) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    std::string once, twice;
    std::string shape = Shape(text.str(), &once);
    if (shape.starts_with("parse failed")) continue;  // lint cases with syntax errors
    std::string reparsed = Shape(once, &twice);
    EXPECT_EQ(shape, reparsed) << path << "\nformatted:\n" << once;
    EXPECT_EQ(once, twice) << path << ": formatting is not idempotent";
    ++checked;
  }
  EXPECT_GE(checked, 7);
}

}  // namespace
}  // namespace juncture::compiler
