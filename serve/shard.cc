#include "shard.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>

#include "receipts.h"
#include "state_file.h"
#include "telemetry.h"

namespace juncture::serve {

namespace {

// The whole-state checkpoint file of earlier versions, imported once into the store.
constexpr const char* kEarlierCheckpoint = "snapshot.bin";
// The rings between the receiving threads and a shard: room for a burst.
constexpr size_t kRingCapacity = 65536;

}  // namespace

void ServeLog(const std::string& line) { std::cerr << "juncture serve: " << line << "\n"; }

int64_t WallUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Shard::Shard(size_t index, size_t count, const ServeOptions& options, Telemetry& metrics)
    : index_(index),
      count_(count),
      options_(options),
      metrics_(metrics),
      telemetry_(metrics.AddShard()) {}

Shard::~Shard() {
  Stop(0);
  SweepRings();
}

void Shard::SweepRings() {
  Item item;
  for (auto& ring : rings_) {
    while (ring->Pop(&item)) {
      ++undecided_;
      natsMsg_Destroy(item.msg);
    }
  }
}

void Shard::Init(runtime::CompiledProgram program) {
  engine_ = std::make_unique<runtime::Engine>(std::move(program), options_.limits);
}

// ---------------------------------------------------------------------------
// State

size_t Shard::CachePerShard() const {
  return static_cast<size_t>(
      std::max<int64_t>(1, options_.state.cache_customers / static_cast<int64_t>(count_)));
}

std::string Shard::StateDir() const {
  if (count_ == 1) return options_.state.dir;
  return options_.state.dir + "/shard-" + std::to_string(index_) + "-of-" + std::to_string(count_);
}

Result<std::string> Shard::OpenState() {
  const StateSettings& o = options_.state;
  if (o.memory_only) {
    engine_->TrackChanges(false);
    return std::string();
  }
  const std::string dir = StateDir();
  // The block cache (--cache-mb) is split between the shards' stores.
  const int64_t cache_mb = std::max<int64_t>(1, o.cache_mb / static_cast<int64_t>(count_));
  const bool cache = o.cache_customers > 0;
  // Without a cache of customers the store is only written once loaded.
  Result<std::unique_ptr<store::StateStore>> opened =
      store::StateStore::Open(dir, store::StoreOptions{cache_mb, !cache});
  if (!opened.ok()) return opened.status();
  store_ = *std::move(opened);
  writer_ = std::make_unique<StateWriter>(*store_);
  // Customers read back when needed; as many of the earliest timers kept in memory as
  // customers, the later ones read back from the store's index as they fall due.
  if (cache) engine_->UseSource(writer_.get(), CachePerShard());
  std::string earlier = dir + "/" + kEarlierCheckpoint;
  std::string position;
  if (store_->empty()) {
    Result<std::string> bytes = ReadStateFile(earlier);
    if (!bytes.ok() && bytes.status().code() != StatusCode::kNotFound) return bytes.status();
    if (bytes.ok()) {
      Result<std::string> imported = engine_->LoadSnapshot(*bytes);
      if (!imported.ok()) {
        return imported.status().WithContext("cannot import the checkpoint " + earlier + ": ");
      }
      position = *std::move(imported);
      engine_->TrackChanges(true);
      if (Status s = store_->CommitAll(*engine_, position); !s.ok()) return s;
      std::error_code ec;  // the import is done; a file left behind is only noise
      std::filesystem::rename(earlier, earlier + ".imported", ec);
      if (ec) ServeLog("cannot rename " + earlier + " (" + ec.message() + "): remove it by hand");
      ServeLog("imported the checkpoint " + earlier + " into the state store (" +
               std::to_string(engine_->customers()) + " customers); the file is now " + earlier +
               ".imported");
      return position;
    }
  } else if (cache) {
    Result<store::LazyLoad> loaded = store_->LoadLazily(*engine_);
    if (!loaded.ok()) return loaded.status();
    position = std::move(loaded->position);
    if (!loaded->lazy) {
      ServeLog("the program's records changed since the store was written: every customer "
               "is loaded once to be written again under them, then the least used leave memory");
    }
  } else {
    Result<std::string> loaded = store_->Load(*engine_);
    if (!loaded.ok()) return loaded.status();
    position = *std::move(loaded);
  }
  engine_->TrackChanges(true);
  next_timer_.store(engine_->next_timer(), std::memory_order_relaxed);
  if (!store_->empty()) {
    ServeLog("state loaded from " + dir + ": " + std::to_string(engine_->customers()) +
             " customers in memory" + (cache ? " (the others are read when needed)" : "") + ", " +
             std::to_string(engine_->pending_timers()) + " pending timers" +
             (cache ? " (" + std::to_string(engine_->timers_in_memory()) + " in memory)" : ""));
  }
  return position;
}

Status Shard::CommitState(const std::string& position, bool sync) {
  if (!store_) return OkStatus();
  // A write started before is over first (its caller takes its result before this).
  if (std::optional<Status> earlier = TakeCommitState(true); earlier && !earlier->ok()) {
    return *earlier;
  }
  Status committed = store_->Commit(*engine_, position, sync);
  const bool ok = committed.ok();
  Counted(committed);
  // The store has every change: the least recently used customers may leave memory.
  if (ok && !store_->has_unwritten()) {
    writer_->CaughtUp();
    if (options_.state.cache_customers > 0) engine_->Evict(CachePerShard());
  }
  return committed;
}

void Shard::Counted(const Status& committed) {
  metrics_.Checkpoint(committed.ok());
  if (committed.ok()) {
    metrics_.StateWritten(store_->last_commit().customers, store_->last_commit().bytes);
  }
}

void Shard::StartCommitState(const std::string& position, std::function<void()> on_done) {
  runtime::StateChanges changes;
  engine_->TakeChanges(changes, runtime::PieceForm::kDelta);
  // Every change is taken: customers may leave memory now. Read back before the
  // write is done, they wait for it (StateWriter); should it fail, they are refused.
  if (options_.state.cache_customers > 0 && !store_->has_unwritten() &&
      engine_->Evict(CachePerShard()) > 0) {
    writer_->EvictedBeforeWritten();
  }
  writer_->Start(std::move(changes), position, std::move(on_done));
}

std::optional<Status> Shard::TakeCommitState(bool wait) {
  if (!writer_ || !writer_->started()) return std::nullopt;
  std::optional<Status> done = wait ? std::optional<Status>(writer_->Wait()) : writer_->TakeResult();
  if (done) Counted(*done);
  return done;
}

void Shard::CommitCore(bool more_pending) {
  if (!store_) return;
  // Group commit: while messages are queued behind this one, their changes are
  // written together, at most kGroupCommitNs or kGroupCommitMessages apart (a crash
  // loses the queued messages anyway, core NATS keeps nothing); the last message of
  // a burst always commits.
  ++uncommitted_messages_;
  int64_t now_ns = SteadyNs();
  if (more_pending && uncommitted_messages_ < kGroupCommitMessages &&
      now_ns - last_commit_ns_ < kGroupCommitNs) {
    return;
  }
  CommitGroup(now_ns);
}

void Shard::CommitPending() {
  if (store_ && uncommitted_messages_ > 0) CommitGroup(SteadyNs());
}

void Shard::CommitGroup(int64_t now_ns) {
  uncommitted_messages_ = 0;
  last_commit_ns_ = now_ns;
  Status committed = CommitState(kCorePosition, false);
  const bool ok = committed.ok();
  if (ok && store_failing_) {
    store_failing_ = false;
    ServeLog("the state store writes again; every change kept meanwhile is written");
  } else if (!ok && !store_failing_) {
    store_failing_ = true;
    ServeLog("cannot write the state store: " + committed.message() +
             "; serve goes on deciding from memory and keeps every change to write it with "
             "the next commit (a crash now loses them)");
  }
}

void Shard::SyncState() {
  if (!store_) return;
  // Not under the deciding thread's lock: an fsync can take milliseconds, and
  // decisions go on meanwhile (RocksDB syncs its log concurrently with writes).
  if (Status s = store_->Sync(); !s.ok() && !store_failing_) ServeLog(s.message());
}

bool Shard::CloseState() {
  if (!store_) return true;
  bool written = !store_->has_unwritten();
  Status s = store_->Sync();
  if (s.ok()) s = store_->Flush();
  if (!s.ok()) ServeLog(s.message());
  return written;
}

// ---------------------------------------------------------------------------
// Deciding

void Shard::Decide(std::string_view data, int64_t clock_us, int64_t receipt_ns, natsMsg* retire,
                   bool more_pending, Commit commit) {
  metrics_.MessageIn();
  publisher_->set_receipt(receipt_ns);
  engine_->Process(data, *publisher_, clock_us);
  publisher_->set_receipt(0);
  // A batch written after its decisions (one shard, core NATS): its decision log
  // after all its actions.
  if (commit != Commit::kAfterWrites || !more_pending) publisher_->FlushLog();
  publisher_->Retire(retire);  // `data` points into it
  if (commit == Commit::kNow) {
    CommitCore(more_pending);
  } else if (commit == Commit::kAfterWrites && store_) {
    ++uncommitted_messages_;  // CommitPending, after the batch's writes
  }
  // The gauges and limit counters once per batch: its last message (reading the
  // engine's stats names its outcome counts, too much for every message).
  if (!more_pending) Report();
}

void Shard::FireTimers(int64_t now_us) {
  engine_->AdvanceTo(now_us, *publisher_);  // also applies an Engine::StageReload
  publisher_->FlushLog();
  CommitCore(/*more_pending=*/false);
  publisher_->DestroyRetired();
  Report();
}

Status Shard::Reload(runtime::CompiledProgram program, ReceiptBook* receipts) {
  Status reloaded = engine_->Reload(std::move(program), *publisher_);
  if (!reloaded.ok()) {
    ServeLog("shard " + std::to_string(index_) + ": " + reloaded.message() +
             "; the running program stays");
    return reloaded;
  }
  publisher_->FlushLog();
  if (!options_.jetstream.enabled) CommitCore(false);
  if (receipts != nullptr) publisher_->TrackReceipts(receipts, engine_->spec());
  Report();
  return OkStatus();
}

void Shard::Report() {
  telemetry_.State(engine_->customers(), engine_->pending_timers(),
                   engine_->packed().customers);
  telemetry_.Limits(engine_->stats());
}

// ---------------------------------------------------------------------------
// Several shards: the shard's own thread

void Shard::AddInput() { rings_.push_back(std::make_unique<SpscRing<Item>>(kRingCapacity)); }

void Shard::Enqueue(size_t input, natsMsg* msg, int64_t receipt_ns, int64_t clock_us) {
  Push(input, Item{msg, receipt_ns, clock_us, Kind::kMessage});
}

void Shard::EnqueueFireTimers(int64_t as_of_us) {
  Push(0, Item{nullptr, 0, as_of_us, Kind::kFireTimers});
}

void Shard::Park() {
  parked_by_item_ = thread_.joinable() && !stopped_;
  if (!parked_by_item_) return;  // no thread deciding: parked already
  Push(0, Item{nullptr, 0, 0, Kind::kPark});
  parked_.acquire();
}

void Shard::Unpark() {
  if (parked_by_item_) unparked_.release();
  parked_by_item_ = false;
}

void Shard::Push(size_t input, Item item) {
  SpscRing<Item>& ring = *rings_[input];
  // JetStream's messages stay the fetch loop's until their ack.
  const bool owned = !options_.jetstream.enabled;
  bool pushed = false;
  while (!stopped_ && !(pushed = ring.Push(item))) {
    if (sleeping_.exchange(false)) wake_.release();
    std::this_thread::sleep_for(std::chrono::microseconds(50));  // full: the shard is behind
  }
  if (stopped_) {  // nobody pops any more (a drain that ran out of time)
    if (!pushed && item.msg != nullptr) {
      ++undecided_;
      if (owned) natsMsg_Destroy(item.msg);
    }
    Item left;
    while (ring.Pop(&left)) {  // safe: the consumer is gone
      if (left.msg == nullptr) continue;
      ++undecided_;
      if (owned) natsMsg_Destroy(left.msg);
    }
    return;
  }
  // Sequentially consistent, after the push's store: either the thread sees the
  // message before it sleeps, or this sees it asleep and wakes it (once: the first
  // producer to see it asleep).
  if (sleeping_.exchange(false)) wake_.release();
}

void Shard::Wake() { wake_.release(); }

bool Shard::RingsEmpty() const {
  for (const auto& ring : rings_) {
    if (!ring->empty()) return false;
  }
  return true;
}

void Shard::StageReload(runtime::CompiledProgram program) {
  {
    std::lock_guard<std::mutex> lock(reload_mu_);
    staged_ = std::move(program);
  }
  reload_staged_ = true;
  Wake();
}

void Shard::Start(ReceiptBook* receipts) {
  receipts_ = receipts;
  thread_ = std::thread([this] { Loop(); });
}

void Shard::Stop(int64_t deadline_ns) {
  if (!thread_.joinable()) {  // never started (a failed start): Enqueue must not wait
    stopped_ = true;
    return;
  }
  deadline_ns_ = deadline_ns;
  stop_ = true;
  Wake();
  thread_.join();
}

void Shard::Loop() {
  const bool jetstream = options_.jetstream.enabled;
  int64_t last_housekeeping_ns = 0;
  // A staged reload applies before the next message (one atomic load per message).
  auto apply_staged_reload = [this] {
    if (!reload_staged_.load(std::memory_order_acquire) || !reload_staged_.exchange(false)) return;
    std::optional<runtime::CompiledProgram> program;
    {
      std::lock_guard<std::mutex> lock(reload_mu_);
      program.swap(staged_);
    }
    if (program) static_cast<void>(Reload(std::move(*program), receipts_));  // logged
  };
  while (true) {
    apply_staged_reload();
    // A batch from each ring in turn, so that no input waits behind another.
    for (auto& ring : rings_) {
      Item item;
      for (int n = 0; n < 256 && ring->Pop(&item); ++n) {
        const int64_t deadline = stop_ ? deadline_ns_.load() : 0;  // Stop sets it first
        if (deadline != 0 && SteadyNs() > deadline && item.msg != nullptr) {
          ++undecided_;  // the drain ran out of time: counted, not decided
          if (!jetstream) natsMsg_Destroy(item.msg);
          continue;
        }
        apply_staged_reload();
        if (jetstream) {
          HandleStreamItem(item, !ring->empty());
          continue;
        }
        Decide(std::string_view(natsMsg_GetData(item.msg),
                                static_cast<size_t>(natsMsg_GetDataLength(item.msg))),
               item.clock_us, item.receipt_ns, item.msg, !ring->empty(), Commit::kNow);
      }
    }
    int64_t now = WallUs();
    int64_t now_ns = SteadyNs();
    if (jetstream) {
      // Timers fire on the fetch loop's orders only (EnqueueFireTimers): once a second
      // the gauges, and a staged reload (applied above) is reflected.
      if (now_ns - last_housekeeping_ns > 1'000'000'000) {
        Report();
        next_timer_.store(engine_->next_timer(), std::memory_order_relaxed);
        last_housekeeping_ns = now_ns;
      }
    } else if (engine_->next_timer() <= now || now_ns - last_housekeeping_ns > 1'000'000'000) {
      FireTimers(now);  // also at least once a second: retired messages, gauges
      last_housekeeping_ns = now_ns;
    }
    if (!RingsEmpty() || reload_staged_) continue;
    if (stop_) break;
    // Sleep until the next timer (at most a second) or a message.
    sleeping_.store(true, std::memory_order_seq_cst);
    if (RingsEmpty() && !stop_ && !reload_staged_) {
      int64_t wait_us =
          jetstream ? 1'000'000 : std::clamp<int64_t>(engine_->next_timer() - now, 0, 1'000'000);
      wake_.try_acquire_for(std::chrono::microseconds(wait_us));
    }
    sleeping_.store(false, std::memory_order_relaxed);
    while (wake_.try_acquire()) {
    }
  }
  publisher_->FlushLog();
  if (!jetstream) CommitCore(false);  // JetStream: the fetch loop's checkpoints
  publisher_->DestroyRetired();
  Report();
  stopped_ = true;
}

void Shard::HandleStreamItem(const Item& item, bool more_pending) {
  switch (item.kind) {
    case Kind::kMessage:
      Decide(std::string_view(natsMsg_GetData(item.msg),
                              static_cast<size_t>(natsMsg_GetDataLength(item.msg))),
             item.clock_us, item.receipt_ns, nullptr, more_pending, Commit::kCheckpoint);
      break;
    case Kind::kFireTimers:
      engine_->AdvanceTo(item.clock_us, *publisher_);
      publisher_->FlushLog();
      Report();
      break;
    case Kind::kPark:
      parked_.release();
      unparked_.acquire();  // the fetch loop has the shard meanwhile
      break;
  }
  next_timer_.store(engine_->next_timer(), std::memory_order_relaxed);
}

}  // namespace juncture::serve
