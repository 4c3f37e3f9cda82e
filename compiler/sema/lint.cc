// Warnings: things that are legal but probably not what the author meant. Each has a
// WarnCode so that `juncture lint -Wno-<code>` can switch it off.
#include "sema/checker.h"
#include "sema/const_value.h"

namespace juncture::compiler {

using namespace ast;

void Checker::Lint() {
  for (const SegmentDecl* s : result_.segments) {
    if (!s->used) {
      sink_.Warning(WarnCode::kUnusedSegment, s->name_range,
                    "segment '" + s->name + "' is never used");
    }
  }
  for (const ConstDecl* c : result_.consts) {
    if (!c->used) {
      sink_.Warning(WarnCode::kUnusedConst, c->name_range, "const '" + c->name + "' is never used");
    }
  }
  for (const ChannelDecl* c : result_.channels) {
    if (!c->consent) {
      sink_.Warning(WarnCode::kChannelWithoutConsent, c->name_range,
                    "channel '" + c->name + "' has no 'consent' clause; every customer counts "
                    "as opted in (write 'consent true' if that is intended)");
    }
  }
  for (const JourneyInfo& info : result_.journeys) LintJourney(*info.decl);
}

namespace {

bool Waits(const Block& block) {
  for (const StepPtr& s : block.steps) {
    switch (s->kind) {
      case StepKind::kWait:
      case StepKind::kWaitUntil: return true;
      case StepKind::kIf: {
        const auto& f = static_cast<const IfStep&>(*s);
        for (const IfArm& arm : f.arms) {
          if (Waits(arm.body)) return true;
        }
        if (f.else_body && Waits(*f.else_body)) return true;
        break;
      }
      case StepKind::kSplit:
        for (const SplitArm& arm : static_cast<const SplitStep&>(*s).arms) {
          if (Waits(arm.body)) return true;
        }
        break;
      default:
        break;
    }
  }
  return false;
}

}  // namespace

void Checker::LintJourney(const JourneyDecl& j) {
  if (j.exits.empty() && Waits(j.body)) {
    sink_.Warning(WarnCode::kWaitWithoutExit, j.name_range,
                  "journey '" + j.name + "' waits but has no 'exit on' clause: customers "
                  "stay in it until the wait ends, whatever they do");
  }
  LintBlock(j.body);
}

void Checker::LintBlock(const Block& block) {
  for (size_t i = 0; i < block.steps.size(); ++i) {
    const Step& s = *block.steps[i];
    if (s.kind == StepKind::kExit && i + 1 < block.steps.size()) {
      sink_.Warning(WarnCode::kUnreachableStep, block.steps[i + 1]->range,
                    "this step is never reached: the journey exits just before it");
    }
    switch (s.kind) {
      case StepKind::kWaitUntil: {
        const auto& w = static_cast<const WaitUntilStep&>(s);
        if (w.on_event) LintBlock(*w.on_event);
        if (w.on_timeout) LintBlock(*w.on_timeout);
        break;
      }
      case StepKind::kIf: {
        const auto& f = static_cast<const IfStep&>(s);
        for (const IfArm& arm : f.arms) {
          if (auto v = Fold(*arm.condition); v && v->type.kind == TypeKind::kBool) {
            sink_.Warning(WarnCode::kConstantCondition, arm.condition->range,
                          std::string("this condition is always ") +
                              (v->b ? "true" : "false"));
          }
          LintBlock(arm.body);
        }
        if (f.else_body) LintBlock(*f.else_body);
        break;
      }
      case StepKind::kSplit:
        for (const SplitArm& arm : static_cast<const SplitStep&>(s).arms) LintBlock(arm.body);
        break;
      default:
        break;
    }
  }
}

}  // namespace juncture::compiler
