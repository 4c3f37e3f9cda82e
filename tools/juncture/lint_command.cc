#include <iostream>

#include "juncture/commands.h"
#include "juncture/compiler/compiler.h"
#include "juncture/program_options.h"

namespace juncture::tools {

void AddProgramOptions(CLI::App& cmd, ProgramOptions& options) {
  cmd.add_option("paths", options.paths, ".jny files or directories (recursively)")
      ->required();
  cmd.add_option("-W", options.warning_flags,
                 "-Wno-<code> disables a warning, -W<code> enables it, -Werror makes "
                 "warnings errors")
      ->allow_extra_args(false);
  cmd.add_option("--approvals", options.approvals,
                 "approvals ledger (default: approvals.json beside the scripts)");
}

std::optional<compiler::CompileOptions> MakeCompileOptions(const ProgramOptions& options,
                                                           bool* werror) {
  compiler::CompileOptions out;
  out.approvals_path = options.approvals;
  for (const std::string& flag : options.warning_flags) {
    if (flag == "error") {
      if (werror) *werror = true;
      continue;
    }
    bool off = flag.rfind("no-", 0) == 0;
    std::string name = off ? flag.substr(3) : flag;
    auto code = compiler::WarnCodeFromName(name);
    if (!code) {
      std::cerr << "juncture: unknown warning '" << name << "' in -W" << flag << "\n";
      return std::nullopt;
    }
    off ? out.warnings.Disable(*code) : out.warnings.Enable(*code);
  }
  return out;
}

namespace {

struct LintOptions {
  ProgramOptions program;
  std::string format = "text";
};

int RunLint(const LintOptions& o) {
  bool werror = false;
  auto options = MakeCompileOptions(o.program, &werror);
  if (!options) return 2;
  auto c = compiler::CompileFiles(o.program.paths, *options);
  int errors = 0, warnings = 0;
  for (const auto& d : c->diagnostics()) {
    errors += d.severity == compiler::Severity::kError;
    warnings += d.severity == compiler::Severity::kWarning;
  }
  if (o.format == "json") {
    std::cout << c->FormatDiagnostics(compiler::DiagnosticFormat::kJson);
  } else if (o.format == "sarif") {
    std::cout << c->FormatDiagnostics(compiler::DiagnosticFormat::kSarif);
  } else {
    std::cerr << c->FormatDiagnostics(compiler::DiagnosticFormat::kText);
    std::cerr << c->sources().size() << " file(s): " << errors << " error(s), " << warnings
              << " warning(s)\n";
  }
  if (errors > 0 || (werror && warnings > 0)) return 1;
  return 0;
}

}  // namespace

Runner AddLintCommand(CLI::App& cmd) {
  auto o = std::make_shared<LintOptions>();
  AddProgramOptions(cmd, o->program);
  cmd.add_option("--format", o->format, "text (default), json or sarif")
      ->check(CLI::IsMember({"text", "json", "sarif"}));
  return [o] { return RunLint(*o); };
}

}  // namespace juncture::tools
