// juncture state info|export|import: the state store of `juncture serve` for
// operators (docs/state.md). Export writes the whole state as one snapshot file (the
// format of Engine::SaveSnapshot); import fills a new store from one. Both read the
// state through the program, so an edited program maps it by the reload rule.
// Never on a store a running serve holds: RocksDB's lock refuses it.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "juncture/commands.h"
#include "juncture/program_options.h"
#include "juncture/store/state_store.h"

namespace juncture::tools {
namespace {

struct StateCommandOptions {
  ProgramOptions program;
  BackendOptions backend;
  std::string dir = "juncture-state";
  std::string file;
};

std::optional<runtime::CompiledProgram> Program(StateCommandOptions& o) {
  auto options = MakeCompileOptions(o.program, nullptr);
  if (!options) return std::nullopt;
  options->warnings.DisableAll();
  auto c = compiler::CompileFiles(o.program.paths, *options);
  if (!c->ok()) {
    std::cerr << c->FormatDiagnostics(compiler::DiagnosticFormat::kText);
    return std::nullopt;
  }
  runtime::CompiledProgram p = MakeProgram(*c, o.backend);
  if (!p.evaluator) return std::nullopt;
  return p;
}

int Fail(const std::string& what) {
  std::cerr << "juncture state: " << what << "\n";
  return 1;
}

int Fail(const Status& status) { return Fail(status.message()); }

int RunInfo(StateCommandOptions& o) {
  if (!std::filesystem::exists(o.dir)) return Fail(o.dir + " does not exist");
  Result<std::unique_ptr<store::StateStore>> store = store::StateStore::Open(o.dir, {});
  if (!store.ok()) return Fail(store.status());
  Result<store::StoreCounts> counted = (*store)->Count();
  if (!counted.ok()) return Fail(counted.status());
  const store::StoreCounts& n = *counted;
  std::cout << o.dir << ": " << n.customers << " customers, " << n.timers << " pending timers, "
            << (n.position.empty() ? std::string("no position") : "position \"" + n.position + "\"")
            << ", " << (*store)->disk_bytes() << " bytes on disk, format \"" << n.format
            << "\"\n";
  return 0;
}

int RunExport(StateCommandOptions& o) {
  std::optional<runtime::CompiledProgram> program = Program(o);
  if (!program) return 1;
  if (!std::filesystem::exists(o.dir)) return Fail(o.dir + " does not exist");
  Result<std::unique_ptr<store::StateStore>> store = store::StateStore::Open(o.dir, {});
  if (!store.ok()) return Fail(store.status());
  runtime::Engine engine(std::move(*program));
  Result<std::string> position = (*store)->Load(engine);
  if (!position.ok()) return Fail(position.status());
  std::string bytes = engine.SaveSnapshot(*position);
  if (o.file == "-") {
    std::cout.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  } else {
    std::ofstream out(o.file, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out.good()) return Fail("cannot write " + o.file);
  }
  std::cerr << "juncture state: exported " << engine.customers() << " customers and "
            << engine.pending_timers() << " timers (" << bytes.size() << " bytes)\n";
  return 0;
}

int RunImport(StateCommandOptions& o) {
  std::optional<runtime::CompiledProgram> program = Program(o);
  if (!program) return 1;
  std::ifstream in(o.file, std::ios::binary);
  if (!in) return Fail("cannot read " + o.file);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  runtime::Engine engine(std::move(*program));
  Result<std::string> position = engine.LoadSnapshot(bytes.str());
  if (!position.ok()) return Fail(o.file + ": " + position.status().message());
  Result<std::unique_ptr<store::StateStore>> store = store::StateStore::Open(o.dir, {});
  if (!store.ok()) return Fail(store.status());
  if (!(*store)->empty()) {
    return Fail(o.dir + " already holds state: import only into a new or empty directory");
  }
  engine.TrackChanges(true);
  Status written = (*store)->CommitAll(engine, *position);
  if (written.ok()) written = (*store)->Flush();
  if (!written.ok()) return Fail(written);
  std::cerr << "juncture state: imported " << engine.customers() << " customers and "
            << engine.pending_timers() << " timers into " << o.dir << "\n";
  return 0;
}

}  // namespace

Runner AddStateCommand(CLI::App& app) {
  auto o = std::make_shared<StateCommandOptions>();
  app.require_subcommand(1);
  CLI::App* info = app.add_subcommand("info", "Count what a state store holds");
  CLI::App* exp = app.add_subcommand("export", "Write a state store as one snapshot file");
  CLI::App* imp = app.add_subcommand("import", "Fill a new state store from a snapshot file");
  for (CLI::App* cmd : {info, exp, imp}) {
    cmd->add_option("--state-dir", o->dir, "the state store's directory")->capture_default_str();
  }
  for (CLI::App* cmd : {exp, imp}) {
    AddProgramOptions(*cmd, o->program);
    AddBackendOptions(*cmd, o->backend);
  }
  exp->add_option("--out", o->file, "the snapshot file to write (- for stdout)")->required();
  imp->add_option("--in", o->file, "the snapshot file to read")->required();
  return [o, info, exp] {
    if (info->parsed()) return RunInfo(*o);
    if (exp->parsed()) return RunExport(*o);
    return RunImport(*o);
  };
}

}  // namespace juncture::tools
