// The reference interpreter: evaluates the typed IR's expressions directly. It is
// the semantic oracle the JIT is checked against, so it favours plainness: one
// switch over the IR's ops. Known fields are read at their offsets (no lookups by
// name); constant lists are laid out once, at construction.
//
// Thread-safe after construction (Eval keeps no state outside the JnContext).
#pragma once

#include <memory>
#include <unordered_map>
#include <vector>

#include "ir/ir.h"
#include "juncture/runtime/program.h"

namespace juncture::compiler {

class Interpreter : public runtime::Evaluator {
 public:
  // `exprs` are the spec's expression table (see backend/spec_builder.h); `program`
  // owns them and is kept alive by the interpreter.
  Interpreter(std::shared_ptr<const ir::Program> program, std::vector<const ir::Expr*> exprs);

  JnValue Eval(runtime::ExprId id, JnContext& ctx) const override;
  const char* name() const override { return "interpreter"; }

  // Evaluates any expression of the program (tests use this directly).
  JnValue EvalExpr(const ir::Expr& e, JnContext& ctx) const;

 private:
  JnValue Binary(const ir::Expr& e, JnContext& ctx) const;
  JnValue Arithmetic(const ir::Expr& e, const JnValue& a, const JnValue& b, JnContext& ctx) const;
  JnValue Call(const ir::Expr& e, JnContext& ctx) const;
  JnValue Field(const ir::Expr& e, const JnContext& ctx) const;
  void LayOutConstants(const ir::Expr& e);

  std::shared_ptr<const ir::Program> program_;
  std::vector<const ir::Expr*> exprs_;
  // Constant lists laid out as the ABI says (JnList data), and resolved stdlib calls.
  std::unordered_map<const ir::Expr*, std::string> const_lists_;
  std::unordered_map<const ir::Expr*, JnStdlibFn> calls_;
};

}  // namespace juncture::compiler
