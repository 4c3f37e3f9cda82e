// Pieces of the second form (juncture/runtime/pieces.h): writing, reading, folding.
#include "juncture/runtime/pieces.h"

#include <algorithm>
#include <limits>
#include <new>
#include <optional>

#include "exec/packed_times.h"

namespace juncture::runtime::pieces {

using snapshot::AppendVarint;
using snapshot::Unzigzag;
using snapshot::Zigzag;

namespace {

constexpr uint64_t kAll = std::numeric_limits<uint64_t>::max();

int64_t Add(int64_t a, int64_t b) {  // modulo 2^64, as the format's differences
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}
int64_t Sub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}

// The fewest bytes an entry of `kind` takes.
size_t MinEntrySize(StreamKind kind) { return kind == StreamKind::kSeen ? 9 : kind == StreamKind::kRecords ? 2 : 1; }

// Reads LEB128 varints and raw bytes from a view; any read past the end or of a
// varint longer than 10 bytes fails, and the cursor then stays failed.
class Cursor {
 public:
  explicit Cursor(std::string_view in, size_t pos = 0) : in_(in), pos_(pos) {}
  bool ok() const { return pos_ <= in_.size(); }
  bool done() const { return pos_ == in_.size(); }
  size_t pos() const { return pos_; }
  size_t left() const { return ok() ? in_.size() - pos_ : 0; }

  std::optional<uint64_t> Varint() { return snapshot::ReadVarint(in_, pos_); }
  std::optional<std::string_view> Bytes(uint64_t n) {
    if (n > left()) {
      pos_ = in_.size() + 1;
      return std::nullopt;
    }
    std::string_view b = in_.substr(pos_, n);
    pos_ += n;
    return b;
  }

 private:
  std::string_view in_;
  size_t pos_;
};

// Reads one entry's time difference and skips its payload; nullopt if malformed.
std::optional<int64_t> SkipEntry(StreamKind kind, Cursor& c) {
  std::optional<uint64_t> delta = c.Varint();
  if (!delta) return std::nullopt;
  switch (kind) {
    case StreamKind::kSeen:
      if (!c.Bytes(8)) return std::nullopt;
      break;
    case StreamKind::kTimes: break;
    case StreamKind::kRecords: {
      std::optional<uint64_t> size = c.Varint();
      if (!size || !c.Bytes(*size)) return std::nullopt;
      break;
    }
  }
  return Unzigzag(*delta);
}

// One stream while operands are folded: an operand of its own ("keep the last
// `keep` entries below, then append `entries`").
struct Acc {
  StreamKind kind = StreamKind::kTimes;
  std::string_view name;
  uint64_t keep = kAll;  // kAll: the identity, before any operand named the stream
  uint64_t count = 0;
  int64_t last_time = 0;
  std::string entries;  // the first entry's time from 0
};

// Drops the first `n` of a's entries (n < a.count), re-basing the first one kept.
bool DropFront(Acc& a, uint64_t n, std::string& scratch) {
  Cursor c(a.entries);
  int64_t time = 0;
  for (uint64_t k = 0; k < n; ++k) {
    std::optional<int64_t> delta = SkipEntry(a.kind, c);
    if (!delta) return false;
    time = Add(time, *delta);
  }
  std::optional<uint64_t> delta = c.Varint();
  if (!delta) return false;
  scratch.clear();
  AppendVarint(Zigzag(Add(time, Unzigzag(*delta))), scratch);
  scratch.append(a.entries, c.pos(), std::string::npos);
  a.entries.swap(scratch);
  a.count -= n;
  return true;
}

// Appends a stream's entries (the first from 0) after a's, re-basing the first.
bool AppendEntries(Acc& a, const StreamView& s) {
  if (s.count == 0) return true;
  if (a.count == 0) {
    a.entries.assign(s.entries);
  } else {
    Cursor c(s.entries);
    std::optional<uint64_t> first = c.Varint();
    if (!first) return false;
    AppendVarint(Zigzag(Sub(Unzigzag(*first), a.last_time)), a.entries);
    a.entries.append(s.entries.substr(c.pos()));
  }
  a.count += s.count;
  a.last_time = s.last_time;
  return true;
}

// Applies one operand's stream to the accumulated one.
bool Apply(Acc& a, const StreamView& s, std::string& scratch) {
  if (s.keep <= a.count) {
    if (s.keep == 0) {
      a.entries.clear();
      a.count = 0;
      a.last_time = 0;
    } else if (!DropFront(a, a.count - s.keep, scratch)) {
      return false;
    }
    a.keep = 0;  // nothing below survives
  } else {
    a.keep = std::min(a.keep, s.keep - a.count);
  }
  return AppendEntries(a, s);
}

}  // namespace

// ---- Writing -----------------------------------------------------------------------

void StreamEntries::Clear() {
  bytes_.clear();
  count_ = 0;
  last_time_ = 0;
}

void StreamEntries::Delta(int64_t time_us) {
  AppendVarint(Zigzag(Sub(time_us, last_time_)), bytes_);
  last_time_ = time_us;
  ++count_;
}

void StreamEntries::Seen(int64_t time_us, uint64_t id_hash) {
  Delta(time_us);
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>((id_hash >> (8 * i)) & 0xff);
  bytes_.append(b, 8);
}

void StreamEntries::Time(int64_t time_us) { Delta(time_us); }

void StreamEntries::Record(int64_t time_us, std::string_view bytes) {
  Delta(time_us);
  AppendVarint(bytes.size(), bytes_);
  bytes_.append(bytes);
}

PieceWriter::PieceWriter(std::string& out, std::string_view core, size_t streams) : out_(out) {
  out_.clear();
  out_ += kForm2;
  AppendVarint(core.size(), out_);
  out_.append(core);
  AppendVarint(streams, out_);
}

void PieceWriter::Stream(StreamKind kind, std::string_view name, uint64_t keep,
                         const StreamEntries& entries) {
  Stream(kind, name, keep, entries.count(), entries.last_time(), entries.bytes());
}

void PieceWriter::Stream(StreamKind kind, std::string_view name, uint64_t keep, uint64_t count,
                         int64_t last_time, std::string_view entries) {
  out_ += static_cast<char>(kind);
  AppendVarint(name.size(), out_);
  out_.append(name);
  AppendVarint(keep, out_);
  AppendVarint(count, out_);
  AppendVarint(Zigzag(last_time), out_);
  AppendVarint(entries.size(), out_);
  out_.append(entries);
}

// ---- Reading -----------------------------------------------------------------------

bool Parse(std::string_view piece, PieceView& out) noexcept {
  out.core = {};
  out.streams.clear();
  if (!IsForm2(piece)) return false;
  Cursor c(piece, 1);
  std::optional<uint64_t> core_size = c.Varint();
  if (!core_size) return false;
  std::optional<std::string_view> core = c.Bytes(*core_size);
  std::optional<uint64_t> n = c.Varint();
  if (!core || !n || *n > c.left() / 6) return false;  // a stream takes at least 6 bytes
  out.core = *core;
  try {
    out.streams.reserve(*n);
  } catch (const std::bad_alloc&) {
    return false;
  }
  for (uint64_t k = 0; k < *n; ++k) {
    std::optional<std::string_view> kind = c.Bytes(1);
    if (!kind || (*kind)[0] < 1 || (*kind)[0] > 3) return false;
    StreamView s;
    s.kind = static_cast<StreamKind>((*kind)[0]);
    std::optional<uint64_t> name_size = c.Varint();
    if (!name_size) return false;
    std::optional<std::string_view> name = c.Bytes(*name_size);
    std::optional<uint64_t> keep = c.Varint();
    std::optional<uint64_t> count = c.Varint();
    std::optional<uint64_t> last = c.Varint();
    std::optional<uint64_t> size = c.Varint();
    if (!name || !keep || !count || !last || !size) return false;
    std::optional<std::string_view> entries = c.Bytes(*size);
    if (!entries) return false;
    // Cheap checks here; the entries themselves are read where they are used.
    if (*count > entries->size() / MinEntrySize(s.kind)) return false;
    if ((*count == 0) != entries->empty()) return false;
    s.name = *name;
    s.keep = *keep;
    s.count = *count;
    s.last_time = Unzigzag(*last);
    s.entries = *entries;
    if (!out.streams.empty()) {
      const StreamView& prev = out.streams.back();
      if (std::pair(prev.kind, prev.name) >= std::pair(s.kind, s.name)) return false;  // order, no repeats
    }
    out.streams.push_back(s);
  }
  return c.done();
}

bool StreamReader::Next(int64_t& time_us, std::string_view& payload) noexcept {
  if (failed_ || pos_ == in_.size()) return false;
  Cursor c(in_, pos_);
  std::optional<uint64_t> delta = c.Varint();
  std::optional<std::string_view> bytes;
  if (delta) {
    switch (kind_) {
      case StreamKind::kSeen: bytes = c.Bytes(8); break;
      case StreamKind::kTimes: bytes = std::string_view(); break;
      case StreamKind::kRecords:
        if (std::optional<uint64_t> size = c.Varint()) bytes = c.Bytes(*size);
        break;
    }
  }
  if (!bytes) {
    failed_ = true;
    return false;
  }
  pos_ = c.pos();
  last_ = Add(last_, Unzigzag(*delta));
  time_us = last_;
  payload = *bytes;
  return true;
}

uint64_t StreamReader::Hash(std::string_view payload) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < payload.size(); ++i) {
    v |= uint64_t{static_cast<uint8_t>(payload[i])} << (8 * i);
  }
  return v;
}

// ---- Folding -----------------------------------------------------------------------

bool Fold(std::span<const std::string_view> operands, bool bottom, std::string& out) noexcept {
  try {
    std::vector<Acc> acc, next;
    std::string scratch;
    PieceView view;
    std::string_view core;
    bool first = true;
    for (std::string_view operand : operands) {
      if (!Parse(operand, view)) return false;
      core = view.core;
      next.clear();
      for (const StreamView& s : view.streams) {
        auto found = std::find_if(acc.begin(), acc.end(), [&](const Acc& a) {
          return a.kind == s.kind && a.name == s.name;
        });
        Acc a;
        if (found != acc.end()) {
          a = std::move(*found);
        } else {
          a.kind = s.kind;
          a.name = s.name;
          // Below the first operand lies what the fold is applied to, unless it is
          // the bottom; a later operand's new stream was dropped by the one before.
          a.keep = first && !bottom ? kAll : 0;
        }
        if (!Apply(a, s, scratch)) return false;
        next.push_back(std::move(a));
      }
      acc.swap(next);
      first = false;
    }
    if (first) return false;  // nothing to fold
    PieceWriter w(out, core, acc.size());
    for (const Acc& a : acc) w.Stream(a.kind, a.name, a.keep, a.count, a.last_time, a.entries);
    return true;
  } catch (const std::bad_alloc&) {
    return false;
  }
}

}  // namespace juncture::runtime::pieces
