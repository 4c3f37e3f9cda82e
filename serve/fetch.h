// Taking a batch from a JetStream pull subscription, around a defect of the NATS.c
// Debian ships. Private to serve/.
#pragma once

#include <nats/nats.h>

#include <cstdint>

namespace juncture::serve {

// natsSubscription_Fetch, at most `batch` messages within `wait_ms`, never asking
// more than a NATS.c 3.4 subscription can take safely. Its Fetch writes past the end
// of its result array when more than half a batch already waits in the subscription
// at the call (messages of an earlier fetch that ended at its deadline while they
// were on the way): it lowers the count it waits for below what it already holds,
// then takes every message that comes (fixed upstream in nats.c 3.9). So whatever
// already waits is taken one message per call; a full batch is asked only of an
// empty subscription. `list` as natsSubscription_Fetch fills it.
natsStatus FetchBatch(natsSubscription* sub, int batch, int64_t wait_ms, natsMsgList* list,
                      jsErrCode* code);

}  // namespace juncture::serve
