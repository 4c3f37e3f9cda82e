// The IR verifier: checks the invariants that both back ends rely on, after lowering
// and before code generation or interpretation.
//
// Layouts follow the ABI (juncture/abi/abi.h): fields sorted, aligned, not
// overlapping, after the header; presence bits unique and < 64. Every expression has
// the operand count and the operand and result types its op allows (no implicit
// conversions), and every field, window and segment it names exists with that type.
// Segments and window filters do not depend on themselves. Journeys have a trigger
// and a step graph whose edges only go forward and end in `complete`, which is what
// guarantees that an instance terminates; sends name channels, splits cover 10000
// basis points; journeys are in arbitration order (docs/language.md).
#pragma once

#include <string>
#include <vector>

#include "ir/ir.h"

namespace juncture::compiler::ir {

// Checks `p`. Appends one readable message per violation to `problems`, each
// prefixed with where it is ("journey cart_rescue: step 2 (s3): ...", "event
// cart_updated: ...", "segment high_value: ..."). Returns true if none was found.
bool Verify(const Program& p, std::vector<std::string>& problems);

}  // namespace juncture::compiler::ir
