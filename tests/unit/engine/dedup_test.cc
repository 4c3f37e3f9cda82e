// Deduplication by messageId (EngineLimits::dedup_window_us, docs/wire.md): a message
// whose id its customer already had within the window is ignored and counted, in
// every kind of message the engine takes; the ids are kept with the customer's state.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine_test_util.h"
#include "juncture/compiler/backend.h"

namespace juncture::enginetest {
namespace {

using ::testing::ElementsAre;

constexpr const char* kProgram = R"(
channel email { consent profile.email_opt_in }
journey thanks {
  on purchase
  reenter always
  send email "thanks" { order: event.order_id }
}
)";

std::string Program() { return std::string(kBase) + kProgram; }

runtime::EngineLimits Limits(int64_t window_us, uint64_t max_ids = 256) {
  runtime::EngineLimits limits;
  limits.dedup_window_us = window_us;
  limits.max_dedup_ids = max_ids;
  return limits;
}

TEST(Dedup, ASecondDeliveryOfAMessageIsIgnoredAndCounted) {
  EngineHarness h(Program());
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  const std::string props = R"({"amount": 10, "order_id": "o1"})";
  h.Track("c1", "purchase", At(0), props, "m-1");
  h.Track("c1", "purchase", At(kMinute), props, "m-1");  // the pipeline's retry
  h.Track("c2", "purchase", At(kMinute), props, "m-1");  // another customer's message
  h.Track("c1", "purchase", At(2 * kMinute), props, "m-2");
  EXPECT_THAT(h.BriefActions(), ElementsAre("thanks:s1:sent", "thanks:s1:sent", "thanks:s1:sent"));
  std::vector<std::string> causes;
  for (const Decision& d : h.actions()) causes.push_back(d.customer + "/" + d.cause);
  EXPECT_THAT(causes, ElementsAre("c1/m-1", "c2/m-1", "c1/m-2"));
  EXPECT_EQ(h.engine().stats().duplicates, 1u);
  EXPECT_EQ(h.engine().stats().messages, 4u);
}

TEST(Dedup, IdentifiesTooAndOnlyWithinTheWindow) {
  EngineHarness h(Program(), "", Limits(kHour));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Identify("c1", At(0), R"({"email_opt_in": false})", "i-1");
  h.Identify("c1", At(kMinute), R"({"email_opt_in": true})", "i-1");  // same id: ignored
  h.Track("c1", "purchase", At(2 * kMinute), R"({"amount": 1, "order_id": "o"})", "t-1");
  EXPECT_THAT(h.BriefActions(), ElementsAre("thanks:s1:suppressed:consent"));
  // An hour after it was taken the id is forgotten: the same id is a new message.
  h.Identify("c1", At(kHour + kMinute), R"({"email_opt_in": true})", "i-1");
  h.Track("c1", "purchase", At(kHour + 2 * kMinute), R"({"amount": 1, "order_id": "o"})", "t-1");
  EXPECT_THAT(h.BriefActions(), ElementsAre("thanks:s1:suppressed:consent", "thanks:s1:sent"));
  EXPECT_EQ(h.engine().stats().duplicates, 1u);
}

TEST(Dedup, OffWithAZeroWindow) {
  EngineHarness h(Program(), "", Limits(0));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  const std::string props = R"({"amount": 10, "order_id": "o1"})";
  h.Track("c1", "purchase", At(0), props, "m-1");
  h.Track("c1", "purchase", At(kSecond), props, "m-1");
  EXPECT_EQ(h.actions().size(), 2u);
  EXPECT_EQ(h.engine().stats().duplicates, 0u);
}

TEST(Dedup, RemembersTheLatestIdsUpToTheBound) {
  EngineHarness h(Program(), "", Limits(kDay, 2));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  const std::string props = R"({"amount": 10, "order_id": "o1"})";
  h.Track("c1", "purchase", At(0), props, "a");
  h.Track("c1", "purchase", At(1 * kSecond), props, "b");
  h.Track("c1", "purchase", At(2 * kSecond), props, "c");  // "a" is forgotten
  h.Track("c1", "purchase", At(3 * kSecond), props, "c");  // remembered: ignored
  h.Track("c1", "purchase", At(4 * kSecond), props, "a");  // decided again
  std::vector<std::string> causes;
  for (const Decision& d : h.actions()) causes.push_back(d.cause);
  EXPECT_THAT(causes, ElementsAre("a", "b", "c", "a"));
  EXPECT_EQ(h.engine().stats().duplicates, 1u);
}

TEST(Dedup, DeadLettersAndIgnoredMessagesAreNotRemembered) {
  EngineHarness h(Program());
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  // Refused (a property of the wrong type), then sent again fixed with the same id.
  h.Track("c1", "purchase", At(0), R"({"amount": "ten", "order_id": "o1"})", "m-1");
  ASSERT_EQ(h.dead_letters().size(), 1u);
  h.Track("c1", "purchase", At(kSecond), R"({"amount": 10, "order_id": "o1"})", "m-1");
  EXPECT_THAT(h.BriefActions(), ElementsAre("thanks:s1:sent"));
  EXPECT_EQ(h.engine().stats().duplicates, 0u);
}

TEST(Dedup, TheIdsSurviveASnapshot) {
  auto c = compiler::CompileSources({{"t.jny", Program()}}, compiler::CompileOptions{});
  ASSERT_TRUE(c->ok());
  const std::string props = R"({"amount": 10, "order_id": "o1"})";
  runtime::Engine a(*compiler::MakeInterpretedProgram(*c));
  Collector sink;
  auto sends = [&] {
    size_t n = 0;
    for (const Decision& d : sink.decisions) n += d.outcome == runtime::Outcome::kSent;
    return n;
  };
  a.Process(TrackJson("c1", "purchase", At(0), props, "m-1"), sink);
  ASSERT_EQ(sends(), 1u);
  runtime::Engine b(*compiler::MakeInterpretedProgram(*c));
  ASSERT_OK(b.LoadSnapshot(a.SaveSnapshot("p")));
  b.Process(TrackJson("c1", "purchase", At(kMinute), props, "m-1"), sink);
  EXPECT_EQ(sends(), 1u);
  EXPECT_EQ(b.stats().duplicates, 1u);
  b.Process(TrackJson("c1", "purchase", At(kMinute), props, "m-2"), sink);
  EXPECT_EQ(sends(), 2u);
}

TEST(Dedup, GroupAndAliasCallsAreCountedNotDeadLettered) {
  EngineHarness h(Program());
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Raw(R"({"type":"group","groupId":"acme","messageId":"g","userId":"c1","timestamp":"2026-06-01T12:00:00Z"})");
  h.Raw(R"({"type":"alias","previousId":"a","messageId":"a","userId":"c1","timestamp":"2026-06-01T12:00:00Z"})");
  EXPECT_TRUE(h.dead_letters().empty());
  EXPECT_TRUE(h.all().empty());
  EXPECT_EQ(h.engine().stats().ignored_calls, 2u);
}

}  // namespace
}  // namespace juncture::enginetest
