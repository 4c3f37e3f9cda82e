// LANGUAGE.md §4 windows: count/sum/time_since over the customer's own recent events.
// Windows end at the decision time and include the current message; an event exactly
// `within` ago counts (docs/semantics.md: `at - D <= time <= at`); older ones drop;
// `where` binds `event` to the counted event; time_since of a never-seen event is a
// very large duration.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include <nlohmann/json.hpp>

#include "engine_test_util.h"
#include "juncture/compiler/backend.h"

namespace juncture::enginetest {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string P(const std::string& journeys) {
  return std::string(kBase) + "channel push { consent true }\n" + journeys;
}

// The window values, read as send parameters whenever app_open arrives.
const char* kProbe = R"(
journey probe {
  on app_open
  reenter always
  send push "w" {
    n: count(page_view within 10m),
    checkout: count(page_view within 10m where event.path starts_with "/checkout"),
    ms: sum(page_view.ms within 10m),
    score: sum(page_view.score within 10m),
    spent: sum(purchase.amount within 1d),
    big: sum(purchase.amount within 1d where event.amount >= 100),
    since: time_since(purchase)
  }
}
)";

std::string Probe(EngineHarness& h, const std::string& customer, int64_t at) {
  size_t before = h.actions().size();
  h.Track(customer, "app_open", at);
  auto a = h.actions();
  if (a.size() != before + 1) return "<no decision>";
  return a.back().params_json;
}

TEST(Windows, EmptyWindowsAreZero) {
  EngineHarness h(P(kProbe));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  EXPECT_EQ(Probe(h, "c1", At(0)),
            R"({"n":0,"checkout":0,"ms":0,"score":0,"spent":0,"big":0,"since":4611686018427.388})");
}

TEST(Windows, AnEventExactlyWithinAgoCounts) {
  EngineHarness h(P(kProbe));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "page_view", At(0), R"({"path":"/a","ms":5})");
  EXPECT_THAT(Probe(h, "c1", At(10 * kMinute)), ::testing::StartsWith(R"({"n":1,)"));
}

TEST(Windows, AnEventOlderThanWithinDrops) {
  EngineHarness h(P(kProbe));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "page_view", At(0), R"({"path":"/a","ms":5})");
  h.Track("c1", "page_view", At(kMs), R"({"path":"/b","ms":7})");
  // At 12:10:00.001 the first view is 10m + 1ms old, the second exactly 10m.
  EXPECT_THAT(Probe(h, "c1", At(10 * kMinute + kMs)),
              ::testing::StartsWith(R"({"n":1,"checkout":0,"ms":7,)"));
  EXPECT_THAT(Probe(h, "c1", At(10 * kMinute + 2 * kMs)), ::testing::StartsWith(R"({"n":0,)"));
}

// A window over a long history is found by binary search in it (the history is in
// time order): at each probe, exactly the views within 10 minutes, the one exactly 10
// minutes old included, count, and the sum is theirs.
TEST(Windows, ALongHistoryCountsExactlyTheEventsWithinTheWindow) {
  EngineHarness h(P(kProbe));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  // One view a second for an hour: at 12:00:00 + i s.
  for (int i = 0; i < 3600; ++i) {
    h.Track("c1", "page_view", At(i * kSecond), R"({"path":"/a","ms":2})");
  }
  // At 12:59:59 (the last view's time) the views from 12:49:59 on: 601 of them.
  EXPECT_THAT(Probe(h, "c1", At(3599 * kSecond)),
              ::testing::StartsWith(R"({"n":601,"checkout":0,"ms":1202,)"));
  // Half a second later, the one at 12:49:59 is 10m 0.5s old.
  EXPECT_THAT(Probe(h, "c1", At(3599 * kSecond + 500 * kMs)),
              ::testing::StartsWith(R"({"n":600,"checkout":0,"ms":1200,)"));
  // Ten minutes after the last view only it is left; a millisecond later, none.
  EXPECT_THAT(Probe(h, "c1", At(4199 * kSecond)), ::testing::StartsWith(R"({"n":1,)"));
  EXPECT_THAT(Probe(h, "c1", At(4199 * kSecond + kMs)), ::testing::StartsWith(R"({"n":0,)"));
}

TEST(Windows, TheCurrentMessageCountsInItsOwnWindows) {
  EngineHarness h(P(R"(
journey j {
  on page_view
  reenter always
  send push "w" { n: count(page_view within 1m), ms: sum(page_view.ms within 1m),
                  since: time_since(page_view) }
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "page_view", At(0), R"({"path":"/","ms":3})");
  h.Track("c1", "page_view", At(30 * kSecond), R"({"path":"/","ms":4})");
  auto a = h.actions();
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].params_json, R"({"n":1,"ms":3,"since":0})");
  EXPECT_EQ(a[1].params_json, R"({"n":2,"ms":7,"since":0})");
}

TEST(Windows, TheCurrentMessageCountsInTriggerPredicates) {
  EngineHarness h(P(R"(
journey j {
  on page_view when count(page_view within 1h) >= 3
  send push "engaged"
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "page_view", At(0), R"({"path":"/"})");
  h.Track("c1", "page_view", At(kMinute), R"({"path":"/"})");
  EXPECT_THAT(h.all(), IsEmpty());
  h.Track("c1", "page_view", At(2 * kMinute), R"({"path":"/"})");
  EXPECT_EQ(h.actions().size(), 1u);
}

TEST(Windows, WhereBindsEventToTheCountedEvent) {
  EngineHarness h(P(kProbe));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "page_view", At(0), R"({"path":"/checkout/a"})");
  h.Track("c1", "page_view", At(1), R"({"path":"/home"})");
  h.Track("c1", "page_view", At(2), R"({"path":"/checkout/b"})");
  h.Track("c1", "purchase", At(3), R"({"amount":50,"order_id":"a"})");
  h.Track("c1", "purchase", At(4), R"({"amount":150,"order_id":"b"})");
  h.Track("c1", "purchase", At(5), R"({"amount":100,"order_id":"c"})");
  EXPECT_THAT(Probe(h, "c1", At(kMinute)),
              ::testing::StartsWith(R"({"n":3,"checkout":2,"ms":0,"score":0,"spent":300,"big":250,)"));
}

TEST(Windows, SumSkipsAbsentOptionalFieldsAndUsesDefaults) {
  EngineHarness h(P(kProbe));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "page_view", At(0), R"({"path":"/","score":1.5,"ms":10})");
  h.Track("c1", "page_view", At(1), R"({"path":"/"})");                 // ms 0 by default
  h.Track("c1", "page_view", At(2), R"({"path":"/","score":2.25,"ms":5})");
  h.Track("c1", "page_view", At(3), R"({"path":"/","score":null})");    // null: absent
  EXPECT_THAT(Probe(h, "c1", At(kMinute)),
              ::testing::StartsWith(R"({"n":4,"checkout":0,"ms":15,"score":3.75,)"));
}

TEST(Windows, TimeSinceTheLatestEvent) {
  EngineHarness h(P(kProbe));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "purchase", At(0), R"({"amount":1,"order_id":"a"})");
  h.Track("c1", "purchase", At(30 * kMinute), R"({"amount":1,"order_id":"b"})");
  EXPECT_THAT(Probe(h, "c1", At(2 * kHour)), ::testing::EndsWith(R"("since":5400})"));
  // Beyond the longest window: time_since keeps the last time anyway.
  EXPECT_THAT(Probe(h, "c1", At(30 * kDay + 30 * kMinute)),
              ::testing::EndsWith(R"("spent":0,"big":0,"since":2592000})"));
}

TEST(Windows, TimeSinceANeverSeenEventIsVeryLarge) {
  runtime::EngineLimits no_skew;  // the last message comes 400 days after the others
  no_skew.max_skew_us = 0;
  EngineHarness h(P(R"(
journey j {
  on app_open
  if time_since(purchase) > 36500d { send push "never" } else { send push "seen" }
}
)"), "", no_skew);
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "app_open", At(0));
  h.Track("c2", "purchase", At(0), R"({"amount":1,"order_id":"a"})");  // someone else's
  h.Track("c2", "app_open", At(400 * kDay));  // seen 400 days ago
  auto a = h.actions();
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].template_name, "never");
  EXPECT_EQ(a[1].template_name, "seen");
}

TEST(Windows, AreEvaluatedAtTheTimersDecisionTime) {
  EngineHarness h(P(R"(
journey j {
  on app_open
  wait 30m
  send push "w" { n: count(page_view within 10m), since: time_since(page_view) }
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "page_view", At(0), R"({"path":"/"})");
  h.Track("c1", "app_open", At(kMinute));
  h.Track("c1", "page_view", At(25 * kMinute), R"({"path":"/"})");
  h.Advance(At(31 * kMinute));
  auto a = h.actions();
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].at_us, At(31 * kMinute));
  EXPECT_EQ(a[0].params_json, R"({"n":1,"since":360})");
}

TEST(Windows, ArePerCustomer) {
  EngineHarness h(P(kProbe));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c2", "page_view", At(0), R"({"path":"/checkout"})");
  h.Track("c2", "purchase", At(0), R"({"amount":5,"order_id":"a"})");
  EXPECT_EQ(Probe(h, "c1", At(kMinute)),
            R"({"n":0,"checkout":0,"ms":0,"score":0,"spent":0,"big":0,"since":4611686018427.388})");
}

TEST(Windows, ReadBySegmentsAndEligibility) {
  EngineHarness h(P(R"(
segment engaged = count(app_open within 7d) >= 2
journey j {
  on page_view
  eligible engaged
  send push "hi"
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "app_open", At(0));
  h.Track("c1", "page_view", At(kDay), R"({"path":"/"})");
  EXPECT_THAT(h.all(), IsEmpty());
  h.Track("c1", "app_open", At(2 * kDay));
  h.Track("c1", "page_view", At(3 * kDay), R"({"path":"/"})");
  EXPECT_EQ(h.actions().size(), 1u);
}

TEST(Windows, SegmentWindowsSlideOut) {
  EngineHarness h(P(R"(
segment engaged = count(app_open within 7d) >= 2
journey j {
  on page_view
  reenter always
  send push "hi" { engaged: engaged }
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "app_open", At(0));
  h.Track("c1", "app_open", At(kDay));
  h.Track("c1", "page_view", At(7 * kDay), R"({"path":"/"})");           // both in (edge)
  h.Track("c1", "page_view", At(7 * kDay + kMs), R"({"path":"/"})");     // first dropped
  auto a = h.actions();
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].params_json, R"({"engaged":true})");
  EXPECT_EQ(a[1].params_json, R"({"engaged":false})");
}

// ---- Running windows (docs/performance.md "One hot customer") -----------------------

// A `where` that reads only the counted event is evaluated once per event, however
// often its windows are read: here each evaluation divides by zero, which the engine
// counts, so the count of divisions is the count of events.
TEST(Windows, AWhereThatReadsOnlyTheEventIsEvaluatedOncePerEvent) {
  EngineHarness h(P(R"(
journey probe {
  on app_open
  reenter always
  send push "w" { slow: count(page_view within 1h where 10 / event.ms >= 2),
                  slow_sum: sum(page_view.ms within 1h where 10 / event.ms >= 2) }
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  for (int ms : {0, 0, 0, 2, 5, 20}) {
    h.Track("c1", "page_view", At(ms * kSecond), R"({"path":"/","ms":)" + std::to_string(ms) + "}");
  }
  for (int i = 1; i <= 4; ++i) {
    EXPECT_EQ(Probe(h, "c1", At(kMinute * i)), R"({"slow":2,"slow_sum":7})") << "read " << i;
  }
  // Three events divide by zero, once for each of the two windows.
  EXPECT_EQ(h.engine().stats().div_by_zero, 6u);
}

// A `where` that reads the profile is evaluated at every read, with the profile as it
// is then: a changed profile changes which past events count.
TEST(Windows, AWhereThatReadsTheProfileSeesTheProfileOfEachRead) {
  EngineHarness h(P(R"(
journey probe {
  on app_open
  reenter always
  send push "w" { n: count(page_view within 1h where event.ms > profile.divisor),
                  ms: sum(page_view.ms within 1h where event.ms > profile.divisor) }
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  for (int ms = 1; ms <= 5; ++ms) {
    h.Track("c1", "page_view", At(ms * kSecond), R"({"path":"/","ms":)" + std::to_string(ms) + "}");
  }
  EXPECT_EQ(Probe(h, "c1", At(kMinute)), R"({"n":5,"ms":15})");
  h.Identify("c1", At(2 * kMinute), R"({"divisor":3})");
  EXPECT_EQ(Probe(h, "c1", At(3 * kMinute)), R"({"n":2,"ms":9})");
}

// Running windows (a where that reads only the event, or none: kept running once they
// hold over 16 events) against the same windows summed from scratch at each read (a
// where that reads the profile, always true here), over a random stream whose float
// values cancel and round: they agree to the last bit, and the counts agree with the
// test's own.
TEST(Windows, RunningWindowsAgreeWithWindowsSummedFromScratch) {
  EngineHarness h(P(R"(
journey probe {
  on app_open
  reenter always
  send push "w" {
    run: sum(page_view.score within 10m where event.ms >= 0),
    scan: sum(page_view.score within 10m where event.ms >= profile.divisor),
    n_run: count(page_view within 10m where event.ms >= 0),
    n_scan: count(page_view within 10m where event.ms >= profile.divisor),
    ms_run: sum(page_view.ms within 3m),
    ms_scan: sum(page_view.ms within 3m where profile.divisor == 0),
    n: count(page_view within 10m)
  }
}
)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  std::mt19937 random(20261202);
  const double scores[] = {0.1, 0.2, 0.3, 1e16, -1e16, 3.3, 1e-8, -7.25, 123456.789, 2.5, 1e300, -1e300,
                          1e308, -1e308};
  std::vector<std::pair<int64_t, int>> views;  // (time, ms): the test's own count
  int64_t t = 0;
  int reads = 0;
  for (int i = 0; i < 3000; ++i) {
    // Mostly a view every 10 s on average (about 60 in 10 minutes: kept running),
    // now and then a quiet spell that empties the windows.
    t += static_cast<int64_t>(random() % 50 == 0 ? 900 + random() % 600 : random() % 20) * kSecond;
    const int ms = static_cast<int>(random() % 1100) - 100;
    std::string props = R"({"path":"/","ms":)" + std::to_string(ms);
    if (random() % 5 != 0) props += ",\"score\":" + nlohmann::json(scores[random() % 14]).dump();
    h.Track("c1", "page_view", At(t), props + "}");
    views.emplace_back(t, ms);
    if (random() % 4 != 0) continue;
    const int64_t at = t + static_cast<int64_t>(random() % 120) * kSecond;
    const std::string params = Probe(h, "c1", At(at));
    ASSERT_NE(params, "<no decision>");
    const nlohmann::json w = nlohmann::json::parse(params);
    ASSERT_EQ(w["run"].dump(), w["scan"].dump()) << params;
    ASSERT_EQ(w["n_run"], w["n_scan"]) << params;
    ASSERT_EQ(w["ms_run"], w["ms_scan"]) << params;
    int64_t n = 0, n_where = 0;
    for (const auto& [time, view_ms] : views) {
      if (time < at - 10 * kMinute || time > at) continue;
      ++n;
      n_where += view_ms >= 0;
    }
    ASSERT_EQ(w["n"], n) << params;
    ASSERT_EQ(w["n_run"], n_where) << params;
    t = std::max(t, at);
    ++reads;
  }
  EXPECT_GT(reads, 500);
}

// A reload renumbers windows: what the running windows kept belongs to the old
// program, and the new one's windows start again from the history.
TEST(Windows, AfterAReloadRunningWindowsStartAgainFromTheHistory) {
  const auto program = [](const std::string& params) {
    return P("journey probe { on app_open  reenter always  send push \"w\" { " + params + " } }\n");
  };
  EngineHarness h(program("a: sum(page_view.ms within 1h), b: count(page_view within 1h where event.ms > 2)"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  for (int ms = 1; ms <= 20; ++ms) {  // over 16: kept running
    h.Track("c1", "page_view", At(ms * kSecond), R"({"path":"/","ms":)" + std::to_string(ms) + "}");
  }
  EXPECT_EQ(Probe(h, "c1", At(kMinute)), R"({"a":210,"b":18})");
  auto next = compiler::CompileSources(
      {{"t.jny", program("b: count(page_view within 1h where event.ms > 3), "
                         "a: sum(page_view.ms within 1h where event.ms < 3)")}},
      compiler::CompileOptions{});
  ASSERT_TRUE(next->ok()) << next->FormatDiagnostics(compiler::DiagnosticFormat::kText);
  EXPECT_OK(h.engine().Reload(*compiler::MakeInterpretedProgram(*next), h.sink()));
  EXPECT_EQ(Probe(h, "c1", At(2 * kMinute)), R"({"b":17,"a":3})");
}

}  // namespace
}  // namespace juncture::enginetest
