// Fault injection against `juncture serve` on core NATS and a real nats-server: what
// core NATS cannot keep (a burst beyond the pending limits, a backlog at a stop that
// runs out of time) is counted and said, never lost silently. docs/serve.md, "Faults".
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "serve_fixture.h"

namespace juncture::itest {
namespace {

class CoreFaults : public ServeFixture {
 protected:
  CoreFaults() { subscribe_outputs_ = false; }

  // Publishes `n` carts as fast as the client can, then flushes: the server has
  // routed every one to serve when this returns.
  void Burst(const std::string& prefix, int n) {
    for (int i = 0; i < n; ++i) {
      std::string id = prefix + std::to_string(i);
      ASSERT_TRUE(client_.Publish("juncture.events.web", CartJson("c-" + id, id)));
    }
    ASSERT_TRUE(client_.Flush());
  }

  // From serve's last log line: "stopped. N messages, ... M messages dropped; ...".
  static bool Summary(const std::string& log, uint64_t* decided, uint64_t* dropped) {
    std::smatch m;
    static const std::regex re(R"(stopped\. (\d+) messages, .* (\d+) messages dropped;)");
    if (!std::regex_search(log, m, re)) return false;
    *decided = std::stoull(m[1]);
    *dropped = std::stoull(m[2]);
    return true;
  }
};

// More messages than the subscription may hold: NATS.c drops some, and every one is
// either decided or counted as dropped, with a log line that says what to do.
TEST_F(CoreFaults, ABurstBeyondThePendingLimitIsCountedNotLostSilently) {
  const int n = 20000;
  StartServeWithMetrics({"--pending-messages", "20"});
  Burst("b", n);
  const std::string dropped = R"(juncture_dropped_total{reason="slow_consumer"})";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  double decided = 0, lost = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    decided = Metric("juncture_messages_total");
    lost = std::max(0.0, Metric(dropped));
    if (decided + lost >= n) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(decided + lost, n) << serve_->Output();
  EXPECT_GT(lost, 0) << "the burst did not overflow 20 pending messages";
  EXPECT_TRUE(serve_->WaitForOutput("slow consumer", 5000)) << serve_->Output();
  EXPECT_NE(serve_->Output().find("messages dropped on juncture.events.> as a slow consumer"),
            std::string::npos)
      << serve_->Output();
  int status = serve_->Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << serve_->Output();
}

// SIGTERM with a backlog: every message received is decided before serve exits.
TEST_F(CoreFaults, SigtermDecidesEveryMessageAlreadyReceived) {
  const int n = 30000;
  StartServe({"--drain-timeout-ms", "0"});  // no bound: the test is that all are decided
  Burst("t", n);
  int status = serve_->Stop(SIGTERM, 120000);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << serve_->Output();
  uint64_t decided = 0, dropped = 0;
  ASSERT_TRUE(Summary(serve_->Output(), &decided, &dropped)) << serve_->Output();
  EXPECT_EQ(decided, static_cast<uint64_t>(n));
  EXPECT_EQ(dropped, 0u);
}

// A drain bound too short for the backlog: serve stops at the bound, counts and
// logs what it did not decide, and exits with 3.
TEST_F(CoreFaults, ADrainThatRunsOutOfTimeCountsWhatIsLeftAndExits3) {
  const int n = 100000;
  StartServe({"--drain-timeout-ms", "1"});
  Burst("d", n);
  int status = serve_->Stop(SIGTERM, 120000);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 3) << status << serve_->Output();
  uint64_t decided = 0, dropped = 0;
  ASSERT_TRUE(Summary(serve_->Output(), &decided, &dropped)) << serve_->Output();
  EXPECT_GT(dropped, 0u);
  EXPECT_EQ(decided + dropped, static_cast<uint64_t>(n));
  EXPECT_NE(serve_->Output().find(std::to_string(dropped) + " received messages were not decided"),
            std::string::npos)
      << serve_->Output();
}

// juncture_timers_pending follows a reload that drops a journey's timers at once,
// not at the next message.
TEST_F(CoreFaults, TheTimersGaugeIsRightAfterAReload) {
  namespace fs = std::filesystem;
  std::string program = dir_.path() + "/program";
  fs::create_directories(program);
  const std::string head = R"(
event cart { cart_id: string  value: float }
channel email { consent true }
journey instant { on cart  reenter always  send email "cart_seen" }
)";
  auto write = [&](const std::string& text) {
    std::ofstream(program + "/shop.jny") << text;
  };
  write(head + "journey later { on cart  reenter always  wait 1h  send email \"later\" }\n");
  StartServeWithMetrics({"--no-watch"}, program);
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(client_.Publish("juncture.events.web", CartJson("c-" + std::to_string(i), "g" + std::to_string(i))));
  }
  ASSERT_TRUE(client_.Flush());
  ASSERT_TRUE(WaitForMetric("juncture_timers_pending", 10, 10000)) << serve_->Output();
  write(head);
  ::kill(serve_->pid(), SIGHUP);
  ASSERT_TRUE(serve_->WaitForOutput("reloaded", 30000)) << serve_->Output();
  EXPECT_EQ(Metric("juncture_timers_pending"), 0) << serve_->Output();
}

// A hostile customer id over the bound: a dead letter with its reason, counted as a
// limit hit; the next message is decided as usual.
TEST_F(CoreFaults, AnIdOverTheBoundIsADeadLetterAndAHitOfTheLimit) {
  StartServeWithMetrics({"--max-customer-id-bytes", "16"});
  ASSERT_TRUE(client_.Publish("juncture.events.web", CartJson(std::string(100, 'x'), "long")));
  ASSERT_TRUE(client_.Publish("juncture.events.web", CartJson("c-short", "short")));
  ASSERT_TRUE(client_.Flush());
  ASSERT_TRUE(WaitForMetric("juncture_messages_total", 2, 10000)) << serve_->Output();
  EXPECT_EQ(Metric(R"(juncture_limit_hits_total{limit="customer_id_bytes"})"), 1);
  EXPECT_EQ(Metric(R"(juncture_dead_letters_total{reason_kind="customer_id_too_long"})"), 1);
  EXPECT_EQ(Metric(R"(juncture_decisions_total{journey="instant",outcome="sent",reason=""})"), 1);
}

}  // namespace
}  // namespace juncture::itest
