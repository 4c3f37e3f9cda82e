// The Juncture compiler: .jny sources -> checked, typed IR.
//
// Usage:
//   CompileOptions options;
//   std::unique_ptr<Compilation> c = CompileFiles({"examples/"}, options);
//   if (!c->ok()) std::cerr << c->FormatDiagnostics(DiagnosticFormat::kText);
//
// A Compilation is immutable once returned and may be read from several threads.
// Problems in the sources are diagnostics, never exceptions; I/O problems (an
// unreadable file) are diagnostics too, without a position. (Unlike the rest of the
// API, which reports one juncture::Status: a compilation has many findings, each with
// its place; status() condenses them.)
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "juncture/compiler/diagnostic.h"
#include "juncture/compiler/options.h"
#include "juncture/compiler/source.h"
#include "juncture/status.h"

namespace juncture::compiler {

namespace ast { struct Program; }
namespace ir { struct Program; }
struct SemaResult;

enum class DiagnosticFormat { kText, kJson, kSarif };

class Compilation {
 public:
  ~Compilation();
  Compilation(const Compilation&) = delete;
  Compilation& operator=(const Compilation&) = delete;

  // True if there were no errors (warnings allowed).
  bool ok() const { return ok_; }
  const SourceManager& sources() const { return sources_; }
  // All diagnostics, sorted by file, line and column.
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }
  std::string FormatDiagnostics(DiagnosticFormat format) const;
  // The same as a Status, for callers that handle every failure one way: ok, or an
  // invalid-argument error whose message is the text diagnostics (errors and warnings,
  // `file:line:col: error: ...` with a caret, several lines).
  Status status() const;

  // The checked AST (null if parsing failed) and the IR (null unless ok()).
  const ast::Program* ast() const { return ast_.get(); }
  const SemaResult* sema() const { return sema_.get(); }
  const ir::Program* ir() const { return ir_.get(); }
  // Shared ownership of the IR, for back ends that outlive the Compilation.
  std::shared_ptr<const ir::Program> shared_ir() const { return ir_; }

  // Printed forms for `juncture compile --emit ast|ir`; "" if not available.
  std::string PrintAst() const;
  std::string PrintIr() const;

 private:
  friend class CompilationBuilder;
  Compilation();

  SourceManager sources_;
  std::vector<Diagnostic> diagnostics_;
  bool ok_ = false;
  std::unique_ptr<ast::Program> ast_;
  std::unique_ptr<SemaResult> sema_;
  std::shared_ptr<ir::Program> ir_;
};

// Compiles the .jny files named by `paths` (a directory means every .jny file under
// it, recursively, in sorted order) as one program.
std::unique_ptr<Compilation> CompileFiles(const std::vector<std::string>& paths,
                                          const CompileOptions& options);

// Compiles in-memory sources (name, text) as one program; `approvals_json` is the
// ledger's text ("" for none). For tests, fuzzers and embedding.
std::unique_ptr<Compilation> CompileSources(
    const std::vector<std::pair<std::string, std::string>>& sources,
    const CompileOptions& options, const std::string& approvals_json = "");

// The .jny files a list of paths names, in the order CompileFiles reads them. A
// path that does not exist is returned as is (reading it reports the error).
std::vector<std::string> ExpandInputs(const std::vector<std::string>& paths);

}  // namespace juncture::compiler
