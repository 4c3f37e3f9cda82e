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
};

}  // namespace juncture::compiler
