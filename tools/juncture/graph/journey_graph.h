// `juncture graph`: each journey of a checked program as a Graphviz (DOT) picture,
// with the funnel of a decision log on it when one is given (docs/tooling.md, "graph").
#pragma once

#include <cstdint>
#include <istream>
#include <map>
#include <set>
#include <string>

#include "ast/ast.h"
#include "juncture/compiler/source.h"
#include "juncture/status.h"
#include "sema/sema.h"

namespace juncture::tools::graph {

// What a decision log says happened at one step of one journey.
struct StepTally {
  std::set<std::string> customers;             // who has a decision there
  std::map<std::string, uint64_t> outcomes;    // "sent", "suppressed cap", "deferred", ...
};

// journey -> step ("entry", "s3", "exit", "goal", "end", "reload") -> tally.
using Counts = std::map<std::string, std::map<std::string, StepTally>>;

struct GraphOptions {
  std::string journey;             // only this journey ("" for all)
  const Counts* counts = nullptr;  // the funnel, or none
  // The checker's view of each journey (its version and missing approvals), to show
  // whether its sends may go out; none: approvals are not shown.
  const compiler::SemaResult* sema = nullptr;
};

// The DOT text of the journeys of `program` (one cluster per journey, in source
// order); an invalid-argument error if `options.journey` names no journey (or there
// is none). `sources` names the files (each node shows its file and line).
Result<std::string> JourneysDot(const compiler::ast::Program& program,
                                const compiler::SourceManager& sources,
                                const GraphOptions& options);

// Reads a decision log (JSON lines, as `juncture run` prints and `juncture serve`
// publishes) into counts. Lines that are not decisions are skipped; `bad` counts them
// and `first_bad` says where and why the first one is.
Counts ReadCounts(std::istream& in, uint64_t& bad, std::string& first_bad);

}  // namespace juncture::tools::graph
