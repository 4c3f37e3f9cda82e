// Shared set-up of the `juncture serve` integration tests: a real nats-server on
// 127.0.0.1 and a free port, the real `juncture` binary, a NATS.c client.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "client.h"
#include "process.h"

namespace juncture::itest {

// JUNCTURE_BIN and JUNCTURE_TEST_PROGRAM come from tests/integration/CMakeLists.txt.
inline std::string JunctureBin() { return JUNCTURE_BIN; }
inline std::string TestProgram() { return JUNCTURE_TEST_PROGRAM; }

// A `cart` track message for `customer` with messageId `id`.
inline std::string CartJson(const std::string& customer, const std::string& id) {
  return R"({"type":"track","event":"cart","messageId":")" + id + R"(","userId":")" + customer +
         R"(","timestamp":"2026-11-23T10:00:00Z","properties":{"cart_id":"k-)" + id +
         R"(","value":12.5}})";
}

class ServeFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(FindProgram("nats-server").empty())
        << "nats-server is not installed (scripts/install-deps.sh installs it)";
    ASSERT_TRUE(nats_.Start()) << nats_.process().Output();
    ASSERT_TRUE(client_.Connect(nats_.url()));
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
    serve_ = std::make_unique<Process>();
    // A log per start: "deciding on" must come from this one.
    ASSERT_TRUE(serve_->Start(argv, dir_.path() + "/serve-" + std::to_string(++starts_) + ".log"));
    ASSERT_TRUE(serve_->WaitForOutput("deciding on", 30000)) << serve_->Output();
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
};

}  // namespace juncture::itest
