// A NATS.c client for integration tests: publishes messages and collects what
// arrives on subjects, as the users of `juncture serve` would see it.
#pragma once

#include <nats/nats.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace juncture::itest {

struct Received {
  std::string subject;
  std::string data;
  std::string msg_id;  // header Nats-Msg-Id
  std::string error;   // header Juncture-Error
  uint64_t seq = 0;        // ReadStream: the stream sequence
  int64_t stored_ns = 0;   // ReadStream: when the stream stored it (ns since the epoch)
};

class Client {
 public:
  Client() = default;
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool Connect(const std::string& url);
  // Collects every message on `subject` (wildcards allowed).
  bool Subscribe(const std::string& subject);
  bool Publish(const std::string& subject, const std::string& data);
  // Publishes into JetStream and waits for the stream's ack.
  bool JsPublish(const std::string& subject, const std::string& data);
  bool Flush();

  // Waits until `pred(received so far)` holds or `timeout_ms` passes.
  bool WaitFor(const std::function<bool(const std::vector<Received>&)>& pred, int timeout_ms);
  // Waits until at least `n` messages on subjects starting with `prefix` arrived.
  bool WaitForCount(const std::string& prefix, size_t n, int timeout_ms);
  std::vector<Received> received();
  std::vector<Received> On(const std::string& prefix);

  natsConnection* connection() const { return nc_; }

 private:
  static void OnMessage(natsConnection*, natsSubscription*, natsMsg* msg, void* self);

  natsConnection* nc_ = nullptr;
  std::vector<natsSubscription*> subs_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Received> received_;
};

// Reads every message of a JetStream stream (an ordered, ephemeral consumer).
std::vector<Received> ReadStream(natsConnection* nc, const std::string& stream,
                                 const std::string& subject);

// The value of `"key":"..."` in a flat JSON object ("" if absent).
std::string JsonField(const std::string& json, const std::string& key);

}  // namespace juncture::itest
