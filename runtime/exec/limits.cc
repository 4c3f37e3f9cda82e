// The engine's bounds (EngineLimits, docs/limits.md): messages refused before they
// change anything, state dropped and counted, and the compaction of stale timers.
// Every check is O(1) per message: the counts it reads are kept exact as state
// changes (instances, deferred sends), never found by a scan.
#include "exec/engine_impl.h"

namespace juncture::runtime {
namespace {

// Compaction waits for this many timers above twice the live ones: a pass over a
// small queue is not worth it.
constexpr uint64_t kCompactSlack = 1024;

}  // namespace

Status Engine::Impl::RefuseEarly(const Message& m, bool clock) {
  const uint64_t id_bytes = m.customer.size();
  if (limits_.max_customer_id_bytes != 0 && id_bytes > limits_.max_customer_id_bytes) {
    ++stats_.rejected_customer_id;
    return InvalidArgumentError(std::string(m.customer_is_anonymous ? "anonymousId" : "userId") +
                                " is " + std::to_string(id_bytes) + " bytes, more than " +
                                std::to_string(limits_.max_customer_id_bytes) +
                                " (--max-customer-id-bytes)");
  }
  // On an outside clock the message's own time decides nothing (serve decides at
  // receipt); before the first message there is no time to be ahead of.
  if (clock || limits_.max_skew_us <= 0 || now_us_ == 0 || m.time_us <= now_us_) {
    return OkStatus();
  }
  // m.time_us > now_us_: the difference is exact in unsigned arithmetic.
  uint64_t ahead = static_cast<uint64_t>(m.time_us) - static_cast<uint64_t>(now_us_);
  if (ahead <= static_cast<uint64_t>(limits_.max_skew_us)) return OkStatus();
  ++stats_.rejected_skew;
  return InvalidArgumentError(std::string(m.has_received && !clock ? "receivedAt " : "timestamp ") +
                              FormatTimestamp(m.time_us) + " is more than " +
                              FormatDuration(limits_.max_skew_us) + " ahead of the engine's time " +
                              FormatTimestamp(now_us_) + " (--max-skew)");
}

Status Engine::Impl::RefuseTimers(const CustomerState& c) {
  const uint64_t pending = c.instances.size() + c.deferred;
  const uint64_t max = limits_.max_timers_per_customer;
  if (max == 0 || pending < max) return OkStatus();
  ++stats_.rejected_timer_limit;
  return FailedPreconditionError("the customer has " + std::to_string(pending) +
                                 " pending waits and deferred sends, the limit is " +
                                 std::to_string(max) + " (--max-timers-per-customer)");
}

void Engine::Impl::KeepUnknownTraits(const Message& m, CustomerState& c) {
  for (const auto& [name, text] : m.unknown_traits) {
    if (!c.unknown_traits.Set(name, text, limits_.max_unknown_traits)) {
      ++stats_.dropped_unknown_traits;
    }
  }
}

bool Engine::Impl::IsStale(const Timer& t) const {
  if (t.kind == TimerKind::kRelease) {
    auto it = cancelled_.find(t.seq);
    return it != cancelled_.end() && it->second;
  }
  auto c = customers_.find(t.customer);
  // A customer only stored (a cache over a store) may still wait on it.
  if (c == customers_.end()) {
    if (source_ != nullptr) return false;  // it may still wait on it
    return packed_.Timer(t.customer, t.seq) != 1;  // packed: exact; nowhere: stale
  }
  auto inst = c->second.instances.find(t.journey);
  return inst == c->second.instances.end() || inst->second.timer != t.seq;
}

// Called between messages and timers only (never while an instance is being moved,
// when its new timer is queued but not yet recorded in the instance).
void Engine::Impl::CompactTimers() {
  if (timers_.size() <= 2 * (waiting_ + deferred_) + kCompactSlack) return;
  if (timers_.size() <= compact_floor_) return;
  // waiting_ + deferred_ never counts fewer than the live timers, so at least half of
  // the queue goes: each timer is passed over O(1) times, amortized.
  size_t dropped = timers_.EraseIf([&](const Timer& t) {
    if (!IsStale(t)) return false;
    if (t.kind == TimerKind::kRelease) cancelled_.erase(t.seq);
    LogTimer(StateChanges::TimerOp::kErase, t);
    return true;
  });
  stats_.compacted_timers += dropped;
  // With customers only stored, a pass may drop little: the next waits until the
  // queue has doubled, so that passes stay O(1) per timer.
  if (source_ != nullptr) compact_floor_ = 2 * timers_.size();
}

void Engine::Impl::StoreInstance(CustomerState& c, uint32_t j, Instance inst) {
  const size_t before = c.instances.size();
  c.instances[j] = std::move(inst);
  waiting_ += c.instances.size() - before;
}

void Engine::Impl::EraseInstance(CustomerState& c, uint32_t j) {
  waiting_ -= c.instances.erase(j);
}

void Engine::Impl::CountDeferred(CustomerState& c, int delta) {
  if (delta > 0) {
    ++c.deferred;
    ++deferred_;
    return;
  }
  // Saturating: a release of a customer unknown when the counts were taken (only a
  // hand-made snapshot has one) finds its customer at zero.
  if (c.deferred > 0) --c.deferred;
  if (deferred_ > 0) --deferred_;
}

void Engine::Impl::Recount() {
  waiting_ = 0;
  deferred_ = 0;
  for (auto& [id, c] : customers_) {
    c.deferred = 0;
    waiting_ += c.instances.size();
  }
  // Packed customers (packing.cc): their instances count by their live timers, their
  // deferred sends in evicted_deferred_.
  const bool packed = !packed_.empty();
  if (packed) evicted_deferred_.clear();
  for (const Timer& t : timers_.elements()) {
    if (t.kind != TimerKind::kRelease) {
      if (packed && !customers_.count(t.customer) && packed_.Timer(t.customer, t.seq) == 1) {
        ++waiting_;
      }
      continue;
    }
    if (IsStale(t)) continue;
    auto c = customers_.find(t.customer);
    if (c != customers_.end()) {
      CountDeferred(c->second, +1);
    } else {
      ++deferred_;
      if (packed && packed_.Contains(t.customer)) ++evicted_deferred_[t.customer];
    }
  }
}

}  // namespace juncture::runtime
