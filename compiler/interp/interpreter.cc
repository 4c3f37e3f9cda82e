#include "interp/interpreter.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <string_view>

#include "backend/spec_builder.h"
#include "juncture/abi/values.h"
#include "juncture/runtime/record.h"
#include "juncture/stdlib/functions.h"

namespace juncture::compiler {
namespace {

using ir::Op;
using ir::Ty;

JnValue Bool(bool b) { return abi::MakeBool(b); }
JnValue Int(uint8_t type, int64_t i) { return abi::MakeInt(i, type); }
JnValue Float(double f) { return abi::MakeFloat(f); }
JnValue String(JnStr s) { return abi::MakeString(s); }

std::string_view View(const JnStr& s) { return {s.data, s.len}; }

uint32_t ElemSize(uint8_t elem) {
  return elem == JN_STRING ? sizeof(JnStr) : elem == JN_BOOL ? 1 : 8;
}

// Saturating double -> int64 (NaN -> 0), as in the constant folder.
int64_t Saturate(double v) {
  if (std::isnan(v)) return 0;
  if (v >= 9.2e18) return std::numeric_limits<int64_t>::max();
  if (v <= -9.2e18) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(v);
}

// Element `i` of a list as a value.
JnValue Element(const JnList& l, uint8_t elem, uint32_t i) {
  const auto* p = static_cast<const uint8_t*>(l.data) + size_t{i} * l.elem_size;
  switch (elem) {
    case JN_BOOL: return Bool(*p != 0);
    case JN_FLOAT: {
      double f;
      std::memcpy(&f, p, sizeof f);
      return Float(f);
    }
    case JN_STRING: {
      JnStr s;
      std::memcpy(&s, p, sizeof s);
      return String(s);
    }
    default: {
      int64_t x;
      std::memcpy(&x, p, sizeof x);
      return Int(elem, x);
    }
  }
}

// Equality and order of two values of one type (-1, 0, 1).
int Compare(const JnValue& a, const JnValue& b) {
  switch (a.type) {
    case JN_BOOL: return int(a.b) - int(b.b);
    case JN_FLOAT: return a.f < b.f ? -1 : a.f > b.f ? 1 : 0;
    case JN_STRING: {
      int c = View(a.s).compare(View(b.s));
      return c < 0 ? -1 : c > 0 ? 1 : 0;
    }
    default: return a.i < b.i ? -1 : a.i > b.i ? 1 : 0;
  }
}

bool ListHas(const JnList& l, uint8_t elem, const JnValue& item) {
  for (uint32_t i = 0; i < l.len; ++i) {
    if (Compare(Element(l, elem, i), item) == 0) return true;
  }
  return false;
}

}  // namespace

Interpreter::Interpreter(std::shared_ptr<const ir::Program> program,
                         std::vector<const ir::Expr*> exprs)
    : program_(std::move(program)), exprs_(std::move(exprs)) {
  for (const ir::Expr* e : exprs_) LayOutConstants(*e);
  for (const ir::Segment& s : program_->segments) LayOutConstants(*s.body);
  tests_.assign(exprs_.size(), &Evaluator::TestThroughEval);
}

void Interpreter::LayOutConstants(const ir::Expr& e) {
  if (e.op == Op::kConst && e.type.ty == Ty::kList) {
    std::string buf;
    for (const ir::Value& x : e.value.list) {
      switch (e.type.elem) {
        case Ty::kString: {
          JnStr s{x.s.data(), static_cast<uint32_t>(x.s.size()), -1};
          buf.append(reinterpret_cast<const char*>(&s), sizeof s);
          break;
        }
        case Ty::kBool: buf.push_back(static_cast<char>(x.b)); break;
        case Ty::kFloat: buf.append(reinterpret_cast<const char*>(&x.f), sizeof x.f); break;
        default: buf.append(reinterpret_cast<const char*>(&x.i), sizeof x.i); break;
      }
    }
    const_lists_[&e] = std::move(buf);
  }
  if (e.op == Op::kCall) calls_[&e] = stdlib::FindEntryPoint(e.symbol);
  for (const ir::ExprPtr& a : e.args) LayOutConstants(*a);
}

JnValue Interpreter::Eval(runtime::ExprId id, JnContext& ctx) const {
  return EvalExpr(*exprs_[static_cast<size_t>(id)], ctx);
}

// Reads a field of the event (`event` bound in ctx) or of the profile.
JnValue Interpreter::Field(const ir::Expr& e, const JnContext& ctx) const {
  bool profile = e.op == Op::kProfileField || e.op == Op::kProfilePresent;
  const uint8_t* record = profile ? ctx.profile : ctx.event;
  if (record == nullptr) return e.op == Op::kEventPresent || e.op == Op::kProfilePresent ? Bool(false) : JnValue{};
  runtime::RecordView view(record);
  const ir::FieldRef* ref = &e.fields[0];
  if (!profile && e.fields.size() > 1) {
    uint32_t type = view.header().type_id;
    for (const ir::FieldRef& f : e.fields) {
      if (f.type_id == type) ref = &f;
    }
  }
  if (e.op == Op::kEventPresent || e.op == Op::kProfilePresent) {
    return Bool(view.IsPresent(profile ? JN_PROFILE_PRESENT_OFFSET : JN_EVENT_PRESENT_OFFSET,
                               ref->presence_bit));
  }
  switch (e.type.ty) {
    case Ty::kBool: return Bool(view.GetBool(ref->offset));
    case Ty::kFloat: return Float(view.GetFloat(ref->offset));
    case Ty::kString: return String(view.GetStr(ref->offset));
    case Ty::kList: {
      JnValue v{};
      v.type = JN_LIST;
      v.elem = ToJnType(e.type.elem);
      v.l = view.GetList(ref->offset);
      return v;
    }
    default: return Int(ToJnType(e.type.ty), view.GetInt(ref->offset));
  }
}

JnValue Interpreter::EvalExpr(const ir::Expr& e, JnContext& ctx) const {
  switch (e.op) {
    case Op::kConst: {
      if (e.type.ty == Ty::kList) {
        const std::string& buf = const_lists_.at(&e);
        JnValue v{};
        v.type = JN_LIST;
        v.elem = ToJnType(e.type.elem);
        v.l = JnList{buf.data(), static_cast<uint32_t>(e.value.list.size()), ElemSize(v.elem)};
        return v;
      }
      return ToJnValue(e.value);
    }
    case Op::kEventField:
    case Op::kEventPresent:
    case Op::kProfileField:
    case Op::kProfilePresent: return Field(e, ctx);
    case Op::kEnvelope: {
      if (!ctx.event) return e.index == ir::kEnvTime ? Int(JN_TIME, ctx.now_us) : String(ctx.customer);
      const auto& h = runtime::RecordView(ctx.event).header();
      if (e.index == ir::kEnvId) return String(h.id);
      if (e.index == ir::kEnvCustomer) return String(h.customer);
      return Int(JN_TIME, h.time_us);
    }
    case Op::kNow: return Int(JN_TIME, ctx.now_us);
    case Op::kCustomer: return String(ctx.customer);
    case Op::kWindow: return ctx.window(ctx.host, e.index);
    case Op::kSegment: return EvalExpr(*program_->segments[e.index].body, ctx);
    case Op::kIntToFloat: return Float(static_cast<double>(EvalExpr(*e.args[0], ctx).i));
    case Op::kNot: return Bool(!EvalExpr(*e.args[0], ctx).b);
    case Op::kNeg: {
      JnValue v = EvalExpr(*e.args[0], ctx);
      if (v.type == JN_FLOAT) return Float(-v.f);
      v.i = static_cast<int64_t>(0 - static_cast<uint64_t>(v.i));
      return v;
    }
    case Op::kAnd: return Bool(EvalExpr(*e.args[0], ctx).b && EvalExpr(*e.args[1], ctx).b);
    case Op::kOr: return Bool(EvalExpr(*e.args[0], ctx).b || EvalExpr(*e.args[1], ctx).b);
    case Op::kSelect:
      return EvalExpr(*e.args[0], ctx).b ? EvalExpr(*e.args[1], ctx) : EvalExpr(*e.args[2], ctx);
    case Op::kCall: return Call(e, ctx);
    default: return Binary(e, ctx);
  }
}

JnValue Interpreter::Binary(const ir::Expr& e, JnContext& ctx) const {
  JnValue a = EvalExpr(*e.args[0], ctx);
  JnValue b = EvalExpr(*e.args[1], ctx);
  switch (e.op) {
    case Op::kEq: return Bool(Compare(a, b) == 0);
    case Op::kNe: return Bool(Compare(a, b) != 0);
    case Op::kLt: return Bool(Compare(a, b) < 0);
    case Op::kLe: return Bool(Compare(a, b) <= 0);
    case Op::kGt: return Bool(Compare(a, b) > 0);
    case Op::kGe: return Bool(Compare(a, b) >= 0);
    case Op::kStartsWith: return Bool(View(a.s).starts_with(View(b.s)));
    case Op::kEndsWith: return Bool(View(a.s).ends_with(View(b.s)));
    case Op::kStrContains: return Bool(View(a.s).find(View(b.s)) != std::string_view::npos);
    case Op::kInList: return Bool(ListHas(b.l, b.elem, a));
    case Op::kListContains: return Bool(ListHas(a.l, a.elem, b));
    case Op::kConcat: {
      std::string joined(View(a.s));
      joined += View(b.s);
      const char* data = ctx.alloc(ctx.host, joined.data(), static_cast<uint32_t>(joined.size()));
      return String(JnStr{data, static_cast<uint32_t>(joined.size()), -1});
    }
    default: return Arithmetic(e, a, b, ctx);
  }
}

// + - * / % and duration scaling. Integer arithmetic wraps; division and modulo by
// zero yield 0 and are counted.
JnValue Interpreter::Arithmetic(const ir::Expr& e, const JnValue& a, const JnValue& b,
                                JnContext& ctx) const {
  uint8_t type = ToJnType(e.type.ty);
  if (e.op == Op::kScale) {  // duration (op) float
    if (e.index == 1 && b.f == 0) {
      ++ctx.div_by_zero;
      return Int(type, 0);
    }
    double x = static_cast<double>(a.i);
    return Int(type, Saturate(e.index == 1 ? x / b.f : x * b.f));
  }
  if (a.type == JN_FLOAT) {
    switch (e.op) {
      case Op::kAdd: return Float(a.f + b.f);
      case Op::kSub: return Float(a.f - b.f);
      case Op::kMul: return Float(a.f * b.f);
      case Op::kDiv:
      case Op::kMod:
        if (b.f == 0) {
          ++ctx.div_by_zero;
          return Float(0);
        }
        return Float(e.op == Op::kDiv ? a.f / b.f : std::fmod(a.f, b.f));
      default: return Float(0);
    }
  }
  if (e.op == Op::kDiv && a.type == JN_DURATION && b.type == JN_DURATION) {  // -> float
    if (b.i == 0) {
      ++ctx.div_by_zero;
      return Float(0);
    }
    return Float(static_cast<double>(a.i) / static_cast<double>(b.i));
  }
  auto x = static_cast<uint64_t>(a.i), y = static_cast<uint64_t>(b.i);
  switch (e.op) {
    case Op::kAdd: return Int(type, static_cast<int64_t>(x + y));
    case Op::kSub: return Int(type, static_cast<int64_t>(x - y));
    case Op::kMul: return Int(type, static_cast<int64_t>(x * y));
    case Op::kDiv:
    case Op::kMod:
      if (b.i == 0) {
        ++ctx.div_by_zero;
        return Int(type, 0);
      }
      if (b.i == -1) return Int(type, e.op == Op::kDiv ? static_cast<int64_t>(0 - x) : 0);
      return Int(type, e.op == Op::kDiv ? a.i / b.i : a.i % b.i);
    default: return Int(type, 0);
  }
}

JnValue Interpreter::Call(const ir::Expr& e, JnContext& ctx) const {
  JnValue args[8];
  uint32_t n = 0;
  for (const ir::ExprPtr& a : e.args) {
    if (n < 8) args[n++] = EvalExpr(*a, ctx);
  }
  auto it = calls_.find(&e);
  if (it == calls_.end() || it->second == nullptr) return JnValue{};
  JnValue v = it->second(&ctx, args, n);
  return v;
}

}  // namespace juncture::compiler
