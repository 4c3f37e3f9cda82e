// serve/changelog.h against a real nats-server: a partition's state restored as of its
// position, never as of a commit that was cut before its position was written; the
// version such a commit left behind does not come back with a later position; and once
// another instance has restored the partition, nothing its previous holder writes
// lands.
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
    auto engine =
        std::make_unique<runtime::Engine>(*compiler::MakeInterpretedProgram(*compilation_));
    *log = std::make_unique<PartitionChangelog>(js_, &acks_, "t", 0, 1);
    Result<ChangelogPosition> restored = (*log)->Restore(*engine, 0);
    EXPECT_TRUE(restored.ok()) << restored.status().ToString();
    if (restored.ok()) *position = *restored;
    engine->TrackChanges(true);
    return engine;
  }
  // Decides the carts (at a fixed time) and writes what they changed at `seq`.
  bool Commit(runtime::Engine& engine, PartitionChangelog& log, const std::vector<std::string>& carts,
              uint64_t seq, bool* fenced, std::string* why = nullptr) {
    Discard sink;
    for (const std::string& c : carts) engine.Process(c, sink, int64_t{1'795'000'000'000'000});
    runtime::StateChanges changes;
    engine.TakeChanges(changes);
    Status written = log.Write(changes, ChangelogPosition{seq}, fenced);
    if (why != nullptr) *why = written.message();
    return written.ok();
  }

  NatsServer nats_;
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
  ChangelogAcks acks_;
  std::unique_ptr<compiler::Compilation> compilation_;
};

// A commit cut between its pieces and its position (the process died): a piece for a
// new customer z, tagged after the position, is in the stream, and no position.
TEST_F(Changelog, RestoresAsOfItsPositionAndRollsBackACommitCutBeforeIt) {
  ChangelogPosition at;
  std::unique_ptr<PartitionChangelog> writer;
  auto engine = Restored(&writer, &at);
  ASSERT_EQ(at.input_seq, 0u);
  bool fenced = false;
  ASSERT_TRUE(Commit(*engine, *writer, {Cart("x", "m1"), Cart("y", "m2")}, 10, &fenced));

  // z's piece, as a commit at 20 would have written it, and nothing after it.
  runtime::Engine other(*compiler::MakeInterpretedProgram(*compilation_));
  other.TrackChanges(true);
  Discard sink;
  other.Process(Cart("z", "m4"), sink, int64_t{1'795'000'000'000'000});
  runtime::StateChanges changes;
  other.TakeChanges(changes);
  ASSERT_EQ(changes.customers.size(), 1u);
  jsStreamInfo* info = nullptr;
  ASSERT_EQ(js_GetStreamInfo(&info, js_, serve::ChangelogStream("t", 0).c_str(), nullptr, nullptr), NATS_OK);
  const uint64_t last = info->State.LastSeq;
  jsStreamInfo_Destroy(info);
  natsMsg* piece = nullptr;
  const std::string& value = changes.customers[0].value;
  ASSERT_EQ(natsMsg_Create(&piece, "juncture.state.t.0.c.7a", nullptr, value.data(),
                           static_cast<int>(value.size())), NATS_OK);  // 7a: "z" in hex
  natsMsgHeader_Set(piece, "Juncture-Seq", "20");
  natsMsgHeader_Set(piece, "Nats-Expected-Last-Sequence", std::to_string(last).c_str());
  jsPubAck* ack = nullptr;
  ASSERT_EQ(js_PublishMsg(&ack, js_, piece, nullptr, nullptr), NATS_OK);
  jsPubAck_Destroy(ack);
  natsMsg_Destroy(piece);

  // Restored: the state as of sequence 10, not 20: x and y, no z.
  std::unique_ptr<PartitionChangelog> reader;
  auto restored = Restored(&reader, &at);
  EXPECT_EQ(at.input_seq, 10u);
  EXPECT_EQ(restored->customers(), 2u);
  EXPECT_EQ(restored->pending_timers(), 2u);

  // A later position (30, y changed) does not bring the cut commit's piece back: the
  // restore wrote the version as of 10 (none) again over it.
  ASSERT_TRUE(Commit(*restored, *reader, {Cart("y", "m5")}, 30, &fenced));
  std::unique_ptr<PartitionChangelog> again;
  auto later = Restored(&again, &at);
  EXPECT_EQ(at.input_seq, 30u);
  EXPECT_EQ(later->customers(), 2u) << "z was only in the cut commit";
  EXPECT_EQ(later->timers_of("z"), 0u);
  EXPECT_EQ(later->timers_of("x"), 1u);
}

// A holder that lost the partition (another instance restored it since) and writes
// anyway: its first write is refused, and nothing of its commit is in the state.
TEST_F(Changelog, NothingOfAPreviousHolderLandsOnceAnotherRestoredThePartition) {
  ChangelogPosition at;
  std::unique_ptr<PartitionChangelog> old_holder, new_holder;
  auto old_engine = Restored(&old_holder, &at);
  bool fenced = false;
  ASSERT_TRUE(Commit(*old_engine, *old_holder, {Cart("x", "m1"), Cart("y", "m2")}, 10, &fenced));
  auto new_engine = Restored(&new_holder, &at);
  EXPECT_EQ(at.input_seq, 10u);
  EXPECT_EQ(new_engine->customers(), 2u);

  std::string why;
  EXPECT_FALSE(Commit(*old_engine, *old_holder, {Cart("x", "m3"), Cart("z", "m4")}, 20, &fenced, &why));
  EXPECT_TRUE(fenced) << "the new holder's restore came first: " << why;
  ASSERT_TRUE(Commit(*new_engine, *new_holder, {Cart("y", "m5")}, 30, &fenced));

  std::unique_ptr<PartitionChangelog> reader;
  auto restored = Restored(&reader, &at);
  EXPECT_EQ(at.input_seq, 30u);
  EXPECT_EQ(restored->customers(), 2u) << "z, the old holder's, never landed";
  EXPECT_EQ(restored->timers_of("z"), 0u);
}

// Two stray pieces for one customer (say, a cut commit and a previous holder's late
// write) push its last real version out of the two a subject keeps: the restore
// cannot bring it back, and says so rather than pass it off as a new customer.
TEST_F(Changelog, ACustomerWhoseKeptVersionsAreBothStrayIsReported) {
  ChangelogPosition at;
  std::unique_ptr<PartitionChangelog> writer;
  auto engine = Restored(&writer, &at);
  bool fenced = false;
  ASSERT_TRUE(Commit(*engine, *writer, {Cart("x", "m1"), Cart("y", "m2")}, 10, &fenced));
  for (const char* tag : {"20", "21"}) {
    natsMsg* piece = nullptr;
    ASSERT_EQ(natsMsg_Create(&piece, "juncture.state.t.0.c.78", nullptr, "stray", 5), NATS_OK);  // 78: "x"
    natsMsgHeader_Set(piece, "Juncture-Seq", tag);
    jsPubAck* ack = nullptr;
    ASSERT_EQ(js_PublishMsg(&ack, js_, piece, nullptr, nullptr), NATS_OK);
    jsPubAck_Destroy(ack);
    natsMsg_Destroy(piece);
  }
  std::unique_ptr<PartitionChangelog> reader;
  auto restored = Restored(&reader, &at);
  EXPECT_EQ(at.input_seq, 10u);
  EXPECT_EQ(restored->customers(), 1u) << "x's state is gone";
  EXPECT_EQ(reader->suspect_subjects(), std::vector<std::string>{"juncture.state.t.0.c.78"});
  // The untouched customer is not suspected, and the next restore finds x as the last
  // one left it (none), not suspect any more.
  std::unique_ptr<PartitionChangelog> again;
  Restored(&again, &at);
  EXPECT_TRUE(again->suspect_subjects().empty());
}

}  // namespace
}  // namespace juncture::itest
