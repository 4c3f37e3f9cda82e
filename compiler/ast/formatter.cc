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

// One line of output: its indentation, its text, and the source line of the node it
// prints (0 if none), which places the comments kept around it.
struct OutLine {
  int indent = 0;
  std::string text;  // empty: a blank line
  uint32_t origin = 0;
  bool close = false;  // a block's closing line (`}`, `} else {`): comments before it
                       // belong inside the block
};

// Writes a declaration's lines at the current indentation.
class SourceWriter {
 public:
  // `wrap`: a send whose line would be longer than kMaxWidth gets one parameter per
  // line. Off for FormatDecl, whose text approvals hash and which must not change.
  explicit SourceWriter(bool wrap) : wrap_(wrap) {}

  static constexpr size_t kMaxWidth = 100;

  std::vector<OutLine>& lines() { return lines_; }

  // Writes one declaration.
  void WriteDecl(const Decl& decl) {
    const uint32_t at = decl.range.begin.line;
    switch (decl.kind) {
      case DeclKind::kEvent:
        WriteFields("event " + decl.name, static_cast<const EventDecl&>(decl).fields, decl.range);
        return;
      case DeclKind::kProfile:
        WriteFields("profile", static_cast<const ProfileDecl&>(decl).fields, decl.range);
        return;
      case DeclKind::kChannel:
        WriteChannel(static_cast<const ChannelDecl&>(decl));
        return;
      case DeclKind::kSegment:
        ExprLine("segment " + decl.name + " = ", *static_cast<const SegmentDecl&>(decl).value, at);
        return;
      case DeclKind::kConst:
        Line("const " + decl.name + " = " + ExprText(static_cast<const ConstDecl&>(decl).value),
             at);
        return;
      case DeclKind::kJourney:
        WriteJourney(static_cast<const JourneyDecl&>(decl));
        return;
    }
  }

 private:
  // A line still to be written: the caller may extend it (`}` + ` else`).
  struct Pending {
    std::string text;
    uint32_t origin = 0;
    bool close = false;
  };

  // Writes one line at the current indentation.
  void Line(std::string text, uint32_t origin, bool close = false) {
    lines_.push_back(OutLine{indent_, std::move(text), origin, close});
  }
  void Line(Pending p) { Line(std::move(p.text), p.origin, p.close); }

  static uint32_t Begin(const ExprPtr& e) { return e ? e->range.begin.line : 0; }

  // `head` + `e`, on one line, or, too long for one and an `and` / `or` chain, broken
  // before each of the chain's operators, the continuation lines indented two more
  // levels. (Only when wrapping, as WriteSend.)
  void ExprLine(const std::string& head, const Expr& e, uint32_t origin) {
    std::string line = head + FormatExpr(e);
    const auto* chain = e.kind == ExprKind::kBinary ? static_cast<const BinaryExpr*>(&e) : nullptr;
    if (!wrap_ || 2 * static_cast<size_t>(indent_) + line.size() <= kMaxWidth || chain == nullptr ||
        (chain->op != BinaryOp::kAnd && chain->op != BinaryOp::kOr)) {
      Line(std::move(line), origin);
      return;
    }
    // ((a op b) op c): the operands a, b, c, left to right.
    const BinaryOp op = chain->op;
    std::vector<const Expr*> operands;
    const Expr* left = &e;
    while (left->kind == ExprKind::kBinary && static_cast<const BinaryExpr*>(left)->op == op) {
      operands.push_back(static_cast<const BinaryExpr*>(left)->rhs.get());
      left = static_cast<const BinaryExpr*>(left)->lhs.get();
    }
    operands.push_back(left);
    const int prec = BinaryPrec(op);
    std::string first = head;
    AppendExpr(operands.back(), prec, prec, first);
    Line(std::move(first), origin);
    indent_ += 2;
    for (size_t i = operands.size() - 1; i-- > 0;) {
      std::string next = std::string(BinaryOpSpelling(op)) + " ";
      AppendExpr(operands[i], prec + 1, i == 0 ? kNoOperator : prec, next);
      Line(std::move(next), operands[i]->range.begin.line);
    }
    indent_ -= 2;
  }

  // An event or profile block: one `name: type = default` per line.
  void WriteFields(const std::string& head, const std::vector<FieldDecl>& fields,
                   SourceRange range) {
    if (fields.empty()) {
      Line(head + " { }", range.begin.line);
      return;
    }
    Line(head + " {", range.begin.line);
    ++indent_;
    for (const FieldDecl& f : fields) {
      std::string line = f.name + ": " + TypeRefText(f.type_ref);
      if (f.default_value) line += " = " + ExprText(f.default_value);
      Line(line, f.name_range.begin.line);
    }
    --indent_;
    Line("}", range.end.line, true);
  }

  // Channel clauses in canonical order: consent, quiet, cap, approval.
  void WriteChannel(const ChannelDecl& c) {
    std::string head = "channel " + c.name;
    if (!c.consent && !c.quiet && !c.cap && c.approval_roles.empty()) {
      Line(head + " { }", c.range.begin.line);
      return;
    }
    Line(head + " {", c.range.begin.line);
    ++indent_;
    if (c.consent) Line("consent " + ExprText(c.consent), Begin(c.consent));
    if (c.quiet) {
      const QuietClause& q = *c.quiet;
      std::string line = "quiet " + SpellingOr(q.start_spelling, ClockText(q.start_minute)) +
                         " .. " + SpellingOr(q.end_spelling, ClockText(q.end_minute));
      if (q.local) line += " local";
      if (q.drop) line += " drop";
      Line(line, q.range.begin.line);
    }
    if (c.cap) {
      Line("cap " + std::to_string(c.cap->count) + " per " +
               SpellingOr(c.cap->per_spelling, DurationText(c.cap->per_us)),
           c.cap->range.begin.line);
    }
    for (const NameRef& role : c.approval_roles) Line("approval " + role.name, role.range.begin.line);
    --indent_;
    Line("}", c.range.end.line, true);
  }

  void WriteTrigger(const char* keyword, const Trigger& t) {
    std::string head = std::string(keyword) + " " + t.event.name;
    if (!t.when) {
      Line(std::move(head), t.range.begin.line);
      return;
    }
    ExprLine(head + " when ", *t.when, t.range.begin.line);
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
      Line(head + " { }", j.range.begin.line);
      return;
    }
    Line(head + " {", j.range.begin.line);
    ++indent_;
    WriteHeader(j);
    if (has_header && !j.body.steps.empty()) Line("", 0);  // header, blank line, steps
    for (const StepPtr& s : j.body.steps) WriteStep(*s, "");
    --indent_;
    Line("}", j.range.end.line, true);
  }

  // The header clauses in canonical order (the AST does not keep their source order).
  void WriteHeader(const JourneyDecl& j) {
    if (j.title) Line("title " + StringSpelling(*j.title), j.title_range.begin.line);
    if (j.owner) Line("owner " + StringSpelling(*j.owner), j.owner_range.begin.line);
    if (j.priority) Line("priority " + std::to_string(*j.priority), j.priority_range.begin.line);
    if (!j.approvals.empty()) {
      std::string line = "approvals ";
      for (size_t i = 0; i < j.approvals.size(); ++i) {
        if (i > 0) line += ", ";
        line += j.approvals[i].name;
      }
      Line(line, j.approvals.front().range.begin.line);
    }
    for (const Limit& l : j.limits) {
      Line("limit " + l.param + (l.upper ? " <= " : " >= ") + ExprText(l.bound),
           l.range.begin.line);
    }
    for (const Trigger& t : j.triggers) WriteTrigger("on", t);
    for (const ExprPtr& e : j.eligible) ExprLine("eligible ", *e, Begin(e));
    if (j.reenter_written) {
      const uint32_t at = j.reenter_range.begin.line;
      switch (j.reenter) {
        case ReenterMode::kNever:
          Line("reenter never", at);
          break;
        case ReenterMode::kAlways:
          Line("reenter always", at);
          break;
        case ReenterMode::kAfter:
          Line("reenter after " + SpellingOr(j.reenter_spelling, DurationText(j.reenter_after_us)),
               at);
          break;
      }
    }
    for (const Trigger& t : j.exits) WriteTrigger("exit on", t);
    if (j.goal) {
      std::string line = "goal " + j.goal->event.name;
      if (j.goal->when) line += " when " + ExprText(j.goal->when);
      Line(line + " within " + SpellingOr(j.goal->within_spelling, DurationText(j.goal->within_us)),
           j.goal->range.begin.line);
    }
    if (j.deadline_us) {
      Line("deadline " + SpellingOr(j.deadline_spelling, DurationText(*j.deadline_us)),
           j.deadline_range.begin.line);
    }
  }

  // Writes `line {`, the steps of `block` and returns the pending `}` line, or returns
  // `line { }` for an empty block. The caller extends the result (`} else {`) and
  // writes it.
  Pending BlockAfter(Pending line, const Block& block) {
    if (block.steps.empty()) {
      line.text += " { }";
      return line;
    }
    line.text += " {";
    Line(std::move(line));
    ++indent_;
    for (const StepPtr& s : block.steps) WriteStep(*s, "");
    --indent_;
    return Pending{"}", block.range.end.line, true};
  }

  // Writes one step; `prefix` starts its first line (a split arm's `45%: `).
  void WriteStep(const Step& step, const std::string& prefix) {
    const uint32_t at = step.range.begin.line;
    switch (step.kind) {
      case StepKind::kSend:
        WriteSend(static_cast<const SendStep&>(step), prefix);
        return;
      case StepKind::kWait: {
        const auto& w = static_cast<const WaitStep&>(step);
        Line(prefix + "wait " + SpellingOr(w.spelling, DurationText(w.duration_us)), at);
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
        Line(prefix + "control", at);
        return;
      case StepKind::kExit:
        Line(prefix + "exit", at);
        return;
    }
  }

  // A send on one line, or, too long for one, with one parameter per line.
  void WriteSend(const SendStep& s, const std::string& prefix) {
    std::string line = prefix + SendText(s);
    if (!wrap_ || s.params.empty() || 2 * static_cast<size_t>(indent_) + line.size() <= kMaxWidth) {
      Line(std::move(line), s.range.begin.line);
      return;
    }
    Line(prefix + "send " + s.channel + " " + StringSpelling(s.template_name) + " {",
         s.range.begin.line);
    ++indent_;
    for (size_t i = 0; i < s.params.size(); ++i) {
      Line(s.params[i].key + ": " + ExprText(s.params[i].value) +
               (i + 1 < s.params.size() ? "," : ""),
           s.params[i].key_range.begin.line);
    }
    --indent_;
    Line("}", s.range.end.line, true);
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
    Pending line{prefix + "wait until ", w.range.begin.line};
    for (size_t i = 0; i < w.events.size(); ++i) {
      if (i > 0) line.text += " or ";
      line.text += w.events[i].name;
    }
    if (w.when) line.text += " when " + ExprText(w.when);
    line.text += " within " + SpellingOr(w.within_spelling, DurationText(w.within_us));
    if (w.on_event || w.on_timeout) {
      // The grammar has no `else` without the first block; print it empty if missing.
      Block empty;
      line = BlockAfter(std::move(line), w.on_event ? *w.on_event : empty);
      if (w.on_timeout) {
        line.text += " else";
        line = BlockAfter(std::move(line), *w.on_timeout);
      }
    }
    Line(std::move(line));
  }

  // `if X { ... } else if Y { ... } else { ... }`.
  void WriteIf(const IfStep& s, const std::string& prefix) {
    Pending line{prefix, s.range.begin.line};
    for (size_t i = 0; i < s.arms.size(); ++i) {
      line.text += i == 0 ? "if " : " else if ";
      line.text += ExprText(s.arms[i].condition);
      line = BlockAfter(std::move(line), s.arms[i].body);
    }
    if (s.else_body) {
      line.text += " else";
      line = BlockAfter(std::move(line), *s.else_body);
    }
    Line(std::move(line));
  }

  // `split {` with one arm per line: `45%: step` or `45%: {` block.
  void WriteSplit(const SplitStep& s, const std::string& prefix) {
    if (s.arms.empty()) {
      Line(prefix + "split { }", s.range.begin.line);
      return;
    }
    Line(prefix + "split {", s.range.begin.line);
    ++indent_;
    for (const SplitArm& arm : s.arms) {
      std::string label = SpellingOr(arm.spelling, PercentText(arm.fraction)) + ":";
      if (!arm.braced && arm.body.steps.size() == 1) {
        WriteStep(*arm.body.steps.front(), label + " ");
      } else {
        Line(BlockAfter(Pending{label, arm.range.begin.line}, arm.body));
      }
    }
    --indent_;
    Line("}", s.range.end.line, true);
  }

  bool wrap_;
  std::vector<OutLine> lines_;
  int indent_ = 0;
};

bool OneLineDecl(const Decl& d) { return d.kind == DeclKind::kSegment || d.kind == DeclKind::kConst; }

// Every declaration of `module`, separated by one blank line.
// One-line declarations (segments, consts) written on consecutive lines stay
// together.
std::vector<OutLine> ModuleLines(const Module& module) {
  SourceWriter writer(true);
  const Decl* previous = nullptr;
  for (const DeclPtr& decl : module.decls) {
    if (!decl) continue;
    const bool grouped = previous != nullptr && OneLineDecl(*previous) && OneLineDecl(*decl) &&
                         previous->range.end.line != 0 &&
                         decl->range.begin.line == previous->range.end.line + 1;
    if (!writer.lines().empty() && !grouped) writer.lines().push_back(OutLine{});
    writer.WriteDecl(*decl);
    previous = decl.get();
  }
  return std::move(writer.lines());
}

std::string Render(const std::vector<OutLine>& lines) {
  std::string out;
  for (const OutLine& l : lines) {
    if (!l.text.empty()) out.append(2 * static_cast<size_t>(l.indent), ' ').append(l.text);
    out += '\n';
  }
  return out;
}

// ---- Comments ---------------------------------------------------------------------

// Which lines of `source` are blank (index: line number, 1-based; 0 is not a line).
std::vector<bool> BlankLines(std::string_view source) {
  std::vector<bool> blank{false};
  bool current = true;
  for (char ch : source) {
    if (ch == '\n') {
      blank.push_back(current);
      current = true;
    } else if (ch != ' ' && ch != '\t' && ch != '\r') {
      current = false;
    }
  }
  blank.push_back(current);
  return blank;
}

// Places each comment next to the line of the node it was written by:
//  - a comment after code on its line stays at the end of that node's line (the output
//    line whose node starts last at or before the comment's line);
//  - any other comment goes just before the node written first after it (the output
//    line whose node starts first at or after the comment), indented as that line, or
//    one level deeper before a closing `}`; comments after the last node end the file.
// A blank line before or after a group of comments in the source is kept, and one
// before a node (several count as one).
std::vector<OutLine> WithComments(std::vector<OutLine> lines, const std::vector<Comment>& comments,
                                  std::string_view source) {
  const std::vector<bool> blank_lines = BlankLines(source);
  auto blank = [&](uint32_t line) {  // false for a line before the first or past the last
    return line >= 1 && line < blank_lines.size() && blank_lines[line];
  };
  std::vector<std::vector<const Comment*>> before(lines.size() + 1), after(lines.size());
  for (const Comment& c : comments) {
    size_t best = lines.size();
    for (size_t i = 0; i < lines.size(); ++i) {
      const uint32_t o = lines[i].origin;
      if (o == 0) continue;
      if (c.trailing) {
        if (o <= c.line && (best == lines.size() || o >= lines[best].origin)) best = i;
      } else if (o >= c.line && (best == lines.size() || o < lines[best].origin)) {
        best = i;
      }
    }
    if (c.trailing && best < lines.size()) {
      after[best].push_back(&c);
    } else {
      before[best].push_back(&c);  // lines.size(): the end of the file
    }
  }
  std::vector<OutLine> out;
  auto last_blank_or_open = [&] {
    return out.empty() || out.back().text.empty() || out.back().text.back() == '{';
  };
  for (size_t i = 0; i <= lines.size(); ++i) {
    const bool end = i == lines.size();
    const int indent = end ? 0 : lines[i].indent + (lines[i].close ? 1 : 0);
    const std::vector<const Comment*>& group = before[i];
    for (size_t k = 0; k < group.size(); ++k) {
      const Comment& c = *group[k];
      const bool first = k == 0 || group[k - 1]->end_line + 1 < c.line;
      if (first && blank(c.line - 1) && !last_blank_or_open()) {
        out.push_back(OutLine{});
      }
      out.push_back(OutLine{indent, c.text, c.line, false});
      const bool last = k + 1 == group.size() || c.end_line + 1 < group[k + 1]->line;
      const bool next_blank = end ? true : lines[i].text.empty();
      if (last && blank(c.end_line + 1) && !next_blank && !lines[i].close) {
        out.push_back(OutLine{});
      }
    }
    if (end) break;
    // A blank line the source had before this line's node is kept.
    if (!lines[i].close && !lines[i].text.empty() && lines[i].origin > 1 && blank(lines[i].origin - 1) &&
        !last_blank_or_open()) {
      out.push_back(OutLine{});
    }
    const int line_indent = lines[i].indent;
    out.push_back(std::move(lines[i]));
    bool ends_in_line_comment = false;  // a `//` comment takes the rest of its line
    for (const Comment* c : after[i]) {
      if (ends_in_line_comment) {
        out.push_back(OutLine{line_indent, c->text, c->line, false});
      } else {
        out.back().text += "  " + c->text;
      }
      ends_in_line_comment = c->text.starts_with("//");
    }
  }
  while (!out.empty() && out.back().text.empty()) out.pop_back();
  return out;
}

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
  SourceWriter writer(false);
  writer.WriteDecl(decl);
  return Render(writer.lines());
}

std::string FormatProgram(const Module& module) { return Render(ModuleLines(module)); }

std::string FormatProgram(const Module& module, const std::vector<Comment>& comments,
                          std::string_view source) {
  return Render(WithComments(ModuleLines(module), comments, source));
}

}  // namespace juncture::compiler::ast
