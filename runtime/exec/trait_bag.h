// A customer's unknown traits (names the profile does not declare, with their JSON
// text), kept only to be carried into snapshots. Private to runtime/exec/.
//
// One pointer in the customer's state, null while there are none; otherwise one heap
// block: the number of traits, then each trait as its name's length, its name, its
// text's length and its text (lengths as 32-bit numbers). A customer with one unknown
// trait costs one small block instead of a vector and two strings (four blocks once
// the strings outgrow their inline buffers).
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

namespace juncture::runtime {

class TraitBag {
 public:
  TraitBag() = default;
  TraitBag(const TraitBag& o) { Assign(o.bytes()); }
  TraitBag(TraitBag&&) noexcept = default;
  TraitBag& operator=(const TraitBag& o) {
    if (this != &o) Assign(o.bytes());
    return *this;
  }
  TraitBag& operator=(TraitBag&&) noexcept = default;

  bool empty() const { return data_ == nullptr; }
  size_t size() const { return data_ ? Load(data_.get() + 4) : 0; }

  // Calls f(name, text) for each trait, in the order they were first set.
  template <typename F>
  void ForEach(F f) const {
    const size_t n = size();
    const char* p = data_ ? data_.get() + 8 : nullptr;
    for (size_t i = 0; i < n; ++i) {
      std::string_view name = Read(p);
      std::string_view text = Read(p);
      f(name, text);
    }
  }

  // Sets `name` to `text`. A name not there yet is added only while the bag holds
  // fewer than `max` traits (0: no bound); returns false if it was not.
  bool Set(std::string_view name, std::string_view text, size_t max) {
    bool same = false;  // an identify repeating a trait's value changes nothing
    ForEach([&](std::string_view k, std::string_view v) { same |= k == name && v == text; });
    if (same) return true;
    std::string next;
    bool found = false;
    size_t n = 0;
    ForEach([&](std::string_view k, std::string_view v) {
      Append(next, k);
      Append(next, k == name ? (found = true, text) : v);
      ++n;
    });
    if (!found) {
      if (max != 0 && n >= max) return false;
      Append(next, name);
      Append(next, text);
      ++n;
    }
    std::string block(8, '\0');
    Store(block.data(), static_cast<uint32_t>(8 + next.size()));
    Store(block.data() + 4, static_cast<uint32_t>(n));
    Assign(block + next);
    return true;
  }

 private:
  static uint32_t Load(const char* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
  static void Store(char* p, uint32_t v) { std::memcpy(p, &v, 4); }
  static std::string_view Read(const char*& p) {
    const uint32_t len = Load(p);
    std::string_view s(p + 4, len);
    p += 4 + len;
    return s;
  }
  static void Append(std::string& out, std::string_view s) {
    char len[4];
    Store(len, static_cast<uint32_t>(s.size()));
    out.append(len, 4).append(s);
  }
  // The whole block: its byte count, the trait count, the traits.
  std::string_view bytes() const {
    return data_ ? std::string_view(data_.get(), Load(data_.get())) : std::string_view();
  }
  void Assign(std::string_view block) {
    if (block.empty()) {
      data_.reset();
      return;
    }
    data_ = std::make_unique_for_overwrite<char[]>(block.size());
    std::memcpy(data_.get(), block.data(), block.size());
  }

  std::unique_ptr<char[]> data_;
};

}  // namespace juncture::runtime
