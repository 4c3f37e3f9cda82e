// A customer's piece in its second form: the parts that grow with the customer's
// traffic kept apart from the rest, so that writing a change to a customer costs
// what changed, not its whole history again.
//
// Two parts of a customer grow with every message: the messages taken within the
// deduplication window and, per event type, the times its windows count. Both only
// gain entries at the back and lose them at the front. A piece of form 2 holds the
// rest of the customer (the "core", a CBOR map bounded by the program) and those
// parts as "streams". The same layout is a stored value and a change to one (an
// "operand"): the change says, per stream, "keep the last `keep` entries you hold,
// then append these", and replaces the core.
//
//   piece   = 0x01 · varint core_size · core · varint n · stream{n}
//   stream  = kind (1 byte) · varint name_size · name · varint keep · varint count
//             · zigzag varint last_time · varint entries_size · entry{count}
//   entry   = zigzag varint Δtime · payload
//
// Varints are LEB128; zigzag maps small negative numbers to small ones. Δtime is the
// entry's time minus the previous entry's in the stream (the first entry's from 0),
// modulo 2^64; last_time is the last entry's time (0 without entries). The payload
// depends on the kind: 8 bytes, little-endian, for kSeen (a message id's hash);
// nothing for kTimes; a varint size and that many bytes for kRecords. A stored value
// has every `keep` 0. Streams are written in (kind, name) order. A piece of the first
// form is a CBOR map, which never starts with 0x01.
//
// Applying an operand to a value: the operand's core replaces the value's; each
// stream the operand names becomes the value's last `keep` entries of that stream
// (all of them if it holds fewer) followed by the operand's; a stream of the value
// that the operand does not name goes. This is associative, so operands can be
// folded into one before the value they apply to is known (Fold), which is what a
// key-value store's merge operator needs.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace juncture::runtime::pieces {

inline constexpr char kForm2 = 0x01;

enum class StreamKind : uint8_t { kSeen = 1, kTimes = 2, kRecords = 3 };

// True if `piece` is of the second form (it may still be malformed).
inline bool IsForm2(std::string_view piece) { return !piece.empty() && piece[0] == kForm2; }

// The entries of one stream, built one after another (reusable: Clear keeps the
// capacity).
class StreamEntries {
 public:
  void Clear();
  void Seen(int64_t time_us, uint64_t id_hash);          // kSeen
  void Time(int64_t time_us);                            // kTimes
  void Record(int64_t time_us, std::string_view bytes);  // kRecords

  uint64_t count() const { return count_; }
  int64_t last_time() const { return last_time_; }
  std::string_view bytes() const { return bytes_; }

 private:
  void Delta(int64_t time_us);
  std::string bytes_;
  uint64_t count_ = 0;
  int64_t last_time_ = 0;
};

// Writes a piece: the core, then exactly `streams` streams in (kind, name) order.
class PieceWriter {
 public:
  // Clears `out` and writes the core into it.
  PieceWriter(std::string& out, std::string_view core, size_t streams);
  void Stream(StreamKind kind, std::string_view name, uint64_t keep, const StreamEntries& entries);
  // The same from a stream's fields (entries already encoded).
  void Stream(StreamKind kind, std::string_view name, uint64_t keep, uint64_t count,
              int64_t last_time, std::string_view entries);

 private:
  std::string& out_;
};

// A piece read in place (views into its bytes).
struct StreamView {
  StreamKind kind = StreamKind::kTimes;
  std::string_view name;
  uint64_t keep = 0;
  uint64_t count = 0;
  int64_t last_time = 0;
  std::string_view entries;  // count entries
};
struct PieceView {
  std::string_view core;
  std::vector<StreamView> streams;
};

// Reads a piece's layout; false if it is not a well-formed piece of form 2. The
// entries are not read (StreamReader reads them).
bool Parse(std::string_view piece, PieceView& out) noexcept;

// Reads a stream's entries in order.
class StreamReader {
 public:
  explicit StreamReader(const StreamView& stream) : kind_(stream.kind), in_(stream.entries) {}
  // The next entry: false at the end or on malformed bytes (failed() tells which).
  // `payload`: the hash's 8 bytes (kSeen), empty (kTimes), the record's bytes
  // (kRecords).
  bool Next(int64_t& time_us, std::string_view& payload) noexcept;
  bool failed() const { return failed_; }
  // The hash of a kSeen payload.
  static uint64_t Hash(std::string_view payload);

 private:
  StreamKind kind_;
  std::string_view in_;
  size_t pos_ = 0;
  int64_t last_ = 0;
  bool failed_ = false;
};

// Folds `operands`, oldest first, into one piece in `out`: the operand whose effect
// is that of applying them in order. With `bottom`, nothing lies below the first
// one (it is a stored value, or there is none), and the result is a stored value
// (every keep 0). False, with `out` unspecified, if any operand is malformed.
// Costs the bytes of the entries dropped and appended; kept entries are copied.
bool Fold(std::span<const std::string_view> operands, bool bottom, std::string& out) noexcept;

}  // namespace juncture::runtime::pieces
