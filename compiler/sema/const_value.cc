#include "sema/const_value.h"

#include <cmath>
#include <cstdio>
#include <limits>

#include "juncture/stdlib/declarations.h"

namespace juncture::compiler {
namespace {

using namespace ast;

// Folding recursion is bounded by the parser's depth limit, plus this for chains of
// consts (a cycle among consts is an error reported by sema; this keeps Fold safe).
constexpr int kMaxConstChain = 64;

// Saturating conversion of a double to int64 (NaN -> 0).
int64_t ToInt(double v) {
  if (std::isnan(v)) return 0;
  if (v >= 9.2e18) return std::numeric_limits<int64_t>::max();
  if (v <= -9.2e18) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(v);
}

// Wrapping int arithmetic, as at run time (no UB on overflow).
int64_t Wrap(uint64_t v) { return static_cast<int64_t>(v); }

std::string FormatDouble(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

class Folder {
 public:
  std::optional<ConstValue> Eval(const Expr& e) {
    if (e.type.is_error() || e.type.optional) return std::nullopt;
    switch (e.kind) {
      case ExprKind::kLiteral: return Literal(static_cast<const LiteralExpr&>(e));
      case ExprKind::kList: return List(static_cast<const ListExpr&>(e));
      case ExprKind::kName: return Name(static_cast<const NameExpr&>(e));
      case ExprKind::kUnary: return Unary(static_cast<const UnaryExpr&>(e));
      case ExprKind::kBinary: return Binary(static_cast<const BinaryExpr&>(e));
      case ExprKind::kCall: return Call(static_cast<const CallExpr&>(e));
      default: return std::nullopt;  // event, profile, now, windows, has
    }
  }

 private:
  std::optional<ConstValue> Literal(const LiteralExpr& e) {
    switch (e.lit) {
      case LiteralKind::kBool: return ConstValue::Bool(e.bool_value);
      case LiteralKind::kInt: return ConstValue::Int(e.int_value);
      case LiteralKind::kFloat:
      case LiteralKind::kPercent: return ConstValue::Float(e.float_value);
      case LiteralKind::kString: return ConstValue::Str(e.string_value);
      case LiteralKind::kDuration: return ConstValue::Duration(e.int_value);
      case LiteralKind::kClock: return std::nullopt;
    }
    return std::nullopt;
  }

  std::optional<ConstValue> List(const ListExpr& e) {
    ConstValue v;
    v.type = e.type;
    for (const ExprPtr& x : e.elements) {
      auto item = Eval(*x);
      if (!item) return std::nullopt;
      v.list.push_back(Convert(*item, e.type.Elem()));
    }
    return v;
  }

  std::optional<ConstValue> Name(const NameExpr& e) {
    if (!e.const_decl || !e.const_decl->value || ++chain_ > kMaxConstChain) return std::nullopt;
    auto v = Eval(*e.const_decl->value);
    --chain_;
    return v;
  }

  // Widens an int to float where the context expects a float.
  static ConstValue Convert(ConstValue v, Type to) {
    if (to.kind == TypeKind::kFloat && v.type.kind == TypeKind::kInt) {
      return ConstValue::Float(static_cast<double>(v.i));
    }
    return v;
  }

  std::optional<ConstValue> Unary(const UnaryExpr& e) {
    auto x = Eval(*e.operand);
    if (!x) return std::nullopt;
    if (e.op == UnaryOp::kNot) return ConstValue::Bool(!x->b);
    if (x->type.kind == TypeKind::kFloat) return ConstValue::Float(-x->f);
    x->i = Wrap(0 - static_cast<uint64_t>(x->i));
    return x;
  }

  static int Compare(const ConstValue& a, const ConstValue& b) {
    if (a.type.kind == TypeKind::kString) return a.s < b.s ? -1 : a.s > b.s ? 1 : 0;
    if (a.type.kind == TypeKind::kBool) return int(a.b) - int(b.b);
    if (a.type.kind == TypeKind::kFloat || b.type.kind == TypeKind::kFloat) {
      double x = a.AsDouble(), y = b.AsDouble();
      return x < y ? -1 : x > y ? 1 : 0;
    }
    return a.i < b.i ? -1 : a.i > b.i ? 1 : 0;
  }

  std::optional<ConstValue> Binary(const BinaryExpr& e) {
    auto a = Eval(*e.lhs);
    if (!a) return std::nullopt;
    // Short-circuit like the runtime: `false and X` is constant even if X is not.
    if (e.op == BinaryOp::kAnd && !a->b) return ConstValue::Bool(false);
    if (e.op == BinaryOp::kOr && a->b) return ConstValue::Bool(true);
    auto b = Eval(*e.rhs);
    if (!b) return std::nullopt;
    switch (e.op) {
      case BinaryOp::kAnd:
      case BinaryOp::kOr: return ConstValue::Bool(b->b);
      case BinaryOp::kEq: return ConstValue::Bool(Compare(*a, *b) == 0);
      case BinaryOp::kNe: return ConstValue::Bool(Compare(*a, *b) != 0);
      case BinaryOp::kLt: return ConstValue::Bool(Compare(*a, *b) < 0);
      case BinaryOp::kLe: return ConstValue::Bool(Compare(*a, *b) <= 0);
      case BinaryOp::kGt: return ConstValue::Bool(Compare(*a, *b) > 0);
      case BinaryOp::kGe: return ConstValue::Bool(Compare(*a, *b) >= 0);
      case BinaryOp::kIn:
      case BinaryOp::kNotIn: {
        bool found = false;
        for (const ConstValue& x : b->list) found = found || Compare(*a, x) == 0;
        return ConstValue::Bool(found == (e.op == BinaryOp::kIn));
      }
      case BinaryOp::kStartsWith: return ConstValue::Bool(a->s.starts_with(b->s));
      case BinaryOp::kEndsWith: return ConstValue::Bool(a->s.ends_with(b->s));
      case BinaryOp::kContains:
        if (a->type.is_list()) {
          bool found = false;
          for (const ConstValue& x : a->list) found = found || Compare(x, *b) == 0;
          return ConstValue::Bool(found);
        }
        return ConstValue::Bool(a->s.find(b->s) != std::string::npos);
      case BinaryOp::kCoalesce: return a;
      default: return Arithmetic(e, *a, *b);
    }
  }

  std::optional<ConstValue> Arithmetic(const BinaryExpr& e, const ConstValue& a,
                                       const ConstValue& b) {
    TypeKind result = e.type.kind;
    if (result == TypeKind::kString) return ConstValue::Str(a.s + b.s);
    if (result == TypeKind::kFloat) {
      double x = a.AsDouble(), y = b.AsDouble();
      switch (e.op) {
        case BinaryOp::kAdd: return ConstValue::Float(x + y);
        case BinaryOp::kSub: return ConstValue::Float(x - y);
        case BinaryOp::kMul: return ConstValue::Float(x * y);
        case BinaryOp::kDiv: return ConstValue::Float(y == 0 ? 0 : x / y);
        case BinaryOp::kMod: return ConstValue::Float(y == 0 ? 0 : std::fmod(x, y));
        default: return std::nullopt;
      }
    }
    if (result != TypeKind::kInt && result != TypeKind::kDuration) return std::nullopt;
    ConstValue out;
    out.type = e.type;
    // duration * float and duration / float scale by a float; round toward zero.
    if (a.type.kind == TypeKind::kFloat || b.type.kind == TypeKind::kFloat) {
      double x = a.AsDouble(), y = b.AsDouble();
      out.i = ToInt(e.op == BinaryOp::kMul ? x * y : (y == 0 ? 0 : x / y));
      return out;
    }
    auto x = static_cast<uint64_t>(a.i), y = static_cast<uint64_t>(b.i);
    switch (e.op) {
      case BinaryOp::kAdd: out.i = Wrap(x + y); break;
      case BinaryOp::kSub: out.i = Wrap(x - y); break;
      case BinaryOp::kMul: out.i = Wrap(x * y); break;
      case BinaryOp::kDiv:
        out.i = b.i == 0 ? 0 : b.i == -1 ? Wrap(0 - x) : a.i / b.i;
        break;
      case BinaryOp::kMod:
        out.i = (b.i == 0 || b.i == -1) ? 0 : a.i % b.i;
        break;
      default: return std::nullopt;
    }
    return out;
  }

  std::optional<ConstValue> Call(const CallExpr& e) {
    if (e.builtin < 0) return std::nullopt;
    const stdlib::Function& fn = stdlib::Functions()[e.builtin];
    if (fn.overloads[e.overload].implicit != stdlib::kNoImplicit) return std::nullopt;
    std::vector<ConstValue> args;
    for (const ExprPtr& a : e.args) {
      auto v = Eval(*a);
      if (!v) return std::nullopt;
      args.push_back(*v);
    }
    std::string_view name = fn.name;
    const ConstValue& x = args[0];
    if (name == "lower" || name == "upper") {
      std::string s = x.s;
      for (char& c : s) {
        if (name == "lower" && c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
        if (name == "upper" && c >= 'a' && c <= 'z') c = char(c - 'a' + 'A');
      }
      return ConstValue::Str(s);
    }
    if (name == "trim") {
      size_t b = x.s.find_first_not_of(" \t\r\n");
      if (b == std::string::npos) return ConstValue::Str("");
      size_t end = x.s.find_last_not_of(" \t\r\n");
      return ConstValue::Str(x.s.substr(b, end - b + 1));
    }
    if (name == "len") {
      if (x.type.is_list()) return ConstValue::Int(static_cast<int64_t>(x.list.size()));
      int64_t n = 0;
      for (unsigned char c : x.s) n += (c & 0xC0) != 0x80;
      return ConstValue::Int(n);
    }
    if (name == "abs") {
      if (e.type.kind == TypeKind::kFloat) return ConstValue::Float(std::fabs(x.AsDouble()));
      return ConstValue::Int(x.i < 0 ? Wrap(0 - static_cast<uint64_t>(x.i)) : x.i);
    }
    if (name == "min" || name == "max") {
      int c = Compare(args[0], args[1]);
      bool first = name == "min" ? c <= 0 : c >= 0;
      return Convert(first ? args[0] : args[1], e.type);
    }
    if (name == "round") return ConstValue::Int(ToInt(std::round(x.AsDouble())));
    if (name == "floor") return ConstValue::Int(ToInt(std::floor(x.AsDouble())));
    if (name == "ceil") return ConstValue::Int(ToInt(std::ceil(x.AsDouble())));
    if (name == "days") return ConstValue::Float(static_cast<double>(x.i) / 86400e6);
    if (name == "hours") return ConstValue::Float(static_cast<double>(x.i) / 3600e6);
    return std::nullopt;
  }

  int chain_ = 0;
};

}  // namespace

std::optional<ConstValue> Fold(const ast::Expr& expr) { return Folder().Eval(expr); }

std::string ConstValue::ToString() const {
  switch (type.kind) {
    case TypeKind::kBool: return b ? "true" : "false";
    case TypeKind::kInt: return std::to_string(i);
    case TypeKind::kFloat: return FormatDouble(f);
    case TypeKind::kString: return "\"" + s + "\"";
    case TypeKind::kDuration: return std::to_string(i / 1'000'000) + "s";
    case TypeKind::kList:
    case TypeKind::kEmptyList: {
      std::string out = "[";
      for (size_t k = 0; k < list.size(); ++k) out += (k ? ", " : "") + list[k].ToString();
      return out + "]";
    }
    default: return "?";
  }
}

}  // namespace juncture::compiler
