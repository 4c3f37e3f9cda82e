#include "ast/formatter.h"

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace juncture::compiler::ast {
namespace {

// ---- Expressions ------------------------------------------------------------------

// Binding strength of each level of the grammar's `expr` rule, weakest first (ANTLR
// numbers the alternatives the same way: the first alternative binds tightest).
// Comparisons, `in`, `not in` and the string operators share one level. kNoOperator
// is below every level: it stands for "no operator follows" and "any expression fits".
enum Prec : int {
  kNoOperator = 0,
  kOrPrec = 1,
  kAndPrec = 2,
  kNotPrec = 3,        // prefix `not`
  kComparePrec = 4,    // == != < <= > >= in, not in, starts_with ends_with contains
  kCoalescePrec = 5,   // ??
  kAddPrec = 6,        // + -
  kMulPrec = 7,        // * / %
  kNegPrec = 8,        // prefix `-`
  kPostfixPrec = 9,    // .field
};

int BinaryPrec(BinaryOp op) {
  switch (op) {
    case BinaryOp::kOr: return kOrPrec;
    case BinaryOp::kAnd: return kAndPrec;
    case BinaryOp::kEq:
    case BinaryOp::kNe:
    case BinaryOp::kLt:
    case BinaryOp::kLe:
    case BinaryOp::kGt:
    case BinaryOp::kGe:
    case BinaryOp::kIn:
    case BinaryOp::kNotIn:
    case BinaryOp::kStartsWith:
    case BinaryOp::kEndsWith:
    case BinaryOp::kContains: return kComparePrec;
    case BinaryOp::kCoalesce: return kCoalescePrec;
    case BinaryOp::kAdd:
    case BinaryOp::kSub: return kAddPrec;
    case BinaryOp::kMul:
    case BinaryOp::kDiv:
    case BinaryOp::kMod: return kMulPrec;
  }
  return kNoOperator;
}

// Shortest decimal text that reads back as `value`, in fixed notation ("0.15", "12").
std::string FixedDecimal(double value) {
  char buf[400];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::fixed);
  if (ec != std::errc()) return "0";
  return std::string(buf, end);
}

// A duration in microseconds as a literal ("1h30m"). Sub-second parts cannot be written
// and are dropped.
std::string DurationText(int64_t us) {
  struct Unit {
    char suffix;
    int64_t micros;
  };
  static constexpr Unit kUnits[] = {{'w', 7 * 86'400'000'000LL},
                                    {'d', 86'400'000'000LL},
                                    {'h', 3'600'000'000LL},
                                    {'m', 60'000'000LL},
                                    {'s', 1'000'000LL}};
  std::string out;
  for (const Unit& unit : kUnits) {
    if (us >= unit.micros) {
      out += std::to_string(us / unit.micros);
      out += unit.suffix;
      us %= unit.micros;
    }
  }
  return out.empty() ? "0s" : out;
}

// A clock time in minutes after midnight as a literal ("08:30").
std::string ClockText(int64_t minutes) {
  std::string out(5, ':');
  out[0] = static_cast<char>('0' + minutes / 600 % 10);
  out[1] = static_cast<char>('0' + minutes / 60 % 10);
  out[3] = static_cast<char>('0' + minutes % 60 / 10);
  out[4] = static_cast<char>('0' + minutes % 10);
  return out;
}

// A fraction as a percent literal ("45%"), rounded to six decimals of a percent.
std::string PercentText(double fraction) {
  char buf[400];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), fraction * 100,
                                 std::chars_format::fixed, 6);
  if (ec != std::errc()) return "0%";
  std::string text(buf, end);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text + "%";
}

// `spelling` if the parser recorded one, else `fallback` (for synthesized nodes).
std::string SpellingOr(const std::string& spelling, std::string fallback) {
  return spelling.empty() ? fallback : spelling;
}

// The text of a literal: its spelling, or one made from its value if it has none.
std::string LiteralText(const LiteralExpr& e) {
  if (!e.spelling.empty()) return e.spelling;
  switch (e.lit) {
    case LiteralKind::kBool:
      return e.bool_value ? "true" : "false";
    case LiteralKind::kInt:
      return std::to_string(e.int_value);
    case LiteralKind::kFloat: {
      std::string text = FixedDecimal(e.float_value);
      if (text.find('.') == std::string::npos) text += ".0";
      return text;
    }
    case LiteralKind::kPercent:
      return PercentText(e.float_value);
    case LiteralKind::kString:
      return QuoteString(e.string_value);
    case LiteralKind::kDuration:
      return DurationText(e.int_value);
    case LiteralKind::kClock:
      return ClockText(e.int_value);
  }
  return e.spelling;
}

// A string the parser keeps as written, quotes included (title, owner, template name).
// A value without quotes (from a synthesized AST) is quoted and escaped.
std::string StringSpelling(const std::string& text) {
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') return text;
  return QuoteString(text);
}

// Appends `e` to `out`.
//
// The grammar's expression rule is parsed by precedence climbing: a binary operator of
// level q parses its right operand at level q + 1 (left-associative), a prefix operator
// of level u parses its operand at level u, and an operand keeps absorbing operators as
// long as their level is at least the one it was started at. Prefix operators are
// primaries: they are accepted at any level (`a * -b`, `a == not b`).
//
// `min_prec` is the level at which the surrounding parser reads `e`; `follower` is the
// level of the operator printed right after `e` (kNoOperator if none), which must not
// be absorbed by the right end of `e`.
void AppendExpr(const Expr* e, int min_prec, int follower, std::string& out);

bool NeedsParens(const Expr& e, int min_prec, int follower) {
  switch (e.kind) {
    case ExprKind::kBinary: {
      int prec = BinaryPrec(static_cast<const BinaryExpr&>(e).op);
      // Too weak to be read at this level, or its right operand would take the follower.
      return prec < min_prec || follower > prec;
    }
    case ExprKind::kUnary: {
      int prec = static_cast<const UnaryExpr&>(e).op == UnaryOp::kNeg ? kNegPrec : kNotPrec;
      return follower >= prec;  // its operand would take the follower
    }
    default:
      return false;  // primaries and `.field` end in a token nothing can extend
  }
}

void AppendList(const std::vector<ExprPtr>& items, std::string& out) {
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ", ";
    AppendExpr(items[i].get(), kNoOperator, kNoOperator, out);
  }
}

void AppendExpr(const Expr* e, int min_prec, int follower, std::string& out) {
  if (e == nullptr) return;
  if (NeedsParens(*e, min_prec, follower)) {
    out += '(';
    AppendExpr(e, kNoOperator, kNoOperator, out);
    out += ')';
    return;
  }
  switch (e->kind) {
    case ExprKind::kLiteral:
      out += LiteralText(static_cast<const LiteralExpr&>(*e));
      return;
    case ExprKind::kList:
      out += '[';
      AppendList(static_cast<const ListExpr&>(*e).elements, out);
      out += ']';
      return;
    case ExprKind::kEvent:
      out += "event";
      return;
    case ExprKind::kProfile:
      out += "profile";
      return;
    case ExprKind::kNow:
      out += "now";
      return;
    case ExprKind::kName:
      out += static_cast<const NameExpr&>(*e).name;
      return;
    case ExprKind::kMember: {
      const auto& m = static_cast<const MemberExpr&>(*e);
      AppendExpr(m.base.get(), kPostfixPrec, kPostfixPrec, out);
      out += '.';
      out += m.field;
      return;
    }
    case ExprKind::kCall: {
      const auto& c = static_cast<const CallExpr&>(*e);
      out += c.callee;
      out += '(';
      AppendList(c.args, out);
      out += ')';
      return;
    }
    case ExprKind::kHas:
      out += "has(";
      AppendExpr(static_cast<const HasExpr&>(*e).operand.get(), kNoOperator, kNoOperator, out);
      out += ')';
      return;
    case ExprKind::kWindow: {
      const auto& w = static_cast<const WindowExpr&>(*e);
      switch (w.window) {
        case WindowKind::kTimeSince:
          out += "time_since(" + w.event_name + ")";
          return;
        case WindowKind::kCount:
          out += "count(" + w.event_name;
          break;
        case WindowKind::kSum:
          out += "sum(" + w.event_name + "." + w.field;
          break;
      }
      out += " within " + SpellingOr(w.within_spelling, DurationText(w.within_us));
      if (w.where) {
        out += " where ";
        AppendExpr(w.where.get(), kNoOperator, kNoOperator, out);
      }
      out += ')';
      return;
    }
    case ExprKind::kUnary: {
      const auto& u = static_cast<const UnaryExpr&>(*e);
      int prec = u.op == UnaryOp::kNeg ? kNegPrec : kNotPrec;
      out += u.op == UnaryOp::kNeg ? "-" : "not ";
      size_t operand_start = out.size();
      AppendExpr(u.operand.get(), prec, follower, out);
      // `- -a` rather than `--a`, which reads like a decrement.
      if (u.op == UnaryOp::kNeg && out.size() > operand_start && out[operand_start] == '-') {
        out.insert(operand_start, 1, ' ');
      }
      return;
    }
    case ExprKind::kBinary: {
      const auto& b = static_cast<const BinaryExpr&>(*e);
      int prec = BinaryPrec(b.op);
      AppendExpr(b.lhs.get(), prec, prec, out);
      out += ' ';
      out += BinaryOpSpelling(b.op);
      out += ' ';
      AppendExpr(b.rhs.get(), prec + 1, follower, out);
      return;
    }
  }
}

std::string ExprText(const ExprPtr& e) {
  std::string out;
  AppendExpr(e.get(), kNoOperator, kNoOperator, out);
  return out;
}

// ---- Declarations and steps -------------------------------------------------------

std::string TypeRefText(const TypeRef& t) {
  std::string out = t.name;
  if (t.elem) out += "<" + TypeRefText(*t.elem) + ">";
  if (t.optional) out += '?';
  return out;
}

// Writes lines at the current indentation.
class SourceWriter {
 public:
  // Everything written so far.
  std::string Take() { return std::move(out_); }

  // Writes one declaration.
  void WriteDecl(const Decl& decl) {
    switch (decl.kind) {
      case DeclKind::kEvent:
        WriteFields("event " + decl.name, static_cast<const EventDecl&>(decl).fields);
        return;
      case DeclKind::kProfile:
        WriteFields("profile", static_cast<const ProfileDecl&>(decl).fields);
        return;
      case DeclKind::kChannel:
        WriteChannel(static_cast<const ChannelDecl&>(decl));
        return;
      case DeclKind::kSegment:
        Line("segment " + decl.name + " = " +
             ExprText(static_cast<const SegmentDecl&>(decl).value));
        return;
      case DeclKind::kConst:
        Line("const " + decl.name + " = " + ExprText(static_cast<const ConstDecl&>(decl).value));
        return;
      case DeclKind::kJourney:
        WriteJourney(static_cast<const JourneyDecl&>(decl));
        return;
    }
  }

 private:
  // Writes one line at the current indentation.
  void Line(const std::string& text) {
    out_.append(2 * indent_, ' ');
    out_ += text;
    out_ += '\n';
  }

  // An event or profile block: one `name: type = default` per line.
  void WriteFields(const std::string& head, const std::vector<FieldDecl>& fields) {
    if (fields.empty()) {
      Line(head + " { }");
      return;
    }
    Line(head + " {");
    ++indent_;
    for (const FieldDecl& f : fields) {
      std::string line = f.name + ": " + TypeRefText(f.type_ref);
      if (f.default_value) line += " = " + ExprText(f.default_value);
      Line(line);
    }
    --indent_;
    Line("}");
  }

  // Channel clauses in canonical order: consent, quiet, cap, approval.
  void WriteChannel(const ChannelDecl& c) {
    std::string head = "channel " + c.name;
    if (!c.consent && !c.quiet && !c.cap && c.approval_roles.empty()) {
      Line(head + " { }");
      return;
    }
    Line(head + " {");
    ++indent_;
    if (c.consent) Line("consent " + ExprText(c.consent));
    if (c.quiet) {
      const QuietClause& q = *c.quiet;
      std::string line = "quiet " + SpellingOr(q.start_spelling, ClockText(q.start_minute)) +
                         " .. " + SpellingOr(q.end_spelling, ClockText(q.end_minute));
      if (q.local) line += " local";
      if (q.drop) line += " drop";
      Line(line);
    }
    if (c.cap) {
      Line("cap " + std::to_string(c.cap->count) + " per " +
           SpellingOr(c.cap->per_spelling, DurationText(c.cap->per_us)));
    }
    for (const NameRef& role : c.approval_roles) Line("approval " + role.name);
    --indent_;
    Line("}");
  }

  static std::string TriggerText(const char* keyword, const Trigger& t) {
    std::string line = std::string(keyword) + " " + t.event.name;
    if (t.when) line += " when " + ExprText(t.when);
    return line;
  }

  static bool HasHeader(const JourneyDecl& j) {
    return j.title || j.owner || j.priority || !j.approvals.empty() || !j.limits.empty() ||
           !j.triggers.empty() || !j.eligible.empty() || j.reenter_written || !j.exits.empty() ||
           j.goal || j.deadline_us;
  }

  void WriteJourney(const JourneyDecl& j) {
    std::string head = "journey " + j.name;
    bool has_header = HasHeader(j);
    if (!has_header && j.body.steps.empty()) {
      Line(head + " { }");
      return;
    }
    Line(head + " {");
    ++indent_;
    WriteHeader(j);
    if (has_header && !j.body.steps.empty()) out_ += '\n';  // header, blank line, steps
    for (const StepPtr& s : j.body.steps) WriteStep(*s, "");
    --indent_;
    Line("}");
  }

  // The header clauses in canonical order (the AST does not keep their source order).
  void WriteHeader(const JourneyDecl& j) {
    if (j.title) Line("title " + StringSpelling(*j.title));
    if (j.owner) Line("owner " + StringSpelling(*j.owner));
    if (j.priority) Line("priority " + std::to_string(*j.priority));
    if (!j.approvals.empty()) {
      std::string line = "approvals ";
      for (size_t i = 0; i < j.approvals.size(); ++i) {
        if (i > 0) line += ", ";
        line += j.approvals[i].name;
      }
      Line(line);
    }
    for (const Limit& l : j.limits) {
      Line("limit " + l.param + (l.upper ? " <= " : " >= ") + ExprText(l.bound));
    }
    for (const Trigger& t : j.triggers) Line(TriggerText("on", t));
    for (const ExprPtr& e : j.eligible) Line("eligible " + ExprText(e));
    if (j.reenter_written) {
      switch (j.reenter) {
        case ReenterMode::kNever:
          Line("reenter never");
          break;
        case ReenterMode::kAlways:
          Line("reenter always");
          break;
        case ReenterMode::kAfter:
          Line("reenter after " +
               SpellingOr(j.reenter_spelling, DurationText(j.reenter_after_us)));
          break;
      }
    }
    for (const Trigger& t : j.exits) Line(TriggerText("exit on", t));
    if (j.goal) {
      std::string line = "goal " + j.goal->event.name;
      if (j.goal->when) line += " when " + ExprText(j.goal->when);
      Line(line + " within " +
           SpellingOr(j.goal->within_spelling, DurationText(j.goal->within_us)));
    }
    if (j.deadline_us) {
      Line("deadline " + SpellingOr(j.deadline_spelling, DurationText(*j.deadline_us)));
    }
  }

  // Writes `line {`, the steps of `block` and returns the pending `}` line, or returns
  // `line { }` for an empty block. The caller extends the result (`} else {`) and
  // writes it.
  std::string BlockAfter(const std::string& line, const Block& block) {
    if (block.steps.empty()) return line + " { }";
    Line(line + " {");
    ++indent_;
    for (const StepPtr& s : block.steps) WriteStep(*s, "");
    --indent_;
    return "}";
  }

  // Writes one step; `prefix` starts its first line (a split arm's `45%: `).
  void WriteStep(const Step& step, const std::string& prefix) {
    switch (step.kind) {
      case StepKind::kSend:
        Line(prefix + SendText(static_cast<const SendStep&>(step)));
        return;
      case StepKind::kWait: {
        const auto& w = static_cast<const WaitStep&>(step);
        Line(prefix + "wait " + SpellingOr(w.spelling, DurationText(w.duration_us)));
        return;
      }
      case StepKind::kWaitUntil:
        WriteWaitUntil(static_cast<const WaitUntilStep&>(step), prefix);
        return;
      case StepKind::kIf:
        WriteIf(static_cast<const IfStep&>(step), prefix);
        return;
      case StepKind::kSplit:
        WriteSplit(static_cast<const SplitStep&>(step), prefix);
        return;
      case StepKind::kControl:
        Line(prefix + "control");
        return;
      case StepKind::kExit:
        Line(prefix + "exit");
        return;
    }
  }

  // `send CH "template"`, then `{ k: v, ... }` if a parameter block was written.
  static std::string SendText(const SendStep& s) {
    std::string line = "send " + s.channel + " " + StringSpelling(s.template_name);
    if (s.has_params_block || !s.params.empty()) {
      if (s.params.empty()) return line + " { }";
      line += " { ";
      for (size_t i = 0; i < s.params.size(); ++i) {
        if (i > 0) line += ", ";
        line += s.params[i].key + ": " + ExprText(s.params[i].value);
      }
      line += " }";
    }
    return line;
  }

  // `wait until A or B when X within D { ... } else { ... }`.
  void WriteWaitUntil(const WaitUntilStep& w, const std::string& prefix) {
    std::string line = prefix + "wait until ";
    for (size_t i = 0; i < w.events.size(); ++i) {
      if (i > 0) line += " or ";
      line += w.events[i].name;
    }
    if (w.when) line += " when " + ExprText(w.when);
    line += " within " + SpellingOr(w.within_spelling, DurationText(w.within_us));
    if (w.on_event || w.on_timeout) {
      // The grammar has no `else` without the first block; print it empty if missing.
      Block empty;
      line = BlockAfter(line, w.on_event ? *w.on_event : empty);
      if (w.on_timeout) line = BlockAfter(line + " else", *w.on_timeout);
    }
    Line(line);
  }

  // `if X { ... } else if Y { ... } else { ... }`.
  void WriteIf(const IfStep& s, const std::string& prefix) {
    std::string line = prefix;
    for (size_t i = 0; i < s.arms.size(); ++i) {
      line += i == 0 ? "if " : " else if ";
      line = BlockAfter(line + ExprText(s.arms[i].condition), s.arms[i].body);
    }
    if (s.else_body) line = BlockAfter(line + " else", *s.else_body);
    Line(line);
  }

  // `split {` with one arm per line: `45%: step` or `45%: {` block.
  void WriteSplit(const SplitStep& s, const std::string& prefix) {
    if (s.arms.empty()) {
      Line(prefix + "split { }");
      return;
    }
    Line(prefix + "split {");
    ++indent_;
    for (const SplitArm& arm : s.arms) {
      std::string label = SpellingOr(arm.spelling, PercentText(arm.fraction)) + ":";
      if (!arm.braced && arm.body.steps.size() == 1) {
        WriteStep(*arm.body.steps.front(), label + " ");
      } else {
        Line(BlockAfter(label, arm.body));
      }
    }
    --indent_;
    Line("}");
  }

  std::string out_;
  int indent_ = 0;
};

}  // namespace

std::string QuoteString(std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char ch : value) {
    auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7F) {
          out += "\\u{";
          if (c >= 0x10) out += kHex[c >> 4];
          out += kHex[c & 0xF];
          out += '}';
        } else {
          out += ch;  // UTF-8 is written as is
        }
    }
  }
  out += '"';
  return out;
}

std::string FormatExpr(const Expr& expr) {
  std::string out;
  AppendExpr(&expr, kNoOperator, kNoOperator, out);
  return out;
}

std::string FormatDecl(const Decl& decl) {
  SourceWriter writer;
  writer.WriteDecl(decl);
  return writer.Take();
}

std::string FormatProgram(const Module& module) {
  std::string out;
  for (const DeclPtr& decl : module.decls) {
    if (!decl) continue;
    if (!out.empty()) out += '\n';
    out += FormatDecl(*decl);
  }
  return out;
}

}  // namespace juncture::compiler::ast
