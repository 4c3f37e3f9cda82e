// Lowering: the checked AST -> the typed IR.
#pragma once

#include <memory>

#include "ast/ast.h"
#include "ir/ir.h"
#include "sema/sema.h"

namespace juncture::compiler::ir {

// Lowers a program that sema accepted without errors. Conversions become explicit,
// consts and constant sub-expressions are folded, optionals become presence tests,
// journeys become step graphs, and windows get slots.
std::unique_ptr<Program> Lower(const SemaResult& sema);

}  // namespace juncture::compiler::ir
