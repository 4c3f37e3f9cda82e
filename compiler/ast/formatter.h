// The canonical source printer: AST -> Juncture source text.
//
// This is the basis of `juncture fmt`, of the parse/print round-trip test and of the
// content hash that approvals are recorded against, so its output must be stable.
// Parsing what it prints yields the same AST (up to source positions):
//
//  * literals, durations, clock times and percents print their original spelling;
//  * expressions get the fewest parentheses that make the grammar rebuild the same
//    tree (the parser drops parentheses, so `a - (b - c)` keeps them and
//    `(a - b) - c` prints as `a - b - c`);
//  * clauses print in the order the AST keeps them. Header clauses live in typed
//    fields, so a journey prints them in a fixed order: title, owner, priority,
//    approvals, limit..., on..., eligible..., reenter, exit on..., then (after one
//    blank line) the steps. Channel clauses print as consent, quiet, cap, approval.
//
// Layout: 2-space indentation, one field or clause per line, `{` on the line that
// opens a block and `}` on its own line, `} else {` / `} else if X {` chains, empty
// blocks as `{ }`, send parameters on one line as `{ k: v, k2: v2 }`.
//
// Comments are not part of the AST: FormatProgram keeps them when given them (the
// lexer's, from ParseComments), next to the node they were written by (see
// WithComments in formatter.cc). Not kept: other blank lines than those around
// comments, the spelling of integers outside expressions (`priority 010`,
// `cap 03 per 1d`) and how several `approvals` clauses were split. The content hash
// of a journey is taken from FormatDecl, without comments: a comment never changes a
// journey's version.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "ast/ast.h"

namespace juncture::compiler::ast {

// A comment as the lexer found it.
struct Comment {
  uint32_t line = 0;      // its first line
  uint32_t end_line = 0;  // its last line (a block comment may span several)
  std::string text;       // `// ...` or `/* ... */`, as written
  bool trailing = false;  // code comes before it on its first line
};

// Prints every declaration of `module` in order, separated by one blank line. The
// result ends with a newline (it is empty for a module without declarations).
std::string FormatProgram(const Module& module);
// The same, keeping `comments` (the module's, in source order; `source`: the file's
// text, for the blank lines around them). Every comment is printed exactly once.
std::string FormatProgram(const Module& module, const std::vector<Comment>& comments,
                          std::string_view source);

// Prints one declaration, ending with a newline and without a trailing blank line.
std::string FormatDecl(const Decl& decl);

// Prints one expression on one line with the fewest parentheses needed to re-parse it
// as the same tree.
std::string FormatExpr(const Expr& expr);

// The Juncture string literal, with its quotes, that denotes `value`
// (escapes `"`, `\`, newline, tab and other control characters as `\u{hex}`).
std::string QuoteString(std::string_view value);

}  // namespace juncture::compiler::ast
