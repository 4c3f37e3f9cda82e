// A customer's recent events of one type, which its count and sum windows read, and
// the running aggregates of those windows. Private to runtime/exec/.
//
// The events are in time order (the engine's time never goes back, and each event
// is recorded at it). Events leave at the front: when they are older than the
// longest window over the type, or beyond the per-customer bound
// (EngineLimits::max_window_events). They leave the vector in batches, so that one
// leaving event does not move all the others; until then they are only hidden.
//
// Every event has an absolute index, which never changes: events are numbered from
// the customer's first one of the type. A running window (WindowRun) remembers the
// absolute indices of its first and past-the-last events, so it can move forward:
// add the events that entered, subtract those that left. Each event is then added
// and subtracted once per window, whatever the window holds: O(1) per event.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "exec/exact_sum.h"
#include "juncture/runtime/event.h"

namespace juncture::runtime {

class EventHistory {
 public:
  using Entry = std::pair<int64_t, RecordPtr>;  // (time, the event)
  using const_iterator = std::vector<Entry>::const_iterator;

  EventHistory() = default;
  // A history in time order (a restored one).
  explicit EventHistory(std::vector<Entry> entries) : events_(std::move(entries)) {}

  // The events that windows may read, oldest first.
  const_iterator begin() const { return events_.begin() + static_cast<std::ptrdiff_t>(head_); }
  const_iterator end() const { return events_.end(); }
  size_t size() const { return events_.size() - head_; }
  bool empty() const { return size() == 0; }
  const Entry& at(size_t i) const { return events_.at(head_ + i); }

  // The first event windows read: the first visible one, or the first of the latest
  // `max` (0: no bound). Recording an event bounds the history; one restored from a
  // snapshot made under a larger bound may hold more until its next event.
  const_iterator ReadFrom(uint64_t max) const {
    return max != 0 && size() > max ? end() - static_cast<std::ptrdiff_t>(max) : begin();
  }
  uint64_t read_index(uint64_t max) const {
    return end_index() - static_cast<uint64_t>(end() - ReadFrom(max));
  }

  // Absolute indices: of the first visible event, past the last one, and of the
  // first event still held (hidden events between it and first_index() are still
  // readable by index, until the next batch leaves).
  uint64_t first_index() const { return erased_ + head_; }
  uint64_t end_index() const { return erased_ + events_.size(); }
  uint64_t held_index() const { return erased_; }
  const Entry& Get(uint64_t index) const { return events_[index - erased_]; }

  void Append(int64_t time_us, RecordPtr record) { events_.emplace_back(time_us, std::move(record)); }
  // Hides the events before `time_us`.
  void ExpireBefore(int64_t time_us) {
    while (head_ < events_.size() && events_[head_].first < time_us) ++head_;
    Compact();
  }
  // Hides the oldest events beyond `max` (0: no bound); returns how many it hid.
  size_t Bound(uint64_t max) {
    if (max == 0 || size() <= max) return 0;
    const size_t hidden = size() - max;
    head_ += hidden;
    Compact();
    return hidden;
  }

  // The `where` results of the held events (a bit per window with a `where` over
  // this type that reads only the event; see Engine::Impl::WhereBits), for the
  // first where_known() of them: the others are not evaluated yet.
  uint64_t where_known() const { return erased_ + where_.size(); }
  uint64_t where_bits(uint64_t index) const { return where_[index - erased_]; }
  void AddWhere(uint64_t bits) { where_.push_back(bits); }
  void ForgetWhere() { where_.clear(); }

  // For a reload that re-lays out the events.
  std::vector<Entry>& entries() { return events_; }

 private:
  // Hidden events leave at once while few events are visible (moving those few is
  // cheap, and the hidden events' records are freed), else once they are at least as
  // many as the visible ones: each visible event is then moved at most once per
  // event that left, on average.
  void Compact() {
    constexpr size_t kFew = 16;
    if (head_ == 0 || (size() > kFew && head_ < size())) return;
    events_.erase(events_.begin(), events_.begin() + static_cast<std::ptrdiff_t>(head_));
    if (where_.size() > head_) {
      where_.erase(where_.begin(), where_.begin() + static_cast<std::ptrdiff_t>(head_));
    } else {
      where_.clear();
    }
    erased_ += head_;
    head_ = 0;
  }

  std::vector<Entry> events_;
  std::vector<uint64_t> where_;  // where_[i]: the where bits of events_[i]
  size_t head_ = 0;              // events_[0, head_) are hidden
  uint64_t erased_ = 0;          // absolute index of events_[0]
};

// A count or sum window kept running for one customer: the aggregate of the events
// with absolute indices [first, end) of its type's history that pass its `where`.
// Only a cache: rebuilt from the history whenever it cannot move forward (the
// events it would subtract have left the history, or the time went back).
struct WindowRun {
  uint64_t first = 0, end = 0;
  int64_t at_us = INT64_MIN;  // the time it was last moved to
  int64_t count = 0;
  uint64_t int_sum = 0;       // wraps, as int arithmetic does
  ExactSum float_sum;
};

}  // namespace juncture::runtime
