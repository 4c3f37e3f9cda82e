// serve/pull_consumer.h against a real nats-server: JetStream's pull protocol spoken
// without waiting. Every message of the stream comes out once, in order, across
// requests that fill and requests that expire; the acks it sends are the server's
// acks; and the consumer's position it asks for is the server's, answered only after
// everything published before the question.
#include "pull_consumer.h"  // serve/, a private header of juncture_serve

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "jetstream_admin.h"
#include "publisher.h"  // serve::SteadyNs, the clock the two take
#include "process.h"

namespace juncture::itest {
namespace {

using Clock = std::chrono::steady_clock;

bool PublishN(natsConnection* nc, int from, int to) {
  std::vector<std::pair<std::string, std::string>> msgs;
  for (int i = from; i < to; ++i) msgs.emplace_back("pull.m", "m" + std::to_string(i));
  return JsPublishAll(nc, msgs);
}

// Polls `step` (with NATS.c's own threads reading the socket) until it says done.
bool Until(const std::function<bool()>& step, int seconds = 10) {
  const auto deadline = Clock::now() + std::chrono::seconds(seconds);
  while (Clock::now() < deadline) {
    if (step()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return false;
}

class PullConsumerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(nats_.Start()) << nats_.process().Output();
    ASSERT_EQ(natsConnection_ConnectTo(&nc_, nats_.url().c_str()), NATS_OK);
    ASSERT_EQ(natsConnection_JetStream(&js_, nc_, nullptr), NATS_OK);
    ASSERT_TRUE(CreateStream(nc_, StreamSpec{"PULL", {"pull.>"}}));
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = "d";
    cc.AckPolicy = js_AckExplicit;
    cc.MaxAckPending = 1 << 20;
    jsConsumerInfo* info = nullptr;
    ASSERT_EQ(js_AddConsumer(&info, js_, "PULL", &cc, nullptr, nullptr), NATS_OK);
    jsConsumerInfo_Destroy(info);
  }
  void TearDown() override {
    pull_.reset();
    if (js_) jsCtx_Destroy(js_);
    if (nc_) natsConnection_Destroy(nc_);
  }
  void Make(int batch, int64_t expires_ms) {
    Result<std::unique_ptr<serve::PullConsumer>> p =
        serve::PullConsumer::Create(nc_, "PULL", "d", batch, expires_ms);
    ASSERT_TRUE(p.ok()) << p.status().message();
    pull_ = *std::move(p);
    ASSERT_EQ(natsConnection_Flush(nc_), NATS_OK);  // the inboxes are subscribed
  }
  // Takes (asking as needed) until `n` messages came; their stream sequences.
  std::vector<uint64_t> TakeN(size_t n, std::vector<natsMsg*>* keep = nullptr) {
    std::vector<uint64_t> seqs;
    std::vector<natsMsg*> got;
    Until([&] {
      EXPECT_TRUE(pull_->Ask(serve::SteadyNs()).ok());
      natsConnection_Flush(nc_);
      got.clear();
      pull_->Take(64, &got, serve::SteadyNs());
      for (natsMsg* m : got) {
        jsMsgMetaData* meta = nullptr;
        EXPECT_EQ(natsMsg_GetMetaData(&meta, m), NATS_OK);
        if (meta != nullptr) seqs.push_back(meta->Sequence.Stream);
        jsMsgMetaData_Destroy(meta);
        if (keep != nullptr) {
          keep->push_back(m);
        } else {
          natsMsg_Destroy(m);
        }
      }
      return seqs.size() >= n;
    });
    return seqs;
  }

  NatsServer nats_;
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
  std::unique_ptr<serve::PullConsumer> pull_;
};

TEST_F(PullConsumerTest, EveryMessageComesOnceInOrderAcrossFilledAndExpiredRequests) {
  Make(50, 200);
  ASSERT_TRUE(PublishN(nc_, 0, 120));
  std::vector<uint64_t> seqs = TakeN(120);
  EXPECT_EQ(pull_->outstanding(), 50 * static_cast<int64_t>(pull_->requests()) - 120);
  // After an Ask, between one and two batches are asked for and not delivered.
  ASSERT_TRUE(pull_->Ask(serve::SteadyNs()).ok());
  EXPECT_GE(pull_->outstanding(), 50);
  EXPECT_LT(pull_->outstanding(), 100);
  const uint64_t requests = pull_->requests();
  EXPECT_GE(requests, 4u);  // 120 delivered and at least 50 more asked
  // They expire (each 408 status says how much of its request it did not deliver)
  // and nothing is counted as asked any more; the next request brings what comes.
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  std::vector<natsMsg*> none;
  pull_->Take(64, &none, serve::SteadyNs());
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(pull_->outstanding(), 0) << "an expired request still counts as asked";
  ASSERT_TRUE(pull_->Ask(serve::SteadyNs()).ok());
  EXPECT_EQ(pull_->requests(), requests + 1);
  ASSERT_TRUE(PublishN(nc_, 120, 130));
  std::vector<uint64_t> later = TakeN(10);
  seqs.insert(seqs.end(), later.begin(), later.end());
  ASSERT_EQ(seqs.size(), 130u);
  for (size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], i + 1) << "at " << i;
}

TEST_F(PullConsumerTest, AcksReachTheServerAndThePositionIsTheServers) {
  Make(30, 200);
  ASSERT_TRUE(PublishN(nc_, 0, 30));
  std::vector<natsMsg*> msgs;
  ASSERT_EQ(TakeN(30, &msgs).size(), 30u);
  // Delivered, not acked: the server's position says so.
  ASSERT_TRUE(pull_->AskPosition(1234).ok());
  ASSERT_TRUE(Until([&] {
    natsConnection_Flush(nc_);
    return pull_->TakeAnswers();
  }));
  EXPECT_EQ(pull_->answered(), 1u);
  ASSERT_TRUE(pull_->has_position()) << pull_->error();
  EXPECT_EQ(pull_->position().num_pending, 0u);
  EXPECT_EQ(pull_->position().delivered_seq, 30u);
  EXPECT_EQ(pull_->position().asked_wall_us, 1234);
  EXPECT_EQ(GetConsumer(nc_, "PULL", "d").ack_pending, 30);
  // Acked through the connection: the server has them.
  for (natsMsg* m : msgs) {
    EXPECT_EQ(pull_->Ack(m), NATS_OK);
    natsMsg_Destroy(m);
  }
  ASSERT_EQ(natsConnection_Flush(nc_), NATS_OK);
  ConsumerFacts after = GetConsumer(nc_, "PULL", "d");
  EXPECT_EQ(after.ack_pending, 0);
  EXPECT_EQ(after.ack_floor, 30u);
  // Messages stored while none is asked for (the requests expired) are pending in
  // the next answer.
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  std::vector<natsMsg*> none;
  pull_->Take(64, &none, serve::SteadyNs());
  ASSERT_TRUE(none.empty());
  ASSERT_EQ(pull_->outstanding(), 0);
  ASSERT_TRUE(PublishN(nc_, 30, 35));
  ASSERT_TRUE(pull_->AskPosition(5678).ok());
  ASSERT_TRUE(Until([&] {
    natsConnection_Flush(nc_);
    return pull_->TakeAnswers();
  }));
  EXPECT_EQ(pull_->answered(), 2u);
  EXPECT_EQ(pull_->position().asked_wall_us, 5678);
  EXPECT_EQ(pull_->position().delivered_seq, 30u);
  EXPECT_EQ(pull_->position().num_pending, 5u);
  EXPECT_EQ(TakeN(5).size(), 5u);  // the next request takes them
}

TEST_F(PullConsumerTest, AnEchoComesBackAfterWhatWasPublishedBeforeIt) {
  Make(10, 1000);
  natsSubscription* watcher = nullptr;  // another client, as a decision log reader
  natsConnection* other = nullptr;
  ASSERT_EQ(natsConnection_ConnectTo(&other, nats_.url().c_str()), NATS_OK);
  ASSERT_EQ(natsConnection_SubscribeSync(&watcher, other, "log.>"), NATS_OK);
  ASSERT_EQ(natsConnection_Flush(other), NATS_OK);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(natsConnection_PublishString(nc_, "log.line", "x"), NATS_OK);
  }
  Result<uint64_t> one = pull_->Echo();
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(*one, 1u);
  ASSERT_TRUE(Until([&] {
    pull_->TakeAnswers();
    return pull_->echoed() >= 1;
  }));
  EXPECT_EQ(pull_->answered(), 0u);  // an echo is not an answer about the consumer
  // The server had routed every line before it: the reader has them all.
  int pending = 0;
  ASSERT_TRUE(Until([&] {
    natsSubscription_GetPending(watcher, &pending, nullptr);
    return pending == 1000;
  }));
  natsSubscription_Destroy(watcher);
  natsConnection_Destroy(other);
}

TEST_F(PullConsumerTest, AnEmptyEventWithAStatusHeaderIsAMessageNotTheServersStatus) {
  natsMsg* m = nullptr;
  ASSERT_EQ(natsMsg_Create(&m, "pull.m", nullptr, nullptr, 0), NATS_OK);
  ASSERT_EQ(natsMsgHeader_Set(m, "Status", "408"), NATS_OK);
  jsPubAck* pa = nullptr;
  ASSERT_EQ(js_PublishMsg(&pa, js_, m, nullptr, nullptr), NATS_OK);
  jsPubAck_Destroy(pa);
  natsMsg_Destroy(m);
  Make(10, 1000);
  std::vector<uint64_t> seqs = TakeN(1);
  ASSERT_EQ(seqs.size(), 1u);
  EXPECT_EQ(seqs[0], 1u);
}

TEST_F(PullConsumerTest, AnAnswerForAConsumerThatIsGoneIsAnErrorNotAPosition) {
  Make(10, 1000);
  ASSERT_EQ(js_DeleteConsumer(js_, "PULL", "d", nullptr, nullptr), NATS_OK);
  ASSERT_TRUE(pull_->AskPosition(1).ok());
  ASSERT_TRUE(Until([&] {
    natsConnection_Flush(nc_);
    return pull_->TakeAnswers();
  }));
  EXPECT_EQ(pull_->answered(), 1u);
  EXPECT_FALSE(pull_->has_position());
  EXPECT_NE(pull_->error().find("consumer not found"), std::string::npos) << pull_->error();
}

}  // namespace
}  // namespace juncture::itest
