// Customers packed in memory (EngineLimits::max_unpacked_customers, docs/state.md,
// "Customers packed in memory"): once more customers than the limit are in their
// working form, the engine packs those it has not used for a while into their stored
// piece, compressed (packed_customers.h), and unpacks one when a message or a timer
// needs it again. A packed customer decides exactly as it would have unpacked: the
// piece is the store's and the snapshot's encoding, which keeps everything that
// affects a decision.
//
// Which customers go: a clock hand walks the customer table, a few entries per
// message, and packs a customer not used in the last limit/2 uses (Resident or a
// new customer: one use each). At most limit/2 customers can have been used that
// recently, so while the table holds more than the limit, more than half of it
// qualifies: a pass finds one in two entries looked at, on average.
#include <algorithm>

#include "exec/engine_impl.h"
#include "exec/snapshot.h"

namespace juncture::runtime {

void Engine::Impl::PackIdlePass() {
  if (source_ != nullptr || track_changes_) return;
  const size_t limit = limits_.max_unpacked_customers;
  if (!pack_encoder_) pack_encoder_ = std::make_unique<snapshot::PieceEncoder>(*spec_);
  const uint64_t recent = limit / 2;
  // Bounded per call: about two looks per customer to pack, and at most 16 customers
  // packed (about 50 us), so that a big excess (a snapshot just loaded, a timer run that
  // unpacked many) goes over the next messages rather than in one pause.
  size_t to_pack = std::min<size_t>(customers_.size() - limit, 16);
  size_t looks = 16 + 4 * to_pack;
  while (to_pack > 0 && looks-- > 0) {
    auto it = customers_.from_slot(pack_hand_);
    if (it == customers_.end()) {
      pack_hand_ = 0;
      continue;
    }
    pack_hand_ = it.slot();
    CustomerState& c = it->second;
    if (use_tick_ - c.last_used < recent) {
      ++pack_hand_;
      continue;
    }
    pack_timers_.clear();
    for (const auto& [journey, instance] : c.instances) {
      if (instance.timer != 0) pack_timers_.push_back(instance.timer);
    }
    packed_.Put(it->first, pack_encoder_->Customer(c), pack_tag_, pack_timers_);
    // Its instances stay counted in waiting_ and its deferred sends in deferred_
    // (their timers are still queued); `deferred` itself is not in the piece.
    if (c.deferred > 0) evicted_deferred_[it->first] = c.deferred;
    customers_.erase(it);  // the slot now holds the entry that moved back, if any
    ++packs_;
    --to_pack;
  }
}

snapshot::PieceLoader* Engine::Impl::PackLoader(uint8_t tag) const {
  if (tag == pack_tag_) {
    if (!pack_loader_) pack_loader_ = snapshot::PieceLoader::ForOwnLayouts(*spec_);
    return pack_loader_.get();
  }
  if (!pack_earlier_loader_) {
    auto loader = std::make_unique<snapshot::PieceLoader>(*spec_);
    if (!loader->Layouts(pack_earlier_layouts_).ok()) return nullptr;
    pack_earlier_loader_ = std::move(loader);
  }
  return pack_earlier_loader_.get();
}

Engine::Impl::CustomerEntry* Engine::Impl::Unpack(const std::string& id) {
  uint8_t tag = 0;
  if (packed_.empty() || !packed_.Take(id, &pack_scratch_, &tag)) return nullptr;
  snapshot::PieceLoader* loader = PackLoader(tag);
  CustomerState c;
  if (loader == nullptr || !loader->Customer(id, pack_scratch_, c).ok()) {
    // A piece this engine wrote itself: only a defect gets here. The customer starts
    // afresh rather than stop the engine, counted as a store's unreadable piece is.
    ++stats_.customers_unreadable;
    evicted_deferred_.erase(id);
    return nullptr;
  }
  if (auto d = evicted_deferred_.find(id); d != evicted_deferred_.end()) {
    c.deferred = d->second;
    evicted_deferred_.erase(d);
  }
  c.last_used = ++use_tick_;
  ++unpacks_;
  return &*customers_.emplace(id, std::move(c)).first;
}

void Engine::Impl::UnpackAll() {
  if (packed_.empty()) return;
  for (const std::string& id : packed_.Ids()) Unpack(id);
}

void Engine::Impl::UnpackEarlier() {
  if (packed_.empty() || pack_earlier_layouts_.empty()) return;
  for (const std::string& id : packed_.IdsNotTagged(pack_tag_)) Unpack(id);
}

bool Engine::Impl::PeekPacked(const std::string& id, CustomerState& out) const {
  uint8_t tag = 0;
  if (packed_.empty() || !packed_.Get(id, &pack_scratch_, &tag)) return false;
  snapshot::PieceLoader* loader = PackLoader(tag);
  if (loader == nullptr || !loader->Customer(id, pack_scratch_, out).ok()) return false;
  if (auto d = evicted_deferred_.find(id); d != evicted_deferred_.end()) out.deferred = d->second;
  return true;
}

bool Engine::Impl::PackedPiece(const std::string& id, std::string& out) const {
  uint8_t tag = 0;
  if (packed_.empty() || !packed_.Get(id, &out, &tag)) return false;
  return tag == pack_tag_;
}

void Engine::Impl::DropPacked() {
  if (packed_.empty()) return;
  for (const std::string& id : packed_.Ids()) evicted_deferred_.erase(id);
  packed_.Clear();
  pack_earlier_layouts_.clear();
  pack_earlier_loader_.reset();
}

}  // namespace juncture::runtime
