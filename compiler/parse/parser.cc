#include "parse/parser.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <exception>
#include <set>
#include <string>

#include "JunctureLexer.h"
#include "JunctureParser.h"
#include "antlr4-runtime.h"
#include "base/suggest.h"
#include "parse/ast_builder.h"
#include "parse/token_util.h"

namespace juncture::compiler {
namespace {

using grammar_internal::JunctureLexer;
using grammar_internal::JunctureParser;

// A readable name for what the parser expected, or "" to leave it out.
std::string ExpectedName(const antlr4::dfa::Vocabulary& vocab, size_t type) {
  switch (type) {
    case JunctureLexer::DURATION: return "a duration (e.g. 30m, 2h, 1d12h)";
    case JunctureLexer::PERCENT: return "a percent (e.g. 45%)";
    case JunctureLexer::CLOCK: return "a clock time (e.g. 21:00)";
    case JunctureLexer::INT: return "an integer";
    case JunctureLexer::FLOAT: return "a decimal number";
    case JunctureLexer::STRING: return "a string";
    case JunctureLexer::IDENT: return "a name";
    case antlr4::Token::EOF: return "end of file";
    default: break;
  }
  std::string literal = vocab.getLiteralName(type);
  if (literal.size() >= 2 && literal.front() == '\'') {
    return "'" + literal.substr(1, literal.size() - 2) + "'";
  }
  return "";
}

// Turns ANTLR's syntax errors into diagnostics with our own wording:
// "unexpected 'x'; expected a duration (e.g. 30m, 2h, 1d12h) or 'until'".
class SyntaxErrorListener : public antlr4::BaseErrorListener {
 public:
  // `decl_of_token[i]` is the ordinal of the top-level declaration token i belongs
  // to; after a syntax error the parser's recovery often reports follow-on errors in
  // the same declaration that are not real, so only the first one per declaration
  // is kept.
  SyntaxErrorListener(FileId file, DiagnosticSink& sink, std::vector<int> decl_of_token)
      : file_(file), sink_(sink), decl_of_token_(std::move(decl_of_token)) {}

  void syntaxError(antlr4::Recognizer* recognizer, antlr4::Token* offending, size_t line,
                   size_t col, const std::string& msg, std::exception_ptr) override {
    ++count_;
    if (offending && offending->getTokenIndex() < decl_of_token_.size()) {
      int decl = decl_of_token_[offending->getTokenIndex()];
      if (decl == last_decl_) return;
      last_decl_ = decl;
    }
    if (++reported_ > kMaxErrors) return;
    SourceRange range = offending ? TokenRange(file_, offending)
                                  : SourceRange{{file_, uint32_t(line), uint32_t(col + 1)},
                                                {file_, uint32_t(line), uint32_t(col + 2)}};
    std::string text;
    if (offending && offending->getType() == antlr4::Token::EOF) {
      text = "unexpected end of file";
    } else if (offending) {
      text = "unexpected " + QuoteToken(offending->getText());
    } else {
      text = msg;
    }
    auto* parser = dynamic_cast<antlr4::Parser*>(recognizer);
    if (offending != nullptr && offending->getText() == "=") {
      text += "; to compare two values, write '=='";
    } else if (parser != nullptr && offending != nullptr) {
      if (!DurationHint(*parser, offending, text) && !KeywordHint(*parser, offending, text)) {
        AppendExpected(*parser, offending, text);
      }
    }
    sink_.Error(ErrorCode::kSyntax, range, std::move(text));
  }

  int count() const { return count_; }
  int reported() const { return reported_; }
  static constexpr int kMaxErrors = 50;

 private:
  void AppendExpected(antlr4::Parser& parser, antlr4::Token* offending, std::string& text) {
    antlr4::misc::IntervalSet expected;
    try {
      expected = parser.getExpectedTokens();
    } catch (...) {
      return;
    }
    std::vector<std::string> names;
    for (ssize_t t : expected.toList()) {
      std::string n = ExpectedName(parser.getVocabulary(), static_cast<size_t>(t));
      if (!n.empty()) names.push_back(n);
    }
    // Long lists (every keyword that may name a field) help nobody.
    if (names.empty() || names.size() > 6) return;
    text += "; expected ";
    for (size_t i = 0; i < names.size(); ++i) {
      if (i > 0) text += (i + 1 == names.size()) ? " or " : ", ";
      text += names[i];
    }
    if (offending->getType() == JunctureLexer::INT &&
        expected.contains(static_cast<ssize_t>(JunctureLexer::DURATION))) {
      text += " (a duration needs a unit: s, m, h, d or w)";
    }
  }

  // A word where a keyword was expected, close to one of them (`elligible`): the
  // keyword it probably is.
  static bool KeywordHint(antlr4::Parser& parser, antlr4::Token* offending, std::string& text) {
    const std::string& word = offending->getText();
    if (word.empty() || !std::isalpha(static_cast<unsigned char>(word[0]))) return false;
    antlr4::misc::IntervalSet expected;
    try {
      expected = parser.getExpectedTokens();
    } catch (...) {
      return false;
    }
    std::vector<std::string> keywords;
    for (ssize_t t : expected.toList()) {
      std::string literal = parser.getVocabulary().getLiteralName(static_cast<size_t>(t));
      if (literal.size() > 2 && std::isalpha(static_cast<unsigned char>(literal[1]))) {
        keywords.push_back(literal.substr(1, literal.size() - 2));
      }
    }
    std::string best = Closest(word, keywords);
    if (best.empty() || best == word) return false;
    text += "; did you mean '" + best + "'?";
    return true;
  }

  // A number right after a keyword that takes a duration (`wait 10`) gets a hint
  // instead of the parser's list of alternatives.
  static bool DurationHint(antlr4::Parser& parser, antlr4::Token* offending, std::string& text) {
    size_t type = offending->getType();
    if (type != JunctureLexer::INT && type != JunctureLexer::FLOAT) return false;
    auto* tokens = dynamic_cast<antlr4::BufferedTokenStream*>(parser.getTokenStream());
    if (!tokens || offending->getTokenIndex() == 0) return false;
    std::vector<antlr4::Token*> before =
        tokens->getHiddenTokensToLeft(offending->getTokenIndex());
    ssize_t i = static_cast<ssize_t>(offending->getTokenIndex()) - 1 -
                static_cast<ssize_t>(before.size());
    if (i < 0) return false;
    std::string prev = tokens->get(static_cast<size_t>(i))->getText();
    if (prev != "wait" && prev != "within" && prev != "after" && prev != "per") return false;
    text += "; expected a duration (e.g. 30m, 2h, 1d12h) after '" + prev +
            "': a duration needs a unit: s, m, h, d or w";
    return true;
  }

  FileId file_;
  DiagnosticSink& sink_;
  std::vector<int> decl_of_token_;
  int last_decl_ = -1;
  int count_ = 0;
  int reported_ = 0;
};

// Reports characters the lexer could not use, and nesting that would make the
// recursive-descent parser (and every recursive pass after it) run out of stack.
// Returns false if anything was reported.
bool CheckTokens(FileId file, antlr4::CommonTokenStream& tokens, DiagnosticSink& sink) {
  bool ok = true;
  int depth = 0;
  int prefix_run = 0;
  size_t skip_until = 0;  // the closing quote of a single-quoted string, reported
  for (antlr4::Token* t : tokens.getTokens()) {
    if (t->getChannel() != antlr4::Token::DEFAULT_CHANNEL) continue;
    size_t type = t->getType();
    if (type == JunctureLexer::BAD_CHAR && t->getText() == "'") {
      // 'gold': a string in single quotes. One error for the pair, with the fix.
      const std::vector<antlr4::Token*>& all = tokens.getTokens();
      size_t close = t->getTokenIndex() + 1;
      while (close < all.size() && all[close]->getLine() == t->getLine() &&
             !(all[close]->getType() == JunctureLexer::BAD_CHAR && all[close]->getText() == "'")) {
        ++close;
      }
      if (close < all.size() && all[close]->getLine() == t->getLine()) {
        std::string inner = t->getInputStream()->getText(
            antlr4::misc::Interval(t->getStartIndex() + 1, all[close]->getStartIndex() - 1));
        sink.Error(ErrorCode::kSyntax, {TokenRange(file, t).begin, TokenRange(file, all[close]).end},
                   "strings are written in double quotes: \"" + inner + "\"");
        ok = false;
        skip_until = close;
        continue;
      }
    }
    if (t->getTokenIndex() <= skip_until && skip_until != 0) continue;
    if (type == JunctureLexer::BAD_CHAR) {
      std::string c = t->getText();
      sink.Error(ErrorCode::kSyntax, TokenRange(file, t), c == "\"" ? "unterminated string literal"
                                                : "unexpected character " + QuoteToken(c));
      ok = false;
      continue;
    }
    const std::string& text = t->getText();
    if (text == "(" || text == "[" || text == "{") {
      if (++depth > kMaxNestingDepth) {
        sink.Error(ErrorCode::kTooComplex, TokenRange(file, t), "nesting is too deep (more than " +
                                            std::to_string(kMaxNestingDepth) + " levels)");
        return false;
      }
    } else if (text == ")" || text == "]" || text == "}") {
      if (depth > 0) --depth;
    }
    bool prefix = text == "not" || text == "-";
    prefix_run = prefix ? prefix_run + 1 : 0;
    if (prefix_run > kMaxPrefixRun) {
      sink.Error(ErrorCode::kTooComplex, TokenRange(file, t), "too many `not` or `-` in a row");
      return false;
    }
  }
  return ok;
}

// The ordinal of the top-level declaration each token belongs to: a declaration
// keyword at brace depth 0 starts the next one.
std::vector<int> DeclarationOfEachToken(antlr4::CommonTokenStream& tokens) {
  static const std::set<std::string> kDeclKeywords = {"event", "profile", "channel",
                                                      "segment", "const", "journey"};
  std::vector<int> out;
  int depth = 0, decl = 0;
  for (antlr4::Token* t : tokens.getTokens()) {
    const std::string& text = t->getText();
    if (t->getChannel() == antlr4::Token::DEFAULT_CHANNEL) {
      if (depth == 0 && kDeclKeywords.count(text)) ++decl;
      if (text == "{") ++depth;
      if (text == "}" && depth > 0) --depth;
    }
    out.push_back(decl);
  }
  return out;
}

}  // namespace

std::optional<ast::Module> ParseFile(const SourceManager& sm, FileId file,
                                     DiagnosticSink& sink) {
  const std::string& text = sm.file(file).text;
  if (text.size() > kMaxSourceBytes) {
    sink.Error(ErrorCode::kSource, {{file, 1, 1}, {file, 1, 1}},
               "file is too large (more than " + std::to_string(kMaxSourceBytes >> 20) +
                   " MiB)");
    return std::nullopt;
  }
  if (int64_t bad = FindInvalidUtf8(text); bad >= 0) {
    SourceLoc loc = sm.LocForOffset(file, static_cast<uint32_t>(bad));
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned char>(text[bad]));
    sink.Error(ErrorCode::kSource, {loc, loc}, std::string("invalid UTF-8: byte ") + hex + " at offset " +
                               std::to_string(bad) + " of the file");
    return std::nullopt;
  }
  // "Never throw and always return a status": nothing from ANTLR escapes.
  try {
    antlr4::ANTLRInputStream input(text);
    JunctureLexer lexer(&input);
    lexer.removeErrorListeners();  // BAD_CHAR tokens are reported by CheckTokens
    antlr4::CommonTokenStream tokens(&lexer);
    tokens.fill();
    if (!CheckTokens(file, tokens, sink)) return std::nullopt;

    JunctureParser parser(&tokens);
    SyntaxErrorListener listener(file, sink, DeclarationOfEachToken(tokens));
    parser.removeErrorListeners();
    parser.addErrorListener(&listener);
    JunctureParser::ProgramContext* tree = parser.program();
    if (listener.count() > 0) {
      if (listener.reported() > SyntaxErrorListener::kMaxErrors) {
        sink.Error(ErrorCode::kSyntax, {{file, 1, 1}, {file, 1, 1}},
                   "too many syntax errors; stopped after " +
                       std::to_string(SyntaxErrorListener::kMaxErrors));
      }
      return std::nullopt;
    }
    return BuildModule(tree, file, sink);
  } catch (const std::exception& e) {
    sink.Error(ErrorCode::kSyntax, {{file, 1, 1}, {file, 1, 1}}, std::string("could not parse: ") + e.what());
  } catch (...) {
    sink.Error(ErrorCode::kSyntax, {{file, 1, 1}, {file, 1, 1}}, "could not parse this file");
  }
  return std::nullopt;
}

std::vector<ast::Comment> ParseComments(const SourceManager& sm, FileId file) {
  std::vector<ast::Comment> out;
  const std::string& text = sm.file(file).text;
  if (text.size() > kMaxSourceBytes || FindInvalidUtf8(text) >= 0) return out;
  try {
    antlr4::ANTLRInputStream input(text);
    JunctureLexer lexer(&input);
    lexer.removeErrorListeners();
    antlr4::CommonTokenStream tokens(&lexer);
    tokens.fill();
    size_t code_line = 0;  // the line on which the last code token ends
    for (antlr4::Token* t : tokens.getTokens()) {
      const std::string& s = t->getText();
      const size_t line = t->getLine();
      const size_t end_line = line + static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
      const size_t type = t->getType();
      if (type == JunctureLexer::LINE_COMMENT || type == JunctureLexer::BLOCK_COMMENT) {
        std::string body = s;
        while (!body.empty() && (body.back() == ' ' || body.back() == '\t' || body.back() == '\r')) {
          body.pop_back();
        }
        out.push_back(ast::Comment{static_cast<uint32_t>(line), static_cast<uint32_t>(end_line),
                                   std::move(body), code_line == line});
      } else if (t->getChannel() == antlr4::Token::DEFAULT_CHANNEL && t->getType() != antlr4::Token::EOF) {
        code_line = end_line;
      }
    }
  } catch (...) {
    out.clear();
  }
  return out;
}

}  // namespace juncture::compiler
