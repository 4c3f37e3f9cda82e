// Timers in memory as a window over a store's index by due time (Engine::UseSource
// with timers_in_memory, docs/state.md): the engine keeps the earliest pending timers
// in its queue and leaves the later ones in the store, which keeps every timer keyed
// by (due time, sequence), in firing order.
//
// The rule is one key, the horizon: a timer is in memory iff its key is at or before
// it. A timer set after the horizon goes to the store only (with the next changes
// taken). When the queue runs dry before a time at or after the horizon, the next
// timers after it are read back and the horizon moves to the last of them; since
// every timer in memory fires before every timer only stored, timers fire in exactly
// the order of an engine that keeps them all. Evict moves the horizon back once the
// queue holds over twice the window (a burst of short waits).
#include <algorithm>

#include "exec/engine_impl.h"
#include "exec/snapshot.h"

namespace juncture::runtime {

bool Engine::Impl::ReadBackTimers(size_t limit) {
  if (horizon_ == kNoHorizon || source_ == nullptr) return false;
  std::vector<Timer> got;
  got.reserve(limit);
  size_t read = 0;
  TimerKey last = horizon_;
  auto take = [&](int64_t due_us, uint64_t seq, std::string_view piece) {
    ++read;
    last = {due_us, seq};
    std::optional<Timer> t;
    if (!source_pieces_->TimerPiece(piece, t).ok()) {
      // The store checked every piece at start: only a piece this version cannot
      // read gets here. Its timer cannot fire.
      ++stats_.timers_unreadable;
      return;
    }
    if (t) got.push_back(std::move(*t));
  };
  Status read_back = source_->TimersAfter(horizon_.first, horizon_.second, limit, take);
  if (!read_back.ok()) {
    ++stats_.timers_unreadable;  // tried again the next time the clock needs them
    return false;
  }
  stats_.timers_read_back += got.size();
  // Fewer than asked: the store holds nothing after them; every timer is in memory.
  horizon_ = limit != 0 && read == limit ? last : kNoHorizon;
  // Timers set after the old horizon and not handed to the store yet are not in what
  // it gave: those now inside the window join them.
  std::erase_if(far_untaken_, [&](Timer& t) {
    if (BeyondHorizon(t)) return false;
    got.push_back(std::move(t));
    return true;
  });
  far_timers_ -= std::min<uint64_t>(far_timers_, got.size());
  for (Timer& t : got) timers_.push(std::move(t));
  return true;
}

void Engine::Impl::ReadBackAllTimers() {
  if (horizon_ != kNoHorizon) ReadBackTimers(0);
}

void Engine::Impl::EvictTimers() {
  if (timer_window_ == 0 || source_ == nullptr || !track_changes_ || rewrite_ ||
      !timer_changes_.empty() || timers_.size() <= 2 * timer_window_) {
    return;
  }
  // Every timer in memory is in the store (its put was taken and written): the latest
  // ones can go, and the horizon moves back to the last one kept.
  const size_t dropped = timers_.KeepEarliest(timer_window_, &horizon_);
  far_timers_ += dropped;
  stats_.timers_evicted += dropped;
}

}  // namespace juncture::runtime
