// The engine's customers by id: a hash map from strings to values whose entries
// never move, so that a pointer to an entry stays valid until that entry is erased
// (Engine::Impl keeps such pointers: the customers changed since the last commit).
// Private to runtime/exec/.
//
// Why not std::unordered_map: a lookup there reads the bucket, then the node before
// the first of the bucket (another customer's), then the node's cached hash and its
// key: four cold cache lines when customers come round in turn, as they do in a busy
// stream. Here a lookup reads one slot (its hash and the entry's number, 8 bytes, in
// an array probed linearly) and then the entry: two. Entries live in chunks of
// kChunk, allocated as the map grows; an erased entry's place is reused by the next.
//
// The subset of std::unordered_map the engine uses, with its meaning: find, count,
// try_emplace, emplace, insert_or_assign, erase (by iterator, returning nothing),
// size, clear, reserve, and iteration (in no particular order) over
// std::pair<const std::string, V>, also from a slot (from_slot). Inserting may invalidate iterators (not
// pointers); erasing invalidates iterators.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <xxhash.h>

namespace juncture::runtime {

template <typename V>
class CustomerMap {
 public:
  using value_type = std::pair<const std::string, V>;

  template <bool kConst>
  class Iterator {
   public:
    using Map = std::conditional_t<kConst, const CustomerMap, CustomerMap>;
    using Value = std::conditional_t<kConst, const value_type, value_type>;
    Iterator(Map* map, size_t slot) : map_(map), slot_(slot) { Skip(); }
    Value& operator*() const { return map_->At(map_->slots_[slot_].entry); }
    Value* operator->() const { return &**this; }
    Iterator& operator++() {
      ++slot_;
      Skip();
      return *this;
    }
    bool operator==(const Iterator& o) const { return slot_ == o.slot_; }
    size_t slot() const { return slot_; }
    bool operator!=(const Iterator& o) const { return slot_ != o.slot_; }

   private:
    friend class CustomerMap;
    void Skip() {
      while (slot_ < map_->slots_.size() && map_->slots_[slot_].entry == kEmpty) ++slot_;
    }
    Map* map_;
    size_t slot_;
  };
  using iterator = Iterator<false>;
  using const_iterator = Iterator<true>;

  CustomerMap() = default;
  CustomerMap(const CustomerMap&) = delete;
  CustomerMap& operator=(const CustomerMap&) = delete;
  CustomerMap(CustomerMap&& o) noexcept { Swap(o); }
  CustomerMap& operator=(CustomerMap&& o) noexcept {
    if (this != &o) {
      clear();
      Swap(o);
    }
    return *this;
  }
  ~CustomerMap() { clear(); }

  iterator begin() { return iterator(this, 0); }
  iterator end() { return iterator(this, slots_.size()); }
  const_iterator begin() const { return const_iterator(this, 0); }
  const_iterator end() const { return const_iterator(this, slots_.size()); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // The first entry at or after slot `slot` (end() if none): a walk over the table
  // that survives erasing (the entry at a slot erased is the one that moved into it,
  // if any: come back to the same slot).
  iterator from_slot(size_t slot) { return iterator(this, slot < slots_.size() ? slot : slots_.size()); }

  iterator find(std::string_view key) { return iterator(this, FindSlot(key, Hash(key))); }
  const_iterator find(std::string_view key) const {
    return const_iterator(this, FindSlot(key, Hash(key)));
  }
  size_t count(std::string_view key) const { return find(key) != end() ? 1 : 0; }

  // Inserts {key, V(args...)} unless `key` is there; the bool says whether it was not.
  template <typename... Args>
  std::pair<iterator, bool> try_emplace(std::string_view key, Args&&... args) {
    const uint32_t hash = Hash(key);
    size_t slot = FindSlot(key, hash);
    if (slot != slots_.size()) return {iterator(this, slot), false};
    return {iterator(this, Insert(hash, key, std::forward<Args>(args)...)), true};
  }
  template <typename M>
  std::pair<iterator, bool> emplace(std::string_view key, M&& value) {
    return try_emplace(key, std::forward<M>(value));
  }
  // try_emplace leaves `value` alone when the key is there.
  template <typename M>
  std::pair<iterator, bool> insert_or_assign(std::string_view key, M&& value) {
    auto [it, inserted] = try_emplace(key, std::forward<M>(value));
    if (!inserted) it->second = std::forward<M>(value);
    return {it, inserted};
  }

  void erase(iterator it) {
    const uint32_t entry = slots_[it.slot_].entry;
    At(entry).~value_type();
    free_.push_back(entry);
    --size_;
    EraseSlot(it.slot_);
  }

  void clear() {
    for (const Slot& s : slots_) {
      if (s.entry != kEmpty) At(s.entry).~value_type();
    }
    slots_.clear();
    chunks_.clear();
    free_.clear();
    size_ = 0;
    next_entry_ = 0;
  }

  void reserve(size_t n) {
    size_t capacity = 16;
    while (capacity * 3 < n * 4) capacity *= 2;
    if (capacity > slots_.size()) Rehash(capacity);
  }

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;
  static constexpr size_t kChunk = 256;  // entries per allocation
  struct Slot {
    uint32_t hash = 0;
    uint32_t entry = kEmpty;  // the entry's number: chunk * kChunk + place
  };
  struct alignas(value_type) Storage {
    unsigned char bytes[sizeof(value_type)];
  };

  // XXH3: for ids of a few dozen bytes about half of std::hash's cost.
  static uint32_t Hash(std::string_view key) {
    const uint64_t h = XXH3_64bits(key.data(), key.size());
    return static_cast<uint32_t>(h ^ (h >> 32));
  }
  value_type& At(uint32_t entry) const {
    return *std::launder(reinterpret_cast<value_type*>(chunks_[entry / kChunk][entry % kChunk].bytes));
  }
  size_t Mask() const { return slots_.size() - 1; }

  // The slot holding `key`, or slots_.size() if none does.
  size_t FindSlot(std::string_view key, uint32_t hash) const {
    if (size_ == 0) return slots_.size();
    for (size_t i = hash & Mask();; i = (i + 1) & Mask()) {
      const Slot& s = slots_[i];
      if (s.entry == kEmpty) return slots_.size();
      if (s.hash == hash && At(s.entry).first == key) return i;
    }
  }

  template <typename... Args>
  size_t Insert(uint32_t hash, std::string_view key, Args&&... args) {
    if ((size_ + 1) * 4 > slots_.size() * 3) Rehash(slots_.empty() ? 16 : slots_.size() * 2);
    uint32_t entry;
    if (!free_.empty()) {
      entry = free_.back();
      free_.pop_back();
    } else {
      if (next_entry_ % kChunk == 0) chunks_.push_back(std::make_unique_for_overwrite<Storage[]>(kChunk));
      entry = next_entry_++;
    }
    new (chunks_[entry / kChunk][entry % kChunk].bytes)
        value_type(std::piecewise_construct, std::forward_as_tuple(key),
                   std::forward_as_tuple(std::forward<Args>(args)...));
    ++size_;
    size_t i = hash & Mask();
    while (slots_[i].entry != kEmpty) i = (i + 1) & Mask();
    slots_[i] = Slot{hash, entry};
    return i;
  }

  void Rehash(size_t capacity) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(capacity, Slot{});
    for (const Slot& s : old) {
      if (s.entry == kEmpty) continue;
      size_t i = s.hash & Mask();
      while (slots_[i].entry != kEmpty) i = (i + 1) & Mask();
      slots_[i] = s;
    }
  }

  // Linear probing without tombstones: the slots after the erased one that could
  // live earlier move back, so that every probe still stops at the first empty slot.
  void EraseSlot(size_t hole) {
    for (size_t j = (hole + 1) & Mask(); slots_[j].entry != kEmpty; j = (j + 1) & Mask()) {
      const size_t home = slots_[j].hash & Mask();
      // The slot at j may move to the hole unless its home lies after the hole, up to
      // j (cyclically).
      const bool stays = hole < j ? (home > hole && home <= j) : (home > hole || home <= j);
      if (!stays) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole] = Slot{};
  }

  void Swap(CustomerMap& o) noexcept {
    std::swap(slots_, o.slots_);
    std::swap(chunks_, o.chunks_);
    std::swap(free_, o.free_);
    std::swap(size_, o.size_);
    std::swap(next_entry_, o.next_entry_);
  }

  std::vector<Slot> slots_;  // a power of two of them, at most 3/4 used
  std::vector<std::unique_ptr<Storage[]>> chunks_;
  std::vector<uint32_t> free_;  // entries erased, to be reused
  size_t size_ = 0;
  uint32_t next_entry_ = 0;     // entries ever placed in chunks_
};

}  // namespace juncture::runtime
