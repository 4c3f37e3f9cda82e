// The IR's text form: exact output for a small hand-built program, and the literal
// forms of constants.
#include "ir/printer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ir/ir.h"
#include "ir/join.h"
#include "ir/verifier.h"

namespace juncture::compiler::ir {
namespace {

constexpr int64_t kSecond = 1000000;

constexpr IrType kBoolT{Ty::kBool};
constexpr IrType kIntT{Ty::kInt};
constexpr IrType kFloatT{Ty::kFloat};
constexpr IrType kStringT{Ty::kString};
constexpr IrType kTimeT{Ty::kTime};
constexpr IrType kDurationT{Ty::kDuration};

Value MakeValue(IrType type) {
  Value v;
  v.type = type;
  return v;
}

Value IntValue(IrType type, int64_t i) {
  Value v = MakeValue(type);
  v.i = i;
  return v;
}

Value FloatValue(double f) {
  Value v = MakeValue(kFloatT);
  v.f = f;
  return v;
}

Value StringValue(const std::string& s) {
  Value v = MakeValue(kStringT);
  v.s = s;
  return v;
}

ExprPtr Node(Op op, IrType type) {
  auto e = std::make_unique<Expr>();
  e->op = op;
  e->type = type;
  return e;
}

ExprPtr Bin(Op op, IrType type, ExprPtr a, ExprPtr b) {
  ExprPtr e = Node(op, type);
  e->args.push_back(std::move(a));
  e->args.push_back(std::move(b));
  return e;
}

ExprPtr Const(Value v) {
  ExprPtr e = Node(Op::kConst, v.type);
  e->value = std::move(v);
  return e;
}

ExprPtr Read(Op op, IrType type, const std::string& name, std::vector<FieldRef> refs) {
  ExprPtr e = Node(op, type);
  e->name = name;
  e->fields = std::move(refs);
  return e;
}

Step MakeStep(StepOp op, const std::string& id, uint32_t next = 0, uint32_t alt = 0) {
  Step s;
  s.op = op;
  s.id = id;
  s.next = next;
  s.alt = alt;
  return s;
}

// Two events, a profile, a window, a segment, two channels and two journeys.
std::unique_ptr<Program> TinyProgram() {
  auto p = std::make_unique<Program>();
  p->events.push_back(RecordLayout{"cart_updated",
                                   0,
                                   80,
                                   {FieldLayout{"cart_value", kFloatT, 56, -1, false},
                                    FieldLayout{"coupon", kStringT, 64, 0, false}}});
  p->events.push_back(RecordLayout{
      "purchase",
      1,
      96,
      {FieldLayout{"order_id", kStringT, 56, -1, false},
       FieldLayout{"coupon", kStringT, 72, 0, false}, FieldLayout{"items", kIntT, 88, -1, true}}});
  p->profile = RecordLayout{"profile",
                            0,
                            48,
                            {FieldLayout{"email_opt_in", kBoolT, 8, -1, true},
                             FieldLayout{"tags", IrType{Ty::kList, Ty::kString}, 16, 0, false},
                             FieldLayout{"timezone", kStringT, 32, -1, true}}};
  p->profile_timezone_field = 2;

  Window w;
  w.kind = WindowKind::kCount;
  w.event_type = 0;
  w.within_us = 600 * kSecond;
  w.where = Bin(Op::kGt, kBoolT, Read(Op::kEventField, kFloatT, "cart_value", {{0, 56, -1}}),
                Const(FloatValue(10)));
  w.type = kIntT;
  p->windows.push_back(std::move(w));
  Window spent;
  spent.kind = WindowKind::kSum;
  spent.event_type = 1;
  spent.within_us = 7 * 86400 * kSecond;
  spent.field = FieldRef{1, 88, -1};
  spent.field_type = kIntT;
  spent.type = kIntT;
  p->windows.push_back(std::move(spent));

  ExprPtr window = Node(Op::kWindow, kIntT);
  window->index = 0;
  p->segments.push_back(
      Segment{"busy", Bin(Op::kGe, kBoolT, std::move(window), Const(IntValue(kIntT, 2)))});

  Channel email;
  email.name = "email";
  email.consent = Read(Op::kProfileField, kBoolT, "email_opt_in", {{0, 8, -1}});
  email.has_quiet = true;
  email.quiet = Quiet{21 * 60, 8 * 60, true, false};
  email.has_cap = true;
  email.cap_count = 3;
  email.cap_per_us = 86400 * kSecond;
  email.approval_roles = {"legal", "brand"};
  p->channels.push_back(std::move(email));
  Channel webhook;
  webhook.name = "webhook";
  webhook.id = 1;
  p->channels.push_back(std::move(webhook));

  Journey j;
  j.name = "cart_rescue";
  j.title = "Cart \"rescue\"";
  j.owner = "growth";
  j.priority = 10;
  j.hash = "3f9a";
  j.triggers.push_back(
      Trigger{0, Bin(Op::kGe, kBoolT, Read(Op::kEventField, kFloatT, "cart_value", {{0, 56, -1}}),
                     Const(FloatValue(50)))});
  ExprPtr busy = Node(Op::kSegment, kBoolT);
  busy->name = "busy";
  Value countries = MakeValue(IrType{Ty::kList, Ty::kString});
  countries.list = {StringValue("US"), StringValue("CA")};
  ExprPtr tz = Read(Op::kProfileField, kStringT, "timezone", {{0, 32, -1}});
  ExprPtr hour = Node(Op::kCall, kIntT);
  hour->symbol = "jn_hour_of_day";
  hour->name = "hour_of_day";
  hour->args.push_back(Node(Op::kNow, kTimeT));
  hour->args.push_back(std::move(tz));
  ExprPtr customer = Node(Op::kEnvelope, kStringT);
  customer->index = kEnvCustomer;
  j.eligible.push_back(Clause{
      Bin(Op::kAnd, kBoolT, std::move(busy),
          Bin(Op::kOr, kBoolT, Bin(Op::kInList, kBoolT, std::move(customer), Const(countries)),
              Bin(Op::kLt, kBoolT, std::move(hour), Const(IntValue(kIntT, 9))))),
      "", 0});
  j.reenter = ReenterMode::kAfter;
  j.reenter_after_us = 7 * 86400 * kSecond;
  ExprPtr tags = Read(Op::kProfileField, IrType{Ty::kList, Ty::kString}, "tags", {{0, 16, 0}});
  j.exits.push_back(
      Trigger{1, Bin(Op::kListContains, kBoolT, std::move(tags), Const(StringValue("vip")))});
  j.exits.push_back(Trigger{0, Read(Op::kProfilePresent, kBoolT, "tags", {{0, 16, 0}})});

  Step wait = MakeStep(StepOp::kWait, "s1", 1);
  wait.duration_us = 1800 * kSecond;
  j.steps.push_back(std::move(wait));
  Step branch = MakeStep(StepOp::kBranch, "s2", 2, 3);
  branch.cond = Read(Op::kEventPresent, kBoolT, "coupon", {{0, 64, 0}});
  j.steps.push_back(std::move(branch));
  Step send = MakeStep(StepOp::kSend, "s3", 3);
  send.template_name = "cart_reminder";
  ExprPtr scaled =
      Bin(Op::kMul, kFloatT, Read(Op::kEventField, kFloatT, "cart_value", {{0, 56, -1}}),
          Const(FloatValue(0.001)));
  send.params.push_back(Param{"discount", std::move(scaled)});
  send.params.push_back(Param{"code", Const(StringValue("tab\there"))});
  send.guards.push_back(Guard{0, true, 0.2});
  j.steps.push_back(std::move(send));
  Step until = MakeStep(StepOp::kWaitUntil, "s4", 4, 5);
  until.events = {0, 1};
  until.cond = Read(Op::kEventPresent, kBoolT, "coupon", {{0, 64, 0}, {1, 72, 0}});
  until.duration_us = 2 * 86400 * kSecond;
  j.steps.push_back(std::move(until));
  Step thanks = MakeStep(StepOp::kSend, "s5", 7);
  thanks.channel = 1;
  thanks.template_name = "thanks";
  ExprPtr at = Node(Op::kEnvelope, kTimeT);
  at->index = kEnvTime;
  ExprPtr later = Node(Op::kScale, kDurationT);
  later->index = 1;
  later->args.push_back(Const(IntValue(kDurationT, 90 * kSecond)));
  later->args.push_back(Const(FloatValue(2)));
  thanks.params.push_back(Param{"at", Bin(Op::kAdd, kTimeT, std::move(at), std::move(later))});
  ExprPtr id = Node(Op::kEnvelope, kStringT);
  id->index = kEnvId;
  thanks.params.push_back(Param{"id", std::move(id)});
  j.steps.push_back(std::move(thanks));
  Step split = MakeStep(StepOp::kSplit, "s6");
  split.arms = {{4500, 6}, {10000, 7}};
  j.steps.push_back(std::move(split));
  j.steps.push_back(MakeStep(StepOp::kExit, "s7"));
  j.steps.push_back(MakeStep(StepOp::kComplete, "end"));
  p->journeys.push_back(std::move(j));

  Journey welcome;
  welcome.name = "welcome";
  welcome.approved = false;
  welcome.missing_roles = {"brand", "legal"};
  welcome.triggers.push_back(Trigger{1, nullptr});
  welcome.steps.push_back(MakeStep(StepOp::kControl, "s1", 1));
  welcome.steps.push_back(MakeStep(StepOp::kComplete, "end"));
  p->journeys.push_back(std::move(welcome));
  return p;
}

TEST(PrinterTest, TinyProgram) {
  // Long lines are kept whole: the golden form is one line per node.
  const char* want = R"(event cart_updated #0 size 80
  +56 cart_value: float
  +64 coupon: string? bit 0
event purchase #1 size 96
  +56 order_id: string
  +72 coupon: string? bit 0
  +88 items: int = default
profile size 48 tz_field timezone
  +8 email_opt_in: bool = default
  +16 tags: list<string>? bit 0
  +32 timezone: string = default

window #0 count cart_updated within 600s where (gt:bool (event_field:float cart_value @56) (const:float 10)) : int
window #1 sum purchase.items @88 within 604800s : int

segment busy = (ge:bool (window:int #0) (const:int 2))

channel email #0
  consent (profile_field:bool email_opt_in @8)
  quiet 21:00..08:00 local defer
  cap 3 per 86400s
  approval legal,brand
channel webhook #1

journey cart_rescue priority 10 hash 3f9a approved
  title "Cart \"rescue\""
  owner "growth"
  on cart_updated when (ge:bool (event_field:float cart_value @56) (const:float 50))
  eligible (and:bool (segment:bool busy) (or:bool (in_list:bool (envelope:string event.customer) (const:list<string> ["US", "CA"])) (lt:bool (call:int jn_hour_of_day (now:time) (profile_field:string timezone @32)) (const:int 9))))
  reenter after 604800s
  exit on purchase when (list_contains:bool (profile_field:list<string> tags @16) (const:string "vip"))
  exit on cart_updated when (profile_present:bool tags @16 bit 0)
  entry test cart_updated: (and:bool (ge:bool (event_field:float cart_value @56) (const:float 50)) (and:bool (segment:bool busy) (or:bool (in_list:bool (envelope:string event.customer) (const:list<string> ["US", "CA"])) (lt:bool (call:int jn_hour_of_day (now:time) (profile_field:string timezone @32)) (const:int 9)))))
  exit test purchase: (list_contains:bool (profile_field:list<string> tags @16) (const:string "vip"))
  exit test cart_updated: (profile_present:bool tags @16 bit 0)
  0 s1: wait 1800s -> 1
  1 s2: branch (event_present:bool coupon @64 bit 0) -> 2, 3
  2 s3: send email "cart_reminder" {discount: (mul:float (event_field:float cart_value @56) (const:float 0.001)), code: (const:string "tab\there")} guard discount <= 0.2 -> 3
  3 s4: wait_until cart_updated|purchase when (event_present:bool coupon cart_updated@64 bit 0 purchase@72 bit 0) within 172800s -> 4, 5
  4 s5: send webhook "thanks" {at: (add:time (envelope:time event.time) (scale:duration div (const:duration 90s) (const:float 2))), id: (envelope:string event.id)} -> 7
  5 s6: split 4500:6 10000:7
  6 s7: exit
  7 end: complete

journey welcome priority 0 unapproved missing brand,legal
  on purchase
  reenter never
  entry test purchase: always
  0 s1: control -> 1
  1 end: complete
)";
  auto p = TinyProgram();
  JoinClauses(*p);
  EXPECT_EQ(PrintProgram(*p), want);
  std::vector<std::string> problems;
  EXPECT_TRUE(Verify(*p, problems)) << problems.front();
}

TEST(PrinterTest, Values) {
  EXPECT_EQ(PrintValue(MakeValue(kBoolT)), "false");
  EXPECT_EQ(PrintValue(IntValue(kIntT, -42)), "-42");
  EXPECT_EQ(PrintValue(FloatValue(0.15)), "0.15");
  EXPECT_EQ(PrintValue(FloatValue(50)), "50");
  EXPECT_EQ(PrintValue(FloatValue(0.1 + 0.2)), "0.30000000000000004");
  EXPECT_EQ(PrintValue(FloatValue(1e20)), "1e+20");
  EXPECT_EQ(PrintValue(FloatValue(std::numeric_limits<double>::infinity())), "inf");
  EXPECT_EQ(PrintValue(StringValue("a\"b\\c\nd\x01")), R"("a\"b\\c\nd\u0001")");
  EXPECT_EQ(PrintValue(StringValue("caf\xc3\xa9")), "\"caf\xc3\xa9\"");
  EXPECT_EQ(PrintValue(IntValue(kDurationT, 1800 * kSecond)), "1800s");
  EXPECT_EQ(PrintValue(IntValue(kDurationT, 250000)), "250ms");
  EXPECT_EQ(PrintValue(IntValue(kDurationT, -7)), "-7us");
  EXPECT_EQ(PrintValue(IntValue(kDurationT, 0)), "0s");
  EXPECT_EQ(PrintValue(IntValue(kTimeT, 0)), "1970-01-01T00:00:00Z");
  EXPECT_EQ(PrintValue(IntValue(kTimeT, 1795384630123000)), "2026-11-22T21:57:10.123Z");
  EXPECT_EQ(PrintValue(IntValue(kTimeT, -1)), "1969-12-31T23:59:59.999999Z");
  Value list = MakeValue(IrType{Ty::kList, Ty::kInt});
  EXPECT_EQ(PrintValue(list), "[]");
  list.list = {IntValue(kIntT, 1), IntValue(kIntT, 2)};
  EXPECT_EQ(PrintValue(list), "[1, 2]");
}

TEST(PrinterTest, ExpressionsShowTypesAndOperands) {
  Program p;
  p.events.push_back(
      RecordLayout{"cart_updated", 0, 64, {FieldLayout{"cart_value", kFloatT, 56, -1, false}}});
  ExprPtr e = Bin(Op::kGe, kBoolT, Read(Op::kEventField, kFloatT, "", {{0, 56, -1}}),
                  Const(FloatValue(50)));
  // The field's name comes from the layout when the node has none.
  EXPECT_EQ(PrintExpr(*e, p), "(ge:bool (event_field:float cart_value @56) (const:float 50))");
  ExprPtr bad = Node(Op::kSegment, kBoolT);
  bad->index = 4;
  bad->args.push_back(nullptr);
  EXPECT_EQ(PrintExpr(*bad, p), "(segment:bool #4 <null>)");
}

}  // namespace
}  // namespace juncture::compiler::ir
