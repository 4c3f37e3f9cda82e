// Set-up shared by the `juncture serve --jetstream` tests: serve on a state directory
// in the test's temp dir, messages published into the events stream, and the actions
// stream read back as its consumers would read it.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "jetstream_admin.h"
#include "serve_fixture.h"

namespace juncture::itest {

class JetStreamFixture : public ServeFixture {
 protected:
  std::vector<std::string> JsArgs(std::vector<std::string> extra = {}) const {
    std::vector<std::string> args = {"--jetstream", "--state-dir", StateDir(), "--checkpoint-ms",
                                     "100", "--ack-timeout-ms", "2000"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  void StartJs(const std::vector<std::string>& extra = {}, const std::string& program = "") {
    StartServeWithMetrics(JsArgs(extra), program);
  }
  void PublishToStream(const std::string& prefix, int from, int to) {
    for (int i = from; i < to; ++i) {
      std::string id = prefix + std::to_string(i);
      ASSERT_TRUE(client_.JsPublish("juncture.events.web", CartJson("c-" + id, id)));
    }
  }
  // The actions stream's content: id -> how many times it is stored.
  std::map<std::string, int> StoredActions(const std::string& stream = "JUNCTURE_ACTIONS") {
    std::map<std::string, int> out;
    for (const Received& r : ReadStream(client_.connection(), stream, "juncture.actions.>")) {
      ++out[r.msg_id];
    }
    return out;
  }
  bool WaitForStoredActions(size_t n, int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      if (StoredActions().size() >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  }
  // Waits until serve's durable consumer has acked every message up to `seq`.
  bool WaitForAcked(uint64_t seq, int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      ConsumerFacts c = GetConsumer(client_.connection(), "JUNCTURE_EVENTS", "juncture");
      if (c.exists && c.ack_floor >= seq) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
};

}  // namespace juncture::itest
