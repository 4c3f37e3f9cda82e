// The join pass: from a journey's header clauses to the tests the engine runs per
// event, as IR (ir::Journey::entry_tests, exit_tests), before the verifier checks
// them and both back ends compile them. Shown by `juncture compile --emit ir`.
#pragma once

#include "ir/ir.h"

namespace juncture::compiler::ir {

// For every journey: one entry test per event type that has an `on` clause, in order
// of the type's first clause: its clauses' conditions or-ed in source order (a clause
// without `when` ends the chain: it is true), then and-ed with every `eligible` clause
// in source order; and one exit test per event type of its `exit on` clauses, or-ed
// the same way. A test that is always true is null. Evaluation order and
// short-circuits are those of testing the clauses one by one, so even a division by
// zero is counted the same. The clauses themselves stay (explanations read them).
void JoinClauses(Program& program);

}  // namespace juncture::compiler::ir
