#include "ir/join.h"

#include <utility>

namespace juncture::compiler::ir {
namespace {

ExprPtr Clone(const Expr& e) {
  auto c = std::make_unique<Expr>();
  c->op = e.op;
  c->type = e.type;
  c->value = e.value;
  c->fields = e.fields;
  c->index = e.index;
  c->symbol = e.symbol;
  c->name = e.name;
  for (const ExprPtr& a : e.args) c->args.push_back(a ? Clone(*a) : nullptr);
  return c;
}

ExprPtr True() {
  auto c = std::make_unique<Expr>();
  c->op = Op::kConst;
  c->type = IrType{Ty::kBool};
  c->value.type = c->type;
  c->value.b = true;
  return c;
}

bool IsTrue(const ExprPtr& e) {
  return e && e->op == Op::kConst && e->type.ty == Ty::kBool && e->value.b;
}

ExprPtr Logic(Op op, ExprPtr a, ExprPtr b) {
  auto c = std::make_unique<Expr>();
  c->op = op;
  c->type = IrType{Ty::kBool};
  c->args.push_back(std::move(a));
  c->args.push_back(std::move(b));
  return c;
}

std::vector<EventTest> Join(const std::vector<Trigger>& clauses, const std::vector<Clause>& eligible) {
  ExprPtr also;  // the eligible clauses and-ed, in source order
  for (const Clause& e : eligible) {
    also = also ? Logic(Op::kAnd, std::move(also), Clone(*e.expr)) : Clone(*e.expr);
  }
  std::vector<EventTest> out;
  for (size_t i = 0; i < clauses.size(); ++i) {
    uint32_t type = clauses[i].event_type;
    bool seen = false;
    for (size_t k = 0; k < i; ++k) seen |= clauses[k].event_type == type;
    if (seen) continue;
    ExprPtr any;  // null: always true
    for (size_t k = i; k < clauses.size(); ++k) {
      if (clauses[k].event_type != type) continue;
      ExprPtr when = clauses[k].when ? Clone(*clauses[k].when) : True();
      any = any ? Logic(Op::kOr, std::move(any), std::move(when)) : std::move(when);
      if (!clauses[k].when) break;
    }
    if (IsTrue(any)) any.reset();
    if (also) any = any ? Logic(Op::kAnd, std::move(any), Clone(*also)) : Clone(*also);
    out.push_back({type, std::move(any)});
  }
  return out;
}

}  // namespace

void JoinClauses(Program& program) {
  for (Journey& j : program.journeys) {
    j.entry_tests = Join(j.triggers, j.eligible);
    j.exit_tests = Join(j.exits, {});
  }
}

}  // namespace juncture::compiler::ir
