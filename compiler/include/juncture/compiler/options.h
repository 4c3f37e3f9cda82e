// Options of one compilation.
#pragma once

#include <string>

#include "juncture/compiler/diagnostic.h"

namespace juncture::compiler {

struct CompileOptions {
  // Warnings to report (all by default).
  WarningSet warnings;
  // The approvals ledger to read. Empty: `approvals.json` in the directory of each
  // input path (the directory itself for a directory argument), merged.
  std::string approvals_path;
  // Compile for explaining (`juncture explain`, runtime::Engine::SetTrace): each
  // `on`, `eligible` and `exit on` clause and each segment also becomes an expression
  // of its own, so that a trace can show the value of every clause. Off by default:
  // the extra expressions cost compile time and nothing else uses them.
  bool explain = false;
};

}  // namespace juncture::compiler
