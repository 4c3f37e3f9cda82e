// Engine::Absorb: one engine takes over another's customers and timers (re-sharding
// a state: the customers of several shards' stores gathered into the engines of
// another number of shards). Customers are per-customer state and do not interact,
// so the union of two engines' disjoint customers decides, customer by customer,
// what each engine decided. Timer sequence numbers are each engine's own: the
// absorbed ones move up past this engine's, which keeps every key (due, seq) unique
// and each engine's ties in their order.
#include <algorithm>

#include "exec/engine_impl.h"

namespace juncture::runtime {

void Engine::Absorb(Engine& other) {
  Impl& e = *impl_;
  Impl& o = *other.impl_;
  e.UnpackAll();
  o.UnpackAll();
  const uint64_t offset = e.next_seq_ - 1;  // o's first timer (seq 1) gets e.next_seq_
  // Everything is written again (MarkRewrite below): no customer stays listed.
  for (Impl::CustomerEntry* entry : e.changed_) entry->second.changed = false;
  e.changed_.clear();
  for (auto& [id, c] : o.customers_) {
    for (auto& [j, inst] : c.instances) {
      if (inst.timer != 0) inst.timer += offset;
    }
    c.changed = false;
    e.customers_.insert_or_assign(id, std::move(c));
  }
  for (const Timer& t : o.timers_.elements()) {
    Timer moved = t;
    moved.seq += offset;
    e.timers_.push(std::move(moved));
  }
  for (const auto& [seq, cancelled] : o.cancelled_) e.cancelled_[seq + offset] = cancelled;
  e.next_seq_ = std::max(e.next_seq_, o.next_seq_ + offset);
  e.now_us_ = std::max(e.now_us_, o.now_us_);
  e.Recount();
  e.MarkRewrite();
  for (Impl::CustomerEntry* entry : o.changed_) entry->second.changed = false;
  o.customers_.clear();
  o.timers_ = TimerQueue();
  o.cancelled_.clear();
  o.changed_.clear();
  o.Recount();
}

}  // namespace juncture::runtime
