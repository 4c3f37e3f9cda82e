// Frees NATS.c messages on the calling thread.
//
// natsMsg_Destroy does not free a message: it hands it to NATS.c's garbage-collector
// thread (a lock taken per message, that thread woken, the block freed there, where
// it then contends for the deciding thread's malloc arena). In serve over core NATS
// that hand-off of every received message was about a fifth of serve's CPU at
// 50,000 events/s (docs/performance.md, section 9). NATS.c has no public call that
// frees a message where it is; its library exports the function its collector calls
// for a message (natsMsg_free). Where the library is a version this was checked
// against, DestroyMessages calls that function; with any other it calls
// natsMsg_Destroy.
#pragma once

#include <nats/nats.h>

#include <span>

namespace juncture::serve {

// True if DestroyMessages frees on the calling thread (the library is a version
// checked against, and exports its free function); false: NATS.c's collector.
bool MessagesFreedInPlace();

// Frees each message (none may be used afterwards). Only for messages the
// application owns and NATS.c no longer refers to: received from a subscription (a
// core NATS one, or a JetStream consumer without automatic acks, such as the
// cluster's ordered consumers), or created with natsMsg_Create and published. NATS.c
// marks "not to be destroyed" only a message its automatic ack still holds during a
// callback, and its own marker of a missed heartbeat, which it never hands out.
void DestroyMessages(std::span<natsMsg* const> messages);

}  // namespace juncture::serve
