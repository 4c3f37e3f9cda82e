// FormatSource: parse, format with the lexer's comments, and check the result before
// anyone writes it over a user's file.
#include "juncture/compiler/format.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "ast/formatter.h"
#include "juncture/compiler/diagnostic.h"
#include "juncture/compiler/source.h"
#include "parse/parser.h"

namespace juncture::compiler {
namespace {

// The parsed module and comments of `text`, or nullopt (diagnostics in `sink`).
struct Parsed {
  std::optional<ast::Module> module;
  std::vector<ast::Comment> comments;
};

Parsed Parse(SourceManager& sm, const std::string& path, const std::string& text,
             DiagnosticSink& sink) {
  FileId file = sm.AddFile(path, text);
  Parsed p;
  p.module = ParseFile(sm, file, sink);
  if (p.module) p.comments = ParseComments(sm, file);
  return p;
}

// The same comments, each as often. (Not always in the same order: a comment moves
// with the header clause it was written by when the clauses are put in order.)
bool SameComments(const std::vector<ast::Comment>& a, const std::vector<ast::Comment>& b) {
  auto texts = [](const std::vector<ast::Comment>& comments) {
    std::vector<std::string> out;
    for (const ast::Comment& c : comments) out.push_back(c.text);
    std::sort(out.begin(), out.end());
    return out;
  };
  return texts(a) == texts(b);
}

}  // namespace

Result<std::string> FormatSource(const std::string& path, const std::string& text) {
  SourceManager sm;
  DiagnosticSink sink;
  Parsed before = Parse(sm, path, text, sink);
  if (!before.module) return InvalidArgumentError(FormatText(sm, sink.diagnostics()));
  std::string formatted = ast::FormatProgram(*before.module, before.comments, text);

  // The formatted text must say the same thing with the same comments.
  DiagnosticSink again;
  Parsed after = Parse(sm, path, formatted, again);
  if (!after.module || ast::FormatProgram(*after.module) != ast::FormatProgram(*before.module) ||
      !SameComments(after.comments, before.comments)) {
    return InternalError(path +
                         ": error: the formatter would change this file's meaning or comments "
                         "(a bug in juncture fmt); the file is left as it is\n");
  }
  return formatted;
}

}  // namespace juncture::compiler
