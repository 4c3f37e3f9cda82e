#include "jit/jit_evaluator.h"

#include <algorithm>
#include <array>
#include <exception>
#include <mutex>

#include "backend/spec_builder.h"
#include "codegen/codegen.h"
#include "jit/jit.h"
#include "juncture/abi/values.h"
#include "juncture/compiler/backend.h"
#include "juncture/compiler/jit.h"

namespace juncture::compiler {
namespace jit {

struct LoadedCode {
  LoadedCode(std::shared_ptr<Jit> j, llvm::orc::ResourceTrackerSP t)
      : jit(std::move(j)), tracker(std::move(t)) {}
  LoadedCode(const LoadedCode&) = delete;
  LoadedCode& operator=(const LoadedCode&) = delete;
  ~LoadedCode() {
    if (jit && tracker) llvm::consumeError(jit->Remove(std::move(tracker)));
  }

  std::shared_ptr<Jit> jit;
  llvm::orc::ResourceTrackerSP tracker;
};

namespace {

constexpr int kMaxOptLevel = 3;

// One JIT per opt level, shared by the programs alive at a time (each holds a
// reference); a new one is made when the last program using it is gone.
Result<std::shared_ptr<Jit>> SharedJit(int opt_level) {
  static std::mutex mu;
  static std::array<std::weak_ptr<Jit>, kMaxOptLevel + 1> jits;
  std::lock_guard<std::mutex> lock(mu);
  std::shared_ptr<Jit> jit = jits[opt_level].lock();
  if (jit) return jit;
  auto created = Jit::Create(opt_level);
  if (!created) {
    return InternalError("cannot create the JIT: " + llvm::toString(created.takeError()));
  }
  jit = std::shared_ptr<Jit>(std::move(*created));
  jits[opt_level] = jit;
  return jit;
}

}  // namespace

JitEvaluator::JitEvaluator(std::unique_ptr<LoadedCode> code, const std::vector<Entry>& fns)
    : code_(std::move(code)) {
  values_.reserve(fns.size());
  tests_.reserve(fns.size());
  for (const Entry& e : fns) {
    values_.push_back(e.predicate ? nullptr : e.value);
    tests_.push_back(e.predicate ? e.predicate : &Evaluator::TestThroughEval);
  }
}

JitEvaluator::~JitEvaluator() = default;

JnValue JitEvaluator::Eval(runtime::ExprId id, JnContext& ctx) const {
  JnValue out{};
  if (id < 0 || static_cast<size_t>(id) >= values_.size()) return out;
  size_t i = static_cast<size_t>(id);
  if (values_[i] == nullptr) return abi::MakeBool(tests_[i](&ctx, this, id));
  values_[i](&ctx, &out);
  return out;
}

Status JitAvailable(int opt_level) {
  return SharedJit(std::clamp(opt_level, 0, kMaxOptLevel)).status();
}

namespace {

// MakeJitProgram's work.
Result<runtime::CompiledProgram> Build(const Compilation& c, int opt_level) {
  if (!c.ok() || c.ir() == nullptr) return FailedPreconditionError("the compilation has errors");
  SpecAndExprs built = BuildSpec(*c.ir());
  Result<std::shared_ptr<Jit>> shared = SharedJit(std::clamp(opt_level, 0, kMaxOptLevel));
  if (!shared.ok()) return shared.status();
  std::shared_ptr<Jit> jit = *std::move(shared);
  auto context = std::make_unique<llvm::LLVMContext>();
  auto module = codegen::BuildModule(*c.ir(), built.exprs, *context, jit->data_layout(),
                                     jit->triple(), "juncture_program");
  if (!module) return InternalError("jit: " + llvm::toString(module.takeError()));
  auto tracker = jit->AddModule(llvm::orc::ThreadSafeModule(std::move(*module), std::move(context)));
  if (!tracker) return InternalError("jit: " + llvm::toString(tracker.takeError()));
  auto code = std::make_unique<LoadedCode>(jit, *tracker);
  std::vector<std::string> names;
  for (size_t id = 0; id < built.exprs.size(); ++id) names.push_back(codegen::ExprFunctionName(id));
  std::vector<JitEvaluator::Entry> fns;
  if (!names.empty()) {
    auto addresses = jit->LookupAll(*tracker, names);
    if (!addresses) {  // `code` removes the module
      return InternalError("jit: " + llvm::toString(addresses.takeError()));
    }
    for (size_t id = 0; id < addresses->size(); ++id) {
      llvm::orc::ExecutorAddr a = (*addresses)[id];
      JitEvaluator::Entry e;
      if (codegen::IsPredicate(*built.exprs[id])) {
        e.predicate = a.toPtr<runtime::TestFn>();
      } else {
        e.value = a.toPtr<JitEvaluator::ExprFn>();
      }
      fns.push_back(e);
    }
  }
  runtime::CompiledProgram out;
  out.spec = built.spec;
  out.evaluator = std::make_shared<JitEvaluator>(std::move(code), std::move(fns));
  return out;
}

}  // namespace
}  // namespace jit

Result<runtime::CompiledProgram> MakeJitProgram(const Compilation& c, int opt_level) {
  try {
    return jit::Build(c, opt_level);
  } catch (const std::exception& e) {
    return InternalError(std::string("jit: ") + e.what());
  }
}

namespace {

// Two specs built from one compilation (BuildSpec is deterministic): a check of
// their shape, in case it ever was not.
bool SameSpec(const runtime::ProgramSpec& a, const runtime::ProgramSpec& b) {
  if (a.events.size() != b.events.size() || a.windows.size() != b.windows.size() ||
      a.channels.size() != b.channels.size() || a.journeys.size() != b.journeys.size()) {
    return false;
  }
  for (size_t j = 0; j < a.journeys.size(); ++j) {
    if (a.journeys[j].name != b.journeys[j].name ||
        a.journeys[j].steps.size() != b.journeys[j].steps.size()) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::thread StageProgram(runtime::Engine& engine, std::shared_ptr<const Compilation> c,
                         int opt_level) {
  runtime::CompiledProgram interpreted = *MakeInterpretedProgram(*c);
  std::shared_ptr<const runtime::ProgramSpec> spec = interpreted.spec;
  engine.StageReload(std::move(interpreted));
  // Native code in tiers: unoptimised code first (compiled several times faster),
  // then, if asked for, optimised code. Every tier shares the interpreted form's spec
  // (the same compilation gives the same spec), so once the interpreted program is
  // in, each tier only swaps the evaluator (Engine::Reload).
  return std::thread([&engine, c, spec, opt_level] {
    std::vector<int> tiers{0};
    if (opt_level > 0) tiers.push_back(opt_level);
    for (int level : tiers) {
      Result<runtime::CompiledProgram> native = MakeJitProgram(*c, level);
      if (!native.ok()) return;  // the interpreted form (or the last tier) stays
      if (SameSpec(*native->spec, *spec)) native->spec = spec;
      engine.StageReload(*std::move(native));
    }
  });
}

}  // namespace juncture::compiler
