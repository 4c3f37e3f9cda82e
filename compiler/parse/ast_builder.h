// Parse tree -> AST. Private to compiler/parse/.
#pragma once

#include <optional>

#include "JunctureParser.h"
#include "ast/ast.h"
#include "juncture/compiler/diagnostic.h"

namespace juncture::compiler {

// Builds the AST of one file from its (error-free) parse tree. Literal errors
// (bad escapes, numbers out of range, invalid clock times) and misplaced or repeated
// clauses are reported to `sink`; returns nullopt if any were.
std::optional<ast::Module> BuildModule(grammar_internal::JunctureParser::ProgramContext* tree,
                                       FileId file, DiagnosticSink& sink);

// Decodes the body of a string literal (without its quotes). On a bad escape returns
// false and sets `bad_offset` to the byte offset of the backslash within `body`.
bool UnescapeString(const std::string& body, std::string& out, size_t& bad_offset);

// Parses a duration literal such as "1d12h" into microseconds; false on overflow.
bool ParseDuration(const std::string& text, int64_t& micros);

}  // namespace juncture::compiler
