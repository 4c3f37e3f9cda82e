// DestroyMessages (serve/nats_free.h): NATS.c messages freed on the calling thread.
#include "nats_free.h"

#include <malloc.h>
#include <nats/nats.h>

#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace juncture::serve {
namespace {

// The library this build links, as Debian ships it, is one whose free function
// serve calls directly: if a rebuild or an update loses it, this says so.
TEST(NatsFree, TheCheckedLibraryFreesInPlace) {
  if (std::strcmp(nats_GetVersion(), "3.4.1") != 0) {
    GTEST_SKIP() << "NATS.c " << nats_GetVersion() << ": natsMsg_Destroy is used";
  }
  EXPECT_TRUE(MessagesFreedInPlace());
}

// The memory of the messages (payloads and headers) is back in the heap when
// DestroyMessages returns: nothing waits for NATS.c's collector thread.
TEST(NatsFree, MessagesAreFreedBeforeItReturns) {
  if (!MessagesFreedInPlace()) GTEST_SKIP() << "natsMsg_Destroy is used";
  ASSERT_EQ(nats_Open(-1), NATS_OK);  // its collector thread runs, as in serve
  const std::string payload(4096, 'x');
  const size_t in_use_before = mallinfo2().uordblks;
  std::vector<natsMsg*> messages;
  for (int i = 0; i < 1000; ++i) {
    natsMsg* m = nullptr;
    ASSERT_EQ(natsMsg_Create(&m, "juncture.test", nullptr, payload.data(),
                             static_cast<int>(payload.size())),
              NATS_OK);
    ASSERT_EQ(natsMsgHeader_Set(m, "Nats-Msg-Id", std::to_string(i).c_str()), NATS_OK);
    messages.push_back(m);
  }
  const size_t in_use_full = mallinfo2().uordblks;
  ASSERT_GT(in_use_full, in_use_before + 1000 * payload.size());
  DestroyMessages(messages);
  const size_t in_use_after = mallinfo2().uordblks;
  EXPECT_LT(in_use_after, in_use_before + 64 * 1024)
      << "in use: " << in_use_before << " before, " << in_use_full << " with the messages, "
      << in_use_after << " after";
}

}  // namespace
}  // namespace juncture::serve
