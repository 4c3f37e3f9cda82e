// LANGUAGE.md §7 as the engine sees it: an approvals ledger (CompileSources' third
// argument) makes a journey live only when every required role (its `approvals` plus
// the `approval` of every channel it sends on) approved its current hash; otherwise
// every send is `suppressed unapproved`. `limit` guards suppress with reason `limit`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine_test_util.h"

namespace juncture::enginetest {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kProgram = std::string(kBase) + R"(
channel email { consent true  approval legal }
channel push { consent true }
journey welcome {
  approvals marketing
  on app_open
  send email "hi"
  send push "hey"
  control
}
journey nudge { on cart  send push "n" }
journey mailer { on purchase  send email "receipt" }
)";

std::string WelcomeHash() { return JourneyHash(kProgram, "welcome"); }

TEST(Approvals, WithoutALedgerEverySendOfAJourneyNeedingRolesIsUnapproved) {
  EngineHarness h(kProgram);
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "app_open", At(0));
  // Spec-silent: lifecycle and control decisions are still recorded (they send nothing).
  EXPECT_THAT(h.Brief(), ElementsAre("welcome:entry:entered", "welcome:s1:suppressed:unapproved",
                                     "welcome:s2:suppressed:unapproved", "welcome:s3:control",
                                     "welcome:end:completed"));
  EXPECT_THAT(h.all()[1].ToJson(),
              HasSubstr(R"("outcome":"suppressed","reason":"unapproved")"));
  EXPECT_EQ(h.all()[1].version, WelcomeHash());
}

TEST(Approvals, AChannelApprovalRoleIsRequiredOfJourneysSendingThere) {
  EngineHarness h(kProgram);
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})");
  h.Track("c1", "purchase", At(1), R"({"amount":1,"order_id":"o"})");
  // nudge sends on push only (no role needed); mailer sends on email (legal).
  EXPECT_THAT(h.BriefActions(), ElementsAre("nudge:s1:sent", "mailer:s1:suppressed:unapproved"));
}

TEST(Approvals, AllRolesOnTheCurrentHashMakeItLive) {
  std::string hash = WelcomeHash();
  ASSERT_EQ(hash.size(), 16u);
  EngineHarness h(kProgram, Ledger({{"welcome", hash, "marketing"}, {"welcome", hash, "legal"}}));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "app_open", At(0));
  EXPECT_THAT(h.BriefActions(), ElementsAre("welcome:s1:sent", "welcome:s2:sent",
                                            "welcome:s3:control"));
  for (const Decision& d : h.all()) EXPECT_EQ(d.version, hash);
}

TEST(Approvals, AMissingRoleLeavesItUnapproved) {
  std::string hash = WelcomeHash();
  EngineHarness only_marketing(kProgram, Ledger({{"welcome", hash, "marketing"}}));
  ASSERT_TRUE(only_marketing.ok()) << only_marketing.diagnostics();
  only_marketing.Track("c1", "app_open", At(0));
  EXPECT_THAT(only_marketing.BriefActions(),
              ElementsAre("welcome:s1:suppressed:unapproved", "welcome:s2:suppressed:unapproved",
                          "welcome:s3:control"));
  EngineHarness only_legal(kProgram, Ledger({{"welcome", hash, "legal"}}));
  ASSERT_TRUE(only_legal.ok()) << only_legal.diagnostics();
  only_legal.Track("c1", "app_open", At(0));
  EXPECT_EQ(Brief(only_legal.actions()[0]), "welcome:s1:suppressed:unapproved");
}

TEST(Approvals, AStaleHashLeavesItUnapproved) {
  EngineHarness h(kProgram, Ledger({{"welcome", "0123456789abcdef", "marketing"},
                                    {"welcome", "0123456789abcdef", "legal"}}));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "app_open", At(0));
  EXPECT_EQ(Brief(h.actions()[0]), "welcome:s1:suppressed:unapproved");
}

TEST(Approvals, ChangingTheJourneyMakesTheOldApprovalStale) {
  std::string hash = WelcomeHash();
  std::string changed = kProgram;
  changed.replace(changed.find("\"hey\""), 5, "\"hello\"");
  ASSERT_NE(JourneyHash(changed, "welcome"), hash);
  EngineHarness h(changed, Ledger({{"welcome", hash, "marketing"}, {"welcome", hash, "legal"}}));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "app_open", At(0));
  EXPECT_EQ(Brief(h.actions()[0]), "welcome:s1:suppressed:unapproved");
  EXPECT_EQ(h.actions()[0].version, JourneyHash(changed, "welcome"));
}

TEST(Approvals, AnotherJourneysApprovalDoesNotCount) {
  std::string hash = WelcomeHash();
  EngineHarness h(kProgram, Ledger({{"nudge", hash, "marketing"}, {"mailer", hash, "legal"}}));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "app_open", At(0));
  EXPECT_EQ(Brief(h.actions()[0]), "welcome:s1:suppressed:unapproved");
}

TEST(Approvals, ApprovingOneJourneyLeavesTheOthersAsTheyAre) {
  std::string mailer = JourneyHash(kProgram, "mailer");
  EngineHarness h(kProgram, Ledger({{"mailer", mailer, "legal"}}));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "purchase", At(0), R"({"amount":1,"order_id":"o"})");
  h.Track("c1", "app_open", At(1));
  EXPECT_EQ(Brief(h.actions()[0]), "mailer:s1:sent");
  EXPECT_EQ(Brief(h.actions()[1]), "welcome:s1:suppressed:unapproved");
}

TEST(Approvals, UnapprovedIsCheckedBeforeEveryOtherGuardrail) {
  const std::string program = std::string(kBase) + R"(
channel email { consent profile.email_opt_in  quiet 21:00 .. 08:00  cap 1 per 1d }
journey j {
  approvals marketing
  limit discount <= 10%
  on cart
  reenter always
  send email "x" { discount: profile.discount }
}
)";
  EngineHarness h(program);
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Identify("c1", At(0), R"({"email_opt_in":false,"discount":0.5})");
  h.Track("c1", "cart", Time("2026-06-01T22:00:00Z"), R"({"value":1})");
  h.Advance(Time("2026-06-03T00:00:00Z"));
  EXPECT_THAT(h.BriefActions(), ElementsAre("j:s1:suppressed:unapproved"));
}

// ---- limits --------------------------------------------------------------------------

const std::string kLimits = std::string(kBase) + R"(
channel email { consent profile.email_opt_in }
journey offer {
  limit discount <= 20%
  limit amount >= 5
  limit items <= 3
  on cart
  reenter always
  send email "offer" { discount: profile.discount, amount: event.value / 10, items: event.items,
                       fixed: 15% }
}
)";

TEST(Limits, GuardsSuppressSendsOutsideTheApprovedBound) {
  EngineHarness h(kLimits);
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  auto offer = [&](const std::string& c, const std::string& discount, const std::string& cart) {
    h.Identify(c, At(0), R"({"discount":)" + discount + "}");
    h.Track(c, "cart", At(1), cart);
    return Brief(h.actions().back());
  };
  EXPECT_EQ(offer("a", "0.15", R"({"value":100})"), "offer:s1:sent");
  EXPECT_EQ(offer("b", "0.2", R"({"value":100})"), "offer:s1:sent");  // the bound itself
  EXPECT_EQ(offer("c", "0.2000001", R"({"value":100})"), "offer:s1:suppressed:limit");
  EXPECT_EQ(offer("d", "0.15", R"({"value":50})"), "offer:s1:sent");  // amount 5: lower bound
  EXPECT_EQ(offer("e", "0.15", R"({"value":49.9})"), "offer:s1:suppressed:limit");
  EXPECT_EQ(offer("f", "0.15", R"({"value":100,"items":3})"), "offer:s1:sent");
  EXPECT_EQ(offer("g", "0.15", R"({"value":100,"items":4})"), "offer:s1:suppressed:limit");
  EXPECT_THAT(h.actions()[2].ToJson(), HasSubstr(R"("outcome":"suppressed","reason":"limit")"));
  // The suppressed decision still carries the parameters that were decided.
  EXPECT_EQ(h.actions()[2].params_json,
            R"({"discount":0.2000001,"amount":10,"items":0,"fixed":0.15})");
}

TEST(Limits, AreCheckedBeforeConsent) {
  EngineHarness h(kLimits);
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Identify("c1", At(0), R"({"discount":0.5,"email_opt_in":false})");
  h.Track("c1", "cart", At(1), R"({"value":100})");
  h.Identify("c2", At(0), R"({"discount":0.1,"email_opt_in":false})");
  h.Track("c2", "cart", At(1), R"({"value":100})");
  EXPECT_THAT(h.BriefActions(),
              ElementsAre("offer:s1:suppressed:limit", "offer:s1:suppressed:consent"));
}

TEST(Limits, AConstantParameterBeyondTheLimitIsACompileError) {
  EngineHarness bad(std::string(kBase) + R"(
channel email { consent true }
journey offer { limit discount <= 20%  on cart  send email "offer" { discount: 25% } }
)");
  EXPECT_FALSE(bad.ok());
  EngineHarness fine(std::string(kBase) + R"(
channel email { consent true }
journey offer { limit discount <= 20%  on cart  send email "offer" { discount: 20% } }
)");
  ASSERT_TRUE(fine.ok()) << fine.diagnostics();
  fine.Track("c1", "cart", At(0), R"({"value":1})");
  EXPECT_EQ(Brief(fine.actions()[0]), "offer:s1:sent");
}

TEST(Limits, ApplyToEverySendOfTheJourneyPassingTheParameter) {
  EngineHarness h(std::string(kBase) + R"(
channel email { consent true }
channel push { consent true }
journey offer {
  limit discount <= 20%
  on cart
  send email "a" { discount: profile.discount }
  send push "b" { discount: profile.discount * 2 }
  send push "c" { other: profile.discount * 10 }
}
)");
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Identify("c1", At(0), R"({"discount":0.15})");
  h.Track("c1", "cart", At(1), R"({"value":1})");
  EXPECT_THAT(h.BriefActions(),
              ElementsAre("offer:s1:sent", "offer:s2:suppressed:limit", "offer:s3:sent"));
}

}  // namespace
}  // namespace juncture::enginetest
