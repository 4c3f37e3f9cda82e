// Randomised differential testing of whole programs: from a fixed seed, generate
// hundreds of random well-typed programs (a schema of event types with scalar, list
// and optional fields, a profile, channels with consent / quiet hours / caps, consts,
// segments, and journeys with triggers, `when`, eligibility, re-entry, exits, limits
// and random step graphs) together with random input streams (identify and track
// messages for a few customers, non-decreasing timestamps, timers firing), run each
// stream through a runtime::Engine over the reference interpreter and through one over
// the JIT, and require the same decisions, dead letters and counters, in the same
// order. The seed is 1 unless JUNCTURE_FUZZ_SEED says otherwise;
// JUNCTURE_FUZZ_PROGRAMS changes how many programs run, JUNCTURE_FUZZ_ONLY=N runs only
// program N of the seed (to reproduce a failure), JUNCTURE_FUZZ_PRINT=1 prints every
// program, stream and decision. A failure prints the seed, the
// program, the stream and the first differing decision.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "differential.h"
#include "juncture/runtime/event.h"
#include "juncture/runtime/runtime.h"

namespace juncture::jit_testing {
namespace {

// ---- The schema -----------------------------------------------------------------------

enum class Ty { kBool, kInt, kFloat, kString, kTime, kDuration, kListInt, kListFloat, kListString };

const char* TypeName(Ty t) {
  switch (t) {
    case Ty::kBool: return "bool";
    case Ty::kInt: return "int";
    case Ty::kFloat: return "float";
    case Ty::kString: return "string";
    case Ty::kTime: return "time";
    case Ty::kDuration: return "duration";
    case Ty::kListInt: return "list<int>";
    case Ty::kListFloat: return "list<float>";
    case Ty::kListString: return "list<string>";
  }
  return "bool";
}

bool IsList(Ty t) { return t == Ty::kListInt || t == Ty::kListFloat || t == Ty::kListString; }

struct FieldDef {
  std::string name;
  Ty type = Ty::kInt;
  bool optional = false;
  std::string default_text;  // "" if none
  bool operator==(const FieldDef& o) const { return name == o.name && type == o.type && optional == o.optional; }
};

struct EventDef {
  std::string name;
  std::vector<FieldDef> fields;
};

struct ConstDef {
  std::string name;
  Ty type;
};

struct Schema {
  std::vector<EventDef> events;
  std::vector<FieldDef> profile;
  std::vector<std::string> channels;
  std::vector<ConstDef> consts;
  int segments = 0;
};

// Event fields come from one pool so that event types share fields (and a union
// binding can read them); now and then a field takes another type, so that it is not
// readable in a union with an event that has the usual one.
struct PoolField {
  const char* name;
  Ty type;
  bool optional;
  Ty alt;
  bool alt_optional;
};
const PoolField kEventFieldPool[] = {
    {"amount", Ty::kFloat, false, Ty::kInt, false},
    {"qty", Ty::kInt, false, Ty::kFloat, false},
    {"label", Ty::kString, false, Ty::kString, true},
    {"flag", Ty::kBool, false, Ty::kBool, true},
    {"code", Ty::kString, true, Ty::kInt, true},
    {"score", Ty::kFloat, true, Ty::kFloat, false},
    {"rank", Ty::kInt, true, Ty::kString, false},
    {"ok", Ty::kBool, true, Ty::kInt, false},
    {"tags", Ty::kListString, false, Ty::kListString, true},
    {"nums", Ty::kListInt, false, Ty::kListFloat, false},
    {"seen", Ty::kTime, false, Ty::kTime, true},
    {"span", Ty::kDuration, false, Ty::kDuration, true},
    {"title", Ty::kString, false, Ty::kInt, false},  // a keyword as a field name
    {"ratio", Ty::kFloat, false, Ty::kFloat, true},
};
const char* const kEventNames[] = {"cart", "purchase", "page_view", "signup", "app_open", "ticket"};
const char* const kChannelNames[] = {"email", "push", "sms", "webhook"};
const char* const kWindowSpans[] = {"30s", "10m", "1h", "1d", "7d"};
const char* const kWaitSpans[] = {"30s", "5m", "30m", "1h", "2h", "12h", "1d", "1d12h", "3d"};

// ---- Expressions ------------------------------------------------------------------------

struct Ex {
  std::string text;
  bool constant = false;  // only literals, consts and operators over them
};

// Where an expression is: which event types `event` may be (null: no event, as in
// segments and consent), whether windows may be used, how many segments are visible.
struct Ctx {
  const std::set<int>* binding = nullptr;
  bool windows = true;
  int segments = 0;
  // False inside `x in [a, b]` with non-constant elements: the checker rejects such a
  // list when a window's `where` inside it (or inside x) holds another `in` (it keeps
  // one "dynamic list allowed" pointer, which the nested `in` overwrites).
  bool where = true;
};

class Generator {
 public:
  explicit Generator(RandomValues& rv) : rv_(rv) {}

  std::string Program();
  const Schema& schema() const { return schema_; }

 private:
  bool Chance(double p) { return rv_.Chance(p); }
  size_t Below(size_t n) { return rv_.Below(n); }
  template <size_t N>
  const char* Pick(const char* const (&options)[N]) {
    return options[Below(N)];
  }
  static Ex Op(const Ex& a, const char* op, const Ex& b) {
    return {"(" + a.text + " " + op + " " + b.text + ")", a.constant && b.constant};
  }
  static Ex Call(const char* fn, const Ex& a) { return {std::string(fn) + "(" + a.text + ")", a.constant}; }
  static Ex Call(const char* fn, const Ex& a, const Ex& b) {
    return {std::string(fn) + "(" + a.text + ", " + b.text + ")", a.constant && b.constant};
  }

  // Event fields readable under `c`: declared with one type by every event type of
  // the binding.
  std::vector<FieldDef> EventFields(const Ctx& c) const {
    std::vector<FieldDef> out;
    if (c.binding == nullptr || c.binding->empty()) return out;
    const EventDef& first = schema_.events[size_t(*c.binding->begin())];
    for (const FieldDef& f : first.fields) {
      bool everywhere = true;
      for (int e : *c.binding) {
        const auto& fs = schema_.events[size_t(e)].fields;
        everywhere = everywhere && std::find(fs.begin(), fs.end(), f) != fs.end();
      }
      if (everywhere) out.push_back(f);
    }
    return out;
  }

  // ---- Leaves ----
  Ex Literal(Ty t) {
    switch (t) {
      case Ty::kBool: return {Chance(0.5) ? "true" : "false", true};
      case Ty::kInt: {
        static const char* const kLits[] = {"0", "1", "2", "3", "5", "10", "100", "(-1)", "(-7)", "1000000"};
        if (Chance(0.02)) return {"9223372036854775807", true};
        return {Pick(kLits), true};
      }
      case Ty::kFloat: {
        static const char* const kLits[] = {"0.0", "0.5", "1.5", "10.0", "99.9", "100.0", "15%",
                                            "2.5", "1e3", "(-2.5)", "0.1", "250.75"};
        return {Pick(kLits), true};
      }
      case Ty::kString: {
        static const char* const kLits[] = {"\"\"", "\"a\"", "\"US\"", "\"gold\"", "\"/checkout\"",
                                            "\"abc\"", "\"x\"", "\"us\"", "\"\xC3\xA9t\xC3\xA9\"",
                                            "\"a\\tb\"", "\"c1\""};
        return {Pick(kLits), true};
      }
      case Ty::kDuration: {
        static const char* const kLits[] = {"0s", "30s", "10m", "1h", "1d", "1d12h", "2w", "90m"};
        return {Pick(kLits), true};
      }
      case Ty::kTime: return {"now", false};
      case Ty::kListInt: return {"[1, 2, 3]", true};
      case Ty::kListFloat: return {"[0.5, 2.5, 100.0]", true};
      case Ty::kListString: return {"[\"a\", \"US\", \"gold\"]", true};
    }
    return {"true", true};
  }

  // A default for an optional of type t after `??`.
  Ex Default(Ty t, const Ctx& c, int depth) {
    if (depth > 0 && Chance(0.3)) return Gen(t, depth - 1, c);
    return Literal(t);
  }

  Ex Leaf(Ty t, const Ctx& c, int depth) {
    std::vector<Ex> vars;
    for (const FieldDef& f : EventFields(c)) {
      std::string r = "event." + f.name;
      if (f.optional) {
        if (t == Ty::kBool) vars.push_back({"has(" + r + ")", false});
        if (f.type == t || (t == Ty::kFloat && f.type == Ty::kInt)) {
          vars.push_back({"(" + r + " ?? " + Default(t == Ty::kFloat ? f.type : t, c, depth).text + ")", false});
        }
      } else if (f.type == t) {
        vars.push_back({r, false});
      }
      if (t == Ty::kInt && IsList(f.type) && !f.optional) vars.push_back({"len(" + r + ")", false});
    }
    for (const FieldDef& f : schema_.profile) {
      std::string r = "profile." + f.name;
      if (f.optional) {
        if (t == Ty::kBool) vars.push_back({"has(" + r + ")", false});
        if (f.type == t) vars.push_back({"(" + r + " ?? " + Literal(t).text + ")", false});
      } else if (f.type == t) {
        vars.push_back({r, false});
      }
    }
    if (c.binding != nullptr) {
      if (t == Ty::kString) {
        vars.push_back({"event.id", false});
        vars.push_back({"event.customer", false});
      }
      if (t == Ty::kTime) vars.push_back({"event.time", false});
      if (t == Ty::kDuration) vars.push_back({"(now - event.time)", false});
    }
    for (const ConstDef& k : schema_.consts) {
      if (k.type == t) vars.push_back({k.name, true});
    }
    if (t == Ty::kBool) {
      for (int k = 0; k < c.segments; ++k) vars.push_back({"seg" + std::to_string(k), false});
    }
    if (c.windows && Chance(0.2)) {
      Ex w;
      if (Window(t, c, depth, &w)) return w;
    }
    if (!vars.empty() && (t == Ty::kTime || Chance(0.7))) return vars[Below(vars.size())];
    return Literal(t);
  }

  // count / sum / time_since of type t, if there is one.
  bool Window(Ty t, const Ctx& c, int depth, Ex* out) {
    int e = static_cast<int>(Below(schema_.events.size()));
    const EventDef& ev = schema_.events[size_t(e)];
    std::string span = Pick(kWindowSpans);
    auto where = [&]() -> std::string {
      if (!c.where || !Chance(0.4)) return "";
      std::set<int> counted{e};
      Ctx inner{&counted, false, 0};
      return " where " + Gen(Ty::kBool, std::min(depth, 2), inner).text;
    };
    if (t == Ty::kInt && Chance(0.7)) {
      *out = {"count(" + ev.name + " within " + span + where() + ")", false};
      return true;
    }
    if (t == Ty::kDuration) {
      *out = {"time_since(" + ev.name + ")", false};
      return true;
    }
    if (t == Ty::kInt || t == Ty::kFloat) {
      std::vector<std::string> numeric;
      for (const FieldDef& f : ev.fields) {
        if (f.type == t) numeric.push_back(f.name);
      }
      if (numeric.empty()) return false;
      *out = {"sum(" + ev.name + "." + numeric[Below(numeric.size())] + " within " + span + where() + ")", false};
      return true;
    }
    return false;
  }

  // ---- Composites ----
  // An expression of type t, nested at most `depth` operators deep.
  Ex Gen(Ty t, int depth, const Ctx& c) {
    if (depth <= 0 || Chance(0.3)) return Leaf(t, c, depth);
    int d = depth - 1;
    switch (t) {
      case Ty::kBool: return Bool(d, c);
      case Ty::kInt: return Int(d, c);
      case Ty::kFloat: return Float(d, c);
      case Ty::kString: return String(d, c);
      case Ty::kTime: {
        switch (Below(3)) {
          case 0: return Op(Gen(Ty::kTime, d, c), "+", Gen(Ty::kDuration, d, c));
          case 1: return Op(Gen(Ty::kTime, d, c), "-", Gen(Ty::kDuration, d, c));
          default: return Leaf(t, c, d);
        }
      }
      case Ty::kDuration: return Duration(d, c);
      default: return Leaf(t, c, d);
    }
  }

  Ex Int(int d, const Ctx& c) {
    switch (Below(11)) {
      case 0: case 1: case 2: case 3: {
        static const char* const kOps[] = {"+", "-", "*", "/", "%"};
        return Op(Gen(Ty::kInt, d, c), Pick(kOps), Gen(Ty::kInt, d, c));
      }
      case 4: { Ex a = Gen(Ty::kInt, d, c); return {"(-" + a.text + ")", a.constant}; }
      case 5: return Call("abs", Gen(Ty::kInt, d, c));
      case 6: return Call(Chance(0.5) ? "min" : "max", Gen(Ty::kInt, d, c), Gen(Ty::kInt, d, c));
      case 7: {
        static const char* const kFns[] = {"round", "floor", "ceil"};
        return Call(Pick(kFns), Gen(Ty::kFloat, d, c));
      }
      case 8: return Call("len", Gen(Ty::kString, d, c));
      case 9: return {"bucket(" + Gen(Ty::kString, d, c).text + ")", false};
      default: {
        static const char* const kTz[] = {"", "\"UTC\"", "\"America/New_York\"", "\"Asia/Tokyo\"", "\"Europe/Berlin\""};
        return {std::string(Chance(0.5) ? "hour_of_day(" : "day_of_week(") + Pick(kTz) + ")", false};
      }
    }
  }

  Ex Float(int d, const Ctx& c) {
    switch (Below(8)) {
      case 0: case 1: case 2: case 3: {
        static const char* const kOps[] = {"+", "-", "*", "/", "%"};
        Ex a = Gen(Ty::kFloat, d, c), b = Gen(Chance(0.3) ? Ty::kInt : Ty::kFloat, d, c);
        if (Chance(0.5)) std::swap(a, b);
        return Op(a, Pick(kOps), b);
      }
      case 4: { Ex a = Gen(Ty::kFloat, d, c); return {"(-" + a.text + ")", a.constant}; }
      case 5: return Call(Chance(0.5) ? "min" : "max", Gen(Ty::kFloat, d, c), Gen(Ty::kFloat, d, c));
      case 6: return Call(Chance(0.5) ? "days" : "hours", Gen(Ty::kDuration, d, c));
      default: return Call("abs", Gen(Ty::kFloat, d, c));
    }
  }

  Ex String(int d, const Ctx& c) {
    switch (Below(5)) {
      case 0: case 1: return Op(Gen(Ty::kString, d, c), "+", Gen(Ty::kString, d, c));
      case 2: return Call("lower", Gen(Ty::kString, d, c));
      case 3: return Call("upper", Gen(Ty::kString, d, c));
      default: return Call("trim", Gen(Ty::kString, d, c));
    }
  }

  Ex Duration(int d, const Ctx& c) {
    switch (Below(8)) {
      case 0: return Op(Gen(Ty::kTime, d, c), "-", Gen(Ty::kTime, d, c));
      case 1: return Op(Gen(Ty::kDuration, d, c), "+", Gen(Ty::kDuration, d, c));
      case 2: return Op(Gen(Ty::kDuration, d, c), "-", Gen(Ty::kDuration, d, c));
      case 3: return Op(Gen(Ty::kDuration, d, c), "*", Gen(Chance(0.5) ? Ty::kInt : Ty::kFloat, d, c));
      case 4: return Op(Gen(Ty::kDuration, d, c), "/", Gen(Chance(0.5) ? Ty::kInt : Ty::kFloat, d, c));
      case 5: return Call(Chance(0.5) ? "min" : "max", Gen(Ty::kDuration, d, c), Gen(Ty::kDuration, d, c));
      case 6: { Ex a = Gen(Ty::kDuration, d, c); return {"(-" + a.text + ")", a.constant}; }
      default: return Leaf(Ty::kDuration, c, d);
    }
  }

  // A list of type t readable here (an event field or a literal).
  Ex ListOf(Ty t, const Ctx& c) {
    std::vector<Ex> vars;
    for (const FieldDef& f : EventFields(c)) {
      if (f.type != t) continue;
      if (f.optional) vars.push_back({"(event." + f.name + " ?? " + Literal(t).text + ")", false});
      else vars.push_back({"event." + f.name, false});
    }
    if (!vars.empty() && Chance(0.7)) return vars[Below(vars.size())];
    return Literal(t);
  }

  Ex Bool(int d, const Ctx& c) {
    switch (Below(13)) {
      case 0: { Ex a = Gen(Ty::kBool, d, c); return {"(not " + a.text + ")", a.constant}; }
      case 1: case 2: return Op(Gen(Ty::kBool, d, c), "and", Gen(Ty::kBool, d, c));
      case 3: return Op(Gen(Ty::kBool, d, c), "or", Gen(Ty::kBool, d, c));
      case 4: case 5: case 6: {
        static const char* const kOps[] = {"<", "<=", ">", ">=", "==", "!="};
        static const Ty kComparable[] = {Ty::kInt, Ty::kFloat, Ty::kString, Ty::kTime, Ty::kDuration,
                                         Ty::kInt, Ty::kFloat};
        Ty t = kComparable[Below(std::size(kComparable))];
        Ty u = t;
        if ((t == Ty::kInt || t == Ty::kFloat) && Chance(0.3)) u = t == Ty::kInt ? Ty::kFloat : Ty::kInt;
        return Op(Gen(t, d, c), Pick(kOps), Gen(u, d, c));
      }
      case 7: return Op(Gen(Ty::kBool, d, c), Chance(0.5) ? "==" : "!=", Gen(Ty::kBool, d, c));
      case 8: {
        static const char* const kOps[] = {"starts_with", "ends_with", "contains"};
        return Op(Gen(Ty::kString, d, c), Pick(kOps), Gen(Ty::kString, d, c));
      }
      case 9: {  // item in a list
        switch (Below(3)) {
          case 0: return Op(Gen(Ty::kInt, d, c), Chance(0.7) ? "in" : "not in", ListOf(Ty::kListInt, c));
          case 1: return Op(Gen(Chance(0.5) ? Ty::kInt : Ty::kFloat, d, c), "in", ListOf(Ty::kListFloat, c));
          default: return Op(Gen(Ty::kString, d, c), Chance(0.7) ? "in" : "not in", ListOf(Ty::kListString, c));
        }
      }
      case 10: {  // list contains item
        switch (Below(2)) {
          case 0: return Op(ListOf(Ty::kListInt, c), "contains", Gen(Ty::kInt, d, c));
          default: return Op(ListOf(Ty::kListString, c), "contains", Gen(Ty::kString, d, c));
        }
      }
      case 11: {  // item in a list literal of expressions
        Ty t = Chance(0.5) ? Ty::kInt : Ty::kString;
        Ctx no_where = c;
        no_where.where = false;
        Ex a = Gen(t, d, no_where), b = Gen(t, d, no_where), x = Gen(t, d, no_where);
        return {"(" + x.text + " in [" + a.text + ", " + b.text + "])", false};
      }
      default: return Leaf(Ty::kBool, c, d);
    }
  }

  // ---- Declarations ----
  void GenSchema(std::ostringstream& out);
  void Journey(std::ostringstream& out, int index);
  std::string Block(std::set<int>& binding, int depth, const std::string& indent);
  std::string Step(std::set<int>& binding, int depth, const std::string& indent, bool last);
  std::string Send(const std::set<int>& binding, const std::string& indent);

  RandomValues& rv_;
  Schema schema_;
  // The journey being generated.
  bool limit_le_ = false, limit_ge_ = false;
  int steps_left_ = 0;
};

void Generator::GenSchema(std::ostringstream& out) {
  // Events.
  std::vector<const char*> names(std::begin(kEventNames), std::end(kEventNames));
  std::shuffle(names.begin(), names.end(), rv_.rng());
  size_t n_events = 3 + Below(3);
  for (size_t k = 0; k < n_events; ++k) {
    EventDef ev;
    ev.name = names[k];
    std::vector<size_t> pool(std::size(kEventFieldPool));
    for (size_t i = 0; i < pool.size(); ++i) pool[i] = i;
    std::shuffle(pool.begin(), pool.end(), rv_.rng());
    size_t n_fields = Below(7);
    for (size_t i = 0; i < n_fields; ++i) {
      const PoolField& p = kEventFieldPool[pool[i]];
      FieldDef f;
      f.name = p.name;
      bool alt = Chance(0.2);
      f.type = alt ? p.alt : p.type;
      f.optional = alt ? p.alt_optional : p.optional;
      if (!f.optional && Chance(0.25)) {
        switch (f.type) {
          case Ty::kBool: f.default_text = "false"; break;
          case Ty::kInt: f.default_text = "2"; break;
          case Ty::kFloat: f.default_text = "1.5"; break;
          case Ty::kString: f.default_text = "\"dflt\""; break;
          case Ty::kDuration: f.default_text = "1h"; break;
          default: break;
        }
      }
      ev.fields.push_back(f);
    }
    schema_.events.push_back(ev);
  }
  for (const EventDef& ev : schema_.events) {
    out << "event " << ev.name << " {";
    for (const FieldDef& f : ev.fields) {
      out << "\n  " << f.name << ": " << TypeName(f.type) << (f.optional ? "?" : "");
      if (!f.default_text.empty()) out << " = " << f.default_text;
    }
    out << (ev.fields.empty() ? "}\n" : "\n}\n");
  }

  // The profile.
  auto add = [&](const char* name, Ty t, bool optional, const char* def) {
    schema_.profile.push_back(FieldDef{name, t, optional, def});
  };
  add("timezone", Ty::kString, false, "\"UTC\"");
  add("push_ok", Ty::kBool, false, "true");
  add("email_ok", Ty::kBool, false, "false");
  if (Chance(0.6)) add("country", Ty::kString, false, "\"\"");
  if (Chance(0.6)) add("tier", Ty::kString, false, "\"standard\"");
  if (Chance(0.6)) add("ltv", Ty::kFloat, false, "0");
  if (Chance(0.6)) add("visits", Ty::kInt, false, "0");
  if (Chance(0.5)) add("vip", Ty::kBool, false, "false");
  if (Chance(0.4)) add("nick", Ty::kString, true, "");
  if (Chance(0.4)) add("age", Ty::kInt, true, "");
  out << "profile {";
  for (const FieldDef& f : schema_.profile) {
    out << "\n  " << f.name << ": " << TypeName(f.type) << (f.optional ? "?" : "");
    if (!f.default_text.empty()) out << " = " << f.default_text;
  }
  out << "\n}\n";

  // Consts.
  size_t n_consts = Below(3);
  for (size_t k = 0; k < n_consts; ++k) {
    static const Ty kTypes[] = {Ty::kInt, Ty::kFloat, Ty::kString};
    ConstDef cd{"K" + std::to_string(k), kTypes[Below(3)]};
    Ex value = Literal(cd.type);
    if (Chance(0.4)) {
      // A constant expression over literals and earlier consts.
      if (cd.type == Ty::kString) value = Op(value, "+", Literal(Ty::kString));
      else value = Op(value, Chance(0.5) ? "*" : "+", Literal(cd.type));
    }
    out << "const " << cd.name << " = " << value.text << "\n";
    schema_.consts.push_back(cd);
  }

  // Segments (each may read the earlier ones).
  int n_segments = static_cast<int>(Below(4));
  for (int k = 0; k < n_segments; ++k) {
    Ctx c{nullptr, true, k};
    out << "segment seg" << k << " = " << Gen(Ty::kBool, 1 + int(Below(3)), c).text << "\n";
  }
  schema_.segments = n_segments;

  // Channels.
  std::vector<const char*> channels(std::begin(kChannelNames), std::end(kChannelNames));
  std::shuffle(channels.begin(), channels.end(), rv_.rng());
  size_t n_channels = 2 + Below(2);
  for (size_t k = 0; k < n_channels; ++k) {
    schema_.channels.push_back(channels[k]);
    out << "channel " << channels[k] << " {";
    double r = std::uniform_real_distribution<double>(0, 1)(rv_.rng());
    if (r < 0.35) {
      out << " consent true";
    } else if (r < 0.7) {
      out << " consent profile." << (Chance(0.5) ? "push_ok" : "email_ok");
    } else if (r < 0.95) {
      Ctx c{nullptr, true, schema_.segments};
      out << " consent " << Gen(Ty::kBool, 1 + int(Below(2)), c).text;
    }  // else: no consent clause (a warning)
    if (Chance(0.4)) {
      static const char* const kClocks[] = {"21:00", "08:00", "22:30", "07:00", "12:00", "13:15",
                                            "00:00", "23:59", "02:00", "18:00"};
      const char* a = Pick(kClocks);
      const char* b = Pick(kClocks);
      while (std::string(a) == b) b = Pick(kClocks);
      out << "\n  quiet " << a << " .. " << b << (Chance(0.5) ? " local" : "") << (Chance(0.3) ? " drop" : "");
    }
    if (Chance(0.5)) {
      static const char* const kPer[] = {"1h", "12h", "1d", "1w"};
      out << "\n  cap " << 1 + Below(4) << " per " << Pick(kPer);
    }
    if (Chance(0.015)) out << "\n  approval legal";
    out << " }\n";
  }
}

std::string Generator::Send(const std::set<int>& binding, const std::string& indent) {
  Ctx c{&binding, true, schema_.segments};
  static const char* const kTemplates[] = {"promo", "nudge", "hello", "reminder", "thanks"};
  std::string out = "send " + schema_.channels[Below(schema_.channels.size())] + " \"" + Pick(kTemplates) + "\"";
  if (Chance(0.35)) return out;
  if (Chance(0.05)) return out + " { }";
  struct P { const char* name; int type; };  // type -1: any
  static const P kParams[] = {{"discount", int(Ty::kFloat)}, {"value", -1}, {"msg", int(Ty::kString)},
                              {"n", int(Ty::kInt)}, {"flag", int(Ty::kBool)}, {"at", int(Ty::kTime)},
                              {"delay", int(Ty::kDuration)}, {"items", -2}, {"title", -1}};
  std::vector<size_t> order(std::size(kParams));
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rv_.rng());
  size_t n = 1 + Below(4);
  out += " {";
  for (size_t i = 0; i < n; ++i) {
    const P& p = kParams[order[i]];
    Ex v;
    if (p.type == -2) {
      static const Ty kLists[] = {Ty::kListInt, Ty::kListFloat, Ty::kListString};
      v = ListOf(kLists[Below(3)], c);
    } else if (p.type == -1) {
      static const Ty kAny[] = {Ty::kBool, Ty::kInt, Ty::kFloat, Ty::kString, Ty::kTime, Ty::kDuration};
      v = Gen(kAny[Below(std::size(kAny))], 1 + int(Below(3)), c);
    } else {
      v = Gen(static_cast<Ty>(p.type), 1 + int(Below(3)), c);
    }
    if (std::string(p.name) == "discount" && (limit_le_ || limit_ge_) && v.constant) {
      // A constant limited parameter is proven at compile time: keep it in bounds.
      v = {Chance(0.5) ? "10%" : "15%", true};
    }
    out += std::string(i ? "," : "") + "\n" + indent + "  " + p.name + ": " + v.text;
  }
  return out + "\n" + indent + "}";
}

std::string Generator::Step(std::set<int>& binding, int depth, const std::string& indent, bool last) {
  --steps_left_;
  Ctx c{&binding, true, schema_.segments};
  size_t r = Below(100);
  bool nest = depth < 3 && steps_left_ > 0;
  if (r < 36 || (!nest && r >= 48 && r < 90)) return Send(binding, indent);
  if (r < 46) return std::string("wait ") + Pick(kWaitSpans);
  if (r < 48) return "control";
  if (r < 62) {  // wait until
    std::set<int> awaited;
    size_t n = 1 + (Chance(0.3) ? 1 : 0);
    for (size_t k = 0; k < n; ++k) awaited.insert(static_cast<int>(Below(schema_.events.size())));
    std::string out = "wait until ";
    bool first = true;
    for (int e : awaited) {
      out += (first ? "" : " or ") + schema_.events[size_t(e)].name;
      first = false;
    }
    if (Chance(0.5)) {
      Ctx inner{&awaited, true, schema_.segments};
      out += " when " + Gen(Ty::kBool, 1 + int(Below(3)), inner).text;
    }
    out += std::string(" within ") + Pick(kWaitSpans);
    std::set<int> after = binding;
    after.insert(awaited.begin(), awaited.end());
    if (Chance(0.7)) {
      std::set<int> in_block = awaited;
      out += " " + Block(in_block, depth + 1, indent);
      after.insert(in_block.begin(), in_block.end());
      if (Chance(0.6)) {
        std::set<int> in_else = binding;
        out += " else " + Block(in_else, depth + 1, indent);
        after.insert(in_else.begin(), in_else.end());
      }
    }
    binding = after;
    return out;
  }
  if (r < 78) {  // if / else if / else
    std::set<int> after = binding;
    std::string out = "if " + Gen(Ty::kBool, 1 + int(Below(3)), c).text + " ";
    std::set<int> b = binding;
    out += Block(b, depth + 1, indent);
    after.insert(b.begin(), b.end());
    while (Chance(0.3)) {
      std::set<int> bb = binding;
      out += " else if " + Gen(Ty::kBool, 1 + int(Below(3)), c).text + " " + Block(bb, depth + 1, indent);
      after.insert(bb.begin(), bb.end());
    }
    if (Chance(0.5)) {
      std::set<int> bb = binding;
      out += " else " + Block(bb, depth + 1, indent);
      after.insert(bb.begin(), bb.end());
    }
    binding = after;
    return out;
  }
  if (r < 88) {  // split
    static const std::vector<std::vector<int>> kShares = {{50, 50}, {10, 90}, {33, 33, 34}, {20, 30, 50},
                                                          {1, 99}, {100}, {25, 25, 25, 25}};
    const std::vector<int>& shares = kShares[Below(kShares.size())];
    std::set<int> after = binding;
    std::string out = "split {";
    for (int share : shares) {
      std::set<int> b = binding;
      std::string arm = Chance(0.5) ? Block(b, depth + 1, indent + "  ") : Step(b, depth + 1, indent + "  ", true);
      after.insert(b.begin(), b.end());
      out += "\n" + indent + "  " + std::to_string(share) + "%: " + arm;
    }
    binding = after;
    return out + "\n" + indent + "}";
  }
  if (last && Chance(0.5)) return "exit";
  return Send(binding, indent);
}

std::string Generator::Block(std::set<int>& binding, int depth, const std::string& indent) {
  std::string inner = indent + "  ";
  size_t n = 1 + Below(depth >= 2 ? 2 : 3);
  std::string out = "{";
  for (size_t k = 0; k < n; ++k) out += "\n" + inner + Step(binding, depth, inner, k + 1 == n);
  return out + "\n" + indent + "}";
}

void Generator::Journey(std::ostringstream& out, int index) {
  static const char* const kNames[] = {"alpha", "beta", "gamma", "delta", "omega", "rescue"};
  out << "journey " << kNames[index] << " {\n";
  if (Chance(0.2)) out << "  title \"Journey " << index << "\"\n  owner \"growth\"\n";
  if (Chance(0.7)) {
    static const char* const kPriorities[] = {"-1", "0", "1", "5", "10", "10"};
    out << "  priority " << Pick(kPriorities) << "\n";
  }
  if (Chance(0.02)) out << "  approvals marketing\n";
  limit_le_ = Chance(0.25);
  limit_ge_ = Chance(0.1);
  if (limit_le_) out << "  limit discount <= 20%\n";
  if (limit_ge_) out << "  limit discount >= 5%\n";
  std::set<int> triggers;
  size_t n_triggers = 1 + (Chance(0.35) ? 1 : 0);
  std::vector<int> order;
  for (size_t k = 0; k < schema_.events.size(); ++k) order.push_back(int(k));
  std::shuffle(order.begin(), order.end(), rv_.rng());
  for (size_t k = 0; k < n_triggers; ++k) {
    int e = order[k];
    triggers.insert(e);
    out << "  on " << schema_.events[size_t(e)].name;
    if (Chance(0.5)) {
      std::set<int> only{e};
      Ctx c{&only, true, schema_.segments};
      out << " when " << Gen(Ty::kBool, 1 + int(Below(3)), c).text;
    }
    out << "\n";
  }
  size_t n_eligible = Chance(0.35) ? 1 + Below(2) : 0;
  for (size_t k = 0; k < n_eligible; ++k) {
    Ctx c{&triggers, true, schema_.segments};
    out << "  eligible " << Gen(Ty::kBool, 1 + int(Below(3)), c).text << "\n";
  }
  switch (Below(4)) {
    case 0: out << "  reenter never\n"; break;
    case 1: out << "  reenter always\n"; break;
    case 2: out << "  reenter after " << Pick(kWaitSpans) << "\n"; break;
    default: break;
  }
  size_t n_exits = Below(3);
  for (size_t k = 0; k < n_exits; ++k) {
    int e = static_cast<int>(Below(schema_.events.size()));
    out << "  exit on " << schema_.events[size_t(e)].name;
    if (Chance(0.6)) {
      std::set<int> only{e};
      Ctx c{&only, true, schema_.segments};
      out << " when " << Gen(Ty::kBool, 1 + int(Below(3)), c).text;
    }
    out << "\n";
  }
  // v1.1: a goal (its `when` sees the goal's event) and a deadline.
  if (Chance(0.4)) {
    int e = static_cast<int>(Below(schema_.events.size()));
    out << "  goal " << schema_.events[size_t(e)].name;
    if (Chance(0.6)) {
      std::set<int> only{e};
      Ctx c{&only, true, schema_.segments};
      out << " when " << Gen(Ty::kBool, 1 + int(Below(3)), c).text;
    }
    out << " within " << Pick(kWaitSpans) << "\n";
  }
  if (Chance(0.3)) out << "  deadline " << Pick(kWaitSpans) << "\n";
  steps_left_ = 4 + static_cast<int>(Below(8));
  std::set<int> binding = triggers;
  size_t n = 1 + Below(5);
  for (size_t k = 0; k < n || steps_left_ > 0; ++k) {
    if (k >= 7) break;
    out << "  " << Step(binding, 0, "  ", false) << "\n";
  }
  out << "}\n";
}

std::string Generator::Program() {
  std::ostringstream out;
  GenSchema(out);
  size_t n_journeys = 2 + Below(4);
  for (size_t k = 0; k < n_journeys; ++k) Journey(out, static_cast<int>(k));
  return out.str();
}

// ---- Input streams ----------------------------------------------------------------------

constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;

struct Input {
  bool advance = false;  // AdvanceTo(time) rather than Process(json)
  int64_t time = 0;
  std::string json;
};

class StreamGen {
 public:
  StreamGen(RandomValues& rv, const Schema& schema) : rv_(rv), schema_(schema) {}

  std::vector<Input> Stream() {
    std::vector<Input> out;
    int64_t t = T0() + static_cast<int64_t>(rv_.Below(24 * 60)) * kMinute;
    size_t n_customers = 2 + rv_.Below(4);
    for (size_t k = 0; k < n_customers; ++k) {
      std::string id = "c";
      id += std::to_string(k + 1);
      customers_.push_back(id);
    }
    if (rv_.Chance(0.2)) customers_.push_back("c\xC3\xA9");
    for (const std::string& c : customers_) {
      if (rv_.Chance(0.7)) out.push_back({false, t, Identify(c, t)});
    }
    size_t n = 30 + rv_.Below(50);
    for (size_t k = 0; k < n; ++k) {
      double r = std::uniform_real_distribution<double>(0, 1)(rv_.rng());
      if (r < 0.6) t += static_cast<int64_t>(rv_.Below(10 * 60)) * kSecond;
      else if (r < 0.85) t += static_cast<int64_t>(rv_.Below(3 * 60)) * kMinute;
      else if (r < 0.97) t += static_cast<int64_t>(rv_.Below(48)) * kHour + static_cast<int64_t>(rv_.Below(3600)) * kSecond;
      // else: the same time as the previous message
      if (rv_.Chance(0.05)) {
        out.push_back({true, t, ""});
        t += static_cast<int64_t>(rv_.Below(3600)) * kSecond;
      }
      const std::string& c = customers_[rv_.Below(customers_.size())];
      double kind = std::uniform_real_distribution<double>(0, 1)(rv_.rng());
      if (kind < 0.18) out.push_back({false, t, Identify(c, t)});
      else if (kind < 0.98) out.push_back({false, t, Track(c, t)});
      else out.push_back({false, t, Odd(c, t)});
    }
    out.push_back({true, t + 60 * kDay, ""});
    return out;
  }

 private:
  static int64_t T0() {
    int64_t us = 0;
    runtime::ParseTimestamp("2026-06-01T12:00:00Z", us);
    return us;
  }

  std::string NextId() { return "m" + std::to_string(++ids_); }

  std::string Header(const char* type, const std::string& customer, int64_t t) {
    std::string out = std::string("{\"type\":\"") + type + "\",\"messageId\":";
    runtime::AppendJsonString(NextId(), out);
    out += rv_.Chance(0.1) ? ",\"anonymousId\":" : ",\"userId\":";
    runtime::AppendJsonString(customer, out);
    out += ",\"timestamp\":\"" + runtime::FormatTimestamp(t) + "\"";
    return out;
  }

  std::string Value(Ty t, int64_t now) {
    switch (t) {
      case Ty::kBool: return rv_.Chance(0.5) ? "true" : "false";
      case Ty::kInt: {
        static const char* const kPool[] = {"0", "1", "2", "3", "5", "10", "100", "-1", "-7", "1000000", "3.0"};
        if (rv_.Chance(0.02)) return "9223372036854775807";
        return kPool[rv_.Below(std::size(kPool))];
      }
      case Ty::kFloat: {
        static const char* const kPool[] = {"0", "0.5", "1.5", "10", "99.9", "100", "250.75", "-2.5",
                                            "1e3", "0.1", "0.15", "0.3", "1e300", "-0.0"};
        return kPool[rv_.Below(std::size(kPool))];
      }
      case Ty::kString: {
        static const char* const kPool[] = {"\"\"", "\"a\"", "\"US\"", "\"gold\"", "\"/checkout/pay\"",
                                            "\"abc\"", "\"x\"", "\"ABC \"", "\"\\u00e9t\\u00e9\"", "\"us\"",
                                            "\" a\\tb \"", "\"c1\""};
        return kPool[rv_.Below(std::size(kPool))];
      }
      case Ty::kTime:
        return "\"" + runtime::FormatTimestamp(now + (static_cast<int64_t>(rv_.Below(200)) - 100) * kHour) + "\"";
      case Ty::kDuration: {
        static const char* const kPool[] = {"0", "30", "3600", "\"1h\"", "\"1d12h\"", "86400.5", "-60"};
        return kPool[rv_.Below(std::size(kPool))];
      }
      case Ty::kListInt: case Ty::kListFloat: case Ty::kListString: {
        Ty elem = t == Ty::kListInt ? Ty::kInt : t == Ty::kListFloat ? Ty::kFloat : Ty::kString;
        size_t n = rv_.Below(5);
        std::string out = "[";
        for (size_t k = 0; k < n; ++k) {
          std::string v = Value(elem, now);
          if (elem == Ty::kInt && v == "3.0") v = "3";
          out += (k ? "," : "") + v;
        }
        return out + "]";
      }
    }
    return "null";
  }

  std::string Identify(const std::string& customer, int64_t t) {
    std::string out = Header("identify", customer, t) + ",\"traits\":{";
    bool first = true;
    for (const FieldDef& f : schema_.profile) {
      if (!rv_.Chance(f.name == "push_ok" || f.name == "email_ok" ? 0.6 : 0.4)) continue;
      std::string v;
      if (f.name == "timezone") {
        static const char* const kZones[] = {"\"UTC\"", "\"America/New_York\"", "\"Asia/Tokyo\"",
                                             "\"Europe/Paris\"", "\"Australia/Lord_Howe\"", "\"Mars/Olympus\""};
        v = kZones[rv_.Below(std::size(kZones))];
      } else if (f.type == Ty::kBool && (f.name == "push_ok" || f.name == "email_ok")) {
        v = rv_.Chance(0.8) ? "true" : "false";
      } else if ((f.optional || !f.default_text.empty()) && rv_.Chance(0.1)) {
        v = "null";
      } else {
        v = Value(f.type, t);
      }
      out += std::string(first ? "" : ",") + "\"" + f.name + "\":" + v;
      first = false;
    }
    if (rv_.Chance(0.1)) out += std::string(first ? "" : ",") + "\"unknown_trait\":[1,{\"a\":2}]";
    return out + "}}";
  }

  std::string Track(const std::string& customer, int64_t t) {
    const EventDef& ev = schema_.events[rv_.Below(schema_.events.size())];
    std::string out = Header("track", customer, t) + ",\"event\":\"" + ev.name + "\",\"properties\":{";
    bool first = true;
    for (const FieldDef& f : ev.fields) {
      std::string v;
      if (f.optional || !f.default_text.empty()) {
        double r = std::uniform_real_distribution<double>(0, 1)(rv_.rng());
        if (r < 0.3) continue;
        v = r < 0.4 ? "null" : Value(f.type, t);
      } else {
        if (rv_.Chance(0.01)) continue;  // a missing required property: dead letter
        v = Value(f.type, t);
      }
      out += std::string(first ? "" : ",") + "\"" + f.name + "\":" + v;
      first = false;
    }
    if (rv_.Chance(0.1)) out += std::string(first ? "" : ",") + "\"extra\":\"ignored\"";
    return out + "}}";
  }

  // Messages the engine must ignore or dead-letter.
  std::string Odd(const std::string& customer, int64_t t) {
    switch (rv_.Below(4)) {
      case 0: return Header("track", customer, t) + ",\"event\":\"undeclared\",\"properties\":{}}";
      case 1: return Header("identify", customer, t) + ",\"traits\":{\"push_ok\":\"yes\"}}";
      case 2: return "{\"type\":\"track\",\"event\":\"" + schema_.events[0].name + "\"}";
      default: return "not json at all";
    }
  }

  RandomValues& rv_;
  const Schema& schema_;
  std::vector<std::string> customers_;
  int ids_ = 0;
};

// ---- Running both back ends -------------------------------------------------------------

struct Line {
  std::string text;
  size_t input = 0;  // the input that produced it
};

class Recorder : public runtime::DecisionSink {
 public:
  void OnDecision(const runtime::Decision& d) override {
    lines.push_back({d.ToJson(), input});
    ++outcomes[std::string(runtime::ToString(d.outcome)) + ((d.reason == runtime::Reason::kNone) ? "" : std::string(":") + runtime::ToString(d.reason))];
  }
  void OnDeadLetter(std::string_view message, const std::string& reason) override {
    lines.push_back({"dead letter: " + reason + " <- " + std::string(message), input});
  }
  std::vector<Line> lines;
  std::map<std::string, int> outcomes;
  size_t input = 0;
  std::string evaluator;  // the engine's evaluator_name()
};

void RunStream(runtime::CompiledProgram program, const std::vector<Input>& stream, Recorder* rec) {
  runtime::Engine engine(std::move(program));
  rec->evaluator = engine.evaluator_name();
  for (size_t k = 0; k < stream.size(); ++k) {
    rec->input = k;
    if (stream[k].advance) engine.AdvanceTo(stream[k].time, *rec);
    else engine.Process(stream[k].json, *rec);
  }
  const runtime::EngineStats& s = engine.stats();
  std::string stats = "stats: messages " + std::to_string(s.messages) + " dead " + std::to_string(s.dead_letters) +
                      " ignored " + std::to_string(s.ignored) + " decisions " + std::to_string(s.decisions) +
                      " timers " + std::to_string(s.timers_fired) + " div0 " + std::to_string(s.div_by_zero);
  for (const auto& [k, v] : s.by_outcome) stats += " " + k + "=" + std::to_string(v);
  rec->lines.push_back({stats, stream.size()});
}

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* env = std::getenv(name);
  return env && *env ? std::strtoull(env, nullptr, 10) : fallback;
}

std::string StreamText(const std::vector<Input>& stream, size_t upto) {
  std::string out;
  for (size_t k = 0; k <= upto && k < stream.size(); ++k) {
    out += "  [" + std::to_string(k) + "] ";
    out += stream[k].advance ? "AdvanceTo " + runtime::FormatTimestamp(stream[k].time) : stream[k].json;
    out += "\n";
  }
  return out;
}

TEST(JitRandomJourneysTest, RandomProgramsAndStreamsDecideAlikeInBothBackEnds) {
  JUNCTURE_SKIP_WITHOUT_JIT();
  const uint64_t seed = EnvOr("JUNCTURE_FUZZ_SEED", 1);
  const uint64_t programs = EnvOr("JUNCTURE_FUZZ_PROGRAMS", 300);
  const char* only_env = std::getenv("JUNCTURE_FUZZ_ONLY");
  RecordProperty("seed", std::to_string(seed));
  auto start = std::chrono::steady_clock::now();

  std::map<std::string, int> outcomes;
  size_t decisions = 0, dead_letters = 0, inputs = 0, mismatches = 0, bad_programs = 0;
  for (uint64_t p = 0; p < programs && mismatches < 3 && bad_programs < 3; ++p) {
    if (only_env && *only_env && std::strtoull(only_env, nullptr, 10) != p) continue;
    // One generator per program, so that JUNCTURE_FUZZ_ONLY reproduces it alone.
    RandomValues rv(seed * 0x9E3779B97F4A7C15ull + p);
    Generator gen(rv);
    std::string source = gen.Program();
    std::vector<Input> stream = StreamGen(rv, gen.schema()).Stream();
    const std::string where = "seed " + std::to_string(seed) + ", program " + std::to_string(p) +
                              " (JUNCTURE_FUZZ_SEED=" + std::to_string(seed) + " JUNCTURE_FUZZ_ONLY=" +
                              std::to_string(p) + " reproduces)";

    auto c = compiler::CompileSources({{"t.jny", source}}, compiler::CompileOptions{});
    if (!c->ok()) {
      ++bad_programs;
      ADD_FAILURE() << "generator bug: the program does not compile; " << where << "\n"
                    << c->FormatDiagnostics(compiler::DiagnosticFormat::kText) << "\n" << source;
      continue;
    }
    const int opt_level = p % 3 == 0 ? 0 : 2;
    Result<runtime::CompiledProgram> jitted = compiler::MakeJitProgram(*c, opt_level);
    if (!jitted.ok()) {
      ++bad_programs;
      ADD_FAILURE() << "MakeJitProgram failed: " << jitted.status().ToString() << "; " << where
                    << "\n"
                    << source;
      continue;
    }
    Recorder want, got;
    RunStream(*compiler::MakeInterpretedProgram(*c), stream, &want);
    RunStream(*std::move(jitted), stream, &got);
    inputs += stream.size();
    ASSERT_EQ(want.evaluator, "interpreter");
    ASSERT_EQ(got.evaluator, "jit");
    if (const char* print = std::getenv("JUNCTURE_FUZZ_PRINT"); print && *print) {
      std::printf("==== %s\n%s\n---- stream\n%s---- decisions\n", where.c_str(), source.c_str(),
                  StreamText(stream, stream.size()).c_str());
      for (const Line& l : want.lines) std::printf("  [%zu] %s\n", l.input, l.text.c_str());
    }

    size_t n = std::min(want.lines.size(), got.lines.size());
    size_t diff = 0;
    while (diff < n && want.lines[diff].text == got.lines[diff].text) ++diff;
    if (diff < n || want.lines.size() != got.lines.size()) {
      ++mismatches;
      size_t input = diff < want.lines.size() ? want.lines[diff].input
                                              : diff < got.lines.size() ? got.lines[diff].input : stream.size();
      std::string context;
      for (size_t k = diff >= 3 ? diff - 3 : 0; k < diff; ++k) context += "  " + want.lines[k].text + "\n";
      ADD_FAILURE() << "the JIT (O" << opt_level << ") and the interpreter disagree; " << where
                    << "\nprogram:\n" << source << "\nstream (up to the input that differs):\n"
                    << StreamText(stream, input) << "\nlast agreed decisions:\n" << context
                    << "first difference, decision #" << diff << " (input " << input << "):\n  interpreter: "
                    << (diff < want.lines.size() ? want.lines[diff].text : "(nothing)") << "\n  jit:         "
                    << (diff < got.lines.size() ? got.lines[diff].text : "(nothing)");
      continue;
    }
    for (const Line& l : want.lines) {
      if (l.text.rfind("dead letter: ", 0) == 0) ++dead_letters;
    }
    for (const auto& [k, v] : want.outcomes) {
      outcomes[k] += v;
      decisions += size_t(v);
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string summary;
  for (const auto& [k, v] : outcomes) summary += " " + k + "=" + std::to_string(v);
  std::printf("[ journeys ] seed %llu: %llu programs, %zu inputs, %zu decisions, %zu dead letters, %.1f s\n"
              "[ journeys ]%s\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(programs), inputs,
              decisions, dead_letters, seconds, summary.c_str());
  EXPECT_EQ(mismatches, 0u);
  EXPECT_EQ(bad_programs, 0u);

  // Not vacuous: the programs must actually send, suppress, defer and move customers
  // through journeys (only checked on full runs).
  if (only_env && *only_env) return;
  if (programs < 100) return;
  auto count = [&](const std::string& prefix) {
    int total = 0;
    for (const auto& [k, v] : outcomes) {
      if (k.rfind(prefix, 0) == 0) total += v;
    }
    return total;
  };
  // About a third of what seeds 1-5 give (each outcome, per 300 programs).
  const double scale = static_cast<double>(programs) / 300.0;
  EXPECT_GT(count("sent"), 2500 * scale);
  EXPECT_GT(count("suppressed"), 2000 * scale);
  EXPECT_GT(count("suppressed:consent"), 800 * scale);
  EXPECT_GT(count("suppressed:cap"), 500 * scale);
  EXPECT_GT(count("suppressed:quiet"), 150 * scale);
  EXPECT_GT(count("suppressed:limit"), 60 * scale);
  EXPECT_GT(count("suppressed:arbitration"), 100 * scale);
  EXPECT_GT(count("deferred"), 400 * scale);
  EXPECT_GT(count("control"), 100 * scale);
  EXPECT_GT(count("entered"), 1500 * scale);
  EXPECT_GT(count("exited"), 200 * scale);
  EXPECT_GT(count("completed"), 1200 * scale);
  EXPECT_GT(dead_letters, 150 * scale);
}

}  // namespace
}  // namespace juncture::jit_testing
