// One eligibility rule, evaluated over the same decoded records by
//   - the LLVM ORC JIT (MakeJitProgram at O2, and O0 for reference),
//   - the reference interpreter (MakeInterpretedProgram),
//   - the same rule hand-written in C++, reading the same records at the offsets the
//     compiler chose (from the spec's layouts), called directly,
//   - that hand-written C++ behind the runtime::Evaluator interface the engine calls
//     (a virtual Eval returning a JnValue): the cost of the seam alone.
//
//   event.cart_value >= 50 and profile.country in ["US", "CA", "GB"]
//     and profile.email_opt_in and profile.tier == "gold"
//
// Inputs (the same in bench/peers/rule_peers.js): 5 cart values x 20 profiles = 100
// (event, profile) pairs, 9 of which match; non-matching pairs fail at every clause
// (cart value 40, country 24, opt-in 18, tier 9 of them, by the first failing clause).
// A cyclic sequence of pairs is drawn with xorshift32 (seed 2463534242): each position
// is a matching pair with probability 1/2, then a pair of that class at random. So
// matching and non-matching inputs alternate at random and every clause's branch goes
// both ways; each iteration evaluates the rule once on the next pair of the cycle.
// Two cycle lengths (the benchmark's argument): 4096 pairs, which this machine's
// branch predictors learn after a few laps (the best case: a hot, well-predicted
// rule), and 65536 pairs, which they cannot (every data-dependent branch
// mispredicts at its natural rate, as with a stream of different customers).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "juncture/compiler/backend.h"
#include "juncture/compiler/jit.h"
#include "juncture/compiler/compiler.h"
#include "juncture/runtime/event.h"
#include "juncture/runtime/record.h"

namespace {

using namespace juncture;

constexpr const char* kProgram = R"(
event cart_updated { cart_value: float }
profile {
  country:      string = ""
  email_opt_in: bool   = false
  tier:         string = "standard"
}
channel email { consent profile.email_opt_in }
journey rule {
  on cart_updated when event.cart_value >= 50 and profile.country in ["US", "CA", "GB"]
                   and profile.email_opt_in and profile.tier == "gold"
  send email "t"
}
)";

// ---- The inputs (keep in step with bench/peers/rule_peers.js) ----------------------

constexpr double kCartValues[] = {120.0, 75.5, 50.0, 49.99, 20.0};
constexpr const char* kCountries[] = {"US", "CA", "GB", "FR", "DE"};
constexpr bool kOptIns[] = {true, false};
constexpr const char* kTiers[] = {"gold", "silver"};
constexpr uint32_t kSeed = 2463534242u;

struct Profile {
  const char* country;
  bool opt_in;
  const char* tier;
};

std::vector<Profile> Profiles() {
  std::vector<Profile> out;
  for (const char* c : kCountries)
    for (bool o : kOptIns)
      for (const char* t : kTiers) out.push_back({c, o, t});
  return out;
}

bool Expected(double value, const Profile& p) {
  std::string_view c = p.country;
  return value >= 50 && (c == "US" || c == "CA" || c == "GB") && p.opt_in &&
         std::string_view(p.tier) == "gold";
}

uint32_t XorShift32(uint32_t& s) {
  s ^= s << 13;
  s ^= s >> 17;
  s ^= s << 5;
  return s;
}

// Pair k is (kCartValues[k / 20], Profiles()[k % 20]).
std::vector<uint8_t> Sequence(size_t length) {
  std::vector<Profile> profiles = Profiles();
  std::vector<uint8_t> match, miss;
  for (size_t k = 0; k < std::size(kCartValues) * profiles.size(); ++k) {
    (Expected(kCartValues[k / profiles.size()], profiles[k % profiles.size()]) ? match : miss)
        .push_back(static_cast<uint8_t>(k));
  }
  std::vector<uint8_t> seq;
  seq.reserve(length);
  uint32_t s = kSeed;
  for (size_t i = 0; i < length; ++i) {
    const std::vector<uint8_t>& from = (XorShift32(s) & 1) ? match : miss;
    seq.push_back(from[XorShift32(s) % from.size()]);
  }
  return seq;
}

// ---- Records and programs ------------------------------------------------------------

struct Fixture {
  std::unique_ptr<compiler::Compilation> c;
  runtime::CompiledProgram program;
  runtime::ExprId rule = runtime::kNoExpr;
  std::vector<runtime::RecordPtr> events;
  std::vector<runtime::RecordRef<runtime::Record>> profiles;
  struct Pair {
    const uint8_t* event;
    const uint8_t* profile;
    bool expected;
  };
  std::vector<Pair> pairs;
  std::vector<uint8_t> sequence;
};

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "rule_bench: %s\n", why.c_str());
  std::exit(1);
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// backend: "jit-o2", "jit-o0" or "interpreter".
// `length`: the cycle length (a power of two).
Fixture Make(const std::string& backend, size_t length) {
  Fixture f;
  f.c = compiler::CompileSources({{"rule.jny", kProgram}}, compiler::CompileOptions{});
  if (!f.c->ok()) Die(f.c->FormatDiagnostics(compiler::DiagnosticFormat::kText));
  if (backend == "interpreter") {
    f.program = *compiler::MakeInterpretedProgram(*f.c);
  } else {
    Result<runtime::CompiledProgram> jitted =
        compiler::MakeJitProgram(*f.c, backend == "jit-o0" ? 0 : 2);
    if (!jitted.ok()) Die("JIT: " + jitted.status().message());
    f.program = *std::move(jitted);
  }
  const runtime::ProgramSpec& spec = *f.program.spec;
  f.rule = spec.journeys.at(0).triggers.at(0).test;  // the `when` (no `eligible`)

  for (double v : kCartValues) {
    runtime::Message m;
    std::string json =
        "{\"type\":\"track\",\"event\":\"cart_updated\",\"messageId\":\"m1\",\"userId\":\"u1\","
        "\"timestamp\":\"2026-10-01T09:00:00Z\",\"properties\":{\"cart_value\":" + Num(v) + "}}";
    if (Status s = runtime::DecodeMessage(spec, json, m); !s.ok()) Die("decode: " + s.message());
    f.events.push_back(m.record);
  }
  std::vector<Profile> profiles = Profiles();
  for (const Profile& p : profiles) {
    runtime::Message m;
    std::string json = std::string(
        "{\"type\":\"identify\",\"messageId\":\"i1\",\"userId\":\"u1\","
        "\"timestamp\":\"2026-10-01T09:00:00Z\",\"traits\":{\"country\":\"") + p.country +
        "\",\"email_opt_in\":" + (p.opt_in ? "true" : "false") + ",\"tier\":\"" + p.tier + "\"}}";
    if (Status s = runtime::DecodeMessage(spec, json, m); !s.ok()) Die("decode: " + s.message());
    f.profiles.push_back(runtime::MergeTraits(spec, *runtime::MakeDefaultProfile(spec), m));
  }
  for (size_t k = 0; k < f.events.size() * f.profiles.size(); ++k) {
    size_t e = k / f.profiles.size(), p = k % f.profiles.size();
    f.pairs.push_back({f.events[e]->data(), f.profiles[p]->data(),
                       Expected(kCartValues[e], profiles[p])});
  }
  if (length == 0 || (length & (length - 1)) != 0) Die("the cycle length must be a power of two");
  f.sequence = Sequence(length);
  return f;
}

// ---- The hand-written rule -------------------------------------------------------------

struct Offsets {
  uint32_t cart_value, country, email_opt_in, tier;
};

uint32_t FieldOffset(const runtime::RecordSpec& r, const std::string& name) {
  for (const runtime::FieldSpec& f : r.fields)
    if (f.name == name) return f.offset;
  Die("no field " + name);
}

Offsets OffsetsOf(const runtime::ProgramSpec& spec) {
  int e = spec.FindEvent("cart_updated");
  if (e < 0) Die("no event cart_updated");
  return {FieldOffset(spec.events[static_cast<size_t>(e)], "cart_value"),
          FieldOffset(spec.profile, "country"), FieldOffset(spec.profile, "email_opt_in"),
          FieldOffset(spec.profile, "tier")};
}

inline bool Eq(JnStr s, std::string_view lit) {
  return s.len == lit.size() && std::memcmp(s.data, lit.data(), lit.size()) == 0;
}

// What an engineer would write against the documented record layout.
inline bool HandRule(const Offsets& o, const uint8_t* event, const uint8_t* profile) {
  runtime::RecordView e(event), p(profile);
  if (!(e.GetFloat(o.cart_value) >= 50)) return false;
  JnStr c = p.GetStr(o.country);
  if (!(Eq(c, "US") || Eq(c, "CA") || Eq(c, "GB"))) return false;
  if (!p.GetBool(o.email_opt_in)) return false;
  return Eq(p.GetStr(o.tier), "gold");
}

// The same, behind the interface the engine calls every back end through: a TestFn
// in the evaluator's table, called by Evaluator::Test (as the JIT's predicates are).
class HandEvaluator final : public runtime::Evaluator {
 public:
  HandEvaluator(Offsets o, runtime::ExprId rule) : o_(o) {
    tests_.assign(static_cast<size_t>(rule) + 1, &Evaluator::TestThroughEval);
    tests_[static_cast<size_t>(rule)] = &HandEvaluator::Predicate;
  }
  JnValue Eval(runtime::ExprId, JnContext& ctx) const override {
    JnValue v{};
    v.type = JN_BOOL;
    v.b = HandRule(o_, ctx.event, ctx.profile) ? 1 : 0;
    return v;
  }
  const char* name() const override { return "hand-written"; }

 private:
  __attribute__((noinline)) static bool Predicate(JnContext* ctx, const Evaluator* self,
                                                  runtime::ExprId) {
    return HandRule(static_cast<const HandEvaluator*>(self)->o_, ctx->event, ctx->profile);
  }
  Offsets o_;
};

// Every back end must agree with the expected result on every pair before timing.
void Check(const Fixture& f, const runtime::Evaluator& ev) {
  for (const Fixture::Pair& p : f.pairs) {
    JnContext ctx{};
    ctx.event = p.event;
    ctx.profile = p.profile;
    if (ev.Test(f.rule, ctx) != p.expected) Die(std::string(ev.name()) + " disagrees");
  }
}

void Report(benchmark::State& state, size_t matched, size_t n) {
  benchmark::DoNotOptimize(matched);
  state.counters["match_rate"] = n ? static_cast<double>(matched) / static_cast<double>(n) : 0;
}

void EvalRule(benchmark::State& state, const std::string& backend) {
  Fixture f = Make(backend, static_cast<size_t>(state.range(0)));
  Check(f, *f.program.evaluator);
  const size_t mask = f.sequence.size() - 1;
  const runtime::Evaluator& ev = *f.program.evaluator;
  JnContext ctx{};
  size_t i = 0, matched = 0;
  for (auto _ : state) {
    const Fixture::Pair& p = f.pairs[f.sequence[i & mask]];
    ctx.event = p.event;
    ctx.profile = p.profile;
    matched += ev.Test(f.rule, ctx);
    ++i;
  }
  Report(state, matched, i);
}

void BM_Rule_JitO2(benchmark::State& s) { EvalRule(s, "jit-o2"); }
void BM_Rule_JitO0(benchmark::State& s) { EvalRule(s, "jit-o0"); }
void BM_Rule_Interpreter(benchmark::State& s) { EvalRule(s, "interpreter"); }

void BM_Rule_HandWrittenCpp(benchmark::State& state) {
  Fixture f = Make("interpreter", static_cast<size_t>(state.range(0)));
  const size_t mask = f.sequence.size() - 1;
  const Offsets o = OffsetsOf(*f.program.spec);
  size_t i = 0, matched = 0;
  for (const Fixture::Pair& p : f.pairs)
    if (HandRule(o, p.event, p.profile) != p.expected) Die("hand-written rule disagrees");
  for (auto _ : state) {
    const Fixture::Pair& p = f.pairs[f.sequence[i & mask]];
    matched += HandRule(o, p.event, p.profile);
    ++i;
  }
  Report(state, matched, i);
}

void BM_Rule_HandWrittenCppViaEvaluator(benchmark::State& state) {
  Fixture f = Make("interpreter", static_cast<size_t>(state.range(0)));
  const size_t mask = f.sequence.size() - 1;
  HandEvaluator hand(OffsetsOf(*f.program.spec), f.rule);
  const runtime::Evaluator* ev = &hand;
  benchmark::DoNotOptimize(ev);  // no devirtualisation: a call through the vtable
  Check(f, *ev);
  JnContext ctx{};
  size_t i = 0, matched = 0;
  for (auto _ : state) {
    const Fixture::Pair& p = f.pairs[f.sequence[i & mask]];
    ctx.event = p.event;
    ctx.profile = p.profile;
    matched += ev->Test(f.rule, ctx);
    ++i;
  }
  Report(state, matched, i);
}

BENCHMARK(BM_Rule_JitO2)->Arg(4096)->Arg(65536);
BENCHMARK(BM_Rule_JitO0)->Arg(4096)->Arg(65536);
BENCHMARK(BM_Rule_Interpreter)->Arg(4096)->Arg(65536);
BENCHMARK(BM_Rule_HandWrittenCpp)->Arg(4096)->Arg(65536);
BENCHMARK(BM_Rule_HandWrittenCppViaEvaluator)->Arg(4096)->Arg(65536);

}  // namespace

BENCHMARK_MAIN();
