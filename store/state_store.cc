#include "juncture/store/state_store.h"

#include <sys/statvfs.h>

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/checkpoint.h>
#include <rocksdb/write_batch.h>

#include "customer_merge.h"
#include "juncture/runtime/pieces.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>

namespace juncture::store {

namespace {

// The format this version writes: customers in a column family of their own, as
// pieces of the second form changed by merges (docs/state.md, "Formats"). It reads
// the first too (customers in the default family, written whole), and moves such a
// store to the second at its first commit after loading it.
constexpr const char* kFormat = "juncture.state 2";
constexpr const char* kFormat1 = "juncture.state 1";
constexpr const char* kCustomersFamily = "customers";
// Free space a failed store needs before it is opened again (a log and a manifest).
constexpr uint64_t kReopenFreeBytes = uint64_t{256} << 10;
constexpr std::chrono::milliseconds kRetryInterval{200};
constexpr char kMeta = 'M', kPosition = 'P', kGlobals = 'G', kLayouts = 'L', kCustomer = 'C',
               kTimer = 'T', kCancelled = 'X';
// Files a store directory may hold before it is a store: the whole-state checkpoint
// of earlier versions, which `juncture serve` imports.
constexpr const char* kEarlierCheckpoint = "snapshot.bin";

void PutBigEndian(uint64_t v, std::string& out) {
  for (int i = 7; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

uint64_t GetBigEndian(std::string_view s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < s.size(); ++i) v = (v << 8) | static_cast<uint8_t>(s[i]);
  return v;
}

std::string TimerKey(int64_t due_us, uint64_t seq) {
  std::string key(1, kTimer);
  PutBigEndian(static_cast<uint64_t>(due_us) ^ (uint64_t{1} << 63), key);  // signed order
  PutBigEndian(seq, key);
  return key;
}

// The (due_us, seq) of a TimerKey.
std::pair<int64_t, uint64_t> ParseTimerKey(std::string_view key) {
  return {static_cast<int64_t>(GetBigEndian(key.substr(1)) ^ (uint64_t{1} << 63)),
          GetBigEndian(key.substr(9))};
}

std::string CancelledKey(uint64_t seq) {
  std::string key(1, kCancelled);
  PutBigEndian(seq, key);
  return key;
}

std::string Key(char kind, std::string_view rest = {}) {
  std::string key(1, kind);
  key += rest;
  return key;
}

// The value of `key`, read through `it`: the reads at open and load share one
// iterator, as every new iterator (and every Get) of a write-mostly store's memtable
// sorts a copy of it.
rocksdb::Status Lookup(rocksdb::Iterator& it, const std::string& key, std::string* value) {
  it.Seek(key);
  if (!it.Valid()) return it.status().ok() ? rocksdb::Status::NotFound() : it.status();
  if (it.key() != rocksdb::Slice(key)) return rocksdb::Status::NotFound();
  value->assign(it.value().data(), it.value().size());
  return rocksdb::Status::OK();
}

// Why a directory that exists cannot be opened as a store ("" if it can).
std::string ForeignContent(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return "";
  if (!fs::is_directory(dir, ec)) return dir + " is not a directory";
  if (fs::exists(fs::path(dir) / "CURRENT", ec)) return "";
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind(kEarlierCheckpoint, 0) != 0) {
      return dir + " is not empty and is not a Juncture state store (it holds " + name +
             "); give serve an empty or new directory";
    }
  }
  return "";
}

std::string Describe(const rocksdb::Status& s) {
  if (s.IsNoSpace()) return "the disk is full (" + s.ToString() + ")";
  return s.ToString();
}

// A failed RocksDB call as our Status: `what` failed, and why.
Status Failed(const std::string& what, const rocksdb::Status& s) {
  const StatusCode code = s.IsCorruption() ? StatusCode::kCorruption : StatusCode::kIoError;
  return Status(code, what + ": " + Describe(s));
}

}  // namespace

StateStore::~StateStore() {
  if (!db_) return;  // a reopen that failed
  if (failed_) {
    // A log RocksDB failed to append to must not be synced, which closing does (the
    // library asserts on it): leave it to the operating system at exit. What it
    // holds is on disk up to the failure; RocksDB recovers it at the next open.
    // (The column families' handles go: destroying one touches no file.)
    for (rocksdb::ColumnFamilyHandle* h : handles_) db_->DestroyColumnFamilyHandle(h);
    (void)db_.release();
    return;
  }
  CloseDb();
}

void StateStore::CloseDb() {
  for (rocksdb::ColumnFamilyHandle* h : handles_) db_->DestroyColumnFamilyHandle(h);
  handles_.clear();
  customers_ = nullptr;
  db_->Close();
  db_.reset();
}

rocksdb::ColumnFamilyHandle* StateStore::CustomersFamily() const {
  return format_ == 2 ? customers_ : db_->DefaultColumnFamily();
}

Result<std::unique_ptr<StateStore>> StateStore::Open(const std::string& dir,
                                                     const StoreOptions& options) {
  if (std::string why = ForeignContent(dir); !why.empty()) return FailedPreconditionError(why);
  rocksdb::Options o;
  o.create_if_missing = true;
  o.paranoid_checks = true;  // a file that does not match the manifest refuses the open
  // The write-ahead log's torn tail after a crash is dropped (those writes were never
  // acknowledged); damage anywhere else refuses the open.
  o.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  o.max_background_jobs = 2;
  // Opening replays the log into memory without writing a sorted file first: an open
  // after a full disk needs only a new log and manifest.
  o.avoid_flush_during_recovery = true;
  // RocksDB's own log (LOG in the directory): problems only, a few small files.
  o.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  o.keep_log_file_num = 4;
  o.max_log_file_size = 1 << 20;
  if (options.write_mostly) {
    // docs/state.md, "The store's memory": an append per key, one sort per flush.
    o.memtable_factory = std::make_shared<rocksdb::VectorRepFactory>();
    o.allow_concurrent_memtable_write = false;  // only the skip list allows it
  }
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(static_cast<size_t>(options.cache_mb) << 20);
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // The log files go once every family that wrote to them is flushed; the default
  // family (time, position, timers) fills slowly, so it is flushed when the logs
  // reach this size rather than holding them back for long.
  o.max_total_wal_size = uint64_t{128} << 20;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return IoError("cannot create " + dir + ": " + ec.message());
  // The families the directory holds (a new store gets both). A family of another
  // name is not ours: an open must name them all, and this version knows these two.
  std::vector<std::string> names;
  if (!std::filesystem::exists(std::filesystem::path(dir) / "CURRENT", ec)) {
    names = {rocksdb::kDefaultColumnFamilyName, kCustomersFamily};
    o.create_missing_column_families = true;
  } else if (!rocksdb::DB::ListColumnFamilies(o, dir, &names).ok()) {
    names = {rocksdb::kDefaultColumnFamilyName};  // DB::Open says what is wrong
  }
  for (const std::string& name : names) {
    if (name != rocksdb::kDefaultColumnFamilyName && name != kCustomersFamily) {
      return FailedPreconditionError(dir + " holds a RocksDB column family '" + name +
                                     "' that this version of juncture does not know (a store "
                                     "written by a newer version, or not a Juncture state store)");
    }
  }
  const std::vector<rocksdb::ColumnFamilyDescriptor> families = Descriptors(names, o);
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(rocksdb::DBOptions(o), dir, families, &handles, &raw);
  if (!s.ok() && s.IsIOError() && s.ToString().find("/LOCK") != std::string::npos) {
    return FailedPreconditionError("the state store in " + dir +
                                   " is in use (by another process, or another handle in this "
                                   "one: " +
                                   s.ToString() + ")");
  }
  if (!s.ok() && (s.IsCorruption() || s.IsIOError())) {
    return CorruptionError("the state store in " + dir + " is damaged (" + s.ToString() +
                           "); serve does not start on a half-readable state: restore the "
                           "directory from a backup, or move it away to start empty");
  }
  if (!s.ok()) return Failed("cannot open the state store in " + dir, s);
  std::unique_ptr<StateStore> store(new StateStore());
  store->db_.reset(raw);
  store->handles_ = handles;
  for (size_t k = 0; k < names.size(); ++k) {
    if (names[k] == kCustomersFamily) store->customers_ = handles[k];
  }
  store->options_ = o;
  store->families_ = names;
  store->dir_ = dir;
  std::string format;
  std::unique_ptr<rocksdb::Iterator> it(raw->NewIterator(rocksdb::ReadOptions()));
  s = Lookup(*it, Key(kMeta), &format);
  if (s.IsNotFound()) {
    it->SeekToFirst();
    std::unique_ptr<rocksdb::Iterator> theirs(
        store->customers_ ? raw->NewIterator(rocksdb::ReadOptions(), store->customers_) : nullptr);
    if (theirs) theirs->SeekToFirst();
    if (it->Valid() || (theirs && theirs->Valid())) {  // a RocksDB database, not one of ours
      return FailedPreconditionError(
          dir + " holds a RocksDB database that is not a Juncture state store");
    }
    it.reset();
    theirs.reset();
    if (Status made = store->MakeCustomersFamily(); !made.ok()) return made;
    s = raw->Put(rocksdb::WriteOptions(), Key(kMeta), kFormat);
    if (!s.ok()) return Failed("cannot write to the state store in " + dir, s);
    return store;
  }
  if (!s.ok()) {
    return CorruptionError("the state store in " + dir + " is damaged (" + s.ToString() + ")");
  }
  if (format == kFormat1) {
    store->format_ = 1;  // moved to the second at its first commit after a load
  } else if (format != kFormat) {
    return FailedPreconditionError(dir + " holds state in format '" + format +
                                   "', which this version does not read (it reads '" + kFormat +
                                   "' and '" + kFormat1 + "')");
  } else if (!store->customers_) {
    return CorruptionError("the state store in " + dir + " is damaged (format '" + format +
                           "' without its column family '" + kCustomersFamily + "')");
  }
  std::string position;
  store->empty_ = Lookup(*it, Key(kGlobals), &position).IsNotFound();
  return store;
}

rocksdb::ColumnFamilyOptions StateStore::CustomersOptions(const rocksdb::Options& o) {
  rocksdb::ColumnFamilyOptions c(o);
  c.merge_operator = std::make_shared<CustomerMerge>();
  return c;
}

std::vector<rocksdb::ColumnFamilyDescriptor> StateStore::Descriptors(
    const std::vector<std::string>& names, const rocksdb::Options& o) {
  std::vector<rocksdb::ColumnFamilyDescriptor> out;
  for (const std::string& name : names) {
    out.emplace_back(name, name == kCustomersFamily ? CustomersOptions(o)
                                                    : rocksdb::ColumnFamilyOptions(o));
  }
  return out;
}

Status StateStore::MakeCustomersFamily() {
  if (customers_) return OkStatus();
  rocksdb::ColumnFamilyHandle* h = nullptr;
  rocksdb::Status s = db_->CreateColumnFamily(CustomersOptions(options_), kCustomersFamily, &h);
  if (!s.ok()) return Failed("cannot write to the state store in " + dir_, s);
  handles_.push_back(h);
  families_.emplace_back(kCustomersFamily);
  customers_ = h;
  return OkStatus();
}

Result<std::string> StateStore::Load(runtime::Engine& engine) { return Load(engine, {}); }

Result<std::string> StateStore::Load(runtime::Engine& engine,
                                     const std::function<bool(std::string_view)>& keep) {
  Result<LazyLoad> loaded = LoadImpl(engine, keep, false);
  if (!loaded.ok()) return loaded.status();
  return std::move(loaded->position);
}

Result<LazyLoad> StateStore::LoadLazily(runtime::Engine& engine) {
  return LoadImpl(engine, {}, true);
}

Result<bool> StateStore::Find(std::string_view customer, std::string* piece) {
  std::shared_lock<std::shared_mutex> lock(db_mu_);
  if (!db_) return IoError("the state store is not open (a failed write)");
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), CustomersFamily(), Key(kCustomer, customer), piece);
  if (s.IsNotFound()) return false;
  if (!s.ok()) return Failed("cannot read the state store in " + dir_, s);
  return true;
}

Status StateStore::ForEach(const std::function<void(std::string_view, std::string_view)>& fn) {
  std::shared_lock<std::shared_mutex> lock(db_mu_);
  if (!db_) return IoError("the state store is not open (a failed write)");
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, CustomersFamily()));
  for (it->Seek(Key(kCustomer)); it->Valid(); it->Next()) {
    rocksdb::Slice k = it->key();
    if (k.empty() || k[0] != kCustomer) break;
    fn(std::string_view(k.data() + 1, k.size() - 1), it->value().ToStringView());
  }
  return it->status().ok() ? OkStatus()
                           : Failed("cannot read the state store in " + dir_, it->status());
}

Status StateStore::TimersAfter(int64_t due_us, uint64_t seq, size_t limit,
                               const std::function<void(int64_t, uint64_t, std::string_view)>& fn) {
  using Op = runtime::StateChanges::TimerOp;
  using Key2 = std::pair<int64_t, uint64_t>;
  const Key2 after{due_us, seq};
  // What the store was handed but could not write yet (a failing disk) overrides
  // what it holds: a put, or an erase (null).
  std::map<Key2, const std::string*> pending;
  for (const Op& t : unwritten_.timers) {
    if (t.kind == Op::kCancel || Key2{t.due_us, t.seq} <= after) continue;
    pending[{t.due_us, t.seq}] = t.kind == Op::kPut ? &t.value : nullptr;
  }
  const bool disk = !unwritten_.rewrite;  // a pending rewrite replaces every stored timer
  std::shared_lock<std::shared_mutex> lock(db_mu_);
  if (disk && !db_) return IoError("the state store is not open (a failed write)");
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;  // each is read back once
  std::unique_ptr<rocksdb::Iterator> it(disk ? db_->NewIterator(ro) : nullptr);
  if (disk) it->Seek(TimerKey(due_us, seq));
  auto p = pending.begin();
  for (size_t n = 0; limit == 0 || n < limit;) {
    const bool on_disk = disk && it->Valid() && it->key()[0] == kTimer;
    const Key2 key = on_disk ? ParseTimerKey(it->key().ToStringView()) : Key2{};
    if (on_disk && key <= after) {  // the horizon itself
      it->Next();
      continue;
    }
    if (on_disk && (p == pending.end() || key < p->first)) {
      fn(key.first, key.second, it->value().ToStringView());
      ++n;
      it->Next();
      continue;
    }
    if (p == pending.end()) break;
    if (on_disk && key == p->first) it->Next();  // overridden by the pending change
    if (p->second != nullptr) {
      fn(p->first.first, p->first.second, *p->second);
      ++n;
    }
    ++p;
  }
  if (disk && !it->status().ok()) {
    return Failed("cannot read the state store in " + dir_, it->status());
  }
  return OkStatus();
}

Result<LazyLoad> StateStore::LoadImpl(runtime::Engine& engine,
                                      const std::function<bool(std::string_view)>& keep,
                                      bool want_lazy) {
  LazyLoad out;
  out.lazy = want_lazy;
  if (empty_) return out;
  runtime::StateRestorer restore(engine);
  if (keep) restore.Only(keep);
  rocksdb::ReadOptions ro;
  ro.verify_checksums = true;
  ro.fill_cache = false;  // one pass over everything: keep the cache for the hot set
  auto fail = [&](const std::string& what) {
    return CorruptionError("the state store in " + dir_ + " is damaged: " + what +
                           "; nothing of it was loaded");
  };
  // One view of both families: an iterator over each, from the same moment.
  std::vector<rocksdb::ColumnFamilyHandle*> families{db_->DefaultColumnFamily()};
  if (format_ == 2) families.push_back(customers_);
  std::vector<rocksdb::Iterator*> raw_its;
  if (rocksdb::Status s = db_->NewIterators(ro, families, &raw_its); !s.ok()) {
    return fail(s.ToString());
  }
  std::unique_ptr<rocksdb::Iterator> it(raw_its[0]);
  std::unique_ptr<rocksdb::Iterator> in_family(raw_its.size() > 1 ? raw_its[1] : nullptr);
  rocksdb::Iterator* customers = in_family ? in_family.get() : it.get();
  // A store of the first form is written again whole, in the second, at the next
  // commit: every customer is loaded for it.
  if (format_ == 1) restore.Rewrite();
  // The layouts first: customers and timers are read through them.
  std::string value;
  if (rocksdb::Status s = Lookup(*it, Key(kLayouts), &value); !s.ok()) {
    return fail("layouts: " + s.ToString());
  }
  if (Status s = restore.Layouts(value); !s.ok()) return fail(s.message());
  out.lazy = want_lazy && format_ == 2 && restore.LayoutsMatch();
  if (out.lazy) restore.Lazy();
  if (rocksdb::Status s = Lookup(*it, Key(kGlobals), &value); !s.ok()) {
    return fail("engine values: " + s.ToString());
  }
  if (Status s = restore.Globals(value); !s.ok()) return fail(s.message());
  if (rocksdb::Status s = Lookup(*it, Key(kPosition), &value); s.ok()) {
    out.position = value;
    position_ = value;
  } else if (!s.IsNotFound()) {
    return fail("position: " + s.ToString());
  }
  for (customers->Seek(Key(kCustomer)); customers->Valid(); customers->Next()) {
    rocksdb::Slice k = customers->key();
    if (k.empty() || k[0] > kCustomer) break;
    if (out.lazy) continue;  // read (its checksums verified, its changes merged), left there
    Status s = restore.Customer(std::string_view(k.data() + 1, k.size() - 1),
                                customers->value().ToStringView());
    if (!s.ok()) return fail(s.message());
  }
  if (!customers->status().ok()) return fail(customers->status().ToString());
  for (it->Seek(Key(kTimer)); it->Valid() && it->key()[0] == kTimer; it->Next()) {
    if (Status s = restore.Timer(it->value().ToStringView()); !s.ok()) return fail(s.message());
  }
  if (!it->status().ok()) return fail(it->status().ToString());
  for (it->Seek(Key(kCancelled)); it->Valid() && it->key()[0] == kCancelled; it->Next()) {
    restore.Cancelled(GetBigEndian(it->key().ToStringView().substr(1)));
  }
  if (!it->status().ok()) return fail(it->status().ToString());
  restore.Finish();
  return out;
}

Status StateStore::Commit(runtime::Engine& engine, std::string_view position, bool sync) {
  runtime::StateChanges changes;
  engine.TakeChanges(changes, runtime::PieceForm::kDelta);
  return CommitChanges(std::move(changes), position, sync);
}

Status StateStore::CommitChanges(runtime::StateChanges&& changes, std::string_view position,
                                 bool sync) {
  unwritten_.Append(std::move(changes));
  // A backlog kept by a failing store: merged as it doubles (amortized O(1) a piece).
  size_t backlog = unwritten_.customers.size() + unwritten_.timers.size();
  if (backlog > 2 * compacted_size_ + 1024) {
    unwritten_.Compact();
    compacted_size_ = unwritten_.customers.size() + unwritten_.timers.size();
  }
  // Nothing but the engine-wide values (time, counters) moved: they go with the next
  // change rather than as a write of their own.
  if (unwritten_.empty() && !empty_ && position == position_) {
    last_ = CommitInfo{};
    return OkStatus();
  }
  return Write(position, sync);
}

Status StateStore::CommitAll(runtime::Engine& engine, std::string_view position) {
  return Commit(engine, position, true);
}

// The largest write batch kept for the next write (larger ones come from a reload's
// rewrite or a long backlog).
constexpr size_t kKeptBatchBytes = size_t{16} << 20;

Status StateStore::Write(std::string_view position, bool sync) {
  using Op = runtime::StateChanges::TimerOp;
  // A failing store is tried again at most every kRetryInterval: the changes wait
  // in unwritten_ (merged, see StateChanges::Append) rather than each commit paying
  // for a batch of the whole backlog.
  if (failed_) {
    if (Status s = Recover(); !s.ok()) return s;
  }
  const runtime::StateChanges& c = unwritten_;
  // Only pieces of the second form go into the customers' family: a change is
  // merged into the piece stored there, which must be of that form.
  for (const runtime::StateChanges::Customer& cu : c.customers) {
    if (!runtime::pieces::IsForm2(cu.value)) {
      return InternalError("the state store in " + dir_ +
                           " is given a customer piece of the first form (changes must be taken "
                           "with PieceForm::kDelta)");
    }
  }
  // A store of the first form moves to the second with a write of the whole state
  // (or its first one): the customers' family is made, the customers of the first
  // form go, the format key changes, all in this one batch.
  const bool upgrade = format_ == 1 && (c.rewrite || empty_);
  if (format_ == 1 && !upgrade && !c.customers.empty()) {
    return InternalError("the state store in " + dir_ +
                         " holds the first format and must be loaded before it is written");
  }
  if (upgrade) {
    if (Status made = MakeCustomersFamily(); !made.ok()) return made;
  }
  rocksdb::ColumnFamilyHandle* family = upgrade ? customers_ : CustomersFamily();
  if (!batch_) batch_ = std::make_unique<rocksdb::WriteBatch>();
  rocksdb::WriteBatch& batch = *batch_;
  batch.Clear();
  if (c.rewrite) {
    // Every customer, timer and cancellation stored goes: the pieces below are all.
    batch.DeleteRange(family, Key(kCustomer), Key(static_cast<char>(kCustomer + 1)));
    for (char kind : {kTimer, kCancelled}) {
      batch.DeleteRange(Key(kind), Key(static_cast<char>(kind + 1)));
    }
  }
  if (upgrade) {
    batch.DeleteRange(Key(kCustomer), Key(static_cast<char>(kCustomer + 1)));  // the first form's
    batch.Put(Key(kMeta), kFormat);
  }
  if (!c.layouts.empty()) batch.Put(Key(kLayouts), c.layouts);
  batch.Put(Key(kGlobals), c.globals);
  batch.Put(Key(kPosition), rocksdb::Slice(position.data(), position.size()));
  for (const runtime::StateChanges::Customer& cu : c.customers) {
    if (cu.delta) {
      batch.Merge(family, Key(kCustomer, cu.id), cu.value);
    } else {
      batch.Put(family, Key(kCustomer, cu.id), cu.value);
    }
  }
  for (const Op& t : c.timers) {
    switch (t.kind) {
      case Op::kPut: batch.Put(TimerKey(t.due_us, t.seq), t.value); break;
      case Op::kCancel: batch.Put(CancelledKey(t.seq), ""); break;
      case Op::kErase:
        batch.Delete(TimerKey(t.due_us, t.seq));
        batch.Delete(CancelledKey(t.seq));
        break;
    }
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  rocksdb::Status s = db_->Write(wo, &batch);
  if (!s.ok()) {
    failed_ = true;
    last_try_ = std::chrono::steady_clock::now();
    return Failed("cannot write the state store in " + dir_, s);
  }
  failed_ = false;
  empty_ = false;
  if (upgrade) format_ = 2;
  position_ = std::string(position);
  last_ = CommitInfo{c.customers.size(), c.timers.size(), batch.GetDataSize(), c.rewrite};
  if (batch.GetDataSize() > kKeptBatchBytes) batch_.reset();  // a rewrite's: not kept
  unwritten_.Clear();
  compacted_size_ = 0;
  return OkStatus();
}

// After a failed write RocksDB refuses writes until it recovers. Resume() does it when
// it can; a log it failed to append to (a full disk) it may keep retrying in the
// background without end, so then the store is closed and opened again: what was
// written before is in the log, what was not is still in unwritten_. Tried at most
// every kRetryInterval.
Status StateStore::Recover() {
  auto now = std::chrono::steady_clock::now();
  if (now - last_try_ < kRetryInterval) {
    return IoError("the state store cannot write yet (its last write failed; tried again shortly)");
  }
  last_try_ = now;
  if (db_) {
    rocksdb::Status s = db_->Resume();
    if (s.ok()) return OkStatus();
    // Not while the disk is still full: closing would sync the failed log.
    struct statvfs fs {};
    if (::statvfs(dir_.c_str(), &fs) == 0 &&
        static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize < kReopenFreeBytes) {
      return Failed("the state store cannot write yet", s);
    }
  }
  std::unique_lock<std::shared_mutex> lock(db_mu_);  // no Sync meanwhile
  if (db_) CloseDb();
  rocksdb::DB* raw = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::Status s = rocksdb::DB::Open(rocksdb::DBOptions(options_), dir_,
                                        Descriptors(families_, options_), &handles, &raw);
  if (!s.ok()) {  // still no space (or worse): db_ stays null until a later try opens it
    return Failed("cannot open the state store in " + dir_ + " again", s);
  }
  db_.reset(raw);
  handles_ = handles;
  for (size_t k = 0; k < families_.size(); ++k) {
    if (families_[k] == kCustomersFamily) customers_ = handles[k];
  }
  return OkStatus();
}

Status StateStore::Sync() {
  std::shared_lock<std::shared_mutex> lock(db_mu_);
  if (failed_ || !db_) {  // RocksDB must not be asked to sync a log it failed to append to
    return IoError("the state store's last write failed: nothing to sync");
  }
  rocksdb::Status s = db_->SyncWAL();
  if (s.ok()) return OkStatus();
  failed_ = true;  // the next commit recovers first
  return Failed("cannot sync the state store", s);
}

Status StateStore::Flush() {
  if (failed_ || !db_) return IoError("the state store's last write failed: not flushed");
  rocksdb::Status s = db_->Flush(rocksdb::FlushOptions(), handles_);
  return s.ok() ? OkStatus() : Failed("cannot flush the state store", s);
}

Status StateStore::Backup(const std::string& to) {
  if (!db_) return IoError("the state store is not open (a failed write)");
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create(db_.get(), &raw);
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  if (s.ok()) s = checkpoint->CreateCheckpoint(to);
  return s.ok() ? OkStatus() : Failed("cannot back the state store up into " + to, s);
}

Status StateStore::Compact() {
  if (!db_) return IoError("the state store is not open (a failed write)");
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    rocksdb::Status s = db_->CompactRange(rocksdb::CompactRangeOptions(), h, nullptr, nullptr);
    if (!s.ok()) return Failed("cannot compact the state store", s);
  }
  return OkStatus();
}

Result<StoreCounts> StateStore::Count() const {
  StoreCounts out;
  out.format = format_ == 2 ? kFormat : kFormat1;
  std::unique_ptr<rocksdb::Iterator> c(db_->NewIterator(rocksdb::ReadOptions(), CustomersFamily()));
  for (c->Seek(Key(kCustomer)); c->Valid() && c->key()[0] == kCustomer; c->Next()) ++out.customers;
  if (!c->status().ok()) {
    return CorruptionError("the state store in " + dir_ + " is damaged: " + c->status().ToString());
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(Key(kTimer)); it->Valid() && it->key()[0] == kTimer; it->Next()) ++out.timers;
  if (!it->status().ok()) {
    return CorruptionError("the state store in " + dir_ +
                           " is damaged: " + it->status().ToString());
  }
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), Key(kPosition), &out.position);
  if (!s.ok() && !s.IsNotFound()) {
    return CorruptionError("the state store in " + dir_ + " is damaged: " + s.ToString());
  }
  return out;
}

uint64_t StateStore::disk_bytes() const {
  if (!db_) return 0;
  uint64_t sst = 0, wal = 0;
  db_->GetAggregatedIntProperty(rocksdb::DB::Properties::kTotalSstFilesSize, &sst);
  rocksdb::VectorLogPtr logs;
  if (db_->GetSortedWalFiles(logs).ok()) {
    for (const auto& l : logs) wal += l->SizeFileBytes();
  }
  return sst + wal;
}

}  // namespace juncture::store
