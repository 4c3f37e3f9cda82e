// Tests for the AST dump (compiler/ast/printer.h). The ASTs are built by hand; the
// "sema" annotations are set by hand too.
#include "ast/printer.h"

#include <memory>
#include <string>
#include <utility>

#include "gtest/gtest.h"

namespace juncture::compiler::ast {
namespace {

SourceRange At(uint32_t line, uint32_t column) {
  return {{0, line, column}, {0, line, column + 1}};
}

std::unique_ptr<LiteralExpr> Lit(LiteralKind kind, std::string spelling, SourceRange r) {
  auto e = std::make_unique<LiteralExpr>(r);
  e->lit = kind;
  e->spelling = std::move(spelling);
  return e;
}

std::unique_ptr<MemberExpr> Member(ExprKind base, std::string field, SourceRange r) {
  auto e = std::make_unique<MemberExpr>(r);
  e->base = std::make_unique<KeywordExpr>(base, r);
  e->field = std::move(field);
  return e;
}

std::unique_ptr<BinaryExpr> Bin(BinaryOp op, ExprPtr lhs, ExprPtr rhs) {
  auto e = std::make_unique<BinaryExpr>(lhs->range);
  e->op = op;
  e->lhs = std::move(lhs);
  e->rhs = std::move(rhs);
  return e;
}

Program OneModule(SourceManager& sm, const std::string& path, std::vector<DeclPtr> decls) {
  Program program;
  Module module;
  module.file = sm.AddFile(path, "");
  module.decls = std::move(decls);
  program.modules.push_back(std::move(module));
  return program;
}

TEST(PrintAstTest, EmptyProgram) {
  SourceManager sm;
  EXPECT_EQ(PrintAst(Program{}, sm), "");
}

TEST(PrintAstTest, ModulesAndUnannotatedDecls) {
  SourceManager sm;
  Program program;
  Module first;
  first.file = sm.AddFile("a/schema.jny", "");
  auto c = std::make_unique<ConstDecl>(At(1, 1));
  c->name = "LIMIT";
  auto five = Lit(LiteralKind::kInt, "5", At(1, 15));
  five->int_value = 5;
  auto neg = std::make_unique<UnaryExpr>(At(1, 15));
  neg->op = UnaryOp::kNeg;
  neg->operand = std::move(five);
  c->value = std::move(neg);
  first.decls.push_back(std::move(c));
  program.modules.push_back(std::move(first));
  Module second;
  second.file = sm.AddFile("b \"x\".jny", "");
  program.modules.push_back(std::move(second));
  Module unknown;  // no file: the path is unknown
  program.modules.push_back(std::move(unknown));
  EXPECT_EQ(PrintAst(program, sm),
            "(module \"a/schema.jny\"\n"
            "  (const LIMIT @1:1\n"
            "    (unary \"-\" @1:15\n"
            "      (literal int 5 = 5 @1:15))))\n"
            "(module \"b \\\"x\\\".jny\")\n"
            "(module \"<unknown>\")\n");
}

TEST(PrintAstTest, LiteralsShowSpellingAndValue) {
  SourceManager sm;
  auto list = std::make_unique<ListExpr>(At(1, 11));
  auto b = Lit(LiteralKind::kBool, "true", At(1, 12));
  b->bool_value = true;
  list->elements.push_back(std::move(b));
  auto f = Lit(LiteralKind::kFloat, "12.50", At(1, 18));
  f->float_value = 12.5;
  list->elements.push_back(std::move(f));
  auto p = Lit(LiteralKind::kPercent, "15%", At(1, 25));
  p->float_value = 0.15;
  list->elements.push_back(std::move(p));
  auto s = Lit(LiteralKind::kString, R"("a\"b\n")", At(1, 30));
  s->string_value = "a\"b\n";
  list->elements.push_back(std::move(s));
  auto d = Lit(LiteralKind::kDuration, "1d12h", At(1, 40));
  d->int_value = 129'600'000'000;
  list->elements.push_back(std::move(d));
  auto k = Lit(LiteralKind::kClock, "08:30", At(1, 47));
  k->int_value = 510;
  list->elements.push_back(std::move(k));
  auto c = std::make_unique<ConstDecl>(At(1, 1));
  c->name = "L";
  c->value = std::move(list);
  std::vector<DeclPtr> decls;
  decls.push_back(std::move(c));
  EXPECT_EQ(PrintAst(OneModule(sm, "l.jny", std::move(decls)), sm),
            "(module \"l.jny\"\n"
            "  (const L @1:1\n"
            "    (list @1:11\n"
            "      (literal bool true = true @1:12)\n"
            "      (literal float 12.50 = 12.5 @1:18)\n"
            "      (literal percent 15% = 0.15 @1:25)\n"
            "      (literal string \"a\\\"b\\n\" = \"a\\\"b\\n\" @1:30)\n"
            "      (literal duration 1d12h = 129600000000us @1:40)\n"
            "      (literal clock 08:30 = 510min @1:47))))\n");
}

TEST(PrintAstTest, SchemaWithSemaAnnotations) {
  SourceManager sm;
  std::vector<DeclPtr> decls;

  auto event = std::make_unique<EventDecl>(At(1, 1));
  event->name = "cart_updated";
  event->id = 0;
  FieldDecl value;
  value.name = "cart_value";
  value.name_range = At(2, 3);
  value.type_ref.name = "float";
  value.type = Type::Float();
  value.index = 0;
  event->fields.push_back(std::move(value));
  FieldDecl skus;
  skus.name = "skus";
  skus.name_range = At(3, 3);
  skus.type_ref.name = "list";
  skus.type_ref.elem = std::make_unique<TypeRef>();
  skus.type_ref.elem->name = "string";
  skus.type_ref.optional = true;
  skus.type = Type::List(TypeKind::kString).AsOptional();
  skus.index = 1;
  event->fields.push_back(std::move(skus));
  decls.push_back(std::move(event));

  auto unresolved = std::make_unique<EventDecl>(At(5, 1));
  unresolved->name = "unsubscribed";
  decls.push_back(std::move(unresolved));

  auto profile = std::make_unique<ProfileDecl>(At(7, 1));
  FieldDecl country;
  country.name = "country";
  country.name_range = At(8, 3);
  country.type_ref.name = "string";
  auto empty = Lit(LiteralKind::kString, "\"\"", At(8, 20));
  empty->type = Type::String();
  country.default_value = std::move(empty);
  profile->fields.push_back(std::move(country));
  decls.push_back(std::move(profile));

  auto channel = std::make_unique<ChannelDecl>(At(10, 1));
  channel->name = "email";
  channel->id = 2;
  channel->consent = Member(ExprKind::kProfile, "email_opt_in", At(11, 11));
  QuietClause quiet;
  quiet.start_spelling = "21:00";
  quiet.start_minute = 1260;
  quiet.end_spelling = "08:00";
  quiet.end_minute = 480;
  quiet.local = true;
  quiet.range = At(12, 3);
  channel->quiet = quiet;
  CapClause cap;
  cap.count = 3;
  cap.per_spelling = "1d";
  cap.per_us = 86'400'000'000;
  cap.range = At(13, 3);
  channel->cap = cap;
  channel->approval_roles.push_back(NameRef{"legal", At(14, 12)});
  decls.push_back(std::move(channel));

  auto segment = std::make_unique<SegmentDecl>(At(16, 1));
  segment->name = "gold";
  segment->used = true;
  decls.push_back(std::move(segment));  // value left null: printed as (null)

  EXPECT_EQ(PrintAst(OneModule(sm, "schema.jny", std::move(decls)), sm),
            "(module \"schema.jny\"\n"
            "  (event cart_updated @1:1 id=0\n"
            "    (field cart_value float @2:3 index=0 : float)\n"
            "    (field skus list<string>? @3:3 index=1 : list<string>?))\n"
            "  (event unsubscribed @5:1)\n"
            "  (profile @7:1\n"
            "    (field country string @8:3\n"
            "      (literal string \"\" = \"\" @8:20 : string)))\n"
            "  (channel email @10:1 id=2\n"
            "    (consent\n"
            "      (member email_opt_in @11:11\n"
            "        (profile @11:11)))\n"
            "    (quiet 21:00 = 1260min .. 08:00 = 480min local @12:3)\n"
            "    (cap 3 per 1d = 86400000000us @13:3)\n"
            "    (approval legal @14:12))\n"
            "  (segment gold @16:1 used\n"
            "    (null)))\n");
}

TEST(PrintAstTest, ResolvedReferences) {
  SourceManager sm;
  EventDecl cart{At(1, 1)};
  cart.name = "cart_updated";
  EventDecl checkout{At(2, 1)};
  checkout.name = "checkout";
  FieldDecl cart_value;
  cart_value.name = "cart_value";
  FieldDecl country;
  country.name = "country";
  ConstDecl free_shipping{At(3, 1)};
  free_shipping.name = "FREE_SHIPPING";
  SegmentDecl vip{At(4, 1)};
  vip.name = "vip";

  auto list = std::make_unique<ListExpr>(At(5, 11));
  list->type = Type::List(TypeKind::kFloat);

  auto name = std::make_unique<NameExpr>(At(5, 12));
  name->name = "FREE_SHIPPING";
  name->type = Type::Float();
  name->const_decl = &free_shipping;
  list->elements.push_back(std::move(name));

  auto seg = std::make_unique<NameExpr>(At(5, 20));
  seg->name = "vip";
  seg->type = Type::Bool();
  seg->segment_decl = &vip;
  list->elements.push_back(std::move(seg));

  auto field = Member(ExprKind::kEvent, "cart_value", At(5, 30));
  field->type = Type::Float();
  field->target = MemberTarget::kEventField;
  field->events = {&cart, &checkout};
  field->event_fields = {&cart_value, &cart_value};
  list->elements.push_back(std::move(field));

  auto time = Member(ExprKind::kEvent, "time", At(5, 40));
  time->type = Type::Time();
  time->target = MemberTarget::kEnvelope;
  time->envelope = EnvelopeField::kTime;
  list->elements.push_back(std::move(time));

  auto trait = Member(ExprKind::kProfile, "country", At(5, 50));
  trait->type = Type::String();
  trait->target = MemberTarget::kProfileField;
  trait->profile_field = &country;
  list->elements.push_back(std::move(trait));

  auto call = std::make_unique<CallExpr>(At(5, 60));
  call->callee = "lower";
  call->type = Type::String();
  call->builtin = 3;
  call->overload = 1;
  call->args.push_back(Member(ExprKind::kProfile, "country", At(5, 66)));
  list->elements.push_back(std::move(call));

  auto count = std::make_unique<WindowExpr>(At(5, 70));
  count->window = WindowKind::kCount;
  count->event_name = "cart_updated";
  count->within_spelling = "10m";
  count->within_us = 600'000'000;
  count->type = Type::Int();
  count->event_decl = &cart;
  auto where = Bin(BinaryOp::kNotIn, Member(ExprKind::kEvent, "currency", At(5, 100)),
                   std::make_unique<ListExpr>(At(5, 120)));
  where->type = Type::Bool();
  count->where = std::move(where);
  list->elements.push_back(std::move(count));

  auto sum = std::make_unique<WindowExpr>(At(6, 1));
  sum->window = WindowKind::kSum;
  sum->event_name = "cart_updated";
  sum->field = "cart_value";
  sum->within_spelling = "1d";
  sum->within_us = 86'400'000'000;
  sum->event_decl = &cart;
  sum->field_decl = &cart_value;
  list->elements.push_back(std::move(sum));

  auto since = std::make_unique<WindowExpr>(At(6, 40));
  since->window = WindowKind::kTimeSince;
  since->event_name = "checkout";
  since->type = Type::Duration();
  list->elements.push_back(std::move(since));

  auto has = std::make_unique<HasExpr>(At(6, 60));
  has->type = Type::Bool();
  has->operand = Member(ExprKind::kEvent, "coupon", At(6, 64));
  list->elements.push_back(std::move(has));

  auto now = std::make_unique<KeywordExpr>(ExprKind::kNow, At(6, 80));
  now->type = Type::Time();
  list->elements.push_back(std::move(now));

  auto c = std::make_unique<ConstDecl>(At(5, 1));
  c->name = "ALL";
  c->value = std::move(list);
  std::vector<DeclPtr> decls;
  decls.push_back(std::move(c));
  EXPECT_EQ(PrintAst(OneModule(sm, "r.jny", std::move(decls)), sm),
            "(module \"r.jny\"\n"
            "  (const ALL @5:1\n"
            "    (list @5:11 : list<float>\n"
            "      (name FREE_SHIPPING @5:12 : float -> const FREE_SHIPPING)\n"
            "      (name vip @5:20 : bool -> segment vip)\n"
            "      (member cart_value @5:30 : float"
            " -> event cart_updated.cart_value, checkout.cart_value\n"
            "        (event @5:30))\n"
            "      (member time @5:40 : time -> envelope time\n"
            "        (event @5:40))\n"
            "      (member country @5:50 : string -> profile.country\n"
            "        (profile @5:50))\n"
            "      (call lower @5:60 : string -> builtin #3/1\n"
            "        (member country @5:66\n"
            "          (profile @5:66)))\n"
            "      (count cart_updated within 10m = 600000000us @5:70 : int"
            " -> event cart_updated\n"
            "        (where\n"
            "          (binary \"not in\" @5:100 : bool\n"
            "            (member currency @5:100\n"
            "              (event @5:100))\n"
            "            (list @5:120))))\n"
            "      (sum cart_updated.cart_value within 1d = 86400000000us @6:1"
            " -> event cart_updated.cart_value)\n"
            "      (time_since checkout @6:40 : duration)\n"
            "      (has @6:60 : bool\n"
            "        (member coupon @6:64\n"
            "          (event @6:64)))\n"
            "      (now @6:80 : time))))\n");
}

TEST(PrintAstTest, JourneyWithStepIds) {
  SourceManager sm;
  EventDecl cart{At(1, 1)};
  cart.name = "cart_updated";
  ChannelDecl email{At(2, 1)};
  email.name = "email";

  auto j = std::make_unique<JourneyDecl>(At(3, 1));
  j->name = "cart_rescue";
  j->title = "\"Cart rescue\"";
  j->owner = "\"growth\"";
  j->priority = -5;
  j->approvals.push_back(NameRef{"marketing", At(7, 13)});
  Limit limit;
  limit.param = "discount";
  limit.upper = true;
  limit.range = At(8, 3);
  auto bound = Lit(LiteralKind::kPercent, "20%", At(8, 21));
  bound->float_value = 0.2;
  limit.bound = std::move(bound);
  j->limits.push_back(std::move(limit));
  Trigger on;
  on.event = EventName{"cart_updated", At(9, 6), &cart};
  on.range = At(9, 3);
  auto fifty = Lit(LiteralKind::kInt, "50", At(9, 44));
  fifty->int_value = 50;
  on.when = Bin(BinaryOp::kGe, Member(ExprKind::kEvent, "cart_value", At(9, 24)),
                std::move(fifty));
  j->triggers.push_back(std::move(on));
  j->eligible.push_back(Member(ExprKind::kProfile, "vip", At(10, 12)));
  j->reenter_written = true;
  j->reenter = ReenterMode::kAfter;
  j->reenter_spelling = "7d";
  j->reenter_after_us = 604'800'000'000;
  Trigger exit_on;
  exit_on.event = EventName{"unsubscribed", At(12, 11), nullptr};
  exit_on.range = At(12, 3);
  j->exits.push_back(std::move(exit_on));

  j->body.range = At(14, 3);
  auto wait = std::make_unique<WaitStep>(At(14, 3));
  wait->spelling = "30m";
  wait->duration_us = 1'800'000'000;
  wait->id = "s1";
  j->body.steps.push_back(std::move(wait));

  auto branch = std::make_unique<IfStep>(At(15, 3));
  branch->id = "s2";
  IfArm arm;
  arm.condition = Member(ExprKind::kProfile, "vip", At(15, 6));
  arm.body.range = At(15, 18);
  auto send = std::make_unique<SendStep>(At(16, 5));
  send->channel = "email";
  send->template_name = "\"vip\"";
  send->channel_decl = &email;
  send->has_params_block = true;
  send->id = "s3";
  auto ten = Lit(LiteralKind::kPercent, "10%", At(16, 34));
  ten->float_value = 0.1;
  send->params.push_back(Param{"discount", At(16, 24), std::move(ten)});
  arm.body.steps.push_back(std::move(send));
  branch->arms.push_back(std::move(arm));
  branch->else_body.emplace();
  branch->else_body->range = At(17, 10);
  auto split = std::make_unique<SplitStep>(At(18, 5));
  split->id = "s4";
  SplitArm half;
  half.spelling = "50%";
  half.fraction = 0.5;
  half.range = At(19, 7);
  auto control = std::make_unique<SimpleStep>(StepKind::kControl, At(19, 12));
  control->id = "s5";
  half.body.steps.push_back(std::move(control));
  split->arms.push_back(std::move(half));
  SplitArm other;
  other.spelling = "50%";
  other.fraction = 0.5;
  other.braced = true;
  other.range = At(20, 7);
  auto empty_send = std::make_unique<SendStep>(At(20, 14));
  empty_send->channel = "email";
  empty_send->template_name = "\"plain\"";
  empty_send->has_params_block = true;
  empty_send->id = "s6";
  other.body.steps.push_back(std::move(empty_send));
  split->arms.push_back(std::move(other));
  branch->else_body->steps.push_back(std::move(split));
  j->body.steps.push_back(std::move(branch));

  auto until = std::make_unique<WaitUntilStep>(At(23, 3));
  until->id = "s7";
  until->events.push_back(EventName{"purchase", At(23, 14), nullptr});
  until->events.push_back(EventName{"cart_updated", At(23, 26), &cart});
  until->when = Member(ExprKind::kEvent, "paid", At(23, 44));
  until->within_spelling = "2d";
  until->within_us = 172'800'000'000;
  until->on_event.emplace();
  until->on_event->range = At(23, 65);
  until->on_timeout.emplace();
  until->on_timeout->range = At(24, 10);
  auto exit = std::make_unique<SimpleStep>(StepKind::kExit, At(25, 5));
  exit->id = "s8";
  until->on_timeout->steps.push_back(std::move(exit));
  j->body.steps.push_back(std::move(until));

  std::vector<DeclPtr> decls;
  decls.push_back(std::move(j));
  EXPECT_EQ(PrintAst(OneModule(sm, "cart.jny", std::move(decls)), sm),
            "(module \"cart.jny\"\n"
            "  (journey cart_rescue @3:1\n"
            "    (title \"Cart rescue\")\n"
            "    (owner \"growth\")\n"
            "    (priority -5)\n"
            "    (approvals\n"
            "      (role marketing @7:13))\n"
            "    (limit discount <= @8:3\n"
            "      (literal percent 20% = 0.2 @8:21))\n"
            "    (on cart_updated @9:3 -> event cart_updated\n"
            "      (when\n"
            "        (binary \">=\" @9:24\n"
            "          (member cart_value @9:24\n"
            "            (event @9:24))\n"
            "          (literal int 50 = 50 @9:44))))\n"
            "    (eligible\n"
            "      (member vip @10:12\n"
            "        (profile @10:12)))\n"
            "    (reenter after 7d = 604800000000us)\n"
            "    (exit-on unsubscribed @12:3)\n"
            "    (body @14:3\n"
            "      (wait 30m = 1800000000us @14:3 s1)\n"
            "      (if @15:3 s2\n"
            "        (arm\n"
            "          (member vip @15:6\n"
            "            (profile @15:6))\n"
            "          (then @15:18\n"
            "            (send email \"vip\" @16:5 s3 -> channel email\n"
            "              (params\n"
            "                (param discount @16:24\n"
            "                  (literal percent 10% = 0.1 @16:34))))))\n"
            "        (else @17:10\n"
            "          (split @18:5 s4\n"
            "            (arm 50% = 0.5 @19:7\n"
            "              (control @19:12 s5))\n"
            "            (arm 50% = 0.5 @20:7 braced\n"
            "              (send email \"plain\" @20:14 s6\n"
            "                (params))))))\n"
            "      (wait-until within 2d = 172800000000us @23:3 s7\n"
            "        (event-ref purchase @23:14)\n"
            "        (event-ref cart_updated @23:26 -> event cart_updated)\n"
            "        (when\n"
            "          (member paid @23:44\n"
            "            (event @23:44)))\n"
            "        (then @23:65)\n"
            "        (else @24:10\n"
            "          (exit @25:5 s8))))))\n");
}

TEST(PrintAstTest, UnknownPositionsAndTypes) {
  SourceManager sm;
  auto c = std::make_unique<ConstDecl>(SourceRange{});
  c->name = "X";
  auto b = std::make_unique<BinaryExpr>(SourceRange{});
  b->op = BinaryOp::kCoalesce;
  b->lhs = Lit(LiteralKind::kInt, "1", SourceRange{});
  b->rhs = Lit(LiteralKind::kInt, "2", SourceRange{});
  b->type = Type::Int();
  c->value = std::move(b);
  std::vector<DeclPtr> decls;
  decls.push_back(std::move(c));
  EXPECT_EQ(PrintAst(OneModule(sm, "u.jny", std::move(decls)), sm),
            "(module \"u.jny\"\n"
            "  (const X @?\n"
            "    (binary \"??\" @? : int\n"
            "      (literal int 1 = 0 @?)\n"
            "      (literal int 2 = 0 @?))))\n");
}

}  // namespace
}  // namespace juncture::compiler::ast
