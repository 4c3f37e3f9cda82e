// The state store's costs (docs/state.md, docs/performance.md §9): what a commit costs
// per changed customer with 1M and 10M customers stored, bytes on disk per customer,
// and restore time.
//
// Each size gets a store of its own. Fill: customers are created by a real engine
// (JIT) in chunks of 100,000: an
// identify and a cart each, which leaves every customer with a profile, an instance
// waiting 30 minutes (a timer), a cap log and window history; each chunk's changes
// are committed in batches of 10,000 customers, then the engine is dropped (so that
// filling 10M customers does not need them all in memory). For each size in --sizes,
// after a flush and a full compaction (the commits go round robin over the sizes, so
// that the machine's noise falls on every size alike):
//   - bytes on disk per customer (sorted files + write-ahead log);
//   - commit cost: a fresh engine holding 1,000 of the stored customers (loaded the
//     way serve does not: by processing their messages again) takes one cart for a
//     random one of them, and that message's changes are committed; the clock is
//     around Commit only (taking the changes, encoding the customer and its timer,
//     the RocksDB write), sync=false (core NATS) and sync=true (JetStream), COMMITS
//     times each: median and p99; and the two halves of the sync=false ones apart
//     (Engine::TakeChanges, which encodes; StateStore::CommitChanges, which writes);
//   - restore (--restore): StateStore::Load of the whole store into a fresh engine,
//     at sizes up to 1M (the engine holds the whole state in memory), and the heap it
//     takes (glibc's in-use bytes, before and after);
//   - with --cache N, the engine as a cache over the store (serve --cache-customers):
//     StateStore::LoadLazily at every size (the engine-wide values and the N earliest
//     timers; the rest stay in the store's index by due time) with the heap it takes,
//     then COMMITS carts for random stored customers, committing each and evicting
//     down to N customers: the time of each message (read back from the store when
//     not in memory), p50 / p99, against the same cart again at once (in memory);
//     then it fires the next 10 * N timers in order (each resumes a customer that is
//     not in memory, whose timer was read back from the index by due time), committing
//     and evicting every 1,000: the time of each AdvanceTo, p50 / p99 / max (the max
//     is the one that reads N timers back).
//
// With --busy N, only this instead: one busy customer, its commits as its recent
// messages grow. N carts 100 ms apart for one customer (all within the program's
// 1-day windows, so its history keeps every one, and its deduplication ids up to
// EngineLimits::max_dedup_ids), each message committed alone as core NATS commits a
// lone message (sync=false). At message counts 1, 10, 100, 256, 1,000, 3,000 (up to
// N): the bytes that message's commit wrote, and the median time of the commits of
// the 10 messages around it (taking the changes, which encodes the customer, and the
// RocksDB write), over --rounds fresh stores; then all N commits against the same
// number of messages spread over N other customers, one each. A commit whose cost is
// O(1) per event keeps both flat; today's, which rewrites the customer whole, grows
// with them.
//
// usage: state_bench [--sizes 1000000,10000000] [--commits 2000] [--dir DIR] [--restore]
//                    [--cache N]
//        state_bench --busy N [--rounds R] [--dir DIR]
// Output: a markdown table on stdout; one JSON line per measurement, prefixed "RAW ".
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "juncture/compiler/backend.h"
#include "juncture/compiler/jit.h"
#include "juncture/compiler/compiler.h"
#include "juncture/runtime/event.h"
#include "juncture/runtime/runtime.h"
#include "juncture/store/state_store.h"

namespace {

using namespace juncture;
using Clock = std::chrono::steady_clock;

const char* kProgram = R"(
event cart_updated { value: float  sku: string  category: string  items: int = 1 }
event purchase { amount: float  order_id: string }
profile {
  country: string = ""
  tier: string = "standard"
  email_opt_in: bool = true
  timezone: string = "UTC"
  ltv: float = 0
}
channel email { consent profile.email_opt_in  cap 3 per 7d }
channel push { consent true  cap 5 per 1d }
journey seen {
  on cart_updated
  reenter always
  send push "seen" { n: count(cart_updated within 1d), value: sum(cart_updated.value within 1d) }
}
journey abandon {
  on cart_updated when event.value >= 10
  reenter after 1d
  exit on purchase
  wait 30m
  send email "abandoned" { sku: event.sku, tier: profile.tier }
}
)";

struct Sink : runtime::DecisionSink {
  void OnDecision(const runtime::Decision&) override { ++decisions; }
  void OnDeadLetter(std::string_view, const std::string&) override { ++dead; }
  uint64_t decisions = 0, dead = 0;
};

int64_t T0() {
  int64_t us = 0;
  runtime::ParseTimestamp("2026-06-01T12:00:00Z", us);
  return us;
}

std::string Id(int64_t u) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "customer-%08lld", static_cast<long long>(u));
  return buf;
}

std::string IdentifyMsg(int64_t u, int64_t t) {
  const char* tiers[] = {"standard", "gold", "platinum"};
  return "{\"type\":\"identify\",\"messageId\":\"i-" + std::to_string(u) + "\",\"userId\":\"" +
         Id(u) + "\",\"timestamp\":\"" + runtime::FormatTimestamp(t) +
         "\",\"traits\":{\"country\":\"FR\",\"tier\":\"" + tiers[u % 3] +
         "\",\"ltv\":" + std::to_string(u % 900) + "}}";
}

std::string CartMsg(int64_t u, int64_t t, int n) {
  return "{\"type\":\"track\",\"event\":\"cart_updated\",\"messageId\":\"c-" + std::to_string(u) +
         "-" + std::to_string(n) + "\",\"userId\":\"" + Id(u) + "\",\"timestamp\":\"" +
         runtime::FormatTimestamp(t) + "\",\"properties\":{\"value\":" +
         std::to_string(5 + u % 200) + ".5,\"sku\":\"sku-" + std::to_string(u % 5000) +
         "\",\"category\":\"shoes\",\"items\":" + std::to_string(1 + u % 4) + "}}";
}

double Us(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }
double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

runtime::CompiledProgram Program() {
  auto c = compiler::CompileSources({{"state_bench.jny", kProgram}}, compiler::CompileOptions{});
  if (!c->ok()) {
    std::fprintf(stderr, "%s\n", c->FormatDiagnostics(compiler::DiagnosticFormat::kText).c_str());
    std::exit(1);
  }
  Result<runtime::CompiledProgram> p = compiler::MakeJitProgram(*c);
  if (!p.ok()) {
    std::fprintf(stderr, "jit: %s\n", p.status().message().c_str());
    std::exit(1);
  }
  return *std::move(p);
}

// Bytes the heap has handed out now (glibc): what an engine holds, whatever the
// allocator kept from earlier frees.
double HeapBytes() {
  struct mallinfo2 m = mallinfo2();
  return static_cast<double>(m.uordblks + m.hblkhd);
}

void Check(bool ok, const std::string& error) {
  if (!ok) {
    std::fprintf(stderr, "state_bench: %s\n", error.c_str());
    std::exit(1);
  }
}

void Check(const Status& status) { Check(status.ok(), status.message()); }

// Adds customers [from, to) to the store.
void Fill(store::StateStore& s, const runtime::CompiledProgram& program, int64_t from, int64_t to) {
  constexpr int64_t kChunk = 100'000, kBatch = 10'000;
  Sink sink;
  for (int64_t chunk = from; chunk < to; chunk += kChunk) {
    runtime::Engine e(program);
    e.TrackChanges(true);
    for (int64_t u = chunk; u < std::min(to, chunk + kChunk); ++u) {
      // Each customer's own time: its timer's key (due time, sequence) is then unique
      // in the store although each chunk's engine numbers its timers from 1.
      int64_t t = T0() + u * 1000;
      e.Process(IdentifyMsg(u, t), sink);
      e.Process(CartMsg(u, t + 1, 0), sink);
      if ((u + 1) % kBatch == 0) Check(s.Commit(e, "fill", false));
    }
    Check(s.Commit(e, "fill", false));
  }
}

// --busy: see the top of the file.
void Busy(const runtime::CompiledProgram& program, const std::string& dir, int n, int rounds) {
  const std::vector<int> marks = {1, 10, 100, 256, 1000, 3000};
  std::vector<std::vector<double>> times(static_cast<size_t>(n) + 1);
  std::vector<size_t> bytes(static_cast<size_t>(n) + 1, 0);
  std::vector<double> busy_total, spread_total;  // µs, one per round
  for (int r = 0; r < rounds; ++r) {
    const std::string path = dir + "/busy-" + std::to_string(r);
    std::filesystem::remove_all(path);
    Result<std::unique_ptr<store::StateStore>> opened = store::StateStore::Open(path, {});
    Check(opened.status());
    store::StateStore& s = **opened;
    runtime::Engine e(program);
    e.TrackChanges(true);
    Sink sink;
    double total = 0;
    for (int k = 1; k <= n; ++k) {
      e.Process(CartMsg(0, T0() + int64_t{k} * 100'000, k), sink);
      const auto t0 = Clock::now();
      Check(s.Commit(e, "busy", false));
      const double us = Us(Clock::now() - t0);
      total += us;
      times[static_cast<size_t>(k)].push_back(us);
      bytes[static_cast<size_t>(k)] = s.last_commit().bytes;
    }
    busy_total.push_back(total);
    // The same number of messages, one for each of n other customers, in the same
    // store and engine.
    total = 0;
    for (int k = 1; k <= n; ++k) {
      e.Process(CartMsg(k, T0() + int64_t{n + k} * 100'000, 0), sink);
      const auto t0 = Clock::now();
      Check(s.Commit(e, "busy", false));
      total += Us(Clock::now() - t0);
    }
    spread_total.push_back(total);
    Check(sink.dead == 0, "a message was refused");
  }
  std::printf("## One busy customer: a commit per message as its recent messages grow\n\n"
              "%d rounds, each a fresh store. Time: median of the commits of the 10 messages "
              "around the count (TakeChanges and the RocksDB write, sync=false).\n\n"
              "| messages so far | bytes written by the commit | commit µs (median) | "
              "against the first |\n|---:|---:|---:|---:|\n",
              rounds);
  double first = 0;
  for (int mark : marks) {
    if (mark > n) break;
    std::vector<double> around;
    for (int k = std::max(1, mark - 5); k <= std::min(n, mark + 4); ++k) {
      const auto& t = times[static_cast<size_t>(k)];
      around.insert(around.end(), t.begin(), t.end());
    }
    const double median = Quantile(around, 0.5);
    if (first == 0) first = median;
    std::printf("| %d | %zu | %.1f | %.1fx |\n", mark, bytes[static_cast<size_t>(mark)], median,
                median / first);
    std::printf("RAW {\"bench\":\"busy_customer\",\"messages\":%d,\"bytes\":%zu,"
                "\"commit_us_p50\":%.2f}\n",
                mark, bytes[static_cast<size_t>(mark)], median);
  }
  const double busy_ms = Quantile(busy_total, 0.5) / 1000, spread_ms = Quantile(spread_total, 0.5) / 1000;
  std::printf("\nAll %d commits of the busy customer: %.1f ms; the same number of messages "
              "spread over %d customers, one each: %.1f ms (%.1fx; medians of the rounds).\n\n",
              n, busy_ms, n, spread_ms, busy_ms / spread_ms);
  std::printf("RAW {\"bench\":\"busy_customer_total\",\"messages\":%d,\"busy_ms\":%.2f,"
              "\"spread_ms\":%.2f}\n",
              n, busy_ms, spread_ms);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int64_t> sizes = {1'000'000, 10'000'000};
  int commits = 2000;
  bool restore = false;
  int64_t cache = 0;
  int busy = 0, rounds = 5;
  std::string dir = (std::filesystem::temp_directory_path() / "juncture-state-bench").string();
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--sizes" && i + 1 < argc) {
      sizes.clear();
      for (std::string s = argv[++i]; !s.empty();) {
        size_t comma = s.find(',');
        sizes.push_back(std::stoll(s.substr(0, comma)));
        s = comma == std::string::npos ? "" : s.substr(comma + 1);
      }
    } else if (a == "--commits" && i + 1 < argc) {
      commits = std::atoi(argv[++i]);
    } else if (a == "--dir" && i + 1 < argc) {
      dir = argv[++i];
    } else if (a == "--restore") {
      restore = true;
    } else if (a == "--cache" && i + 1 < argc) {
      cache = std::atoll(argv[++i]);
    } else if (a == "--busy" && i + 1 < argc) {
      busy = std::atoi(argv[++i]);
    } else if (a == "--rounds" && i + 1 < argc) {
      rounds = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: state_bench [--sizes N,N] [--commits N] [--dir DIR] [--restore] [--cache N]\n"
                           "       state_bench --busy N [--rounds R] [--dir DIR]\n");
      return 2;
    }
  }
  std::filesystem::remove_all(dir);
  runtime::CompiledProgram program = Program();
  if (busy > 0) {
    Busy(program, dir, busy, std::max(1, rounds));
    std::filesystem::remove_all(dir);
    return 0;
  }
  // One store per size, each filled, flushed and compacted; then the commits go round
  // robin over the sizes, so that the machine's noise falls on all of them alike.
  struct Stored {
    int64_t size = 0;
    std::unique_ptr<store::StateStore> store;
    std::unique_ptr<runtime::Engine> engine;
    std::vector<int64_t> hot;
    double fill_s = 0, per_customer = 0, restore_s = -1, restore_heap = 0;
    double lazy_s = -1, lazy_heap = 0;
    size_t lazy_timers = 0, lazy_timers_in_memory = 0, max_timers_in_memory = 0;
    std::vector<double> miss, hit, fire;
    std::vector<double> nosync, sync, encode, write;
    size_t bytes = 0;
  };
  std::vector<Stored> stores;
  std::mt19937_64 rng(42);
  Sink sink;
  for (int64_t size : sizes) {
    Stored& st = stores.emplace_back();
    st.size = size;
    Result<std::unique_ptr<store::StateStore>> opened =
        store::StateStore::Open(dir + "/" + std::to_string(size), {});
    Check(opened.status());
    st.store = *std::move(opened);
    auto f0 = Clock::now();
    Fill(*st.store, program, 0, size);
    st.fill_s = Us(Clock::now() - f0) / 1e6;
    Check(st.store->Flush());
    Check(st.store->Compact());
    st.per_customer = static_cast<double>(st.store->disk_bytes()) / static_cast<double>(size);
    // An engine holding 1,000 of the stored customers (their messages again), which
    // then takes one cart at a time for a random one of them.
    st.engine = std::make_unique<runtime::Engine>(program);
    for (int k = 0; k < 1000; ++k) st.hot.push_back(static_cast<int64_t>(rng() % static_cast<uint64_t>(size)));
    for (size_t k = 0; k < st.hot.size(); ++k) {
      st.engine->Process(IdentifyMsg(st.hot[k], T0() + static_cast<int64_t>(k)), sink);
      st.engine->Process(CartMsg(st.hot[k], T0() + static_cast<int64_t>(k) + 1, 0), sink);
    }
    st.engine->TrackChanges(true);
    Check(st.store->Commit(*st.engine, "warm", false));
  }
  int64_t t = T0() + 10'000'000;
  for (int i = 0; i < 2 * commits; ++i) {
    t += 1000;
    for (Stored& st : stores) {
      int64_t u = st.hot[rng() % st.hot.size()];
      st.engine->Process(CartMsg(u, t, i + 1), sink);
      bool with_sync = i % 2 == 1;
      auto c0 = Clock::now();
      runtime::StateChanges changes;
      st.engine->TakeChanges(changes, runtime::PieceForm::kDelta);
      auto c1 = Clock::now();
      std::string position = std::to_string(i);
      position.insert(0, 1, 'p');  // (not "p" + ...: GCC 12's -Wrestrict misfires on it)
      Check(st.store->CommitChanges(std::move(changes), position, with_sync));
      auto c2 = Clock::now();
      (with_sync ? st.sync : st.nosync).push_back(Us(c2 - c0));
      st.encode.push_back(Us(c1 - c0));
      if (!with_sync) st.write.push_back(Us(c2 - c1));
      st.bytes += st.store->last_commit().bytes;
    }
  }
  for (Stored& st : stores) st.engine.reset();
  for (Stored& st : stores) {
    if (cache <= 0) continue;
    double h0 = HeapBytes();
    runtime::Engine r(program);
    r.UseSource(st.store.get(), static_cast<size_t>(cache));
    auto r0 = Clock::now();
    Result<store::LazyLoad> loaded = st.store->LoadLazily(r);
    Check(loaded.status());
    Check(loaded->lazy, "the store's layouts are not the program's");
    st.lazy_s = Us(Clock::now() - r0) / 1e6;
    st.lazy_heap = HeapBytes() - h0;
    st.lazy_timers = r.pending_timers();
    st.lazy_timers_in_memory = r.timers_in_memory();
    r.TrackChanges(true);
    for (int i = 0; i < commits; ++i) {
      t += 1000;
      int64_t u = static_cast<int64_t>(rng() % static_cast<uint64_t>(st.size));
      auto m0 = Clock::now();
      r.Process(CartMsg(u, t, 100000 + i), sink);
      auto m1 = Clock::now();
      r.Process(CartMsg(u, t + 1, 200000 + i), sink);
      auto m2 = Clock::now();
      st.miss.push_back(Us(m1 - m0));
      st.hit.push_back(Us(m2 - m1));
      std::string position = std::to_string(i);
      position.insert(0, 1, 'c');  // (as above)
      Check(st.store->Commit(r, position, false));
      r.Evict(static_cast<size_t>(cache));
    }
    const uint64_t fired0 = r.stats().timers_fired;
    const uint64_t to_fire = 10 * static_cast<uint64_t>(cache);
    for (int n = 1; r.stats().timers_fired - fired0 < to_fire && r.next_timer() != INT64_MAX; ++n) {
      auto f0 = Clock::now();
      r.AdvanceTo(r.next_timer(), sink);
      st.fire.push_back(Us(Clock::now() - f0));
      st.max_timers_in_memory = std::max(st.max_timers_in_memory, r.timers_in_memory());
      if (n % 1000 == 0) {
        std::string position = std::to_string(n);
        position.insert(0, 1, 'f');  // (as above)
        Check(st.store->Commit(r, position, false));
        r.Evict(static_cast<size_t>(cache));
      }
    }
    Check(r.stats().timers_unreadable == 0, "a timer could not be read back");
  }
  for (Stored& st : stores) {
    if (!restore || st.size > 2'000'000) continue;
    double h0 = HeapBytes();
    runtime::Engine r(program);
    auto r0 = Clock::now();
    Check(st.store->Load(r).status());
    st.restore_s = Us(Clock::now() - r0) / 1e6;
    st.restore_heap = HeapBytes() - h0;
  }
  std::printf("| customers stored | fill (s) | disk bytes / customer | commit, sync=false: p50 / p99 (us) "
              "| of which encoding: p50 / p99 | of which writing: p50 / p99 "
              "| commit, sync=true: p50 / p99 (us) | bytes written / commit | restore (s) |\n"
              "|---|---|---|---|---|---|---|---|---|\n");
  for (const Stored& st : stores) {
    char restore_text[32] = "-";
    if (st.restore_s >= 0) std::snprintf(restore_text, sizeof restore_text, "%.1f", st.restore_s);
    std::printf("| %lld | %.0f | %.0f | %.1f / %.1f | %.1f / %.1f | %.1f / %.1f | %.0f / %.0f | %zu | %s |\n",
                static_cast<long long>(st.size), st.fill_s, st.per_customer,
                Quantile(st.nosync, 0.5), Quantile(st.nosync, 0.99), Quantile(st.encode, 0.5),
                Quantile(st.encode, 0.99), Quantile(st.write, 0.5), Quantile(st.write, 0.99),
                Quantile(st.sync, 0.5), Quantile(st.sync, 0.99),
                st.bytes / (2 * static_cast<size_t>(commits)), restore_text);
  }
  if (restore || cache > 0) {
    std::printf("\n| customers stored | full restore: s / heap bytes per customer "
                "| lazy restore (--cache %lld): s / heap bytes per customer / timers / in memory "
                "| message, customer read back: p50 / p99 (us) | same, in memory: p50 / p99 (us) "
                "| timers fired from the store: AdvanceTo p50 / p99 / max (us), most in memory |\n"
                "|---|---|---|---|---|---|\n",
                static_cast<long long>(cache));
    for (const Stored& st : stores) {
      const double n = static_cast<double>(st.size);
      char full[64] = "-", lazy[128] = "-", miss[64] = "-", hit[64] = "-", fire[96] = "-";
      if (st.restore_s >= 0) std::snprintf(full, sizeof full, "%.1f / %.0f", st.restore_s, st.restore_heap / n);
      if (st.lazy_s >= 0) {
        std::snprintf(lazy, sizeof lazy, "%.1f / %.0f / %zu / %zu", st.lazy_s, st.lazy_heap / n,
                      st.lazy_timers, st.lazy_timers_in_memory);
        if (!st.fire.empty()) {
          std::snprintf(fire, sizeof fire, "%.1f / %.1f / %.0f, %zu", Quantile(st.fire, 0.5),
                        Quantile(st.fire, 0.99), Quantile(st.fire, 1.0), st.max_timers_in_memory);
        }
        std::snprintf(miss, sizeof miss, "%.1f / %.1f", Quantile(st.miss, 0.5), Quantile(st.miss, 0.99));
        std::snprintf(hit, sizeof hit, "%.1f / %.1f", Quantile(st.hit, 0.5), Quantile(st.hit, 0.99));
      }
      std::printf("| %lld | %s | %s | %s | %s | %s |\n", static_cast<long long>(st.size), full, lazy,
                  miss, hit, fire);
    }
  }
  for (const Stored& st : stores) {
    std::printf("RAW {\"bench\":\"state\",\"customers\":%lld,\"fill_s\":%.1f,"
                "\"disk_bytes_per_customer\":%.1f,\"commit_nosync_p50_us\":%.2f,"
                "\"commit_nosync_p99_us\":%.2f,\"encode_p50_us\":%.2f,\"write_p50_us\":%.2f,"
                "\"commit_sync_p50_us\":%.1f,\"commit_sync_p99_us\":%.1f,\"restore_s\":%.2f}\n",
                static_cast<long long>(st.size), st.fill_s, st.per_customer, Quantile(st.nosync, 0.5),
                Quantile(st.nosync, 0.99), Quantile(st.encode, 0.5), Quantile(st.write, 0.5),
                Quantile(st.sync, 0.5), Quantile(st.sync, 0.99), st.restore_s);
  }
  stores.clear();
  std::filesystem::remove_all(dir);
  return 0;
}
