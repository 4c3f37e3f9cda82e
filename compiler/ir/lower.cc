#include "ir/lower.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "ast/formatter.h"
#include "ir/layout.h"
#include "ir/printer.h"
#include "juncture/abi/abi.h"
#include "juncture/stdlib/declarations.h"
#include "sema/const_value.h"

namespace juncture::compiler::ir {
namespace {

using ast::BinaryOp;
using ast::ExprKind;

ExprPtr Node(Op op, IrType type) {
  auto e = std::make_unique<Expr>();
  e->op = op;
  e->type = type;
  return e;
}

ExprPtr Node(Op op, IrType type, ExprPtr a) {
  ExprPtr e = Node(op, type);
  e->args.push_back(std::move(a));
  return e;
}

ExprPtr Node(Op op, IrType type, ExprPtr a, ExprPtr b) {
  ExprPtr e = Node(op, type, std::move(a));
  e->args.push_back(std::move(b));
  return e;
}

constexpr IrType kBool{Ty::kBool};
constexpr IrType kFloat{Ty::kFloat};


// One pending successor edge of a step that is filled in when the next step is known.
struct Patch {
  uint32_t step;
  enum Field { kNext, kAlt, kArm } field;
  uint32_t arm = 0;
};

class Lowerer {
 public:
  explicit Lowerer(const SemaResult& sema) : sema_(sema) {}

  std::unique_ptr<Program> Run() {
    program_ = std::make_unique<Program>();
    LowerLayouts();
    for (size_t i = 0; i < sema_.segments.size(); ++i) segment_index_[sema_.segments[i]] = i;
    for (const ast::SegmentDecl* s : sema_.segments) {
      if (!s->used) continue;  // nothing reads it: no code for it
      program_->segments.push_back({s->name, nullptr});
    }
    // Bodies after all indices exist (segments may read each other in any order).
    for (Segment& s : program_->segments) s.body = LowerExpr(*FindSegment(s.name)->value);
    for (const ast::ChannelDecl* c : sema_.channels) LowerChannel(*c);
    for (const JourneyInfo& info : sema_.journeys) LowerJourney(info);
    std::stable_sort(program_->journeys.begin(), program_->journeys.end(),
                     [](const Journey& a, const Journey& b) {
                       return a.priority != b.priority ? a.priority > b.priority
                                                       : a.name < b.name;
                     });
    return std::move(program_);
  }

 private:
  const ast::SegmentDecl* FindSegment(const std::string& name) const {
    for (const ast::SegmentDecl* s : sema_.segments) {
      if (s->name == name) return s;
    }
    return nullptr;
  }

  void LowerLayouts() {
    for (const ast::EventDecl* e : sema_.events) {
      std::vector<const ast::FieldDecl*> fields;
      for (const ast::FieldDecl& f : e->fields) fields.push_back(&f);
      program_->events.push_back(
          LayoutRecord(e->name, static_cast<uint32_t>(e->id), fields, JN_EVENT_FIELDS_OFFSET));
    }
    program_->profile = LayoutRecord("profile", 0, sema_.profile_fields, JN_PROFILE_FIELDS_OFFSET);
    for (size_t i = 0; i < sema_.profile_fields.size(); ++i) {
      if (sema_.profile_fields[i]->name == "timezone") {
        program_->profile_timezone_field = static_cast<int>(i);
      }
    }
  }

  FieldRef EventFieldRef(const ast::EventDecl& e, const ast::FieldDecl& f) const {
    const FieldLayout& l = program_->events[e.id].fields[f.index];
    return {static_cast<uint32_t>(e.id), l.offset, l.presence_bit};
  }

  FieldRef ProfileFieldRef(const ast::FieldDecl& f) const {
    const FieldLayout& l = program_->profile.fields[f.index];
    return {0, l.offset, l.presence_bit};
  }

  // ---- expressions ----

  // int -> float where the context wants a float (also inside lists of constants).
  static ExprPtr Coerce(ExprPtr e, IrType to) {
    if (e->type == to) return e;
    if (e->op == Op::kConst) {
      if (to.ty == Ty::kFloat && e->type.ty == Ty::kInt) {
        e->value.f = static_cast<double>(e->value.i);
        e->value.i = 0;
      } else if (to.ty == Ty::kList && e->type.ty == Ty::kList) {
        for (Value& v : e->value.list) {
          if (to.elem == Ty::kFloat && v.type.ty == Ty::kInt) {
            v.f = static_cast<double>(v.i);
            v.i = 0;
            v.type = kFloat;
          }
        }
      }
      e->type = to;
      e->value.type = to;
      return e;
    }
    if (to.ty == Ty::kFloat && e->type.ty == Ty::kInt) return Node(Op::kIntToFloat, to, std::move(e));
    return e;
  }

  ExprPtr LowerExpr(const ast::Expr& e) {
    IrType type = ToIrType(e.type);
    if (!e.type.optional) {
      if (auto folded = Fold(e)) {
        ExprPtr c = Node(Op::kConst, type);
        c->value = ToValue(*folded, type);
        return c;
      }
    }
    switch (e.kind) {
      case ExprKind::kNow: return Node(Op::kNow, type);
      case ExprKind::kName: {
        const auto& n = static_cast<const ast::NameExpr&>(e);
        ExprPtr s = Node(Op::kSegment, kBool);
        s->index = static_cast<uint32_t>(SegmentSlot(n.segment_decl));
        s->name = n.name;
        return s;
      }
      case ExprKind::kMember: return LowerMember(static_cast<const ast::MemberExpr&>(e), false);
      case ExprKind::kCall: return LowerCall(static_cast<const ast::CallExpr&>(e));
      case ExprKind::kHas: return Present(*static_cast<const ast::HasExpr&>(e).operand);
      case ExprKind::kWindow: return LowerWindow(static_cast<const ast::WindowExpr&>(e));
      case ExprKind::kUnary: {
        const auto& u = static_cast<const ast::UnaryExpr&>(e);
        return Node(u.op == ast::UnaryOp::kNot ? Op::kNot : Op::kNeg, type, LowerExpr(*u.operand));
      }
      case ExprKind::kBinary: return LowerBinary(static_cast<const ast::BinaryExpr&>(e));
      case ExprKind::kList: return LowerDynamicList(static_cast<const ast::ListExpr&>(e));
      default: break;
    }
    // Literals always fold; event/profile alone never pass sema.
    return Node(Op::kConst, type);
  }

  size_t SegmentSlot(const ast::SegmentDecl* decl) {
    for (size_t i = 0; i < program_->segments.size(); ++i) {
      if (program_->segments[i].name == decl->name) return i;
    }
    return 0;
  }

  ExprPtr LowerMember(const ast::MemberExpr& m, bool presence) {
    IrType type = ToIrType(m.type);
    switch (m.target) {
      case ast::MemberTarget::kEnvelope: {
        ExprPtr e = Node(Op::kEnvelope, type);
        e->index = m.envelope == ast::EnvelopeField::kId         ? kEnvId
                   : m.envelope == ast::EnvelopeField::kCustomer ? kEnvCustomer
                                                                 : kEnvTime;
        e->name = m.field;
        return e;
      }
      case ast::MemberTarget::kProfileField: {
        ExprPtr e = Node(presence ? Op::kProfilePresent : Op::kProfileField,
                         presence ? kBool : type);
        e->fields.push_back(ProfileFieldRef(*m.profile_field));
        e->name = m.field;
        return e;
      }
      default: {
        ExprPtr e = Node(presence ? Op::kEventPresent : Op::kEventField, presence ? kBool : type);
        for (size_t i = 0; i < m.events.size(); ++i) {
          e->fields.push_back(EventFieldRef(*m.events[i], *m.event_fields[i]));
        }
        e->name = m.field;
        return e;
      }
    }
  }

  // True when the value of an optional-typed expression is there.
  ExprPtr Present(const ast::Expr& e) {
    if (!e.type.optional) {
      ExprPtr t = Node(Op::kConst, kBool);
      t->value.type = kBool;
      t->value.b = true;
      return t;
    }
    if (e.kind == ExprKind::kMember) return LowerMember(static_cast<const ast::MemberExpr&>(e), true);
    // (a ?? b) is present when a or b is.
    const auto& b = static_cast<const ast::BinaryExpr&>(e);
    return Node(Op::kOr, kBool, Present(*b.lhs), Present(*b.rhs));
  }

  // The value of a possibly optional expression, read without a presence test.
  ExprPtr RawValue(const ast::Expr& e) {
    if (e.type.optional && e.kind == ExprKind::kMember) {
      return LowerMember(static_cast<const ast::MemberExpr&>(e), false);
    }
    if (e.type.optional && e.kind == ExprKind::kBinary) return LowerCoalesce(static_cast<const ast::BinaryExpr&>(e));
    return LowerExpr(e);
  }

  ExprPtr LowerCoalesce(const ast::BinaryExpr& b) {
    IrType type = ToIrType(b.type);
    ExprPtr e = Node(Op::kSelect, type);
    e->args.push_back(Present(*b.lhs));
    e->args.push_back(Coerce(RawValue(*b.lhs), type));
    e->args.push_back(Coerce(RawValue(*b.rhs), type));
    return e;
  }

  ExprPtr LowerCall(const ast::CallExpr& c) {
    const stdlib::Function& fn = stdlib::Functions()[c.builtin];
    const stdlib::Overload& ov = fn.overloads[c.overload];
    ExprPtr e = Node(Op::kCall, ToIrType(c.type));
    e->symbol = std::string(ov.symbol);
    e->name = std::string(fn.name);
    if (ov.implicit & stdlib::kNow) e->args.push_back(Node(Op::kNow, IrType{Ty::kTime}));
    if (ov.implicit & stdlib::kCustomerId) e->args.push_back(Node(Op::kCustomer, IrType{Ty::kString}));
    for (size_t i = 0; i < ov.params.size(); ++i) {
      if (i < c.args.size()) {
        ExprPtr a = LowerExpr(*c.args[i]);
        if (ov.params[i] == stdlib::Kind::kFloat) a = Coerce(std::move(a), kFloat);
        e->args.push_back(std::move(a));
      } else {  // the default time zone
        ExprPtr tz = Node(Op::kProfileField, IrType{Ty::kString});
        tz->fields.push_back(ProfileFieldRef(*sema_.profile_fields[program_->profile_timezone_field]));
        tz->name = "timezone";
        e->args.push_back(std::move(tz));
      }
    }
    return e;
  }

  ExprPtr LowerWindow(const ast::WindowExpr& w) {
    Window win;
    win.kind = w.window == ast::WindowKind::kCount ? WindowKind::kCount
               : w.window == ast::WindowKind::kSum ? WindowKind::kSum : WindowKind::kTimeSince;
    win.event_type = static_cast<uint32_t>(w.event_decl->id);
    win.within_us = w.within_us;
    win.type = ToIrType(w.type);
    if (w.field_decl) {
      win.field = EventFieldRef(*w.event_decl, *w.field_decl);
      win.field_type = ToIrType(w.field_decl->type);
    }
    win.description = (win.kind == WindowKind::kCount ? "count(" : win.kind == WindowKind::kSum ? "sum(" : "time_since(") +
                      w.event_name + (w.field.empty() ? "" : "." + w.field) +
                      (w.within_spelling.empty() ? "" : " within " + w.within_spelling) +
                      (w.where ? " where …" : "") + ")";
    // Equal windows (same event, span, field and filter) share one slot, so the
    // runtime keeps each aggregate once however often the program reads it.
    if (w.where) win.where = LowerExpr(*w.where);
    std::string key = win.description + (win.where ? PrintExpr(*win.where, *program_) : "");
    uint32_t slot;
    if (auto it = window_slots_.find(key); it != window_slots_.end()) {
      slot = it->second;
    } else {
      slot = static_cast<uint32_t>(program_->windows.size());
      program_->windows.push_back(std::move(win));
      window_slots_[key] = slot;
    }
    ExprPtr e = Node(Op::kWindow, ToIrType(w.type));
    e->index = slot;
    return e;
  }

  // A list literal with non-constant elements can only be the right side of `in`
  // (sema ensures it); it lowers to a chain of equalities there.
  ExprPtr LowerDynamicList(const ast::ListExpr& l) { return Node(Op::kConst, ToIrType(l.type)); }

  ExprPtr LowerIn(const ast::BinaryExpr& b) {
    ExprPtr item = LowerExpr(*b.lhs);
    IrType list_type = ToIrType(b.rhs->type);
    IrType common = item->type;
    if (list_type.elem == Ty::kFloat || common.ty == Ty::kFloat) common = kFloat;
    ExprPtr result;
    if (auto folded = Fold(*b.rhs)) {
      ExprPtr list = Node(Op::kConst, list_type);
      list->value = ToValue(*folded, list_type);
      result = Node(Op::kInList, kBool, Coerce(std::move(item), common),
                    Coerce(std::move(list), IrType{Ty::kList, common.ty}));
    } else if (b.rhs->kind != ExprKind::kList) {
      // A list value (a field): sema allows only element types that need no
      // conversion of the list, so only the item may widen.
      ExprPtr list = LowerExpr(*b.rhs);
      IrType elem{list->type.elem};
      result = Node(Op::kInList, kBool, Coerce(std::move(item), elem), std::move(list));
    } else {
      const auto& l = static_cast<const ast::ListExpr&>(*b.rhs);
      for (const ast::ExprPtr& x : l.elements) {
        ExprPtr eq = Node(Op::kEq, kBool, Coerce(LowerExpr(*b.lhs), common),
                          Coerce(LowerExpr(*x), common));
        result = result ? Node(Op::kOr, kBool, std::move(result), std::move(eq)) : std::move(eq);
      }
      if (!result) {
        result = Node(Op::kConst, kBool);
        result->value.type = kBool;
      }
    }
    return b.op == BinaryOp::kNotIn ? Node(Op::kNot, kBool, std::move(result)) : std::move(result);
  }

  ExprPtr LowerBinary(const ast::BinaryExpr& b) {
    IrType type = ToIrType(b.type);
    switch (b.op) {
      case BinaryOp::kCoalesce: return LowerCoalesce(b);
      case BinaryOp::kIn:
      case BinaryOp::kNotIn: return LowerIn(b);
      default: break;
    }
    ExprPtr x = LowerExpr(*b.lhs);
    ExprPtr y = LowerExpr(*b.rhs);
    auto numeric_pair = [&]() {
      if (x->type.ty == Ty::kFloat || y->type.ty == Ty::kFloat) {
        x = Coerce(std::move(x), kFloat);
        y = Coerce(std::move(y), kFloat);
      }
    };
    switch (b.op) {
      case BinaryOp::kAnd: return Node(Op::kAnd, kBool, std::move(x), std::move(y));
      case BinaryOp::kOr: return Node(Op::kOr, kBool, std::move(x), std::move(y));
      case BinaryOp::kEq: case BinaryOp::kNe: case BinaryOp::kLt:
      case BinaryOp::kLe: case BinaryOp::kGt: case BinaryOp::kGe: {
        numeric_pair();
        static const std::map<BinaryOp, Op> kOps = {
            {BinaryOp::kEq, Op::kEq}, {BinaryOp::kNe, Op::kNe}, {BinaryOp::kLt, Op::kLt},
            {BinaryOp::kLe, Op::kLe}, {BinaryOp::kGt, Op::kGt}, {BinaryOp::kGe, Op::kGe}};
        return Node(kOps.at(b.op), kBool, std::move(x), std::move(y));
      }
      case BinaryOp::kStartsWith: return Node(Op::kStartsWith, kBool, std::move(x), std::move(y));
      case BinaryOp::kEndsWith: return Node(Op::kEndsWith, kBool, std::move(x), std::move(y));
      case BinaryOp::kContains: {
        if (x->type.ty == Ty::kString) return Node(Op::kStrContains, kBool, std::move(x), std::move(y));
        IrType common = (x->type.elem == Ty::kFloat || y->type.ty == Ty::kFloat) ? kFloat : y->type;
        return Node(Op::kListContains, kBool, Coerce(std::move(x), IrType{Ty::kList, common.ty}),
                    Coerce(std::move(y), common));
      }
      default: return LowerArithmetic(b.op, type, std::move(x), std::move(y));
    }
  }

  static ExprPtr LowerArithmetic(BinaryOp op, IrType type, ExprPtr x, ExprPtr y) {
    bool x_dur = x->type.ty == Ty::kDuration, y_dur = y->type.ty == Ty::kDuration;
    // duration * number, number * duration, duration / number: a float scaling.
    if ((op == BinaryOp::kMul && x_dur != y_dur) || (op == BinaryOp::kDiv && x_dur && !y_dur)) {
      if (!x_dur) std::swap(x, y);
      ExprPtr e = Node(Op::kScale, type, std::move(x), Coerce(std::move(y), kFloat));
      e->index = op == BinaryOp::kDiv ? 1 : 0;
      return e;
    }
    if (type.ty == Ty::kString) return Node(Op::kConcat, type, std::move(x), std::move(y));
    if (x->type.ty == Ty::kFloat || y->type.ty == Ty::kFloat) {
      x = Coerce(std::move(x), kFloat);
      y = Coerce(std::move(y), kFloat);
    }
    static const std::map<BinaryOp, Op> kOps = {{BinaryOp::kAdd, Op::kAdd}, {BinaryOp::kSub, Op::kSub},
                                                {BinaryOp::kMul, Op::kMul}, {BinaryOp::kDiv, Op::kDiv},
                                                {BinaryOp::kMod, Op::kMod}};
    return Node(kOps.at(op), type, std::move(x), std::move(y));
  }

  // ---- channels and journeys ----

  void LowerChannel(const ast::ChannelDecl& c) {
    Channel ch;
    ch.name = c.name;
    ch.id = static_cast<uint32_t>(c.id);
    if (c.consent) {
      ch.consent = LowerExpr(*c.consent);
      ch.consent_text = ast::FormatExpr(*c.consent);
    }
    if (c.quiet) {
      ch.has_quiet = true;
      ch.quiet = Quiet{c.quiet->start_minute, c.quiet->end_minute, c.quiet->local, c.quiet->drop};
    }
    if (c.cap) {
      ch.has_cap = true;
      ch.cap_count = c.cap->count;
      ch.cap_per_us = c.cap->per_us;
    }
    for (const ast::NameRef& r : c.approval_roles) ch.approval_roles.push_back(r.name);
    program_->channels.push_back(std::move(ch));
  }

  // `keyword` opens the clause's text: "on" or "exit on".
  Trigger LowerTrigger(const ast::Trigger& t, const char* keyword) {
    Trigger out;
    out.event_type = static_cast<uint32_t>(t.event.decl->id);
    if (t.when) out.when = LowerExpr(*t.when);
    out.text = std::string(keyword) + " " + t.event.name;
    if (t.when) out.text += " when " + ast::FormatExpr(*t.when);
    out.line = t.range.begin.line;
    return out;
  }

  void LowerJourney(const JourneyInfo& info) {
    const ast::JourneyDecl& j = *info.decl;
    Journey out;
    out.name = j.name;
    out.title = j.title_value;
    out.owner = j.owner_value;
    out.priority = j.priority.value_or(0);
    out.hash = info.hash;
    out.approved = info.approved();
    out.missing_roles = info.missing_roles;
    for (const ast::Trigger& t : j.triggers) out.triggers.push_back(LowerTrigger(t, "on"));
    for (const ast::ExprPtr& e : j.eligible) {
      out.eligible.push_back({LowerExpr(*e), "eligible " + ast::FormatExpr(*e), e->range.begin.line});
    }
    out.reenter = j.reenter == ast::ReenterMode::kAlways ? ReenterMode::kAlways
                  : j.reenter == ast::ReenterMode::kAfter ? ReenterMode::kAfter
                                                          : ReenterMode::kNever;
    out.reenter_after_us = j.reenter_after_us;
    for (const ast::Trigger& t : j.exits) out.exits.push_back(LowerTrigger(t, "exit on"));
    if (j.goal) {
      Goal g;
      g.event_type = static_cast<uint32_t>(j.goal->event.decl->id);
      if (j.goal->when) g.when = LowerExpr(*j.goal->when);
      g.within_us = j.goal->within_us;
      g.text = "goal " + j.goal->event.name;
      if (j.goal->when) g.text += " when " + ast::FormatExpr(*j.goal->when);
      g.text += " within " + j.goal->within_spelling;
      out.goal = std::move(g);
    }
    out.deadline_us = j.deadline_us.value_or(0);
    journey_ = &out;
    limits_ = &j.limits;
    std::vector<Patch> pending;
    LowerBlock(j.body, pending);
    Step end;
    end.op = StepOp::kComplete;
    end.id = "end";
    end.loc = j.range.end;
    uint32_t end_index = Emit(std::move(end), pending);
    (void)end_index;
    program_->journeys.push_back(std::move(out));
  }

  // Appends `step`, points every pending edge at it, and returns its index.
  uint32_t Emit(Step step, std::vector<Patch>& pending) {
    auto index = static_cast<uint32_t>(journey_->steps.size());
    journey_->steps.push_back(std::move(step));
    for (const Patch& p : pending) {
      Step& s = journey_->steps[p.step];
      if (p.field == Patch::kNext) s.next = index;
      else if (p.field == Patch::kAlt) s.alt = index;
      else s.arms[p.arm].target = index;
    }
    pending.clear();
    return index;
  }

  static Step Base(StepOp op, const ast::Step& s) {
    Step out;
    out.op = op;
    out.id = s.id;
    out.loc = s.range.begin;
    return out;
  }

  // Lowers `block`; on entry `pending` holds the edges that lead into it, on exit the
  // edges that leave it (to whatever follows).
  void LowerBlock(const ast::Block& block, std::vector<Patch>& pending) {
    for (const ast::StepPtr& s : block.steps) LowerStep(*s, pending);
  }

  void LowerStep(const ast::Step& s, std::vector<Patch>& pending) {
    switch (s.kind) {
      case ast::StepKind::kSend: {
        uint32_t i = Emit(LowerSend(static_cast<const ast::SendStep&>(s)), pending);
        pending = {{i, Patch::kNext}};
        return;
      }
      case ast::StepKind::kWait: {
        Step w = Base(StepOp::kWait, s);
        w.duration_us = static_cast<const ast::WaitStep&>(s).duration_us;
        pending = {{Emit(std::move(w), pending), Patch::kNext}};
        return;
      }
      case ast::StepKind::kControl:
        pending = {{Emit(Base(StepOp::kControl, s), pending), Patch::kNext}};
        return;
      case ast::StepKind::kExit:
        Emit(Base(StepOp::kExit, s), pending);
        return;  // nothing follows an exit
      case ast::StepKind::kWaitUntil: return LowerWaitUntil(static_cast<const ast::WaitUntilStep&>(s), pending);
      case ast::StepKind::kIf: return LowerIf(static_cast<const ast::IfStep&>(s), pending);
      case ast::StepKind::kSplit: return LowerSplit(static_cast<const ast::SplitStep&>(s), pending);
    }
  }

  Step LowerSend(const ast::SendStep& s) {
    Step out = Base(StepOp::kSend, s);
    out.channel = static_cast<uint32_t>(s.channel_decl->id);
    out.template_name = s.template_value;
    for (const ast::Param& p : s.params) {
      out.params.push_back({p.key, LowerExpr(*p.value)});
      // Constant values were proven against their limits at compile time; the rest
      // become guards checked when the send is decided.
      if (Fold(*p.value)) continue;
      for (const ast::Limit& l : *limits_) {
        if (l.param != p.key) continue;
        out.guards.push_back({static_cast<uint32_t>(out.params.size() - 1), l.upper,
                              Fold(*l.bound)->AsDouble()});
      }
    }
    return out;
  }

  void LowerWaitUntil(const ast::WaitUntilStep& w, std::vector<Patch>& pending) {
    Step out = Base(StepOp::kWaitUntil, w);
    for (const ast::EventName& e : w.events) out.events.push_back(static_cast<uint32_t>(e.decl->id));
    std::sort(out.events.begin(), out.events.end());
    out.events.erase(std::unique(out.events.begin(), out.events.end()), out.events.end());
    out.duration_us = w.within_us;
    if (w.when) {
      out.cond = LowerExpr(*w.when);
      out.cond_text = ast::FormatExpr(*w.when);
    }
    uint32_t i = Emit(std::move(out), pending);
    std::vector<Patch> on_event = {{i, Patch::kNext}};
    if (w.on_event) LowerBlock(*w.on_event, on_event);
    std::vector<Patch> on_timeout = {{i, Patch::kAlt}};
    if (w.on_timeout) LowerBlock(*w.on_timeout, on_timeout);
    pending = std::move(on_event);
    pending.insert(pending.end(), on_timeout.begin(), on_timeout.end());
  }

  void LowerIf(const ast::IfStep& f, std::vector<Patch>& pending) {
    std::vector<Patch> out;
    for (const ast::IfArm& arm : f.arms) {
      Step branch = Base(StepOp::kBranch, f);
      branch.loc = arm.condition->range.begin;  // an `else if` is on its own line
      branch.cond = LowerExpr(*arm.condition);
      branch.cond_text = ast::FormatExpr(*arm.condition);
      uint32_t i = Emit(std::move(branch), pending);
      std::vector<Patch> then_edges = {{i, Patch::kNext}};
      LowerBlock(arm.body, then_edges);
      out.insert(out.end(), then_edges.begin(), then_edges.end());
      pending = {{i, Patch::kAlt}};  // the next arm, the else block, or what follows
    }
    if (f.else_body) LowerBlock(*f.else_body, pending);
    pending.insert(pending.end(), out.begin(), out.end());
  }

  void LowerSplit(const ast::SplitStep& s, std::vector<Patch>& pending) {
    Step out = Base(StepOp::kSplit, s);
    double cumulative = 0;
    for (const ast::SplitArm& arm : s.arms) {
      cumulative += arm.fraction;
      out.arms.push_back({static_cast<uint32_t>(std::lround(cumulative * 10000)), 0});
    }
    if (!out.arms.empty()) out.arms.back().threshold = 10000;
    uint32_t i = Emit(std::move(out), pending);
    std::vector<Patch> all;
    for (size_t k = 0; k < s.arms.size(); ++k) {
      std::vector<Patch> edges = {{i, Patch::kArm, static_cast<uint32_t>(k)}};
      LowerBlock(s.arms[k].body, edges);
      all.insert(all.end(), edges.begin(), edges.end());
    }
    pending = std::move(all);
  }

  const SemaResult& sema_;
  std::unique_ptr<Program> program_;
  std::map<const ast::SegmentDecl*, size_t> segment_index_;
  std::map<std::string, uint32_t> window_slots_;
  Journey* journey_ = nullptr;
  const std::vector<ast::Limit>* limits_ = nullptr;
};

}  // namespace

std::unique_ptr<Program> Lower(const SemaResult& sema) { return Lowerer(sema).Run(); }

}  // namespace juncture::compiler::ir
