// `juncture serve` and the customer's moment: delivery receipts on
// juncture.receipts.<channel> close the split times (signal -> decision -> action ->
// customer), the moment fit counts deliveries within the journey's deadline, and
// conversions are counted by arm. Against a real nats-server.
#include <signal.h>

#include <chrono>

#include "juncture/runtime/event.h"
#include "serve_fixture.h"

namespace juncture::itest {
namespace {

std::string Cart(const std::string& customer, const std::string& id, const std::string& at) {
  return R"({"type":"track","event":"cart","messageId":")" + id + R"(","userId":")" + customer +
         R"(","timestamp":")" + at + R"(","properties":{"cart_id":"k-)" + id +
         R"(","value":12.5}})";
}

// A receipt dated `offset_ms` after the signal `signal_ms` (ms since the epoch), so that
// whether it lands within the deadline does not depend on how busy the machine is.
std::string Receipt(const std::string& decision, const std::string& status, int64_t signal_ms,
                    int64_t offset_ms) {
  return R"({"decision":")" + decision + R"(","status":")" + status + R"(","at":")" +
         runtime::FormatTimestamp((signal_ms + offset_ms) * 1000) + R"("})";
}

class ServeMoment : public ServeFixture {
 protected:
  void ReceiptsCloseTheSplitTimes(const std::vector<std::string>& extra);
};

TEST_F(ServeMoment, ReceiptsCloseTheSplitTimesAndTheMomentFitIsCounted) {
  ReceiptsCloseTheSplitTimes({});
}

// The same with two engines (each records its own sent actions in the one book).
TEST_F(ServeMoment, WithTwoShardsToo) { ReceiptsCloseTheSplitTimes({"--shards", "2"}); }

void ServeMoment::ReceiptsCloseTheSplitTimes(const std::vector<std::string>& extra) {
  StartServeWithMetrics(extra, JUNCTURE_MOMENT_PROGRAM);
  const int64_t signal_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  const std::string at = runtime::FormatTimestamp(signal_ms * 1000);
  ASSERT_TRUE(client_.Publish("juncture.events.web", Cart("c1", "m1", at)));
  ASSERT_TRUE(client_.Publish("juncture.events.web", Cart("c2", "m2", at)));
  ASSERT_TRUE(client_.Flush());
  ASSERT_TRUE(client_.WaitForCount("juncture.actions.inapp", 2, 10000)) << serve_->Output();
  // c1's nudge reaches the customer 100 ms after the signal; c2's 5 s after (past the
  // 2 s deadline).
  auto receipt = [&](const std::string& id, const char* status, int64_t offset_ms) {
    return client_.Publish("juncture.receipts.inapp", Receipt(id, status, signal_ms, offset_ms));
  };
  ASSERT_TRUE(receipt("m1:nudge:s1", "delivered", 100));
  ASSERT_TRUE(receipt("m2:nudge:s1", "delivered", 5000));
  ASSERT_TRUE(receipt("m1:nudge:s1", "delivered", 100));
  ASSERT_TRUE(receipt("m1:nudge:s1", "opened", 200));
  ASSERT_TRUE(receipt("nobody:nudge:s1", "delivered", 100));
  ASSERT_TRUE(client_.Publish("juncture.receipts.inapp", "{\"decision\": \"m1:nudge:s1\"}"));
  ASSERT_TRUE(client_.Flush());
  // c1 buys: a conversion in the treatment arm.
  ASSERT_TRUE(client_.Publish(
      "juncture.events.web",
      R"({"type":"track","event":"purchase","messageId":"m3","userId":"c1","timestamp":")" +
          NowIso() + R"(","properties":{"amount":20}})"));
  ASSERT_TRUE(client_.Flush());
  ASSERT_TRUE(WaitForMetric(R"(juncture_receipts_total{status="?",result="malformed"})", 1, 10000))
      << serve_->Output();
  ASSERT_TRUE(WaitForMetric(R"(juncture_conversions_total{journey="nudge",arm="treatment"})", 1,
                            10000));
  EXPECT_EQ(Metric(R"(juncture_moment_fit_total{journey="nudge",channel="inapp",fit="in"})"), 1);
  EXPECT_EQ(Metric(R"(juncture_moment_fit_total{journey="nudge",channel="inapp",fit="late"})"), 1);
  EXPECT_EQ(Metric(R"(juncture_receipts_total{status="delivered",result="matched"})"), 2);
  EXPECT_EQ(Metric(R"(juncture_receipts_total{status="delivered",result="duplicate"})"), 1);
  EXPECT_EQ(Metric(R"(juncture_receipts_total{status="opened",result="matched"})"), 1);
  EXPECT_EQ(Metric(R"(juncture_receipts_total{status="delivered",result="unknown"})"), 1);
  EXPECT_EQ(Metric(R"(juncture_action_to_customer_seconds_count{channel="inapp"})"), 2);
  EXPECT_EQ(Metric(R"(juncture_signal_to_customer_seconds_count{channel="inapp"})"), 2);
  EXPECT_EQ(Metric(R"(juncture_signal_to_decision_seconds_count{journey="nudge"})"), 2);
  // The 5 s delivery is in the bucket up to 10 s, not in the one up to 2.5 s.
  EXPECT_EQ(Metric(R"(juncture_signal_to_customer_seconds_bucket{channel="inapp",le="2.5"})"), 1);
  EXPECT_EQ(Metric(R"(juncture_signal_to_customer_seconds_bucket{channel="inapp",le="10"})"), 2);
  // The malformed receipt went to the dead letters with its reason.
  ASSERT_TRUE(client_.WaitForCount("juncture.deadletter", 1, 5000));
  auto dead = client_.On("juncture.deadletter");
  EXPECT_EQ(dead[0].data, "{\"decision\": \"m1:nudge:s1\"}");
  EXPECT_NE(dead[0].error.find("status"), std::string::npos) << dead[0].error;
  EXPECT_EQ(Metric(R"(juncture_dead_letters_total{reason_kind="bad_receipt"})"), 1);
  int status = serve_->Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << serve_->Output();
}

}  // namespace
}  // namespace juncture::itest
