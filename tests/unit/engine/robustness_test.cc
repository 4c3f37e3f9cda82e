// LANGUAGE.md §5: stable, unique decision ids (replaying the same input yields the
// same ids); dead letters for messages that cannot be used, which never affect other
// messages; and a flood of malformed and hostile messages interleaved with good ones
// that must leave the good ones' decisions exactly as they are when fed alone.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "engine_test_util.h"
#include "good_stream.h"

namespace juncture::enginetest {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<std::string> RunAll(const std::vector<std::string>& messages, int64_t end,
                                Collector* out = nullptr) {
  auto c = compiler::CompileSources({{"t.jny", kStreamProgram}}, compiler::CompileOptions{}, "");
  EXPECT_TRUE(c->ok()) << c->FormatDiagnostics(compiler::DiagnosticFormat::kText);
  if (!c->ok()) return {};
  runtime::Engine engine(*compiler::MakeInterpretedProgram(*c));
  Collector local;
  Collector& sink = out ? *out : local;
  for (const std::string& m : messages) engine.Process(m, sink);
  engine.AdvanceTo(end, sink);
  std::vector<std::string> lines;
  for (const Decision& d : sink.decisions) lines.push_back(d.ToJson());
  return lines;
}

// ---- stable ids ----------------------------------------------------------------------

TEST(DecisionIds, ReplayingTheSameInputYieldsTheSameDecisionsAndIds) {
  Stream s = GoodStream(800, 25, 7);
  auto first = RunAll(s.messages, s.end);
  auto second = RunAll(s.messages, s.end);
  ASSERT_GT(first.size(), 300u);
  EXPECT_EQ(first, second);
}

TEST(DecisionIds, AreUniqueWithinARun) {
  Stream s = GoodStream(800, 25, 11);
  Collector sink;
  RunAll(s.messages, s.end, &sink);
  std::set<std::string> ids;
  for (const Decision& d : sink.decisions) EXPECT_TRUE(ids.insert(d.id).second) << d.ToJson();
  // Every kind of decision was exercised.
  std::set<std::string> kinds;
  for (const Decision& d : sink.decisions) {
    kinds.insert((d.reason == runtime::Reason::kNone) ? std::string(runtime::ToString(d.outcome)) : std::string(runtime::ToString(d.outcome)) + std::string(":") + runtime::ToString(d.reason));
  }
  for (const char* k : {"entered", "completed", "exited", "sent", "deferred", "control",
                        "suppressed:arbitration", "suppressed:consent", "suppressed:cap"}) {
    EXPECT_TRUE(kinds.count(k)) << k;
  }
}

TEST(DecisionIds, FollowTheDocumentedShape) {
  EngineHarness h(std::string(kBase) + R"(
channel email { consent true  quiet 21:00 .. 08:00 }
journey j { on cart  send email "x"  control }
)");
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", Time("2026-06-01T22:00:00Z"), R"({"value":1})", "msg-1");
  h.Advance(Time("2026-06-02T09:00:00Z"));
  std::vector<std::string> ids;
  for (const Decision& d : h.all()) ids.push_back(d.id);
  EXPECT_THAT(ids, ElementsAre("msg-1:j:entry:entered", "msg-1:j:s1", "msg-1:j:s2",
                               "msg-1:j:end:completed", "msg-1:j:s1:release"));
}

TEST(DecisionIds, StayUniqueWhenAResumedInstanceEndsAndTheSameMessageTriggersTheJourney) {
  // The second app_open resumes the waiting instance, which sends and completes; the
  // same message is also a trigger of the journey (`reenter always`). Whether or not
  // the customer re-enters on it (§6 is about customers "already in" the journey),
  // every decision id must be unique (§5).
  EngineHarness h(std::string(kBase) + R"(
channel push { consent true }
journey j {
  on app_open
  reenter always
  if count(app_open within 1h) < 2 { wait until app_open within 1h }
  send push "x"
}
)");
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "app_open", At(0), "{}", "m-1");
  h.Track("c1", "app_open", At(kMinute), "{}", "m-2");
  std::set<std::string> ids;
  for (const Decision& d : h.all()) EXPECT_TRUE(ids.insert(d.id).second) << d.ToJson();
}

// ---- dead letters --------------------------------------------------------------------

TEST(DeadLetters, GetAOneLineReasonAndNothingElseHappens) {
  EngineHarness h(kStreamProgram);
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  struct Case {
    std::string message, reason;
  };
  std::vector<Case> cases = {
      {"{", "invalid JSON"},
      {"[1,2]", "message must be a JSON object, got array"},
      {R"({"type":"video","messageId":"x","userId":"c","timestamp":"2026-06-01T12:00:00Z"})",
       "type must be one of \"track\", \"identify\", \"page\", \"screen\", \"group\", \"alias\""},
      {R"({"type":"track","event":"cart","userId":"c","timestamp":"2026-06-01T12:00:00Z"})",
       "missing messageId"},
      {R"({"type":"track","event":"cart","messageId":"x","timestamp":"2026-06-01T12:00:00Z"})",
       "missing userId and anonymousId"},
      {R"({"type":"track","event":"cart","messageId":"x","userId":"c"})", "missing timestamp"},
      {R"({"type":"track","event":"cart","messageId":"x","userId":"c","timestamp":"soon"})",
       "timestamp 'soon' is not ISO-8601"},
      {R"({"type":"track","event":"cart","messageId":"x","userId":"c","timestamp":"2026-06-01T12:00:00Z","properties":{}})",
       "missing required property 'value'"},
      {R"({"type":"track","event":"cart","messageId":"x","userId":"c","timestamp":"2026-06-01T12:00:00Z","properties":{"value":"12"}})",
       "property 'value' must be a number, got string"},
      {R"({"type":"track","event":"cart","messageId":"x","userId":"c","timestamp":"2026-06-01T12:00:00Z","properties":{"value":1,"items":1.5}})",
       "property 'items' must be an integer"},
      {R"({"type":"identify","messageId":"x","userId":"c","timestamp":"2026-06-01T12:00:00Z","traits":{"ltv":"lots"}})",
       "trait 'ltv' must be a number, got string"},
  };
  for (const Case& c : cases) h.Raw(c.message);
  ASSERT_EQ(h.dead_letters().size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(h.dead_letters()[i].first, cases[i].message);
    EXPECT_THAT(h.dead_letters()[i].second, HasSubstr(cases[i].reason)) << cases[i].message;
    EXPECT_EQ(h.dead_letters()[i].second.find('\n'), std::string::npos);
  }
  EXPECT_THAT(h.all(), IsEmpty());
  EXPECT_EQ(h.engine().stats().dead_letters, cases.size());
  EXPECT_EQ(h.engine().now(), 0);  // a dead letter does not move time
}

TEST(DeadLetters, DoNotAffectOtherMessages) {
  EngineHarness h(std::string(kBase) + R"(
channel push { consent true }
journey j {
  on cart
  wait until purchase within 1h { send push "thanks" { order: event.order_id } }
  else { send push "late" { n: count(cart within 1d), tier: profile.tier } }
}
)");
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("c1", "cart", At(0), R"({"value":1})");
  // Bad messages for the same customer, of the events the instance waits for, in the
  // windows it reads and for its profile; one with a far-future timestamp.
  h.Track("c1", "purchase", At(kMinute), R"({"amount":"x","order_id":"o"})");
  h.Track("c1", "purchase", At(kMinute), R"({"amount":1})");
  h.Track("c1", "cart", At(kMinute), R"({"value":null})");
  h.Raw(R"({"type":"track","event":"purchase","messageId":"x","userId":"c1",)"
        R"("timestamp":"2099-01-01T00:00:00Z","properties":{"amount":1}})");
  h.Raw(R"({"type":"identify","messageId":"y","userId":"c1","timestamp":"2026-06-01T12:02:00Z",)"
        R"("traits":{"tier":"gold","ltv":"lots"}})");
  EXPECT_EQ(h.dead_letters().size(), 5u);
  EXPECT_EQ(h.engine().next_timer(), At(kHour));
  h.Advance(At(kHour));
  ASSERT_EQ(h.actions().size(), 1u);
  EXPECT_EQ(h.actions()[0].template_name, "late");
  // The rejected identify merged nothing (not even its valid trait).
  EXPECT_EQ(h.actions()[0].params_json, R"({"n":1,"tier":"standard"})");
}

// ---- the flood -----------------------------------------------------------------------

enum class Fate { kDead, kIgnored };

struct Hostile {
  std::string message;
  Fate fate;
};

std::string Nested(int depth, const std::string& open, const std::string& close) {
  std::string s;
  s.reserve(depth * (open.size() + close.size()));
  for (int i = 0; i < depth; ++i) s += open;
  for (int i = 0; i < depth; ++i) s += close;
  return s;
}

// One malformed or hostile message. `good` is a good message to mangle, `customer` a
// good customer to target, `now` the latest good timestamp (ignored messages must not
// move virtual time: a valid timestamp from later would legitimately fire timers).
Hostile MakeHostile(std::mt19937& rng, int n, const std::string& good, const std::string& customer,
                    int64_t now) {
  const std::string id = "h-" + std::to_string(n);
  const std::string ts = Iso(now - static_cast<int64_t>(rng() % 3600) * kSecond);
  static const std::string big(100 * 1024, 'x');
  auto track = [&](const std::string& event, const std::string& props) {
    return TrackJson(customer, event, Time(ts), props, id);
  };
  auto envelope = [&](const std::string& rest) {
    return "{\"type\":\"track\",\"messageId\":\"" + id + "\",\"userId\":\"" + customer +
           "\",\"timestamp\":\"" + ts + "\"" + rest + "}";
  };
  switch (rng() % 44) {
    case 0: return {"", Fate::kDead};
    case 1: return {"{", Fate::kDead};
    case 2: return {good.substr(0, 1 + rng() % (good.size() - 1)), Fate::kDead};  // truncated
    case 3: return {"[1,2,3]", Fate::kDead};
    case 4: {
      static const char* const kScalars[] = {"null", "42", "\"s\"", "true", "-0.5e3"};
      return {kScalars[rng() % 5], Fate::kDead};
    }
    case 5: {
      std::string garbage = "{\xff";
      for (int i = 0; i < 64; ++i) garbage += static_cast<char>(rng() % 256);
      return {garbage, Fate::kDead};
    }
    case 6: {
      std::string m = good;
      m.replace(m.find("\"type\":\""), 8, "\"type\":\"page");
      return {m, Fate::kDead};
    }
    case 7: {
      std::string m = good;
      m.replace(m.find("\"type\":"), 7, "\"kind\":");
      return {m, Fate::kDead};
    }
    case 8: {
      std::string m = good;
      m.replace(m.find("\"messageId\":"), 12, "\"message_id\":");
      return {m, Fate::kDead};
    }
    case 9:
      return {"{\"type\":\"track\",\"event\":\"cart\",\"messageId\":123,\"userId\":\"" + customer +
                  "\",\"timestamp\":\"" + ts + "\",\"properties\":{\"value\":99}}",
              Fate::kDead};
    case 10:
      return {"{\"type\":\"track\",\"event\":\"cart\",\"messageId\":\"\",\"userId\":\"" + customer +
                  "\",\"timestamp\":\"" + ts + "\",\"properties\":{\"value\":99}}",
              Fate::kDead};
    case 11:
      return {"{\"type\":\"track\",\"event\":\"cart\",\"messageId\":\"" + id +
                  "\",\"userId\":[42],\"anonymousId\":null,\"timestamp\":\"" + ts +
                  "\",\"properties\":{\"value\":99}}",
              Fate::kDead};
    case 12:
      return {"{\"type\":\"track\",\"event\":\"cart\",\"messageId\":\"" + id +
                  "\",\"userId\":\"\",\"anonymousId\":\"\",\"timestamp\":\"" + ts +
                  "\",\"properties\":{\"value\":99}}",
              Fate::kDead};
    case 13: {
      const char* bad[] = {"", "yesterday", "2026-13-45T99:99:99Z", "2026-06-01", "\\u0000"};
      return {"{\"type\":\"track\",\"event\":\"cart\",\"messageId\":\"" + id + "\",\"userId\":\"" +
                  customer + "\",\"timestamp\":\"" + bad[rng() % 5] +
                  "\",\"properties\":{\"value\":99}}",
              Fate::kDead};
    }
    case 14:
      return {"{\"type\":\"track\",\"event\":\"cart\",\"messageId\":\"" + id + "\",\"userId\":\"" +
                  customer + "\",\"timestamp\":12345,\"properties\":{\"value\":99}}",
              Fate::kDead};
    case 15: return {envelope(",\"properties\":{\"value\":99}"), Fate::kDead};  // no event
    case 16: return {envelope(",\"event\":7,\"properties\":{\"value\":99}"), Fate::kDead};
    case 17: return {envelope(",\"event\":\"\",\"properties\":{\"value\":99}"), Fate::kDead};
    case 18: return {track("cart", "{\"value\":\"abc\"}"), Fate::kDead};
    case 19: return {track("cart", "{\"items\":2}"), Fate::kDead};  // value missing
    case 20: return {track("cart", "{\"value\":99,\"items\":1.5}"), Fate::kDead};
    case 21: return {track("cart", "{\"value\":99,\"items\":1e30}"), Fate::kDead};
    case 22: return {track("cart", "{\"value\":99,\"items\":99999999999999999999}"), Fate::kDead};
    case 23: return {track("cart", "{\"value\":1e400}"), Fate::kDead};
    case 24: return {track("cart", "[{\"value\":99}]"), Fate::kDead};
    case 25: return {Nested(5000, "[", "]"), Fate::kDead};
    case 26:
      return {track("cart", "{\"value\":99,\"deep\":" + Nested(2000, "{\"a\":", "}") + "}"),
              Fate::kDead};
    case 27: return {track("cart", "{\"value\":\"" + big + "\"}"), Fate::kDead};
    case 28:
      return {"{\"type\":\"track\",\"event\":\"cart\",\"messageId\":\"" + big + "\",\"userId\":\"" +
                  customer + "\",\"properties\":{\"value\":99}}",
              Fate::kDead};  // no timestamp
    case 29:
      return {IdentifyJson(customer, Time(ts), "\"traits as a string\"", id), Fate::kDead};
    case 30:
      return {IdentifyJson(customer, Time(ts),
                           "{\"country\":\"XX\",\"email_opt_in\":\"yes\",\"tier\":\"gold\"}", id),
              Fate::kDead};
    case 31:
      return {IdentifyJson(customer, Time(ts), "{\"ltv\":\"" + big + "\"}", id), Fate::kDead};
    case 32: return {envelope(",\"event\":\"car\xff\xfe\",\"properties\":{}"), Fate::kDead};
    case 33: return {track("purchase", "{\"amount\":5,\"order_id\":5}"), Fate::kDead};
    case 34: {
      std::string m = track("page_view", "{\"path\":\"/a\x01\x02\"}");  // raw control bytes
      return {m, Fate::kDead};
    }
    case 35:
      // A valid far-future timestamp on a message that is otherwise unusable: it must not
      // move virtual time.
      return {TrackJson(customer, "purchase", Time("2099-12-31T23:59:59Z"),
                        "{\"amount\":\"free\",\"order_id\":\"o\"}", id),
              Fate::kDead};
    case 36:
      if (rng() % 50 == 0) {
        return {track("cart", "{\"value\":99,\"pad\":\"" + std::string(1100 * 1024, 'y') + "\"}"),
                Fate::kDead};  // over 1 MiB
      }
      return {track("cart", "{\"value\":99,\"items\":-9223372036854775809}"), Fate::kDead};
    // Ignored: tracks of undeclared events (whatever their properties), never later
    // than the good stream.
    case 37: return {track("mystery_" + std::to_string(rng() % 100), "{\"value\":99}"), Fate::kIgnored};
    case 38: return {track("x" + big, "{}"), Fate::kIgnored};
    case 39: return {track("deep", "{\"a\":" + Nested(500, "[", "]") + "}"), Fate::kIgnored};
    case 40: return {track("huge", "{\"n\":1e308,\"m\":-1e308,\"k\":18446744073709551615}"), Fate::kIgnored};
    case 41: return {track("Cart", "{\"value\":99}"), Fate::kIgnored};
    case 42: return {track("purchase_completed", "[1,2,3]"), Fate::kIgnored};
    default: return {track("cart ", "{\"value\":\"" + big + "\"}"), Fate::kIgnored};
  }
}

TEST(HostileInput, TenThousandBadMessagesLeaveTheGoodOnesDecisionsExactlyAsAlone) {
  Stream s = GoodStream(600, 20, 3);
  std::vector<std::string> alone = RunAll(s.messages, s.end);
  ASSERT_GT(alone.size(), 200u);

  std::mt19937 rng(12345);
  std::vector<std::string> mixed;
  size_t dead = 0, ignored = 0, hostile = 0;
  const size_t kHostile = 10000;
  for (size_t i = 0; i < s.messages.size(); ++i) {
    mixed.push_back(s.messages[i]);
    size_t quota = (kHostile * (i + 1)) / s.messages.size() - hostile;
    for (size_t k = 0; k < quota; ++k, ++hostile) {
      const std::string& customer = s.customers[rng() % s.customers.size()];
      Hostile bad = MakeHostile(rng, static_cast<int>(hostile), s.messages[i], customer, s.times[i]);
      (bad.fate == Fate::kDead ? dead : ignored) += 1;
      mixed.push_back(std::move(bad.message));
    }
  }
  ASSERT_EQ(hostile, kHostile);

  auto c = compiler::CompileSources({{"t.jny", kStreamProgram}}, compiler::CompileOptions{}, "");
  ASSERT_TRUE(c->ok());
  runtime::Engine engine(*compiler::MakeInterpretedProgram(*c));
  Collector sink;
  for (const std::string& m : mixed) engine.Process(m, sink);
  engine.AdvanceTo(s.end, sink);

  std::vector<std::string> got;
  for (const Decision& d : sink.decisions) got.push_back(d.ToJson());
  EXPECT_EQ(got.size(), alone.size());
  EXPECT_TRUE(got == alone) << "the decisions differ from the good messages' alone";
  for (size_t i = 0; i < std::min(got.size(), alone.size()); ++i) {
    if (got[i] != alone[i]) {
      ADD_FAILURE() << "first difference at " << i << ":\n  mixed: " << got[i]
                    << "\n  alone: " << alone[i];
      break;
    }
  }
  EXPECT_EQ(sink.dead_letters.size(), dead);
  EXPECT_EQ(engine.stats().dead_letters, dead);
  EXPECT_EQ(engine.stats().ignored, ignored);
  EXPECT_EQ(engine.stats().messages, mixed.size());
  for (const auto& [message, reason] : sink.dead_letters) {
    EXPECT_FALSE(reason.empty());
    EXPECT_EQ(reason.find('\n'), std::string::npos) << reason;
    EXPECT_LE(reason.size(), 300u) << reason.substr(0, 300);
  }
  EXPECT_GT(dead, 7000u);
  EXPECT_GT(ignored, 1000u);
}

}  // namespace
}  // namespace juncture::enginetest
