// A small ordered map over a sorted vector, for per-customer state keyed by journey
// or event index. A customer is in a handful of journeys at a time, so a sorted
// vector beats std::map: one allocation instead of one per entry, contiguous keys,
// and no allocation at all while empty (most customers, most maps). Iteration is in
// key order, as with std::map. Unlike std::map, inserting or erasing invalidates
// references and iterators to other entries. Private to runtime/exec/.
#pragma once

#include <algorithm>
#include <cstddef>
#include <optional>
#include <utility>

#include "exec/compact_vector.h"

namespace juncture::runtime {

template <typename K, typename V>
class FlatMap {
 public:
  using value_type = std::pair<K, V>;
  using iterator = value_type*;
  using const_iterator = const value_type*;

  iterator begin() { return items_.begin(); }
  iterator end() { return items_.end(); }
  const_iterator begin() const { return items_.begin(); }
  const_iterator end() const { return items_.end(); }
  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }

  iterator find(const K& k) {
    auto it = LowerBound(k);
    return it != items_.end() && it->first == k ? it : items_.end();
  }
  const_iterator find(const K& k) const {
    auto it = LowerBound(items_.begin(), items_.end(), k);
    return it != items_.end() && it->first == k ? it : items_.end();
  }
  size_t count(const K& k) const { return find(k) != end() ? 1 : 0; }
  // The value at `k`, value-initialised if absent.
  V& operator[](const K& k) {
    auto it = LowerBound(k);
    if (it == items_.end() || it->first != k) it = items_.emplace(it, k, V{});
    return it->second;
  }
  iterator erase(iterator it) { return items_.erase(it); }
  // Gives each entry the key `rekey(key, value)` returns, or drops it if that is
  // nullopt (the new keys must be distinct). In place: no allocation, and no sort
  // unless the order changed (a reload onto a program of the same shape keeps it).
  template <typename F>
  void Rekey(F rekey) {
    size_t kept = 0;
    bool sorted = true;
    for (size_t i = 0; i < items_.size(); ++i) {
      std::optional<K> k = rekey(items_[i].first, items_[i].second);
      if (!k) continue;
      if (kept > 0 && !(items_[kept - 1].first < *k)) sorted = false;
      if (kept != i) items_[kept].second = std::move(items_[i].second);
      items_[kept].first = *k;
      ++kept;
    }
    items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(kept), items_.end());
    if (!sorted) {
      std::sort(items_.begin(), items_.end(),
                [](const value_type& a, const value_type& b) { return a.first < b.first; });
    }
  }
  size_t erase(const K& k) {
    auto it = find(k);
    if (it == items_.end()) return 0;
    items_.erase(it);
    return 1;
  }

 private:
  static bool KeyLess(const value_type& a, const K& k) { return a.first < k; }
  // The first entry not below `k`. A customer's maps hold a few entries: up to
  // kLinear of them a forward scan costs less than a binary search's branches.
  template <typename It>
  static It LowerBound(It first, It last, const K& k) {
    constexpr std::ptrdiff_t kLinear = 8;
    if (last - first > kLinear) return std::lower_bound(first, last, k, KeyLess);
    while (first != last && first->first < k) ++first;
    return first;
  }
  iterator LowerBound(const K& k) { return LowerBound(items_.begin(), items_.end(), k); }

  CompactVector<value_type> items_;  // 8 bytes: every customer holds several maps
};

}  // namespace juncture::runtime
