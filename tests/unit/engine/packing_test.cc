// Customers packed in memory (EngineLimits::max_unpacked_customers): an engine that
// packs idle customers decides exactly as one that keeps them all unpacked, and its
// snapshots are the same bytes; PackedCustomers keeps what it is given.
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "engine_test_util.h"
#include "exec/packed_customers.h"
#include "juncture/compiler/backend.h"
#include "state_streams.h"

namespace juncture::enginetest {
namespace {

runtime::CompiledProgram Compile(const std::string& source) {
  auto c = compiler::CompileSources({{"t.jny", source}}, compiler::CompileOptions{});
  EXPECT_TRUE(c->ok()) << c->FormatDiagnostics(compiler::DiagnosticFormat::kText);
  if (!c->ok()) return {};
  return *compiler::MakeInterpretedProgram(*c);
}

runtime::EngineLimits Unpacked(uint64_t n) {
  runtime::EngineLimits limits;
  limits.max_unpacked_customers = n;
  return limits;
}

// Many customers (the state streams have four): the stream's customer names are
// spread over `spread` customers each.
std::vector<Input> ManyCustomers(uint32_t seed, int count, bool serve, int spread,
                                 int64_t& end_us) {
  std::vector<Input> inputs = RandomStream(seed, count, serve, end_us);
  std::mt19937 rng(seed * 7 + 1);
  for (Input& in : inputs) {
    for (const char* name : {"\"ana\"", "\"ben\"", "\"cy\"", "\"dee\""}) {
      size_t at = in.json.find(name);
      if (at == std::string::npos) continue;
      const std::string who = std::string(name).substr(0, std::string(name).size() - 1) +
                              std::to_string(rng() % spread) + "\"";
      in.json.replace(at, std::string(name).size(), who);
    }
  }
  return inputs;
}

TEST(Packing, AnEngineThatPacksDecidesAndSnapshotsAsOneThatDoesNot) {
  runtime::CompiledProgram program = Compile(Program());
  ASSERT_TRUE(program.spec);
  for (uint32_t seed : {1u, 2u, 3u, 4u, 5u, 6u}) {
    const bool serve = seed % 2 == 0;
    int64_t end_us = 0;
    std::vector<Input> inputs = ManyCustomers(seed, 1500, serve, 40, end_us);
    runtime::Engine all(program, Unpacked(0));
    runtime::Engine one(program, Unpacked(1));
    runtime::Engine some(program, Unpacked(12));
    Collector a, b, c;
    for (size_t k = 0; k < inputs.size(); ++k) {
      Feed(all, inputs[k], a);
      Feed(one, inputs[k], b);
      Feed(some, inputs[k], c);
      if (k % 100 == 99) {
        const std::string expected = all.SaveSnapshot();
        ASSERT_EQ(one.SaveSnapshot(), expected) << "seed " << seed << ", after " << k + 1;
        ASSERT_EQ(some.SaveSnapshot(), expected) << "seed " << seed << ", after " << k + 1;
      }
    }
    all.AdvanceTo(end_us, a);
    one.AdvanceTo(end_us, b);
    some.AdvanceTo(end_us, c);
    ASSERT_EQ(Lines(b, 0, 0), Lines(a, 0, 0)) << "seed " << seed;
    ASSERT_EQ(Lines(c, 0, 0), Lines(a, 0, 0)) << "seed " << seed;
    ASSERT_EQ(one.SaveSnapshot(), all.SaveSnapshot()) << "seed " << seed;
    EXPECT_GT(a.decisions.size(), 500u);
    // Packing happened, both ways, and the counts hold.
    EXPECT_EQ(all.packed().customers, 0u);
    EXPECT_GT(one.packed().unpacks, 100u);
    EXPECT_GT(some.packed().unpacks, 10u);
    EXPECT_EQ(one.customers(), all.customers());
    EXPECT_EQ(one.pending_timers(), all.pending_timers());
    // At most 16 are packed per call: the excess a timer run left goes over the next
    // calls, down to the limit.
    for (int i = 0; i < 100 && one.packed().customers + 1 < one.customers(); ++i) {
      one.AdvanceTo(end_us, b);
    }
    EXPECT_EQ(one.packed().customers, all.customers() - 1);
  }
}

TEST(Packing, APackedCustomersTimersAndWaitsAreCountedAsUnpacked) {
  runtime::CompiledProgram program = Compile(Program());
  ASSERT_TRUE(program.spec);
  int64_t end_us = 0;
  std::vector<Input> inputs = ManyCustomers(11, 400, false, 20, end_us);
  runtime::Engine all(program, Unpacked(0));
  runtime::Engine one(program, Unpacked(1));
  Collector a, b;
  for (const Input& in : inputs) {
    Feed(all, in, a);
    Feed(one, in, b);
  }
  ASSERT_GT(one.packed().customers, 10u);
  size_t waiting = 0;
  for (int i = 0; i < 20; ++i) {
    for (const char* name : {"ana", "ben", "cy", "dee"}) {
      const std::string id = name + std::to_string(i);
      EXPECT_EQ(one.timers_of(id), all.timers_of(id)) << id;
      waiting += all.timers_of(id);
    }
  }
  EXPECT_GT(waiting, 0u);
  const auto summary = [](const runtime::Engine& e) {
    std::vector<std::string> out;
    for (const auto& g : e.PendingSummary()) {
      out.push_back(g.journey + " " + g.step + " " + g.what + " " + std::to_string(g.count));
    }
    return out;
  };
  EXPECT_EQ(summary(one), summary(all));
}

// Timers of instances that ended while their customer was unpacked are stale: a
// packed customer's block lists its live timers, so that compaction drops the same
// stale timers with or without packing (past its slack of 1,024), and the pending
// summary does not count them.
TEST(Packing, StaleTimersOfPackedCustomersAreToldApartWithoutUnpacking) {
  const std::string source = std::string(kBase) + R"(
channel webhook { consent true }
journey j {
  on cart
  reenter always
  exit on purchase
  wait 10d
  send webhook "w"
}
)";
  runtime::CompiledProgram program = Compile(source);
  runtime::Engine all(program, Unpacked(0));
  runtime::Engine one(program, Unpacked(1));
  Collector a, b;
  int64_t t = At(0);
  for (int i = 0; i < 3000; ++i) {
    const std::string who = "c" + std::to_string(i);
    for (const std::string& json :
         {TrackJson(who, "cart", t += kMs, "{\"value\":5}", "k" + std::to_string(i)),
          TrackJson(who, "purchase", t += kMs, "{\"amount\":1,\"order_id\":\"o\"}",
                    "p" + std::to_string(i))}) {
      all.Process(json, a);
      one.Process(json, b);
    }
  }
  EXPECT_GT(one.packed().customers, 2900u);
  EXPECT_GT(all.stats().compacted_timers, 1000u);
  EXPECT_EQ(one.stats().compacted_timers, all.stats().compacted_timers);
  EXPECT_EQ(one.pending_timers(), all.pending_timers());
  EXPECT_TRUE(one.PendingSummary().empty());
  EXPECT_EQ(one.SaveSnapshot(), all.SaveSnapshot());
  EXPECT_EQ(Lines(b, 0, 0), Lines(a, 0, 0));
}

// A reload re-lays every customer, the packed ones too: the instances of a journey
// that is gone end with their decisions, in customer order, as without packing.
TEST(Packing, AReloadCarriesPackedCustomersAsUnpackedOnes) {
  const std::string source = Program();
  const size_t from = source.find("journey rescue {");
  const size_t to = source.find("journey welcome {");
  ASSERT_NE(from, std::string::npos);
  ASSERT_NE(to, std::string::npos);
  const std::string edited = source.substr(0, from) + source.substr(to);
  int64_t end_us = 0;
  std::vector<Input> inputs = ManyCustomers(21, 600, true, 30, end_us);
  runtime::Engine all(Compile(source), Unpacked(0));
  runtime::Engine one(Compile(source), Unpacked(1));
  Collector a, b;
  for (size_t k = 0; k < inputs.size(); ++k) {
    Feed(all, inputs[k], a);
    Feed(one, inputs[k], b);
    if (k == 300) {
      ASSERT_GT(one.packed().customers, 5u);
      ASSERT_OK(all.Reload(Compile(edited), a));
      ASSERT_OK(one.Reload(Compile(edited), b));
      EXPECT_EQ(one.packed().customers, 0u);  // a journey is gone: all were carried
    }
  }
  all.AdvanceTo(end_us, a);
  one.AdvanceTo(end_us, b);
  size_t ended = 0;
  for (const auto& d : a.decisions) ended += d.step == "reload";
  EXPECT_GT(ended, 0u);
  ASSERT_EQ(Lines(b, 0, 0), Lines(a, 0, 0));
  ASSERT_EQ(one.SaveSnapshot(), all.SaveSnapshot());
}

// A reload that ends no instance leaves packed customers packed: they are read under
// the new program when next needed, by the same rule a reload carries the others by
// (here through a second reload too, with records re-laid out).
TEST(Packing, AReloadThatEndsNoInstanceLeavesPackedCustomersPacked) {
  const std::string source = Program();
  const std::string more = source + R"(
journey extra {
  on app_open
  reenter always
  send webhook "extra" { tier: profile.tier }
}
)";
  std::string relaid = more + R"(
journey extra2 {
  on purchase
  reenter always
  send webhook "extra2" { nick: profile.nickname, ref: event.order_id }
}
)";
  relaid.replace(relaid.find("divisor: int = 0"), 16, "divisor: int = 0\n  nickname: string = \"n\"");
  relaid.replace(relaid.find("score: float?"), 13, "ref: string?  score: float?");
  int64_t end_us = 0;
  std::vector<Input> inputs = ManyCustomers(41, 900, true, 30, end_us);
  runtime::Engine all(Compile(source), Unpacked(0));
  runtime::Engine one(Compile(source), Unpacked(1));
  runtime::Engine some(Compile(source), Unpacked(8));
  Collector a, b, c;
  for (size_t k = 0; k < inputs.size(); ++k) {
    Feed(all, inputs[k], a);
    Feed(one, inputs[k], b);
    Feed(some, inputs[k], c);
    if (k == 300 || k == 600) {
      const std::string& next = k == 300 ? more : relaid;
      const size_t packed = one.packed().customers;
      ASSERT_GT(packed, 5u);
      ASSERT_OK(all.Reload(Compile(next), a));
      ASSERT_OK(one.Reload(Compile(next), b));
      ASSERT_OK(some.Reload(Compile(next), c));
      // The first reload leaves them all packed; the second carries those still packed
      // under the first program, and leaves the others.
      if (k == 300) {
        EXPECT_EQ(one.packed().customers, packed);
      } else {
        EXPECT_GT(one.packed().customers, 5u);
        EXPECT_LT(one.packed().customers, packed);
      }
      ASSERT_EQ(one.SaveSnapshot(), all.SaveSnapshot()) << "after " << k;
      ASSERT_EQ(some.SaveSnapshot(), all.SaveSnapshot()) << "after " << k;
    }
  }
  all.AdvanceTo(end_us, a);
  one.AdvanceTo(end_us, b);
  some.AdvanceTo(end_us, c);
  size_t extra = 0;
  for (const auto& d : a.decisions) extra += d.journey == "extra2" && d.step == "s1";
  EXPECT_GT(extra, 5u);
  ASSERT_EQ(Lines(b, 0, 0), Lines(a, 0, 0));
  ASSERT_EQ(Lines(c, 0, 0), Lines(a, 0, 0));
  ASSERT_EQ(one.SaveSnapshot(), all.SaveSnapshot());
}

// A snapshot of an engine with packed customers loads into one that packs nothing,
// and the two go on deciding the same.
TEST(Packing, ASnapshotWithPackedCustomersLoadsAnywhere) {
  runtime::CompiledProgram program = Compile(Program());
  int64_t end_us = 0;
  std::vector<Input> inputs = ManyCustomers(31, 800, false, 25, end_us);
  runtime::Engine packing(program, Unpacked(2));
  Collector a;
  for (size_t k = 0; k < 400; ++k) Feed(packing, inputs[k], a);
  ASSERT_GT(packing.packed().customers, 10u);
  runtime::Engine loaded(program, Unpacked(0));
  ASSERT_TRUE(loaded.LoadSnapshot(packing.SaveSnapshot()).ok());
  runtime::Engine repacked(program, Unpacked(3));
  ASSERT_TRUE(repacked.LoadSnapshot(packing.SaveSnapshot()).ok());
  Collector b, c;
  const size_t decided = a.decisions.size();
  const size_t dead = a.dead_letters.size();
  for (size_t k = 400; k < inputs.size(); ++k) {
    Feed(packing, inputs[k], a);
    Feed(loaded, inputs[k], b);
    Feed(repacked, inputs[k], c);
  }
  EXPECT_GT(b.decisions.size(), 100u);
  EXPECT_EQ(Lines(b, 0, 0), Lines(a, decided, dead));
  EXPECT_EQ(Lines(c, 0, 0), Lines(a, decided, dead));
  EXPECT_EQ(loaded.SaveSnapshot(), packing.SaveSnapshot());
  EXPECT_EQ(repacked.SaveSnapshot(), packing.SaveSnapshot());
}

// ---- PackedCustomers ----------------------------------------------------------------

// Pieces that look alike (as a program's customers do), so that the dictionary is
// trained and used.
std::string PieceLike(std::mt19937& rng, int i) {
  std::string s = "{profile:[plan:" + std::string(i % 3 ? "gold" : "standard") +
                  ",zone:Europe/Berlin,ltv:" + std::to_string(rng() % 1000) +
                  "],instances:{rescue:{step:s3,kind:wait,cause:m-" + std::to_string(i) +
                  "}},history:{cart:[";
  for (uint32_t n = rng() % 12; n > 0; --n) s += std::to_string(rng()) + ",";
  s += "]}}";
  if (i % 97 == 0) s.append(5000, static_cast<char>('a' + i % 26));  // a large one
  return s;
}

TEST(PackedCustomers, KeepsWhatItIsGivenAndDropsWhatIsTaken) {
  runtime::PackedCustomers packed;
  std::map<std::string, std::string> model;
  std::mt19937 rng(7);
  for (int i = 0; i < 5000; ++i) {
    const std::string id = "customer-" + std::to_string(rng() % 3000);
    switch (rng() % 4) {
      case 0: {
        std::string piece;
        const bool had = packed.Take(id, &piece);
        ASSERT_EQ(had, model.count(id) == 1) << id;
        if (had) {
          ASSERT_EQ(piece, model[id]) << id;
          model.erase(id);
        }
        break;
      }
      default: {
        const std::string piece = PieceLike(rng, i);
        packed.Put(id, piece);
        model[id] = piece;
      }
    }
    ASSERT_EQ(packed.size(), model.size());
  }
  EXPECT_TRUE(packed.compressing());
  size_t raw = 0;
  for (const auto& [id, piece] : model) {
    std::string got;
    ASSERT_TRUE(packed.Contains(id));
    ASSERT_TRUE(packed.Get(id, &got)) << id;
    ASSERT_EQ(got, piece) << id;
    raw += id.size() + piece.size();
  }
  std::vector<std::string> ids = packed.Ids();
  std::sort(ids.begin(), ids.end());
  std::vector<std::string> expected;
  for (const auto& [id, piece] : model) expected.push_back(id);
  EXPECT_EQ(ids, expected);
  EXPECT_FALSE(packed.Contains("nobody"));
  EXPECT_FALSE(packed.Take("nobody", nullptr));
  // Compressed against the dictionary: well under the raw bytes.
  EXPECT_LT(packed.bytes(), raw / 2) << "raw " << raw;
  for (const auto& [id, piece] : model) ASSERT_TRUE(packed.Take(id, nullptr));
  EXPECT_EQ(packed.size(), 0u);
  EXPECT_EQ(packed.bytes(), 0u);
}

}  // namespace
}  // namespace juncture::enginetest
