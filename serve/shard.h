// A shard: one engine, its state store and its publisher, deciding for the customers
// of the partitions it owns (all of them with one shard). Private to serve/.
//
// One thread at a time uses a shard. With one shard (the default), that is whichever
// thread holds the server's lock. With several (`--shards K`), it is the shard's own
// thread: the threads that receive messages hand each one, by its customer's
// partition, to the owning shard through a ring of its own (SpscRing, one per
// receiving subscription), so that deciding takes no lock. With JetStream the one
// receiving thread (the fetch loop) also sends through the rings the orders to fire
// timers up to a proven time, and parks every shard (Park) to write a checkpoint
// while no shard decides.
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <semaphore>
#include <string>
#include <thread>
#include <vector>

#include "publisher.h"
#include "spsc_ring.h"
#include "state_writer.h"
#include "juncture/runtime/runtime.h"
#include "juncture/serve/serve.h"
#include "juncture/store/state_store.h"

namespace juncture::serve {

class ReceiptBook;
class ShardTelemetry;
class Telemetry;

// "juncture serve: <line>" on stderr.
void ServeLog(const std::string& line);
// Microseconds since the epoch (the engine's clock in serve).
int64_t WallUs();

class Shard {
 public:
  Shard(size_t index, size_t count, const ServeOptions& options, Telemetry& metrics);
  ~Shard();
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  // The engine runs `program`.
  void Init(runtime::CompiledProgram program);
  // Takes the engine's decisions (once connected).
  void SetPublisher(std::unique_ptr<Publisher> publisher) { publisher_ = std::move(publisher); }

  size_t index() const { return index_; }
  runtime::Engine& engine() { return *engine_; }
  Publisher& publisher() { return *publisher_; }
  bool has_publisher() const { return publisher_ != nullptr; }
  ShardTelemetry& telemetry() { return telemetry_; }
  store::StateStore* store() { return store_.get(); }

  // --- State (docs/state.md) ---
  // The store's directory: --state-dir itself with one shard, else its
  // shard-<i>-of-<K> subdirectory.
  std::string StateDir() const;
  // --cache-customers split between the shards (at least 1): the customers each keeps
  // in memory, and about as many of its earliest timers.
  size_t CachePerShard() const;
  // Loads the store (or imports an earlier whole-state checkpoint) into the engine
  // and turns change tracking on; returns the input position of the last commit.
  Result<std::string> OpenState();
  // Writes the engine's changes with `position`; counts it.
  Status CommitState(const std::string& position, bool sync);
  // A checkpoint that does not stop the deciding (JetStream, one shard): takes the
  // engine's changes now (and lets the least used customers leave memory, as
  // CommitState does after its write) and writes them with `position`, synced, on
  // the store's writer thread (state_writer.h); `on_done` runs there once written.
  // Until then the store is the writer's: the engine's reads of it wait.
  void StartCommitState(const std::string& position, std::function<void()> on_done);
  // The started write's result (counted as CommitState's): nullopt while it runs or
  // if none was started; `wait`: waits for it.
  std::optional<Status> TakeCommitState(bool wait);
  // Core NATS, after each message or round of timers: commits (group commit: while
  // `more_pending` messages wait, at most every kGroupCommitNs or
  // kGroupCommitMessages), logging a failure when it starts and when it ends.
  void CommitCore(bool more_pending);
  // Core NATS, one shard: commits what the messages decided since the last commit
  // changed, if anything (the deciding loop, after the batch's writes).
  void CommitPending();
  static constexpr int64_t kGroupCommitNs = 2'000'000;
  static constexpr uint32_t kGroupCommitMessages = 256;
  static constexpr const char* kCorePosition = "core";
  // Forces the store's log onto the disk (the sync thread; any thread).
  void SyncState();
  // At shutdown: sync and flush. False if changes could not be written.
  bool CloseState();

  // --- Deciding ---
  // One message, decided at `clock_us`. `retire`: the NATS.c message `data` points
  // into, destroyed later (core), or null (JetStream keeps it until its ack).
  // `commit`: kNow commits the state now (core NATS, shards: CommitCore);
  // kAfterWrites leaves it to CommitPending after the batch's writes (core NATS, one
  // shard: a batch is at most 64 messages); kCheckpoint leaves it to JetStream's
  // checkpoints. The gauges follow once `more_pending` is false (a batch's last).
  enum class Commit : uint8_t { kNow, kAfterWrites, kCheckpoint };
  void Decide(std::string_view data, int64_t clock_us, int64_t receipt_ns, natsMsg* retire,
              bool more_pending, Commit commit);
  // Core NATS: fires the timers due by `now_us` (and applies a staged reload), commits.
  void FireTimers(int64_t now_us);
  // Replaces the program, carrying every customer's state (Engine::Reload).
  // An error (logged) if the engine could not reload: its program stays.
  Status Reload(runtime::CompiledProgram program, ReceiptBook* receipts);

  // --- Several shards: the shard's own thread ---
  // One ring per receiving subscription, added before Start.
  void AddInput();
  // From input `input`'s thread (only): hands a message over. While the ring is full
  // it waits. After Stop the message is counted as undecided and destroyed (core NATS;
  // with JetStream the fetch loop keeps every message until its ack).
  void Enqueue(size_t input, natsMsg* msg, int64_t receipt_ns, int64_t clock_us);
  // JetStream, from the fetch loop (input 0): fire the timers due by `as_of_us`, after
  // the messages handed over before.
  void EnqueueFireTimers(int64_t as_of_us);
  // JetStream, from the fetch loop: the thread stops once it has decided what was
  // handed over before, and Park returns; the caller then has the shard to itself
  // (engine, publisher, store) until Unpark. A shard whose thread is not running is
  // parked at once.
  void Park();
  void Unpark();
  // The shard's next timer (Engine::next_timer), as of its last message or timer:
  // readable from any thread.
  int64_t next_timer() const { return next_timer_.load(std::memory_order_relaxed); }
  // From any thread: the thread reloads before its next message.
  void StageReload(runtime::CompiledProgram program);
  void Start(ReceiptBook* receipts);
  // The thread decides what its rings hold until `deadline_ns` (SteadyNs; 0: no
  // bound), counts the rest as undecided, commits, and ends.
  void Stop(int64_t deadline_ns);
  // Once no subscription delivers any more (after Stop): counts and destroys what a
  // delivery left in the rings after the thread ended.
  void SweepRings();
  // Messages received but not decided (after Stop's deadline).
  uint64_t undecided() const { return undecided_.load(); }

 private:
  enum class Kind : uint8_t { kMessage, kFireTimers, kPark };
  struct Item {
    natsMsg* msg = nullptr;
    int64_t receipt_ns = 0;
    int64_t clock_us = 0;  // kFireTimers: the time to fire them by
    Kind kind = Kind::kMessage;
  };
  void Push(size_t input, Item item);
  // JetStream: Loop's handling of one item.
  void HandleStreamItem(const Item& item, bool more_pending);
  void Loop();
  bool RingsEmpty() const;
  void Wake();
  void Report();  // gauges and limit counters
  // Commits now what the messages since the last commit changed (CommitCore's
  // group), logging a failure when it starts and when it ends.
  void CommitGroup(int64_t now_ns);
  // A commit's result in the metrics (with what it wrote).
  void Counted(const Status& committed);

  const size_t index_, count_;
  const ServeOptions& options_;
  Telemetry& metrics_;
  ShardTelemetry& telemetry_;
  std::unique_ptr<runtime::Engine> engine_;
  std::unique_ptr<store::StateStore> store_;  // null: --memory-state
  std::unique_ptr<StateWriter> writer_;        // with store_: the engine's source of it
  std::unique_ptr<Publisher> publisher_;
  std::atomic<bool> store_failing_{false};  // the last commit failed (logged once)
  int64_t last_commit_ns_ = 0;              // group commit
  uint32_t uncommitted_messages_ = 0;

  // Several shards.
  ReceiptBook* receipts_ = nullptr;
  std::vector<std::unique_ptr<SpscRing<Item>>> rings_;
  std::thread thread_;
  std::atomic<bool> sleeping_{false};
  std::counting_semaphore<> wake_{0};
  std::atomic<bool> stop_{false};
  std::atomic<bool> stopped_{false};  // the thread ended: Enqueue only counts
  std::atomic<int64_t> deadline_ns_{0};
  std::atomic<uint64_t> undecided_{0};
  std::atomic<int64_t> next_timer_{INT64_MAX};
  std::binary_semaphore parked_{0}, unparked_{0};  // Park's handshake
  bool parked_by_item_ = false;  // the fetch loop's: Park sent an item
  std::mutex reload_mu_;  // staged_ (not on the per-message path: reload_staged_ first)
  std::optional<runtime::CompiledProgram> staged_;
  std::atomic<bool> reload_staged_{false};
};

}  // namespace juncture::serve
