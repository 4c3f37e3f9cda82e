// `juncture fmt`: a source file in canonical form, its comments kept.
#pragma once

#include <string>

#include "juncture/status.h"

namespace juncture::compiler {

// Formats the text of one .jny file (`path` names it in diagnostics): the file in
// canonical form. A file with syntax errors is not formatted: an invalid-argument
// error whose message is the diagnostics, as `juncture lint` prints them (lines
// ending in a newline). Before it returns a text, it checks that the text parses into
// the same declarations and holds the same comments (in the same order, but for those
// that move with a header clause put in its canonical place); if not (a bug), it
// returns an internal error and the caller leaves the file alone.
Result<std::string> FormatSource(const std::string& path, const std::string& text);

}  // namespace juncture::compiler
