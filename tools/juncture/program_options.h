// Turning shared command-line options into CompileOptions.
#pragma once

#include <iostream>
#include <optional>

#include "juncture/commands.h"
#include "juncture/compiler/compiler.h"

namespace juncture::tools {

// Parses -W flags: "no-<code>" disables a warning, "<code>" enables it, "error"
// turns warnings into errors (sets `werror`). Returns nullopt (after printing why)
// on an unknown code.
std::optional<compiler::CompileOptions> MakeCompileOptions(const ProgramOptions& options,
                                                           bool* werror);

}  // namespace juncture::tools
