// The ORC JIT that runs generated code, built like LLVM's KaleidoscopeJIT on top of
// LLJIT: the stdlib entry points (stdlib::FindEntryPoint) and the code generator's C
// helpers (codegen/runtime_helpers.h) are absolute symbols of the main JITDylib, the
// host process's symbols (memcmp, fmod) are reachable, and every module passes
// through an IRTransformLayer that runs the new pass manager's pipeline for the
// chosen level (none at 0).
//
// Each module gets a JITDylib of its own, so that every program version can name its
// functions jn_expr_<id>; its ResourceTracker identifies it for Lookup and Remove.
//
// Thread-safe: AddModule, Lookup and Remove may be called from any thread; they are
// serialised (code is compiled on the thread that looks a module up first).
// Errors are llvm::Error; callers outside compiler/jit convert them at their edge.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "llvm/ExecutionEngine/Orc/Core.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/ExecutionEngine/Orc/ThreadSafeModule.h"
#include "llvm/IR/DataLayout.h"
#include "llvm/Support/Error.h"
#include "llvm/Target/TargetMachine.h"

namespace juncture::compiler::jit {

class Jit {
 public:
  // A JIT for the host, optimising at `opt_level` (0: none, 1..3: O1..O3). Fails if
  // the host target cannot be initialised or the JIT cannot be built.
  static llvm::Expected<std::unique_ptr<Jit>> Create(int opt_level);

  Jit(const Jit&) = delete;
  Jit& operator=(const Jit&) = delete;
  // Ends the session (LLJIT's destructor), freeing all code.
  ~Jit();

  // What modules given to AddModule must be built for.
  const llvm::DataLayout& data_layout() const { return lljit_->getDataLayout(); }
  const llvm::Triple& triple() const { return lljit_->getTargetTriple(); }
  int opt_level() const { return opt_level_; }

  // Adds `module` in a new JITDylib; nothing is compiled until a lookup. The tracker
  // names the module for Lookup and Remove.
  llvm::Expected<llvm::orc::ResourceTrackerSP> AddModule(llvm::orc::ThreadSafeModule module);

  // The address of `name` (unmangled) in the module of `tracker`, compiling the module
  // on first use. LookupAll resolves several names in one go (one compile).
  llvm::Expected<llvm::orc::ExecutorAddr> Lookup(const llvm::orc::ResourceTrackerSP& tracker,
                                                 llvm::StringRef name);
  llvm::Expected<std::vector<llvm::orc::ExecutorAddr>> LookupAll(
      const llvm::orc::ResourceTrackerSP& tracker, const std::vector<std::string>& names);

  // Frees the module's code and its JITDylib. Its functions must not run any more.
  llvm::Error Remove(llvm::orc::ResourceTrackerSP tracker);

 private:
  Jit(std::unique_ptr<llvm::orc::LLJIT> lljit, std::unique_ptr<llvm::TargetMachine> tm,
      int opt_level);
  llvm::Error DefineRuntimeSymbols();
  void Optimize(llvm::Module& module);

  std::unique_ptr<llvm::orc::LLJIT> lljit_;
  std::unique_ptr<llvm::TargetMachine> tm_;  // for the optimiser's cost model
  int opt_level_;
  std::mutex mu_;
  uint64_t next_dylib_ = 0;  // GUARDED_BY(mu_)
};

}  // namespace juncture::compiler::jit
