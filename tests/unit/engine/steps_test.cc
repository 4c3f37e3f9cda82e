// LANGUAGE.md §3: every step kind as the engine runs it (send, wait, wait until with
// or/when/within and its blocks, if/else if/else, split, control, exit), triggers,
// eligibility, segments, consts, `exit on`, and identify/unknown events (§5).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "engine_test_util.h"

namespace juncture::enginetest {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const char* kChannels = R"(
channel email { consent profile.email_opt_in }
channel push { consent profile.push_opt_in }
channel webhook { consent true }
)";

std::string P(const std::string& journeys) { return std::string(kBase) + kChannels + journeys; }

// ---- send ----------------------------------------------------------------------------

TEST(SendStep, OneDecisionWithEveryFieldAndTypedParams) {
  EngineHarness h(P(R"(
journey welcome {
  on cart
  send email "hello" {
    value: event.value, items: event.items, pct: 15%, name: "Ann", flag: true,
    country: profile.country, pause: 90m, seen: event.time, tags: ["a", "b"], n: 3
  }
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Identify("c1", At(-kHour), R"({"country":"US"})", "id-1");
  h.Track("c1", "cart", At(0), R"({"value":80.5,"items":2})", "m-1");
  ASSERT_THAT(h.Brief(), ElementsAre("welcome:entry:entered", "welcome:s1:sent",
                                     "welcome:end:completed"));
  const Decision& d = h.all()[1];
  EXPECT_EQ(d.id, "m-1:welcome:s1");
  EXPECT_EQ(d.customer, "c1");
  EXPECT_EQ(d.journey, "welcome");
  EXPECT_EQ(d.version, h.Hash("welcome"));
  EXPECT_EQ(d.version.size(), 16u);
  EXPECT_EQ(d.step, "s1");
  EXPECT_EQ(d.channel, "email");
  EXPECT_EQ(d.template_name, "hello");
  EXPECT_EQ(d.params_json,
            R"({"value":80.5,"items":2,"pct":0.15,"name":"Ann","flag":true,"country":"US",)"
            R"("pause":5400,"seen":"2026-06-01T12:00:00.000Z","tags":["a","b"],"n":3})");
  EXPECT_EQ(d.outcome, runtime::Outcome::kSent);
  EXPECT_EQ(d.reason, runtime::Reason::kNone);
  EXPECT_EQ(d.cause, "m-1");
  EXPECT_EQ(d.at_us, At(0));
  std::string json = d.ToJson();
  EXPECT_THAT(json, HasSubstr(R"("channel":"email","template":"hello","params":{"value":80.5)"));
  EXPECT_EQ(d.signal_us, At(0));
  EXPECT_THAT(json, HasSubstr(R"("outcome":"sent","cause":"m-1",)"
                              R"("signal":"2026-06-01T12:00:00.000Z","at":"2026-06-01T12:00:00.000Z"})"));
}

TEST(SendStep, WithoutParamsHasEmptyParamsObject) {
  EngineHarness h(P(R"(journey j { on cart  send push "plain" })"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})");
  ASSERT_EQ(h.actions().size(), 1u);
  EXPECT_EQ(h.actions()[0].params_json, "");
  EXPECT_THAT(h.actions()[0].ToJson(), HasSubstr(R"("params":{})"));
}

TEST(SendStep, LifecycleDecisionsHaveNoChannel) {
  EngineHarness h(P(R"(journey j { on cart  send push "a" })"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})", "m-1");
  ASSERT_EQ(h.all().size(), 3u);
  const Decision& entered = h.all()[0];
  const Decision& completed = h.all()[2];
  EXPECT_EQ(entered.outcome, runtime::Outcome::kEntered);
  EXPECT_EQ(entered.id, "m-1:j:entry:entered");
  EXPECT_EQ(entered.channel, "");
  EXPECT_THAT(entered.ToJson(), ::testing::Not(HasSubstr("\"channel\"")));
  EXPECT_EQ(completed.outcome, runtime::Outcome::kCompleted);
  EXPECT_EQ(completed.id, "m-1:j:end:completed");
  EXPECT_EQ(completed.channel, "");
}

TEST(SendStep, SeveralStepsInABlockRunInOrder) {
  EngineHarness h(P(R"(
journey j {
  on cart
  if true { send push "one"  send email "two"  send webhook "three" }
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})");
  std::vector<std::string> templates;
  for (const Decision& d : h.actions()) templates.push_back(d.template_name);
  EXPECT_THAT(templates, ElementsAre("one", "two", "three"));
}

// ---- wait ----------------------------------------------------------------------------

const char* kWaitJourney = R"(
journey j {
  on cart
  send push "first"
  wait 30m
  send push "second" { value: event.value, cause: event.id, at: now }
}
)";

TEST(WaitStep, SuspendsUntilTheDurationHasPassed) {
  EngineHarness h(P(kWaitJourney));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":42})", "m-1");
  EXPECT_THAT(h.Brief(), ElementsAre("j:entry:entered", "j:s1:sent"));
  EXPECT_EQ(h.engine().next_timer(), At(30 * kMinute));
  h.Advance(At(30 * kMinute - kMs));
  EXPECT_EQ(h.all().size(), 2u);
  h.Advance(At(30 * kMinute));
  ASSERT_THAT(h.Brief(), ElementsAre("j:entry:entered", "j:s1:sent", "j:s3:sent",
                                     "j:end:completed"));
  const Decision& d = h.all()[2];
  // Timer decisions carry the timer's time and the message that last moved the instance;
  // `event` stays readable after a timed wait; `now` is the decision time.
  EXPECT_EQ(d.at_us, At(30 * kMinute));
  EXPECT_EQ(d.cause, "m-1");
  EXPECT_EQ(d.id, "m-1:j:s3");
  EXPECT_EQ(d.params_json, R"({"value":42,"cause":"m-1","at":"2026-06-01T12:30:00.000Z"})");
  EXPECT_EQ(h.all()[3].at_us, At(30 * kMinute));
  EXPECT_EQ(h.engine().next_timer(), INT64_MAX);
}

TEST(WaitStep, TimersDueAtAMessagesTimestampFireBeforeIt) {
  EngineHarness h(P(kWaitJourney));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})");
  h.Clear();
  h.Track("c2", "cart", At(30 * kMinute), R"({"value":2})");
  ASSERT_EQ(h.all().size(), 4u);
  EXPECT_EQ(h.all()[0].customer, "c1");
  EXPECT_EQ(Brief(h.all()[0]), "j:s3:sent");
  EXPECT_EQ(h.all()[2].customer, "c2");
  EXPECT_EQ(Brief(h.all()[2]), "j:entry:entered");
}

TEST(WaitStep, TimersFireInTimeOrderAcrossCustomers) {
  EngineHarness h(P(kWaitJourney));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("first", "cart", At(5 * kMinute), R"({"value":1})");
  h.Track("late", "cart", At(10 * kMinute), R"({"value":1})");
  h.Track("early", "cart", At(10 * kMinute), R"({"value":1})");
  h.Clear();
  h.Advance(At(kDay));
  std::vector<std::string> order;
  for (const Decision& d : h.actions()) order.push_back(d.customer);
  // Due 12:35 first; the two due 12:40 in the order they were set.
  EXPECT_THAT(order, ElementsAre("first", "late", "early"));
}

// ---- wait until ----------------------------------------------------------------------

const char* kWaitUntil = R"(
journey j {
  on cart
  wait until purchase within 2d {
    send email "thanks" { order: event.order_id, amount: event.amount }
  } else {
    send email "last_call" { value: event.value }
  }
  send push "after" { cause: event.id }
}
)";

TEST(WaitUntilStep, MatchRunsTheBlockWithEventBoundToTheMatch) {
  EngineHarness h(P(kWaitUntil));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":80})", "m-1");
  h.Track("c1", "purchase", At(kHour), R"({"amount":30,"order_id":"o-7"})", "m-2");
  ASSERT_THAT(h.Brief(), ElementsAre("j:entry:entered", "j:s2:sent", "j:s4:sent",
                                     "j:end:completed"));
  EXPECT_EQ(h.all()[1].params_json, R"({"order":"o-7","amount":30})");
  EXPECT_EQ(h.all()[1].template_name, "thanks");
  EXPECT_EQ(h.all()[1].cause, "m-2");
  EXPECT_EQ(h.all()[1].id, "m-2:j:s2");
  EXPECT_EQ(h.all()[1].at_us, At(kHour));
  EXPECT_EQ(h.all()[2].params_json, R"({"cause":"m-2"})");
  // The timeout is stale now.
  h.Advance(At(5 * kDay));
  EXPECT_EQ(h.all().size(), 4u);
}

TEST(WaitUntilStep, TimeoutRunsElseWithEventUnchanged) {
  EngineHarness h(P(kWaitUntil));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":80})", "m-1");
  h.Advance(At(2 * kDay - kMs));
  EXPECT_EQ(h.all().size(), 1u);
  h.Advance(At(2 * kDay));
  ASSERT_THAT(h.Brief(), ElementsAre("j:entry:entered", "j:s3:sent", "j:s4:sent",
                                     "j:end:completed"));
  EXPECT_EQ(h.all()[1].template_name, "last_call");
  EXPECT_EQ(h.all()[1].params_json, R"({"value":80})");
  EXPECT_EQ(h.all()[1].cause, "m-1");
  EXPECT_EQ(h.all()[1].at_us, At(2 * kDay));
  EXPECT_EQ(h.all()[2].params_json, R"({"cause":"m-1"})");
}

TEST(WaitUntilStep, AMatchAtExactlyTheTimeoutLosesToTheTimer) {
  // §5: every timer due at or before a message's timestamp fires before it.
  EngineHarness h(P(kWaitUntil));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":80})", "m-1");
  h.Track("c1", "purchase", At(2 * kDay), R"({"amount":30,"order_id":"o-7"})", "m-2");
  std::vector<std::string> templates;
  for (const Decision& d : h.actions()) templates.push_back(d.template_name);
  EXPECT_THAT(templates, ElementsAre("last_call", "after"));
}

TEST(WaitUntilStep, OtherEventsAndOtherCustomersDoNotResume) {
  EngineHarness h(P(kWaitUntil));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":80})");
  h.Track("c1", "app_open", At(kMinute));
  h.Track("c1", "page_view", At(2 * kMinute), R"({"path":"/"})");
  h.Track("c2", "purchase", At(3 * kMinute), R"({"amount":1,"order_id":"x"})");
  EXPECT_THAT(h.ForCustomer("c1").size(), 1u);  // entered only
  h.Track("c1", "purchase", At(4 * kMinute), R"({"amount":1,"order_id":"o"})");
  EXPECT_EQ(h.ForCustomer("c1")[1].template_name, "thanks");
}

TEST(WaitUntilStep, WhenFiltersMatches) {
  EngineHarness h(P(R"(
journey j {
  on cart
  wait until purchase when event.amount >= 100 within 1d {
    send push "big" { amount: event.amount }
  } else {
    send push "none"
  }
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})");
  h.Track("c1", "purchase", At(kHour), R"({"amount":50,"order_id":"a"})");
  EXPECT_THAT(h.BriefActions(), IsEmpty());
  h.Track("c1", "purchase", At(2 * kHour), R"({"amount":150,"order_id":"b"})");
  ASSERT_THAT(h.BriefActions(), ElementsAre("j:s2:sent"));
  EXPECT_EQ(h.actions()[0].params_json, R"({"amount":150})");
}

TEST(WaitUntilStep, OrMatchesAnyListedEventAndWhenAppliesToEach) {
  EngineHarness h(P(R"(
journey j {
  on cart
  reenter always
  wait until purchase or app_open when event.id starts_with "go" within 1d {
    send push "matched" { by: event.id }
  }
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})", "m-1");
  h.Track("c1", "app_open", At(kMinute), "{}", "no-1");
  h.Track("c1", "purchase", At(2 * kMinute), R"({"amount":1,"order_id":"a"})", "no-2");
  EXPECT_THAT(h.BriefActions(), IsEmpty());
  h.Track("c1", "app_open", At(3 * kMinute), "{}", "go-1");
  ASSERT_EQ(h.actions().size(), 1u);
  EXPECT_EQ(h.actions()[0].params_json, R"({"by":"go-1"})");
  h.Track("c1", "cart", At(4 * kMinute), R"({"value":1})", "m-2");
  h.Track("c1", "purchase", At(5 * kMinute), R"({"amount":1,"order_id":"a"})", "go-2");
  ASSERT_EQ(h.actions().size(), 2u);
  EXPECT_EQ(h.actions()[1].params_json, R"({"by":"go-2"})");
}

TEST(WaitUntilStep, WithoutBlocksContinuesAfterMatchOrTimeout) {
  EngineHarness h(P(R"(
journey j {
  on cart
  wait until purchase within 1h
  send push "next" { cause: event.id }
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})", "a-1");
  h.Track("c2", "cart", At(0), R"({"value":1})", "b-1");
  h.Track("c1", "purchase", At(kMinute), R"({"amount":1,"order_id":"x"})", "a-2");
  h.Advance(At(kHour));
  ASSERT_EQ(h.actions().size(), 2u);
  EXPECT_EQ(h.actions()[0].customer, "c1");
  EXPECT_EQ(h.actions()[0].params_json, R"({"cause":"a-2"})");
  EXPECT_EQ(h.actions()[1].customer, "c2");
  EXPECT_EQ(h.actions()[1].params_json, R"({"cause":"b-1"})");
  EXPECT_EQ(h.actions()[1].at_us, At(kHour));
}

TEST(WaitUntilStep, ElseIsOptionalTimeoutSkipsTheBlock) {
  EngineHarness h(P(R"(
journey j {
  on cart
  wait until purchase within 1h { send push "thanks" }
  send push "next"
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})");
  h.Advance(At(kHour));
  std::vector<std::string> templates;
  for (const Decision& d : h.actions()) templates.push_back(d.template_name);
  EXPECT_THAT(templates, ElementsAre("next"));
}

// ---- if ------------------------------------------------------------------------------

TEST(IfStep, IfElseIfElseTakesTheFirstTrueArm) {
  EngineHarness h(P(R"(
journey j {
  on cart
  if event.value >= 100 { send push "big" }
  else if event.value >= 50 { send push "mid" }
  else { send push "small" }
  send push "after"
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("big", "cart", At(0), R"({"value":150})");
  h.Track("mid", "cart", At(0), R"({"value":100})");  // 100 is big, not mid
  h.Track("mid2", "cart", At(0), R"({"value":50})");
  h.Track("small", "cart", At(0), R"({"value":49.99})");
  std::map<std::string, std::vector<std::string>> by;
  for (const Decision& d : h.actions()) by[d.customer].push_back(d.template_name);
  EXPECT_THAT(by["big"], ElementsAre("big", "after"));
  EXPECT_THAT(by["mid"], ElementsAre("big", "after"));
  EXPECT_THAT(by["mid2"], ElementsAre("mid", "after"));
  EXPECT_THAT(by["small"], ElementsAre("small", "after"));
}

TEST(IfStep, WithoutElseFallsThrough) {
  EngineHarness h(P(R"(
journey j {
  on cart
  if event.items > 0 { send push "items" }
  send push "after"
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1,"items":2})");
  h.Track("c2", "cart", At(0), R"({"value":1})");
  std::map<std::string, std::vector<std::string>> by;
  for (const Decision& d : h.actions()) by[d.customer].push_back(d.template_name);
  EXPECT_THAT(by["c1"], ElementsAre("items", "after"));
  EXPECT_THAT(by["c2"], ElementsAre("after"));
}

TEST(IfStep, ConditionsReadWindowsAndProfile) {
  EngineHarness h(P(R"(
journey j {
  on app_open
  if count(page_view within 10m where event.path starts_with "/checkout") > 0 {
    send push "checkout"
  } else if profile.tier == "gold" {
    send push "gold"
  } else {
    send push "other"
  }
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "page_view", At(0), R"({"path":"/checkout/pay"})");
  h.Track("c1", "app_open", At(kMinute));
  h.Identify("c2", At(0), R"({"tier":"gold"})");
  h.Track("c2", "page_view", At(0), R"({"path":"/home"})");
  h.Track("c2", "app_open", At(kMinute));
  h.Track("c3", "app_open", At(kMinute));
  std::map<std::string, std::string> by;
  for (const Decision& d : h.actions()) by[d.customer] = d.template_name;
  EXPECT_EQ(by["c1"], "checkout");
  EXPECT_EQ(by["c2"], "gold");
  EXPECT_EQ(by["c3"], "other");
}

// ---- split ---------------------------------------------------------------------------

const char* kSplit = R"(
journey j {
  on cart
  reenter always
  split {
    45%: send push "a"
    45%: send push "b"
    10%: control
  }
}
)";

std::map<std::string, std::string> SplitArms(const std::string& program, int customers,
                                             int64_t offset, const std::string& id_prefix) {
  EngineHarness h(program);
  EXPECT_TRUE(h.ok()) << h.diagnostics();
  std::map<std::string, std::string> arm;
  if (!h.ok()) return arm;
  for (int i = 0; i < customers; ++i) {
    h.Track("cust-" + std::to_string(i), "cart", At(offset + i * kSecond), R"({"value":1})",
            id_prefix + std::to_string(i));
  }
  for (const Decision& d : h.actions()) {
    arm[d.customer] = d.outcome == runtime::Outcome::kControl ? "control" : d.template_name;
  }
  return arm;
}

TEST(SplitStep, RoughlyProportionalOverAThousandCustomers) {
  auto arms = SplitArms(P(kSplit), 1000, 0, "m");
  ASSERT_EQ(arms.size(), 1000u);
  std::map<std::string, int> n;
  for (const auto& [c, a] : arms) ++n[a];
  EXPECT_NEAR(n["a"], 450, 60);
  EXPECT_NEAR(n["b"], 450, 60);
  EXPECT_NEAR(n["control"], 100, 40);
}

TEST(SplitStep, StablePerCustomerAcrossRunsTimesAndMessages) {
  auto first = SplitArms(P(kSplit), 300, 0, "x-");
  auto second = SplitArms(P(kSplit), 300, 40 * kDay, "y-");
  EXPECT_EQ(first, second);
}

TEST(SplitStep, StableWhenTheSameCustomerReenters) {
  EngineHarness h(P(kSplit));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 50; ++i) {
      h.Track("c" + std::to_string(i), "cart", At(round * kHour + i), R"({"value":1})");
    }
  }
  std::map<std::string, std::set<std::string>> arms;
  for (const Decision& d : h.actions()) {
    arms[d.customer].insert(d.outcome == runtime::Outcome::kControl ? "control" : d.template_name);
  }
  ASSERT_EQ(arms.size(), 50u);
  for (const auto& [c, set] : arms) EXPECT_EQ(set.size(), 1u) << c;
}

TEST(SplitStep, IndependentBetweenJourneys) {
  // Same split in two journeys: the arm depends on the journey too, so customers do not
  // all land in the same arm of both.
  EngineHarness h(P(R"(
journey one { on cart  split { 50%: send push "a"  50%: send email "b" } }
journey two { on cart  split { 50%: send push "a"  50%: send email "b" } }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  for (int i = 0; i < 1000; ++i) h.Track("c" + std::to_string(i), "cart", At(i), R"({"value":1})");
  std::map<std::string, std::map<std::string, std::string>> arm;  // customer -> journey -> tpl
  for (const Decision& d : h.actions()) arm[d.customer][d.journey] = d.template_name;
  int same = 0;
  for (auto& [c, m] : arm) same += m["one"] == m["two"];
  EXPECT_GT(same, 380);
  EXPECT_LT(same, 620);
}

TEST(SplitStep, ABlockArmRunsAllItsSteps) {
  EngineHarness h(P(R"(
journey j {
  on cart
  split {
    50%: { send push "x"  send email "y" }
    50%: control
  }
  send webhook "after"
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  for (int i = 0; i < 100; ++i) h.Track("c" + std::to_string(i), "cart", At(i), R"({"value":1})");
  std::map<std::string, std::vector<std::string>> by;
  for (const Decision& d : h.actions()) {
    by[d.customer].push_back(d.outcome == runtime::Outcome::kControl ? "control:" + d.template_name
                                                    : d.template_name);
  }
  int block = 0, control = 0;
  for (auto& [c, v] : by) {
    if (v.size() == 3) {
      EXPECT_THAT(v, ElementsAre("x", "y", "after")) << c;
      ++block;
    } else {
      // Held out: the send after the split is recorded, not sent.
      EXPECT_THAT(v, ElementsAre("control:", "control:after")) << c;
      ++control;
    }
  }
  EXPECT_GT(block, 25);
  EXPECT_GT(control, 25);
}

// ---- control and exit ----------------------------------------------------------------

TEST(ControlStep, RecordsControlWithoutChannelOrTemplate) {
  EngineHarness h(P(R"(journey j { on cart  control  send push "after" })"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})", "m-1");
  // v1.1: the instance is held out from here on; its later send is recorded as
  // control with its channel and template.
  ASSERT_THAT(h.Brief(), ElementsAre("j:entry:entered", "j:s1:control", "j:s2:control",
                                     "j:end:completed"));
  EXPECT_EQ(h.all()[2].channel, "push");
  EXPECT_EQ(h.all()[2].template_name, "after");
  const Decision& d = h.all()[1];
  EXPECT_EQ(d.id, "m-1:j:s1");
  EXPECT_EQ(d.channel, "");
  EXPECT_EQ(d.template_name, "");
  EXPECT_EQ(d.reason, runtime::Reason::kNone);
  EXPECT_EQ(d.version, h.Hash("j"));
  std::string json = d.ToJson();
  EXPECT_THAT(json, HasSubstr(R"("outcome":"control")"));
  EXPECT_THAT(json, ::testing::Not(HasSubstr("\"channel\"")));
}

TEST(ExitStep, EndsTheInstanceNow) {
  EngineHarness h(P(R"(
journey j {
  on cart
  reenter always
  if event.value < 10 { exit }
  send push "kept"
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":5})", "m-1");
  h.Track("c2", "cart", At(0), R"({"value":50})", "m-2");
  EXPECT_THAT(h.ForCustomer("c1").size(), 2u);
  EXPECT_EQ(Brief(h.ForCustomer("c1")[1]), "j:s2:exited");
  EXPECT_EQ(h.ForCustomer("c1")[1].id, "m-1:j:s2:exited");
  EXPECT_EQ(h.ForCustomer("c2")[1].template_name, "kept");
  // Ended: with `reenter always` the customer may enter again.
  h.Track("c1", "cart", At(kMinute), R"({"value":50})", "m-3");
  EXPECT_EQ(h.ForCustomer("c1").back().outcome, runtime::Outcome::kCompleted);
}

TEST(ExitOn, EndsAWaitingInstanceAndDropsItsTimer) {
  EngineHarness h(P(R"(
journey j {
  on cart
  exit on unsubscribed
  exit on page_view when event.path == "/unsubscribe"
  wait 1h
  send push "late"
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})");
  h.Track("c2", "cart", At(0), R"({"value":1})");
  h.Track("c3", "cart", At(0), R"({"value":1})");
  h.Track("c1", "unsubscribed", At(10 * kMinute), "{}", "u-1");
  h.Track("c2", "page_view", At(10 * kMinute), R"({"path":"/home"})");
  h.Track("c3", "page_view", At(10 * kMinute), R"({"path":"/unsubscribe"})", "u-3");
  h.Advance(At(2 * kHour));
  auto c1 = h.ForCustomer("c1");
  ASSERT_EQ(c1.size(), 2u);
  EXPECT_EQ(Brief(c1[1]), "j:exit:exited");
  EXPECT_EQ(c1[1].cause, "u-1");
  EXPECT_EQ(c1[1].id, "u-1:j:exit:exited");
  EXPECT_EQ(c1[1].at_us, At(10 * kMinute));
  auto c3 = h.ForCustomer("c3");
  ASSERT_EQ(c3.size(), 2u);
  EXPECT_EQ(Brief(c3[1]), "j:exit:exited");
  auto c2 = h.ForCustomer("c2");
  ASSERT_EQ(c2.size(), 3u);
  EXPECT_EQ(c2[1].template_name, "late");
}

TEST(ExitOn, TheOldInstancesTimerDoesNotMoveANewInstance) {
  EngineHarness h(P(R"(
journey j { on cart  reenter always  exit on unsubscribed  wait 1h  send push "x" }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})", "m-1");
  h.Track("c1", "unsubscribed", At(10 * kMinute));
  h.Track("c1", "cart", At(20 * kMinute), R"({"value":1})", "m-3");
  h.Advance(At(kHour + 19 * kMinute));
  EXPECT_THAT(h.BriefActions(), IsEmpty());
  h.Advance(At(kHour + 20 * kMinute));
  ASSERT_THAT(h.BriefActions(), ElementsAre("j:s2:sent"));
  EXPECT_EQ(h.actions()[0].cause, "m-3");
}

TEST(WaitUntilStep, NestedWaitsUseOnlyTheLatestTimeout) {
  EngineHarness h(P(R"(
journey j {
  on cart
  wait until purchase within 1h {
    wait until purchase within 1h { send push "second" } else { send push "timeout2" }
  } else {
    send push "timeout1"
  }
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})");
  h.Track("c1", "purchase", At(30 * kMinute), R"({"amount":1,"order_id":"a"})");
  h.Advance(At(kHour + 29 * kMinute));
  EXPECT_THAT(h.BriefActions(), IsEmpty());
  h.Advance(At(kHour + 30 * kMinute));
  std::vector<std::string> templates;
  for (const Decision& d : h.actions()) templates.push_back(d.template_name);
  EXPECT_THAT(templates, ElementsAre("timeout2"));
}

TEST(ExitOn, DoesNothingForACustomerNotInTheJourney) {
  EngineHarness h(P(R"(journey j { on cart  exit on unsubscribed  wait 1h  send push "x" })"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "unsubscribed", At(0));
  EXPECT_THAT(h.all(), IsEmpty());
}

// ---- triggers, eligibility, segments, consts -----------------------------------------

TEST(Triggers, PredicatesAndSeveralOnLines) {
  EngineHarness h(P(R"(
journey j {
  on cart when event.value >= 50
  on purchase when event.amount > 100
  send push "x" { cause: event.id }
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":49.9})");
  h.Track("c2", "purchase", At(0), R"({"amount":100,"order_id":"a"})");
  h.Track("c3", "app_open", At(0));
  EXPECT_THAT(h.all(), IsEmpty());
  h.Track("c1", "cart", At(1), R"({"value":50})", "ok-1");
  h.Track("c2", "purchase", At(1), R"({"amount":100.5,"order_id":"a"})", "ok-2");
  ASSERT_EQ(h.actions().size(), 2u);
  EXPECT_EQ(h.actions()[0].params_json, R"({"cause":"ok-1"})");
  EXPECT_EQ(h.actions()[1].params_json, R"({"cause":"ok-2"})");
}

const char* kEligible = R"(
segment high_value = profile.ltv >= 500 or profile.tier == "gold"
const MIN_CART = 50.0
const BONUS = MIN_CART * 2
journey j {
  on cart when event.value >= MIN_CART
  eligible high_value and profile.country in ["US", "CA"]
  send push "offer" { min: MIN_CART, bonus: BONUS, hv: high_value }
}
)";

TEST(Eligibility, SegmentsAndProfileDecideEntry) {
  EngineHarness h(P(kEligible));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Identify("rich_us", At(0), R"({"country":"US","ltv":600})");
  h.Identify("plain_us", At(0), R"({"country":"US"})");
  h.Identify("gold_ca", At(0), R"({"country":"CA","tier":"gold"})");
  h.Identify("gold_fr", At(0), R"({"country":"FR","tier":"gold"})");
  for (const char* c : {"rich_us", "plain_us", "gold_ca", "gold_fr"}) {
    h.Track(c, "cart", At(kMinute), R"({"value":60})");
  }
  std::set<std::string> entered;
  for (const Decision& d : h.actions()) entered.insert(d.customer);
  EXPECT_EQ(entered, (std::set<std::string>{"rich_us", "gold_ca"}));
  EXPECT_EQ(h.actions()[0].params_json, R"({"min":50,"bonus":100,"hv":true})");
}

TEST(Eligibility, AnIneligibleTriggerIsNotAnEntry) {
  EngineHarness h(P(kEligible));  // reenter never
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Identify("c1", At(0), R"({"country":"US"})");
  h.Track("c1", "cart", At(kMinute), R"({"value":60})");
  EXPECT_THAT(h.all(), IsEmpty());
  h.Identify("c1", At(2 * kMinute), R"({"tier":"gold"})");
  h.Track("c1", "cart", At(3 * kMinute), R"({"value":60})");
  EXPECT_EQ(h.actions().size(), 1u);
}

// ---- identify, customers, unknown events ---------------------------------------------

TEST(Identify, MergesTraitsIntoTheProfile) {
  EngineHarness h(P(R"(
journey j { on cart  send push "p" { country: profile.country, tier: profile.tier, ltv: profile.ltv } }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Identify("c1", At(0), R"({"country":"US"})");
  h.Identify("c1", At(1), R"({"tier":"gold","favorite_color":"blue","nested":{"a":[1,2]}})");
  h.Identify("c1", At(2), R"({"ltv":12.5})");
  h.Identify("c1", At(3), "{}");
  h.Track("c1", "cart", At(4), R"({"value":1})");
  EXPECT_THAT(h.dead_letters(), IsEmpty());
  ASSERT_EQ(h.actions().size(), 1u);
  EXPECT_EQ(h.actions()[0].params_json, R"({"country":"US","tier":"gold","ltv":12.5})");
}

TEST(Identify, NullResetsATraitToItsDefault) {
  EngineHarness h(P(R"(journey j { on cart  send push "p" { tier: profile.tier } })"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Identify("c1", At(0), R"({"tier":"gold"})");
  h.Identify("c1", At(1), R"({"tier":null})");
  h.Track("c1", "cart", At(2), R"({"value":1})");
  ASSERT_EQ(h.actions().size(), 1u);
  EXPECT_EQ(h.actions()[0].params_json, R"({"tier":"standard"})");
}

TEST(Identify, ProfileIsReadAtDecisionTime) {
  EngineHarness h(P(R"(journey j { on cart  wait 1h  send push "p" { tier: profile.tier } })"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})");
  h.Identify("c1", At(30 * kMinute), R"({"tier":"gold"})");
  h.Advance(At(kHour));
  ASSERT_EQ(h.actions().size(), 1u);
  EXPECT_EQ(h.actions()[0].params_json, R"({"tier":"gold"})");
}

TEST(Identify, ProfilesArePerCustomer) {
  EngineHarness h(P(R"(journey j { on cart  send push "p" { tier: profile.tier } })"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Identify("c1", At(0), R"({"tier":"gold"})");
  h.Track("c2", "cart", At(1), R"({"value":1})");
  ASSERT_EQ(h.actions().size(), 1u);
  EXPECT_EQ(h.actions()[0].params_json, R"({"tier":"standard"})");
}

TEST(Customers, AnonymousIdStandsInForAMissingUserId) {
  EngineHarness h(P(R"(journey j { on cart  send push "p" { who: event.customer } })"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Raw(R"({"type":"track","event":"cart","messageId":"a-1","anonymousId":"anon-9",)"
        R"("timestamp":"2026-06-01T12:00:00Z","properties":{"value":1}})");
  h.Raw(R"({"type":"track","event":"cart","messageId":"a-2","userId":"u-1","anonymousId":"anon-8",)"
        R"("timestamp":"2026-06-01T12:00:00Z","properties":{"value":1}})");
  ASSERT_EQ(h.actions().size(), 2u);
  EXPECT_EQ(h.actions()[0].customer, "anon-9");
  EXPECT_EQ(h.actions()[0].params_json, R"({"who":"anon-9"})");
  EXPECT_EQ(h.actions()[1].customer, "u-1");
}

TEST(UnknownEvents, AreIgnoredAndCounted) {
  EngineHarness h(P(R"(journey j { on cart  send push "p" })"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "mystery", At(0), R"({"value":"not even the right type"})");
  h.Track("c1", "Cart", At(0), R"({"value":1})");  // names are case-sensitive
  EXPECT_THAT(h.all(), IsEmpty());
  EXPECT_THAT(h.dead_letters(), IsEmpty());
  EXPECT_EQ(h.engine().stats().ignored, 2u);
  EXPECT_EQ(h.engine().stats().messages, 2u);
  h.Track("c1", "cart", At(1), R"({"value":1})");
  EXPECT_EQ(h.actions().size(), 1u);
}

}  // namespace
}  // namespace juncture::enginetest
