// `juncture fmt`: a source file in canonical form, its comments kept.
#pragma once

#include <string>

namespace juncture::compiler {

struct FormatResult {
  bool ok = false;
  std::string text;         // the file in canonical form (when ok)
  std::string diagnostics;  // why not (syntax errors, as `juncture lint` prints them)
};

// Formats the text of one .jny file (`path` names it in diagnostics). A file with
// syntax errors is not formatted. Before it returns a text, it checks that the text
// parses into the same declarations and holds the same comments (in the same order,
// but for those that move with a header clause put in its canonical place);
// if not (a bug), it returns an error and the caller leaves the file alone.
FormatResult FormatSource(const std::string& path, const std::string& text);

}  // namespace juncture::compiler
