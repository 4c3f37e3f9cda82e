// Whole decisions, JSON bytes in to decisions out (Engine::Process), with 10, 100
// and 1000 journeys loaded and the SAME triggered set per message (5 journeys on the
// message's event type; the others listen to 19 other event types), on both back
// ends; and the compile time of those programs. Prints one table per measure.
//
// usage: decision_bench [messages=200000] [customers=10000]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "juncture/compiler/backend.h"
#include "juncture/compiler/compiler.h"
#include "juncture/runtime/runtime.h"

namespace {

using namespace juncture;
using Clock = std::chrono::steady_clock;

std::string Program(int journeys) {
  std::string p =
      "profile { country: string = \"\"  tier: string = \"standard\"  email_opt_in: bool = true }\n"
      "channel email { consent profile.email_opt_in }\nchannel push { consent true }\n"
      "channel sms { consent true }\nchannel webhook { consent true }\nchannel in_app { consent true }\n";
  for (int e = 0; e < 20; ++e) {
    p += "event ev" + std::to_string(e) + " { value: float  sku: string = \"\" }\n";
  }
  const char* channels[] = {"email", "push", "sms", "webhook", "in_app"};
  for (int j = 0; j < journeys; ++j) {
    int event = j < 5 ? 0 : 1 + j % 19;  // journeys 0..4 are the triggered set
    p += "journey j" + std::to_string(j) + " { priority " + std::to_string(j % 7) +
         " on ev" + std::to_string(event) + " when event.value >= " + std::to_string(j % 50) +
         " and profile.country in [\"US\", \"CA\", \"GB\"]\n"
         "  reenter always\n"
         "  send " + channels[j % 5] + " \"t" + std::to_string(j) +
         "\" { v: event.value, tier: profile.tier } }\n";
  }
  return p;
}

struct CountSink : runtime::DecisionSink {
  void OnDecision(const runtime::Decision&) override { ++decisions; }
  void OnDeadLetter(std::string_view, const std::string&) override { ++dead; }
  size_t decisions = 0, dead = 0;
};

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

void Decide(int journeys, bool jit, int messages, int customers) {
  auto c = compiler::CompileSources({{"bench.jny", Program(journeys)}}, compiler::CompileOptions{});
  if (!c->ok()) {
    std::fprintf(stderr, "%s", c->FormatDiagnostics(compiler::DiagnosticFormat::kText).c_str());
    std::exit(1);
  }
  std::string error;
  runtime::CompiledProgram program =
      jit ? compiler::MakeJitProgram(*c, &error, 2) : compiler::MakeInterpretedProgram(*c);
  runtime::Engine engine(program);
  CountSink sink;
  // Profiles first (not timed), then the messages.
  for (int u = 0; u < customers; ++u) {
    engine.Process("{\"type\":\"identify\",\"messageId\":\"i" + std::to_string(u) +
                       "\",\"userId\":\"u" + std::to_string(u) +
                       "\",\"timestamp\":\"2026-10-01T08:00:00Z\",\"traits\":{\"country\":\"" +
                       (u % 4 ? "US" : "FR") + "\",\"tier\":\"gold\"}}",
                   sink);
  }
  std::vector<std::string> lines;
  for (int i = 0; i < messages; ++i) {
    char ts[32];
    std::snprintf(ts, sizeof ts, "2026-10-01T09:%02d:%02d.%03dZ", (i / 60000) % 60,
                  (i / 1000) % 60, i % 1000);
    lines.push_back("{\"type\":\"track\",\"event\":\"ev0\",\"messageId\":\"m" + std::to_string(i) +
                    "\",\"userId\":\"u" + std::to_string(i % customers) + "\",\"timestamp\":\"" +
                    ts + "\",\"properties\":{\"value\":" + std::to_string(10 + i % 90) +
                    ",\"sku\":\"sku-" + std::to_string(i % 500) + "\"}}");
  }
  std::vector<double> ns;
  ns.reserve(lines.size());
  auto start = Clock::now();
  for (const std::string& line : lines) {
    auto t0 = Clock::now();
    engine.Process(line, sink);
    ns.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count());
  }
  double total_ms = Ms(Clock::now() - start);
  std::sort(ns.begin(), ns.end());
  auto pct = [&](double p) { return ns[std::min(ns.size() - 1, size_t(p * ns.size()))] / 1000; };
  std::printf("| %4d | %-11s | %7.2f | %7.2f | %7.2f | %9.0f | %6.2f |\n", journeys,
              jit ? "jit" : "interpreter", pct(0.5), pct(0.99), pct(0.999),
              messages / (total_ms / 1000), double(sink.decisions) / messages);
}

void CompileTimes(int journeys) {
  std::string src = Program(journeys);
  auto t0 = Clock::now();
  auto c = compiler::CompileSources({{"bench.jny", src}}, compiler::CompileOptions{});
  double front = Ms(Clock::now() - t0);
  t0 = Clock::now();
  auto interp = compiler::MakeInterpretedProgram(*c);
  double interp_ms = Ms(Clock::now() - t0);
  double jit_ms[2];
  int levels[2] = {0, 2};
  for (int k = 0; k < 2; ++k) {
    std::string error;
    t0 = Clock::now();
    auto p = compiler::MakeJitProgram(*c, &error, levels[k]);
    jit_ms[k] = Ms(Clock::now() - t0);
  }
  std::printf("| %4d | %8.1f | %8.2f | %8.1f | %8.1f |\n", journeys, front, interp_ms,
              jit_ms[0], jit_ms[1]);
}

}  // namespace

int main(int argc, char** argv) {
  int messages = argc > 1 ? std::atoi(argv[1]) : 200000;
  int customers = argc > 2 ? std::atoi(argv[2]) : 10000;
  std::printf("Decisions: %d messages over %d customers, 5 journeys triggered per message\n\n",
              messages, customers);
  std::printf("| journeys | back end | p50 us | p99 us | p99.9 us | msgs/s | decisions/msg |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (int n : {10, 100, 1000}) {
    for (bool jit : {true, false}) Decide(n, jit, messages, customers);
  }
  std::printf("\nCompile time (ms): front end (parse, check, lower), interpreter, JIT O0, JIT O2\n\n");
  std::printf("| journeys | front end | interpreter | JIT O0 | JIT O2 |\n|---|---|---|---|---|\n");
  for (int n : {10, 100, 1000}) CompileTimes(n);
  return 0;
}
