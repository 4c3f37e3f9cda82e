#include "codegen/codegen.h"

#include "codegen/expr_emitter.h"
#include "llvm/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"

namespace juncture::compiler::codegen {

std::string ExprFunctionName(size_t id) { return "jn_expr_" + std::to_string(id); }

bool IsPredicate(const ir::Expr& root) { return root.type.ty == ir::Ty::kBool; }

llvm::Expected<std::unique_ptr<llvm::Module>> BuildModule(
    const ir::Program& program, const std::vector<const ir::Expr*>& exprs,
    llvm::LLVMContext& context, const llvm::DataLayout& layout, const llvm::Triple& triple,
    const std::string& module_name) {
  auto module = std::make_unique<llvm::Module>(module_name, context);
  module->setDataLayout(layout);
  module->setTargetTriple(triple.str());
  ExprEmitter emitter(program, *module);
  for (size_t id = 0; id < exprs.size(); ++id) {
    if (exprs[id] == nullptr) {
      return llvm::createStringError("codegen: expression " + std::to_string(id) + " is null");
    }
    bool ok = IsPredicate(*exprs[id]) ? emitter.EmitPredicate(*exprs[id], ExprFunctionName(id))
                                      : emitter.EmitRoot(*exprs[id], ExprFunctionName(id));
    if (!ok) {
      return llvm::createStringError("codegen: expression " + std::to_string(id) + ": " +
                                     emitter.error());
    }
  }
  std::string problems;
  llvm::raw_string_ostream os(problems);
  if (llvm::verifyModule(*module, &os)) {
    os.flush();
    return llvm::createStringError("codegen: invalid LLVM IR: " + problems);
  }
  return module;
}

}  // namespace juncture::compiler::codegen
