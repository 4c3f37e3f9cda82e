// Pieces of the second form (juncture/runtime/pieces.h): the codec, and the fold
// against a model of what applying operands one after another means.
#include "juncture/runtime/pieces.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace juncture::runtime::pieces {
namespace {

// A piece as the model sees it: a core and, per stream, its entries.
struct Entry {
  int64_t time = 0;
  std::string payload;  // 8 bytes (kSeen), empty (kTimes), a record's bytes (kRecords)
  bool operator==(const Entry&) const = default;
};
using StreamKey = std::pair<StreamKind, std::string>;
struct Stream {
  uint64_t keep = 0;
  std::vector<Entry> entries;
};
struct Model {
  std::string core;
  std::map<StreamKey, Stream> streams;  // (kind, name) order, as written
};

std::string Encode(const Model& m) {
  std::string out;
  PieceWriter w(out, m.core, m.streams.size());
  StreamEntries entries;
  for (const auto& [key, s] : m.streams) {
    entries.Clear();
    for (const Entry& e : s.entries) {
      switch (key.first) {
        case StreamKind::kSeen: entries.Seen(e.time, StreamReader::Hash(e.payload)); break;
        case StreamKind::kTimes: entries.Time(e.time); break;
        case StreamKind::kRecords: entries.Record(e.time, e.payload); break;
      }
    }
    w.Stream(key.first, key.second, s.keep, entries);
  }
  return out;
}

// Reads a piece back into the model; fails the test if it cannot.
Model Decode(std::string_view bytes) {
  Model m;
  PieceView view;
  EXPECT_TRUE(Parse(bytes, view));
  m.core = std::string(view.core);
  for (const StreamView& s : view.streams) {
    Stream& out = m.streams[{s.kind, std::string(s.name)}];
    out.keep = s.keep;
    StreamReader r(s);
    int64_t time;
    std::string_view payload;
    while (r.Next(time, payload)) out.entries.push_back({time, std::string(payload)});
    EXPECT_FALSE(r.failed());
    EXPECT_EQ(out.entries.size(), s.count);
    if (!out.entries.empty()) {
      EXPECT_EQ(out.entries.back().time, s.last_time);
    }
  }
  return m;
}

// What applying `op` to the stored value `v` gives (the header's rule).
Model Apply(const Model& v, const Model& op) {
  Model out;
  out.core = op.core;
  for (const auto& [key, s] : op.streams) {
    Stream& r = out.streams[key];
    auto below = v.streams.find(key);
    if (below != v.streams.end()) {
      const std::vector<Entry>& e = below->second.entries;
      const size_t keep = std::min<uint64_t>(s.keep, e.size());
      r.entries.assign(e.end() - static_cast<std::ptrdiff_t>(keep), e.end());
    }
    r.entries.insert(r.entries.end(), s.entries.begin(), s.entries.end());
  }
  return out;
}

class Generator {
 public:
  explicit Generator(uint32_t seed) : rng_(seed) {}

  int Int(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }

  // The next entry's time: mostly later, sometimes earlier (negative differences),
  // sometimes at either end of int64 (differences that wrap). Added modulo 2^64.
  int64_t NextTime(int64_t t) {
    auto plus = [](int64_t a, int64_t b) {
      return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
    };
    switch (Int(0, 9)) {
      case 0: return plus(t, -Int(0, 5000));
      case 1: return std::numeric_limits<int64_t>::max() - Int(0, 3);
      case 2: return std::numeric_limits<int64_t>::min() + Int(0, 3);
      default: return plus(t, Int(0, 2'000'000));
    }
  }

  std::string Payload(StreamKind kind) {
    std::string p;
    const int n = kind == StreamKind::kSeen ? 8 : kind == StreamKind::kRecords ? Int(0, 12) : 0;
    for (int i = 0; i < n; ++i) p += static_cast<char>(Int(0, 255));
    return p;
  }

  // An operand over `v`: a new core; some of the streams kept, others dropped or
  // new; each keeping between none and more than it holds, then 0-5 new entries.
  Model Operand(const Model& v) {
    static const StreamKey kKeys[] = {{StreamKind::kSeen, ""},
                                      {StreamKind::kTimes, "a"},
                                      {StreamKind::kTimes, "page_view"},
                                      {StreamKind::kRecords, "a"},
                                      {StreamKind::kRecords, "purchase"}};
    Model op;
    op.core = "core" + std::to_string(Int(0, 1000));
    for (const StreamKey& key : kKeys) {
      if (Int(0, 4) == 0) continue;  // not named: dropped
      auto held = v.streams.find(key);
      const int size = held == v.streams.end() ? 0 : static_cast<int>(held->second.entries.size());
      Stream& s = op.streams[key];
      s.keep = static_cast<uint64_t>(Int(0, size + 2));
      int64_t t = held == v.streams.end() || held->second.entries.empty()
                      ? Int(-100, 100)
                      : held->second.entries.back().time;
      for (int n = Int(0, 5); n > 0; --n) {
        t = NextTime(t);
        s.entries.push_back({t, Payload(key.first)});
      }
    }
    return op;
  }

  // A stored value: an operand over nothing, with every keep 0.
  Model Value() {
    Model v = Operand(Model{});
    for (auto& [key, s] : v.streams) s.keep = 0;
    return v;
  }

 private:
  std::mt19937 rng_;
};

std::string FoldOf(const std::vector<std::string>& operands, bool bottom) {
  std::vector<std::string_view> views(operands.begin(), operands.end());
  std::string out;
  EXPECT_TRUE(Fold(views, bottom, out));
  return out;
}

TEST(Pieces, WrittenAndReadBack) {
  Model m;
  m.core = std::string("\xa1\x61x\x01", 4);
  m.streams[{StreamKind::kSeen, ""}].entries = {{5, "12345678"}, {3, "abcdefgh"}};
  m.streams[{StreamKind::kTimes, "a"}].entries = {
      {std::numeric_limits<int64_t>::min(), ""}, {std::numeric_limits<int64_t>::max(), ""}, {0, ""}};
  m.streams[{StreamKind::kTimes, "b"}].keep = 7;  // no entries: "keep 7"
  m.streams[{StreamKind::kRecords, "a"}].entries = {{10, ""}, {11, "record"}};
  const std::string bytes = Encode(m);
  ASSERT_TRUE(IsForm2(bytes));
  const Model back = Decode(bytes);
  EXPECT_EQ(back.core, m.core);
  ASSERT_EQ(back.streams.size(), m.streams.size());
  for (const auto& [key, s] : m.streams) {
    EXPECT_EQ(back.streams.at(key).keep, s.keep);
    EXPECT_EQ(back.streams.at(key).entries, s.entries);
  }
}

TEST(Pieces, TheFirstFormIsNotTheSecond) {
  EXPECT_FALSE(IsForm2(""));
  EXPECT_FALSE(IsForm2("\xa2\x67profile"));  // a CBOR map: a piece of the first form
  PieceView view;
  EXPECT_FALSE(Parse("\xa0", view));
}

TEST(Pieces, AnOperandKeepsTheLastEntriesAndAppends) {
  Model v;
  v.core = "old";
  v.streams[{StreamKind::kTimes, "a"}].entries = {{1, ""}, {2, ""}, {3, ""}, {4, ""}};
  v.streams[{StreamKind::kTimes, "gone"}].entries = {{1, ""}};
  Model op;
  op.core = "new";
  op.streams[{StreamKind::kTimes, "a"}] = {2, {{5, ""}, {6, ""}}};
  op.streams[{StreamKind::kSeen, ""}] = {3, {{9, "hashhash"}}};  // nothing to keep yet
  const Model folded = Decode(FoldOf({Encode(v), Encode(op)}, true));
  EXPECT_EQ(folded.core, "new");
  ASSERT_EQ(folded.streams.size(), 2u);
  EXPECT_EQ(folded.streams.at({StreamKind::kTimes, "a"}).entries,
            (std::vector<Entry>{{3, ""}, {4, ""}, {5, ""}, {6, ""}}));
  EXPECT_EQ(folded.streams.at({StreamKind::kSeen, ""}).entries,
            (std::vector<Entry>{{9, "hashhash"}}));
  for (const auto& [key, s] : folded.streams) EXPECT_EQ(s.keep, 0u) << "a stored value keeps nothing";
}

// Applying operands one after another, folding them all at once, and folding any
// run of them first (associativity) give the same bytes.
TEST(Pieces, FoldIsApplyingInOrderAndAssociative) {
  for (uint32_t seed = 1; seed <= 400; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Generator gen(seed);
    Model value = gen.Value();
    std::vector<std::string> all{Encode(value)};
    std::vector<std::string> operands;
    for (int n = gen.Int(1, 8); n > 0; --n) {
      Model op = gen.Operand(value);
      value = Apply(value, op);
      operands.push_back(Encode(op));
      all.push_back(operands.back());
    }
    const std::string expected = Encode(value);
    ASSERT_EQ(FoldOf(all, true), expected);

    // A run of operands folded without what lies below, then the rest.
    const size_t from = 1 + static_cast<size_t>(gen.Int(0, static_cast<int>(operands.size()) - 1));
    const size_t to = from + static_cast<size_t>(gen.Int(0, static_cast<int>(all.size() - from) - 1));
    std::vector<std::string> run(all.begin() + from, all.begin() + to + 1);
    std::vector<std::string> grouped(all.begin(), all.begin() + from);
    grouped.push_back(FoldOf(run, false));
    grouped.insert(grouped.end(), all.begin() + to + 1, all.end());
    ASSERT_EQ(FoldOf(grouped, true), expected) << "operands " << from << ".." << to << " folded first";

    // Every operand folded pairwise, left to right, without a bottom.
    std::string left = operands.front();
    for (size_t k = 1; k < operands.size(); ++k) left = FoldOf({left, operands[k]}, false);
    ASSERT_EQ(FoldOf({all.front(), left}, true), expected);
  }
}

// Operands that reach the store's merge with nothing below them (the stored value
// was never written, or was dropped) apply to an empty value.
TEST(Pieces, OperandsOverNothingKeepNothing) {
  for (uint32_t seed = 1; seed <= 100; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Generator gen(seed);
    Model value;
    std::vector<std::string> operands;
    for (int n = gen.Int(1, 5); n > 0; --n) {
      Model op = gen.Operand(gen.Value());  // keeps counted against something else
      value = Apply(value, op);
      operands.push_back(Encode(op));
    }
    ASSERT_EQ(FoldOf(operands, true), Encode(value));
  }
}

// Truncated or altered pieces are refused or folded, never read out of bounds (a
// build with -DJUNCTURE_SANITIZE=ON checks that).
TEST(Pieces, MalformedBytesAreRefusedNotRead) {
  Generator gen(7);
  Model v = gen.Value();
  v.streams[{StreamKind::kRecords, "r"}].entries = {{1, "abc"}, {2, "defg"}};
  v.streams[{StreamKind::kSeen, ""}].entries = {{1, "12345678"}, {2, "abcdefgh"}};
  const std::string good = Encode(v);
  std::string out;
  for (size_t n = 0; n < good.size(); ++n) {
    const std::string cut = good.substr(0, n);
    std::string_view views[] = {cut};
    EXPECT_FALSE(Fold(views, true, out)) << "cut at " << n;
  }
  std::mt19937 rng(11);
  for (int k = 0; k < 3000; ++k) {
    std::string bad = good;
    for (int flips = 1 + static_cast<int>(rng() % 3); flips > 0; --flips) {
      bad[rng() % bad.size()] = static_cast<char>(rng());
    }
    std::string_view views[] = {bad, good, bad};
    (void)Fold(views, true, out);
    PieceView view;
    if (Parse(bad, view)) {
      for (const StreamView& s : view.streams) {
        StreamReader r(s);
        int64_t time;
        std::string_view payload;
        while (r.Next(time, payload)) {
        }
      }
    }
  }
  // A count larger than the entries could hold is refused before anything is read.
  std::string huge;
  PieceWriter w(huge, "c", 1);
  w.Stream(StreamKind::kTimes, "a", 0, uint64_t{1} << 60, 0, std::string_view("\x02", 1));
  PieceView view;
  EXPECT_FALSE(Parse(huge, view));
  // Streams out of order, or named twice, are refused.
  std::string twice;
  PieceWriter t(twice, "c", 2);
  StreamEntries none;
  t.Stream(StreamKind::kTimes, "a", 0, none);
  t.Stream(StreamKind::kTimes, "a", 0, none);
  EXPECT_FALSE(Parse(twice, view));
  EXPECT_FALSE(Fold(std::span<const std::string_view>(), true, out));
}

}  // namespace
}  // namespace juncture::runtime::pieces
