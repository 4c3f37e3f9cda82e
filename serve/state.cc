// The engines' state in the embedded store (docs/state.md): one store per shard,
// loaded at start, then every change written as each message is decided (core NATS)
// or with each checkpoint (JetStream, jetstream_source.cc). The writing is the
// shard's (shard.cc); this checks the directory and runs the sync thread.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>

#include "server.h"
#include "juncture/runtime/partition.h"

namespace juncture::serve {

namespace {

// The number of shards whose stores `dir` holds: 0 if none (a new or an unsharded
// store), K for shard-<i>-of-<K> subdirectories; -1 (and *error) if they disagree.
int ShardsIn(const std::string& dir, std::string* error) {
  static const std::regex kShardDir("shard-([0-9]{1,6})-of-([0-9]{1,6})");
  std::error_code ec;
  int found = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::smatch m;
    std::string name = entry.path().filename().string();
    if (!std::regex_match(name, m, kShardDir)) continue;
    int k = std::stoi(m[2].str());
    if (found != 0 && k != found) {
      *error = dir + " holds the stores of " + std::to_string(found) + " and of " +
               std::to_string(k) + " shards: it is not one deployment's state";
      return -1;
    }
    found = k;
  }
  return found;
}

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
    for (auto& shard : shards_) shard->OpenState(position, error);
    return true;
  }
  // A customer's state is in the store of the shard that owns its partition: with
  // another number of shards it would be looked for in the wrong one. One engine's
  // store is split over the shards; other changes are refused.
  if (!FinishSplit(error)) return false;
  const int k = static_cast<int>(shards_.size());
  int written = ShardsIn(o.dir, error);
  if (written < 0) return false;
  bool unsharded = std::filesystem::exists(o.dir + "/CURRENT");
  if (written != 0 && written != k) {
    *error = o.dir + " holds the state of " + std::to_string(written) + " shard" +
             (written == 1 ? "" : "s") + ": start with --shards " + std::to_string(written) +
             " (a state store written by several shards cannot change their number yet)";
    return false;
  }
  if (k > 1 && std::filesystem::exists(o.dir + "/snapshot.bin")) {
    *error = o.dir + " holds a whole-state checkpoint of an earlier version (snapshot.bin): "
             "start once with --shards 1 to import it, then with --shards " +
             std::to_string(k) + " to split it";
    return false;
  }
  if (k > 1 && unsharded && !SplitState(error)) return false;
  if (written == k && k > 1) {  // a store per shard: none may be missing
    for (auto& shard : shards_) {
      if (!std::filesystem::exists(shard->StateDir())) {
        *error = o.dir + " holds the state of " + std::to_string(k) + " shards, but " +
                 shard->StateDir() + " is missing: its customers' state would start empty";
        return false;
      }
    }
  }
  if (k > 1) {
    std::error_code ec;
    std::filesystem::create_directories(o.dir, ec);
    if (ec) {
      *error = "cannot create " + o.dir + ": " + ec.message();
      return false;
    }
  }
  if (k > 1 && !CheckPartitions(error)) return false;
  positions_.assign(shards_.size(), "");
  for (auto& shard : shards_) {
    if (!shard->OpenState(&positions_[shard->index()], error)) return false;
  }
  *position = positions_[0];
  return true;
}

namespace {

// Where a split is built, beside the state directory; complete once this file is in it.
std::string SplitDir(const std::string& dir) { return dir + ".resharding"; }
constexpr const char* kSplitComplete = "COMPLETE";

}  // namespace

// Several shards: which store holds a customer depends on --partitions too. The
// directory records it (file PARTITIONS) and refuses another.
bool Server::CheckPartitions(std::string* error) {
  const std::string file = options_.state.dir + "/PARTITIONS";
  std::ifstream in(file);
  uint64_t recorded = 0;
  if (in >> recorded) {
    if (recorded != options_.partitions) {
      *error = options_.state.dir + " was written with --partitions " + std::to_string(recorded) +
               ": start with --partitions " + std::to_string(recorded) +
               " (customers would be looked for in the wrong shard's store)";
      return false;
    }
    return true;
  }
  std::ofstream out(file);
  out << options_.partitions << "\n";
  if (!out) {
    *error = "cannot write " + file;
    return false;
  }
  return true;
}

bool Server::FinishSplit(std::string* error) {
  const std::string dir = options_.state.dir, tmp = SplitDir(dir);
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(tmp, ec)) return true;
  if (fs::exists(tmp + "/" + kSplitComplete, ec) && !fs::exists(dir, ec)) {
    // Stopped between setting the old store aside and putting the split in its place.
    fs::rename(tmp, dir, ec);
    if (ec) {
      *error = "cannot finish splitting the state store: rename " + tmp + " " + dir + ": " +
               ec.message();
      return false;
    }
    fs::remove(dir + "/" + kSplitComplete, ec);
    Log("finished splitting the state store into " + dir);
    return true;
  }
  fs::remove_all(tmp, ec);  // an unfinished split: the store it came from is intact
  return true;
}

bool Server::SplitState(std::string* error) {
  namespace fs = std::filesystem;
  const std::string dir = options_.state.dir, tmp = SplitDir(dir);
  const uint32_t k = static_cast<uint32_t>(shards_.size());
  std::string position;
  {
    std::unique_ptr<store::StateStore> old =
        store::StateStore::Open(dir, store::StoreOptions{options_.state.cache_mb}, error);
    if (!old) return false;
    for (auto& shard : shards_) {
      const uint32_t index = static_cast<uint32_t>(shard->index());
      auto keep = [&](std::string_view customer) {
        return runtime::PartitionOf(customer, options_.partitions) % k == index;
      };
      if (!old->Load(shard->engine(), keep, &position, error)) return false;
      const std::string to = tmp + "/" + fs::path(shard->StateDir()).filename().string();
      std::unique_ptr<store::StateStore> part =
          store::StateStore::Open(to, store::StoreOptions{options_.state.cache_mb}, error);
      if (!part) return false;
      shard->engine().TrackChanges(true);
      if (!part->CommitAll(shard->engine(), position, error) || !part->Flush(error)) return false;
    }
  }
  std::error_code ec;
  std::ofstream(tmp + "/" + kSplitComplete) << "split from " << dir << "\n";
  const std::string aside =
      dir + ".unsharded-" + std::to_string(WallUs() / 1'000'000);
  fs::rename(dir, aside, ec);
  if (!ec) fs::rename(tmp, dir, ec);
  if (ec) {
    *error = "cannot put the split state store in place of " + dir + ": " + ec.message();
    return false;
  }
  fs::remove(dir + "/" + kSplitComplete, ec);
  Log("split the state store of one engine over " + std::to_string(k) + " shards (by " +
      "partition); the store it came from is kept as " + aside);
  return true;
}

void Server::StartSyncThread() {
  if (options_.state.memory_only || options_.jetstream.enabled) return;  // JetStream: fsync
  sync_thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(sync_mu_);
    while (!sync_cv_.wait_for(lock, std::chrono::milliseconds(options_.state.sync_interval_ms),
                              [this] { return stop_sync_; })) {
      for (auto& shard : shards_) shard->SyncState();
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

bool Server::CloseState() {
  StopSyncThread();
  bool written = true;
  for (auto& shard : shards_) written = shard->CloseState() && written;
  return written;
}

}  // namespace juncture::serve
