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

  std::string WriteProgram() {
    std::string dir = dir_.path() + "/program";
    fs::create_directories(dir);
    std::ofstream(dir + "/stateful.jny") << kStatefulProgram;
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
};

TEST_F(JetStreamState, KillNineAtFiveRandomPointsOfA20000MessageStreamStoresWhatAnUninterruptedRunSends) {
  const std::string program = WriteProgram();
  const int kMessages = 20000, kCustomers = 1000;
  const std::string events = dir_.path() + "/events.jsonl";
  {
    std::ofstream out(events);
    for (int i = 0; i < kMessages; ++i) {
      out << CartJson("c-" + std::to_string(i % kCustomers), "k" + std::to_string(i)) << "\n";
    }
  }
  const std::set<std::string> expected = UninterruptedRun(program, events);
  ASSERT_EQ(expected.size(), static_cast<size_t>(kCustomers) * 5) << "3 emails, a webhook, a push each";

  // The stream exists before the messages (serve creates it), then holds all of them.
  StartJs({}, program);
  serve_->Stop(SIGTERM);
  {
    std::ifstream in(events);
    for (std::string line; std::getline(in, line);) {
      ASSERT_TRUE(client_.JsPublish("juncture.events.web", line));
    }
  }
  // To reproduce a run: JUNCTURE_TEST_SEED=<the seed it printed>.
  const char* fixed = std::getenv("JUNCTURE_TEST_SEED");
  const unsigned seed = fixed ? static_cast<unsigned>(std::stoul(fixed)) : std::random_device{}();
  std::mt19937 rng(seed);
  SCOPED_TRACE("kill points from seed " + std::to_string(seed));
  // Five points of the stream, killed as soon as serve's checkpoints pass each (the
  // decisions made since the last checkpoint die with it, and are made again).
  std::vector<uint64_t> points;
  for (int k = 0; k < 5; ++k) points.push_back(1 + rng() % (kMessages - 1));
  std::sort(points.begin(), points.end());
  for (uint64_t point : points) {
    StartJs({}, program);
    ASSERT_TRUE(WaitPast(point, 60000)) << serve_->Output();
    serve_->Stop(SIGKILL);
  }
  StartJs({}, program);
  EXPECT_NE(serve_->Output().find("resumed from the checkpoint"), std::string::npos);
  ASSERT_TRUE(WaitPast(kMessages, 120000)) << serve_->Output();  // everything decided
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

}  // namespace
}  // namespace juncture::itest
