// The engine's bounds (runtime::EngineLimits, docs/limits.md): a message from the far
// future cannot move virtual time; overlong customer ids, customers at the timer bound,
// window history and unknown traits are bounded and counted; stale timers are
// compacted; and the per-customer count behind the timer bound stays exact through
// exits, releases, arbitration, reloads and snapshots.
#include <map>
#include <random>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine_test_util.h"
#include "good_stream.h"
#include "juncture/compiler/backend.h"

namespace juncture::enginetest {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

runtime::CompiledProgram Compile(const std::string& source) {
  auto c = compiler::CompileSources({{"t.jny", source}}, compiler::CompileOptions{});
  EXPECT_TRUE(c->ok()) << c->FormatDiagnostics(compiler::DiagnosticFormat::kText);
  if (!c->ok()) return {};
  return *compiler::MakeInterpretedProgram(*c);
}

std::vector<std::string> Lines(const Collector& sink) {
  std::vector<std::string> out;
  for (const Decision& d : sink.decisions) out.push_back(d.ToJson());
  return out;
}

uint64_t Outcomes(const runtime::Engine& e, const std::string& outcome) {
  auto it = e.stats().by_outcome.find(outcome);
  return it == e.stats().by_outcome.end() ? 0 : it->second;
}

std::vector<std::string> BriefActionsOf(const EngineHarness& h, const std::string& customer) {
  std::vector<std::string> out;
  for (const Decision& d : h.actions()) {
    if (d.customer == customer) out.push_back(Brief(d));
  }
  return out;
}

// ---- max_skew ------------------------------------------------------------------------

TEST(MaxSkew, FarFutureMessagesAreDeadLettersAndChangeNoDecision) {
  Stream s = GoodStream(600, 20, 5);
  runtime::CompiledProgram program = Compile(kStreamProgram);
  ASSERT_TRUE(program.spec);

  runtime::Engine alone(program);
  Collector expected;
  for (const std::string& m : s.messages) alone.Process(m, expected);
  alone.AdvanceTo(s.end, expected);
  ASSERT_GT(expected.decisions.size(), 200u);
  ASSERT_THAT(expected.dead_letters, IsEmpty());

  // Two messages from the future, for customers with pending waits and deferred sends,
  // of an event that triggers journeys: one dated 2100, one 9999.
  const size_t at_2100 = s.messages.size() / 3, at_9999 = 2 * s.messages.size() / 3;
  const std::string far1 = TrackJson(s.customers[0], "cart", Time("2100-01-01T00:00:00Z"),
                                     R"({"value":99})", "future-1");
  const std::string far2 = IdentifyJson(s.customers[1], Time("9999-12-31T23:59:59Z"),
                                        R"({"email_opt_in":false})", "future-2");
  runtime::Engine mixed(program);
  Collector got;
  for (size_t i = 0; i < s.messages.size(); ++i) {
    if (i == at_2100) mixed.Process(far1, got);
    if (i == at_9999) mixed.Process(far2, got);
    mixed.Process(s.messages[i], got);
  }
  mixed.AdvanceTo(s.end, got);

  EXPECT_EQ(Lines(got), Lines(expected));
  ASSERT_EQ(got.dead_letters.size(), 2u);
  EXPECT_EQ(got.dead_letters[0].first, far1);
  EXPECT_EQ(got.dead_letters[0].second,
            "timestamp 2100-01-01T00:00:00.000Z is more than 365d ahead of the engine's time " +
                Iso(s.times[at_2100 - 1]) + " (--max-skew)");
  EXPECT_EQ(got.dead_letters[1].first, far2);
  EXPECT_EQ(got.dead_letters[1].second,
            "timestamp 9999-12-31T23:59:59.000Z is more than 365d ahead of the engine's time " +
                Iso(s.times[at_9999 - 1]) + " (--max-skew)");
  EXPECT_EQ(mixed.stats().rejected_skew, 2u);
  EXPECT_EQ(mixed.stats().dead_letters, 2u);
  EXPECT_EQ(mixed.stats().messages, s.messages.size() + 2);
  EXPECT_EQ(mixed.now(), alone.now());
}

TEST(MaxSkew, TheBoundIsInclusiveAndARefusedMessageDoesNotMoveTime) {
  runtime::EngineLimits day;
  day.max_skew_us = kDay;
  EngineHarness h(std::string(kBase) + R"(
channel push { consent true }
journey j { on app_open  reenter always  send push "x" }
)", "", day);
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "app_open", At(0));
  h.Track("c1", "app_open", At(kDay + kMs));  // 1 ms too far ahead
  h.Track("c1", "page_view", At(3 * kDay), R"({"path":"/"})");  // any message, even an ignored one
  h.Track("c1", "Undeclared", At(3 * kDay));
  EXPECT_EQ(h.engine().now(), At(0));
  h.Track("c1", "app_open", At(kDay));  // exactly the bound: accepted
  EXPECT_EQ(h.engine().now(), At(kDay));
  EXPECT_THAT(h.BriefActions(), ElementsAre("j:s1:sent", "j:s1:sent"));
  ASSERT_EQ(h.dead_letters().size(), 3u);
  EXPECT_EQ(h.dead_letters()[0].second,
            "timestamp 2026-06-02T12:00:00.001Z is more than 1d ahead of the engine's time "
            "2026-06-01T12:00:00.000Z (--max-skew)");
  EXPECT_EQ(h.engine().stats().rejected_skew, 3u);
  EXPECT_EQ(h.engine().stats().ignored, 0u);
}

TEST(MaxSkew, NotCheckedForTheFirstMessageOnAnOutsideClockOrWhenOff) {
  const std::string program = std::string(kBase) + R"(
channel push { consent true }
journey j { on app_open  reenter always  wait 1h  send push "x" }
)";
  {
    EngineHarness h(program);  // the first message sets the time, whatever it is
    ASSERT_TRUE(h.ok()) << h.diagnostics();
    h.Track("c1", "app_open", Time("2100-01-01T00:00:00Z"));
    EXPECT_THAT(h.dead_letters(), IsEmpty());
    EXPECT_EQ(h.engine().now(), Time("2100-01-01T00:00:00Z"));
  }
  {
    // On an outside clock (serve) the message's own time moves nothing: no check.
    EngineHarness h(program);
    ASSERT_TRUE(h.ok()) << h.diagnostics();
    h.Track("c1", "app_open", At(0));
    h.engine().Process(TrackJson("c2", "app_open", Time("9999-01-01T00:00:00Z"), "{}", "far"),
                       h.sink(), At(kMinute));
    EXPECT_THAT(h.dead_letters(), IsEmpty());
    EXPECT_EQ(h.engine().now(), At(kMinute));
    EXPECT_EQ(h.engine().next_timer(), At(kHour));
  }
  {
    runtime::EngineLimits off;
    off.max_skew_us = 0;
    EngineHarness h(program, "", off);
    ASSERT_TRUE(h.ok()) << h.diagnostics();
    h.Track("c1", "app_open", At(0));
    h.Track("c2", "app_open", Time("9999-01-01T00:00:00Z"));
    EXPECT_THAT(h.dead_letters(), IsEmpty());
    EXPECT_EQ(h.engine().stats().rejected_skew, 0u);
    EXPECT_THAT(h.BriefActions(), ElementsAre("j:s2:sent"));  // c1's wait fired
  }
}

// ---- max_customer_id_bytes -----------------------------------------------------------

TEST(MaxCustomerIdBytes, LongerIdsAreDeadLettersAndKeepNoState) {
  EngineHarness h(std::string(kBase) + R"(
channel push { consent true }
journey j { on app_open  reenter always  wait 1h  send push "x" }
)");
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  const std::string fits(512, 'a'), over(513, 'b'), huge(100 * 1024, 'c');
  h.Track(fits, "app_open", At(0));
  h.Track(over, "app_open", At(0));
  h.Identify(huge, At(0), R"({"tier":"gold"})");
  h.Raw(R"({"type":"track","event":"app_open","messageId":"anon","anonymousId":")" + over +
        R"(","timestamp":"2026-06-01T12:00:00Z"})");
  EXPECT_EQ(h.engine().customers(), 1u);
  EXPECT_EQ(h.engine().pending_timers(), 1u);
  ASSERT_EQ(h.dead_letters().size(), 3u);
  EXPECT_EQ(h.dead_letters()[0].second, "userId is 513 bytes, more than 512 (--max-customer-id-bytes)");
  EXPECT_EQ(h.dead_letters()[1].second,
            "userId is 102400 bytes, more than 512 (--max-customer-id-bytes)");
  EXPECT_EQ(h.dead_letters()[2].second,
            "anonymousId is 513 bytes, more than 512 (--max-customer-id-bytes)");
  EXPECT_EQ(h.engine().stats().rejected_customer_id, 3u);
  EXPECT_EQ(h.engine().stats().dead_letters, 3u);
}

// ---- max_timers_per_customer ---------------------------------------------------------

// Every app_open at night defers a send (quiet hours, UTC) and starts a wait.
const char* kNight = R"(
channel email { consent profile.email_opt_in  quiet 21:00 .. 08:00 }
channel push { consent true }
journey night { on app_open  reenter always  send email "later" }
journey pause { on cart  reenter always  exit on unsubscribed  wait 1h  send push "after" }
)";

TEST(MaxTimersPerCustomer, ATrackAtTheBoundIsADeadLetterUntilTimersEnd) {
  runtime::EngineLimits four;
  four.max_timers_per_customer = 4;
  EngineHarness h(std::string(kBase) + kNight, "", four);
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  const int64_t night = Time("2026-06-01T22:00:00Z");
  for (int i = 0; i < 3; ++i) h.Track("c1", "app_open", night + i * kMinute);
  h.Track("c1", "cart", night + 3 * kMinute, R"({"value":1})");  // a wait: 4 timers
  EXPECT_EQ(h.engine().timers_of("c1"), 4u);
  h.Clear();
  h.Track("c1", "app_open", night + 4 * kMinute, "{}", "refused");
  h.Track("c1", "cart", night + 5 * kMinute, R"({"value":1})");
  h.Track("c1", "unsubscribed", night + 6 * kMinute);  // even an exit: it is a track
  EXPECT_THAT(h.all(), IsEmpty());
  ASSERT_EQ(h.dead_letters().size(), 3u);
  EXPECT_EQ(h.dead_letters()[0].second,
            "the customer has 4 pending waits and deferred sends, the limit is 4 "
            "(--max-timers-per-customer)");
  EXPECT_EQ(h.engine().timers_of("c1"), 4u);
  // Other customers are not affected.
  h.Track("c2", "app_open", night + 7 * kMinute);
  EXPECT_EQ(h.dead_letters().size(), 3u);
  EXPECT_EQ(h.engine().timers_of("c2"), 1u);
  // The wait ends an hour after it began, before this message: a slot is free again.
  h.Clear();
  h.Track("c1", "app_open", night + 63 * kMinute);
  EXPECT_THAT(h.dead_letters(), IsEmpty());
  EXPECT_THAT(h.BriefActions(), ElementsAre("pause:s2:sent", "night:s1:deferred"));
  EXPECT_EQ(h.engine().timers_of("c1"), 4u);
  // Identifies set no timer: they still apply at the bound.
  h.Identify("c1", night + 64 * kMinute, R"({"email_opt_in":false})");
  EXPECT_THAT(h.dead_letters(), IsEmpty());
  // At 08:00 the releases go (suppressed: consent was withdrawn) and free every slot.
  h.Clear();
  h.Track("c1", "cart", Time("2026-06-02T08:30:00Z"), R"({"value":1})");
  EXPECT_THAT(h.dead_letters(), IsEmpty());
  EXPECT_EQ(BriefActionsOf(h, "c1"), std::vector<std::string>(4, "night:s1:suppressed:consent"));
  EXPECT_THAT(BriefActionsOf(h, "c2"), ElementsAre("night:s1:sent"));
  EXPECT_EQ(h.engine().timers_of("c1"), 1u);  // the new wait
  EXPECT_EQ(h.engine().timers_of("c2"), 0u);
  EXPECT_EQ(h.engine().stats().rejected_timer_limit, 3u);
}

TEST(MaxTimersPerCustomer, ReenterAlwaysWithDeferredSendsStaysBounded) {
  // The runaway case: every message adds a deferred send for the same customer.
  EngineHarness h(std::string(kBase) + kNight);
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  const int64_t night = Time("2026-06-01T22:00:00Z");
  for (int i = 0; i < 3000; ++i) h.Track("c1", "app_open", night + i * kSecond);
  EXPECT_EQ(h.engine().timers_of("c1"), 1000u);
  EXPECT_EQ(h.engine().pending_timers(), 1000u);
  EXPECT_EQ(h.dead_letters().size(), 2000u);
  EXPECT_EQ(h.engine().stats().rejected_timer_limit, 2000u);
}

// Decisions that start and end what the timer bound counts, per customer: instances
// (entered .. completed/exited) and deferred sends (deferred .. their release), from
// the decisions alone. A message's own decisions have it as their cause.
class TruthSink : public runtime::DecisionSink {
 public:
  void OnDecision(const Decision& d) override {
    if (!current.empty() && d.cause == current && !own_seen) {
      own_seen = true;
      before_own = Count(d.customer);
    }
    Truth& t = truth[d.customer];
    if (d.outcome == runtime::Outcome::kEntered) ++t.instances;
    if (d.outcome == runtime::Outcome::kCompleted || d.outcome == runtime::Outcome::kExited) --t.instances;
    if (d.outcome == runtime::Outcome::kDeferred) ++t.deferred[d.channel];
    if (d.id.ends_with(":release")) --t.deferred[d.channel];
    ++decisions;
  }
  void OnDeadLetter(std::string_view message, const std::string& reason) override {
    dead.emplace_back(std::string(message), reason);
    if (reason.find("--max-timers-per-customer") != std::string::npos) {
      refused_at.push_back(Count(current_customer));
    }
  }
  int64_t Count(const std::string& customer) {
    Truth& t = truth[customer];
    int64_t n = t.instances;
    for (const auto& [channel, k] : t.deferred) n += k;
    return n;
  }

  struct Truth {
    int64_t instances = 0;
    std::map<std::string, int64_t> deferred;  // by channel
  };
  std::map<std::string, Truth> truth;
  std::vector<std::pair<std::string, std::string>> dead;
  std::vector<int64_t> refused_at;  // the customer's count when a track was refused
  std::string current, current_customer;
  bool own_seen = false;
  int64_t before_own = 0;
  size_t decisions = 0;
};

// Deferrals (email and push at night, in the customer's time zone or UTC), releases
// re-checked (consent, time zone changes defer again), arbitration taking back a
// deferral (`late` resumed by a cart loses email to `hot` entering on it), waits,
// wait until with timeouts, exits.
const char* kBusy = R"(
channel email { consent profile.email_opt_in  quiet 21:00 .. 08:00 local  cap 20 per 1d }
channel push { consent profile.push_opt_in  quiet 22:00 .. 07:00 }
journey hot { priority 30  on cart when event.value >= 40  reenter always  send email "hot" }
journey night { priority 20  on app_open  reenter always  send push "night"  send email "night" }
journey rescue {
  priority 10
  on cart
  reenter always
  exit on purchase
  wait 30m
  send email "nudge"
  wait until purchase within 2d { send push "thanks" } else { send email "last" }
}
journey browse { on page_view  reenter always  exit on unsubscribed  wait 2h  send push "digest" }
journey late { priority 1  on app_open  reenter always  wait until cart within 1d { send email "late" } }
)";

// Without `browse` and without the push channel (its journeys' sends go to email).
const char* kBusyEdited = R"(
channel email { consent profile.email_opt_in  quiet 21:00 .. 08:00 local  cap 20 per 1d }
journey hot { priority 30  on cart when event.value >= 40  reenter always  send email "hot" }
journey night { priority 20  on app_open  reenter always  send email "night" }
journey rescue {
  priority 10
  on cart
  reenter always
  exit on purchase
  wait 30m
  send email "nudge"
  wait until purchase within 2d { send email "thanks" } else { send email "last" }
}
journey late { priority 1  on app_open  reenter always  wait until cart within 1d { send email "late" } }
)";

struct Step {
  std::string customer;  // "" for AdvanceTo
  std::string json;
  std::string id;
  int64_t time_us = 0;
};

std::vector<Step> BusyStream(uint32_t seed, int count, int64_t& end_us) {
  std::mt19937 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
  const char* customers[] = {"ana", "ben", "cy"};
  const char* zones[] = {"UTC", "Asia/Tokyo", "America/Los_Angeles"};
  std::vector<Step> out;
  int64_t t = Time("2026-06-01T18:00:00Z");
  for (int i = 0; i < count; ++i) {
    t += (pick(6) == 0 ? pick(300) : pick(20)) * kMinute + pick(1000) * kMs;
    Step s;
    s.customer = customers[pick(3)];
    s.id = "m" + std::to_string(i);
    s.time_us = t;
    int r = pick(100);
    if (r < 30) {
      s.json = TrackJson(s.customer, "cart", t, "{\"value\":" + std::to_string(pick(80)) + "}", s.id);
    } else if (r < 60) {
      s.json = TrackJson(s.customer, "app_open", t, "{}", s.id);
    } else if (r < 70) {
      s.json = TrackJson(s.customer, "page_view", t, R"({"path":"/"})", s.id);
    } else if (r < 78) {
      s.json = TrackJson(s.customer, "purchase", t, R"({"amount":5,"order_id":"o"})", s.id);
    } else if (r < 83) {
      s.json = TrackJson(s.customer, "unsubscribed", t, "{}", s.id);
    } else if (r < 93) {
      s.json = IdentifyJson(s.customer, t,
                            std::string("{\"timezone\":\"") + zones[pick(3)] +
                                "\",\"email_opt_in\":" + (pick(4) ? "true" : "false") +
                                ",\"push_opt_in\":" + (pick(4) ? "true" : "false") + "}",
                            s.id);
    } else {
      s.customer.clear();
      t += pick(10) * kHour;
      s.time_us = t;
    }
    out.push_back(std::move(s));
  }
  end_us = t + 3 * kDay;
  return out;
}

void Feed(runtime::Engine& e, const Step& s, TruthSink& sink) {
  sink.current = s.id;
  sink.current_customer = s.customer;
  sink.own_seen = false;
  if (s.customer.empty()) {
    e.AdvanceTo(s.time_us, sink);
  } else {
    e.Process(s.json, sink);
  }
  sink.current.clear();
}

TEST(MaxTimersPerCustomer, TheCountMatchesTheDecisionsAfterEveryMessage) {
  for (uint64_t limit : {0, 3, 6}) {
    SCOPED_TRACE("limit " + std::to_string(limit));
    runtime::EngineLimits limits;
    limits.max_timers_per_customer = limit;
    runtime::Engine e(Compile(std::string(kBase) + kBusy), limits);
    TruthSink sink;
    int64_t end_us = 0;
    std::vector<Step> steps = BusyStream(17, 700, end_us);
    size_t refusals = 0;
    for (const Step& s : steps) {
      size_t refused_before = sink.refused_at.size();
      Feed(e, s, sink);
      for (const char* c : {"ana", "ben", "cy"}) {
        ASSERT_EQ(static_cast<int64_t>(e.timers_of(c)), sink.Count(c)) << c << " after " << s.id;
      }
      if (sink.refused_at.size() > refused_before) {
        ++refusals;
        EXPECT_GE(sink.refused_at.back(), static_cast<int64_t>(limit)) << s.id;
      } else if (limit != 0 && sink.own_seen && s.json.find("\"track\"") != std::string::npos) {
        EXPECT_LT(sink.before_own, static_cast<int64_t>(limit)) << "accepted at the bound: " << s.id;
      }
    }
    e.AdvanceTo(end_us, sink);
    for (const char* c : {"ana", "ben", "cy"}) EXPECT_EQ(e.timers_of(c), 0u) << c;
    EXPECT_EQ(e.stats().rejected_timer_limit, refusals);
    if (limit == 0) {
      EXPECT_EQ(refusals, 0u);
    } else {
      EXPECT_GT(refusals, 5u);  // the bound was really exercised
    }
    EXPECT_GT(Outcomes(e, "deferred"), 20u);
    EXPECT_GT(Outcomes(e, "suppressed:arbitration"), 0u);
    EXPECT_GT(Outcomes(e, "exited"), 5u);
  }
}

TEST(MaxTimersPerCustomer, SnapshotsAndReloadsKeepTheCountExact) {
  runtime::EngineLimits limits;
  limits.max_timers_per_customer = 5;
  runtime::CompiledProgram program = Compile(std::string(kBase) + kBusy);
  runtime::CompiledProgram edited = Compile(std::string(kBase) + kBusyEdited);
  ASSERT_TRUE(program.spec && edited.spec);
  int64_t end_us = 0;
  std::vector<Step> steps = BusyStream(23, 400, end_us);

  runtime::Engine a(program, limits);
  TruthSink sink;
  std::vector<std::string> snapshots;
  size_t reload_at = steps.size();
  auto pending_push = [&] {
    int64_t n = 0;
    for (auto& [customer, t] : sink.truth) n += t.deferred["push"];
    return n;
  };
  for (size_t k = 0; k < steps.size(); ++k) {
    if (reload_at == steps.size() && k >= steps.size() / 2 && pending_push() > 0) {
      // Drops `browse` (its instances exit) and push (its deferred sends go silently).
      reload_at = k;
      EXPECT_OK(a.Reload(edited, sink));
      for (auto& [customer, t] : sink.truth) t.deferred.erase("push");
    }
    snapshots.push_back(a.SaveSnapshot());
    Feed(a, steps[k], sink);
    for (const char* c : {"ana", "ben", "cy"}) {
      ASSERT_EQ(static_cast<int64_t>(a.timers_of(c)), sink.Count(c)) << c << " after " << k;
    }
  }
  ASSERT_LT(reload_at, steps.size()) << "no deferred push to drop";
  EXPECT_GT(a.stats().rejected_timer_limit, 0u);
  // An engine loaded from any snapshot counts the same and refuses the same tracks.
  for (size_t k = 0; k < steps.size(); k += 37) {
    SCOPED_TRACE("snapshot before step " + std::to_string(k));
    const bool before_reload = k < reload_at;
    runtime::Engine b(before_reload ? program : edited, limits);
    ASSERT_OK(b.LoadSnapshot(snapshots[k]));
    TruthSink rest;
    for (size_t i = k; i < steps.size(); ++i) {
      if (i == reload_at && before_reload) { EXPECT_OK(b.Reload(edited, rest)); }
      Feed(b, steps[i], rest);
    }
    for (const char* c : {"ana", "ben", "cy"}) EXPECT_EQ(b.timers_of(c), a.timers_of(c)) << c;
    EXPECT_EQ(b.stats().rejected_timer_limit, a.stats().rejected_timer_limit);
    EXPECT_EQ(b.stats().decisions, a.stats().decisions);
    EXPECT_EQ(b.SaveSnapshot(), a.SaveSnapshot());
  }
}

// ---- stale timers ----------------------------------------------------------------------

TEST(TimerCompaction, AnExitAndReenterLoopKeepsTheQueueBoundedAndLiveTimersFire) {
  EngineHarness h(std::string(kBase) + R"(
channel push { consent true }
journey long { on cart  reenter always  exit on unsubscribed  wait 30d  send push "late" }
)");
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  // Customers with a live 30-day wait each, then one customer leaving and coming back
  // 30,000 times: every exit leaves a stale 30-day timer behind.
  for (int i = 0; i < 1500; ++i) h.Track("live-" + std::to_string(i), "cart", At(i * kMs), R"({"value":1})");
  int64_t t = At(kMinute);
  for (int i = 0; i < 30000; ++i) {
    h.Track("churn", "cart", t, R"({"value":1})");
    h.Track("churn", "unsubscribed", t + kSecond);
    t += 2 * kSecond;
  }
  h.Track("churn", "cart", t, R"({"value":1})");  // stays
  const size_t live = 1501;
  EXPECT_LE(h.engine().pending_timers(), 2 * live + 1024 + 1);
  EXPECT_GE(h.engine().stats().compacted_timers, 30000u - (live + 1024));
  h.Clear();
  h.Advance(t + 31 * kDay);
  std::set<std::string> sent;
  for (const Decision& d : h.actions()) {
    EXPECT_EQ(d.template_name, "late");
    EXPECT_TRUE(sent.insert(d.customer).second) << d.customer << " twice";
  }
  EXPECT_EQ(sent.size(), live);
  EXPECT_TRUE(sent.count("churn"));
  EXPECT_EQ(h.engine().pending_timers(), 0u);
}

TEST(TimerCompaction, ReleasesTakenBackByArbitrationGoToo) {
  // At night `late` (resumed by a cart) defers an email that `hot`, entering on the
  // same cart, takes over: `late`'s release is cancelled, its timer stale (and so is
  // the timeout of its `wait until`). Then one customer's exit/re-enter loop on `long`
  // grows the queue until it is compacted.
  EngineHarness h(std::string(kBase) + R"(
channel email { consent true  quiet 21:00 .. 08:00 }
channel push { consent true }
journey hot { priority 30  on cart  reenter always  send email "hot" }
journey late { priority 1  on app_open  reenter always  wait until cart within 1d { send email "late" } }
journey long { on page_view  reenter always  exit on unsubscribed  wait 30d  send push "long" }
)");
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  int64_t t = Time("2026-06-01T22:00:00Z");
  for (int i = 0; i < 200; ++i) {
    std::string c = "c" + std::to_string(i);
    h.Track(c, "app_open", t);
    h.Track(c, "cart", t + kMs, R"({"value":1})");
    t += 5 * kMs;
  }
  EXPECT_EQ(Outcomes(h.engine(), "suppressed:arbitration"), 200u);
  EXPECT_EQ(Outcomes(h.engine(), "deferred"), 200u);
  EXPECT_EQ(h.engine().pending_timers(), 600u);  // 200 live releases
  EXPECT_EQ(h.engine().stats().compacted_timers, 0u);
  for (int i = 0; h.engine().stats().compacted_timers == 0; ++i) {
    ASSERT_LT(i, 5000) << "never compacted";
    h.Track("churn", i % 2 ? "unsubscribed" : "page_view", t, R"({"path":"/"})");
    t += kMs;
  }
  // Right after a compaction only live timers are left: the releases kept by `hot`
  // and the churning customer's wait, if it is waiting.
  EXPECT_EQ(h.engine().pending_timers(), 200u + h.engine().timers_of("churn"));
  h.Clear();
  h.Advance(Time("2026-06-02T09:00:00Z"));
  ASSERT_EQ(h.actions().size(), 200u);
  for (const Decision& d : h.actions()) {
    EXPECT_EQ(d.template_name, "hot");
    EXPECT_EQ(d.outcome, runtime::Outcome::kSent);
    EXPECT_TRUE(d.id.ends_with(":release")) << d.id;
  }
}

// ---- max_window_events -----------------------------------------------------------------

TEST(MaxWindowEvents, AWindowCoversAtMostTheLatestEvents) {
  runtime::EngineLimits hundred;
  hundred.max_window_events = 100;
  const std::string program = std::string(kBase) + R"(
channel push { consent true }
journey j {
  on page_view
  reenter always
  send push "n" { n: count(page_view within 30d), ms: sum(page_view.ms within 30d) }
}
)";
  EngineHarness h(program, "", hundred);
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  std::string snapshot;
  for (int i = 1; i <= 1000; ++i) {
    h.Track("c1", "page_view", At(i * kSecond), R"({"path":"/","ms":)" + std::to_string(i) + "}");
    if (i == 110) snapshot = h.engine().SaveSnapshot();  // 10 events over, not yet erased
  }
  ASSERT_EQ(h.actions().size(), 1000u);
  for (int i = 1; i <= 1000; ++i) {
    int64_t n = std::min(i, 100);
    int64_t first = i - n + 1;
    std::string want = "{\"n\":" + std::to_string(n) + ",\"ms\":" +
                       std::to_string((first + i) * n / 2) + "}";
    ASSERT_EQ(h.actions()[i - 1].params_json, want) << "event " << i;
  }
  EXPECT_EQ(h.engine().stats().dropped_window_events, 900u);

  // A snapshot holding events over the bound restores the same windows.
  EngineHarness b(program, "", hundred);
  ASSERT_OK(b.engine().LoadSnapshot(snapshot));
  EXPECT_EQ(b.engine().stats().dropped_window_events, 10u);
  b.Track("c1", "page_view", At(111 * kSecond), R"({"path":"/","ms":111})", "b-111");
  ASSERT_EQ(b.actions().size(), 1u);
  EXPECT_EQ(b.actions()[0].params_json, h.actions()[110].params_json);
}

TEST(MaxWindowEvents, ExpiredEventsAreNotCountedAsDropped) {
  runtime::EngineLimits three;
  three.max_window_events = 3;
  EngineHarness h(std::string(kBase) + R"(
channel push { consent true }
journey j { on app_open  reenter always  send push "n" { n: count(app_open within 1h) } }
)", "", three);
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  for (int i = 0; i < 10; ++i) h.Track("c1", "app_open", At(i * 2 * kHour));  // each alone
  for (int i = 0; i < 5; ++i) h.Track("c1", "app_open", At(30 * kHour + i * kMinute));
  std::vector<std::string> n;
  for (const Decision& d : h.actions()) n.push_back(d.params_json);
  ASSERT_EQ(n.size(), 15u);
  EXPECT_EQ(std::vector<std::string>(n.begin(), n.begin() + 10),
            std::vector<std::string>(10, R"({"n":1})"));
  EXPECT_THAT(std::vector<std::string>(n.begin() + 10, n.end()),
              ElementsAre(R"({"n":1})", R"({"n":2})", R"({"n":3})", R"({"n":3})", R"({"n":3})"));
  EXPECT_EQ(h.engine().stats().dropped_window_events, 2u);
}

// ---- max_unknown_traits ----------------------------------------------------------------

// The unknown traits kept for `customer`, from a snapshot (name -> JSON text).
std::map<std::string, std::string> UnknownTraits(const runtime::Engine& e, const std::string& customer) {
  nlohmann::json envelope = nlohmann::json::from_cbor(e.SaveSnapshot());
  nlohmann::json state = nlohmann::json::from_cbor(envelope["state"].get_binary());
  nlohmann::json c = nlohmann::json::from_cbor(state["customers"][customer].get_binary());
  std::map<std::string, std::string> out;
  for (const auto& t : c.value("unknown_traits", nlohmann::json::array())) out[t[0]] = t[1];
  return out;
}

TEST(MaxUnknownTraits, ExtraOnesAreDroppedAndTheMessageIsStillUsed) {
  runtime::EngineLimits three;
  three.max_unknown_traits = 3;
  EngineHarness h(std::string(kBase) + R"(
channel push { consent true }
journey j { on app_open  reenter always  send push "x" { tier: profile.tier } }
)", "", three);
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Identify("c1", At(0), R"({"a":1,"b":2,"c":3,"d":4,"e":5,"tier":"gold"})");
  EXPECT_EQ(h.engine().stats().dropped_unknown_traits, 2u);
  h.Identify("c1", At(1), R"({"a":10,"f":6})");  // updates a kept one; f is dropped
  EXPECT_EQ(h.engine().stats().dropped_unknown_traits, 3u);
  EXPECT_EQ(UnknownTraits(h.engine(), "c1"),
            (std::map<std::string, std::string>{{"a", "10"}, {"b", "2"}, {"c", "3"}}));
  h.Track("c1", "app_open", At(2));
  ASSERT_EQ(h.actions().size(), 1u);
  EXPECT_EQ(h.actions()[0].params_json, R"({"tier":"gold"})");
  EXPECT_THAT(h.dead_letters(), IsEmpty());
}

TEST(MaxUnknownTraits, DefaultKeeps64) {
  EngineHarness h{std::string(kBase)};
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  std::string traits = "{";
  for (int i = 0; i < 1000; ++i) traits += (i ? ",\"t" : "\"t") + std::to_string(i) + "\":true";
  h.Identify("c1", At(0), traits + "}");
  EXPECT_EQ(UnknownTraits(h.engine(), "c1").size(), 64u);
  EXPECT_EQ(h.engine().stats().dropped_unknown_traits, 936u);
}

// ---- counters in snapshots -------------------------------------------------------------

TEST(LimitCounters, ComeBackFromASnapshotAndOldSnapshotsLoadWithZeros) {
  runtime::EngineLimits small;
  small.max_unknown_traits = 1;
  small.max_customer_id_bytes = 4;
  EngineHarness h(std::string(kBase), "", small);
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Identify("c1", At(0), "{}");
  const std::string before = h.engine().SaveSnapshot();  // no limit hit: as ever
  EXPECT_EQ(nlohmann::json::from_cbor(nlohmann::json::from_cbor(before)["state"].get_binary())["stats"]
                .count("dropped_unknown_traits"),
            0u);
  h.Identify("c1", At(1), R"({"x":1,"y":2})");
  h.Identify("c-too-long", At(2), "{}");
  h.Raw(TrackJson("c1", "app_open", Time("2100-01-01T00:00:00Z"), "{}", "far"));
  runtime::Engine b(Compile(std::string(kBase)), small);
  ASSERT_OK(b.LoadSnapshot(h.engine().SaveSnapshot()));
  EXPECT_EQ(b.stats().dropped_unknown_traits, 1u);
  EXPECT_EQ(b.stats().rejected_customer_id, 1u);
  EXPECT_EQ(b.stats().rejected_skew, 1u);
  EXPECT_EQ(b.SaveSnapshot(), h.engine().SaveSnapshot());
  ASSERT_OK(b.LoadSnapshot(before));
  EXPECT_EQ(b.stats().dropped_unknown_traits, 0u);
  EXPECT_EQ(b.stats().rejected_skew, 0u);
}

}  // namespace
}  // namespace juncture::enginetest
