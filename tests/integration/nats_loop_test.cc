// serve/nats_loop.h against a real nats-server: a connection the loop drives writes
// nothing until the loop's Flush, and then everything at once, in order; a publish
// from another thread wakes a loop that waits with no timeout; a synchronous
// subscription receives what the loop's Poll reads; a flush of NATS.c's own (a PING
// answered by a PONG) works from another thread while the loop runs.
#include "nats_loop.h"  // serve/, a private header of juncture_serve

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "process.h"

namespace juncture::itest {
namespace {

using serve::NatsLoop;

struct ConnDeleter {
  void operator()(natsConnection* nc) const { natsConnection_Destroy(nc); }
};
using ConnPtr = std::unique_ptr<natsConnection, ConnDeleter>;
struct SubDeleter {
  void operator()(natsSubscription* s) const { natsSubscription_Destroy(s); }
};
using SubPtr = std::unique_ptr<natsSubscription, SubDeleter>;

// A connection to `url`, driven by `loop` if given.
ConnPtr Connect(const std::string& url, NatsLoop* loop) {
  natsOptions* opts = nullptr;
  if (natsOptions_Create(&opts) != NATS_OK) return nullptr;
  natsOptions_SetURL(opts, url.c_str());
  natsOptions_SetSendAsap(opts, true);
  if (loop != nullptr && loop->Use(opts) != NATS_OK) {
    natsOptions_Destroy(opts);
    return nullptr;
  }
  natsConnection* nc = nullptr;
  natsStatus s = natsConnection_Connect(&nc, opts);
  natsOptions_Destroy(opts);
  return ConnPtr(s == NATS_OK ? nc : nullptr);
}

SubPtr SubscribeSync(natsConnection* nc, const char* subject) {
  natsSubscription* sub = nullptr;
  if (natsConnection_SubscribeSync(&sub, nc, subject) != NATS_OK) return nullptr;
  return SubPtr(sub);
}

int Pending(natsSubscription* sub) {
  int n = 0;
  natsSubscription_GetPending(sub, &n, nullptr);
  return n;
}

// Publishes m0..m(n-1) on `subject`; false at the first publish NATS.c refuses.
bool PublishNumbered(natsConnection* nc, const char* subject, int n) {
  for (int i = 0; i < n; ++i) {
    std::string body = "m" + std::to_string(i);
    if (natsConnection_PublishString(nc, subject, body.c_str()) != NATS_OK) return false;
  }
  return true;
}

// Takes `n` messages (waiting up to 5 s for each) and checks they are m0..m(n-1).
void ExpectInOrder(natsSubscription* sub, int n) {
  for (int i = 0; i < n; ++i) {
    natsMsg* m = nullptr;
    ASSERT_EQ(natsSubscription_NextMsg(&m, sub, 5000), NATS_OK) << "message " << i;
    EXPECT_EQ(std::string(natsMsg_GetData(m), natsMsg_GetDataLength(m)), "m" + std::to_string(i));
    natsMsg_Destroy(m);
  }
}

TEST(NatsLoop, PublishesOfTheLoopThreadLeaveTogetherAtItsFlush) {
  NatsServer nats;
  ASSERT_TRUE(nats.Start()) << nats.process().Output();
  Result<std::unique_ptr<NatsLoop>> created = NatsLoop::Create();
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  std::unique_ptr<NatsLoop> loop = *std::move(created);
  loop->BindToThisThread();  // this test's thread is the loop's
  ConnPtr driven = Connect(nats.url(), loop.get());
  ASSERT_TRUE(driven);
  ConnPtr plain = Connect(nats.url(), nullptr);
  ASSERT_TRUE(plain);
  SubPtr out = SubscribeSync(plain.get(), "loop.out");
  ASSERT_TRUE(out);
  ASSERT_EQ(natsConnection_FlushTimeout(plain.get(), 5000), NATS_OK);

  ASSERT_TRUE(PublishNumbered(driven.get(), "loop.out", 100));
  // Not written yet: reading (Poll) does not write, and NATS.c has no thread of its own
  // that would.
  for (int i = 0; i < 20; ++i) {
    loop->Poll(5000);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(Pending(out.get()), 0);
  loop->Flush();
  ExpectInOrder(out.get(), 100);
  driven.reset();  // closed (and detached) before the loop goes
}

TEST(NatsLoop, AnotherThreadsPublishWakesTheLoopAndSubscriptionsReceiveWhatItReads) {
  NatsServer nats;
  ASSERT_TRUE(nats.Start()) << nats.process().Output();
  Result<std::unique_ptr<NatsLoop>> created = NatsLoop::Create();
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  std::unique_ptr<NatsLoop> loop = *std::move(created);
  ConnPtr driven = Connect(nats.url(), loop.get());
  ASSERT_TRUE(driven);
  ConnPtr plain = Connect(nats.url(), nullptr);
  ASSERT_TRUE(plain);

  // The loop waits with no timeout: only a socket or a wake-up returns from Poll.
  std::atomic<bool> stop{false};
  std::thread runner([&] {
    loop->BindToThisThread();
    while (!stop) {
      loop->Poll(-1);
      loop->Flush();
    }
  });

  // A subscription of the driven connection, live once a flush (PING written by the
  // loop, PONG read by it) returns.
  SubPtr in = SubscribeSync(driven.get(), "loop.in");
  ASSERT_TRUE(in);
  ASSERT_EQ(natsConnection_FlushTimeout(driven.get(), 5000), NATS_OK);
  ASSERT_TRUE(PublishNumbered(plain.get(), "loop.in", 50));
  ExpectInOrder(in.get(), 50);

  // This thread publishes on the driven connection: written by the woken loop.
  SubPtr out = SubscribeSync(plain.get(), "loop.out");
  ASSERT_TRUE(out);
  ASSERT_EQ(natsConnection_FlushTimeout(plain.get(), 5000), NATS_OK);
  ASSERT_TRUE(PublishNumbered(driven.get(), "loop.out", 50));
  ExpectInOrder(out.get(), 50);

  stop = true;
  loop->Wake();
  runner.join();
  in.reset();
  driven.reset();
}

}  // namespace
}  // namespace juncture::itest
