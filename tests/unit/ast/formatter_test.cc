// Tests for the canonical source printer (compiler/ast/formatter.h). The ASTs are built
// by hand, the way the parser would build them (it drops parentheses).
#include "ast/formatter.h"

#include <memory>
#include <string>
#include <utility>

#include "gtest/gtest.h"

namespace juncture::compiler::ast {
namespace {

// ---- Builders ---------------------------------------------------------------------

ExprPtr Name(std::string name) {
  auto e = std::make_unique<NameExpr>(SourceRange{});
  e->name = std::move(name);
  return e;
}

ExprPtr Lit(LiteralKind kind, std::string spelling) {
  auto e = std::make_unique<LiteralExpr>(SourceRange{});
  e->lit = kind;
  e->spelling = std::move(spelling);
  return e;
}

ExprPtr Int(int64_t value) {
  auto e = std::make_unique<LiteralExpr>(SourceRange{});
  e->lit = LiteralKind::kInt;
  e->spelling = std::to_string(value);
  e->int_value = value;
  return e;
}

ExprPtr Str(std::string spelling) { return Lit(LiteralKind::kString, std::move(spelling)); }

ExprPtr Keyword(ExprKind kind) { return std::make_unique<KeywordExpr>(kind, SourceRange{}); }

ExprPtr Bin(BinaryOp op, ExprPtr lhs, ExprPtr rhs) {
  auto e = std::make_unique<BinaryExpr>(SourceRange{});
  e->op = op;
  e->lhs = std::move(lhs);
  e->rhs = std::move(rhs);
  return e;
}

ExprPtr Un(UnaryOp op, ExprPtr operand) {
  auto e = std::make_unique<UnaryExpr>(SourceRange{});
  e->op = op;
  e->operand = std::move(operand);
  return e;
}

ExprPtr Neg(ExprPtr operand) { return Un(UnaryOp::kNeg, std::move(operand)); }
ExprPtr Not(ExprPtr operand) { return Un(UnaryOp::kNot, std::move(operand)); }

ExprPtr Member(ExprPtr base, std::string field) {
  auto e = std::make_unique<MemberExpr>(SourceRange{});
  e->base = std::move(base);
  e->field = std::move(field);
  return e;
}

ExprPtr EventField(std::string field) { return Member(Keyword(ExprKind::kEvent), field); }
ExprPtr ProfileField(std::string field) { return Member(Keyword(ExprKind::kProfile), field); }

ExprPtr Call(std::string callee, std::vector<ExprPtr> args) {
  auto e = std::make_unique<CallExpr>(SourceRange{});
  e->callee = std::move(callee);
  e->args = std::move(args);
  return e;
}

std::vector<ExprPtr> Exprs(ExprPtr a, ExprPtr b = nullptr, ExprPtr c = nullptr) {
  std::vector<ExprPtr> out;
  for (ExprPtr* e : {&a, &b, &c}) {
    if (*e) out.push_back(std::move(*e));
  }
  return out;
}

ExprPtr List(std::vector<ExprPtr> elements) {
  auto e = std::make_unique<ListExpr>(SourceRange{});
  e->elements = std::move(elements);
  return e;
}

ExprPtr A() { return Name("a"); }
ExprPtr B() { return Name("b"); }
ExprPtr C() { return Name("c"); }

std::string Fmt(const ExprPtr& e) { return FormatExpr(*e); }

// ---- Parentheses ------------------------------------------------------------------

TEST(FormatExprTest, LeftAssociativeOperatorsKeepRightNestedParens) {
  EXPECT_EQ(Fmt(Bin(BinaryOp::kSub, A(), Bin(BinaryOp::kSub, B(), C()))), "a - (b - c)");
  EXPECT_EQ(Fmt(Bin(BinaryOp::kSub, Bin(BinaryOp::kSub, A(), B()), C())), "a - b - c");
  EXPECT_EQ(Fmt(Bin(BinaryOp::kDiv, A(), Bin(BinaryOp::kMul, B(), C()))), "a / (b * c)");
  EXPECT_EQ(Fmt(Bin(BinaryOp::kAdd, A(), Bin(BinaryOp::kSub, B(), C()))), "a + (b - c)");
}

TEST(FormatExprTest, LowerPrecedenceOperandGetsParens) {
  EXPECT_EQ(Fmt(Bin(BinaryOp::kMul, Bin(BinaryOp::kAdd, A(), B()), C())), "(a + b) * c");
  EXPECT_EQ(Fmt(Bin(BinaryOp::kAdd, A(), Bin(BinaryOp::kMul, B(), C()))), "a + b * c");
  EXPECT_EQ(Fmt(Bin(BinaryOp::kAdd, Bin(BinaryOp::kMul, A(), B()), C())), "a * b + c");
  EXPECT_EQ(Fmt(Bin(BinaryOp::kMod, A(), Bin(BinaryOp::kAdd, B(), C()))), "a % (b + c)");
}

TEST(FormatExprTest, AndOr) {
  EXPECT_EQ(Fmt(Bin(BinaryOp::kAnd, Bin(BinaryOp::kOr, A(), B()), C())), "(a or b) and c");
  EXPECT_EQ(Fmt(Bin(BinaryOp::kOr, A(), Bin(BinaryOp::kAnd, B(), C()))), "a or b and c");
  EXPECT_EQ(Fmt(Bin(BinaryOp::kOr, Bin(BinaryOp::kAnd, A(), B()), C())), "a and b or c");
  EXPECT_EQ(Fmt(Bin(BinaryOp::kOr, A(), Bin(BinaryOp::kOr, B(), C()))), "a or (b or c)");
}

TEST(FormatExprTest, Not) {
  EXPECT_EQ(Fmt(Not(Bin(BinaryOp::kAnd, A(), B()))), "not (a and b)");
  EXPECT_EQ(Fmt(Bin(BinaryOp::kAnd, Not(A()), B())), "not a and b");
  EXPECT_EQ(Fmt(Bin(BinaryOp::kAnd, A(), Not(B()))), "a and not b");
  // `not` binds more loosely than comparisons.
  EXPECT_EQ(Fmt(Not(Bin(BinaryOp::kEq, A(), B()))), "not a == b");
  EXPECT_EQ(Fmt(Bin(BinaryOp::kEq, Not(A()), B())), "(not a) == b");
  // A prefix operator is a primary: it needs no parens on the right of an operator...
  EXPECT_EQ(Fmt(Bin(BinaryOp::kEq, A(), Not(B()))), "a == not b");
  // ...unless an operator that follows would be pulled into its operand.
  EXPECT_EQ(Fmt(Bin(BinaryOp::kEq, Bin(BinaryOp::kEq, A(), Not(B())), C())),
            "a == (not b) == c");
  EXPECT_EQ(Fmt(Not(Not(A()))), "not not a");
}

TEST(FormatExprTest, Negation) {
  EXPECT_EQ(Fmt(Neg(Bin(BinaryOp::kAdd, A(), B()))), "-(a + b)");
  EXPECT_EQ(Fmt(Bin(BinaryOp::kMul, Neg(A()), B())), "-a * b");
  EXPECT_EQ(Fmt(Bin(BinaryOp::kSub, A(), Neg(B()))), "a - -b");
  EXPECT_EQ(Fmt(Bin(BinaryOp::kMul, A(), Neg(B()))), "a * -b");
  EXPECT_EQ(Fmt(Neg(Neg(A()))), "- -a");
  EXPECT_EQ(Fmt(Neg(Int(5))), "-5");
}

TEST(FormatExprTest, Coalesce) {
  EXPECT_EQ(Fmt(Bin(BinaryOp::kCoalesce, Bin(BinaryOp::kCoalesce, A(), B()), C())),
            "a ?? b ?? c");
  EXPECT_EQ(Fmt(Bin(BinaryOp::kCoalesce, A(), Bin(BinaryOp::kCoalesce, B(), C()))),
            "a ?? (b ?? c)");
  EXPECT_EQ(Fmt(Bin(BinaryOp::kAdd, Bin(BinaryOp::kCoalesce, A(), B()), C())), "(a ?? b) + c");
  EXPECT_EQ(Fmt(Bin(BinaryOp::kCoalesce, A(), Bin(BinaryOp::kAdd, B(), C()))), "a ?? b + c");
  EXPECT_EQ(Fmt(Bin(BinaryOp::kEq, Bin(BinaryOp::kCoalesce, A(), B()), C())), "a ?? b == c");
}

TEST(FormatExprTest, ComparisonsInAndStringOperatorsShareOneLevel) {
  EXPECT_EQ(Fmt(Bin(BinaryOp::kEq, Bin(BinaryOp::kIn, A(), B()), C())), "a in b == c");
  EXPECT_EQ(Fmt(Bin(BinaryOp::kIn, A(), Bin(BinaryOp::kEq, B(), C()))), "a in (b == c)");
  EXPECT_EQ(Fmt(Bin(BinaryOp::kContains, Bin(BinaryOp::kLt, A(), B()), C())),
            "a < b contains c");
  EXPECT_EQ(Fmt(Bin(BinaryOp::kNotIn, ProfileField("country"),
                    List(Exprs(Str("\"US\""), Str("\"CA\""))))),
            "profile.country not in [\"US\", \"CA\"]");
  EXPECT_EQ(Fmt(Bin(BinaryOp::kStartsWith, EventField("path"), Str("\"/checkout\""))),
            "event.path starts_with \"/checkout\"");
  EXPECT_EQ(Fmt(Bin(BinaryOp::kAnd, Bin(BinaryOp::kGe, A(), Int(1)),
                    Bin(BinaryOp::kEndsWith, B(), C()))),
            "a >= 1 and b ends_with c");
}

TEST(FormatExprTest, MemberOfParenthesizedExpression) {
  EXPECT_EQ(Fmt(Member(Bin(BinaryOp::kAdd, A(), B()), "x")), "(a + b).x");
  EXPECT_EQ(Fmt(Member(Neg(A()), "x")), "(-a).x");
  EXPECT_EQ(Fmt(Member(Not(A()), "x")), "(not a).x");
  EXPECT_EQ(Fmt(Neg(Member(A(), "x"))), "-a.x");
  EXPECT_EQ(Fmt(Member(Member(Keyword(ExprKind::kEvent), "a"), "b")), "event.a.b");
  EXPECT_EQ(Fmt(Member(Call("f", Exprs(A())), "x")), "f(a).x");
}

TEST(FormatExprTest, NestedContextsStartOver) {
  // Inside brackets and call parentheses no outer operator can reach.
  EXPECT_EQ(Fmt(Bin(BinaryOp::kMul, Call("max", Exprs(Bin(BinaryOp::kOr, A(), B()), C())),
                    List(Exprs(Bin(BinaryOp::kSub, A(), B()))))),
            "max(a or b, c) * [a - b]");
  auto has = std::make_unique<HasExpr>(SourceRange{});
  has->operand = EventField("coupon");
  EXPECT_EQ(Fmt(Bin(BinaryOp::kAnd, std::move(has), Not(A()))), "has(event.coupon) and not a");
}

TEST(FormatExprTest, Windows) {
  auto count = std::make_unique<WindowExpr>(SourceRange{});
  count->window = WindowKind::kCount;
  count->event_name = "page_view";
  count->within_spelling = "10m";
  count->where = Bin(BinaryOp::kStartsWith, EventField("path"), Str("\"/checkout\""));
  EXPECT_EQ(Fmt(Bin(BinaryOp::kGt, std::move(count), Int(0))),
            "count(page_view within 10m where event.path starts_with \"/checkout\") > 0");

  auto sum = std::make_unique<WindowExpr>(SourceRange{});
  sum->window = WindowKind::kSum;
  sum->event_name = "purchase";
  sum->field = "total";
  sum->within_spelling = "1d12h";
  EXPECT_EQ(FormatExpr(*sum), "sum(purchase.total within 1d12h)");

  auto since = std::make_unique<WindowExpr>(SourceRange{});
  since->window = WindowKind::kTimeSince;
  since->event_name = "purchase";
  EXPECT_EQ(FormatExpr(*since), "time_since(purchase)");
}

TEST(FormatExprTest, LiteralsPrintTheirSpelling) {
  EXPECT_EQ(Fmt(Lit(LiteralKind::kFloat, "12.50")), "12.50");
  EXPECT_EQ(Fmt(Lit(LiteralKind::kPercent, "15%")), "15%");
  EXPECT_EQ(Fmt(Lit(LiteralKind::kDuration, "1d12h")), "1d12h");
  EXPECT_EQ(Fmt(Lit(LiteralKind::kClock, "08:30")), "08:30");
  EXPECT_EQ(Fmt(Lit(LiteralKind::kBool, "false")), "false");
  EXPECT_EQ(Fmt(Str(R"("say \"hi\"\n\u{1F600}")")), R"("say \"hi\"\n\u{1F600}")");
  EXPECT_EQ(Fmt(List({})), "[]");
  EXPECT_EQ(Fmt(Keyword(ExprKind::kNow)), "now");
}

TEST(FormatExprTest, LiteralsWithoutSpellingAreWrittenFromTheirValue) {
  auto lit = [](LiteralKind kind) {
    auto e = std::make_unique<LiteralExpr>(SourceRange{});
    e->lit = kind;
    return e;
  };
  auto f = lit(LiteralKind::kFloat);
  f->float_value = 2;
  EXPECT_EQ(FormatExpr(*f), "2.0");
  auto p = lit(LiteralKind::kPercent);
  p->float_value = 0.45;
  EXPECT_EQ(FormatExpr(*p), "45%");
  auto s = lit(LiteralKind::kString);
  s->string_value = "a\"b\\c\nd\x01";
  EXPECT_EQ(FormatExpr(*s), R"("a\"b\\c\nd\u{1}")");
  auto d = lit(LiteralKind::kDuration);
  d->int_value = 90 * 60'000'000LL;
  EXPECT_EQ(FormatExpr(*d), "1h30m");
  auto c = lit(LiteralKind::kClock);
  c->int_value = 8 * 60 + 5;
  EXPECT_EQ(FormatExpr(*c), "08:05");
  auto b = lit(LiteralKind::kBool);
  b->bool_value = true;
  EXPECT_EQ(FormatExpr(*b), "true");
}

TEST(QuoteStringTest, EscapesWhatTheLexerCannotTakeRaw) {
  EXPECT_EQ(QuoteString(""), "\"\"");
  EXPECT_EQ(QuoteString("caf\xC3\xA9"), "\"caf\xC3\xA9\"");
  EXPECT_EQ(QuoteString("a\tb\r"), R"("a\tb\u{d}")");
}

// ---- Declarations -----------------------------------------------------------------

FieldDecl Field(std::string name, std::string type, bool optional = false,
                ExprPtr default_value = nullptr) {
  FieldDecl f;
  f.name = std::move(name);
  f.type_ref.name = std::move(type);
  f.type_ref.optional = optional;
  f.default_value = std::move(default_value);
  return f;
}

TEST(FormatDeclTest, Event) {
  EventDecl e{SourceRange{}};
  e.name = "cart_updated";
  e.fields.push_back(Field("cart_value", "float"));
  e.fields.push_back(Field("item_count", "int", false, Int(0)));
  e.fields.push_back(Field("coupon", "string", true));
  FieldDecl skus = Field("skus", "list", true);
  skus.type_ref.elem = std::make_unique<TypeRef>();
  skus.type_ref.elem->name = "string";
  e.fields.push_back(std::move(skus));
  e.fields.push_back(Field("count", "int"));  // a keyword is a valid field name
  EXPECT_EQ(FormatDecl(e),
            "event cart_updated {\n"
            "  cart_value: float\n"
            "  item_count: int = 0\n"
            "  coupon: string?\n"
            "  skus: list<string>?\n"
            "  count: int\n"
            "}\n");
}

TEST(FormatDeclTest, EmptyEventAndProfile) {
  EventDecl e{SourceRange{}};
  e.name = "unsubscribed";
  EXPECT_EQ(FormatDecl(e), "event unsubscribed { }\n");
  ProfileDecl p{SourceRange{}};
  EXPECT_EQ(FormatDecl(p), "profile { }\n");
}

TEST(FormatDeclTest, Profile) {
  ProfileDecl p{SourceRange{}};
  p.fields.push_back(Field("country", "string", false, Str("\"\"")));
  p.fields.push_back(Field("email_opt_in", "bool", false, Lit(LiteralKind::kBool, "false")));
  EXPECT_EQ(FormatDecl(p),
            "profile {\n"
            "  country: string = \"\"\n"
            "  email_opt_in: bool = false\n"
            "}\n");
}

TEST(FormatDeclTest, ChannelClausesInCanonicalOrder) {
  ChannelDecl c{SourceRange{}};
  c.name = "email";
  c.approval_roles.push_back(NameRef{"legal", {}});
  c.approval_roles.push_back(NameRef{"brand", {}});
  CapClause cap;
  cap.count = 3;
  cap.per_spelling = "1d";
  c.cap = cap;
  QuietClause quiet;
  quiet.start_spelling = "21:00";
  quiet.end_spelling = "08:00";
  quiet.local = true;
  quiet.drop = true;
  c.quiet = quiet;
  c.consent = ProfileField("email_opt_in");
  EXPECT_EQ(FormatDecl(c),
            "channel email {\n"
            "  consent profile.email_opt_in\n"
            "  quiet 21:00 .. 08:00 local drop\n"
            "  cap 3 per 1d\n"
            "  approval legal\n"
            "  approval brand\n"
            "}\n");

  ChannelDecl webhook{SourceRange{}};
  webhook.name = "webhook";
  EXPECT_EQ(FormatDecl(webhook), "channel webhook { }\n");

  ChannelDecl push{SourceRange{}};
  push.name = "push";
  QuietClause utc;
  utc.start_minute = 22 * 60;
  utc.end_minute = 7 * 60;  // no spellings: written from the minutes
  push.quiet = utc;
  EXPECT_EQ(FormatDecl(push), "channel push {\n  quiet 22:00 .. 07:00\n}\n");
}

TEST(FormatDeclTest, SegmentAndConst) {
  SegmentDecl s{SourceRange{}};
  s.name = "high_value";
  s.value = Bin(BinaryOp::kOr, Bin(BinaryOp::kGe, ProfileField("lifetime_value"), Int(500)),
                Bin(BinaryOp::kEq, ProfileField("tier"), Str("\"gold\"")));
  EXPECT_EQ(FormatDecl(s),
            "segment high_value = profile.lifetime_value >= 500 or profile.tier == \"gold\"\n");
  ConstDecl c{SourceRange{}};
  c.name = "FREE_SHIPPING";
  c.value = Lit(LiteralKind::kFloat, "75.0");
  EXPECT_EQ(FormatDecl(c), "const FREE_SHIPPING = 75.0\n");
}

// ---- Journeys ---------------------------------------------------------------------

StepPtr Send(std::string channel, std::string template_spelling) {
  auto s = std::make_unique<SendStep>(SourceRange{});
  s->channel = std::move(channel);
  s->template_name = std::move(template_spelling);
  return s;
}

StepPtr SendWith(std::string channel, std::string template_spelling, std::string key,
                 ExprPtr value) {
  auto s = std::make_unique<SendStep>(SourceRange{});
  s->channel = std::move(channel);
  s->template_name = std::move(template_spelling);
  s->has_params_block = true;
  s->params.push_back(Param{std::move(key), {}, std::move(value)});
  return s;
}

StepPtr Wait(std::string spelling) {
  auto s = std::make_unique<WaitStep>(SourceRange{});
  s->spelling = std::move(spelling);
  return s;
}

StepPtr Simple(StepKind kind) { return std::make_unique<SimpleStep>(kind, SourceRange{}); }

Block Steps(StepPtr a, StepPtr b = nullptr) {
  Block block;
  block.steps.push_back(std::move(a));
  if (b) block.steps.push_back(std::move(b));
  return block;
}

Trigger On(std::string event, ExprPtr when = nullptr) {
  Trigger t;
  t.event.name = std::move(event);
  t.when = std::move(when);
  return t;
}

TEST(FormatDeclTest, JourneyHeaderInCanonicalOrder) {
  JourneyDecl j{SourceRange{}};
  j.name = "cart_rescue";
  // Filled in an arbitrary order: the output order is fixed.
  j.exits.push_back(On("unsubscribed"));
  j.exits.push_back(On("cart_updated", Bin(BinaryOp::kEq, EventField("item_count"), Int(0))));
  j.reenter_written = true;
  j.reenter = ReenterMode::kAfter;
  j.reenter_spelling = "7d";
  j.eligible.push_back(Bin(BinaryOp::kAnd, Name("high_value"),
                           Bin(BinaryOp::kIn, ProfileField("country"),
                               List(Exprs(Str("\"US\""), Str("\"CA\""))))));
  j.eligible.push_back(Name("marketable"));
  j.triggers.push_back(On("cart_updated", Bin(BinaryOp::kGe, EventField("cart_value"),
                                              Lit(LiteralKind::kInt, "50"))));
  j.triggers.push_back(On("checkout_started"));
  Limit limit;
  limit.param = "discount";
  limit.upper = true;
  limit.bound = Lit(LiteralKind::kPercent, "20%");
  j.limits.push_back(std::move(limit));
  Limit floor;
  floor.param = "discount";
  floor.upper = false;
  floor.bound = Lit(LiteralKind::kPercent, "5%");
  j.limits.push_back(std::move(floor));
  j.approvals.push_back(NameRef{"marketing", {}});
  j.approvals.push_back(NameRef{"finance", {}});
  j.priority = -10;
  j.owner = "\"growth\"";
  j.title = "\"Cart \\\"rescue\\\"\"";
  j.body = Steps(Wait("30m"), Simple(StepKind::kExit));
  EXPECT_EQ(FormatDecl(j),
            "journey cart_rescue {\n"
            "  title \"Cart \\\"rescue\\\"\"\n"
            "  owner \"growth\"\n"
            "  priority -10\n"
            "  approvals marketing, finance\n"
            "  limit discount <= 20%\n"
            "  limit discount >= 5%\n"
            "  on cart_updated when event.cart_value >= 50\n"
            "  on checkout_started\n"
            "  eligible high_value and profile.country in [\"US\", \"CA\"]\n"
            "  eligible marketable\n"
            "  reenter after 7d\n"
            "  exit on unsubscribed\n"
            "  exit on cart_updated when event.item_count == 0\n"
            "\n"
            "  wait 30m\n"
            "  exit\n"
            "}\n");
}

TEST(FormatDeclTest, ReenterModesAndEmptyJourney) {
  JourneyDecl j{SourceRange{}};
  j.name = "j";
  EXPECT_EQ(FormatDecl(j), "journey j { }\n");
  j.reenter_written = true;
  j.reenter = ReenterMode::kNever;
  EXPECT_EQ(FormatDecl(j), "journey j {\n  reenter never\n}\n");
  j.reenter = ReenterMode::kAlways;
  EXPECT_EQ(FormatDecl(j), "journey j {\n  reenter always\n}\n");
  j.reenter_written = false;
  j.body = Steps(Simple(StepKind::kControl));  // steps only: no blank line
  EXPECT_EQ(FormatDecl(j), "journey j {\n  control\n}\n");
}

TEST(FormatDeclTest, SendParams) {
  JourneyDecl j{SourceRange{}};
  j.name = "j";
  auto two = std::make_unique<SendStep>(SourceRange{});
  two->channel = "email";
  two->template_name = "\"cart_reminder\"";
  two->has_params_block = true;
  two->params.push_back(Param{"discount", {}, Lit(LiteralKind::kPercent, "10%")});
  two->params.push_back(Param{"order", {}, EventField("order_id")});
  j.body.steps.push_back(std::move(two));
  auto empty = std::make_unique<SendStep>(SourceRange{});
  empty->channel = "push";
  empty->template_name = "\"ping\"";
  empty->has_params_block = true;
  j.body.steps.push_back(std::move(empty));
  j.body.steps.push_back(Send("webhook", "\"crm\""));
  // A template name held as a value rather than a spelling is quoted.
  j.body.steps.push_back(Send("webhook", "plain"));
  EXPECT_EQ(FormatDecl(j),
            "journey j {\n"
            "  send email \"cart_reminder\" { discount: 10%, order: event.order_id }\n"
            "  send push \"ping\" { }\n"
            "  send webhook \"crm\"\n"
            "  send webhook \"plain\"\n"
            "}\n");
}

TEST(FormatDeclTest, WaitUntil) {
  JourneyDecl j{SourceRange{}};
  j.name = "j";
  auto w = std::make_unique<WaitUntilStep>(SourceRange{});
  w->events.push_back(EventName{"purchase", {}, nullptr});
  w->events.push_back(EventName{"signup", {}, nullptr});
  w->when = Bin(BinaryOp::kGt, EventField("total"), Int(0));
  w->within_spelling = "2d";
  w->on_event = Steps(SendWith("email", "\"thank_you\"", "order", EventField("order_id")));
  w->on_timeout = Steps(Send("email", "\"last_call\""));
  j.body.steps.push_back(std::move(w));
  auto bare = std::make_unique<WaitUntilStep>(SourceRange{});
  bare->events.push_back(EventName{"app_open", {}, nullptr});
  bare->within_spelling = "1d";
  j.body.steps.push_back(std::move(bare));
  auto empty = std::make_unique<WaitUntilStep>(SourceRange{});
  empty->events.push_back(EventName{"app_open", {}, nullptr});
  empty->within_spelling = "1h";
  empty->on_event = Block{};
  empty->on_timeout = Steps(Simple(StepKind::kExit));
  j.body.steps.push_back(std::move(empty));
  EXPECT_EQ(FormatDecl(j),
            "journey j {\n"
            "  wait until purchase or signup when event.total > 0 within 2d {\n"
            "    send email \"thank_you\" { order: event.order_id }\n"
            "  } else {\n"
            "    send email \"last_call\"\n"
            "  }\n"
            "  wait until app_open within 1d\n"
            "  wait until app_open within 1h { } else {\n"
            "    exit\n"
            "  }\n"
            "}\n");
}

TEST(FormatDeclTest, IfElseIfElse) {
  JourneyDecl j{SourceRange{}};
  j.name = "j";
  auto s = std::make_unique<IfStep>(SourceRange{});
  s->arms.push_back(IfArm{Bin(BinaryOp::kGt, A(), Int(0)), Steps(Send("push", "\"a\""))});
  s->arms.push_back(IfArm{Name("vip"), Steps(Send("email", "\"b\""), Wait("1d"))});
  s->else_body = Steps(Simple(StepKind::kControl));
  j.body.steps.push_back(std::move(s));
  EXPECT_EQ(FormatDecl(j),
            "journey j {\n"
            "  if a > 0 {\n"
            "    send push \"a\"\n"
            "  } else if vip {\n"
            "    send email \"b\"\n"
            "    wait 1d\n"
            "  } else {\n"
            "    control\n"
            "  }\n"
            "}\n");
}

TEST(FormatDeclTest, ElseBlockHoldingAnIfIsNotAnElseIf) {
  JourneyDecl j{SourceRange{}};
  j.name = "j";
  auto inner = std::make_unique<IfStep>(SourceRange{});
  inner->arms.push_back(IfArm{B(), Block{}});
  auto outer = std::make_unique<IfStep>(SourceRange{});
  outer->arms.push_back(IfArm{A(), Steps(Simple(StepKind::kExit))});
  outer->else_body = Steps(std::move(inner));
  j.body.steps.push_back(std::move(outer));
  EXPECT_EQ(FormatDecl(j),
            "journey j {\n"
            "  if a {\n"
            "    exit\n"
            "  } else {\n"
            "    if b { }\n"
            "  }\n"
            "}\n");
}

TEST(FormatDeclTest, Split) {
  JourneyDecl j{SourceRange{}};
  j.name = "j";
  auto split = std::make_unique<SplitStep>(SourceRange{});
  SplitArm one;
  one.spelling = "45%";
  one.body = Steps(SendWith("email", "\"r\"", "discount", Lit(LiteralKind::kPercent, "10%")));
  split->arms.push_back(std::move(one));
  SplitArm braced;
  braced.spelling = "45%";
  braced.braced = true;
  braced.body = Steps(Send("email", "\"r\""), Wait("1d"));
  split->arms.push_back(std::move(braced));
  SplitArm single_braced;
  single_braced.spelling = "5%";
  single_braced.braced = true;
  single_braced.body = Steps(Simple(StepKind::kExit));
  split->arms.push_back(std::move(single_braced));
  SplitArm nested;
  nested.spelling = "5%";
  auto inner = std::make_unique<IfStep>(SourceRange{});
  inner->arms.push_back(IfArm{A(), Steps(Simple(StepKind::kControl))});
  nested.body = Steps(std::move(inner));
  split->arms.push_back(std::move(nested));
  j.body.steps.push_back(std::move(split));
  EXPECT_EQ(FormatDecl(j),
            "journey j {\n"
            "  split {\n"
            "    45%: send email \"r\" { discount: 10% }\n"
            "    45%: {\n"
            "      send email \"r\"\n"
            "      wait 1d\n"
            "    }\n"
            "    5%: {\n"
            "      exit\n"
            "    }\n"
            "    5%: if a {\n"
            "      control\n"
            "    }\n"
            "  }\n"
            "}\n");
}

TEST(FormatProgramTest, DeclarationsSeparatedByOneBlankLine) {
  Module m;
  EXPECT_EQ(FormatProgram(m), "");
  auto c = std::make_unique<ConstDecl>(SourceRange{});
  c->name = "X";
  c->value = Int(1);
  m.decls.push_back(std::move(c));
  auto e = std::make_unique<EventDecl>(SourceRange{});
  e->name = "ping";
  m.decls.push_back(std::move(e));
  auto j = std::make_unique<JourneyDecl>(SourceRange{});
  j->name = "j";
  j->triggers.push_back(On("ping"));
  j->body = Steps(Send("push", "\"p\""));
  m.decls.push_back(std::move(j));
  EXPECT_EQ(FormatProgram(m),
            "const X = 1\n"
            "\n"
            "event ping { }\n"
            "\n"
            "journey j {\n"
            "  on ping\n"
            "\n"
            "  send push \"p\"\n"
            "}\n");
}

}  // namespace
}  // namespace juncture::compiler::ast
