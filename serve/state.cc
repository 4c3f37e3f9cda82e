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
// store), K for shard-<i>-of-<K> subdirectories; an error if they disagree.
Result<int> ShardsIn(const std::string& dir) {
  static const std::regex kShardDir("shard-([0-9]{1,6})-of-([0-9]{1,6})");
  std::error_code ec;
  int found = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::smatch m;
    std::string name = entry.path().filename().string();
    if (!std::regex_match(name, m, kShardDir)) continue;
    int k = std::stoi(m[2].str());
    if (found != 0 && k != found) {
      return FailedPreconditionError(dir + " holds the stores of " + std::to_string(found) +
                                     " and of " + std::to_string(k) +
                                     " shards: it is not one deployment's state");
    }
    found = k;
  }
  return found;
}

}  // namespace

Result<std::string> Server::OpenState(const runtime::CompiledProgram& program) {
  const StateSettings& o = options_.state;
  if (o.memory_only) {
    if (options_.jetstream.enabled) {
      return InvalidArgumentError(
          "--jetstream keeps its state in the store: --memory-state is for core NATS only");
    }
    Log("the state is kept in memory only (--memory-state): a restart loses every wait");
    for (auto& shard : shards_) {
      if (Result<std::string> opened = shard->OpenState(); !opened.ok()) return opened.status();
    }
    positions_.assign(shards_.size(), "");
    return std::string();
  }
  // A customer's state is in the store of the shard that owns its partition: a
  // state written by another number of shards is re-sharded first.
  if (Status s = FinishReshard(); !s.ok()) return s;
  const int k = static_cast<int>(shards_.size());
  Result<int> shards_in = ShardsIn(o.dir);
  if (!shards_in.ok()) return shards_in.status();
  const int written = *shards_in;
  bool unsharded = std::filesystem::exists(o.dir + "/CURRENT");
  if (unsharded && written != 0) {
    return FailedPreconditionError(o.dir +
                                   " holds both one engine's store and shards' stores: it is "
                                   "not one deployment's state");
  }
  if (k > 1 && std::filesystem::exists(o.dir + "/snapshot.bin")) {
    return FailedPreconditionError(
        o.dir +
        " holds a whole-state checkpoint of an earlier version (snapshot.bin): "
        "start once with --shards 1 to import it, then with --shards " +
        std::to_string(k) + " to split it");
  }
  if (written == k && k > 1) {  // a store per shard: none may be missing
    for (auto& shard : shards_) {
      if (!std::filesystem::exists(shard->StateDir())) {
        return FailedPreconditionError(o.dir + " holds the state of " + std::to_string(k) +
                                       " shards, but " + shard->StateDir() +
                                       " is missing: its customers' state would start empty");
      }
    }
  }
  std::vector<std::string> from;  // the stores of another number of shards
  if (k > 1 && unsharded) from.push_back(o.dir);
  if (written != 0 && written != k) {
    for (int i = 0; i < written; ++i) {
      from.push_back(o.dir + "/shard-" + std::to_string(i) + "-of-" + std::to_string(written));
      if (!std::filesystem::exists(from.back())) {
        return FailedPreconditionError(o.dir + " holds the state of " + std::to_string(written) +
                                       " shards, but " + from.back() +
                                       " is missing: its customers' state would be lost");
      }
    }
  }
  if (!from.empty()) {
    if (Status s = Reshard(program, from); !s.ok()) return s;
  }
  if (k > 1) {
    std::error_code ec;
    std::filesystem::create_directories(o.dir, ec);
    if (ec) return IoError("cannot create " + o.dir + ": " + ec.message());
    if (Status s = CheckPartitions(); !s.ok()) return s;
  }
  positions_.assign(shards_.size(), "");
  for (auto& shard : shards_) {
    Result<std::string> opened = shard->OpenState();
    if (!opened.ok()) return opened.status();
    positions_[shard->index()] = *std::move(opened);
  }
  return positions_[0];
}

namespace {

// Where a split is built, beside the state directory; complete once this file is in it.
std::string SplitDir(const std::string& dir) { return dir + ".resharding"; }
constexpr const char* kSplitComplete = "COMPLETE";

}  // namespace

// Several shards: which store holds a customer depends on --partitions too. The
// directory records it (file PARTITIONS) and refuses another.
Status Server::CheckPartitions() {
  const std::string file = options_.state.dir + "/PARTITIONS";
  std::ifstream in(file);
  uint64_t recorded = 0;
  if (in >> recorded) {
    if (recorded != options_.partitions) {
      return FailedPreconditionError(options_.state.dir + " was written with --partitions " +
                                     std::to_string(recorded) + ": start with --partitions " +
                                     std::to_string(recorded) +
                                     " (customers would be looked for in the wrong shard's store)");
    }
    return OkStatus();
  }
  std::ofstream out(file);
  out << options_.partitions << "\n";
  if (!out) return IoError("cannot write " + file);
  return OkStatus();
}

Status Server::FinishReshard() {
  const std::string dir = options_.state.dir, tmp = SplitDir(dir);
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::remove(dir + "/" + kSplitComplete, ec);  // left by a stop right after the swap
  if (!fs::exists(tmp, ec)) return OkStatus();
  if (fs::exists(tmp + "/" + kSplitComplete, ec) && !fs::exists(dir, ec)) {
    // Stopped between setting the old state aside and putting the new one in place.
    fs::rename(tmp, dir, ec);
    if (ec) {
      return IoError("cannot finish re-sharding the state: rename " + tmp + " " + dir + ": " +
                     ec.message());
    }
    fs::remove(dir + "/" + kSplitComplete, ec);
    Log("finished re-sharding the state store into " + dir);
    return OkStatus();
  }
  fs::remove_all(tmp, ec);  // an unfinished re-shard: the state it came from is intact
  return OkStatus();
}

Status Server::Reshard(const runtime::CompiledProgram& program,
                       const std::vector<std::string>& from) {
  namespace fs = std::filesystem;
  const std::string dir = options_.state.dir, tmp = SplitDir(dir);
  const uint32_t k = static_cast<uint32_t>(shards_.size());
  const store::StoreOptions store_options{options_.state.cache_mb};
  std::vector<std::unique_ptr<store::StateStore>> old;
  std::string position;
  for (const std::string& d : from) {
    Result<std::unique_ptr<store::StateStore>> opened = store::StateStore::Open(d, store_options);
    if (!opened.ok()) return opened.status();
    old.push_back(*std::move(opened));
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
      Result<std::string> loaded = old[i]->Load(i == 0 ? shard->engine() : part, keep);
      if (!loaded.ok()) return loaded.status();
      const std::string at = *std::move(loaded);
      // JetStream: every old store must be at the same stream sequence (a kill between
      // two shards' checkpoint writes leaves them apart until the next checkpoint).
      if (i == 0 && index == 0) position = at;
      if (at != position) {
        return FailedPreconditionError(
            "the stores in " + dir + " are at different positions (\"" + position + "\" and \"" +
            at + "\"): start once more with --shards " + std::to_string(from.size()) +
            " until it has caught up with the stream (its checkpoints then write them at one "
            "position), then with --shards " +
            std::to_string(k));
      }
      if (i > 0) shard->engine().Absorb(part);
    }
    const std::string to = k == 1 ? tmp : tmp + "/" + fs::path(shard->StateDir()).filename().string();
    Result<std::unique_ptr<store::StateStore>> part = store::StateStore::Open(to, store_options);
    if (!part.ok()) return part.status();
    shard->engine().TrackChanges(true);
    Status written = (*part)->CommitAll(shard->engine(), position);
    if (written.ok()) written = (*part)->Flush();
    if (!written.ok()) return written;
  }
  old.clear();
  std::error_code ec;
  std::ofstream(tmp + "/" + kSplitComplete) << "re-sharded from " << dir << "\n";
  const std::string aside = dir + (from.size() == 1 ? ".unsharded-" : ".shards-" + std::to_string(from.size()) + "-") +
                            std::to_string(WallUs() / 1'000'000);
  fs::rename(dir, aside, ec);
  if (!ec) fs::rename(tmp, dir, ec);
  if (ec) {
    return IoError("cannot put the re-sharded state store in place of " + dir + ": " +
                   ec.message());
  }
  fs::remove(dir + "/" + kSplitComplete, ec);
  Log(std::string(from.size() == 1 ? "split the state store of one engine" :
                  "re-sharded the state stores of " + std::to_string(from.size()) + " shards") +
      " over " + std::to_string(k) + (k == 1 ? " engine" : " shards (by partition)") +
      "; the state it came from is kept as " + aside);
  return OkStatus();
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
