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

bool Server::OpenState(const runtime::CompiledProgram& program, std::string* position,
                       std::string* error) {
  position->clear();
  const StateSettings& o = options_.state;
  if (o.memory_only) {
    if (options_.jetstream.enabled) {
      *error = "--jetstream keeps its state in the store: --memory-state is for core NATS only";
      return false;
    }
    Log("the state is kept in memory only (--memory-state): a restart loses every wait");
    for (auto& shard : shards_) shard->OpenState(position, error);
    positions_.assign(shards_.size(), "");
    return true;
  }
  // A customer's state is in the store of the shard that owns its partition: a
  // state written by another number of shards is re-sharded first.
  if (!FinishReshard(error)) return false;
  const int k = static_cast<int>(shards_.size());
  int written = ShardsIn(o.dir, error);
  if (written < 0) return false;
  bool unsharded = std::filesystem::exists(o.dir + "/CURRENT");
  if (unsharded && written != 0) {
    *error = o.dir + " holds both one engine's store and shards' stores: it is not one "
             "deployment's state";
    return false;
  }
  if (k > 1 && std::filesystem::exists(o.dir + "/snapshot.bin")) {
    *error = o.dir + " holds a whole-state checkpoint of an earlier version (snapshot.bin): "
             "start once with --shards 1 to import it, then with --shards " +
             std::to_string(k) + " to split it";
    return false;
  }
  if (written == k && k > 1) {  // a store per shard: none may be missing
    for (auto& shard : shards_) {
      if (!std::filesystem::exists(shard->StateDir())) {
        *error = o.dir + " holds the state of " + std::to_string(k) + " shards, but " +
                 shard->StateDir() + " is missing: its customers' state would start empty";
        return false;
      }
    }
  }
  std::vector<std::string> from;  // the stores of another number of shards
  if (k > 1 && unsharded) from.push_back(o.dir);
  if (written != 0 && written != k) {
    for (int i = 0; i < written; ++i) {
      from.push_back(o.dir + "/shard-" + std::to_string(i) + "-of-" + std::to_string(written));
      if (!std::filesystem::exists(from.back())) {
        *error = o.dir + " holds the state of " + std::to_string(written) + " shards, but " +
                 from.back() + " is missing: its customers' state would be lost";
        return false;
      }
    }
  }
  if (!from.empty() && !Reshard(program, from, error)) return false;
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

bool Server::FinishReshard(std::string* error) {
  const std::string dir = options_.state.dir, tmp = SplitDir(dir);
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::remove(dir + "/" + kSplitComplete, ec);  // left by a stop right after the swap
  if (!fs::exists(tmp, ec)) return true;
  if (fs::exists(tmp + "/" + kSplitComplete, ec) && !fs::exists(dir, ec)) {
    // Stopped between setting the old state aside and putting the new one in place.
    fs::rename(tmp, dir, ec);
    if (ec) {
      *error = "cannot finish re-sharding the state: rename " + tmp + " " + dir + ": " +
               ec.message();
      return false;
    }
    fs::remove(dir + "/" + kSplitComplete, ec);
    Log("finished re-sharding the state store into " + dir);
    return true;
  }
  fs::remove_all(tmp, ec);  // an unfinished re-shard: the state it came from is intact
  return true;
}

bool Server::Reshard(const runtime::CompiledProgram& program,
                     const std::vector<std::string>& from, std::string* error) {
  namespace fs = std::filesystem;
  const std::string dir = options_.state.dir, tmp = SplitDir(dir);
  const uint32_t k = static_cast<uint32_t>(shards_.size());
  const store::StoreOptions store_options{options_.state.cache_mb};
  std::vector<std::unique_ptr<store::StateStore>> old;
  std::string position;
  for (const std::string& d : from) {
    old.push_back(store::StateStore::Open(d, store_options, error));
    if (!old.back()) return false;
  }
  // Each shard's customers, from every old store (its share of each, by partition),
  // gathered into the shard's engine, then written whole into a store of its own.
  for (auto& shard : shards_) {
    const uint32_t index = static_cast<uint32_t>(shard->index());
    auto keep = [&](std::string_view customer) {
      return runtime::PartitionOf(customer, options_.partitions) % k == index;
    };
    for (size_t i = 0; i < old.size(); ++i) {
      runtime::Engine part(program, options_.limits);
      std::string at;
      if (!old[i]->Load(i == 0 ? shard->engine() : part, keep, &at, error)) return false;
      // JetStream: every old store must be at the same stream sequence (a kill between
      // two shards' checkpoint writes leaves them apart until the next checkpoint).
      if (i == 0 && index == 0) position = at;
      if (at != position) {
        *error = "the stores in " + dir + " are at different positions (\"" + position +
                 "\" and \"" + at + "\"): start once more with --shards " +
                 std::to_string(from.size()) + " until it has caught up with the stream (its "
                 "checkpoints then write them at one position), then with --shards " +
                 std::to_string(k);
        return false;
      }
      if (i > 0) shard->engine().Absorb(part);
    }
    const std::string to = k == 1 ? tmp : tmp + "/" + fs::path(shard->StateDir()).filename().string();
    std::unique_ptr<store::StateStore> part = store::StateStore::Open(to, store_options, error);
    if (!part) return false;
    shard->engine().TrackChanges(true);
    if (!part->CommitAll(shard->engine(), position, error) || !part->Flush(error)) return false;
  }
  old.clear();
  std::error_code ec;
  std::ofstream(tmp + "/" + kSplitComplete) << "re-sharded from " << dir << "\n";
  const std::string aside = dir + (from.size() == 1 ? ".unsharded-" : ".shards-" + std::to_string(from.size()) + "-") +
                            std::to_string(WallUs() / 1'000'000);
  fs::rename(dir, aside, ec);
  if (!ec) fs::rename(tmp, dir, ec);
  if (ec) {
    *error = "cannot put the re-sharded state store in place of " + dir + ": " + ec.message();
    return false;
  }
  fs::remove(dir + "/" + kSplitComplete, ec);
  Log(std::string(from.size() == 1 ? "split the state store of one engine" :
                  "re-sharded the state stores of " + std::to_string(from.size()) + " shards") +
      " over " + std::to_string(k) + (k == 1 ? " engine" : " shards (by partition)") +
      "; the state it came from is kept as " + aside);
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
