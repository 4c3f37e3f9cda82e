// juncture_metrics: exposition text, escaping, histogram buckets, concurrent
// recording, the serve metric set, and the /metrics HTTP server.
#include "serve/metrics/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "../status_matchers.h"
#include "serve/metrics/http_server.h"
#include "serve/metrics/serve_metric_set.h"

namespace juncture::serve::metrics {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Double(double v) {
  std::string s;
  AppendDouble(v, s);
  return s;
}

TEST(MetricsTest, ExpositionGolden) {
  Registry r;
  Family<Counter>& requests =
      r.AddCounterFamily("app_requests_total", "Requests served.", {"method", "code"});
  requests.WithLabels({"POST", "500"}).Inc();
  requests.WithLabels({"GET", "200"}).Inc(3);
  requests.WithLabels({"GET", "404"});  // exists, so it exports 0
  r.AddGauge("app_temperature", "Temp\\erature \"now\"\nin C.").Set(-1.5);
  Histogram& h = r.AddHistogram("app_latency_seconds", "Latency.", {0.5, 1, 2});
  for (double v : {0.25, 0.75, 0.75, 4.0}) h.Observe(v);
  r.AddCounterFamily("app_unused_total", "No series yet: not exported.", {"x"});

  EXPECT_EQ(r.Render(),
            "# HELP app_latency_seconds Latency.\n"
            "# TYPE app_latency_seconds histogram\n"
            "app_latency_seconds_bucket{le=\"0.5\"} 1\n"
            "app_latency_seconds_bucket{le=\"1\"} 3\n"
            "app_latency_seconds_bucket{le=\"2\"} 3\n"
            "app_latency_seconds_bucket{le=\"+Inf\"} 4\n"
            "app_latency_seconds_sum 5.75\n"
            "app_latency_seconds_count 4\n"
            "# HELP app_requests_total Requests served.\n"
            "# TYPE app_requests_total counter\n"
            "app_requests_total{method=\"GET\",code=\"200\"} 3\n"
            "app_requests_total{method=\"GET\",code=\"404\"} 0\n"
            "app_requests_total{method=\"POST\",code=\"500\"} 1\n"
            "# HELP app_temperature Temp\\\\erature \"now\"\\nin C.\n"
            "# TYPE app_temperature gauge\n"
            "app_temperature -1.5\n");
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  Registry r;
  r.AddCounterFamily("c_total", "c", {"v"}).WithLabels({"a\\b\"c\nd"}).Inc();
  EXPECT_THAT(r.Render(), HasSubstr("c_total{v=\"a\\\\b\\\"c\\nd\"} 1\n"));
  std::string out;
  AppendEscapedLabelValue("plain é", out);
  EXPECT_EQ(out, "plain é");
}

TEST(MetricsTest, HistogramLabelsComeBeforeLe) {
  Registry r;
  Family<Histogram>& f = r.AddHistogramFamily("h_seconds", "h", {"journey"}, {1});
  f.WithLabels({"welcome"}).Observe(0.5);
  EXPECT_THAT(r.Render(), HasSubstr("h_seconds_bucket{journey=\"welcome\",le=\"1\"} 1\n"
                                    "h_seconds_bucket{journey=\"welcome\",le=\"+Inf\"} 1\n"
                                    "h_seconds_sum{journey=\"welcome\"} 0.5\n"
                                    "h_seconds_count{journey=\"welcome\"} 1\n"));
}

TEST(MetricsTest, DoublesPrintLikeTheReferenceClient) {
  EXPECT_EQ(Double(1), "1");
  EXPECT_EQ(Double(0), "0");
  EXPECT_EQ(Double(-3), "-3");
  EXPECT_EQ(Double(0.00025), "0.00025");
  EXPECT_EQ(Double(0.0001), "0.0001");
  EXPECT_EQ(Double(1e-6), "1e-06");
  EXPECT_EQ(Double(2.5e-5), "2.5e-05");
  EXPECT_EQ(Double(1234567.5), "1234567.5");
  EXPECT_EQ(Double(1e300), "1e+300");
  EXPECT_EQ(Double(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(Double(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(Double(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(Double(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(MetricsTest, LatencyBucketsAreCumulativeAndInfEqualsCount) {
  std::vector<double> b = LatencyBuckets();
  ASSERT_EQ(b.size(), 19u);
  EXPECT_EQ(b.front(), 1e-6);
  EXPECT_EQ(b.back(), 1.0);

  Histogram h(b);
  h.ObserveNanos(500);          // 0.5 µs: first bucket
  h.ObserveNanos(1000);         // exactly 1 µs: le is inclusive
  h.ObserveNanos(3000);         // 5 µs bucket
  h.ObserveNanos(-7);           // clamped to 0
  h.ObserveDuration(std::chrono::milliseconds(2));
  h.ObserveNanos(5'000'000'000);  // 5 s: only +Inf
  Histogram::Snapshot s = h.Read();
  ASSERT_EQ(s.cumulative.size(), b.size() + 1);
  for (size_t i = 1; i < s.cumulative.size(); ++i) EXPECT_LE(s.cumulative[i - 1], s.cumulative[i]);
  EXPECT_EQ(s.cumulative[0], 3u);   // le=1e-06
  EXPECT_EQ(s.cumulative[1], 3u);   // le=2.5e-06
  EXPECT_EQ(s.cumulative[2], 4u);   // le=5e-06
  EXPECT_EQ(s.cumulative[9], 4u);   // le=0.001
  EXPECT_EQ(s.cumulative[10], 5u);  // le=0.0025
  EXPECT_EQ(s.cumulative[18], 5u);  // le=1
  EXPECT_EQ(s.cumulative.back(), 6u);
  EXPECT_EQ(s.count, 6u);
  EXPECT_DOUBLE_EQ(s.sum, 5.0020045);

  Registry r;
  r.AddHistogram("lat_seconds", "l").ObserveNanos(1500);
  std::string text = r.Render();
  std::string les;
  for (size_t at = text.find("le=\""); at != std::string::npos; at = text.find("le=\"", at + 1)) {
    les += text.substr(at + 4, text.find('"', at + 4) - at - 4) + " ";
  }
  EXPECT_EQ(les,
            "1e-06 2.5e-06 5e-06 1e-05 2.5e-05 5e-05 0.0001 0.00025 0.0005 0.001 0.0025 0.005 "
            "0.01 0.025 0.05 0.1 0.25 0.5 1 +Inf ");
  EXPECT_THAT(text, HasSubstr("lat_seconds_bucket{le=\"1e-06\"} 0\n"
                              "lat_seconds_bucket{le=\"2.5e-06\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("lat_seconds_bucket{le=\"+Inf\"} 1\nlat_seconds_sum 1.5e-06\n"
                              "lat_seconds_count 1\n"));
}

TEST(MetricsTest, ConcurrentRecordingSumsCorrectly) {
  Registry r;
  Counter& total = r.AddCounter("t_total", "t");
  Family<Counter>& by_kind = r.AddCounterFamily("k_total", "k", {"kind"});
  Family<Histogram>& lat = r.AddHistogramFamily("l_seconds", "l", {"journey"});
  constexpr int kThreads = 4;
  constexpr int kPerThread = 100000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Each thread has its own caches; all of them land on the same series.
      SeriesCache<Counter> kinds(by_kind);
      SeriesCache<Histogram> latency(lat);
      for (int i = 0; i < kPerThread; ++i) {
        total.Inc();
        kinds.Get(i % 2 ? "odd" : "even").Inc();
        latency.Get("welcome").ObserveNanos(1000 * (t + 1));
      }
    });
  }
  // A scraper rendering while the writers run.
  threads.emplace_back([&] {
    for (int i = 0; i < 50; ++i) EXPECT_THAT(r.Render(), HasSubstr("# TYPE t_total counter"));
  });
  for (std::thread& th : threads) th.join();

  EXPECT_EQ(total.Value(), uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(by_kind.WithLabels({"odd"}).Value(), uint64_t{kThreads} * kPerThread / 2);
  EXPECT_EQ(by_kind.WithLabels({"even"}).Value(), uint64_t{kThreads} * kPerThread / 2);
  Histogram::Snapshot s = lat.WithLabels({"welcome"}).Read();
  EXPECT_EQ(s.count, uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(s.cumulative[0], uint64_t{kPerThread});      // 1 µs: thread 0 only
  EXPECT_EQ(s.cumulative[1], uint64_t{2} * kPerThread);  // 2 µs: threads 0-1
  EXPECT_DOUBLE_EQ(s.sum, 1e-6 * kPerThread * (1 + 2 + 3 + 4));
}

TEST(MetricsTest, MergedSnapshotAndQuantiles) {
  Registry r;
  Family<Histogram>& f = r.AddHistogramFamily("q_seconds", "q", {"journey"}, {1, 2, 4});
  EXPECT_TRUE(std::isnan(f.Merged().Quantile(0.5)));
  for (int i = 0; i < 50; ++i) f.WithLabels({"a"}).Observe(0.5);  // (0, 1]
  for (int i = 0; i < 30; ++i) f.WithLabels({"b"}).Observe(1.5);  // (1, 2]
  for (int i = 0; i < 20; ++i) f.WithLabels({"b"}).Observe(9);    // +Inf
  Histogram::Snapshot s = f.Merged();
  EXPECT_EQ(s.count, 100u);
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{50, 80, 80, 100}));
  EXPECT_DOUBLE_EQ(s.sum, 50 * 0.5 + 30 * 1.5 + 20 * 9);
  EXPECT_DOUBLE_EQ(s.Quantile(0.25), 0.5);   // halfway into (0, 1]
  EXPECT_DOUBLE_EQ(s.Quantile(0.65), 1.5);   // halfway into (1, 2]
  EXPECT_DOUBLE_EQ(s.Quantile(0.99), 4);     // in +Inf: the largest bound
}

TEST(MetricsTest, SeriesCacheResolvesToTheFamilySeries) {
  Registry r;
  Family<Counter>& f = r.AddCounterFamily("d_total", "d", {"a", "b"});
  SeriesCache<Counter> cache(f);
  EXPECT_EQ(&cache.Get("x", "y"), &f.WithLabels({"x", "y"}));
  EXPECT_EQ(&cache.Get("x", "y"), &cache.Get("x", "y"));
  // Values are length-prefixed in the key: ("ab", "c") and ("a", "bc") differ.
  EXPECT_NE(&cache.Get("ab", "c"), &cache.Get("a", "bc"));
  EXPECT_THROW(cache.Get("only-one"), std::invalid_argument);
}

TEST(MetricsTest, SeriesCacheKeepsManyCombinationsApartInAnyOrder) {
  // More combinations than the cache compares before hashing, looked up over and
  // over in an order that cycles through them, then one of them alone: each lookup
  // must give the family's own series for its values.
  Registry r;
  Family<Counter>& f = r.AddCounterFamily("m_total", "m", {"journey", "outcome"});
  SeriesCache<Counter> cache(f);
  const std::vector<std::pair<std::string, std::string>> combos = {
      {"j1", "sent"}, {"j2", "sent"}, {"j1", "suppressed"}, {"j3", "sent"},
      {"j2", "exited"}, {"j10", "sent"}, {"j1", "sen"}, {"j", "1sent"}};
  for (int round = 0; round < 3; ++round) {
    for (const auto& [journey, outcome] : combos) {
      cache.Get(journey, outcome).Inc();
      EXPECT_EQ(&cache.Get(journey, outcome), &f.WithLabels({journey, outcome}))
          << journey << " " << outcome;
    }
  }
  for (int k = 0; k < 5; ++k) cache.Get("j2", "exited").Inc();
  for (const auto& [journey, outcome] : combos) {
    const uint64_t want = journey == "j2" && outcome == "exited" ? 3 + 5 : 3;
    EXPECT_EQ(f.WithLabels({journey, outcome}).Value(), want) << journey << " " << outcome;
  }
}

TEST(MetricsTest, RemovedSeriesStopExportingButStayValid) {
  Registry r;
  Family<Gauge>& f = r.AddGaugeFamily("g", "g", {"v"});
  Gauge& old = f.WithLabels({"1"});
  old.Set(1);
  f.Remove({"1"});
  old.Set(2);  // still valid memory
  EXPECT_EQ(r.Render(), "");
  EXPECT_EQ(f.WithLabels({"1"}).Value(), 0);  // a fresh series
}

TEST(MetricsTest, BadNamesAreRejected) {
  Registry r;
  EXPECT_THROW(r.AddCounter("1bad", "x"), std::invalid_argument);
  EXPECT_THROW(r.AddCounter("bad-name", "x"), std::invalid_argument);
  EXPECT_THROW(r.AddCounterFamily("c", "x", {"__reserved"}), std::invalid_argument);
  EXPECT_THROW(r.AddCounterFamily("c", "x", {"a:b"}), std::invalid_argument);
  EXPECT_THROW(r.AddCounterFamily("c", "x", {"a", "a"}), std::invalid_argument);
  EXPECT_THROW(r.AddHistogramFamily("h", "x", {"le"}), std::invalid_argument);
  EXPECT_THROW(r.AddHistogram("h", "x", {2, 1}), std::invalid_argument);
  r.AddCounter("ns:ok_total", "x");
  EXPECT_THROW(r.AddGauge("ns:ok_total", "x"), std::invalid_argument);
}

TEST(MetricsTest, ServeMetricSet) {
  Registry r;
  ServeMetricSet m(r);
  m.messages.Inc(2);
  SeriesCache<Counter> decisions(m.decisions);
  decisions.Get("welcome", "suppressed", "cap").Inc();
  decisions.Get("welcome", "sent", "").Inc();
  SeriesCache<Counter> dead(m.dead_letters);
  dead.Get("decode").Inc();
  SeriesCache<Histogram> r2d(m.receipt_to_decision);
  r2d.Get("welcome").ObserveNanos(4000);
  SeriesCache<Histogram> s2d(m.signal_to_decision);
  s2d.Get("welcome").ObserveNanos(30'000'000);  // 30 ms
  m.action_to_customer.WithLabels({"email"}).ObserveNanos(int64_t{90} * 1'000'000'000);
  m.moment_fit.WithLabels({"welcome", "email", "late"}).Inc();
  m.receipts.WithLabels({"delivered", "unknown"}).Inc();
  m.conversions.WithLabels({"welcome", "control"}).Inc();
  SeriesCache<Histogram> d2p(m.decision_to_publish);
  d2p.Get("email").ObserveNanos(30000);
  m.reloads_failed.Inc();
  m.nats_reconnects.Inc();
  m.customers.Set(12);
  m.timers_pending.Set(3);
  m.journeys.Set(4);
  m.SetProgramInfo("0.1.0", "interpreter");
  m.SetProgramInfo("0.1.0", "jit");

  std::string text = r.Render();
  for (const char* line : {
           "juncture_messages_total 2\n",
           "juncture_decisions_total{journey=\"welcome\",outcome=\"sent\",reason=\"\"} 1\n",
           "juncture_decisions_total{journey=\"welcome\",outcome=\"suppressed\",reason=\"cap\"} 1\n",
           "juncture_dead_letters_total{reason_kind=\"decode\"} 1\n",
           "juncture_receipt_to_decision_seconds_bucket{journey=\"welcome\",le=\"5e-06\"} 1\n",
           "juncture_receipt_to_decision_seconds_count{journey=\"welcome\"} 1\n",
           "juncture_signal_to_decision_seconds_bucket{journey=\"welcome\",le=\"0.025\"} 0\n",
           "juncture_signal_to_decision_seconds_bucket{journey=\"welcome\",le=\"0.05\"} 1\n",
           "juncture_action_to_customer_seconds_bucket{channel=\"email\",le=\"60\"} 0\n",
           "juncture_action_to_customer_seconds_bucket{channel=\"email\",le=\"120\"} 1\n",
           "juncture_moment_fit_total{journey=\"welcome\",channel=\"email\",fit=\"late\"} 1\n",
           "juncture_receipts_total{status=\"delivered\",result=\"unknown\"} 1\n",
           "juncture_conversions_total{journey=\"welcome\",arm=\"control\"} 1\n",
           "juncture_decision_to_publish_seconds_bucket{channel=\"email\",le=\"2.5e-05\"} 0\n",
           "juncture_decision_to_publish_seconds_bucket{channel=\"email\",le=\"5e-05\"} 1\n",
           "juncture_reloads_total{result=\"failed\"} 1\n",
           "juncture_reloads_total{result=\"ok\"} 0\n",
           "juncture_nats_reconnects_total 1\n",
           "juncture_customers 12\n",
           "juncture_timers_pending 3\n",
           "juncture_journeys 4\n",
           "# TYPE juncture_program_info gauge\n"
           "juncture_program_info{version=\"0.1.0\",evaluator=\"jit\"} 1\n",
       }) {
    EXPECT_THAT(text, HasSubstr(line));
  }
  EXPECT_THAT(text, Not(HasSubstr("interpreter")));
  EXPECT_EQ(m.decisions.Total(), 2u);
}

TEST(EndpointTest, Parses) {
  Result<Endpoint> e = ParseEndpoint("127.0.0.1:9464");
  ASSERT_OK(e);
  EXPECT_EQ(e->host, "127.0.0.1");
  EXPECT_EQ(e->port, 9464);
  e = ParseEndpoint("[::1]:0");
  ASSERT_OK(e);
  EXPECT_EQ(e->host, "::1");
  EXPECT_EQ(e->port, 0);
  e = ParseEndpoint(":9464");
  ASSERT_OK(e);
  EXPECT_EQ(e->host, "0.0.0.0");
  e = ParseEndpoint("localhost:65535");
  ASSERT_OK(e);
  EXPECT_EQ(e->host, "localhost");
}

TEST(EndpointTest, RejectsBadInput) {
  auto error = [](std::string_view text) {
    Status s = ParseEndpoint(text).status();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << text;
    return s.message();
  };
  EXPECT_EQ(error("127.0.0.1"),
            "bad address '127.0.0.1': missing ':port' (expected host:port, e.g. "
            "127.0.0.1:9464)");
  EXPECT_THAT(error("127.0.0.1:"), HasSubstr("port must be a number from 0 to 65535"));
  EXPECT_THAT(error("127.0.0.1:65536"), HasSubstr("port must be a number"));
  EXPECT_THAT(error("127.0.0.1:94x4"), HasSubstr("port must be a number"));
  EXPECT_THAT(error("127.0.0.1:-1"), HasSubstr("port must be a number"));
  EXPECT_THAT(error("::1:9464"), HasSubstr("needs brackets"));
  EXPECT_THAT(error("[::1:9464"), HasSubstr("missing ']'"));
  EXPECT_THAT(error("[::1]9464"), HasSubstr("missing ':port'"));
  EXPECT_THAT(error("bad host:9464"), HasSubstr("bad character in host"));
  EXPECT_THAT(error(""), HasSubstr("missing ':port'"));
}

TEST(MetricsServerTest, ServesMetricsAnd404Elsewhere) {
  Registry r;
  r.AddCounter("up_total", "Up.").Inc(7);
  MetricsServer server(r);
  ASSERT_OK(server.Start({"127.0.0.1", 0}));
  ASSERT_GT(server.port(), 0);

  httplib::Client client("127.0.0.1", server.port());
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(res->body, "# HELP up_total Up.\n# TYPE up_total counter\nup_total 7\n");

  r.AddGauge("later", "Registered after Start.").Set(1);
  res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_THAT(res->body, HasSubstr("later 1\n"));

  res = client.Get("/");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  res = client.Get("/metricsx");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);

  server.Stop();
  server.Stop();  // idempotent
  EXPECT_EQ(server.port(), 0);
  EXPECT_FALSE(client.Get("/metrics"));

  // From "host:port" text, bad text reported as such.
  EXPECT_THAT(server.Listen("127.0.0.1").message(), HasSubstr("missing ':port'"));
  ASSERT_OK(server.Listen("127.0.0.1:0"));
  httplib::Client again("127.0.0.1", server.port());
  res = again.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  server.Stop();
  EXPECT_EQ(server.port(), 0);
  EXPECT_FALSE(client.Get("/metrics"));
}

TEST(MetricsServerTest, PortInUseFailsWithAnError) {
  Registry r;
  MetricsServer first(r);
  ASSERT_OK(first.Start({"127.0.0.1", 0}));
  int port = first.port();

  MetricsServer second(r);
  Status taken = second.Start({"127.0.0.1", port});
  EXPECT_EQ(taken.code(), StatusCode::kUnavailable);
  EXPECT_EQ(taken.message(),
            "cannot listen on 127.0.0.1:" + std::to_string(port) + ": Address already in use");
  EXPECT_EQ(second.port(), 0);
  second.Stop();  // nothing to stop

  Status again = first.Start({"127.0.0.1", 0});
  EXPECT_EQ(again.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(again.message(), HasSubstr("already running"));

  // Once the first is stopped, the port can be taken again straight away.
  first.Stop();
  ASSERT_OK(second.Start({"127.0.0.1", port}));
  EXPECT_EQ(second.port(), port);
}

TEST(MetricsServerTest, UnknownHostFailsWithAnError) {
  Registry r;
  MetricsServer server(r);
  EXPECT_THAT(server.Start({"no-such-host.invalid", 0}).message(),
              HasSubstr("cannot resolve host 'no-such-host.invalid'"));
}

}  // namespace
}  // namespace juncture::serve::metrics
