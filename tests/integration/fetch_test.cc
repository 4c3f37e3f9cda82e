// serve/fetch.h against a real nats-server: a pull subscription that already holds
// more than half a batch (messages no fetch waited for) gives them back without
// ever returning more than asked, and every message of the stream comes out once,
// in order, also those that reach an older pull request while a fetch waits. (In
// exactly this state NATS.c 3.4's own natsSubscription_Fetch writes past the end of
// its result array: this test fails, or crashes, without FetchBatch's guard.)
#include "fetch.h"  // serve/, a private header of juncture_serve

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "jetstream_admin.h"
#include "process.h"

namespace juncture::itest {
namespace {

constexpr int kBatch = 256;

bool PublishN(natsConnection* nc, int from, int to) {
  std::vector<std::pair<std::string, std::string>> msgs;
  for (int i = from; i < to; ++i) msgs.emplace_back("fetch.m", "m" + std::to_string(i));
  return JsPublishAll(nc, msgs);
}

TEST(FetchBatch, MessagesAlreadyWaitingComeOutOnceInOrderNeverMoreThanAsked) {
  NatsServer nats;
  ASSERT_TRUE(nats.Start()) << nats.process().Output();
  natsConnection* nc = nullptr;
  ASSERT_EQ(natsConnection_ConnectTo(&nc, nats.url().c_str()), NATS_OK);
  jsCtx* js = nullptr;
  ASSERT_EQ(natsConnection_JetStream(&js, nc, nullptr), NATS_OK);
  ASSERT_TRUE(CreateStream(nc, StreamSpec{"FETCH", {"fetch.>"}}));
  ASSERT_TRUE(PublishN(nc, 0, 200));

  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Config.AckPolicy = js_AckNone;
  natsSubscription* sub = nullptr;
  ASSERT_EQ(js_PullSubscribe(&sub, js, "fetch.>", "d", nullptr, &so, nullptr), NATS_OK);

  // 200 messages into the subscription with no fetch waiting for them: a pull request
  // of the test's own, answered to the subscription's inbox.
  const std::string next = "$JS.API.CONSUMER.MSG.NEXT.FETCH.d";
  const char* inbox = natsSubscription_GetSubject(sub);
  ASSERT_EQ(natsConnection_PublishRequestString(nc, next.c_str(), inbox,
                                                R"({"batch":200,"no_wait":true})"),
            NATS_OK);
  int waiting = 0;
  for (int i = 0; i < 200 && waiting < 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    natsSubscription_GetPending(sub, &waiting, nullptr);
  }
  ASSERT_EQ(waiting, 200);
  // And an older request still open on the server, which takes the first 100 of the
  // messages published while the next fetch waits.
  ASSERT_EQ(natsConnection_PublishRequestString(nc, next.c_str(), inbox,
                                                R"({"batch":100,"expires":5000000000})"),
            NATS_OK);
  ASSERT_EQ(natsConnection_Flush(nc), NATS_OK);
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    PublishN(nc, 200, 400);
  });

  std::vector<uint64_t> seqs;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (seqs.size() < 400 && std::chrono::steady_clock::now() < deadline) {
    natsMsgList list{};
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus s = serve::FetchBatch(sub, kBatch, 500, &list, &code);
    if (s == NATS_OK) {
      EXPECT_LE(list.Count, kBatch) << "more than asked: written past the result array";
      for (int i = 0; i < list.Count; ++i) {
        jsMsgMetaData* meta = nullptr;
        if (natsMsg_GetMetaData(&meta, list.Msgs[i]) == NATS_OK) {
          seqs.push_back(meta->Sequence.Stream);
          jsMsgMetaData_Destroy(meta);
        }
      }
      natsMsgList_Destroy(&list);
    }
  }
  later.join();
  ASSERT_EQ(seqs.size(), 400u);
  for (size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], i + 1) << "at " << i;

  natsSubscription_Destroy(sub);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
}

}  // namespace
}  // namespace juncture::itest
