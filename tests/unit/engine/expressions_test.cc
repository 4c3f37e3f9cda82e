// LANGUAGE.md §4 as evaluated while deciding: division by zero yields 0 (and is
// counted), optionals through `has`/`??`, `event`/`profile`/`now` bindings, widening,
// string operators and the stdlib functions that depend on the customer or the time.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine_test_util.h"

namespace juncture::enginetest {
namespace {

using ::testing::ElementsAre;

std::string P(const std::string& journeys) {
  return std::string(kBase) + "channel push { consent true }\n" + journeys;
}

std::string Params(const std::string& journey_body, const std::string& cart_props,
                   const std::string& traits = "{}", int64_t at = 0) {
  EngineHarness h(P("journey j { on cart\n" + journey_body + "\n}"));
  EXPECT_TRUE(h.ok()) << h.diagnostics();
  if (!h.ok()) return "<compile error>";
  h.Identify("c1", At(at - 1), traits);
  h.Track("c1", "cart", At(at), cart_props);
  auto a = h.actions();
  return a.size() == 1 ? a[0].params_json : "<" + std::to_string(a.size()) + " decisions>";
}

TEST(DivisionByZero, YieldsZeroAndIsCounted) {
  EngineHarness h(P(R"(
journey j {
  on cart
  send push "x" {
    int_div: event.items / profile.divisor,
    int_mod: event.items % profile.divisor,
    float_div: event.value / profile.ltv,
    float_mod: event.value % profile.ltv,
    mixed: event.value / profile.divisor,
    dur: 1h / profile.divisor,
    ratio: 1h / (1h * profile.ltv),
    fine: event.items / 2
  }
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":10,"items":7})");
  ASSERT_EQ(h.actions().size(), 1u);
  EXPECT_EQ(h.actions()[0].params_json,
            R"({"int_div":0,"int_mod":0,"float_div":0,"float_mod":0,"mixed":0,"dur":0,)"
            R"("ratio":0,"fine":3})");
  EXPECT_EQ(h.engine().stats().div_by_zero, 7u);
}

TEST(DivisionByZero, InConditionsAndWindowsDoesNotStopTheJourney) {
  EngineHarness h(P(R"(
journey j {
  on cart when event.value / profile.ltv >= 0
  if sum(cart.value within 1d) / profile.divisor > 1 { send push "big" } else { send push "zero" }
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":10})");
  ASSERT_EQ(h.actions().size(), 1u);
  EXPECT_EQ(h.actions()[0].template_name, "zero");
  EXPECT_GE(h.engine().stats().div_by_zero, 2u);
}

TEST(Optionals, HasAndDefault) {
  const char* body = R"(send push "x" { coupon: event.coupon ?? "none", has: has(event.coupon) })";
  EXPECT_EQ(Params(body, R"({"value":1})"), R"({"coupon":"none","has":false})");
  EXPECT_EQ(Params(body, R"({"value":1,"coupon":null})"), R"({"coupon":"none","has":false})");
  EXPECT_EQ(Params(body, R"({"value":1,"coupon":"SAVE"})"), R"({"coupon":"SAVE","has":true})");
  EXPECT_EQ(Params(body, R"({"value":1,"coupon":""})"), R"({"coupon":"","has":true})");
}

TEST(Defaults, AbsentPropertiesTakeTheirDefaults) {
  EXPECT_EQ(Params(R"(send push "x" { items: event.items, currency: event.currency })",
                   R"({"value":1})"),
            R"({"items":0,"currency":"USD"})");
  EXPECT_EQ(Params(R"(send push "x" { items: event.items })", R"({"value":1,"items":null})"),
            R"({"items":0})");
}

TEST(Arithmetic, IntWidensToFloatAndIntDivisionTruncates) {
  EXPECT_EQ(Params(R"(send push "x" { a: event.items * 1.5, b: event.items / 2, c: -event.items,
                                      d: event.value + event.items, e: 7 % 3 })",
                   R"({"value":0.5,"items":3})"),
            R"({"a":4.5,"b":1,"c":-3,"d":3.5,"e":1})");
}

TEST(Arithmetic, IntegerOverflowWrapsInsteadOfCrashing) {
  EXPECT_EQ(Params(R"(send push "x" { a: event.items * event.items * event.items,
                                      b: event.items / -1 })",
                   R"({"value":1,"items":4000000000000})"),
            R"({"a":-3249413101845479424,"b":-4000000000000})");
}

TEST(Strings, OperatorsAndStdlib) {
  EXPECT_EQ(Params(R"(send push "x" {
      up: upper(event.currency), low: lower("AbC"), cat: event.currency + "-" + profile.tier,
      sw: event.currency starts_with "US", ew: event.currency ends_with "D",
      has: event.currency contains "S", n: len("héllo"), t: trim("  a  "),
      in_list: profile.country in ["US", "CA"], not_in: profile.country not in ["US"] })",
                   R"({"value":1,"currency":"usd"})", R"({"country":"CA"})"),
            R"({"up":"USD","low":"abc","cat":"usd-standard","sw":false,"ew":false,)"
            R"("has":false,"n":5,"t":"a","in_list":true,"not_in":true})");
}

TEST(Bindings, NowIsTheDecisionTimeAndEventTimeTheEventsTime) {
  EngineHarness h(P(R"(
journey j {
  on cart
  send push "a" { now: now, at: event.time, age: now - event.time }
  wait 90m
  send push "b" { now: now, at: event.time, age: now - event.time, who: event.customer }
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})");
  h.Advance(At(2 * kHour));
  auto a = h.actions();
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].params_json,
            R"({"now":"2026-06-01T12:00:00.000Z","at":"2026-06-01T12:00:00.000Z","age":0})");
  EXPECT_EQ(a[1].params_json,
            R"({"now":"2026-06-01T13:30:00.000Z","at":"2026-06-01T12:00:00.000Z","age":5400,)"
            R"("who":"c1"})");
}

TEST(Stdlib, TimeFunctionsUseTheProfileTimeZoneAtDecisionTime) {
  // 2026-06-01 is a Monday (day 0). 12:00 UTC is 21:00 in Tokyo and 05:00 in LA.
  const char* body = R"(send push "x" { h: hour_of_day(), d: day_of_week(),
                                         utc: hour_of_day("UTC"), days: days(36h), hours: hours(90m) })";
  EXPECT_EQ(Params(body, R"({"value":1})", R"({"timezone":"Asia/Tokyo"})"),
            R"({"h":21,"d":0,"utc":12,"days":1.5,"hours":1.5})");
  EXPECT_EQ(Params(body, R"({"value":1})", R"({"timezone":"America/Los_Angeles"})"),
            R"({"h":5,"d":0,"utc":12,"days":1.5,"hours":1.5})");
  EXPECT_EQ(Params(body, R"({"value":1})", R"({"timezone":"Pacific/Kiritimati"})"),
            R"({"h":2,"d":1,"utc":12,"days":1.5,"hours":1.5})");  // UTC+14: Tuesday
}

TEST(Stdlib, BucketIsStablePerCustomerAndSalt) {
  const char* journey = R"(
journey j { on cart  reenter always  send push "x" { a: bucket("a"), b: bucket("b") } }
)";
  EngineHarness one(P(journey)), two(P(journey));
  ASSERT_TRUE(one.ok()) << one.diagnostics();
  for (int i = 0; i < 200; ++i) one.Track("c" + std::to_string(i), "cart", At(i), R"({"value":1})");
  for (int i = 0; i < 200; ++i) {
    one.Track("c" + std::to_string(i), "cart", At(500 + i), R"({"value":3})");
    two.Track("c" + std::to_string(i), "cart", At(1000 + i), R"({"value":2})");
  }
  auto a = one.actions(), b = two.actions();
  ASSERT_EQ(a.size(), 400u);
  ASSERT_EQ(b.size(), 200u);
  int differ = 0;
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(a[i].params_json, b[i].params_json);        // same customer, other engine
    EXPECT_EQ(a[200 + i].params_json, a[i].params_json);  // same customer, re-entry
    differ += a[i].params_json != a[(i + 1) % 200].params_json;
  }
  EXPECT_GT(differ, 150);
}

TEST(Stdlib, RoundingAndMinMax) {
  EXPECT_EQ(Params(R"(send push "x" { r: round(event.value), f: floor(event.value),
                                      c: ceil(event.value), neg: round(-event.value),
                                      mn: min(event.value, 2.0), mx: max(event.items, 9),
                                      ab: abs(-event.value) })",
                   R"({"value":2.5,"items":3})"),
            R"({"r":3,"f":2,"c":3,"neg":-3,"mn":2,"mx":9,"ab":2.5})");
}

TEST(Segments, ReadTheProfileAtDecisionTime) {
  EngineHarness h(P(R"(
segment vip = profile.tier == "gold" or profile.ltv >= 500
const LIMIT = 3
journey j {
  on cart
  wait 1h
  send push "x" { vip: vip, over: event.items > LIMIT }
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1,"items":5})");
  h.Identify("c1", At(kMinute), R"({"ltv":900})");
  h.Advance(At(kHour));
  ASSERT_EQ(h.actions().size(), 1u);
  EXPECT_EQ(h.actions()[0].params_json, R"({"vip":true,"over":true})");
}

}  // namespace
}  // namespace juncture::enginetest
