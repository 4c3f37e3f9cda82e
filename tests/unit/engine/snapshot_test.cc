// Engine snapshots (docs/semantics.md "Snapshots"): an engine restored from a
// snapshot taken after any prefix of a stream decides the rest of the stream exactly
// as the engine that never stopped; snapshots round-trip byte for byte; they load
// into an edited program by name; bad bytes are rejected and change nothing.
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <set>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "engine_test_util.h"
#include "state_streams.h"
#include "juncture/compiler/backend.h"

namespace juncture::enginetest {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

runtime::CompiledProgram Compile(const std::string& source) {
  auto c = compiler::CompileSources({{"t.jny", source}}, compiler::CompileOptions{});
  EXPECT_TRUE(c->ok()) << c->FormatDiagnostics(compiler::DiagnosticFormat::kText);
  if (!c->ok()) return {};
  return *compiler::MakeInterpretedProgram(*c);
}

// ---- The stream and the cut-point property ---------------------------------------

// Runs `inputs` through engine A, snapshotting before every input; then, for every
// cut k, a fresh engine B loads A's snapshot k, takes inputs k.. and time to `end_us`,
// and must say exactly what A said after the cut and end in the same state.
// Returns A's decisions (for sanity checks on the stream).
std::vector<Decision> ExpectEveryCutResumesExactly(const runtime::CompiledProgram& program,
                                                   const std::vector<Input>& inputs,
                                                   int64_t end_us) {
  runtime::Engine a(program);
  Collector sink;
  std::vector<std::string> snapshots;
  std::vector<std::pair<size_t, size_t>> said;  // (decisions, dead letters) before input k
  for (size_t k = 0; k <= inputs.size(); ++k) {
    snapshots.push_back(a.SaveSnapshot("pos-" + std::to_string(k)));
    said.emplace_back(sink.decisions.size(), sink.dead_letters.size());
    if (k < inputs.size()) Feed(a, inputs[k], sink);
  }
  a.AdvanceTo(end_us, sink);
  const std::string final_state = a.SaveSnapshot("end");

  for (size_t k = 0; k <= inputs.size(); ++k) {
    SCOPED_TRACE("cut after " + std::to_string(k) + " inputs");
    runtime::Engine b(program);
    Result<std::string> loaded = b.LoadSnapshot(snapshots[k]);
    if (!loaded.ok()) {
      ADD_FAILURE() << loaded.status().ToString();
      break;
    }
    const std::string position = *loaded;
    EXPECT_EQ(position, "pos-" + std::to_string(k));
    EXPECT_EQ(b.SaveSnapshot(position), snapshots[k]) << "save -> load -> save differs";
    Collector rest;
    for (size_t i = k; i < inputs.size(); ++i) Feed(b, inputs[i], rest);
    b.AdvanceTo(end_us, rest);
    EXPECT_EQ(Lines(rest, 0, 0), Lines(sink, said[k].first, said[k].second));
    EXPECT_EQ(b.SaveSnapshot("end"), final_state) << "different state at the end";
    if (::testing::Test::HasFailure()) break;  // one cut's report is enough
  }
  return sink.decisions;
}


TEST(Snapshot, EveryCutResumesExactlyOnAHandWrittenStream) {
  runtime::CompiledProgram program = Compile(Program());
  ASSERT_TRUE(program.spec);
  // Night in UTC: the email of `late` (resumed by the cart) is deferred, then taken
  // back by `hot` entering on the same cart; caps; a wait until timeout; an exit.
  std::vector<Input> in;
  auto msg = [&](std::string json) { in.push_back({Input::kMessage, std::move(json), 0}); };
  msg(IdentifyJson("ana", At(0), R"({"timezone":"UTC"})", "i1"));
  msg(TrackJson("ana", "app_open", At(kHour), "{}", "m1"));
  msg(TrackJson("cy", "page_view", At(2 * kHour), R"({"path":"/checkout/a","ms":5,"score":1.5})", "m2"));
  msg(TrackJson("ana", "cart", At(10 * kHour), R"({"value":50})", "m3"));   // 22:00 UTC
  msg(TrackJson("ana", "page_view", At(10 * kHour + kMinute), R"({"path":"/sale/x"})", "m4"));
  msg(TrackJson("ana", "app_open", At(11 * kHour), "{}", "x5"));
  msg(TrackJson("ana", "cart", At(12 * kHour), R"({"value":45,"coupon":"Z"})", "m6"));
  msg(TrackJson("ben", "cart", At(13 * kHour), R"({"value":25})", "m7"));
  msg(TrackJson("ben", "purchase", At(14 * kHour), R"({"amount":150,"order_id":"o"})", "m8"));
  msg("not json at all");
  in.push_back({Input::kAdvance, "", At(30 * kHour)});
  msg(TrackJson("ana", "unsubscribed", At(31 * kHour), "{}", "m9"));
  std::vector<Decision> all = ExpectEveryCutResumesExactly(program, in, At(5 * kDay));
  std::set<std::string> seen;
  for (const Decision& d : all) seen.insert(std::string(runtime::ToString(d.outcome)) + ((d.reason == runtime::Reason::kNone) ? "" : std::string(":") + runtime::ToString(d.reason)));
  EXPECT_TRUE(seen.count("deferred")) << "the stream should exercise quiet hours";
  EXPECT_TRUE(seen.count("suppressed:arbitration"));
  EXPECT_TRUE(seen.count("suppressed:cap"));
}

TEST(Snapshot, EveryCutResumesExactlyOnRandomStreams) {
  runtime::CompiledProgram program = Compile(Program());
  ASSERT_TRUE(program.spec);
  std::map<std::string, int> outcomes;
  for (uint32_t seed : {1u, 2u, 3u, 4u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    int64_t end_us = 0;
    std::vector<Input> in = RandomStream(seed, 120, /*serve=*/seed % 2 == 0, end_us);
    for (const Decision& d : ExpectEveryCutResumesExactly(program, in, end_us)) {
      ++outcomes[std::string(runtime::ToString(d.outcome)) + ((d.reason == runtime::Reason::kNone) ? "" : std::string(":") + runtime::ToString(d.reason))];
    }
    if (HasFailure()) return;
  }
  // The streams reach every kind of decision the property is about.
  for (const char* o : {"sent", "deferred", "suppressed:cap", "suppressed:consent",
                        "suppressed:arbitration", "control", "entered", "exited", "completed"}) {
    EXPECT_GT(outcomes[o], 0) << o;
  }
}

TEST(Snapshot, EveryCutResumesExactlyOnTheExampleProgram) {
  // examples/: every field type (lists, times, durations, optional fields), approvals,
  // local quiet hours with drop, and its two-day demo stream with bad messages.
  const std::string dir = std::string(JUNCTURE_TEST_SOURCE_DIR) + "/examples";
  auto c = compiler::CompileFiles({dir}, compiler::CompileOptions{});
  ASSERT_TRUE(c->ok()) << c->FormatDiagnostics(compiler::DiagnosticFormat::kText);
  runtime::CompiledProgram program = *compiler::MakeInterpretedProgram(*c);
  std::ifstream events(dir + "/events/demo.jsonl");
  std::vector<Input> in;
  std::string line;
  while (std::getline(events, line)) {
    if (!line.empty()) in.push_back({Input::kMessage, line, 0});
  }
  ASSERT_GT(in.size(), 40u);
  std::vector<Decision> all =
      ExpectEveryCutResumesExactly(program, in, Time("2026-12-02T22:05:00Z") + 3 * kDay);
  EXPECT_GT(all.size(), 30u);
}

// ---- Round trips ---------------------------------------------------------------------

TEST(Snapshot, AFreshEngineRoundTripsAndThePositionIsKept) {
  runtime::CompiledProgram program = Compile(Program());
  ASSERT_TRUE(program.spec);
  runtime::Engine a(program);
  std::string position = "stream seq 42";
  position += '\0';
  position += "\xff binary";
  std::string bytes = a.SaveSnapshot(position);
  runtime::Engine b(program);
  Result<std::string> got = b.LoadSnapshot(bytes);
  ASSERT_OK(got);
  EXPECT_EQ(*got, position);
  EXPECT_EQ(b.SaveSnapshot(position), bytes);
  EXPECT_EQ(b.now(), 0);
  EXPECT_EQ(b.next_timer(), INT64_MAX);
}

TEST(Snapshot, TimeTimersAndStatsComeBack) {
  EngineHarness h(Program());
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("ana", "cart", At(0), R"({"value":30})", "m1");
  h.Raw("garbage");
  h.Track("ana", "Order Shipped", At(kMinute));
  runtime::Engine b(Compile(Program()));
  ASSERT_OK(b.LoadSnapshot(h.engine().SaveSnapshot()));
  EXPECT_EQ(b.now(), h.engine().now());
  EXPECT_EQ(b.next_timer(), At(30 * kMinute));
  const runtime::EngineStats& s = b.stats();
  EXPECT_EQ(s.messages, 3u);
  EXPECT_EQ(s.dead_letters, 1u);
  EXPECT_EQ(s.ignored, 1u);
  EXPECT_EQ(s.decisions, h.engine().stats().decisions);
  EXPECT_FALSE(s.by_outcome.empty());
  EXPECT_EQ(s.by_outcome, h.engine().stats().by_outcome);
}

// The engine counts outcomes in an array and names them only when its stats are read:
// a loaded state replaces the counts not yet read too.
TEST(Snapshot, LoadingReplacesOutcomesCountedButNotYetRead) {
  EngineHarness h(Program());
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  runtime::Engine fresh(Compile(Program()));
  const std::string nothing_decided = fresh.SaveSnapshot();
  h.Track("ana", "cart", At(0), R"({"value":30})", "m1");  // decides; stats not read
  ASSERT_OK(h.engine().LoadSnapshot(nothing_decided));
  EXPECT_EQ(h.engine().stats().decisions, 0u);
  EXPECT_TRUE(h.engine().stats().by_outcome.empty());
  h.Track("ana", "cart", At(kMinute), R"({"value":30})", "m2");
  EXPECT_EQ(h.engine().stats().by_outcome.at("entered"), 1u);
}

// ---- An edited program ---------------------------------------------------------------

const char* kV1 = R"(
channel email { consent true  cap 5 per 1d }
channel sms { consent true  quiet 21:00 .. 08:00 }
journey j { on cart  wait 1h  send email "v1" { value: event.value } }
journey gone { on cart  wait 1h  send email "gone" }
journey k { on cart  wait 1h  send email "k1"  wait 1d  send email "k2" }
journey night { on app_open  reenter always  send sms "night" }
journey counter { on page_view  reenter always  send email "n" { n: count(page_view within 1d) } }
)";

// `gone` removed; `k` lost its second wait; channel sms removed; a profile field and a
// cart field added; `ltv` changed type; `discount` removed.
const char* kV2Events = R"(
event cart { value: float  items: int = 0  currency: string = "USD"  coupon: string?  note: string = "n/a" }
event purchase { amount: float  order_id: string }
event page_view { path: string  ms: int = 0  score: float? }
event unsubscribed { }
event app_open { }
profile {
  country: string = ""
  tier: string = "standard"
  email_opt_in: bool = true
  push_opt_in: bool = true
  timezone: string = "UTC"
  ltv: string = "unknown"
  divisor: int = 0
  vip: bool = true
}
channel email { consent true  cap 5 per 1d }
journey counter { on page_view  reenter always  send email "n" { n: count(page_view within 1d) } }
journey k { on cart  wait 1h  send email "k1"  send email "k2" }
journey j {
  on cart
  wait 1h
  send email "v2" { value: event.value, note: event.note, vip: profile.vip, ltv: profile.ltv,
                    tier: profile.tier }
}
)";

TEST(Snapshot, LoadsIntoAnEditedProgramByNameAndDropsWhatIsGone) {
  EngineHarness h(std::string(kBase) + kV1);
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Identify("ana", At(0), R"({"tier":"gold","ltv":12.5,"discount":3})");
  h.Track("ana", "page_view", At(kMinute), R"({"path":"/"})");
  h.Track("ana", "cart", At(2 * kMinute), R"({"value":10})", "c1");
  h.Advance(At(2 * kMinute + kHour));  // j, gone, k send; k waits 1d at its second wait
  h.Track("ana", "app_open", At(11 * kHour), "{}", "late");  // 23:00: sms deferred
  h.Track("ben", "cart", At(11 * kHour + kMinute), R"({"value":20})", "c2");
  std::string bytes = h.engine().SaveSnapshot("p");

  runtime::Engine b(Compile(std::string(kV2Events)));
  ASSERT_OK(b.LoadSnapshot(bytes));
  Collector after;
  b.AdvanceTo(At(3 * kDay), after);
  b.Process(TrackJson("ana", "page_view", At(3 * kDay), R"({"path":"/"})", "pv2"), after);
  std::vector<std::string> brief;
  for (const Decision& d : after.decisions) brief.push_back(Brief(d) + " " + d.customer);
  // ben's `j` and `k` instances (waiting at steps that still exist) resume in the new
  // version, with his cart re-laid out (`note` at its default) and a default profile;
  // ana's `k` instance (at the removed second wait), `gone`, and the sms release
  // (its channel is gone) are dropped.
  EXPECT_THAT(brief, ElementsAre("j:s2:sent ben", "j:end:completed ben", "k:s2:sent ben",
                                 "k:s3:sent ben", "k:end:completed ben",
                                 "counter:entry:entered ana", "counter:s1:sent ana",
                                 "counter:end:completed ana"));
  ASSERT_EQ(after.decisions.size(), 8u);
  EXPECT_EQ(after.decisions[0].params_json,
            R"({"value":20,"note":"n/a","vip":true,"ltv":"unknown","tier":"standard"})");
  EXPECT_EQ(after.decisions[0].cause, "c2");
  // The view of three days ago has left the window (carried-over history:
  // WindowHistoryAndCapsFollowTheirNames).
  EXPECT_EQ(after.decisions[6].params_json, R"({"n":1})");
  EXPECT_EQ(b.next_timer(), INT64_MAX);
}

TEST(Snapshot, EditedProgramKeepsProfilesByFieldNameAndType) {
  EngineHarness h(std::string(kBase) + kV1);
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Identify("ana", At(0), R"({"tier":"gold","ltv":12.5,"timezone":"Asia/Tokyo"})");
  h.Track("ana", "cart", At(kMinute), R"({"value":7,"coupon":"Q"})", "c1");
  runtime::Engine b(Compile(std::string(kV2Events)));
  ASSERT_OK(b.LoadSnapshot(h.engine().SaveSnapshot()));
  Collector after;
  b.AdvanceTo(At(2 * kHour), after);
  std::vector<Decision> sends;
  for (const Decision& d : after.decisions) {
    if (d.template_name == "v2") sends.push_back(d);
  }
  ASSERT_EQ(sends.size(), 1u);
  // tier kept; ltv changed type (float -> string): its new default; vip: new, default.
  EXPECT_EQ(sends[0].params_json,
            R"({"value":7,"note":"n/a","vip":true,"ltv":"unknown","tier":"gold"})");
}

TEST(Snapshot, WindowHistoryAndCapsFollowTheirNames) {
  // The same journeys in another order and with an extra channel first: indices move,
  // names do not.
  const std::string v1 = std::string(kBase) +
                         "channel email { consent true  cap 2 per 1d }\n"
                         "journey w { on page_view  reenter always  send email \"w\" "
                         "{ n: count(page_view within 1d), s: sum(page_view.ms within 1d) } }\n";
  const std::string v2 = std::string(kBase) +
                         "channel push { consent true }\n"
                         "channel email { consent true  cap 2 per 1d }\n"
                         "journey other { on cart  send push \"o\" }\n"
                         "journey w { on page_view  reenter always  send email \"w\" "
                         "{ n: count(page_view within 1d), s: sum(page_view.ms within 1d) } }\n";
  EngineHarness h(v1);
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("ana", "page_view", At(0), R"({"path":"/","ms":5})");
  h.Track("ana", "page_view", At(kMinute), R"({"path":"/","ms":7})");
  runtime::Engine b(Compile(v2));
  ASSERT_OK(b.LoadSnapshot(h.engine().SaveSnapshot()));
  Collector after;
  b.Process(TrackJson("ana", "page_view", At(2 * kMinute), R"({"path":"/","ms":1})", "p3"), after);
  std::vector<std::string> brief;
  for (const Decision& d : after.decisions) brief.push_back(Brief(d) + " " + d.params_json);
  EXPECT_THAT(brief, ElementsAre("w:entry:entered ", "w:s1:suppressed:cap {\"n\":3,\"s\":13}",
                                 "w:end:completed "));
}

// ---- Bad bytes ---------------------------------------------------------------------

// An engine with some state, and that state's snapshot, to check that failed loads
// leave it alone.
struct Loaded {
  std::unique_ptr<runtime::Engine> engine;
  std::string state;
};

Loaded EngineWithState(const runtime::CompiledProgram& program, std::string* snapshot_out) {
  runtime::Engine a(program);
  Collector sink;
  int64_t end_us = 0;
  for (const Input& in : RandomStream(7, 40, false, end_us)) Feed(a, in, sink);
  *snapshot_out = a.SaveSnapshot("pos");
  Loaded out{std::make_unique<runtime::Engine>(program), ""};
  // A different state than the snapshot's, to see any partial load.
  Collector other;
  out.engine->Process(TrackJson("zed", "cart", At(0), R"({"value":99})", "z1"), other);
  out.state = out.engine->SaveSnapshot("mine");
  return out;
}

TEST(Snapshot, TruncatedSnapshotsAreRejectedAndChangeNothing) {
  runtime::CompiledProgram program = Compile(Program());
  ASSERT_TRUE(program.spec);
  std::string good;
  Loaded l = EngineWithState(program, &good);
  ASSERT_GT(good.size(), 1000u);
  for (size_t n = 0; n < good.size(); ++n) {
    Result<std::string> loaded = l.engine->LoadSnapshot(std::string_view(good).substr(0, n));
    ASSERT_FALSE(loaded.ok()) << n;
    ASSERT_EQ(loaded.status().code(), StatusCode::kCorruption) << loaded.status().ToString();
    ASSERT_FALSE(loaded.status().message().empty());
  }
  EXPECT_FALSE(l.engine->LoadSnapshot(good + "x").ok());  // trailing byte
  EXPECT_EQ(l.engine->SaveSnapshot("mine"), l.state);
}

TEST(Snapshot, EveryBitFlipIsRejectedAndChangesNothing) {
  runtime::CompiledProgram program = Compile(Program());
  ASSERT_TRUE(program.spec);
  std::string good;
  Loaded l = EngineWithState(program, &good);
  std::map<std::string, int> reasons;
  for (size_t i = 0; i < good.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      Status status = l.engine->LoadSnapshot(bad).status();
      ASSERT_FALSE(status.ok()) << "byte " << i << " bit " << bit;
      const std::string& error = status.message();
      ++reasons[error.substr(0, error.find_first_of("(:"))];
    }
  }
  EXPECT_EQ(l.engine->SaveSnapshot("mine"), l.state);
  EXPECT_GT(reasons["corrupt snapshot"], 0);
  // And the engine still works.
  Collector sink;
  l.engine->Process(TrackJson("zed", "app_open", At(kDay), "{}", "z2"), sink);
  EXPECT_FALSE(sink.decisions.empty());
}

TEST(Snapshot, ForeignAndRandomBytesAreRejectedWithAClearError) {
  runtime::CompiledProgram program = Compile(Program());
  ASSERT_TRUE(program.spec);
  runtime::Engine e(program);
  const std::string before = e.SaveSnapshot();
  auto error = [&](std::string_view bytes) { return e.LoadSnapshot(bytes).status().ToString(); };
  EXPECT_THAT(error(""), HasSubstr("corruption: not a Juncture engine snapshot"));
  EXPECT_THAT(error(std::string_view()), HasSubstr("not a Juncture engine snapshot"));
  EXPECT_THAT(error(R"({"kind":"juncture.engine.snapshot"})"),
              HasSubstr("not a Juncture engine snapshot"));
  // Valid CBOR, another kind.
  std::string foreign;
  nlohmann::json::to_cbor(nlohmann::json{{"kind", "something.else"}, {"version", 1}}, foreign);
  EXPECT_THAT(error(foreign), HasSubstr("not a Juncture engine snapshot"));
  // Deeply nested CBOR (arrays of arrays): refused before the reader recurses.
  EXPECT_THAT(error(std::string(1 << 20, '\x81')), HasSubstr("nested"));
  // Random bytes, some behind a valid-looking CBOR map header.
  std::mt19937 rng(5);
  for (int i = 0; i < 2000; ++i) {
    std::string bytes(rng() % 300, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    if (i % 2 == 0 && !bytes.empty()) bytes[0] = '\xa4';
    EXPECT_FALSE(e.LoadSnapshot(bytes).ok());
  }
  EXPECT_EQ(e.SaveSnapshot(), before);
}

// A snapshot with a valid envelope and checksum around `state` (customers decoded).
std::string Wrap(nlohmann::json state, int version = 1) {
  for (auto& c : state["customers"].items()) c.value() = nlohmann::json::binary(nlohmann::json::to_cbor(c.value()));
  std::vector<uint8_t> body = nlohmann::json::to_cbor(state);
  nlohmann::json envelope = {{"kind", "juncture.engine.snapshot"},
                             {"version", version},
                             {"xxh3", XXH3_64bits(body.data(), body.size())},
                             {"state", nlohmann::json::binary(std::move(body))}};
  std::string out;
  nlohmann::json::to_cbor(envelope, out);
  return out;
}

// The state map of a snapshot, with its customers decoded.
nlohmann::json StateOf(const std::string& snapshot) {
  nlohmann::json envelope = nlohmann::json::from_cbor(snapshot);
  nlohmann::json state = nlohmann::json::from_cbor(envelope["state"].get_binary());
  for (auto& c : state["customers"].items()) c.value() = nlohmann::json::from_cbor(c.value().get_binary());
  return state;
}

// A snapshot around state bytes as they are (any bytes), with a valid checksum.
std::string WrapBytes(std::vector<uint8_t> body) {
  nlohmann::json envelope = {{"kind", "juncture.engine.snapshot"},
                             {"version", 1},
                             {"xxh3", XXH3_64bits(body.data(), body.size())},
                             {"state", nlohmann::json::binary(std::move(body))}};
  std::string out;
  nlohmann::json::to_cbor(envelope, out);
  return out;
}

TEST(Snapshot, AlteredStatesBehindAValidChecksumNeverCrash) {
  // What the checksum cannot catch (a state written wrong): random byte changes to the
  // state, re-checksummed. Each load is either rejected or yields an engine that runs.
  runtime::CompiledProgram program = Compile(Program());
  ASSERT_TRUE(program.spec);
  std::string good;
  Loaded l = EngineWithState(program, &good);
  const std::vector<uint8_t> state = nlohmann::json::from_cbor(good)["state"].get_binary();
  std::mt19937 rng(11);
  int loaded = 0;
  for (int i = 0; i < 3000; ++i) {
    std::vector<uint8_t> bytes = state;
    for (int n = 1 + static_cast<int>(rng() % 4); n > 0; --n) {
      bytes[rng() % bytes.size()] = static_cast<uint8_t>(rng());
    }
    runtime::Engine e(program);
    Status status = e.LoadSnapshot(WrapBytes(std::move(bytes))).status();
    if (!status.ok()) {
      EXPECT_THAT(status.message(), HasSubstr("corrupt snapshot"));
      continue;
    }
    ++loaded;
    Collector sink;
    int64_t end_us = 0;
    for (const Input& in : RandomStream(i, 10, false, end_us)) Feed(e, in, sink);
    e.AdvanceTo(end_us, sink);
  }
  EXPECT_GT(loaded, 0);  // some changes (a digit of a time, a letter of a name) load
}

TEST(Snapshot, IntactButMalformedStatesAreRejected) {
  EngineHarness h(Program());
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Identify("ana", At(0), R"({"tier":"gold"})");
  h.Track("ana", "cart", At(kMinute), R"({"value":30})", "m1");
  h.Track("ana", "page_view", At(2 * kMinute), R"({"path":"/","ms":3})", "m2");
  const std::string good = h.engine().SaveSnapshot("p");
  const nlohmann::json state = StateOf(good);
  runtime::Engine e(Compile(Program()));
  const std::string before = e.SaveSnapshot();

  ASSERT_OK(e.LoadSnapshot(Wrap(state)));  // the wrapper is right
  ASSERT_OK(e.LoadSnapshot(before));

  Status v2 = e.LoadSnapshot(Wrap(state, 2)).status();
  EXPECT_EQ(v2.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(v2.message(), HasSubstr("version 2 is not supported"));

  auto rejects = [&](const std::function<void(nlohmann::json&)>& edit, const std::string& why) {
    nlohmann::json s = state;
    edit(s);
    Status status = e.LoadSnapshot(Wrap(s)).status();
    const std::string& err = status.message();
    EXPECT_EQ(status.code(), StatusCode::kCorruption) << why;
    EXPECT_THAT(err, HasSubstr("corrupt snapshot")) << why;
    EXPECT_THAT(err, HasSubstr(why));
  };
  rejects([](auto& s) { s.erase("position"); }, "missing 'position'");
  rejects([](auto& s) { s["position"] = "text"; }, "position: expected a byte string");
  rejects([](auto& s) { s["now"] = "noon"; }, "now: expected an integer");
  rejects([](auto& s) { s["customers"]["ana"]["profile"][1] = 5; },  // tier
          "field 'tier' does not match its type");
  rejects([](auto& s) { s["layouts"]["profile"][1][1] = 9; }, "unknown type code");
  rejects([](auto& s) { s["layouts"]["events"].erase("cart"); }, "no layout for event 'cart'");
  rejects([](auto& s) { s["customers"]["ana"]["instances"]["rescue"]["kind"] = "send"; },
          "an instance waits only at a wait");
  rejects([](auto& s) { s["customers"]["ana"]["instances"]["rescue"]["event"] = 99; },
          "no such record");
  rejects([](auto& s) { s["customers"]["ana"]["timers"][0]["kind"] = "explode"; },
          "unknown kind 'explode'");
  rejects([](auto& s) { s["timers"] = nlohmann::json::array({{{"due", 1}, {"seq", 1}}}); },
          "missing 'kind'");
  rejects([](auto& s) { s["customers"]["ana"]["records"][0][4] = nlohmann::json::array({1.5}); },
          "expected one value per field of its layout");
  rejects([](auto& s) { s["customers"]["ana"]["records"][0][4][0] = "cheap"; }, "field 'value' does not match its type");
  // Packed history: (time, record index + 1) varints. Record 0 is the cart.
  const auto packed = [](std::vector<uint8_t> bytes) { return nlohmann::json::binary(std::move(bytes)); };
  rejects([&](auto& s) { s["customers"]["ana"]["history"]["page_view"] = packed({2, 1}); },
          "a record of another event type");
  rejects([&](auto& s) { s["customers"]["ana"]["history"]["page_view"] = packed({2, 99}); },
          "no such record");
  rejects([&](auto& s) { s["customers"]["ana"]["history"]["page_view"] = packed({2, 0x82}); },
          "a packed history cut short");
  rejects([&](auto& s) { s["customers"]["ana"]["history"]["page_view"] = packed({2}); },
          "a packed history cut short");
  rejects([&](auto& s) { s["customers"]["ana"]["seen"] = packed({1, 2, 3, 4, 5, 6, 7, 8}); },
          "packed ids cut short");
  rejects([](auto& s) { s["stats"]["messages"] = -1; }, "expected an unsigned integer");
  EXPECT_EQ(e.SaveSnapshot(), before);
}

// A history whose windows only count is stored as times: each entry's record is none
// and no record is kept for it. Loaded into a program that also sums the type,
// those events count in the count, not in the sum.
TEST(Snapshot, AHistoryOnlyCountedIsStoredAsTimes) {
  const std::string counts = std::string(kBase) + "channel email { consent true }\n" +
                             "journey w { on app_open  reenter always  send email \"w\" "
                             "{ n: count(page_view within 1d) } }\n";
  const std::string sums = std::string(kBase) + "channel email { consent true }\n" +
                           "journey w { on app_open  reenter always  send email \"w\" "
                           "{ n: count(page_view within 1d), s: sum(page_view.ms within 1d) } }\n";
  EngineHarness h(counts);
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("ana", "page_view", At(0), R"({"path":"/","ms":5})");
  h.Track("ana", "page_view", At(kMinute), R"({"path":"/","ms":7})");
  const std::string snapshot = h.engine().SaveSnapshot("p");
  const nlohmann::json ana = StateOf(snapshot)["customers"]["ana"];
  // Each event: its time's difference from the last (zigzag, LEB128), then 0: no record.
  std::vector<uint8_t> expected;
  for (int64_t delta : {At(0), kMinute}) {
    for (uint64_t v = static_cast<uint64_t>(delta) * 2; ; v >>= 7) {
      expected.push_back(static_cast<uint8_t>((v & 0x7f) | (v >= 0x80 ? 0x80 : 0)));
      if (v < 0x80) break;
    }
    expected.push_back(0);
  }
  ASSERT_TRUE(ana["history"]["page_view"].is_binary()) << ana.dump();
  EXPECT_EQ(std::vector<uint8_t>(ana["history"]["page_view"].get_binary()), expected);
  EXPECT_FALSE(ana.contains("records") && !ana["records"].empty()) << ana.dump();

  runtime::Engine b(Compile(sums));
  ASSERT_OK(b.LoadSnapshot(snapshot));
  Collector after;
  b.Process(TrackJson("ana", "page_view", At(2 * kMinute), R"({"path":"/","ms":1})", "p3"), after);
  b.Process(TrackJson("ana", "app_open", At(3 * kMinute), "{}", "o1"), after);
  std::vector<std::string> params;
  for (const Decision& d : after.decisions) {
    if (d.outcome == runtime::Outcome::kSent) params.push_back(d.params_json);
  }
  EXPECT_THAT(params, ElementsAre(R"({"n":3,"s":1})"));
}

// Histories and the ids taken used to be written as CBOR arrays ([[time, record
// index]] and [hash, time, ...]); snapshots and stored pieces in that form still load,
// to the same state as the packed form.
TEST(Snapshot, OlderArraysOfHistoryAndIdsStillLoad) {
  EngineHarness h(Program());
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("ana", "cart", At(kMinute), R"({"value":30})", "m1");
  h.Track("ana", "page_view", At(2 * kMinute), R"({"path":"/","ms":3})", "m2");
  h.Track("ana", "page_view", At(3 * kMinute), R"({"path":"/a","ms":4})", "m3");
  const nlohmann::json state = StateOf(h.engine().SaveSnapshot("p"));
  const nlohmann::json& ana = state["customers"]["ana"];
  ASSERT_TRUE(ana["seen"].is_binary());
  // The page views' records, by position in `records`: [name, time, id, customer, values].
  std::vector<int> views;
  for (size_t i = 0; i < ana["records"].size(); ++i) {
    if (ana["records"][i][0] == "page_view") views.push_back(static_cast<int>(i));
  }
  ASSERT_EQ(views.size(), 2u);
  nlohmann::json old = state;
  nlohmann::json& o = old["customers"]["ana"];
  o["history"]["page_view"] = {{At(2 * kMinute), views[0]}, {At(3 * kMinute), views[1]}};
  o["history"]["cart"] = {{At(kMinute), -1}};
  o["seen"] = nlohmann::json::array();
  for (const char* id : {"m1", "m2", "m3"}) o["seen"].push_back(XXH3_64bits(id, 2));
  o["seen"] = {o["seen"][0], At(kMinute), o["seen"][1], At(2 * kMinute), o["seen"][2], At(3 * kMinute)};
  runtime::Engine e(Compile(Program()));
  ASSERT_OK(e.LoadSnapshot(Wrap(old)));
  EXPECT_EQ(StateOf(e.SaveSnapshot("p"))["customers"]["ana"], ana);
}

// An instance's cause is its event's id in memory (not a copy of it); a restored
// instance whose cause is something else, or whose event is gone, keeps its own.
TEST(Snapshot, AnInstancesCauseOtherThanItsEventsIdIsKept) {
  EngineHarness h(Program());
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Identify("ana", At(0), R"({"email_opt_in":true,"push_opt_in":true})");
  h.Track("ana", "cart", At(kMinute), R"({"value":30})", "m1");
  const nlohmann::json state = StateOf(h.engine().SaveSnapshot("p"));
  ASSERT_EQ(state["customers"]["ana"]["instances"]["rescue"]["cause"], "m1");
  for (int event : {0, -1}) {  // the cart's record, none
    nlohmann::json s = state;
    s["customers"]["ana"]["instances"]["rescue"]["cause"] = "elsewhere";
    s["customers"]["ana"]["instances"]["rescue"]["event"] = event;
    runtime::Engine e(Compile(Program()));
    ASSERT_OK(e.LoadSnapshot(Wrap(s)));
    EXPECT_EQ(StateOf(e.SaveSnapshot("p"))["customers"]["ana"]["instances"]["rescue"]["cause"],
              "elsewhere");
    Collector sink;
    e.AdvanceTo(At(kMinute + 31 * kMinute), sink);  // the wait of 30m ends: a send
    ASSERT_FALSE(sink.decisions.empty()) << event;
    EXPECT_EQ(sink.decisions[0].cause, "elsewhere") << event;
    EXPECT_THAT(sink.decisions[0].id, ::testing::StartsWith("elsewhere:rescue:")) << event;
  }
}

// ---- A reload and a load follow one rule -------------------------------------------

// A hot reload carries the state in place, a load from the snapshot's names; both by
// the rule of docs/semantics.md ("Reloading"). From the same snapshot they must reach
// the same state and decide alike.

// kBase edited: a new event type first (every type id moves), cart with a new first
// field (its layout changes) and `items` of another type; a profile field added and
// `ltv` of another type.
std::string EditedBase() {
  std::string out = "event signup { }\n" + std::string(kBase);
  auto edit = [&](const std::string& from, const std::string& to) {
    size_t at = out.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    out.replace(at, from.size(), to);
  };
  edit("event cart { value: float  items: int = 0",
       "event cart { note: string = \"n/a\"  value: float  items: float = 0.5");
  edit("ltv: float = 0", "ltv: string = \"unknown\"  vip: bool = true");
  return out;
}

// kJourneys edited: channel sms first and webhook gone; `hot` gone; `rescue` waits
// longer and converts by email; `browse` lost its wait (an instance there ends);
// `late` starts on a page view (an instance holding an app_open ends); `fresh` new.
const char* kEditedJourneys = R"(
channel sms { consent true }
channel email { consent profile.email_opt_in  quiet 21:00 .. 08:00 local  cap 2 per 1d }
channel push { consent profile.push_opt_in  quiet 22:00 .. 07:00  cap 3 per 6h }

journey fresh {
  priority 40
  on cart when event.note == "n/a"
  reenter after 1d
  send push "fresh" { items: event.items, vip: profile.vip, ltv: profile.ltv }
}

journey sale {
  priority 20
  on page_view when event.path starts_with "/sale"
  reenter always
  send push "sale" { since: time_since(purchase) }
}

journey rescue {
  priority 10
  on cart when event.value >= 20
  reenter after 1d
  exit on purchase when event.amount > 100
  wait 45m
  if count(page_view within 1h where event.path starts_with "/checkout") > 0 {
    send email "nudge" { value: event.value, items: event.items, note: event.note }
  } else {
    send push "nudge" { spent: sum(purchase.amount within 1d), ms: sum(page_view.ms within 1h) }
  }
  wait until purchase or app_open when event.id starts_with "m" within 2d {
    send email "converted" { by: event.id, tier: profile.tier }
  } else {
    send email "last_call" { since: time_since(purchase), score: sum(page_view.score within 1d),
                             carts: count(cart within 1d), value: sum(cart.value within 1d) }
  }
}

journey welcome {
  priority 5
  on app_open
  reenter never
  send email "welcome"
  send push "welcome"
}

journey browse {
  on page_view
  reenter always
  exit on unsubscribed
  split {
    50%: send push "tip" { path: event.path }
    50%: control
  }
}

journey late {
  priority 1
  on page_view
  reenter always
  wait until cart within 1d {
    send email "late" { v: event.value, coupon: event.coupon ?? "none" }
  }
}
)";

// The state of a snapshot without its stats (a reload counts itself and the
// instances it ends; a load restores the counters as saved).
nlohmann::json StateWithoutStats(const std::string& snapshot) {
  nlohmann::json state = StateOf(snapshot);
  state.erase("stats");
  return state;
}

// For every cut of `inputs` through `from`: the cut's snapshot loaded into `from` and
// reloaded to `to` in place, and the same snapshot loaded into `to`, must hold the same
// state and decide the rest alike. Returns how many instances the reloads ended.
size_t ExpectReloadAndLoadAgree(const runtime::CompiledProgram& from,
                                const runtime::CompiledProgram& to,
                                const std::vector<Input>& inputs, int64_t end_us) {
  runtime::Engine a(from);
  Collector sink;
  std::vector<std::string> snapshots;
  for (size_t k = 0; k <= inputs.size(); ++k) {
    snapshots.push_back(a.SaveSnapshot());
    if (k < inputs.size()) Feed(a, inputs[k], sink);
  }
  size_t ended = 0;
  for (size_t k = 0; k <= inputs.size(); ++k) {
    SCOPED_TRACE("cut after " + std::to_string(k) + " inputs");
    runtime::Engine reloaded(from), loaded(to);
    Status status = reloaded.LoadSnapshot(snapshots[k]).status();
    if (status.ok()) status = loaded.LoadSnapshot(snapshots[k]).status();
    if (!status.ok()) {
      ADD_FAILURE() << status.ToString();
      break;
    }
    Collector at_reload, rest_reloaded, rest_loaded;
    EXPECT_OK(reloaded.Reload(to, at_reload));
    for (const Decision& d : at_reload.decisions) {
      EXPECT_EQ(d.step + std::string(":") + runtime::ToString(d.outcome), "reload:exited");
    }
    ended += at_reload.decisions.size();
    EXPECT_EQ(StateWithoutStats(reloaded.SaveSnapshot()), StateWithoutStats(loaded.SaveSnapshot()));
    for (size_t i = k; i < inputs.size(); ++i) {
      Feed(reloaded, inputs[i], rest_reloaded);
      Feed(loaded, inputs[i], rest_loaded);
    }
    reloaded.AdvanceTo(end_us, rest_reloaded);
    loaded.AdvanceTo(end_us, rest_loaded);
    EXPECT_EQ(Lines(rest_reloaded, 0, 0), Lines(rest_loaded, 0, 0));
    EXPECT_EQ(StateWithoutStats(reloaded.SaveSnapshot()), StateWithoutStats(loaded.SaveSnapshot()));
    if (::testing::Test::HasFailure()) break;  // one cut's report is enough
  }
  return ended;
}

TEST(ReloadAndLoad, AgreeAtEveryCutOfRandomStreamsIntoAnEditedProgram) {
  runtime::CompiledProgram from = Compile(Program());
  runtime::CompiledProgram to = Compile(EditedBase() + kEditedJourneys);
  ASSERT_TRUE(from.spec && to.spec);
  size_t ended = 0;
  for (uint32_t seed : {1u, 2u, 3u, 4u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    int64_t end_us = 0;
    std::vector<Input> in = RandomStream(seed, 120, /*serve=*/seed % 2 == 0, end_us);
    ended += ExpectReloadAndLoadAgree(from, to, in, end_us);
    if (HasFailure()) return;
  }
  EXPECT_GT(ended, 0u) << "the streams should leave instances the rule ends";
}

TEST(ReloadAndLoad, AgreeAtEveryCutIntoTheSameProgram) {
  runtime::CompiledProgram program = Compile(Program());
  ASSERT_TRUE(program.spec);
  int64_t end_us = 0;
  std::vector<Input> in = RandomStream(5, 120, /*serve=*/false, end_us);
  EXPECT_EQ(ExpectReloadAndLoadAgree(program, program, in, end_us), 0u);
}

// The edited program of LoadsIntoAnEditedProgramByNameAndDropsWhatIsGone, reached by a
// reload instead: the same decisions after it, and the instances the load drops
// silently end with `exited` at step `reload`, customer by customer in id order.
TEST(ReloadAndLoad, AReloadDecidesWhatALoadIntoTheEditedProgramDecides) {
  EngineHarness h(std::string(kBase) + kV1);
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Identify("ana", At(0), R"({"tier":"gold","ltv":12.5,"discount":3})");
  h.Track("ana", "page_view", At(kMinute), R"({"path":"/"})");
  h.Track("ana", "cart", At(2 * kMinute), R"({"value":10})", "c1");
  h.Advance(At(2 * kMinute + kHour));
  h.Track("ana", "app_open", At(11 * kHour), "{}", "late");
  h.Track("ben", "cart", At(11 * kHour + kMinute), R"({"value":20})", "c2");
  const std::string bytes = h.engine().SaveSnapshot();

  runtime::Engine loaded(Compile(kV2Events));
  ASSERT_OK(loaded.LoadSnapshot(bytes));
  Collector at_reload;
  EXPECT_OK(h.engine().Reload(Compile(kV2Events), at_reload));
  std::vector<std::string> ended;
  for (const Decision& d : at_reload.decisions) ended.push_back(Brief(d) + " " + d.customer);
  EXPECT_THAT(ended, ElementsAre("k:reload:exited ana", "gone:reload:exited ben"));

  Collector after_load;
  h.Clear();
  for (auto [engine, sink] : {std::pair{&h.engine(), &h.sink()},
                              std::pair<runtime::Engine*, runtime::DecisionSink*>{&loaded, &after_load}}) {
    engine->AdvanceTo(At(3 * kDay), *sink);
    engine->Process(TrackJson("ana", "page_view", At(3 * kDay), R"({"path":"/"})", "pv2"), *sink);
  }
  std::vector<std::string> a, b;
  for (const Decision& d : h.all()) a.push_back(d.ToJson());
  for (const Decision& d : after_load.decisions) b.push_back(d.ToJson());
  ASSERT_EQ(a.size(), 8u);  // as LoadsIntoAnEditedProgramByNameAndDropsWhatIsGone lists them
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace juncture::enginetest
