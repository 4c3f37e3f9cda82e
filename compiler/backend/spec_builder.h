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
  // index == runtime::ExprId; points into the IR (the join pass's tests included)
  std::vector<const ir::Expr*> exprs;
};

SpecAndExprs BuildSpec(const ir::Program& program);

// The JnValue of an IR constant scalar (strings point into the IR value).
JnValue ToJnValue(const ir::Value& v);
uint8_t ToJnType(ir::Ty ty);

}  // namespace juncture::compiler
