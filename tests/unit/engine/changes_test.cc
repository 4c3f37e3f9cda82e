// Changes in the second form (PieceForm::kDelta, juncture/runtime/pieces.h): a store
// that applies each change to what it holds (pieces::Fold) holds, after every take,
// exactly the engine's state; a change carries what entered the customer's streams,
// not its whole history.
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "engine_test_util.h"
#include "juncture/compiler/backend.h"
#include "juncture/runtime/pieces.h"
#include "juncture/runtime/state_changes.h"
#include "state_streams.h"

namespace juncture::enginetest {
namespace {

using runtime::PieceForm;
using runtime::StateChanges;

runtime::CompiledProgram Compile(const std::string& source) {
  auto c = compiler::CompileSources({{"t.jny", source}}, compiler::CompileOptions{});
  EXPECT_TRUE(c->ok()) << c->FormatDiagnostics(compiler::DiagnosticFormat::kText);
  if (!c->ok()) return {};
  return *compiler::MakeInterpretedProgram(*c);
}

// The state store's rules in memory: a whole piece replaces, a change is folded into
// what is stored; a rewrite drops everything first.
class MemoryStore {
 public:
  void Write(const StateChanges& c) {
    if (c.rewrite) {
      customers_.clear();
      timers_.clear();
      cancelled_.clear();
    }
    if (!c.layouts.empty()) layouts_ = c.layouts;
    globals_ = c.globals;
    for (const StateChanges::Customer& p : c.customers) {
      std::string& stored = customers_[p.id];
      if (!p.delta) {
        stored = p.value;
        continue;
      }
      std::vector<std::string_view> operands;
      if (!stored.empty()) operands.push_back(stored);
      operands.push_back(p.value);
      std::string folded;
      ASSERT_TRUE(runtime::pieces::Fold(operands, /*bottom=*/true, folded)) << "customer " << p.id;
      stored = std::move(folded);
    }
    for (const StateChanges::TimerOp& t : c.timers) {
      switch (t.kind) {
        case StateChanges::TimerOp::kPut: timers_[{t.due_us, t.seq}] = t.value; break;
        case StateChanges::TimerOp::kCancel: cancelled_.insert(t.seq); break;
        case StateChanges::TimerOp::kErase:
          timers_.erase({t.due_us, t.seq});
          cancelled_.erase(t.seq);
          break;
      }
    }
  }

  void Restore(runtime::Engine& e) const {
    runtime::StateRestorer r(e);
    ASSERT_OK(r.Layouts(layouts_));
    ASSERT_OK(r.Globals(globals_));
    for (const auto& [id, piece] : customers_) {
      ASSERT_TRUE(runtime::pieces::IsForm2(piece)) << id;
      ASSERT_OK(r.Customer(id, piece));
    }
    for (const auto& [key, piece] : timers_) ASSERT_OK(r.Timer(piece));
    for (uint64_t seq : cancelled_) r.Cancelled(seq);
    r.Finish();
  }

  const std::map<std::string, std::string>& customers() const { return customers_; }

 private:
  std::string layouts_, globals_;
  std::map<std::string, std::string> customers_;
  std::map<std::pair<int64_t, uint64_t>, std::string> timers_;
  std::set<uint64_t> cancelled_;
};

// Feeds `inputs` (some messages twice, as an at-least-once pipeline would) and takes
// the changes after every few; some takes are held back and written later together
// (a store that failed: StateChanges::Append, then Compact). After every write, an
// engine restored from the store is in A's state.
void ExpectTheStoreFollows(runtime::Engine& a, const runtime::CompiledProgram& program,
                           const runtime::EngineLimits& limits, const std::vector<Input>& inputs,
                           MemoryStore& store, uint32_t seed) {
  std::mt19937 rng(seed);
  Collector sink;
  StateChanges backlog;
  bool held = false;
  size_t k = 0;
  while (k < inputs.size()) {
    for (size_t n = 1 + rng() % 3; n > 0 && k < inputs.size(); --n) {
      Feed(a, inputs[k], sink);
      if (k > 0 && rng() % 8 == 0) Feed(a, inputs[k - 1], sink);  // a duplicate
      ++k;
    }
    StateChanges taken;
    a.TakeChanges(taken, PieceForm::kDelta);
    backlog.Append(std::move(taken));
    held = true;
    if (rng() % 3 == 0 && k < inputs.size()) continue;  // written with the next
    backlog.Compact();
    store.Write(backlog);
    backlog.Clear();
    held = false;
    runtime::Engine b(program, limits);
    store.Restore(b);
    ASSERT_FALSE(::testing::Test::HasFatalFailure());
    ASSERT_EQ(b.SaveSnapshot(), a.SaveSnapshot()) << "after " << k << " inputs";
  }
  ASSERT_FALSE(held);
}

TEST(Changes, AStoreThatAppliesEachChangeHoldsTheEngineState) {
  runtime::CompiledProgram program = Compile(Program());
  ASSERT_TRUE(program.spec);
  runtime::EngineLimits tiny;  // ids and window events leave at the front often
  tiny.max_dedup_ids = 4;
  tiny.max_window_events = 5;
  for (const runtime::EngineLimits& limits : {tiny, runtime::EngineLimits{}}) {
    for (uint32_t seed : {3u, 4u, 5u}) {
      SCOPED_TRACE("seed " + std::to_string(seed) + ", max_dedup_ids " +
                   std::to_string(limits.max_dedup_ids));
      int64_t end_us = 0;
      std::vector<Input> in = RandomStream(seed, 160, /*serve=*/seed % 2 == 0, end_us);
      in.push_back(Input{Input::kAdvance, "", end_us});  // the timers that are left fire
      runtime::Engine a(Compile(Program()), limits);
      a.TrackChanges(true);
      MemoryStore store;
      ExpectTheStoreFollows(a, program, limits, in, store, seed);
      if (HasFailure()) return;
    }
  }
}

// Restored under lower limits, an engine hides what it holds beyond them at its next
// event, all at once: its changes still follow.
TEST(Changes, LimitsLoweredBetweenTwoRunsStillFollow) {
  runtime::CompiledProgram program = Compile(Program());
  ASSERT_TRUE(program.spec);
  int64_t end_us = 0;
  std::vector<Input> in = RandomStream(9, 240, /*serve=*/false, end_us);
  const std::vector<Input> first(in.begin(), in.begin() + 120), second(in.begin() + 120, in.end());
  MemoryStore store;
  {
    runtime::Engine a(Compile(Program()));
    a.TrackChanges(true);
    ExpectTheStoreFollows(a, program, runtime::EngineLimits{}, first, store, 9);
  }
  runtime::EngineLimits lower;
  lower.max_dedup_ids = 2;
  lower.max_window_events = 2;
  runtime::Engine b(Compile(Program()), lower);
  store.Restore(b);
  b.TrackChanges(true);
  ExpectTheStoreFollows(b, program, lower, second, store, 10);
}

// One busy customer: after many messages, a change carries the one that entered, and
// keeps the rest of the ids and of the counted history where they are stored.
TEST(Changes, AChangeCarriesWhatEnteredNotTheHistory) {
  runtime::CompiledProgram program = Compile(Program());
  ASSERT_TRUE(program.spec);
  runtime::Engine a(Compile(Program()));
  a.TrackChanges(true);
  Collector sink;
  MemoryStore store;
  StateChanges taken;
  for (int i = 0; i < 200; ++i) {
    a.Process(TrackJson("ana", "cart", At(i * kSecond), R"({"value": 5.5, "items": 1})",
                        "c" + std::to_string(i)),
              sink);
    a.TakeChanges(taken, PieceForm::kDelta);
    store.Write(taken);
  }
  ASSERT_EQ(taken.customers.size(), 1u);
  ASSERT_TRUE(taken.customers[0].delta);
  const std::string& change = taken.customers[0].value;
  const std::string& stored = store.customers().at("ana");
  runtime::pieces::PieceView view;
  ASSERT_TRUE(runtime::pieces::Parse(change, view));
  ASSERT_EQ(view.streams.size(), 2u) << "the ids taken and the carts counted";
  EXPECT_EQ(view.streams[0].kind, runtime::pieces::StreamKind::kSeen);
  EXPECT_EQ(view.streams[0].keep, 199u);
  EXPECT_EQ(view.streams[0].count, 1u);
  EXPECT_EQ(view.streams[1].kind, runtime::pieces::StreamKind::kTimes);
  EXPECT_EQ(view.streams[1].name, "cart");
  EXPECT_EQ(view.streams[1].keep, 199u);
  EXPECT_EQ(view.streams[1].count, 1u);
  EXPECT_LT(change.size() * 4, stored.size()) << change.size() << " against " << stored.size();

  runtime::Engine b(Compile(Program()));
  store.Restore(b);
  EXPECT_EQ(b.SaveSnapshot(), a.SaveSnapshot());
}

// A history moves between the two kinds of stream when the program changes what its
// windows read: counted only (times), then summed (the events too), then counted
// only again. Restored from the store under each program, the engine holds what it
// holds when it loads the same state from a snapshot (the reload rule), and its
// changes still follow.
TEST(Changes, AHistoryMovesBetweenTimesAndEventsWithTheProgram) {
  const std::string counted = Program();
  const std::string summed =
      Program() + "journey carts { on app_open  reenter always  send webhook \"c\" { s: sum(cart.value within 1d) } }\n";
  int64_t end_us = 0;
  std::vector<Input> in = RandomStream(21, 180, /*serve=*/false, end_us);
  MemoryStore store;
  std::string snapshot;
  size_t from = 0;
  int stage = 0;
  for (const std::string& source : {counted, summed, counted}) {
    SCOPED_TRACE("stage " + std::to_string(stage++));
    runtime::CompiledProgram program = Compile(source);
    ASSERT_TRUE(program.spec);
    runtime::Engine a(Compile(source));
    if (!snapshot.empty()) {
      ASSERT_OK(a.LoadSnapshot(snapshot));  // the oracle: a snapshot read by the rule
      runtime::Engine b(Compile(source));
      store.Restore(b);
      ASSERT_FALSE(HasFatalFailure());
      ASSERT_EQ(b.SaveSnapshot(), a.SaveSnapshot()) << "restored from the store";
      // The store's pieces were written under the other program: written again whole.
      runtime::StateChanges whole;
      b.TrackChanges(true);
      b.TakeChanges(whole, PieceForm::kDelta);
      EXPECT_TRUE(whole.rewrite);
    }
    a.TrackChanges(true);
    const std::vector<Input> part(in.begin() + static_cast<std::ptrdiff_t>(from),
                                  in.begin() + static_cast<std::ptrdiff_t>(from + 60));
    ExpectTheStoreFollows(a, program, runtime::EngineLimits{}, part, store, 21 + stage);
    ASSERT_FALSE(HasFatalFailure());
    // The carts' stream is of the kind the program needs.
    const auto kind = source == summed ? runtime::pieces::StreamKind::kRecords
                                       : runtime::pieces::StreamKind::kTimes;
    size_t carts = 0;
    for (const auto& [id, piece] : store.customers()) {
      runtime::pieces::PieceView view;
      ASSERT_TRUE(runtime::pieces::Parse(piece, view));
      for (const auto& st : view.streams) {
        if (st.name != "cart") continue;
        EXPECT_EQ(st.kind, kind) << id;
        ++carts;
      }
    }
    EXPECT_GT(carts, 0u);
    from += 60;
    snapshot = a.SaveSnapshot();
  }
}

// A stored piece of the second form cut short or altered is refused with an error,
// or read into some customer; it never crashes the reader (nor reads out of bounds:
// a build with -DJUNCTURE_SANITIZE=ON checks that).
TEST(Changes, AlteredPiecesOfTheSecondFormAreRefusedNeverCrash) {
  runtime::CompiledProgram program = Compile(Program());
  ASSERT_TRUE(program.spec);
  int64_t end_us = 0;
  std::vector<Input> in = RandomStream(33, 80, /*serve=*/false, end_us);
  runtime::Engine a(Compile(Program()));
  a.TrackChanges(true);
  Collector sink;
  for (const Input& i : in) Feed(a, i, sink);
  StateChanges whole;
  a.TakeChanges(whole, PieceForm::kDelta);
  ASSERT_FALSE(whole.customers.empty());
  std::mt19937 rng(33);
  size_t refused = 0, read = 0;
  for (const StateChanges::Customer& c : whole.customers) {
    ASSERT_TRUE(runtime::pieces::IsForm2(c.value));
    std::vector<std::string> bad;
    for (size_t n = 1; n < c.value.size(); n += 1 + n / 16) bad.push_back(c.value.substr(0, n));
    for (int k = 0; k < 300; ++k) {
      std::string v = c.value;
      for (int flips = 1 + static_cast<int>(rng() % 3); flips > 0; --flips) {
        v[1 + rng() % (v.size() - 1)] = static_cast<char>(rng());
      }
      bad.push_back(std::move(v));
    }
    for (const std::string& v : bad) {
      runtime::Engine b(Compile(Program()));
      runtime::StateRestorer r(b);
      ASSERT_OK(r.Layouts(whole.layouts));
      Status s = r.Customer(c.id, v);
      if (s.ok()) {
        ++read;
      } else {
        ++refused;
        EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
      }
    }
  }
  EXPECT_GT(refused, 0u);
  std::cerr << refused << " refused, " << read << " read\n";
}

}  // namespace
}  // namespace juncture::enginetest
