// The IR verifier: a valid hand-built program verifies clean, and each test breaks
// one invariant and expects the message that names it.
#include "ir/verifier.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ir/ir.h"
#include "ir/join.h"

namespace juncture::compiler::ir {
namespace {

constexpr int64_t kSecond = 1000000;

constexpr IrType kBoolT{Ty::kBool};
constexpr IrType kIntT{Ty::kInt};
constexpr IrType kFloatT{Ty::kFloat};
constexpr IrType kStringT{Ty::kString};
constexpr IrType kTimeT{Ty::kTime};
constexpr IrType kDurationT{Ty::kDuration};

ExprPtr Node(Op op, IrType type, std::vector<ExprPtr> args = {}) {
  auto e = std::make_unique<Expr>();
  e->op = op;
  e->type = type;
  e->args = std::move(args);
  return e;
}

ExprPtr Bin(Op op, IrType type, ExprPtr a, ExprPtr b) {
  std::vector<ExprPtr> args;
  args.push_back(std::move(a));
  args.push_back(std::move(b));
  return Node(op, type, std::move(args));
}

ExprPtr Const(Value v) {
  ExprPtr e = Node(Op::kConst, v.type);
  e->value = std::move(v);
  return e;
}

Value MakeValue(IrType type) {
  Value v;
  v.type = type;
  return v;
}

Value IntValue(int64_t i) {
  Value v = MakeValue(kIntT);
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

ExprPtr Int(int64_t i) { return Const(IntValue(i)); }
ExprPtr Float(double f) { return Const(FloatValue(f)); }
ExprPtr Dur(int64_t us) {
  Value v = MakeValue(kDurationT);
  v.i = us;
  return Const(v);
}

ExprPtr Read(Op op, IrType type, const std::string& name, std::vector<FieldRef> refs) {
  ExprPtr e = Node(op, type);
  e->name = name;
  e->fields = std::move(refs);
  return e;
}

// cart.value (float, +56), cart.coupon (string?, +64 bit 0), purchase.order_id (+56).
ExprPtr CartValue() { return Read(Op::kEventField, kFloatT, "value", {{0, 56, -1}}); }
ExprPtr CouponPresent() { return Read(Op::kEventPresent, kBoolT, "coupon", {{0, 64, 0}}); }
ExprPtr OrderId() { return Read(Op::kEventField, kStringT, "order_id", {{1, 56, -1}}); }
ExprPtr OptIn() { return Read(Op::kProfileField, kBoolT, "email_opt_in", {{0, 24, -1}}); }

FieldLayout Field(const std::string& name, IrType type, uint32_t offset, int bit = -1,
                  bool has_default = false) {
  return FieldLayout{name, type, offset, bit, has_default};
}

Step MakeStep(StepOp op, const std::string& id, uint32_t next = 0, uint32_t alt = 0) {
  Step s;
  s.op = op;
  s.id = id;
  s.next = next;
  s.alt = alt;
  return s;
}

// A small program that uses every section and every kind of step:
//
//   event cart { value: float  coupon: string? }       event purchase { order_id: string }
//   profile { country: string = ""  email_opt_in: bool = false  timezone: string = "UTC" }
//   window #0: count(cart within 10m where event.value > 10)
//   segment busy = count(...) >= 2
//   channel email { consent profile.email_opt_in  quiet 21:00 .. 08:00 local  cap 3 per 1d }
//   journey rescue (priority 10): on cart when event.value >= 50, eligible busy,
//     wait 30m; if has(event.coupon) { send email "nudge" {discount: event.value * 0.01} }
//     wait until purchase within 2d { send email "thanks" {order: event.order_id} }
//     else { split { 50%: control  50%: exit } }
//   journey welcome (priority 0, unapproved): on purchase, send email "hi"
std::unique_ptr<Program> ValidProgram() {
  auto p = std::make_unique<Program>();
  p->events.push_back(
      RecordLayout{"cart", 0, 80, {Field("value", kFloatT, 56), Field("coupon", kStringT, 64, 0)}});
  p->events.push_back(RecordLayout{"purchase", 1, 72, {Field("order_id", kStringT, 56)}});
  p->profile = RecordLayout{
      "profile",
      0,
      48,
      {Field("country", kStringT, 8, -1, true), Field("email_opt_in", kBoolT, 24, -1, true),
       Field("timezone", kStringT, 32, -1, true)}};
  p->profile_timezone_field = 2;

  Window w;
  w.kind = WindowKind::kCount;
  w.event_type = 0;
  w.within_us = 600 * kSecond;
  w.where = Bin(Op::kGt, kBoolT, CartValue(), Float(10));
  w.type = kIntT;
  w.description = "count(cart within 10m where …)";
  p->windows.push_back(std::move(w));

  ExprPtr window = Node(Op::kWindow, kIntT);
  window->index = 0;
  p->segments.push_back(Segment{"busy", Bin(Op::kGe, kBoolT, std::move(window), Int(2))});

  Channel email;
  email.name = "email";
  email.id = 0;
  email.consent = OptIn();
  email.has_quiet = true;
  email.quiet = Quiet{21 * 60, 8 * 60, true, false};
  email.has_cap = true;
  email.cap_count = 3;
  email.cap_per_us = 86400 * kSecond;
  email.approval_roles = {"legal"};
  p->channels.push_back(std::move(email));

  Journey j;
  j.name = "rescue";
  j.priority = 10;
  j.hash = "abc123";
  j.triggers.push_back(Trigger{0, Bin(Op::kGe, kBoolT, CartValue(), Float(50))});
  ExprPtr busy = Node(Op::kSegment, kBoolT);
  busy->name = "busy";
  j.eligible.push_back(Clause{std::move(busy), "eligible busy", 0});
  j.reenter = ReenterMode::kAfter;
  j.reenter_after_us = 7 * 86400 * kSecond;
  j.exits.push_back(Trigger{1, nullptr});
  Step wait = MakeStep(StepOp::kWait, "s1", 1);
  wait.duration_us = 1800 * kSecond;
  j.steps.push_back(std::move(wait));
  Step branch = MakeStep(StepOp::kBranch, "s2", 2, 3);
  branch.cond = CouponPresent();
  j.steps.push_back(std::move(branch));
  Step nudge = MakeStep(StepOp::kSend, "s3", 3);
  nudge.channel = 0;
  nudge.template_name = "nudge";
  nudge.params.push_back(Param{"discount", Bin(Op::kMul, kFloatT, CartValue(), Float(0.01))});
  nudge.guards.push_back(Guard{0, true, 0.2});
  j.steps.push_back(std::move(nudge));
  Step until = MakeStep(StepOp::kWaitUntil, "s4", 4, 5);
  until.events = {1};
  until.duration_us = 2 * 86400 * kSecond;
  j.steps.push_back(std::move(until));
  Step thanks = MakeStep(StepOp::kSend, "s5", 8);
  thanks.template_name = "thanks";
  thanks.params.push_back(Param{"order", OrderId()});
  j.steps.push_back(std::move(thanks));
  Step split = MakeStep(StepOp::kSplit, "s6");
  split.arms = {{5000, 6}, {10000, 7}};
  j.steps.push_back(std::move(split));
  j.steps.push_back(MakeStep(StepOp::kControl, "s7", 8));
  j.steps.push_back(MakeStep(StepOp::kExit, "s8"));
  j.steps.push_back(MakeStep(StepOp::kComplete, "end"));
  p->journeys.push_back(std::move(j));

  Journey welcome;
  welcome.name = "welcome";
  welcome.approved = false;
  welcome.missing_roles = {"legal"};
  welcome.triggers.push_back(Trigger{1, nullptr});
  Step hi = MakeStep(StepOp::kSend, "s1", 1);
  hi.template_name = "hi";
  welcome.steps.push_back(std::move(hi));
  welcome.steps.push_back(MakeStep(StepOp::kComplete, "end"));
  p->journeys.push_back(std::move(welcome));
  return p;
}

std::string Joined(const std::vector<std::string>& problems) {
  std::string out;
  for (const std::string& s : problems) out += s + "\n";
  return out;
}

// Verifies `p`, expecting failure with one message that contains `want`.
void ExpectProblem(const Program& p, const std::string& want) {
  std::vector<std::string> problems;
  EXPECT_FALSE(Verify(p, problems));
  bool found = false;
  for (const std::string& s : problems) found = found || s.find(want) != std::string::npos;
  EXPECT_TRUE(found) << "want a problem containing: " << want << "\ngot:\n" << Joined(problems);
}

// Runs the join pass (as the compiler does before verifying), then verifies `p`,
// expecting no problem.
void ExpectClean(Program& p) {
  JoinClauses(p);
  std::vector<std::string> problems;
  EXPECT_TRUE(Verify(p, problems)) << Joined(problems);
  EXPECT_TRUE(problems.empty());
}

Journey& Rescue(Program& p) { return p.journeys[0]; }

// ---- Whole program ------------------------------------------------------------------

TEST(VerifierTest, ValidProgramVerifiesClean) { ExpectClean(*ValidProgram()); }

TEST(VerifierTest, EmptyProgramVerifiesClean) {
  Program p;
  p.profile = RecordLayout{"profile", 0, 8, {}};
  ExpectClean(p);
}

TEST(VerifierTest, AppendsToExistingProblems) {
  auto p = ValidProgram();
  p->events[0].size = 84;
  std::vector<std::string> problems = {"earlier"};
  EXPECT_FALSE(Verify(*p, problems));
  ASSERT_GE(problems.size(), 2u);
  EXPECT_EQ(problems[0], "earlier");
}

// ---- Layouts ------------------------------------------------------------------------

TEST(VerifierTest, EventTypeIdIsItsIndex) {
  auto p = ValidProgram();
  p->events[1].type_id = 0;
  ExpectProblem(*p, "event purchase: type_id 0 != its index 1");
}

TEST(VerifierTest, FieldsSortedByOffset) {
  auto p = ValidProgram();
  std::swap(p->events[0].fields[0], p->events[0].fields[1]);
  ExpectProblem(*p, "event cart: field value: offset 56 is not after the previous field's 64");
}

TEST(VerifierTest, FieldsAligned) {
  auto p = ValidProgram();
  p->events[0].fields[1].offset = 68;
  ExpectProblem(*p, "event cart: field coupon: offset 68 is not aligned to 8");
}

TEST(VerifierTest, BoolFieldsNeedNoAlignment) {
  auto p = ValidProgram();
  p->events[0].fields.push_back(Field("flag", kBoolT, 81));
  p->events[0].size = 88;
  ExpectClean(*p);
}

TEST(VerifierTest, EventFieldsAfterTheHeader) {
  auto p = ValidProgram();
  p->events[1].fields[0].offset = 48;
  ExpectProblem(*p, "event purchase: field order_id: offset 48 is inside the 56-byte header");
}

TEST(VerifierTest, ProfileFieldsAfterThePresenceWord) {
  auto p = ValidProgram();
  p->profile.fields[0].offset = 0;
  ExpectProblem(*p, "profile: field country: offset 0 is inside the 8-byte header");
}

TEST(VerifierTest, FieldsDoNotOverlap) {
  auto p = ValidProgram();
  p->profile.fields[1].offset = 16;  // inside country's 16-byte JnStr
  ExpectProblem(*p, "profile: field email_opt_in: offset 16 overlaps the previous field");
}

TEST(VerifierTest, SizeIsAMultipleOf8) {
  auto p = ValidProgram();
  p->events[0].size = 84;
  ExpectProblem(*p, "event cart: size 84 is not a multiple of 8");
}

TEST(VerifierTest, SizeCoversTheLastField) {
  auto p = ValidProgram();
  p->events[0].size = 72;
  ExpectProblem(*p, "event cart: size 72 is less than the end of the last field (80)");
}

TEST(VerifierTest, PresenceBitsUnique) {
  auto p = ValidProgram();
  p->events[0].fields[0].presence_bit = 0;
  ExpectProblem(*p, "event cart: field coupon: presence bit 0 is used twice");
}

TEST(VerifierTest, PresenceBitsBelow64) {
  auto p = ValidProgram();
  p->events[0].fields[1].presence_bit = 64;
  ExpectProblem(*p, "event cart: field coupon: presence bit 64 is not in 0..63");
}

TEST(VerifierTest, TimezoneFieldIsAString) {
  auto p = ValidProgram();
  p->profile_timezone_field = 1;
  ExpectProblem(*p, "profile: timezone field email_opt_in is not a required string");
}

// ---- Expressions --------------------------------------------------------------------

TEST(VerifierTest, ArgumentCounts) {
  auto p = ValidProgram();
  std::vector<ExprPtr> args;
  args.push_back(CouponPresent());
  args.push_back(CouponPresent());
  Rescue(*p).steps[1].cond = Node(Op::kNot, kBoolT, std::move(args));
  ExpectProblem(*p, "journey rescue: step 1 (s2): condition: not: takes 1 operand(s), has 2");
}

TEST(VerifierTest, ConstHasNoArguments) {
  auto p = ValidProgram();
  Rescue(*p).triggers[0].when->args[1]->args.push_back(Float(1));
  ExpectProblem(*p, "const: takes 0 operand(s), has 1");
}

TEST(VerifierTest, ArithmeticOperandsMatch) {
  auto p = ValidProgram();
  Rescue(*p).steps[2].params[0].value = Bin(Op::kMul, kFloatT, CartValue(), Int(2));
  ExpectProblem(*p,
                "journey rescue: step 2 (s3): parameter discount: mul: no rule for (float, int)");
}

TEST(VerifierTest, TimeAndDurationArithmetic) {
  auto p = ValidProgram();
  auto now = [] { return Node(Op::kNow, kTimeT); };
  // time + duration, duration + time, time - duration, time - time, duration / duration.
  ExprPtr a = Bin(Op::kAdd, kTimeT, now(), Dur(kSecond));
  ExprPtr b = Bin(Op::kAdd, kTimeT, Dur(kSecond), std::move(a));
  ExprPtr c = Bin(Op::kSub, kTimeT, std::move(b), Dur(kSecond));
  ExprPtr d = Bin(Op::kSub, kDurationT, std::move(c), now());
  ExprPtr e = Bin(Op::kDiv, kFloatT, std::move(d), Dur(kSecond));
  Rescue(*p).steps[2].params[0].value = std::move(e);
  ExpectClean(*p);
}

TEST(VerifierTest, TimeMinusDurationIsATime) {
  auto p = ValidProgram();
  ExprPtr bad = Bin(Op::kSub, kDurationT, Node(Op::kNow, kTimeT), Dur(kSecond));
  Rescue(*p).steps[2].params.push_back(Param{"at", std::move(bad)});
  ExpectProblem(*p, "sub: no rule for (time, duration) -> duration");
}

TEST(VerifierTest, DurationScaling) {
  auto p = ValidProgram();
  ExprPtr scaled = Bin(Op::kScale, kDurationT, Float(1.5), Dur(kSecond));  // mul: either order
  Rescue(*p).steps[2].params.push_back(Param{"delay", std::move(scaled)});
  ExpectClean(*p);
  Rescue(*p).steps[2].params.back().value->index = 1;  // but float / duration is not a thing
  ExpectProblem(*p, "scale: no rule for (float, duration) -> duration");
}

TEST(VerifierTest, ComparisonsTakeEqualTypes) {
  auto p = ValidProgram();
  Rescue(*p).triggers[0].when = Bin(Op::kGe, kBoolT, CartValue(), Int(50));
  ExpectProblem(*p, "journey rescue: trigger 0 when: ge: compares float with int");
}

TEST(VerifierTest, ComparisonsProduceBool) {
  auto p = ValidProgram();
  Rescue(*p).triggers[0].when->type = kIntT;
  ExpectProblem(*p, "ge: result int should be bool");
}

TEST(VerifierTest, BoolsAreNotOrdered) {
  auto p = ValidProgram();
  Rescue(*p).steps[1].cond = Bin(Op::kLt, kBoolT, CouponPresent(), CouponPresent());
  ExpectProblem(*p, "lt: orders bools");
}

TEST(VerifierTest, LogicTakesBools) {
  auto p = ValidProgram();
  Rescue(*p).steps[1].cond = Bin(Op::kAnd, kBoolT, CouponPresent(), CartValue());
  ExpectProblem(*p, "and: no rule for (bool, float) -> bool");
}

TEST(VerifierTest, IntToFloatTakesAnInt) {
  auto p = ValidProgram();
  std::vector<ExprPtr> args;
  args.push_back(CartValue());
  Rescue(*p).steps[2].params[0].value = Node(Op::kIntToFloat, kFloatT, std::move(args));
  ExpectProblem(*p, "int_to_float: no rule for (float) -> float");
}

TEST(VerifierTest, ConcatTakesStrings) {
  auto p = ValidProgram();
  Rescue(*p).steps[4].params[0].value = Bin(Op::kConcat, kStringT, OrderId(), Int(1));
  ExpectProblem(*p, "concat: no rule for (string, int) -> string");
}

TEST(VerifierTest, InListItemMatchesTheElements) {
  auto p = ValidProgram();
  Value list = MakeValue(IrType{Ty::kList, Ty::kString});
  list.list.push_back(StringValue("A-1"));
  // In step 4 `event` is the purchase (the wait until's event path).
  Rescue(*p).steps[4].params.push_back(
      Param{"known", Bin(Op::kInList, kBoolT, OrderId(), Const(list))});
  ExpectClean(*p);
  Rescue(*p).steps[4].params.back().value->args[0] = Int(1);
  ExpectProblem(*p, "in_list: no rule for (int, list<string>) -> bool");
}

TEST(VerifierTest, SelectBranchesMatchTheResult) {
  auto p = ValidProgram();
  std::vector<ExprPtr> args;
  args.push_back(CouponPresent());
  args.push_back(CartValue());
  args.push_back(Int(0));
  Rescue(*p).steps[2].params[0].value = Node(Op::kSelect, kFloatT, std::move(args));
  ExpectProblem(*p, "select: cannot select float or int on a bool into float");
}

TEST(VerifierTest, ConstValueTypeIsTheNodeType) {
  auto p = ValidProgram();
  Rescue(*p).triggers[0].when->args[1]->value.type = kIntT;
  ExpectProblem(*p, "const: value of type int in a float node");
}

TEST(VerifierTest, ConstListElementsHaveTheElementType) {
  auto p = ValidProgram();
  Value list = MakeValue(IrType{Ty::kList, Ty::kInt});
  list.list.push_back(IntValue(1));
  list.list.push_back(FloatValue(2.5));
  Rescue(*p).steps[2].params.push_back(Param{"xs", Const(list)});
  ExpectProblem(*p, "const: list element of type float (want int)");
}

TEST(VerifierTest, WindowIndexInRange) {
  auto p = ValidProgram();
  p->segments[0].body->args[0]->index = 1;
  ExpectProblem(*p, "segment busy: window: window 1 is out of range");
}

TEST(VerifierTest, WindowReadHasTheWindowsType) {
  auto p = ValidProgram();
  p->segments[0].body->args[0]->type = kFloatT;
  ExpectProblem(*p, "segment busy: window: type float should be int");
}

TEST(VerifierTest, SegmentIndexInRange) {
  auto p = ValidProgram();
  Rescue(*p).eligible[0].expr->index = 3;
  ExpectProblem(*p, "journey rescue: eligible: segment: segment 3 is out of range");
}

TEST(VerifierTest, EventFieldNeedsAReference) {
  auto p = ValidProgram();
  Rescue(*p).triggers[0].when->args[0]->fields.clear();
  ExpectProblem(*p, "event_field: no field reference");
}

TEST(VerifierTest, EventFieldTypeInRange) {
  auto p = ValidProgram();
  Rescue(*p).triggers[0].when->args[0]->fields[0].type_id = 5;
  ExpectProblem(*p, "event_field: event type 5 is out of range");
}

TEST(VerifierTest, EventFieldOffsetNamesAField) {
  auto p = ValidProgram();
  Rescue(*p).triggers[0].when->args[0]->fields[0].offset = 60;
  ExpectProblem(*p, "event_field: no field of cart at offset 60");
}

TEST(VerifierTest, EventFieldHasTheFieldsType) {
  auto p = ValidProgram();
  Rescue(*p).steps[4].params[0].value->type = kIntT;
  ExpectProblem(*p, "event_field: purchase.order_id is string, not int");
}

TEST(VerifierTest, EventPresentNeedsAnOptionalField) {
  auto p = ValidProgram();
  Rescue(*p).steps[1].cond = Read(Op::kEventPresent, kBoolT, "value", {{0, 56, -1}});
  ExpectProblem(*p, "event_present: cart.value is not optional");
}

TEST(VerifierTest, EventFieldCoversEveryPossibleEvent) {
  auto p = ValidProgram();
  // After the wait until, on the event path, `event` is the purchase, not the cart.
  Rescue(*p).steps[4].params[0].value = Read(Op::kEventField, kFloatT, "value", {{0, 56, -1}});
  ExpectProblem(*p,
                "journey rescue: step 4 (s5): parameter order: event_field: "
                "no reference for event purchase");
}

TEST(VerifierTest, SegmentsDoNotReadTheEvent) {
  auto p = ValidProgram();
  p->segments[0].body = Bin(Op::kGt, kBoolT, CartValue(), Float(1));
  ExpectProblem(*p, "segment busy: event_field: there is no event here");
}

TEST(VerifierTest, ProfileFieldOffsetNamesAField) {
  auto p = ValidProgram();
  p->channels[0].consent->fields[0].offset = 28;
  ExpectProblem(*p, "channel email: consent: profile_field: no field of profile at offset 28");
}

TEST(VerifierTest, ListsOfListsAreMalformed) {
  auto p = ValidProgram();
  Rescue(*p).steps[2].params.push_back(Param{"xs", Const(MakeValue(IrType{Ty::kList, Ty::kList}))});
  ExpectProblem(*p, "const: malformed type list<list>");
}

TEST(VerifierTest, CallsNameASymbol) {
  auto p = ValidProgram();
  std::vector<ExprPtr> args;
  args.push_back(CartValue());
  Rescue(*p).steps[2].params[0].value = Node(Op::kCall, kFloatT, std::move(args));
  ExpectProblem(*p, "call: no symbol");
  Rescue(*p).steps[2].params[0].value->symbol = "jn_abs_float";
  ExpectClean(*p);
}

// ---- Program parts ------------------------------------------------------------------

TEST(VerifierTest, ConditionsAreBool) {
  auto p = ValidProgram();
  p->windows[0].where = CartValue();
  ExpectProblem(*p, "window #0: where: 'where' is float, not bool");
}

TEST(VerifierTest, SegmentsDoNotDependOnThemselves) {
  auto p = ValidProgram();
  ExprPtr self = Node(Op::kSegment, kBoolT);
  self->name = "busy";
  p->segments[0].body = Bin(Op::kAnd, kBoolT, std::move(p->segments[0].body), std::move(self));
  ExpectProblem(*p, "segment busy: depends on itself");
}

TEST(VerifierTest, ChannelCapIsPositive) {
  auto p = ValidProgram();
  p->channels[0].cap_count = 0;
  ExpectProblem(*p, "channel email: cap 0 per 86400s must be positive");
}

// ---- Journeys -----------------------------------------------------------------------

TEST(VerifierTest, JourneyHasATrigger) {
  auto p = ValidProgram();
  p->journeys[1].triggers.clear();
  ExpectProblem(*p, "journey welcome: no trigger");
}

TEST(VerifierTest, TriggerEventInRange) {
  auto p = ValidProgram();
  p->journeys[1].triggers[0].event_type = 2;
  ExpectProblem(*p, "journey welcome: trigger 0: event type 2 is out of range");
}

TEST(VerifierTest, ExitEventInRange) {
  auto p = ValidProgram();
  Rescue(*p).exits[0].event_type = 9;
  ExpectProblem(*p, "journey rescue: exit 0: event type 9 is out of range");
}

TEST(VerifierTest, TriggerConditionIsBool) {
  auto p = ValidProgram();
  Rescue(*p).triggers[0].when = CartValue();
  ExpectProblem(*p, "journey rescue: trigger 0 when: 'when' is float, not bool");
}

TEST(VerifierTest, StepsNotEmpty) {
  auto p = ValidProgram();
  p->journeys[1].steps.clear();
  ExpectProblem(*p, "journey welcome: no steps");
}

TEST(VerifierTest, LastStepIsComplete) {
  auto p = ValidProgram();
  p->journeys[1].steps.pop_back();
  ExpectProblem(*p, "journey welcome: the last step is send, not complete");
}

TEST(VerifierTest, EdgesOnlyGoForward) {
  auto p = ValidProgram();
  Rescue(*p).steps[3].alt = 1;  // a loop back to the branch
  ExpectProblem(*p, "journey rescue: step 3 (s4): timeout target 1 does not go forward");
}

TEST(VerifierTest, NoSelfLoops) {
  auto p = ValidProgram();
  Rescue(*p).steps[0].next = 0;
  ExpectProblem(*p, "journey rescue: step 0 (s1): next 0 does not go forward");
}

TEST(VerifierTest, EdgesStayInRange) {
  auto p = ValidProgram();
  Rescue(*p).steps[5].arms[1].target = 9;
  ExpectProblem(*p, "journey rescue: step 5 (s6): split target 9 is out of range (9 steps)");
}

TEST(VerifierTest, SendChannelInRange) {
  auto p = ValidProgram();
  Rescue(*p).steps[2].channel = 1;
  ExpectProblem(*p, "journey rescue: step 2 (s3): channel 1 is out of range");
}

TEST(VerifierTest, GuardParameterInRange) {
  auto p = ValidProgram();
  Rescue(*p).steps[2].guards[0].param = 1;
  ExpectProblem(*p, "journey rescue: step 2 (s3): guard on parameter 1 is out of range");
}

TEST(VerifierTest, SplitThresholdsIncrease) {
  auto p = ValidProgram();
  Rescue(*p).steps[5].arms[0].threshold = 10000;
  ExpectProblem(*p, "split thresholds are not strictly increasing (10000 after 10000)");
}

TEST(VerifierTest, SplitEndsAt10000) {
  auto p = ValidProgram();
  Rescue(*p).steps[5].arms[1].threshold = 9999;
  ExpectProblem(*p, "journey rescue: step 5 (s6): the last split threshold is 9999, not 10000");
}

TEST(VerifierTest, WaitUntilWaitsForAnEvent) {
  auto p = ValidProgram();
  Rescue(*p).steps[3].events.clear();
  ExpectProblem(*p, "journey rescue: step 3 (s4): wait_until waits for no event");
}

TEST(VerifierTest, WaitUntilHasATimeout) {
  auto p = ValidProgram();
  Rescue(*p).steps[3].duration_us = 0;
  ExpectProblem(*p, "journey rescue: step 3 (s4): 'within' must be longer than 0s");
}

TEST(VerifierTest, WaitIsPositive) {
  auto p = ValidProgram();
  Rescue(*p).steps[0].duration_us = -1;
  ExpectProblem(*p, "journey rescue: step 0 (s1): wait must be longer than 0s");
}

TEST(VerifierTest, JourneysInArbitrationOrder) {
  auto p = ValidProgram();
  std::swap(p->journeys[0], p->journeys[1]);
  ExpectProblem(*p, "journeys: out of order: welcome (priority 0) comes before rescue");
}

TEST(VerifierTest, EqualPrioritiesByName) {
  auto p = ValidProgram();
  p->journeys[1].priority = 10;
  ExpectClean(*p);
  p->journeys[1].name = "a_first";
  ExpectProblem(*p, "journeys: out of order: rescue (priority 10) comes before a_first");
}

TEST(VerifierTest, ApprovalMatchesMissingRoles) {
  auto p = ValidProgram();
  p->journeys[1].missing_roles.clear();
  ExpectProblem(*p, "journey welcome: unapproved but no role is missing");
}

TEST(VerifierTest, TheJoinPassGivesOneTestPerEventTypeInClauseOrder) {
  auto p = ValidProgram();
  ExpectProblem(*p, "journey rescue: entry test: 0 tests for 1 event types (has the join pass run?)");
  JoinClauses(*p);
  const Journey& rescue = Rescue(*p);
  ASSERT_EQ(rescue.entry_tests.size(), 1u);
  EXPECT_EQ(rescue.entry_tests[0].event_type, rescue.triggers[0].event_type);
  ExpectClean(*p);
  // A test that is not a condition is refused like any other.
  Rescue(*p).entry_tests[0].test = Int(1);
  ExpectProblem(*p, "journey rescue: entry test 0");
}

}  // namespace
}  // namespace juncture::compiler::ir
