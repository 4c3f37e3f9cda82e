// Delivery receipts: the last split time, action → customer. A channel's delivery
// service publishes on `juncture.receipts.<channel>`
//   {"decision":"<id of a sent decision>","status":"delivered"|"opened"|"clicked"|"failed",
//    "at":"<ISO-8601>"}
// and serve matches it to the action it published: how long the action took to reach
// the customer, how long since the signal, and whether it landed within its
// journey's deadline (the moment fit). Receipts make no decisions.
//
// The book of sent actions is bounded: an action is kept `window_us` after it was
// published, and at most `capacity` are kept (the oldest goes first). A receipt for
// an action no longer kept is `late` (its id is remembered a while longer); one for
// an id never seen is `unknown`; the same status twice is a `duplicate`; one that is
// not a receipt is `malformed`. Nothing here grows without bound, and once the book
// has held its most actions, tracking one allocates nothing. Thread-safe: the
// publisher adds actions under the engine's lock, receipts arrive on NATS.c's thread.
#pragma once

#include <xxhash.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace juncture::serve {

class ReceiptBook {
 public:
  ReceiptBook(int64_t window_us, size_t capacity);

  // An action of `journey` on `channel` handed to NATS at `published_us` (wall
  // clock, µs), whose signal was captured at `signal_us`; `deadline_us` is its
  // journey's deadline (0: none).
  void Sent(std::string_view id, std::string_view journey, std::string_view channel,
            int64_t signal_us, int64_t published_us, int64_t deadline_us);

  // Brings the index slot of `id` into the cache ahead of its Sent (the index is
  // large and cold: without it, Sent waits on memory). Needs no lock.
  void Prefetch(std::string_view id) const { by_key_.Prefetch(KeyOf(id)); }

  enum class Result { kMatched, kUnknown, kDuplicate, kLate, kMalformed };
  struct Receipt {
    Result result = Result::kMalformed;
    std::string status;             // delivered opened clicked failed ("" if malformed)
    std::string journey, channel;   // kMatched
    // kMatched "delivered": the split times (µs, clamped at 0) and the moment fit.
    int64_t action_to_customer_us = 0;
    int64_t signal_to_customer_us = 0;
    int fit = -1;                   // 1 within the deadline, 0 late, -1 no deadline / n/a
    std::string error;              // kMalformed: why
  };
  // Matches one receipt (raw JSON bytes) received at `now_us`.
  Receipt Receive(std::string_view json, int64_t now_us);

  size_t size() const;

 private:
  // Actions are keyed by a 128-bit hash of their id, so that an entry costs the same
  // whatever the length of the id (it holds the message's messageId).
  struct Key {
    uint64_t lo = 0, hi = 0;
    bool operator==(const Key& o) const { return lo == o.lo && hi == o.hi; }
  };
  static Key KeyOf(std::string_view id) {
    XXH128_hash_t h = XXH3_128bits(id.data(), id.size());
    return {h.low64, h.high64};
  }
  // Zeroed memory from calloc, for the flat tables below, every page of it written
  // once at the start (receipts.cc, PopulatePages): the book holds its full size from
  // then on (about 46 MB at the default 200,000 tracked actions, which a busy book
  // reaches anyway), and no action's publish waits on a page fault.
  struct FreeDeleter {
    void operator()(void* p) const { std::free(p); }
  };
  template <class T>
  static std::unique_ptr<T[], FreeDeleter> Zeroed(size_t n);

  // Keys to numbers, in one flat array of a fixed size (open addressing, linear
  // probing, at most half full, deletion by backward shift): a look-up touches one or
  // two cache lines, where a node-based map walks a chain of nodes.
  class KeyIndex {
   public:
    explicit KeyIndex(size_t max_keys);
    std::optional<uint64_t> Find(const Key& k) const;
    // The number `k` maps to, added as `value` if it was not there (then `*added`).
    uint64_t& Insert(const Key& k, uint64_t value, bool* added);
    // Removes `k` if it maps to `value` (else it maps to a later number: kept).
    void EraseIf(const Key& k, uint64_t value);
    // Asks for the cache line where a look-up of `k` starts, ahead of the look-up.
    void Prefetch(const Key& k) const { __builtin_prefetch(&slots_[Home(k)]); }

   private:
    struct Slot {
      Key key;
      uint64_t value_plus_1;  // 0: empty
    };
    size_t Home(const Key& k) const { return static_cast<size_t>(k.lo) & mask_; }
    size_t mask_;
    std::unique_ptr<Slot[], FreeDeleter> slots_;
  };
  // A power-of-two array in which the item of number n sits at n & mask: a ring that
  // holds any `max_items` consecutive numbers.
  template <class T>
  class Ring {
   public:
    explicit Ring(size_t max_items);
    T& operator[](uint64_t n) { return items_[n & mask_]; }
    const T& operator[](uint64_t n) const { return items_[n & mask_]; }

   private:
    size_t mask_;
    std::unique_ptr<T[], FreeDeleter> items_;
  };
  struct Action {
    const std::string* journey = nullptr;  // interned: names from the programs
    const std::string* channel = nullptr;
    int64_t signal_us = 0, published_us = 0, deadline_us = 0;
    uint8_t statuses = 0;  // bit per status already received
  };
  void Expire(int64_t now_us);  // under mu_
  const std::string* Intern(std::string_view name);  // under mu_

  const int64_t window_us_;
  const size_t capacity_;
  mutable std::mutex mu_;
  // Every action recorded has a number, from 0 in the order they were sent. Those in
  // [live_, next_) are in the book; those in [gone_, live_) have left it, their ids
  // remembered to tell a late receipt (at most `capacity` of them); older ones are
  // forgotten. An action leaving the book only moves `live_`: its id stays indexed
  // until it is forgotten, so that each action costs two index operations in all.
  uint64_t gone_ = 0, live_ = 0, next_ = 0;
  Ring<Action> actions_;  // [live_, next_)
  Ring<Key> keys_;        // [gone_, next_): the id of each
  KeyIndex by_key_;       // the id of every action in [gone_, next_) -> its latest number
  // Journey and channel names, each kept once (few: those of the programs loaded),
  // and the last two looked up (an action's journey and channel are those of the one
  // before it, most of the time).
  std::unordered_map<std::string_view, std::unique_ptr<std::string>> names_;
  const std::string* recent_[2] = {nullptr, nullptr};
};

const char* ResultName(ReceiptBook::Result r);

}  // namespace juncture::serve
