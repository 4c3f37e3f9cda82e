// The abstract syntax tree of a Juncture program.
//
// Built by parse/ from the ANTLR parse tree (one Module per file), then annotated in
// place by sema/ (types, resolved declarations, step ids). Nodes own their children
// through unique_ptr; cross references filled by sema are plain non-owning pointers
// into the same Program, which outlives them.
//
// The tree keeps what a formatter needs to print the program back (literal spellings,
// the order of clauses), so `parse -> print -> parse` is the identity on the AST.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ast/type.h"
#include "juncture/compiler/source.h"

namespace juncture::compiler::ast {

struct EventDecl;
struct FieldDecl;
struct ChannelDecl;
struct SegmentDecl;
struct ConstDecl;

// ---- Expressions ------------------------------------------------------------------

enum class ExprKind {
  kLiteral,    // 42, 1.5, 15%, "s", 30m, 21:00, true
  kList,       // [a, b]
  kEvent,      // `event` (only valid as the base of a member access)
  kProfile,    // `profile` (likewise)
  kNow,        // `now`
  kName,       // a const or segment name
  kMember,     // base.field
  kCall,       // stdlib function call
  kHas,        // has(expr)
  kWindow,     // count(...), sum(...), time_since(...)
  kUnary,      // -x, not x
  kBinary,     // x op y
};

enum class LiteralKind { kBool, kInt, kFloat, kPercent, kString, kDuration, kClock };

enum class UnaryOp { kNeg, kNot };

enum class BinaryOp {
  kOr, kAnd,
  kEq, kNe, kLt, kLe, kGt, kGe,
  kIn, kNotIn, kStartsWith, kEndsWith, kContains,
  kCoalesce,
  kAdd, kSub, kMul, kDiv, kMod,
};

enum class WindowKind { kCount, kSum, kTimeSince };

// The spelling of an operator as written in source ("starts_with", "??", "not in").
const char* BinaryOpSpelling(BinaryOp op);

struct Expr {
  explicit Expr(ExprKind k, SourceRange r) : kind(k), range(r) {}
  virtual ~Expr() = default;
  const ExprKind kind;
  SourceRange range;
  Type type;  // set by sema
};
using ExprPtr = std::unique_ptr<Expr>;

struct LiteralExpr : Expr {
  explicit LiteralExpr(SourceRange r) : Expr(ExprKind::kLiteral, r) {}
  LiteralKind lit = LiteralKind::kInt;
  std::string spelling;  // as written (durations, numbers, the quoted string)
  bool bool_value = false;
  int64_t int_value = 0;        // kInt; kDuration in microseconds; kClock in minutes
  double float_value = 0;       // kFloat, kPercent (already divided by 100)
  std::string string_value;     // kString, unescaped
};

struct ListExpr : Expr {
  explicit ListExpr(SourceRange r) : Expr(ExprKind::kList, r) {}
  std::vector<ExprPtr> elements;
};

// `event`, `profile` or `now`.
struct KeywordExpr : Expr {
  KeywordExpr(ExprKind k, SourceRange r) : Expr(k, r) {}
};

struct NameExpr : Expr {
  explicit NameExpr(SourceRange r) : Expr(ExprKind::kName, r) {}
  std::string name;
  // Resolved by sema: exactly one of these is set on success.
  const ConstDecl* const_decl = nullptr;
  const SegmentDecl* segment_decl = nullptr;
};

// What a member access reads, as resolved by sema.
enum class MemberTarget { kUnresolved, kEventField, kEnvelope, kProfileField };
// The envelope fields every event has.
enum class EnvelopeField { kId, kCustomer, kTime };

struct MemberExpr : Expr {
  explicit MemberExpr(SourceRange r) : Expr(ExprKind::kMember, r) {}
  ExprPtr base;
  std::string field;
  SourceRange field_range;
  // Resolved by sema.
  MemberTarget target = MemberTarget::kUnresolved;
  EnvelopeField envelope = EnvelopeField::kId;
  // kEventField: the event types `event` may be here (one per binding), and the field
  // in each of them (same name and type). kProfileField: profile_field.
  std::vector<const EventDecl*> events;
  std::vector<const FieldDecl*> event_fields;
  const FieldDecl* profile_field = nullptr;
};

struct CallExpr : Expr {
  explicit CallExpr(SourceRange r) : Expr(ExprKind::kCall, r) {}
  std::string callee;
  SourceRange callee_range;
  std::vector<ExprPtr> args;
  int builtin = -1;    // resolved by sema: index into stdlib's function table
  int overload = -1;   // and the overload chosen
};

struct HasExpr : Expr {
  explicit HasExpr(SourceRange r) : Expr(ExprKind::kHas, r) {}
  ExprPtr operand;
};

struct WindowExpr : Expr {
  explicit WindowExpr(SourceRange r) : Expr(ExprKind::kWindow, r) {}
  WindowKind window = WindowKind::kCount;
  std::string event_name;
  SourceRange event_range;
  std::string field;  // kSum only
  SourceRange field_range;
  int64_t within_us = 0;  // kCount/kSum
  std::string within_spelling;
  ExprPtr where;  // optional
  // Resolved by sema.
  const EventDecl* event_decl = nullptr;
  const FieldDecl* field_decl = nullptr;
};

struct UnaryExpr : Expr {
  explicit UnaryExpr(SourceRange r) : Expr(ExprKind::kUnary, r) {}
  UnaryOp op = UnaryOp::kNeg;
  ExprPtr operand;
};

struct BinaryExpr : Expr {
  explicit BinaryExpr(SourceRange r) : Expr(ExprKind::kBinary, r) {}
  BinaryOp op = BinaryOp::kAdd;
  SourceRange op_range;
  ExprPtr lhs, rhs;
};

// ---- Steps ------------------------------------------------------------------------

enum class StepKind { kSend, kWait, kWaitUntil, kIf, kSplit, kControl, kExit };

struct Step;
using StepPtr = std::unique_ptr<Step>;

struct Block {
  SourceRange range;
  std::vector<StepPtr> steps;
};

struct Step {
  Step(StepKind k, SourceRange r) : kind(k), range(r) {}
  virtual ~Step() = default;
  const StepKind kind;
  SourceRange range;
  std::string id;  // "s1", "s2", ... in source order; set by sema
};

struct Param {
  std::string key;
  SourceRange key_range;
  ExprPtr value;
};

struct SendStep : Step {
  explicit SendStep(SourceRange r) : Step(StepKind::kSend, r) {}
  std::string channel;
  SourceRange channel_range;
  std::string template_name;   // as written, with quotes and escapes
  std::string template_value;  // unescaped
  SourceRange template_range;
  bool has_params_block = false;  // `{ }` written, even if empty
  std::vector<Param> params;
  const ChannelDecl* channel_decl = nullptr;  // resolved by sema
};

struct WaitStep : Step {
  explicit WaitStep(SourceRange r) : Step(StepKind::kWait, r) {}
  int64_t duration_us = 0;
  std::string spelling;
};

// A plain name as written (a role name).
struct NameRef {
  std::string name;
  SourceRange range;
};

// A reference to an event type by name.
struct EventName {
  std::string name;
  SourceRange range;
  const EventDecl* decl = nullptr;  // resolved by sema
};

struct WaitUntilStep : Step {
  explicit WaitUntilStep(SourceRange r) : Step(StepKind::kWaitUntil, r) {}
  std::vector<EventName> events;
  ExprPtr when;  // optional
  int64_t within_us = 0;
  std::string within_spelling;
  std::optional<Block> on_event;    // the block after `within D`
  std::optional<Block> on_timeout;  // the `else` block
};

struct IfArm {
  ExprPtr condition;
  Block body;
};

struct IfStep : Step {
  explicit IfStep(SourceRange r) : Step(StepKind::kIf, r) {}
  std::vector<IfArm> arms;  // `if` then each `else if`
  std::optional<Block> else_body;
};

struct SplitArm {
  double fraction = 0;  // 0.45 for 45%
  std::string spelling; // "45%"
  SourceRange range;
  bool braced = false;  // written as a `{ }` block rather than a single step
  Block body;
};

struct SplitStep : Step {
  explicit SplitStep(SourceRange r) : Step(StepKind::kSplit, r) {}
  std::vector<SplitArm> arms;
};

struct SimpleStep : Step {  // `control`, `exit`
  SimpleStep(StepKind k, SourceRange r) : Step(k, r) {}
};

// ---- Declarations -----------------------------------------------------------------

enum class DeclKind { kEvent, kProfile, kChannel, kSegment, kConst, kJourney };

struct Decl {
  Decl(DeclKind k, SourceRange r) : kind(k), range(r) {}
  virtual ~Decl() = default;
  const DeclKind kind;
  SourceRange range;       // the whole declaration
  std::string name;        // "" for profile
  SourceRange name_range;
};
using DeclPtr = std::unique_ptr<Decl>;

struct TypeRef {
  std::string name;              // "string", "list"
  std::unique_ptr<TypeRef> elem; // list<elem>
  bool optional = false;
  SourceRange range;
};

struct FieldDecl {
  std::string name;
  SourceRange name_range;
  TypeRef type_ref;
  ExprPtr default_value;  // optional
  Type type;              // resolved by sema
  int index = -1;         // position among the fields of its event/profile; set by sema
};

struct EventDecl : Decl {
  explicit EventDecl(SourceRange r) : Decl(DeclKind::kEvent, r) {}
  std::vector<FieldDecl> fields;
  int id = -1;  // dense event-type id, set by sema (declaration order across files)
};

struct ProfileDecl : Decl {
  explicit ProfileDecl(SourceRange r) : Decl(DeclKind::kProfile, r) {}
  std::vector<FieldDecl> fields;
};

struct QuietClause {
  int start_minute = 0;  // minutes after midnight
  int end_minute = 0;
  std::string start_spelling, end_spelling;
  bool local = false;    // customer's profile.timezone rather than UTC
  bool drop = false;     // suppress (reason quiet) rather than defer
  SourceRange range;
};

struct CapClause {
  int64_t count = 0;
  int64_t per_us = 0;
  std::string per_spelling;
  SourceRange range;
};

struct ChannelDecl : Decl {
  explicit ChannelDecl(SourceRange r) : Decl(DeclKind::kChannel, r) {}
  ExprPtr consent;  // optional
  std::optional<QuietClause> quiet;
  std::optional<CapClause> cap;
  std::vector<NameRef> approval_roles;  // `approval ROLE` clauses
  int id = -1;  // set by sema
};

struct SegmentDecl : Decl {
  explicit SegmentDecl(SourceRange r) : Decl(DeclKind::kSegment, r) {}
  ExprPtr value;
  bool used = false;  // set by sema
};

struct ConstDecl : Decl {
  explicit ConstDecl(SourceRange r) : Decl(DeclKind::kConst, r) {}
  ExprPtr value;
  bool used = false;  // set by sema
};

struct Trigger {  // `on E when X` and `exit on E when X`
  EventName event;
  ExprPtr when;  // optional
  SourceRange range;
};

struct Limit {
  std::string param;
  SourceRange param_range;
  bool upper = true;  // `<=`; false for `>=`
  ExprPtr bound;
  SourceRange range;
};

// `goal E [when X] within D`: the first E (X true) within D of an entry converts it.
struct Goal {
  EventName event;
  ExprPtr when;  // optional
  int64_t within_us = 0;
  std::string within_spelling;
  SourceRange range;
};

enum class ReenterMode { kNever, kAlways, kAfter };

struct JourneyDecl : Decl {
  explicit JourneyDecl(SourceRange r) : Decl(DeclKind::kJourney, r) {}
  std::optional<std::string> title, owner;  // as written, with quotes and escapes
  std::string title_value, owner_value;      // unescaped
  SourceRange title_range, owner_range;
  std::optional<int64_t> priority;
  SourceRange priority_range;
  std::vector<NameRef> approvals;  // `approvals` role names
  std::vector<Limit> limits;
  std::vector<Trigger> triggers;
  std::vector<ExprPtr> eligible;     // several `eligible` lines are and-ed
  ReenterMode reenter = ReenterMode::kNever;
  bool reenter_written = false;
  int64_t reenter_after_us = 0;
  std::string reenter_spelling;
  SourceRange reenter_range;
  std::vector<Trigger> exits;
  std::optional<Goal> goal;          // at most one
  std::optional<int64_t> deadline_us;  // `deadline D`: later sends are suppressed `late`
  std::string deadline_spelling;
  SourceRange deadline_range;
  Block body;
};

// One source file's declarations, in source order.
struct Module {
  FileId file = kNoFile;
  std::vector<DeclPtr> decls;
};

// A whole program: every file given to the compiler.
struct Program {
  std::vector<Module> modules;
};

}  // namespace juncture::compiler::ast
