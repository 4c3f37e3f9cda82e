// The textual form of the typed IR: what `juncture compile --emit ir` prints and what
// the golden tests compare. One declaration per line, expressions as typed prefix
// S-expressions, e.g. `(ge:bool (event_field:float cart_value @56) (const:float 50))`.
//
// The output depends only on the Program's contents (no addresses, no hash-map
// order), so it is stable across runs and platforms. The printer never fails: an
// out-of-range index or a missing expression prints as a visible marker (`#7`,
// `<null>`), so that it can show a Program the verifier rejects.
#pragma once

#include <cstdint>
#include <string>

#include "ir/ir.h"

namespace juncture::compiler::ir {

// The whole program: layouts, profile, windows, segments, channels, journeys.
std::string PrintProgram(const Program& p);

// One expression as a typed S-expression; `p` supplies the names of windows'
// events, segments and fields.
std::string PrintExpr(const Expr& e, const Program& p);

// A constant value as a literal: `true`, `42`, `0.15`, `"a\n"`, `1800s`, `[1, 2]`.
std::string PrintValue(const Value& v);

// A duration in the largest exact unit: `1800s`, `250ms`, `7us`.
std::string PrintDuration(int64_t us);

}  // namespace juncture::compiler::ir
