// The serve process: engines (shards), fed by NATS, publishing back to NATS. Private
// to serve/; the entry point is Serve() in juncture/serve/serve.h.
//
// Threads, one shard (the default), core NATS: one thread (CoreLoop) drives the
// connections through an event loop (nats_loop.h): it reads the sockets, decides
// every message that came, in batches, fires the timers that are due, and writes
// what it published once per batch. JetStream: a worker fetches, decides,
// checkpoints and acks on the same thread, which drives the connections through the
// same event loop (JetStreamLoop): the pull protocol is spoken on it
// (pull_consumer.h), so nothing waits for another thread; what a round publishes
// (actions, decision log, acks, the next pull request) leaves in one write. Calls
// that must wait for an answer (checking the streams at start and after a failed
// checkpoint, the last checkpoint at shutdown) run while a thread of their own
// (IoLoop) drives the loop instead. `mu_` serialises every use of the shard (the main thread
// reloads under it), so its engine sees one message at a time.
// Several shards: NATS.c's delivery threads (core NATS; OnRoutedMessage) or the fetch
// loop (JetStream; HandleStreamMessage) route each message to the shard that owns its
// customer; each shard decides on its own thread (shard.h), and fires its timers on
// the wall clock (core NATS) or on the fetch loop's orders (JetStream), which also
// parks every shard to write a checkpoint.
// Always: the main thread waits for signals, reloads, and counts dropped messages;
// NATS.c's threads also report errors, JetStream acks (several shards; one shard
// reads them on its loop: ack_inbox.h) and delivery receipts.
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ack_inbox.h"
#include "action_acks.h"
#include "lifecycle.h"
#include "nats_connection.h"
#include "nats_loop.h"
#include "publisher.h"
#include "pull_consumer.h"
#include "receipts.h"
#include "shard.h"
#include "juncture/runtime/runtime.h"
#include "juncture/serve/serve.h"

namespace juncture::serve {

class Telemetry;

class Server final : public Lifecycle {
 public:
  Server(const ServeOptions& options, const ProgramLoader& loader,
         const ProgramOptimizer& optimizer);
  ~Server() override;

  Status Start() override;
  void Optimize() override;
  void Reload(const std::string& why) override;
  void Tick() override;
  // Drains (core) or finishes the batch and checkpoints (JetStream); the exit code.
  int Shutdown() override;
  void Log(const std::string& line) const override;

 private:
  void StopWorker();
  // `retire`: the NATS.c message `data` points into, handed to the publisher to
  // destroy later (core NATS), or null (JetStream keeps it until its ack).
  // `more_pending` (core): more messages wait behind this one (the commit may wait).
  void Decide(std::string_view data, int64_t clock_us, int64_t receipt_ns,
              natsMsg* retire = nullptr, bool more_pending = false);
  // Decide's work, under mu_.
  void DecideLocked(std::string_view data, int64_t clock_us, int64_t receipt_ns,
                    natsMsg* retire, bool more_pending);
  void OnNatsError(natsSubscription* sub, natsStatus error);
  // Delivery receipts: subscribed after the source started (both modes).
  Status StartReceipts();
  static void OnReceipt(natsConnection*, natsSubscription*, natsMsg* msg, void* self);

  // The one shard (one-shard code: JetStream, the timer loop).
  Shard& shard() { return *shards_[0]; }
  bool sharded() const { return shards_.size() > 1; }

  // core_source.cc: one shard: synchronous subscriptions read, decided and answered
  // by CoreLoop; several: subscriptions delivering on NATS.c's threads to the shards,
  // which fire their own timers.
  Status StartCore();
  // One shard, core NATS: the thread that drives loop_ (see the top of this file).
  void CoreLoop();
  // Takes up to kBatch messages the subscriptions hold (CoreLoop, under mu_) into
  // batch_; true if more were left behind.
  bool TakeReceived();
  // Several shards: the closure of a subscription's routing callback.
  struct Input {
    Server* server = nullptr;
    size_t index = 0;  // of the subscription: each has a ring into every shard
    // Callbacks running now: after an unsubscribe (which does not wait for them),
    // the drain waits for 0 before it counts what is left.
    std::atomic<int> in_flight{0};
  };
  static void OnRoutedMessage(natsConnection*, natsSubscription*, natsMsg* msg, void* input);
  // Counts and logs the messages NATS.c dropped as a slow consumer since last time.
  // On the main thread.
  void CountDropped();
  // SIGTERM: decide what was received, within --drain-timeout; false if some was not.
  bool DrainCore();

  // state.cc: the state stores under --state-dir (none with --memory-state), one per
  // shard. Checks that the directory was written with as many shards, then loads
  // every shard's; returns the input position of the last commit (the first shard's).
  // Every shard's position is also kept in positions_. `program`: for re-sharding.
  Result<std::string> OpenState(const runtime::CompiledProgram& program);
  // A state written by another number of shards (`from`: its stores, one without
  // --shards) under this one: each shard's customers and timers, gathered from
  // every old store by partition, go to a store of its own, built beside the
  // directory and then swapped in; the old state is kept aside. FinishReshard
  // completes or discards one that was interrupted.
  Status Reshard(const runtime::CompiledProgram& program, const std::vector<std::string>& from);
  Status FinishReshard();
  // Several shards: the directory's --partitions, recorded at first, must not change.
  Status CheckPartitions();
  // Core NATS: a thread that forces the stores' logs onto the disk every --sync-ms,
  // off the deciding threads.
  void StartSyncThread();
  void StopSyncThread();
  // At shutdown: sync and flush every store; false if changes could not be written.
  bool CloseState();

  // jetstream_source.cc: streams, checkpoint, durable pull consumer, fetch loop.
  Status StartJetStream();
  Status PrepareStreams(bool events_too);
  // Several shards: fetches (NATS.c's blocking pull) and hands out what came.
  void FetchLoop();
  // One shard: reads, decides, fires timers, checkpoints and writes on one thread.
  void JetStreamLoop();
  // The durable consumer's configuration, delivering from after applied_seq_.
  void FillConsumerConfig(jsConsumerConfig* c) const;
  // One shard: (re-)creates the durable consumer after applied_seq_ and pull_ on it.
  Status MakeLoopConsumer();
  // Deliveries were lost (a jump in the consumer's sequence): the consumer starts
  // again after the last message decided. One shard (on the loop) and several (on
  // the fetch loop, after a checkpoint that acks what the old subscription brought).
  void Rewind();
  void RewindFetch();
  // One shard: runs `work` (which waits for answers) while IoLoop drives the loop.
  void OffLoop(const std::function<void()>& work);
  // One shard: the thread that drives loop_ while no JetStreamLoop does (at start,
  // in OffLoop, at shutdown); stopped by StopIo.
  void StartIo();
  void IoLoop();
  void StopIo();
  int64_t FetchWaitMs();
  void HandleStreamMessage(natsMsg* msg);
  // Fires the timers due by the wall clock, once the stream proves that nothing
  // stored before them is still undecided.
  void FireDueTimers();
  bool StreamDecidedAsOf(int64_t* wall_us);
  // JetStreamLoop's FireDueTimers: asks the position without waiting, and fires on
  // an answer that proves it.
  void FireDueTimersOnLoop();
  void FireTimersAsOf(int64_t as_of_us);
  // On the loop: every action acknowledged (or refused), and an echo sent after the
  // last publish come back from the server (pull_consumer.h), within `timeout_ms`.
  Status SettleOnLoop(int64_t timeout_ms);
  // Publishes are settled, the checkpoint written, then every pending message acked
  // (after the checkpoint started before, if any, is over).
  Status Commit();
  // Commit's work while no shard decides (one shard: under mu_; several: parked).
  Status CommitParked();
  // CommitParked's first half: every action answered and stored, the decision log
  // with the server. OK with nothing to write when `*nothing`.
  Status SettleForCommit(bool* nothing);
  // The position shard `i`'s checkpoint is written with.
  std::string CommitPosition(size_t i) const;
  // JetStreamLoop's checkpoint, which decisions do not wait for: settled and the
  // changes taken here, written on the store's writer thread (Shard::StartCommitState);
  // FinishCheckpoint then acks what it covers.
  Status StartCheckpoint();
  // Once the started checkpoint is written (`wait`: waits for it): acks the messages
  // it covers. An error if it failed: its messages wait for the next checkpoint.
  // OK with nothing started or still writing.
  Status FinishCheckpoint(bool wait);
  // Acks `messages` (the consumer's way) and frees them; clears the vector.
  void AckAll(std::vector<natsMsg*>& messages);
  // Several shards: each stops deciding once it has decided what it was handed, and
  // the fetch loop has them all; then each goes on.
  void ParkShards();
  void UnparkShards();
  // The next timer of any shard.
  int64_t NextTimer();
  // A failed checkpoint pauses the intake until Resume (actions published again,
  // streams checked again if need be) manages one.
  void Pause(const std::string& why);
  bool Resume();

  const ServeOptions& options_;
  const ProgramLoader& loader_;
  const ProgramOptimizer& optimizer_;
  std::unique_ptr<Telemetry> metrics_;
  std::unique_ptr<ActionAcks> acks_;          // JetStream: actions' acknowledgements
  // One shard: drives conn_ and log_conn_ (declared first: it outlives them, as their
  // detach callbacks need it). Core NATS: from CoreLoop; JetStream: from IoLoop.
  std::unique_ptr<NatsLoop> loop_;
  std::unique_ptr<NatsConnection> conn_;      // subscriptions and actions (SendAsap)
  std::unique_ptr<NatsConnection> log_conn_;  // decision log and dead letters (batched)
  jsCtx* js_ = nullptr;
  std::vector<std::unique_ptr<Shard>> shards_;  // --shards (1: the default)
  std::thread sync_thread_;
  std::mutex sync_mu_;
  std::condition_variable sync_cv_;
  bool stop_sync_ = false;  // under sync_mu_
  std::vector<SubscriptionPtr> subscriptions_;
  std::vector<std::unique_ptr<Input>> inputs_;  // several shards: one per subscription
  std::unique_ptr<ReceiptBook> receipts_;
  SubscriptionPtr receipt_sub_;
  // Dead letters of malformed receipts (on the receipts' NATS.c thread only).
  std::unique_ptr<Publisher> receipt_publisher_;

  std::mutex mu_;               // one shard: the shard, and the fields below
  bool accepting_ = true;       // false once Shutdown gave up: Decide counts, not decides
  uint64_t undecided_ = 0;      // messages received but not decided (after accepting_)
  std::condition_variable cv_;  // wakes the paused fetch loop
  std::atomic<bool> stopping_{false};
  // CoreLoop: the subscriptions are draining (Shutdown): an empty one is asked once
  // more, so that NATS.c completes its drain.
  std::atomic<bool> draining_{false};
  std::vector<natsMsg*> batch_;        // CoreLoop: the messages being decided; reused
  std::vector<bool> subscription_done_;  // CoreLoop: drained or closed
  std::thread worker_;
  std::thread io_thread_;            // JetStream, one shard: IoLoop
  std::atomic<bool> io_stop_{false};
  std::unique_ptr<PullConsumer> pull_;  // JetStream, one shard
  std::unique_ptr<AckInbox> ack_inbox_;  // JetStream, one shard: the actions' acks
  bool on_loop_ = false;                // JetStreamLoop drives loop_ (its thread only)

  // Core NATS: NATS.c's dropped-message count per subscription, as last counted.
  std::vector<int64_t> dropped_seen_;

  std::vector<std::string> positions_;  // per shard, as loaded from its store

  // JetStream (worker thread only, but Commit also runs at shutdown after join).
  uint64_t applied_seq_ = 0;          // last stream sequence decided (handed to its shard)
  // Per shard: the sequence its own checkpoint was at when serve started. A kill
  // between two shards' checkpoint writes leaves them at different sequences: the
  // consumer starts after the lowest, and each shard decides only what is after its own.
  std::vector<uint64_t> shard_floor_;
  uint64_t received_consumer_seq_ = 0;  // last consumer sequence received (and decided)
  int64_t events_stream_created_ns_ = 0;      // identifies the events stream ...
  int64_t checkpoint_stream_created_ns_ = 0;  // ... and the one the checkpoint was taken on
  std::atomic<bool> state_changed_{false};  // timers fired or a reload since the checkpoint
  std::vector<natsMsg*> pending_acks_;  // decided, not yet in a checkpoint
  std::vector<natsMsg*> writing_acks_;  // decided, in the checkpoint being written
  bool checkpoint_started_ = false;     // StartCheckpoint's write not yet finished
  int64_t last_commit_ns_ = 0;
  int64_t last_proof_ns_ = 0;         // last time the consumer's position was asked
  int64_t proof_used_us_ = 0;         // the question time of the last position used
  bool rewinding_ = false;            // deliveries were lost; Rewind(Fetch) pending
  uint64_t gap_seen_at_ = 0;          // the delivery that showed it (for the log)
  bool paused_ = false;               // the last checkpoint failed: no new messages
  int64_t retry_ms_ = 0;              // wait before the next Resume
};

}  // namespace juncture::serve
