#include "juncture/compiler/backend.h"

#include "backend/spec_builder.h"
#include "interp/interpreter.h"

namespace juncture::compiler {

Result<runtime::CompiledProgram> MakeInterpretedProgram(const Compilation& c) {
  if (!c.ok() || c.ir() == nullptr) return FailedPreconditionError("the compilation has errors");
  SpecAndExprs built = BuildSpec(*c.ir());
  runtime::CompiledProgram out;
  out.spec = built.spec;
  out.evaluator = std::make_shared<Interpreter>(c.shared_ir(), std::move(built.exprs));
  return out;
}

}  // namespace juncture::compiler
