// From a compiled program to something the runtime can run.
#pragma once

#include "juncture/compiler/compiler.h"
#include "juncture/runtime/program.h"

namespace juncture::compiler {

// The runnable form of a successful compilation (c.ok()), evaluated by the reference
// interpreter over the typed IR. The result shares the IR; `c` may be destroyed.
runtime::CompiledProgram MakeInterpretedProgram(const Compilation& c);

}  // namespace juncture::compiler
