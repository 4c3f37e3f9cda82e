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
  return compiler::MakeInterpretedProgram(*c);
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
  h.engine().Reload(Compile(Program(kV2)), reload_sink);
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
  h.engine().Reload(Compile(Program(kV2)), reload_sink);
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
  h.engine().Reload(Compile(std::string(kBase) + "channel push { consent true }\n"
                            "channel email { consent true cap 2 per 1d }\n" + once +
                            "journey k { on page_view reenter always send email \"b\" }\n"),
                    sink);
  h.Clear();
  h.Track("ana", "cart", At(2), R"({"value": 10})");        // reenter never: no entry
  h.Track("ana", "page_view", At(3), R"({"path": "/"})");   // third email today: capped
  EXPECT_THAT(h.BriefActions(), ElementsAre("k:s1:suppressed:cap"));
}

// One rule for carrying state onto an edited program (docs/semantics.md): a waiting
// instance keeps the event it holds when the event's schema changed, re-laid out by
// field name and type (a new field takes its default), and ends only when the event
// can no longer be its `event`.
TEST(Reload, AnInstanceKeepsItsEventWhenTheEventsSchemaChanges) {
  const char* journey =
      "journey j { on cart exit on unsubscribed wait 1h send email \"v\" { v: event.value } }\n";
  EngineHarness h(Program(journey));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("ana", "cart", At(0), R"({"value": 10, "items": 3})");
  // The cart event gains a field (and its layout changes).
  std::string edited = kBase;
  edited.replace(edited.find("event cart {"), 12, "event cart { note: string = \"n\" ");
  Collector reload_sink;
  h.engine().Reload(Compile(edited + "channel email { consent true cap 2 per 1d }\n" + journey),
                    reload_sink);
  EXPECT_TRUE(reload_sink.decisions.empty());
  h.Clear();
  h.Advance(At(2 * kHour));
  ASSERT_EQ(h.actions().size(), 1u);
  EXPECT_EQ(h.actions()[0].params_json, R"({"v":10})");
}

TEST(Reload, AnInstanceWhoseEventIsGoneExitsAtReload) {
  const char* v1 = "journey j { on cart exit on unsubscribed wait 1h send email \"v\" }\n";
  EngineHarness h(Program(v1));
  ASSERT_TRUE(h.ok()) << h.diagnostics();
  h.Track("ana", "cart", At(0), R"({"value": 10})", "m-1");
  // The journey now starts from a page view; the cart it holds can no longer be `event`.
  Collector reload_sink;
  h.engine().Reload(
      Compile(Program("journey j { on page_view exit on unsubscribed wait 1h send email \"v\" }\n")),
      reload_sink);
  ASSERT_EQ(reload_sink.decisions.size(), 1u);
  const Decision& d = reload_sink.decisions[0];
  EXPECT_EQ(Brief(d), "j:reload:exited");
  EXPECT_EQ(d.id, "m-1:j:reload:exited");
  EXPECT_EQ(d.version, h.Hash("j"));  // the version it was in
  h.Clear();
  h.Advance(At(2 * kHour));
  EXPECT_TRUE(h.actions().empty());
}

// A reload and a restart from a checkpoint into the same edited program carry the
// same state: what they decide next is the same.
TEST(Reload, AReloadAndALoadIntoTheEditedProgramDecideAlike) {
  const std::string v1 = Program(
      "journey j { on cart reenter always exit on unsubscribed wait 1h send email \"a\" }\n"
      "journey gone { on page_view wait 2h send email \"g\" }\n");
  const std::string v2 = Program(
      "journey j { on cart reenter always exit on unsubscribed wait 1h send email \"b\" }\n"
      "journey new { on cart send email \"n\" }\n");
  auto feed = [](EngineHarness& e) {
    for (int i = 0; i < 20; ++i) {
      std::string c = "c" + std::to_string(i % 7);
      e.Track(c, i % 3 ? "cart" : "page_view", At(i * kMinute),
              i % 3 ? R"({"value": 5})" : R"({"path": "/x"})", "m" + std::to_string(i));
    }
  };
  EngineHarness reloaded(v1), restarted(v1);
  ASSERT_TRUE(reloaded.ok() && restarted.ok());
  feed(reloaded);
  feed(restarted);
  Collector ignored;
  reloaded.engine().Reload(Compile(v2), ignored);
  std::string checkpoint = restarted.engine().SaveSnapshot();
  EngineHarness loaded(v2);
  std::string error;
  ASSERT_TRUE(loaded.engine().LoadSnapshot(checkpoint, nullptr, &error)) << error;
  reloaded.Clear();
  for (EngineHarness* e : {&reloaded, &loaded}) {
    e->Track("c1", "cart", At(30 * kMinute), R"({"value": 5})", "after");
    e->Advance(At(5 * kHour));
  }
  std::vector<std::string> a, b;
  for (const Decision& d : reloaded.all()) a.push_back(d.ToJson());
  for (const Decision& d : loaded.all()) b.push_back(d.ToJson());
  EXPECT_FALSE(a.empty());
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
