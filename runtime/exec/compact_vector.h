// A vector of 16 bytes instead of std::vector's 24 (a pointer and two 32-bit counts),
// for the containers every customer's state holds: a million customers each with a
// handful of them make the 8 bytes count. The part of std::vector's interface that
// FlatMap and the cap logs use, with its meaning; at most UINT32_MAX elements.
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
    Reserve(o.size_);
    std::uninitialized_copy(o.begin(), o.end(), data_);
    size_ = o.size_;
  }
  CompactVector(CompactVector&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)),
        size_(std::exchange(o.size_, 0)),
        capacity_(std::exchange(o.capacity_, 0)) {}
  CompactVector& operator=(const CompactVector& o) {
    if (this != &o) *this = CompactVector(o);
    return *this;
  }
  CompactVector& operator=(CompactVector&& o) noexcept {
    if (this != &o) {
      Free();
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
      capacity_ = std::exchange(o.capacity_, 0);
    }
    return *this;
  }
  ~CompactVector() { Free(); }

  T* begin() { return data_; }
  T* end() { return data_ + size_; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }
  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }

  // Constructs an element before `pos`; returns it.
  template <typename... Args>
  T* emplace(const T* pos, Args&&... args) {
    const size_t at = static_cast<size_t>(pos - data_);
    T value(std::forward<Args>(args)...);  // before a reallocation may move `args`' source
    if (size_ == capacity_) Reserve(capacity_ == 0 ? 1 : capacity_ * 2);
    ::new (static_cast<void*>(data_ + size_)) T(std::move(value));
    ++size_;
    std::rotate(data_ + at, data_ + size_ - 1, data_ + size_);
    return data_ + at;
  }
  T* erase(const T* pos) { return erase(pos, pos + 1); }
  T* erase(const T* first, const T* last) {
    T* f = data_ + (first - data_);
    T* l = data_ + (last - data_);
    T* new_end = std::move(l, end(), f);
    std::destroy(new_end, end());
    size_ = static_cast<uint32_t>(new_end - data_);
    return f;
  }
  void clear() { erase(begin(), end()); }
  void push_back(T value) { emplace(end(), std::move(value)); }
  // Grows with value-initialised elements, or shrinks.
  void resize(size_t n) {
    if (n <= size_) {
      erase(begin() + n, end());
      return;
    }
    Reserve(n);
    std::uninitialized_value_construct(data_ + size_, data_ + n);
    size_ = static_cast<uint32_t>(n);
  }

 private:
  void Reserve(size_t n) {
    if (n <= capacity_) return;
    T* fresh = static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t(alignof(T))));
    std::uninitialized_move(begin(), end(), fresh);
    std::destroy(begin(), end());
    if (data_ != nullptr) ::operator delete(data_, std::align_val_t(alignof(T)));
    data_ = fresh;
    capacity_ = static_cast<uint32_t>(n);
  }
  void Free() {
    std::destroy(begin(), end());
    if (data_ != nullptr) ::operator delete(data_, std::align_val_t(alignof(T)));
    data_ = nullptr;
    size_ = capacity_ = 0;
  }

  T* data_ = nullptr;
  uint32_t size_ = 0;
  uint32_t capacity_ = 0;
};

}  // namespace juncture::runtime
