// A CBOR writer (RFC 8949) for the engine's state pieces: definite lengths, shortest
// heads, doubles as 64-bit floats; appends to a string without building a document
// first (the state is written on every commit, so its encoding is on the hot path).
// Private to runtime/exec/.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace juncture::runtime::snapshot {

class CborWriter {
 public:
  explicit CborWriter(std::string& out) : out_(out) {}

  void Map(uint64_t entries) { Head(5, entries); }
  void Array(uint64_t items) { Head(4, items); }
  void Text(std::string_view s) {
    Head(3, s.size());
    out_.append(s.data(), s.size());
  }
  void Bytes(std::string_view s) {
    Head(2, s.size());
    out_.append(s.data(), s.size());
  }
  void Uint(uint64_t v) { Head(0, v); }
  void Int(int64_t v) {
    if (v >= 0) {
      Head(0, static_cast<uint64_t>(v));
    } else {
      Head(1, static_cast<uint64_t>(-(v + 1)));  // -1 - n, without overflow at INT64_MIN
    }
  }
  void Bool(bool b) { out_ += static_cast<char>(b ? 0xf5 : 0xf4); }
  void Null() { out_ += static_cast<char>(0xf6); }
  void Double(double d) {
    uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    char head[9];
    head[0] = static_cast<char>(0xfb);
    for (int i = 0; i < 8; ++i) head[1 + i] = static_cast<char>((bits >> (8 * (7 - i))) & 0xff);
    out_.append(head, sizeof head);
  }
  // A key and a text value, the commonest entry.
  void Entry(std::string_view key, std::string_view text) {
    Text(key);
    Text(text);
  }

 private:
  void Head(uint8_t major, uint64_t n) {
    const auto m = static_cast<uint8_t>(major << 5);
    if (n < 24) {
      out_ += static_cast<char>(m | n);
      return;
    }
    int bytes = n <= 0xff ? 1 : n <= 0xffff ? 2 : n <= 0xffffffff ? 4 : 8;
    uint8_t info = bytes == 1 ? 24 : bytes == 2 ? 25 : bytes == 4 ? 26 : 27;
    // Built here and appended once: a string's push_back is a call per byte.
    char head[9];
    head[0] = static_cast<char>(m | info);
    for (int i = 0; i < bytes; ++i) head[1 + i] = static_cast<char>((n >> (8 * (bytes - 1 - i))) & 0xff);
    out_.append(head, static_cast<size_t>(bytes) + 1);
  }
  std::string& out_;
};

}  // namespace juncture::runtime::snapshot
