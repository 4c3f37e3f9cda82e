// Expressions: types, name resolution, optional-safety and where each form may
// appear (Site). Every Check* sets and returns the expression's type; kError means
// the problem has been reported and callers stay quiet about it.
#include "base/suggest.h"
#include "juncture/stdlib/declarations.h"
#include "juncture/stdlib/time_zones.h"
#include "sema/checker.h"
#include "sema/const_value.h"

namespace juncture::compiler {

using namespace ast;

namespace {

bool IsConstantSite(Site s) {
  return s == Site::kConst || s == Site::kFieldDefault || s == Site::kLimitBound;
}

const char* SiteWord(Site s) {
  switch (s) {
    case Site::kConst: return "a const";
    case Site::kFieldDefault: return "a field default";
    case Site::kLimitBound: return "a limit bound";
    case Site::kSegment: return "a segment";
    case Site::kConsent: return "a channel's consent";
    case Site::kJourney: return "a journey";
  }
  return "here";
}

bool Numeric(Type t) { return t.is_numeric(); }
Type NumericResult(Type a, Type b) {
  return a.kind == TypeKind::kFloat || b.kind == TypeKind::kFloat ? Type::Float() : Type::Int();
}

std::string Quote(const std::string& s) { return "'" + s + "'"; }

}  // namespace

Type Checker::CheckValue(Expr& e, const ExprEnv& env) {
  Type t = CheckExpr(e, env);
  RejectOptional(e, t);
  return t.NonOptional();
}

void Checker::RejectOptional(const Expr& e, Type t) {
  if (!t.optional || t.is_error()) return;
  Error(ErrorCode::kOptional, e.range, "this value is optional (" + TypeName(t) +
                     "): read it with has(...) or give a default with ??");
}

bool Checker::RequireConstantSite(const Expr& e, const ExprEnv& env, const char* what) {
  if (!IsConstantSite(env.site)) return true;
  Error(ErrorCode::kConstant, e.range, std::string(SiteWord(env.site)) + " must be a constant; " + what +
                     " is not known until a decision is made");
  return false;
}

Type Checker::CheckExpr(Expr& e, const ExprEnv& env) {
  Type t;
  switch (e.kind) {
    case ExprKind::kLiteral: t = CheckLiteral(static_cast<LiteralExpr&>(e)); break;
    case ExprKind::kList: t = CheckList(static_cast<ListExpr&>(e), env); break;
    case ExprKind::kEvent:
      Error(ErrorCode::kUnknownField, e.range, "'event' must be followed by a field, as in event.id");
      break;
    case ExprKind::kProfile:
      Error(ErrorCode::kUnknownField, e.range, "'profile' must be followed by a field, as in profile.country");
      break;
    case ExprKind::kNow:
      if (RequireConstantSite(e, env, "'now'")) t = Type::Time();
      break;
    case ExprKind::kName: t = CheckName(static_cast<NameExpr&>(e), env); break;
    case ExprKind::kMember: t = CheckMember(static_cast<MemberExpr&>(e), env); break;
    case ExprKind::kCall: t = CheckCall(static_cast<CallExpr&>(e), env); break;
    case ExprKind::kHas: {
      auto& h = static_cast<HasExpr&>(e);
      Type inner = CheckExpr(*h.operand, env);
      if (inner.is_error()) break;
      if (!inner.optional) {
        sink_.Warning(WarnCode::kNeedlessOptionalCheck, e.range,
                      "has(...) is always true here: the value is not optional");
      }
      t = Type::Bool();
      break;
    }
    case ExprKind::kWindow: t = CheckWindow(static_cast<WindowExpr&>(e), env); break;
    case ExprKind::kUnary: t = CheckUnary(static_cast<UnaryExpr&>(e), env); break;
    case ExprKind::kBinary: t = CheckBinary(static_cast<BinaryExpr&>(e), env); break;
  }
  e.type = t;
  if (e.kind == ExprKind::kList && !t.is_error() && !dynamic_lists_ok_.count(&e) && !Fold(e)) {
    Error(ErrorCode::kConstant, e.range, "list elements must be constants here (only the list after 'in' may "
                   "hold other values)");
    e.type = t = Type::Error();
  }
  return t;
}

Type Checker::CheckLiteral(LiteralExpr& e) {
  switch (e.lit) {
    case LiteralKind::kBool: return Type::Bool();
    case LiteralKind::kInt: return Type::Int();
    case LiteralKind::kFloat:
    case LiteralKind::kPercent: return Type::Float();
    case LiteralKind::kString: return Type::String();
    case LiteralKind::kDuration: return Type::Duration();
    case LiteralKind::kClock:
      Error(ErrorCode::kType, e.range, "a clock time like " + e.spelling +
                         " can only appear in a channel's 'quiet' clause; "
                         "use hour_of_day() to test the time");
      return Type::Error();
  }
  return Type::Error();
}

Type Checker::CheckList(ListExpr& e, const ExprEnv& env) {
  if (e.elements.empty()) return Type::EmptyList();
  Type elem;
  bool ok = true;
  for (ExprPtr& x : e.elements) {
    Type t = CheckValue(*x, env);
    if (t.is_error()) {
      ok = false;
      continue;
    }
    if (t.is_list()) {
      Error(ErrorCode::kType, x->range, "lists cannot contain lists");
      ok = false;
      continue;
    }
    if (elem.is_error()) {
      elem = t;
    } else if (Numeric(elem) && Numeric(t)) {
      elem = NumericResult(elem, t);
    } else if (elem.kind != t.kind) {
      Error(ErrorCode::kType, x->range, "list elements must all have one type: " + TypeName(elem) + " and " +
                          TypeName(t) + " are mixed");
      ok = false;
    }
  }
  return ok ? Type::List(elem.kind) : Type::Error();
}

Type Checker::CheckName(NameExpr& e, const ExprEnv& env) {
  // A chain of consts/segments in progress that reaches this name again is a cycle.
  auto check_cycle = [&](const Decl* d) {
    if (state_[d] != State::kChecking) return false;
    std::string path;
    auto it = std::find(checking_.begin(), checking_.end(), d);
    for (; it != checking_.end(); ++it) path += (*it)->name + " -> ";
    Error(ErrorCode::kCycle, e.range, "'" + e.name + "' depends on itself (" + path + e.name + ")");
    return true;
  };
  if (auto it = consts_.find(e.name); it != consts_.end()) {
    ConstDecl* c = it->second;
    c->used = true;
    e.const_decl = c;
    if (check_cycle(c)) return Type::Error();
    CheckConst(*c);
    return c->value->type.NonOptional();
  }
  if (auto it = segments_.find(e.name); it != segments_.end()) {
    SegmentDecl* s = it->second;
    s->used = true;
    e.segment_decl = s;
    if (IsConstantSite(env.site)) {
      Error(ErrorCode::kConstant, e.range, std::string(SiteWord(env.site)) + " must be a constant; segment '" +
                         e.name + "' depends on the customer");
      return Type::Error();
    }
    if (check_cycle(s)) return Type::Error();
    CheckSegment(*s);
    return Type::Bool();
  }
  std::string hint;
  if (events_.count(e.name)) {
    hint = "; '" + e.name + "' is an event: read the current event's fields as event.<field>";
  } else if (channels_.count(e.name)) {
    hint = "; '" + e.name + "' is a channel, not a value";
  } else if (journeys_.count(e.name)) {
    hint = "; '" + e.name + "' is a journey, not a value";
  } else {
    std::vector<std::string> names = Keys(consts_);
    for (auto& [k, v] : segments_) names.push_back(k);
    hint = Suggest(e.name, names);
  }
  Error(ErrorCode::kUnknownName, e.range, "unknown name " + Quote(e.name) + hint);
  return Type::Error();
}

Type Checker::CheckMember(MemberExpr& e, const ExprEnv& env) {
  if (e.base->kind == ExprKind::kProfile) {
    if (!RequireConstantSite(e, env, "'profile'")) return Type::Error();
    auto it = profile_fields_.find(e.field);
    if (it == profile_fields_.end()) {
      Error(ErrorCode::kUnknownField, e.field_range, "the profile has no field " + Quote(e.field) +
                               Suggest(e.field, Keys(profile_fields_)));
      return Type::Error();
    }
    e.target = MemberTarget::kProfileField;
    e.profile_field = it->second;
    return it->second->type;
  }
  if (e.base->kind == ExprKind::kEvent) return CheckEventField(e, env);
  Type base = CheckExpr(*e.base, env);
  if (!base.is_error()) {
    Error(ErrorCode::kUnknownField, e.field_range, "only 'event' and 'profile' have fields; this is a " + TypeName(base));
  }
  return Type::Error();
}

// `event.f`: the field must exist, with one type, in every event type that can be
// bound at this point (the trigger, a `wait until` match, the counted event, ...).
Type Checker::CheckEventField(MemberExpr& e, const ExprEnv& env) {
  if (!env.binding) {
    Error(ErrorCode::kBinding, e.base->range, std::string(SiteWord(env.site)) +
                             " cannot read 'event': there is no current event here");
    return Type::Error();
  }
  static const std::map<std::string, std::pair<EnvelopeField, TypeKind>> kEnvelope = {
      {"id", {EnvelopeField::kId, TypeKind::kString}},
      {"customer", {EnvelopeField::kCustomer, TypeKind::kString}},
      {"time", {EnvelopeField::kTime, TypeKind::kTime}}};
  if (auto it = kEnvelope.find(e.field); it != kEnvelope.end()) {
    e.target = MemberTarget::kEnvelope;
    e.envelope = it->second.first;
    return Type{it->second.second};
  }
  Type type;
  for (const EventDecl* ev : *env.binding) {
    const FieldDecl* field = nullptr;
    for (const FieldDecl& f : ev->fields) {
      if (f.name == e.field) field = &f;
    }
    if (!field) {
      std::vector<std::string> names;
      for (const FieldDecl& f : ev->fields) names.push_back(f.name);
      std::string msg = "event " + Quote(ev->name) + " has no field " + Quote(e.field);
      if (env.binding->size() > 1) {
        msg += " ('event' here may be any of:";
        for (const EventDecl* b : *env.binding) msg += " " + b->name;
        msg += ")";
      }
      if (env.binding_note) msg += std::string(" (") + env.binding_note + ")";
      Error(ErrorCode::kUnknownField, e.field_range, msg + Suggest(e.field, names));
      return Type::Error();
    }
    if (field->type.is_error()) return Type::Error();
    if (!e.event_fields.empty() && field->type != type) {
      Error(ErrorCode::kBinding, e.field_range, "field " + Quote(e.field) + " has different types in the events "
                           "that may be bound here (" + TypeName(type) + " in " +
                               e.events.back()->name + ", " + TypeName(field->type) + " in " +
                               ev->name + ")");
      return Type::Error();
    }
    type = field->type;
    e.events.push_back(ev);
    e.event_fields.push_back(field);
  }
  e.target = MemberTarget::kEventField;
  return type;
}

// A time zone written as a constant must be one the time-zone database knows (a
// zone read from the profile falls back to UTC at run time instead).
bool Checker::CheckZoneName(const Expr& zone) {
  std::optional<ConstValue> v = Fold(zone);
  if (!v || v->type != Type::String() || stdlib::IsTimeZone(v->s)) return true;
  Error(ErrorCode::kUnknownTimeZone, zone.range, "unknown time zone " + Quote(v->s) +
                        " (not an IANA name such as \"Europe/Berlin\" or \"UTC\")" +
                        Suggest(v->s, stdlib::TimeZoneNames()));
  return false;
}

Type Checker::CheckCall(CallExpr& e, const ExprEnv& env) {
  int index = stdlib::FindFunction(e.callee);
  std::vector<Type> args;
  bool arg_error = false;
  for (ExprPtr& a : e.args) {
    args.push_back(CheckValue(*a, env));
    arg_error |= args.back().is_error();
  }
  if (index < 0) {
    std::vector<std::string> names;
    for (const auto& f : stdlib::Functions()) names.emplace_back(f.name);
    // Function names of other languages (SQL, spreadsheets, JavaScript).
    static const std::vector<std::pair<std::string, std::string>> kAliases = {
        {"lowercase", "lower"}, {"tolower", "lower"}, {"toLowerCase", "lower"}, {"lcase", "lower"},
        {"uppercase", "upper"}, {"toupper", "upper"}, {"toUpperCase", "upper"}, {"ucase", "upper"},
        {"length", "len"},      {"size", "len"},      {"strip", "trim"},        {"str", "string"},
        {"to_string", "string"}, {"toString", "string"}, {"hour", "hour_of_day"},
        {"weekday", "day_of_week"}, {"day", "day_of_month"}};
    std::string hint = DidYouMean(e.callee, names, kAliases);
    if (e.callee == "count" || e.callee == "sum" || e.callee == "time_since") hint = "";
    Error(ErrorCode::kUnknownFunction, e.callee_range, "unknown function " + Quote(e.callee) + hint);
    return Type::Error();
  }
  if (arg_error) return Type::Error();
  const stdlib::Function& fn = stdlib::Functions()[index];
  auto fits = [&](stdlib::Kind k, Type t) {
    switch (k) {
      case stdlib::Kind::kAnyList: return t.is_list();
      case stdlib::Kind::kFloat: return t.kind == TypeKind::kFloat || t.kind == TypeKind::kInt;
      default: return TypeKindName(t.kind) == stdlib::KindName(k);
    }
  };
  // Exact kinds first, so min(1, 2) is the int overload and not the float one.
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t o = 0; o < fn.overloads.size(); ++o) {
      const stdlib::Overload& ov = fn.overloads[o];
      if (args.size() > ov.params.size() || args.size() < size_t(ov.min_args)) continue;
      bool ok = true;
      for (size_t i = 0; i < args.size() && ok; ++i) {
        ok = pass == 0 ? TypeKindName(args[i].kind) == stdlib::KindName(ov.params[i]) ||
                             (ov.params[i] == stdlib::Kind::kAnyList && args[i].is_list())
                       : fits(ov.params[i], args[i]);
      }
      if (!ok) continue;
      if (ov.implicit != stdlib::kNoImplicit &&
          !RequireConstantSite(e, env, ("the result of " + e.callee + "()").c_str())) {
        return Type::Error();
      }
      if ((ov.implicit & stdlib::kProfileTimezone) && args.size() < ov.params.size()) {
        auto tz = profile_fields_.find("timezone");
        if (tz == profile_fields_.end() || tz->second->type != Type::String()) {
          Error(ErrorCode::kTimeZoneField, e.range, e.callee + "() without a time zone reads profile.timezone, but the "
                                    "profile has no field 'timezone: string'");
          return Type::Error();
        }
      }
      if ((ov.implicit & stdlib::kProfileTimezone) && args.size() == ov.params.size() &&
          !CheckZoneName(*e.args.back())) {
        return Type::Error();
      }
      e.builtin = index;
      e.overload = static_cast<int>(o);
      switch (ov.result) {
        case stdlib::Kind::kInt: return Type::Int();
        case stdlib::Kind::kFloat: return Type::Float();
        case stdlib::Kind::kString: return Type::String();
        case stdlib::Kind::kBool: return Type::Bool();
        case stdlib::Kind::kDuration: return Type::Duration();
        default: return Type::Time();
      }
    }
  }
  // Nothing fits: point at the first argument of a one-signature function that is
  // wrong, else list the signatures.
  const stdlib::Overload& only = fn.overloads[0];
  if (fn.overloads.size() == 1 && args.size() <= only.params.size() &&
      args.size() >= size_t(only.min_args)) {
    for (size_t i = 0; i < args.size(); ++i) {
      if (!fits(only.params[i], args[i])) {
        Error(ErrorCode::kType, e.args[i]->range, "argument " + std::to_string(i + 1) + " of " + e.callee +
                                    "() must be " + std::string(stdlib::KindName(only.params[i])) +
                                    ", not " + TypeName(args[i]));
        return Type::Error();
      }
    }
  }
  std::string got;
  for (size_t i = 0; i < args.size(); ++i) got += (i ? ", " : "") + TypeName(args[i]);
  Error(ErrorCode::kType, e.range, "no form of " + e.callee + "() takes (" + got + "); expected " +
                     std::string(fn.summary));
  return Type::Error();
}

Type Checker::CheckWindow(WindowExpr& e, const ExprEnv& env) {
  const char* word = e.window == WindowKind::kCount ? "count(...)"
                     : e.window == WindowKind::kSum ? "sum(...)" : "time_since(...)";
  if (!RequireConstantSite(e, env, word)) return Type::Error();
  if (env.in_where) {
    Error(ErrorCode::kBinding, e.range, std::string(word) + " cannot be used inside a window's 'where'");
    return Type::Error();
  }
  auto it = events_.find(e.event_name);
  if (it == events_.end()) {
    Error(ErrorCode::kUnknownEvent, e.event_range, "unknown event " + Quote(e.event_name) +
                             Suggest(e.event_name, Keys(events_)));
    return Type::Error();
  }
  e.event_decl = it->second;
  if (e.window != WindowKind::kTimeSince && e.within_us <= 0) {
    Error(ErrorCode::kInvalidValue, e.range, "a window must be longer than 0s");
  }
  Type result = Type::Int();
  if (e.window == WindowKind::kSum) {
    for (const FieldDecl& f : e.event_decl->fields) {
      if (f.name == e.field) e.field_decl = &f;
    }
    if (!e.field_decl) {
      Error(ErrorCode::kUnknownField, e.field_range, "event " + Quote(e.event_name) + " has no field " + Quote(e.field));
      return Type::Error();
    }
    if (!e.field_decl->type.NonOptional().is_numeric()) {
      Error(ErrorCode::kType, e.field_range, "sum(...) needs a numeric field; " + e.event_name + "." + e.field +
                               " is " + TypeName(e.field_decl->type));
      return Type::Error();
    }
    result = e.field_decl->type.NonOptional();
  }
  if (e.where) {
    Binding counted = {e.event_decl};
    ExprEnv inner{env.site, &counted, true, "in 'where', 'event' is the counted event"};
    CheckBoolExpr(*e.where, inner, "a window's 'where'");
  }
  return e.window == WindowKind::kTimeSince ? Type::Duration() : result;
}

Type Checker::CheckUnary(UnaryExpr& e, const ExprEnv& env) {
  Type t = CheckValue(*e.operand, env);
  if (t.is_error()) return t;
  if (e.op == UnaryOp::kNot) {
    if (t.kind == TypeKind::kBool) return t;
    Error(ErrorCode::kType, e.operand->range, "'not' needs a bool, not " + TypeName(t));
    return Type::Error();
  }
  if (t.is_numeric() || t.kind == TypeKind::kDuration) return t;
  Error(ErrorCode::kType, e.operand->range, "'-' needs a number or a duration, not " + TypeName(t));
  return Type::Error();
}

Type Checker::CheckBinary(BinaryExpr& e, const ExprEnv& env) {
  if (e.op == BinaryOp::kCoalesce) return CheckCoalesce(e, env);
  // Registered before the operands are checked: an `in` nested inside them (a
  // window's `where`) registers its own list and must not replace this one.
  if (e.op == BinaryOp::kIn || e.op == BinaryOp::kNotIn) dynamic_lists_ok_.insert(e.rhs.get());
  Type a = CheckValue(*e.lhs, env);
  Type b = CheckValue(*e.rhs, env);
  if (a.is_error() || b.is_error()) return Type::Error();
  switch (e.op) {
    case BinaryOp::kAnd:
    case BinaryOp::kOr: {
      const char* op = e.op == BinaryOp::kAnd ? "'and'" : "'or'";
      if (a.kind != TypeKind::kBool) {
        Error(ErrorCode::kType, e.lhs->range, std::string(op) + " needs bools, not " + TypeName(a));
        return Type::Error();
      }
      if (b.kind != TypeKind::kBool) {
        Error(ErrorCode::kType, e.rhs->range, std::string(op) + " needs bools, not " + TypeName(b));
        return Type::Error();
      }
      return Type::Bool();
    }
    case BinaryOp::kEq: case BinaryOp::kNe: case BinaryOp::kLt:
    case BinaryOp::kLe: case BinaryOp::kGt: case BinaryOp::kGe:
      return CheckComparison(e, a, b);
    case BinaryOp::kIn: case BinaryOp::kNotIn: case BinaryOp::kContains:
      return CheckMembership(e, a, b);
    case BinaryOp::kStartsWith:
    case BinaryOp::kEndsWith:
      if (a.kind == TypeKind::kString && b.kind == TypeKind::kString) return Type::Bool();
      Error(ErrorCode::kType, e.op_range, std::string("'") + BinaryOpSpelling(e.op) + "' needs two strings, not " +
                            TypeName(a) + " and " + TypeName(b));
      return Type::Error();
    default:
      return CheckArithmetic(e, a, b);
  }
}

Type Checker::CheckComparison(BinaryExpr& e, Type a, Type b) {
  bool equality = e.op == BinaryOp::kEq || e.op == BinaryOp::kNe;
  bool ok = (Numeric(a) && Numeric(b)) ||
            (a.kind == b.kind && !a.is_list() &&
             (equality || a.kind != TypeKind::kBool));
  if (ok) return Type::Bool();
  std::string op = BinaryOpSpelling(e.op);
  if (a.is_list() || b.is_list()) {
    Error(ErrorCode::kType, e.op_range, "lists cannot be compared with '" + op + "'; use 'in' or 'contains'");
  } else if (a.kind == b.kind) {
    Error(ErrorCode::kType, e.op_range, "'" + op + "' does not order " + TypeName(a) + " values");
  } else {
    Error(ErrorCode::kType, e.op_range, "cannot compare " + TypeName(a) + " with " + TypeName(b) +
                          " (no implicit conversions)");
  }
  return Type::Error();
}

// `x in list`, `x not in list`, `list contains x`, `string contains string`.
Type Checker::CheckMembership(BinaryExpr& e, Type a, Type b) {
  Type item = a, list = b;
  if (e.op == BinaryOp::kContains) {
    if (a.kind == TypeKind::kString && b.kind == TypeKind::kString) return Type::Bool();
    item = b, list = a;
  }
  std::string op = BinaryOpSpelling(e.op);
  if (!list.is_list()) {
    Error(ErrorCode::kType, e.op_range, "'" + op + "' needs a list" +
                          std::string(e.op == BinaryOp::kContains ? " or two strings" : "") +
                          ", not " + TypeName(list));
    return Type::Error();
  }
  if (list.kind == TypeKind::kEmptyList) return Type::Bool();
  bool ok = item.kind == list.elem || (Numeric(item) && Numeric(list.Elem()));
  // A float can be looked up in a constant list<int> (converted at compile time) but
  // not in a list<int> value (a field): that would convert every element.
  const Expr& list_expr = e.op == BinaryOp::kContains ? *e.lhs : *e.rhs;
  if (ok && item.kind == TypeKind::kFloat && list.elem == TypeKind::kInt &&
      list_expr.kind != ExprKind::kList && !Fold(list_expr)) {
    Error(ErrorCode::kType, e.op_range, "'" + op + "' compares a float with the elements of a list<int>; "
                      "convert the float with round(), floor() or ceil()");
    return Type::Error();
  }
  if (!ok) {
    Error(ErrorCode::kType, e.op_range, "'" + op + "' compares " + TypeName(item) + " with the elements of a " +
                          TypeName(list));
    return Type::Error();
  }
  return Type::Bool();
}

Type Checker::CheckArithmetic(BinaryExpr& e, Type a, Type b) {
  TypeKind x = a.kind, y = b.kind;
  using K = TypeKind;
  auto is_num = [](K k) { return k == K::kInt || k == K::kFloat; };
  switch (e.op) {
    case BinaryOp::kAdd:
      if (is_num(x) && is_num(y)) return NumericResult(a, b);
      if (x == K::kString && y == K::kString) return Type::String();
      if (x == K::kDuration && y == K::kDuration) return Type::Duration();
      if ((x == K::kTime && y == K::kDuration) || (x == K::kDuration && y == K::kTime)) {
        return Type::Time();
      }
      break;
    case BinaryOp::kSub:
      if (is_num(x) && is_num(y)) return NumericResult(a, b);
      if (x == K::kTime && y == K::kTime) return Type::Duration();
      if (x == K::kTime && y == K::kDuration) return Type::Time();
      if (x == K::kDuration && y == K::kDuration) return Type::Duration();
      break;
    case BinaryOp::kMul:
      if (is_num(x) && is_num(y)) return NumericResult(a, b);
      if ((x == K::kDuration && is_num(y)) || (is_num(x) && y == K::kDuration)) {
        return Type::Duration();
      }
      break;
    case BinaryOp::kDiv:
      if (is_num(x) && is_num(y)) return NumericResult(a, b);
      if (x == K::kDuration && is_num(y)) return Type::Duration();
      if (x == K::kDuration && y == K::kDuration) return Type::Float();
      break;
    case BinaryOp::kMod:
      if (is_num(x) && is_num(y)) return NumericResult(a, b);
      break;
    default:
      break;
  }
  Error(ErrorCode::kType, e.op_range, std::string("'") + BinaryOpSpelling(e.op) + "' cannot combine " +
                        TypeName(a) + " and " + TypeName(b));
  return Type::Error();
}

// `x ?? d`: x is optional (T?), d is a T (or T? for a chain); the result is T when d
// is not optional. int widens to float as elsewhere.
Type Checker::CheckCoalesce(BinaryExpr& e, const ExprEnv& env) {
  Type a = CheckExpr(*e.lhs, env);
  Type b = CheckExpr(*e.rhs, env);
  if (a.is_error() || b.is_error()) return Type::Error();
  if (!a.optional) {
    sink_.Warning(WarnCode::kNeedlessOptionalCheck, e.op_range,
                  "the left of '?\?' is never absent, so the default is never used");
  }
  Type base = a.NonOptional(), dflt = b.NonOptional();
  Type result;
  if (IsAssignable(dflt, base)) {
    result = base;
  } else if (IsAssignable(base, dflt)) {
    result = dflt;  // int ?? float -> float
  } else {
    Error(ErrorCode::kOptional, e.rhs->range, "the default after '?\?' must be " + TypeName(base) + ", not " +
                            TypeName(dflt));
    return Type::Error();
  }
  result.optional = b.optional;
  return result;
}

}  // namespace juncture::compiler
