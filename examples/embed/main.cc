// Juncture inside a C++ program (docs/embedding.md): compile a journey from strings,
// feed one customer's messages to an engine, print its decisions. Virtual time: the
// messages' timestamps are the clock, and AdvanceTo plays the waits out.
//
//   embed_example            decide with JIT-compiled code (LLVM)
//   embed_example --no-jit   decide with the reference interpreter
#include <iostream>
#include <string>
#include <string_view>

#include "juncture/compiler/backend.h"  // MakeInterpretedProgram (Juncture::compiler)
#include "juncture/compiler/jit.h"      // MakeJitProgram (Juncture::jit)
#include "juncture/compiler/compiler.h"  // CompileSources
#include "juncture/runtime/runtime.h"    // Engine, DecisionSink

namespace compiler = juncture::compiler;
namespace runtime = juncture::runtime;

// A program is one or more files; these would usually live in a folder of .jny files.
constexpr const char* kShop = R"(
event cart_updated { cart_value: float }
event purchase { order_id: string }
profile { email_opt_in: bool = false }
channel email { consent profile.email_opt_in }
)";

constexpr const char* kJourney = R"(
journey cart_rescue {
  on cart_updated when event.cart_value >= 50
  wait 30m
  send email "cart_reminder" { value: round(event.cart_value) }
  wait until purchase within 1d {
    send email "thank_you" { order: event.order_id }
  }
}
)";

// Segment messages, as JSON lines; the last one is not JSON at all.
constexpr const char* kMessages[] = {
    R"({"type":"identify","messageId":"i1","userId":"ana","timestamp":"2026-12-01T09:00:00Z","traits":{"email_opt_in":true}})",
    R"({"type":"track","event":"cart_updated","messageId":"m1","userId":"ana","timestamp":"2026-12-01T10:00:00Z","properties":{"cart_value":120}})",
    R"({"type":"track","event":"purchase","messageId":"m2","userId":"ana","timestamp":"2026-12-01T18:00:00Z","properties":{"order_id":"o-1"}})",
    R"(this is not a message)",
};

// The engine's output: decisions as JSON lines, and messages it could not use.
class PrintingSink : public runtime::DecisionSink {
 public:
  void OnDecision(const runtime::Decision& d) override { std::cout << d.ToJson() << "\n"; }
  void OnDeadLetter(std::string_view message, const std::string& reason) override {
    std::cout << "dead letter (" << reason << "): " << message << "\n";
  }
};

int main(int argc, char** argv) {
  const bool jit = !(argc > 1 && std::string_view(argv[1]) == "--no-jit");

  auto compilation = compiler::CompileSources(
      {{"shop.jny", kShop}, {"cart_rescue.jny", kJourney}}, compiler::CompileOptions{});
  if (!compilation->ok()) {  // file:line:col: error: ... with a caret
    std::cerr << compilation->FormatDiagnostics(compiler::DiagnosticFormat::kText);
    return 1;
  }
  // Failures are a juncture::Status: a code and a one-line message.
  juncture::Result<runtime::CompiledProgram> program =
      jit ? compiler::MakeJitProgram(*compilation) : compiler::MakeInterpretedProgram(*compilation);
  if (!program.ok()) {
    std::cerr << "the program cannot run: " << program.status().ToString() << "\n";
    return 1;
  }

  runtime::Engine engine(*std::move(program));
  PrintingSink sink;
  for (const char* message : kMessages) engine.Process(message, sink);
  // Nothing more comes in: run the clock on a day so that every wait ends.
  engine.AdvanceTo(engine.now() + int64_t{24} * 3600 * 1'000'000, sink);

  std::cout << engine.stats().messages << " messages, " << engine.stats().decisions
            << " decisions, " << engine.stats().dead_letters << " dead letter ("
            << engine.evaluator_name() << ")\n";
  return 0;
}
