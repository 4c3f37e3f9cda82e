// A NATS.c message with one header, made in one allocation.
//
// natsMsg_Create and natsMsgHeader_Set keep a message's headers in a hash table: a
// table, its buckets, an entry, a copy of the key and of the value, each a heap
// block of its own, walked again to encode the headers when the message is published
// and to free them when it is destroyed. For a JetStream action (its Nats-Msg-Id)
// that was a tenth of serve's CPU at 20,000 events/s (docs/performance.md §10). A
// message NATS.c received keeps its headers as the bytes that came ("NATS/1.0\r\n",
// the header lines, a blank line) in the same block as its subject and data, and
// publishing such a message sends those bytes as they are; reading a header first
// parses them. NATS.c has no public call that makes such a message; its library
// exports the function it makes received messages with (natsMsg_create). Where the
// library is a version this was checked against, CreateMessageWithHeader calls that
// function with the header's bytes; with any other it uses natsMsg_Create and
// natsMsgHeader_Set. Either way the message behaves the same (natsMsgHeader_Get reads
// the header; natsMsg_Destroy or DestroyMessages frees it).
#pragma once

#include <nats/nats.h>

#include <string_view>

namespace juncture::serve {

// True if CreateMessageWithHeader makes the message in one block (nats_raw.h).
bool MessagesMadeInOneBlock();

// A message on `subject` (with `reply`, or none if null) carrying `data` and the
// header `name: value` (`value` on one line: no CR or LF). The caller owns it.
natsStatus CreateMessageWithHeader(natsMsg** out, const char* subject, const char* reply,
                                   std::string_view name, std::string_view value,
                                   std::string_view data);

}  // namespace juncture::serve
