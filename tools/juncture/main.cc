// juncture: the command line of the Juncture journey engine.
//   juncture lint PATH...            check scripts (GCC-style diagnostics)
//   juncture compile PATH... --emit  print the AST or the typed IR
//   juncture fmt PATH... [-w|--check]  scripts in canonical form, comments kept
//   juncture graph PATH... [--counts DECISIONS]  journeys as pictures (Graphviz)
//   juncture run PATH... --events FILE  decide on messages, print decisions
//   juncture serve PATH... --nats URL  decide on NATS messages, publish to NATS
//   juncture explain PATH... --events FILE --customer C  why a customer got what they got
//   juncture test SCENARIOS...        check journeys against scenario files
//   juncture lsp                      the language server for editors (stdio)
//   juncture approve PATH... --journey J --role R --by WHO
//   juncture report DECISIONS [--receipts FILE]  journeys' outcomes, uplift, split times
//   juncture state info|export|import   serve's state store (docs/state.md)
//   juncture publish FILE|- --nats URL  messages to their partitions' subjects
// Exit codes: 0 ok, 1 diagnostics or failures, 2 usage.
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "base/suggest.h"

#include "juncture/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"Juncture: real-time customer journeys, compiled."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "juncture " JUNCTURE_VERSION);  // project(VERSION)
  std::vector<std::pair<CLI::App*, juncture::tools::Runner>> commands;
  auto add = [&](const char* name, const char* help, auto adder) {
    CLI::App* cmd = app.add_subcommand(name, help);
    commands.emplace_back(cmd, adder(*cmd));
  };
  add("lint", "Check journey scripts and report problems", juncture::tools::AddLintCommand);
  add("compile", "Compile scripts and print the AST or IR", juncture::tools::AddCompileCommand);
  add("fmt", "Print scripts in canonical form, or rewrite them (-w), or check them",
      juncture::tools::AddFmtCommand);
  add("graph", "Draw journeys (Graphviz), with the funnel of a decision log",
      juncture::tools::AddGraphCommand);
  add("run", "Run journeys on a file of messages (virtual time)",
      juncture::tools::AddRunCommand);
  add("explain", "Show everything the engine considered for one customer, in order",
      juncture::tools::AddExplainCommand);
  add("serve", "Decide on messages from NATS and publish decisions and actions to NATS",
      juncture::tools::AddServeCommand);
  add("test", "Run scenario files: messages in, expected decisions out",
      juncture::tools::AddTestCommand);
  add("report", "Report conversions, uplift, sends and split times from a decision log",
      juncture::tools::AddReportCommand);
  add("lsp", "Language server for editors (Language Server Protocol over stdio)",
      juncture::tools::AddLspCommand);
  add("approve", "Record an approval of a journey's current version",
      juncture::tools::AddApproveCommand);
  add("state", "Inspect, export or import serve's state store",
      juncture::tools::AddStateCommand);
  add("publish", "Publish JSON lines to NATS, each to its customer's partition",
      juncture::tools::AddPublishCommand);
  add("ingest", "Take Segment HTTP API calls (analytics SDKs) and publish them to NATS",
      juncture::tools::AddIngestCommand);
  // A first word that names no command: say so, with the commands there are.
  if (argc > 1 && argv[1][0] != '-') {
    std::vector<std::string> names;
    for (const auto& [cmd, run] : commands) names.push_back(cmd->get_name());
    if (std::find(names.begin(), names.end(), argv[1]) == names.end()) {
      std::string list;
      for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
      std::cerr << "juncture: unknown command '" << argv[1] << "'"
                << juncture::compiler::DidYouMean(argv[1], names) << "\n"
                << "the commands are: " << list << " (juncture --help)\n";
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  for (auto& [cmd, run] : commands) {
    if (cmd->parsed()) return run();
  }
  return 2;
}
