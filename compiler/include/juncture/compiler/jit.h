// From a compiled program to native code: the LLVM ORC JIT back end (library
// juncture_jit; its only public header). The interpreted form is
// juncture/compiler/backend.h.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "juncture/compiler/backend.h"
#include "juncture/status.h"

namespace juncture::compiler {

// The runnable form of a successful compilation, its expressions compiled to native
// code by the LLVM ORC JIT (library juncture_jit) at `opt_level` (0: no
// optimisation, 2: the default pipeline). The evaluator computes exactly what the
// interpreter's does and does not need `c` or its IR afterwards. JITs are shared per
// opt level by the programs that use them; each program's code is freed with its
// evaluator. Thread-safe.
//
// Never throws or aborts: if the JIT cannot be created or the program cannot be
// compiled, returns an internal error (a failed precondition if `c` is not ok()).
Result<runtime::CompiledProgram> MakeJitProgram(const Compilation& c, int opt_level = 2);

// Hot reload without a pause in deciding: stages the interpreted form of `c` on
// `engine` at once (it decides from the next message on), then JIT-compiles `c` on a
// background thread in tiers: unoptimised native code first (opt level 0, several
// times faster to compile), then at `opt_level` if that is above 0. Each tier is
// staged when ready and only swaps the evaluator (the tiers share the interpreted
// form's spec). If the JIT fails, the last form staged stays. Returns that thread
// (join it before destroying `engine`). `c` must be ok().
std::thread StageProgram(runtime::Engine& engine, std::shared_ptr<const Compilation> c,
                         int opt_level = 2);

}  // namespace juncture::compiler
