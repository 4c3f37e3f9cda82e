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
