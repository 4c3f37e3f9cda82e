// `juncture graph` (tools/juncture/graph/): the DOT text of journeys, with and without
// the funnel of a decision log, against reviewed golden files in tests/golden/graph/
// (JUNCTURE_UPDATE_GOLDEN=1 rewrites them: review the diff); the log's reading; and
// Graphviz rendering the result to SVG and PNG.
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "juncture/compiler/compiler.h"
#include "juncture/graph/journey_graph.h"
#include "juncture/graph/render.h"

namespace juncture::tools::graph {
namespace {

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

Counts CountsOf(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in) << path;
  uint64_t bad = 0;
  std::string first_bad;
  Counts counts = ReadCounts(in, bad, first_bad);
  EXPECT_EQ(bad, 0u) << first_bad;
  return counts;
}

// The DOT of the program at `paths`, compared with (or written to) `golden`.
void ExpectGolden(const std::vector<std::string>& paths, const Counts* counts,
                  const std::string& golden) {
  auto c = compiler::CompileFiles(paths, compiler::CompileOptions{});
  ASSERT_TRUE(c->ok()) << c->FormatDiagnostics(compiler::DiagnosticFormat::kText);
  Result<std::string> drawn =
      JourneysDot(*c->ast(), c->sources(), GraphOptions{"", counts, c->sema()});
  ASSERT_TRUE(drawn.ok()) << drawn.status().message();
  const std::string& dot = *drawn;
  const std::string path = SourceDir() + "/tests/golden/graph/" + golden;
  if (std::getenv("JUNCTURE_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(path, std::ios::binary) << dot;
    return;
  }
  EXPECT_EQ(dot, Read(path)) << "differs from " << path;
}

TEST(Graph, EveryKindOfStep) {
  ExpectGolden({SourceDir() + "/tests/golden/graph/every_step.jny"}, nullptr, "every_step.dot");
}

TEST(Graph, EveryKindOfStepWithItsFunnel) {
  // every_step.decisions.jsonl: `juncture run every_step.jny --events
  // every_step.events.jsonl --until +3d` (approvals.json beside it approves it).
  Counts counts = CountsOf(SourceDir() + "/tests/golden/graph/every_step.decisions.jsonl");
  ExpectGolden({SourceDir() + "/tests/golden/graph/every_step.jny"}, &counts,
               "every_step.counts.dot");
}

TEST(Graph, TheExamplesWithTheDemosFunnel) {
  Counts counts = CountsOf(SourceDir() + "/examples/expected/demo.decisions.jsonl");
  ExpectGolden({SourceDir() + "/examples"}, &counts, "examples.counts.dot");
}

TEST(Graph, ReadsWhatEachDecisionSaysAndSkipsWhatIsNotOne) {
  std::istringstream log(
      R"({"id":"m1:j:entry:entered","customer":"a","journey":"j","step":"entry","outcome":"entered","at":"2026-06-01T10:00:00Z"})"
      "\n"
      R"({"id":"m1:j:s1","customer":"a","journey":"j","step":"s1","channel":"email","outcome":"deferred","at":"2026-06-01T10:00:00Z"})"
      "\n\n"
      R"({"id":"m1:j:s1:release","customer":"a","journey":"j","step":"s1","channel":"email","outcome":"suppressed","reason":"cap","at":"2026-06-01T18:00:00Z"})"
      "\n"
      R"({"id":"m2:j:s1","customer":"b","journey":"j","step":"s1","channel":"email","outcome":"suppressed","reason":"consent","at":"2026-06-01T10:00:00Z"})"
      "\n"
      R"({"id":"m3:j:reload:exited","customer":"b","journey":"j","step":"reload","outcome":"exited","at":"2026-06-01T11:00:00Z"})"
      "\n"
      R"({"id":"m4:j:goal:converted","customer":"a","journey":"j","step":"goal","outcome":"converted","arm":"control","at":"2026-06-01T12:00:00Z"})"
      "\n"
      "not json\n"
      R"({"id":"m5:j:s1","customer":"c","journey":"j","channel":"email","outcome":"sent","at":"2026-06-01T10:00:00Z"})"
      "\n");
  uint64_t bad = 0;
  std::string first_bad;
  Counts counts = ReadCounts(log, bad, first_bad);
  EXPECT_EQ(bad, 2u);
  EXPECT_EQ(first_bad.substr(0, 8), "line 8: ");
  const auto& j = counts.at("j");
  EXPECT_EQ(j.at("entry").outcomes, (std::map<std::string, uint64_t>{{"entered", 1}}));
  EXPECT_EQ(j.at("s1").outcomes, (std::map<std::string, uint64_t>{
                                     {"deferred", 1}, {"released: suppressed cap", 1}, {"suppressed consent", 1}}));
  EXPECT_EQ(j.at("s1").customers, (std::set<std::string>{"a", "b"}));
  EXPECT_EQ(j.at("reload").outcomes, (std::map<std::string, uint64_t>{{"exited on reload", 1}}));
  EXPECT_EQ(j.at("goal").outcomes, (std::map<std::string, uint64_t>{{"converted (control)", 1}}));
}

TEST(Graph, AJourneyWithoutItsApprovalsSaysSo) {
  // every_step.jny without the approvals.json beside it: nobody approved it.
  auto c = compiler::CompileSources(
      {{"every_step.jny", Read(SourceDir() + "/tests/golden/graph/every_step.jny")}},
      compiler::CompileOptions{});
  ASSERT_TRUE(c->ok());
  std::string dot = *JourneysDot(*c->ast(), c->sources(), GraphOptions{"", nullptr, c->sema()});
  EXPECT_NE(dot.find(" NOT APPROVED by legal: every send is suppressed (unapproved)"),
            std::string::npos) << dot;
  EXPECT_NE(dot.find("[approval legal: missing]"), std::string::npos);
  EXPECT_EQ(dot.find("[approval legal: approved]"), std::string::npos);
}

TEST(Graph, ANameThatIsNoJourneyIsAnError) {
  auto c = compiler::CompileFiles({SourceDir() + "/examples"}, compiler::CompileOptions{});
  ASSERT_TRUE(c->ok());
  Result<std::string> none = JourneysDot(*c->ast(), c->sources(), GraphOptions{"no_such", nullptr});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().ToString(), "invalid argument: no journey named 'no_such'");
  std::string dot = *JourneysDot(*c->ast(), c->sources(), GraphOptions{"win_back", nullptr});
  EXPECT_NE(dot.find("cluster_win_back"), std::string::npos);
  EXPECT_EQ(dot.find("cluster_cart_rescue"), std::string::npos);
}

TEST(Graph, GraphvizRendersItToSvgAndPng) {
  auto c = compiler::CompileFiles({SourceDir() + "/examples"}, compiler::CompileOptions{});
  ASSERT_TRUE(c->ok());
  Counts counts = CountsOf(SourceDir() + "/examples/expected/demo.decisions.jsonl");
  std::string dot = *JourneysDot(*c->ast(), c->sources(), GraphOptions{"", &counts});
  Result<std::string> rendered = RenderDot(dot, "svg");
  ASSERT_TRUE(rendered.ok()) << rendered.status().message();
  const std::string& svg = *rendered;
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  // Every node is drawn: one SVG group per node, titled by its id.
  for (const char* node : {"cart_rescue.entry", "cart_rescue.s13", "cart_rescue.end", "win_back.goal"}) {
    EXPECT_NE(svg.find(std::string("<title>") + node + "</title>"), std::string::npos) << node;
  }
  EXPECT_NE(svg.find("wait until purchase"), std::string::npos);
  Result<std::string> png = RenderDot(dot, "png");
  ASSERT_TRUE(png.ok()) << png.status().message();
  EXPECT_EQ(png->substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  // The rendered SVG, for a person to look at (CI keeps the build folder's files).
  std::ofstream(std::string(JUNCTURE_TEST_BINARY_DIR) + "/examples.svg", std::ios::binary) << svg;

  std::string error = RenderDot("digraph { a -> }", "svg").status().message();
  EXPECT_NE(error.find("Graphviz cannot read the graph"), std::string::npos) << error;
  error = RenderDot("digraph { a }", "no-such-format").status().message();
  EXPECT_NE(error.find("no-such-format"), std::string::npos) << error;
}

}  // namespace
}  // namespace juncture::tools::graph
