// serve/changelog.h against a real nats-server: a partition's state restored as of its
// position, never as of a commit that was cut before its position was written; the
// version such a commit left behind does not come back with a later position; and a
// writer whose view of the position is stale is fenced out.
#include "changelog.h"  // serve/, a private header of juncture_serve

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "juncture/compiler/backend.h"
#include "juncture/compiler/compiler.h"
#include "process.h"
#include "uninterrupted_run.h"

namespace juncture::itest {
namespace {

using serve::ChangelogAcks;
using serve::ChangelogPosition;
using serve::PartitionChangelog;

std::string Cart(const std::string& customer, const std::string& id) {
  return R"({"type":"track","event":"cart","messageId":")" + id + R"(","userId":")" + customer +
         R"(","timestamp":"2026-11-23T10:00:00Z","properties":{"cart_id":"k","value":1}})";
}

class Discard : public runtime::DecisionSink {
 public:
  void OnDecision(const runtime::Decision&) override {}
  void OnDeadLetter(std::string_view, const std::string&) override {}
};

class Changelog : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(nats_.Start()) << nats_.process().Output();
    ASSERT_EQ(natsConnection_ConnectTo(&nc_, nats_.url().c_str()), NATS_OK);
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.PublishAsync.AckHandler = &ChangelogAcks::OnAck;
    jo.PublishAsync.AckHandlerClosure = &acks_;
    ASSERT_EQ(natsConnection_JetStream(&js_, nc_, &jo), NATS_OK);
    std::string error;
    ASSERT_TRUE(serve::EnsureChangelog(js_, "t", 1, &error)) << error;
    compilation_ = compiler::CompileSources({{"t.jny", kStatefulProgram}}, compiler::CompileOptions{});
    ASSERT_TRUE(compilation_->ok());
  }
  void TearDown() override {
    jsCtx_Destroy(js_);
    natsConnection_Destroy(nc_);
  }
  // A new engine with the partition's state, read by a changelog of its own.
  std::unique_ptr<runtime::Engine> Restored(std::unique_ptr<PartitionChangelog>* log,
                                            ChangelogPosition* position) {
    auto engine = std::make_unique<runtime::Engine>(compiler::MakeInterpretedProgram(*compilation_));
    *log = std::make_unique<PartitionChangelog>(js_, &acks_, "t", 0);
    std::string error;
    EXPECT_TRUE((*log)->Restore(*engine, position, &error)) << error;
    engine->TrackChanges(true);
    return engine;
  }
  // Decides the carts (at a fixed time) and writes what they changed at `seq`.
  bool Commit(runtime::Engine& engine, PartitionChangelog& log, const std::vector<std::string>& carts,
              uint64_t seq, bool* fenced) {
    Discard sink;
    for (const std::string& c : carts) engine.Process(c, sink, int64_t{1'795'000'000'000'000});
    runtime::StateChanges changes;
    engine.TakeChanges(changes);
    std::string error;
    return log.Write(changes, ChangelogPosition{seq}, fenced, &error);
  }

  NatsServer nats_;
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
  ChangelogAcks acks_;
  std::unique_ptr<compiler::Compilation> compilation_;
};

TEST_F(Changelog, RestoresAsOfItsPositionAndRollsBackACommitCutBeforeIt) {
  ChangelogPosition at;
  std::unique_ptr<PartitionChangelog> writer, stale;
  auto engine = Restored(&writer, &at);
  auto late = Restored(&stale, &at);  // read before the first commit: its view goes stale
  ASSERT_EQ(at.input_seq, 0u);

  // Commit at sequence 10: customers x and y, each with a pending push (a timer).
  bool fenced = false;
  ASSERT_TRUE(Commit(*engine, *writer, {Cart("x", "m1"), Cart("y", "m2")}, 10, &fenced));
  // The stale writer's commit at 20 (x again, and a new customer z) writes its pieces,
  // and then its position is refused: a commit cut between its pieces and its position.
  EXPECT_FALSE(Commit(*late, *stale, {Cart("x", "m3"), Cart("z", "m4")}, 20, &fenced));
  EXPECT_TRUE(fenced) << "another writer's position came first";

  // Restored: the state as of sequence 10, not 20: x and y, no z.
  std::unique_ptr<PartitionChangelog> reader;
  auto restored = Restored(&reader, &at);
  EXPECT_EQ(at.input_seq, 10u);
  EXPECT_EQ(restored->customers(), 2u);
  EXPECT_EQ(restored->pending_timers(), 2u);
  EXPECT_EQ(restored->timers_of("z"), 0u);

  // A later position (30, y changed) does not bring the cut commit's pieces back: the
  // restore wrote the versions as of 10 again over them.
  ASSERT_TRUE(Commit(*restored, *reader, {Cart("y", "m5")}, 30, &fenced));
  std::unique_ptr<PartitionChangelog> again;
  auto later = Restored(&again, &at);
  EXPECT_EQ(at.input_seq, 30u);
  EXPECT_EQ(later->customers(), 2u) << "z was only in the cut commit";
  EXPECT_EQ(later->timers_of("z"), 0u);
  EXPECT_EQ(later->timers_of("x"), 1u);
}

}  // namespace
}  // namespace juncture::itest
