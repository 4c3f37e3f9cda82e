// `juncture graph PROGRAM [--journey J] [--format dot|svg|png] [-o FILE]
//  [--counts DECISIONS.jsonl]`: pictures of the journeys (docs/tooling.md, "graph").
#include <fstream>
#include <iostream>

#include "juncture/graph/journey_graph.h"
#include "juncture/graph/render.h"
#include "juncture/commands.h"
#include "juncture/compiler/compiler.h"

namespace juncture::tools {
namespace {

struct GraphCommandOptions {
  std::vector<std::string> paths;
  std::string journey;
  std::string format = "dot";
  std::string output;
  std::string counts;
};

int RunGraph(const GraphCommandOptions& o) {
  auto c = compiler::CompileFiles(o.paths, compiler::CompileOptions{});
  if (!c->ok() || c->ast() == nullptr) {
    std::cerr << c->FormatDiagnostics(compiler::DiagnosticFormat::kText);
    return 1;
  }
  graph::Counts counts;
  graph::GraphOptions options;
  options.journey = o.journey;
  options.sema = c->sema();
  if (!o.counts.empty()) {
    std::ifstream in(o.counts);
    if (!in) {
      std::cerr << "juncture graph: cannot read " << o.counts << "\n";
      return 1;
    }
    uint64_t bad = 0;
    std::string first_bad;
    counts = graph::ReadCounts(in, bad, first_bad);
    if (bad > 0) {
      std::cerr << "juncture graph: " << o.counts << ": skipped " << bad
                << " line(s) that are not decisions (" << first_bad << ")\n";
    }
    options.counts = &counts;
  }
  Result<std::string> bytes = graph::JourneysDot(*c->ast(), c->sources(), options);
  if (bytes.ok() && o.format != "dot") bytes = graph::RenderDot(*bytes, o.format);
  if (!bytes.ok()) {
    std::cerr << "juncture graph: " << bytes.status().message() << "\n";
    return 1;
  }
  if (o.output.empty() || o.output == "-") {
    std::cout << *bytes;
    return std::cout ? 0 : 1;
  }
  std::ofstream out(o.output, std::ios::binary | std::ios::trunc);
  out << *bytes;
  out.close();
  if (!out) {
    std::cerr << "juncture graph: cannot write " << o.output << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

Runner AddGraphCommand(CLI::App& cmd) {
  auto o = std::make_shared<GraphCommandOptions>();
  cmd.add_option("paths", o->paths, ".jny files or directories (one program)")->required();
  cmd.add_option("--journey", o->journey, "draw only this journey");
  cmd.add_option("--format", o->format, "dot (default), svg or png")
      ->check(CLI::IsMember({"dot", "svg", "png"}));
  cmd.add_option("-o,--output", o->output, "write to FILE instead of standard output");
  cmd.add_option("--counts", o->counts,
                 "a decision log (juncture run's output, or serve's decisions): the funnel");
  return [o] { return RunGraph(*o); };
}

}  // namespace juncture::tools
