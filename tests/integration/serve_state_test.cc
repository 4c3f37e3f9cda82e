// `juncture serve`'s state store (docs/state.md) on core NATS: a restart, even after
// kill -9, resumes every pending wait from the store; with --memory-state the waits
// are gone (what the store is for); a damaged store refuses the start; a full disk
// loses nothing while serve lives; an earlier whole-state checkpoint is imported.
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "serve_fixture.h"

namespace juncture::itest {
namespace {

namespace fs = std::filesystem;

// The waits outlast the kill and the restart: 4 s, then a push.
const char* kWaitProgram = R"(
event cart { cart_id: string  value: float }
profile { email_opt_in: bool = true }
channel email { consent profile.email_opt_in }
channel push { consent true }
journey instant { on cart reenter always send email "cart_seen" { cart: event.cart_id } }
journey later { on cart reenter always wait 4s send push "still_there" { cart: event.cart_id } }
)";

class ServeState : public ServeFixture {
 protected:
  std::string WaitProgram() {
    std::string dir = dir_.path() + "/program";
    fs::create_directories(dir);
    std::ofstream(dir + "/waits.jny") << kWaitProgram;
    return dir;
  }

  // Publishes n carts, waits for their emails, then kills serve with `sig` before
  // any wait is due; returns the number of pushes seen before the kill.
  size_t PublishThenKill(int n, int sig) {
    PublishCarts("w", 0, n);
    EXPECT_TRUE(client_.WaitForCount("juncture.actions.email", static_cast<size_t>(n), 10000))
        << serve_->Output();
    // An email is out before its customer's commit (core NATS): with metrics on, the
    // kill waits for the commits, so that no wait dies with the message deciding it.
    if (metrics_port_ != 0) {
      EXPECT_TRUE(WaitForMetric("juncture_state_customers_written_total", n, 10000));
    }
    size_t early = client_.On("juncture.actions.push").size();
    serve_->Stop(sig);
    return early;
  }
};

TEST_F(ServeState, AKillNineAndARestartResumeEveryPendingWait) {
  const std::string program = WaitProgram();
  StartServeWithMetrics({}, program);
  const int n = 10;
  ASSERT_EQ(PublishThenKill(n, SIGKILL), 0u) << "the waits ended before the kill";
  StartServe({}, program);
  EXPECT_NE(serve_->Output().find("state loaded from"), std::string::npos) << serve_->Output();
  ASSERT_TRUE(client_.WaitForCount("juncture.actions.push", n, 15000)) << serve_->Output();
  std::set<std::string> pushes;
  for (const Received& r : client_.On("juncture.actions.push")) {
    EXPECT_EQ(JsonField(r.data, "template"), "still_there");
    pushes.insert(JsonField(r.data, "id"));
  }
  EXPECT_EQ(pushes.size(), static_cast<size_t>(n)) << "each wait resumed once";
  EXPECT_EQ(client_.On("juncture.actions.push").size(), static_cast<size_t>(n));
  EXPECT_EQ(client_.On("juncture.actions.email").size(), static_cast<size_t>(n))
      << "nothing decided again";
}

TEST_F(ServeState, AGracefulRestartResumesThemToo) {
  const std::string program = WaitProgram();
  StartServe({}, program);
  ASSERT_EQ(PublishThenKill(5, SIGTERM), 0u);
  StartServe({}, program);
  ASSERT_TRUE(client_.WaitForCount("juncture.actions.push", 5, 15000)) << serve_->Output();
}

TEST_F(ServeState, InMemoryTheWaitsDieWithTheProcess) {
  const std::string program = WaitProgram();
  StartServe({"--memory-state"}, program);
  ASSERT_EQ(PublishThenKill(5, SIGKILL), 0u);
  StartServe({"--memory-state"}, program);
  std::this_thread::sleep_for(std::chrono::milliseconds(5000));  // past every due time
  EXPECT_EQ(client_.On("juncture.actions.push").size(), 0u);
}

TEST_F(ServeState, ADamagedStoreRefusesTheStart) {
  const std::string program = WaitProgram();
  StartServe({}, program);
  ASSERT_EQ(PublishThenKill(5, SIGTERM), 0u);  // a graceful stop flushes sorted files
  bool damaged = false;
  for (const auto& f : fs::directory_iterator(StateDir())) {
    if (f.path().extension() == ".sst") {
      fs::resize_file(f.path(), fs::file_size(f.path()) / 2);
      damaged = true;
    }
  }
  ASSERT_TRUE(damaged) << "no sorted file to damage";
  std::string output;
  int status = RunServeToExit({}, program, &output);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status << output;
  EXPECT_NE(output.find("is damaged"), std::string::npos) << output;
}

TEST_F(ServeState, AForeignDirectoryIsNotTakenForAStore) {
  fs::create_directories(StateDir());
  std::ofstream(StateDir() + "/notes.txt") << "someone's files\n";
  std::string output;
  int status = RunServeToExit({}, TestProgram(), &output);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status << output;
  EXPECT_NE(output.find("not a Juncture state store"), std::string::npos) << output;
  EXPECT_TRUE(fs::exists(StateDir() + "/notes.txt"));
}

// A full state directory (a small tmpfs) on core NATS: decisions go on from memory,
// the failed commits are logged and counted and their changes kept; with space again
// the store says so and writes them; a restart then resumes the waits begun while the
// disk was full. A stop while it is still full exits 3.
TEST_F(ServeState, AFullDiskLosesNoStateWhileServeLivesAndSaysSo) {
  const std::string program = WaitProgram();
  TmpfsMount tmpfs(StateDir(), "4m");
  if (!tmpfs.mounted()) GTEST_SKIP() << tmpfs.why();
  auto fill = [&] {
    std::ofstream filler(StateDir() + "/filler", std::ios::binary);
    std::string block(4096, 'x');
    while (filler.write(block.data(), block.size())) {
    }
  };
  StartServeWithMetrics({}, program);
  fill();
  PublishCarts("full", 0, 20);
  ASSERT_TRUE(client_.WaitForCount("juncture.actions.email", 20, 10000)) << serve_->Output();
  ASSERT_TRUE(serve_->WaitForOutput("cannot write the state store", 5000)) << serve_->Output();
  EXPECT_GE(Metric("juncture_checkpoint_failures_total"), 1);
  // Space again: the next commit writes what was kept.
  fs::remove(StateDir() + "/filler");
  PublishCarts("after", 0, 1);
  ASSERT_TRUE(serve_->WaitForOutput("the state store writes again", 5000)) << serve_->Output();
  int status = serve_->Stop(SIGKILL);
  (void)status;
  StartServe({}, program);  // the waits begun while the disk was full resume
  ASSERT_TRUE(client_.WaitFor(
      [](const std::vector<Received>& all) {
        size_t n = 0;
        for (const Received& r : all) n += r.subject == "juncture.actions.push";
        return n >= 21;
      },
      15000))
      << serve_->Output();

  // Full again, and a stop: the last commit cannot be written, the exit code says so.
  // (How many commits still fit depends on what RocksDB had allocated before the disk
  // filled, its write-ahead log's preallocated space: carts until one does not.)
  fill();
  bool refused = false;
  for (int round = 0; round < 10 && !refused; ++round) {
    PublishCarts("late", round * 3, round * 3 + 3);
    refused = serve_->WaitForOutput("cannot write the state store", 2000);
  }
  ASSERT_TRUE(refused) << serve_->Output();
  status = serve_->Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 3) << status << serve_->Output();
  EXPECT_NE(serve_->Output().find("could not be written"), std::string::npos) << serve_->Output();
  fs::remove(StateDir() + "/filler");
}

// The whole-state checkpoint of earlier versions (snapshot.bin in the state directory)
// is imported into an empty store once, and its waits resume.
TEST_F(ServeState, AnEarlierCheckpointFileIsImportedOnce) {
  const std::string program = WaitProgram();
  StartServe({}, program);
  ASSERT_EQ(PublishThenKill(5, SIGTERM), 0u);
  // The state as one snapshot file, as earlier versions kept it.
  const std::string old_dir = dir_.path() + "/earlier";
  fs::create_directories(old_dir);
  std::string cmd = "'" + JunctureBin() + "' state export '" + program + "' --state-dir '" +
                    StateDir() + "' --out '" + old_dir + "/snapshot.bin' 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  // Imported by one engine only: with shards, serve says to start with one first.
  std::string output;
  int status = RunServeToExit({"--state-dir", old_dir, "--shards", "2"}, program, &output);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status << output;
  EXPECT_NE(output.find("start once with --shards 1 to import it"), std::string::npos) << output;
  StartServe({"--state-dir", old_dir}, program);
  EXPECT_NE(serve_->Output().find("imported the checkpoint"), std::string::npos) << serve_->Output();
  ASSERT_TRUE(client_.WaitForCount("juncture.actions.push", 5, 15000)) << serve_->Output();
  EXPECT_TRUE(fs::exists(old_dir + "/snapshot.bin.imported"));
  EXPECT_FALSE(fs::exists(old_dir + "/snapshot.bin"));
}

// A store written on core NATS says nothing of a stream's sequences: --jetstream
// refuses it rather than guess where to start.
TEST_F(ServeState, JetStreamRefusesAStoreWrittenOnCoreNats) {
  StartServe({});
  PublishCarts("c", 0, 3);
  ASSERT_TRUE(client_.WaitForCount("juncture.actions.email", 3, 10000)) << serve_->Output();
  serve_->Stop(SIGTERM);
  std::string output;
  int status = RunServeToExit({"--jetstream"}, TestProgram(), &output);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status << output;
  EXPECT_NE(output.find("was not written by serve --jetstream"), std::string::npos) << output;
}

}  // namespace
}  // namespace juncture::itest
