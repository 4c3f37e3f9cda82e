#include <iostream>

#include "juncture/commands.h"
#include "juncture/compiler/compiler.h"
#include "juncture/program_options.h"

namespace juncture::tools {
namespace {

struct CompileCommandOptions {
  ProgramOptions program;
  std::string emit = "ir";
};

int RunCompile(const CompileCommandOptions& o) {
  auto options = MakeCompileOptions(o.program, nullptr);
  if (!options) return 2;
  auto c = compiler::CompileFiles(o.program.paths, *options);
  std::cerr << c->FormatDiagnostics(compiler::DiagnosticFormat::kText);
  if (!c->ok()) return 1;
  std::cout << (o.emit == "ast" ? c->PrintAst() : c->PrintIr());
  return 0;
}

}  // namespace

Runner AddCompileCommand(CLI::App& cmd) {
  auto o = std::make_shared<CompileCommandOptions>();
  AddProgramOptions(cmd, o->program);
  cmd.add_option("--emit", o->emit, "what to print: ast or ir (default)")
      ->check(CLI::IsMember({"ast", "ir"}));
  return [o] { return RunCompile(*o); };
}

}  // namespace juncture::tools
