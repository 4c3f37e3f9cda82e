#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "juncture/commands.h"
#include "juncture/compiler/compiler.h"
#include "juncture/program_options.h"
#include "sema/approvals.h"
#include "sema/sema.h"

namespace juncture::tools {
namespace {

struct ApproveOptions {
  ProgramOptions program;
  std::string journey, role, by;
};

std::string NowIso() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::string LedgerPath(const ApproveOptions& o) {
  if (!o.program.approvals.empty()) return o.program.approvals;
  namespace fs = std::filesystem;
  const std::string& first = o.program.paths.front();
  std::error_code ec;
  fs::path dir = fs::is_directory(first, ec) ? fs::path(first) : fs::path(first).parent_path();
  return (dir / "approvals.json").string();
}

// Records that `role` approved the journey's current version (its content hash).
int RunApprove(const ApproveOptions& o) {
  auto options = MakeCompileOptions(o.program, nullptr);
  if (!options) return 2;
  options->warnings.Disable(compiler::WarnCode::kUnapproved);
  auto c = compiler::CompileFiles(o.program.paths, *options);
  if (!c->ok()) {
    std::cerr << c->FormatDiagnostics(compiler::DiagnosticFormat::kText);
    return 1;
  }
  const compiler::JourneyInfo* info = nullptr;
  for (const auto& j : c->sema()->journeys) {
    if (j.decl->name == o.journey) info = &j;
  }
  if (!info) {
    std::cerr << "juncture approve: no journey '" << o.journey << "' in the program\n";
    return 1;
  }
  std::string path = LedgerPath(o);
  compiler::ApprovalLedger ledger;
  std::ifstream in(path);
  if (in) {
    std::stringstream text;
    text << in.rdbuf();
    if (Status s = ledger.Parse(text.str()); !s.ok()) {
      std::cerr << "juncture approve: " << path << ": " << s.message() << "\n";
      return 1;
    }
  }
  if (ledger.Approved(o.journey, info->hash, o.role)) {
    std::cout << o.journey << " version " << info->hash << " is already approved by "
              << o.role << "\n";
    return 0;
  }
  ledger.Add({o.journey, info->hash, o.role, o.by, NowIso()});
  std::ofstream out(path);
  out << ledger.ToJson();
  if (!out) {
    std::cerr << "juncture approve: cannot write " << path << "\n";
    return 1;
  }
  bool required = std::find(info->required_roles.begin(), info->required_roles.end(),
                            o.role) != info->required_roles.end();
  std::cout << "approved " << o.journey << " version " << info->hash << " as " << o.role
            << " (" << path << ")" << (required ? "" : "; note: this role is not required")
            << "\n";
  return 0;
}

}  // namespace

Runner AddApproveCommand(CLI::App& cmd) {
  auto o = std::make_shared<ApproveOptions>();
  AddProgramOptions(cmd, o->program);
  cmd.add_option("--journey", o->journey, "the journey to approve")->required();
  cmd.add_option("--role", o->role, "the role approving (e.g. legal)")->required();
  cmd.add_option("--by", o->by, "who approves (e.g. an email address)")->required();
  return [o] { return RunApprove(*o); };
}

}  // namespace juncture::tools
