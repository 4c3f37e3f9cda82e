// Fault injection against `juncture serve --jetstream` and a real nats-server: each
// test makes one failure happen and checks the guarantee docs/serve.md states for it
// (the table "Faults" there names these tests).
#include <signal.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "jetstream_fixture.h"

namespace juncture::itest {
namespace {

namespace fs = std::filesystem;

class JetStreamFaults : public JetStreamFixture {
 protected:
  // Every action id of carts prefix{from..to-1} in the test program (shop.jny): the
  // instant email and the push two seconds later.
  static std::set<std::string> ShopActions(const std::string& prefix, int from, int to) {
    std::set<std::string> out;
    for (int i = from; i < to; ++i) {
      out.insert(prefix + std::to_string(i) + ":instant:s1");
      out.insert(prefix + std::to_string(i) + ":later:s2");
    }
    return out;
  }
  // Waits until the stored actions are exactly `expected`, each stored once.
  void ExpectStoredExactly(const std::set<std::string>& expected, int timeout_ms,
                           const std::string& stream = "JUNCTURE_ACTIONS") {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    std::map<std::string, int> stored;
    while (std::chrono::steady_clock::now() < deadline) {
      stored = StoredActions(stream);
      if (stored.size() >= expected.size()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // anything late would show
    stored = StoredActions(stream);
    std::set<std::string> got;
    for (const auto& [id, n] : stored) {
      EXPECT_EQ(n, 1) << id << " stored " << n << " times";
      got.insert(id);
    }
    EXPECT_EQ(got, expected) << serve_->Output();
  }
  void ExpectAFullActionsStreamToPauseServe(const std::vector<std::string>& args);
  void ExpectLostDeliveriesToBeDecided(const std::vector<std::string>& args);
  void ExpectAServerStallToChangeNoDecision(const std::vector<std::string>& args);
};

// A full actions stream (max_msgs with discard new) refuses actions: serve must not
// ack their events nor write a checkpoint past them; it says so in the log and the
// metrics, and stores them once the stream takes them again.
void JetStreamFaults::ExpectAFullActionsStreamToPauseServe(const std::vector<std::string>& args) {
  ASSERT_TRUE(CreateStream(client_.connection(),
                           {"JUNCTURE_ACTIONS", {"juncture.actions.>"}, int64_t{3600} * 1'000'000'000,
                            /*max_msgs=*/10, /*discard_new=*/true}));
  StartJs(args);
  PublishToStream("f", 0, 30);
  ASSERT_TRUE(WaitForMetric(R"(juncture_publish_failures_total{output="action",reason="refused"})",
                            1, 15000))
      << serve_->Output();
  ASSERT_TRUE(WaitForMetric("juncture_intake_paused", 1, 15000)) << serve_->Output();
  ASSERT_TRUE(serve_->WaitForOutput("maximum messages exceeded", 10000)) << serve_->Output();
  EXPECT_NE(serve_->Output().find("juncture.actions."), std::string::npos) << serve_->Output();
  EXPECT_GE(Metric("juncture_checkpoint_failures_total"), 1);
  EXPECT_GE(Metric("juncture_actions_unstored"), 1);
  // Nothing past the refused actions is acked.
  ConsumerFacts consumer = GetConsumer(client_.connection(), "JUNCTURE_EVENTS", "juncture");
  EXPECT_LE(consumer.ack_floor, 10u);  // the 11th cart's email was the first refused
  EXPECT_EQ(StoredActions().size(), 10u);

  // The operator makes room: every action is stored, once, and every event acked.
  ASSERT_TRUE(UpdateStream(client_.connection(), "JUNCTURE_ACTIONS",
                           [](jsStreamConfig& c) { c.MaxMsgs = -1; }));
  ExpectStoredExactly(ShopActions("f", 0, 30), 30000);
  EXPECT_TRUE(WaitForAcked(30, 10000)) << serve_->Output();
  EXPECT_TRUE(serve_->WaitForOutput("taking messages again", 5000)) << serve_->Output();
  EXPECT_EQ(Metric("juncture_intake_paused"), 0);
  int status = serve_->Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << serve_->Output();
}

TEST_F(JetStreamFaults, AFullActionsStreamPausesServeUntilEveryActionIsStored) {
  ExpectAFullActionsStreamToPauseServe({});
}

// The same with two shards: the refused actions are published again (from shard 0's
// publisher, with every shard parked) and the checkpoint waits for all of them.
TEST_F(JetStreamFaults, AFullActionsStreamPausesTwoShardsUntilEveryActionIsStored) {
  ExpectAFullActionsStreamToPauseServe({"--shards", "2"});
}

// The actions stream deleted while serve runs: the actions published meanwhile find
// no stream (nats-server does not answer them); serve creates it again and stores
// them there.
TEST_F(JetStreamFaults, AnActionsStreamDeletedWhileServingIsCreatedAgainAndFilled) {
  StartJs();
  PublishToStream("d", 0, 10);
  ASSERT_TRUE(WaitForStoredActions(20, 15000)) << serve_->Output();  // emails and pushes
  ASSERT_TRUE(DeleteStream(client_.connection(), "JUNCTURE_ACTIONS"));
  PublishToStream("e", 0, 10);
  ASSERT_TRUE(WaitForMetric(R"(juncture_publish_failures_total{output="action",reason="no_ack"})",
                            1, 15000))
      << serve_->Output();
  ExpectStoredExactly(ShopActions("e", 0, 10), 30000);
  EXPECT_NE(serve_->Output().find("created stream JUNCTURE_ACTIONS"), std::string::npos)
      << serve_->Output();
  EXPECT_TRUE(WaitForAcked(20, 10000)) << serve_->Output();
}

// nats-server stalls (SIGSTOP) while serve catches up after a restart. Fetches
// time out, yet older messages wait in the stream: timers must not fire at the wall
// clock before them. The decisions must be those of an uninterrupted replay, which
// the stream's own timestamps determine: a cart's push is sent if and only if the
// customer's purchase was stored three seconds or more after the cart (watch.jny).
void JetStreamFaults::ExpectAServerStallToChangeNoDecision(const std::vector<std::string>& args) {
  const int n = 4000, late = 100;  // customers u0..u99 buy too late for their push
  const int64_t wait_ns = 3'000'000'000;
  const std::string program = FaultProgram();
  StartJs(args, program);
  std::vector<std::pair<std::string, std::string>> carts, purchases, late_purchases;
  for (int i = 0; i < n; ++i) {
    std::string c = "u" + std::to_string(i);
    carts.emplace_back("juncture.events.web", CartJson(c, "c" + std::to_string(i)));
    (i < late ? late_purchases : purchases)
        .emplace_back("juncture.events.web",
                      R"({"type":"track","event":"purchase","messageId":"p)" + std::to_string(i) +
                          R"(","userId":")" + c +
                          R"(","timestamp":"2026-11-23T10:00:01Z","properties":{"order_id":"o)" +
                          std::to_string(i) + R"("}})");
  }
  ASSERT_TRUE(JsPublishAll(client_.connection(), carts));
  ASSERT_TRUE(WaitForAcked(n, 30000)) << serve_->Output();  // carts decided and checkpointed
  serve_->Stop(SIGKILL);
  ASSERT_TRUE(JsPublishAll(client_.connection(), purchases));
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));  // every push timer is now due
  ASSERT_TRUE(JsPublishAll(client_.connection(), late_purchases));

  // Restart; stall the server as soon as the catch-up shows.
  size_t before = client_.On("juncture.decisions.").size();
  StartJs(args, program);
  ASSERT_TRUE(client_.WaitForCount("juncture.decisions.", before + 1, 15000));
  nats_.Freeze();
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  nats_.Thaw();
  ASSERT_TRUE(WaitForAcked(2 * n, 60000)) << serve_->Output();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  // The oracle: the stream's timestamps.
  std::map<std::string, int64_t> cart_at, purchase_at;
  for (const Received& r : ReadStream(client_.connection(), "JUNCTURE_EVENTS", "juncture.events.>")) {
    std::string customer = JsonField(r.data, "userId");
    (JsonField(r.data, "event") == "cart" ? cart_at : purchase_at)[customer] = r.stored_ns;
  }
  ASSERT_EQ(cart_at.size(), static_cast<size_t>(n));
  std::set<std::string> expected_pushes;
  for (const auto& [customer, at] : cart_at) {
    if (purchase_at.at(customer) >= at + wait_ns) {
      expected_pushes.insert("c" + customer.substr(1) + ":watch:s2");
    }
  }
  // Both outcomes occur, or the test would not tell early timers from right ones.
  ASSERT_GE(expected_pushes.size(), static_cast<size_t>(late));
  ASSERT_LT(expected_pushes.size(), static_cast<size_t>(n))
      << "this machine took over 3 s to publish and decide the carts; the test needs less";
  std::set<std::string> pushes;
  for (const auto& [id, count] : StoredActions()) {
    EXPECT_EQ(count, 1) << id;
    if (id.find(":watch:") != std::string::npos) pushes.insert(id);
  }
  EXPECT_EQ(pushes.size(), expected_pushes.size());
  EXPECT_EQ(pushes, expected_pushes) << serve_->Output();
}

TEST_F(JetStreamFaults, AServerStallDuringCatchUpChangesNoDecision) {
  ExpectAServerStallToChangeNoDecision({});
}

// The same with two shards: each fires its timers on the fetch loop's order, after
// the messages handed to it before the proof.
TEST_F(JetStreamFaults, AServerStallDuringCatchUpChangesNoDecisionOfTwoShards) {
  ExpectAServerStallToChangeNoDecision({"--shards", "2"});
}

// A stream that holds other subjects than serve's: the consumer's filter skips
// them, and timers must still fire when nothing of serve's is pending.
TEST_F(JetStreamFaults, TimersFireOnAStreamThatAlsoHoldsOtherSubjects) {
  ASSERT_TRUE(CreateStream(client_.connection(),
                           {"JUNCTURE_EVENTS", {"juncture.events.>", "other.>"}}));
  StartJs();
  PublishToStream("o", 0, 3);
  ASSERT_TRUE(client_.JsPublish("other.thing", "{}"));
  ExpectStoredExactly(ShopActions("o", 0, 3), 20000);
}

// nats-server killed (-9) and restarted on its store while serve runs: serve
// reconnects; unacknowledged actions are published again and stored once.
TEST_F(JetStreamFaults, NatsServerKilledMidStreamLosesNothingAndRepeatsNoSend) {
  const int n = 2000;
  StartJs();
  std::vector<std::pair<std::string, std::string>> carts;
  for (int i = 0; i < n; ++i) {
    std::string id = "k" + std::to_string(i);
    carts.emplace_back("juncture.events.web", CartJson("c-" + id, id));
  }
  ASSERT_TRUE(JsPublishAll(client_.connection(), carts));
  // Killed while serve publishes the burst's actions: frozen first, so that the
  // actions serve writes meanwhile are in the dead server's socket, never acked.
  ASSERT_TRUE(client_.WaitForCount("juncture.actions.email", 1, 15000)) << serve_->Output();
  nats_.Freeze();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_TRUE(nats_.Restart(SIGKILL)) << nats_.process().Output();
  ExpectStoredExactly(ShopActions("k", 0, n), 60000);
  // (Acks sent to the dead server are lost: the restarted one delivers those events
  // again after the consumer's 60 s ack wait, and serve acks them without deciding
  // them again; the test does not wait for that.)
  // Whether an action was in flight at the kill depends on timing (most runs have
  // some: reason="no_ack", published again); the refusal path itself is proven by
  // the full and deleted actions stream tests above.
}

// A full state directory (a small tmpfs): checkpoints fail, nothing is acked, the
// intake pauses; with space again serve goes on. A final
// checkpoint that fails makes the exit code 3.
// Deliveries lost on the way (as when a connection drops with messages written into
// it): here a pull request of the test's own, on serve's durable consumer, takes
// three messages that serve would have taken. serve sees the jump in the consumer's
// delivery numbers and starts the consumer again after the last message it decided,
// so the three are decided now, not acked undecided after the ack wait (60 s).
void JetStreamFaults::ExpectLostDeliveriesToBeDecided(const std::vector<std::string>& args) {
  StartJs(args);
  PublishToStream("g", 0, 5);
  ExpectStoredExactly(ShopActions("g", 0, 5), 15000);
  // serve stopped until its own pull requests expired (a second): the test's is then
  // the only one open, and takes the next three messages.
  ASSERT_EQ(kill(serve_->pid(), SIGSTOP), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  natsSubscription* stolen = nullptr;
  ASSERT_EQ(natsConnection_SubscribeSync(&stolen, client_.connection(), "stolen.inbox"), NATS_OK);
  ASSERT_EQ(natsConnection_PublishRequestString(
                client_.connection(), "$JS.API.CONSUMER.MSG.NEXT.JUNCTURE_EVENTS.juncture",
                "stolen.inbox", R"({"batch":3,"expires":5000000000})"),
            NATS_OK);
  ASSERT_EQ(natsConnection_Flush(client_.connection()), NATS_OK);
  PublishToStream("g", 5, 20);
  int stolen_count = 0;
  for (int i = 0; i < 100 && stolen_count < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    natsSubscription_GetPending(stolen, &stolen_count, nullptr);
  }
  natsSubscription_Destroy(stolen);
  ASSERT_EQ(stolen_count, 3);
  ASSERT_EQ(kill(serve_->pid(), SIGCONT), 0);
  ExpectStoredExactly(ShopActions("g", 0, 20), 20000);
  EXPECT_TRUE(serve_->WaitForOutput("deliveries were lost", 1000)) << serve_->Output();
}

TEST_F(JetStreamFaults, DeliveriesLostOnTheWayAreDecidedAfterTheConsumerStartsAgain) {
  ExpectLostDeliveriesToBeDecided({});
}

// With shards the fetch loop sees the jump; it checkpoints (acking what the old
// subscription brought) before the consumer starts again.
TEST_F(JetStreamFaults, DeliveriesLostOnTheWayAreDecidedByTwoShardsToo) {
  ExpectLostDeliveriesToBeDecided({"--shards", "2"});
}

TEST_F(JetStreamFaults, AFullStateDirectoryStopsTheAcksAndAFailedFinalCheckpointExits3) {
  TmpfsMount tmpfs(StateDir(), "256k");
  if (!tmpfs.mounted()) GTEST_SKIP() << tmpfs.why();
  StartJs();
  PublishToStream("a", 0, 5);
  ASSERT_TRUE(WaitForAcked(5, 15000)) << serve_->Output();
  // Fill the disk.
  {
    std::ofstream filler(StateDir() + "/filler", std::ios::binary);
    std::string block(4096, 'x');
    while (filler.write(block.data(), block.size())) {
    }
  }
  PublishToStream("b", 0, 20);
  ASSERT_TRUE(WaitForMetric("juncture_checkpoint_failures_total", 1, 15000)) << serve_->Output();
  ASSERT_TRUE(serve_->WaitForOutput("No space left on device", 5000)) << serve_->Output();
  EXPECT_EQ(Metric("juncture_intake_paused"), 1);
  EXPECT_LE(GetConsumer(client_.connection(), "JUNCTURE_EVENTS", "juncture").ack_floor, 5u);
  // A stop now cannot write its checkpoint: exit code 3, and the log says why.
  int status = serve_->Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 3) << status << serve_->Output();
  EXPECT_NE(serve_->Output().find("final checkpoint failed"), std::string::npos);

  // Space again: a restart decides the unacked messages again, and each action is
  // stored once.
  fs::remove(StateDir() + "/filler");
  StartJs();
  ExpectStoredExactly([] {
    std::set<std::string> all = ShopActions("a", 0, 5);
    all.merge(ShopActions("b", 0, 20));
    return all;
  }(), 30000);
  EXPECT_TRUE(WaitForAcked(25, 15000)) << serve_->Output();
}

}  // namespace
}  // namespace juncture::itest
