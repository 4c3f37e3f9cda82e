// Explanations: everything the engine considers for a customer, in order, as it
// decides (Engine::SetTrace). The basis of `juncture explain` ("why didn't Ana get the
// email?"): the engine that decides also tells a TraceSink what it looked at, with the
// values it saw, so an explanation can never disagree with the decisions.
//
// The entries of one message (or timer) come in this order: the message itself (or
// the timer), the goals it may convert, the exits it may trigger, the instances it may
// resume, the journeys it may start (in arbitration order), the steps each instance
// then takes with each send's guardrails, and last the decisions as emitted (after
// arbitration). docs/tooling.md shows a trace.
#pragma once

#include <cstdint>
#include <string_view>

namespace juncture::runtime {

enum class TraceKind : uint8_t {
  kMessage,     // a message of the customer: its event and times, or what an identify changed
  kTimer,       // a timer of the customer fired: a wait over, a `wait until` timed out,
                // a deferred send due
  kGoal,        // an open goal: closed, met (converted) or not
  kExit,        // an instance and the `exit on` clauses this message has: exited or not
  kResume,      // an instance waiting for this event (`wait until`): resumed or not
  kEntry,       // a journey this event may start: whether it may (re-)enter, entered or not
  kClause,      // one clause of a journey's header, or a segment, and its value
  kStep,        // a step taken: a wait and its due time, a branch and its condition, ...
  kGuardrail,   // a send's guardrail and its inputs: deadline, approval, limit,
                // consent, arbitration, cap, quiet hours
  kDecision,    // a decision, as emitted
  kDeadLetter,  // a message of the customer, refused
};

// "message", "timer", "goal", "exit", "resume", "entry", "clause", "step",
// "guardrail", "decision", "dead letter".
const char* TraceKindName(TraceKind kind);

// One thing the engine considered. The views are valid during OnTrace only.
struct TraceEntry {
  TraceKind kind = TraceKind::kMessage;
  // Nesting, for display: 0 a message or timer; 1 a journey it concerns (or a
  // decision); 2 a clause, a step; 3 a guardrail of a send.
  int depth = 0;
  int64_t at_us = 0;         // the decision time
  std::string_view journey;  // "" if none
  std::string_view step;     // the step id ("s3"), "" if none
  uint32_t line = 0;         // the source line of the clause or step, 0 if none
  // What was considered, with its inputs and what came of it, in words:
  //   `on signup when event.plan == "pro": true`
  //   `cap 1 per 1d: 1 sent since 2026-10-01T05:30:00.000Z -> suppressed cap`
  std::string_view text;
};

// Receives a trace. It must not call back into the engine.
class TraceSink {
 public:
  virtual ~TraceSink() = default;
  virtual void OnTrace(const TraceEntry& entry) = 0;
};

}  // namespace juncture::runtime
