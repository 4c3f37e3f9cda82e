// The compiler driver: load sources, parse every file, check the program, lower it
// to IR and verify the IR.
#include "juncture/compiler/compiler.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "ast/ast.h"
#include "ast/printer.h"
#include "ir/ir.h"
#include "ir/join.h"
#include "ir/lower.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "parse/parser.h"
#include "sema/sema.h"

namespace juncture::compiler {

namespace fs = std::filesystem;

Compilation::Compilation() = default;
Compilation::~Compilation() = default;

std::string Compilation::FormatDiagnostics(DiagnosticFormat format) const {
  switch (format) {
    case DiagnosticFormat::kJson: return FormatJson(sources_, diagnostics_);
    case DiagnosticFormat::kSarif: return FormatSarif(sources_, diagnostics_);
    default: return FormatText(sources_, diagnostics_);
  }
}

Status Compilation::status() const {
  if (ok_) return OkStatus();
  return InvalidArgumentError(FormatText(sources_, diagnostics_));
}

std::string Compilation::PrintAst() const {
  return ast_ ? ast::PrintAst(*ast_, sources_) : "";
}

std::string Compilation::PrintIr() const { return ir_ ? ir::PrintProgram(*ir_) : ""; }

// Builds a Compilation step by step; the only code that writes into one.
class CompilationBuilder {
 public:
  CompilationBuilder(const CompileOptions& options)
      : c_(new Compilation()), sink_(options.warnings), explain_(options.explain) {}

  void AddSource(std::string name, std::string text) {
    c_->sources_.AddFile(std::move(name), std::move(text));
  }

  void AddFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    // An empty file is a file without declarations, not an error (`<<` of an empty
    // stream buffer sets failbit: look before copying).
    const bool empty = in && in.peek() == std::ifstream::traits_type::eof() && !in.bad();
    if (!in || (!empty && !(text << in.rdbuf())) || in.bad()) {
      std::error_code ec;
      bool is_dir = fs::is_directory(path, ec);
      sink_.Error(ErrorCode::kSource, {}, "cannot read '" + path + "': " +
                          (is_dir ? std::string("is a directory") : std::strerror(errno)));
      return;
    }
    AddSource(path, text.str());
  }

  // `approvals_json` empty: no ledger.
  void ReadLedger(const std::string& name, const std::string& approvals_json) {
    if (approvals_json.empty()) return;
    ApprovalLedger one;
    if (Status s = one.Parse(approvals_json); !s.ok()) {
      sink_.Error(ErrorCode::kApprovals, {}, "approvals ledger '" + name + "': " + s.message());
      return;
    }
    for (const ApprovalRecord& r : one.records()) ledger_.Add(r);
  }

  std::unique_ptr<Compilation> Finish() {
    auto program = std::make_unique<ast::Program>();
    bool parsed = true;
    for (FileId f = 0; f < c_->sources_.size(); ++f) {
      std::optional<ast::Module> m = ParseFile(c_->sources_, f, sink_);
      if (m) {
        program->modules.push_back(std::move(*m));
      } else {
        parsed = false;
      }
    }
    // Syntax errors stop here: checking half a program would only add noise.
    if (parsed && !sink_.has_errors()) {
      c_->sema_ = std::make_unique<SemaResult>();
      SemaOptions options{&ledger_};
      if (Analyze(*program, options, sink_, *c_->sema_)) {
        c_->ir_ = ir::Lower(*c_->sema_);
        c_->ir_->explain = explain_;
        ir::JoinClauses(*c_->ir_);  // the per-event tests, checked by the verifier below
        std::vector<std::string> problems;
        if (!ir::Verify(*c_->ir_, problems)) {
          // A verifier failure is a compiler bug, reported rather than crashed on.
          for (const std::string& p : problems) sink_.Error(ErrorCode::kInternal, {}, "internal error: IR: " + p);
          c_->ir_.reset();
        }
      }
      c_->ast_ = std::move(program);
    }
    sink_.SortByLocation();
    c_->diagnostics_ = sink_.diagnostics();
    c_->ok_ = !sink_.has_errors();
    return std::unique_ptr<Compilation>(c_.release());
  }

 private:
  std::unique_ptr<Compilation> c_;
  DiagnosticSink sink_;
  bool explain_ = false;
  ApprovalLedger ledger_;
};

std::vector<std::string> ExpandInputs(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const std::string& p : paths) {
    std::error_code ec;
    if (!fs::is_directory(p, ec)) {
      out.push_back(p);
      continue;
    }
    std::vector<std::string> found;
    for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      if (it->is_regular_file(ec) && it->path().extension() == ".jny") {
        found.push_back(it->path().string());
      }
    }
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

namespace {

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::unique_ptr<Compilation> CompileFiles(const std::vector<std::string>& paths,
                                          const CompileOptions& options) {
  CompilationBuilder b(options);
  for (const std::string& f : ExpandInputs(paths)) b.AddFile(f);
  if (!options.approvals_path.empty()) {
    std::error_code ec;
    if (!fs::exists(options.approvals_path, ec)) {
      b.ReadLedger(options.approvals_path, "{");  // reports "cannot parse"
    } else {
      b.ReadLedger(options.approvals_path, ReadText(options.approvals_path));
    }
  } else {
    std::set<std::string> dirs;
    for (const std::string& p : paths) {
      std::error_code ec;
      fs::path dir = fs::is_directory(p, ec) ? fs::path(p) : fs::path(p).parent_path();
      dirs.insert((dir.empty() ? fs::path(".") : dir).lexically_normal().string());
    }
    for (const std::string& d : dirs) {
      fs::path ledger = fs::path(d) / "approvals.json";
      std::error_code ec;
      if (fs::exists(ledger, ec)) b.ReadLedger(ledger.string(), ReadText(ledger.string()));
    }
  }
  return b.Finish();
}

std::unique_ptr<Compilation> CompileSources(
    const std::vector<std::pair<std::string, std::string>>& sources,
    const CompileOptions& options, const std::string& approvals_json) {
  CompilationBuilder b(options);
  for (const auto& [name, text] : sources) b.AddSource(name, text);
  b.ReadLedger("approvals.json", approvals_json);
  return b.Finish();
}

}  // namespace juncture::compiler
