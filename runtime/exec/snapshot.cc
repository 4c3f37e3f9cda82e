// Engine snapshots, writing side, and the public Engine::SaveSnapshot/LoadSnapshot.
//
// The state map (format version 1). Everything is keyed by name; records are stored
// as values in the order of a layout table that names and types each field, never
// as bytes (their strings are pointers). Optional maps and lists are left out when
// empty. Each customer is encoded on its own, with its records and timers, into a
// byte string of its own: writing and reading hold one customer's DOM at a time, not
// one for the whole state. The envelope and the state's outer map are framed here by
// hand; everything else is nlohmann's to_cbor.
//
//   position   bytes              the caller's opaque position
//   now        int                Engine::now()
//   next_seq   uint               the next timer's sequence number
//   stats      {messages, dead_letters, ignored, decisions, timers_fired,
//               div_by_zero, reloads: uint, by_outcome: {outcome: uint}, and the
//               limit counters (kLimitCounters: rejected_skew, ...: uint) when not 0}
//   layouts    {profile: layout, events: {event name: layout}}
//   customers  {id: bytes}        the CBOR of each customer map
//   timers     [timer]            timers of no known customer (none in practice)
//   cancelled  [uint]             release timers taken back by arbitration
//
//   layout     [[field name, type, elem]]   JN_* type codes (elem: lists only)
//   values     [value]            one per layout field: null if absent (or a nested
//              list, not stored); bool, int (int/time/duration µs), float, string,
//              or an array of those for a list
//   record     [event name, time: int, id: string, customer: string, values]
//   customer   {profile: values, records: [record] (its event records, shared by
//               index between instances and history), unknown_traits: [[name, json text]],
//               instances: {journey: {step: id, kind: step kind, event: record index
//                           or -1, cause: string, timer: uint, signal: int (if not 0),
//                           held_out: true (if so)}},
//               goals: {journey: {entered: int, held_out: true (if so)}},
//               unknown_zone: true (if its profile.timezone was counted unknown),
//               last_entry: {journey: int}, sent_at: {channel: [int]} (present iff
//               the customer's cap log exists), history: {event: [[int, record index]]},
//               last_seen: {event: int}, timers: [timer] (in firing order)}
//   timer      {due: int, seq: uint, kind: "resume"|"timeout"|"release",
//               journey: name, customer: string (top-level timers only),
//               release only: channel: name, late_after: int (if a deadline),
//               decision: {id, customer, journey,
//               version, step, channel, template, params, outcome, reason, until,
//               cause, at, signal: int (if not 0)}}
// Keys marked "if" came after the format's first release: absent, they read as 0 or
// false, so older snapshots load.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <xxhash.h>

#include "exec/snapshot.h"
#include "juncture/runtime/record.h"

namespace juncture::runtime {
namespace snapshot {
namespace {

using nlohmann::json;

json EncodeElement(const uint8_t* p, uint8_t elem) {
  RecordView r(p);
  switch (elem) {
    case JN_BOOL: return r.GetBool(0);
    case JN_FLOAT: return r.GetFloat(0);
    case JN_STRING: return std::string(r.GetString(0));
    default: return r.GetInt(0);
  }
}

json EncodeValue(const JnValue& v) {
  switch (v.type) {
    case JN_BOOL: return v.b != 0;
    case JN_FLOAT: return v.f;
    case JN_STRING: return std::string(v.s.data ? v.s.data : "", v.s.data ? v.s.len : 0);
    case JN_LIST: {
      uint32_t size = ElemSize(v.elem);
      if (size == 0 || v.l.elem_size != size) return nullptr;  // nested lists: not stored
      json out = json::array();
      const auto* p = static_cast<const uint8_t*>(v.l.data);
      for (uint32_t i = 0; i < v.l.len && p != nullptr; ++i) {
        out.push_back(EncodeElement(p + size_t{i} * size, v.elem));
      }
      return out;
    }
    default: return v.i;  // int, time, duration
  }
}

// The record's field values in layout order, null for absent ones
// (`present_offset`: where its presence word is).
json EncodeValues(const RecordSpec& spec, const Record& r, uint32_t present_offset) {
  json out = json::array();
  RecordView view(r.data());
  for (const FieldSpec& f : spec.fields) {
    bool present = f.presence_bit < 0 || view.IsPresent(present_offset, f.presence_bit);
    out.push_back(present ? EncodeValue(r.GetField(f)) : json(nullptr));
  }
  return out;
}

json EncodeLayout(const RecordSpec& spec) {
  json out = json::array();
  for (const FieldSpec& f : spec.fields) out.push_back({f.name, f.type, f.elem});
  return out;
}

json EncodeLayouts(const ProgramSpec& spec) {
  json events = json::object();
  for (const RecordSpec& e : spec.events) events[e.name] = EncodeLayout(e);
  return {{"profile", EncodeLayout(spec.profile)}, {"events", std::move(events)}};
}

json EncodeStats(const EngineStats& s) {
  json out = {{"messages", s.messages},         {"dead_letters", s.dead_letters},
              {"ignored", s.ignored},           {"decisions", s.decisions},
              {"timers_fired", s.timers_fired}, {"div_by_zero", s.div_by_zero},
              {"reloads", s.reloads},           {"by_outcome", json::object()}};
  for (const auto& [outcome, n] : s.by_outcome) out["by_outcome"][outcome] = n;
  // The limit counters, added later: written when not zero, read when present (a
  // snapshot from before them loads with zeros; an older engine ignores them).
  for (const auto& [name, member] : kLimitCounters) {
    if (s.*member != 0) out[name] = s.*member;
  }
  return out;
}

json EncodeDecision(const Decision& d) {
  json out = {{"id", d.id},         {"customer", d.customer},
              {"journey", d.journey}, {"version", d.version},
              {"step", d.step},     {"channel", d.channel},
              {"template", d.template_name}, {"params", d.params_json},
              {"outcome", d.outcome}, {"reason", d.reason},
              {"until", d.until_us}, {"cause", d.cause},
              {"at", d.at_us}};
  if (d.signal_us != 0) out["signal"] = d.signal_us;
  return out;
}

class Encoder {
 public:
  explicit Encoder(const ProgramSpec& spec) : spec_(spec) {}

  // `timers`: the customer's, in firing order.
  json Customer(const CustomerState& c, const std::vector<const runtime::Timer*>& timers);
  json Timer(const runtime::Timer& t) const;

 private:
  int64_t RecordIndex(const RecordPtr& r);
  json Instances(const CustomerState& c);
  json Goals(const CustomerState& c) const;
  json History(const CustomerState& c);
  void Times(const CustomerState& c, json& out) const;

  const ProgramSpec& spec_;
  json records_;  // the current customer's
  std::unordered_map<const Record*, int64_t> index_;
};

// The record's index in `records`, added on first use; -1 for none.
int64_t Encoder::RecordIndex(const RecordPtr& r) {
  if (!r || r->size() < JN_EVENT_FIELDS_OFFSET) return -1;
  auto [it, added] = index_.emplace(r.get(), static_cast<int64_t>(records_.size()));
  if (!added) return it->second;
  const JnEventHeader& h = RecordView(r->data()).header();
  if (h.type_id >= spec_.events.size()) {
    index_.erase(it);
    return -1;
  }
  records_.push_back({spec_.events[h.type_id].name, h.time_us,
                      std::string(h.id.data, h.id.len),
                      std::string(h.customer.data, h.customer.len),
                      EncodeValues(spec_.events[h.type_id], *r, JN_EVENT_PRESENT_OFFSET)});
  return it->second;
}

json Encoder::Instances(const CustomerState& c) {
  json out = json::object();
  for (const auto& [j, inst] : c.instances) {
    const JourneySpec& journey = spec_.journeys[j];
    const StepSpec& step = journey.steps[inst.step];
    json& o = out[journey.name] = {{"step", step.id},
                                   {"kind", kStepKinds[static_cast<int>(step.kind)]},
                                   {"event", RecordIndex(inst.event)},
                                   {"cause", inst.cause},
                                   {"timer", inst.timer}};
    if (inst.signal_us != 0) o["signal"] = inst.signal_us;
    if (inst.held_out) o["held_out"] = true;
  }
  return out;
}

json Encoder::Goals(const CustomerState& c) const {
  json out = json::object();
  for (const auto& [j, goal] : c.goals) {
    json& o = out[spec_.journeys[j].name] = {{"entered", goal.entered_us}};
    if (goal.held_out) o["held_out"] = true;
  }
  return out;
}

json Encoder::History(const CustomerState& c) {
  json out = json::object();
  for (const auto& [e, entries] : c.history) {
    if (e >= spec_.events.size() || entries.empty()) continue;
    json list = json::array();
    for (const auto& [time, record] : entries) list.push_back({time, RecordIndex(record)});
    out[spec_.events[e].name] = std::move(list);
  }
  return out;
}

// last_entry, sent_at and last_seen, by journey, channel and event name.
void Encoder::Times(const CustomerState& c, json& out) const {
  if (!c.last_entry.empty()) {
    json& last = out["last_entry"] = json::object();
    for (const auto& [j, t] : c.last_entry) last[spec_.journeys[j].name] = t;
  }
  if (!c.sent_at.empty()) {
    json& sent = out["sent_at"] = json::object();
    for (size_t k = 0; k < c.sent_at.size() && k < spec_.channels.size(); ++k) {
      if (!c.sent_at[k].empty()) sent[spec_.channels[k].name] = c.sent_at[k];
    }
  }
  if (!c.last_seen.empty()) {
    json& seen = out["last_seen"] = json::object();
    for (const auto& [e, t] : c.last_seen) {
      if (e < spec_.events.size()) seen[spec_.events[e].name] = t;
    }
  }
}

json Encoder::Customer(const CustomerState& c, const std::vector<const runtime::Timer*>& timers) {
  records_ = json::array();
  index_.clear();
  json out = {{"profile", EncodeValues(spec_.profile, *c.profile, JN_PROFILE_PRESENT_OFFSET)}};
  if (!c.unknown_traits.empty()) {
    json traits = json::array();
    for (const auto& [name, text] : c.unknown_traits) traits.push_back({name, text});
    out["unknown_traits"] = std::move(traits);
  }
  if (!c.instances.empty()) out["instances"] = Instances(c);
  if (!c.goals.empty()) out["goals"] = Goals(c);
  if (c.unknown_zone_counted) out["unknown_zone"] = true;
  if (!c.history.empty()) out["history"] = History(c);
  Times(c, out);
  if (!records_.empty()) out["records"] = std::move(records_);
  if (!timers.empty()) {
    json& list = out["timers"] = json::array();
    for (const runtime::Timer* t : timers) list.push_back(Timer(*t));
  }
  return out;
}

json Encoder::Timer(const runtime::Timer& t) const {
  json out = {{"due", t.due_us},
              {"seq", t.seq},
              {"kind", kTimerKinds[static_cast<int>(t.kind)]},
              {"journey", t.journey < spec_.journeys.size() ? spec_.journeys[t.journey].name : ""}};
  if (t.kind == TimerKind::kRelease) {
    out["channel"] = t.channel < spec_.channels.size() ? spec_.channels[t.channel].name : "";
    if (t.late_after_us != kNoDeadline) out["late_after"] = t.late_after_us;
    out["decision"] = t.deferred ? EncodeDecision(*t.deferred) : EncodeDecision(Decision{});
  }
  return out;
}

// ---- CBOR framing ------------------------------------------------------------------

// A CBOR head: major type and argument, in the shortest form (as nlohmann writes).
void Head(uint8_t major, uint64_t n, std::string& out) {
  const auto m = static_cast<uint8_t>(major << 5);
  if (n < 24) {
    out += static_cast<char>(m | n);
    return;
  }
  int bytes = n <= 0xff ? 1 : n <= 0xffff ? 2 : n <= 0xffffffff ? 4 : 8;
  uint8_t info = bytes == 1 ? 24 : bytes == 2 ? 25 : bytes == 4 ? 26 : 27;
  out += static_cast<char>(m | info);
  for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((n >> (8 * i)) & 0xff);
}
constexpr uint8_t kUint = 0, kBytes = 2, kText = 3, kMap = 5;

void Text(std::string_view s, std::string& out) {
  Head(kText, s.size(), out);
  out += s;
}

// `key` and then `value`, as one entry of a map being written.
void Entry(std::string_view key, const json& value, std::string& out) {
  Text(key, out);
  json::to_cbor(value, out);  // appends
}

// The envelope around the state's CBOR bytes.
std::string Seal(const std::string& state) {
  std::string out;
  out.reserve(state.size() + 64);
  Head(kMap, 4, out);
  Text("kind", out);
  Text(kKind, out);
  Text("version", out);
  Head(kUint, kVersion, out);
  Text("xxh3", out);
  Head(kUint, XXH3_64bits(state.data(), state.size()), out);
  Text("state", out);
  Head(kBytes, state.size(), out);
  out += state;
  return out;
}

}  // namespace

std::string Encode(const ProgramSpec& spec, const View& view) {
  using CustomerEntry = std::pair<const std::string, CustomerState>;
  std::vector<const CustomerEntry*> customers;
  customers.reserve(view.customers->size());
  for (const CustomerEntry& entry : *view.customers) customers.push_back(&entry);
  std::sort(customers.begin(), customers.end(),
            [](const CustomerEntry* a, const CustomerEntry* b) { return a->first < b->first; });
  std::unordered_map<std::string_view, std::vector<const Timer*>> timers;  // by customer
  std::vector<const Timer*> orphans;
  for (const Timer* t : view.timers) {
    (view.customers->count(t->customer) ? timers[t->customer] : orphans).push_back(t);
  }
  std::vector<uint64_t> cancelled;
  for (const auto& [seq, yes] : *view.cancelled) {
    if (yes) cancelled.push_back(seq);
  }
  std::sort(cancelled.begin(), cancelled.end());

  Encoder encoder(spec);
  std::string state, customer;
  Head(kMap, 8, state);  // the entries below
  Entry("position", json::binary(std::vector<uint8_t>(view.position.begin(), view.position.end())), state);
  Entry("now", view.now_us, state);
  Entry("next_seq", view.next_seq, state);
  Entry("stats", EncodeStats(*view.stats), state);
  Entry("layouts", EncodeLayouts(spec), state);
  Text("customers", state);
  Head(kMap, customers.size(), state);
  static const std::vector<const Timer*> kNoTimers;
  for (const CustomerEntry* c : customers) {
    auto own = timers.find(c->first);
    customer.clear();
    json::to_cbor(encoder.Customer(c->second, own == timers.end() ? kNoTimers : own->second), customer);
    Text(c->first, state);
    Head(kBytes, customer.size(), state);
    state += customer;
  }
  json lost = json::array();
  for (const Timer* t : orphans) {
    lost.push_back(encoder.Timer(*t));
    lost.back()["customer"] = t->customer;
  }
  Entry("timers", lost, state);
  Entry("cancelled", cancelled, state);
  return Seal(state);
}

std::string EncodeCustomerPiece(const ProgramSpec& spec, const CustomerState& c) {
  static const std::vector<const runtime::Timer*> kNoTimers;
  Encoder encoder(spec);
  std::string out;
  json::to_cbor(encoder.Customer(c, kNoTimers), out);
  return out;
}

std::string EncodeTimerPiece(const ProgramSpec& spec, const Timer& t) {
  json value = Encoder(spec).Timer(t);
  value["customer"] = t.customer;
  std::string out;
  json::to_cbor(value, out);
  return out;
}

std::string EncodeGlobalsPiece(int64_t now_us, uint64_t next_seq, const EngineStats& stats) {
  std::string out;
  json::to_cbor({{"now", now_us}, {"next_seq", next_seq}, {"stats", EncodeStats(stats)}}, out);
  return out;
}

std::string EncodeLayoutsPiece(const ProgramSpec& spec) {
  std::string out;
  json::to_cbor(EncodeLayouts(spec), out);
  return out;
}

}  // namespace snapshot

// ---- Engine: the public face -------------------------------------------------------

std::string Engine::SaveSnapshot(std::string_view position) const {
  snapshot::View view;
  view.position = position;
  view.now_us = impl_->now_us_;
  view.next_seq = impl_->next_seq_;
  view.stats = &impl_->stats_;
  view.customers = &impl_->customers_;
  view.cancelled = &impl_->cancelled_;
  for (const Timer& t : impl_->timers_.elements()) view.timers.push_back(&t);
  std::sort(view.timers.begin(), view.timers.end(),
            [](const Timer* a, const Timer* b) { return *b > *a; });  // firing order
  return snapshot::Encode(*impl_->spec_, view);
}

bool Engine::LoadSnapshot(std::string_view bytes, std::string* position, std::string* error) {
  snapshot::State state;
  std::string message;
  if (!snapshot::Decode(bytes, StateMap(*impl_->spec_), state, message)) {
    if (error != nullptr) *error = std::move(message);
    return false;
  }
  Impl& e = *impl_;
  e.now_us_ = state.now_us;
  e.next_seq_ = state.next_seq;
  e.stats_ = std::move(state.stats);
  e.customers_ = std::move(state.customers);
  e.timers_ = decltype(e.timers_)(std::greater<Timer>(), std::move(state.timers));
  e.cancelled_ = std::move(state.cancelled);
  e.Recount();  // the counts behind the limits are not stored
  e.changed_.clear();  // they are gone; the whole state is written again
  e.MarkRewrite();
  if (position != nullptr) *position = std::move(state.position);
  if (error != nullptr) error->clear();
  return true;
}

}  // namespace juncture::runtime
