// LANGUAGE.md §2/§5/§6 guardrails: consent, caps (rolling, per customer and channel,
// across journeys, counting `sent` only), quiet hours (UTC or local, wrap midnight,
// daylight-saving changes, defer vs drop), and releases that re-check every guardrail.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine_test_util.h"

namespace juncture::enginetest {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string P(const std::string& channels_and_journeys) {
  return std::string(kBase) + channels_and_journeys;
}

// ---- consent -------------------------------------------------------------------------

TEST(Consent, FalseSuppressesWithReasonConsent) {
  EngineHarness h(P(R"(
channel email { consent profile.email_opt_in }
journey j { on cart  reenter always  send email "hi" }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Identify("c1", At(0), R"({"email_opt_in":false})");
  h.Track("c1", "cart", At(1), R"({"value":1})");
  h.Identify("c1", At(2), R"({"email_opt_in":true})");
  h.Track("c1", "cart", At(3), R"({"value":1})");
  EXPECT_THAT(h.BriefActions(), ElementsAre("j:s1:suppressed:consent", "j:s1:sent"));
  EXPECT_THAT(h.actions()[0].ToJson(), HasSubstr(R"("outcome":"suppressed","reason":"consent")"));
}

TEST(Consent, ChannelWithoutConsentClauseAlwaysAllows) {
  EngineHarness h(P(R"(
channel webhook { }
journey j { on cart  send webhook "hook" }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})");
  EXPECT_THAT(h.BriefActions(), ElementsAre("j:s1:sent"));
}

// ---- caps ----------------------------------------------------------------------------

const char* kCapped = R"(
channel push { consent profile.push_opt_in  cap 2 per 1h }
channel email { consent true }
journey a { on app_open  reenter always  send push "a" }
journey b { on page_view  reenter always  send push "b" }
journey e { on purchase  reenter always  send email "e" }
)";

TEST(Caps, SuppressBeyondTheCountInARollingWindow) {
  EngineHarness h(P(kCapped));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "app_open", At(0));
  h.Track("c1", "app_open", At(10 * kMinute));
  h.Track("c1", "app_open", At(20 * kMinute));
  h.Track("c1", "app_open", At(59 * kMinute));
  EXPECT_THAT(h.BriefActions(),
              ElementsAre("a:s1:sent", "a:s1:sent", "a:s1:suppressed:cap", "a:s1:suppressed:cap"));
}

TEST(Caps, WindowIsHalfOpenASendExactlyPerAgoNoLongerCounts) {
  // docs/semantics.md: caps count sends in (at - per, at].
  EngineHarness h(P(kCapped));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "app_open", At(0));
  h.Track("c1", "app_open", At(10 * kMinute));
  h.Track("c1", "app_open", At(kHour - kMs));
  h.Track("c1", "app_open", At(kHour));
  h.Track("c1", "app_open", At(kHour + kMs));
  EXPECT_THAT(h.BriefActions(), ElementsAre("a:s1:sent", "a:s1:sent", "a:s1:suppressed:cap",
                                            "a:s1:sent", "a:s1:suppressed:cap"));
}

TEST(Caps, AreSharedAcrossJourneysOfTheChannel) {
  EngineHarness h(P(kCapped));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "app_open", At(0));
  h.Track("c1", "page_view", At(kMinute), R"({"path":"/"})");
  h.Track("c1", "app_open", At(2 * kMinute));
  h.Track("c1", "page_view", At(3 * kMinute), R"({"path":"/"})");
  h.Track("c1", "purchase", At(4 * kMinute), R"({"amount":1,"order_id":"x"})");  // other channel
  EXPECT_THAT(h.BriefActions(), ElementsAre("a:s1:sent", "b:s1:sent", "a:s1:suppressed:cap",
                                            "b:s1:suppressed:cap", "e:s1:sent"));
}

TEST(Caps, ArePerCustomer) {
  EngineHarness h(P(kCapped));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "app_open", At(0));
  h.Track("c1", "app_open", At(1));
  h.Track("c2", "app_open", At(2));
  EXPECT_THAT(h.BriefActions(), ElementsAre("a:s1:sent", "a:s1:sent", "a:s1:sent"));
}

TEST(Caps, CountSentDecisionsOnly) {
  EngineHarness h(P(kCapped));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Identify("c1", At(0), R"({"push_opt_in":false})");
  h.Track("c1", "app_open", At(1));
  h.Track("c1", "app_open", At(2));
  h.Track("c1", "app_open", At(3));
  h.Identify("c1", At(4), R"({"push_opt_in":true})");
  h.Track("c1", "app_open", At(5));
  h.Track("c1", "app_open", At(6));
  h.Track("c1", "app_open", At(7));
  EXPECT_THAT(h.BriefActions(),
              ElementsAre("a:s1:suppressed:consent", "a:s1:suppressed:consent",
                          "a:s1:suppressed:consent", "a:s1:sent", "a:s1:sent",
                          "a:s1:suppressed:cap"));
}

// ---- quiet hours ---------------------------------------------------------------------

const char* kQuietUtc = R"(
channel email { consent profile.email_opt_in  quiet 21:00 .. 08:00 }
journey j { on cart  reenter always  send email "hi" { value: event.value } }
)";

TEST(QuietHours, InsideDefersToTheWindowsEndAndReleases) {
  EngineHarness h(P(kQuietUtc));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Identify("c1", Time("2026-06-01T00:00:00Z"), R"({"timezone":"America/New_York"})");
  // Without `local` the window is UTC, whatever the customer's time zone.
  h.Track("c1", "cart", Time("2026-06-01T22:30:00Z"), R"({"value":9})", "m-1");
  ASSERT_THAT(h.BriefActions(), ElementsAre("j:s1:deferred"));
  const Decision deferred = h.actions()[0];
  EXPECT_EQ(deferred.until_us, Time("2026-06-02T08:00:00Z"));
  EXPECT_EQ(deferred.id, "m-1:j:s1");
  EXPECT_THAT(deferred.ToJson(), HasSubstr(R"("outcome":"deferred","until":"2026-06-02T08:00:00.000Z")"));
  h.Advance(Time("2026-06-02T07:59:59Z"));
  EXPECT_EQ(h.actions().size(), 1u);
  h.Advance(Time("2026-06-02T08:00:00Z"));
  ASSERT_THAT(h.BriefActions(), ElementsAre("j:s1:deferred", "j:s1:sent"));
  const Decision release = h.actions()[1];
  EXPECT_EQ(release.id, "m-1:j:s1:release");
  EXPECT_EQ(release.at_us, Time("2026-06-02T08:00:00Z"));
  EXPECT_EQ(release.cause, "m-1");
  EXPECT_EQ(release.params_json, R"({"value":9})");  // a release keeps its params
  EXPECT_EQ(release.template_name, "hi");
  EXPECT_EQ(release.channel, "email");
  EXPECT_THAT(release.ToJson(), ::testing::Not(HasSubstr("until")));
}

TEST(QuietHours, WindowIsStartInclusiveEndExclusive) {
  EngineHarness h(P(kQuietUtc));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("a", "cart", Time("2026-06-01T20:59:59Z"), R"({"value":1})");
  h.Track("b", "cart", Time("2026-06-01T21:00:00Z"), R"({"value":1})");
  h.Track("c", "cart", Time("2026-06-02T00:00:00Z"), R"({"value":1})");
  h.Track("d", "cart", Time("2026-06-02T07:59:00Z"), R"({"value":1})");
  h.Track("e", "cart", Time("2026-06-02T08:00:00Z"), R"({"value":1})");
  std::vector<std::string> outcomes;
  for (const Decision& d : h.actions()) {
    if (d.id.find(":release") == std::string::npos) outcomes.push_back(d.customer + std::string(":") + runtime::ToString(d.outcome));
  }
  EXPECT_THAT(outcomes, ElementsAre("a:sent", "b:deferred", "c:deferred", "d:deferred", "e:sent"));
}

TEST(QuietHours, AWindowThatDoesNotWrapMidnight) {
  EngineHarness h(P(R"(
channel email { consent true  quiet 01:00 .. 05:00 }
journey j { on cart  reenter always  send email "hi" }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", Time("2026-06-01T00:59:00Z"), R"({"value":1})");
  h.Track("c1", "cart", Time("2026-06-01T03:00:00Z"), R"({"value":1})");
  h.Track("c1", "cart", Time("2026-06-01T23:00:00Z"), R"({"value":1})");
  std::vector<std::string> outcomes;
  for (const Decision& d : h.actions()) outcomes.push_back(runtime::ToString(d.outcome));
  EXPECT_THAT(outcomes, ElementsAre("sent", "deferred", "sent", "sent"));
  EXPECT_EQ(h.actions()[1].until_us, Time("2026-06-01T05:00:00Z"));
}

TEST(QuietHours, DropSuppressesWithReasonQuiet) {
  EngineHarness h(P(R"(
channel sms { consent true  quiet 21:00 .. 08:00 drop }
journey j { on cart  send sms "hi" }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", Time("2026-06-01T23:00:00Z"), R"({"value":1})");
  h.Advance(Time("2026-06-03T00:00:00Z"));
  EXPECT_THAT(h.BriefActions(), ElementsAre("j:s1:suppressed:quiet"));
}

const char* kQuietLocal = R"(
channel email { consent profile.email_opt_in  quiet 21:00 .. 08:00 local }
journey j { on cart  reenter always  send email "hi" }
)";

TEST(QuietHours, LocalUsesTheCustomersTimeZone) {
  EngineHarness h(P(kQuietLocal));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Identify("tokyo", At(0), R"({"timezone":"Asia/Tokyo"})");
  h.Identify("la", At(0), R"({"timezone":"America/Los_Angeles"})");
  // 18:00 UTC = 03:00 in Tokyo (quiet), 11:00 in Los Angeles, 18:00 UTC.
  int64_t t = Time("2026-06-01T18:00:00Z");
  h.Track("tokyo", "cart", t, R"({"value":1})");
  h.Track("la", "cart", t, R"({"value":1})");
  h.Track("utc", "cart", t, R"({"value":1})");
  ASSERT_EQ(h.actions().size(), 3u);
  EXPECT_EQ(h.actions()[0].outcome, runtime::Outcome::kDeferred);
  EXPECT_EQ(h.actions()[0].until_us, Time("2026-06-01T23:00:00Z"));  // 08:00 JST
  EXPECT_EQ(h.actions()[1].outcome, runtime::Outcome::kSent);
  EXPECT_EQ(h.actions()[2].outcome, runtime::Outcome::kSent);
  // 05:00 UTC = 22:00 PDT: quiet until 08:00 PDT = 15:00 UTC.
  h.Track("la", "cart", Time("2026-06-02T05:00:00Z"), R"({"value":1})");
  EXPECT_EQ(h.actions().back().outcome, runtime::Outcome::kDeferred);
  EXPECT_EQ(h.actions().back().until_us, Time("2026-06-02T15:00:00Z"));
}

TEST(QuietHours, UnknownTimeZoneMeansUtc) {
  EngineHarness h(P(kQuietLocal));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Identify("c1", At(0), R"({"timezone":"Mars/Olympus_Mons"})");
  h.Identify("c2", At(0), R"({"timezone":"../../etc/passwd"})");
  h.Track("c1", "cart", Time("2026-06-01T22:00:00Z"), R"({"value":1})");
  h.Track("c2", "cart", Time("2026-06-01T22:00:00Z"), R"({"value":1})");
  ASSERT_EQ(h.actions().size(), 2u);
  EXPECT_EQ(h.actions()[0].until_us, Time("2026-06-02T08:00:00Z"));
  EXPECT_EQ(h.actions()[1].until_us, Time("2026-06-02T08:00:00Z"));
}

// Europe/Berlin springs forward on 2026-03-29: 02:00 CET becomes 03:00 CEST.
TEST(QuietHoursDst, BerlinSpringForwardEndsAtLocalEightInSummerTime) {
  EngineHarness h(P(kQuietLocal));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Identify("c1", Time("2026-03-28T00:00:00Z"), R"({"timezone":"Europe/Berlin"})");
  h.Track("c1", "cart", Time("2026-03-28T21:30:00Z"), R"({"value":1})");  // 22:30 CET
  ASSERT_EQ(h.actions().size(), 1u);
  EXPECT_EQ(h.actions()[0].outcome, runtime::Outcome::kDeferred);
  EXPECT_EQ(Iso(h.actions()[0].until_us), "2026-03-29T06:00:00.000Z");  // 08:00 CEST
  h.Advance(Time("2026-03-29T06:00:00Z"));
  EXPECT_EQ(Brief(h.actions().back()), "j:s1:sent");
  EXPECT_EQ(h.actions().back().at_us, Time("2026-03-29T06:00:00Z"));
}

TEST(QuietHoursDst, BerlinQuietStartFollowsTheNewOffset) {
  EngineHarness h(P(kQuietLocal));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Identify("c1", Time("2026-03-28T00:00:00Z"), R"({"timezone":"Europe/Berlin"})");
  h.Track("c1", "cart", Time("2026-03-28T19:30:00Z"), R"({"value":1})");  // 20:30 CET: open
  h.Track("c1", "cart", Time("2026-03-29T19:30:00Z"), R"({"value":1})");  // 21:30 CEST: quiet
  ASSERT_EQ(h.actions().size(), 2u);
  EXPECT_EQ(h.actions()[0].outcome, runtime::Outcome::kSent);
  EXPECT_EQ(h.actions()[1].outcome, runtime::Outcome::kDeferred);
  EXPECT_EQ(Iso(h.actions()[1].until_us), "2026-03-30T06:00:00.000Z");
}

TEST(QuietHoursDst, AnEndInsideTheSpringGapMovesToTheFirstInstantAfterIt) {
  EngineHarness h(P(R"(
channel email { consent true  quiet 01:00 .. 02:30 local }
journey j { on cart  send email "hi" }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Identify("c1", Time("2026-03-28T00:00:00Z"), R"({"timezone":"Europe/Berlin"})");
  h.Track("c1", "cart", Time("2026-03-29T00:15:00Z"), R"({"value":1})");  // 01:15 CET
  ASSERT_EQ(h.actions().size(), 1u);
  EXPECT_EQ(h.actions()[0].outcome, runtime::Outcome::kDeferred);
  // 02:30 does not exist that night: 03:00 CEST = 01:00 UTC.
  EXPECT_EQ(Iso(h.actions()[0].until_us), "2026-03-29T01:00:00.000Z");
  h.Advance(Time("2026-03-29T01:00:00Z"));
  EXPECT_EQ(Brief(h.actions().back()), "j:s1:sent");
}

// America/New_York falls back on 2026-11-01: 02:00 EDT becomes 01:00 EST.
TEST(QuietHoursDst, NewYorkFallBackEndsAtLocalEightInStandardTime) {
  EngineHarness h(P(kQuietLocal));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Identify("c1", Time("2026-10-31T00:00:00Z"), R"({"timezone":"America/New_York"})");
  h.Track("c1", "cart", Time("2026-11-01T02:00:00Z"), R"({"value":1})");  // 22:00 EDT Oct 31
  ASSERT_EQ(h.actions().size(), 1u);
  EXPECT_EQ(h.actions()[0].outcome, runtime::Outcome::kDeferred);
  EXPECT_EQ(Iso(h.actions()[0].until_us), "2026-11-01T13:00:00.000Z");  // 08:00 EST
  h.Advance(Time("2026-11-01T12:59:59Z"));
  EXPECT_EQ(h.actions().size(), 1u);
  h.Advance(Time("2026-11-01T13:00:00Z"));
  EXPECT_EQ(Brief(h.actions().back()), "j:s1:sent");
}

TEST(QuietHoursDst, NewYorkQuietStartAfterFallBackUsesStandardTime) {
  EngineHarness h(P(kQuietLocal));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Identify("c1", Time("2026-10-31T00:00:00Z"), R"({"timezone":"America/New_York"})");
  h.Track("c1", "cart", Time("2026-11-01T01:30:00Z"), R"({"value":1})");  // 21:30 EDT: quiet
  h.Track("c1", "cart", Time("2026-11-02T01:30:00Z"), R"({"value":1})");  // 20:30 EST: open
  ASSERT_GE(h.actions().size(), 2u);
  EXPECT_EQ(h.actions()[0].outcome, runtime::Outcome::kDeferred);
  EXPECT_EQ(Iso(h.actions()[0].until_us), "2026-11-01T13:00:00.000Z");
  EXPECT_EQ(h.actions().back().outcome, runtime::Outcome::kSent);
  EXPECT_EQ(h.actions().back().at_us, Time("2026-11-02T01:30:00Z"));
}

TEST(QuietHoursDst, ARepeatedLocalEndTimeReleasesAtItsFirstOccurrence) {
  // Spec-silent: 01:30 happens twice on 2026-11-01 in New York; the engine releases at
  // the first (EDT) one.
  EngineHarness h(P(R"(
channel email { consent true  quiet 00:00 .. 01:30 local }
journey j { on cart  send email "hi" }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Identify("c1", Time("2026-10-31T00:00:00Z"), R"({"timezone":"America/New_York"})");
  h.Track("c1", "cart", Time("2026-11-01T04:15:00Z"), R"({"value":1})");  // 00:15 EDT
  ASSERT_EQ(h.actions().size(), 1u);
  EXPECT_EQ(Iso(h.actions()[0].until_us), "2026-11-01T05:30:00.000Z");  // 01:30 EDT
}

// ---- releases ------------------------------------------------------------------------

TEST(Release, RechecksConsentWithTheProfileUpdatedInBetween) {
  EngineHarness h(P(kQuietUtc));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", Time("2026-06-01T22:00:00Z"), R"({"value":1})", "m-1");
  h.Identify("c1", Time("2026-06-01T23:00:00Z"), R"({"email_opt_in":false})");
  h.Advance(Time("2026-06-02T09:00:00Z"));
  ASSERT_THAT(h.BriefActions(), ElementsAre("j:s1:deferred", "j:s1:suppressed:consent"));
  EXPECT_EQ(h.actions()[1].id, "m-1:j:s1:release");
  EXPECT_EQ(h.actions()[1].at_us, Time("2026-06-02T08:00:00Z"));
}

TEST(Release, RechecksTheCap) {
  EngineHarness h(P(R"(
channel email { consent true  quiet 21:00 .. 08:00  cap 1 per 1d }
journey a { on cart  send email "a" }
journey b { on purchase  send email "b" }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  // Two deferrals from two messages (no arbitration); both are released at 08:00.
  h.Track("c1", "cart", Time("2026-06-01T22:00:00Z"), R"({"value":1})");
  h.Track("c1", "purchase", Time("2026-06-01T23:00:00Z"), R"({"amount":1,"order_id":"o"})");
  h.Advance(Time("2026-06-02T09:00:00Z"));
  EXPECT_THAT(h.BriefActions(), ElementsAre("a:s1:deferred", "b:s1:deferred", "a:s1:sent",
                                            "b:s1:suppressed:cap"));
}

TEST(Release, ReleasedSendsCountTowardTheCap) {
  EngineHarness h(P(R"(
channel email { consent true  quiet 21:00 .. 08:00  cap 1 per 1d }
journey a { on cart  reenter always  send email "a" }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", Time("2026-06-01T22:00:00Z"), R"({"value":1})");
  h.Track("c1", "cart", Time("2026-06-02T09:00:00Z"), R"({"value":1})");
  EXPECT_THAT(h.BriefActions(),
              ElementsAre("a:s1:deferred", "a:s1:sent", "a:s1:suppressed:cap"));
}

TEST(Release, DeferredSendsDoNotCountTowardTheCapUntilReleased) {
  EngineHarness h(P(R"(
channel email { consent true  quiet 21:00 .. 08:00  cap 1 per 1d }
journey a { on cart  reenter always  send email "a" }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", Time("2026-06-01T22:00:00Z"), R"({"value":1})");
  h.Track("c1", "cart", Time("2026-06-01T22:30:00Z"), R"({"value":1})");
  EXPECT_THAT(h.BriefActions(), ElementsAre("a:s1:deferred", "a:s1:deferred"));
}

TEST(Release, StillQuietAfterATimeZoneChangeIsDeferredAgainWithoutADecision) {
  EngineHarness h(P(kQuietLocal));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", Time("2026-06-01T22:00:00Z"), R"({"value":1})", "m-1");  // UTC customer
  ASSERT_EQ(h.actions().size(), 1u);
  EXPECT_EQ(h.actions()[0].until_us, Time("2026-06-02T08:00:00Z"));
  h.Identify("c1", Time("2026-06-01T23:00:00Z"), R"({"timezone":"America/Los_Angeles"})");
  h.Advance(Time("2026-06-02T08:00:00Z"));  // 01:00 PDT: still quiet
  EXPECT_EQ(h.actions().size(), 1u);
  h.Advance(Time("2026-06-02T15:00:00Z"));  // 08:00 PDT
  ASSERT_THAT(h.BriefActions(), ElementsAre("j:s1:deferred", "j:s1:sent"));
  EXPECT_EQ(h.actions()[1].id, "m-1:j:s1:release");
  EXPECT_EQ(h.actions()[1].at_us, Time("2026-06-02T15:00:00Z"));
}

TEST(Release, ADeferredSendIsReleasedEvenAfterItsJourneyExited) {
  // docs/semantics.md: a deferral belongs to the decision that made it; an exit does not
  // cancel it (consent, re-checked at release, is what stops it).
  EngineHarness h(P(R"(
channel email { consent profile.email_opt_in  quiet 21:00 .. 08:00 }
journey j { on cart  exit on unsubscribed  send email "hi"  wait 1d  send email "later" }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", Time("2026-06-01T22:00:00Z"), R"({"value":1})", "m-1");
  h.Track("c1", "unsubscribed", Time("2026-06-01T23:00:00Z"));
  h.Track("c2", "cart", Time("2026-06-01T22:00:00Z"), R"({"value":1})", "m-2");
  h.Track("c2", "unsubscribed", Time("2026-06-01T23:00:00Z"));
  h.Identify("c2", Time("2026-06-01T23:00:00Z"), R"({"email_opt_in":false})");
  h.Advance(Time("2026-06-03T00:00:00Z"));
  std::vector<std::string> c1, c2;
  for (const Decision& d : h.ForCustomer("c1")) c1.push_back(Brief(d));
  for (const Decision& d : h.ForCustomer("c2")) c2.push_back(Brief(d));
  EXPECT_THAT(c1, ElementsAre("j:entry:entered", "j:s1:deferred", "j:exit:exited", "j:s1:sent"));
  EXPECT_THAT(c2, ElementsAre("j:entry:entered", "j:s1:deferred", "j:exit:exited",
                              "j:s1:suppressed:consent"));
}

// ---- the order of the checks ---------------------------------------------------------

TEST(GuardrailOrder, ConsentBeforeCapBeforeQuiet) {
  EngineHarness h(P(R"(
channel email { consent profile.email_opt_in  quiet 21:00 .. 08:00  cap 1 per 1d }
journey a { on cart  reenter always  send email "a" }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", Time("2026-06-01T12:00:00Z"), R"({"value":1})");  // sent: cap is full
  h.Track("c1", "cart", Time("2026-06-01T22:00:00Z"), R"({"value":1})");  // quiet + cap
  h.Identify("c1", Time("2026-06-01T22:10:00Z"), R"({"email_opt_in":false})");
  h.Track("c1", "cart", Time("2026-06-01T22:20:00Z"), R"({"value":1})");  // quiet + cap + consent
  EXPECT_THAT(h.BriefActions(),
              ElementsAre("a:s1:sent", "a:s1:suppressed:cap", "a:s1:suppressed:consent"));
}

TEST(GuardrailOrder, ConsentBeforeQuiet) {
  EngineHarness h(P(kQuietUtc));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Identify("c1", At(0), R"({"email_opt_in":false})");
  h.Track("c1", "cart", Time("2026-06-01T22:00:00Z"), R"({"value":1})");
  h.Advance(Time("2026-06-02T12:00:00Z"));
  EXPECT_THAT(h.BriefActions(), ElementsAre("j:s1:suppressed:consent"));
}

}  // namespace
}  // namespace juncture::enginetest
