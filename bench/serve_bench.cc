// Google Benchmark: the pieces of `juncture serve` that run on its deciding thread for
// every action, apart from NATS and the store (docs/performance.md, section 9).
//   BM_ReceiptBookSent  recording a sent action for its delivery receipts, with the book
//                       full (its default capacity, 200,000 actions): each one added
//                       pushes the oldest out, and past that an old id is forgotten.
//   BM_ReceiptBookReceive  matching a receipt (raw JSON) against that full book.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "receipts.h"

namespace {

constexpr int64_t kWindowUs = 3'600'000'000;  // serve's default: an hour
constexpr size_t kCapacity = 200'000;         // serve's default --max-tracked-actions

// Ids shaped like a decision's: the message id, the journey, the step.
std::string DecisionId(uint64_t n) {
  std::string id = "load-";
  id.append(std::to_string(n * 2654435761u % 1000000007u)).append(1, '-');
  id.append(std::to_string(n)).append(":load_echo:send_1");
  return id;
}

// The ids of `count` actions, made before the timing starts.
std::vector<std::string> Ids(uint64_t first, size_t count) {
  std::vector<std::string> ids;
  ids.reserve(count);
  for (size_t i = 0; i < count; ++i) ids.push_back(DecisionId(first + i));
  return ids;
}

// A book that has held more than twice its capacity: its actions and its forgotten
// ids both full, as in a serve that has run a while.
void Fill(juncture::serve::ReceiptBook& book, int64_t& now_us) {
  for (uint64_t n = 0; n < 2 * kCapacity + 1000; ++n) {
    book.Sent(DecisionId(n), "load_echo", "load", now_us, now_us, 0);
    ++now_us;
  }
}

void BM_ReceiptBookSent(benchmark::State& state) {
  juncture::serve::ReceiptBook book(kWindowUs, kCapacity);
  int64_t now_us = 1'700'000'000'000'000;
  Fill(book, now_us);
  const std::vector<std::string> ids = Ids(10'000'000, 1 << 20);
  size_t i = 0;
  for (auto _ : state) {
    book.Sent(ids[i], "load_echo", "load", now_us, now_us, 500'000);
    ++now_us;
    if (++i == ids.size()) i = 0;  // then replays: ids already in the book or gone
  }
  benchmark::DoNotOptimize(book.size());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ReceiptBookSent);

void BM_ReceiptBookReceive(benchmark::State& state) {
  juncture::serve::ReceiptBook book(kWindowUs, kCapacity);
  int64_t now_us = 1'700'000'000'000'000;
  Fill(book, now_us);
  // Receipts for the actions still in the book, for ones gone, and for unknown ones.
  std::vector<std::string> receipts;
  for (uint64_t n = 0; n < 4096; ++n) {
    uint64_t which = n % 3 == 0 ? 2 * kCapacity - n * 37 % kCapacity  // in the book
                     : n % 3 == 1 ? kCapacity - n * 29 % kCapacity    // gone
                                  : 50'000'000 + n;                   // never sent
    receipts.push_back("{\"decision\":\"" + DecisionId(which) +
                       "\",\"status\":\"opened\",\"at\":\"2023-11-14T22:13:20Z\"}");
  }
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(book.Receive(receipts[i], now_us));
    if (++i == receipts.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ReceiptBookReceive);

}  // namespace

BENCHMARK_MAIN();
