#include "ir/printer.h"

#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <system_error>
#include <vector>

#include "ir/ir.h"

namespace juncture::compiler::ir {
namespace {

constexpr int64_t kMicrosPerSecond = 1000000;
constexpr int64_t kMicrosPerMilli = 1000;

// JSON-style quoting: `"`, `\`, and control characters are escaped; other bytes
// (UTF-8 included) are kept as they are.
std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

// The shortest text that reads back as `f` ("0.15", "50", "1e+20", "inf").
std::string FloatText(double f) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), f);
  if (ec != std::errc()) return "?";
  return std::string(buf, end);
}

// ISO-8601 UTC with the fraction trimmed ("2026-11-22T21:57:10.123Z"); microseconds
// with a `us` suffix outside years 0000..9999.
std::string TimeText(int64_t us) {
  constexpr int64_t kMicrosPerDay = 86400 * kMicrosPerSecond;
  constexpr int64_t kFirstDay = -719528;  // 0000-01-01, in days since 1970-01-01
  constexpr int64_t kLastDay = 2932896;   // 9999-12-31
  int64_t day = us / kMicrosPerDay;
  int64_t rem = us % kMicrosPerDay;
  if (rem < 0) {
    rem += kMicrosPerDay;
    --day;
  }
  if (day < kFirstDay || day > kLastDay) return std::to_string(us) + "us";
  std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{day}}};
  int64_t secs = rem / kMicrosPerSecond;
  int64_t frac = rem % kMicrosPerSecond;
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60),
                static_cast<int>(secs % 60));
  std::string out = buf;
  if (frac != 0) {
    std::snprintf(buf, sizeof(buf), ".%06d", static_cast<int>(frac));
    std::string f = buf;
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  return out + "Z";
}

// "21:00" for a minute of the day; out-of-range values print as raw minutes.
std::string ClockText(int minute) {
  if (minute < 0 || minute > 24 * 60) return std::to_string(minute) + "min";
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%02d:%02d", minute / 60, minute % 60);
  return buf;
}

// `#7` for an index with no name.
std::string IndexText(uint64_t index) { return "#" + std::to_string(index); }

std::string EventName(const Program& p, uint32_t type_id) {
  if (type_id < p.events.size()) return p.events[type_id].name;
  return IndexText(type_id);
}

// The name of the field at `offset` in `layout`, or "" if there is none.
std::string FieldNameAt(const RecordLayout& layout, uint32_t offset) {
  for (const FieldLayout& f : layout.fields) {
    if (f.offset == offset) return f.name;
  }
  return "";
}

std::string SegmentName(const Program& p, uint32_t index) {
  if (index < p.segments.size()) return p.segments[index].name;
  return IndexText(index);
}

std::string ChannelName(const Program& p, uint32_t index) {
  if (index < p.channels.size()) return p.channels[index].name;
  return IndexText(index);
}

std::string EnvelopeText(uint32_t slot) {
  switch (slot) {
    case kEnvId: return "event.id";
    case kEnvCustomer: return "event.customer";
    case kEnvTime: return "event.time";
  }
  return "event." + IndexText(slot);
}

const char* WindowKindName(WindowKind kind) {
  switch (kind) {
    case WindowKind::kCount: return "count";
    case WindowKind::kSum: return "sum";
    case WindowKind::kTimeSince: return "time_since";
  }
  return "?";
}

// `@56`, with ` bit 0` for a presence test, prefixed by the event name when an
// expression reads several event types.
std::string RefText(const FieldRef& ref, bool presence, const std::string& event) {
  std::string out = event + "@" + std::to_string(ref.offset);
  if (presence) out += " bit " + std::to_string(ref.presence_bit);
  return out;
}

// The name shown for a field read: the node's own, else the layout's, else "?".
std::string FieldReadName(const Expr& e, const Program& p) {
  if (!e.name.empty()) return e.name;
  if (e.fields.empty()) return "?";
  std::string name;
  if (e.op == Op::kProfileField || e.op == Op::kProfilePresent) {
    name = FieldNameAt(p.profile, e.fields[0].offset);
  } else if (e.fields[0].type_id < p.events.size()) {
    name = FieldNameAt(p.events[e.fields[0].type_id], e.fields[0].offset);
  }
  return name.empty() ? "?" : name;
}

void AppendOperands(const Expr& e, const Program& p, std::string& out) {
  switch (e.op) {
    case Op::kConst:
      out += ' ';
      out += PrintValue(e.value);
      break;
    case Op::kEventField:
    case Op::kEventPresent: {
      bool presence = e.op == Op::kEventPresent;
      out += ' ';
      out += FieldReadName(e, p);
      for (const FieldRef& ref : e.fields) {
        out += ' ';
        out += RefText(ref, presence, e.fields.size() > 1 ? EventName(p, ref.type_id) : "");
      }
      break;
    }
    case Op::kProfileField:
    case Op::kProfilePresent:
      out += ' ';
      out += FieldReadName(e, p);
      for (const FieldRef& ref : e.fields) {
        out += ' ';
        out += RefText(ref, e.op == Op::kProfilePresent, "");
      }
      break;
    case Op::kEnvelope:
      out += ' ';
      out += EnvelopeText(e.index);
      break;
    case Op::kWindow:
      out += ' ';
      out += IndexText(e.index);
      break;
    case Op::kSegment:
      out += ' ';
      out += SegmentName(p, e.index);
      break;
    case Op::kScale:
      out += e.index == 0 ? " mul" : e.index == 1 ? " div" : " mode#" + std::to_string(e.index);
      break;
    case Op::kCall:
      out += ' ';
      out += e.symbol.empty() ? "?" : e.symbol;
      break;
    default: break;
  }
}

void AppendExpr(const Expr* e, const Program& p, std::string& out) {
  if (e == nullptr) {
    out += "<null>";
    return;
  }
  out += '(';
  out += OpName(e->op);
  out += ':';
  out += TypeName(e->type);
  AppendOperands(*e, p, out);
  for (const ExprPtr& arg : e->args) {
    out += ' ';
    AppendExpr(arg.get(), p, out);
  }
  out += ')';
}

std::string ExprText(const ExprPtr& e, const Program& p) {
  std::string out;
  AppendExpr(e.get(), p, out);
  return out;
}

std::string Join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += sep;
    out += items[i];
  }
  return out;
}

// ---- Sections ---------------------------------------------------------------------

void AppendFields(const RecordLayout& layout, std::string& out) {
  for (const FieldLayout& f : layout.fields) {
    out += "  +" + std::to_string(f.offset) + " " + f.name + ": " + TypeName(f.type);
    if (f.presence_bit >= 0) out += "? bit " + std::to_string(f.presence_bit);
    if (f.has_default) out += " = default";
    out += '\n';
  }
}

void AppendLayouts(const Program& p, std::string& out) {
  for (const RecordLayout& layout : p.events) {
    out += "event " + layout.name + " " + IndexText(layout.type_id) + " size " +
           std::to_string(layout.size) + "\n";
    AppendFields(layout, out);
  }
  out += "profile size " + std::to_string(p.profile.size);
  if (p.profile_timezone_field >= 0) {
    auto index = static_cast<size_t>(p.profile_timezone_field);
    out += " tz_field ";
    out += index < p.profile.fields.size() ? p.profile.fields[index].name : IndexText(index);
  }
  out += '\n';
  AppendFields(p.profile, out);
}

void AppendWindows(const Program& p, std::string& out) {
  for (size_t i = 0; i < p.windows.size(); ++i) {
    const Window& w = p.windows[i];
    out +=
        "window " + IndexText(i) + " " + WindowKindName(w.kind) + " " + EventName(p, w.event_type);
    if (w.kind == WindowKind::kSum) {
      std::string field;
      if (w.event_type < p.events.size()) {
        field = FieldNameAt(p.events[w.event_type], w.field.offset);
      }
      out += "." + (field.empty() ? "?" : field) + " @" + std::to_string(w.field.offset);
    }
    if (w.kind != WindowKind::kTimeSince) out += " within " + PrintDuration(w.within_us);
    if (w.where) out += " where " + ExprText(w.where, p);
    out += " : " + TypeName(w.type) + "\n";
  }
}

void AppendSegments(const Program& p, std::string& out) {
  for (const Segment& s : p.segments) {
    out += "segment " + s.name + " = " + ExprText(s.body, p) + "\n";
  }
}

void AppendChannels(const Program& p, std::string& out) {
  for (const Channel& c : p.channels) {
    out += "channel " + c.name + " " + IndexText(c.id) + "\n";
    if (c.consent) out += "  consent " + ExprText(c.consent, p) + "\n";
    if (c.has_quiet) {
      out += "  quiet " + ClockText(c.quiet.start_minute) + ".." + ClockText(c.quiet.end_minute) +
             (c.quiet.local ? " local" : " utc") + (c.quiet.drop ? " drop" : " defer") + "\n";
    }
    if (c.has_cap) {
      out += "  cap " + std::to_string(c.cap_count) + " per " + PrintDuration(c.cap_per_us) + "\n";
    }
    if (!c.approval_roles.empty()) out += "  approval " + Join(c.approval_roles, ",") + "\n";
  }
}

std::string TriggerText(const Trigger& t, const Program& p) {
  std::string out = EventName(p, t.event_type);
  if (t.when) out += " when " + ExprText(t.when, p);
  return out;
}

std::string ParamKey(const Step& s, uint32_t index) {
  if (index < s.params.size()) return s.params[index].key;
  return IndexText(index);
}

std::string StepText(const Step& s, const Program& p) {
  std::string out = StepOpName(s.op);
  std::string next = std::to_string(s.next);
  std::string alt = std::to_string(s.alt);
  switch (s.op) {
    case StepOp::kSend: {
      out += " " + ChannelName(p, s.channel) + " " + Quote(s.template_name);
      if (!s.params.empty()) {
        std::vector<std::string> params;
        for (const Param& param : s.params) {
          params.push_back(param.key + ": " + ExprText(param.value, p));
        }
        out += " {" + Join(params, ", ") + "}";
      }
      for (const Guard& g : s.guards) {
        out += " guard " + ParamKey(s, g.param) + (g.upper ? " <= " : " >= ") + FloatText(g.bound);
      }
      return out + " -> " + next;
    }
    case StepOp::kWait: return out + " " + PrintDuration(s.duration_us) + " -> " + next;
    case StepOp::kWaitUntil: {
      std::vector<std::string> events;
      for (uint32_t e : s.events) events.push_back(EventName(p, e));
      out += " " + Join(events, "|");
      if (s.cond) out += " when " + ExprText(s.cond, p);
      return out + " within " + PrintDuration(s.duration_us) + " -> " + next + ", " + alt;
    }
    case StepOp::kBranch: return out + " " + ExprText(s.cond, p) + " -> " + next + ", " + alt;
    case StepOp::kSplit:
      for (const SplitArm& arm : s.arms) {
        out += " " + std::to_string(arm.threshold) + ":" + std::to_string(arm.target);
      }
      return out;
    case StepOp::kControl: return out + " -> " + next;
    case StepOp::kExit:
    case StepOp::kComplete: return out;
  }
  return out;
}

void AppendJourney(const Journey& j, const Program& p, std::string& out) {
  out += "journey " + j.name + " priority " + std::to_string(j.priority);
  if (!j.hash.empty()) out += " hash " + j.hash;
  out += j.approved ? " approved" : " unapproved";
  if (!j.missing_roles.empty()) out += " missing " + Join(j.missing_roles, ",");
  out += '\n';
  if (!j.title.empty()) out += "  title " + Quote(j.title) + "\n";
  if (!j.owner.empty()) out += "  owner " + Quote(j.owner) + "\n";
  for (const Trigger& t : j.triggers) out += "  on " + TriggerText(t, p) + "\n";
  for (const Clause& e : j.eligible) out += "  eligible " + ExprText(e.expr, p) + "\n";
  switch (j.reenter) {
    case ReenterMode::kNever: out += "  reenter never\n"; break;
    case ReenterMode::kAlways: out += "  reenter always\n"; break;
    case ReenterMode::kAfter:
      out += "  reenter after " + PrintDuration(j.reenter_after_us) + "\n";
      break;
  }
  for (const Trigger& t : j.exits) out += "  exit on " + TriggerText(t, p) + "\n";
  if (j.goal) {
    out += "  goal " + EventName(p, j.goal->event_type);
    if (j.goal->when) out += " when " + ExprText(j.goal->when, p);
    out += " within " + PrintDuration(j.goal->within_us) + "\n";
  }
  if (j.deadline_us > 0) out += "  deadline " + PrintDuration(j.deadline_us) + "\n";
  // The join pass's tests: what the engine evaluates per event.
  for (const EventTest& t : j.entry_tests) {
    out += "  entry test " + EventName(p, t.event_type) + ": " + (t.test ? ExprText(t.test, p) : "always") + "\n";
  }
  for (const EventTest& t : j.exit_tests) {
    out += "  exit test " + EventName(p, t.event_type) + ": " + (t.test ? ExprText(t.test, p) : "always") + "\n";
  }
  for (size_t i = 0; i < j.steps.size(); ++i) {
    const Step& s = j.steps[i];
    out +=
        "  " + std::to_string(i) + " " + (s.id.empty() ? "_" : s.id) + ": " + StepText(s, p) + "\n";
  }
}

}  // namespace

std::string PrintDuration(int64_t us) {
  if (us != 0 && us % kMicrosPerSecond == 0) return std::to_string(us / kMicrosPerSecond) + "s";
  if (us != 0 && us % kMicrosPerMilli == 0) return std::to_string(us / kMicrosPerMilli) + "ms";
  if (us == 0) return "0s";
  return std::to_string(us) + "us";
}

std::string PrintValue(const Value& v) {
  switch (v.type.ty) {
    case Ty::kBool: return v.b ? "true" : "false";
    case Ty::kInt: return std::to_string(v.i);
    case Ty::kFloat: return FloatText(v.f);
    case Ty::kString: return Quote(v.s);
    case Ty::kTime: return TimeText(v.i);
    case Ty::kDuration: return PrintDuration(v.i);
    case Ty::kList: {
      std::vector<std::string> items;
      for (const Value& item : v.list) items.push_back(PrintValue(item));
      return "[" + Join(items, ", ") + "]";
    }
  }
  return "?";
}

std::string PrintExpr(const Expr& e, const Program& p) {
  std::string out;
  AppendExpr(&e, p, out);
  return out;
}

std::string PrintProgram(const Program& p) {
  // Sections are separated by one blank line; so are journeys.
  std::string out;
  AppendLayouts(p, out);
  std::string section;
  AppendWindows(p, section);
  if (!section.empty()) out += "\n" + section;
  section.clear();
  AppendSegments(p, section);
  if (!section.empty()) out += "\n" + section;
  section.clear();
  AppendChannels(p, section);
  if (!section.empty()) out += "\n" + section;
  for (const Journey& j : p.journeys) {
    out += '\n';
    AppendJourney(j, p, out);
  }
  return out;
}

}  // namespace juncture::compiler::ir
