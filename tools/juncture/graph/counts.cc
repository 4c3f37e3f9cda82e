// A decision log -> what was decided at each step of each journey (the funnel that
// `juncture graph --counts` draws).
#include <string>

#include "juncture/graph/journey_graph.h"
#include "juncture/report/input.h"

namespace juncture::tools::graph {
namespace {

// How a decision reads on its step's node.
std::string OutcomeLabel(const report::DecisionLine& d) {
  std::string label = d.outcome;
  if (d.outcome == "suppressed") label += " " + d.reason;
  if (d.outcome == "converted") label += " (" + d.arm + ")";
  if (d.outcome == "exited" && d.step == "reload") label += " on reload";
  if (d.release) label = "released: " + label;
  return label;
}

}  // namespace

Counts ReadCounts(std::istream& in, uint64_t& bad, std::string& first_bad) {
  Counts counts;
  bad = 0;
  std::string line;
  for (uint64_t number = 1; std::getline(in, line); ++number) {
    if (report::IsBlank(line)) continue;
    report::DecisionLine d;
    std::string why = report::ParseDecisionLine(line, d).message();
    if (why.empty() && d.step.empty()) why = "no \"step\"";
    if (!why.empty()) {
      if (bad++ == 0) first_bad = "line " + std::to_string(number) + ": " + why;
      continue;
    }
    StepTally& t = counts[d.journey][d.step];
    t.customers.insert(d.customer);
    ++t.outcomes[OutcomeLabel(d)];
  }
  return counts;
}

}  // namespace juncture::tools::graph
