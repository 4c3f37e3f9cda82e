// `juncture serve --jetstream`: kill -9 and restart lose no decision and repeat no
// `sent` (the actions stream holds each action once), also across timers.
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <map>
#include <set>

#include "jetstream_fixture.h"

namespace juncture::itest {
namespace {

class JetStreamServe : public JetStreamFixture {
 protected:
  void StartJs() {
    StartServe({"--jetstream", "--state-dir", StateDir(), "--checkpoint-ms", "300"});
  }
};

TEST_F(JetStreamServe, KillNineAndRestartLoseNothingAndRepeatNoSend) {
  StartJs();
  PublishToStream("a", 0, 40);
  ASSERT_TRUE(client_.WaitForCount("juncture.actions.email", 40, 15000)) << serve_->Output();
  // Killed at once: the last decisions are most likely not checkpointed yet, and
  // the 40 two-second timers are pending.
  serve_->Stop(SIGKILL);
  PublishToStream("b", 0, 40);  // arrives while no one decides
  StartJs();
  // Killed again once b's emails are out and checkpointed (--checkpoint-ms 300),
  // before their two-second timers fire: the timers must come back from the
  // checkpoint.
  ASSERT_TRUE(client_.WaitFor(
      [](const std::vector<Received>& all) {
        size_t n = 0;
        for (const Received& r : all) n += r.subject == "juncture.actions.email" && r.msg_id.rfind("b", 0) == 0;
        return n >= 40;
      },
      15000))
      << serve_->Output();
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  serve_->Stop(SIGKILL);
  StartJs();
  EXPECT_NE(serve_->Output().find("resumed from the checkpoint"), std::string::npos)
      << serve_->Output();

  ASSERT_TRUE(WaitForStoredActions(160, 30000)) << StoredActions().size() << "\n" << serve_->Output();
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // anything late would show
  std::map<std::string, int> stored = StoredActions();
  std::set<std::string> expected;
  for (const char* p : {"a", "b"}) {
    for (int i = 0; i < 40; ++i) {
      expected.insert(p + std::to_string(i) + ":instant:s1");
      expected.insert(p + std::to_string(i) + ":later:s2");
    }
  }
  std::set<std::string> got;
  for (const auto& [id, n] : stored) {
    EXPECT_EQ(n, 1) << id << " stored " << n << " times";
    got.insert(id);
  }
  EXPECT_EQ(got, expected);
  // The decision log lost nothing either (it may repeat: core NATS subscribers see
  // a replay; the ids are stable).
  std::set<std::string> logged;
  for (const Received& r : client_.On("juncture.decisions.")) logged.insert(JsonField(r.data, "id"));
  for (const std::string& id : expected) EXPECT_TRUE(logged.count(id)) << id;

  int status = serve_->Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << serve_->Output();
}

// With two shards, the fetch loop routes each message by its customer: a message
// without one, or not even JSON, goes to shard 0, which makes it a dead letter (with
// the message's own bytes); it is acked like any other, and the others are decided.
TEST_F(JetStreamServe, TwoShardsMakeAMessageWithoutACustomerADeadLetterAndLoseNothingElse) {
  StartServe({"--jetstream", "--state-dir", StateDir(), "--checkpoint-ms", "300", "--shards", "2"});
  ASSERT_TRUE(client_.JsPublish(
      "juncture.events.web",
      R"({"type":"track","event":"cart","messageId":"nobody","timestamp":"2026-11-23T10:00:00Z","properties":{}})"));
  ASSERT_TRUE(client_.JsPublish("juncture.events.web", "not json at all"));
  PublishToStream("a", 0, 20);
  ASSERT_TRUE(client_.WaitForCount("juncture.deadletter", 2, 10000)) << serve_->Output();
  ASSERT_TRUE(client_.WaitForCount("juncture.actions.email", 20, 10000)) << serve_->Output();
  std::set<std::string> dead;
  for (const Received& r : client_.On("juncture.deadletter")) dead.insert(r.data);
  EXPECT_EQ(dead.count("not json at all"), 1u);
  EXPECT_EQ(std::count_if(dead.begin(), dead.end(),
                          [](const std::string& d) { return d.find("\"nobody\"") != std::string::npos; }),
            1);
  EXPECT_TRUE(WaitForAcked(22, 10000)) << serve_->Output();
  int status = serve_->Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << serve_->Output();
}

}  // namespace
}  // namespace juncture::itest
