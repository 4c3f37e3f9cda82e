// Customers kept packed in memory: see packed_customers.h.
//
// A block: one byte (bits 0-6: kRaw, or the number of the dictionary it was
// compressed with; bit 7: the caller's tag), varint id size, the id, varint piece
// size, varint packed size, varint count and the caller's timer numbers (varints,
// uncompressed), the packed bytes. Pieces are kept raw until kSamples of them have been packed; a dictionary is then
// trained on those (zstd's fastCover: about 2 ms for 256 pieces, on the deciding
// thread), and later pieces are compressed. Frames carry no magic number, dictionary
// id or content size: the block has the size and the dictionary's number.
#include "exec/packed_customers.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_c_format: frames without their magic number
#include <zstd.h>
#define ZDICT_STATIC_LINKING_ONLY  // ZDICT_trainFromBuffer_fastCover
#include <zdict.h>
#include <xxhash.h>

#include "exec/packed_times.h"

namespace juncture::runtime {

namespace {

constexpr unsigned char kRaw = 0;
constexpr size_t kSamples = 256;       // pieces the dictionary is trained on
constexpr size_t kDictBytes = 4096;    // the dictionary's capacity
constexpr int kLevel = 3;
constexpr int kAddressBits = 48;
constexpr uintptr_t kAddressMask = (uintptr_t{1} << kAddressBits) - 1;

size_t ReadVarintAt(const unsigned char*& p) {
  size_t v = 0;
  for (int shift = 0;; shift += 7) {
    const unsigned char b = *p++;
    v |= static_cast<size_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
  }
}

struct BlockView {
  unsigned char kind;
  uint8_t tag;
  std::string_view id;
  size_t piece_size;
  size_t timers;                 // how many timer numbers follow
  const unsigned char* timer;    // the first of them
  std::string_view packed;
};

BlockView Read(const unsigned char* block) {
  BlockView v;
  const unsigned char* p = block;
  v.kind = *p & 0x7f;
  v.tag = *p++ >> 7;
  const size_t id_size = ReadVarintAt(p);
  v.id = std::string_view(reinterpret_cast<const char*>(p), id_size);
  p += id_size;
  v.piece_size = ReadVarintAt(p);
  const size_t packed_size = ReadVarintAt(p);
  v.timers = ReadVarintAt(p);
  v.timer = p;
  for (size_t i = 0; i < v.timers; ++i) ReadVarintAt(p);
  v.packed = std::string_view(reinterpret_cast<const char*>(p), packed_size);
  return v;
}

const unsigned char* Block(uintptr_t slot) {
  return reinterpret_cast<const unsigned char*>(slot & kAddressMask);
}

}  // namespace

// The dictionaries: the newest compresses, each decompresses the blocks it packed
// (a block's first byte is its dictionary's number, 0 for a raw block) and goes when
// none is left. A new one is trained when the pieces no longer look like those the
// newest was trained on: when the compressed size per raw byte, averaged over the
// latest pieces, has grown by a quarter since the dictionary was new (customers'
// pieces change as journeys move them on: profiles first, then waits and windows).
struct PackedCustomers::Codec {
  struct Dict {
    std::string bytes;
    ZSTD_DDict* ddict = nullptr;
    size_t blocks = 0;  // blocks packed with it
  };

  Codec() : cctx(ZSTD_createCCtx()), dctx(ZSTD_createDCtx()) {
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_format, ZSTD_f_zstd1_magicless);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_dictIDFlag, 0);
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 0);
    ZSTD_DCtx_setParameter(dctx, ZSTD_d_format, ZSTD_f_zstd1_magicless);
    dicts.resize(1);  // number 0: raw
  }
  ~Codec() {
    ZSTD_freeCDict(cdict);
    for (Dict& d : dicts) ZSTD_freeDDict(d.ddict);
    ZSTD_freeCCtx(cctx);
    ZSTD_freeDCtx(dctx);
  }

  // Before each piece is packed: collects samples while a dictionary is wanted, and
  // trains one once there are enough.
  void Sample(std::string_view piece) {
    if (cctx == nullptr || dctx == nullptr || !Wanted()) return;
    samples.append(piece);
    sizes.push_back(piece.size());
    if (sizes.size() >= kSamples) Train();
  }

  bool Wanted() const {
    if (cdict == nullptr) return !failed;
    return since_trained >= kSettle + kRetrainAfter && average > baseline * 1.25;
  }

  void Train() {
    std::string bytes(kDictBytes, '\0');
    ZDICT_fastCover_params_t p{};
    p.k = 1024;
    p.d = 8;
    p.f = 16;
    p.accel = 1;
    p.zParams.compressionLevel = kLevel;
    const size_t n = ZDICT_trainFromBuffer_fastCover(bytes.data(), bytes.size(), samples.data(),
                                                     sizes.data(),
                                                     static_cast<unsigned>(sizes.size()), p);
    samples = std::string();
    sizes = std::vector<size_t>();
    since_trained = 0;
    if (ZDICT_isError(n)) {
      failed = cdict == nullptr;  // no dictionary at all: pieces stay raw
      return;
    }
    bytes.resize(n);
    // A free number (one whose blocks are all gone), else a new one; at most 127.
    size_t number = 1;
    while (number < dicts.size() && (dicts[number].ddict != nullptr || number == newest)) ++number;
    if (number > 127) return;
    // Tables sized for pieces of a few hundred bytes, not the default's megabytes.
    ZSTD_CDict* c = ZSTD_createCDict_advanced(bytes.data(), bytes.size(), ZSTD_dlm_byCopy,
                                              ZSTD_dct_auto, ZSTD_getCParams(kLevel, 512, n),
                                              ZSTD_defaultCMem);
    ZSTD_DDict* d = ZSTD_createDDict(bytes.data(), bytes.size());
    if (c == nullptr || d == nullptr || ZSTD_isError(ZSTD_CCtx_refCDict(cctx, c))) {
      ZSTD_freeCDict(c);
      ZSTD_freeDDict(d);
      if (cdict != nullptr) ZSTD_CCtx_refCDict(cctx, cdict);
      failed = cdict == nullptr;
      return;
    }
    ZSTD_freeCDict(cdict);
    cdict = c;
    const size_t previous = newest;
    if (number == dicts.size()) dicts.emplace_back();
    dicts[number] = Dict{std::move(bytes), d, 0};
    newest = number;
    Release(previous);  // if none of its blocks is left
  }

  // The piece compressed into `out` with the newest dictionary; its number, or 0 to
  // keep it raw (no dictionary yet, or it would not be smaller).
  unsigned char Compress(std::string_view piece, std::string& out) {
    if (cdict == nullptr) return 0;
    out.resize(ZSTD_compressBound(piece.size()));
    const size_t n = ZSTD_compress2(cctx, out.data(), out.size(), piece.data(), piece.size());
    if (ZSTD_isError(n)) return 0;
    // How well the dictionary still fits: the average over about the last 1,024.
    const double ratio = static_cast<double>(n) / static_cast<double>(piece.size());
    ++since_trained;
    average += (ratio - average) / static_cast<double>(std::min(since_trained, kSettle));
    if (since_trained == kSettle) baseline = average;
    if (n >= piece.size()) return 0;
    out.resize(n);
    ++dicts[newest].blocks;
    return static_cast<unsigned char>(newest);
  }

  bool Decompress(unsigned char number, std::string_view packed, size_t size, std::string& out) {
    if (number >= dicts.size() || dicts[number].ddict == nullptr) return false;
    out.resize(size);
    const size_t n = ZSTD_decompress_usingDDict(dctx, out.data(), out.size(), packed.data(),
                                                packed.size(), dicts[number].ddict);
    return !ZSTD_isError(n) && n == size;
  }

  // A block packed with dictionary `number` is gone.
  void Dropped(unsigned char number) {
    if (number == 0 || number >= dicts.size() || dicts[number].blocks == 0) return;
    --dicts[number].blocks;
    Release(number);
  }

  void Release(size_t number) {
    if (number == 0 || number == newest || dicts[number].blocks > 0) return;
    ZSTD_freeDDict(dicts[number].ddict);
    dicts[number] = Dict{};
  }

  size_t dict_bytes() const {
    size_t total = 0;
    for (const Dict& d : dicts) total += d.bytes.size();
    return total;
  }

  static constexpr size_t kSettle = 1024;         // pieces before the baseline is taken
  static constexpr size_t kRetrainAfter = 4096;   // pieces after it before a new one

  ZSTD_CCtx* cctx;
  ZSTD_DCtx* dctx;
  ZSTD_CDict* cdict = nullptr;  // the newest dictionary's
  std::vector<Dict> dicts;
  size_t newest = 0;
  std::string samples;
  std::vector<size_t> sizes;
  bool failed = false;
  size_t since_trained = 0;
  double average = 0;   // compressed bytes per raw byte, lately
  double baseline = 0;  // the same once the newest dictionary had settled
  std::string compressed;  // Put's scratch
};

PackedCustomers::PackedCustomers() : codec_(std::make_unique<Codec>()) {}

PackedCustomers::~PackedCustomers() { Clear(); }

uint64_t PackedCustomers::Hash(std::string_view id) { return XXH3_64bits(id.data(), id.size()); }

size_t PackedCustomers::Find(std::string_view id, uint64_t hash) const {
  if (size_ == 0) return slots_.size();
  const uintptr_t tag = static_cast<uintptr_t>(hash >> kAddressBits) << kAddressBits;
  const size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot s = slots_[i];
    if (s == 0) return slots_.size();
    if ((s & ~kAddressMask) == tag && Read(Block(s)).id == id) return i;
  }
}

void PackedCustomers::Put(std::string_view id, std::string_view piece, uint8_t tag,
                          const std::vector<uint64_t>& timers) {
  codec_->Sample(piece);
  std::string& packed = codec_->compressed;
  const unsigned char dict = codec_->Compress(piece, packed);
  const std::string_view body = dict != kRaw ? std::string_view(packed) : piece;

  std::string head;
  head.push_back(static_cast<char>(dict | (tag & 1) << 7));
  snapshot::AppendVarint(id.size(), head);
  head.append(id);
  snapshot::AppendVarint(piece.size(), head);
  snapshot::AppendVarint(body.size(), head);
  snapshot::AppendVarint(timers.size(), head);
  for (uint64_t t : timers) snapshot::AppendVarint(t, head);
  const size_t size = head.size() + body.size();
  auto* block = static_cast<unsigned char*>(std::malloc(size));
  if (block == nullptr) throw std::bad_alloc();
  if ((reinterpret_cast<uintptr_t>(block) & ~kAddressMask) != 0) {
    // The slot keeps hash bits above the address; no allocator of the platforms this
    // builds on returns such an address unasked.
    std::fprintf(stderr, "juncture: an allocation above 2^48: packed customers cannot keep it\n");
    std::abort();
  }
  std::memcpy(block, head.data(), head.size());
  std::memcpy(block + head.size(), body.data(), body.size());

  const uint64_t hash = Hash(id);
  const Slot slot = reinterpret_cast<uintptr_t>(block) |
                    (static_cast<uintptr_t>(hash >> kAddressBits) << kAddressBits);
  const size_t at = Find(id, hash);
  if (at != slots_.size()) {  // replaces
    const unsigned char* old = Block(slots_[at]);
    Free(old);
    slots_[at] = slot;
    bytes_ += size;
    return;
  }
  if ((size_ + 1) * 4 > slots_.size() * 3) Rehash(slots_.empty() ? 16 : slots_.size() * 2);
  const size_t mask = slots_.size() - 1;
  size_t i = hash & mask;
  while (slots_[i] != 0) i = (i + 1) & mask;
  slots_[i] = slot;
  ++size_;
  bytes_ += size;
}

void PackedCustomers::Unpack(const unsigned char* block, std::string* piece,
                             uint8_t* tag) const {
  const BlockView v = Read(block);
  if (tag != nullptr) *tag = v.tag;
  if (piece == nullptr) return;
  if (v.kind == kRaw) {
    piece->assign(v.packed);
    return;
  }
  // Only bytes this object compressed are read: a failure is a bug, not bad input.
  if (!codec_->Decompress(v.kind, v.packed, v.piece_size, *piece)) piece->clear();
}

bool PackedCustomers::Take(std::string_view id, std::string* piece, uint8_t* tag) {
  const size_t at = Find(id, Hash(id));
  if (at == slots_.size()) return false;
  const unsigned char* block = Block(slots_[at]);
  Unpack(block, piece, tag);
  Free(block);
  --size_;
  EraseSlot(at);
  return true;
}

bool PackedCustomers::Get(std::string_view id, std::string* piece, uint8_t* tag) const {
  const size_t at = Find(id, Hash(id));
  if (at == slots_.size()) return false;
  Unpack(Block(slots_[at]), piece, tag);
  return true;
}

bool PackedCustomers::Contains(std::string_view id) const {
  return Find(id, Hash(id)) != slots_.size();
}

std::vector<std::string> PackedCustomers::Ids() const {
  std::vector<std::string> ids;
  ids.reserve(size_);
  for (Slot s : slots_) {
    if (s != 0) ids.emplace_back(Read(Block(s)).id);
  }
  return ids;
}

int PackedCustomers::Timer(std::string_view id, uint64_t timer) const {
  const size_t at = Find(id, Hash(id));
  if (at == slots_.size()) return -1;
  const BlockView v = Read(Block(slots_[at]));
  const unsigned char* p = v.timer;
  for (size_t i = 0; i < v.timers; ++i) {
    if (ReadVarintAt(p) == timer) return 1;
  }
  return 0;
}

std::vector<std::string> PackedCustomers::IdsNotTagged(uint8_t tag) const {
  std::vector<std::string> ids;
  for (Slot s : slots_) {
    if (s == 0) continue;
    const BlockView v = Read(Block(s));
    if (v.tag != tag) ids.emplace_back(v.id);
  }
  return ids;
}

void PackedCustomers::Free(const unsigned char* block) {
  const BlockView v = Read(block);
  codec_->Dropped(v.kind);
  bytes_ -= static_cast<size_t>(v.packed.data() + v.packed.size() -
                                reinterpret_cast<const char*>(block));
  std::free(const_cast<unsigned char*>(block));
}

void PackedCustomers::Clear() {
  for (Slot s : slots_) {
    if (s != 0) Free(Block(s));
  }
  slots_.clear();
  size_ = 0;
  bytes_ = 0;
}

size_t PackedCustomers::overhead_bytes() const {
  return slots_.size() * sizeof(Slot) + codec_->dict_bytes();
}

bool PackedCustomers::compressing() const { return codec_->cdict != nullptr; }

// Linear probing without tombstones, as CustomerMap: the slots after the hole that
// may live earlier move back. A slot's home comes from its id's hash, read from its
// block (erasing is the rare path: a packed customer coming back).
void PackedCustomers::EraseSlot(size_t hole) {
  const size_t mask = slots_.size() - 1;
  for (size_t j = (hole + 1) & mask; slots_[j] != 0; j = (j + 1) & mask) {
    const size_t home = Hash(Read(Block(slots_[j])).id) & mask;
    const bool stays = hole < j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!stays) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = 0;
}

void PackedCustomers::Rehash(size_t capacity) {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(capacity, 0);
  const size_t mask = capacity - 1;
  for (Slot s : old) {
    if (s == 0) continue;
    size_t i = Hash(Read(Block(s)).id) & mask;
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = s;
  }
}

}  // namespace juncture::runtime
