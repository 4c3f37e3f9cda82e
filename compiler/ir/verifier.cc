#include "ir/verifier.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "ir/ir.h"
#include "ir/printer.h"
#include "juncture/abi/abi.h"

namespace juncture::compiler::ir {
namespace {

constexpr IrType kBoolType{Ty::kBool};
constexpr IrType kIntType{Ty::kInt};
constexpr IrType kFloatType{Ty::kFloat};
constexpr IrType kStringType{Ty::kString};
constexpr IrType kTimeType{Ty::kTime};
constexpr IrType kDurationType{Ty::kDuration};

constexpr uint32_t kSplitTotal = 10000;  // basis points
constexpr int kMinutesPerDay = 24 * 60;
constexpr size_t kMaxShownExpr = 100;  // longer expressions are cut in messages

// Where an expression is, and what `event` may be there.
struct Scope {
  std::string where;                            // message prefix, e.g. "segment vip"
  bool event_readable = false;                  // false in segments and consent clauses
  const std::set<uint32_t>* current = nullptr;  // event types `event` may hold
};

// The number of operands `op` takes, or -1 for any number (calls).
int Arity(Op op) {
  switch (op) {
    case Op::kConst:
    case Op::kEventField:
    case Op::kEventPresent:
    case Op::kEnvelope:
    case Op::kProfileField:
    case Op::kProfilePresent:
    case Op::kNow:
    case Op::kCustomer:
    case Op::kWindow:
    case Op::kSegment: return 0;
    case Op::kIntToFloat:
    case Op::kNot:
    case Op::kNeg: return 1;
    case Op::kSelect: return 3;
    case Op::kCall: return -1;
    default: return 2;
  }
}

bool IsComparison(Op op) {
  return op == Op::kEq || op == Op::kNe || op == Op::kLt || op == Op::kLe || op == Op::kGt ||
         op == Op::kGe;
}

// Size of one value of type `t` in a record (juncture/abi/abi.h).
uint32_t ValueSize(IrType t) {
  switch (t.ty) {
    case Ty::kBool: return 1;
    case Ty::kString: return sizeof(JnStr);
    case Ty::kList: return sizeof(JnList);
    default: return 8;
  }
}

// The field of `layout` at byte `offset`, or null.
const FieldLayout* FieldAt(const RecordLayout& layout, uint32_t offset) {
  for (const FieldLayout& f : layout.fields) {
    if (f.offset == offset) return &f;
  }
  return nullptr;
}

// A well-formed type: a scalar (whose unused `elem` is left at its default, since
// IrType equality compares it), or a list of scalars.
bool WellFormed(IrType t) {
  if (t.ty == Ty::kList) return t.elem != Ty::kList;
  return t.elem == Ty::kBool;
}

std::string Quoted(const std::string& s) { return "'" + s + "'"; }

class Verifier {
 public:
  Verifier(const Program& p, std::vector<std::string>& problems) : p_(p), problems_(problems) {}

  bool Run() {
    size_t before = problems_.size();
    for (size_t i = 0; i < p_.events.size(); ++i) {
      const RecordLayout& e = p_.events[i];
      std::string where = "event " + e.name;
      if (e.type_id != i) {
        Problem(where,
                "type_id " + std::to_string(e.type_id) + " != its index " + std::to_string(i));
      }
      CheckLayout(e, where, JN_EVENT_FIELDS_OFFSET);
    }
    CheckUniqueNames(p_.events, "event");
    CheckLayout(p_.profile, "profile", JN_PROFILE_FIELDS_OFFSET);
    CheckTimezoneField();
    CheckWindows();
    CheckSegments();
    CheckChannels();
    CheckDependencyCycles();
    CheckJourneyOrder();
    for (const Journey& j : p_.journeys) CheckJourney(j);
    return problems_.size() == before;
  }

 private:
  void Problem(const std::string& where, const std::string& what) {
    problems_.push_back(where + ": " + what);
  }

  std::string EventName(uint32_t type_id) const {
    if (type_id < p_.events.size()) return p_.events[type_id].name;
    return "#" + std::to_string(type_id);
  }

  template <typename T>
  void CheckUniqueNames(const std::vector<T>& items, const char* kind) {
    std::set<std::string> seen;
    for (size_t i = 0; i < items.size(); ++i) {
      const T& item = items[i];
      if (item.name.empty()) Problem(std::string(kind) + " #" + std::to_string(i), "empty name");
      if (!item.name.empty() && !seen.insert(item.name).second) {
        Problem(std::string(kind) + " " + item.name, "the name is used twice");
      }
    }
  }

  // ---- Layouts ----------------------------------------------------------------------

  void CheckLayout(const RecordLayout& r, const std::string& where, uint32_t header) {
    if (r.size % 8 != 0) {
      Problem(where, "size " + std::to_string(r.size) + " is not a multiple of 8");
    }
    uint32_t end = 0;  // the end of the fields so far
    std::set<std::string> names;
    std::set<int> bits;
    for (size_t i = 0; i < r.fields.size(); ++i) {
      const FieldLayout& f = r.fields[i];
      std::string at = where + ": field " + f.name;
      if (f.name.empty() || !names.insert(f.name).second) {
        Problem(at, "the field name is empty or used twice");
      }
      if (!WellFormed(f.type)) Problem(at, "malformed type " + TypeName(f.type));
      uint32_t size = ValueSize(f.type);
      uint32_t align = size >= 8 ? 8 : 1;
      if (f.offset < header) {
        Problem(at, "offset " + std::to_string(f.offset) + " is inside the " +
                        std::to_string(header) + "-byte header");
      }
      if (f.offset % align != 0) {
        Problem(at, "offset " + std::to_string(f.offset) + " is not aligned to " +
                        std::to_string(align));
      }
      if (i > 0 && f.offset <= r.fields[i - 1].offset) {
        Problem(at, "offset " + std::to_string(f.offset) + " is not after the previous field's " +
                        std::to_string(r.fields[i - 1].offset) + " (fields must be sorted)");
      } else if (i > 0 && f.offset < end) {
        Problem(at, "offset " + std::to_string(f.offset) +
                        " overlaps the previous field (ends at " + std::to_string(end) + ")");
      }
      end = std::max(end, f.offset + size);
      if (f.presence_bit < -1 || f.presence_bit >= JN_MAX_OPTIONAL_FIELDS) {
        Problem(at, "presence bit " + std::to_string(f.presence_bit) + " is not in 0..63");
      } else if (f.presence_bit >= 0 && !bits.insert(f.presence_bit).second) {
        Problem(at, "presence bit " + std::to_string(f.presence_bit) + " is used twice");
      }
      if (f.presence_bit >= 0 && f.has_default) Problem(at, "an optional field has a default");
    }
    if (r.size < header) {
      Problem(where, "size " + std::to_string(r.size) + " is less than the " +
                         std::to_string(header) + "-byte header");
    } else if (r.size < end) {
      Problem(where, "size " + std::to_string(r.size) +
                         " is less than the end of the last field (" + std::to_string(end) + ")");
    }
  }

  void CheckTimezoneField() {
    int tz = p_.profile_timezone_field;
    if (tz < -1 || tz >= static_cast<int>(p_.profile.fields.size())) {
      Problem("profile", "timezone field index " + std::to_string(tz) + " is out of range");
      return;
    }
    if (tz >= 0 &&
        (p_.profile.fields[tz].type != kStringType || p_.profile.fields[tz].presence_bit >= 0)) {
      Problem("profile",
              "timezone field " + p_.profile.fields[tz].name + " is not a required string");
    }
  }

  // ---- Program parts ----------------------------------------------------------------

  void CheckWindows() {
    for (size_t i = 0; i < p_.windows.size(); ++i) {
      const Window& w = p_.windows[i];
      std::string where = "window #" + std::to_string(i);
      if (w.event_type >= p_.events.size()) {
        Problem(where, "event type " + std::to_string(w.event_type) + " is out of range");
        continue;
      }
      if (w.kind != WindowKind::kTimeSince && w.within_us <= 0) {
        Problem(where, "'within' must be longer than 0s");
      }
      IrType want = kDurationType;
      if (w.kind == WindowKind::kCount) want = kIntType;
      if (w.kind == WindowKind::kSum) {
        want = w.field_type;
        if (w.field_type != kIntType && w.field_type != kFloatType) {
          Problem(where, "sum of a " + TypeName(w.field_type) + " field (needs int or float)");
        }
        const FieldLayout* f = FieldAt(p_.events[w.event_type], w.field.offset);
        if (w.field.type_id != w.event_type) {
          Problem(where, "the summed field belongs to event type " +
                             std::to_string(w.field.type_id) + ", not the window's");
        } else if (f == nullptr) {
          Problem(where, "no field of " + EventName(w.event_type) + " at offset " +
                             std::to_string(w.field.offset));
        } else if (f->type != w.field_type) {
          Problem(where, "field " + f->name + " is " + TypeName(f->type) + ", not " +
                             TypeName(w.field_type));
        }
      }
      if (w.type != want) {
        Problem(where, "type " + TypeName(w.type) + " should be " + TypeName(want));
      }
      if (w.where) {
        std::set<uint32_t> counted = {w.event_type};
        CheckCondition(w.where.get(), Scope{where + ": where", true, &counted}, "'where'");
      }
    }
  }

  void CheckSegments() {
    CheckUniqueNames(p_.segments, "segment");
    for (const Segment& s : p_.segments) {
      std::string where = "segment " + s.name;
      CheckCondition(s.body.get(), Scope{where, false, nullptr}, "body");
    }
  }

  void CheckChannels() {
    CheckUniqueNames(p_.channels, "channel");
    for (size_t i = 0; i < p_.channels.size(); ++i) {
      const Channel& c = p_.channels[i];
      std::string where = "channel " + c.name;
      if (c.id != i) {
        Problem(where, "id " + std::to_string(c.id) + " != its index " + std::to_string(i));
      }
      if (c.consent) {
        CheckCondition(c.consent.get(), Scope{where + ": consent", false, nullptr}, "consent");
      }
      if (c.has_quiet) {
        const Quiet& q = c.quiet;
        if (q.start_minute < 0 || q.start_minute >= kMinutesPerDay || q.end_minute < 0 ||
            q.end_minute >= kMinutesPerDay) {
          Problem(where, "quiet hours " + std::to_string(q.start_minute) + ".." +
                             std::to_string(q.end_minute) + " are not minutes of the day");
        } else if (q.start_minute == q.end_minute) {
          Problem(where, "quiet hours are empty (start == end)");
        }
        if (q.local && p_.profile_timezone_field < 0) {
          Problem(where, "local quiet hours need the profile's timezone field");
        }
      }
      if (c.has_cap && (c.cap_count <= 0 || c.cap_per_us <= 0)) {
        Problem(where, "cap " + std::to_string(c.cap_count) + " per " +
                           PrintDuration(c.cap_per_us) + " must be positive");
      }
    }
  }

  // Segments and window filters read each other by index; a cycle would never end.
  void CheckDependencyCycles() {
    // Nodes: segments 0..S-1, then windows S..S+W-1.
    size_t segments = p_.segments.size();
    size_t n = segments + p_.windows.size();
    std::vector<std::set<size_t>> reads(n);
    for (size_t i = 0; i < segments; ++i) CollectReads(p_.segments[i].body.get(), reads[i]);
    for (size_t i = 0; i < p_.windows.size(); ++i) {
      CollectReads(p_.windows[i].where.get(), reads[segments + i]);
    }
    auto name = [&](size_t node) {
      return node < segments ? "segment " + p_.segments[node].name
                             : "window #" + std::to_string(node - segments);
    };
    // Iterative colouring DFS: 0 unvisited, 1 on the path, 2 done.
    std::vector<int> state(n, 0);
    for (size_t root = 0; root < n; ++root) {
      if (state[root] != 0) continue;
      std::vector<std::pair<size_t, std::set<size_t>::const_iterator>> path;
      state[root] = 1;
      path.push_back({root, reads[root].begin()});
      while (!path.empty()) {
        auto& [node, it] = path.back();
        if (it == reads[node].end()) {
          state[node] = 2;
          path.pop_back();
          continue;
        }
        size_t next = *it++;
        if (state[next] == 1) {
          std::string cycle = name(next);
          bool on = false;
          for (const auto& [k, unused] : path) {
            if (k == next) on = true;
            if (on && k != next) cycle += " -> " + name(k);
          }
          Problem(name(next), "depends on itself: " + cycle + " -> " + name(next));
        } else if (state[next] == 0) {
          state[next] = 1;
          path.push_back({next, reads[next].begin()});
        }
      }
    }
  }

  // The segments and windows `e` reads (valid indices only).
  void CollectReads(const Expr* e, std::set<size_t>& out) const {
    if (e == nullptr) return;
    if (e->op == Op::kSegment && e->index < p_.segments.size()) out.insert(e->index);
    if (e->op == Op::kWindow && e->index < p_.windows.size()) {
      out.insert(p_.segments.size() + e->index);
    }
    for (const ExprPtr& a : e->args) CollectReads(a.get(), out);
  }

  // ---- Journeys ---------------------------------------------------------------------

  void CheckJourneyOrder() {
    std::set<std::string> names;
    for (size_t i = 0; i < p_.journeys.size(); ++i) {
      const Journey& j = p_.journeys[i];
      if (j.name.empty()) Problem("journeys", "journey #" + std::to_string(i) + " has no name");
      if (!j.name.empty() && !names.insert(j.name).second) {
        Problem("journey " + j.name, "the name is used twice");
      }
      if (i == 0) continue;
      const Journey& prev = p_.journeys[i - 1];
      bool ordered =
          prev.priority > j.priority || (prev.priority == j.priority && prev.name < j.name);
      if (!ordered) {
        Problem("journeys", "out of order: " + prev.name + " (priority " +
                                std::to_string(prev.priority) + ") comes before " + j.name +
                                " (priority " + std::to_string(j.priority) +
                                "); want descending priority, then ascending name");
      }
    }
  }

  void CheckTrigger(const Trigger& t, const std::string& where) {
    if (t.event_type >= p_.events.size()) {
      Problem(where, "event type " + std::to_string(t.event_type) + " is out of range");
      return;
    }
    if (t.when) {
      std::set<uint32_t> self = {t.event_type};
      CheckCondition(t.when.get(), Scope{where + " when", true, &self}, "'when'");
    }
  }

  // The join pass's tests (join.h): one per event type of `clauses`, in the order
  // of their first clause, each a condition with that event bound.
  void CheckTests(const std::vector<EventTest>& tests, const std::vector<Trigger>& clauses,
                  const std::string& where) {
    std::vector<uint32_t> types;
    for (const Trigger& t : clauses) {
      if (std::find(types.begin(), types.end(), t.event_type) == types.end()) types.push_back(t.event_type);
    }
    if (tests.size() != types.size()) {
      Problem(where, std::to_string(tests.size()) + " tests for " + std::to_string(types.size()) +
                         " event types (has the join pass run?)");
      return;
    }
    for (size_t i = 0; i < tests.size(); ++i) {
      if (tests[i].event_type != types[i]) Problem(where + " " + std::to_string(i), "not in the order of the clauses");
      if (!tests[i].test || tests[i].event_type >= p_.events.size()) continue;
      std::set<uint32_t> self = {tests[i].event_type};
      CheckCondition(tests[i].test.get(), Scope{where + " " + std::to_string(i), true, &self}, "test");
    }
  }

  void CheckJourney(const Journey& j) {
    std::string where = "journey " + j.name;
    if (j.approved != j.missing_roles.empty()) {
      Problem(where,
              j.approved ? "approved but roles are missing" : "unapproved but no role is missing");
    }
    if (j.triggers.empty()) Problem(where, "no trigger");
    std::set<uint32_t> entry;
    for (size_t i = 0; i < j.triggers.size(); ++i) {
      CheckTrigger(j.triggers[i], where + ": trigger " + std::to_string(i));
      if (j.triggers[i].event_type < p_.events.size()) entry.insert(j.triggers[i].event_type);
    }
    for (const Clause& e : j.eligible) {
      CheckCondition(e.expr.get(), Scope{where + ": eligible", true, &entry}, "'eligible'");
    }
    if (j.reenter == ReenterMode::kAfter && j.reenter_after_us <= 0) {
      Problem(where, "'reenter after' must be longer than 0s");
    }
    for (size_t i = 0; i < j.exits.size(); ++i) {
      CheckTrigger(j.exits[i], where + ": exit " + std::to_string(i));
    }
    CheckTests(j.entry_tests, j.triggers, where + ": entry test");
    CheckTests(j.exit_tests, j.exits, where + ": exit test");
    if (j.goal) {
      Trigger goal;
      goal.event_type = j.goal->event_type;
      CheckTrigger(goal, where + ": goal");
      if (j.goal->when && j.goal->event_type < p_.events.size()) {
        std::set<uint32_t> self = {j.goal->event_type};
        CheckCondition(j.goal->when.get(), Scope{where + ": goal when", true, &self}, "'when'");
      }
      if (j.goal->within_us <= 0) Problem(where, "a goal's 'within' must be longer than 0s");
    }
    if (j.deadline_us < 0) Problem(where, "a negative deadline");
    if (j.steps.empty()) {
      Problem(where, "no steps");
      return;
    }
    if (j.steps.back().op != StepOp::kComplete) {
      Problem(where,
              "the last step is " + std::string(StepOpName(j.steps.back().op)) + ", not complete");
    }
    // What `event` may be on entry to each step: a forward data flow (edges only go
    // forward, so one pass in index order sees every predecessor first).
    std::vector<std::set<uint32_t>> current(j.steps.size());
    current[0] = entry;
    for (size_t i = 0; i < j.steps.size(); ++i) CheckStep(j, i, current);
  }

  // Checks that `target` is a valid successor of step `i`; if so, `event` types flow.
  void Edge(const Journey& j, size_t i, uint32_t target, const char* edge,
            const std::set<uint32_t>& flows, std::vector<std::set<uint32_t>>& current,
            const std::string& where) {
    if (target <= i) {
      Problem(where, std::string(edge) + " " + std::to_string(target) +
                         " does not go forward (steps may only jump to a later index)");
    } else if (target >= j.steps.size()) {
      Problem(where, std::string(edge) + " " + std::to_string(target) + " is out of range (" +
                         std::to_string(j.steps.size()) + " steps)");
    } else {
      current[target].insert(flows.begin(), flows.end());
    }
  }

  // A send: its channel, template, parameters (read with `event` in `in`) and guards.
  void CheckSend(const Step& s, const std::set<uint32_t>& in, const std::string& where) {
    if (s.channel >= p_.channels.size()) {
      Problem(where, "channel " + std::to_string(s.channel) + " is out of range");
    }
    if (s.template_name.empty()) Problem(where, "empty template name");
    std::set<std::string> keys;
    for (const Param& param : s.params) {
      if (param.key.empty() || !keys.insert(param.key).second) {
        Problem(where, "parameter " + Quoted(param.key) + " is empty or given twice");
      }
      Scope at{where + ": parameter " + param.key, true, &in};
      if (param.value == nullptr) {
        Problem(at.where, "missing value");
      } else {
        CheckExpr(*param.value, at);
      }
    }
    for (const Guard& g : s.guards) {
      if (g.param >= s.params.size()) {
        Problem(where, "guard on parameter " + std::to_string(g.param) + " is out of range (" +
                           std::to_string(s.params.size()) + " parameters)");
        continue;
      }
      const ExprPtr& value = s.params[g.param].value;
      if (value && value->type != kIntType && value->type != kFloatType) {
        Problem(where, "guard on " + Quoted(s.params[g.param].key) + ", a " +
                           TypeName(value->type) + " (needs int or float)");
      }
      if (std::isnan(g.bound)) Problem(where, "guard bound is NaN");
    }
  }

  // One step: its own invariants and its outgoing edges.
  void CheckStep(const Journey& j, size_t i, std::vector<std::set<uint32_t>>& current) {
    const Step& s = j.steps[i];
    const std::set<uint32_t>& in = current[i];
    std::string where = "journey " + j.name + ": step " + std::to_string(i) + " (" + s.id + ")";
    switch (s.op) {
      case StepOp::kSend:
        CheckSend(s, in, where);
        Edge(j, i, s.next, "next", in, current, where);
        break;
      case StepOp::kWait:
        if (s.duration_us <= 0) Problem(where, "wait must be longer than 0s");
        Edge(j, i, s.next, "next", in, current, where);
        break;
      case StepOp::kWaitUntil: {
        std::set<uint32_t> matched;
        if (s.events.empty()) Problem(where, "wait_until waits for no event");
        for (uint32_t e : s.events) {
          if (e >= p_.events.size()) {
            Problem(where, "event type " + std::to_string(e) + " is out of range");
          } else if (!matched.insert(e).second) {
            Problem(where, "event " + EventName(e) + " is listed twice");
          }
        }
        if (s.duration_us <= 0) Problem(where, "'within' must be longer than 0s");
        if (s.cond) CheckCondition(s.cond.get(), Scope{where + ": when", true, &matched}, "'when'");
        Edge(j, i, s.next, "on-event target", matched, current, where);
        Edge(j, i, s.alt, "timeout target", in, current, where);
        break;
      }
      case StepOp::kBranch:
        CheckCondition(s.cond.get(), Scope{where + ": condition", true, &in}, "condition");
        Edge(j, i, s.next, "then target", in, current, where);
        Edge(j, i, s.alt, "else target", in, current, where);
        break;
      case StepOp::kSplit: {
        if (s.arms.empty()) Problem(where, "split has no arms");
        uint32_t previous = 0;
        for (const SplitArm& arm : s.arms) {
          if (arm.threshold <= previous) {
            Problem(where, "split thresholds are not strictly increasing (" +
                               std::to_string(arm.threshold) + " after " +
                               std::to_string(previous) + ")");
          }
          previous = arm.threshold;
          Edge(j, i, arm.target, "split target", in, current, where);
        }
        if (!s.arms.empty() && s.arms.back().threshold != kSplitTotal) {
          Problem(where, "the last split threshold is " + std::to_string(s.arms.back().threshold) +
                             ", not 10000");
        }
        break;
      }
      case StepOp::kControl: Edge(j, i, s.next, "next", in, current, where); break;
      case StepOp::kExit:
      case StepOp::kComplete: break;
    }
  }

  // ---- Expressions ------------------------------------------------------------------

  // A bool-valued clause (`what` names it in messages); `e` must not be null.
  void CheckCondition(const Expr* e, const Scope& scope, const char* what) {
    if (e == nullptr) {
      Problem(scope.where, std::string("missing ") + what);
      return;
    }
    CheckExpr(*e, scope);
    if (e->type != kBoolType) {
      Problem(scope.where, std::string(what) + " is " + TypeName(e->type) + ", not bool");
    }
  }

  // Reports a problem with node `e`, showing the node.
  void Bad(const Expr& e, const Scope& scope, const std::string& what) {
    std::string shown = PrintExpr(e, p_);
    if (shown.size() > kMaxShownExpr) shown = shown.substr(0, kMaxShownExpr) + "...";
    Problem(scope.where, std::string(OpName(e.op)) + ": " + what + " in " + shown);
  }

  void CheckExpr(const Expr& e, const Scope& scope) {
    if (!WellFormed(e.type)) Bad(e, scope, "malformed type " + TypeName(e.type));
    bool args_ok = true;
    for (const ExprPtr& a : e.args) {
      if (a == nullptr) {
        Bad(e, scope, "null operand");
        args_ok = false;
      } else {
        CheckExpr(*a, scope);
      }
    }
    int arity = Arity(e.op);
    if (arity >= 0 && e.args.size() != static_cast<size_t>(arity)) {
      Bad(e, scope,
          "takes " + std::to_string(arity) + " operand(s), has " + std::to_string(e.args.size()));
      return;
    }
    if (!args_ok) return;
    if (arity == 0) {
      CheckLeaf(e, scope);
    } else if (e.op == Op::kCall) {
      if (e.symbol.empty()) Bad(e, scope, "no symbol");
    } else {
      CheckOperator(e, scope);
    }
  }

  void Want(const Expr& e, const Scope& scope, IrType want) {
    if (e.type != want) Bad(e, scope, "type " + TypeName(e.type) + " should be " + TypeName(want));
  }

  void CheckLeaf(const Expr& e, const Scope& scope) {
    switch (e.op) {
      case Op::kConst: CheckConst(e, scope); return;
      case Op::kEventField:
      case Op::kEventPresent: CheckEventRead(e, scope); return;
      case Op::kProfileField:
      case Op::kProfilePresent: CheckProfileRead(e, scope); return;
      case Op::kEnvelope:
        if (!scope.event_readable) Bad(e, scope, "there is no event here");
        if (e.index > kEnvTime) {
          Bad(e, scope, "slot " + std::to_string(e.index) + " is out of range");
        } else {
          Want(e, scope, e.index == kEnvTime ? kTimeType : kStringType);
        }
        return;
      case Op::kNow: Want(e, scope, kTimeType); return;
      case Op::kCustomer: Want(e, scope, kStringType); return;
      case Op::kWindow:
        if (e.index >= p_.windows.size()) {
          Bad(e, scope, "window " + std::to_string(e.index) + " is out of range");
        } else {
          Want(e, scope, p_.windows[e.index].type);
        }
        return;
      case Op::kSegment:
        if (e.index >= p_.segments.size()) {
          Bad(e, scope, "segment " + std::to_string(e.index) + " is out of range");
        } else if (!e.name.empty() && e.name != p_.segments[e.index].name) {
          Bad(e, scope,
              "named " + e.name + " but segment " + std::to_string(e.index) + " is " +
                  p_.segments[e.index].name);
        }
        Want(e, scope, kBoolType);
        return;
      default: return;
    }
  }

  void CheckConst(const Expr& e, const Scope& scope) {
    if (e.value.type != e.type) {
      Bad(e, scope,
          "value of type " + TypeName(e.value.type) + " in a " + TypeName(e.type) + " node");
      return;
    }
    if (e.type.ty != Ty::kList) return;
    IrType elem{e.type.elem};
    for (const Value& item : e.value.list) {
      if (item.type != elem) {
        Bad(e, scope,
            "list element of type " + TypeName(item.type) + " (want " + TypeName(elem) + ")");
        return;
      }
    }
  }

  void CheckEventRead(const Expr& e, const Scope& scope) {
    bool presence = e.op == Op::kEventPresent;
    if (presence) Want(e, scope, kBoolType);
    if (!scope.event_readable) {
      Bad(e, scope, "there is no event here");
      return;
    }
    if (e.fields.empty()) {
      Bad(e, scope, "no field reference");
      return;
    }
    std::set<uint32_t> types;
    for (const FieldRef& ref : e.fields) {
      if (ref.type_id >= p_.events.size()) {
        Bad(e, scope, "event type " + std::to_string(ref.type_id) + " is out of range");
        continue;
      }
      const RecordLayout& layout = p_.events[ref.type_id];
      if (!types.insert(ref.type_id).second) {
        Bad(e, scope, "two references into " + layout.name);
      }
      CheckFieldRef(e, scope, layout, ref, presence);
    }
    // Every event type `event` may hold here needs a reference.
    if (scope.current != nullptr) {
      for (uint32_t t : *scope.current) {
        if (types.count(t) == 0) Bad(e, scope, "no reference for event " + EventName(t));
      }
    }
  }

  void CheckProfileRead(const Expr& e, const Scope& scope) {
    bool presence = e.op == Op::kProfilePresent;
    if (presence) Want(e, scope, kBoolType);
    if (e.fields.size() != 1) {
      Bad(e, scope, "has " + std::to_string(e.fields.size()) + " field references, needs 1");
      return;
    }
    CheckFieldRef(e, scope, p_.profile, e.fields[0], presence);
  }

  // One reference of a field read: the field exists with the node's type (or, for a
  // presence test, is optional) and the reference's presence bit is the field's.
  void CheckFieldRef(const Expr& e, const Scope& scope, const RecordLayout& layout,
                     const FieldRef& ref, bool presence) {
    const FieldLayout* f = FieldAt(layout, ref.offset);
    if (f == nullptr) {
      Bad(e, scope, "no field of " + layout.name + " at offset " + std::to_string(ref.offset));
      return;
    }
    std::string at = layout.name + "." + f->name;
    if (!e.name.empty() && e.name != f->name) Bad(e, scope, "named " + e.name + " but reads " + at);
    if (ref.presence_bit != f->presence_bit) {
      Bad(e, scope,
          "presence bit " + std::to_string(ref.presence_bit) + " but " + at + " has " +
              std::to_string(f->presence_bit));
    }
    if (presence) {
      if (f->presence_bit < 0) Bad(e, scope, at + " is not optional");
    } else if (f->type != e.type) {
      Bad(e, scope, at + " is " + TypeName(f->type) + ", not " + TypeName(e.type));
    }
  }

  // Operators with operands: the operand types and the result type fit the op.
  void CheckOperator(const Expr& e, const Scope& scope) {
    IrType r = e.type;
    IrType a = e.args[0]->type;
    IrType b = e.args.size() > 1 ? e.args[1]->type : IrType{};
    auto is = [](IrType t, Ty ty) { return t.ty == ty; };
    auto numeric = [&](IrType t) { return is(t, Ty::kInt) || is(t, Ty::kFloat); };
    bool ok = true;
    switch (e.op) {
      case Op::kIntToFloat: ok = a == kIntType && r == kFloatType; break;
      case Op::kNot: ok = a == kBoolType && r == kBoolType; break;
      case Op::kNeg: ok = (numeric(a) || a == kDurationType) && r == a; break;
      case Op::kAdd:
        ok = ((numeric(a) || a == kDurationType) && b == a && r == a) ||
             (a == kTimeType && b == kDurationType && r == kTimeType) ||
             (a == kDurationType && b == kTimeType && r == kTimeType);
        break;
      case Op::kSub:
        ok = ((numeric(a) || a == kDurationType) && b == a && r == a) ||
             (a == kTimeType && b == kDurationType && r == kTimeType) ||
             (a == kTimeType && b == kTimeType && r == kDurationType);
        break;
      case Op::kMul:
      case Op::kMod: ok = numeric(a) && b == a && r == a; break;
      case Op::kDiv:
        ok = (numeric(a) && b == a && r == a) ||
             (a == kDurationType && b == kDurationType && r == kFloatType);
        break;
      case Op::kScale:
        if (e.index > 1) {
          Bad(e, scope, "mode " + std::to_string(e.index) + " is neither 0 (mul) nor 1 (div)");
          return;
        }
        ok = r == kDurationType && ((a == kDurationType && b == kFloatType) ||
                                    (e.index == 0 && a == kFloatType && b == kDurationType));
        break;
      case Op::kConcat: ok = a == kStringType && b == kStringType && r == kStringType; break;
      case Op::kAnd:
      case Op::kOr: ok = a == kBoolType && b == kBoolType && r == kBoolType; break;
      case Op::kStartsWith:
      case Op::kEndsWith:
      case Op::kStrContains: ok = a == kStringType && b == kStringType && r == kBoolType; break;
      case Op::kInList: ok = is(b, Ty::kList) && a == IrType{b.elem} && r == kBoolType; break;
      case Op::kListContains: ok = is(a, Ty::kList) && b == IrType{a.elem} && r == kBoolType; break;
      case Op::kSelect: {
        IrType c = e.args[2]->type;
        ok = a == kBoolType && b == r && c == r;
        if (!ok) {
          Bad(e, scope,
              "cannot select " + TypeName(b) + " or " + TypeName(c) + " on a " + TypeName(a) +
                  " into " + TypeName(r));
        }
        return;
      }
      default:
        if (IsComparison(e.op)) {
          bool ordering = e.op != Op::kEq && e.op != Op::kNe;
          if (r != kBoolType) Bad(e, scope, "result " + TypeName(r) + " should be bool");
          if (a != b) {
            Bad(e, scope, "compares " + TypeName(a) + " with " + TypeName(b));
          } else if (is(a, Ty::kList)) {
            Bad(e, scope, "compares lists");
          } else if (ordering && is(a, Ty::kBool)) {
            Bad(e, scope, "orders bools");
          }
          return;
        }
        break;
    }
    if (!ok) {
      std::string operands = TypeName(a);
      if (e.args.size() > 1) operands += ", " + TypeName(b);
      Bad(e, scope, "no rule for (" + operands + ") -> " + TypeName(r));
    }
  }

  const Program& p_;
  std::vector<std::string>& problems_;
};

}  // namespace

bool Verify(const Program& p, std::vector<std::string>& problems) {
  return Verifier(p, problems).Run();
}

}  // namespace juncture::compiler::ir
