// JetStream administration for the fault-injection tests: streams shaped (or
// misshaped) on purpose, and what a consumer has acked. Through NATS.c, against the
// real nats-server, as an operator would with the nats CLI.
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace juncture::itest {

struct StreamSpec {
  std::string name;
  std::vector<std::string> subjects;
  int64_t duplicates_ns = 0;  // 0: the server's default (2 minutes)
  int64_t max_msgs = -1;
  bool discard_new = false;
  jsRetentionPolicy retention = js_LimitsPolicy;
  int replicas = 1;
};

bool CreateStream(natsConnection* nc, const StreamSpec& spec, std::string* error = nullptr);
// Reads the stream's configuration, lets `edit` change it, and updates the stream.
bool UpdateStream(natsConnection* nc, const std::string& name,
                  const std::function<void(jsStreamConfig&)>& edit, std::string* error = nullptr);
bool DeleteStream(natsConnection* nc, const std::string& name);

struct StreamFacts {
  bool exists = false;
  std::vector<std::string> subjects;
  int64_t duplicates_ns = 0;
  uint64_t msgs = 0;
};
StreamFacts GetStream(natsConnection* nc, const std::string& name);

struct ConsumerFacts {
  bool exists = false;
  uint64_t ack_floor = 0;      // stream sequence up to which every message is acked
  int64_t ack_pending = 0;     // delivered, not acked
  uint64_t pending = 0;        // not delivered yet
};
ConsumerFacts GetConsumer(natsConnection* nc, const std::string& stream,
                          const std::string& durable);

// Publishes every (subject, data) pair into JetStream asynchronously and waits for
// all acks; false if any publish was not stored.
bool JsPublishAll(natsConnection* nc, const std::vector<std::pair<std::string, std::string>>& msgs);

}  // namespace juncture::itest
