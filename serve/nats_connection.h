// Connecting to NATS with NatsSettings, and RAII for the NATS.c handles serve uses.
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <memory>
#include <string>

#include "juncture/serve/serve.h"
#include "nats_handles.h"

namespace juncture::serve {

class NatsLoop;


class NatsConnection {
 public:
  struct Callbacks {
    std::function<void()> disconnected;
    std::function<void()> reconnected;
    // An asynchronous error NATS.c reports (e.g. NATS_SLOW_CONSUMER when a
    // subscription starts dropping messages); `sub` may be null.
    std::function<void(natsSubscription* sub, natsStatus error)> error;
  };

  // Connects (failing fast if the server cannot be reached now); afterwards the
  // connection reconnects forever, every `reconnect_wait_ms`, and NATS.c
  // re-subscribes. With `send_asap` every publish is written at once, on the
  // publishing thread (latency over batching: the actions' connection); without,
  // NATS.c's flusher thread writes them in batches (the decision log's).
  // With `loop`, the loop's thread reads and writes the socket instead of NATS.c's
  // threads (nats_loop.h): publishes wait in the buffer until its next Flush, whatever
  // `send_asap` says.
  // Unavailable if the server cannot be reached.
  static Result<std::unique_ptr<NatsConnection>> Connect(const NatsSettings& settings,
                                                         bool send_asap, const std::string& name,
                                                         Callbacks callbacks,
                                                         NatsLoop* loop = nullptr);
  ~NatsConnection();
  NatsConnection(const NatsConnection&) = delete;
  NatsConnection& operator=(const NatsConnection&) = delete;

  natsConnection* get() const { return nc_; }
  std::string ConnectedUrl() const;

 private:
  NatsConnection() = default;
  static void OnDisconnected(natsConnection*, void* self);
  static void OnReconnected(natsConnection*, void* self);
  static void OnClosed(natsConnection*, void* self);
  static void OnError(natsConnection*, natsSubscription* sub, natsStatus error, void* self);

  natsConnection* nc_ = nullptr;
  Callbacks callbacks_;
  // NATS.c runs connection callbacks on its own thread, also after Close returns:
  // the destructor waits for the closed callback, the last one, before freeing.
  std::atomic<bool> closing_{false};
  std::mutex closed_mu_;
  std::condition_variable closed_cv_;
  bool closed_ = false;
};

// A JetStream context on `nc` whose asynchronous publishes' acknowledgements, positive
// or not, all go to `handler` with `closure` (at most 65,536 publishes in flight).
// An error if NATS.c refuses.
Result<jsCtx*> JetStreamWithAckHandler(natsConnection* nc, jsPubAckHandler handler, void* closure);


}  // namespace juncture::serve
