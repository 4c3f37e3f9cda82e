#include "jit/jit.h"

#include "codegen/runtime_helpers.h"
#include "juncture/stdlib/declarations.h"
#include "juncture/stdlib/functions.h"
#include "llvm/ExecutionEngine/Orc/IRTransformLayer.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/TargetSelect.h"

namespace juncture::compiler::jit {
namespace {

// The native target is initialised once per process.
llvm::Error InitializeTarget() {
  static const bool ok = [] {
    return !llvm::InitializeNativeTarget() && !llvm::InitializeNativeTargetAsmPrinter();
  }();
  if (!ok) return llvm::createStringError("jit: the native target cannot be initialised");
  return llvm::Error::success();
}

llvm::OptimizationLevel Level(int opt_level) {
  switch (opt_level) {
    case 1: return llvm::OptimizationLevel::O1;
    case 3: return llvm::OptimizationLevel::O3;
    default: return llvm::OptimizationLevel::O2;
  }
}

}  // namespace

llvm::Expected<std::unique_ptr<Jit>> Jit::Create(int opt_level) {
  if (llvm::Error err = InitializeTarget()) return err;
  auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!jtmb) return jtmb.takeError();
  jtmb->setCodeGenOptLevel(opt_level == 0 ? llvm::CodeGenOptLevel::None
                                          : llvm::CodeGenOptLevel::Default);
  auto tm = jtmb->createTargetMachine();
  if (!tm) return tm.takeError();
  auto lljit = llvm::orc::LLJITBuilder()
                   .setJITTargetMachineBuilder(std::move(*jtmb))
                   .setPlatformSetUp(llvm::orc::setUpInactivePlatform)  // no static inits
                   .create();
  if (!lljit) return lljit.takeError();
  std::unique_ptr<Jit> jit(new Jit(std::move(*lljit), std::move(*tm), opt_level));
  if (llvm::Error err = jit->DefineRuntimeSymbols()) return err;
  Jit* self = jit.get();
  jit->lljit_->getIRTransformLayer().setTransform(
      [self](llvm::orc::ThreadSafeModule tsm, const llvm::orc::MaterializationResponsibility&)
          -> llvm::Expected<llvm::orc::ThreadSafeModule> {
        tsm.withModuleDo([self](llvm::Module& m) { self->Optimize(m); });
        return tsm;
      });
  return jit;
}

Jit::Jit(std::unique_ptr<llvm::orc::LLJIT> lljit, std::unique_ptr<llvm::TargetMachine> tm,
         int opt_level)
    : lljit_(std::move(lljit)), tm_(std::move(tm)), opt_level_(opt_level) {}

Jit::~Jit() = default;  // ~LLJIT ends the ExecutionSession

// The stdlib's entry points (every symbol the declarations name) and our helpers.
llvm::Error Jit::DefineRuntimeSymbols() {
  llvm::orc::SymbolMap symbols;
  auto add = [&](std::string_view name, const void* address) {
    symbols[lljit_->mangleAndIntern(llvm::StringRef(name.data(), name.size()))] =
        llvm::orc::ExecutorSymbolDef(
            llvm::orc::ExecutorAddr(reinterpret_cast<uintptr_t>(address)),
            llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable);
  };
  for (const stdlib::Function& fn : stdlib::Functions()) {
    for (const stdlib::Overload& ov : fn.overloads) {
      if (JnStdlibFn entry = stdlib::FindEntryPoint(ov.symbol)) {
        add(ov.symbol, reinterpret_cast<const void*>(entry));
      }
    }
  }
  for (const codegen::HelperSymbol& h : codegen::RuntimeHelpers()) add(h.name, h.address);
  return lljit_->getMainJITDylib().define(llvm::orc::absoluteSymbols(std::move(symbols)));
}

// The new pass manager's default pipeline (as clang -O<n> runs it); nothing at O0.
void Jit::Optimize(llvm::Module& module) {
  if (opt_level_ <= 0) return;
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb(tm_.get());
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager mpm = pb.buildPerModuleDefaultPipeline(Level(opt_level_));
  mpm.run(module, mam);
}

llvm::Expected<llvm::orc::ResourceTrackerSP> Jit::AddModule(llvm::orc::ThreadSafeModule module) {
  std::lock_guard<std::mutex> lock(mu_);
  auto dylib = lljit_->createJITDylib("juncture.module." + std::to_string(next_dylib_++));
  if (!dylib) return dylib.takeError();
  dylib->addToLinkOrder(lljit_->getMainJITDylib());
  llvm::orc::ResourceTrackerSP tracker = dylib->createResourceTracker();
  if (llvm::Error err = lljit_->addIRModule(tracker, std::move(module))) {
    llvm::consumeError(lljit_->getExecutionSession().removeJITDylib(*dylib));
    return err;
  }
  return tracker;
}

llvm::Expected<llvm::orc::ExecutorAddr> Jit::Lookup(const llvm::orc::ResourceTrackerSP& tracker,
                                                    llvm::StringRef name) {
  std::lock_guard<std::mutex> lock(mu_);
  return lljit_->lookup(tracker->getJITDylib(), name);
}

llvm::Expected<std::vector<llvm::orc::ExecutorAddr>> Jit::LookupAll(
    const llvm::orc::ResourceTrackerSP& tracker, const std::vector<std::string>& names) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<llvm::orc::SymbolStringPtr> mangled;
  llvm::orc::SymbolLookupSet set;
  for (const std::string& name : names) {
    mangled.push_back(lljit_->mangleAndIntern(name));
    set.add(mangled.back());
  }
  auto found = lljit_->getExecutionSession().lookup(
      llvm::orc::makeJITDylibSearchOrder(&tracker->getJITDylib()), std::move(set));
  if (!found) return found.takeError();
  std::vector<llvm::orc::ExecutorAddr> out;
  for (const llvm::orc::SymbolStringPtr& m : mangled) out.push_back((*found)[m].getAddress());
  return out;
}

llvm::Error Jit::Remove(llvm::orc::ResourceTrackerSP tracker) {
  std::lock_guard<std::mutex> lock(mu_);
  return lljit_->getExecutionSession().removeJITDylib(tracker->getJITDylib());
}

}  // namespace juncture::compiler::jit
