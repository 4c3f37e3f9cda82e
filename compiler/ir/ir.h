// The typed IR: the one program representation that both back ends consume (the
// reference interpreter and the LLVM code generator).
//
// A Program holds:
//  * record layouts: every event type and the profile, with field offsets (the ABI of
//    juncture/abi/abi.h);
//  * windows: the per-customer aggregates the program reads (count/sum/time_since),
//    each with a slot; the runtime keeps only these;
//  * segments: named bool expressions, called by index;
//  * channels: guardrails (consent expression, quiet hours, cap, approval roles);
//  * journeys: triggers, eligibility, exits, and the steps as a graph of numbered
//    nodes. Every edge goes to a higher index, so a journey always terminates.
//
// Expressions are typed trees with explicit conversions: no implicit widening, no
// optional types (has/?? are lowered to presence tests and selects), consts folded.
// Every node carries its result type. The IR is immutable after lowering and the
// verifier (verifier.h) checks its invariants.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "juncture/compiler/source.h"

namespace juncture::compiler::ir {

// Value types. Lists carry an element type (a scalar).
enum class Ty : uint8_t { kBool, kInt, kFloat, kString, kTime, kDuration, kList };

struct IrType {
  Ty ty = Ty::kBool;
  Ty elem = Ty::kBool;  // kList only
  friend bool operator==(const IrType&, const IrType&) = default;
};

const char* TyName(Ty ty);
std::string TypeName(IrType t);  // "int", "list<string>"

// A constant value (scalars, or a list of scalars).
struct Value {
  IrType type;
  bool b = false;
  int64_t i = 0;  // int, time, duration
  double f = 0;
  std::string s;
  std::vector<Value> list;
  friend bool operator==(const Value&, const Value&) = default;
};

// ---- Layouts ------------------------------------------------------------------------

struct FieldLayout {
  std::string name;
  IrType type;
  uint32_t offset = 0;       // byte offset in the record
  int presence_bit = -1;     // bit in the presence word; -1 for a required field
  bool has_default = false;  // a required field with a default (absent -> default)
  Value default_value;       // when has_default
};

struct RecordLayout {
  std::string name;          // event name, or "profile"
  uint32_t type_id = 0;      // event-type id (0 for the profile)
  uint32_t size = 0;         // bytes, a multiple of 8
  std::vector<FieldLayout> fields;  // declaration order
};

// ---- Expressions ------------------------------------------------------------------

enum class Op : uint8_t {
  // Leaves.
  kConst,          // value in Expr::value
  kEventField,     // the current event's field: Expr::fields (one per possible type)
  kEventPresent,   // presence bit of an optional event field: Expr::fields
  kEnvelope,       // event.id / event.customer / event.time: Expr::index (EnvelopeSlot)
  kProfileField,   // profile field at Expr::fields[0]
  kProfilePresent, // presence bit of an optional profile field
  kNow,            // the decision time
  kCustomer,       // the customer being decided (string)
  kWindow,         // window slot Expr::index (int, float or duration)
  kSegment,        // segment Expr::index (bool)
  // Conversions and unary operators.
  kIntToFloat,
  kNot,
  kNeg,            // int, float or duration
  // Arithmetic; operand types are equal except the duration scalings.
  kAdd, kSub, kMul, kDiv, kMod,  // int, float; duration +-; time +- duration; time - time
  kScale,          // duration * float (either order) or duration / float: Expr::index 0 mul, 1 div
  kConcat,         // string + string
  // Comparisons (operands of one type; int/float mixes have an explicit kIntToFloat).
  kEq, kNe, kLt, kLe, kGt, kGe,
  // Logic (short-circuit) and selection.
  kAnd, kOr,
  kSelect,         // args: cond, then, else (lowering of ??)
  // Strings and lists.
  kStartsWith, kEndsWith, kStrContains,
  kInList,         // args: item, list  (list may be a kConst list: a precompiled set)
  kListContains,   // args: list, item
  // A stdlib call: Expr::symbol, args include the implicit ones first.
  kCall,
};

const char* OpName(Op op);

enum EnvelopeSlot : uint32_t { kEnvId = 0, kEnvCustomer = 1, kEnvTime = 2 };


// Where a field lives in one event type.
struct FieldRef {
  uint32_t type_id = 0;   // event type (unused for the profile)
  uint32_t offset = 0;
  int presence_bit = -1;
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  Op op = Op::kConst;
  IrType type;
  std::vector<ExprPtr> args;
  Value value;                   // kConst
  std::vector<FieldRef> fields;  // kEventField/kEventPresent/kProfileField/kProfilePresent
  uint32_t index = 0;            // kEnvelope slot, kWindow slot, kSegment index, kScale mode
  std::string symbol;            // kCall: the C entry point (juncture/abi/abi.h)
  std::string name;              // for the printer: field, segment or function name
};

// ---- Program parts ----------------------------------------------------------------

enum class WindowKind : uint8_t { kCount, kSum, kTimeSince };

// A per-customer aggregate over the customer's own events of one type. Windows end
// at the decision time and include the current message.
struct Window {
  WindowKind kind = WindowKind::kCount;
  uint32_t event_type = 0;
  int64_t within_us = 0;         // kCount/kSum
  FieldRef field;                // kSum: the summed field
  IrType field_type;             // kSum: int or float
  ExprPtr where;                 // optional filter; `event` is the counted event
  IrType type;                   // result: int (count), int/float (sum), duration
  std::string description;       // "count(page_view within 10m where …)" for printing
};

struct Segment {
  std::string name;
  ExprPtr body;  // bool; reads the profile, windows, the time, other segments
};

struct Quiet {
  int start_minute = 0, end_minute = 0;  // window [start, end), may wrap midnight
  bool local = false;   // in profile.timezone (profile_tz_field), else UTC
  bool drop = false;    // suppress instead of defer
};

struct Channel {
  std::string name;
  uint32_t id = 0;
  ExprPtr consent;                 // null: no consent clause (always allowed)
  std::string consent_text;        // `consent` as written (explanations)
  bool has_quiet = false;
  Quiet quiet;
  bool has_cap = false;
  int64_t cap_count = 0, cap_per_us = 0;
  std::vector<std::string> approval_roles;
};

struct Trigger {
  uint32_t event_type = 0;
  ExprPtr when;  // null: always
  // For explanations (`juncture explain`): the clause as written, in canonical form
  // (`on cart_viewed when event.total > 50`), and its line.
  std::string text;
  uint32_t line = 0;
};

// One `eligible` clause; a journey's eligibility is all of them.
struct Clause {
  ExprPtr expr;
  std::string text;  // as Trigger::text: `eligible profile.plan == "free"`
  uint32_t line = 0;
};

// `goal E when X within D`: `when` is evaluated with `event` bound to the E.
struct Goal {
  uint32_t event_type = 0;
  ExprPtr when;  // null: always
  int64_t within_us = 0;
  std::string text;  // as Trigger::text: `goal purchase within 7d`
};

enum class ReenterMode : uint8_t { kNever, kAlways, kAfter };

enum class StepOp : uint8_t {
  kSend,       // channel, template, params, guards; -> next
  kWait,       // duration; -> next
  kWaitUntil,  // events, when, within; -> on_event / on_timeout
  kBranch,     // cond; -> then_target / else_target
  kSplit,      // arms; -> arm target
  kControl,    // records a control decision; -> next
  kExit,       // ends the instance (lifecycle `exited`)
  kComplete,   // the end of the journey (lifecycle `completed`)
};

const char* StepOpName(StepOp op);

struct Param {
  std::string key;
  ExprPtr value;
};

// A run-time `limit` guard on a send parameter that is not a constant.
struct Guard {
  uint32_t param = 0;  // index into Step::params
  bool upper = true;   // value <= bound (else >=)
  double bound = 0;
};

struct SplitArm {
  uint32_t threshold = 0;  // cumulative, in basis points (0..10000)
  uint32_t target = 0;
};

struct Step {
  StepOp op = StepOp::kComplete;
  std::string id;          // "s3": the source step this node comes from
  SourceLoc loc;
  uint32_t next = 0;       // kSend kWait kControl; kWaitUntil: on_event target
  uint32_t alt = 0;        // kWaitUntil: on_timeout target; kBranch: else target
  // kSend
  uint32_t channel = 0;
  std::string template_name;
  std::vector<Param> params;
  std::vector<Guard> guards;
  // kWait: duration; kWaitUntil: within
  int64_t duration_us = 0;
  // kWaitUntil
  std::vector<uint32_t> events;
  ExprPtr cond;            // kWaitUntil: optional `when`; kBranch: the condition
  std::string cond_text;   // `cond` as written (explanations)
  // kBranch: `next` is the then target
  // kSplit
  std::vector<SplitArm> arms;
};

// What the engine tests when an event of `event_type` comes (the join pass, join.h).
struct EventTest {
  uint32_t event_type = 0;
  ExprPtr test;  // null: always true
};

struct Journey {
  std::string name;
  std::string title, owner;
  int64_t priority = 0;
  std::string hash;                        // content hash of this version
  bool approved = true;                    // false: every send is suppressed (unapproved)
  std::vector<std::string> missing_roles;
  std::vector<Trigger> triggers;
  std::vector<Clause> eligible;            // and-ed; none: everyone
  ReenterMode reenter = ReenterMode::kNever;
  int64_t reenter_after_us = 0;
  std::vector<Trigger> exits;
  std::optional<Goal> goal;
  int64_t deadline_us = 0;                 // 0: none; else later sends are suppressed `late`
  std::vector<Step> steps;                 // steps[0] is the entry
  // The join pass (join.h), before the verifier: the triggers, eligibility and exits
  // as one test per event type. Empty until it runs.
  std::vector<EventTest> entry_tests, exit_tests;
};

struct Program {
  std::vector<RecordLayout> events;  // index == type_id
  RecordLayout profile;
  int profile_timezone_field = -1;   // index into profile.fields, or -1
  std::vector<Window> windows;       // index == slot
  std::vector<Segment> segments;
  std::vector<Channel> channels;     // index == id
  std::vector<Journey> journeys;     // descending priority, then name (§6 order)
  // CompileOptions::explain: the back ends also evaluate each header clause and each
  // segment on its own (runtime::ClauseSpec), for the engine's trace.
  bool explain = false;
};

}  // namespace juncture::compiler::ir
