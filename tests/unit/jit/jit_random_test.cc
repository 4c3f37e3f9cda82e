// Randomised differential testing: thousands of well-typed expressions, generated as
// source text over a fixed schema, compiled and evaluated by the interpreter and the
// JIT on random records; every result must agree bit for bit. The seed is fixed
// (JUNCTURE_FUZZ_SEED picks another); a failure prints the expression and the seed.
// Also runs the example programs on random records.
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include <gtest/gtest.h>

#include "differential.h"

namespace juncture::jit_testing {
namespace {

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
channel push { consent true }
segment big = profile.ltv > 100.0
segment us = profile.country == "US" or profile.nick ?? "" == "boss"
segment rich_us = big and us
)";

enum class T { kBool, kInt, kFloat, kString, kTime, kDuration, kListInt, kListFloat, kListString, kListBool };

// Generates source text of a given type. In union mode only the fields that `e` and
// `e2` share (with one type) are read from the event.
class ExprGen {
 public:
  ExprGen(RandomValues& rv, bool union_mode) : rv_(rv), union_(union_mode) {}

  std::string Gen(T t, int depth) {
    if (depth <= 0 || rv_.Chance(0.25)) return Leaf(t);
    switch (t) {
      case T::kBool: return Bool(depth - 1);
      case T::kInt: return Int(depth - 1);
      case T::kFloat: return Float(depth - 1);
      case T::kString: return String(depth - 1);
      case T::kTime: return Time(depth - 1);
      case T::kDuration: return Duration(depth - 1);
      default: return Leaf(t);
    }
  }

  T AnyType() {
    static const T kTypes[] = {T::kBool, T::kBool, T::kInt, T::kInt, T::kFloat, T::kFloat,
                               T::kString, T::kTime, T::kDuration, T::kListInt, T::kListString};
    return kTypes[rv_.Below(std::size(kTypes))];
  }

 private:
  template <size_t N>
  std::string Pick(const char* const (&options)[N]) {
    return options[rv_.Below(N)];
  }
  std::string P(const std::string& a, const char* op, const std::string& b) {
    return "(" + a + " " + op + " " + b + ")";
  }

  std::string IntLiteral() {
    static const char* const kLits[] = {"0", "1", "2", "3", "7", "100", "1000000",
                                        "9223372036854775807", "4611686018427387904"};
    std::string lit = Pick(kLits);
    return rv_.Chance(0.2) ? "(-" + lit + ")" : lit;
  }
  std::string FloatLiteral() {
    static const char* const kLits[] = {"0.0", "1.5", "2.25", "0.1", "15%", "1e300", "100.0",
                                        "2.5", "1e-3", "7.0"};
    std::string lit = Pick(kLits);
    return rv_.Chance(0.2) ? "(-" + lit + ")" : lit;
  }
  std::string StringLiteral() {
    static const char* const kLits[] = {"\"\"", "\"a\"", "\"ab\"", "\"abc\"", "\"US\"", "\"us\"",
                                        "\"\xC3\xA9t\xC3\xA9\"", "\"abcabc\"", "\"dflt\"",
                                        "\"gold\"", "\"x\"", "\"/checkout\"", "\" x \""};
    return Pick(kLits);
  }
  std::string DurationLiteral() {
    static const char* const kLits[] = {"1h", "90m", "1d12h", "1s", "0s", "2w", "30m"};
    return Pick(kLits);
  }

  std::string Leaf(T t) {
    switch (t) {
      case T::kBool: {
        static const char* const kAll[] = {"true", "false", "event.b", "profile.vip",
                                           "has(event.oi)", "(event.ob ?? true)", "big", "us",
                                           "rich_us", "has(profile.nick)", "has(event.os)"};
        static const char* const kUnion[] = {"true", "false", "profile.vip", "has(event.of)",
                                             "big", "us", "has(event.os)", "has(profile.age)"};
        return union_ ? Pick(kUnion) : Pick(kAll);
      }
      case T::kInt: {
        if (rv_.Chance(0.35)) return IntLiteral();
        static const char* const kAll[] = {"event.i", "event.j", "event.di", "profile.n",
                                           "(event.oi ?? 3)", "count(e within 1h)",
                                           "len(event.li)", "(profile.age ?? 0)",
                                           "count(e within 1d where event.s starts_with \"a\")"};
        static const char* const kUnion[] = {"event.i", "profile.n", "(profile.age ?? 0)",
                                             "len(event.li)", "count(e2 within 1h)"};
        return union_ ? Pick(kUnion) : Pick(kAll);
      }
      case T::kFloat: {
        if (rv_.Chance(0.35)) return FloatLiteral();
        static const char* const kAll[] = {"event.f", "event.g", "profile.ltv", "(event.of ?? 1.5)",
                                           "sum(e.f within 1d)", "(event.oi ?? 0.5)"};
        static const char* const kUnion[] = {"event.f", "profile.ltv", "(event.of ?? 1.5)",
                                             "sum(e2.f within 1d)"};
        return union_ ? Pick(kUnion) : Pick(kAll);
      }
      case T::kString: {
        if (rv_.Chance(0.35)) return StringLiteral();
        static const char* const kAll[] = {"event.s", "event.t", "event.ds", "profile.country",
                                           "profile.tier", "event.id", "event.customer",
                                           "(event.os ?? \"x\")", "(profile.nick ?? \"\")"};
        static const char* const kUnion[] = {"event.s", "profile.country", "event.id",
                                             "event.customer", "(event.os ?? \"x\")"};
        return union_ ? Pick(kUnion) : Pick(kAll);
      }
      case T::kTime: {
        static const char* const kAll[] = {"now", "event.time", "event.tm", "(event.ot ?? now)"};
        static const char* const kUnion[] = {"now", "event.time", "event.tm"};
        return union_ ? Pick(kUnion) : Pick(kAll);
      }
      case T::kDuration: {
        if (rv_.Chance(0.35)) return DurationLiteral();
        static const char* const kAll[] = {"event.d", "(event.od ?? 1h)", "time_since(e2)"};
        static const char* const kUnion[] = {"time_since(e)", "(now - event.tm)"};
        return union_ ? Pick(kUnion) : Pick(kAll);
      }
      case T::kListInt:
        return union_ || rv_.Chance(0.6) ? "event.li" : "[1, 2, 3]";
      case T::kListFloat: return union_ ? "[0.5, 2.5]" : "event.lf";
      case T::kListString:
        if (union_) return "[\"a\", \"US\"]";
        return rv_.Chance(0.5) ? "event.ls" : rv_.Chance(0.5) ? "(event.ol ?? [\"x\"])" : "[\"a\", \"US\"]";
      case T::kListBool: return union_ ? "[true]" : "event.lb";
    }
    return "true";
  }

  std::string Int(int d) {
    switch (rv_.Below(12)) {
      case 0: case 1: case 2: case 3: {
        static const char* const kOps[] = {"+", "-", "*", "/", "%"};
        return P(Gen(T::kInt, d), kOps[rv_.Below(5)], Gen(T::kInt, d));
      }
      case 4: return "(-" + Gen(T::kInt, d) + ")";
      case 5: return "abs(" + Gen(T::kInt, d) + ")";
      case 6: return std::string(rv_.Chance(0.5) ? "min(" : "max(") + Gen(T::kInt, d) + ", " + Gen(T::kInt, d) + ")";
      case 7: {
        static const char* const kFns[] = {"round(", "floor(", "ceil("};
        return Pick(kFns) + Gen(T::kFloat, d) + ")";
      }
      case 8: return "len(" + Gen(T::kString, d) + ")";
      case 9: return "bucket(" + Gen(T::kString, d) + ")";
      case 10: {
        static const char* const kTz[] = {"", "\"UTC\"", "\"America/New_York\"", "\"Asia/Tokyo\"", "\"Europe/Berlin\""};
        if (rv_.Chance(0.5)) {
          return std::string(rv_.Chance(0.5) ? "hour_of_day(" : "day_of_week(") + Pick(kTz) + ")";
        }
        // Dates of a time, in a zone or the profile's.
        static const char* const kDate[] = {"year(", "month(", "day_of_month("};
        std::string tz = Pick(kTz);
        return Pick(kDate) + Gen(T::kTime, d) + (tz.empty() ? "" : ", " + tz) + ")";
      }
      default: return "(" + OptionalInt() + " ?? " + Gen(T::kInt, d) + ")";
    }
  }
  std::string OptionalInt() { return union_ ? "profile.age" : rv_.Chance(0.5) ? "event.oi" : "profile.age"; }

  std::string Float(int d) {
    switch (rv_.Below(10)) {
      case 0: case 1: case 2: case 3: {
        static const char* const kOps[] = {"+", "-", "*", "/", "%"};
        // At least one float side; the other may be an int (widened).
        std::string a = Gen(T::kFloat, d), b = Gen(rv_.Chance(0.3) ? T::kInt : T::kFloat, d);
        if (rv_.Chance(0.5)) std::swap(a, b);
        return P(a, kOps[rv_.Below(5)], b);
      }
      case 4: return "(-" + Gen(T::kFloat, d) + ")";
      case 5: return "abs(" + Gen(T::kFloat, d) + ")";
      case 6: return std::string(rv_.Chance(0.5) ? "min(" : "max(") + Gen(T::kFloat, d) + ", " + Gen(T::kFloat, d) + ")";
      case 7: return std::string(rv_.Chance(0.5) ? "days(" : "hours(") + Gen(T::kDuration, d) + ")";
      case 8: return P(Gen(T::kDuration, d), "/", Gen(T::kDuration, d));
      default: return "(event.of ?? " + Gen(rv_.Chance(0.3) ? T::kInt : T::kFloat, d) + ")";
    }
  }

  std::string String(int d) {
    switch (rv_.Below(7)) {
      case 0: case 1: return P(Gen(T::kString, d), "+", Gen(T::kString, d));
      case 2: return "lower(" + Gen(T::kString, d) + ")";
      case 3: return "upper(" + Gen(T::kString, d) + ")";
      case 4: return "trim(" + Gen(T::kString, d) + ")";
      case 5: {
        static const T kKinds[] = {T::kInt, T::kFloat, T::kBool};
        return "string(" + Gen(kKinds[rv_.Below(3)], d) + ")";
      }
      default: return "(event.os ?? " + Gen(T::kString, d) + ")";
    }
  }

  std::string Time(int d) {
    switch (rv_.Below(3)) {
      case 0: return P(Gen(T::kTime, d), "+", Gen(T::kDuration, d));
      case 1: return P(Gen(T::kTime, d), "-", Gen(T::kDuration, d));
      default: return P(Gen(T::kDuration, d), "+", Gen(T::kTime, d));
    }
  }

  std::string Duration(int d) {
    switch (rv_.Below(11)) {
      case 0: return P(Gen(T::kTime, d), "-", Gen(T::kTime, d));
      case 1: return P(Gen(T::kDuration, d), "+", Gen(T::kDuration, d));
      case 2: return P(Gen(T::kDuration, d), "-", Gen(T::kDuration, d));
      case 3: return P(Gen(T::kDuration, d), "*", Gen(T::kFloat, d));
      case 4: return P(Gen(T::kFloat, d), "*", Gen(T::kDuration, d));
      case 5: return P(Gen(T::kDuration, d), "*", Gen(T::kInt, d));
      case 6: return P(Gen(T::kDuration, d), "/", Gen(T::kFloat, d));
      case 7: return P(Gen(T::kDuration, d), "/", Gen(T::kInt, d));
      case 8: return "(-" + Gen(T::kDuration, d) + ")";
      case 9: return std::string(rv_.Chance(0.5) ? "min(" : "max(") + Gen(T::kDuration, d) + ", " + Gen(T::kDuration, d) + ")";
      default:
        if (union_) return "(" + Gen(T::kDuration, d) + " * " + Gen(T::kInt, d) + ")";
        return "(event.od ?? " + Gen(T::kDuration, d) + ")";
    }
  }

  std::string ConstList(T elem) {
    size_t n = rv_.Chance(0.15) ? 17 + rv_.Below(8) : rv_.Below(4);
    std::string out = "[";
    for (size_t k = 0; k < n; ++k) {
      if (k) out += ", ";
      switch (elem) {
        case T::kInt: out += rv_.Chance(0.8) ? IntLiteral() : FloatLiteral(); break;
        case T::kFloat: out += rv_.Chance(0.7) ? FloatLiteral() : IntLiteral(); break;
        case T::kString: out += StringLiteral(); break;
        case T::kDuration: out += DurationLiteral(); break;
        default: out += rv_.Chance(0.5) ? "true" : "false"; break;
      }
    }
    return out + "]";
  }

  std::string Bool(int d) {
    switch (rv_.Below(14)) {
      case 0: return "(not " + Gen(T::kBool, d) + ")";
      case 1: return P(Gen(T::kBool, d), "and", Gen(T::kBool, d));
      case 2: return P(Gen(T::kBool, d), "or", Gen(T::kBool, d));
      case 3: case 4: case 5: {
        static const char* const kOps[] = {"<", "<=", ">", ">=", "==", "!="};
        static const T kComparable[] = {T::kInt, T::kFloat, T::kString, T::kTime, T::kDuration};
        T t = kComparable[rv_.Below(5)];
        T u = t;
        if ((t == T::kInt || t == T::kFloat) && rv_.Chance(0.3)) u = t == T::kInt ? T::kFloat : T::kInt;
        return P(Gen(t, d), kOps[rv_.Below(6)], Gen(u, d));
      }
      case 6: return P(Gen(T::kBool, d), rv_.Chance(0.5) ? "==" : "!=", Gen(T::kBool, d));
      case 7: {
        static const char* const kOps[] = {"starts_with", "ends_with", "contains"};
        return P(Gen(T::kString, d), kOps[rv_.Below(3)], Gen(T::kString, d));
      }
      case 8: {  // item in a constant list
        static const T kElems[] = {T::kInt, T::kFloat, T::kString, T::kDuration, T::kBool};
        T elem = kElems[rv_.Below(5)];
        T item = elem == T::kFloat && rv_.Chance(0.3) ? T::kInt : elem;
        return P(Gen(item, d), rv_.Chance(0.7) ? "in" : "not in", ConstList(elem));
      }
      case 9: {  // item in a list value
        switch (rv_.Below(4)) {
          case 0: return P(Gen(T::kInt, d), "in", Leaf(T::kListInt));
          case 1: return P(Gen(rv_.Chance(0.5) ? T::kInt : T::kFloat, d), "in", Leaf(T::kListFloat));
          case 2: return P(Gen(T::kString, d), "in", Leaf(T::kListString));
          default: return P(Gen(T::kBool, d), "in", Leaf(T::kListBool));
        }
      }
      case 10: {  // list contains item
        switch (rv_.Below(3)) {
          case 0: return P(Leaf(T::kListInt), "contains", Gen(T::kInt, d));
          case 1: return P(Leaf(T::kListString), "contains", Gen(T::kString, d));
          default: return P(Leaf(T::kListFloat), "contains", Gen(T::kFloat, d));
        }
      }
      case 11: {  // item in a list literal of expressions
        T t = rv_.Chance(0.5) ? T::kInt : T::kString;
        return P(Gen(t, d), "in", "[" + Gen(t, d) + ", " + Gen(t, d) + "]");
      }
      case 12: return "(" + std::string(union_ ? "profile.vip" : "(event.ob ?? " + Gen(T::kBool, d) + ")") + ")";
      default: return "has(" + std::string(union_ ? "event.of" : "event.od") + ")";
    }
  }

  RandomValues& rv_;
  bool union_;
};

uint64_t Seed() {
  const char* env = std::getenv("JUNCTURE_FUZZ_SEED");
  return env ? std::strtoull(env, nullptr, 10) : 20261122;
}

// A program whose journeys pass `n` random expressions each as send parameters: one
// journey on `e`, one on `e` or `e2` (a union binding).
std::string RandomProgram(RandomValues& rv, size_t n) {
  std::ostringstream out;
  out << kSchema;
  for (bool union_mode : {false, true}) {
    ExprGen gen(rv, union_mode);
    out << "journey " << (union_mode ? "u" : "j") << " {\n  on e\n"
        << (union_mode ? "  on e2\n" : "") << "  send push \"t\" {\n";
    for (size_t k = 0; k < n; ++k) {
      out << "    p" << k << ": " << gen.Gen(gen.AnyType(), 1 + int(rv.Below(4)))
          << (k + 1 < n ? ",\n" : "\n");
    }
    out << "  }\n}\n";
  }
  return out.str();
}

TEST(JitRandomTest, ThousandsOfExpressionsAgreeWithTheInterpreter) {
  JUNCTURE_SKIP_WITHOUT_JIT();
  uint64_t seed = Seed();
  RecordProperty("seed", std::to_string(seed));
  RandomValues rv(seed);
  constexpr int kPrograms = 12;
  constexpr size_t kPerJourney = 100;  // 2 journeys: 2400 expressions in all
  CheckStats total;
  for (int p = 0; p < kPrograms && total.failures == 0; ++p) {
    std::string source = RandomProgram(rv, kPerJourney);
    Backends b;
    ASSERT_TRUE(Build(source, p % 3 == 0 ? 0 : 2, &b)) << "seed " << seed << ", program " << p;
    std::deque<Record> records;
    std::deque<Scenario> scenarios = RandomScenarios(b.spec(), rv, 40, records);
    CheckStats stats = CheckAll(b, scenarios);
    total.compared += stats.compared;
    total.failures += stats.failures;
    EXPECT_EQ(stats.failures, 0) << "seed " << seed << ", program " << p << " (JUNCTURE_FUZZ_SEED="
                                 << seed << " reproduces)";
  }
  std::printf("[ random   ] seed %llu: %d comparisons\n", static_cast<unsigned long long>(seed),
              total.compared);
  EXPECT_GT(total.compared, 40000);
}

TEST(JitRandomTest, ExamplesAgreeWithTheInterpreterOnRandomRecords) {
  JUNCTURE_SKIP_WITHOUT_JIT();
  const char* root = std::getenv("JUNCTURE_SOURCE_DIR");
  std::filesystem::path dir = std::filesystem::path(root ? root : JUNCTURE_TEST_SOURCE_DIR) / "examples";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "no examples at " << dir;
  auto c = compiler::CompileFiles({dir.string()}, compiler::CompileOptions{});
  ASSERT_TRUE(c->ok()) << c->FormatDiagnostics(compiler::DiagnosticFormat::kText);
  for (int level : {0, 2}) {
    Backends b;
    b.interpreted = *compiler::MakeInterpretedProgram(*c);
    Result<CompiledProgram> jitted = compiler::MakeJitProgram(*c, level);
    ASSERT_TRUE(jitted.ok()) << jitted.status().ToString();
    b.jitted = *std::move(jitted);
    compiler::SpecAndExprs built = compiler::BuildSpec(*c->ir());
    b.exprs = std::move(built.exprs);
    b.compilation = nullptr;
    RandomValues rv(Seed() + 1);
    std::deque<Record> records;
    std::deque<Scenario> scenarios = RandomScenarios(b.spec(), rv, 300, records);
    CheckStats stats;
    for (size_t k = 0; k < scenarios.size(); ++k) {
      int type = scenarios[k].event ? static_cast<int>(scenarios[k].event->spec().type_id) : -1;
      for (size_t id = 0; id < b.exprs.size(); ++id) {
        if (!Readable(*b.exprs[id], type)) continue;
        Host hi, hj;
        JnContext ci = MakeContext(scenarios[k], hi), cj = MakeContext(scenarios[k], hj);
        JnValue want = b.interpreted.evaluator->Eval(runtime::ExprId(id), ci);
        JnValue got = b.jitted.evaluator->Eval(runtime::ExprId(id), cj);
        ++stats.compared;
        if (SameValue(want, got) && ci.div_by_zero == cj.div_by_zero && hi.strings == hj.strings) continue;
        if (++stats.failures < 10) {
          ADD_FAILURE() << "example expr " << id << ": " << compiler::ir::PrintExpr(*b.exprs[id], *c->ir())
                        << "\n  interpreter " << Describe(want) << "\n  jit " << Describe(got);
        }
      }
    }
    EXPECT_EQ(stats.failures, 0) << "O" << level;
    EXPECT_GT(stats.compared, 1000);
  }
}

}  // namespace
}  // namespace juncture::jit_testing
