// IR -> runtime::ProgramSpec: the plain-data form of a program that the runtime
// walks, with every expression replaced by its number in an expression table. Each
// back end makes that number executable (the interpreter keeps the IR tree; the
// JIT compiles it).
#pragma once

#include <memory>
#include <vector>

#include "ir/ir.h"
#include "juncture/runtime/program.h"

namespace juncture::compiler {

struct SpecAndExprs {
  std::shared_ptr<runtime::ProgramSpec> spec;
  // index == runtime::ExprId; points into the IR, or into `derived`
  std::vector<const ir::Expr*> exprs;
  // Expressions made from the IR's for the runtime: each journey's test per event
  // type (its trigger clauses and eligibility in one expression; its exit clauses).
  // An evaluator that keeps `exprs` keeps these too.
  std::shared_ptr<std::vector<ir::ExprPtr>> derived =
      std::make_shared<std::vector<ir::ExprPtr>>();
};

SpecAndExprs BuildSpec(const ir::Program& program);

// The JnValue of an IR constant scalar (strings point into the IR value).
JnValue ToJnValue(const ir::Value& v);
uint8_t ToJnType(ir::Ty ty);

}  // namespace juncture::compiler
