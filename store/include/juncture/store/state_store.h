// The embedded state store (docs/state.md): an engine's per-customer state in
// RocksDB, written incrementally. Each Commit writes, in one atomic write batch, only
// the customers and timers the engine changed since the last one, the engine-wide
// values, and the caller's input position; Load reads it all back, all or nothing.
//
//   Result<std::unique_ptr<StateStore>> store = StateStore::Open(dir, {});  // refuses a
//   Result<std::string> position = (*store)->Load(engine);   // damaged store; then
//   ... decide ...                                           // engine.TrackChanges(true)
//   Status s = (*store)->Commit(engine, position, /*sync=*/true);
//
// Failures are a juncture::Status: kCorruption for a damaged store, kIoError for a
// disk that fails (a full one), kFailedPrecondition for a directory that holds
// something else or a format this version does not read.
//
// Keys (one byte of kind, then the key):
//   M            the format ("juncture.state 2"): a directory without it is refused
//   P            the caller's position as of the last commit
//   G  L         engine-wide values; the record layouts the pieces were written under
//   C<id>        a customer, in the column family "customers": a piece of the second
//                form (juncture/runtime/pieces.h), each commit's change to it written
//                as a RocksDB merge (customer_merge.h). Format 1 ("juncture.state
//                1", still read) held whole pieces of the first form (CBOR) in the
//                default family; the first commit after loading it writes format 2.
//   T<due><seq>  a pending timer (CBOR); due and seq big-endian, due's sign flipped,
//                so that keys sort in firing order: the on-disk index by due time
//   X<seq>       a deferred send taken back by arbitration (its release is stale)
#pragma once

#include <rocksdb/options.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "juncture/runtime/runtime.h"
#include "juncture/runtime/state_changes.h"
#include "juncture/status.h"

namespace rocksdb {
struct ColumnFamilyDescriptor;
class ColumnFamilyHandle;
class DB;
class WriteBatch;
}

namespace juncture::store {

struct StoreOptions {
  // RocksDB's block cache: what it keeps in memory of the files it reads.
  int64_t cache_mb = 64;
  // True for a store that is only written while it is open, once loaded (serve keeping
  // every customer in memory): RocksDB's memtable is then a plain vector, appended to
  // by each write and sorted once when it is flushed, instead of a skip list searched
  // at every key. Reads still work but each one sorts a copy of the memtable: a store
  // read while written (a cache of customers over it) keeps the default.
  bool write_mostly = false;
};

// What one Commit wrote.
struct CommitInfo {
  size_t customers = 0;
  size_t timer_ops = 0;
  size_t bytes = 0;  // keys and values of the write batch
  bool rewrite = false;
};

// What LoadLazily restored: the position of the last commit, and whether the customers
// were left in the store (false: the program changed, everything was loaded).
struct LazyLoad {
  std::string position;
  bool lazy = false;
};

// What a store holds, counted without reading it through a program.
struct StoreCounts {
  uint64_t customers = 0;
  uint64_t timers = 0;
  std::string position;
  std::string format;  // "juncture.state 2", or 1 until the first commit after a load
};

// Also the engine's CustomerSource when it keeps only recently used customers (and
// its earliest timers) in memory (Engine::UseSource; LoadLazily).
class StateStore : public runtime::CustomerSource {
 public:
  // Opens the store in `dir`, creating it if the directory is missing or empty. A
  // one-line error if `dir` holds something else, or a store this version cannot read,
  // or a damaged one (never half-opened).
  static Result<std::unique_ptr<StateStore>> Open(const std::string& dir,
                                                  const StoreOptions& options);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  // True if nothing was ever committed.
  bool empty() const { return empty_; }
  const std::string& dir() const { return dir_; }

  // Replaces `engine`'s state with the stored one (mapped onto its program by name);
  // returns the position of the last commit ("" if none). A corruption error if any
  // piece is unreadable: the engine is then left as it was.
  Result<std::string> Load(runtime::Engine& engine);
  // The same, loading only the customers `keep` accepts and their timers (splitting
  // one engine's store over shards).
  Result<std::string> Load(runtime::Engine& engine,
                           const std::function<bool(std::string_view)>& keep);
  // For an engine that uses this store as its CustomerSource: restores the timers and
  // engine-wide values only, leaving the customers to be read when first needed (every
  // customer piece is still read once to check its checksums, never kept). An engine
  // that keeps only its earliest timers in memory gets those; every timer is still
  // read once, to check and count it. If the
  // stored layouts are not the engine's program's (the program changed), loads
  // everything, as Load does (LazyLoad::lazy false).
  Result<LazyLoad> LoadLazily(runtime::Engine& engine);

  // runtime::CustomerSource.
  Result<bool> Find(std::string_view customer, std::string* piece) override;
  Status ForEach(const std::function<void(std::string_view, std::string_view)>& fn) override;
  Status TimersAfter(int64_t due_us, uint64_t seq, size_t limit,
                     const std::function<void(int64_t, uint64_t, std::string_view)>& fn) override;

  // Writes what `engine` changed since the last Commit (it must track changes, and the
  // store must have been loaded into it, or be empty), with
  // `position`, atomically (nothing at all if neither changed: the engine's time and
  // counters then wait for the next change). `sync`: on disk before returning (fsync), otherwise in
  // the operating system's hands (survives the process being killed, not a power
  // cut). On failure (a full disk: kIoError...) the changes are kept and written
  // with the next Commit; nothing is dropped.
  Status Commit(runtime::Engine& engine, std::string_view position, bool sync);
  // Commit in two halves, for a caller that takes the changes itself (e.g. to time
  // them apart): writes `changes` (taken with Engine::TakeChanges and
  // PieceForm::kDelta; an internal error otherwise) like Commit.
  Status CommitChanges(runtime::StateChanges&& changes, std::string_view position, bool sync);
  // Writes the changes of a whole state (after a snapshot import): like Commit.
  Status CommitAll(runtime::Engine& engine, std::string_view position);
  // Forces what Commit wrote without sync onto the disk. May be called from another
  // thread than the one committing (the rest of this class is one thread's).
  Status Sync();
  // Moves the write-ahead log into sorted files (a faster next open). At shutdown.
  Status Flush();
  // Rewrites every sorted file, dropping overwritten and deleted entries (for a
  // steady size on disk; RocksDB also does this by itself, in the background).
  Status Compact();

  // A consistent copy of the store as of the last commit, in the new directory `to`
  // (hard links where it can: cheap, while serve runs). It opens as a store.
  Status Backup(const std::string& to);

  Result<StoreCounts> Count() const;

  const CommitInfo& last_commit() const { return last_; }
  // Changes taken from the engine but not yet written (after a failed Commit).
  bool has_unwritten() const { return !unwritten_.empty(); }
  // Bytes of the store's files on disk.
  uint64_t disk_bytes() const;

 private:
  StateStore() = default;
  Result<LazyLoad> LoadImpl(runtime::Engine& engine,
                            const std::function<bool(std::string_view)>& keep, bool want_lazy);
  Status Write(std::string_view position, bool sync);
  Status Recover();
  void CloseDb();
  // The family customers are stored in: their own (format 2), or the default (1).
  rocksdb::ColumnFamilyHandle* CustomersFamily() const;
  static rocksdb::ColumnFamilyOptions CustomersOptions(const rocksdb::Options& o);
  // The families of `names` with their options (the customers' with its merge).
  static std::vector<rocksdb::ColumnFamilyDescriptor> Descriptors(
      const std::vector<std::string>& names, const rocksdb::Options& o);
  Status MakeCustomersFamily();

  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::Options options_;  // as opened (Recover opens it again)
  std::vector<std::string> families_;  // names, as opened or made since (in handles_' order)
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;      // db_'s, one per family
  rocksdb::ColumnFamilyHandle* customers_ = nullptr;       // the customers' family
  int format_ = 2;  // of what the store holds: 1 until its first write after a load
  // Sync (another thread) holds it shared; Recover, replacing db_, exclusively.
  std::shared_mutex db_mu_;
  std::chrono::steady_clock::time_point last_try_{};  // of a failed store
  std::string dir_;
  bool empty_ = true;
  // The last write failed: RocksDB must resume first. Atomic: Sync may run on
  // another thread than the writes.
  std::atomic<bool> failed_{false};
  runtime::StateChanges unwritten_;
  std::string position_;  // as last written
  size_t compacted_size_ = 0;  // of unwritten_ after its last Compact
  CommitInfo last_;
  // The batch of each write, cleared and used again: its buffer keeps its capacity, so
  // that a steady stream of commits neither allocates it nor touches fresh pages.
  std::unique_ptr<rocksdb::WriteBatch> batch_;
};

}  // namespace juncture::store
