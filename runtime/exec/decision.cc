// Decisions as JSON lines (docs/language.md); their strings are written by
// AppendJsonString (json_text.cc).
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iterator>

#include "exec/engine_impl.h"

namespace juncture::runtime {

namespace {

// A value with at most two decimals and below 10,000 in magnitude (a price, a
// percentage, a rounded number: most parameters), written without std::to_chars's
// search for the shortest digits. When k/100 reads back as the double itself, its
// digits are the shortest that do (two such decimals are 0.01 apart, far more than
// the spacing of doubles there), and below 10,000 plain digits are never longer than
// the exponent form: the text is to_chars's own. False for any other value (zero
// too: it may be -0).
bool AppendCents(double f, std::string& out) {
  if (!(std::fabs(f) < 10000.0) || f == 0.0) return false;
  const long long k = std::llround(f * 100.0);
  if (static_cast<double>(k) / 100.0 != f) return false;
  char buf[16];
  char* end = buf + sizeof buf;
  char* p = end;
  unsigned long long a = k < 0 ? 0ULL - static_cast<unsigned long long>(k) : k;
  const unsigned cents = static_cast<unsigned>(a % 100);
  a /= 100;
  if (cents != 0) {
    if (cents % 10 != 0) *--p = static_cast<char>('0' + cents % 10);
    *--p = static_cast<char>('0' + cents / 10);
    *--p = '.';
  }
  do {
    *--p = static_cast<char>('0' + a % 10);
    a /= 10;
  } while (a != 0);
  if (k < 0) *--p = '-';
  out.append(p, end);
  return true;
}

void AppendDouble(double f, std::string& out) {
  if (!std::isfinite(f)) {
    out += "null";
    return;
  }
  if (AppendCents(f, out)) return;
  // The shortest text that reads back as the same double; plain digits when that
  // is no longer than the exponent form (50, not 5e+01).
  char buf[64];
  auto result = std::to_chars(buf, buf + sizeof buf, f);
  out.append(buf, result.ptr);
}

}  // namespace

void AppendJsonValue(const JnValue& v, std::string& out) {
  switch (v.type) {
    case JN_BOOL: out += v.b ? "true" : "false"; break;
    case JN_INT: out += std::to_string(v.i); break;
    case JN_FLOAT: AppendDouble(v.f, out); break;
    case JN_STRING: AppendJsonString({v.s.data, v.s.len}, out); break;
    case JN_TIME:
      out += '"';
      AppendTimestamp(v.i, out);
      out += '"';
      break;
    case JN_DURATION: AppendDouble(static_cast<double>(v.i) / 1e6, out); break;  // seconds
    case JN_LIST: {
      out += '[';
      const auto* p = static_cast<const uint8_t*>(v.l.data);
      for (uint32_t i = 0; i < v.l.len; ++i) {
        if (i) out += ',';
        JnValue e{};
        e.type = v.elem;
        const uint8_t* at = p + size_t{i} * v.l.elem_size;
        if (v.elem == JN_BOOL) {
          e.b = *at;
        } else if (v.elem == JN_FLOAT) {
          std::memcpy(&e.f, at, sizeof e.f);
        } else if (v.elem == JN_STRING) {
          std::memcpy(&e.s, at, sizeof e.s);
        } else {
          std::memcpy(&e.i, at, sizeof e.i);
        }
        AppendJsonValue(e, out);
      }
      out += ']';
      break;
    }
    default: out += "null";
  }
}

std::string Decision::ToJson() const {
  std::string out;
  AppendJson(out);
  return out;
}

// A time as a JSON string (a timestamp needs no escapes).
static void AppendJsonTime(int64_t micros, std::string& out) {
  out += '"';
  AppendTimestamp(micros, out);
  out += '"';
}

void Decision::AppendJson(std::string& out) const {
  out += "{\"id\":";
  AppendJsonString(id, out);
  out += ",\"customer\":";
  AppendJsonString(customer, out);
  out += ",\"journey\":";
  AppendJsonString(journey, out);
  out += ",\"version\":";
  AppendJsonString(version, out);
  out += ",\"step\":";
  AppendJsonString(step, out);
  if (!channel.empty()) {
    out += ",\"channel\":";
    AppendJsonString(channel, out);
    out += ",\"template\":";
    AppendJsonString(template_name, out);
    out += ",\"params\":";
    out += params_json.empty() ? "{}" : params_json;
  }
  out += ",\"outcome\":\"";
  out += ToString(outcome);  // names without anything to escape
  out += '"';
  if (reason != Reason::kNone) {
    out += ",\"reason\":\"";
    out += ToString(reason);
    out += '"';
  }
  if (!arm.empty()) {
    out += ",\"arm\":";
    AppendJsonString(arm, out);
  }
  if (outcome == Outcome::kDeferred) {
    out += ",\"until\":";
    AppendJsonTime(until_us, out);
  }
  out += ",\"cause\":";
  AppendJsonString(cause, out);
  if (!channel.empty() && signal_us != 0) {
    out += ",\"signal\":";
    AppendJsonTime(signal_us, out);
  }
  out += ",\"at\":";
  AppendJsonTime(at_us, out);
  out += '}';
}

namespace {
constexpr const char* kOutcomes[] = {"sent",      "deferred", "suppressed", "control",
                                     "converted", "entered",  "exited",     "completed"};
constexpr const char* kReasons[] = {"",      "late",        "consent",    "cap",
                                    "quiet", "arbitration", "unapproved", "limit"};
}  // namespace

const char* ToString(Outcome outcome) {
  size_t i = static_cast<size_t>(outcome);
  return i < std::size(kOutcomes) ? kOutcomes[i] : "unknown";
}

const char* ToString(Reason reason) {
  size_t i = static_cast<size_t>(reason);
  return i < std::size(kReasons) ? kReasons[i] : "unknown";
}

std::optional<Outcome> ParseOutcome(std::string_view text) {
  for (size_t i = 0; i < std::size(kOutcomes); ++i) {
    if (text == kOutcomes[i]) return static_cast<Outcome>(i);
  }
  return std::nullopt;
}

std::optional<Reason> ParseReason(std::string_view text) {
  for (size_t i = 0; i < std::size(kReasons); ++i) {
    if (text == kReasons[i]) return static_cast<Reason>(i);
  }
  return std::nullopt;
}

}  // namespace juncture::runtime
