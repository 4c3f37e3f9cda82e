// `juncture serve`'s state store (docs/state.md) on core NATS: a restart, even after
// kill -9, resumes every pending wait from the store; with --memory-state the waits
// are gone (what the store is for); a damaged store refuses the start.
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
    size_t early = client_.On("juncture.actions.push").size();
    serve_->Stop(sig);
    return early;
  }
};

TEST_F(ServeState, AKillNineAndARestartResumeEveryPendingWait) {
  const std::string program = WaitProgram();
  StartServe({}, program);
  const int n = 10;
  ASSERT_EQ(PublishThenKill(n, SIGKILL), 0u) << "the waits ended before the kill";
  StartServe({}, program);
  EXPECT_NE(serve_->Output().find("state loaded from"), std::string::npos) << serve_->Output();
  ASSERT_TRUE(client_.WaitForCount("juncture.actions.push", n, 15000)) << serve_->Output();
  std::set<std::string> pushes;
  for (const Received& r : client_.On("juncture.actions.push")) {
    EXPECT_EQ(JsonField(r.data, "template"), "still_there");
    pushes.insert(r.msg_id);
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

}  // namespace
}  // namespace juncture::itest
