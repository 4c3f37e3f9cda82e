// The parse layer: source text -> AST, through the ANTLR4-generated parser.
//
// This folder is the only code that includes generated ANTLR headers; nothing
// ANTLR-specific (types, exceptions) leaves it. Syntax errors become diagnostics;
// nothing here throws.
#pragma once

#include <optional>
#include <vector>

#include "ast/ast.h"
#include "ast/formatter.h"
#include "juncture/compiler/diagnostic.h"
#include "juncture/compiler/source.h"

namespace juncture::compiler {

// Limits that keep hostile input from exhausting the stack of the parser and of the
// recursive passes behind it. Real journeys stay far below them.
inline constexpr int kMaxNestingDepth = 64;      // ( [ { nesting
inline constexpr int kMaxPrefixRun = 32;         // consecutive `not` / `-`
inline constexpr int kMaxExprDepth = 256;        // AST expression depth
inline constexpr size_t kMaxSourceBytes = 4 << 20;

// Parses file `file` of `sm`. Returns the module, or nullopt if the file has lexical
// or syntax errors (all of them are reported to `sink`, in order).
std::optional<ast::Module> ParseFile(const SourceManager& sm, FileId file,
                                     DiagnosticSink& sink);

// The comments of file `file` of `sm`, in source order, as the lexer finds them (for
// the formatter). Empty for a file that cannot be lexed.
std::vector<ast::Comment> ParseComments(const SourceManager& sm, FileId file);

}  // namespace juncture::compiler
