// Hot reload (docs/semantics.md "Reloading"): the program changes between messages,
// customers keep their state, instances follow the documented migration rule.
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "engine_test_util.h"
#include "juncture/compiler/backend.h"

namespace juncture::enginetest {
namespace {

using ::testing::ElementsAre;

std::string Program(const std::string& journeys) {
  return std::string(kBase) + "channel email { consent true cap 2 per 1d }\n" + journeys;
}

runtime::CompiledProgram Compile(const std::string& source) {
  auto c = compiler::CompileSources({{"t.jny", source}}, compiler::CompileOptions{});
  EXPECT_TRUE(c->ok()) << c->FormatDiagnostics(compiler::DiagnosticFormat::kText);
  return *compiler::MakeInterpretedProgram(*c);
}

const char* kV1 =
    "journey j { on cart exit on unsubscribed wait 1h send email \"v1\" }\n"
    "journey gone { on cart exit on unsubscribed wait 1h send email \"gone\" }\n";
const char* kV2 =
    "journey j { on cart exit on unsubscribed wait 1h send email \"v2\" }\n";

TEST(Reload, WaitingInstancesMoveToTheNewVersionAtTheSameStep) {
  EngineHarness h(Program(kV1));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("ana", "cart", At(0), R"({"value": 10})");
  h.Clear();
  Collector reload_sink;  // the reload's own decisions (none expected here but `gone`)
  EXPECT_OK(h.engine().Reload(Compile(Program(kV2)), reload_sink));
  h.Advance(At(2 * kHour));
  std::vector<Decision> sends = h.actions();
  ASSERT_EQ(sends.size(), 1u);
  EXPECT_EQ(sends[0].template_name, "v2");
  EXPECT_EQ(h.engine().stats().reloads, 1u);
}

TEST(Reload, InstancesOfARemovedJourneyExitAndTheirTimersDoNothing) {
  EngineHarness h(Program(kV1));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("ana", "cart", At(0), R"({"value": 10})");
  Collector reload_sink;
  EXPECT_OK(h.engine().Reload(Compile(Program(kV2)), reload_sink));
  ASSERT_EQ(reload_sink.decisions.size(), 1u);
  EXPECT_EQ(Brief(reload_sink.decisions[0]), "gone:reload:exited");
  h.Clear();
  h.Advance(At(2 * kHour));
  EXPECT_THAT(h.BriefActions(), ElementsAre("j:s2:sent"));
}

TEST(Reload, CapsAndReentryCarryOver) {
  const char* once = "journey j { on cart reenter never send email \"a\" }\n";
  EngineHarness h(Program(std::string(once) + "journey k { on page_view reenter always send email \"b\" }\n"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("ana", "cart", At(0), R"({"value": 10})");
  h.Track("ana", "page_view", At(1), R"({"path": "/"})");
  Collector sink;
  // The new version has the channels in another order; caps follow the name.
  EXPECT_OK(h.engine().Reload(
      Compile(std::string(kBase) +
              "channel push { consent true }\n"
              "channel email { consent true cap 2 per 1d }\n" +
              once + "journey k { on page_view reenter always send email \"b\" }\n"),
      sink));
  h.Clear();
  h.Track("ana", "cart", At(2), R"({"value": 10})");        // reenter never: no entry
  h.Track("ana", "page_view", At(3), R"({"path": "/"})");   // third email today: capped
  EXPECT_THAT(h.BriefActions(), ElementsAre("k:s1:suppressed:cap"));
}

// ---- Edited event types: records are re-laid out by field name and type ----------

// kBase with each (from, to) replaced (edited event types).
std::string Edit(const std::vector<std::pair<std::string, std::string>>& edits) {
  std::string out = kBase;
  for (const auto& [from, to] : edits) {
    size_t at = out.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) out.replace(at, from.size(), to);
  }
  return out;
}

const char* kEmail = "channel email { consent true cap 2 per 1d }\n";

// The waiting instance keeps its event: the send after the wait reads the values the
// cart came with, and the field the reload added at its default.
TEST(Reload, AnAddedEventFieldKeepsTheWaitingInstanceAndItsValues) {
  EngineHarness h(Program(
      "journey j { on cart exit on unsubscribed wait 1h send email \"v\" "
      "{ v: event.value, items: event.items, coupon: event.coupon ?? \"none\" } }\n"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("ana", "cart", At(0), R"({"value": 10, "items": 3, "coupon": "Q"})", "c1");
  // `note` comes first: every other field of cart moves.
  Collector reload_sink;
  EXPECT_OK(h.engine().Reload(
      Compile(Edit({{"event cart {", "event cart { note: string = \"n/a\" "}}) + kEmail +
              "journey j { on cart exit on unsubscribed wait 1h send email \"v\" "
              "{ v: event.value, items: event.items, coupon: event.coupon ?? \"none\", "
              "note: event.note } }\n"),
      reload_sink));
  EXPECT_TRUE(reload_sink.decisions.empty()) << Brief(reload_sink.decisions.front());
  h.Clear();
  h.Advance(At(2 * kHour));
  ASSERT_EQ(h.actions().size(), 1u);
  EXPECT_EQ(h.actions()[0].params_json, R"({"v":10,"items":3,"coupon":"Q","note":"n/a"})");
  EXPECT_EQ(h.actions()[0].cause, "c1");
}

// A field whose type changed is the only one lost: it takes its new default (or, an
// optional field without one, is absent).
TEST(Reload, AChangedFieldTypeDropsThatFieldOnly) {
  const std::string send =
      "send email \"v\" { v: event.value, items: event.items, currency: event.currency, "
      "coupon: event.coupon ?? 0 } }\n";
  EngineHarness h(Program("journey j { on cart wait 1h send email \"v\" "
                          "{ v: event.value, items: event.items, currency: event.currency } }\n"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("ana", "cart", At(0), R"({"value": 10, "items": 3, "currency": "EUR", "coupon": "Q"})");
  Collector reload_sink;
  EXPECT_OK(h.engine().Reload(Compile(Edit({{"items: int = 0", "items: string = \"many\""},
                                            {"coupon: string?", "coupon: int?"}}) +
                                      kEmail + "journey j { on cart wait 1h " + send),
                              reload_sink));
  EXPECT_TRUE(reload_sink.decisions.empty());
  h.Clear();
  h.Advance(At(2 * kHour));
  ASSERT_EQ(h.actions().size(), 1u);
  EXPECT_EQ(h.actions()[0].params_json, R"({"v":10,"items":"many","currency":"EUR","coupon":0})");
}

// Window history of an event type whose layout changed is kept: the windows count and
// sum the events from before the reload with those after.
TEST(Reload, HistoryOfAChangedEventTypeStaysInItsWindows) {
  const std::string journey =
      "journey w { on page_view reenter always send email \"w\" "
      "{ n: count(cart within 1d), s: sum(cart.value within 1d), "
      "big: count(cart within 1d where event.value > 15) } }\n";
  EngineHarness h(Program(journey));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("ana", "cart", At(0), R"({"value": 10})");
  h.Track("ana", "cart", At(kMinute), R"({"value": 20})");
  h.Track("ana", "cart", At(2 * kMinute), R"({"value": 30.5})");
  Collector reload_sink;
  EXPECT_OK(h.engine().Reload(
      Compile(Edit({{"event cart {", "event cart { note: string = \"n/a\" "}}) + kEmail + journey),
      reload_sink));
  h.Clear();
  h.Track("ana", "page_view", At(3 * kMinute), R"({"path": "/"})");
  h.Track("ana", "cart", At(4 * kMinute), R"({"value": 1})");
  h.Track("ana", "page_view", At(5 * kMinute), R"({"path": "/"})");
  std::vector<std::string> params;
  for (const Decision& d : h.actions()) params.push_back(d.params_json);
  EXPECT_THAT(params, ElementsAre(R"({"n":3,"s":60.5,"big":2})", R"({"n":4,"s":61.5,"big":2})"));
}

// A history whose windows only count keeps the events' times, not their fields. A
// reload that adds a sum or a `where` over the type finds the earlier events without
// fields: they still count where nothing reads a field, and in nothing else.
TEST(Reload, EventsOnlyCountedBeforeCountInANewSumOrWhereNotAtAll) {
  const std::string counts =
      "journey w { on page_view reenter always send email \"w\" { n: count(cart within 1d) } }\n";
  const std::string reads =
      "journey w { on page_view reenter always send email \"w\" { n: count(cart within 1d), "
      "s: sum(cart.value within 1d), big: count(cart within 1d where event.value > 15) } }\n";
  EngineHarness h(Program(counts));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("ana", "cart", At(0), R"({"value": 10})");
  h.Track("ana", "cart", At(kMinute), R"({"value": 20})");
  Collector reload_sink;
  EXPECT_OK(h.engine().Reload(Compile(Program(reads)), reload_sink));
  h.Clear();
  h.Track("ana", "page_view", At(2 * kMinute), R"({"path": "/"})");
  h.Track("ana", "cart", At(3 * kMinute), R"({"value": 30})");
  h.Track("ana", "page_view", At(4 * kMinute), R"({"path": "/"})");
  std::vector<std::string> params;
  for (const Decision& d : h.actions()) params.push_back(d.params_json);
  EXPECT_THAT(params, ElementsAre(R"({"n":2,"s":0,"big":0})", R"({"n":3,"s":30,"big":1})"));
  // And back: a reload to windows that only count lets the records go; the counts stay.
  EXPECT_OK(h.engine().Reload(Compile(Program(counts)), reload_sink));
  h.Clear();
  h.Track("ana", "page_view", At(5 * kMinute), R"({"path": "/"})");
  ASSERT_EQ(h.actions().size(), 1u);
  EXPECT_EQ(h.actions()[0].params_json, R"({"n":3})");
}

TEST(Reload, AnInstanceWhoseEventCanNoLongerBeItsEventExitsAtReload) {
  EngineHarness h(Program("journey j { on cart exit on unsubscribed wait 1h send email \"v\" }\n"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("ana", "cart", At(0), R"({"value": 10})", "m-1");
  // The journey now starts from a page view: the cart it holds cannot be `event`.
  const char* v2 = "journey j { on page_view exit on unsubscribed wait 1h send email \"v\" }\n";
  Collector reload_sink;
  EXPECT_OK(h.engine().Reload(Compile(Program(v2)), reload_sink));
  ASSERT_EQ(reload_sink.decisions.size(), 1u);
  const Decision& d = reload_sink.decisions[0];
  EXPECT_EQ(Brief(d), "j:reload:exited");
  EXPECT_EQ(d.id, "m-1:j:reload:exited");
  EXPECT_EQ(d.version, h.Hash("j"));  // the version it was in
  h.Clear();
  h.Advance(At(2 * kHour));
  EXPECT_TRUE(h.actions().empty());
}

// A reload to the program it runs changes nothing: no instance ends, and what follows
// is decided as if there had been no reload (records are kept as they are: see
// StateMap.AnUnchangedLayoutKeepsTheSameRecords).
TEST(Reload, ToTheSameProgramChangesNothing) {
  const std::string program = Program(
      "journey j { on cart reenter always exit on unsubscribed wait 1h "
      "send email \"a\" { v: event.value, n: count(cart within 1d), c: event.coupon ?? \"-\" } }\n"
      "journey k { on page_view wait until cart within 2h "
      "{ send email \"k\" { v: event.value } } }\n");
  EngineHarness reloaded(program), plain(program);
  ASSERT_TRUE(reloaded.ok() && plain.ok()) << reloaded.diagnostics();
  for (EngineHarness* e : {&reloaded, &plain}) {
    e->Identify("ana", At(0), R"({"tier": "gold"})", "i1");
    e->Track("ana", "page_view", At(kMinute), R"({"path": "/"})", "p1");
    e->Track("ana", "cart", At(2 * kMinute), R"({"value": 10, "coupon": "Q"})", "c1");
    e->Track("ben", "cart", At(3 * kMinute), R"({"value": 20})", "c2");
  }
  Collector reload_sink;
  EXPECT_OK(reloaded.engine().Reload(Compile(program), reload_sink));
  EXPECT_TRUE(reload_sink.decisions.empty());
  for (EngineHarness* e : {&reloaded, &plain}) {
    e->Track("ben", "cart", At(4 * kMinute), R"({"value": 30})", "c3");
    e->Advance(At(5 * kHour));
  }
  std::vector<std::string> a, b;
  for (const Decision& d : reloaded.all()) a.push_back(d.ToJson());
  for (const Decision& d : plain.all()) b.push_back(d.ToJson());
  EXPECT_GT(a.size(), 8u);
  EXPECT_EQ(a, b);
}

TEST(Reload, StagedFromAnotherThreadAppliesBetweenMessagesWithoutLosingAny) {
  EngineHarness h(Program("journey j { on cart reenter always send email \"x\" }\n"));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  runtime::CompiledProgram next =
      Compile(Program("journey j { on cart reenter always send email \"y\" }\n"));
  std::thread stager([&] { h.engine().StageReload(next); });
  for (int i = 0; i < 200; ++i) h.Track("c" + std::to_string(i), "cart", At(i), R"({"value": 1})");
  stager.join();
  h.Track("last", "cart", At(1000), R"({"value": 1})");
  std::vector<Decision> sends = h.actions();
  ASSERT_EQ(sends.size(), 201u);
  // Once the new version decides, the old never does again.
  bool switched = false;
  for (const Decision& d : sends) {
    if (d.template_name == "y") switched = true;
    if (switched) {
      EXPECT_EQ(d.template_name, "y");
    }
  }
  EXPECT_TRUE(switched);
}

}  // namespace
}  // namespace juncture::enginetest
