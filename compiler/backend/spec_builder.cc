#include "backend/spec_builder.h"

#include <algorithm>

#include "juncture/runtime/runtime.h"

namespace juncture::compiler {

using runtime::ExprId;
using runtime::kNoExpr;

uint8_t ToJnType(ir::Ty ty) {
  switch (ty) {
    case ir::Ty::kBool: return JN_BOOL;
    case ir::Ty::kInt: return JN_INT;
    case ir::Ty::kFloat: return JN_FLOAT;
    case ir::Ty::kString: return JN_STRING;
    case ir::Ty::kTime: return JN_TIME;
    case ir::Ty::kDuration: return JN_DURATION;
    case ir::Ty::kList: return JN_LIST;
  }
  return JN_BOOL;
}

JnValue ToJnValue(const ir::Value& v) {
  JnValue out{};
  out.type = ToJnType(v.type.ty);
  out.b = v.b;
  out.i = v.i;
  out.f = v.f;
  out.s = JnStr{v.s.data(), static_cast<uint32_t>(v.s.size()), -1};
  return out;
}

namespace {

// Whether `e` reads nothing but the event it is evaluated for and constants.
bool ReadsEventOnly(const ir::Expr& e) {
  switch (e.op) {
    case ir::Op::kProfileField:
    case ir::Op::kProfilePresent:
    case ir::Op::kNow:
    case ir::Op::kCustomer:
    case ir::Op::kWindow:
    case ir::Op::kSegment:
      return false;
    default:
      break;
  }
  for (const ir::ExprPtr& a : e.args) {
    if (a && !ReadsEventOnly(*a)) return false;
  }
  return true;
}

class Builder {
 public:
  explicit Builder(const ir::Program& p) : p_(p) {}

  SpecAndExprs Run() {
    out_.spec = std::make_shared<runtime::ProgramSpec>();
    runtime::ProgramSpec& s = *out_.spec;
    for (const ir::RecordLayout& e : p_.events) s.events.push_back(Record(e));
    s.profile = Record(p_.profile);
    s.profile_timezone_field = p_.profile_timezone_field;
    for (const ir::Window& w : p_.windows) s.windows.push_back(Window(w));
    for (const ir::Channel& c : p_.channels) s.channels.push_back(Channel(c));
    s.explain = p_.explain;
    if (p_.explain) {
      for (const ir::Segment& seg : p_.segments) s.segments.push_back({seg.name, Add(seg.body)});
    }
    for (const ir::Journey& j : p_.journeys) s.journeys.push_back(Journey(j));
    return std::move(out_);
  }

 private:
  ExprId Add(const ir::ExprPtr& e) {
    if (!e) return kNoExpr;
    out_.exprs.push_back(e.get());
    return static_cast<ExprId>(out_.exprs.size() - 1);
  }

  runtime::RecordSpec Record(const ir::RecordLayout& l) {
    runtime::RecordSpec r;
    r.name = l.name;
    r.type_id = l.type_id;
    r.size = l.size;
    for (size_t i = 0; i < l.fields.size(); ++i) {
      const ir::FieldLayout& f = l.fields[i];
      runtime::FieldSpec fs;
      fs.name = f.name;
      fs.type = ToJnType(f.type.ty);
      fs.elem = ToJnType(f.type.elem);
      fs.offset = f.offset;
      fs.presence_bit = f.presence_bit;
      fs.has_default = f.has_default;
      if (f.has_default) fs.default_value = Default(f);
      r.fields.push_back(std::move(fs));
    }
    return r;
  }

  // Field defaults are constants; their strings (and list elements) live in the spec.
  JnValue Default(const ir::FieldLayout& f) {
    JnValue v = ToJnValue(f.default_value);
    v.type = ToJnType(f.type.ty);
    v.elem = ToJnType(f.type.elem);
    if (f.type.ty == ir::Ty::kString) {
      out_.spec->strings.push_back(std::make_unique<std::string>(f.default_value.s));
      const std::string& s = *out_.spec->strings.back();
      v.s = JnStr{s.data(), static_cast<uint32_t>(s.size()), -1};
    }
    if (f.type.ty == ir::Ty::kList) {
      // Lists default to their constant elements, laid out in a spec-owned buffer.
      std::string buf;
      for (const ir::Value& x : f.default_value.list) {
        JnValue e = ToJnValue(x);
        if (f.type.elem == ir::Ty::kString) {
          out_.spec->strings.push_back(std::make_unique<std::string>(x.s));
          const std::string& s = *out_.spec->strings.back();
          JnStr str{s.data(), static_cast<uint32_t>(s.size()), -1};
          buf.append(reinterpret_cast<const char*>(&str), sizeof str);
        } else if (f.type.elem == ir::Ty::kBool) {
          buf.push_back(static_cast<char>(e.b));
        } else if (f.type.elem == ir::Ty::kFloat) {
          buf.append(reinterpret_cast<const char*>(&e.f), sizeof e.f);
        } else {
          buf.append(reinterpret_cast<const char*>(&e.i), sizeof e.i);
        }
      }
      out_.spec->strings.push_back(std::make_unique<std::string>(std::move(buf)));
      const std::string& s = *out_.spec->strings.back();
      uint32_t size = f.type.elem == ir::Ty::kString ? 16 : f.type.elem == ir::Ty::kBool ? 1 : 8;
      v.l = JnList{s.data(), static_cast<uint32_t>(f.default_value.list.size()), size};
    }
    return v;
  }

  runtime::WindowSpec Window(const ir::Window& w) {
    runtime::WindowSpec s;
    s.kind = w.kind == ir::WindowKind::kCount ? runtime::WindowKind::kCount
             : w.kind == ir::WindowKind::kSum ? runtime::WindowKind::kSum
                                              : runtime::WindowKind::kTimeSince;
    s.event_type = w.event_type;
    s.within_us = w.within_us;
    s.field_offset = w.field.offset;
    s.field_presence_bit = w.field.presence_bit;
    s.field_type = ToJnType(w.field_type.ty);
    s.result_type = ToJnType(w.type.ty);
    s.where = Add(w.where);
    s.where_reads_event_only = w.where && ReadsEventOnly(*w.where);
    return s;
  }

  runtime::ChannelSpec Channel(const ir::Channel& c) {
    runtime::ChannelSpec s;
    s.name = c.name;
    s.consent = Add(c.consent);
    s.consent_text = c.consent_text;
    if (c.consent) Traits(*c.consent, s.consent_traits);
    s.has_quiet = c.has_quiet;
    s.quiet_start_minute = c.quiet.start_minute;
    s.quiet_end_minute = c.quiet.end_minute;
    s.quiet_local = c.quiet.local;
    s.quiet_drop = c.quiet.drop;
    s.has_cap = c.has_cap;
    s.cap_count = c.cap_count;
    s.cap_per_us = c.cap_per_us;
    return s;
  }

  // The join pass's tests (ir/join.h), one per event type.
  std::vector<runtime::TriggerSpec> Tests(const std::vector<ir::EventTest>& tests) {
    std::vector<runtime::TriggerSpec> out;
    for (const ir::EventTest& t : tests) out.push_back({t.event_type, Add(t.test)});
    return out;
  }

  // A header clause for explanations: its own condition only when explaining.
  runtime::ClauseSpec Clause(const std::string& text, uint32_t line, uint32_t event_type,
                             const ir::ExprPtr& test) {
    runtime::ClauseSpec c{text, line, event_type, runtime::kNoExpr, {}};
    if (!p_.explain || !test) return c;
    c.test = Add(test);
    Segments(*test, c.segments);
    return c;
  }

  // Adds to `out` the profile fields `e` reads (through segments too), each once.
  void Traits(const ir::Expr& e, std::vector<std::string>& out) const {
    if ((e.op == ir::Op::kProfileField || e.op == ir::Op::kProfilePresent) && !e.name.empty() &&
        std::find(out.begin(), out.end(), e.name) == out.end()) {
      out.push_back(e.name);
    }
    if (e.op == ir::Op::kSegment && e.index < p_.segments.size() && p_.segments[e.index].body) {
      Traits(*p_.segments[e.index].body, out);
    }
    for (const ir::ExprPtr& a : e.args) {
      if (a) Traits(*a, out);
    }
  }

  // Adds to `out` the segments `e` reads, and those they read, each once, in the order
  // they are met.
  void Segments(const ir::Expr& e, std::vector<uint32_t>& out) const {
    if (e.op == ir::Op::kSegment && e.index < p_.segments.size() &&
        std::find(out.begin(), out.end(), e.index) == out.end()) {
      out.push_back(e.index);
      if (p_.segments[e.index].body) Segments(*p_.segments[e.index].body, out);
    }
    for (const ir::ExprPtr& a : e.args) {
      if (a) Segments(*a, out);
    }
  }

  runtime::JourneySpec Journey(const ir::Journey& j) {
    runtime::JourneySpec s;
    s.name = j.name;
    s.priority = j.priority;
    s.version = j.hash;
    s.approved = j.approved;
    s.missing_roles = j.missing_roles;
    s.triggers = Tests(j.entry_tests);
    for (const ir::Trigger& t : j.triggers) s.on_clauses.push_back(Clause(t.text, t.line, t.event_type, t.when));
    for (const ir::Clause& e : j.eligible) s.eligible_clauses.push_back(Clause(e.text, e.line, 0, e.expr));
    for (const ir::Trigger& t : j.exits) s.exit_clauses.push_back(Clause(t.text, t.line, t.event_type, t.when));
    s.reenter = j.reenter == ir::ReenterMode::kAlways ? runtime::Reenter::kAlways
                : j.reenter == ir::ReenterMode::kAfter ? runtime::Reenter::kAfter
                                                       : runtime::Reenter::kNever;
    s.reenter_after_us = j.reenter_after_us;
    s.exits = Tests(j.exit_tests);
    if (j.goal) {
      s.goal = runtime::GoalSpec{j.goal->event_type, Add(j.goal->when), j.goal->within_us, j.goal->text};
    }
    s.deadline_us = j.deadline_us;
    for (const ir::Step& st : j.steps) s.steps.push_back(Step(st));
    return s;
  }

  runtime::StepSpec Step(const ir::Step& st) {
    static const runtime::StepKind kKinds[] = {
        runtime::StepKind::kSend,    runtime::StepKind::kWait,  runtime::StepKind::kWaitUntil,
        runtime::StepKind::kBranch,  runtime::StepKind::kSplit, runtime::StepKind::kControl,
        runtime::StepKind::kExit,    runtime::StepKind::kComplete};
    runtime::StepSpec s;
    s.kind = kKinds[static_cast<int>(st.op)];
    s.id = st.id;
    s.next = st.next;
    s.alt = st.alt;
    s.channel = st.channel;
    s.template_name = st.template_name;
    for (const ir::Param& p : st.params) {
      runtime::ParamSpec& param = s.params.emplace_back();
      param.key = p.key;
      param.value = Add(p.value);
      runtime::AppendJsonString(p.key, param.key_json);
      param.key_json += ':';
    }
    for (const ir::Guard& g : st.guards) s.guards.push_back({g.param, g.upper, g.bound});
    s.duration_us = st.duration_us;
    s.events = st.events;
    s.cond = Add(st.cond);
    s.cond_text = st.cond_text;
    s.line = st.loc.line;
    for (const ir::SplitArm& a : st.arms) s.arms.emplace_back(a.threshold, a.target);
    return s;
  }

  const ir::Program& p_;
  SpecAndExprs out_;
};

}  // namespace

SpecAndExprs BuildSpec(const ir::Program& program) { return Builder(program).Run(); }

}  // namespace juncture::compiler
