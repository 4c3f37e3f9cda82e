// Explanations (Engine::SetTrace, juncture/runtime/trace.h): the words for what the
// engine considers. The engine calls these where it decides (engine.cc, steps.cc,
// guardrails.cc), only while `tracing_`; the values shown are the ones it decided
// with, or, for a single clause of a header, that clause evaluated on its own by the
// same back end.
#include <cstdio>

#include "exec/engine_impl.h"
#include "juncture/runtime/record.h"
#include "juncture/stdlib/functions.h"

namespace juncture::runtime {
namespace {

std::string Time(int64_t us) { return FormatTimestamp(us); }

// `at` as "HH:MM" (minutes since midnight).
std::string ClockTime(int minute) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d:%02d", minute / 60 % 24, minute % 60);
  return buf;
}

// A field of a record, as JSON ("absent" for an optional field without a value).
std::string FieldText(const Record& record, const FieldSpec& f, uint32_t present_offset) {
  RecordView view(record.data());
  if (!view.IsPresent(present_offset, f.presence_bit)) return "absent";
  JnValue v{};
  v.type = f.type;
  v.elem = f.elem;
  switch (f.type) {
    case JN_BOOL: v.b = view.GetBool(f.offset); break;
    case JN_FLOAT: v.f = view.GetFloat(f.offset); break;
    case JN_STRING: v.s = view.GetStr(f.offset); break;
    case JN_LIST: v.l = view.GetList(f.offset); break;
    default: v.i = view.GetInt(f.offset); break;
  }
  std::string out;
  if (f.type == JN_DURATION) return FormatDuration(v.i);
  AppendJsonValue(v, out);
  return out;
}

// How a send reads: `sms "hello"`.
std::string SendText(std::string_view channel, std::string_view template_name) {
  std::string out(channel);
  out += ' ';
  AppendJsonString(template_name, out);
  return out;
}

}  // namespace

const char* TraceKindName(TraceKind kind) {
  switch (kind) {
    case TraceKind::kMessage: return "message";
    case TraceKind::kTimer: return "timer";
    case TraceKind::kGoal: return "goal";
    case TraceKind::kExit: return "exit";
    case TraceKind::kResume: return "resume";
    case TraceKind::kEntry: return "entry";
    case TraceKind::kClause: return "clause";
    case TraceKind::kStep: return "step";
    case TraceKind::kGuardrail: return "guardrail";
    case TraceKind::kDecision: return "decision";
    case TraceKind::kDeadLetter: return "dead letter";
  }
  return "?";
}

void Engine::SetTrace(TraceSink* sink, std::string customer) {
  impl_->trace_ = sink;
  impl_->trace_customer_ = std::move(customer);
  impl_->tracing_ = false;
}

void Engine::Impl::Trace(TraceKind kind, int depth, int64_t at, std::string_view journey,
                         std::string_view step, uint32_t line, std::string_view text) {
  TraceEntry e;
  e.kind = kind;
  e.depth = depth;
  e.at_us = at;
  e.journey = journey;
  e.step = step;
  e.line = line;
  e.text = text;
  trace_->OnTrace(e);
}

void Engine::Impl::TraceMessage(const Message& m, const Record* before, const Record* after) {
  std::string text;
  if (m.kind == MessageKind::kIgnored && m.ignored_call != nullptr) {
    text = std::string(m.ignored_call) + " (" + m.message_id + "): accepted, not used";
  } else if (m.kind == MessageKind::kIgnored) {
    text = "track " + m.ignored_event + " (" + m.message_id +
           "): the program declares no such event; ignored";
  } else if (m.kind == MessageKind::kIdentify) {
    text = "identify (" + m.message_id + ")";
    std::string changes;
    for (const FieldSpec& f : spec_->profile.fields) {
      std::string was = FieldText(*before, f, JN_PROFILE_PRESENT_OFFSET);
      std::string now = FieldText(*after, f, JN_PROFILE_PRESENT_OFFSET);
      if (was == now) continue;
      changes += changes.empty() ? ": " : ", ";
      changes += "profile." + f.name + " " + was + " -> " + now;
    }
    text += changes.empty() ? ": no profile field changed" : changes;
  } else {
    const RecordSpec& event = spec_->events[m.event_type];
    text = "track " + event.name + " (" + m.message_id + ")";
    std::string props;
    for (const FieldSpec& f : event.fields) {
      props += props.empty() ? " {" : ", ";
      props += f.name + ": " + FieldText(*m.record, f, JN_EVENT_PRESENT_OFFSET);
    }
    if (!props.empty()) text += props + "}";
    if (m.timestamp_us != m.time_us) text += ", captured " + Time(m.timestamp_us);
  }
  Trace(TraceKind::kMessage, 0, m.time_us, {}, {}, 0, text);
}

void Engine::Impl::TraceTimer(const Timer& t, std::string_view step) {
  const JourneySpec& journey = spec_->journeys[t.journey];
  std::string text;
  if (t.kind == TimerKind::kRelease) {
    const Decision& d = t.release->decision;
    step = d.step;
    text = "the deferred send " + SendText(d.channel, d.template_name) + " of " + d.step + " is due";
  } else {
    text = t.kind == TimerKind::kResume ? "the wait at " + std::string(step) + " is over"
                                        : "the wait until at " + std::string(step) + " timed out";
  }
  Trace(TraceKind::kTimer, 0, t.due_us, journey.name, step, 0, text);
}

void Engine::Impl::TraceGoal(uint32_t j, const Message& m, const char* what) {
  const JourneySpec& journey = spec_->journeys[j];
  if (!journey.goal) return;
  std::string text = journey.goal->text + ": ";
  text += what;
  Trace(TraceKind::kGoal, 1, m.time_us, journey.name, "goal", 0, text);
}

void Engine::Impl::TraceExit(uint32_t j, const Message& m, CustomerState& c, const Instance& inst,
                             bool exit) {
  const JourneySpec& journey = spec_->journeys[j];
  const StepSpec& at = journey.steps[inst.step];
  std::string text = "waits at " + at.id + "; exit on " + spec_->events[m.event_type].name +
                     ": " + (exit ? "exits" : "stays");
  Trace(TraceKind::kExit, 1, m.time_us, journey.name, at.id, 0, text);
  TraceClauses(j, journey.exit_clauses, m.event_type, m, c, 2);
}

void Engine::Impl::TraceResume(uint32_t j, const Message& m, const Instance& inst, bool ok) {
  const JourneySpec& journey = spec_->journeys[j];
  const StepSpec& s = journey.steps[inst.step];
  std::string text = "waits at " + s.id + " for " + spec_->events[m.event_type].name;
  if (!s.cond_text.empty()) text += " when " + s.cond_text + ": " + (ok ? "true" : "false");
  text += ok ? " -> resumes" : " -> keeps waiting";
  Trace(TraceKind::kResume, 1, m.time_us, journey.name, s.id, s.line, text);
}

std::string Engine::Impl::RefuseEntry(uint32_t j, const CustomerState& c, int64_t at) const {
  const JourneySpec& journey = spec_->journeys[j];
  if (auto inst = c.instances.find(j); inst != c.instances.end()) {
    return "already in it, at " + journey.steps[inst->second.step].id;
  }
  auto last = c.last_entry.find(j);
  if (last == c.last_entry.end()) return "";
  switch (journey.reenter) {
    case Reenter::kAlways: return "";
    case Reenter::kAfter:
      if (at - last->second >= journey.reenter_after_us) return "";
      return "entered " + Time(last->second) + "; reenter after " +
             FormatDuration(journey.reenter_after_us) + ": not before " +
             Time(last->second + journey.reenter_after_us);
    default: return "entered " + Time(last->second) + "; reenter never";
  }
}

void Engine::Impl::TraceEntering(uint32_t j, const Message& m, CustomerState& c,
                                 std::string_view refused, bool entered) {
  const JourneySpec& journey = spec_->journeys[j];
  std::string text = entered ? "enters" : "does not enter";
  if (!refused.empty()) text += std::string(": ") + std::string(refused);
  if (!journey.approved) text += " (this version is not approved: its sends are suppressed)";
  Trace(TraceKind::kEntry, 1, m.time_us, journey.name, {}, 0, text);
  // Refused before its clauses were tested, they are shown all the same: whether the
  // customer would have entered otherwise is part of the answer.
  TraceClauses(j, journey.on_clauses, m.event_type, m, c, 2);
  TraceClauses(j, journey.eligible_clauses, -1, m, c, 2);
}

void Engine::Impl::TraceClauses(uint32_t j, const std::vector<ClauseSpec>& clauses,
                                int64_t event_type, const Message& m, CustomerState& c,
                                int depth) {
  const JourneySpec& journey = spec_->journeys[j];
  auto value = [&](ExprId id) {
    EvalHost host{this, &c, m.time_us, {}};
    JnContext ctx = Context(host, m.customer, m.record.get());
    return program_.evaluator->Test(id, ctx) ? "true" : "false";
  };
  for (const ClauseSpec& clause : clauses) {
    if (event_type >= 0 && clause.event_type != static_cast<uint32_t>(event_type)) continue;
    std::string text = clause.text;
    if (spec_->explain) text += std::string(": ") + value(clause.test);
    Trace(TraceKind::kClause, depth, m.time_us, journey.name, {}, clause.line, text);
    for (uint32_t s : clause.segments) {
      const SegmentSpec& seg = spec_->segments[s];
      Trace(TraceKind::kClause, depth + 1, m.time_us, journey.name, {}, 0,
            "segment " + seg.name + ": " + value(seg.test));
    }
  }
}

void Engine::Impl::TraceStep(uint32_t j, const StepSpec& s, int64_t at, uint32_t to,
                             int64_t detail) {
  const JourneySpec& journey = spec_->journeys[j];
  std::string text;
  switch (s.kind) {
    case StepKind::kSend:
      text = "send " + SendText(spec_->channels[s.channel].name, s.template_name);
      break;
    case StepKind::kWait:
      text = "wait " + FormatDuration(s.duration_us) + ": until " + Time(detail);
      break;
    case StepKind::kWaitUntil: {
      text = "wait until ";
      for (size_t k = 0; k < s.events.size(); ++k) {
        text += (k ? " or " : "") + spec_->events[s.events[k]].name;
      }
      if (!s.cond_text.empty()) text += " when " + s.cond_text;
      text += " within " + FormatDuration(s.duration_us) + ": at the latest " + Time(detail);
      break;
    }
    case StepKind::kBranch: {
      // An `else if` is the next branch of the same step: named by its line.
      const StepSpec& next = journey.steps[to];
      const bool chained = next.kind == StepKind::kBranch && next.id == s.id;
      text = "if " + s.cond_text + ": " + (to == s.next ? "true" : "false") + " -> " +
             (chained ? "else if (line " + std::to_string(next.line) + ")" : next.id);
      break;
    }
    case StepKind::kSplit: {
      // The arm the point falls in: [the previous arm's threshold, this one's).
      uint32_t from = 0, upto = 10000;
      for (const auto& [threshold, target] : s.arms) {
        if (detail < threshold) {
          upto = threshold;
          break;
        }
        from = threshold;
      }
      auto percent = [](uint32_t bp) {
        std::string p = std::to_string(bp / 100);
        if (bp % 100) {  // appended piece by piece (GCC 12 warns on "." + a temporary)
          p += '.';
          p += static_cast<char>('0' + bp % 100 / 10);
          if (bp % 10) p += static_cast<char>('0' + bp % 10);
        }
        p += '%';
        return p;
      };
      text = "split: the customer falls in the arm " + percent(from) + " .. " + percent(upto) +
             " (their point is " + std::to_string(detail) + " of 10000, fixed per customer and step) -> " +
             journey.steps[to].id;
      break;
    }
    case StepKind::kControl: text = "control: held out, later sends are recorded only"; break;
    case StepKind::kExit: text = "exit"; break;
    case StepKind::kComplete: text = "the journey is complete"; break;
  }
  Trace(TraceKind::kStep, trace_depth_, at, journey.name, s.id, s.line, text);
}

void Engine::Impl::TraceGuard(int64_t at, std::string_view text) {
  Trace(TraceKind::kGuardrail, trace_depth_ + 1, at, spec_->journeys[trace_journey_].name,
        trace_step_id_, 0, text);
}

void Engine::Impl::TraceDeadline(const JourneySpec& journey, int64_t signal, int64_t at) {
  const bool late = at - signal > journey.deadline_us;
  TraceGuard(at, "deadline " + FormatDuration(journey.deadline_us) + ": signal " + Time(signal) +
                     ", deciding " + FormatDuration(at - signal) + " later" +
                     (late ? " -> suppressed late" : ", in time"));
}

void Engine::Impl::TraceConsent(const ChannelSpec& ch, const CustomerState& c, bool given,
                                int64_t at) {
  std::string text = "consent " + ch.consent_text + ": " + (given ? "true" : "false");
  std::string traits;
  // (A consent that is one trait says its value already.)
  const bool bare = ch.consent_traits.size() == 1 && ch.consent_text == "profile." + ch.consent_traits[0];
  for (const std::string& name : bare ? std::vector<std::string>{} : ch.consent_traits) {
    for (const FieldSpec& f : spec_->profile.fields) {
      if (f.name != name) continue;
      traits += (traits.empty() ? " (" : ", ") + std::string("profile.") + name + " = " +
                FieldText(*c.profile, f, JN_PROFILE_PRESENT_OFFSET);
    }
  }
  if (!traits.empty()) text += traits + ")";
  if (!given) text += " -> suppressed consent";
  TraceGuard(at, text);
}

void Engine::Impl::TraceApproval(const JourneySpec& journey, int64_t at) {
  std::string text = "approval: this version (" + journey.version + ") is not approved";
  for (size_t k = 0; k < journey.missing_roles.size(); ++k) {
    text += (k ? ", " : "; no sign-off by ") + journey.missing_roles[k];
  }
  TraceGuard(at, text + " -> suppressed unapproved");
}

void Engine::Impl::TraceLimit(const StepSpec& s, const GuardSpec& g, const JnValue& value,
                              bool over, int64_t at) {
  std::string text = "limit " + s.params[g.param].key + (g.upper ? " <= " : " >= ");
  char bound[32];
  std::snprintf(bound, sizeof bound, "%g", g.bound);
  text += bound;
  text += ": ";
  AppendJsonValue(value, text);
  if (over) text += " -> suppressed limit";
  TraceGuard(at, text);
}

void Engine::Impl::TraceArbitration(uint32_t channel, int64_t holder, uint32_t j, int64_t at) {
  const std::string& ch = spec_->channels[channel].name;
  std::string text = "arbitration: ";
  if (holder < 0) {
    text += "no other journey sends on " + ch + " in this decision";
  } else if (holder == j) {
    text += "this journey already holds " + ch;
  } else if (holder < j) {
    text += ch + " is taken by " + spec_->journeys[holder].name +
            " (ahead in arbitration order) -> suppressed arbitration";
  } else {
    text += "takes " + ch + " from " + spec_->journeys[holder].name +
            " (behind in arbitration order): its sends on it become suppressed arbitration";
  }
  TraceGuard(at, text);
}

void Engine::Impl::TraceCap(uint32_t channel, const CompactVector<int64_t>* sent, int64_t at,
                            bool capped) {
  const ChannelSpec& ch = spec_->channels[channel];
  const size_t n = sent ? sent->size() : 0;
  std::string text = "cap " + std::to_string(ch.cap_count) + " per " + FormatDuration(ch.cap_per_us) +
                     ": " + std::to_string(n) + " sent since " + Time(at - ch.cap_per_us);
  if (n > 0) {  // when, whichever journey sent them
    text += " (at ";
    for (size_t k = 0; k < n; ++k) text += (k ? ", " : "") + Time((*sent)[k]);
    text += ")";
  }
  if (capped) text += " -> suppressed cap";
  TraceGuard(at, text);
}

void Engine::Impl::TraceQuiet(uint32_t channel, std::string_view tz, int minute,
                              const Verdict& verdict, int64_t until, int64_t at) {
  const ChannelSpec& ch = spec_->channels[channel];
  std::string text = "quiet " + ClockTime(ch.quiet_start_minute) + " .. " +
                     ClockTime(ch.quiet_end_minute) + (ch.quiet_local ? " local" : " UTC");
  if (ch.quiet_local) {
    const bool known = !tz.empty() && stdlib::KnownTimeZone(tz);
    text += " (" + (known ? std::string(tz)
                          : tz.empty() ? std::string("no zone: UTC")
                                       : "\"" + std::string(tz) + "\" is not a time zone: UTC used") +
            ")";
  }
  text += ": " + ClockTime(minute) + " there";
  if (verdict.defer) {
    text += ", inside -> deferred until " + Time(until);
  } else if (verdict.suppressed == Reason::kQuiet) {
    text += ", inside -> suppressed quiet";
  } else {
    text += ", outside";
  }
  TraceGuard(at, text);
}

void Engine::Impl::TraceDecision(const Decision& d) {
  std::string text = ToString(d.outcome);
  if (d.reason != Reason::kNone) text += std::string(" ") + ToString(d.reason);
  if (!d.arm.empty()) text += " (" + d.arm + ")";
  if (d.until_us != 0) text += " until " + Time(d.until_us);
  if (!d.channel.empty()) text += ": " + SendText(d.channel, d.template_name);
  if (!d.params_json.empty()) text += " " + d.params_json;
  text += "  [" + d.id + "]";
  Trace(TraceKind::kDecision, 1, d.at_us, d.journey, d.step, 0, text);
}

}  // namespace juncture::runtime
