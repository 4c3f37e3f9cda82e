// IR -> LLVM IR: one llvm::Module per program version.
//
// Every root expression of the program's expression table (backend/spec_builder.h:
// index == runtime::ExprId) becomes an external function that computes it exactly as
// the reference interpreter would (see expr_emitter.h):
//   bool jn_expr_<id>(JnContext* ctx, const void* self, int32_t id)   bool roots
//   void jn_expr_<id>(JnContext* ctx, JnValue* out)                    all others
// A bool root is a predicate (trigger/exit `when`, eligibility, consent, branch and
// window conditions): its function has the signature of runtime::TestFn, so the
// engine calls it directly and gets the answer in a register (`self` and `id` are
// unused). Segments become internal functions `i1 jn_segment_<n>(ctx)`.
// The module calls the stdlib by symbol (jn_lower, …), the helpers of
// runtime_helpers.h by symbol, and memcmp/fmod from the C library; the JIT resolves
// them (jit/jit.h).
//
// llvm::Error does not leave compiler/codegen and compiler/jit.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ir/ir.h"
#include "llvm/IR/DataLayout.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/Error.h"
#include "llvm/TargetParser/Triple.h"

namespace juncture::compiler::codegen {

// "jn_expr_<id>": the function that evaluates expression `id`.
std::string ExprFunctionName(size_t id);

// True if `root` gets the predicate signature (it is bool-typed).
bool IsPredicate(const ir::Expr& root);

// Builds and verifies the module for `exprs` (pointers into `program`) in `context`,
// for the target described by `layout` and `triple`. Fails (a StringError) on IR the
// code generator cannot handle (a verifier-rejected program, an unknown stdlib
// symbol) or if LLVM's module verifier rejects the result; never aborts on bad IR.
llvm::Expected<std::unique_ptr<llvm::Module>> BuildModule(
    const ir::Program& program, const std::vector<const ir::Expr*>& exprs,
    llvm::LLVMContext& context, const llvm::DataLayout& layout, const llvm::Triple& triple,
    const std::string& module_name);

}  // namespace juncture::compiler::codegen
