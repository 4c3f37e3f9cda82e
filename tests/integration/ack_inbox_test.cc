// serve/ack_inbox.h against a real nats-server: actions published to a stream with
// their acknowledgements read by the caller's thread. Each comes to ActionAcks as
// NATS.c's own handler would give it: stored, refused by the stream (with its
// error), refused for want of a stream (no responders), or, with no answer within
// the timeout, refused as unacknowledged; a refused action is kept for another try.
#include "ack_inbox.h"  // serve/, a private header of juncture_serve

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "action_acks.h"
#include "client.h"
#include "nats_raw.h"
#include "jetstream_admin.h"
#include "publisher.h"  // serve::SteadyNs, the clock the two take
#include "process.h"

namespace juncture::itest {
namespace {

using Clock = std::chrono::steady_clock;

natsMsg* Action(const std::string& subject, const std::string& id) {
  natsMsg* m = nullptr;
  EXPECT_EQ(natsMsg_Create(&m, subject.c_str(), nullptr, "{}", 2), NATS_OK);
  EXPECT_EQ(natsMsgHeader_Set(m, "Nats-Msg-Id", id.c_str()), NATS_OK);
  return m;
}

class AckInboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(nats_.Start()) << nats_.process().Output();
    ASSERT_EQ(natsConnection_ConnectTo(&nc_, nats_.url().c_str()), NATS_OK);
    StreamSpec spec{"ACTS", {"acts.>"}};
    spec.max_msgs = 3;
    spec.discard_new = true;
    ASSERT_TRUE(CreateStream(nc_, spec));
  }
  void TearDown() override {
    inbox_.reset();
    acks_.reset();
    if (nc_) natsConnection_Destroy(nc_);
  }
  void Make(int64_t timeout_ms) {
    acks_ = std::make_unique<serve::ActionAcks>("ACTS", timeout_ms, nullptr);
    Result<std::unique_ptr<serve::AckInbox>> a =
        serve::AckInbox::Create(nc_, acks_.get(), timeout_ms);
    ASSERT_TRUE(a.ok()) << a.status().message();
    inbox_ = *std::move(a);
    ASSERT_EQ(natsConnection_Flush(nc_), NATS_OK);
  }
  // Reads acknowledgements until none is pending (or 10 s).
  void Settle() {
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (inbox_->pending() > 0 && Clock::now() < deadline) {
      inbox_->TakeAcks(serve::SteadyNs(), 10);
    }
  }

  NatsServer nats_;
  natsConnection* nc_ = nullptr;
  std::unique_ptr<serve::ActionAcks> acks_;
  std::unique_ptr<serve::AckInbox> inbox_;
};

TEST_F(AckInboxTest, StoredRefusedAndStreamlessActionsAreToldApart) {
  Make(5000);
  for (int i = 0; i < 4; ++i) {  // the stream holds 3: the fourth is refused
    const std::string id = "id-" + std::to_string(i);
    ASSERT_TRUE(inbox_->Publish(Action("acts.email", id), serve::SteadyNs()));
  }
  // A duplicate: stored (acknowledged as such).
  ASSERT_TRUE(inbox_->Publish(Action("acts.email", "id-0"), serve::SteadyNs()));
  EXPECT_EQ(inbox_->pending(), 5u);
  Settle();
  EXPECT_EQ(inbox_->pending(), 0u);
  EXPECT_EQ(acks_->answers(), 5u);
  EXPECT_EQ(acks_->stored(), 4u);
  std::vector<serve::Refusal> refused = acks_->Take();
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].kind, "refused");
  EXPECT_NE(refused[0].Describe().find("acts.email (id id-3): maximum messages exceeded"),
            std::string::npos)
      << refused[0].Describe();
  natsMsg_Destroy(refused[0].msg);
  EXPECT_EQ(GetStream(nc_, "ACTS").msgs, 3u);
  // No stream on the subject: refused at once (well within the timeout), as such.
  const auto start = Clock::now();
  ASSERT_TRUE(inbox_->Publish(Action("nostream.email", "id-9"), serve::SteadyNs()));
  Settle();
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(2));
  refused = acks_->Take();
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].kind, "no_stream");
  EXPECT_NE(refused[0].Describe().find("nostream.email (id id-9)"), std::string::npos);
  natsMsg_Destroy(refused[0].msg);
}

TEST_F(AckInboxTest, AnActionNobodyAcknowledgesIsRefusedAtItsTimeout) {
  Make(200);
  // A core subscriber on the subject: no "no responders", and no acknowledgement.
  natsSubscription* quiet = nullptr;
  ASSERT_EQ(natsConnection_SubscribeSync(&quiet, nc_, "quiet.>"), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(nc_), NATS_OK);
  ASSERT_TRUE(inbox_->Publish(Action("quiet.sms", "id-q"), serve::SteadyNs()));
  inbox_->TakeAcks(serve::SteadyNs(), 50);
  EXPECT_EQ(inbox_->pending(), 1u) << "refused before its timeout";
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  inbox_->TakeAcks(serve::SteadyNs());
  EXPECT_EQ(inbox_->pending(), 0u);
  std::vector<serve::Refusal> refused = acks_->Take();
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].kind, "no_ack");
  natsMsg_Destroy(refused[0].msg);
  natsSubscription_Destroy(quiet);
}

// The actions as serve publishes them with one shard: each made in one block with its
// Nats-Msg-Id as header bytes (nats_raw.h), kept until answered. The stream stores
// them with their id (and drops a second one with the same id as a duplicate); a
// refused one describes itself by its id and, published again, is stored with it.
TEST_F(AckInboxTest, ActionsMadeInOneBlockAreStoredWithTheirIdsAndPublishedAgainWithThem) {
  EXPECT_TRUE(serve::MessagesMadeInOneBlock()) << "NATS.c " << nats_GetVersion()
                                               << ": the fallback is what runs here";
  Make(5000);
  for (int i = 0; i < 4; ++i) {  // the stream holds 3: the fourth is refused
    const std::string id = "blk-" + std::to_string(i);
    ASSERT_TRUE(inbox_->PublishAction("acts.push", "Nats-Msg-Id", id,
                                      "{\"n\":" + std::to_string(i) + "}", serve::SteadyNs()));
  }
  ASSERT_TRUE(inbox_->PublishAction("acts.push", "Nats-Msg-Id", "blk-0", "{\"n\":0}",
                                    serve::SteadyNs()));  // a duplicate: stored already
  Settle();
  EXPECT_EQ(acks_->answers(), 5u);
  EXPECT_EQ(acks_->stored(), 4u);
  std::vector<serve::Refusal> refused = acks_->Take();
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_NE(refused[0].Describe().find("acts.push (id blk-3)"), std::string::npos)
      << refused[0].Describe();
  std::vector<Received> stored = ReadStream(nc_, "ACTS", "acts.>");
  ASSERT_EQ(stored.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(stored[i].msg_id, "blk-" + std::to_string(i));
    EXPECT_EQ(stored[i].data, "{\"n\":" + std::to_string(i) + "}");
  }
  // Room again: the refused one, published again, is stored with its id and data.
  jsCtx* js = nullptr;
  ASSERT_EQ(natsConnection_JetStream(&js, nc_, nullptr), NATS_OK);
  jsErrCode code = static_cast<jsErrCode>(0);
  ASSERT_EQ(js_PurgeStream(js, "ACTS", nullptr, &code), NATS_OK);
  jsCtx_Destroy(js);
  ASSERT_TRUE(inbox_->Publish(refused[0].msg, serve::SteadyNs()));
  Settle();
  EXPECT_EQ(acks_->stored(), 5u);
  EXPECT_EQ(acks_->refused(), 0u);
  stored = ReadStream(nc_, "ACTS", "acts.>");
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].msg_id, "blk-3");
  EXPECT_EQ(stored[0].data, "{\"n\":3}");
}

}  // namespace
}  // namespace juncture::itest
