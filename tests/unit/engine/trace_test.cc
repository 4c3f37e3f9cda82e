// Explanations (Engine::SetTrace, juncture/runtime/trace.h): the engine tells what it
// considered, with the inputs it decided on, for one customer, without changing what
// it decides.
#include <gmock/gmock.h>
#include <algorithm>
#include <cstring>
#include <gtest/gtest.h>

#include "engine_test_util.h"
#include "juncture/runtime/trace.h"

namespace juncture::enginetest {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

// "kind|journey|step|text" per entry.
class Recorder : public runtime::TraceSink {
 public:
  void OnTrace(const runtime::TraceEntry& e) override {
    lines.push_back(std::string(runtime::TraceKindName(e.kind)) + "|" + std::string(e.journey) +
                    "|" + std::string(e.step) + "|" + std::string(e.text));
    depths.push_back(e.depth);
  }
  std::string All() const {
    std::string out;
    for (const std::string& l : lines) out += l + "\n";
    return out;
  }
  std::vector<std::string> lines;
  std::vector<int> depths;
};

// A program compiled for explaining, on the interpreter (the JIT's traces are compared
// with these by tests/cli/explain_command_test.py).
struct Explained {
  explicit Explained(const std::string& text, bool explain = true) {
    compiler::CompileOptions options;
    options.explain = explain;
    c = compiler::CompileSources({{"t.jny", std::string(kBase) + text}}, options);
    EXPECT_TRUE(c->ok()) << c->FormatDiagnostics(compiler::DiagnosticFormat::kText);
    engine = std::make_unique<runtime::Engine>(*compiler::MakeInterpretedProgram(*c));
  }
  void Feed(const std::string& json) { engine->Process(json, sink); }
  std::unique_ptr<compiler::Compilation> c;
  std::unique_ptr<runtime::Engine> engine;
  Collector sink;
};

constexpr const char* kProgram = R"(
segment big_spender = profile.ltv > 100
channel email { consent profile.email_opt_in  cap 1 per 1d  quiet 21:00 .. 08:00 local }
journey rescue {
  on cart when event.value > 50
  on cart when has(event.coupon)
  eligible profile.country == "DE"
  eligible big_spender
  wait 1h
  send email "reminder"
}
)";

TEST(Trace, EachClauseWithItsValueAndWhyNobodyEntered) {
  Explained x(kProgram);
  Recorder r;
  x.engine->SetTrace(&r, "ana");
  x.Feed(IdentifyJson("ana", At(0), R"({"country":"DE","ltv":50})", "i1"));
  x.Feed(TrackJson("ana", "cart", At(kMinute), R"({"value": 80})", "m1"));
  EXPECT_THAT(r.lines, Contains("message|||identify (i1): profile.country \"\" -> \"DE\", "
                                "profile.ltv 0 -> 50"));
  EXPECT_THAT(r.lines, Contains(HasSubstr("message|||track cart (m1) {value: 80")));
  EXPECT_THAT(r.lines, Contains("entry|rescue||does not enter"));
  EXPECT_THAT(r.lines, Contains("clause|rescue||on cart when event.value > 50: true"));
  EXPECT_THAT(r.lines, Contains("clause|rescue||on cart when has(event.coupon): false"));
  EXPECT_THAT(r.lines, Contains("clause|rescue||eligible profile.country == \"DE\": true"));
  EXPECT_THAT(r.lines, Contains("clause|rescue||eligible big_spender: false"));
  EXPECT_THAT(r.lines, Contains("clause|rescue||segment big_spender: false"));
  EXPECT_TRUE(x.sink.decisions.empty());
}

TEST(Trace, OnlyTheTracedCustomer) {
  Explained x(kProgram);
  Recorder r;
  x.engine->SetTrace(&r, "ana");
  x.Feed(TrackJson("bob", "cart", At(0), R"({"value": 80})", "b1"));
  EXPECT_TRUE(r.lines.empty()) << r.All();
  x.engine->SetTrace(&r, "");  // every customer
  x.Feed(TrackJson("bob", "cart", At(kMinute), R"({"value": 80})", "b2"));
  EXPECT_THAT(r.lines, Contains(HasSubstr("track cart (b2)")));
  x.engine->SetTrace(nullptr);
  size_t n = r.lines.size();
  x.Feed(TrackJson("bob", "cart", At(2 * kMinute), R"({"value": 80})", "b3"));
  EXPECT_EQ(r.lines.size(), n);
}

TEST(Trace, WaitsTimersAndEveryGuardrailWithItsInputs) {
  Explained x(kProgram);
  Recorder r;
  x.engine->SetTrace(&r, "ana");
  x.Feed(IdentifyJson("ana", At(0), R"({"country":"DE","ltv":500,"timezone":"Europe/Berlin"})", "i1"));
  // 18:00 UTC is 20:00 in Berlin; the wait of 1h ends at 21:00 there: quiet.
  const int64_t evening = Time("2026-06-01T18:00:00Z");
  x.Feed(TrackJson("ana", "cart", evening, R"({"value": 80})", "m1"));
  x.engine->AdvanceTo(evening + 2 * kHour, x.sink);
  const std::string all = r.All();
  EXPECT_THAT(all, HasSubstr("entry|rescue||enters\n"));
  EXPECT_THAT(all, HasSubstr("step|rescue|s1|wait 1h: until 2026-06-01T19:00:00.000Z\n"));
  EXPECT_THAT(all, HasSubstr("timer|rescue|s1|the wait at s1 is over\n"));
  EXPECT_THAT(all, HasSubstr("step|rescue|s2|send email \"reminder\"\n"));
  EXPECT_THAT(all, HasSubstr("guardrail|rescue|s2|consent profile.email_opt_in: true\n"));
  EXPECT_THAT(all, HasSubstr("guardrail|rescue|s2|arbitration: no other journey sends on email in this decision\n"));
  EXPECT_THAT(all, HasSubstr("guardrail|rescue|s2|cap 1 per 1d: 0 sent since 2026-05-31T19:00:00.000Z\n"));
  EXPECT_THAT(all, HasSubstr("guardrail|rescue|s2|quiet 21:00 .. 08:00 local (Europe/Berlin): "
                             "21:00 there, inside -> deferred until 2026-06-02T06:00:00.000Z\n"));
  EXPECT_THAT(all, HasSubstr("decision|rescue|s2|deferred until 2026-06-02T06:00:00.000Z: "
                             "email \"reminder\""));
  // The release passes the guardrails again.
  r.lines.clear();
  x.engine->AdvanceTo(Time("2026-06-02T07:00:00Z"), x.sink);
  EXPECT_THAT(r.lines, Contains("timer|rescue|s2|the deferred send email \"reminder\" of s2 is due"));
  EXPECT_THAT(r.lines, Contains(HasSubstr("guardrail|rescue|s2|quiet 21:00 .. 08:00 local "
                                          "(Europe/Berlin): 08:00 there, outside")));
  EXPECT_THAT(r.lines, Contains(HasSubstr("decision|rescue|s2|sent: email \"reminder\"")));
}

TEST(Trace, CapCountsAndReentry) {
  Explained x(R"(
channel sms { cap 1 per 1d }
journey a { priority 2  on cart  send sms "first" }
journey b { priority 1  on cart  reenter after 1d  send sms "second" }
journey c { on app_open  send sms "third" }
)");
  Recorder r;
  x.engine->SetTrace(&r, "ana");
  x.Feed(TrackJson("ana", "cart", At(0), R"({"value": 1})", "m1"));
  const std::string first = r.All();
  // One message, one journey per channel: b loses sms to a before its cap is read.
  EXPECT_THAT(first, HasSubstr("guardrail|b|s1|arbitration: sms is taken by a (ahead in "
                               "arbitration order) -> suppressed arbitration\n"));
  EXPECT_THAT(first, HasSubstr("decision|b|s1|suppressed arbitration: sms \"second\""));
  r.lines.clear();
  x.Feed(TrackJson("ana", "cart", At(kHour), R"({"value": 1})", "m2"));
  const std::string second = r.All();
  EXPECT_THAT(second, HasSubstr("entry|a||does not enter: entered " + Iso(At(0)) +
                                    "; reenter never\n"));
  EXPECT_THAT(second, HasSubstr("entry|b||does not enter: entered " + Iso(At(0)) +
                                    "; reenter after 1d: not before " + Iso(At(kDay)) + "\n"));
  r.lines.clear();
  x.Feed(TrackJson("ana", "app_open", At(2 * kHour), "{}", "m3"));
  // The cap names when the sends it counts went out, whichever journey sent them.
  EXPECT_THAT(r.All(), HasSubstr("guardrail|c|s1|cap 1 per 1d: 1 sent since " +
                                     Iso(At(2 * kHour - kDay)) + " (at " + Iso(At(0)) +
                                     ") -> suppressed cap\n"));
}

TEST(Trace, BranchesSplitsExitsGoalsAndResumes) {
  Explained x(R"(
channel push { }
journey j {
  on cart
  exit on unsubscribed
  goal purchase when event.amount > 10 within 7d
  if event.value > 100 {
    send push "big"
  } else {
    wait until purchase or app_open within 2d
  }
}
)");
  Recorder r;
  x.engine->SetTrace(&r, "ana");
  x.Feed(TrackJson("ana", "cart", At(0), R"({"value": 20})", "m1"));
  EXPECT_THAT(r.lines, Contains(HasSubstr("step|j|s1|if event.value > 100: false -> s3")));
  EXPECT_THAT(r.lines, Contains(HasSubstr("step|j|s3|wait until purchase or app_open within 2d: "
                                          "at the latest " + Iso(At(2 * kDay)))));
  r.lines.clear();
  x.Feed(TrackJson("ana", "purchase", At(kHour), R"({"amount": 5, "order_id": "o"})", "m2"));
  EXPECT_THAT(r.lines, Contains("goal|j|goal|goal purchase when event.amount > 10 within 7d: not met"));
  EXPECT_THAT(r.lines, Contains("resume|j|s3|waits at s3 for purchase -> resumes"));
  EXPECT_THAT(r.lines, Contains(HasSubstr("decision|j|end|completed")));
  r.lines.clear();
  x.Feed(TrackJson("ana", "purchase", At(2 * kHour), R"({"amount": 50, "order_id": "p"})", "m3"));
  EXPECT_THAT(r.lines, Contains("goal|j|goal|goal purchase when event.amount > 10 within 7d: met -> converted"));
  EXPECT_THAT(r.lines, Contains(HasSubstr("decision|j|goal|converted (treatment)")));
}

TEST(Trace, ExitClausesWithTheirValues) {
  Explained x(R"(
channel push { }
journey j {
  on cart
  exit on page_view when event.path == "/cancel"
  wait 1d
  send push "x"
}
)");
  Recorder r;
  x.engine->SetTrace(&r, "ana");
  x.Feed(TrackJson("ana", "cart", At(0), R"({"value": 20})", "m1"));
  x.Feed(TrackJson("ana", "page_view", At(kHour), R"({"path": "/home"})", "m2"));
  x.Feed(TrackJson("ana", "page_view", At(2 * kHour), R"({"path": "/cancel"})", "m3"));
  const std::string all = r.All();
  EXPECT_THAT(all, HasSubstr("exit|j|s1|waits at s1; exit on page_view: stays\n"
                             "clause|j||exit on page_view when event.path == \"/cancel\": false\n"));
  EXPECT_THAT(all, HasSubstr("exit|j|s1|waits at s1; exit on page_view: exits\n"
                             "clause|j||exit on page_view when event.path == \"/cancel\": true\n"));
}

TEST(Trace, DeadLettersAndUndeclaredEventsOfTheCustomer) {
  Explained x(kProgram);
  Recorder r;
  x.engine->SetTrace(&r, "ana");
  x.Feed(TrackJson("ana", "cart", At(0), R"({"value": "lots"})", "m1"));
  x.Feed(TrackJson("ana", "wishlist", At(0), R"({})", "m2"));
  EXPECT_THAT(r.lines, Contains("dead letter|||a message refused (m1): property 'value' must be "
                                "a number, got string; it goes to the dead letters, nothing "
                                "else changes"));
  EXPECT_THAT(r.lines, Contains("message|||track wishlist (m2): the program declares no such "
                                "event; ignored"));
}

TEST(Trace, LimitsApprovalsAndDeadlines) {
  Explained x(R"(
channel push { }
journey j {
  on cart
  deadline 10m
  limit discount <= 30
  send push "offer" { discount: event.value }
}
journey k {
  approvals legal
  on app_open
  split {
    30%: send push "a"
    70%: send push "b"
  }
}
)");
  Recorder r;
  x.engine->SetTrace(&r, "ana");
  x.Feed(TrackJson("ana", "cart", At(0), R"({"value": 40})", "m1"));
  EXPECT_THAT(r.lines, Contains(HasSubstr("deadline 10m: signal " + Iso(At(0)) +
                                          ", deciding 0s later, in time")));
  EXPECT_THAT(r.lines, Contains("guardrail|j|s1|limit discount <= 30: 40 -> suppressed limit"));
  x.Feed(TrackJson("ana", "app_open", At(kMinute), "{}", "m2"));
  EXPECT_THAT(r.lines, Contains("entry|k||enters (this version is not approved: its sends are "
                                "suppressed)"));
  EXPECT_THAT(r.lines, Contains(::testing::MatchesRegex(
                           "guardrail\\|k\\|s[23]\\|approval: this version \\(\\w+\\) is not "
                           "approved; no sign-off by legal -> suppressed unapproved")));
  // The split names the customer's point and the arm it falls in.
  EXPECT_THAT(r.lines, Contains(::testing::MatchesRegex(
                           "step\\|k\\|s1\\|split: the customer falls in the arm (0% \\.\\. 30%|30% \\.\\. "
                           "100%) \\(their point is [0-9]+ of 10000, fixed per customer and step\\) -> "
                           "s[23]")));
}

TEST(Trace, WithoutExplainingTheClausesAreListedWithoutValues) {
  Explained x(kProgram, /*explain=*/false);
  Recorder r;
  x.engine->SetTrace(&r, "ana");
  x.Feed(TrackJson("ana", "cart", At(0), R"({"value": 80})", "m1"));
  EXPECT_THAT(r.lines, Contains("clause|rescue||eligible big_spender"));
  EXPECT_THAT(r.lines, Not(Contains(HasSubstr("segment"))));
}

TEST(Trace, TracingChangesNoDecision) {
  const std::vector<std::string> stream = {
      IdentifyJson("ana", At(0), R"({"country":"DE","ltv":500,"timezone":"Europe/Berlin"})", "i1"),
      TrackJson("ana", "cart", Time("2026-06-01T18:00:00Z"), R"({"value": 80})", "m1"),
      TrackJson("bob", "cart", Time("2026-06-01T18:30:00Z"), R"({"value": 80})", "m2"),
      TrackJson("ana", "cart", Time("2026-06-03T18:30:00Z"), R"({"value": 80})", "m3"),
  };
  Explained plain(kProgram, /*explain=*/false), traced(kProgram);
  Recorder r;
  traced.engine->SetTrace(&r, "");
  for (const std::string& m : stream) {
    plain.Feed(m);
    traced.Feed(m);
  }
  plain.engine->AdvanceTo(Time("2026-06-05T00:00:00Z"), plain.sink);
  traced.engine->AdvanceTo(Time("2026-06-05T00:00:00Z"), traced.sink);
  ASSERT_FALSE(r.lines.empty());
  ASSERT_EQ(plain.sink.decisions.size(), traced.sink.decisions.size());
  for (size_t i = 0; i < plain.sink.decisions.size(); ++i) {
    EXPECT_EQ(plain.sink.decisions[i].ToJson(), traced.sink.decisions[i].ToJson());
  }
  EXPECT_EQ(plain.engine->stats().div_by_zero, traced.engine->stats().div_by_zero);
}

TEST(Trace, ElseIfChainsNameTheLineOfTheNextCondition) {
  Explained x(R"(
channel push { }
journey j {
  on cart
  if event.value > 100 {
    send push "big"
  } else if event.value > 50 {
    send push "medium"
  } else {
    send push "small"
  }
}
)");
  Recorder r;
  x.engine->SetTrace(&r, "ana");
  x.Feed(TrackJson("ana", "cart", At(0), R"({"value": 20})", "m1"));
  // kBase's lines, then the program's (after its leading newline): `else if` is the 7th.
  const int line = static_cast<int>(std::count(kBase, kBase + std::strlen(kBase), '\n')) + 7;
  EXPECT_THAT(r.lines, Contains("step|j|s1|if event.value > 100: false -> else if (line " +
                                std::to_string(line) + ")"));
  EXPECT_THAT(r.lines, Contains(HasSubstr("step|j|s1|if event.value > 50: false -> s")));
  EXPECT_THAT(r.lines, Contains(HasSubstr("send push \"small\"")));
}

TEST(Trace, AZoneThatIsNoTimeZoneIsSaidToBeUtc) {
  Explained x(R"(
channel email { quiet 21:00 .. 08:00 local }
journey j { on cart  send email "x" }
)");
  Recorder r;
  x.engine->SetTrace(&r, "ana");
  x.Feed(IdentifyJson("ana", At(0), R"({"timezone":"Mars/Base"})", "i1"));
  x.Feed(TrackJson("ana", "cart", Time("2026-06-01T22:00:00Z"), R"({"value": 1})", "m1"));
  EXPECT_THAT(r.lines, Contains(HasSubstr("quiet 21:00 .. 08:00 local (\"Mars/Base\" is not a time "
                                          "zone: UTC used): 22:00 there, inside")));
}

TEST(Trace, AnEntryRefusedByReentryStillShowsItsClauses) {
  Explained x(R"(
channel push { }
journey j { on cart when event.value > 10  send push "x" }
)");
  Recorder r;
  x.engine->SetTrace(&r, "ana");
  x.Feed(TrackJson("ana", "cart", At(0), R"({"value": 20})", "m1"));
  r.lines.clear();
  x.Feed(TrackJson("ana", "cart", At(kHour), R"({"value": 5})", "m2"));
  EXPECT_THAT(r.All(), HasSubstr("entry|j||does not enter: entered " + Iso(At(0)) +
                                     "; reenter never\nclause|j||on cart when event.value > 10: false\n"));
}

TEST(Trace, ConsentShowsTheTraitsItRead) {
  Explained x(R"(
segment reachable = profile.country != "" and profile.tier != "blocked"
channel email { consent profile.email_opt_in and reachable }
journey j { on cart  send email "x" }
)");
  Recorder r;
  x.engine->SetTrace(&r, "ana");
  x.Feed(IdentifyJson("ana", At(0), R"({"tier":"blocked","country":"FR"})", "i1"));
  x.Feed(TrackJson("ana", "cart", At(kMinute), R"({"value": 1})", "m1"));
  EXPECT_THAT(r.lines, Contains("guardrail|j|s1|consent profile.email_opt_in and reachable: false "
                                "(profile.email_opt_in = true, profile.country = \"FR\", "
                                "profile.tier = \"blocked\") -> suppressed consent"));
}

}  // namespace
}  // namespace juncture::enginetest
