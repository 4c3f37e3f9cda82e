// A vector of 8 bytes instead of std::vector's 24: one pointer; the two 32-bit counts
// live in the heap block, before the elements, and a vector that never held an
// element allocates nothing. For the containers every customer's state holds: a
// million customers each with a handful of them make the 16 bytes count. The part of
// std::vector's interface that FlatMap and the cap logs use, with its meaning; at
// most UINT32_MAX elements.
// Private to runtime/exec/.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <utility>

namespace juncture::runtime {

template <typename T>
class CompactVector {
 public:
  using value_type = T;
  using iterator = T*;
  using const_iterator = const T*;

  CompactVector() = default;
  CompactVector(const CompactVector& o) {
    Reserve(o.size());
    std::uninitialized_copy(o.begin(), o.end(), data_);
    SetSize(o.size());
  }
  CompactVector(CompactVector&& o) noexcept : data_(std::exchange(o.data_, nullptr)) {}
  CompactVector& operator=(const CompactVector& o) {
    if (this != &o) *this = CompactVector(o);
    return *this;
  }
  CompactVector& operator=(CompactVector&& o) noexcept {
    if (this != &o) {
      Free();
      data_ = std::exchange(o.data_, nullptr);
    }
    return *this;
  }
  ~CompactVector() { Free(); }

  T* begin() { return data_; }
  T* end() { return data_ + size(); }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size(); }
  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return data_ ? header()->size : 0; }
  size_t capacity() const { return data_ ? header()->capacity : 0; }
  bool empty() const { return size() == 0; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }

  // Constructs an element before `pos`; returns it.
  template <typename... Args>
  T* emplace(const T* pos, Args&&... args) {
    const size_t at = static_cast<size_t>(pos - data_);
    T value(std::forward<Args>(args)...);  // before a reallocation may move `args`' source
    const size_t n = size();
    if (n == capacity()) Reserve(n == 0 ? 1 : n * 2);
    ::new (static_cast<void*>(data_ + n)) T(std::move(value));
    SetSize(n + 1);
    std::rotate(data_ + at, data_ + n, data_ + n + 1);
    return data_ + at;
  }
  T* erase(const T* pos) { return erase(pos, pos + 1); }
  T* erase(const T* first, const T* last) {
    T* f = data_ + (first - data_);
    T* l = data_ + (last - data_);
    T* new_end = std::move(l, end(), f);
    std::destroy(new_end, end());
    if (data_ != nullptr) SetSize(static_cast<size_t>(new_end - data_));
    return f;
  }
  void clear() { erase(begin(), end()); }
  void push_back(T value) { emplace(end(), std::move(value)); }
  // Grows with value-initialised elements, or shrinks.
  void resize(size_t n) {
    if (n <= size()) {
      erase(begin() + n, end());
      return;
    }
    Reserve(n);
    std::uninitialized_value_construct(data_ + size(), data_ + n);
    SetSize(n);
  }

 private:
  // The block: its counts, then the elements (data_ points at the first).
  struct Header {
    uint32_t size;
    uint32_t capacity;
  };
  static constexpr size_t kAlign = alignof(T) > alignof(Header) ? alignof(T) : alignof(Header);
  static constexpr size_t kOffset = sizeof(Header) > alignof(T) ? sizeof(Header) : alignof(T);

  Header* header() const {
    return reinterpret_cast<Header*>(reinterpret_cast<char*>(data_) - kOffset);
  }
  void SetSize(size_t n) { header()->size = static_cast<uint32_t>(n); }

  void Reserve(size_t n) {
    const size_t old = size();
    if (n <= capacity()) return;
    char* block = static_cast<char*>(Allocate(kOffset + n * sizeof(T)));
    T* fresh = reinterpret_cast<T*>(block + kOffset);
    std::uninitialized_move(begin(), end(), fresh);
    Free();
    data_ = fresh;
    *header() = Header{static_cast<uint32_t>(old), static_cast<uint32_t>(n)};
  }
  void Free() {
    if (data_ == nullptr) return;
    std::destroy(begin(), end());
    Deallocate(reinterpret_cast<char*>(data_) - kOffset);
    data_ = nullptr;
  }
  // The aligned operator new only for an alignment beyond what the plain one gives:
  // glibc serves the aligned one through memalign, which bypasses its per-thread
  // cache and costs several times as much.
  static constexpr bool kOverAligned = kAlign > __STDCPP_DEFAULT_NEW_ALIGNMENT__;
  static void* Allocate(size_t bytes) {
    if constexpr (kOverAligned) return ::operator new(bytes, std::align_val_t(kAlign));
    return ::operator new(bytes);
  }
  static void Deallocate(void* block) {
    if constexpr (kOverAligned) {
      ::operator delete(block, std::align_val_t(kAlign));
    } else {
      ::operator delete(block);
    }
  }

  T* data_ = nullptr;  // null until the first element
};

}  // namespace juncture::runtime
