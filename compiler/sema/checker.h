// The checker behind Analyze(): one object per compilation, its methods split by
// subject over several files (declarations, expressions, journeys, lints).
// Private to compiler/sema/.
#pragma once

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "sema/sema.h"

namespace juncture::compiler {

// The names of a name table, for "did you mean" suggestions.
template <typename T>
std::vector<std::string> Keys(const std::map<std::string, T>& m) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : m) keys.push_back(k);
  return keys;
}

// The set of event types `event` may hold at a point of a journey.
using Binding = std::vector<const ast::EventDecl*>;

// Where an expression appears; decides what it may read.
enum class Site {
  kConst,        // const X = …          (constants only)
  kFieldDefault, // field: T = …         (constants only)
  kLimitBound,   // limit p <= …         (constants only)
  kSegment,      // segment s = …        (profile, windows, now, segments, consts)
  kConsent,      // channel consent …    (likewise)
  kJourney,      // triggers, eligibility, exits, steps (also `event`)
};

struct ExprEnv {
  Site site = Site::kJourney;
  const Binding* binding = nullptr;  // `event` is readable iff set
  bool in_where = false;             // inside a window's `where`
  const char* binding_note = nullptr;  // why `event` is what it is, for messages
};

class Checker {
 public:
  Checker(ast::Program& program, const SemaOptions& options, DiagnosticSink& sink,
          SemaResult& result)
      : program_(program), options_(options), sink_(sink), result_(result) {}

  bool Run();

 private:
  // decl_checker.cc
  void Collect();
  void CheckEvent(ast::EventDecl& e);
  void CheckProfile();
  void CheckFields(std::vector<ast::FieldDecl>& fields, const std::string& owner);
  Type ResolveType(const ast::TypeRef& ref);
  void CheckChannel(ast::ChannelDecl& c);
  void CheckSegment(ast::SegmentDecl& s);
  void CheckConst(ast::ConstDecl& c);
  void CheckBoolExpr(ast::Expr& e, const ExprEnv& env, const char* what);

  // expr_checker.cc
  Type CheckExpr(ast::Expr& e, const ExprEnv& env);
  Type CheckValue(ast::Expr& e, const ExprEnv& env);  // also rejects optionals
  Type CheckLiteral(ast::LiteralExpr& e);
  Type CheckList(ast::ListExpr& e, const ExprEnv& env);
  Type CheckName(ast::NameExpr& e, const ExprEnv& env);
  Type CheckMember(ast::MemberExpr& e, const ExprEnv& env);
  Type CheckEventField(ast::MemberExpr& e, const ExprEnv& env);
  Type CheckCall(ast::CallExpr& e, const ExprEnv& env);
  Type CheckWindow(ast::WindowExpr& e, const ExprEnv& env);
  Type CheckUnary(ast::UnaryExpr& e, const ExprEnv& env);
  Type CheckBinary(ast::BinaryExpr& e, const ExprEnv& env);
  Type CheckArithmetic(ast::BinaryExpr& e, Type a, Type b);
  Type CheckComparison(ast::BinaryExpr& e, Type a, Type b);
  Type CheckMembership(ast::BinaryExpr& e, Type a, Type b);
  Type CheckCoalesce(ast::BinaryExpr& e, const ExprEnv& env);
  bool RequireConstantSite(const ast::Expr& e, const ExprEnv& env, const char* what);
  void RejectOptional(const ast::Expr& e, Type t);

  // journey_checker.cc
  void CheckJourney(ast::JourneyDecl& j, JourneyInfo& info);
  Binding CheckBlock(ast::Block& block, const Binding& in, ast::JourneyDecl& j);
  Binding CheckStep(ast::Step& step, const Binding& in, ast::JourneyDecl& j);
  void CheckSend(ast::SendStep& s, const Binding& in, ast::JourneyDecl& j);
  void CheckLimits(ast::JourneyDecl& j);
  const ast::EventDecl* ResolveEvent(ast::EventName& name);
  void AssignStepIds(ast::Block& block, int& next);

  // lint.cc
  void Lint();
  void LintBlock(const ast::Block& block);
  void LintJourney(const ast::JourneyDecl& j);

  // approvals
  void ComputeApprovals(JourneyInfo& info);

  // Helpers.
  void Error(ErrorCode code, SourceRange r, std::string message) {
    sink_.Error(code, r, std::move(message));
  }
  std::string Suggest(const std::string& name, const std::vector<std::string>& candidates);
  bool CheckZoneName(const ast::Expr& zone);

  ast::Program& program_;
  const SemaOptions& options_;
  DiagnosticSink& sink_;
  SemaResult& result_;

  std::map<std::string, ast::EventDecl*> events_;
  std::map<std::string, ast::ChannelDecl*> channels_;
  std::map<std::string, ast::SegmentDecl*> segments_;
  std::map<std::string, ast::ConstDecl*> consts_;
  std::map<std::string, ast::JourneyDecl*> journeys_;
  std::vector<ast::ProfileDecl*> profiles_;
  // Declaration order (result_ holds the same, const).
  std::vector<ast::EventDecl*> event_list_;
  std::vector<ast::ChannelDecl*> channel_list_;
  std::vector<ast::SegmentDecl*> segment_list_;
  std::vector<ast::ConstDecl*> const_list_;
  std::map<std::string, ast::FieldDecl*> profile_fields_;

  // Segments and consts are checked on first use; `checking_` holds the chain in
  // progress so a cycle can be reported with its path.
  enum class State { kUnchecked, kChecking, kDone };
  std::map<const ast::Decl*, State> state_;
  std::vector<const ast::Decl*> checking_;

  // A list literal with non-constant elements is allowed only as the right side of
  // `in` / `not in` (it lowers to comparisons): these are those lists.
  std::unordered_set<const ast::Expr*> dynamic_lists_ok_;

  // The sends of the journey being checked, for `limit` and approvals.
  std::vector<ast::SendStep*> sends_;
};

}  // namespace juncture::compiler
