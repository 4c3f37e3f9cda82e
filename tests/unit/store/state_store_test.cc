// The embedded state store (docs/state.md): an engine restored from the store as of
// any commit decides the rest of a stream exactly as the engine that never stopped;
// a commit writes only the customers that changed; a damaged or foreign directory
// is refused and nothing of it is loaded; a program with other layouts rewrites it.
#include "juncture/store/state_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <sys/mount.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "../engine/state_streams.h"
#include "../status_matchers.h"
#include "juncture/runtime/partition.h"
#include "juncture/runtime/pieces.h"

namespace juncture::enginetest {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using store::StateStore;

runtime::CompiledProgram Compile(const std::string& source) {
  auto c = compiler::CompileSources({{"t.jny", source}}, compiler::CompileOptions{});
  EXPECT_TRUE(c->ok()) << c->FormatDiagnostics(compiler::DiagnosticFormat::kText);
  if (!c->ok()) return {};
  return *compiler::MakeInterpretedProgram(*c);
}

// A directory of its own under the system's temporary one, removed at the end.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "juncture-store-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::unique_ptr<StateStore> OpenStore(const std::string& dir) {
  Result<std::unique_ptr<StateStore>> s = StateStore::Open(dir, {});
  EXPECT_OK(s);
  return s.ok() ? *std::move(s) : nullptr;
}

// Loads `store` into `engine`; the position of its last commit ("" on failure, which
// fails the test).
std::string LoadPosition(StateStore& store, runtime::Engine& engine) {
  Result<std::string> position = store.Load(engine);
  EXPECT_OK(position);
  return position.ok() ? *position : std::string();
}

// Runs `inputs` through engine A, committing its changes to a store after every one
// to three inputs and backing the store up at each commit; then, for every copy, a fresh
// engine B loads it and must hold A's state at that commit (same snapshot bytes), take
// the rest of the inputs, and say exactly what A said after it.
void ExpectEveryCommitResumesExactly(const runtime::CompiledProgram& program,
                                     const std::vector<Input>& inputs, int64_t end_us,
                                     uint32_t seed) {
  TempDir dir;
  std::mt19937 rng(seed);
  runtime::Engine a(program);
  a.TrackChanges(true);
  Collector sink;
  struct Cut {
    size_t next_input;
    std::string snapshot;
    size_t decisions, dead;
  };
  std::vector<Cut> cuts;
  {
    auto store = OpenStore(dir.Sub("live"));
    ASSERT_TRUE(store);
    size_t k = 0;
    while (k < inputs.size()) {
      for (size_t n = 1 + rng() % 3; n > 0 && k < inputs.size(); --n) Feed(a, inputs[k++], sink);
      std::string position = std::to_string(k);
      ASSERT_OK(store->Commit(a, position, false));
      ASSERT_OK(store->Backup(dir.Sub("cut-" + position)));
      cuts.push_back({k, a.SaveSnapshot(position), sink.decisions.size(), sink.dead_letters.size()});
    }
  }
  a.AdvanceTo(end_us, sink);
  const std::string final_state = a.SaveSnapshot("end");

  for (const Cut& cut : cuts) {
    SCOPED_TRACE("restored from the commit after " + std::to_string(cut.next_input) + " inputs");
    runtime::Engine b(program);
    auto store = OpenStore(dir.Sub("cut-" + std::to_string(cut.next_input)));
    ASSERT_TRUE(store);
    std::string position = LoadPosition(*store, b);
    ASSERT_FALSE(::testing::Test::HasFailure());
    EXPECT_EQ(position, std::to_string(cut.next_input));
    EXPECT_EQ(b.SaveSnapshot(position), cut.snapshot) << "the stored state is not A's";
    Collector rest;
    for (size_t i = cut.next_input; i < inputs.size(); ++i) Feed(b, inputs[i], rest);
    b.AdvanceTo(end_us, rest);
    EXPECT_EQ(Lines(rest, 0, 0), Lines(sink, cut.decisions, cut.dead));
    EXPECT_EQ(b.SaveSnapshot("end"), final_state);
    if (::testing::Test::HasFailure()) break;  // one cut's report is enough
  }
}

TEST(StateStore, EveryCommitResumesExactlyOnRandomStreams) {
  runtime::CompiledProgram program = Compile(Program());
  ASSERT_TRUE(program.spec);
  for (uint32_t seed : {11u, 12u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    int64_t end_us = 0;
    std::vector<Input> in = RandomStream(seed, 100, /*serve=*/seed % 2 == 0, end_us);
    ExpectEveryCommitResumesExactly(program, in, end_us, seed);
    if (HasFailure()) return;
  }
}

// A store opened write-mostly (serve without a cache of customers: RocksDB's memtable
// a vector, sorted when flushed) holds what a default one does: reopened after commits
// that only its log holds (no flush), in either mode, it loads the state of the last
// commit; and it reads a customer back while written.
TEST(StateStore, AWriteMostlyStoreLoadsWhatItWroteFromItsLogAlone) {
  runtime::CompiledProgram program = Compile(Program());
  ASSERT_TRUE(program.spec);
  int64_t end_us = 0;
  std::vector<Input> in = RandomStream(31, 120, /*serve=*/false, end_us);
  TempDir dir;
  const store::StoreOptions write_mostly{64, true};
  runtime::Engine a(program);
  a.TrackChanges(true);
  Collector sink;
  std::mt19937 rng(31);
  std::string last_position;
  {
    Result<std::unique_ptr<StateStore>> opened = StateStore::Open(dir.Sub("s"), write_mostly);
    ASSERT_OK(opened);
    StateStore& store = **opened;
    size_t k = 0, commits = 0;
    while (k < in.size()) {
      for (size_t n = 1 + rng() % 3; n > 0 && k < in.size(); --n) Feed(a, in[k++], sink);
      last_position = std::to_string(k);
      ASSERT_OK(store.Commit(a, last_position, false));
      ++commits;
    }
    ASSERT_GT(commits, 40u);
    std::string piece;
    Result<bool> found = store.Find("ana", &piece);
    ASSERT_OK(found);
    EXPECT_TRUE(*found) << "a customer written is read back from the vector memtable";
    EXPECT_FALSE(piece.empty());
    Result<bool> missing = store.Find("nobody", &piece);
    ASSERT_OK(missing);
    EXPECT_FALSE(*missing);
  }
  const std::string want = a.SaveSnapshot(last_position);
  for (bool mostly : {true, false}) {
    SCOPED_TRACE(mostly ? "reopened write-mostly" : "reopened with the default memtable");
    Result<std::unique_ptr<StateStore>> opened =
        StateStore::Open(dir.Sub("s"), store::StoreOptions{64, mostly});
    ASSERT_OK(opened);
    runtime::Engine b(program);
    EXPECT_EQ(LoadPosition(**opened, b), last_position);
    EXPECT_EQ(b.SaveSnapshot(last_position), want);
  }
}

// An engine that keeps one customer in memory (the others read back from its store
// when a message or timer needs them, and dropped again after each commit), restarted
// from its store half-way without loading a customer, decides exactly what an engine
// that keeps everyone in memory decides; and a reload half-way, which re-lays every
// customer, reads the stored ones back first. `timer_window` > 0: it also keeps only
// its earliest timers in memory (at most twice the window after each commit), the
// others read back from the store's index by due time as the clock reaches them.
// `limits`: both engines'; a low max_timers_per_customer makes the decisions depend
// on each customer's count of waits and deferred sends, kept for customers not in
// memory (and for their timers not in memory).
void ExpectACacheOfOneCustomerDecidesAsEveryone(size_t timer_window,
                                                runtime::EngineLimits limits = {}) {
  runtime::CompiledProgram program = Compile(Program());
  ASSERT_TRUE(program.spec);
  // The program reloaded: compiled again (a spec of its own), so that the reload
  // re-lays every customer (onto the same spec it would only swap the evaluator).
  runtime::CompiledProgram again = Compile(Program());
  ASSERT_TRUE(again.spec);
  for (uint32_t seed : {21u, 22u, 23u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    int64_t end_us = 0;
    std::vector<Input> in = RandomStream(seed, 160, /*serve=*/seed % 2 == 0, end_us);
    runtime::Engine all(program, limits);
    Collector want;
    for (size_t i = 0; i < in.size(); ++i) {
      Feed(all, in[i], want);
      if (i == in.size() / 3) { EXPECT_OK(all.Reload(again, want)); }
    }
    all.AdvanceTo(end_us, want);
    if (limits.max_timers_per_customer != runtime::EngineLimits{}.max_timers_per_customer) {
      EXPECT_GT(all.stats().rejected_timer_limit, 0u) << "the limit decides something";
    }

    TempDir dir;
    Collector got;
    std::mt19937 rng(seed);
    uint64_t loaded = 0, evicted = 0, timers_read = 0, timers_evicted = 0;
    std::unique_ptr<runtime::Engine> cached;
    std::unique_ptr<StateStore> store;
    auto count = [&] {
      loaded += cached->stats().customers_loaded;
      evicted += cached->stats().customers_evicted;
      timers_read += cached->stats().timers_read_back;
      timers_evicted += cached->stats().timers_evicted;
      EXPECT_EQ(cached->stats().customers_unreadable, 0u);
      EXPECT_EQ(cached->stats().timers_unreadable, 0u);
    };
    // Opens the store and restores a new engine from it without loading a customer.
    auto start = [&] {
      cached.reset();
      store.reset();
      store = OpenStore(dir.Sub("store"));
      cached = std::make_unique<runtime::Engine>(program, limits);
      cached->UseSource(store.get(), timer_window);
      Result<store::LazyLoad> loaded = store->LoadLazily(*cached);
      ASSERT_OK(loaded);
      EXPECT_TRUE(loaded->lazy);
      EXPECT_EQ(cached->customers(), 0u) << "no customer is read before it is needed";
      if (timer_window > 0) { EXPECT_LE(cached->timers_in_memory(), timer_window); }
      cached->TrackChanges(true);
    };
    start();
    size_t k = 0;
    bool restarted = false;
    while (k < in.size()) {
      for (size_t n = 1 + rng() % 3; n > 0 && k < in.size(); --n) {
        Feed(*cached, in[k], got);
        if (k == in.size() / 3) { EXPECT_OK(cached->Reload(again, got)); }
        ++k;
      }
      ASSERT_OK(store->Commit(*cached, std::to_string(k), false));
      cached->Evict(1);
      EXPECT_LE(cached->customers(), 1u);
      if (timer_window > 0) { EXPECT_LE(cached->timers_in_memory(), 2 * timer_window); }
      if (!restarted && k >= in.size() / 2) {
        count();
        start();
        restarted = true;
      }
    }
    cached->AdvanceTo(end_us, got);
    count();
    EXPECT_EQ(Lines(got, 0, 0), Lines(want, 0, 0));
    EXPECT_GT(loaded, 10u) << "customers were read back";
    EXPECT_GT(evicted, 10u) << "customers left memory";
    if (timer_window > 0) {
      EXPECT_GT(timers_read, 10u) << "timers were read back";
      EXPECT_GT(timers_evicted, 10u) << "timers left memory";
    }
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(StateStore, ACacheOfOneCustomerDecidesWhatAnEngineWithEveryoneDecides) {
  ExpectACacheOfOneCustomerDecidesAsEveryone(0);
}

TEST(StateStore, ACacheOfOneCustomerAndTwoTimersDecidesWhatAnEngineWithEveryoneDecides) {
  ExpectACacheOfOneCustomerDecidesAsEveryone(2);
}

TEST(StateStore, ACacheOfOneCustomerAndTwoTimersKeepsEveryonesCountOfPendingTimers) {
  runtime::EngineLimits limits;
  limits.max_timers_per_customer = 2;
  ExpectACacheOfOneCustomerDecidesAsEveryone(2, limits);
}

// A customer whose changes are not taken and written yet never leaves memory (the
// store would hand back an older piece); once they are, the least recently used go.
TEST(StateStore, ACustomerLeavesMemoryOnlyOnceItsChangesAreWritten) {
  TempDir dir;
  runtime::CompiledProgram program = Compile(Program());
  ASSERT_TRUE(program.spec);
  auto store = OpenStore(dir.Sub("store"));
  runtime::Engine e(program);
  e.UseSource(store.get());
  e.TrackChanges(true);
  Collector sink;
  int64_t end_us = 0;
  for (const Input& in : RandomStream(31, 40, false, end_us)) Feed(e, in, sink);
  const size_t resident = e.customers();
  ASSERT_GT(resident, 1u);
  EXPECT_EQ(e.Evict(1), 0u) << "changes not taken yet";
  EXPECT_EQ(e.customers(), resident);
  ASSERT_OK(store->Commit(e, "1", false));
  EXPECT_EQ(e.Evict(1), resident - 1);
  EXPECT_EQ(e.customers(), 1u);
}

// kBase with a cart that waits an hour for every customer.
const char* kWaits = "channel email { consent true }\n"
                     "journey j { on cart reenter always wait 1h send email \"later\" }\n";

// A store that fails to read while `failing` is set (a disk that stopped answering):
// the engine's CustomerSource, delegating to a real StateStore otherwise.
class FlakySource : public runtime::CustomerSource {
 public:
  explicit FlakySource(StateStore& store) : store_(store) {}
  bool failing = false;
  Result<bool> Find(std::string_view customer, std::string* piece) override {
    if (failing) return IoError("the disk stopped answering");
    return store_.Find(customer, piece);
  }
  Status ForEach(const std::function<void(std::string_view, std::string_view)>& fn) override {
    if (failing) return IoError("the disk stopped answering");
    return store_.ForEach(fn);
  }
  Status TimersAfter(int64_t due_us, uint64_t seq, size_t limit,
                     const std::function<void(int64_t, uint64_t, std::string_view)>& fn) override {
    if (failing) return IoError("the disk stopped answering");
    return store_.TimersAfter(due_us, seq, limit, fn);
  }

 private:
  StateStore& store_;
};

// A customer only in the store while the store cannot be read: its message is refused
// (a dead letter: nothing is decided as if it were new), its timer is put off, a
// reload does not happen; once the store answers, its state is all there and every
// wait ends as it would have.
TEST(StateStore, ACustomerTheStoreCannotReadIsNeitherStartedAfreshNorLost) {
  TempDir dir;
  runtime::CompiledProgram program = Compile(std::string(kBase) + kWaits);
  ASSERT_TRUE(program.spec);
  auto store = OpenStore(dir.Sub("s"));
  FlakySource source(*store);
  runtime::Engine e(program);
  e.UseSource(&source);
  e.TrackChanges(true);
  Collector sink;
  e.Process(TrackJson("ana", "cart", At(0), R"({"value":1})", "m1"), sink);
  e.Process(TrackJson("bob", "cart", At(1), R"({"value":1})", "m2"), sink);
  ASSERT_OK(store->Commit(e, "1", false));
  ASSERT_EQ(e.Evict(1), 1u);  // ana, the least recently used, is only stored now
  source.failing = true;

  // Her next message: refused, not decided for a new customer.
  Collector refused;
  e.Process(TrackJson("ana", "cart", At(2), R"({"value":1})", "m3"), refused);
  ASSERT_EQ(refused.dead_letters.size(), 1u);
  EXPECT_THAT(refused.dead_letters[0].second,
              HasSubstr("the customer's stored state cannot be read now"));
  EXPECT_TRUE(refused.decisions.empty());
  EXPECT_EQ(e.customers(), 1u) << "no fresh state for ana";
  // A reload would rewrite the store without her: it does not happen.
  runtime::CompiledProgram edited =
      Compile(std::string(kBase) + kWaits + "journey k { on app_open send email \"hi\" }\n");
  Status reload = e.Reload(edited, sink);
  EXPECT_EQ(reload.code(), StatusCode::kIoError) << reload.ToString();
  EXPECT_THAT(reload.message(), HasSubstr("the reload did not happen"));
  EXPECT_EQ(e.spec().journeys.size(), 1u) << "the running program stays";
  // Her wait falls due: put off (a second at a time), not dropped.
  Collector due;
  e.AdvanceTo(At(3600 * kSecond + 5 * kSecond), due);
  for (const runtime::Decision& d : due.decisions) EXPECT_NE(d.customer, "ana");
  EXPECT_GE(e.stats().customers_unreadable, 2u);

  // The store answers again: her wait ends with its email, and her state is hers.
  source.failing = false;
  Collector later;
  e.AdvanceTo(At(3600 * kSecond + 10 * kSecond), later);
  size_t ana_sent = 0;
  for (const runtime::Decision& d : later.decisions) {
    ana_sent += d.customer == "ana" && d.outcome == runtime::Outcome::kSent;
  }
  EXPECT_EQ(ana_sent, 1u) << "the put-off wait ended once the store answered";
  ASSERT_OK(e.Reload(edited, sink));
  EXPECT_EQ(e.spec().journeys.size(), 2u);
}

// Two engines number their timers alike: absorbed, the second's timers are numbered
// anew, so that two timers due at the same time keep keys of their own in the store.
TEST(StateStore, AbsorbedTimersDueAtTheSameTimeKeepKeysOfTheirOwn) {
  runtime::CompiledProgram program = Compile(std::string(kBase) + kWaits);
  ASSERT_TRUE(program.spec);
  runtime::Engine a(program), b(program);
  Collector sink;
  a.Process(TrackJson("ca", "cart", At(0), R"({"value":1})", "ma"), sink);
  b.Process(TrackJson("cb", "cart", At(0), R"({"value":1})", "mb"), sink);
  a.Absorb(b);
  ASSERT_EQ(a.pending_timers(), 2u);
  TempDir dir;
  std::string position;
  {
    auto store = OpenStore(dir.Sub("s"));
    a.TrackChanges(true);
    ASSERT_OK(store->Commit(a, "1", true));
  }
  runtime::Engine restored(program);
  auto store = OpenStore(dir.Sub("s"));
  position = LoadPosition(*store, restored);
  ASSERT_FALSE(::testing::Test::HasFailure());
  EXPECT_EQ(restored.pending_timers(), 2u) << "both waits are stored";
  Collector later;
  restored.AdvanceTo(At(2 * 3600 * kSecond), later);
  size_t sent = 0;
  for (const runtime::Decision& d : later.decisions) sent += d.outcome == runtime::Outcome::kSent;
  EXPECT_EQ(sent, 2u) << "both waits end with their email";
}

// Timers set after the horizon of an engine that keeps one timer in memory reach
// only the store; when the store cannot write them (a full disk), a read-back still
// finds them among the changes it keeps, and every wait ends with its email.
TEST(StateStore, TimersReadBackIncludeThoseAFullDiskKeptUnwritten) {
  TempDir dir;
  const std::string path = dir.Sub("tmpfs");
  std::filesystem::create_directories(path);
  if (::mount("tmpfs", path.c_str(), "tmpfs", 0, "size=4m") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): "
                 << std::strerror(errno);
  }
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{path};
  runtime::CompiledProgram program = Compile(std::string(kBase) + kWaits);
  ASSERT_TRUE(program.spec);
  auto store = OpenStore(path + "/s");
  ASSERT_TRUE(store);
  runtime::Engine e(program);
  e.UseSource(store.get(), 1);
  e.TrackChanges(true);
  Collector sink;
  auto cart = [&](int i) {
    e.Process(TrackJson("c" + std::to_string(i), "cart", At(i * kSecond), R"({"value":1})",
                        "m" + std::to_string(i)),
              sink);
  };
  for (int i = 0; i < 5; ++i) cart(i);
  ASSERT_OK(store->Commit(e, "5", false));
  e.Evict(1);
  EXPECT_EQ(e.timers_in_memory(), 1u) << "the four later waits are only stored";
  {
    std::ofstream filler(path + "/filler", std::ios::binary);
    std::string block(4096, 'x');
    while (filler.write(block.data(), static_cast<std::streamsize>(block.size()))) {
    }
  }
  // Waits after the horizon, for the store only: more than the last page of the log
  // can take.
  for (int i = 5; i < 205; ++i) cart(i);
  Status full = store->Commit(e, "205", false);
  ASSERT_FALSE(full.ok()) << "the disk is full";
  EXPECT_EQ(full.code(), StatusCode::kIoError) << full.ToString();
  EXPECT_TRUE(store->has_unwritten());
  // (serve evicts only after a commit that leaves nothing unwritten: Shard::CommitState)
  EXPECT_EQ(e.pending_timers(), 205u);
  e.AdvanceTo(At(3 * 3600 * kSecond), sink);
  size_t sent = 0;
  for (const runtime::Decision& d : sink.decisions) sent += d.outcome == runtime::Outcome::kSent;
  EXPECT_EQ(sent, 205u) << "every wait ended, those kept unwritten too";
  EXPECT_EQ(e.stats().timers_unreadable, 0u);
}

TEST(StateStore, ACommitWritesOnlyTheCustomersThatChanged) {
  TempDir dir;
  runtime::Engine e(Compile(std::string(kBase) + kWaits));
  e.TrackChanges(true);
  auto store = OpenStore(dir.Sub("s"));
  ASSERT_TRUE(store);
  Collector sink;
  for (int i = 0; i < 1000; ++i) {
    e.Process(TrackJson("c" + std::to_string(i), "cart", At(i * kMs), R"({"value":1})",
                        "m" + std::to_string(i)),
              sink);
  }
  ASSERT_OK(store->Commit(e, "1000", true));
  EXPECT_EQ(store->last_commit().customers, 1000u);
  EXPECT_EQ(store->last_commit().timer_ops, 1000u);
  const size_t all_bytes = store->last_commit().bytes;

  e.Process(IdentifyJson("c7", At(2 * kSecond), R"({"tier":"gold"})", "again"), sink);
  ASSERT_OK(store->Commit(e, "1001", true));
  EXPECT_EQ(store->last_commit().customers, 1u);
  EXPECT_FALSE(store->last_commit().rewrite);
  EXPECT_EQ(store->last_commit().timer_ops, 0u);
  EXPECT_LT(store->last_commit().bytes * 100, all_bytes);

  // Nothing changed and the same position: nothing is written.
  ASSERT_OK(store->Commit(e, "1001", true));
  EXPECT_EQ(store->last_commit().bytes, 0u);

  // Timers fired are erased from the index (and their customers written).
  e.AdvanceTo(At(2 * kHour), sink);
  ASSERT_OK(store->Commit(e, "1001", true));
  EXPECT_EQ(store->last_commit().timer_ops, 1000u);
  EXPECT_EQ(store->last_commit().customers, 1000u);
  store.reset();
  runtime::Engine b(Compile(std::string(kBase) + kWaits));
  store = OpenStore(dir.Sub("s"));
  std::string position;
  position = LoadPosition(*store, b);
  ASSERT_FALSE(::testing::Test::HasFailure());
  EXPECT_EQ(position, "1001");
  EXPECT_EQ(b.pending_timers(), 0u);
  EXPECT_EQ(b.customers(), 1000u);
}

// A store with some customers, its memtable flushed into a sorted file, closed.
void FillAndClose(const std::string& dir, int customers) {
  runtime::Engine e(Compile(std::string(kBase) + kWaits));
  e.TrackChanges(true);
  auto store = OpenStore(dir);
  ASSERT_TRUE(store);
  Collector sink;
  for (int i = 0; i < customers; ++i) {
    e.Process(TrackJson("customer-" + std::to_string(i), "cart", At(i * kMs), R"({"value":1})",
                        "m" + std::to_string(i)),
              sink);
  }
  ASSERT_OK(store->Commit(e, "p", true));
  ASSERT_OK(store->Flush());
}

std::vector<fs::path> FilesEndingIn(const std::string& dir, const std::string& ext) {
  std::vector<fs::path> out;
  for (const auto& f : fs::directory_iterator(dir)) {
    if (f.path().extension() == ext) out.push_back(f.path());
  }
  return out;
}

// Opens and loads `dir` into a fresh engine: the error's message, "" if it loaded.
std::string OpenAndLoad(const std::string& dir, size_t* customers_after) {
  runtime::Engine e(Compile(std::string(kBase) + kWaits));
  Result<std::unique_ptr<StateStore>> store = StateStore::Open(dir, {});
  Status loaded = store.ok() ? (*store)->Load(e).status() : store.status();
  *customers_after = e.customers();
  return loaded.message();
}

// Re-sharding: two engines, each deciding for half of the customers, the second
// absorbed into the first half-way (its timers renumbered after the first's); then
// the merged engine, written to a store and restored from it, decides the rest. All
// they decided together is what one engine that saw everything decides (as multisets:
// ties between customers' timers may fire in another order).
TEST(StateStore, TwoEnginesAbsorbedIntoOneDecideWhatOneEngineDecides) {
  runtime::CompiledProgram program = Compile(Program());
  ASSERT_TRUE(program.spec);
  for (uint32_t seed : {41u, 42u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    int64_t end_us = 0;
    std::vector<Input> in = RandomStream(seed, 200, /*serve=*/seed % 2 == 0, end_us);
    runtime::Engine all(program);
    Collector want;
    for (const Input& i : in) Feed(all, i, want);
    all.AdvanceTo(end_us, want);

    // Which half a message's customer is in (no customer: both see it).
    auto half = [](const Input& i) {
      std::string customer;
      if (i.kind == Input::kAdvance || !runtime::CustomerOfMessage(i.json, &customer)) return -1;
      return static_cast<int>(runtime::PartitionOf(customer, 64) % 2);
    };
    runtime::Engine a(program), b(program);
    Collector got_a, got_b, got_after;
    const size_t middle = in.size() / 2;
    for (size_t k = 0; k < middle; ++k) {
      const int h = half(in[k]);
      if (h != 1) Feed(a, in[k], got_a);
      if (h != 0) Feed(b, in[k], got_b);
    }
    const size_t pending = a.pending_timers() + b.pending_timers();
    const size_t customers = a.customers() + b.customers();
    a.Absorb(b);
    EXPECT_EQ(b.customers(), 0u);
    EXPECT_EQ(b.pending_timers(), 0u);
    EXPECT_EQ(a.customers(), customers);
    EXPECT_EQ(a.pending_timers(), pending);
    // Through a store: the merge is written whole, and restored.
    TempDir dir;
    std::string position;
    {
      auto store = OpenStore(dir.Sub("merged"));
      a.TrackChanges(true);
      ASSERT_OK(store->Commit(a, "half", true));
      EXPECT_TRUE(store->last_commit().rewrite);
    }
    runtime::Engine merged(program);
    auto store = OpenStore(dir.Sub("merged"));
    position = LoadPosition(*store, merged);
    ASSERT_FALSE(::testing::Test::HasFailure());
    for (size_t k = middle; k < in.size(); ++k) Feed(merged, in[k], got_after);
    merged.AdvanceTo(end_us, got_after);

    std::vector<std::string> expected = Lines(want, 0, 0), got = Lines(got_a, 0, 0);
    for (const std::string& line : Lines(got_b, 0, 0)) got.push_back(line);
    for (const std::string& line : Lines(got_after, 0, 0)) got.push_back(line);
    // A message without a customer (a dead letter) went to both halves.
    std::erase_if(expected, [](const std::string& l) { return l.rfind("dead: ", 0) == 0; });
    std::erase_if(got, [](const std::string& l) { return l.rfind("dead: ", 0) == 0; });
    std::sort(expected.begin(), expected.end());
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, expected);
    if (HasFailure()) return;
  }
}

// Splitting one engine's store over shards: each load takes only the customers it is
// given, with their timers, and the two shares make the whole, written whole to
// stores of their own.
TEST(StateStore, AFilteredLoadTakesItsShareAndWritesItWhole) {
  TempDir dir;
  FillAndClose(dir.Sub("one"), 200);  // 200 customers, each waiting on a timer
  auto odd = [](std::string_view id) { return (id.back() - '0') % 2 == 1; };
  size_t customers = 0, timers = 0;
  for (bool want_odd : {true, false}) {
    runtime::Engine e(Compile(std::string(kBase) + kWaits));
    std::string position;
    auto one = OpenStore(dir.Sub("one"));
    Result<std::string> loaded =
        one->Load(e, [&](std::string_view id) { return odd(id) == want_odd; });
    ASSERT_OK(loaded);
    position = *loaded;
    EXPECT_EQ(position, "p");
    EXPECT_EQ(e.customers(), 100u);
    EXPECT_EQ(e.pending_timers(), 100u) << "only the timers of its customers";
    customers += e.customers();
    timers += e.pending_timers();
    e.TrackChanges(true);
    auto share = OpenStore(dir.Sub(want_odd ? "odd" : "even"));
    ASSERT_OK(share->CommitAll(e, position));
    EXPECT_EQ(share->last_commit().customers, 100u) << "written whole";
  }
  EXPECT_EQ(customers, 200u);
  EXPECT_EQ(timers, 200u);
  size_t loaded = 0;
  EXPECT_EQ(OpenAndLoad(dir.Sub("odd"), &loaded), "");
  EXPECT_EQ(loaded, 100u);
}

TEST(StateStore, ATruncatedFileIsRefusedAtOpen) {
  TempDir dir;
  FillAndClose(dir.Sub("s"), 2000);
  std::vector<fs::path> ssts = FilesEndingIn(dir.Sub("s"), ".sst");
  ASSERT_FALSE(ssts.empty());
  fs::resize_file(ssts[0], fs::file_size(ssts[0]) / 2);
  size_t customers = 0;
  std::string error = OpenAndLoad(dir.Sub("s"), &customers);
  EXPECT_THAT(error, HasSubstr("damaged"));
  EXPECT_EQ(customers, 0u);
}

TEST(StateStore, CorruptBytesAreRefusedAndNothingIsLoaded) {
  TempDir dir;
  FillAndClose(dir.Sub("s"), 2000);
  std::vector<fs::path> ssts = FilesEndingIn(dir.Sub("s"), ".sst");
  ASSERT_FALSE(ssts.empty());
  {
    std::fstream f(ssts[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(ssts[0]) / 4));
    f.write("\xde\xad\xbe\xef\xde\xad\xbe\xef", 8);  // inside the data blocks
  }
  size_t customers = 0;
  std::string error = OpenAndLoad(dir.Sub("s"), &customers);
  EXPECT_THAT(error, HasSubstr("damaged"));
  EXPECT_EQ(customers, 0u) << "a half-read store must leave the engine as it was";
}

TEST(StateStore, AStoreWithoutItsManifestIsRefused) {
  TempDir dir;
  FillAndClose(dir.Sub("s"), 10);
  fs::remove(dir.Sub("s") + "/CURRENT");
  size_t customers = 0;
  EXPECT_THAT(OpenAndLoad(dir.Sub("s"), &customers), HasSubstr("not a Juncture state store"));
}

TEST(StateStore, AStoreInUseIsRefusedAsSuch) {
  TempDir dir;
  auto first = OpenStore(dir.Sub("s"));
  ASSERT_TRUE(first);
  Result<std::unique_ptr<StateStore>> second = StateStore::Open(dir.Sub("s"), {});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition) << second.status().ToString();
  EXPECT_THAT(second.status().message(), HasSubstr("is in use (by another process"));
}

TEST(StateStore, AForeignDirectoryIsRefused) {
  TempDir dir;
  fs::create_directories(dir.Sub("other"));
  std::ofstream(dir.Sub("other") + "/notes.txt") << "mine\n";
  size_t customers = 0;
  EXPECT_THAT(OpenAndLoad(dir.Sub("other"), &customers), HasSubstr("not a Juncture state store"));
  EXPECT_TRUE(fs::exists(dir.Sub("other") + "/notes.txt"));
}

TEST(StateStore, OtherLayoutsRewriteTheStoreUnderTheNewOnes) {
  TempDir dir;
  const std::string v1 = std::string(kBase) + kWaits;
  // cart gains a field: every stored record must be written again in the new layout.
  std::string v2 = v1;
  v2.replace(v2.find("coupon: string?"), 15, "coupon: string?  gift: bool = false");
  FillAndClose(dir.Sub("s"), 50);
  std::string position;
  {
    runtime::Engine e(Compile(v2));
    auto store = OpenStore(dir.Sub("s"));
    position = LoadPosition(*store, e);
    ASSERT_FALSE(::testing::Test::HasFailure());
    EXPECT_EQ(e.customers(), 50u);
    EXPECT_EQ(e.pending_timers(), 50u);
    e.TrackChanges(true);
    ASSERT_OK(store->Commit(e, position, true));
    EXPECT_TRUE(store->last_commit().rewrite);
    EXPECT_EQ(store->last_commit().customers, 50u);
  }
  runtime::Engine again(Compile(v2));
  auto store = OpenStore(dir.Sub("s"));
  position = LoadPosition(*store, again);
  ASSERT_FALSE(::testing::Test::HasFailure());
  Collector sink;
  again.AdvanceTo(At(2 * kHour), sink);
  size_t sends = 0;
  for (const Decision& d : sink.decisions) sends += d.outcome == runtime::Outcome::kSent;
  EXPECT_EQ(sends, 50u);  // every wait resumed into its send
  again.TrackChanges(true);
  ASSERT_OK(store->Commit(again, position, true));
  EXPECT_FALSE(store->last_commit().rewrite) << "the layouts stored are the program's now";
}

TEST(StateStore, AProgramWithoutAJourneyRewritesTheStoreWithoutItsTimers) {
  TempDir dir;
  FillAndClose(dir.Sub("s"), 40);  // 40 waits of journey j
  // The same events and profile (same layouts), but journey j is gone.
  const std::string without = std::string(kBase) + "channel email { consent true }\n"
                              "journey other { on app_open send email \"hi\" }\n";
  std::string position;
  {
    runtime::Engine e(Compile(without));
    auto store = OpenStore(dir.Sub("s"));
    position = LoadPosition(*store, e);
    ASSERT_FALSE(::testing::Test::HasFailure());
    EXPECT_EQ(e.pending_timers(), 0u);
    e.TrackChanges(true);
    ASSERT_OK(store->Commit(e, position, true));
    EXPECT_TRUE(store->last_commit().rewrite) << "the stored timers of j must not stay behind";
    Result<store::StoreCounts> n = store->Count();
    ASSERT_OK(n);
    EXPECT_EQ(n->timers, 0u);
  }
  // Back to the program with j: its waits are gone for good, not brought back.
  runtime::Engine back(Compile(std::string(kBase) + kWaits));
  auto store = OpenStore(dir.Sub("s"));
  position = LoadPosition(*store, back);
  ASSERT_FALSE(::testing::Test::HasFailure());
  EXPECT_EQ(back.pending_timers(), 0u);
}

TEST(StateStore, ARocksDbDatabaseOfSomeoneElseIsRefused) {
  TempDir dir;
  {
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir.Sub("theirs"), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "user:1", "their data").ok());
  }
  size_t customers = 0;
  EXPECT_THAT(OpenAndLoad(dir.Sub("theirs"), &customers),
              HasSubstr("holds a RocksDB database that is not a Juncture state store"));
}

// What a failing store keeps while it waits: merged, with the effect of writing it all.
TEST(StateChanges, CompactKeepsTheLastPieceAndDropsTimersSetAndDroppedTogether) {
  using Op = runtime::StateChanges::TimerOp;
  runtime::StateChanges c;
  c.customers = {{"ana", "1"}, {"ben", "1"}, {"ana", "2"}, {"cy", "1"}, {"ben", "2"}};
  c.timers = {{Op::kPut, 10, 1, "t1"},  {Op::kErase, 5, 7, ""},  // 7 was written before
              {Op::kPut, 20, 2, "t2"},  {Op::kCancel, 0, 2, ""}, {Op::kErase, 20, 2, ""},
              {Op::kCancel, 0, 8, ""},  {Op::kPut, 30, 3, "t3"}};
  c.Compact();
  std::vector<std::string> customers;
  for (const auto& x : c.customers) customers.push_back(x.id + "=" + x.value);
  // One piece per customer (the order of different customers does not matter).
  EXPECT_THAT(customers, ::testing::UnorderedElementsAre("ana=2", "cy=1", "ben=2"));
  std::vector<uint64_t> seqs;
  for (const Op& t : c.timers) seqs.push_back(t.seq);
  EXPECT_THAT(seqs, ::testing::ElementsAre(1u, 7u, 8u, 3u));
}


// ---- Formats: the second (customers as merged pieces) and the first ----------------

std::string BigEndianKey(char kind, std::initializer_list<uint64_t> parts) {
  std::string key(1, kind);
  for (uint64_t v : parts) {
    for (int i = 7; i >= 0; --i) key += static_cast<char>((v >> (8 * i)) & 0xff);
  }
  return key;
}

// Writes `c` (taken with PieceForm::kWhole, the first form) as a store of the first
// format does: everything in RocksDB's default family, customers under C<id>.
void WriteFirstFormat(const std::string& dir, const runtime::StateChanges& c,
                      const std::string& position, bool with_empty_family) {
  rocksdb::Options o;
  o.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(o, dir, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteBatch b;
  b.Put("M", "juncture.state 1");
  b.Put("L", c.layouts);
  b.Put("G", c.globals);
  b.Put("P", position);
  for (const auto& cu : c.customers) b.Put("C" + cu.id, cu.value);
  using Op = runtime::StateChanges::TimerOp;
  for (const Op& t : c.timers) {
    const std::string key =
        BigEndianKey('T', {static_cast<uint64_t>(t.due_us) ^ (uint64_t{1} << 63), t.seq});
    switch (t.kind) {
      case Op::kPut: b.Put(key, t.value); break;
      case Op::kCancel: b.Put(BigEndianKey('X', {t.seq}), ""); break;
      case Op::kErase:
        b.Delete(key);
        b.Delete(BigEndianKey('X', {t.seq}));
        break;
    }
  }
  ASSERT_TRUE(db->Write(rocksdb::WriteOptions(), &b).ok());
  if (with_empty_family) {  // as a crash between making the family and filling it leaves it
    rocksdb::ColumnFamilyHandle* h = nullptr;
    ASSERT_TRUE(db->CreateColumnFamily(rocksdb::ColumnFamilyOptions(), "customers", &h).ok());
    ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
  }
  ASSERT_TRUE(db->Close().ok());
}

std::vector<std::string> Families(const std::string& dir) {
  std::vector<std::string> names;
  EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::Options(), dir, &names).ok());
  std::sort(names.begin(), names.end());
  return names;
}

// A store written by a version that wrote the first format loads; it is written
// again whole, in the second, at its first commit (and not before: a store only
// read stays as it is); then it loads as it was.
TEST(StateStore, AStoreOfTheFirstFormatLoadsAndMovesToTheSecondAtItsFirstCommit) {
  runtime::CompiledProgram program = Compile(Program());
  ASSERT_TRUE(program.spec);
  for (bool with_empty_family : {false, true}) {
    SCOPED_TRACE(with_empty_family ? "its family made, empty" : "no family");
    TempDir dir;
    int64_t end_us = 0;
    std::vector<Input> in = RandomStream(77, 120, /*serve=*/false, end_us);
    runtime::Engine a(program);
    a.TrackChanges(true);
    Collector sink;
    for (size_t k = 0; k < 60; ++k) Feed(a, in[k], sink);
    runtime::StateChanges first;
    a.TakeChanges(first, runtime::PieceForm::kWhole);
    ASSERT_FALSE(first.customers.empty());
    ASSERT_FALSE(runtime::pieces::IsForm2(first.customers[0].value));
    WriteFirstFormat(dir.Sub("s"), first, "60", with_empty_family);
    ASSERT_FALSE(HasFatalFailure());
    const std::vector<std::string> before = Families(dir.Sub("s"));

    runtime::Engine b(program);
    {
      auto store = OpenStore(dir.Sub("s"));
      ASSERT_TRUE(store);
      EXPECT_EQ(LoadPosition(*store, b), "60");
      EXPECT_EQ(b.SaveSnapshot(), a.SaveSnapshot());
    }
    EXPECT_EQ(Families(dir.Sub("s")), before) << "a store only read is left as it was";

    b.TrackChanges(true);
    {
      auto store = OpenStore(dir.Sub("s"));
      ASSERT_TRUE(store);
      runtime::Engine again(program);
      LoadPosition(*store, again);
      again.TrackChanges(true);
      Collector ignored;
      for (size_t k = 60; k < in.size(); ++k) {
        Feed(a, in[k], sink);
        Feed(again, in[k], ignored);
      }
      ASSERT_OK(store->Commit(again, "120", true));
      EXPECT_TRUE(store->last_commit().rewrite) << "the first commit writes it all again";
    }
    EXPECT_EQ(Families(dir.Sub("s")), (std::vector<std::string>{"customers", "default"}));
    {
      rocksdb::DB* raw = nullptr;
      std::vector<rocksdb::ColumnFamilyHandle*> handles;
      std::vector<rocksdb::ColumnFamilyDescriptor> families{
          {rocksdb::kDefaultColumnFamilyName, {}}, {"customers", {}}};
      ASSERT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::Options(), dir.Sub("s"), families,
                                               &handles, &raw)
                      .ok());
      std::unique_ptr<rocksdb::DB> db(raw);
      std::string format;
      ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), "M", &format).ok());
      EXPECT_EQ(format, "juncture.state 2");
      std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[0]));
      it->Seek("C");
      EXPECT_TRUE(!it->Valid() || it->key()[0] != 'C') << "no customer of the first form is left";
      it.reset();
      for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
    }
    runtime::Engine c(program);
    auto store = OpenStore(dir.Sub("s"));
    ASSERT_TRUE(store);
    EXPECT_EQ(LoadPosition(*store, c), "120");
    EXPECT_EQ(c.SaveSnapshot(), a.SaveSnapshot());
  }
}

// A version that knows only the first format cannot open a store of the second,
// and refuses it before reading its log: the commits only the log holds are still
// there for this version.
TEST(StateStore, AnOlderVersionRefusesTheSecondFormatAndLeavesItIntact) {
  runtime::CompiledProgram program = Compile(Program());
  ASSERT_TRUE(program.spec);
  TempDir dir;
  int64_t end_us = 0;
  std::vector<Input> in = RandomStream(78, 80, /*serve=*/false, end_us);
  runtime::Engine a(program);
  a.TrackChanges(true);
  Collector sink;
  {
    auto store = OpenStore(dir.Sub("s"));
    ASSERT_TRUE(store);
    for (size_t k = 0; k < in.size(); ++k) {
      Feed(a, in[k], sink);
      ASSERT_OK(store->Commit(a, std::to_string(k + 1), false));
    }
  }  // closed without a flush: the changes are in the log only
  rocksdb::Options older;  // the options of a version that wrote the first format
  older.paranoid_checks = true;
  older.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(older, dir.Sub("s"), &raw);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.ToString(), HasSubstr("Column families not opened"));
  runtime::Engine b(program);
  auto store = OpenStore(dir.Sub("s"));
  ASSERT_TRUE(store);
  EXPECT_EQ(LoadPosition(*store, b), "80");
  EXPECT_EQ(b.SaveSnapshot(), a.SaveSnapshot());
}

// One busy customer: each commit writes what its message added (an id taken, a time
// counted), not the history it has built up; the store folds them into the piece it
// hands back, through its log, its memtable, a flush and a compaction.
TEST(StateStore, ACommitOfABusyCustomerWritesWhatEnteredNotItsHistory) {
  runtime::CompiledProgram program = Compile(Program());
  ASSERT_TRUE(program.spec);
  for (bool write_mostly : {false, true}) {
    SCOPED_TRACE(write_mostly ? "write-mostly" : "default");
    TempDir dir;
    runtime::Engine a(program);
    a.TrackChanges(true);
    Collector sink;
    Result<std::unique_ptr<StateStore>> opened =
        StateStore::Open(dir.Sub("s"), store::StoreOptions{64, write_mostly});
    ASSERT_OK(opened);
    StateStore& store = **opened;
    size_t first = 0, last = 0;
    for (int i = 0; i < 2000; ++i) {
      a.Process(TrackJson("ana", "cart", At(i * kSecond), R"({"value": 5.5, "items": 1})",
                          "c" + std::to_string(i)),
                sink);
      ASSERT_OK(store.Commit(a, std::to_string(i + 1), false));
      (i == 10 ? first : last) = store.last_commit().bytes;
      if (i == 700) {
        ASSERT_OK(store.Flush());
      }
      if (i == 1400) {
        ASSERT_OK(store.Compact());
      }
    }
    std::string piece;
    Result<bool> found = store.Find("ana", &piece);
    ASSERT_OK(found);
    ASSERT_TRUE(*found);
    EXPECT_GT(piece.size(), 4000u) << "256 ids taken and 2,000 carts counted";
    EXPECT_LE(last, first + 16) << "a commit after 2,000 messages writes what one after 10 did";
    EXPECT_LT(last * 8, piece.size());
    runtime::Engine b(program);
    EXPECT_EQ(LoadPosition(store, b), "2000");
    EXPECT_EQ(b.SaveSnapshot(), a.SaveSnapshot());
  }
}

}  // namespace
}  // namespace juncture::enginetest
