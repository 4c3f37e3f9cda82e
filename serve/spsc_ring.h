// A bounded single-producer, single-consumer queue without locks: how a message
// goes from the thread that receives it to the shard that decides it (serve
// --shards). One thread pushes, one thread pops; each side writes only its own
// index, and reads the other's with acquire ordering, so a push costs two atomic
// loads and a release store.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <new>

namespace juncture::serve {

template <typename T>
class SpscRing {
 public:
  // `capacity`: rounded up to a power of two.
  explicit SpscRing(size_t capacity) {
    size_t n = 1;
    while (n < capacity) n <<= 1;
    mask_ = n - 1;
    slots_ = std::make_unique<T[]>(n);
  }
  SpscRing(const SpscRing&) = delete;
  SpscRing& operator=(const SpscRing&) = delete;

  // Producer only. False if full.
  bool Push(const T& value) {
    size_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_cache_ > mask_) {
      head_cache_ = head_.load(std::memory_order_acquire);
      if (tail - head_cache_ > mask_) return false;
    }
    slots_[tail & mask_] = value;
    // Sequentially consistent: the consumer may be about to sleep (see Shard); its
    // "am I asleep" flag is read after this store, never before.
    tail_.store(tail + 1, std::memory_order_seq_cst);
    return true;
  }

  // Consumer only. False if empty.
  bool Pop(T* out) {
    size_t head = head_.load(std::memory_order_relaxed);
    if (head == tail_cache_) {
      tail_cache_ = tail_.load(std::memory_order_acquire);
      if (head == tail_cache_) return false;
    }
    *out = slots_[head & mask_];
    head_.store(head + 1, std::memory_order_release);
    return true;
  }

  // Either side: nothing in it as of now.
  bool empty() const {
    return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_seq_cst);
  }

 private:
  static constexpr size_t kLine = 64;  // one cache line per side: no false sharing
  alignas(kLine) std::atomic<size_t> head_{0};  // next to pop (consumer writes)
  size_t tail_cache_ = 0;                       // consumer's view of tail_
  alignas(kLine) std::atomic<size_t> tail_{0};  // next to push (producer writes)
  size_t head_cache_ = 0;                       // producer's view of head_
  alignas(kLine) size_t mask_ = 0;
  std::unique_ptr<T[]> slots_;
};

}  // namespace juncture::serve
