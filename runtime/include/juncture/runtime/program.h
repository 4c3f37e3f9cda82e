// What the engine runs: a compiled program as plain data plus a back end that
// evaluates its expressions.
//
// The compiler builds a ProgramSpec from its typed IR (compiler/driver/spec.cc) and
// pairs it with an Evaluator: the reference interpreter over the IR, or (later)
// JIT-compiled code. The runtime never sees the IR itself; it walks each journey's
// step graph, applies guardrails and records decisions, and asks the Evaluator for
// the value of expression number N. Immutable once built; shared by threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "juncture/abi/abi.h"

namespace juncture::runtime {

// An expression of the program, by number. kNoExpr: absent (always true).
using ExprId = int32_t;
inline constexpr ExprId kNoExpr = -1;

// A field of a record layout (see juncture/abi/abi.h for the representation).
struct FieldSpec {
  std::string name;
  uint8_t type = JN_BOOL;   // JN_* of the value
  uint8_t elem = JN_BOOL;   // element type of a list
  uint32_t offset = 0;
  int presence_bit = -1;    // optional fields
  bool has_default = false;
  JnValue default_value{};  // strings point into ProgramSpec-owned storage
};

struct RecordSpec {
  std::string name;     // event name or "profile"
  uint32_t type_id = 0;
  uint32_t size = 0;
  std::vector<FieldSpec> fields;
};

enum class WindowKind : uint8_t { kCount, kSum, kTimeSince };

struct WindowSpec {
  WindowKind kind = WindowKind::kCount;
  uint32_t event_type = 0;
  int64_t within_us = 0;
  uint32_t field_offset = 0;  // kSum
  int field_presence_bit = -1;
  uint8_t field_type = JN_INT;
  uint8_t result_type = JN_INT;
  ExprId where = kNoExpr;  // evaluated with `event` bound to the counted event
  // `where` reads only the counted event and constants (no profile, time, customer,
  // window or segment): its result for an event never changes, so the engine
  // evaluates it once per event and keeps the window running.
  bool where_reads_event_only = false;
};

struct ChannelSpec {
  std::string name;
  ExprId consent = kNoExpr;
  std::string consent_text;  // as written, for explanations ("" if none)
  std::vector<std::string> consent_traits;  // the profile fields it reads (explanations)
  bool has_quiet = false;
  int quiet_start_minute = 0, quiet_end_minute = 0;
  bool quiet_local = false, quiet_drop = false;
  bool has_cap = false;
  int64_t cap_count = 0, cap_per_us = 0;
};

// One journey's test for messages of one event type: in `triggers`, whether such a
// message starts the journey (any of its `on` clauses for that type, in source
// order, and then `eligible`); in `exits`, whether it ends an instance (any of its
// `exit on` clauses for that type). One entry per event type: a single expression,
// which the JIT compiles into one native function per journey and event type.
struct TriggerSpec {
  uint32_t event_type = 0;
  ExprId test = kNoExpr;  // kNoExpr: always true
};

// One clause of a journey's header as written, for explanations (Engine::SetTrace,
// `juncture explain`): its text and line, and, in a program compiled for explaining
// (ProgramSpec::explain), its own condition, so that a trace can show the value of
// each clause. The engine decides with the TriggerSpec tests, never with these.
struct ClauseSpec {
  std::string text;               // `on cart_viewed when event.total > 50`
  uint32_t line = 0;
  uint32_t event_type = 0;        // `on` and `exit on`: the clause's event
  ExprId test = kNoExpr;          // its condition (kNoExpr: none, or not explaining)
  std::vector<uint32_t> segments; // the segments it reads, directly or through
                                  // others (ProgramSpec::segments); explaining only
};

// A segment, in a program compiled for explaining: its name and its expression.
struct SegmentSpec {
  std::string name;
  ExprId test = kNoExpr;
};

enum class StepKind : uint8_t { kSend, kWait, kWaitUntil, kBranch, kSplit, kControl, kExit, kComplete };

struct ParamSpec {
  std::string key;
  ExprId value = kNoExpr;
  // `key` as a JSON string literal and a colon (`"code":`), rendered once by the spec
  // builder so that each send copies it; empty: rendered at each send.
  std::string key_json;
};

struct GuardSpec {
  uint32_t param = 0;
  bool upper = true;
  double bound = 0;
};

struct StepSpec {
  StepKind kind = StepKind::kComplete;
  std::string id;                 // "s3"
  uint32_t next = 0, alt = 0;     // successors (see compiler/ir/ir.h)
  uint32_t channel = 0;           // kSend
  std::string template_name;      // kSend
  std::vector<ParamSpec> params;  // kSend
  std::vector<GuardSpec> guards;  // kSend
  int64_t duration_us = 0;        // kWait; kWaitUntil: within
  std::vector<uint32_t> events;   // kWaitUntil
  ExprId cond = kNoExpr;          // kWaitUntil `when`, kBranch
  std::string cond_text;          // `cond` as written (explanations)
  uint32_t line = 0;              // the step's line in its source
  std::vector<std::pair<uint32_t, uint32_t>> arms;  // kSplit: (threshold bp, target)
};

// `goal E when X within D` (docs/language.md, "Goals").
struct GoalSpec {
  uint32_t event_type = 0;
  ExprId test = kNoExpr;  // the goal's `when`, with `event` bound to the E
  int64_t within_us = 0;
  std::string text;       // as written (explanations)
};

enum class Reenter : uint8_t { kNever, kAlways, kAfter };

struct JourneySpec {
  std::string name;
  int64_t priority = 0;
  std::string version;  // content hash
  bool approved = true;
  std::vector<std::string> missing_roles;  // unapproved: the sign-offs it lacks
  std::vector<TriggerSpec> triggers;  // one per event type; the test includes `eligible`
  Reenter reenter = Reenter::kNever;
  int64_t reenter_after_us = 0;
  std::vector<TriggerSpec> exits;     // one per event type
  std::optional<GoalSpec> goal;
  int64_t deadline_us = 0;            // 0: none; sends later than this after their signal
                                      // are suppressed `late`
  std::vector<StepSpec> steps;
  // Explanations only: each `on`, `eligible` and `exit on` clause, in source order.
  std::vector<ClauseSpec> on_clauses, eligible_clauses, exit_clauses;
};

struct ProgramSpec {
  std::vector<RecordSpec> events;   // index == type_id
  RecordSpec profile;
  int profile_timezone_field = -1;  // index into profile.fields
  std::vector<WindowSpec> windows;  // index == slot
  std::vector<ChannelSpec> channels;
  std::vector<JourneySpec> journeys;  // arbitration order
  std::vector<std::unique_ptr<std::string>> strings;  // storage for default values
  // Compiled for explaining (compiler::CompileOptions::explain): every ClauseSpec has
  // its own condition and `segments` lists every segment a clause reads.
  bool explain = false;
  std::vector<SegmentSpec> segments;  // explaining only

  // The event type with that name, or -1.
  int FindEvent(std::string_view name) const;
};

class Evaluator;

// A back end's direct entry point for a bool expression (a predicate): its value,
// returned in a register. `self` and `id` let one function serve many expressions
// (the interpreter's thunk); JIT-compiled predicates ignore them.
using TestFn = bool (*)(JnContext* ctx, const Evaluator* self, ExprId id);

// A back end: evaluates expression `id` of the program in `ctx`. Must not throw;
// evaluation problems (division by zero) yield values and counters in ctx.
class Evaluator {
 public:
  virtual ~Evaluator() = default;
  virtual JnValue Eval(ExprId id, JnContext& ctx) const = 0;

  // The value of the bool expression `id`; kNoExpr is true. This is the engine's hot
  // path (triggers, eligibility, consent, conditions): one indirect call through the
  // back end's table, no virtual call and no JnValue. Ids without an entry go
  // through Eval.
  bool Test(ExprId id, JnContext& ctx) const {
    if (id == kNoExpr) return true;
    if (static_cast<size_t>(id) < tests_.size()) return tests_[static_cast<size_t>(id)](&ctx, this, id);
    return Eval(id, ctx).b != 0;
  }

  // "interpreter", "jit".
  virtual const char* name() const = 0;

 protected:
  // A TestFn that answers through Eval, for back ends without a direct entry.
  static bool TestThroughEval(JnContext* ctx, const Evaluator* self, ExprId id) {
    return self->Eval(id, *ctx).b != 0;
  }
  // Filled by the back end: tests_[id] for every expression id (any type; Test is
  // only called on bool ones).
  std::vector<TestFn> tests_;
};

// A runnable program: its spec and the back end that evaluates its expressions.
struct CompiledProgram {
  std::shared_ptr<const ProgramSpec> spec;
  std::shared_ptr<const Evaluator> evaluator;
};

}  // namespace juncture::runtime
