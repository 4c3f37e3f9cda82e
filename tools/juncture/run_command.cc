// juncture run PROGRAM... --events FILE|- [--until T] [--dead-letter FILE] [--state-dir DIR]
//              [--max-...]
// Embedded, no server: virtual time from the messages' timestamps (docs/language.md);
// decisions as JSON lines on stdout, a summary on stderr. Dead letters are JSON lines
// too, each with its reason and the message (as base64 when it is not UTF-8;
// docs/limits.md). The engine's bounds are options (limit_options.h).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "juncture/commands.h"
#include "juncture/compiler/backend.h"
#include "juncture/compiler/compiler.h"
#include "juncture/limit_options.h"
#include "juncture/program_options.h"
#include "juncture/runtime/event.h"
#include "juncture/runtime/runtime.h"
#include "juncture/store/state_store.h"

namespace juncture::tools {
namespace {

// The position a run leaves in a state store: it has no input position to resume.
constexpr const char* kRunPosition = "run";

struct RunOptions {
  ProgramOptions program;
  std::string events = "-";
  std::string until;
  std::string dead_letter;
  std::string state_dir;  // resume from and save to a state store ("" = none)
  BackendOptions backend;
  runtime::EngineLimits limits;
};

// Prints decisions to stdout and writes dead letters as JSON lines.
class StreamSink : public runtime::DecisionSink {
 public:
  explicit StreamSink(std::ostream* dead) : dead_(dead) {}
  void OnDecision(const runtime::Decision& d) override {
    std::string line = d.ToJson();
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stdout);
  }
  void OnDeadLetter(std::string_view message, const std::string& reason) override {
    if (!dead_) return;
    *dead_ << runtime::DeadLetterJson(message, reason) << "\n";
  }

 private:
  std::ostream* dead_;
};

int RunRun(const RunOptions& o) {
  auto options = MakeCompileOptions(o.program, nullptr);
  if (!options) return 2;
  options->warnings.DisableAll();
  auto c = compiler::CompileFiles(o.program.paths, *options);
  if (!c->ok()) {
    std::cerr << c->FormatDiagnostics(compiler::DiagnosticFormat::kText);
    return 1;
  }
  std::ifstream file;
  std::istream* in = &std::cin;
  if (o.events != "-") {
    file.open(o.events, std::ios::binary);
    if (!file) {
      std::cerr << "juncture run: cannot read " << o.events << "\n";
      return 1;
    }
    in = &file;
  }
  std::ofstream dead;
  if (!o.dead_letter.empty()) {
    dead.open(o.dead_letter, std::ios::binary | std::ios::trunc);
    if (!dead) {
      std::cerr << "juncture run: cannot write " << o.dead_letter << "\n";
      return 1;
    }
  }
  runtime::CompiledProgram program = MakeProgram(*c, o.backend);
  if (!program.evaluator) return 1;
  runtime::Engine engine(std::move(program), o.limits);
  std::unique_ptr<store::StateStore> state;
  if (!o.state_dir.empty()) {
    Result<std::unique_ptr<store::StateStore>> opened = store::StateStore::Open(o.state_dir, {});
    Result<std::string> loaded = opened.ok() ? (*opened)->Load(engine) : opened.status();
    if (!loaded.ok()) {
      std::cerr << "juncture run: " << loaded.status().message() << "\n";
      return 1;
    }
    state = *std::move(opened);
    const std::string& position = *loaded;
    if (!position.empty() && position != kRunPosition && position != "core") {
      // A JetStream checkpoint: a run would leave a state that no longer matches it.
      std::cerr << "juncture run: " << o.state_dir << " is the checkpoint of serve --jetstream "
                << "(position \"" << position << "\"); run on a copy (juncture state export "
                << "and import)\n";
      return 1;
    }
    engine.TrackChanges(true);
  }
  StreamSink sink(dead.is_open() ? &dead : nullptr);
  auto start = std::chrono::steady_clock::now();
  std::string line;
  std::vector<double> latency_us;  // per message: decode + timers + decide (+ printing)
  uint64_t blank_lines = 0;  // empty or only JSON whitespace: not messages, but reported
  while (std::getline(*in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) {
      ++blank_lines;
      continue;
    }
    auto t0 = std::chrono::steady_clock::now();
    engine.Process(line, sink);
    latency_us.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  engine.AdvanceTo(engine.now(), sink);
  if (!o.until.empty()) {
    int64_t until = 0;
    if (!ParseUntil(o.until, engine.now(), until)) {
      std::cerr << "juncture run: --until wants an ISO-8601 time or +DURATION, got '"
                << o.until << "'\n";
      return 2;
    }
    engine.AdvanceTo(until, sink);
  }
  std::fflush(stdout);
  if (state) {
    Status saved = state->Commit(engine, kRunPosition, true);
    if (saved.ok()) saved = state->Flush();
    if (!saved.ok()) {
      std::cerr << "juncture run: " << saved.message() << "\n";
      return 1;
    }
  }
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  const runtime::EngineStats& s = engine.stats();
  std::cerr << "juncture run: " << s.messages << " messages (" << s.dead_letters
            << " dead letters, " << s.ignored << " ignored";
  if (s.ignored_calls) std::cerr << ", " << s.ignored_calls << " group/alias calls not used";
  if (s.duplicates) std::cerr << ", " << s.duplicates << " duplicates (--dedup-window)";
  std::cerr << "), ";
  if (blank_lines) std::cerr << blank_lines << " blank lines skipped, ";
  std::cerr << s.decisions << " decisions";
  for (const auto& [outcome, n] : s.by_outcome) std::cerr << ", " << outcome << " " << n;
  if (s.div_by_zero) std::cerr << ", " << s.div_by_zero << " divisions by zero";
  std::cerr << LimitCounters(s);
  std::cerr << "; " << ms << " ms";
  if (s.messages > 0) std::cerr << " (" << (ms * 1000.0 / double(s.messages)) << " us/message)";
  std::cerr << " [" << engine.evaluator_name() << "]\n";
  if (!latency_us.empty()) {
    std::sort(latency_us.begin(), latency_us.end());
    auto pct = [&](double p) {
      return latency_us[std::min(latency_us.size() - 1, static_cast<size_t>(p * latency_us.size()))];
    };
    std::fprintf(stderr, "juncture run: per message p50 %.1f us, p99 %.1f us, max %.1f us\n",
                 pct(0.5), pct(0.99), latency_us.back());
  }
  // What did not happen, so that nobody has to guess: the events the program does not
  // declare, and what is still waiting when the input (and --until) ended.
  if (!engine.ignored_events().empty()) {
    std::cerr << "juncture run: ignored, not declared by the program:";
    const char* sep = " ";
    for (const auto& [name, n] : engine.ignored_events()) {
      std::cerr << sep << name << " (" << n << ")";
      sep = ", ";
    }
    std::cerr << "\n";
  }
  std::vector<runtime::Engine::PendingGroup> pending = engine.PendingSummary();
  if (!pending.empty()) {
    std::cerr << "juncture run: still pending at " << runtime::FormatTimestamp(engine.now())
              << " (--until runs time on):\n";
    for (const auto& g : pending) {
      std::cerr << "  " << g.journey << (g.step.empty() ? "" : " " + g.step) << " " << g.what
                << ": " << g.count << (g.count == 1 ? " customer" : " customers")
                << ", the first due " << runtime::FormatTimestamp(g.next_due_us) << "\n";
    }
  }
  return 0;
}

}  // namespace

Runner AddRunCommand(CLI::App& cmd) {
  auto o = std::make_shared<RunOptions>();
  AddProgramOptions(cmd, o->program);
  cmd.add_option("--events", o->events, "JSON lines of track/identify messages, - for stdin");
  cmd.add_option("--until", o->until, "run virtual time to this ISO-8601 time or +DURATION");
  cmd.add_option("--dead-letter", o->dead_letter, "write bad messages here (JSON lines)");
  cmd.add_option("--state-dir", o->state_dir,
                 "start from the state store in this directory (if any) and save the state "
                 "there at the end");
  AddBackendOptions(cmd, o->backend);
  AddLimitOptions(cmd, o->limits, /*virtual_time=*/true);
  return [o] { return RunRun(*o); };
}

}  // namespace juncture::tools
