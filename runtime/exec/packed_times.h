// Packed sequences of a customer's times for the state pieces (snapshot.cc): the
// deduplication ids and the window history grow with every message of a customer and
// are written again with each commit of it, so they are stored as one CBOR byte
// string each rather than as arrays of CBOR integers (about half the bytes for ids,
// a third for history).
//
// A time is written as the difference from the one before (the first from 0),
// zigzag-coded (small negative differences stay short) as a LEB128 varint: times a
// few seconds apart take 3-4 bytes instead of 9. Private to runtime/exec/.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

namespace juncture::runtime::snapshot {

inline void AppendVarint(uint64_t v, std::string& out) {
  char b[10];  // built here and appended once: a string's push_back is a call per byte
  size_t n = 0;
  while (v >= 0x80) {
    b[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  b[n++] = static_cast<char>(v);
  out.append(b, n);
}

// Reads the varint at `pos` and moves past it: nullopt past the end or on one longer
// than 10 bytes, and `pos` is then past the end (every later read fails too).
inline std::optional<uint64_t> ReadVarint(std::string_view in, size_t& pos) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64 && pos < in.size(); shift += 7) {
    const auto byte = static_cast<uint8_t>(in[pos++]);
    v |= uint64_t{byte & 0x7fu} << shift;
    if ((byte & 0x80) == 0) return v;
  }
  pos = in.size() + 1;
  return std::nullopt;
}

// Differences of int64 times, which may wrap: computed and added back modulo 2^64.
inline uint64_t Zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t Unzigzag(uint64_t v) { return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1)); }

// Writes times one after another, each as its difference from the last.
class TimeWriter {
 public:
  explicit TimeWriter(std::string& out) : out_(out) {}
  void Time(int64_t t) {
    AppendVarint(
        Zigzag(static_cast<int64_t>(static_cast<uint64_t>(t) - static_cast<uint64_t>(last_))),
        out_);
    last_ = t;
  }
  void Varint(uint64_t v) { AppendVarint(v, out_); }
  void Fixed64(uint64_t v) {  // little-endian
    char b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
    out_.append(b, 8);
  }

 private:
  std::string& out_;
  int64_t last_ = 0;
};

// Reads what TimeWriter wrote; each read is nullopt past the end or on a malformed
// varint (more than 10 bytes), and the reader then stays failed.
class TimeReader {
 public:
  explicit TimeReader(std::string_view in) : in_(in) {}
  bool done() const { return pos_ == in_.size(); }
  std::optional<int64_t> Time() {
    std::optional<uint64_t> d = Varint();
    if (!d) return std::nullopt;
    last_ =
        static_cast<int64_t>(static_cast<uint64_t>(last_) + static_cast<uint64_t>(Unzigzag(*d)));
    return last_;
  }
  std::optional<uint64_t> Varint() { return ReadVarint(in_, pos_); }  // failed: done() stays false
  std::optional<uint64_t> Fixed64() {
    if (pos_ > in_.size() || in_.size() - pos_ < 8) {
      pos_ = in_.size() + 1;
      return std::nullopt;
    }
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<uint8_t>(in_[pos_ + i])} << (8 * i);
    pos_ += 8;
    return v;
  }

 private:
  std::string_view in_;
  size_t pos_ = 0;
  int64_t last_ = 0;
};

}  // namespace juncture::runtime::snapshot
