// Customers in memory as a cache over a store (Engine::UseSource, docs/state.md):
// a customer not in memory is read from the store when a message or timer needs it,
// and Evict drops the least recently used ones once the store has all their changes.
// A timer of a customer only stored still fires (and reads it back). Timers may be
// kept in memory only in part too: timers.cc.
#include <algorithm>

#include "exec/engine_impl.h"
#include "exec/snapshot.h"

namespace juncture::runtime {

void Engine::UseSource(CustomerSource* source, size_t timers_in_memory) {
  Impl& e = *impl_;
  e.UnpackAll();  // the store's cache keeps customers instead
  e.source_ = source;
  e.timer_window_ = timers_in_memory;
  e.source_pieces_ = snapshot::PieceLoader::ForOwnLayouts(*e.spec_);
}

Result<Engine::Impl::CustomerEntry*> Engine::Impl::Resident(const std::string& id) {
  auto it = customers_.find(id);
  if (it != customers_.end()) {
    it->second.last_used = ++use_tick_;
    return &*it;
  }
  if (CustomerEntry* unpacked = Unpack(id)) return unpacked;
  if (source_ == nullptr) return static_cast<CustomerEntry*>(nullptr);
  std::string piece;
  Result<bool> found = source_->Find(id, &piece);
  if (!found.ok()) {
    ++stats_.customers_unreadable;
    return found.status();
  }
  if (!*found) return static_cast<CustomerEntry*>(nullptr);
  CustomerState c;
  if (!source_pieces_->Customer(id, piece, c).ok()) {
    // The store checked its checksums at start: only a piece this version cannot
    // read gets here. The customer starts afresh rather than stop the engine.
    ++stats_.customers_unreadable;
    return static_cast<CustomerEntry*>(nullptr);
  }
  if (auto d = evicted_deferred_.find(id); d != evicted_deferred_.end()) {
    c.deferred = d->second;
    evicted_deferred_.erase(d);
  }
  c.last_used = ++use_tick_;
  ++stats_.customers_loaded;
  return &*customers_.emplace(id, std::move(c)).first;
}

Status Engine::Impl::LoadEvicted() {
  if (source_ == nullptr) return OkStatus();
  Status read = source_->ForEach([this](std::string_view id, std::string_view piece) {
    std::string key(id);
    if (customers_.count(key) > 0) return;
    CustomerState c;
    if (!source_pieces_->Customer(key, piece, c).ok()) {
      ++stats_.customers_unreadable;
      return;
    }
    if (auto d = evicted_deferred_.find(key); d != evicted_deferred_.end()) {
      c.deferred = d->second;
      evicted_deferred_.erase(d);
    }
    c.last_used = ++use_tick_;
    ++stats_.customers_loaded;
    customers_.emplace(std::move(key), std::move(c));
  });
  if (!read.ok()) ++stats_.customers_unreadable;
  return read;
}

size_t Engine::Impl::Evict(size_t keep) {
  EvictTimers();
  if (source_ == nullptr || customers_.size() <= keep || !changed_.empty() || rewrite_) return 0;
  const size_t target = keep - keep / 10;
  const size_t count = customers_.size() - target;
  std::vector<std::pair<uint64_t, const std::string*>> by_use;
  by_use.reserve(customers_.size());
  for (const auto& [id, c] : customers_) by_use.emplace_back(c.last_used, &id);
  std::nth_element(by_use.begin(), by_use.begin() + static_cast<std::ptrdiff_t>(count), by_use.end());
  std::vector<std::string> gone;
  gone.reserve(count);
  for (size_t i = 0; i < count; ++i) gone.push_back(*by_use[i].second);
  by_use.clear();
  for (const std::string& id : gone) {
    auto it = customers_.find(id);
    // Its instances stay counted in waiting_ (their timers are still queued).
    if (it->second.deferred > 0) evicted_deferred_[id] = it->second.deferred;
    customers_.erase(it);
  }
  stats_.customers_evicted += count;
  return count;
}

void Engine::Impl::RecountFromTimers() {
  waiting_ = 0;
  deferred_ = 0;
  evicted_deferred_.clear();
  for (const Timer& t : timers_.elements()) {
    if (t.kind != TimerKind::kRelease) {
      ++waiting_;  // an upper bound: some may be stale
    } else if (!IsStale(t)) {
      ++deferred_;
      ++evicted_deferred_[t.customer];
    }
  }
}

}  // namespace juncture::runtime
