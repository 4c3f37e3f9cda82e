// The serve process: one engine, fed by NATS, publishing back to NATS. Private to
// serve/; the entry point is Serve() in juncture/serve/serve.h.
//
// Threads: NATS.c's delivery threads call OnCoreMessage (core NATS); a worker fires
// timers on the wall clock (core NATS) or fetches, decides, checkpoints and acks
// (JetStream); the main thread waits for signals and reloads. `mu_` serialises every
// use of the engine and the publisher, so the engine sees one message at a time.
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "nats_connection.h"
#include "publisher.h"
#include "juncture/runtime/runtime.h"
#include "juncture/serve/serve.h"

namespace juncture::serve {

class Telemetry;

// Microseconds since the epoch (the engine's clock in serve).
int64_t WallUs();

class Server {
 public:
  Server(const ServeOptions& options, const ProgramLoader& loader);
  ~Server();
  int Run();

 private:
  bool Start(std::string* error);
  void Shutdown();
  // `retire`: the NATS.c message `data` points into, handed to the publisher to
  // destroy later (core NATS), or null (JetStream keeps it until its ack).
  void Decide(std::string_view data, int64_t clock_us, int64_t receipt_ns,
              natsMsg* retire = nullptr);
  void Reload(const std::string& why);
  bool WatchedFilesChanged();
  void Log(const std::string& line) const;

  // core_source.cc: subscriptions delivering on NATS.c's threads; timers on a worker.
  bool StartCore(std::string* error);
  static void OnCoreMessage(natsConnection*, natsSubscription*, natsMsg* msg, void* self);
  void TimerLoop();

  // jetstream_source.cc: streams, snapshot, durable pull consumer, fetch loop.
  bool StartJetStream(std::string* error);
  void FetchLoop();
  void HandleStreamMessage(natsMsg* msg);
  // Publishes are settled, the snapshot written, then every pending message acked.
  bool Commit(std::string* error);

  const ServeOptions& options_;
  const ProgramLoader& loader_;
  std::unique_ptr<Telemetry> metrics_;
  std::unique_ptr<NatsConnection> conn_;      // subscriptions and actions (SendAsap)
  std::unique_ptr<NatsConnection> log_conn_;  // decision log and dead letters (batched)
  jsCtx* js_ = nullptr;
  std::unique_ptr<runtime::Engine> engine_;
  std::unique_ptr<Publisher> publisher_;
  std::vector<SubscriptionPtr> subscriptions_;

  std::mutex mu_;               // engine_, publisher_, and the fields below
  bool accepting_ = true;       // false once Shutdown has settled: Decide drops messages
  std::condition_variable cv_;  // wakes the timer loop
  int64_t timer_wait_until_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread worker_;

  // JetStream (worker thread only, but Commit also runs at shutdown after join).
  uint64_t applied_seq_ = 0;          // last stream sequence decided
  std::vector<natsMsg*> pending_acks_;  // decided, not yet in a snapshot
  int64_t last_commit_ns_ = 0;
  bool caught_up_ = false;

  std::vector<std::pair<std::string, int64_t>> watched_;  // file, mtime
};

}  // namespace juncture::serve
