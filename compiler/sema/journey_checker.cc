// Journeys: header clauses, steps, what `event` is bound to at each step, split
// percents, limits proven at compile time, and step ids.
#include <cmath>

#include "ast/formatter.h"
#include "sema/checker.h"
#include "sema/const_value.h"

namespace juncture::compiler {

using namespace ast;

namespace {

// The union of two bindings, in event-id order, without duplicates.
Binding Union(const Binding& a, const Binding& b) {
  Binding out = a;
  for (const EventDecl* e : b) {
    if (std::find(out.begin(), out.end(), e) == out.end()) out.push_back(e);
  }
  std::sort(out.begin(), out.end(),
            [](const EventDecl* x, const EventDecl* y) { return x->id < y->id; });
  return out;
}

std::string Percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g%%", fraction * 100);
  return buf;
}

}  // namespace

const EventDecl* Checker::ResolveEvent(EventName& name) {
  auto it = events_.find(name.name);
  if (it == events_.end()) {
    Error(ErrorCode::kUnknownEvent, name.range, "unknown event '" + name.name + "'" + Suggest(name.name, Keys(events_)));
    return nullptr;
  }
  name.decl = it->second;
  return it->second;
}

void Checker::CheckJourney(JourneyDecl& j, JourneyInfo& info) {
  sends_.clear();
  if (j.triggers.empty()) {
    Error(ErrorCode::kJourneyStructure, j.name_range, "journey '" + j.name + "' has no trigger: add an 'on EVENT' line");
  }
  // Triggers: `event` is the trigger's event in its `when`.
  Binding entry;
  for (Trigger& t : j.triggers) {
    const EventDecl* e = ResolveEvent(t.event);
    if (!e) continue;
    Binding self = {e};
    if (t.when) CheckBoolExpr(*t.when, ExprEnv{Site::kJourney, &self}, "a trigger's 'when'");
    entry = Union(entry, self);
  }
  // Eligibility and the steps see any of the trigger events.
  for (ExprPtr& e : j.eligible) {
    CheckBoolExpr(*e, ExprEnv{Site::kJourney, &entry}, "'eligible'");
  }
  for (Trigger& t : j.exits) {
    const EventDecl* e = ResolveEvent(t.event);
    if (!e || !t.when) continue;
    Binding self = {e};
    CheckBoolExpr(*t.when, ExprEnv{Site::kJourney, &self}, "an exit's 'when'");
  }
  if (j.goal) {
    // In the goal's `when`, `event` is the converting event.
    if (const EventDecl* e = ResolveEvent(j.goal->event); e && j.goal->when) {
      Binding self = {e};
      CheckBoolExpr(*j.goal->when, ExprEnv{Site::kJourney, &self}, "a goal's 'when'");
    }
    if (j.goal->within_us <= 0) Error(ErrorCode::kInvalidValue, j.goal->range, "a goal's 'within' needs a duration longer than 0s");
  }
  if (j.deadline_us && *j.deadline_us <= 0 && !j.deadline_spelling.empty()) {
    Error(ErrorCode::kInvalidValue, j.deadline_range, "'deadline' needs a duration longer than 0s");
  }
  if (j.reenter == ReenterMode::kAfter && j.reenter_after_us <= 0) {
    Error(ErrorCode::kInvalidValue, j.reenter_range, "'reenter after' needs a duration longer than 0s");
  }
  CheckBlock(j.body, entry, j);
  CheckLimits(j);
  int next_id = 1;
  AssignStepIds(j.body, next_id);
  ComputeApprovals(info);
}

Binding Checker::CheckBlock(Block& block, const Binding& in, JourneyDecl& j) {
  Binding current = in;
  for (StepPtr& s : block.steps) current = CheckStep(*s, current, j);
  return current;
}

// Checks one step given what `event` may be before it; returns what it may be after.
Binding Checker::CheckStep(Step& step, const Binding& in, JourneyDecl& j) {
  ExprEnv env{Site::kJourney, &in};
  switch (step.kind) {
    case StepKind::kSend:
      CheckSend(static_cast<SendStep&>(step), in, j);
      return in;
    case StepKind::kWait: {
      auto& w = static_cast<WaitStep&>(step);
      if (w.duration_us <= 0) Error(ErrorCode::kInvalidValue, w.range, "'wait' needs a duration longer than 0s");
      return in;
    }
    case StepKind::kWaitUntil: {
      auto& w = static_cast<WaitUntilStep&>(step);
      Binding matched;
      for (EventName& e : w.events) {
        if (const EventDecl* d = ResolveEvent(e)) matched = Union(matched, {d});
      }
      if (w.within_us <= 0) Error(ErrorCode::kInvalidValue, w.range, "'within' needs a duration longer than 0s");
      const char* note = "here 'event' is the event that ended the 'wait until'";
      if (w.when) {
        CheckBoolExpr(*w.when, ExprEnv{Site::kJourney, &matched, false, note},
                      "'wait until … when'");
      }
      // The event block sees the matched event; `else` keeps the previous one. After
      // the step, either may have happened.
      Binding after_match = w.on_event ? CheckBlock(*w.on_event, matched, j) : matched;
      Binding after_timeout = w.on_timeout ? CheckBlock(*w.on_timeout, in, j) : in;
      return Union(after_match, after_timeout);
    }
    case StepKind::kIf: {
      auto& s = static_cast<IfStep&>(step);
      Binding out;
      for (IfArm& arm : s.arms) {
        CheckBoolExpr(*arm.condition, env, "an 'if' condition");
        out = Union(out, CheckBlock(arm.body, in, j));
      }
      out = Union(out, s.else_body ? CheckBlock(*s.else_body, in, j) : in);
      return out;
    }
    case StepKind::kSplit: {
      auto& s = static_cast<SplitStep&>(step);
      double total = 0;
      Binding out;
      for (SplitArm& arm : s.arms) {
        if (arm.fraction <= 0 || arm.fraction > 1) {
          Error(ErrorCode::kSplitPercent, arm.range, "a split branch needs a percent above 0% and at most 100%");
        } else if (std::fabs(arm.fraction * 10000 - std::round(arm.fraction * 10000)) > 1e-6) {
          Error(ErrorCode::kSplitPercent, arm.range, "split percents are resolved to 0.01%; " + arm.spelling +
                               " is finer than that");
        }
        total += arm.fraction;
        out = Union(out, CheckBlock(arm.body, in, j));
      }
      if (std::fabs(total - 1.0) > 1e-9) {
        Error(ErrorCode::kSplitPercent, s.range, "split percents add up to " + Percent(total) + ", not 100%");
      }
      return out;
    }
    case StepKind::kControl:
    case StepKind::kExit:
      return in;
  }
  return in;
}

void Checker::CheckSend(SendStep& s, const Binding& in, JourneyDecl& j) {
  auto it = channels_.find(s.channel);
  if (it == channels_.end()) {
    Error(ErrorCode::kUnknownChannel, s.channel_range, "unknown channel '" + s.channel + "'" +
                               Suggest(s.channel, Keys(channels_)));
  } else {
    s.channel_decl = it->second;
  }
  if (s.template_value.empty()) Error(ErrorCode::kInvalidValue, s.template_range, "template name must not be empty");
  std::map<std::string, const Param*> seen;
  for (Param& p : s.params) {
    if (auto [prev, inserted] = seen.emplace(p.key, &p); !inserted) {
      Error(ErrorCode::kDuplicate, p.key_range, "parameter '" + p.key + "' is given twice");
      sink_.Note(prev->second->key_range, "first given here");
    }
    CheckValue(*p.value, ExprEnv{Site::kJourney, &in});
  }
  sends_.push_back(&s);
}

// `limit p <= v`: v is a numeric constant. Each send of the journey that passes p a
// constant is proven against v now (a violation is an error); other values become a
// run-time guard (suppressed, reason limit).
void Checker::CheckLimits(JourneyDecl& j) {
  for (Limit& limit : j.limits) {
    Type t = CheckValue(*limit.bound, ExprEnv{Site::kLimitBound});
    if (t.is_error()) continue;
    if (!t.is_numeric()) {
      Error(ErrorCode::kLimit, limit.bound->range, "a limit must be a number, not " + TypeName(t));
      continue;
    }
    std::optional<ConstValue> bound = Fold(*limit.bound);
    if (!bound) {
      Error(ErrorCode::kLimit, limit.bound->range, "a limit must be a constant");
      continue;
    }
    bool used = false;
    for (SendStep* s : sends_) {
      for (Param& p : s->params) {
        if (p.key != limit.param || p.value->type.is_error()) continue;
        used = true;
        if (!p.value->type.is_numeric()) {
          Error(ErrorCode::kLimit, p.value->range, "parameter '" + p.key + "' has a limit, so it must be a "
                                "number, not " + TypeName(p.value->type));
          continue;
        }
        std::optional<ConstValue> v = Fold(*p.value);
        if (!v) continue;  // checked at run time
        double x = v->AsDouble(), b = bound->AsDouble();
        if (limit.upper ? x > b : x < b) {
          Error(ErrorCode::kLimit, p.value->range, "parameter '" + p.key + "' is " + ast::FormatExpr(*p.value) +
                                    ", outside the approved limit " + p.key +
                                    (limit.upper ? " <= " : " >= ") +
                                    ast::FormatExpr(*limit.bound));
          sink_.Note(limit.range, "limit declared here");
        }
      }
    }
    if (!used) {
      sink_.Warning(WarnCode::kUnusedLimit, limit.param_range,
                    "no send of journey '" + j.name + "' passes a parameter '" + limit.param +
                        "'");
    }
  }
}

void Checker::AssignStepIds(Block& block, int& next) {
  for (StepPtr& s : block.steps) {
    s->id = "s" + std::to_string(next++);
    switch (s->kind) {
      case StepKind::kWaitUntil: {
        auto& w = static_cast<WaitUntilStep&>(*s);
        if (w.on_event) AssignStepIds(*w.on_event, next);
        if (w.on_timeout) AssignStepIds(*w.on_timeout, next);
        break;
      }
      case StepKind::kIf: {
        auto& f = static_cast<IfStep&>(*s);
        for (IfArm& arm : f.arms) AssignStepIds(arm.body, next);
        if (f.else_body) AssignStepIds(*f.else_body, next);
        break;
      }
      case StepKind::kSplit:
        for (SplitArm& arm : static_cast<SplitStep&>(*s).arms) AssignStepIds(arm.body, next);
        break;
      default:
        break;
    }
  }
}

}  // namespace juncture::compiler
