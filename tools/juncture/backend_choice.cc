#include <iostream>

#include "juncture/program_options.h"
#include "juncture/runtime/event.h"

namespace juncture::tools {

bool ParseUntil(const std::string& text, int64_t last, int64_t& out) {
  if (text.empty()) return false;
  if (text[0] != '+') return runtime::ParseTimeValue(text, out);  // a date alone: its midnight UTC
  int64_t total = 0, number = 0;
  bool digits = false;
  for (size_t i = 1; i < text.size(); ++i) {
    char c = text[i];
    if (c >= '0' && c <= '9') {
      number = number * 10 + (c - '0');
      digits = true;
      if (number > (int64_t{1} << 40)) return false;
      continue;
    }
    int64_t unit = c == 's' ? 1 : c == 'm' ? 60 : c == 'h' ? 3600 : c == 'd' ? 86400
                 : c == 'w' ? 604800 : 0;
    if (unit == 0 || !digits) return false;
    total += number * unit * 1'000'000;
    number = 0;
    digits = false;
  }
  if (digits) return false;
  out = last + total;
  return true;
}

void AddBackendOptions(CLI::App& cmd, BackendOptions& options) {
  cmd.add_flag("--no-jit", options.no_jit, "decide with the reference interpreter");
  cmd.add_option("--jit-opt", options.opt_level, "JIT optimisation level: 0 or 2 (default)")
      ->check(CLI::IsMember({0, 2}));
}

runtime::CompiledProgram MakeProgram(const compiler::Compilation& c, const BackendOptions& o) {
  if (o.no_jit) return *compiler::MakeInterpretedProgram(c);
  Result<runtime::CompiledProgram> p = compiler::MakeJitProgram(c, o.opt_level);
  if (p.ok()) return *std::move(p);
  std::cerr << "juncture: the JIT could not compile the program: " << p.status().message() << "\n";
  return {};
}

}  // namespace juncture::tools
