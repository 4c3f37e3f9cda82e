// Engine snapshots, reading side: the envelope is checked (kind, version, checksum),
// then the state map (see snapshot.cc) is read into a snapshot::State for the
// program the engine runs now, by the rule a reload follows too (state_map.h): what
// the program no longer has is dropped silently (there is no decision sink), records
// are rebuilt field by field from the stored values. Every stored value is checked
// against its stored layout, kept or not. Any structural problem rejects the whole
// snapshot; nothing is half-loaded.
#include <algorithm>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <xxhash.h>

#include "exec/packed_times.h"
#include "exec/snapshot.h"
#include "exec/state_map.h"
#include "juncture/runtime/pieces.h"
#include "juncture/runtime/record.h"

namespace juncture::runtime::snapshot {
namespace {

using nlohmann::json;

// ---- CBOR with a nesting limit -------------------------------------------------------

// nlohmann's reader recurses once per nesting level: refuse deep input before it
// can exhaust the stack. (The reader is a template over its SAX type, so these
// members hide the DOM builder's.)
class LimitedSax : public nlohmann::detail::json_sax_dom_parser<json> {
 public:
  explicit LimitedSax(json& root) : json_sax_dom_parser(root, /*allow_exceptions=*/true) {}
  bool start_object(std::size_t n) { return Enter() && json_sax_dom_parser::start_object(n); }
  bool start_array(std::size_t n) { return Enter() && json_sax_dom_parser::start_array(n); }
  bool end_object() { --depth_; return json_sax_dom_parser::end_object(); }
  bool end_array() { --depth_; return json_sax_dom_parser::end_array(); }
  bool too_deep() const { return too_deep_; }

 private:
  bool Enter() {
    too_deep_ = ++depth_ > kMaxDepth;
    return !too_deep_;
  }
  int depth_ = 0;
  bool too_deep_ = false;
};

bool ParseCbor(const uint8_t* data, size_t size, json& out, std::string& error) {
  LimitedSax sax(out);
  try {
    if (json::sax_parse(data, data + size, &sax, json::input_format_t::cbor, true)) return true;
    error = sax.too_deep() ? "nested more than " + std::to_string(kMaxDepth) + " levels deep"
                           : "not valid CBOR";
  } catch (const json::exception& e) {
    error = e.what();
  }
  return false;
}

// ---- Checked access ------------------------------------------------------------------

struct Corrupt {
  std::string what;
};

[[noreturn]] void Fail(const std::string& where, const std::string& what) {
  throw Corrupt{where.empty() ? what : where + ": " + what};
}

const json& Member(const json& obj, const char* key, const std::string& where) {
  if (!obj.is_object()) Fail(where, "expected a map");
  auto it = obj.find(key);
  if (it == obj.end()) Fail(where, std::string("missing '") + key + "'");
  return *it;
}

// An optional member (left out when empty), or nullptr.
const json* Optional(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

bool IsInt(const json& v) {
  return v.is_number_integer() &&
         (!v.is_number_unsigned() || v.get<uint64_t>() <= uint64_t{INT64_MAX});
}

int64_t Int(const json& v, const std::string& where) {
  if (!IsInt(v)) Fail(where, "expected an integer");
  return v.get<int64_t>();
}

uint64_t Uint(const json& v, const std::string& where) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer() && v.get<int64_t>() >= 0) return static_cast<uint64_t>(v.get<int64_t>());
  Fail(where, "expected an unsigned integer");
}

bool Bool(const json& v, const std::string& where) {
  if (!v.is_boolean()) Fail(where, "expected true or false");
  return v.get<bool>();
}

const std::string& Str(const json& v, const std::string& where) {
  if (!v.is_string()) Fail(where, "expected a string");
  return v.get_ref<const std::string&>();
}

const json& Map(const json& v, const std::string& where) {
  if (!v.is_object()) Fail(where, "expected a map");
  return v;
}

const json& List(const json& v, const std::string& where) {
  if (!v.is_array()) Fail(where, "expected a list");
  return v;
}

// ---- Field values --------------------------------------------------------------------

bool ValidScalar(const json& v, uint8_t type) {
  switch (type) {
    case JN_BOOL: return v.is_boolean();
    case JN_FLOAT: return v.is_number();
    case JN_STRING: return v.is_string();
    case JN_INT:
    case JN_TIME:
    case JN_DURATION: return IsInt(v);
    default: return false;
  }
}

Column ParseColumn(const json& c, const std::string& where) {
  if (!c.is_array() || c.size() != 3) Fail(where, "expected [name, type, elem]");
  int64_t type = Int(c[1], where), elem = Int(c[2], where);
  if (type < JN_BOOL || type > JN_LIST || elem < JN_BOOL || elem > JN_LIST) {
    Fail(where, "unknown type code");
  }
  return Column{Str(c[0], where), static_cast<uint8_t>(type), static_cast<uint8_t>(elem)};
}

// A stored value checked against its column: null (absent), or of the column's type.
void CheckValue(const json& v, const Column& c, const std::string& where) {
  if (v.is_null()) return;
  if (c.type != JN_LIST) {
    if (!ValidScalar(v, c.type)) Fail(where, "field '" + c.name + "' does not match its type");
    return;
  }
  if (!v.is_array() || ElemSize(c.elem) == 0) Fail(where, "field '" + c.name + "' does not match its type");
  for (const json& e : v) {
    if (!ValidScalar(e, c.elem)) Fail(where, "field '" + c.name + "' has an element of another type");
  }
}

// A stored layout mapped onto the program's layout of the same name.
struct LayoutMap {
  std::vector<Column> columns;  // as stored
  FieldMap fields;
};

LayoutMap ParseLayout(const json& list, const RecordSpec* target, const std::string& where) {
  LayoutMap m;
  for (const json& c : List(list, where)) m.columns.push_back(ParseColumn(c, where));
  m.fields = MapFields(m.columns, target);
  return m;
}

// Builds JnValues from checked stored values; they point into this builder's
// storage until the next Build.
class ValueBuilder {
 public:
  // `v` (not null) checked against `c`.
  void Build(const Column& c, const json& v, JnValue& out) {
    out = JnValue{};
    out.type = c.type;
    out.elem = c.elem;
    strings_.clear();
    if (c.type != JN_LIST) {
      Scalar(v, c.type, out);
      return;
    }
    uint32_t size = ElemSize(c.elem);
    size_t n = v.size();
    strings_.reserve(n);  // no reallocation below: string data stays put
    bytes_.assign(n * size, 0);
    for (size_t i = 0; i < n; ++i) {
      JnValue e{};
      Scalar(v[i], c.elem, e);
      uint8_t* dst = bytes_.data() + i * size;
      switch (c.elem) {
        case JN_BOOL: *dst = e.b; break;
        case JN_FLOAT: std::memcpy(dst, &e.f, sizeof e.f); break;
        case JN_STRING: std::memcpy(dst, &e.s, sizeof e.s); break;
        default: std::memcpy(dst, &e.i, sizeof e.i); break;
      }
    }
    out.l = JnList{bytes_.data(), static_cast<uint32_t>(n), size};
  }

 private:
  void Scalar(const json& v, uint8_t type, JnValue& out) {
    switch (type) {
      case JN_BOOL: out.b = v.get<bool>() ? 1 : 0; break;
      case JN_FLOAT: out.f = v.get<double>(); break;
      case JN_STRING: {
        const std::string& s = strings_.emplace_back(v.get_ref<const std::string&>());
        out.s = JnStr{s.data(), static_cast<uint32_t>(s.size()), -1};
        break;
      }
      default: out.i = v.get<int64_t>(); break;
    }
  }

  std::vector<std::string> strings_;
  std::vector<uint8_t> bytes_;
};

// Stored values, checked against their columns, as the source of a record's fields.
class StoredValues final : public FieldSource {
 public:
  StoredValues(const LayoutMap& layout, const json& values, ValueBuilder& builder)
      : layout_(layout), values_(values), builder_(builder) {}
  bool Get(size_t k, JnValue& out) override {
    const json& v = values_[k];
    if (v.is_null()) return false;
    builder_.Build(layout_.columns[k], v, out);
    return true;
  }

 private:
  const LayoutMap& layout_;
  const json& values_;
  ValueBuilder& builder_;
};

// ---- The state -----------------------------------------------------------------------

int KindIndex(const std::string& name, const char* const* names, int count,
              const std::string& where) {
  for (int k = 0; k < count; ++k) {
    if (name == names[k]) return k;
  }
  Fail(where, "unknown kind '" + name + "'");
}

class Loader {
 public:
  explicit Loader(const StateMap& map) : map_(map), spec_(map.target()) {}
  void Run(const json& state, State& out);
  // One piece at a time (PieceLoader), with the same mapping.
  void PieceLayouts(const json& layouts) { Layouts(layouts); }
  CustomerState PieceCustomer(const json& c, const std::string& id) {
    return Customer(c, id, "customer '" + id + "'");
  }
  // The streams of a stored piece of the second form (pieces.h), after its core.
  void PieceStreams(const pieces::PieceView& piece, CustomerState& c, const std::string& id);
  RecordPtr StreamRecord(std::string_view bytes, int type, const CustomerState& c,
                         const std::string& where);
  std::optional<Timer> PieceTimer(const json& t) { return TimerOf(t, nullptr, "timer"); }
  uint64_t max_seq() const { return max_seq_; }

 private:
  void Layouts(const json& layouts);
  void Records(const json& list, const std::string& where);
  RecordPtr EventRecord(const json& r, const std::string& where);
  void Read(const LayoutMap& layout, const json& values, uint32_t present_offset,
            Record* rec, const std::string& where);
  CustomerState Customer(const json& c, const std::string& id, const std::string& where);
  void Instances(const json& map, CustomerState& c, const std::string& where);
  void Goals(const json& map, CustomerState& c, const std::string& where);
  void History(const json& map, CustomerState& c, const std::string& where);
  void Times(const json& map, CustomerState& c, const std::string& where);
  void Timers(const json& list, const std::string* customer, const std::string& where);
  std::optional<Timer> TimerOf(const json& t, const std::string* customer,
                               const std::string& where);
  int RecordIndex(const json& v, const std::string& where) const;

  const StateMap& map_;
  const ProgramSpec& spec_;
  LayoutMap profile_;
  std::unordered_map<std::string, LayoutMap> event_layouts_;  // by stored event name
  std::vector<RecordPtr> records_;        // the current customer's; nullptr: type gone
  std::vector<int> record_types_;
  ValueBuilder values_;
  std::vector<Timer> timers_;
  std::unordered_map<uint64_t, bool> releases_;  // seq of each release timer kept
  uint64_t max_seq_ = 0;
};

void Loader::Layouts(const json& layouts) {
  profile_ = ParseLayout(Member(layouts, "profile", "layouts"), &spec_.profile, "profile layout");
  const json& events = Map(Member(layouts, "events", "layouts"), "layouts");
  for (auto it = events.begin(); it != events.end(); ++it) {
    int type = map_.Event(it.key());
    event_layouts_[it.key()] = ParseLayout(it.value(), type >= 0 ? &spec_.events[type] : nullptr,
                                           "layout of '" + it.key() + "'");
  }
}

// Checks stored `values` against their stored layout and, unless `rec` is null (the
// program has no such record), fills `rec` (empty, of the program's layout) from them
// by the rule (state_map.h: Fill).
void Loader::Read(const LayoutMap& layout, const json& values, uint32_t present_offset,
                  Record* rec, const std::string& where) {
  if (!values.is_array() || values.size() != layout.columns.size()) {
    Fail(where, "expected one value per field of its layout");
  }
  for (size_t i = 0; i < values.size(); ++i) CheckValue(values[i], layout.columns[i], where);
  if (rec == nullptr) return;
  StoredValues source(layout, values, values_);
  Fill(layout.fields, source, present_offset, *rec);
}

RecordPtr Loader::EventRecord(const json& r, const std::string& where) {
  if (!r.is_array() || r.size() != 5) Fail(where, "expected [event, time, id, customer, values]");
  const std::string& name = Str(r[0], where);
  int64_t time = Int(r[1], where);
  const std::string& id = Str(r[2], where);
  const std::string& customer = Str(r[3], where);
  auto layout = event_layouts_.find(name);
  if (layout == event_layouts_.end()) Fail(where, "no layout for event '" + name + "'");
  const RecordSpec* target = layout->second.fields.target;
  RecordRef<Record> rec = target ? NewEvent(*target, time, id, customer) : nullptr;
  Read(layout->second, r[4], JN_EVENT_PRESENT_OFFSET, rec.get(), where);
  return rec;  // null (checked, though) if its event type is gone
}

void Loader::Records(const json& list, const std::string& where) {
  records_.clear();
  record_types_.clear();
  List(list, where);
  for (size_t i = 0; i < list.size(); ++i) {
    RecordPtr r = EventRecord(list[i], where + " record " + std::to_string(i));
    record_types_.push_back(r ? static_cast<int>(RecordView(r->data()).header().type_id) : -1);
    records_.push_back(std::move(r));
  }
}

// A record index: -1 (none) or an index into `records`.
int Loader::RecordIndex(const json& v, const std::string& where) const {
  int64_t i = Int(v, where);
  if (i < -1 || i >= static_cast<int64_t>(records_.size())) Fail(where, "no such record");
  return static_cast<int>(i);
}

void Loader::Instances(const json& map, CustomerState& c, const std::string& where) {
  Map(map, where);
  for (auto it = map.begin(); it != map.end(); ++it) {
    const json& inst = it.value();
    std::string at = where + " '" + it.key() + "'";
    const std::string& step_id = Str(Member(inst, "step", at), at);
    int kind = KindIndex(Str(Member(inst, "kind", at), at), kStepKinds, 8, at);
    if (kind != static_cast<int>(StepKind::kWait) && kind != static_cast<int>(StepKind::kWaitUntil)) {
      Fail(at, "an instance waits only at a wait or wait until step");
    }
    int record = RecordIndex(Member(inst, "event", at), at);
    const std::string& cause = Str(Member(inst, "cause", at), at);
    uint64_t timer = Uint(Member(inst, "timer", at), at);
    max_seq_ = std::max(max_seq_, timer);
    const json* signal = Optional(inst, "signal");
    int64_t signal_us = signal ? Int(*signal, at) : 0;
    const json* held = Optional(inst, "held_out");
    bool held_out = held ? Bool(*held, at) : false;

    int j = map_.Journey(it.key());
    if (j < 0) continue;  // the journey is gone
    auto journey = static_cast<uint32_t>(j);
    int step = map_.InstanceStep(journey, map_.Step(journey, step_id, static_cast<StepKind>(kind)),
                                 record >= 0, record >= 0 ? record_types_[record] : -1);
    if (step < 0) continue;
    RecordPtr event = record >= 0 ? records_[record] : nullptr;
    Instance restored(static_cast<uint32_t>(step), event, signal_us);
    restored.timer = timer;
    restored.held_out = held_out;
    restored.SetCause(cause);
    c.instances[journey] = std::move(restored);
  }
}

void Loader::Goals(const json& map, CustomerState& c, const std::string& where) {
  Map(map, where);
  for (auto it = map.begin(); it != map.end(); ++it) {
    std::string at = where + " '" + it.key() + "'";
    OpenGoal goal;
    goal.entered_us = Int(Member(it.value(), "entered", at), at);
    const json* held = Optional(it.value(), "held_out");
    goal.held_out = held ? Bool(*held, at) : false;
    int j = map_.Journey(it.key());
    if (j < 0 || !map_.KeepsGoal(static_cast<uint32_t>(j))) continue;  // journey or goal gone
    c.goals[static_cast<uint32_t>(j)] = goal;
  }
}

void Loader::History(const json& map, CustomerState& c, const std::string& where) {
  Map(map, where);
  for (auto it = map.begin(); it != map.end(); ++it) {
    std::string at = where + " '" + it.key() + "'";
    int type = map_.Event(it.key());
    bool keep = type >= 0 && map_.KeepsHistory(static_cast<uint32_t>(type));
    bool fields = keep && map_.KeepsHistoryFields(static_cast<uint32_t>(type));
    std::vector<std::pair<int64_t, RecordPtr>> entries;
    // Record -1: an event whose fields were not kept (its type's windows only counted it).
    auto add = [&](int64_t time, int record) {
      if (record >= 0 && record_types_[record] != type) Fail(at, "a record of another event type");
      if (keep) entries.emplace_back(time, record >= 0 && fields ? records_[record] : nullptr);
    };
    if (it.value().is_binary()) {  // packed: (time, record index + 1) after another
      const auto& bytes = it.value().get_binary();
      TimeReader packed({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
      while (!packed.done()) {
        std::optional<int64_t> time = packed.Time();
        std::optional<uint64_t> record = packed.Varint();
        if (!time || !record) Fail(at, "a packed history cut short");
        if (*record > records_.size()) Fail(at, "no such record");
        add(*time, static_cast<int>(*record) - 1);
      }
    } else {  // as older snapshots wrote it: [[time, record index]]
      for (const json& e : List(it.value(), at)) {
        if (!e.is_array() || e.size() != 2) Fail(at, "expected [time, record]");
        add(Int(e[0], at), RecordIndex(e[1], at));
      }
    }
    // In time order, as the engine records them (windows find their events by binary
    // search); a snapshot made by hand may not be.
    auto by_time = [](const auto& a, const auto& b) { return a.first < b.first; };
    if (!std::is_sorted(entries.begin(), entries.end(), by_time)) {
      std::stable_sort(entries.begin(), entries.end(), by_time);
    }
    if (keep && !entries.empty()) c.history[static_cast<uint32_t>(type)] = EventHistory(std::move(entries));
  }
}

void Loader::PieceStreams(const pieces::PieceView& piece, CustomerState& c, const std::string& id) {
  using pieces::StreamKind;
  const std::string where = "customer '" + id + "'";
  for (const pieces::StreamView& s : piece.streams) {
    const std::string at = where + (s.kind == StreamKind::kSeen ? " seen" : " history '" + std::string(s.name) + "'");
    if (s.keep != 0) Fail(at, "a stored stream that keeps entries of another");
    pieces::StreamReader r(s);
    int64_t time = 0;
    std::string_view payload;
    uint64_t n = 0;
    switch (s.kind) {
      case StreamKind::kSeen:
        if (!s.name.empty() || !c.seen.empty()) Fail(at, "the ids taken, twice");
        while (r.Next(time, payload)) {
          c.seen.push_back(SeenMessage{pieces::StreamReader::Hash(payload), time});
          ++n;
        }
        break;
      case StreamKind::kTimes:
      case StreamKind::kRecords: {
        const int type = map_.Event(std::string(s.name));
        const bool keep = type >= 0 && map_.KeepsHistory(static_cast<uint32_t>(type));
        const bool fields = keep && map_.KeepsHistoryFields(static_cast<uint32_t>(type));
        if (type >= 0 && c.history.count(static_cast<uint32_t>(type)) != 0) {
          Fail(at, "both in the core and as a stream");
        }
        std::vector<std::pair<int64_t, RecordPtr>> entries;
        if (keep) entries.reserve(s.count);
        while (r.Next(time, payload)) {
          ++n;
          // Every stored record is checked, kept or not (as in the core's "records").
          RecordPtr record = payload.empty() ? nullptr : StreamRecord(payload, type, c, at);
          if (keep) entries.emplace_back(time, fields ? std::move(record) : nullptr);
        }
        auto by_time = [](const auto& a, const auto& b) { return a.first < b.first; };
        if (!std::is_sorted(entries.begin(), entries.end(), by_time)) {
          std::stable_sort(entries.begin(), entries.end(), by_time);
        }
        if (!entries.empty()) c.history[static_cast<uint32_t>(type)] = EventHistory(std::move(entries));
        break;
      }
    }
    if (r.failed() || n != s.count || (n != 0 && time != s.last_time)) {
      Fail(at, "a stream cut short, or not what its header says");
    }
  }
}

// A history's event as its stream stores it (its record's CBOR), for event type
// `type` (-1: gone from the program). The event an instance of `c` keeps is shared,
// as the snapshot shares it by index: the same event type, time and id.
RecordPtr Loader::StreamRecord(std::string_view bytes, int type, const CustomerState& c,
                               const std::string& where) {
  json r;
  std::string error;
  if (!ParseCbor(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), r, error)) {
    Fail(where, error);
  }
  RecordPtr record = EventRecord(r, where);
  if (!record) return nullptr;  // its event type is gone
  const JnEventHeader& h = RecordView(record->data()).header();
  if (static_cast<int>(h.type_id) != type) Fail(where, "a record of another event type");
  const std::string_view id(h.id.data, h.id.len);
  for (const auto& [j, inst] : c.instances) {
    if (!inst.event || inst.event->size() < JN_EVENT_FIELDS_OFFSET) continue;
    const JnEventHeader& kept = RecordView(inst.event->data()).header();
    if (kept.type_id == h.type_id && kept.time_us == h.time_us &&
        std::string_view(kept.id.data, kept.id.len) == id) {
      return inst.event;
    }
  }
  return record;
}

// last_entry, sent_at and last_seen: times by journey, channel and event name.
void Loader::Times(const json& c_json, CustomerState& c, const std::string& where) {
  if (const json* last = Optional(c_json, "last_entry")) {
    for (auto it = Map(*last, where).begin(); it != last->end(); ++it) {
      int64_t t = Int(it.value(), where + " last_entry");
      int j = map_.Journey(it.key());
      if (j >= 0) c.last_entry[static_cast<uint32_t>(j)] = t;
    }
  }
  if (const json* sent = Optional(c_json, "sent_at")) {
    c.sent_at.resize(spec_.channels.size());  // the cap log exists
    for (auto it = Map(*sent, where).begin(); it != sent->end(); ++it) {
      CompactVector<int64_t> times;
      for (const json& t : List(it.value(), where + " sent_at")) times.push_back(Int(t, where + " sent_at"));
      int k = map_.Channel(it.key());
      if (k >= 0) c.sent_at[k] = std::move(times);
    }
  }
  const json* taken = Optional(c_json, "seen");  // the deduplication window
  if (taken && taken->is_binary()) {  // packed: (hash, time) after another
    const auto& bytes = taken->get_binary();
    TimeReader packed({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
    while (!packed.done()) {
      std::optional<uint64_t> hash = packed.Fixed64();
      std::optional<int64_t> time = packed.Time();
      if (!hash || !time) Fail(where + " seen", "packed ids cut short");
      c.seen.push_back(SeenMessage{*hash, *time});
    }
  } else if (taken) {  // as older snapshots wrote it: [hash, time, ...]
    const json& items = List(*taken, where + " seen");
    if (items.size() % 2 != 0) Fail(where + " seen", "expected hash and time pairs");
    for (size_t i = 0; i < items.size(); i += 2) {
      c.seen.push_back(SeenMessage{Uint(items[i], where + " seen"), Int(items[i + 1], where + " seen")});
    }
  }
  if (const json* seen = Optional(c_json, "last_seen")) {
    for (auto it = Map(*seen, where).begin(); it != seen->end(); ++it) {
      int64_t t = Int(it.value(), where + " last_seen");
      int e = map_.Event(it.key());
      if (e >= 0 && map_.KeepsLastSeen(static_cast<uint32_t>(e))) c.last_seen[static_cast<uint32_t>(e)] = t;
    }
  }
}

CustomerState Loader::Customer(const json& c_json, const std::string& id,
                               const std::string& where) {
  Map(c_json, where);
  CustomerState c;
  RecordRef<Record> profile = NewProfile(spec_.profile);
  Read(profile_, Member(c_json, "profile", where), JN_PROFILE_PRESENT_OFFSET, profile.get(),
       where + " profile");
  c.profile = std::move(profile);
  static const json kNone = json::array();
  const json* records = Optional(c_json, "records");
  Records(records ? *records : kNone, where);
  if (const json* traits = Optional(c_json, "unknown_traits")) {
    for (const json& t : List(*traits, where)) {
      if (!t.is_array() || t.size() != 2) Fail(where, "unknown trait: expected [name, json]");
      c.unknown_traits.Set(Str(t[0], where), Str(t[1], where), 0);
    }
  }
  if (const json* inst = Optional(c_json, "instances")) Instances(*inst, c, where + " instance");
  if (const json* goals = Optional(c_json, "goals")) Goals(*goals, c, where + " goal");
  if (const json* zone = Optional(c_json, "unknown_zone")) {
    c.unknown_zone_counted = Bool(*zone, where + " unknown_zone");
  }
  if (const json* history = Optional(c_json, "history")) History(*history, c, where + " history");
  Times(c_json, c, where);
  if (const json* timers = Optional(c_json, "timers")) Timers(*timers, &id, where + " timer");
  return c;
}

Decision DecisionOf(const json& d, const std::string& where) {
  auto str = [&](const char* key) { return Str(Member(d, key, where), where + " " + key); };
  Decision out;
  out.id = str("id");
  out.customer = str("customer");
  out.journey = str("journey");
  out.version = str("version");
  out.step = str("step");
  out.channel = str("channel");
  out.template_name = str("template");
  out.params_json = str("params");
  std::optional<Outcome> outcome = ParseOutcome(str("outcome"));
  if (!outcome) Fail(where, "unknown outcome '" + str("outcome") + "'");
  out.outcome = *outcome;
  std::optional<Reason> reason = ParseReason(str("reason"));
  if (!reason) Fail(where, "unknown reason '" + str("reason") + "'");
  out.reason = *reason;
  out.until_us = Int(Member(d, "until", where), where);
  out.cause = str("cause");
  out.at_us = Int(Member(d, "at", where), where);
  if (const json* signal = Optional(d, "signal")) out.signal_us = Int(*signal, where);
  return out;
}

// `customer`: the timers' customer, or nullptr if each names its own.
void Loader::Timers(const json& list, const std::string* customer, const std::string& where) {
  for (const json& t : List(list, where)) {
    std::optional<Timer> timer = TimerOf(t, customer, where);
    if (!timer) continue;
    if (timer->kind == TimerKind::kRelease) releases_[timer->seq] = true;
    timers_.push_back(std::move(*timer));
  }
}

std::optional<Timer> Loader::TimerOf(const json& t_json, const std::string* customer,
                                     const std::string& where) {
  Timer t;
  t.due_us = Int(Member(t_json, "due", where), where);
  t.seq = Uint(Member(t_json, "seq", where), where);
  max_seq_ = std::max(max_seq_, t.seq);
  t.kind = static_cast<TimerKind>(KindIndex(Str(Member(t_json, "kind", where), where), kTimerKinds, 3, where));
  t.customer = customer ? *customer : Str(Member(t_json, "customer", where), where);
  int journey = map_.Journey(Str(Member(t_json, "journey", where), where));
  if (t.kind != TimerKind::kRelease) {
    if (journey < 0) return std::nullopt;  // its instance is gone too
    t.journey = static_cast<uint32_t>(journey);
    return t;
  }
  t.journey = journey < 0 ? 0 : static_cast<uint32_t>(journey);  // unused by releases
  t.release = std::make_unique<DeferredSend>();
  t.release->decision = DecisionOf(Member(t_json, "decision", where), where);
  if (const json* late = Optional(t_json, "late_after")) t.release->late_after_us = Int(*late, where);
  int channel = map_.Channel(Str(Member(t_json, "channel", where), where));
  if (channel < 0) return std::nullopt;  // the channel is gone
  t.release->channel = static_cast<uint32_t>(channel);
  return t;
}

EngineStats StatsOf(const json& s) {
  const std::string where = "stats";
  EngineStats out;
  out.messages = Uint(Member(s, "messages", where), where);
  out.dead_letters = Uint(Member(s, "dead_letters", where), where);
  out.ignored = Uint(Member(s, "ignored", where), where);
  out.decisions = Uint(Member(s, "decisions", where), where);
  out.timers_fired = Uint(Member(s, "timers_fired", where), where);
  out.div_by_zero = Uint(Member(s, "div_by_zero", where), where);
  out.reloads = Uint(Member(s, "reloads", where), where);
  const json& by = Map(Member(s, "by_outcome", where), where);
  for (auto it = by.begin(); it != by.end(); ++it) out.by_outcome[it.key()] = Uint(it.value(), where);
  for (const auto& [name, member] : kLimitCounters) {
    if (const json* v = Optional(s, name)) out.*member = Uint(*v, where);
  }
  return out;
}

void Loader::Run(const json& state, State& out) {
  Map(state, "state");
  const json& position = Member(state, "position", "");
  if (!position.is_binary()) Fail("position", "expected a byte string");
  out.position.assign(position.get_binary().begin(), position.get_binary().end());
  out.now_us = Int(Member(state, "now", ""), "now");
  out.next_seq = Uint(Member(state, "next_seq", ""), "next_seq");
  out.stats = StatsOf(Member(state, "stats", ""));
  Layouts(Member(state, "layouts", ""));
  const json& customers = Map(Member(state, "customers", ""), "customers");
  out.customers.reserve(customers.size());
  for (auto it = customers.begin(); it != customers.end(); ++it) {
    std::string where = "customer '" + it.key() + "'";
    if (!it.value().is_binary()) Fail(where, "expected a byte string");
    const std::vector<uint8_t>& bytes = it.value().get_binary();
    json customer;
    std::string error;
    if (!ParseCbor(bytes.data(), bytes.size(), customer, error)) Fail(where, error);
    out.customers.emplace(it.key(), Customer(customer, it.key(), where));
  }
  Timers(Member(state, "timers", ""), nullptr, "timer");
  for (const json& seq : List(Member(state, "cancelled", ""), "cancelled")) {
    uint64_t s = Uint(seq, "cancelled");
    if (releases_.count(s)) out.cancelled[s] = true;  // only for timers still pending
  }
  out.timers = std::move(timers_);
  // Never hand out a sequence number in use (only a hand-made snapshot needs this).
  if (max_seq_ != std::numeric_limits<uint64_t>::max()) out.next_seq = std::max(out.next_seq, max_seq_ + 1);
}

}  // namespace

Status Decode(std::string_view bytes, const StateMap& map, State& out) {
  std::string error;
  try {
    json envelope;
    const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
    if (!ParseCbor(data, bytes.size(), envelope, error)) {
      return CorruptionError("not a Juncture engine snapshot (" + error + ")");
    }
    auto kind = envelope.is_object() ? envelope.find("kind") : envelope.end();
    if (!envelope.is_object() || kind == envelope.end() || *kind != kKind) {
      return CorruptionError(std::string("not a Juncture engine snapshot (no kind \"") + kKind +
                             "\")");
    }
    int64_t version = Int(Member(envelope, "version", "envelope"), "version");
    if (version != kVersion) {
      return FailedPreconditionError("snapshot format version " + std::to_string(version) +
                                     " is not supported (this engine reads version " +
                                     std::to_string(kVersion) + ")");
    }
    const json& body = Member(envelope, "state", "envelope");
    uint64_t checksum = Uint(Member(envelope, "xxh3", "envelope"), "xxh3");
    if (!body.is_binary()) Fail("envelope", "state is not a byte string");
    const std::vector<uint8_t>& state_bytes = body.get_binary();
    if (XXH3_64bits(state_bytes.data(), state_bytes.size()) != checksum) {
      return CorruptionError("corrupt snapshot: checksum mismatch");
    }
    json state;
    if (!ParseCbor(state_bytes.data(), state_bytes.size(), state, error)) {
      return CorruptionError("corrupt snapshot: state: " + error);
    }
    Loader(map).Run(state, out);
    return OkStatus();
  } catch (const Corrupt& c) {
    return CorruptionError("corrupt snapshot: " + c.what);
  } catch (const std::exception& e) {  // std::bad_alloc, a json::exception missed above
    return InternalError(std::string("cannot load snapshot: ") + e.what());
  }
}

// ---- Pieces ----------------------------------------------------------------------------

struct PieceLoader::Impl {
  explicit Impl(const ProgramSpec& spec) : map(spec), loader(map) {}
  StateMap map;
  Loader loader;
  bool has_layouts = false;
};

PieceLoader::PieceLoader(const ProgramSpec& spec) : impl_(std::make_unique<Impl>(spec)) {}
PieceLoader::~PieceLoader() = default;

std::unique_ptr<PieceLoader> PieceLoader::ForOwnLayouts(const ProgramSpec& spec) {
  auto loader = std::make_unique<PieceLoader>(spec);
  // Our own encoding of our own layouts: reading it fails only by a bug, and then
  // every piece read fails and is counted unreadable (EngineStats).
  Status read = loader->Layouts(EncodeLayoutsPiece(spec));
  static_cast<void>(read);
  return loader;
}

namespace {

// Runs `read` on the piece's CBOR; a corruption error if either fails.
template <typename Read>
Status ReadPiece(std::string_view bytes, const char* what, Read read) {
  try {
    json piece;
    std::string error;
    if (!ParseCbor(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), piece, error)) {
      return CorruptionError(std::string("corrupt ") + what + ": " + error);
    }
    read(piece);
    return OkStatus();
  } catch (const Corrupt& c) {
    return CorruptionError(std::string("corrupt ") + what + ": " + c.what);
  } catch (const std::exception& e) {
    return InternalError(std::string("cannot load ") + what + ": " + e.what());
  }
}

}  // namespace

Status PieceLoader::Layouts(std::string_view bytes) {
  return ReadPiece(bytes, "layouts", [&](const json& l) {
    impl_->loader.PieceLayouts(l);
    impl_->has_layouts = true;
  });
}

Status PieceLoader::Globals(std::string_view bytes, int64_t& now_us, uint64_t& next_seq,
                            EngineStats& stats) {
  return ReadPiece(bytes, "engine values", [&](const json& g) {
    now_us = Int(Member(g, "now", "engine values"), "now");
    next_seq = Uint(Member(g, "next_seq", "engine values"), "next_seq");
    stats = StatsOf(Member(g, "stats", "engine values"));
  });
}

Status PieceLoader::Customer(const std::string& id, std::string_view bytes, CustomerState& out) {
  if (!impl_->has_layouts) {
    return InvalidArgumentError("customer '" + id + "' comes before the layouts");
  }
  if (!pieces::IsForm2(bytes)) {
    return ReadPiece(bytes, "customer",
                     [&](const json& c) { out = impl_->loader.PieceCustomer(c, id); });
  }
  pieces::PieceView piece;  // the second form: a core, then streams
  if (!pieces::Parse(bytes, piece)) {
    return CorruptionError("corrupt customer: customer '" + id + "': not a well-formed piece");
  }
  return ReadPiece(piece.core, "customer", [&](const json& c) {
    out = impl_->loader.PieceCustomer(c, id);
    impl_->loader.PieceStreams(piece, out, id);
  });
}

Status PieceLoader::TimerPiece(std::string_view bytes, std::optional<Timer>& out) {
  if (!impl_->has_layouts) return InvalidArgumentError("a timer comes before the layouts");
  return ReadPiece(bytes, "timer", [&](const json& t) { out = impl_->loader.PieceTimer(t); });
}

uint64_t PieceLoader::max_seq() const { return impl_->loader.max_seq(); }

}  // namespace juncture::runtime::snapshot
