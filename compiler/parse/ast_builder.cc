// Parse tree -> AST. One method per grammar rule (or labelled alternative); the
// dispatchers are the accepted long functions here.
#include "parse/ast_builder.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "parse/parser.h"
#include "parse/token_util.h"

namespace juncture::compiler {
namespace {

using P = grammar_internal::JunctureParser;
using namespace ast;

class ModuleBuilder {
 public:
  ModuleBuilder(FileId file, DiagnosticSink& sink) : file_(file), sink_(sink) {}

  std::optional<Module> Build(P::ProgramContext* tree) {
    Module module;
    module.file = file_;
    for (P::DeclContext* d : tree->decl()) {
      if (DeclPtr decl = BuildDecl(d)) module.decls.push_back(std::move(decl));
    }
    if (failed_) return std::nullopt;
    return module;
  }

 private:
  // ---- helpers ----
  SourceRange Range(antlr4::ParserRuleContext* ctx) const { return ContextRange(file_, ctx); }
  SourceRange Range(antlr4::Token* t) const { return TokenRange(file_, t); }
  SourceRange Range(antlr4::tree::TerminalNode* n) const { return Range(n->getSymbol()); }

  void Error(ErrorCode code, SourceRange range, std::string message) {
    sink_.Error(code, range, std::move(message));
    failed_ = true;
  }

  int64_t DurationOf(antlr4::tree::TerminalNode* node) {
    int64_t us = 0;
    if (!ParseDuration(node->getText(), us)) Error(ErrorCode::kInvalidValue, Range(node), "duration is too large");
    return us;
  }

  std::string StringOf(antlr4::tree::TerminalNode* node) {
    const std::string& text = node->getText();
    std::string body = text.substr(1, text.size() - 2);
    std::string value;
    size_t bad = 0;
    if (!UnescapeString(body, value, bad)) {
      SourceRange r = Range(node);
      r.begin.column += 1 + CodePoints(body.substr(0, bad));
      r.end = r.begin;
      r.end.column += 2;
      Error(ErrorCode::kSyntax, r, "invalid escape sequence in string (use \\\" \\\\ \\n \\t or \\u{hex})");
    }
    return value;
  }

  NameRef NameOf(antlr4::tree::TerminalNode* node) {
    return NameRef{node->getText(), Range(node)};
  }

  EventName EventNameOf(antlr4::tree::TerminalNode* node) {
    return EventName{node->getText(), Range(node), nullptr};
  }

  // ---- declarations ----
  DeclPtr BuildDecl(P::DeclContext* ctx) {
    if (auto* c = dynamic_cast<P::EventDeclContext*>(ctx)) {
      auto d = std::make_unique<EventDecl>(Range(c));
      d->name = c->IDENT()->getText();
      d->name_range = Range(c->IDENT());
      for (auto* f : c->fieldDecl()) d->fields.push_back(BuildField(f));
      return d;
    }
    if (auto* c = dynamic_cast<P::ProfileDeclContext*>(ctx)) {
      auto d = std::make_unique<ProfileDecl>(Range(c));
      d->name_range = Range(c->getStart());
      for (auto* f : c->fieldDecl()) d->fields.push_back(BuildField(f));
      return d;
    }
    if (auto* c = dynamic_cast<P::ChannelDeclContext*>(ctx)) return BuildChannel(c);
    if (auto* c = dynamic_cast<P::SegmentDeclContext*>(ctx)) {
      auto d = std::make_unique<SegmentDecl>(Range(c));
      d->name = c->IDENT()->getText();
      d->name_range = Range(c->IDENT());
      d->value = BuildExpr(c->expr());
      return d;
    }
    if (auto* c = dynamic_cast<P::ConstDeclContext*>(ctx)) {
      auto d = std::make_unique<ConstDecl>(Range(c));
      d->name = c->IDENT()->getText();
      d->name_range = Range(c->IDENT());
      d->value = BuildExpr(c->expr());
      return d;
    }
    if (auto* c = dynamic_cast<P::JourneyDeclContext*>(ctx)) return BuildJourney(c);
    return nullptr;
  }

  FieldDecl BuildField(P::FieldDeclContext* ctx) {
    FieldDecl f;
    f.name = ctx->name()->getText();
    f.name_range = Range(ctx->name());
    f.type_ref = BuildTypeRef(ctx->typeRef());
    if (ctx->expr()) f.default_value = BuildExpr(ctx->expr());
    return f;
  }

  TypeRef BuildTypeRef(P::TypeRefContext* ctx) {
    TypeRef t;
    t.name = ctx->IDENT()->getText();
    t.range = Range(ctx);
    t.optional = ctx->optional != nullptr;
    if (ctx->typeRef()) t.elem = std::make_unique<TypeRef>(BuildTypeRef(ctx->typeRef()));
    return t;
  }

  DeclPtr BuildChannel(P::ChannelDeclContext* ctx) {
    auto d = std::make_unique<ChannelDecl>(Range(ctx));
    d->name = ctx->IDENT()->getText();
    d->name_range = Range(ctx->IDENT());
    for (P::ChannelClauseContext* clause : ctx->channelClause()) {
      SourceRange r = Range(clause);
      if (auto* c = dynamic_cast<P::ConsentClauseContext*>(clause)) {
        if (d->consent) Error(ErrorCode::kDuplicate, r, "channel '" + d->name + "' has more than one 'consent'");
        d->consent = BuildExpr(c->expr());
      } else if (auto* c = dynamic_cast<P::QuietClauseContext*>(clause)) {
        if (d->quiet) Error(ErrorCode::kDuplicate, r, "channel '" + d->name + "' has more than one 'quiet'");
        QuietClause q;
        q.start_spelling = c->CLOCK(0)->getText();
        q.end_spelling = c->CLOCK(1)->getText();
        q.start_minute = ClockMinutes(c->CLOCK(0));
        q.end_minute = ClockMinutes(c->CLOCK(1));
        q.local = c->local != nullptr;
        q.drop = c->drop != nullptr;
        q.range = r;
        d->quiet = q;
      } else if (auto* c = dynamic_cast<P::CapClauseContext*>(clause)) {
        if (d->cap) Error(ErrorCode::kDuplicate, r, "channel '" + d->name + "' has more than one 'cap'");
        CapClause cap;
        cap.count = IntOf(c->INT());
        cap.per_spelling = c->DURATION()->getText();
        cap.per_us = DurationOf(c->DURATION());
        cap.range = r;
        d->cap = cap;
      } else if (auto* c = dynamic_cast<P::ApprovalClauseContext*>(clause)) {
        d->approval_roles.push_back(NameOf(c->IDENT()));
      }
    }
    return d;
  }

  int ClockMinutes(antlr4::tree::TerminalNode* node) {
    const std::string& t = node->getText();
    size_t colon = t.find(':');
    int h = std::atoi(t.substr(0, colon).c_str());
    int m = std::atoi(t.substr(colon + 1).c_str());
    if (h > 23 || m > 59) Error(ErrorCode::kInvalidValue, Range(node), "invalid clock time '" + t + "' (00:00 to 23:59)");
    return h * 60 + m;
  }

  int64_t IntOf(antlr4::tree::TerminalNode* node) {
    const std::string& t = node->getText();
    errno = 0;
    long long v = std::strtoll(t.c_str(), nullptr, 10);
    if (errno == ERANGE) Error(ErrorCode::kInvalidValue, Range(node), "integer '" + t + "' is out of range");
    return v;
  }

  // ---- journeys ----
  DeclPtr BuildJourney(P::JourneyDeclContext* ctx) {
    auto j = std::make_unique<JourneyDecl>(Range(ctx));
    j->name = ctx->IDENT()->getText();
    j->name_range = Range(ctx->IDENT());
    const Step* first_step = nullptr;
    for (P::JourneyItemContext* item : ctx->journeyItem()) {
      if (item->step()) {
        j->body.steps.push_back(BuildStep(item->step()));
        if (!first_step) first_step = j->body.steps.back().get();
        continue;
      }
      if (first_step) {
        Error(ErrorCode::kJourneyStructure, Range(item), "header clause '" + item->getStart()->getText() +
                               "' must come before the steps of journey '" + j->name + "'");
        sink_.Note(first_step->range, "first step is here");
      }
      BuildHeader(item->headerClause(), *j);
    }
    if (!j->body.steps.empty()) {
      j->body.range = {j->body.steps.front()->range.begin, j->body.steps.back()->range.end};
    }
    return j;
  }

  void Duplicate(SourceRange r, const char* clause, const JourneyDecl& j) {
    Error(ErrorCode::kDuplicate, r, std::string("journey '") + j.name + "' has more than one '" + clause + "'");
  }

  void BuildHeader(P::HeaderClauseContext* clause, JourneyDecl& j) {
    SourceRange r = Range(clause);
    if (auto* c = dynamic_cast<P::TitleClauseContext*>(clause)) {
      if (j.title) Duplicate(r, "title", j);
      j.title = c->STRING()->getText();
      j.title_value = StringOf(c->STRING());
      j.title_range = r;
    } else if (auto* c = dynamic_cast<P::OwnerClauseContext*>(clause)) {
      if (j.owner) Duplicate(r, "owner", j);
      j.owner = c->STRING()->getText();
      j.owner_value = StringOf(c->STRING());
      j.owner_range = r;
    } else if (auto* c = dynamic_cast<P::PriorityClauseContext*>(clause)) {
      if (j.priority) Duplicate(r, "priority", j);
      bool was_failed = failed_;
      failed_ = false;
      int64_t p = IntOf(c->INT());
      if (!failed_ && p > 1'000'000) Error(ErrorCode::kInvalidValue, Range(c->INT()), "priority must be within -1000000..1000000");
      j.priority = c->minus ? -p : p;
      j.priority_range = r;
      failed_ = failed_ || was_failed;
    } else if (auto* c = dynamic_cast<P::ApprovalsClauseContext*>(clause)) {
      for (auto* id : c->IDENT()) j.approvals.push_back(NameOf(id));
    } else if (auto* c = dynamic_cast<P::LimitClauseContext*>(clause)) {
      Limit limit;
      limit.param = c->name()->getText();
      limit.param_range = Range(c->name());
      limit.upper = c->op->getText() == "<=";
      limit.bound = BuildExpr(c->expr());
      limit.range = r;
      j.limits.push_back(std::move(limit));
    } else if (auto* c = dynamic_cast<P::TriggerClauseContext*>(clause)) {
      j.triggers.push_back(BuildTrigger(c->IDENT(), c->expr(), r));
    } else if (auto* c = dynamic_cast<P::EligibleClauseContext*>(clause)) {
      j.eligible.push_back(BuildExpr(c->expr()));
    } else if (auto* c = dynamic_cast<P::ReenterModeClauseContext*>(clause)) {
      if (j.reenter_written) Duplicate(r, "reenter", j);
      j.reenter_written = true;
      j.reenter = c->kind->getText() == "always" ? ReenterMode::kAlways : ReenterMode::kNever;
      j.reenter_range = r;
    } else if (auto* c = dynamic_cast<P::ReenterAfterClauseContext*>(clause)) {
      if (j.reenter_written) Duplicate(r, "reenter", j);
      j.reenter_written = true;
      j.reenter = ReenterMode::kAfter;
      j.reenter_range = r;
      j.reenter_spelling = c->DURATION()->getText();
      j.reenter_after_us = DurationOf(c->DURATION());
    } else if (auto* c = dynamic_cast<P::ExitOnClauseContext*>(clause)) {
      j.exits.push_back(BuildTrigger(c->IDENT(), c->expr(), r));
    } else if (auto* c = dynamic_cast<P::GoalClauseContext*>(clause)) {
      if (j.goal) {
        Error(ErrorCode::kDuplicate, r, "journey '" + j.name + "' has more than one 'goal' (a journey has at most one)");
        return;
      }
      Goal g;
      g.event = EventNameOf(c->IDENT());
      if (c->expr()) g.when = BuildExpr(c->expr());
      g.within_spelling = c->DURATION()->getText();
      g.within_us = DurationOf(c->DURATION());
      g.range = r;
      j.goal = std::move(g);
    } else if (auto* c = dynamic_cast<P::DeadlineClauseContext*>(clause)) {
      if (j.deadline_us) Duplicate(r, "deadline", j);
      j.deadline_range = r;
      if (c->INT()) {
        Error(ErrorCode::kInvalidValue, Range(c->INT()), "'deadline' needs a duration with a unit, e.g. '" +
                                   c->INT()->getText() + "s' or '" + c->INT()->getText() + "m'");
        j.deadline_us = 0;
        return;
      }
      j.deadline_spelling = c->DURATION()->getText();
      j.deadline_us = DurationOf(c->DURATION());
    }
  }

  Trigger BuildTrigger(antlr4::tree::TerminalNode* event, P::ExprContext* when,
                       SourceRange r) {
    Trigger t;
    t.event = EventNameOf(event);
    if (when) t.when = BuildExpr(when);
    t.range = r;
    return t;
  }

  // ---- steps ----
  Block BuildBlock(P::BlockContext* ctx) {
    Block b;
    b.range = Range(ctx);
    for (auto* s : ctx->step()) b.steps.push_back(BuildStep(s));
    return b;
  }

  StepPtr BuildStep(P::StepContext* ctx) {
    SourceRange r = Range(ctx);
    if (auto* c = dynamic_cast<P::SendStepContext*>(ctx)) {
      auto s = std::make_unique<SendStep>(r);
      s->channel = c->IDENT()->getText();
      s->channel_range = Range(c->IDENT());
      s->template_name = c->STRING()->getText();
      s->template_range = Range(c->STRING());
      s->template_value = StringOf(c->STRING());
      if (c->params()) {
        s->has_params_block = true;
        for (auto* p : c->params()->param()) {
          s->params.push_back(Param{p->name()->getText(), Range(p->name()), BuildExpr(p->expr())});
        }
      }
      return s;
    }
    if (auto* c = dynamic_cast<P::WaitStepContext*>(ctx)) {
      auto s = std::make_unique<WaitStep>(r);
      s->spelling = c->DURATION()->getText();
      s->duration_us = DurationOf(c->DURATION());
      return s;
    }
    if (auto* c = dynamic_cast<P::WaitUntilStepContext*>(ctx)) {
      auto s = std::make_unique<WaitUntilStep>(r);
      for (auto* id : c->IDENT()) s->events.push_back(EventNameOf(id));
      if (c->expr()) s->when = BuildExpr(c->expr());
      s->within_spelling = c->DURATION()->getText();
      s->within_us = DurationOf(c->DURATION());
      auto blocks = c->block();
      if (blocks.size() >= 1) s->on_event = BuildBlock(blocks[0]);
      if (blocks.size() >= 2) s->on_timeout = BuildBlock(blocks[1]);
      return s;
    }
    if (auto* c = dynamic_cast<P::IfStepContext*>(ctx)) {
      auto s = std::make_unique<IfStep>(r);
      auto conds = c->expr();
      auto blocks = c->block();
      for (size_t i = 0; i < conds.size(); ++i) {
        s->arms.push_back(IfArm{BuildExpr(conds[i]), BuildBlock(blocks[i])});
      }
      if (blocks.size() > conds.size()) s->else_body = BuildBlock(blocks.back());
      return s;
    }
    if (auto* c = dynamic_cast<P::SplitStepContext*>(ctx)) {
      auto s = std::make_unique<SplitStep>(r);
      for (auto* branch : c->splitBranch()) s->arms.push_back(BuildSplitArm(branch));
      return s;
    }
    if (dynamic_cast<P::ControlStepContext*>(ctx)) {
      return std::make_unique<SimpleStep>(StepKind::kControl, r);
    }
    return std::make_unique<SimpleStep>(StepKind::kExit, r);
  }

  SplitArm BuildSplitArm(P::SplitBranchContext* ctx) {
    SplitArm arm;
    arm.spelling = ctx->PERCENT()->getText();
    arm.range = Range(ctx);
    arm.fraction = PercentOf(ctx->PERCENT());
    if (ctx->block()) {
      arm.braced = true;
      arm.body = BuildBlock(ctx->block());
    } else {
      arm.body.range = Range(ctx->step());
      arm.body.steps.push_back(BuildStep(ctx->step()));
    }
    return arm;
  }

  double PercentOf(antlr4::tree::TerminalNode* node) {
    std::string t = node->getText();
    t.pop_back();  // '%'
    double v = std::strtod(t.c_str(), nullptr);
    if (!std::isfinite(v)) Error(ErrorCode::kInvalidValue, Range(node), "percent is out of range");
    return v / 100.0;
  }

  // ---- expressions ----
  template <typename Node>
  std::unique_ptr<Node> Make(antlr4::ParserRuleContext* ctx) {
    return std::make_unique<Node>(Range(ctx));
  }

  ExprPtr Binary(antlr4::ParserRuleContext* ctx, BinaryOp op, antlr4::Token* op_token,
                 P::ExprContext* lhs, P::ExprContext* rhs) {
    auto e = Make<BinaryExpr>(ctx);
    e->op = op;
    e->op_range = Range(op_token);
    e->lhs = BuildExpr(lhs);
    e->rhs = BuildExpr(rhs);
    return e;
  }

  // The operator token of a binary context: its second child.
  static antlr4::Token* OpToken(antlr4::ParserRuleContext* ctx) {
    auto* node = dynamic_cast<antlr4::tree::TerminalNode*>(ctx->children.at(1));
    return node ? node->getSymbol() : ctx->getStart();
  }

  ExprPtr BuildExpr(P::ExprContext* ctx) {
    if (++depth_ > kMaxExprDepth) {
      --depth_;
      if (!too_deep_reported_) {
        Error(ErrorCode::kTooComplex, Range(ctx), "expression is nested too deeply (more than " +
                              std::to_string(kMaxExprDepth) + " levels)");
        too_deep_reported_ = true;
      }
      failed_ = true;
      return Make<LiteralExpr>(ctx);
    }
    ExprPtr e = BuildExprInner(ctx);
    --depth_;
    return e;
  }

  ExprPtr BuildExprInner(P::ExprContext* ctx) {
    if (auto* c = dynamic_cast<P::PrimaryExprContext*>(ctx)) return BuildPrimary(c->primary());
    if (auto* c = dynamic_cast<P::MemberExprContext*>(ctx)) {
      auto e = Make<MemberExpr>(c);
      e->base = BuildExpr(c->expr());
      e->field = c->name()->getText();
      e->field_range = Range(c->name());
      return e;
    }
    if (auto* c = dynamic_cast<P::NegExprContext*>(ctx)) return Unary(c, UnaryOp::kNeg, c->expr());
    if (auto* c = dynamic_cast<P::NotExprContext*>(ctx)) return Unary(c, UnaryOp::kNot, c->expr());
    if (auto* c = dynamic_cast<P::MulExprContext*>(ctx)) {
      std::string op = c->op->getText();
      BinaryOp b = op == "*" ? BinaryOp::kMul : op == "/" ? BinaryOp::kDiv : BinaryOp::kMod;
      return Binary(c, b, c->op, c->expr(0), c->expr(1));
    }
    if (auto* c = dynamic_cast<P::AddExprContext*>(ctx)) {
      BinaryOp b = c->op->getText() == "+" ? BinaryOp::kAdd : BinaryOp::kSub;
      return Binary(c, b, c->op, c->expr(0), c->expr(1));
    }
    if (auto* c = dynamic_cast<P::CoalesceExprContext*>(ctx)) {
      return Binary(c, BinaryOp::kCoalesce, OpToken(c), c->expr(0), c->expr(1));
    }
    if (auto* c = dynamic_cast<P::CompareExprContext*>(ctx)) {
      std::string op = c->op->getText();
      BinaryOp b = c->negated       ? BinaryOp::kNotIn
                 : op == "=="       ? BinaryOp::kEq : op == "!=" ? BinaryOp::kNe
                 : op == "<"        ? BinaryOp::kLt : op == "<=" ? BinaryOp::kLe
                 : op == ">"        ? BinaryOp::kGt : op == ">=" ? BinaryOp::kGe
                 : op == "in"       ? BinaryOp::kIn
                 : op == "starts_with" ? BinaryOp::kStartsWith
                 : op == "ends_with" ? BinaryOp::kEndsWith : BinaryOp::kContains;
      return Binary(c, b, c->negated ? c->negated : c->op, c->expr(0), c->expr(1));
    }
    if (auto* c = dynamic_cast<P::AndExprContext*>(ctx)) {
      return Binary(c, BinaryOp::kAnd, OpToken(c), c->expr(0), c->expr(1));
    }
    auto* c = dynamic_cast<P::OrExprContext*>(ctx);
    return Binary(c, BinaryOp::kOr, OpToken(c), c->expr(0), c->expr(1));
  }

  ExprPtr Unary(antlr4::ParserRuleContext* ctx, UnaryOp op, P::ExprContext* operand) {
    auto e = Make<UnaryExpr>(ctx);
    e->op = op;
    e->operand = BuildExpr(operand);
    return e;
  }

  ExprPtr BuildPrimary(P::PrimaryContext* ctx) {
    if (auto* c = dynamic_cast<P::LiteralPrimaryContext*>(ctx)) return BuildLiteral(c->literal());
    if (auto* c = dynamic_cast<P::ListPrimaryContext*>(ctx)) {
      auto e = Make<ListExpr>(c);
      for (auto* x : c->expr()) e->elements.push_back(BuildExpr(x));
      return e;
    }
    if (auto* c = dynamic_cast<P::ParenPrimaryContext*>(ctx)) return BuildExpr(c->expr());
    if (dynamic_cast<P::EventPrimaryContext*>(ctx)) {
      return std::make_unique<KeywordExpr>(ExprKind::kEvent, Range(ctx));
    }
    if (dynamic_cast<P::ProfilePrimaryContext*>(ctx)) {
      return std::make_unique<KeywordExpr>(ExprKind::kProfile, Range(ctx));
    }
    if (dynamic_cast<P::NowPrimaryContext*>(ctx)) {
      return std::make_unique<KeywordExpr>(ExprKind::kNow, Range(ctx));
    }
    if (auto* c = dynamic_cast<P::CountPrimaryContext*>(ctx)) {
      return Window(c, WindowKind::kCount, c->IDENT(), nullptr, c->DURATION(), c->expr());
    }
    if (auto* c = dynamic_cast<P::SumPrimaryContext*>(ctx)) {
      return Window(c, WindowKind::kSum, c->IDENT(), c->name(), c->DURATION(), c->expr());
    }
    if (auto* c = dynamic_cast<P::TimeSincePrimaryContext*>(ctx)) {
      return Window(c, WindowKind::kTimeSince, c->IDENT(), nullptr, nullptr, nullptr);
    }
    if (auto* c = dynamic_cast<P::HasPrimaryContext*>(ctx)) {
      auto e = Make<HasExpr>(c);
      e->operand = BuildExpr(c->expr());
      return e;
    }
    if (auto* c = dynamic_cast<P::CallPrimaryContext*>(ctx)) {
      auto e = Make<CallExpr>(c);
      e->callee = c->IDENT()->getText();
      e->callee_range = Range(c->IDENT());
      for (auto* a : c->expr()) e->args.push_back(BuildExpr(a));
      return e;
    }
    auto* c = dynamic_cast<P::NamePrimaryContext*>(ctx);
    auto e = Make<NameExpr>(c);
    e->name = c->IDENT()->getText();
    return e;
  }

  ExprPtr Window(antlr4::ParserRuleContext* ctx, WindowKind kind,
                 antlr4::tree::TerminalNode* event, P::NameContext* field,
                 antlr4::tree::TerminalNode* within, P::ExprContext* where) {
    auto e = Make<WindowExpr>(ctx);
    e->window = kind;
    e->event_name = event->getText();
    e->event_range = Range(event);
    if (field) {
      e->field = field->getText();
      e->field_range = Range(field);
    }
    if (within) {
      e->within_spelling = within->getText();
      e->within_us = DurationOf(within);
    }
    if (where) e->where = BuildExpr(where);
    return e;
  }

  ExprPtr BuildLiteral(P::LiteralContext* ctx) {
    auto e = Make<LiteralExpr>(ctx);
    antlr4::Token* t = ctx->getStart();
    auto* node = dynamic_cast<antlr4::tree::TerminalNode*>(ctx->children.at(0));
    e->spelling = t->getText();
    switch (t->getType()) {
      case P::INT:
        e->lit = LiteralKind::kInt;
        e->int_value = IntOf(node);
        break;
      case P::FLOAT: {
        e->lit = LiteralKind::kFloat;
        e->float_value = std::strtod(e->spelling.c_str(), nullptr);
        if (!std::isfinite(e->float_value)) {
          Error(ErrorCode::kInvalidValue, Range(t), "number '" + e->spelling + "' is out of range");
        }
        break;
      }
      case P::PERCENT:
        e->lit = LiteralKind::kPercent;
        e->float_value = PercentOf(node);
        break;
      case P::STRING:
        e->lit = LiteralKind::kString;
        e->string_value = StringOf(node);
        break;
      case P::DURATION:
        e->lit = LiteralKind::kDuration;
        e->int_value = DurationOf(node);
        break;
      case P::CLOCK:
        e->lit = LiteralKind::kClock;
        e->int_value = ClockMinutes(node);
        break;
      default:
        e->lit = LiteralKind::kBool;
        e->bool_value = e->spelling == "true";
        break;
    }
    return e;
  }

  FileId file_;
  DiagnosticSink& sink_;
  bool failed_ = false;
  int depth_ = 0;
  bool too_deep_reported_ = false;
};

}  // namespace

std::optional<Module> BuildModule(P::ProgramContext* tree, FileId file, DiagnosticSink& sink) {
  return ModuleBuilder(file, sink).Build(tree);
}

}  // namespace juncture::compiler
