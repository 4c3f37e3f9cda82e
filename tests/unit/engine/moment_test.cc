// Language v1.1 (docs/language.md): holdouts that hold for the rest of the instance,
// goals and their conversions, deadlines (`late`), and `receivedAt` as the decision
// time in virtual time.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "engine_test_util.h"
#include "juncture/compiler/backend.h"

namespace juncture::enginetest {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const char* kChannels = R"(
channel email { consent profile.email_opt_in  cap 1 per 1d }
channel push { consent profile.push_opt_in }
channel inapp { consent true  quiet 21:00 .. 08:00 }
)";

std::string P(const std::string& journeys) { return std::string(kBase) + kChannels + journeys; }

// Only the decisions about sends and conversions, as "journey:step:outcome[:reason]".
std::vector<std::string> Sends(const EngineHarness& h) {
  std::vector<std::string> out;
  for (const Decision& d : h.all()) {
    if (d.channel.empty() && d.outcome != runtime::Outcome::kConverted) continue;
    std::string s = d.journey + ":" + d.step + std::string(":") + runtime::ToString(d.outcome);
    if (d.reason != runtime::Reason::kNone) s += std::string(":") + runtime::ToString(d.reason);
    if (!d.arm.empty()) s += ":" + d.arm;
    out.push_back(s);
  }
  return out;
}

// ---- holdouts ------------------------------------------------------------------------

TEST(Holdout, LaterSendsAreRecordedAsControlWithoutGuardrailsOrCaps) {
  EngineHarness h(P(R"(
journey held {
  on cart
  reenter always
  deadline 1s
  control
  send email "one" { v: event.value }
  wait 1h
  send email "two"
}
journey other {
  on purchase
  reenter always
  send email "cap_me"
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Identify("c1", At(-kHour), R"({"email_opt_in": false})");  // no consent: not evaluated
  // Decided 10 s after its signal, past the 1 s deadline: held out all the same.
  h.Raw(R"({"type":"track","event":"cart","messageId":"m1","userId":"c1","timestamp":")" +
        Iso(At(-10 * kSecond)) + R"(","receivedAt":")" + Iso(At(0)) +
        R"(","properties":{"value":5}})");
  h.Advance(At(2 * kHour));
  EXPECT_THAT(Sends(h), ElementsAre("held:s2:control", "held:s4:control"));
  const Decision& one = h.all()[2];
  EXPECT_EQ(one.channel, "email");
  EXPECT_EQ(one.template_name, "one");
  EXPECT_EQ(one.params_json, R"({"v":5})");
  EXPECT_EQ(one.id, "m1:held:s2");
  // No cap slot was taken: consent back, the first real send of the day goes out.
  h.Identify("c1", At(3 * kHour), R"({"email_opt_in": true})");
  h.Track("c1", "purchase", At(4 * kHour), R"({"amount": 1, "order_id": "o"})");
  EXPECT_EQ(Sends(h).back(), "other:s1:sent");
}

TEST(Holdout, OnlyTheInstanceThatReachedControlIsHeldOut) {
  EngineHarness h(P(R"(
journey j {
  on cart
  reenter always
  if event.value > 10 { control }
  send push "p"
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value": 50})");
  h.Track("c1", "cart", At(kMinute), R"({"value": 1})");
  EXPECT_THAT(Sends(h), ElementsAre("j:s3:control", "j:s3:sent"));
}

// ---- goals -----------------------------------------------------------------------------

const char* kGoal = R"(
journey rescue {
  on cart
  reenter always
  goal purchase when event.amount >= 20 within 2d
  wait 1h
  send push "reminder"
}
)";

TEST(Goal, ConvertsOnceWithinItsWindowEvenAfterTheInstanceCompleted) {
  EngineHarness h(P(kGoal));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value": 80})", "m-cart");
  h.Track("c1", "purchase", At(2 * kHour), R"({"amount": 10, "order_id": "a"})", "m-small");
  h.Track("c1", "purchase", At(3 * kHour), R"({"amount": 30, "order_id": "b"})", "m-buy");
  h.Track("c1", "purchase", At(4 * kHour), R"({"amount": 30, "order_id": "c"})", "m-again");
  EXPECT_THAT(Sends(h), ElementsAre("rescue:s2:sent", "rescue:goal:converted:treatment"));
  const Decision& c = h.all().back();
  EXPECT_EQ(c.cause, "m-buy");
  EXPECT_EQ(c.id, "m-buy:rescue:goal:converted");
  EXPECT_EQ(c.at_us, At(3 * kHour));
  EXPECT_EQ(c.channel, "");
  EXPECT_THAT(c.ToJson(), HasSubstr(R"("outcome":"converted","arm":"treatment")"));
}

TEST(Goal, TheWindowIncludesItsLastMomentOnly) {
  EngineHarness h(P(kGoal));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value": 80})");
  h.Track("c2", "cart", At(0), R"({"value": 80})");
  h.Track("c1", "purchase", At(2 * kDay), R"({"amount": 30, "order_id": "a"})");
  h.Track("c2", "purchase", At(2 * kDay + kMs), R"({"amount": 30, "order_id": "b"})");
  std::vector<std::string> converted;
  for (const Decision& d : h.all()) {
    if (d.outcome == runtime::Outcome::kConverted) converted.push_back(d.customer);
  }
  EXPECT_THAT(converted, ElementsAre("c1"));
}

TEST(Goal, TheEnteringMessageNeverConvertsItself) {
  EngineHarness h(P(R"(
journey j {
  on purchase
  reenter always
  goal purchase within 1d
  send push "thanks"
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "purchase", At(0), R"({"amount": 5, "order_id": "a"})", "m1");
  EXPECT_THAT(Sends(h), ElementsAre("j:s1:sent"));
  // The next purchase converts the first entry, then enters again.
  h.Track("c1", "purchase", At(kHour), R"({"amount": 5, "order_id": "b"})", "m2");
  EXPECT_THAT(Sends(h), ElementsAre("j:s1:sent", "j:goal:converted:treatment", "j:s1:sent"));
}

TEST(Goal, ANewEntryReplacesAnOpenGoal) {
  EngineHarness h(P(kGoal));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value": 80})", "first");
  h.Track("c1", "cart", At(1 * kDay + 12 * kHour), R"({"value": 80})", "second");
  // 2.5 days after the first entry, 1 day after the second: the second converts.
  h.Track("c1", "purchase", At(2 * kDay + 12 * kHour), R"({"amount": 30, "order_id": "a"})");
  int conversions = 0;
  for (const Decision& d : h.all()) conversions += d.outcome == runtime::Outcome::kConverted;
  EXPECT_EQ(conversions, 1);
}

TEST(Goal, ConvertsAfterAnExitAndCountsTheControlArm) {
  EngineHarness h(P(R"(
journey j {
  on cart
  exit on unsubscribed
  goal purchase within 3d
  control
  wait 1d
  send push "later"
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value": 80})");
  h.Track("c1", "unsubscribed", At(kHour), "{}");
  h.Track("c1", "purchase", At(2 * kHour), R"({"amount": 1, "order_id": "a"})");
  EXPECT_THAT(Sends(h), ElementsAre("j:goal:converted:control"));
}

TEST(Goal, SurvivesASnapshotAndAReload) {
  EngineHarness h(P(kGoal));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value": 80})");
  std::string snapshot = h.engine().SaveSnapshot("p");
  EngineHarness fresh(P(kGoal));
  ASSERT_TRUE(fresh.ok());
  ASSERT_OK(fresh.engine().LoadSnapshot(snapshot));
  // (an id of its own: "auto-1" is the cart's, which the snapshot remembers)
  fresh.Track("c1", "purchase", At(3 * kHour), R"({"amount": 30, "order_id": "a"})", "after");
  EXPECT_THAT(Sends(fresh), ElementsAre("rescue:s2:sent", "rescue:goal:converted:treatment"));

  // A reload to a version that keeps the goal keeps the open goal; one without drops it.
  auto reload = [](EngineHarness& e, const std::string& source) {
    auto c = compiler::CompileSources({{"t.jny", source}}, compiler::CompileOptions{});
    ASSERT_TRUE(c->ok()) << c->FormatDiagnostics(compiler::DiagnosticFormat::kText);
    Collector ignored;
    EXPECT_OK(e.engine().Reload(*compiler::MakeInterpretedProgram(*c), ignored));
  };
  std::string nudge = kGoal;
  nudge.replace(nudge.find("reminder"), 8, "nudge");
  reload(h, P(nudge));
  h.Track("c1", "purchase", At(3 * kHour), R"({"amount": 30, "order_id": "a"})");
  EXPECT_EQ(Sends(h).back(), "rescue:goal:converted:treatment");

  EngineHarness dropped(P(kGoal));
  dropped.Track("c1", "cart", At(0), R"({"value": 80})");
  std::string no_goal = kGoal;
  no_goal.erase(no_goal.find("  goal"), no_goal.find("  wait") - no_goal.find("  goal"));
  reload(dropped, P(no_goal));
  dropped.Track("c1", "purchase", At(3 * kHour), R"({"amount": 30, "order_id": "a"})");
  EXPECT_THAT(Sends(dropped), ElementsAre("rescue:s2:sent"));
}

TEST(Goal, AReentryStartsAFreshArm) {
  // The first entry is held out; the second is not: its conversion is treatment.
  EngineHarness h(P(R"(
journey j {
  on cart
  reenter always
  goal purchase within 3d
  if event.value > 10 { control }
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value": 50})");
  h.Track("c1", "cart", At(kHour), R"({"value": 1})");
  h.Track("c1", "purchase", At(2 * kHour), R"({"amount": 1, "order_id": "a"})");
  EXPECT_THAT(Sends(h), ElementsAre("j:goal:converted:treatment"));
}

TEST(Goal, TheMessageThatExitsStillConvertsAndAControlReachedAfterAWaitCounts) {
  EngineHarness h(P(R"(
journey j {
  on cart
  exit on purchase
  goal purchase within 3d
  wait 1h
  control
  wait 1d
  send push "later"
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value": 80})");
  h.Track("c1", "purchase", At(2 * kHour), R"({"amount": 1, "order_id": "a"})", "buy");
  std::vector<std::string> all = h.Brief();
  EXPECT_THAT(Sends(h), ElementsAre("j:goal:converted:control"));
  // The same purchase exits the instance, after converting its goal.
  EXPECT_EQ(all.back(), "j:exit:exited");
  EXPECT_EQ(h.all()[h.all().size() - 2].outcome, runtime::Outcome::kConverted);
}

TEST(Goal, TheControlArmSurvivesASnapshot) {
  const char* program = R"(
journey j {
  on cart
  goal purchase within 3d
  control
  wait 1d
  send push "later"
}
)";
  EngineHarness h(P(program));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value": 80})");
  EngineHarness loaded(P(program));
  ASSERT_OK(loaded.engine().LoadSnapshot(h.engine().SaveSnapshot()));
  loaded.Track("c1", "purchase", At(2 * kHour), R"({"amount": 1, "order_id": "a"})", "after");
  loaded.Advance(At(2 * kDay));
  EXPECT_THAT(Sends(loaded), ElementsAre("j:goal:converted:control", "j:s3:control"));
}

// ---- deadlines -------------------------------------------------------------------------

TEST(Deadline, ASendLaterThanItsSignalIsLateBeforeAnyOtherGuardrail) {
  EngineHarness h(P(R"(
journey quick {
  on page_view
  reenter always
  deadline 2s
  send push "now"
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Identify("c1", At(-kHour), R"({"push_opt_in": false})");
  // Decided at its receivedAt, 5 s after its timestamp: late (consent not asked).
  h.Raw(R"({"type":"track","event":"page_view","messageId":"m1","userId":"c1",)"
        R"("timestamp":")" + Iso(At(0)) + R"(","receivedAt":")" + Iso(At(5 * kSecond)) +
        R"(","properties":{"path":"/x"}})");
  // 2 s after: on time (consent then says no).
  h.Raw(R"({"type":"track","event":"page_view","messageId":"m2","userId":"c1",)"
        R"("timestamp":")" + Iso(At(10 * kSecond)) + R"(","receivedAt":")" +
        Iso(At(12 * kSecond)) + R"(","properties":{"path":"/x"}})");
  EXPECT_THAT(Sends(h), ElementsAre("quick:s1:suppressed:late", "quick:s1:suppressed:consent"));
  EXPECT_EQ(h.all()[1].at_us, At(5 * kSecond));  // decided at receivedAt
}

TEST(Deadline, AfterAWaitTheSignalIsTheTimersTime) {
  EngineHarness h(P(R"(
journey slow {
  on cart
  deadline 1m
  wait 1h
  send push "later"
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value": 1})");
  h.Advance(At(2 * kHour));
  EXPECT_THAT(Sends(h), ElementsAre("slow:s2:sent"));
}

const char* kEvening = R"(
journey evening {
  on cart
  reenter always
  deadline 10m
  send inapp "hello"
}
)";

TEST(Deadline, AfterAWaitUntilTheSignalIsTheResumingEventOrTheTimeout) {
  EngineHarness h(P(R"(
journey j {
  on cart
  reenter always
  deadline 1m
  wait until purchase within 1h {
    send push "thanks"
  } else {
    send push "nudge"
  }
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value": 1})");
  h.Track("c2", "cart", At(0), R"({"value": 1})");
  h.Track("c3", "cart", At(0), R"({"value": 1})");
  // c1's purchase reaches us 5 minutes after it happened: its thank-you is late.
  h.Raw(R"({"type":"track","event":"purchase","messageId":"p1","userId":"c1","timestamp":")" +
        Iso(At(10 * kMinute)) + R"(","receivedAt":")" + Iso(At(15 * kMinute)) +
        R"(","properties":{"amount":1,"order_id":"a"}})");
  // c2's on time.
  h.Track("c2", "purchase", At(16 * kMinute), R"({"amount": 1, "order_id": "b"})");
  // c3 never buys: the nudge is signalled by the timeout itself, on time.
  h.Advance(At(2 * kHour));
  std::map<std::string, std::string> by;
  for (const Decision& d : h.actions()) by[d.customer] = d.template_name + ":" + std::string(runtime::ToString(d.outcome)) + runtime::ToString(d.reason);
  EXPECT_EQ(by["c1"], "thanks:suppressedlate");
  EXPECT_EQ(by["c2"], "thanks:sent");
  EXPECT_EQ(by["c3"], "nudge:sent");
}

TEST(Deadline, IsCheckedAgainWhenADeferredSendIsReleased) {
  EngineHarness h(P(kEvening));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", Time("2026-06-01T21:30:00Z"), R"({"value": 1})");
  h.Advance(Time("2026-06-02T12:00:00Z"));
  EXPECT_THAT(Sends(h), ElementsAre("evening:s1:deferred", "evening:s1:suppressed:late"));
  // And across a snapshot of the pending release.
  EngineHarness again(P(kEvening));
  again.Track("c1", "cart", Time("2026-06-01T21:30:00Z"), R"({"value": 1})");
  std::string snapshot = again.engine().SaveSnapshot();
  EngineHarness loaded(P(kEvening));
  ASSERT_OK(loaded.engine().LoadSnapshot(snapshot));
  loaded.Advance(Time("2026-06-02T12:00:00Z"));
  EXPECT_THAT(Sends(loaded), ElementsAre("evening:s1:suppressed:late"));
}

// ---- receivedAt --------------------------------------------------------------------------

TEST(ReceivedAt, IsTheDecisionTimeAndTheEventKeepsItsTimestamp) {
  EngineHarness h(P(R"(
journey j {
  on cart
  send push "p" { seen: event.time }
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Raw(R"({"type":"track","event":"cart","messageId":"m1","userId":"c1",)"
        R"("timestamp":"2026-06-01T12:00:00Z","receivedAt":"2026-06-01T12:00:03Z",)"
        R"("properties":{"value":1}})");
  ASSERT_THAT(Sends(h), ElementsAre("j:s1:sent"));
  EXPECT_EQ(h.all()[1].at_us, Time("2026-06-01T12:00:03Z"));
  EXPECT_THAT(h.all()[1].params_json, HasSubstr("2026-06-01T12:00:00.000Z"));
}

TEST(VirtualTime, AMessageDatedBeforeThePreviousDecisionIsDecidedAtThatDecisionsTime) {
  EngineHarness h(P(R"(
journey j {
  on cart
  reenter always
  send push "p"
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(10 * kMinute), R"({"value":1})");
  h.Track("c2", "cart", At(5 * kMinute), R"({"value":1})");  // older, arriving later
  ASSERT_THAT(Sends(h), ElementsAre("j:s1:sent", "j:s1:sent"));
  EXPECT_EQ(h.all()[4].at_us, At(10 * kMinute));
}

TEST(ReceivedAt, BeforeTheTimestampIsStillTheDecisionTimeAndNeverLate) {
  // A producer's clock ahead of the pipeline's: receivedAt before timestamp. The
  // message is decided at receivedAt; its signal (the timestamp) is then after the
  // decision, so no deadline can make it late.
  EngineHarness h(P(R"(
journey quick {
  on page_view
  reenter always
  deadline 1s
  send push "now" { seen: event.time }
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Raw(R"({"type":"track","event":"page_view","messageId":"m1","userId":"c1",)"
        R"("timestamp":"2026-06-01T12:00:10Z","receivedAt":"2026-06-01T12:00:00Z",)"
        R"("properties":{"path":"/x"}})");
  ASSERT_THAT(Sends(h), ElementsAre("quick:s1:sent"));
  const Decision& d = h.all()[1];
  EXPECT_EQ(d.at_us, Time("2026-06-01T12:00:00Z"));
  EXPECT_EQ(d.signal_us, Time("2026-06-01T12:00:10Z"));
  EXPECT_THAT(d.params_json, HasSubstr("12:00:10.000Z"));
}

TEST(ReceivedAt, ABadOneIsADeadLetterWithItsReason) {
  EngineHarness h(P(R"(
journey j {
  on cart
  send push "p"
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Raw(R"({"type":"track","event":"cart","messageId":"m1","userId":"c1",)"
        R"("timestamp":"2026-06-01T12:00:00Z","receivedAt":"soon","properties":{"value":1}})");
  h.Raw(R"({"type":"track","event":"cart","messageId":"m2","userId":"c1",)"
        R"("timestamp":"2026-06-01T12:00:00Z","receivedAt":5,"properties":{"value":1}})");
  EXPECT_THAT(h.all(), IsEmpty());
  ASSERT_EQ(h.dead_letters().size(), 2u);
  EXPECT_EQ(h.dead_letters()[0].second, "receivedAt 'soon' is not ISO-8601");
  EXPECT_EQ(h.dead_letters()[1].second, "receivedAt must be a string, got number");
}

// ---- stdlib v1.1: dates, string(), date-only values, unknown zones ----------------------

TEST(StdlibInJourneys, DatesStringsAndDateOnlyTraits) {
  EngineHarness h(P(R"(
profile { birthday: time? }
journey birthday {
  on app_open
  reenter always
  eligible month(profile.birthday ?? now) == month(now)
       and day_of_month(profile.birthday ?? now) == day_of_month(now)
       and has(profile.birthday)
  send push "happy" { age: string(year(now) - year(profile.birthday ?? now)),
                      early: string(day_of_month(now, "Asia/Tokyo") != day_of_month(now)),
                      ratio: string(2.5) }
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Identify("c1", At(-kDay), R"({"birthday": "1990-06-01"})");
  h.Track("c1", "app_open", At(0), "{}");  // 2026-06-01 12:00 UTC
  h.Identify("c2", At(-kDay), R"({"birthday": "1990-06-02"})");
  h.Track("c2", "app_open", At(0), "{}");
  ASSERT_THAT(Sends(h), ElementsAre("birthday:s1:sent"));
  EXPECT_EQ(h.all()[1].customer, "c1");
  // Noon UTC is 21:00 in Tokyo: the same day there.
  EXPECT_EQ(h.all()[1].params_json, R"({"age":"36","early":"false","ratio":"2.5"})");
  // At 20:00 UTC it is already the next day in Tokyo.
  h.Track("c1", "app_open", At(8 * kHour), "{}");
  EXPECT_THAT(h.actions().back().params_json, HasSubstr(R"("early":"true")"));
  // A date that does not exist is not a time.
  h.Identify("c3", At(kHour), R"({"birthday": "1990-02-30"})");
  ASSERT_EQ(h.dead_letters().size(), 1u);
  EXPECT_THAT(h.dead_letters()[0].second, HasSubstr("birthday"));
}

TEST(StdlibInJourneys, AnUnknownProfileZoneIsUtcAndCountedOncePerCustomer) {
  EngineHarness h(P(R"(
journey j {
  on app_open
  reenter always
  send push "p" { hour: hour_of_day() }
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Identify("c1", At(-kDay), R"({"timezone": "Mars/Olympus"})");
  h.Identify("c1", At(-kHour), R"({"timezone": "Venus/Maxwell", "country": "US"})");
  h.Identify("c2", At(-kHour), R"({"timezone": "Europe/Berlin"})");
  h.Track("c1", "app_open", At(0), "{}");
  EXPECT_EQ(h.all()[1].params_json, R"({"hour":12})");  // UTC
  EXPECT_EQ(h.engine().stats().unknown_timezones, 1u);
  // Kept across a snapshot: not counted again.
  std::string snapshot = h.engine().SaveSnapshot();
  EngineHarness again(P(R"(
journey j {
  on app_open
  reenter always
  send push "p" { hour: hour_of_day() }
}
)"));
  ASSERT_OK(again.engine().LoadSnapshot(snapshot));
  again.Identify("c1", At(kHour), R"({"timezone": "Jupiter/Io"})");
  EXPECT_EQ(again.engine().stats().unknown_timezones, 1u);
  again.Identify("c9", At(kHour), R"({"timezone": "Jupiter/Io"})");  // another customer
  EXPECT_EQ(again.engine().stats().unknown_timezones, 2u);
}

}  // namespace
}  // namespace juncture::enginetest
