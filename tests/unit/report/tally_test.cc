// Reading decision and receipt lines and counting them (juncture report).
#include "juncture/report/tally.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "juncture/report/format.h"
#include "juncture/report/input.h"

namespace juncture::tools::report {
namespace {

using ::testing::HasSubstr;

// A decision line as the engine writes it; `extra` is spliced in before "at".
std::string D(const std::string& id, const std::string& customer, const std::string& outcome,
              const std::string& at, const std::string& extra = "") {
  return R"({"id":")" + id + R"(","customer":")" + customer +
         R"(","journey":"j","version":"v1","step":"s1","outcome":")" + outcome + "\"," + extra +
         R"("cause":"m","at":")" + at + "\"}";
}

std::string Send(const std::string& id, const std::string& outcome, const std::string& at,
                 const std::string& signal, const std::string& more = "") {
  return D(id, "c", outcome, at, R"("channel":"email","template":"t",)" + more +
                                     R"("signal":")" + signal + "\",");
}

class TallyTest : public ::testing::Test {
 protected:
  void Decide(const std::string& line) {
    DecisionLine d;
    Status parsed = ParseDecisionLine(line, d);
    ASSERT_TRUE(parsed.ok()) << line << ": " << parsed.message();
    tally_.AddDecision(d);
  }
  void Receive(const std::string& decision, const std::string& status, const std::string& at) {
    ReceiptLine r;
    std::string line = R"({"decision":")" + decision + R"(","status":")" + status +
                       R"(","at":")" + at + "\"}";
    ASSERT_TRUE(ParseReceiptLine(line, r).ok()) << line;
    tally_.AddReceipt(r);
  }
  Tally tally_;
};

TEST_F(TallyTest, EntriesReachTheHoldoutAndConversionsFollowTheirArm) {
  Decide(D("m1:j:entry:entered", "a", "entered", "2026-01-01T00:00:00Z"));
  Decide(D("m1:j:s2", "a", "control", "2026-01-01T00:00:00Z"));
  Decide(D("m2:j:entry:entered", "b", "entered", "2026-01-01T00:00:00Z"));
  Decide(D("m3:j:goal:converted", "b", "converted", "2026-01-01T01:00:00Z", R"("arm":"treatment",)"));
  Decide(D("m4:j:goal:converted", "a", "converted", "2026-01-01T01:00:00Z", R"("arm":"control",)"));
  // a enters again: a fresh entry, not held out; it converts in treatment.
  Decide(D("m5:j:entry:entered", "a", "entered", "2026-01-02T00:00:00Z"));
  Decide(D("m6:j:goal:converted", "a", "converted", "2026-01-02T01:00:00Z", R"("arm":"treatment",)"));
  // c converts before its instance reaches the holdout.
  Decide(D("m7:j:entry:entered", "c", "entered", "2026-01-02T00:00:00Z"));
  Decide(D("m8:j:goal:converted", "c", "converted", "2026-01-02T00:10:00Z", R"("arm":"treatment",)"));
  Decide(D("m7:j:s2", "c", "control", "2026-01-02T00:30:00Z"));
  // Nothing in the log for d's entry.
  Decide(D("m9:j:s2", "d", "control", "2026-01-02T00:30:00Z"));
  Decide(D("m9:j:goal:converted", "d", "converted", "2026-01-02T00:40:00Z", R"("arm":"control",)"));
  Decide(D("m9:j:s2:exited", "d", "exited", "2026-01-02T00:40:00Z"));
  // A duplicate (at-least-once delivery) counts once.
  Decide(D("m1:j:entry:entered", "a", "entered", "2026-01-01T00:00:00Z"));

  Report r = tally_.Finish({});
  const JourneyFigures& j = r.journeys.at("j");
  EXPECT_EQ(j.entered, 4u);
  EXPECT_EQ(j.held_out, 2u);  // a's first entry and c's
  EXPECT_EQ(j.treatment.entries, 2u);
  EXPECT_EQ(j.control.entries, 2u);
  EXPECT_EQ(j.treatment.conversions, 3u);  // b, a's second entry, c (by its decision's arm)
  EXPECT_EQ(j.control.conversions, 1u);    // a's first entry; d's has no entry in the log
  EXPECT_EQ(j.converted_before_holdout, 1u);
  EXPECT_EQ(j.exited, 1u);
  EXPECT_EQ(j.goal, GoalKnown::kLog);
  EXPECT_EQ(r.decisions.holdouts_without_entry, 1u);
  EXPECT_EQ(r.decisions.conversions_without_entry, 1u);
  EXPECT_EQ(r.decisions.duplicates, 1u);
  EXPECT_EQ(r.decisions.decisions, 13u);
  EXPECT_EQ(r.total.treatment.conversions, 3u);
  EXPECT_EQ(r.pooled_goal_journeys, std::vector<std::string>{"j"});
}

TEST_F(TallyTest, SendsByOutcomeReasonAndChannel) {
  Decide(Send("m1:j:s1", "sent", "2026-01-01T00:00:02Z", "2026-01-01T00:00:00Z"));
  Decide(Send("m2:j:s1", "deferred", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z",
              R"("until":"2026-01-01T07:00:00Z",)"));
  Decide(Send("m2:j:s1:release", "sent", "2026-01-01T07:00:00Z", "2026-01-01T00:00:00Z"));
  Decide(Send("m3:j:s1", "deferred", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"));
  Decide(Send("m4:j:s1", "suppressed", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z",
              R"("reason":"late",)"));
  Decide(Send("m5:j:s1", "suppressed", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z",
              R"("reason":"cap",)"));
  Decide(Send("m6:j:s1", "control", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z"));
  // A signal after the decision (clock skew) counts as 0.
  Decide(Send("m7:j:s1", "sent", "2026-01-01T00:00:00Z", "2026-01-01T00:00:05Z"));
  Report r = tally_.Finish({});
  const SendCounts& s = r.journeys.at("j").sends.at("email");
  EXPECT_EQ(s.sent, 3u);
  EXPECT_EQ(s.deferred, 2u);
  EXPECT_EQ(s.released, 1u);
  EXPECT_EQ(s.pending, 1u);
  EXPECT_EQ(s.control, 1u);
  EXPECT_EQ(s.suppressed, (std::map<std::string, uint64_t>{{"cap", 1}, {"late", 1}}));
  EXPECT_EQ(r.journeys.at("j").splits.at("email").signal_to_decision,
            (std::vector<int64_t>{2'000'000, 7 * 3600'000'000LL, 0}));
  EXPECT_FALSE(r.receipts);
}

TEST_F(TallyTest, ReceiptsGiveSplitTimesAndTheMomentFit) {
  Decide(Send("m1:j:s1", "sent", "2026-01-01T00:00:30Z", "2026-01-01T00:00:00Z"));
  Decide(Send("m2:j:s1", "sent", "2026-01-01T00:00:30Z", "2026-01-01T00:00:00Z"));
  Decide(Send("m3:j:s1", "sent", "2026-01-01T00:00:30Z", "2026-01-01T00:00:00Z"));
  Decide(Send("m4:j:s1", "suppressed", "2026-01-01T00:00:30Z", "2026-01-01T00:00:00Z",
              R"("reason":"consent",)"));
  Decide(Send("m5:j:s1", "sent", "2026-01-01T00:00:30Z", "2026-01-01T00:00:00Z"));
  tally_.StartReceipts();
  Receive("m1:j:s1", "delivered", "2026-01-01T00:01:00Z");      // 1m after the signal
  Receive("m1:j:s1", "opened", "2026-01-01T00:05:00Z");
  Receive("m1:j:s1", "delivered", "2026-01-01T00:09:00Z");      // duplicate: ignored
  Receive("m2:j:s1", "delivered", "2026-01-01T00:02:00.001Z");  // 1 ms past 2m
  Receive("m3:j:s1", "failed", "2026-01-01T00:00:31Z");
  Receive("m5:j:s1", "delivered", "2026-01-01T00:02:00Z");      // exactly 2m: within
  Receive("m4:j:s1", "delivered", "2026-01-01T00:01:00Z");      // was not sent
  Receive("nope", "delivered", "2026-01-01T00:01:00Z");         // not in the log
  Report r = tally_.Finish({{"j", JourneyInfo{2 * 60'000'000LL, "option", std::nullopt}}});
  const JourneyFigures& j = r.journeys.at("j");
  EXPECT_EQ(j.splits.at("email").decision_to_customer,
            (std::vector<int64_t>{30'000'000, 90'001'000, 90'000'000}));
  EXPECT_EQ(j.splits.at("email").signal_to_customer,
            (std::vector<int64_t>{60'000'000, 120'001'000, 120'000'000}));
  const ReceiptCounts& rc = j.receipts.at("email");
  EXPECT_EQ(rc.by_status[int(ReceiptStatus::kDelivered)], 3u);
  EXPECT_EQ(rc.by_status[int(ReceiptStatus::kOpened)], 1u);
  EXPECT_EQ(rc.by_status[int(ReceiptStatus::kFailed)], 1u);
  EXPECT_EQ(rc.sent_without_delivery, 1u);  // m3
  EXPECT_EQ(j.fit.at("email").delivered, 3u);
  EXPECT_EQ(j.fit.at("email").within, 2u);  // within means ≤ the deadline
  ASSERT_TRUE(r.receipts);
  EXPECT_EQ(r.receipts->receipts, 5u);
  EXPECT_EQ(r.receipts->duplicates, 1u);
  EXPECT_EQ(r.receipts->not_sent, 1u);
  EXPECT_EQ(r.receipts->unknown_decision, 1u);
  EXPECT_EQ(r.pooled_deadline_journeys, std::vector<std::string>{"j"});

  auto json = ReportJson(r, {"d.jsonl", "r.jsonl"});
  const nlohmann::json& fit = json["journeys"][0]["moment_fit"];
  EXPECT_EQ(fit["deadline_seconds"], 120.0);
  EXPECT_EQ(fit["deadline_from"], "option");
  EXPECT_EQ(fit["channels"]["email"]["rate"], 2.0 / 3.0);
  EXPECT_EQ(json["journeys"][0]["split_times"]["email"]["signal_to_customer"]["max"], 120.001);
  EXPECT_THAT(ReportText(r, {"d.jsonl", "r.jsonl"}), HasSubstr("delivered within 2m of the signal"));
}

TEST_F(TallyTest, WithoutADeadlineThereIsNoFitRate) {
  Decide(Send("m1:j:s1", "sent", "2026-01-01T00:00:30Z", "2026-01-01T00:00:00Z"));
  tally_.StartReceipts();
  Receive("m1:j:s1", "delivered", "2026-01-01T00:01:00Z");
  Report r = tally_.Finish({});
  auto json = ReportJson(r, {"d", "r"});
  EXPECT_EQ(json["journeys"][0]["moment_fit"]["channels"]["email"]["delivered"], 1);
  EXPECT_TRUE(json["journeys"][0]["moment_fit"]["channels"]["email"]["rate"].is_null());
  EXPECT_THAT(ReportText(r, {"d", "r"}), HasSubstr("moment fit    n/a: no deadline"));
}

TEST_F(TallyTest, AProgramWithoutAGoalHasNoRatesAndOneWithAGoalHasZero) {
  Decide(D("m1:j:entry:entered", "a", "entered", "2026-01-01T00:00:00Z"));
  Report none = tally_.Finish({{"j", JourneyInfo{0, "", false}}});
  EXPECT_EQ(none.journeys.at("j").goal, GoalKnown::kNone);
  EXPECT_TRUE(ReportJson(none, {})["journeys"][0]["conversions"]["treatment"]["rate"].is_null());
  Tally other;
  DecisionLine d;
  ASSERT_TRUE(
      ParseDecisionLine(D("m1:j:entry:entered", "a", "entered", "2026-01-01T00:00:00Z"), d).ok());
  other.AddDecision(d);
  Report with = other.Finish({{"j", JourneyInfo{0, "", true}}});
  auto treatment = ReportJson(with, {})["journeys"][0]["conversions"]["treatment"];
  EXPECT_EQ(treatment["rate"], 0.0);
  EXPECT_EQ(treatment["entries"], 1);
}

struct BadLine {
  const char* name;
  const char* line;
  const char* error;
};

void PrintTo(const BadLine& b, std::ostream* os) { *os << b.name; }

class BadDecisionLine : public ::testing::TestWithParam<BadLine> {};

TEST_P(BadDecisionLine, SaysWhy) {
  DecisionLine d;
  Status parsed = ParseDecisionLine(GetParam().line, d);
  EXPECT_EQ(parsed.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parsed.message(), GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    Lines, BadDecisionLine,
    ::testing::Values(
        BadLine{"not_json", "{not json", "not JSON"},
        BadLine{"not_an_object", "[1,2]", "not a JSON object"},
        BadLine{"no_id", R"({"customer":"c","journey":"j","outcome":"entered","at":"2026-01-01T00:00:00Z"})",
                "no \"id\""},
        BadLine{"journey_not_a_string", R"({"id":"x","customer":"c","journey":7,"outcome":"entered","at":"2026-01-01T00:00:00Z"})",
                "\"journey\" is not a non-empty string"},
        BadLine{"bad_at", R"({"id":"x","customer":"c","journey":"j","outcome":"entered","at":"yesterday"})",
                "\"at\" is not an ISO-8601 time"},
        BadLine{"unknown_outcome", R"({"id":"x","customer":"c","journey":"j","outcome":"bounced","at":"2026-01-01T00:00:00Z"})",
                "unknown outcome \"bounced\""},
        BadLine{"send_without_channel", R"({"id":"x","customer":"c","journey":"j","outcome":"sent","at":"2026-01-01T00:00:00Z"})",
                "a sent decision without \"channel\""},
        BadLine{"suppressed_without_reason", R"({"id":"x","customer":"c","journey":"j","outcome":"suppressed","channel":"e","at":"2026-01-01T00:00:00Z"})",
                "no \"reason\""},
        BadLine{"bad_arm", R"({"id":"x","customer":"c","journey":"j","outcome":"converted","arm":"both","at":"2026-01-01T00:00:00Z"})",
                "\"arm\" is \"both\", not treatment or control"},
        BadLine{"bad_signal", R"({"id":"x","customer":"c","journey":"j","outcome":"sent","channel":"e","signal":"now","at":"2026-01-01T00:00:00Z"})",
                "\"signal\" is not an ISO-8601 time"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ReceiptLine, BadLinesSayWhy) {
  ReceiptLine r;
  EXPECT_EQ(ParseReceiptLine("delivered", r).message(), "not JSON");
  EXPECT_EQ(ParseReceiptLine(R"({"status":"delivered","at":"2026-01-01T00:00:00Z"})", r).message(),
            "no \"decision\"");
  EXPECT_EQ(
      ParseReceiptLine(R"({"decision":"d","status":"bounced","at":"2026-01-01T00:00:00Z"})", r)
          .message(),
      "unknown status \"bounced\"");
  EXPECT_TRUE(
      ParseReceiptLine(R"({"decision":"d","status":"clicked","at":"2026-01-01T00:00:00+01:00"})", r)
          .ok());
  EXPECT_EQ(r.status, ReceiptStatus::kClicked);
  EXPECT_EQ(r.at_us, 1767222000'000'000LL);
}

}  // namespace
}  // namespace juncture::tools::report
