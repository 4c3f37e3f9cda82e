#include <fstream>
#include <iostream>
#include <sstream>

#include "ast/ast.h"
#include "ast/formatter.h"
#include "juncture/commands.h"
#include "juncture/compiler/compiler.h"

namespace juncture::tools {
namespace {

struct FmtOptions {
  std::vector<std::string> paths;
  bool check = false;
};

// Prints each file in canonical form. Comments are not kept, so fmt never rewrites
// files in place; --check reports the files whose layout differs.
int RunFmt(const FmtOptions& o) {
  auto c = compiler::CompileFiles(o.paths, compiler::CompileOptions{});
  if (!c->ast()) {
    std::cerr << c->FormatDiagnostics(compiler::DiagnosticFormat::kText);
    return 1;
  }
  int differing = 0;
  for (const compiler::ast::Module& m : c->ast()->modules) {
    const compiler::SourceFile& file = c->sources().file(m.file);
    std::string formatted = compiler::ast::FormatProgram(m);
    if (o.check) {
      if (formatted != file.text) {
        std::cout << file.path << "\n";
        ++differing;
      }
    } else {
      if (c->ast()->modules.size() > 1) std::cout << "// " << file.path << "\n";
      std::cout << formatted;
    }
  }
  return differing > 0 ? 1 : 0;
}

}  // namespace

Runner AddFmtCommand(CLI::App& cmd) {
  auto o = std::make_shared<FmtOptions>();
  cmd.add_option("paths", o->paths, ".jny files or directories")->required();
  cmd.add_flag("--check", o->check, "list files not in canonical form; exit 1 if any");
  return [o] { return RunFmt(*o); };
}

}  // namespace juncture::tools
