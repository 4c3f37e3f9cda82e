// Where the ingest puts messages: NATS, on the subjects of the partitioning scheme
// (PREFIX.<partition of the customer>, docs/scaling.md), each with the header
// Nats-Msg-Id = its messageId. A request's messages are answered 200 only once NATS
// has them: core NATS, once the server answered a flush after them; JetStream, once the
// stream acknowledged every one (a duplicate's acknowledgement counts: the stream
// already has it). Safe to use from many threads. Private to ingest/.
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ingest/messages.h"

namespace juncture::ingest {

struct OutletSettings {
  std::string prefix = "juncture.events.p";
  uint32_t partitions = 64;
  bool jetstream = false;
  int64_t timeout_ms = 5000;  // for the flush or the acknowledgements
};

class Outlet {
 public:
  // `nc` must outlive the outlet.
  Outlet(natsConnection* nc, OutletSettings settings);
  ~Outlet();
  Outlet(const Outlet&) = delete;
  Outlet& operator=(const Outlet&) = delete;

  // Publishes `messages` and waits until NATS has them all. Unavailable if it does not
  // within the timeout (some may have been taken: the producer's retry is
  // deduplicated by messageId).
  Status Publish(const std::vector<ReadyMessage>& messages);

  std::string SubjectOf(const std::string& customer) const;

 private:
  struct Lane;  // one JetStream context per calling thread, for its own acknowledgements
  Result<Lane*> LaneOfThisThread();
  Status PublishCore(const std::vector<ReadyMessage>& messages);
  Status PublishJetStream(const std::vector<ReadyMessage>& messages);

  natsConnection* nc_;
  OutletSettings settings_;
  std::mutex lanes_mu_;
  std::unordered_map<std::thread::id, std::unique_ptr<Lane>> lanes_;
};

}  // namespace juncture::ingest
