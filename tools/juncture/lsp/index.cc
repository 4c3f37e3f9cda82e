#include "juncture/lsp/index.h"

namespace juncture::lsp {
namespace {

class Indexer {
 public:
  std::vector<Occurrence> out;

  void Module(const ast::Module& m) {
    for (const ast::DeclPtr& d : m.decls) Decl(*d);
  }

 private:
  const ast::JourneyDecl* journey_ = nullptr;

  Occurrence& Add(compiler::SourceRange range, NameKind kind) {
    Occurrence& o = out.emplace_back();
    o.range = range;
    o.kind = kind;
    o.journey = journey_;
    return o;
  }

  void Fields(const std::vector<ast::FieldDecl>& fields, const ast::EventDecl* event) {
    for (const ast::FieldDecl& f : fields) {
      Occurrence& o = Add(f.name_range, event ? NameKind::kEventField : NameKind::kProfileField);
      o.declaration = true;
      o.field = &f;
      o.event = event;
      if (event) o.events = {event};
      if (f.default_value) Expr(*f.default_value);
    }
  }

  void Decl(const ast::Decl& d) {
    switch (d.kind) {
      case ast::DeclKind::kEvent: {
        const auto& e = static_cast<const ast::EventDecl&>(d);
        Occurrence& o = Add(d.name_range, NameKind::kEvent);
        o.declaration = true;
        o.event = &e;
        Fields(e.fields, &e);
        break;
      }
      case ast::DeclKind::kProfile:
        Fields(static_cast<const ast::ProfileDecl&>(d).fields, nullptr);
        break;
      case ast::DeclKind::kChannel: {
        const auto& c = static_cast<const ast::ChannelDecl&>(d);
        Occurrence& o = Add(d.name_range, NameKind::kChannel);
        o.declaration = true;
        o.decl = &c;
        if (c.consent) Expr(*c.consent);
        break;
      }
      case ast::DeclKind::kSegment: {
        const auto& s = static_cast<const ast::SegmentDecl&>(d);
        Occurrence& o = Add(d.name_range, NameKind::kSegment);
        o.declaration = true;
        o.decl = &s;
        if (s.value) Expr(*s.value);
        break;
      }
      case ast::DeclKind::kConst: {
        const auto& c = static_cast<const ast::ConstDecl&>(d);
        Occurrence& o = Add(d.name_range, NameKind::kConst);
        o.declaration = true;
        o.decl = &c;
        if (c.value) Expr(*c.value);
        break;
      }
      case ast::DeclKind::kJourney: Journey(static_cast<const ast::JourneyDecl&>(d)); break;
    }
  }

  void EventName(const ast::EventName& e) {
    if (e.decl == nullptr) return;
    Add(e.range, NameKind::kEvent).event = e.decl;
  }

  void Journey(const ast::JourneyDecl& j) {
    journey_ = &j;
    Occurrence& o = Add(j.name_range, NameKind::kJourney);
    o.declaration = true;
    o.decl = &j;
    for (const ast::Limit& l : j.limits) {
      if (l.bound) Expr(*l.bound);
    }
    for (const auto* clauses : {&j.triggers, &j.exits}) {
      for (const ast::Trigger& t : *clauses) {
        EventName(t.event);
        if (t.when) Expr(*t.when);
      }
    }
    for (const ast::ExprPtr& e : j.eligible) Expr(*e);
    if (j.goal) {
      EventName(j.goal->event);
      if (j.goal->when) Expr(*j.goal->when);
    }
    Block(j.body);
    journey_ = nullptr;
  }

  void Block(const ast::Block& b) {
    for (const ast::StepPtr& s : b.steps) Step(*s);
  }

  void Step(const ast::Step& s) {
    switch (s.kind) {
      case ast::StepKind::kSend: {
        const auto& send = static_cast<const ast::SendStep&>(s);
        if (send.channel_decl) Add(send.channel_range, NameKind::kChannel).decl = send.channel_decl;
        for (const ast::Param& p : send.params) {
          if (p.value) Expr(*p.value);
        }
        break;
      }
      case ast::StepKind::kWaitUntil: {
        const auto& w = static_cast<const ast::WaitUntilStep&>(s);
        for (const ast::EventName& e : w.events) EventName(e);
        if (w.when) Expr(*w.when);
        if (w.on_event) Block(*w.on_event);
        if (w.on_timeout) Block(*w.on_timeout);
        break;
      }
      case ast::StepKind::kIf: {
        const auto& f = static_cast<const ast::IfStep&>(s);
        for (const ast::IfArm& arm : f.arms) {
          if (arm.condition) Expr(*arm.condition);
          Block(arm.body);
        }
        if (f.else_body) Block(*f.else_body);
        break;
      }
      case ast::StepKind::kSplit:
        for (const ast::SplitArm& arm : static_cast<const ast::SplitStep&>(s).arms) Block(arm.body);
        break;
      default: break;
    }
  }

  void Expr(const ast::Expr& e) {
    switch (e.kind) {
      case ast::ExprKind::kName: {
        const auto& n = static_cast<const ast::NameExpr&>(e);
        if (n.segment_decl) {
          Occurrence& o = Add(e.range, NameKind::kSegment);
          o.decl = n.segment_decl;
          o.expr = &e;
        } else if (n.const_decl) {
          Occurrence& o = Add(e.range, NameKind::kConst);
          o.decl = n.const_decl;
          o.expr = &e;
        }
        break;
      }
      case ast::ExprKind::kMember: {
        const auto& m = static_cast<const ast::MemberExpr&>(e);
        if (m.base) Expr(*m.base);
        if (m.target == ast::MemberTarget::kProfileField) {
          Occurrence& o = Add(m.field_range, NameKind::kProfileField);
          o.field = m.profile_field;
          o.expr = &e;
        } else if (m.target == ast::MemberTarget::kEventField && !m.event_fields.empty()) {
          Occurrence& o = Add(m.field_range, NameKind::kEventField);
          o.field = m.event_fields.front();
          o.event = m.events.empty() ? nullptr : m.events.front();
          o.events = m.events;
          o.expr = &e;
        } else if (m.target == ast::MemberTarget::kEnvelope) {
          Add(m.field_range, NameKind::kEnvelope).expr = &e;
        }
        break;
      }
      case ast::ExprKind::kCall: {
        const auto& c = static_cast<const ast::CallExpr&>(e);
        if (c.builtin >= 0) {
          Occurrence& o = Add(c.callee_range, NameKind::kFunction);
          o.function = c.builtin;
          o.expr = &e;
        }
        for (const ast::ExprPtr& a : c.args) {
          if (a) Expr(*a);
        }
        break;
      }
      case ast::ExprKind::kWindow: {
        const auto& w = static_cast<const ast::WindowExpr&>(e);
        if (w.event_decl) Add(w.event_range, NameKind::kEvent).event = w.event_decl;
        if (w.field_decl) {
          Occurrence& o = Add(w.field_range, NameKind::kEventField);
          o.field = w.field_decl;
          o.event = w.event_decl;
          o.events = {w.event_decl};
        }
        if (w.where) Expr(*w.where);
        break;
      }
      case ast::ExprKind::kList:
        for (const ast::ExprPtr& x : static_cast<const ast::ListExpr&>(e).elements) {
          if (x) Expr(*x);
        }
        break;
      case ast::ExprKind::kHas: {
        const auto& h = static_cast<const ast::HasExpr&>(e);
        if (h.operand) Expr(*h.operand);
        break;
      }
      case ast::ExprKind::kUnary: {
        const auto& u = static_cast<const ast::UnaryExpr&>(e);
        if (u.operand) Expr(*u.operand);
        break;
      }
      case ast::ExprKind::kBinary: {
        const auto& b = static_cast<const ast::BinaryExpr&>(e);
        if (b.lhs) Expr(*b.lhs);
        if (b.rhs) Expr(*b.rhs);
        break;
      }
      default: break;
    }
  }
};

bool Contains(const compiler::SourceRange& r, uint32_t line, uint32_t column) {
  const compiler::SourceLoc at{r.begin.file, line, column};
  // Inclusive of the end: a cursor right after a name is on it.
  return !(at < r.begin) && !(r.end < at);
}

}  // namespace

std::vector<Occurrence> IndexProgram(const ast::Program& program) {
  Indexer indexer;
  for (const ast::Module& m : program.modules) indexer.Module(m);
  return std::move(indexer.out);
}

const Occurrence* OccurrenceAt(const std::vector<Occurrence>& all, compiler::FileId file,
                               uint32_t line, uint32_t column) {
  const Occurrence* best = nullptr;
  for (const Occurrence& o : all) {
    if (o.range.begin.file != file || !Contains(o.range, line, column)) continue;
    if (best == nullptr || best->range.begin < o.range.begin) best = &o;  // the innermost
  }
  return best;
}

}  // namespace juncture::lsp
