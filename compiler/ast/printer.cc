#include "ast/printer.h"

#include <charconv>
#include <cstdint>
#include <string>
#include <system_error>

#include "ast/formatter.h"

namespace juncture::compiler::ast {
namespace {

const char* LiteralKindName(LiteralKind kind) {
  switch (kind) {
    case LiteralKind::kBool: return "bool";
    case LiteralKind::kInt: return "int";
    case LiteralKind::kFloat: return "float";
    case LiteralKind::kPercent: return "percent";
    case LiteralKind::kString: return "string";
    case LiteralKind::kDuration: return "duration";
    case LiteralKind::kClock: return "clock";
  }
  return "?";
}

// Shortest text that reads back as `value` ("0.15", "75", "1e+20").
std::string DoubleText(double value) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  if (ec != std::errc()) return "?";
  return std::string(buf, end);
}

std::string Micros(int64_t us) { return std::to_string(us) + "us"; }

// "30m = 1800000000us".
std::string DurationText(const std::string& spelling, int64_t us) {
  return (spelling.empty() ? "?" : spelling) + " = " + Micros(us);
}

// A string kept as written (title, owner, template name) shown with its quotes.
std::string StringSpelling(const std::string& text) {
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') return text;
  return QuoteString(text);
}

std::string Pos(const SourceRange& range) {
  const SourceLoc& loc = range.begin;
  if (loc.line == 0) return "@?";
  return "@" + std::to_string(loc.line) + ":" + std::to_string(loc.column);
}

// " : int", or nothing while sema has not typed the node.
std::string TypeSuffix(const Type& type) {
  return type.is_error() ? "" : " : " + TypeName(type);
}

std::string EventTarget(const EventDecl* decl) {
  return decl ? " -> event " + decl->name : "";
}

class AstPrinter {
 public:
  explicit AstPrinter(const SourceManager& sm) : sm_(sm) {}

  std::string Print(const Program& program) {
    for (const Module& module : program.modules) PrintModule(module);
    if (!out_.empty()) out_ += '\n';
    return std::move(out_);
  }

 private:
  // Starts a node line; its children follow until the matching Close().
  void Open(const std::string& head) {
    if (!out_.empty()) out_ += '\n';
    out_.append(2 * depth_, ' ');
    out_ += '(';
    out_ += head;
    ++depth_;
  }

  void Close() {
    out_ += ')';
    --depth_;
  }

  // A node without children.
  void Leaf(const std::string& head) {
    Open(head);
    Close();
  }

  void PrintModule(const Module& module) {
    std::string path = module.file < sm_.size() ? sm_.file(module.file).path : "<unknown>";
    Open("module " + QuoteString(path));
    for (const DeclPtr& decl : module.decls) {
      if (decl) PrintDecl(*decl);
    }
    Close();
  }

  // ---- Declarations ----

  void PrintDecl(const Decl& decl) {
    switch (decl.kind) {
      case DeclKind::kEvent: {
        const auto& e = static_cast<const EventDecl&>(decl);
        Open("event " + e.name + " " + Pos(e.range) +
             (e.id >= 0 ? " id=" + std::to_string(e.id) : ""));
        for (const FieldDecl& f : e.fields) PrintField(f);
        Close();
        return;
      }
      case DeclKind::kProfile: {
        const auto& p = static_cast<const ProfileDecl&>(decl);
        Open("profile " + Pos(p.range));
        for (const FieldDecl& f : p.fields) PrintField(f);
        Close();
        return;
      }
      case DeclKind::kChannel:
        PrintChannel(static_cast<const ChannelDecl&>(decl));
        return;
      case DeclKind::kSegment: {
        const auto& s = static_cast<const SegmentDecl&>(decl);
        Open("segment " + s.name + " " + Pos(s.range) + (s.used ? " used" : ""));
        PrintExpr(s.value.get());
        Close();
        return;
      }
      case DeclKind::kConst: {
        const auto& c = static_cast<const ConstDecl&>(decl);
        Open("const " + c.name + " " + Pos(c.range) + (c.used ? " used" : ""));
        PrintExpr(c.value.get());
        Close();
        return;
      }
      case DeclKind::kJourney:
        PrintJourney(static_cast<const JourneyDecl&>(decl));
        return;
    }
  }

  static std::string TypeRefText(const TypeRef& t) {
    std::string out = t.name;
    if (t.elem) out += "<" + TypeRefText(*t.elem) + ">";
    if (t.optional) out += '?';
    return out;
  }

  void PrintField(const FieldDecl& f) {
    Open("field " + f.name + " " + TypeRefText(f.type_ref) + " " + Pos(f.name_range) +
         (f.index >= 0 ? " index=" + std::to_string(f.index) : "") + TypeSuffix(f.type));
    if (f.default_value) PrintExpr(f.default_value.get());
    Close();
  }

  void PrintChannel(const ChannelDecl& c) {
    Open("channel " + c.name + " " + Pos(c.range) +
         (c.id >= 0 ? " id=" + std::to_string(c.id) : ""));
    if (c.consent) {
      Open("consent");
      PrintExpr(c.consent.get());
      Close();
    }
    if (c.quiet) {
      const QuietClause& q = *c.quiet;
      Leaf("quiet " + q.start_spelling + " = " + std::to_string(q.start_minute) + "min .. " +
           q.end_spelling + " = " + std::to_string(q.end_minute) + "min" +
           (q.local ? " local" : "") + (q.drop ? " drop" : "") + " " + Pos(q.range));
    }
    if (c.cap) {
      Leaf("cap " + std::to_string(c.cap->count) + " per " +
           DurationText(c.cap->per_spelling, c.cap->per_us) + " " + Pos(c.cap->range));
    }
    for (const NameRef& role : c.approval_roles) {
      Leaf("approval " + role.name + " " + Pos(role.range));
    }
    Close();
  }

  void PrintTrigger(const char* kind, const Trigger& t) {
    Open(std::string(kind) + " " + t.event.name + " " + Pos(t.range) + EventTarget(t.event.decl));
    if (t.when) {
      Open("when");
      PrintExpr(t.when.get());
      Close();
    }
    Close();
  }

  void PrintJourney(const JourneyDecl& j) {
    Open("journey " + j.name + " " + Pos(j.range));
    if (j.title) Leaf("title " + StringSpelling(*j.title));
    if (j.owner) Leaf("owner " + StringSpelling(*j.owner));
    if (j.priority) Leaf("priority " + std::to_string(*j.priority));
    if (!j.approvals.empty()) {
      Open("approvals");
      for (const NameRef& role : j.approvals) Leaf("role " + role.name + " " + Pos(role.range));
      Close();
    }
    for (const Limit& l : j.limits) {
      Open("limit " + l.param + (l.upper ? " <= " : " >= ") + Pos(l.range));
      PrintExpr(l.bound.get());
      Close();
    }
    for (const Trigger& t : j.triggers) PrintTrigger("on", t);
    for (const ExprPtr& e : j.eligible) {
      Open("eligible");
      PrintExpr(e.get());
      Close();
    }
    if (j.reenter_written) {
      switch (j.reenter) {
        case ReenterMode::kNever:
          Leaf("reenter never");
          break;
        case ReenterMode::kAlways:
          Leaf("reenter always");
          break;
        case ReenterMode::kAfter:
          Leaf("reenter after " + DurationText(j.reenter_spelling, j.reenter_after_us));
          break;
      }
    }
    for (const Trigger& t : j.exits) PrintTrigger("exit-on", t);
    if (j.goal) {
      Open("goal " + j.goal->event.name + " within " +
           DurationText(j.goal->within_spelling, j.goal->within_us) + " " + Pos(j.goal->range));
      if (j.goal->when) PrintExpr(j.goal->when.get());
      Close();
    }
    if (j.deadline_us) Leaf("deadline " + DurationText(j.deadline_spelling, *j.deadline_us));
    PrintBlock("body", j.body);
    Close();
  }

  // ---- Steps ----

  void PrintBlock(const char* label, const Block& block) {
    Open(std::string(label) + " " + Pos(block.range));
    for (const StepPtr& s : block.steps) PrintStep(*s);
    Close();
  }

  // " @1:2 s3": a step's position and id.
  static std::string StepSuffix(const Step& s) {
    return " " + Pos(s.range) + (s.id.empty() ? "" : " " + s.id);
  }

  void PrintStep(const Step& step) {
    switch (step.kind) {
      case StepKind::kSend: {
        const auto& s = static_cast<const SendStep&>(step);
        Open("send " + s.channel + " " + StringSpelling(s.template_name) + StepSuffix(s) +
             (s.channel_decl ? " -> channel " + s.channel_decl->name : ""));
        if (s.has_params_block || !s.params.empty()) {
          Open("params");
          for (const Param& p : s.params) {
            Open("param " + p.key + " " + Pos(p.key_range));
            PrintExpr(p.value.get());
            Close();
          }
          Close();
        }
        Close();
        return;
      }
      case StepKind::kWait: {
        const auto& w = static_cast<const WaitStep&>(step);
        Leaf("wait " + DurationText(w.spelling, w.duration_us) + StepSuffix(w));
        return;
      }
      case StepKind::kWaitUntil: {
        const auto& w = static_cast<const WaitUntilStep&>(step);
        Open("wait-until within " + DurationText(w.within_spelling, w.within_us) +
             StepSuffix(w));
        for (const EventName& e : w.events) {
          Leaf("event-ref " + e.name + " " + Pos(e.range) + EventTarget(e.decl));
        }
        if (w.when) {
          Open("when");
          PrintExpr(w.when.get());
          Close();
        }
        if (w.on_event) PrintBlock("then", *w.on_event);
        if (w.on_timeout) PrintBlock("else", *w.on_timeout);
        Close();
        return;
      }
      case StepKind::kIf: {
        const auto& s = static_cast<const IfStep&>(step);
        Open("if" + StepSuffix(s));
        for (const IfArm& arm : s.arms) {
          Open("arm");
          PrintExpr(arm.condition.get());
          PrintBlock("then", arm.body);
          Close();
        }
        if (s.else_body) PrintBlock("else", *s.else_body);
        Close();
        return;
      }
      case StepKind::kSplit: {
        const auto& s = static_cast<const SplitStep&>(step);
        Open("split" + StepSuffix(s));
        for (const SplitArm& arm : s.arms) {
          Open("arm " + arm.spelling + " = " + DoubleText(arm.fraction) + " " + Pos(arm.range) +
               (arm.braced ? " braced" : ""));
          for (const StepPtr& child : arm.body.steps) PrintStep(*child);
          Close();
        }
        Close();
        return;
      }
      case StepKind::kControl:
        Leaf("control" + StepSuffix(step));
        return;
      case StepKind::kExit:
        Leaf("exit" + StepSuffix(step));
        return;
    }
  }

  // ---- Expressions ----

  static std::string LiteralValue(const LiteralExpr& e) {
    switch (e.lit) {
      case LiteralKind::kBool: return e.bool_value ? "true" : "false";
      case LiteralKind::kInt: return std::to_string(e.int_value);
      case LiteralKind::kFloat:
      case LiteralKind::kPercent: return DoubleText(e.float_value);
      case LiteralKind::kString: return QuoteString(e.string_value);
      case LiteralKind::kDuration: return Micros(e.int_value);
      case LiteralKind::kClock: return std::to_string(e.int_value) + "min";
    }
    return "?";
  }

  static std::string MemberTargetText(const MemberExpr& m) {
    switch (m.target) {
      case MemberTarget::kUnresolved:
        return "";
      case MemberTarget::kEnvelope:
        switch (m.envelope) {
          case EnvelopeField::kId: return " -> envelope id";
          case EnvelopeField::kCustomer: return " -> envelope customer";
          case EnvelopeField::kTime: return " -> envelope time";
        }
        return "";
      case MemberTarget::kProfileField:
        return " -> profile." + (m.profile_field ? m.profile_field->name : m.field);
      case MemberTarget::kEventField: {
        std::string out = " -> event ";
        for (size_t i = 0; i < m.events.size(); ++i) {
          if (i > 0) out += ", ";
          out += m.events[i] ? m.events[i]->name : "?";
          out += '.';
          out += i < m.event_fields.size() && m.event_fields[i] ? m.event_fields[i]->name
                                                                : m.field;
        }
        return out;
      }
    }
    return "";
  }

  static std::string WindowHead(const WindowExpr& w) {
    std::string target;
    switch (w.window) {
      case WindowKind::kTimeSince:
        return "time_since " + w.event_name;
      case WindowKind::kCount:
        target = w.event_name;
        break;
      case WindowKind::kSum:
        target = w.event_name + "." + w.field;
        break;
    }
    return (w.window == WindowKind::kCount ? "count " : "sum ") + target + " within " +
           DurationText(w.within_spelling, w.within_us);
  }

  static std::string WindowTarget(const WindowExpr& w) {
    if (!w.event_decl) return "";
    std::string out = " -> event " + w.event_decl->name;
    if (w.window == WindowKind::kSum && w.field_decl) out += "." + w.field_decl->name;
    return out;
  }

  void PrintExpr(const Expr* e) {
    if (e == nullptr) {
      Leaf("null");
      return;
    }
    std::string at = " " + Pos(e->range) + TypeSuffix(e->type);
    switch (e->kind) {
      case ExprKind::kLiteral: {
        const auto& l = static_cast<const LiteralExpr&>(*e);
        Leaf(std::string("literal ") + LiteralKindName(l.lit) + " " + l.spelling + " = " +
             LiteralValue(l) + at);
        return;
      }
      case ExprKind::kList:
        Open("list" + at);
        for (const ExprPtr& x : static_cast<const ListExpr&>(*e).elements) PrintExpr(x.get());
        Close();
        return;
      case ExprKind::kEvent:
        Leaf("event" + at);
        return;
      case ExprKind::kProfile:
        Leaf("profile" + at);
        return;
      case ExprKind::kNow:
        Leaf("now" + at);
        return;
      case ExprKind::kName: {
        const auto& n = static_cast<const NameExpr&>(*e);
        std::string target = n.const_decl     ? " -> const " + n.const_decl->name
                             : n.segment_decl ? " -> segment " + n.segment_decl->name
                                              : "";
        Leaf("name " + n.name + at + target);
        return;
      }
      case ExprKind::kMember: {
        const auto& m = static_cast<const MemberExpr&>(*e);
        Open("member " + m.field + at + MemberTargetText(m));
        PrintExpr(m.base.get());
        Close();
        return;
      }
      case ExprKind::kCall: {
        const auto& c = static_cast<const CallExpr&>(*e);
        std::string target = c.builtin >= 0 ? " -> builtin #" + std::to_string(c.builtin) +
                                                  "/" + std::to_string(c.overload)
                                            : "";
        Open("call " + c.callee + at + target);
        for (const ExprPtr& a : c.args) PrintExpr(a.get());
        Close();
        return;
      }
      case ExprKind::kHas:
        Open("has" + at);
        PrintExpr(static_cast<const HasExpr&>(*e).operand.get());
        Close();
        return;
      case ExprKind::kWindow: {
        const auto& w = static_cast<const WindowExpr&>(*e);
        Open(WindowHead(w) + at + WindowTarget(w));
        if (w.where) {
          Open("where");
          PrintExpr(w.where.get());
          Close();
        }
        Close();
        return;
      }
      case ExprKind::kUnary: {
        const auto& u = static_cast<const UnaryExpr&>(*e);
        Open(std::string("unary ") + (u.op == UnaryOp::kNeg ? "\"-\"" : "\"not\"") + at);
        PrintExpr(u.operand.get());
        Close();
        return;
      }
      case ExprKind::kBinary: {
        const auto& b = static_cast<const BinaryExpr&>(*e);
        Open(std::string("binary \"") + BinaryOpSpelling(b.op) + "\"" + at);
        PrintExpr(b.lhs.get());
        PrintExpr(b.rhs.get());
        Close();
        return;
      }
    }
  }

  const SourceManager& sm_;
  std::string out_;
  int depth_ = 0;
};

}  // namespace

std::string PrintAst(const Program& program, const SourceManager& sm) {
  return AstPrinter(sm).Print(program);
}

}  // namespace juncture::compiler::ast
