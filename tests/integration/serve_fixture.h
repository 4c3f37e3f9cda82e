// Shared set-up of the `juncture serve` integration tests: a real nats-server on
// 127.0.0.1 and a free port, the real `juncture` binary, a NATS.c client.
#pragma once

#include <gtest/gtest.h>
#include <sys/mount.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "client.h"
#include "juncture/runtime/event.h"
#include "process.h"

namespace juncture::itest {

// JUNCTURE_BIN and JUNCTURE_TEST_PROGRAM come from tests/integration/CMakeLists.txt.
// JUNCTURE_TEST_BIN in the environment runs the tests against another build (e.g.
// an older one, to see a fault test fail without its fix).
inline std::string JunctureBin() {
  const char* other = std::getenv("JUNCTURE_TEST_BIN");
  return other != nullptr && *other != '\0' ? other : JUNCTURE_BIN;
}
inline std::string TestProgram() { return JUNCTURE_TEST_PROGRAM; }

inline std::string FaultProgram() { return JUNCTURE_FAULT_PROGRAM; }

// The wall clock now (plus `offset_ms`) as an ISO-8601 timestamp: a live signal.
inline std::string NowIso(int64_t offset_ms = 0) {
  int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  return runtime::FormatTimestamp(us + offset_ms * 1000);
}

// A `cart` track message for `customer` with messageId `id`.
inline std::string CartJson(const std::string& customer, const std::string& id) {
  return R"({"type":"track","event":"cart","messageId":")" + id + R"(","userId":")" + customer +
         R"(","timestamp":"2026-11-23T10:00:00Z","properties":{"cart_id":"k-)" + id +
         R"(","value":12.5}})";
}

// A small tmpfs mounted on `dir` for a full-disk test, unmounted when it goes.
// mounted() is false (and why() says why) where this process may not mount one (it
// needs root or CAP_SYS_ADMIN): the test then skips.
class TmpfsMount {
 public:
  TmpfsMount(const std::string& dir, const std::string& size) : dir_(dir) {
    std::filesystem::create_directories(dir);
    mounted_ = ::mount("tmpfs", dir.c_str(), "tmpfs", 0, ("size=" + size).c_str()) == 0;
    if (!mounted_) why_ = std::strerror(errno);
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;
  bool mounted() const { return mounted_; }
  std::string why() const {
    return "cannot mount a tmpfs for the state directory here (needs root or CAP_SYS_ADMIN): " +
           why_;
  }

 private:
  std::string dir_, why_;
  bool mounted_ = false;
};

class ServeFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(FindProgram("nats-server").empty())
        << "nats-server is not installed (scripts/install-deps.sh installs it)";
    ASSERT_TRUE(nats_.Start()) << nats_.process().Output();
    ASSERT_TRUE(client_.Connect(nats_.url()));
    if (!subscribe_outputs_) return;
    for (const char* s : {"juncture.decisions.>", "juncture.actions.>", "juncture.deadletter"}) {
      ASSERT_TRUE(client_.Subscribe(s));
    }
  }

  // Starts `juncture serve PROGRAM --nats URL extra...`; waits until it decides.
  void StartServe(const std::vector<std::string>& extra, const std::string& program = "") {
    std::vector<std::string> argv = {JunctureBin(), "serve",
                                     program.empty() ? TestProgram() : program, "--nats",
                                     nats_.url()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    WithStateDir(argv);
    serve_ = std::make_unique<Process>();
    // A log per start: "deciding on" must come from this one.
    ASSERT_TRUE(serve_->Start(argv, dir_.path() + "/serve-" + std::to_string(++starts_) + ".log"));
    ASSERT_TRUE(serve_->WaitForOutput("deciding on", 30000)) << serve_->Output();
  }

  // The test's own state store (StateDir()) unless the arguments name one: serve's
  // default, ./juncture-state, would be shared by tests running side by side.
  void WithStateDir(std::vector<std::string>& argv) {
    for (const std::string& a : argv) {
      if (a == "--state-dir" || a == "--memory-state") return;
    }
    argv.push_back("--state-dir");
    argv.push_back(StateDir());
  }
  std::string StateDir() const { return dir_.path() + "/state"; }

  // StartServe with --metrics on a port serve chooses (metrics_port_, from its log:
  // a port picked here could be taken by another test before serve binds it).
  void StartServeWithMetrics(std::vector<std::string> extra, const std::string& program = "") {
    extra.push_back("--metrics");
    extra.push_back("127.0.0.1:0");
    StartServe(extra, program);
    metrics_port_ = BoundMetricsPort(serve_->Output());
    ASSERT_GT(metrics_port_, 0) << serve_->Output();
  }

  // Runs `juncture serve PROGRAM --nats URL extra...` expecting it to exit by itself
  // (a refused start): its exit status as waitpid reports it; *output gets its log.
  int RunServeToExit(const std::vector<std::string>& extra, const std::string& program,
                     std::string* output) {
    std::vector<std::string> argv = {JunctureBin(), "serve", program, "--nats", nats_.url()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    WithStateDir(argv);
    Process p;
    std::string log = dir_.path() + "/serve-" + std::to_string(++starts_) + ".log";
    if (!p.Start(argv, log)) return -1;
    int status = p.Stop(0, 30000);  // signal 0: only wait
    *output = p.Output();
    return status;
  }

  // The value of one series in serve's /metrics ("name" or "name{labels}"), -1 if
  // it is not exported.
  double Metric(const std::string& series) {
    std::string text = HttpGet(metrics_port_, "/metrics");
    std::string needle = "\n" + series + " ";
    size_t at = text.find(needle);
    if (at == std::string::npos) return -1;
    return std::stod(text.substr(at + needle.size()));
  }

  // Waits until Metric(series) >= value.
  bool WaitForMetric(const std::string& series, double value, int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Metric(series) >= value) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  // Publishes `n` carts for customers/messages prefix0..prefix{n-1}.
  void PublishCarts(const std::string& prefix, int from, int to) {
    for (int i = from; i < to; ++i) {
      std::string id = prefix + std::to_string(i);
      ASSERT_TRUE(client_.Publish("juncture.events.web", CartJson("c-" + id, id)));
    }
    ASSERT_TRUE(client_.Flush());
  }

  TempDir dir_;
  NatsServer nats_;
  Client client_;
  std::unique_ptr<Process> serve_;
  int starts_ = 0;
  int metrics_port_ = 0;
  bool subscribe_outputs_ = true;  // false: a load test that reads only serve's counts
};

}  // namespace juncture::itest
