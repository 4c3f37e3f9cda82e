// The JIT back end against the reference interpreter, op by op: every expression of
// each program is evaluated by both in several scenarios and must give the same
// value, the same division-by-zero count and the same allocations.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <limits>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "differential.h"
#include "../status_matchers.h"
#include "juncture/runtime/event.h"
#include "juncture/runtime/state_changes.h"

namespace juncture::jit_testing {
namespace {

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int64_t kHour = 3'600'000'000;

// One event type with a field of every type, optional ones, defaults; a second one
// that shares some fields at other offsets (for union bindings).
const char* kSchema = R"(
event e {
  b: bool  i: int  j: int  f: float  g: float  s: string  t: string  tm: time  d: duration
  li: list<int>  lf: list<float>  ls: list<string>  lb: list<bool>
  oi: int?  of: float?  os: string?  ob: bool?  ol: list<string>?  ot: time?  od: duration?
  di: int = 7  ds: string = "dflt"
}
event e2 { x: int  flag: bool  s: string  of: float?  i: int  os: string?  li: list<int>  tm: time  f: float }
profile {
  country: string = ""  tier: string = "standard"  ltv: float = 0  n: int = 0
  vip: bool = false  timezone: string = "UTC"  nick: string?  age: int?
}
channel push { consent profile.vip or profile.country == "US" }
segment big = profile.ltv > 100.0
segment us = profile.country == "US"
segment big_us = big and us and profile.tier in ["gold", "platinum"]
)";

// A journey on `e` that passes each expression as a send parameter.
std::string Journey(const std::vector<std::string>& exprs, const std::string& on = "on e") {
  std::ostringstream out;
  out << "journey j { " << on << "\n  send push \"t\" {\n";
  for (size_t k = 0; k < exprs.size(); ++k) {
    out << "    p" << k << ": " << exprs[k] << (k + 1 < exprs.size() ? ",\n" : "\n");
  }
  out << "  }\n}\n";
  return out.str();
}

// The ExprId of parameter `param` of step `step` of the first journey.
runtime::ExprId ParamId(const runtime::ProgramSpec& spec, size_t step = 0, size_t param = 0) {
  return spec.journeys.at(0).steps.at(step).params.at(param).value;
}

class JitTest : public ::testing::Test {
 protected:
  void SetUp() override { JUNCTURE_SKIP_WITHOUT_JIT(); }

  // Builds `source` at O0 and O2 and checks every expression in every scenario made
  // by `make` (called once per build, with the spec).
  template <typename Make>
  void Check(const std::string& source, Make make, int min_compared = 1) {
    for (int level : {0, 2}) {
      Backends b;
      ASSERT_TRUE(Build(source, level, &b));
      std::deque<Record> records;
      std::deque<Scenario> scenarios = make(b, records);
      CheckStats stats = CheckAll(b, scenarios);
      EXPECT_GE(stats.compared, min_compared);
      EXPECT_EQ(stats.failures, 0) << "at O" << level;
    }
  }
};

// Hand-written `e` records with edge values, plus random ones.
std::deque<Scenario> EdgeScenarios(const Backends& b, std::deque<Record>& records,
                                   size_t random = 40) {
  const runtime::ProgramSpec& spec = b.spec();
  std::deque<Scenario> out;
  records.emplace_back(spec.profile, false);
  Record& profile = records.back();
  profile.String("country", "US").Float("ltv", 150).String("tier", "gold").Bool("vip", true);
  records.emplace_back(spec.profile, false);
  Record& bare_profile = records.back();  // defaults only; optionals absent

  auto window_values = [&](int64_t base) {
    return WindowValues(spec, [&](JnValue& v, size_t slot) {
      if (v.type == JN_FLOAT) v.f = 2.5 * double(slot + 1);
      else v.i = base + int64_t(slot);
    });
  };
  auto add = [&](Record* event, Record* p) {
    Scenario s;
    s.event = event;
    s.profile = p;
    s.windows = window_values(event ? 3 : 0);
    out.push_back(std::move(s));
  };

  const RecordSpec& e = b.Event("e");
  // 1: ordinary values, optionals present.
  records.emplace_back(e, true);
  records.back().Header(1'699'999'000'000'000, "m-1", "cust-1");
  records.back()
      .Bool("b", true).Int("i", 17).Int("j", 5).Float("f", 2.5).Float("g", -0.75)
      .String("s", "abcabc", 3).String("t", "abc").Int("tm", 1'699'990'000'000'000)
      .Int("d", 90 * 60'000'000LL).Ints("li", {1, 5, 17}).Floats("lf", {0.5, 2.5})
      .Strings("ls", {"US", "abc", ""}).Bools("lb", {false}).Int("oi", 4).Float("of", 0.25)
      .String("os", "opt").Bool("ob", true).Strings("ol", {"x", "y"}).Int("ot", 5)
      .Int("od", kHour);
  add(&records.back(), &profile);
  add(&records.back(), &bare_profile);
  // 2: zeros everywhere (division by zero), optionals absent.
  records.emplace_back(e, true);
  records.back().Header(0, "", "");
  add(&records.back(), &profile);
  // 3: -1 and extremes, NaN, negative zero, empty strings, embedded NUL.
  records.emplace_back(e, true);
  records.back()
      .Int("i", kMin).Int("j", -1).Float("f", kNaN).Float("g", -0.0).String("s", "")
      .String("t", std::string("a\0b", 3)).Int("tm", kMax).Int("d", kMin)
      .Floats("lf", {kNaN}).Int("oi", kMax).Float("of", kNaN).Int("od", 0);
  add(&records.back(), &bare_profile);
  // 4: large floats for saturating duration scaling, infinities.
  records.emplace_back(e, true);
  records.back()
      .Int("i", kMax).Int("j", 2).Float("f", 1e300).Float("g", 1e-300).String("s", "US")
      .String("t", "us").Int("d", kMax).Int("tm", kMin)
      .Float("of", std::numeric_limits<double>::infinity()).String("os", "")
      .Ints("li", {kMin, kMax}).Strings("ls", {"gold"});
  add(&records.back(), &profile);
  // No event at all (only envelope reads and profile expressions qualify).
  add(nullptr, &profile);

  RandomValues rv(7);
  std::deque<Scenario> more = RandomScenarios(spec, rv, random, records);
  for (Scenario& s : more) {
    if (s.event && s.event->spec().name != "e") continue;
    out.push_back(std::move(s));
  }
  return out;
}

TEST_F(JitTest, IntArithmeticWrapsAndDivisionByZeroCounts) {
  Check(std::string(kSchema) +
            Journey({"event.i + event.j", "event.i - event.j", "event.i * event.j",
                     "event.i / event.j", "event.i % event.j", "-event.i", "event.i / 0",
                     "event.i % (event.j - event.j)", "(event.i / event.j) + (event.j % event.i)",
                     "9223372036854775807 + event.j", "event.di * 3", "abs(event.i)",
                     "min(event.i, event.j)", "max(event.i, event.j)"}),
        [](const Backends& b, std::deque<Record>& r) { return EdgeScenarios(b, r); });
}

TEST_F(JitTest, FloatArithmeticAndConversions) {
  Check(std::string(kSchema) +
            Journey({"event.f + event.g", "event.f - event.g", "event.f * event.g",
                     "event.f / event.g", "event.f % event.g", "-event.f", "event.f / 0.0",
                     "event.i + event.f", "event.f * event.i", "event.i / 2.0", "15% * event.f",
                     "abs(event.f)", "min(event.f, event.g)", "max(event.f, 1)",
                     "round(event.f)", "floor(event.g)", "ceil(event.f)", "event.f % 0"}),
        [](const Backends& b, std::deque<Record>& r) { return EdgeScenarios(b, r); });
}

TEST_F(JitTest, ComparisonsOfEveryType) {
  Check(std::string(kSchema) +
            Journey({"event.i < event.j", "event.i <= event.j", "event.i > event.j",
                     "event.i >= event.j", "event.i == event.j", "event.i != event.j",
                     "event.f < event.g", "event.f <= event.g", "event.f > event.g",
                     "event.f >= event.g", "event.f == event.g", "event.f != event.g",
                     "event.f == event.f", "event.i == event.f", "event.i < 2.5",
                     "event.s < event.t", "event.s <= event.t", "event.s > event.t",
                     "event.s >= event.t", "event.s == event.t", "event.s != event.t",
                     "event.s == \"abcabc\"", "\"abc\" == event.t", "event.s != \"\"",
                     "event.s == \"\"", "event.tm < now", "event.tm >= event.time",
                     "event.d > 1h", "event.d == 90m", "event.b == true", "event.b != profile.vip",
                     "event.s > \"abc\""}),
        [](const Backends& b, std::deque<Record>& r) { return EdgeScenarios(b, r); });
}

TEST_F(JitTest, LogicShortCircuitsAndSelects) {
  Check(std::string(kSchema) +
            Journey({"event.b and event.i / event.j > 1", "event.b or event.i % event.j > 1",
                     "not event.b", "not (event.b and (event.f > 1.0 or event.s == \"x\"))",
                     "(event.oi ?? event.i / event.j) + 1", "event.of ?? event.f / event.g",
                     "event.oi ?? 2.5"}),
        [](const Backends& b, std::deque<Record>& r) { return EdgeScenarios(b, r); });
}

TEST_F(JitTest, StringsConcatenateThroughAllocAndCompareBytewise) {
  Check(std::string(kSchema) +
            Journey({"event.s + event.t", "event.s + \"!\"", "\"<\" + event.s + \">\"",
                     "(event.s + event.t) == \"abcabcabc\"", "event.s starts_with \"ab\"",
                     "event.s ends_with \"bc\"", "event.s contains \"ca\"", "event.s contains \"\"",
                     "event.s starts_with event.t", "event.s ends_with event.t",
                     "event.t contains event.s", "event.s starts_with \"\"",
                     "event.s ends_with \"abcabc!\"", "lower(event.s)", "upper(event.t)",
                     "trim(event.s + \"  \")", "len(event.s)", "len(event.s + event.t)",
                     "event.id", "event.customer", "event.ds", "lower(event.s) == \"abcabc\""}),
        [](const Backends& b, std::deque<Record>& r) { return EdgeScenarios(b, r); });
}

TEST_F(JitTest, ListsAndMembership) {
  std::string many_ints = "[", many_strings = "[";
  for (int k = 0; k < 24; ++k) {
    many_ints += (k ? ", " : "") + std::to_string(k * 3 - 5);
    many_strings += std::string(k ? ", " : "") + "\"s" + std::to_string(k) + "\"";
  }
  many_ints += ", 17]";
  many_strings += ", \"US\", \"abcabc\"]";
  Check(std::string(kSchema) +
            Journey({"event.i in [1, 5, 17]", "event.i not in [1, 5, 17]", "event.i in event.li",
                     "event.li contains event.j", "event.f in [0.5, 2, 2.5]", "event.f in event.lf",
                     "event.lf contains event.g", "event.i in event.lf", "event.f in [1, 2]",
                     "event.s in [\"US\", \"CA\", \"abcabc\"]", "event.s in event.ls",
                     "event.ls contains \"US\"", "event.b in event.lb", "event.lb contains true",
                     "event.i in [event.j, 17]", "event.s in [event.t, \"US\"]",
                     "event.i in " + many_ints, "event.s in " + many_strings,
                     "event.f in [0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.5, 11.5, "
                     "12.5, 13.5, 14.5, 15.5, 16.5, 17.5]",
                     "event.d in [1h, 90m]", "event.i in []", "len(event.li)", "len(event.ls)",
                     "event.li", "event.ls", "event.lf", "event.lb", "[1, 2, 3]",
                     "[\"a\", \"bc\"]", "[1.5, 2]", "[true, false]", "event.ol ?? [\"none\"]"}),
        [](const Backends& b, std::deque<Record>& r) { return EdgeScenarios(b, r); });
}

TEST_F(JitTest, OptionalFieldsPresentAndAbsent) {
  Check(std::string(kSchema) +
            Journey({"has(event.oi)", "has(event.of)", "has(event.os)", "has(event.ob)",
                     "has(event.ol)", "has(event.ot)", "has(event.od)", "event.oi ?? 5",
                     "event.of ?? 1.5", "event.os ?? \"none\"", "event.ob ?? false",
                     "event.ot ?? now", "event.od ?? 1h", "has(profile.nick)",
                     "profile.nick ?? \"anon\"", "profile.age ?? 0", "(profile.age ?? 1) * 2",
                     "event.os ?? profile.nick ?? \"x\""}),
        [](const Backends& b, std::deque<Record>& r) { return EdgeScenarios(b, r); });
}

TEST_F(JitTest, TimesAndDurationsScaleAndSaturate) {
  Check(std::string(kSchema) +
            Journey({"now - event.tm", "event.tm + event.d", "event.d + event.tm", "event.tm - 1h",
                     "event.d * 1.5", "2 * event.d", "event.d / 3", "event.d / event.f",
                     "event.d / event.d", "-event.d", "event.d * event.f", "event.d * event.g",
                     "event.d / event.g", "event.d + 1d12h", "event.d - event.d",
                     "min(event.d, 1h)", "max(event.d, 1h)", "days(event.d)", "hours(event.d)",
                     "event.time", "now", "event.tm", "event.d", "event.d / 0", "event.d / 0.0"}),
        [](const Backends& b, std::deque<Record>& r) { return EdgeScenarios(b, r); });
}

TEST_F(JitTest, StdlibCallsWithImplicitArguments) {
  Check(std::string(kSchema) +
            Journey({"hour_of_day()", "day_of_week()", "hour_of_day(\"America/New_York\")",
                     "day_of_week(event.s)", "bucket(\"salt\")", "bucket(event.s)",
                     "lower(profile.country)", "len(profile.tier)"}),
        [](const Backends& b, std::deque<Record>& r) { return EdgeScenarios(b, r); });
}

TEST_F(JitTest, ConstantsOfEveryType) {
  Check(std::string(kSchema) +
            Journey({"true", "42", "-7", "2.5", "15%", "\"text\"", "\"\"", "1h", "[1, 2]",
                     "9223372036854775807", "1 / 0", "\"a\" + \"b\""}),
        [](const Backends& b, std::deque<Record>& r) { return EdgeScenarios(b, r, 5); });
}

TEST_F(JitTest, SegmentsWindowsAndConsent) {
  std::string src = std::string(kSchema) + R"(
journey w {
  on e when count(e within 1h) > 2 and big
  eligible big_us or us
  if sum(e.f within 1d) > 3.0 and time_since(e2) > 1h { send push "a" { n: count(e within 1h), s: sum(e.i within 1d where event.s starts_with "a") } }
  send push "b" { f: sum(e.f within 1d) / 2, d: time_since(e2), both: big_us, neither: not big and not us }
}
)";
  Check(src, [](const Backends& b, std::deque<Record>& r) { return EdgeScenarios(b, r); });
}

TEST_F(JitTest, UnionBindingsReadByTypeId) {
  std::string src = std::string(kSchema) + R"(
journey u {
  on e when event.s != "stop"
  on e2 when event.i > 0 or has(event.of)
  send push "t" { s: event.s, i: event.i, f: event.f, of: event.of ?? -1.0, os: event.os ?? "none",
                  has_of: has(event.of), li: event.li, in_li: 3 in event.li, tm: event.tm,
                  mix: event.s + "/" + (event.os ?? "") }
  wait until e2 within 1d {
    send push "x" { x: event.x, flag: event.flag, s: event.s }
  }
}
)";
  Check(src, [](const Backends& b, std::deque<Record>& records) {
    std::deque<Scenario> out;
    RandomValues rv(11);
    std::deque<Scenario> random = RandomScenarios(b.spec(), rv, 80, records);
    for (Scenario& s : random) out.push_back(std::move(s));
    // A record whose type_id is neither: the interpreter falls back to the first layout.
    return out;
  }, 200);
}

TEST_F(JitTest, NoEventReadsEnvelopeFromContext) {
  std::string src = std::string(kSchema) +
                    Journey({"event.time", "event.customer", "event.id", "now - event.time"});
  Check(src, [](const Backends& b, std::deque<Record>& records) {
    records.emplace_back(b.spec().profile, false);
    std::deque<Scenario> out;
    Scenario s;
    s.profile = &records.back();
    s.customer = "who";
    out.push_back(s);
    return out;
  }, 4);
}

TEST_F(JitTest, DivisionByZeroCountsEveryOccurrence) {
  Backends b;
  ASSERT_TRUE(Build(std::string(kSchema) +
                        Journey({"(event.i / event.j) + (event.i % event.j) + "
                                 "round(event.f / event.g) + round(event.d / event.d)"}),
                    2, &b));
  std::deque<Record> records;
  records.emplace_back(b.spec().profile, false);
  Record& profile = records.back();
  records.emplace_back(b.Event("e"), true);
  Record& event = records.back();
  Scenario s;
  s.event = &event;
  s.profile = &profile;
  for (const CompiledProgram* p : {&b.interpreted, &b.jitted}) {
    Host host;
    JnContext ctx = MakeContext(s, host);
    JnValue v = p->evaluator->Eval(ParamId(b.spec()), ctx);
    EXPECT_EQ(v.type, JN_INT) << p->evaluator->name();
    EXPECT_EQ(v.i, 0) << p->evaluator->name();
    EXPECT_EQ(ctx.div_by_zero, 4u) << p->evaluator->name();
  }
}

TEST_F(JitTest, EvaluatorBasics) {
  Backends b;
  ASSERT_TRUE(Build(std::string(kSchema) + Journey({"1 + 1"}), 0, &b));
  EXPECT_STREQ(b.jitted.evaluator->name(), "jit");
  ASSERT_TRUE(b.jitted.spec);
  EXPECT_EQ(b.jitted.spec->journeys.size(), b.interpreted.spec->journeys.size());
  JnContext ctx{};
  JnValue out_of_range = b.jitted.evaluator->Eval(100000, ctx);
  EXPECT_EQ(out_of_range.type, JN_BOOL);
  EXPECT_EQ(out_of_range.b, 0);
  EXPECT_EQ(b.jitted.evaluator->Eval(-1, ctx).b, 0);
}

TEST_F(JitTest, FailedCompilationGivesAnError) {
  auto c = compiler::CompileSources({{"t.jny", "journey j { on nothing }"}}, {});
  ASSERT_FALSE(c->ok());
  Result<CompiledProgram> p = compiler::MakeJitProgram(*c);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(p.status().ToString(), "failed precondition: the compilation has errors");
  // The interpreter says the same, rather than read an IR that is not there.
  EXPECT_EQ(compiler::MakeInterpretedProgram(*c).status(), p.status());
}

TEST_F(JitTest, ProgramsOutliveTheirCompilationAndEachOther) {
  std::vector<CompiledProgram> programs;
  for (int k = 0; k < 3; ++k) {
    auto c = compiler::CompileSources(
        {{"t.jny", std::string(kSchema) + Journey({"event.i * " + std::to_string(k + 2)})}}, {});
    ASSERT_TRUE(c->ok());
    Result<CompiledProgram> p = compiler::MakeJitProgram(*c, k % 2 ? 0 : 2);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    programs.push_back(*std::move(p));
  }
  programs.erase(programs.begin());  // frees its code; the others keep working
  Backends b;
  ASSERT_TRUE(Build(std::string(kSchema) + Journey({"1"}), 2, &b));
  std::deque<Record> records;
  records.emplace_back(b.spec().profile, false);
  records.emplace_back(b.Event("e"), true);
  records.back().Int("i", 10);
  Scenario s;
  s.profile = &records.front();
  s.event = &records.back();
  for (size_t k = 0; k < programs.size(); ++k) {
    Host host;
    JnContext ctx = MakeContext(s, host);
    EXPECT_EQ(programs[k].evaluator->Eval(ParamId(*programs[k].spec), ctx).i, 10 * int64_t(k + 3));
  }
}

// Programs are built, run and freed from several threads at once.
TEST_F(JitTest, ConcurrentBuildsAndEvaluations) {
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &failures] {
      for (int round = 0; round < 5; ++round) {
        int k = t * 10 + round;
        auto c = compiler::CompileSources(
            {{"t.jny", std::string(kSchema) + Journey({"event.i * " + std::to_string(k) +
                                                       " + len(lower(event.s + \"X\"))"})}},
            {});
        Result<CompiledProgram> jitted = compiler::MakeJitProgram(*c, round % 2 ? 0 : 2);
        if (!jitted.ok()) {
          ++failures;
          continue;
        }
        CompiledProgram p = *std::move(jitted);
        std::deque<Record> records;
        records.emplace_back(p.spec->profile, false);
        records.emplace_back(p.spec->events.at(0), true);
        records.back().Int("i", 3).String("s", "ab");
        Scenario s;
        s.profile = &records.front();
        s.event = &records.back();
        for (int n = 0; n < 100; ++n) {
          Host host;
          JnContext ctx = MakeContext(s, host);
          JnValue v = p.evaluator->Eval(ParamId(*p.spec), ctx);
          if (v.type != JN_INT || v.i != 3 * k + 3) ++failures;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

// A program of 100 journeys (about ten expressions each): how long MakeJitProgram
// takes at O0 and O2. Printed, not asserted (the machine is shared).
TEST_F(JitTest, CompileTimeOfAHundredJourneys) {
  std::ostringstream src;
  src << kSchema;
  for (int k = 0; k < 100; ++k) {
    src << "journey j" << k << " {\n  on e when event.i > " << k << " and event.s starts_with \"a"
        << k << "\"\n  eligible big or profile.country in [\"US\", \"CA\"]\n"
        << "  exit on e2 when event.x == " << k << "\n"
        << "  if event.f * " << k << ".5 > event.g or count(e within 1h) > " << k % 7 << " {\n"
        << "    send push \"a" << k << "\" { v: event.f / (event.g + " << k
        << "), s: lower(event.s) + \"-" << k << "\", n: (event.oi ?? " << k << ") % 7 }\n"
        << "  } else {\n    send push \"b" << k << "\" { d: event.d * 1.5, ok: event.s in event.ls }\n"
        << "  }\n}\n";
  }
  auto c = compiler::CompileSources({{"t.jny", src.str()}}, {});
  ASSERT_TRUE(c->ok()) << c->FormatDiagnostics(compiler::DiagnosticFormat::kText);
  size_t exprs = compiler::BuildSpec(*c->ir()).exprs.size();
  for (int level : {0, 2}) {
    auto start = std::chrono::steady_clock::now();
    Result<CompiledProgram> jitted = compiler::MakeJitProgram(*c, level);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    ASSERT_TRUE(jitted.ok()) << jitted.status().ToString();
    CompiledProgram p = *std::move(jitted);
    std::printf("[ timing   ] 100 journeys, %zu expressions: MakeJitProgram at O%d: %.1f ms\n",
                exprs, level, ms);
    RecordProperty("compile_ms_O" + std::to_string(level), std::to_string(ms));
    // And how long one evaluation of every expression takes, against the interpreter.
    CompiledProgram interpreted = *compiler::MakeInterpretedProgram(*c);
    std::deque<Record> records;
    RandomValues rv(3);
    std::deque<Scenario> scenarios = RandomScenarios(*p.spec, rv, 1, records);
    records.emplace_back(p.spec->events.at(0), true);
    rv.FillRecord(records.back());
    scenarios[0].event = &records.back();
    std::vector<runtime::ExprId> readable;  // the exprs that may read an `e` event
    compiler::SpecAndExprs built = compiler::BuildSpec(*c->ir());
    const std::vector<const compiler::ir::Expr*>& table = built.exprs;
    for (size_t id = 0; id < table.size(); ++id) {
      if (Readable(*table[id], 0)) readable.push_back(runtime::ExprId(id));
    }
    for (const CompiledProgram* program : {&interpreted, &p}) {
      Host host;
      JnContext ctx = MakeContext(scenarios[0], host);
      auto t0 = std::chrono::steady_clock::now();
      constexpr int kRounds = 200;
      for (int r = 0; r < kRounds; ++r) {
        for (runtime::ExprId id : readable) program->evaluator->Eval(id, ctx);
        host.strings.clear();
      }
      double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() /
                  (double(kRounds) * double(readable.size()));
      std::printf("[ timing   ]   %s (O%d build): %.1f ns per expression\n", program->evaluator->name(),
                  level, ns);
    }
  }
}

}  // namespace
}  // namespace juncture::jit_testing

namespace juncture::compiler {
namespace {

// Hot reload: the interpreter decides at once, the JIT-compiled form takes over when
// it is ready, and no message is lost in between.
TEST(StageProgramTest, InterpreterFirstThenNativeCodeWithoutLosingMessages) {
  const char* src =
      "event cart { value: float }\nprofile { }\nchannel email { consent true }\n"
      "journey j { on cart when event.value > 1 reenter always send email \"t\" }\n";
  std::shared_ptr<const Compilation> c = CompileSources({{"t.jny", src}}, CompileOptions{});
  ASSERT_TRUE(c->ok());
  runtime::Engine engine(*MakeInterpretedProgram(*c));
  struct Count : runtime::DecisionSink {
    void OnDecision(const runtime::Decision& d) override { sent += d.outcome == runtime::Outcome::kSent; }
    void OnDeadLetter(std::string_view, const std::string&) override {}
    int sent = 0;
  } sink;
  std::thread jit = StageProgram(engine, c);
  jit.join();
  for (int i = 0; i < 100; ++i) {
    engine.Process("{\"type\":\"track\",\"event\":\"cart\",\"messageId\":\"m" + std::to_string(i) +
                       "\",\"userId\":\"u\",\"timestamp\":\"2026-10-01T09:00:00Z\","
                       "\"properties\":{\"value\":2}}",
                   sink);
  }
  EXPECT_EQ(sink.sent, 100);
  if (jit::JitAvailable(2).ok()) {
    EXPECT_STREQ(engine.evaluator_name(), "jit");
  }
  EXPECT_GE(engine.stats().reloads, 1u);
}

// A tier of StageProgram: the same compilation on another back end, sharing the
// spec, only swaps the evaluator. The customers' state is untouched (a waiting
// instance still fires, a window still counts) and nothing is re-laid out: the next
// TakeChanges is not a whole rewrite, as a reload to another program's spec is.
TEST(StageProgramTest, AReloadOntoTheSameSpecOnlySwapsTheEvaluator) {
  const char* src =
      "event cart { value: float }\nprofile { }\nchannel email { consent true }\n"
      "journey j { on cart reenter always wait 1h send email \"t\" { n: count(cart within 1d) } }\n";
  std::shared_ptr<const Compilation> c = CompileSources({{"t.jny", src}}, CompileOptions{});
  ASSERT_TRUE(c->ok());
  runtime::CompiledProgram interpreted = *MakeInterpretedProgram(*c);
  std::shared_ptr<const runtime::ProgramSpec> spec = interpreted.spec;
  runtime::Engine engine(std::move(interpreted));
  struct Params : runtime::DecisionSink {
    void OnDecision(const runtime::Decision& d) override {
      if (d.outcome == runtime::Outcome::kSent) sent.push_back(d.params_json);
      if (d.outcome == runtime::Outcome::kExited) ++exited;
    }
    void OnDeadLetter(std::string_view, const std::string&) override {}
    std::vector<std::string> sent;
    int exited = 0;
  } sink;
  const auto cart = [&](int i, const char* time) {
    engine.Process("{\"type\":\"track\",\"event\":\"cart\",\"messageId\":\"m" +
                       std::to_string(i) + "\",\"userId\":\"u\",\"timestamp\":\"" + time +
                       "\",\"properties\":{\"value\":2}}",
                   sink);
  };
  cart(1, "2026-10-01T09:00:00Z");
  cart(2, "2026-10-01T09:10:00Z");
  engine.TrackChanges(true);
  runtime::StateChanges changes;
  engine.TakeChanges(changes);  // the first is always whole
  for (int level : {0, 2}) {
    Result<runtime::CompiledProgram> native = MakeJitProgram(*c, level);
    if (!native.ok()) GTEST_SKIP() << native.status().ToString();
    native->spec = spec;
    EXPECT_OK(engine.Reload(*std::move(native), sink));
    EXPECT_STREQ(engine.evaluator_name(), "jit");
    engine.TakeChanges(changes);
    EXPECT_FALSE(changes.rewrite) << "level " << level;
    EXPECT_TRUE(changes.customers.empty()) << "level " << level;
  }
  EXPECT_EQ(&engine.spec(), spec.get());
  EXPECT_EQ(engine.stats().reloads, 2u);
  int64_t later = 0;
  ASSERT_TRUE(runtime::ParseTimestamp("2026-10-01T10:10:00Z", later));
  engine.AdvanceTo(later, sink);
  EXPECT_EQ(sink.exited, 0);
  // The instance (re-entered by the second cart) waited through both swaps.
  EXPECT_EQ(sink.sent, (std::vector<std::string>{R"({"n":2})"}));
}

}  // namespace
}  // namespace juncture::compiler
