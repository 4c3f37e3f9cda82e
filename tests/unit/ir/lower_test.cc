// Lowering: record layouts, explicit conversions, optionals, windows and step graphs.
#include "ir/lower.h"

#include <gtest/gtest.h>

#include "../test_util.h"
#include "ir/ir.h"
#include "juncture/abi/abi.h"

namespace juncture::compiler::ir {
namespace {

using juncture::testing::Brief;
using juncture::testing::CompileOne;

TEST(LayoutTest, FieldsAtNaturalAlignmentAfterTheHeader) {
  auto c = CompileOne("event e { flag: bool  n: int  s: string?  ok: bool  l: list<int>?  t: time }\n"
                      "profile { country: string = \"\"  vip: bool = false  score: float? }\n");
  ASSERT_TRUE(c->ok()) << Brief(*c);
  const RecordLayout& e = c->ir()->events[0];
  ASSERT_EQ(e.fields.size(), 6u);
  EXPECT_EQ(e.fields[0].offset, 56u);  // bool right after the 56-byte header
  EXPECT_EQ(e.fields[1].offset, 64u);  // int aligned to 8
  EXPECT_EQ(e.fields[2].offset, 72u);  // JnStr
  EXPECT_EQ(e.fields[2].presence_bit, 0);
  EXPECT_EQ(e.fields[3].offset, 88u);
  EXPECT_EQ(e.fields[4].offset, 96u);  // JnList
  EXPECT_EQ(e.fields[4].presence_bit, 1);
  EXPECT_EQ(e.fields[5].offset, 112u);
  EXPECT_EQ(e.size, 120u);
  const RecordLayout& p = c->ir()->profile;
  EXPECT_EQ(p.fields[0].offset, uint32_t{JN_PROFILE_FIELDS_OFFSET});
  EXPECT_TRUE(p.fields[0].has_default);
  EXPECT_EQ(p.fields[1].offset, 24u);
  EXPECT_EQ(p.fields[2].offset, 32u);
  EXPECT_EQ(p.fields[2].presence_bit, 0);
  EXPECT_EQ(p.size, 40u);
}

const char* kSchema =
    "event purchase { amount: float  coupon: string?  n: int = 0 }\n"
    "event app_open { }\nevent stop { }\n"
    "profile { tz: string = \"\" }\n"
    "channel email { consent true }\n";

const Journey& Only(const Compilation& c) { return c.ir()->journeys.at(0); }

TEST(LowerTest, WideningAndCoalesceAreExplicit) {
  auto c = CompileOne(std::string(kSchema) +
                      "journey j { on purchase when event.amount > event.n and (event.coupon ?? \"x\") == \"y\"\n"
                      "  send email \"t\" }\n");
  ASSERT_TRUE(c->ok()) << Brief(*c);
  const Expr& when = *Only(*c).triggers[0].when;
  ASSERT_EQ(when.op, Op::kAnd);
  const Expr& gt = *when.args[0];
  EXPECT_EQ(gt.op, Op::kGt);
  EXPECT_EQ(gt.args[1]->op, Op::kIntToFloat);
  const Expr& eq = *when.args[1];
  const Expr& sel = *eq.args[0];
  EXPECT_EQ(sel.op, Op::kSelect);
  EXPECT_EQ(sel.args[0]->op, Op::kEventPresent);
  EXPECT_EQ(sel.args[0]->fields[0].presence_bit, 0);
  EXPECT_EQ(sel.args[1]->op, Op::kEventField);
}

TEST(LowerTest, ConstsAndConstantListsFold) {
  auto c = CompileOne(std::string(kSchema) +
                      "const BASE = 10\nconst LIMIT = BASE * 5\n"
                      "journey j { on purchase when event.amount >= LIMIT and event.n in [1, 2, BASE]\n"
                      "  send email \"t\" }\n");
  ASSERT_TRUE(c->ok()) << Brief(*c);
  const Expr& when = *Only(*c).triggers[0].when;
  const Expr& ge = *when.args[0];
  ASSERT_EQ(ge.args[1]->op, Op::kConst);
  EXPECT_EQ(ge.args[1]->type.ty, Ty::kFloat);
  EXPECT_DOUBLE_EQ(ge.args[1]->value.f, 50.0);
  const Expr& in = *when.args[1];
  EXPECT_EQ(in.op, Op::kInList);
  ASSERT_EQ(in.args[1]->value.list.size(), 3u);
  EXPECT_EQ(in.args[1]->value.list[2].i, 10);
}

TEST(LowerTest, StepGraphIsForwardOnlyAndEndsInComplete) {
  auto c = CompileOne(std::string(kSchema) +
                      "journey j { on purchase exit on stop\n"
                      "  wait 30m\n"
                      "  if event.amount > 10 { send email \"big\" } else if event.n > 1 { control } else { exit }\n"
                      "  wait until app_open within 1d { send email \"back\" } else { send email \"gone\" }\n"
                      "  split { 30%: control 70%: send email \"s\" }\n"
                      "}\n");
  ASSERT_TRUE(c->ok()) << Brief(*c);
  const Journey& j = Only(*c);
  ASSERT_FALSE(j.steps.empty());
  EXPECT_EQ(j.steps.back().op, StepOp::kComplete);
  for (size_t i = 0; i + 1 < j.steps.size(); ++i) {
    const Step& s = j.steps[i];
    if (s.op == StepOp::kExit) continue;
    if (s.op != StepOp::kSplit) {
      EXPECT_GT(s.next, i) << s.id;
    }
    if (s.op == StepOp::kBranch || s.op == StepOp::kWaitUntil) {
      EXPECT_GT(s.alt, i) << s.id;
    }
    for (const SplitArm& a : s.arms) EXPECT_GT(a.target, i);
  }
  EXPECT_EQ(j.steps[0].op, StepOp::kWait);
  EXPECT_EQ(j.steps[0].duration_us, 30LL * 60 * 1000000);
  // The split arms: 30% then the rest.
  for (const Step& s : j.steps) {
    if (s.op != StepOp::kSplit) continue;
    ASSERT_EQ(s.arms.size(), 2u);
    EXPECT_EQ(s.arms[0].threshold, 3000u);
    EXPECT_EQ(s.arms[1].threshold, 10000u);
  }
}

TEST(LowerTest, LimitsBecomeGuardsOnlyWhenNotConstant) {
  auto c = CompileOne(std::string(kSchema) +
                      "journey j { limit discount <= 20%\n on purchase\n"
                      "  send email \"a\" { discount: 10% }\n"
                      "  send email \"b\" { discount: event.amount / 100 }\n}\n");
  ASSERT_TRUE(c->ok()) << Brief(*c);
  const Journey& j = Only(*c);
  EXPECT_TRUE(j.steps[0].guards.empty());
  ASSERT_EQ(j.steps[1].guards.size(), 1u);
  EXPECT_DOUBLE_EQ(j.steps[1].guards[0].bound, 0.2);
  EXPECT_TRUE(j.steps[1].guards[0].upper);
}

TEST(LowerTest, WindowsGetSlotsAndAreShared) {
  auto c = CompileOne(std::string(kSchema) +
                      "journey j { on purchase when count(app_open within 1d) > 0 and count(app_open within 1d) < 9\n"
                      "  and sum(purchase.amount within 7d) > 1 and time_since(stop) > 1h send email \"t\" }\n");
  ASSERT_TRUE(c->ok()) << Brief(*c);
  ASSERT_EQ(c->ir()->windows.size(), 3u);
  EXPECT_EQ(c->ir()->windows[0].kind, WindowKind::kCount);
  EXPECT_EQ(c->ir()->windows[1].kind, WindowKind::kSum);
  EXPECT_EQ(c->ir()->windows[1].type.ty, Ty::kFloat);
  EXPECT_EQ(c->ir()->windows[2].type.ty, Ty::kDuration);
}

TEST(LowerTest, JourneysInArbitrationOrder) {
  auto c = CompileOne(std::string(kSchema) +
                      "journey b { on purchase send email \"b\" }\n"
                      "journey a { on purchase send email \"a\" }\n"
                      "journey z { priority 5 on purchase send email \"z\" }\n");
  ASSERT_TRUE(c->ok()) << Brief(*c);
  ASSERT_EQ(c->ir()->journeys.size(), 3u);
  EXPECT_EQ(c->ir()->journeys[0].name, "z");
  EXPECT_EQ(c->ir()->journeys[1].name, "a");
  EXPECT_EQ(c->ir()->journeys[2].name, "b");
}

}  // namespace
}  // namespace juncture::compiler::ir
