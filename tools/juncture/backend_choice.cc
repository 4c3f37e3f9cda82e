#include <iostream>

#include "juncture/program_options.h"

namespace juncture::tools {

void AddBackendOptions(CLI::App& cmd, BackendOptions& options) {
  cmd.add_flag("--no-jit", options.no_jit, "decide with the reference interpreter");
  cmd.add_option("--jit-opt", options.opt_level, "JIT optimisation level: 0 or 2 (default)")
      ->check(CLI::IsMember({0, 2}));
}

runtime::CompiledProgram MakeProgram(const compiler::Compilation& c, const BackendOptions& o) {
  if (o.no_jit) return compiler::MakeInterpretedProgram(c);
  std::string error;
  runtime::CompiledProgram p = compiler::MakeJitProgram(c, &error, o.opt_level);
  if (!p.evaluator) std::cerr << "juncture: the JIT could not compile the program: " << error << "\n";
  return p;
}

}  // namespace juncture::tools
