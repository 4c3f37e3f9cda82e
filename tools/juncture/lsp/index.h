// Where each name of a checked program is written, and what it names: the basis of
// hover, go-to-definition and rename. Built from the AST after sema (which resolved
// every reference it could).
#pragma once

#include <vector>

#include "ast/ast.h"

namespace juncture::lsp {

namespace ast = compiler::ast;

enum class NameKind {
  kEvent,         // an event type (its declaration, a trigger, a wait until, a window)
  kEventField,    // event.FIELD, sum(E.FIELD ...), a field's declaration
  kEnvelope,      // event.id, event.customer, event.time
  kProfileField,  // profile.FIELD, a profile field's declaration
  kSegment,
  kConst,
  kChannel,       // a channel's declaration, `send CHANNEL`
  kFunction,      // a standard-library call
  kJourney,       // a journey's declaration
};

struct Occurrence {
  compiler::SourceRange range;  // the name as written
  NameKind kind;
  bool declaration = false;     // the declaring name itself
  // What it names (the one that applies): the declaration of the event, segment,
  // const, channel or journey; the field; the function's index in stdlib::Functions().
  const ast::EventDecl* event = nullptr;
  const ast::FieldDecl* field = nullptr;
  const ast::Decl* decl = nullptr;  // segment, const, channel, journey
  int function = -1;
  const ast::Expr* expr = nullptr;            // a reference in an expression: its node
  const ast::JourneyDecl* journey = nullptr;  // the journey it is written in, if any
  std::vector<const ast::EventDecl*> events;  // kEventField: every event it may read
};

// Every occurrence of every file of `program`, in no particular order.
std::vector<Occurrence> IndexProgram(const ast::Program& program);

// The innermost occurrence at (line, column) of `file` (1-based; column in code points),
// or null.
const Occurrence* OccurrenceAt(const std::vector<Occurrence>& all, compiler::FileId file,
                               uint32_t line, uint32_t column);

}  // namespace juncture::lsp
