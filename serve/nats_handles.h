// Small helpers for NATS.c handles and errors, shared by serve and the load tool
// (bench/load): no engine, no serve options.
#pragma once

#include <nats/nats.h>

#include <memory>
#include <string>

namespace juncture::serve {

// "<status text>: <last error>" for a failed NATS.c call.
std::string NatsErrorText(natsStatus s);

struct MsgDeleter {
  void operator()(natsMsg* m) const { natsMsg_Destroy(m); }
};
using MsgPtr = std::unique_ptr<natsMsg, MsgDeleter>;

struct SubscriptionDeleter {
  void operator()(natsSubscription* s) const { natsSubscription_Destroy(s); }
};
using SubscriptionPtr = std::unique_ptr<natsSubscription, SubscriptionDeleter>;

}  // namespace juncture::serve
