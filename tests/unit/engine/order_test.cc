// LANGUAGE.md §6: within one message, exits, then resumed instances, then new entries
// (priority descending, then name); a customer already in a journey does not enter it
// again; arbitration between journeys sending on one channel for one customer in one
// message. And §3's `reenter` modes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "engine_test_util.h"

namespace juncture::enginetest {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string P(const std::string& channels_and_journeys) {
  return std::string(kBase) + channels_and_journeys;
}

const char* kOpenChannels = R"(
channel email { consent true }
channel push { consent true }
channel webhook { consent true }
)";

// ---- order within a message ----------------------------------------------------------

TEST(MessageOrder, ExitsThenResumesThenEntriesWhateverThePriorities) {
  EngineHarness h(P(std::string(kOpenChannels) + R"(
journey z_exit   { priority 0    on cart  exit on purchase  wait 1d  send push "never" }
journey y_resume { priority 1    on cart  wait until purchase within 1d { send webhook "thanks" } }
journey a_enter  { priority 100  on purchase  send email "receipt" }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})");
  h.Clear();
  h.Track("c1", "purchase", At(kMinute), R"({"amount":1,"order_id":"o"})");
  EXPECT_THAT(h.Brief(), ElementsAre("z_exit:exit:exited", "y_resume:s2:sent",
                                     "y_resume:end:completed", "a_enter:entry:entered",
                                     "a_enter:s1:sent", "a_enter:end:completed"));
  h.Advance(At(2 * kDay));
  EXPECT_EQ(h.all().size(), 6u);  // the exited instance's timer was dropped
}

TEST(MessageOrder, AnExitBeatsAWaitUntilOnTheSameEvent) {
  EngineHarness h(P(std::string(kOpenChannels) + R"(
journey j {
  on cart
  exit on purchase when event.amount > 10
  wait until purchase within 1d { send push "thanks" } else { send push "late" }
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})");
  h.Track("c2", "cart", At(0), R"({"value":1})");
  h.Track("c1", "purchase", At(kMinute), R"({"amount":50,"order_id":"o"})");
  h.Track("c2", "purchase", At(kMinute), R"({"amount":5,"order_id":"o"})");
  h.Advance(At(2 * kDay));
  std::vector<std::string> c1, c2;
  for (const Decision& d : h.ForCustomer("c1")) c1.push_back(Brief(d));
  for (const Decision& d : h.ForCustomer("c2")) c2.push_back(Brief(d));
  EXPECT_THAT(c1, ElementsAre("j:entry:entered", "j:exit:exited"));
  EXPECT_THAT(c2, ElementsAre("j:entry:entered", "j:s2:sent", "j:end:completed"));
}

TEST(MessageOrder, ExitPredicatesSeeTheMessageInItsWindows) {
  EngineHarness h(P(std::string(kOpenChannels) + R"(
journey j {
  on cart
  exit on page_view when count(page_view within 1h) >= 2
  wait 1d
  send push "x"
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})");
  h.Track("c1", "page_view", At(kMinute), R"({"path":"/"})");
  EXPECT_EQ(h.all().size(), 1u);
  h.Track("c1", "page_view", At(2 * kMinute), R"({"path":"/"})");
  EXPECT_EQ(Brief(h.all().back()), "j:exit:exited");
}

TEST(MessageOrder, AnExitedCustomerMayReenterOnTheSameMessageWhenReenterAllows) {
  // Spec-silent: entries come after exits, so a message that ends the instance and is
  // also a trigger starts a new one under `reenter always` (the customer is no longer
  // "already in" the journey when entries are considered).
  EngineHarness h(P(std::string(kOpenChannels) + R"(
journey j { on cart  reenter always  exit on cart when event.value > 100  wait 1d  send push "x" }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})", "m-1");
  h.Track("c1", "cart", At(kMinute), R"({"value":500})", "m-2");
  EXPECT_THAT(h.Brief(), ElementsAre("j:entry:entered", "j:exit:exited", "j:entry:entered"));
  EXPECT_EQ(h.all()[2].id, "m-2:j:entry:entered");
}

TEST(MessageOrder, EntriesInDescendingPriorityThenAscendingName) {
  EngineHarness h(P(std::string(kOpenChannels) + R"(
journey zeta  { priority 10  on app_open  control }
journey mid   { priority 5   on app_open  control }
journey alpha { priority 10  on app_open  control }
journey low   {              on app_open  control }
journey neg   { priority -3  on app_open  control }
journey hi    { priority 20  on app_open  control }
journey beta  { priority 10  on app_open  control }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "app_open", At(0));
  std::vector<std::string> entered;
  for (const Decision& d : h.all()) {
    if (d.outcome == runtime::Outcome::kEntered) entered.push_back(d.journey);
  }
  EXPECT_THAT(entered, ElementsAre("hi", "alpha", "beta", "zeta", "mid", "low", "neg"));
}

TEST(MessageOrder, ACustomerAlreadyInAJourneyDoesNotEnterAgainEvenWithReenterAlways) {
  EngineHarness h(P(std::string(kOpenChannels) + R"(
journey j { on cart  reenter always  send push "hi"  wait 1h  send push "bye" }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})");
  h.Track("c1", "cart", At(10 * kMinute), R"({"value":1})");
  h.Track("c1", "cart", At(50 * kMinute), R"({"value":1})");
  EXPECT_THAT(h.Brief(), ElementsAre("j:entry:entered", "j:s1:sent"));
  h.Track("c1", "cart", At(kHour), R"({"value":1})");  // the wait ends first, then a new entry
  EXPECT_THAT(h.Brief(), ElementsAre("j:entry:entered", "j:s1:sent", "j:s3:sent",
                                     "j:end:completed", "j:entry:entered", "j:s1:sent"));
}

TEST(MessageOrder, AnIdentifyRunsNoJourneyStep) {
  EngineHarness h(P(std::string(kOpenChannels) + R"(
journey j { on cart  wait until purchase within 1d { send push "x" } }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})");
  h.Identify("c1", At(kMinute), R"({"tier":"gold"})");
  EXPECT_EQ(h.all().size(), 1u);
}

// ---- arbitration ---------------------------------------------------------------------

TEST(Arbitration, HigherPriorityKeepsTheChannelOthersAreSuppressed) {
  EngineHarness h(P(std::string(kOpenChannels) + R"(
journey lo  { priority 1   on cart  send email "lo" }
journey hi  { priority 10  on cart  send email "hi" }
journey mid { priority 5   on cart  send email "mid" }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})", "m-1");
  EXPECT_THAT(h.BriefActions(), ElementsAre("hi:s1:sent", "mid:s1:suppressed:arbitration",
                                            "lo:s1:suppressed:arbitration"));
  EXPECT_EQ(h.actions()[1].id, "m-1:mid:s1");
}

TEST(Arbitration, EqualPrioritiesGoByAscendingName) {
  EngineHarness h(P(std::string(kOpenChannels) + R"(
journey banana { on cart  send email "b" }
journey apple  { on cart  send email "a" }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})");
  EXPECT_THAT(h.BriefActions(), ElementsAre("apple:s1:sent", "banana:s1:suppressed:arbitration"));
}

TEST(Arbitration, OnlyTheSameChannelAndTheSameCustomerCompete) {
  EngineHarness h(P(std::string(kOpenChannels) + R"(
journey hi { priority 10  on cart  send email "hi" }
journey lo { priority 1   on cart  send push "lo" }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})");
  h.Track("c2", "cart", At(0), R"({"value":1})");
  EXPECT_THAT(h.BriefActions(), ElementsAre("hi:s1:sent", "lo:s1:sent", "hi:s1:sent", "lo:s1:sent"));
}

TEST(Arbitration, TwoSendsOfTheSameJourneyDoNotArbitrate) {
  EngineHarness h(P(std::string(kOpenChannels) + R"(
journey j { on cart  send email "one"  send email "two" }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})");
  EXPECT_THAT(h.BriefActions(), ElementsAre("j:s1:sent", "j:s2:sent"));
}

TEST(Arbitration, AResumedLowerPrioritySendLosesToAHigherPriorityEntry) {
  EngineHarness h(P(std::string(kOpenChannels) + R"(
journey lo { priority 1   on cart  wait until purchase within 1d { send email "lo_thanks" } }
journey hi { priority 10  on purchase  send email "hi_receipt" }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})");
  h.Track("c1", "purchase", At(kMinute), R"({"amount":1,"order_id":"o"})", "m-2");
  EXPECT_THAT(h.BriefActions(),
              ElementsAre("lo:s2:suppressed:arbitration", "hi:s1:sent"));
}

TEST(Arbitration, EveryOneOfTheLosingJourneysSendsOnTheChannelIsSuppressed) {
  // The resumed lower-priority journey sends twice on email before the higher-priority
  // entry sends there: "the one of higher priority is sent and the others are
  // suppressed arbitration" (§6) covers both of the loser's sends.
  EngineHarness h(P(std::string(kOpenChannels) + R"(
journey lo { priority 1   on cart  wait until purchase within 1d {
                            send email "lo_a"  send email "lo_b" } }
journey hi { priority 10  on purchase  send email "hi_receipt" }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})");
  h.Track("c1", "purchase", At(kMinute), R"({"amount":1,"order_id":"o"})");
  EXPECT_THAT(h.BriefActions(), ElementsAre("lo:s2:suppressed:arbitration",
                                            "lo:s3:suppressed:arbitration", "hi:s1:sent"));
}

TEST(Arbitration, ResumedInstancesCompeteInArbitrationOrderToo) {
  EngineHarness h(P(std::string(kOpenChannels) + R"(
journey lo { priority 1   on cart  wait until purchase within 1d { send email "lo" } }
journey hi { priority 10  on cart  wait until purchase within 1d { send email "hi" } }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})");
  h.Track("c1", "purchase", At(kMinute), R"({"amount":1,"order_id":"o"})");
  EXPECT_THAT(h.BriefActions(), ElementsAre("hi:s2:sent", "lo:s2:suppressed:arbitration"));
}

TEST(Arbitration, TheLosersCapSlotIsTakenBackSoTheWinnerIsSent) {
  // Cap 1 per day: the resumed lower-priority send is decided first and takes the only
  // slot; the higher-priority entry must still be sent (§6), and the loser's slot given
  // back (docs/semantics.md), so a third send that day is capped by the winner alone.
  EngineHarness h(P(R"(
channel email { consent true  cap 1 per 1d }
journey lo { priority 1   on cart  wait until purchase within 1d { send email "lo_thanks" } }
journey hi { priority 10  on purchase  send email "hi_receipt" }
journey later { on app_open  send email "later" }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})");
  h.Track("c1", "purchase", At(kMinute), R"({"amount":1,"order_id":"o"})");
  EXPECT_THAT(h.BriefActions(), ElementsAre("lo:s2:suppressed:arbitration", "hi:s1:sent"));
  h.Track("c1", "app_open", At(kHour));
  EXPECT_EQ(Brief(h.actions().back()), "later:s1:suppressed:cap");
}

TEST(Arbitration, IsCheckedBeforeTheCap) {
  // docs/semantics.md: "Checked in this order: approval, limit guards, consent,
  // arbitration, cap, quiet hours". The higher-priority send takes the only cap slot;
  // the other journey's send on the channel in the same message loses the arbitration
  // (it does not reach the cap check).
  EngineHarness h(P(R"(
channel email { consent true  cap 1 per 1d }
journey hi { priority 10  on cart  send email "hi" }
journey lo { priority 1   on cart  send email "lo" }
journey later { on app_open  send email "later" }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})");
  h.Track("c1", "app_open", At(kHour));
  EXPECT_THAT(h.BriefActions(), ElementsAre("hi:s1:sent", "lo:s1:suppressed:arbitration",
                                            "later:s1:suppressed:cap"));
}

TEST(Arbitration, ADeferredLoserIsNeverReleased) {
  EngineHarness h(P(R"(
channel email { consent true  quiet 21:00 .. 08:00 }
journey lo { priority 1   on cart  wait until purchase within 1d { send email "lo_thanks" } }
journey hi { priority 10  on purchase  send email "hi_receipt" }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", Time("2026-06-01T21:00:00Z"), R"({"value":1})");
  h.Track("c1", "purchase", Time("2026-06-01T22:00:00Z"), R"({"amount":1,"order_id":"o"})");
  h.Advance(Time("2026-06-02T12:00:00Z"));
  EXPECT_THAT(h.BriefActions(),
              ElementsAre("lo:s2:suppressed:arbitration", "hi:s1:deferred", "hi:s1:sent"));
}

TEST(Arbitration, SendsSuppressedForAnotherReasonDoNotCompete) {
  EngineHarness h(P(R"(
channel email { consent true }
journey a_unapproved { priority 30  approvals marketing  on cart  send email "u" }
journey b_limited    { priority 20  limit discount <= 10%  on cart
                       send email "l" { discount: profile.discount } }
journey c_live       { priority 10  on cart  send email "ok" }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Identify("c1", At(0), R"({"discount":0.5})");
  h.Track("c1", "cart", At(1), R"({"value":1})");
  EXPECT_THAT(h.BriefActions(), ElementsAre("a_unapproved:s1:suppressed:unapproved",
                                            "b_limited:s1:suppressed:limit", "c_live:s1:sent"));
}

TEST(Arbitration, ConsentSuppressedSendsDoNotCompete) {
  EngineHarness h(P(R"(
channel email { consent profile.email_opt_in }
channel push { consent true }
journey hi { priority 10  on cart  send email "hi" }
journey lo { priority 1   on cart  send email "lo" }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Identify("c1", At(0), R"({"email_opt_in":false})");
  h.Track("c1", "cart", At(1), R"({"value":1})");
  EXPECT_THAT(h.BriefActions(),
              ElementsAre("hi:s1:suppressed:consent", "lo:s1:suppressed:consent"));
}

TEST(Arbitration, SendsOfSeparateTimersAtTheSameInstantDoNotArbitrate) {
  // docs/semantics.md: arbitration is within one message or one timer. Two journeys
  // whose waits end at the same instant fire two timers.
  EngineHarness h(P(std::string(kOpenChannels) + R"(
journey hi { priority 10  on cart  wait 1h  send email "hi" }
journey lo { priority 1   on cart  wait 1h  send email "lo" }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})");
  h.Advance(At(kHour));
  EXPECT_THAT(h.BriefActions(), ElementsAre("hi:s2:sent", "lo:s2:sent"));
}

// ---- reenter -------------------------------------------------------------------------

std::vector<int64_t> EntryTimes(const EngineHarness& h) {
  std::vector<int64_t> out;
  for (const Decision& d : h.all()) {
    if (d.outcome == runtime::Outcome::kEntered) out.push_back(d.at_us - T0());
  }
  return out;
}

TEST(Reenter, NeverIsTheDefault) {
  EngineHarness h(P(std::string(kOpenChannels) + R"(journey j { on cart  send push "x" })"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})");
  h.Track("c1", "cart", At(kDay), R"({"value":1})");
  h.Track("c1", "cart", At(400 * kDay), R"({"value":1})");
  EXPECT_THAT(EntryTimes(h), ElementsAre(0));
}

TEST(Reenter, NeverAlsoAfterAnExit) {
  EngineHarness h(P(std::string(kOpenChannels) + R"(
journey j { on cart  reenter never  exit on unsubscribed  wait 1d  send push "x" }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})");
  h.Track("c1", "unsubscribed", At(kHour));
  h.Track("c1", "cart", At(2 * kHour), R"({"value":1})");
  EXPECT_THAT(EntryTimes(h), ElementsAre(0));
}

TEST(Reenter, AlwaysEntersAgainOnceThePreviousInstanceHasEnded) {
  EngineHarness h(P(std::string(kOpenChannels) + R"(
journey j { on cart  reenter always  wait 1h  send push "x" }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})");
  h.Track("c1", "cart", At(30 * kMinute), R"({"value":1})");  // inside: no
  h.Track("c1", "cart", At(kHour + kMs), R"({"value":1})");   // ended at 1h: yes
  h.Track("c1", "cart", At(kHour + 2 * kMs), R"({"value":1})");  // inside again
  EXPECT_THAT(EntryTimes(h), ElementsAre(0, kHour + kMs));
}

TEST(Reenter, AfterDurationCountsFromTheLastEntry) {
  EngineHarness h(P(std::string(kOpenChannels) + R"(
journey j { on cart  reenter after 7d  wait 3d  send push "x" }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})");
  h.Track("c1", "cart", At(4 * kDay), R"({"value":1})");              // ended at 3d; < 7d
  h.Track("c1", "cart", At(7 * kDay - kMs), R"({"value":1})");        // just before 7d
  h.Track("c1", "cart", At(7 * kDay), R"({"value":1})");              // exactly 7d: yes
  h.Track("c1", "cart", At(12 * kDay), R"({"value":1})");             // 5d later, ended: no
  h.Track("c1", "cart", At(14 * kDay), R"({"value":1})");             // 7d after 7d: yes
  EXPECT_THAT(EntryTimes(h), ElementsAre(0, 7 * kDay, 14 * kDay));
}

TEST(Reenter, AfterDurationNeverWhileInside) {
  EngineHarness h(P(std::string(kOpenChannels) + R"(
journey j { on cart  reenter after 1d  wait 10d  send push "x" }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})");
  h.Track("c1", "cart", At(2 * kDay), R"({"value":1})");
  h.Track("c1", "cart", At(9 * kDay), R"({"value":1})");
  EXPECT_THAT(EntryTimes(h), ElementsAre(0));
}

TEST(Reenter, IneligibleTriggersDoNotCountAsEntries) {
  EngineHarness h(P(std::string(kOpenChannels) + R"(
journey j { on cart  eligible profile.tier == "gold"  reenter after 7d  send push "x" }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})");
  h.Identify("c1", At(kDay), R"({"tier":"gold"})");
  h.Track("c1", "cart", At(2 * kDay), R"({"value":1})");
  h.Track("c1", "cart", At(8 * kDay), R"({"value":1})");
  h.Track("c1", "cart", At(9 * kDay), R"({"value":1})");
  EXPECT_THAT(EntryTimes(h), ElementsAre(2 * kDay, 9 * kDay));
}

TEST(Reenter, IsPerCustomer) {
  EngineHarness h(P(std::string(kOpenChannels) + R"(journey j { on cart  send push "x" })"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})");
  h.Track("c2", "cart", At(kMs), R"({"value":1})");
  EXPECT_THAT(EntryTimes(h), ElementsAre(0, kMs));
}

// ---- an outside clock (juncture serve) ---------------------------------------------

TEST(OutsideClock, MessagesAreDecidedAtTheirReceiptTimeNotTheirTimestamp) {
  EngineHarness h(P(std::string(kOpenChannels) + R"(
journey later { on cart  wait 10m  send push "nudge" }
journey first { on cart  send email "hi" { seen: event.time } }
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  // Stamped a day before it arrives: decided at receipt, its own time kept in `event`.
  h.engine().Process(TrackJson("c1", "cart", At(-kDay), R"({"value":1})", "m-1"), h.sink(),
                     At(0));
  ASSERT_THAT(h.BriefActions(), ElementsAre("first:s1:sent"));
  EXPECT_EQ(h.actions()[0].at_us, At(0));
  EXPECT_NE(h.actions()[0].params_json.find(Iso(At(-kDay))), std::string::npos)
      << h.actions()[0].params_json;
  // The wait runs from the receipt time: nothing at +9m, the nudge at +10m.
  h.Advance(At(9 * kMinute));
  EXPECT_EQ(h.actions().size(), 1u);
  h.Advance(At(10 * kMinute));
  ASSERT_THAT(h.BriefActions(), ElementsAre("first:s1:sent", "later:s2:sent"));
  EXPECT_EQ(h.actions()[1].at_us, At(10 * kMinute));
  // A clock behind the engine's time is taken as the engine's time.
  h.engine().Process(TrackJson("c2", "cart", At(0), R"({"value":1})", "m-2"), h.sink(), At(kMinute));
  EXPECT_EQ(h.actions().back().at_us, At(10 * kMinute));
}

}  // namespace
}  // namespace juncture::enginetest
