// `juncture serve --jetstream` killed (-9) at five random points of a 20,000-message
// stream, restarted each time from its state store: the actions stream ends up with
// exactly the actions of an uninterrupted run (`juncture run` over the same messages),
// each stored once. The program's decisions depend on every kind of state a restore
// must bring back: a cap (3 emails per customer per day), a window (a webhook at the
// fifth cart), a re-entry rule and a pending wait (one push per customer, two seconds
// after the first cart).
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <random>
#include <set>

#include "jetstream_fixture.h"
#include "uninterrupted_run.h"

namespace juncture::itest {
namespace {

namespace fs = std::filesystem;

class JetStreamState : public JetStreamFixture {
 protected:
  JetStreamState() { subscribe_outputs_ = false; }  // 20,000 messages: read the streams

  std::string WriteProgram(const std::string& more = "") {
    std::string dir = dir_.path() + "/program";
    fs::create_directories(dir);
    std::ofstream(dir + "/stateful.jny") << kStatefulProgram << more;
    return dir;
  }

  std::set<std::string> UninterruptedRun(const std::string& program, const std::string& events) {
    return SentIdsOfRun(JunctureBin(), program, events, dir_.path() + "/run.jsonl");
  }

  // The stream sequence the running serve resumed from (0: it did not resume). A kill
  // may come after serve's checkpoints passed the next kill point, even the stream's end.
  uint64_t ResumedAt() {
    const std::string mark = "resumed from the checkpoint at stream sequence ";
    std::string out = serve_->Output();
    size_t at = out.find(mark);
    return at == std::string::npos ? 0 : std::stoull(out.substr(at + mark.size()));
  }

  // Serve's checkpoints have passed `seq`: acked by its consumer, or already in the
  // checkpoint it resumed from (its consumer then starts after it, with nothing to ack).
  bool WaitPast(uint64_t seq, int timeout_ms) {
    return ResumedAt() >= seq || WaitForAcked(seq, timeout_ms);
  }
  // The 20,000 messages of 1,000 customers, and the sent action ids an uninterrupted
  // run gives for them.
  std::set<std::string> WriteEvents(const std::string& program, const std::string& events,
                                    size_t actions_per_customer = 5) {
    const int kMessages = 20000, kCustomers = 1000;
    std::ofstream out(events);
    for (int i = 0; i < kMessages; ++i) {
      out << CartJson("c-" + std::to_string(i % kCustomers), "k" + std::to_string(i)) << "\n";
    }
    out.close();
    std::set<std::string> expected = UninterruptedRun(program, events);
    EXPECT_EQ(expected.size(), static_cast<size_t>(kCustomers) * actions_per_customer)
        << "3 emails, a webhook, a push each (and what the test adds)";
    return expected;
  }

  // The stream exists before the messages (serve creates it), then holds the lines
  // [from, to) of `events` (all of them by default).
  void FillStream(const std::vector<std::string>& args, const std::string& program,
                  const std::string& events, size_t from = 0, size_t to = SIZE_MAX) {
    if (from == 0) {
      StartJs(args, program);
      serve_->Stop(SIGTERM);
    }
    std::ifstream in(events);
    size_t n = 0;
    for (std::string line; std::getline(in, line) && n < to; ++n) {
      if (n >= from) { ASSERT_TRUE(client_.JsPublish("juncture.events.web", line)); }
    }
  }

  // Serve (started) decides the whole stream; the actions stream then holds exactly
  // `expected`, each once.
  void ExpectEverythingStoredOnce(const std::set<std::string>& expected) {
    ASSERT_TRUE(WaitPast(20000, 120000)) << serve_->Output();  // everything decided
    ASSERT_TRUE(WaitForStoredActions(expected.size(), 30000))
        << StoredActions().size() << "\n" << serve_->Output();
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // anything extra would show
    std::set<std::string> got;
    for (const auto& [id, n] : StoredActions()) {
      EXPECT_EQ(n, 1) << id << " stored " << n << " times";
      got.insert(id);
    }
    EXPECT_EQ(got, expected);
    int status = serve_->Stop(SIGTERM);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << serve_->Output();
  }

  void KillNineAtFiveRandomPoints(const std::vector<std::string>& args) {
    const std::string program = WriteProgram();
    const std::string events = dir_.path() + "/events.jsonl";
    const std::set<std::string> expected = WriteEvents(program, events);
    FillStream(args, program, events);
    if (::testing::Test::HasFatalFailure()) return;
    // To reproduce a run: JUNCTURE_TEST_SEED=<the seed it printed>.
    const char* fixed = std::getenv("JUNCTURE_TEST_SEED");
    const unsigned seed = fixed ? static_cast<unsigned>(std::stoul(fixed)) : std::random_device{}();
    std::mt19937 rng(seed);
    SCOPED_TRACE("kill points from seed " + std::to_string(seed));
    // Five points of the stream, killed as soon as serve's checkpoints pass each (the
    // decisions made since the last checkpoint die with it, and are made again).
    std::vector<uint64_t> points;
    for (int k = 0; k < 5; ++k) points.push_back(1 + rng() % (20000 - 1));
    std::sort(points.begin(), points.end());
    for (uint64_t point : points) {
      StartJs(args, program);
      ASSERT_TRUE(WaitPast(point, 60000)) << serve_->Output();
      serve_->Stop(SIGKILL);
    }
    StartJs(args, program);
    EXPECT_NE(serve_->Output().find("resumed from the checkpoint"), std::string::npos);
    ExpectEverythingStoredOnce(expected);
  }
};

TEST_F(JetStreamState, KillNineAtFiveRandomPointsOfA20000MessageStreamStoresWhatAnUninterruptedRunSends) {
  KillNineAtFiveRandomPoints({});
}

// The same with two shards: each decides its customers on its own thread; every
// checkpoint parks both and writes both stores before any ack.
TEST_F(JetStreamState, TwoShardsKilledAtFiveRandomPointsStoreWhatAnUninterruptedRunSends) {
  KillNineAtFiveRandomPoints({"--shards", "2"});
}

// With 50 of the 1,000 customers in memory: nearly every message's customer is read
// back from the store, often while a checkpoint is being written on the store's own
// thread (serve goes on deciding meanwhile; a customer that left memory when its
// changes were taken is read once they are written, never before).
TEST_F(JetStreamState, FiftyCustomersInMemoryKilledAtFiveRandomPointsStoreWhatAnUninterruptedRunSends) {
  KillNineAtFiveRandomPoints({"--cache-customers", "50"});
}

// A kill between two shards' checkpoint writes leaves their stores at different
// stream sequences (made here by putting one shard's store back to an earlier
// checkpoint): the consumer starts after the lower one, and the shard that is ahead
// decides none of the messages it decided already. Re-sharding is refused while they
// differ, and done once they are together again.
TEST_F(JetStreamState, ShardsWhoseCheckpointsAreAtDifferentSequencesResumeEachFromItsOwn) {
  const std::vector<std::string> args = {"--shards", "2"};
  // A journey that counts every cart of the day: a shard deciding a message twice
  // would count it twice and miss the fifteenth.
  const std::string program = WriteProgram(
      "journey fifteenth {\n  on cart when count(cart within 1d) == 15\n  reenter always\n"
      "  send webhook \"fifteenth\" {}\n}\n");
  const std::string events = dir_.path() + "/events.jsonl";
  const std::set<std::string> expected = WriteEvents(program, events, 6);
  // The first 5,000 messages (five carts each) decided and checkpointed at a stop;
  // shard 1's store is copied aside. Then up to 12,000, and shard 1's store is put
  // back to the copy: shard 0's checkpoint is at 12,000, shard 1's at 5,000.
  const std::string shard1 = StateDir() + "/shard-1-of-2", behind = dir_.path() + "/behind";
  FillStream(args, program, events, 0, 5000);
  if (HasFatalFailure()) return;
  StartJs(args, program);
  ASSERT_TRUE(WaitPast(5000, 60000)) << serve_->Output();
  int status = serve_->Stop(SIGTERM);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << serve_->Output();
  fs::copy(shard1, behind, fs::copy_options::recursive);
  FillStream(args, program, events, 5000, 12000);
  if (HasFatalFailure()) return;
  StartJs(args, program);
  ASSERT_TRUE(WaitPast(12000, 60000)) << serve_->Output();
  status = serve_->Stop(SIGTERM);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << serve_->Output();
  fs::remove_all(shard1);
  fs::rename(behind, shard1);
  // Re-sharding needs the stores at one position: refused (and nothing changed) until
  // a start with two shards brings them together.
  std::string output;
  status = RunServeToExit(JsArgs({"--shards", "3"}), program, &output);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << output;
  EXPECT_NE(output.find("are at different positions"), std::string::npos) << output;
  FillStream(args, program, events, 12000);
  if (HasFatalFailure()) return;
  StartJs(args, program);
  EXPECT_NE(serve_->Output().find("resumed from the checkpoint at stream sequence 5000 (some "
                                  "shards' checkpoints are at 12000"),
            std::string::npos)
      << serve_->Output();
  ExpectEverythingStoredOnce(expected);
  if (HasFailure()) return;
  // Caught up and stopped, both stores are at the stream's end: re-sharded over three
  // shards, serve resumes from there and decides nothing again.
  StartJs({"--shards", "3"}, program);
  EXPECT_NE(serve_->Output().find("re-sharded the state stores of 2 shards over 3 shards"),
            std::string::npos)
      << serve_->Output();
  EXPECT_NE(serve_->Output().find("resumed from the checkpoint at stream sequence 20000\n"),
            std::string::npos)
      << serve_->Output();
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // anything new would show
  EXPECT_EQ(StoredActions().size(), expected.size());
  status = serve_->Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << serve_->Output();
}

}  // namespace
}  // namespace juncture::itest
