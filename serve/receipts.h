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
// not a receipt is `malformed`. Nothing here grows without bound. Thread-safe: the
// publisher adds actions under the engine's lock, receipts arrive on NATS.c's thread.
#pragma once

#include <xxhash.h>

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
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
  struct KeyHash {
    size_t operator()(const Key& k) const { return static_cast<size_t>(k.lo); }
  };
  static Key KeyOf(std::string_view id) {
    XXH128_hash_t h = XXH3_128bits(id.data(), id.size());
    return {h.low64, h.high64};
  }
  struct Action {
    std::string journey, channel;  // names from the program: bounded
    int64_t signal_us = 0, published_us = 0, deadline_us = 0;
    uint8_t statuses = 0;  // bit per status already received
  };
  void Expire(int64_t now_us);  // under mu_
  // A node for actions_ / gone_, reused from one that left (so that, once the book is
  // full, tracking an action allocates nothing), or a new one. Under mu_.
  using ActionNode = std::unordered_map<Key, Action, KeyHash>::node_type;
  using GoneNode = std::unordered_set<Key, KeyHash>::node_type;
  template <class Table>
  static typename Table::node_type TakeNode(Table& table,
                                            std::vector<typename Table::node_type>& spare);

  const int64_t window_us_;
  const size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_map<Key, Action, KeyHash> actions_;
  std::deque<std::pair<int64_t, Key>> order_;  // (published, id), oldest first
  // Ids that left the book, to tell a late receipt from an unknown one (as bounded).
  std::unordered_set<Key, KeyHash> gone_;
  std::deque<Key> gone_order_;
  std::vector<ActionNode> spare_actions_;  // nodes that left actions_, for reuse
  std::vector<GoneNode> spare_gone_;
};

const char* ResultName(ReceiptBook::Result r);

}  // namespace juncture::serve
