// Turning shared command-line options into CompileOptions.
#pragma once

#include <iostream>
#include <optional>

#include "juncture/commands.h"
#include "juncture/compiler/backend.h"
#include "juncture/compiler/jit.h"
#include "juncture/compiler/compiler.h"

namespace juncture::tools {

// Parses -W flags: "no-<code>" disables a warning, "<code>" enables it, "error"
// turns warnings into errors (sets `werror`). Returns nullopt (after printing why)
// on an unknown code.
std::optional<compiler::CompileOptions> MakeCompileOptions(const ProgramOptions& options,
                                                           bool* werror);

// `--until` / "until": an ISO-8601 time (or a date alone: its midnight UTC), or
// "+DURATION" (units w d h m s, e.g. "+1d12h") after `last`. False if malformed.
bool ParseUntil(const std::string& text, int64_t last, int64_t& out);

// Which back end decides: the LLVM JIT (default) or, with --no-jit, the reference
// interpreter.
struct BackendOptions {
  bool no_jit = false;
  int opt_level = 2;
};

// Registers --no-jit and --jit-opt on `cmd`.
void AddBackendOptions(CLI::App& cmd, BackendOptions& options);

// The runnable program of a successful compilation on the chosen back end. On a JIT
// failure prints why and returns an empty program.
runtime::CompiledProgram MakeProgram(const compiler::Compilation& c, const BackendOptions& o);

}  // namespace juncture::tools
