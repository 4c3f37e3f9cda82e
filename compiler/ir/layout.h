// Record layouts: where each field of an event type and of the profile lives in its
// fixed-size record (juncture/abi/abi.h describes the representation).
#pragma once

#include <vector>

#include "ast/ast.h"
#include "ir/ir.h"
#include "sema/const_value.h"

namespace juncture::compiler::ir {

// The IR type of a checked AST type (its optional flag is not part of the IR type).
IrType ToIrType(Type t);

// Lays out fields in declaration order at their natural alignment, after a header of
// `header_size` bytes. Optional fields get presence bits in declaration order.
RecordLayout LayoutRecord(const std::string& name, uint32_t type_id,
                          const std::vector<const ast::FieldDecl*>& fields,
                          uint32_t header_size);

// The IR value of a folded constant, converted to `type` (int -> float).
Value ToValue(const ConstValue& c, IrType type);

// Size and alignment of one value of type `t` in a record.
uint32_t SizeOf(IrType t);

}  // namespace juncture::compiler::ir
