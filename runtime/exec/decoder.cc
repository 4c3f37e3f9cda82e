// Decoding of input messages (docs/language.md) into records (juncture/abi/abi.h).
//
// simdjson's DOM parser, error codes only (never its throwing accessors). Every
// rejection is one line for the dead-letter output; nothing here crashes or loops on
// hostile input: the message size is capped, nesting is capped by simdjson (1024
// levels, "invalid JSON: ..."), numbers that do not fit a double are invalid JSON.
//
// Rules, in the order they are checked:
//   - At most 1 MiB:                "message is larger than 1 MiB (N bytes)".
//   - A UTF-8 byte-order mark at the start is skipped.
//   - Valid JSON (and UTF-8):       "invalid JSON: <simdjson's message>".
//   - A JSON object:                "message must be a JSON object, got array".
//   - "type" one of the Segment calls: `type must be one of "track", "identify",
//     "page", "screen", "group", "alias"`.
//   - "messageId", non-empty string: "missing messageId" (absent or null), else
//                                   "messageId must be a non-empty string".
//   - customer: "userId" if it is a non-empty string or an integer (read as its
//     decimal text: 4242 is "4242"), else "anonymousId" if it is one (other values are
//     ignored): "missing userId and anonymousId".
//   - "timestamp", ISO-8601 (see timestamp.cc); "originalTimestamp" stands in for it
//     when it is absent or null (what the SDKs send before the pipeline sets one):
//     "missing timestamp", "timestamp must be a string, got number",
//     "timestamp 'yesterday' is not ISO-8601" (or "originalTimestamp ..." when it was
//     the one read).
//   - "receivedAt" optional (null is absent), ISO-8601: "receivedAt must be a string,
//     got number", "receivedAt 'soon' is not ISO-8601".
//   - group, alias: accepted and not used (kIgnored, ignored_call set): nothing more
//     is read.
//   - page, screen: read as a track of the event named "page" or "screen"; the call's
//     top-level "name" and "category" (strings) stand in for properties of those names
//     that "properties" does not give.
//   - track: "event", a non-empty string: "missing event", "event must be a
//     non-empty string". An event the program does not declare: kIgnored (not an
//     error), with ignored_event set; its properties are not looked at.
//     "properties": an object; absent or null means {}; anything else is
//     "properties must be an object, got array". Each declared field, by name:
//       present and not null -> converted (below) and set (with its presence bit);
//       absent or null -> its default if it has one; else absent if optional; else
//       "missing required property 'amount'".
//     Undeclared properties are ignored.
//   - identify: "traits": an object; absent or null means {}; else "traits must be an
//     object, got string". A known profile field converts as below (an error rejects
//     the whole message); null resets it: to its default, or to absent for an
//     optional field without one (Message::traits value of type kTraitAbsent), and
//     is a type error for a required field without a default. Unknown traits are
//     kept as (name, minified JSON). Later duplicates win (MergeTraits applies in order).
//   Conversions (the label is "property 'n'" or "trait 'n'"; a list element adds
//   "[i]": "property 'skus'[2] must be a string, got number"; JSON types are named
//   string, number, bool, null, array, object):
//     bool     <- true/false                      "... must be a bool, got string"
//     int      <- an integer within int64, or a double with an integral value within
//                 ±2^53 (12.0, 1e3)               "... must be an integer, got string",
//                                                 "... must be an integer" (12.5),
//                                                 "... is out of range"
//     float    <- any number (always finite: simdjson rejects 1e400 as invalid JSON)
//                                                 "... must be a number, got string"
//     string   <- a string                        "... must be a string, got number"
//     time     <- an ISO-8601 string or a date    "... must be an ISO-8601 timestamp,
//                                                 got number" / "..., got 'soon'"
//     duration <- a number of seconds (fractional allowed, negative allowed, rounded
//                 to the microsecond, within ±2^53 µs) or a string of <digits><unit>
//                 groups, units w d h m s ("1d12h", "90m", within 2^53 µs)
//                                                 "... must be a duration (seconds or
//                                                 like \"1d12h\"), got '90x'",
//                                                 "... is out of range"
//     list<T>  <- an array whose every element converts to T
//                                                 "... must be a list, got object"
//   Quoted input in errors is cut to 40 bytes ("...") and control bytes become '?',
//   so that every reason stays one line.
// Strings are copied into the record (JnStr.sym is -1 for now).
#include <simdjson.h>

#include <cmath>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "exec/customer_id.h"
#include "juncture/runtime/event.h"
#include "juncture/runtime/record.h"

namespace juncture::runtime {
namespace {

namespace dom = simdjson::dom;

constexpr size_t kMaxMessageBytes = size_t{1} << 20;
constexpr int64_t kMaxExactInt = int64_t{1} << 53;  // ±2^53
constexpr int64_t kMaxDurationUs = int64_t{1} << 53;
constexpr int64_t kMicrosPerSecond = 1'000'000;

const char* JsonTypeName(dom::element e) {
  switch (e.type()) {
    case dom::element_type::ARRAY: return "array";
    case dom::element_type::OBJECT: return "object";
    case dom::element_type::INT64:
    case dom::element_type::UINT64:
    case dom::element_type::DOUBLE: return "number";
    case dom::element_type::STRING: return "string";
    case dom::element_type::BOOL: return "bool";
    case dom::element_type::NULL_VALUE: return "null";
  }
  return "value";
}

// 'text', cut to 40 bytes (at a UTF-8 boundary), control bytes replaced.
std::string Quote(std::string_view s) {
  constexpr size_t kMax = 40;
  bool cut = s.size() > kMax;
  if (cut) {
    size_t n = kMax;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    s = s.substr(0, n);
  }
  std::string out = "'";
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7F) ? '?' : c;
  }
  out += cut ? "...'" : "'";
  return out;
}

const char* Expected(uint8_t type) {
  switch (type) {
    case JN_BOOL: return "a bool";
    case JN_INT: return "an integer";
    case JN_FLOAT: return "a number";
    case JN_STRING: return "a string";
    case JN_TIME: return "an ISO-8601 timestamp";
    case JN_DURATION: return "a duration (seconds or like \"1d12h\")";
    case JN_LIST: return "a list";
  }
  return "a value of a supported type";
}

// "<digits><unit>" groups, units w d h m s, total within 2^53 µs.
enum class DurationParse { kOk, kMalformed, kOutOfRange };
DurationParse ParseDurationText(std::string_view text, int64_t& micros) {
  if (text.empty()) return DurationParse::kMalformed;
  int64_t total = 0, number = 0;
  bool have_digits = false, overflow = false;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      if (number > kMaxDurationUs) overflow = true;  // keep scanning for syntax errors
      else number = number * 10 + (c - '0');
      have_digits = true;
      continue;
    }
    int64_t unit;
    switch (c) {
      case 's': unit = kMicrosPerSecond; break;
      case 'm': unit = 60 * kMicrosPerSecond; break;
      case 'h': unit = 3600 * kMicrosPerSecond; break;
      case 'd': unit = 86400 * kMicrosPerSecond; break;
      case 'w': unit = 7 * 86400 * kMicrosPerSecond; break;
      default: return DurationParse::kMalformed;
    }
    if (!have_digits) return DurationParse::kMalformed;
    if (overflow || number > kMaxDurationUs / unit) {
      overflow = true;
    } else {
      total += number * unit;
      if (total > kMaxDurationUs) overflow = true;
    }
    number = 0;
    have_digits = false;
  }
  if (have_digits) return DurationParse::kMalformed;  // "90": a number without a unit
  if (overflow) return DurationParse::kOutOfRange;
  micros = total;
  return DurationParse::kOk;
}

enum class Conv { kOk, kWrongType, kNotInteger, kOutOfRange, kBadText };

// Converts a non-list value. Strings in `v` are views into the parser's buffer.
// kBadText: `bad` is the string that did not parse (time, duration).
Conv ConvertScalar(dom::element e, uint8_t type, JnValue& v, std::string_view& bad) {
  v = JnValue{};
  v.type = type;
  dom::element_type jt = e.type();
  switch (type) {
    case JN_BOOL: {
      bool b;
      if (e.get(b) != simdjson::SUCCESS) return Conv::kWrongType;
      v.b = b ? 1 : 0;
      return Conv::kOk;
    }
    case JN_INT: {
      if (jt == dom::element_type::INT64) {
        int64_t i;
        if (e.get(i) != simdjson::SUCCESS) return Conv::kWrongType;
        v.i = i;
        return Conv::kOk;
      }
      if (jt == dom::element_type::UINT64) return Conv::kOutOfRange;  // > INT64_MAX
      if (jt == dom::element_type::DOUBLE) {
        double d;
        if (e.get(d) != simdjson::SUCCESS) return Conv::kWrongType;
        if (!std::isfinite(d)) return Conv::kOutOfRange;
        if (std::trunc(d) != d) return Conv::kNotInteger;
        if (std::fabs(d) > static_cast<double>(kMaxExactInt)) return Conv::kOutOfRange;
        v.i = static_cast<int64_t>(d);
        return Conv::kOk;
      }
      return Conv::kWrongType;
    }
    case JN_FLOAT: {
      if (jt != dom::element_type::INT64 && jt != dom::element_type::UINT64 &&
          jt != dom::element_type::DOUBLE) {
        return Conv::kWrongType;
      }
      double d;  // get<double> converts int64 and uint64 too
      if (e.get(d) != simdjson::SUCCESS) return Conv::kWrongType;
      if (!std::isfinite(d)) return Conv::kOutOfRange;
      v.f = d;
      return Conv::kOk;
    }
    case JN_STRING: {
      std::string_view s;
      if (e.get(s) != simdjson::SUCCESS) return Conv::kWrongType;
      v.s = JnStr{s.data(), static_cast<uint32_t>(s.size()), -1};
      return Conv::kOk;
    }
    case JN_TIME: {
      std::string_view s;
      if (e.get(s) != simdjson::SUCCESS) return Conv::kWrongType;
      if (!ParseTimeValue(s, v.i)) {  // a timestamp, or a date alone
        bad = s;
        return Conv::kBadText;
      }
      return Conv::kOk;
    }
    case JN_DURATION: {
      if (jt == dom::element_type::STRING) {
        std::string_view s;
        if (e.get(s) != simdjson::SUCCESS) return Conv::kWrongType;
        switch (ParseDurationText(s, v.i)) {
          case DurationParse::kOk: return Conv::kOk;
          case DurationParse::kOutOfRange: return Conv::kOutOfRange;
          case DurationParse::kMalformed: bad = s; return Conv::kBadText;
        }
        return Conv::kBadText;
      }
      if (jt == dom::element_type::INT64) {
        int64_t i;
        if (e.get(i) != simdjson::SUCCESS) return Conv::kWrongType;
        if (i > kMaxDurationUs / kMicrosPerSecond || i < -kMaxDurationUs / kMicrosPerSecond) {
          return Conv::kOutOfRange;
        }
        v.i = i * kMicrosPerSecond;
        return Conv::kOk;
      }
      if (jt == dom::element_type::UINT64) return Conv::kOutOfRange;
      if (jt == dom::element_type::DOUBLE) {
        double d;
        if (e.get(d) != simdjson::SUCCESS) return Conv::kWrongType;
        double us = std::round(d * static_cast<double>(kMicrosPerSecond));
        if (!std::isfinite(us) || std::fabs(us) > static_cast<double>(kMaxDurationUs)) {
          return Conv::kOutOfRange;
        }
        v.i = static_cast<int64_t>(us);
        return Conv::kOk;
      }
      return Conv::kWrongType;
    }
  }
  return Conv::kWrongType;
}

std::string ConvError(Conv c, const std::string& label, uint8_t type, dom::element e,
                      std::string_view bad) {
  switch (c) {
    case Conv::kOk: return {};
    case Conv::kWrongType:
      return label + " must be " + Expected(type) + ", got " + JsonTypeName(e);
    case Conv::kNotInteger: return label + " must be an integer";
    case Conv::kOutOfRange: return label + " is out of range";
    case Conv::kBadText: return label + " must be " + Expected(type) + ", got " + Quote(bad);
  }
  return label + " is invalid";
}

// Converts a field's JSON value (not null) into `v`. Lists are built in `list_buf`,
// which must outlive the use of `v` (the caller copies it into a record at once).
bool ConvertField(dom::element e, const FieldSpec& f, std::string_view kind,
                  std::vector<uint8_t>& list_buf, JnValue& v, std::string& error) {
  // "property 'x'" / "trait 'x'": built only for an error message.
  auto label = [&] { return std::string(kind) + " '" + f.name + "'"; };
  std::string_view bad;
  if (f.type != JN_LIST) {
    Conv c = ConvertScalar(e, f.type, v, bad);
    if (c == Conv::kOk) return true;
    error = ConvError(c, label(), f.type, e, bad);
    return false;
  }
  dom::array arr;
  if (e.get(arr) != simdjson::SUCCESS) {
    error = label() + " must be a list, got " + JsonTypeName(e);
    return false;
  }
  if (f.elem == JN_LIST || f.elem > JN_LIST) {
    error = label() + " has a type the wire format does not support (nested list)";
    return false;
  }
  uint32_t elem_size = jn_value_size(f.elem);
  size_t n = arr.size();  // < 2^19 elements: the message is at most 1 MiB
  list_buf.assign(n * elem_size, 0);
  size_t i = 0;
  for (dom::element item : arr) {
    JnValue ev;
    Conv c = ConvertScalar(item, f.elem, ev, bad);
    if (c != Conv::kOk) {
      error = ConvError(c, label() + "[" + std::to_string(i) + "]", f.elem, item, bad);
      return false;
    }
    uint8_t* dst = list_buf.data() + i * elem_size;
    switch (f.elem) {
      case JN_BOOL: *dst = ev.b; break;
      case JN_FLOAT: std::memcpy(dst, &ev.f, sizeof ev.f); break;
      case JN_STRING: std::memcpy(dst, &ev.s, sizeof ev.s); break;
      default: std::memcpy(dst, &ev.i, sizeof ev.i); break;
    }
    ++i;
  }
  v = JnValue{};
  v.type = JN_LIST;
  v.elem = f.elem;
  v.l = JnList{list_buf.data(), static_cast<uint32_t>(n), elem_size};
  return true;
}

enum class Lookup { kMissing, kWrongType, kOk };

// The top-level members the decoder reads. One pass over the message's object finds
// them all (a lookup by name per member would compare every key again and again);
// of a name given twice the first counts, as with a lookup.
enum Member { kType, kMessageId, kUserId, kAnonymousId, kTimestamp, kOriginalTimestamp,
              kReceivedAt, kEvent, kName, kCategory, kProperties, kTraits, kMemberCount };

// The Segment calls.
enum class Call { kTrack, kIdentify, kPage, kScreen, kGroup, kAlias, kUnknown };

Call CallOf(std::string_view type) {
  if (type == "track") return Call::kTrack;
  if (type == "identify") return Call::kIdentify;
  if (type == "page") return Call::kPage;
  if (type == "screen") return Call::kScreen;
  if (type == "group") return Call::kGroup;
  if (type == "alias") return Call::kAlias;
  return Call::kUnknown;
}

// `key`, whose size the caller matched, holds `name`'s characters. A memcmp of a
// constant size whose result is only tested for zero is expanded in place: every
// message's members go through here.
template <size_t N>
bool Is(std::string_view key, const char (&name)[N]) {
  return std::memcmp(key.data(), name, N - 1) == 0;
}

Member MemberOf(std::string_view key) {
  switch (key.size()) {
    case 4: return Is(key, "type") ? kType : Is(key, "name") ? kName : kMemberCount;
    case 5: return Is(key, "event") ? kEvent : kMemberCount;
    case 6: return Is(key, "userId") ? kUserId : Is(key, "traits") ? kTraits : kMemberCount;
    case 9:
      return Is(key, "messageId") ? kMessageId : Is(key, "timestamp") ? kTimestamp : kMemberCount;
    case 10:
      return Is(key, "receivedAt") ? kReceivedAt : Is(key, "properties") ? kProperties : kMemberCount;
    case 8: return Is(key, "category") ? kCategory : kMemberCount;
    case 11: return Is(key, "anonymousId") ? kAnonymousId : kMemberCount;
    case 17: return Is(key, "originalTimestamp") ? kOriginalTimestamp : kMemberCount;
    default: return kMemberCount;
  }
}

struct Members {
  dom::element at[kMemberCount];
  bool given[kMemberCount] = {};

  explicit Members(dom::object root) {
    for (dom::key_value_pair kv : root) {
      Member m = MemberOf(kv.key);
      if (m == kMemberCount || given[m]) continue;
      at[m] = kv.value;
      given[m] = true;
    }
  }
  // A member given and not null, or null.
  const dom::element* Get(Member m) const {
    return given[m] && !at[m].is_null() ? &at[m] : nullptr;
  }
};

// A string member; null counts as missing. `el` is set when the member exists.
Lookup GetString(const Members& members, Member m, std::string_view& s, dom::element& el) {
  const dom::element* found = members.Get(m);
  if (found == nullptr) return Lookup::kMissing;
  el = *found;
  return el.get(s) == simdjson::SUCCESS ? Lookup::kOk : Lookup::kWrongType;
}

// A customer id member (customer_id.h); anything else counts as absent.
bool GetCustomerId(const Members& members, Member m, std::string& out) {
  const dom::element* el = members.Get(m);
  return el != nullptr && ReadCustomerId(*el, out);
}

// An object member; absent or null is an empty object (`present` false).
bool GetObject(const Members& members, Member m, std::string_view key, dom::object& out,
               bool& present, std::string& error) {
  present = false;
  const dom::element* el = members.Get(m);
  if (el == nullptr) return true;
  if (el->get(out) != simdjson::SUCCESS) {
    error = std::string(key) + " must be an object, got " + JsonTypeName(*el);
    return false;
  }
  present = true;
  return true;
}

// The properties given for an event's fields, by field index, in one pass over the
// properties object (of a name given twice the first counts). Reused per thread.
std::vector<const dom::element*>& PropertiesByField(const RecordSpec& rs,
                                                          dom::object props, bool have_props) {
  thread_local std::vector<dom::element> values;
  thread_local std::vector<const dom::element*> by_field;
  by_field.assign(rs.fields.size(), nullptr);
  if (!have_props) return by_field;
  values.resize(rs.fields.size());
  for (dom::key_value_pair kv : props) {
    for (size_t i = 0; i < rs.fields.size(); ++i) {
      const std::string& name = rs.fields[i].name;
      if (name.size() != kv.key.size() || name != kv.key) continue;
      if (by_field[i] == nullptr) {
        values[i] = kv.value;
        by_field[i] = &values[i];
      }
      break;
    }
  }
  return by_field;
}

// The bytes of a record's arena that a property given for field `f` takes: a
// string's bytes, a list's elements (and the bytes of its strings). What does not
// convert takes nothing: it rejects the message.
uint32_t ArenaFor(const dom::element& e, const FieldSpec& f) {
  std::string_view s;
  if (f.type == JN_STRING) return e.get(s) == simdjson::SUCCESS ? Record::ArenaBytes(s.size()) : 0;
  dom::array items;
  if (f.type != JN_LIST || e.get(items) != simdjson::SUCCESS) return 0;
  uint32_t bytes = Record::ArenaBytes(items.size() * jn_value_size(f.elem));
  if (f.elem != JN_STRING) return bytes;
  for (dom::element item : items) {
    if (item.get(s) == simdjson::SUCCESS) bytes += Record::ArenaBytes(s.size());
  }
  return bytes;
}

// A property whose JSON value already has its field's type (a number for a float, an
// integer for an int, true or false for a bool, a string for a string): written into
// the record in place, as Record::SetField would write ConvertField's value, without
// the value in between (the common case, for every property of every message). False
// for anything else, left to ConvertField and SetField: a conversion, a time, a
// duration, a list, a wrong type (with its error), a field outside the record.
bool WriteExact(dom::element e, const FieldSpec& f, Record& rec) {
  const uint32_t size = jn_value_size(f.type);
  if (size == 0 || uint64_t{f.offset} + size > rec.size()) return false;
  RecordWriter w(rec.mutable_data());
  switch (f.type) {
    case JN_FLOAT: {
      const dom::element_type jt = e.type();
      double d;
      if ((jt != dom::element_type::DOUBLE && jt != dom::element_type::INT64 &&
           jt != dom::element_type::UINT64) ||
          e.get(d) != simdjson::SUCCESS || !std::isfinite(d)) {
        return false;
      }
      w.SetFloat(f.offset, d);
      break;
    }
    case JN_INT: {
      int64_t i;
      if (e.type() != dom::element_type::INT64 || e.get(i) != simdjson::SUCCESS) return false;
      w.SetInt(f.offset, i);
      break;
    }
    case JN_BOOL: {
      bool b;
      if (e.get(b) != simdjson::SUCCESS) return false;
      w.SetBool(f.offset, b);
      break;
    }
    case JN_STRING: {
      std::string_view text;
      if (e.get(text) != simdjson::SUCCESS) return false;
      w.SetStr(f.offset, rec.Own(text));
      break;
    }
    default: return false;
  }
  if (f.presence_bit >= 0 && uint64_t{JN_EVENT_PRESENT_OFFSET} + 8 <= rec.size()) {
    w.SetPresent(JN_EVENT_PRESENT_OFFSET, f.presence_bit);
  }
  return true;
}

// A track; or a page or screen call (`view` is "page" or "screen"), read as a track of
// the event of that name, whose top-level "name" and "category" stand in for
// properties of those names.
bool DecodeTrack(const ProgramSpec& spec, const Members& members, std::string_view view,
                 Message& out, std::string& error) {
  std::string_view name = view;
  dom::element el;
  if (view.empty()) {
    switch (GetString(members, kEvent, name, el)) {
      case Lookup::kMissing: error = "missing event"; return false;
      case Lookup::kWrongType: error = "event must be a non-empty string"; return false;
      case Lookup::kOk: break;
    }
    if (name.empty()) {
      error = "event must be a non-empty string";
      return false;
    }
  }
  int index = spec.FindEvent(name);
  if (index < 0) {
    out.kind = MessageKind::kIgnored;
    out.ignored_event = std::string(name);
    return true;
  }
  dom::object props;
  bool have_props;
  if (!GetObject(members, kProperties, "properties", props, have_props, error)) return false;

  const RecordSpec& rs = spec.events[index];
  std::vector<const dom::element*>& given = PropertiesByField(rs, props, have_props);
  if (!view.empty()) {
    for (size_t i = 0; i < rs.fields.size(); ++i) {
      if (given[i] != nullptr) continue;
      const std::string& field = rs.fields[i].name;
      if (field == "name") given[i] = members.Get(kName);
      if (field == "category") given[i] = members.Get(kCategory);
    }
  }
  // One allocation for the layout, the id, the customer and the string and list
  // properties, sized to what they hold: the record lives as long as a window or an
  // instance keeps it.
  uint32_t arena = Record::ArenaBytes(out.message_id.size()) +
                   Record::ArenaBytes(out.customer.size());
  for (size_t i = 0; i < rs.fields.size(); ++i) {
    if (given[i] != nullptr) arena += ArenaFor(*given[i], rs.fields[i]);
  }
  auto rec = Record::Make(std::max<uint32_t>(rs.size, JN_EVENT_FIELDS_OFFSET), arena);
  JnEventHeader header{};
  header.type_id = rs.type_id;
  header.time_us = out.time_us;
  header.id = rec->Own(out.message_id);
  header.customer = rec->Own(out.customer);
  std::memcpy(rec->mutable_data(), &header, sizeof header);

  std::vector<uint8_t> list_buf;
  for (size_t i = 0; i < rs.fields.size(); ++i) {
    const FieldSpec& f = rs.fields[i];
    if (given[i] != nullptr && !given[i]->is_null()) {
      if (WriteExact(*given[i], f, *rec)) continue;
      JnValue v;
      if (!ConvertField(*given[i], f, "property", list_buf, v, error)) return false;
      rec->SetField(f, v, JN_EVENT_PRESENT_OFFSET);
    } else if (f.has_default) {
      rec->SetField(f, f.default_value, JN_EVENT_PRESENT_OFFSET);
    } else if (f.presence_bit < 0) {
      error = "missing required property '" + f.name + "'";
      return false;
    }
  }
  out.kind = MessageKind::kTrack;
  out.event_type = static_cast<uint32_t>(index);
  out.record = std::move(rec);
  return true;
}

bool DecodeIdentify(const ProgramSpec& spec, const Members& members, Message& out,
                    std::string& error) {
  dom::object traits;
  bool have_traits;
  if (!GetObject(members, kTraits, "traits", traits, have_traits, error)) return false;
  out.kind = MessageKind::kIdentify;
  const auto& fields = spec.profile.fields;
  auto field_index = [&fields](std::string_view name) {
    for (size_t i = 0; i < fields.size(); ++i) {
      if (fields[i].name == name) return static_cast<int>(i);
    }
    return -1;
  };
  // One allocation for the storage and the strings and lists of the traits it keeps
  // (each occurrence of a name given twice is copied), as DecodeTrack does for a
  // record; what the count misses still goes to the record's overflow.
  uint32_t arena = 0;
  thread_local std::vector<int> indices;  // of the traits, in order (reused)
  indices.clear();
  if (have_traits) {
    for (dom::key_value_pair kv : traits) {
      const int index = field_index(kv.key);
      indices.push_back(index);
      if (index < 0) continue;
      const FieldSpec& f = fields[index];
      if (!kv.value.is_null()) {
        arena += ArenaFor(kv.value, f);
      } else if (f.has_default && f.type == JN_STRING) {
        arena += Record::ArenaBytes(f.default_value.s.len);
      }
    }
  }
  out.trait_storage =
      Record::Make(std::max<uint32_t>(spec.profile.size, JN_PROFILE_FIELDS_OFFSET), arena);
  if (!have_traits) return true;
  Record& storage = *out.trait_storage;
  std::vector<uint8_t> list_buf;
  size_t k = 0;
  for (dom::key_value_pair kv : traits) {
    const int index = indices[k++];
    if (index < 0) {
      out.unknown_traits.emplace_back(std::string(kv.key), simdjson::to_string(kv.value));
      continue;
    }
    const FieldSpec& f = fields[index];
    if (kv.value.is_null()) {
      if (f.has_default) {
        storage.SetField(f, f.default_value, JN_PROFILE_PRESENT_OFFSET);
        out.traits.emplace_back(index, storage.GetField(f));
        continue;
      }
      if (f.presence_bit >= 0) {
        JnValue absent{};
        absent.type = kTraitAbsent;
        out.traits.emplace_back(index, absent);
        continue;
      }
      // A required field without a default cannot be reset: a type error below.
    }
    JnValue v;
    if (!ConvertField(kv.value, f, "trait", list_buf, v, error)) return false;
    // Written into the storage record (which copies strings and lists), read back as
    // views into it; a later duplicate overwrites the slot, not the earlier copies.
    storage.SetField(f, v, JN_PROFILE_PRESENT_OFFSET);
    out.traits.emplace_back(index, storage.GetField(f));
  }
  return true;
}

bool Decode(const ProgramSpec& spec, std::string_view json, Message& out, std::string& error) {
  if (json.size() > kMaxMessageBytes) {
    error = "message is larger than 1 MiB (" + std::to_string(json.size()) + " bytes)";
    return false;
  }
  json = SkipByteOrderMark(json);  // some producers write one at the start of a body
  // One parser per thread, reused: its buffers grow to the largest message seen.
  thread_local dom::parser parser(kMaxMessageBytes);
  dom::element doc;
  const bool copy = !PaddingIsReadable(json);
  if (auto err = parser.parse(json.data(), json.size(), copy).get(doc); err != simdjson::SUCCESS) {
    error = std::string("invalid JSON: ") + simdjson::error_message(err);
    return false;
  }
  dom::object root;
  if (doc.get(root) != simdjson::SUCCESS) {
    error = std::string("message must be a JSON object, got ") + JsonTypeName(doc);
    return false;
  }
  const Members members(root);
  std::string_view type, text;
  dom::element el;
  // Whose message it is and its id, looked up first (once), so that a message refused
  // below can still be told to its customer (DecodeMessage keeps them); the checks
  // keep their order.
  std::string_view id;
  const Lookup id_lookup = GetString(members, kMessageId, id, el);
  const bool has_user = GetCustomerId(members, kUserId, out.customer);
  const bool has_anonymous = !has_user && GetCustomerId(members, kAnonymousId, out.customer);
  out.customer_is_anonymous = has_anonymous;
  if (id_lookup == Lookup::kOk) out.message_id.assign(id);
  const Call call = GetString(members, kType, type, el) == Lookup::kOk ? CallOf(type) : Call::kUnknown;
  if (call == Call::kUnknown) {
    error = "type must be one of \"track\", \"identify\", \"page\", \"screen\", \"group\", \"alias\"";
    return false;
  }
  switch (id_lookup) {
    case Lookup::kMissing: error = "missing messageId"; return false;
    case Lookup::kWrongType: error = "messageId must be a non-empty string"; return false;
    case Lookup::kOk: break;
  }
  if (id.empty()) {
    error = "messageId must be a non-empty string";
    return false;
  }
  if (!has_user && !has_anonymous) {
    error = "missing userId and anonymousId";
    return false;
  }
  // The SDKs send the time they captured the call as originalTimestamp; the pipeline
  // (Segment's, RudderStack's) sets timestamp. Either way it is the signal's time.
  const Member stamp = members.Get(kTimestamp) == nullptr && members.Get(kOriginalTimestamp) != nullptr
                           ? kOriginalTimestamp : kTimestamp;
  const char* stamp_name = stamp == kTimestamp ? "timestamp" : "originalTimestamp";
  switch (GetString(members, stamp, text, el)) {
    case Lookup::kMissing: error = "missing timestamp"; return false;
    case Lookup::kWrongType:
      error = std::string(stamp_name) + " must be a string, got " + JsonTypeName(el);
      return false;
    case Lookup::kOk: break;
  }
  if (!ParseTimestamp(text, out.time_us)) {
    error = std::string(stamp_name) + " " + Quote(text) + " is not ISO-8601";
    return false;
  }
  switch (GetString(members, kReceivedAt, text, el)) {  // optional
    case Lookup::kMissing: break;
    case Lookup::kWrongType:
      error = std::string("receivedAt must be a string, got ") + JsonTypeName(el);
      return false;
    case Lookup::kOk:
      out.has_received = true;
      if (!ParseTimestamp(text, out.received_us)) {
        error = "receivedAt " + Quote(text) + " is not ISO-8601";
        return false;
      }
      break;
  }
  switch (call) {
    case Call::kTrack: return DecodeTrack(spec, members, {}, out, error);
    case Call::kPage: return DecodeTrack(spec, members, "page", out, error);
    case Call::kScreen: return DecodeTrack(spec, members, "screen", out, error);
    case Call::kIdentify: return DecodeIdentify(spec, members, out, error);
    case Call::kGroup:
    case Call::kAlias:
    case Call::kUnknown: break;
  }
  out.kind = MessageKind::kIgnored;  // group, alias: accepted, counted, not used
  out.ignored_call = call == Call::kGroup ? "group" : "alias";
  return true;
}

}  // namespace

bool ParseDuration(std::string_view text, int64_t& micros) {
  return ParseDurationText(text, micros) == DurationParse::kOk;
}

Status DecodeMessage(const ProgramSpec& spec, std::string_view json, Message& out) {
  out.Clear();
  std::string error;
  Status status;
  try {
    if (!Decode(spec, json, out, error)) status = InvalidArgumentError(std::move(error));
  } catch (const std::exception& e) {  // std::bad_alloc: nothing else throws here
    status = InternalError(std::string("internal error while decoding: ") + e.what());
  }
  if (!status.ok()) {  // nothing of it, but whose it was, its id and its time if read
    Message refused;
    refused.customer = std::move(out.customer);
    refused.message_id = std::move(out.message_id);
    refused.time_us = out.time_us;
    out = std::move(refused);
  }
  return status;
}

}  // namespace juncture::runtime
