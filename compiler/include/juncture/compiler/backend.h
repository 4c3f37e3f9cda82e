// From a compiled program to something the runtime can run, on the reference
// interpreter (library juncture_compiler). Native code: juncture/compiler/jit.h
// (library juncture_jit).
#pragma once

#include "juncture/compiler/compiler.h"
#include "juncture/runtime/program.h"
#include "juncture/runtime/runtime.h"
#include "juncture/status.h"

namespace juncture::compiler {

// The runnable form of a successful compilation, evaluated by the reference
// interpreter over the typed IR. The result shares the IR; `c` may be destroyed. A
// failed precondition if `c` is not ok().
Result<runtime::CompiledProgram> MakeInterpretedProgram(const Compilation& c);

}  // namespace juncture::compiler
