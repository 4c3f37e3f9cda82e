// juncture explain PROGRAM... --events FILE --customer C [--journey J] [--until T]
//                  [--format text|json]
// Why a customer got what they got, or nothing: replays the messages as `juncture run`
// does (virtual time) and prints, for that customer only, everything the engine
// considered, in order (juncture/runtime/trace.h). The same engine decides; the
// program is compiled for explaining, so each header clause shows its own value.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <set>

#include "base/suggest.h"
#include "juncture/commands.h"
#include "juncture/compiler/backend.h"
#include "juncture/compiler/compiler.h"
#include "juncture/program_options.h"
#include "juncture/runtime/event.h"
#include "juncture/runtime/runtime.h"
#include "juncture/runtime/trace.h"

namespace juncture::tools {
namespace {

struct ExplainOptions {
  ProgramOptions program;
  std::string events = "-";
  std::string customer;
  std::string journey;
  std::string until;
  std::string format = "text";
  BackendOptions backend;
};

// Prints trace entries as they come: indented text, or one JSON object per line.
class Printer : public runtime::TraceSink, public runtime::DecisionSink {
 public:
  Printer(const ExplainOptions& o) : o_(o) {}

  void OnTrace(const runtime::TraceEntry& e) override {
    // --journey: what concerns other journeys goes (messages and dead letters stay).
    if (!o_.journey.empty() && !e.journey.empty() && e.journey != o_.journey) return;
    ++entries_;
    std::string out;
    if (o_.format == "json") {
      out = "{\"at\":\"" + runtime::FormatTimestamp(e.at_us) + "\",\"kind\":";
      runtime::AppendJsonString(runtime::TraceKindName(e.kind), out);
      out += ",\"depth\":" + std::to_string(e.depth) + ",\"journey\":";
      runtime::AppendJsonString(e.journey, out);
      out += ",\"step\":";
      runtime::AppendJsonString(e.step, out);
      out += ",\"line\":" + std::to_string(e.line) + ",\"text\":";
      runtime::AppendJsonString(e.text, out);
      out += "}\n";
    } else {
      out = Text(e);
    }
    std::cout << out;
  }
  void OnDecision(const runtime::Decision&) override {}
  void OnDeadLetter(std::string_view, const std::string&) override {}

  uint64_t entries() const { return entries_; }

 private:
  // depth 0: `TIME  text`; deeper: indented, a journey named at depth 1, a step by
  // its id, the source line at the end.
  static std::string Text(const runtime::TraceEntry& e) {
    std::string out;
    if (e.depth == 0) {
      // A message refused before any time was known has none.
      out = (e.at_us == 0 ? std::string("(no time yet)           ") : runtime::FormatTimestamp(e.at_us)) + "  ";
      if (!e.journey.empty()) out += std::string(e.journey) + ": ";
    } else {
      out.assign(static_cast<size_t>(e.depth) * 2, ' ');
      switch (e.kind) {
        case runtime::TraceKind::kDecision:
          out += "=> " + std::string(e.journey) + (e.step.empty() ? "" : " " + std::string(e.step)) + ": ";
          break;
        case runtime::TraceKind::kEntry:
        case runtime::TraceKind::kExit:
        case runtime::TraceKind::kResume:
        case runtime::TraceKind::kGoal:
          if (!e.journey.empty()) out += std::string(e.journey) + " ";
          break;
        case runtime::TraceKind::kStep: out += std::string(e.step) + ": "; break;
        default: break;
      }
    }
    out += e.text;
    if (e.line != 0) out += "  (line " + std::to_string(e.line) + ")";
    out += '\n';
    return out;
  }

  const ExplainOptions& o_;
  uint64_t entries_ = 0;
};

int RunExplain(const ExplainOptions& o) {
  if (o.customer.empty()) {
    std::cerr << "juncture explain: --customer wants a customer id (a userId or anonymousId)\n";
    return 2;
  }
  if (o.format != "text" && o.format != "json") {
    std::cerr << "juncture explain: --format is text or json, got '" << o.format << "'\n";
    return 2;
  }
  auto options = MakeCompileOptions(o.program, nullptr);
  if (!options) return 2;
  options->warnings.DisableAll();
  options->explain = true;
  auto c = compiler::CompileFiles(o.program.paths, *options);
  if (!c->ok()) {
    std::cerr << c->FormatDiagnostics(compiler::DiagnosticFormat::kText);
    return 1;
  }
  if (c->sources().size() == 0) {
    std::cerr << "juncture explain: no .jny file in";
    for (const std::string& p : o.program.paths) std::cerr << " " << p;
    std::cerr << "\n";
    return 1;
  }
  runtime::CompiledProgram program = MakeProgram(*c, o.backend);
  if (!program.evaluator) return 1;
  if (!o.journey.empty()) {
    std::vector<std::string> names;
    for (const runtime::JourneySpec& j : program.spec->journeys) names.push_back(j.name);
    if (std::find(names.begin(), names.end(), o.journey) == names.end()) {
      std::cerr << "juncture explain: the program has no journey '" << o.journey << "'"
                << compiler::DidYouMean(o.journey, names) << "\n";
      return 2;
    }
  }
  std::ifstream file;
  std::istream* in = &std::cin;
  if (o.events != "-") {
    file.open(o.events, std::ios::binary);
    if (!file) {
      std::cerr << "juncture explain: cannot read " << o.events << "\n";
      return 1;
    }
    in = &file;
  }
  // An ISO-8601 --until ends the replay there: no message decided after it is read.
  int64_t until = 0;
  const bool until_absolute = !o.until.empty() && o.until[0] != '+';
  if (until_absolute && !ParseUntil(o.until, 0, until)) {
    std::cerr << "juncture explain: --until wants an ISO-8601 time or +DURATION, got '"
              << o.until << "'\n";
    return 2;
  }
  const runtime::ProgramSpec& spec = *program.spec;
  runtime::Engine engine(std::move(program));
  Printer printer(o);
  engine.SetTrace(&printer, o.customer);
  std::set<std::string> customers;  // seen, for a customer with no message
  uint64_t messages = 0, theirs = 0, theirs_later = 0;
  bool stopped = false;  // at --until: the rest is only counted
  std::string line;
  while (std::getline(*in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    runtime::Message m;
    if (runtime::DecodeMessage(spec, line, m).ok()) {
      const int64_t at = m.has_received ? m.received_us : m.time_us;
      stopped |= until_absolute && at > until;
    }
    if (stopped) {
      theirs_later += m.customer == o.customer;
      continue;
    }
    // A refused message still names its customer when it could be read.
    if (customers.size() < 1000 && !m.customer.empty()) customers.insert(m.customer);
    if (m.customer == o.customer) ++theirs;
    ++messages;
    engine.Process(line, printer);
  }
  engine.AdvanceTo(engine.now(), printer);
  if (!o.until.empty()) {
    if (!until_absolute && !ParseUntil(o.until, engine.now(), until)) {
      std::cerr << "juncture explain: --until wants an ISO-8601 time or +DURATION, got '"
                << o.until << "'\n";
      return 2;
    }
    engine.AdvanceTo(until, printer);
  }
  if (theirs == 0 && theirs_later > 0) {
    std::cerr << "juncture explain: customer '" << o.customer << "' has no message before "
              << o.until << " (" << theirs_later << " after it)\n";
    return 1;
  }
  if (theirs == 0) {
    std::vector<std::string> seen(customers.begin(), customers.end());
    std::cerr << "juncture explain: no message of customer '" << o.customer << "' in "
              << (o.events == "-" ? "the input" : o.events) << " (" << messages << " messages)"
              << compiler::DidYouMean(o.customer, seen) << "\n";
    return 1;
  }
  // What is still to come for them when the replay ends.
  std::vector<runtime::Engine::PendingGroup> pending = engine.PendingSummary(o.customer);
  std::erase_if(pending, [&](const auto& g) { return !o.journey.empty() && g.journey != o.journey; });
  const std::string end = runtime::FormatTimestamp(engine.now());
  if (o.format == "json") {
    for (const auto& g : pending) {
      std::string out = "{\"at\":\"" + end + "\",\"kind\":\"pending\",\"depth\":1,\"journey\":";
      runtime::AppendJsonString(g.journey, out);
      out += ",\"step\":";
      runtime::AppendJsonString(g.step, out);
      out += ",\"line\":0,\"text\":";
      runtime::AppendJsonString(g.what + ": due " + runtime::FormatTimestamp(g.next_due_us), out);
      std::cout << out << "}\n";
    }
    return 0;
  }
  const std::string in_journey = o.journey.empty() ? "" : " in " + o.journey;
  std::cout << end << "  the replay ends"
            << (pending.empty() ? ": nothing pending for " + o.customer + in_journey
                                : ", still pending for " + o.customer + in_journey + ":")
            << "\n";
  for (const auto& g : pending) {
    std::cout << "  " << g.journey << (g.step.empty() ? "" : " " + g.step) << " " << g.what
              << ": due " << runtime::FormatTimestamp(g.next_due_us) << "\n";
  }
  return 0;
}

}  // namespace

Runner AddExplainCommand(CLI::App& cmd) {
  auto o = std::make_shared<ExplainOptions>();
  AddProgramOptions(cmd, o->program);
  cmd.add_option("--events", o->events, "JSON lines of track/identify messages, - for stdin")
      ->required();
  cmd.add_option("--customer", o->customer, "the customer to explain (userId or anonymousId)")
      ->required();
  cmd.add_option("--journey", o->journey, "only what concerns this journey");
  cmd.add_option("--until", o->until,
                 "stop at this ISO-8601 time (messages after it are not read), or run "
                 "virtual time on by +DURATION after the last message");
  cmd.add_option("--format", o->format, "text (default) or json (one object per line)");
  AddBackendOptions(cmd, o->backend);
  return [o] { return RunExplain(*o); };
}

}  // namespace juncture::tools
