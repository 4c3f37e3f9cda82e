// The Grafana dashboard and Prometheus: a running `juncture serve` is scraped, the
// exposition is checked with Prometheus' own parser (`promtool check metrics`), and
// every metric the dashboard (dashboards/grafana-juncture.json) queries must be in it.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "juncture/runtime/event.h"
#include "serve_fixture.h"

namespace juncture::itest {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The body of an HTTP response.
std::string Body(const std::string& response) {
  size_t at = response.find("\r\n\r\n");
  return at == std::string::npos ? "" : response.substr(at + 4);
}

TEST_F(ServeFixture, EveryMetricOfTheDashboardIsExportedAndPrometheusParsesThem) {
  ASSERT_FALSE(FindProgram("promtool").empty())
      << "promtool is not installed (scripts/install-deps.sh installs Debian's prometheus)";
  StartServeWithMetrics({}, JUNCTURE_DASHBOARD_PROGRAM);
  const int n = 40;
  // Every cart carries the same signal time; receipts are dated from it, so that the
  // moment fit does not depend on how busy the machine is.
  const int64_t signal_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  const std::string signal = runtime::FormatTimestamp(signal_ms * 1000);
  for (int i = 0; i < n; ++i) {
    std::string c = "c" + std::to_string(i), id = "m" + std::to_string(i);
    ASSERT_TRUE(client_.Publish(
        "juncture.events.web",
        R"({"type":"track","event":"cart","messageId":")" + id + R"(","userId":")" + c +
            R"(","timestamp":")" + signal + R"(","properties":{"cart_id":"k","value":1}})"));
  }
  ASSERT_TRUE(client_.Publish("juncture.events.web", "not json"));
  ASSERT_TRUE(client_.Flush());
  ASSERT_TRUE(client_.WaitForCount("juncture.decisions.nudge", n * 2, 10000)) << serve_->Output();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  // Receipts for every nudge, one late; then everyone buys.
  size_t k = 0;
  for (const Received& a : client_.On("juncture.actions.inapp")) {
    ASSERT_TRUE(client_.Publish("juncture.receipts.inapp",
                                R"({"decision":")" + JsonField(a.data, "id") +
                                    R"(","status":"delivered","at":")" +
                                    runtime::FormatTimestamp(
                                        (signal_ms + (k++ == 0 ? 5000 : 100)) * 1000) +
                                    R"("})"));
  }
  ASSERT_GT(k, 5u);
  ASSERT_LT(k, static_cast<size_t>(n - 5));  // both arms are there
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(client_.Publish(
        "juncture.events.web",
        R"({"type":"track","event":"purchase","messageId":"p)" + std::to_string(i) +
            R"(","userId":"c)" + std::to_string(i) + R"(","timestamp":")" + NowIso() +
            R"(","properties":{"amount":5}})"));
  }
  ASSERT_TRUE(client_.Flush());
  ASSERT_TRUE(WaitForMetric("juncture_messages_total", 2 * n + 1, 10000)) << serve_->Output();
  ASSERT_TRUE(WaitForMetric(R"(juncture_receipts_total{status="delivered",result="matched"})",
                            static_cast<double>(k), 10000));

  // Prometheus' parser accepts the exposition.
  std::string exposition = Body(HttpGet(metrics_port_, "/metrics"));
  ASSERT_FALSE(exposition.empty());
  std::string file = dir_.path() + "/metrics.txt", out = dir_.path() + "/promtool.txt";
  std::ofstream(file) << exposition;
  int rc = std::system(("promtool check metrics < " + file + " > " + out + " 2>&1").c_str());
  EXPECT_EQ(rc, 0) << ReadFile(out);

  // Every metric the dashboard queries is exported, with samples.
  nlohmann::json dashboard = nlohmann::json::parse(
      ReadFile(std::string(JUNCTURE_SOURCE_DIR) + "/dashboards/grafana-juncture.json"));
  std::set<std::string> queried;
  const std::regex metric(R"(juncture_[a-z_]+)");
  size_t targets = 0;
  for (const auto& panel : dashboard["panels"]) {
    if (!panel.contains("targets")) continue;
    for (const auto& t : panel["targets"]) {
      std::string expr = t["expr"];
      ++targets;
      for (std::sregex_iterator it(expr.begin(), expr.end(), metric), end; it != end; ++it) {
        queried.insert(it->str());
      }
    }
  }
  EXPECT_GT(targets, 20u);
  EXPECT_GT(queried.size(), 15u);
  for (const std::string& name : queried) {
    bool sampled = exposition.find("\n" + name + "{") != std::string::npos ||
                   exposition.find("\n" + name + " ") != std::string::npos;
    EXPECT_TRUE(sampled) << name << " is queried by the dashboard but not exported";
  }
  // Both arms converted, and the series the fit rate divides by are there.
  EXPECT_GT(Metric(R"(juncture_conversions_total{journey="nudge",arm="treatment"})"), 0);
  EXPECT_GT(Metric(R"(juncture_conversions_total{journey="nudge",arm="control"})"), 0);
  EXPECT_EQ(Metric(R"(juncture_moment_fit_total{journey="nudge",channel="inapp",fit="late"})"), 1);
}

}  // namespace
}  // namespace juncture::itest
