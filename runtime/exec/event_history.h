// A customer's recent events of one type, which its count and sum windows read, and
// the running aggregates of those windows. Private to runtime/exec/.
//
// The events are in time order (the engine's time never goes back, and each event
// is recorded at it). Events leave at the front: when they are older than the
// longest window over the type, or beyond the per-customer bound
// (EngineLimits::max_window_events). While a customer holds few events of the type
// they leave at once; in a longer history they are first hidden and leave the
// vector in a batch, so that one leaving event does not move all the others.
//
// What only long histories and `where` windows need (the hidden events' count, the
// `where` results, the running windows) is allocated on first use: a customer with
// a few events costs a vector and a pointer.
//
// Running windows: an event has an absolute index that does not change while it is
// held (events are numbered from the first one held when the extra part was made).
// A WindowRun remembers the absolute indices of its first and past-the-last events,
// so it can move forward: add the events that entered, subtract those that left.
// Each event is then added and subtracted once per window, whatever the window
// holds: O(1) per event.
#pragma once

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "exec/exact_sum.h"
#include "flat_map.h"
#include "juncture/runtime/event.h"

namespace juncture::runtime {

// A count or sum window kept running for one customer: the aggregate of the events
// with absolute indices [first, end) of its type's history that pass its `where`.
// Only a cache: rebuilt from the history whenever it cannot move forward (the
// events it would subtract have left the history, or the time went back).
struct WindowRun {
  uint64_t first = 0, end = 0;
  int64_t at_us = INT64_MIN;  // the time it was last moved to; INT64_MIN: new
  int64_t count = 0;
  uint64_t int_sum = 0;       // wraps, as int arithmetic does
  ExactSum float_sum;
};

class EventHistory {
 public:
  using Entry = std::pair<int64_t, RecordPtr>;  // (time, the event)
  using const_iterator = std::vector<Entry>::const_iterator;

  EventHistory() = default;
  // A history in time order (a restored one).
  explicit EventHistory(std::vector<Entry> entries) : events_(std::move(entries)) {}
  EventHistory(EventHistory&&) = default;
  EventHistory& operator=(EventHistory&&) = default;
  EventHistory(const EventHistory& o) : events_(o.events_), fresh_(o.fresh_) {
    if (o.extra_) extra_ = std::make_unique<Extra>(*o.extra_);
  }
  EventHistory& operator=(const EventHistory& o) {
    if (this != &o) *this = EventHistory(o);
    return *this;
  }

  // The events that windows may read, oldest first.
  const_iterator begin() const { return events_.begin() + static_cast<std::ptrdiff_t>(head()); }
  const_iterator end() const { return events_.end(); }
  size_t size() const { return events_.size() - head(); }
  bool empty() const { return size() == 0; }
  const Entry& at(size_t i) const { return events_.at(head() + i); }

  // The first event windows read: the first visible one, or the first of the latest
  // `max` (0: no bound). Recording an event bounds the history; one restored from a
  // snapshot made under a larger bound may hold more until its next event.
  const_iterator ReadFrom(uint64_t max) const {
    return max != 0 && size() > max ? end() - static_cast<std::ptrdiff_t>(max) : begin();
  }

  // Absolute indices: of the first event held (hidden events until the first visible
  // one are still readable), of the first visible one, past the last one; of the
  // first event windows read (ReadFrom), and of an event of begin()..end().
  uint64_t held_index() const { return erased(); }
  uint64_t first_index() const { return erased() + head(); }
  uint64_t end_index() const { return erased() + events_.size(); }
  uint64_t read_index(uint64_t max) const { return IndexOf(ReadFrom(max)); }
  uint64_t IndexOf(const_iterator it) const {
    return erased() + static_cast<uint64_t>(it - events_.begin());
  }
  const Entry& Get(uint64_t index) const { return events_[index - erased()]; }

  void Append(int64_t time_us, RecordPtr record) {
    events_.emplace_back(time_us, std::move(record));
    if (fresh_ != UINT32_MAX) ++fresh_;  // saturated: "all of them"
  }

  // How many events were appended since ClearFresh (UINT64_MAX: too many to count),
  // for the state store's change of this history (snapshot.h, PieceEncoder::Delta).
  // Events only enter at the back and leave at the front, so the last min(fresh(),
  // size()) visible events are exactly those the store does not have yet. The count
  // must be exact: the change keeps the store's last size() - fresh() events, so a
  // count too high would repeat events (saturated, it writes the history whole).
  uint64_t fresh() const { return fresh_ == UINT32_MAX ? UINT64_MAX : fresh_; }
  void ClearFresh() { fresh_ = 0; }
  // Hides the events before `time_us`.
  void ExpireBefore(int64_t time_us) {
    size_t head = this->head();
    while (head < events_.size() && events_[head].first < time_us) ++head;
    SetHead(head);
  }
  // Hides the oldest events beyond `max` (0: no bound); returns how many it hid.
  size_t Bound(uint64_t max) {
    if (max == 0 || size() <= max) return 0;
    const size_t hidden = size() - max;
    SetHead(head() + hidden);
    return hidden;
  }

  // The `where` results of the held events (a bit per window with a `where` over
  // this type that reads only the event; see Engine::Impl::WhereBits), for those
  // before where_known(): the others are not evaluated yet.
  uint64_t where_known() const { return erased() + (extra_ ? extra_->where.size() : 0); }
  uint64_t where_bits(uint64_t index) const { return extra_->where[index - erased()]; }
  void AddWhere(uint64_t bits) { MakeExtra().where.push_back(bits); }

  // The running windows over this type (by window slot), and whether `slot` has one.
  FlatMap<uint32_t, WindowRun>& runs() { return MakeExtra().runs; }
  bool HasRun(uint32_t slot) const { return extra_ && extra_->runs.count(slot) != 0; }

  // For a reload: the events, to re-lay out; then forgets the `where` results and the
  // running windows, which were the old program's.
  std::vector<Entry>& entries() { return events_; }
  void ForgetWindows() {
    if (!extra_) return;
    extra_->where.clear();
    extra_->runs = {};
  }

 private:
  struct Extra {
    size_t head = 0;       // events_[0, head) are hidden
    uint64_t erased = 0;   // absolute index of events_[0]
    std::vector<uint64_t> where;  // where[i]: the where bits of events_[i]
    FlatMap<uint32_t, WindowRun> runs;
  };

  size_t head() const { return extra_ ? extra_->head : 0; }
  uint64_t erased() const { return extra_ ? extra_->erased : 0; }
  Extra& MakeExtra() {
    if (!extra_) extra_ = std::make_unique<Extra>();
    return *extra_;
  }

  // Hides events_[0, head). They leave at once while few events are visible (moving
  // those few is cheap, and the hidden events' records are freed), else once they
  // are at least as many as the visible ones: each visible event is then moved at
  // most once per event that left, on average.
  void SetHead(size_t head) {
    constexpr size_t kFew = 16;
    const size_t visible = events_.size() - head;
    if (head == 0) return;
    if (visible > kFew && head < visible) {
      MakeExtra().head = head;
      return;
    }
    events_.erase(events_.begin(), events_.begin() + static_cast<std::ptrdiff_t>(head));
    if (!extra_) return;
    std::vector<uint64_t>& where = extra_->where;
    where.erase(where.begin(), where.begin() + static_cast<std::ptrdiff_t>(std::min(head, where.size())));
    extra_->erased += head;
    extra_->head = 0;
  }

  std::vector<Entry> events_;
  std::unique_ptr<Extra> extra_;
  uint32_t fresh_ = 0;
};

}  // namespace juncture::runtime
