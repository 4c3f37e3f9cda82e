// libFuzzer entry point: parse and check arbitrary bytes as a one-file program.
// Build: cmake -DJUNCTURE_BUILD_FUZZERS=ON -DCMAKE_CXX_COMPILER=clang++-14 ...
// Run:   build-fuzz/tests/fuzz/fuzz_parse_check tests/fuzz/corpus -max_total_time=60
// Every crash found becomes a golden case tests/golden/lint/issue_<n>.jny.
#include <cstddef>
#include <cstdint>
#include <string>

#include "juncture/compiler/compiler.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto c = juncture::compiler::CompileSources({{"fuzz.jny", text}},
                                              juncture::compiler::CompileOptions{});
  // Printing exercises the formatters on whatever survived.
  (void)c->FormatDiagnostics(juncture::compiler::DiagnosticFormat::kText);
  (void)c->PrintIr();
  return 0;
}
