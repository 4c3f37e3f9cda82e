// Differential testing of the JIT back end against the reference interpreter: build
// both evaluators for one compilation, evaluate every expression of the program in
// a set of scenarios (event record, profile record, time, customer, window values)
// and compare the results, the division-by-zero counters and the strings allocated.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <limits>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "backend/spec_builder.h"
#include "ir/ir.h"
#include "ir/printer.h"
#include "jit/jit_evaluator.h"
#include "juncture/abi/abi.h"
#include "juncture/compiler/backend.h"
#include "juncture/compiler/jit.h"
#include "juncture/compiler/compiler.h"
#include "juncture/runtime/program.h"
#include "juncture/runtime/record.h"

namespace juncture::jit_testing {

using compiler::Compilation;
using runtime::CompiledProgram;
using runtime::FieldSpec;
using runtime::RecordSpec;

// ---- Records ----------------------------------------------------------------------

// A record laid out as juncture/abi/abi.h says, owning its strings and lists. Not
// movable once values are set (they point into it); keep records in a deque.
class Record {
 public:
  Record(const RecordSpec& spec, bool event)
      : spec_(spec), event_(event), words_((std::max<size_t>(spec.size, 64) + 7) / 8, 0) {
    if (event) {
      JnEventHeader h{};
      h.type_id = spec.type_id;
      std::memcpy(data(), &h, sizeof h);
    }
    for (const FieldSpec& f : spec.fields) {
      if (f.has_default) SetRaw(f, f.default_value);
    }
  }
  Record(const Record&) = delete;
  Record& operator=(const Record&) = delete;

  uint8_t* data() { return reinterpret_cast<uint8_t*>(words_.data()); }
  const RecordSpec& spec() const { return spec_; }

  void Header(int64_t time_us, const std::string& id, const std::string& customer) {
    JnEventHeader h;
    std::memcpy(&h, data(), sizeof h);
    h.time_us = time_us;
    h.id = Str(id, -1);
    h.customer = Str(customer, -1);
    std::memcpy(data(), &h, sizeof h);
  }

  const FieldSpec& Field(const std::string& name) const {
    for (const FieldSpec& f : spec_.fields) {
      if (f.name == name) return f;
    }
    ADD_FAILURE() << "no field " << name << " in " << spec_.name;
    static FieldSpec none;
    return none;
  }

  Record& Int(const std::string& name, int64_t v) { return Set(name, abi_int(v)); }
  Record& Float(const std::string& name, double v) {
    JnValue x{};
    x.type = JN_FLOAT;
    x.f = v;
    return Set(name, x);
  }
  Record& Bool(const std::string& name, bool v) {
    JnValue x{};
    x.type = JN_BOOL;
    x.b = v;
    return Set(name, x);
  }
  Record& String(const std::string& name, const std::string& v, int32_t sym = -1) {
    JnValue x{};
    x.type = JN_STRING;
    x.s = Str(v, sym);
    return Set(name, x);
  }
  Record& Ints(const std::string& name, const std::vector<int64_t>& v) {
    return List(name, v.data(), v.size(), 8);
  }
  Record& Floats(const std::string& name, const std::vector<double>& v) {
    return List(name, v.data(), v.size(), 8);
  }
  Record& Bools(const std::string& name, const std::vector<bool>& v) {
    std::vector<uint8_t> bytes(v.begin(), v.end());
    return List(name, bytes.data(), bytes.size(), 1);
  }
  Record& Strings(const std::string& name, const std::vector<std::string>& v) {
    std::vector<JnStr> strs;
    for (const std::string& s : v) strs.push_back(Str(s, -1));
    return List(name, strs.data(), strs.size(), sizeof(JnStr));
  }

  // Sets any field from a JnValue of its type (lists must point at stable memory).
  Record& Set(const std::string& name, const JnValue& v) {
    SetRaw(Field(name), v);
    return *this;
  }

  JnStr Str(const std::string& s, int32_t sym) {
    arena_.push_back(s);
    return JnStr{arena_.back().data(), static_cast<uint32_t>(s.size()), sym};
  }

  Record& List(const std::string& name, const void* data, size_t n, uint32_t elem_size) {
    arena_.emplace_back(static_cast<const char*>(data), n * elem_size);
    JnValue x{};
    x.type = JN_LIST;
    x.l = JnList{arena_.back().data(), static_cast<uint32_t>(n), elem_size};
    return Set(name, x);
  }

 private:
  static JnValue abi_int(int64_t v) {
    JnValue x{};
    x.type = JN_INT;
    x.i = v;
    return x;
  }

  void SetRaw(const FieldSpec& f, const JnValue& v) {
    runtime::RecordWriter w(data());
    switch (f.type) {
      case JN_BOOL: w.SetBool(f.offset, v.b != 0); break;
      case JN_FLOAT: w.SetFloat(f.offset, v.f); break;
      case JN_STRING: w.SetStr(f.offset, v.s); break;
      case JN_LIST: w.SetList(f.offset, v.l); break;
      default: w.SetInt(f.offset, v.i); break;
    }
    w.SetPresent(event_ ? JN_EVENT_PRESENT_OFFSET : JN_PROFILE_PRESENT_OFFSET, f.presence_bit);
  }

  const RecordSpec& spec_;
  bool event_;
  std::vector<uint64_t> words_;
  std::deque<std::string> arena_;
};

// ---- Scenarios --------------------------------------------------------------------

// What one evaluation sees.
struct Scenario {
  Record* event = nullptr;  // null: no event bound
  Record* profile = nullptr;
  int64_t now_us = 1'700'000'000'000'000;
  std::string customer = "cust-1";
  std::vector<JnValue> windows;  // by slot
};

// The runtime's per-decision state as the callbacks see it.
struct Host {
  const std::vector<JnValue>* windows = nullptr;
  std::deque<std::string> strings;
  int window_calls = 0;
};

inline JnValue WindowCallback(void* host, uint32_t slot) {
  auto* h = static_cast<Host*>(host);
  ++h->window_calls;
  if (slot < h->windows->size()) return (*h->windows)[slot];
  return JnValue{};
}

inline const char* AllocCallback(void* host, const char* data, uint32_t len) {
  auto* h = static_cast<Host*>(host);
  h->strings.emplace_back(data, len);
  return h->strings.back().data();
}

inline JnContext MakeContext(const Scenario& s, Host& host) {
  JnContext ctx{};
  ctx.event = s.event ? s.event->data() : nullptr;
  ctx.profile = s.profile ? s.profile->data() : nullptr;
  ctx.now_us = s.now_us;
  ctx.customer = JnStr{s.customer.data(), static_cast<uint32_t>(s.customer.size()), -1};
  host.windows = &s.windows;
  ctx.host = &host;
  ctx.window = &WindowCallback;
  ctx.alloc = &AllocCallback;
  return ctx;
}

// Window values of the right type for every slot of `spec`, from `pick`.
template <typename Pick>
std::vector<JnValue> WindowValues(const runtime::ProgramSpec& spec, Pick pick) {
  std::vector<JnValue> out;
  for (size_t slot = 0; slot < spec.windows.size(); ++slot) {
    JnValue v{};
    v.type = spec.windows[slot].result_type;
    pick(v, slot);
    out.push_back(v);
  }
  return out;
}

// ---- Comparing values -----------------------------------------------------------------

inline bool SameFloat(double a, double b) {
  if (std::isnan(a) && std::isnan(b)) return true;
  uint64_t x, y;
  std::memcpy(&x, &a, 8);
  std::memcpy(&y, &b, 8);
  return x == y;
}

inline std::string Text(const JnStr& s) {
  return s.len == 0 ? std::string() : std::string(s.data, s.len);
}

inline bool SameStr(const JnStr& a, const JnStr& b) {
  return a.len == b.len && a.sym == b.sym && Text(a) == Text(b);
}

inline std::string Describe(const JnValue& v) {
  std::string out = "{type " + std::to_string(v.type) + " ";
  switch (v.type) {
    case JN_BOOL: out += v.b ? "true" : "false"; break;
    case JN_FLOAT: out += std::to_string(v.f); break;
    case JN_STRING: out += "\"" + Text(v.s) + "\" sym " + std::to_string(v.s.sym); break;
    case JN_LIST:
      out += "list elem " + std::to_string(v.elem) + " len " + std::to_string(v.l.len) +
             " size " + std::to_string(v.l.elem_size);
      break;
    default: out += std::to_string(v.i); break;
  }
  return out + "}";
}

// The interpreter's value (want) against the JIT's (got): the type and the member the
// type selects, bit for bit (floats: equal bits or both NaN; strings and lists by
// content, since constants live in different memory in the two back ends).
inline bool SameValue(const JnValue& want, const JnValue& got) {
  if (want.type != got.type) return false;
  switch (want.type) {
    case JN_BOOL: return want.b == got.b;
    case JN_FLOAT: return SameFloat(want.f, got.f);
    case JN_STRING: return SameStr(want.s, got.s);
    case JN_LIST: {
      if (want.elem != got.elem || want.l.len != got.l.len || want.l.elem_size != got.l.elem_size) {
        return false;
      }
      for (uint32_t i = 0; i < want.l.len; ++i) {
        const auto* a = static_cast<const uint8_t*>(want.l.data) + size_t{i} * want.l.elem_size;
        const auto* b = static_cast<const uint8_t*>(got.l.data) + size_t{i} * got.l.elem_size;
        if (want.elem == JN_STRING) {
          JnStr x, y;
          std::memcpy(&x, a, sizeof x);
          std::memcpy(&y, b, sizeof y);
          if (!SameStr(x, y)) return false;
        } else if (want.elem == JN_FLOAT) {
          double x, y;
          std::memcpy(&x, a, 8);
          std::memcpy(&y, b, 8);
          if (!SameFloat(x, y)) return false;
        } else if (std::memcmp(a, b, want.l.elem_size) != 0) {
          return false;
        }
      }
      return true;
    }
    default: return want.i == got.i;
  }
}

// ---- Which expressions a scenario may evaluate -----------------------------------------

// True if every event field `e` reads is declared by event type `type` (-1: no event
// bound, then no event field may be read). Reading a field of another event type is
// outside the language (the checker's binding rules prevent it).
inline bool Readable(const compiler::ir::Expr& e, int type) {
  using compiler::ir::Op;
  if (e.op == Op::kEventField || e.op == Op::kEventPresent) {
    if (type < 0) return false;
    bool found = false;
    for (const auto& f : e.fields) found = found || static_cast<int>(f.type_id) == type;
    if (!found) return false;
  }
  for (const auto& a : e.args) {
    if (!Readable(*a, type)) return false;
  }
  return true;
}

// ---- The two back ends ----------------------------------------------------------------

struct Backends {
  std::unique_ptr<Compilation> compilation;
  CompiledProgram interpreted;
  CompiledProgram jitted;
  std::vector<const compiler::ir::Expr*> exprs;  // by ExprId

  const runtime::ProgramSpec& spec() const { return *interpreted.spec; }
  const RecordSpec& Event(const std::string& name) const {
    return spec().events.at(static_cast<size_t>(spec().FindEvent(name)));
  }
};

// Compiles `source` and builds both back ends; on failure adds a test failure and
// returns false.
inline bool Build(const std::string& source, int opt_level, Backends* out) {
  out->compilation = compiler::CompileSources({{"t.jny", source}}, compiler::CompileOptions{});
  if (!out->compilation->ok()) {
    ADD_FAILURE() << "does not compile:\n"
                  << out->compilation->FormatDiagnostics(compiler::DiagnosticFormat::kText)
                  << "\n" << source;
    return false;
  }
  out->interpreted = *compiler::MakeInterpretedProgram(*out->compilation);
  Result<runtime::CompiledProgram> jitted = compiler::MakeJitProgram(*out->compilation, opt_level);
  if (!jitted.ok()) {
    ADD_FAILURE() << "MakeJitProgram failed: " << jitted.status().ToString();
    return false;
  }
  out->jitted = *std::move(jitted);
  compiler::SpecAndExprs built = compiler::BuildSpec(*out->compilation->ir());
  out->exprs = std::move(built.exprs);
  auto* jit = dynamic_cast<const compiler::jit::JitEvaluator*>(out->jitted.evaluator.get());
  if (jit == nullptr || jit->size() != out->exprs.size()) {
    ADD_FAILURE() << "the JIT evaluator does not cover the expression table";
    return false;
  }
  return true;
}

struct CheckStats {
  int compared = 0;
  int failures = 0;
};

// The scenario's event (type and presence word), for failure messages.
inline std::string EventText(const Scenario& s) {
  if (!s.event) return " (no event)";
  JnEventHeader h;
  std::memcpy(&h, s.event->data(), sizeof h);
  return " (event " + s.event->spec().name + " type_id " + std::to_string(h.type_id) +
         " present 0x" + [&] {
           char buf[32];
           std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(h.present));
           return std::string(buf);
         }() + ")";
}

// Evaluates expression `id` in `s` with both back ends and compares everything.
inline void CheckOne(const Backends& b, runtime::ExprId id, const Scenario& s, size_t scenario_index,
                     CheckStats* stats) {
  Host host_i, host_j;
  JnContext ctx_i = MakeContext(s, host_i);
  JnContext ctx_j = MakeContext(s, host_j);
  JnValue want = b.interpreted.evaluator->Eval(id, ctx_i);
  JnValue got = b.jitted.evaluator->Eval(id, ctx_j);
  ++stats->compared;
  bool same = SameValue(want, got) && ctx_i.div_by_zero == ctx_j.div_by_zero &&
              host_i.strings == host_j.strings && host_i.window_calls == host_j.window_calls;
  if (same) return;
  if (++stats->failures > 25) return;  // enough to debug
  const auto& program = *b.compilation->ir();
  ADD_FAILURE() << "expr " << id << ": " << compiler::ir::PrintExpr(*b.exprs[size_t(id)], program)
                << "\n  scenario " << scenario_index << EventText(s) << "\n  interpreter " << Describe(want)
                << " div0 " << ctx_i.div_by_zero << " allocs " << host_i.strings.size()
                << " windows " << host_i.window_calls << "\n  jit         " << Describe(got)
                << " div0 " << ctx_j.div_by_zero << " allocs " << host_j.strings.size()
                << " windows " << host_j.window_calls;
}

// Every expression in every scenario whose event it may read.
inline CheckStats CheckAll(const Backends& b, const std::deque<Scenario>& scenarios) {
  CheckStats stats;
  for (size_t k = 0; k < scenarios.size(); ++k) {
    const Scenario& s = scenarios[k];
    int type = s.event ? static_cast<int>(s.event->spec().type_id) : -1;
    for (size_t id = 0; id < b.exprs.size(); ++id) {
      if (!Readable(*b.exprs[id], type)) continue;
      CheckOne(b, static_cast<runtime::ExprId>(id), s, k, &stats);
    }
  }
  return stats;
}

// ---- Random values ------------------------------------------------------------------

// Values that stress the edges: zero, -1, extremes, NaN, signed zeros, empty strings,
// embedded NULs, multi-byte UTF-8.
class RandomValues {
 public:
  explicit RandomValues(uint64_t seed) : rng_(seed) {}

  std::mt19937_64& rng() { return rng_; }
  bool Chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  size_t Below(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

  int64_t Int() {
    static const int64_t kPool[] = {0, 1, -1, 2, 3, 7, -7, 10, 100, -100, 1'000'000,
                                    std::numeric_limits<int64_t>::max(),
                                    std::numeric_limits<int64_t>::min(),
                                    std::numeric_limits<int64_t>::min() + 1,
                                    int64_t{1} << 40};
    if (Chance(0.2)) return static_cast<int64_t>(rng_());
    return kPool[Below(std::size(kPool))];
  }
  double Float() {
    static const double kPool[] = {0.0, -0.0, 1.0, -1.0, 1.5, -2.25, 0.1, 100.0, 1e308, -1e308,
                                   5e-324, 9.3e18, -9.3e18, 2.5, 1e-3, 7.0,
                                   std::numeric_limits<double>::infinity(),
                                   -std::numeric_limits<double>::infinity(),
                                   std::numeric_limits<double>::quiet_NaN()};
    if (Chance(0.2)) return std::uniform_real_distribution<double>(-1000, 1000)(rng_);
    return kPool[Below(std::size(kPool))];
  }
  std::string String() {
    static const char* kPool[] = {"", "a", "ab", "abc", "US", "CA", "us", "ABC ", " x ",
                                  "\xC3\xA9t\xC3\xA9", "\xE6\x97\xA5\xE6\x9C\xAC", "abcabc",
                                  "dflt", "gold", "/checkout/pay", "x", "UTC",
                                  "Europe/Paris", "zz"};
    if (Chance(0.05)) return std::string("a\0b", 3);
    if (Chance(0.1)) {
      std::string s;
      size_t n = Below(6);
      for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>('a' + Below(3)));
      return s;
    }
    return kPool[Below(std::size(kPool))];
  }
  int32_t Sym() { return Chance(0.7) ? -1 : static_cast<int32_t>(Below(4)); }
  int64_t Time() {
    if (Chance(0.1)) return Int();
    return 1'700'000'000'000'000 + static_cast<int64_t>(Below(200'000'000)) * 1'000'000 - 100'000'000'000'000;
  }
  int64_t Duration() {
    static const int64_t kPool[] = {0, 1'000'000, -5'000'000, 3'600'000'000, 86'400'000'000,
                                    std::numeric_limits<int64_t>::max(),
                                    std::numeric_limits<int64_t>::min(), 1, -1};
    if (Chance(0.2)) return static_cast<int64_t>(rng_() >> Below(64));
    return kPool[Below(std::size(kPool))];
  }

  // A value of JnValue type `type` (element type `elem` for lists) written into
  // `record`'s field.
  void Fill(Record& r, const FieldSpec& f) {
    if (f.presence_bit >= 0 && Chance(0.35)) return;  // absent
    switch (f.type) {
      case JN_BOOL: r.Bool(f.name, Chance(0.5)); break;
      case JN_INT: r.Int(f.name, Int()); break;
      case JN_FLOAT: r.Float(f.name, Float()); break;
      case JN_STRING: r.String(f.name, String(), Sym()); break;
      case JN_TIME: r.Set(f.name, IntValue(JN_TIME, Time())); break;
      case JN_DURATION: r.Set(f.name, IntValue(JN_DURATION, Duration())); break;
      case JN_LIST: FillList(r, f); break;
      default: break;
    }
  }

  void FillRecord(Record& r) {
    for (const FieldSpec& f : r.spec().fields) Fill(r, f);
  }

  JnValue WindowValue(uint8_t type) {
    JnValue v{};
    v.type = type;
    if (type == JN_FLOAT) v.f = Float();
    else if (type == JN_DURATION) v.i = Duration();
    else v.i = Chance(0.5) ? static_cast<int64_t>(Below(5)) : Int();
    return v;
  }

 private:
  static JnValue IntValue(uint8_t type, int64_t i) {
    JnValue v{};
    v.type = type;
    v.i = i;
    return v;
  }

  void FillList(Record& r, const FieldSpec& f) {
    size_t n = Below(5);
    switch (f.elem) {
      case JN_STRING: {
        std::vector<std::string> v;
        for (size_t i = 0; i < n; ++i) v.push_back(String());
        r.Strings(f.name, v);
        break;
      }
      case JN_BOOL: {
        std::vector<bool> v;
        for (size_t i = 0; i < n; ++i) v.push_back(Chance(0.5));
        r.Bools(f.name, v);
        break;
      }
      case JN_FLOAT: {
        std::vector<double> v;
        for (size_t i = 0; i < n; ++i) v.push_back(Float());
        r.Floats(f.name, v);
        break;
      }
      default: {
        std::vector<int64_t> v;
        for (size_t i = 0; i < n; ++i) v.push_back(f.elem == JN_DURATION ? Duration() : Int());
        r.Ints(f.name, v);
        break;
      }
    }
  }

  std::mt19937_64 rng_;
};

// Random scenarios for a program: events of every type (and sometimes none), random
// profiles, times, customers and window values. Records live in `records`.
inline std::deque<Scenario> RandomScenarios(const runtime::ProgramSpec& spec, RandomValues& rv,
                                            size_t count, std::deque<Record>& records) {
  std::deque<Scenario> out;
  static const char* kCustomers[] = {"cust-1", "", "c\xC3\xA9", "anon-42"};
  for (size_t k = 0; k < count; ++k) {
    Scenario s;
    records.emplace_back(spec.profile, false);
    rv.FillRecord(records.back());
    s.profile = &records.back();
    if (!spec.events.empty() && !rv.Chance(0.08)) {
      const RecordSpec& e = spec.events[rv.Below(spec.events.size())];
      records.emplace_back(e, true);
      Record& r = records.back();
      rv.FillRecord(r);
      r.Header(rv.Time(), rv.String(), kCustomers[rv.Below(4)]);
      s.event = &r;
    }
    s.now_us = 1'700'000'000'000'000 + static_cast<int64_t>(rv.Below(1'000'000)) * 60'000'000;
    s.customer = kCustomers[rv.Below(4)];
    s.windows = WindowValues(spec, [&](JnValue& v, size_t) { v = rv.WindowValue(v.type); });
    out.push_back(std::move(s));
  }
  return out;
}

// Skips the test when no JIT can be made on this machine.
#define JUNCTURE_SKIP_WITHOUT_JIT()                                   \
  do {                                                                \
    Status jit_available = compiler::jit::JitAvailable(2);            \
    if (!jit_available.ok()) GTEST_SKIP() << jit_available.message(); \
  } while (0)

}  // namespace juncture::jit_testing
