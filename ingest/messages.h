// What a request to the ingest carries, made ready for NATS: the Segment HTTP API's
// bodies (docs/ingest.md) split into messages, each checked enough to be routed
// (a JSON object of a known call, with a customer) and completed with what the
// pipeline adds (type for the single-call endpoints, receivedAt, a timestamp or a
// messageId when missing). What only the program can judge (declared properties,
// their types) is left to the deciders, whose dead letters say it.
// Private to ingest/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "juncture/status.h"

namespace juncture::ingest {

// Segment's limits.
inline constexpr size_t kMaxMessageBytes = 32 * 1024;   // one message, as minified JSON
inline constexpr size_t kMaxRequestBytes = 500 * 1024;  // a request's body, uncompressed

// One message, ready to publish.
struct ReadyMessage {
  std::string customer;    // userId (a number as its decimal text), else anonymousId
  std::string message_id;  // given, or made from the message's content
  std::string json;        // the message, minified, with the members the ingest adds
};

struct ParsedRequest {
  std::vector<ReadyMessage> messages;
  std::string write_key;  // a "writeKey" member of the body, if any
  // Ok, or why the request is refused (400; an invalid-argument error): nothing of it
  // is published.
  Status status;
};

// Parses the body of POST /v1/<call> (`call`: "track", "identify", "page", "screen",
// "group", "alias") or /v1/batch (`call`: "batch"). `received_us`: when the request
// arrived (receivedAt, and the timestamp of a message with none).
ParsedRequest ParseRequest(std::string_view body, std::string_view call, int64_t received_us);

}  // namespace juncture::ingest
