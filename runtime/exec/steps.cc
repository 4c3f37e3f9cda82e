// Walking a journey's step graph: run from a step until the instance waits, exits or
// completes. Every edge of the graph goes forward, so this always terminates.
#include <xxhash.h>

#include "exec/engine_impl.h"

namespace juncture::runtime {
namespace {

// The split point of a customer in a split step: 0..9999, stable per customer,
// journey and step, and independent between steps.
uint32_t SplitPoint(const std::string& customer, const std::string& journey,
                    const std::string& step) {
  std::string key = customer;
  key += '\0';
  key += journey;
  key += '\0';
  key += step;
  return static_cast<uint32_t>(XXH3_64bits(key.data(), key.size()) % 10000);
}

}  // namespace

uint64_t Engine::Impl::SetTimer(int64_t due, TimerKind kind, const std::string& customer,
                                uint32_t j) {
  Timer t;
  t.due_us = due;
  t.seq = next_seq_++;
  t.kind = kind;
  t.customer = customer;
  t.journey = j;
  PushTimer(t);
  return t.seq;
}

Decision& Engine::Impl::Lifecycle(Batch& batch, uint32_t j, const std::string& customer,
                                  std::string_view cause, std::string_view step,
                                  Outcome outcome, int64_t at) const {
  const JourneySpec& journey = spec_->journeys[j];
  Decision& d = batch.Add();
  // A control decision's id has no suffix.
  SetDecisionId(d.id, cause, journey.name, step,
                outcome == Outcome::kControl ? std::string_view() : ToString(outcome));
  d.customer = customer;
  d.journey = journey.name;
  d.version = journey.version;
  d.step = step;
  d.outcome = outcome;
  d.cause = cause;
  d.at_us = at;
  return d;
}

void Engine::Impl::Run(uint32_t j, const std::string& customer, CustomerState& c,
                       Instance inst, uint32_t step, int64_t at, Batch& batch) {
  const JourneySpec& journey = spec_->journeys[j];
  for (;;) {
    const StepSpec& s = journey.steps[step];
    switch (s.kind) {
      case StepKind::kSend:
        if (tracing_) TraceStep(j, s, at, 0, 0);
        Send(j, s, customer, c, inst, at, batch);
        step = s.next;
        continue;
      case StepKind::kControl: {
        if (tracing_) TraceStep(j, s, at, 0, 0);
        Lifecycle(batch, j, customer, inst.cause(), s.id, Outcome::kControl, at);
        // Held out from here on; its goal counts for the control arm.
        inst.held_out = true;
        if (auto goal = c.goals.find(j); goal != c.goals.end()) goal->second.held_out = true;
        step = s.next;
        continue;
      }
      case StepKind::kBranch: {
        EvalHost host{this, &c, at, {}};
        JnContext ctx = Context(host, customer, inst.event.get());
        bool taken = program_.evaluator->Test(s.cond, ctx);
        stats_.div_by_zero += ctx.div_by_zero;
        if (tracing_) TraceStep(j, s, at, taken ? s.next : s.alt, 0);
        step = taken ? s.next : s.alt;
        continue;
      }
      case StepKind::kSplit: {
        uint32_t point = SplitPoint(customer, journey.name, s.id);
        uint32_t target = s.arms.back().second;
        for (const auto& [threshold, arm_target] : s.arms) {
          if (point < threshold) {
            target = arm_target;
            break;
          }
        }
        if (tracing_) TraceStep(j, s, at, target, point);
        step = target;
        continue;
      }
      case StepKind::kWait:
      case StepKind::kWaitUntil: {
        inst.step = step;
        if (tracing_) TraceStep(j, s, at, 0, at + s.duration_us);
        inst.timer = SetTimer(at + s.duration_us,
                              s.kind == StepKind::kWait ? TimerKind::kResume : TimerKind::kTimeout,
                              customer, j);
        StoreInstance(c, j, std::move(inst));
        return;
      }
      case StepKind::kExit:
      case StepKind::kComplete:
        if (tracing_) TraceStep(j, s, at, 0, 0);
        Lifecycle(batch, j, customer, inst.cause(), s.id,
                  s.kind == StepKind::kExit ? Outcome::kExited : Outcome::kCompleted, at);
        EraseInstance(c, j);
        return;
    }
  }
}

}  // namespace juncture::runtime
