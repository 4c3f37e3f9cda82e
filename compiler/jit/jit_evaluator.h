// The JIT back end: a runtime::Evaluator whose expressions are native functions
// compiled from the typed IR (codegen/) by the ORC JIT (jit.h), one function per
// ExprId: bool expressions are predicates the engine calls directly through
// Evaluator::Test (runtime::TestFn), the others write a JnValue. It computes exactly
// what the reference interpreter computes.
//
// This header has no LLVM types; MakeJitProgram (juncture/compiler/jit.h) is the
// usual way to get one.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "juncture/abi/abi.h"
#include "juncture/runtime/program.h"
#include "juncture/status.h"

namespace juncture::compiler::jit {

// The loaded code of one program version (the JIT and the module's tracker);
// destroying it removes the code from the JIT. Defined in jit_evaluator.cc.
struct LoadedCode;

class JitEvaluator : public runtime::Evaluator {
 public:
  // The signature of a generated jn_expr_<id> that is not a predicate.
  using ExprFn = void (*)(JnContext* ctx, JnValue* out);

  // One generated function per expression id: exactly one of the two is set.
  struct Entry {
    ExprFn value = nullptr;
    runtime::TestFn predicate = nullptr;
  };

  // `fns[id]` evaluates expression id; `code` keeps them alive.
  JitEvaluator(std::unique_ptr<LoadedCode> code, const std::vector<Entry>& fns);
  JitEvaluator(const JitEvaluator&) = delete;
  JitEvaluator& operator=(const JitEvaluator&) = delete;
  // Removes the code from the JIT; no Eval may be running.
  ~JitEvaluator() override;

  // Thread-safe. An id outside the table yields JnValue{}.
  JnValue Eval(runtime::ExprId id, JnContext& ctx) const override;
  const char* name() const override { return "jit"; }
  size_t size() const { return values_.size(); }

 private:
  std::unique_ptr<LoadedCode> code_;
  std::vector<ExprFn> values_;  // nullptr for predicates (tests_ has them)
};

// Ok if a JIT for this host can be created (at `opt_level`); else why not. Tests use
// it to skip.
Status JitAvailable(int opt_level);

}  // namespace juncture::compiler::jit
