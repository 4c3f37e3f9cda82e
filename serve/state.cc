// The engine's state in the embedded store (docs/state.md): loaded at start, then
// every change written, as each message is decided (core NATS) or with each
// checkpoint (JetStream, jetstream_source.cc).
#include <chrono>
#include <filesystem>

#include "server.h"
#include "state_file.h"
#include "telemetry.h"

namespace juncture::serve {

namespace {

// The whole-state checkpoint file of earlier versions, imported once into the store.
constexpr const char* kEarlierCheckpoint = "snapshot.bin";

}  // namespace

bool Server::OpenState(std::string* position, std::string* error) {
  position->clear();
  const StateSettings& o = options_.state;
  if (o.memory_only) {
    if (options_.jetstream.enabled) {
      *error = "--jetstream keeps its state in the store: --memory-state is for core NATS only";
      return false;
    }
    Log("the state is kept in memory only (--memory-state): a restart loses every wait");
    return true;
  }
  store_ = store::StateStore::Open(o.dir, store::StoreOptions{o.cache_mb}, error);
  if (!store_) return false;
  std::string earlier = o.dir + "/" + kEarlierCheckpoint;
  if (store_->empty()) {
    std::string why;
    std::optional<std::string> bytes = ReadStateFile(earlier, &why);
    if (!why.empty()) {
      *error = why;
      return false;
    }
    if (bytes) {
      if (!engine_->LoadSnapshot(*bytes, position, &why)) {
        *error = "cannot import the checkpoint " + earlier + ": " + why;
        return false;
      }
      engine_->TrackChanges(true);
      if (!store_->CommitAll(*engine_, *position, error)) return false;
      std::error_code ec;  // the import is done; a file left behind is only noise
      std::filesystem::rename(earlier, earlier + ".imported", ec);
      if (ec) Log("cannot rename " + earlier + " (" + ec.message() + "): remove it by hand");
      Log("imported the checkpoint " + earlier + " into the state store (" +
          std::to_string(engine_->customers()) + " customers); the file is now " + earlier +
          ".imported");
      return true;
    }
  } else if (!store_->Load(*engine_, position, error)) {
    return false;
  }
  engine_->TrackChanges(true);
  if (!store_->empty()) {
    Log("state loaded from " + o.dir + ": " + std::to_string(engine_->customers()) +
        " customers, " + std::to_string(engine_->pending_timers()) + " pending timers");
  }
  return true;
}

bool Server::CommitState(const std::string& position, bool sync, std::string* error) {
  if (!store_) return true;
  bool ok = store_->Commit(*engine_, position, sync, error);
  metrics_->Checkpoint(ok);
  if (ok) metrics_->StateWritten(store_->last_commit().customers, store_->last_commit().bytes);
  return ok;
}

void Server::CommitCoreState(bool more_pending) {
  if (!store_) return;
  // Group commit: while messages are queued behind this one, their changes are
  // written together, at most kGroupCommitNs or kGroupCommitMessages apart (a crash
  // loses the queued messages anyway, core NATS keeps nothing); the last message of
  // a burst always commits.
  ++uncommitted_messages_;
  int64_t now_ns = SteadyNs();
  if (more_pending && uncommitted_messages_ < kGroupCommitMessages &&
      now_ns - last_state_commit_ns_ < kGroupCommitNs) {
    return;
  }
  uncommitted_messages_ = 0;
  last_state_commit_ns_ = now_ns;
  std::string error;
  bool ok = CommitState(kCorePosition, false, &error);
  if (ok && store_failing_) {
    store_failing_ = false;
    Log("the state store writes again; every change kept meanwhile is written");
  } else if (!ok && !store_failing_) {
    store_failing_ = true;
    Log("cannot write the state store: " + error +
        "; serve goes on deciding from memory and keeps every change to write it with the "
        "next commit (a crash now loses them)");
  }
}

void Server::StartSyncThread() {
  if (!store_ || options_.jetstream.enabled) return;  // JetStream commits with fsync
  sync_thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(sync_mu_);
    while (!sync_cv_.wait_for(lock, std::chrono::milliseconds(options_.state.sync_interval_ms),
                              [this] { return stop_sync_; })) {
      // Not under mu_: an fsync can take milliseconds, and decisions go on meanwhile
      // (RocksDB syncs its log concurrently with writes).
      std::string error;
      if (!store_->Sync(&error) && !store_failing_) Log(error);
    }
  });
}

void Server::StopSyncThread() {
  {
    std::lock_guard<std::mutex> lock(sync_mu_);
    stop_sync_ = true;
  }
  sync_cv_.notify_all();
  if (sync_thread_.joinable()) sync_thread_.join();
}

void Server::CloseState() {
  StopSyncThread();
  if (!store_) return;
  std::string error;
  if (!store_->Sync(&error) || !store_->Flush(&error)) Log(error);
}

}  // namespace juncture::serve
