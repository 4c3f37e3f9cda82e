// Semantic analysis: name resolution across files, types, and the language's
// static rules. Annotates the AST in place (types, resolved declarations, step ids)
// and reports problems as diagnostics; never throws.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ast/ast.h"
#include "juncture/compiler/diagnostic.h"
#include "sema/approvals.h"

namespace juncture::compiler {

// What sema learned about one journey.
struct JourneyInfo {
  const ast::JourneyDecl* decl = nullptr;
  std::string hash;                         // content hash of this version (approvals)
  std::vector<std::string> required_roles;  // sorted: `approvals` + channels' `approval`
  std::vector<std::string> missing_roles;   // required roles with no approval of `hash`
  bool approved() const { return missing_roles.empty(); }
};

// The program's declarations in their final order. Pointers into the Program.
struct SemaResult {
  std::vector<const ast::EventDecl*> events;          // index == EventDecl::id
  std::vector<const ast::FieldDecl*> profile_fields;  // index == FieldDecl::index
  std::vector<const ast::ChannelDecl*> channels;      // index == ChannelDecl::id
  std::vector<const ast::SegmentDecl*> segments;      // declaration order
  std::vector<const ast::ConstDecl*> consts;          // declaration order
  std::vector<JourneyInfo> journeys;                  // declaration order
};

struct SemaOptions {
  const ApprovalLedger* ledger = nullptr;  // null: no approvals recorded
};

// Checks `program`. Returns true if no error was reported; `result` is filled in
// either case (with what could be resolved).
bool Analyze(ast::Program& program, const SemaOptions& options, DiagnosticSink& sink,
             SemaResult& result);

}  // namespace juncture::compiler
