// Customers kept in memory packed (EngineLimits::max_unpacked_customers,
// docs/state.md, "Customers packed in memory"): a customer the engine has not used for
// a while is kept as its stored piece (snapshot.h's PieceEncoder::Customer, the
// encoding the state store and snapshots use), compressed with zstd against a
// dictionary trained on the first pieces packed: about 100 bytes where its working
// form takes 800. Its next message or timer unpacks it. Private to runtime/exec/.
//
// Each customer is one heap block (its id, the piece's size, the packed bytes),
// found through a table of 8-byte slots probed linearly: the block's address, with 16
// bits of the id's hash in the address's unused top bits, so that a probe reads the
// block only when those bits match.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace juncture::runtime {

class PackedCustomers {
 public:
  PackedCustomers();
  ~PackedCustomers();
  PackedCustomers(const PackedCustomers&) = delete;
  PackedCustomers& operator=(const PackedCustomers&) = delete;

  // Packs `piece` under `id`, replacing what was packed under it. The tag (0 or 1)
  // and the timer numbers are the caller's, kept uncompressed: for the engine, which
  // program's layouts the piece is under, and the timers the customer's instances
  // wait on (so that a queued timer can be told live or stale without unpacking).
  void Put(std::string_view id, std::string_view piece, uint8_t tag = 0,
           const std::vector<uint64_t>& timers = {});
  // Unpacks `id`'s piece into *piece (when not null) and its tag into *tag (when not
  // null) and drops it; false if `id` is not packed.
  bool Take(std::string_view id, std::string* piece, uint8_t* tag = nullptr);
  // The same, keeping it packed.
  bool Get(std::string_view id, std::string* piece, uint8_t* tag = nullptr) const;
  bool Contains(std::string_view id) const;
  // -1 if `id` is not packed; else 1 if `timer` is among its timer numbers, 0 if not.
  int Timer(std::string_view id, uint64_t timer) const;
  // Every packed customer's id (in no order); or those whose tag is not `tag`.
  std::vector<std::string> Ids() const;
  std::vector<std::string> IdsNotTagged(uint8_t tag) const;
  void Clear();

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // The bytes of the packed customers' blocks (ids, sizes and packed pieces; not the
  // allocator's own overhead, nor the table).
  size_t bytes() const { return bytes_; }
  // The table's bytes (8 per slot) plus the dictionaries'.
  size_t overhead_bytes() const;
  // True once a dictionary is trained (pieces packed before it are kept raw).
  bool compressing() const;

 private:
  struct Codec;
  using Slot = uintptr_t;  // 0: empty; else the block's address | hash bits << 48

  static uint64_t Hash(std::string_view id);
  // The slot holding `id`, or slots_.size() if none does.
  size_t Find(std::string_view id, uint64_t hash) const;
  void Unpack(const unsigned char* block, std::string* piece, uint8_t* tag) const;
  void Free(const unsigned char* block);  // its bytes, and its dictionary's count
  void EraseSlot(size_t hole);
  void Rehash(size_t capacity);

  std::vector<Slot> slots_;  // a power of two of them, at most 3/4 used
  size_t size_ = 0;
  size_t bytes_ = 0;
  std::unique_ptr<Codec> codec_;
};

}  // namespace juncture::runtime
