// Small helpers for turning ANTLR tokens and contexts into source positions.
// Private to compiler/parse/.
#pragma once

#include <string>

#include "antlr4-runtime.h"
#include "juncture/compiler/source.h"

namespace juncture::compiler {

// Number of Unicode code points in UTF-8 text.
inline uint32_t CodePoints(const std::string& s) {
  uint32_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

// The range a token covers (tokens never span lines, except nothing we keep).
inline SourceRange TokenRange(FileId file, const antlr4::Token* t) {
  auto line = static_cast<uint32_t>(t->getLine());
  auto col = static_cast<uint32_t>(t->getCharPositionInLine()) + 1;
  uint32_t len = t->getType() == antlr4::Token::EOF ? 1 : CodePoints(t->getText());
  return {{file, line, col}, {file, line, col + len}};
}

// The range from the first to the last token of a rule.
inline SourceRange ContextRange(FileId file, antlr4::ParserRuleContext* ctx) {
  SourceRange begin = TokenRange(file, ctx->getStart());
  const antlr4::Token* stop = ctx->getStop() ? ctx->getStop() : ctx->getStart();
  return {begin.begin, TokenRange(file, stop).end};
}

// A token's text for a message: quoted, control characters escaped, long text cut.
inline std::string QuoteToken(const std::string& text) {
  std::string out = "'";
  size_t n = 0;
  for (unsigned char c : text) {
    if (++n > 40) {
      out += "...";
      break;
    }
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7F) out += "\\x" + std::string(1, "0123456789abcdef"[c >> 4]) +
                                           "0123456789abcdef"[c & 15];
    else out += static_cast<char>(c);
  }
  return out + "'";
}

}  // namespace juncture::compiler
