// Engine snapshots, writing side, and the public Engine::SaveSnapshot/LoadSnapshot.
//
// The state map (format version 1). Everything is keyed by name; records are stored
// as values in the order of a layout table that names and types each field, never
// as bytes (their strings are pointers). Optional maps and lists are left out when
// empty. Each customer is encoded on its own, with its records and timers, into a
// byte string of its own: reading holds one customer's document at a time, not one
// for the whole state. Customers and timers are written straight as CBOR
// (cbor_writer.h: they are written on every commit of the state store), and so are
// the engine-wide values and the envelope; the layouts with nlohmann's to_cbor.
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
//               the customer's cap log exists), history: {event: times},
//               last_seen: {event: int}, timers: [timer] (in firing order),
//               seen: bytes (if any: the messages taken within the deduplication
//               window, oldest first: for each, the id's hash as 8 bytes, little
//               endian, then its time as in `times`)}
//   times      bytes: the events of the type, oldest first, each as its time (the
//              difference from the previous event's, the first's from 0, zigzag-coded
//              as a LEB128 varint: packed_times.h) then a varint, its record index
//              plus 1 (0: its time only, for the type's windows only counted it).
//              Older snapshots wrote [[time, record index]] for history and
//              [hash, time, ...] for seen; both still load.
//   timer      {due: int, seq: uint, kind: "resume"|"timeout"|"release",
//               journey: name, customer: string (top-level timers only),
//               release only: channel: name, late_after: int (if a deadline),
//               decision: {id, customer, journey,
//               version, step, channel, template, params, outcome, reason, until,
//               cause, at, signal: int (if not 0)}}
// Keys marked "if" came after the format's first release: absent, they read as 0 or
// false, so older snapshots load.
#include <nlohmann/json.hpp>
#include <xxhash.h>

#include <algorithm>
#include <tuple>

#include "exec/cbor_writer.h"
#include "exec/packed_times.h"
#include "exec/snapshot.h"
#include "juncture/runtime/pieces.h"
#include "juncture/runtime/record.h"

namespace juncture::runtime {
namespace snapshot {
namespace {

using nlohmann::json;

void EncodeElement(const uint8_t* p, uint8_t elem, CborWriter& w) {
  RecordView r(p);
  switch (elem) {
    case JN_BOOL: w.Bool(r.GetBool(0)); break;
    case JN_FLOAT: w.Double(r.GetFloat(0)); break;
    case JN_STRING: w.Text(r.GetString(0)); break;
    default: w.Int(r.GetInt(0)); break;
  }
}

void EncodeValue(const JnValue& v, CborWriter& w) {
  switch (v.type) {
    case JN_BOOL: w.Bool(v.b != 0); break;
    case JN_FLOAT: w.Double(v.f); break;
    case JN_STRING: w.Text(v.s.data ? std::string_view(v.s.data, v.s.len) : std::string_view()); break;
    case JN_LIST: {
      uint32_t size = ElemSize(v.elem);
      const auto* p = static_cast<const uint8_t*>(v.l.data);
      if (size == 0 || v.l.elem_size != size) {  // nested lists: not stored
        w.Null();
        break;
      }
      uint32_t n = p != nullptr ? v.l.len : 0;
      w.Array(n);
      for (uint32_t i = 0; i < n; ++i) EncodeElement(p + size_t{i} * size, v.elem, w);
      break;
    }
    default: w.Int(v.i); break;  // int, time, duration
  }
}

// The record's field values in layout order, null for absent ones
// (`present_offset`: where its presence word is).
void EncodeValues(const RecordSpec& spec, const Record& r, uint32_t present_offset, CborWriter& w) {
  RecordView view(r.data());
  w.Array(spec.fields.size());
  for (const FieldSpec& f : spec.fields) {
    bool present = f.presence_bit < 0 || view.IsPresent(present_offset, f.presence_bit);
    if (present) {
      EncodeValue(r.GetField(f), w);
    } else {
      w.Null();
    }
  }
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

void EncodeStats(const EngineStats& s, CborWriter& w) {
  const std::pair<const char*, uint64_t> counters[] = {
      {"messages", s.messages},         {"dead_letters", s.dead_letters},
      {"ignored", s.ignored},           {"decisions", s.decisions},
      {"timers_fired", s.timers_fired}, {"div_by_zero", s.div_by_zero},
      {"reloads", s.reloads}};
  // The limit counters, added later: written when not zero, read when present (a
  // snapshot from before them loads with zeros; an older engine ignores them).
  size_t limits = 0;
  for (const auto& [name, member] : kLimitCounters) limits += s.*member != 0;
  w.Map(std::size(counters) + 1 + limits);
  for (const auto& [name, n] : counters) {
    w.Text(name);
    w.Uint(n);
  }
  w.Text("by_outcome");
  w.Map(s.by_outcome.size());
  for (const auto& [outcome, n] : s.by_outcome) {
    w.Text(outcome);
    w.Uint(n);
  }
  for (const auto& [name, member] : kLimitCounters) {
    if (s.*member == 0) continue;
    w.Text(name);
    w.Uint(s.*member);
  }
}

void EncodeDecision(const Decision& d, CborWriter& w) {
  w.Map(13 + (d.signal_us != 0 ? 1 : 0));
  w.Entry("id", d.id);
  w.Entry("customer", d.customer);
  w.Entry("journey", d.journey);
  w.Entry("version", d.version);
  w.Entry("step", d.step);
  w.Entry("channel", d.channel);
  w.Entry("template", d.template_name);
  w.Entry("params", d.params_json);
  w.Entry("outcome", ToString(d.outcome));
  w.Entry("reason", ToString(d.reason));
  w.Text("until");
  w.Int(d.until_us);
  w.Entry("cause", d.cause);
  w.Text("at");
  w.Int(d.at_us);
  if (d.signal_us != 0) {
    w.Text("signal");
    w.Int(d.signal_us);
  }
}

// Writes customers and timers as CBOR straight into a string (no document in
// between: this runs on every commit of the state store).
class Encoder {
 public:
  explicit Encoder(const ProgramSpec& spec) : spec_(spec), needs_(spec) {}

  // `timers`: the customer's, in firing order. With `core_only`, leaves out what a
  // piece of the second form holds as streams: the ids taken, the histories.
  void Customer(const CustomerState& c, const std::vector<const runtime::Timer*>& timers,
                std::string& out, bool core_only = false);
  // A piece of the second form (pieces.h): the customer's streams whole (`delta`
  // false) or their entries since its counters were last cleared.
  void Form2(const CustomerState& c, bool delta, std::string& out);
  // With `customer`: the timer names its customer (a piece, or a top-level timer).
  void Timer(const runtime::Timer& t, bool customer, CborWriter& w) const;

 private:
  // Numbers the records the customer's instances and history refer to (first use
  // first); -1 for none.
  void IndexRecords(const CustomerState& c);
  int64_t Index(const RecordPtr& r);
  void Record(const runtime::Record& r, CborWriter& w) const;
  void Instances(const CustomerState& c, CborWriter& w);
  void Goals(const CustomerState& c, CborWriter& w) const;
  void History(const CustomerState& c, CborWriter& w);
  bool Known(const RecordPtr& r) const;
  // How the second form streams a history: its times only when its type's windows
  // only count, else its events too.
  pieces::StreamKind HistoryKind(uint32_t e) const {
    return needs_.history_fields[e] ? pieces::StreamKind::kRecords : pieces::StreamKind::kTimes;
  }

  const ProgramSpec& spec_;
  WindowNeeds needs_;
  bool core_only_ = false;  // the current Customer call's
  std::string core_;  // Form2's core
  pieces::StreamEntries stream_;  // Form2's current stream
  std::string record_;  // Form2's current record
  // Form2's histories, in the order of their streams: (kind, name).
  std::vector<std::tuple<pieces::StreamKind, std::string_view, const EventHistory*>> streamed_;
  std::vector<const runtime::Record*> records_;  // the current customer's, by index
  // (record, index) sorted by record: Index's lookup. Vectors, not a hash map, so that
  // an encoder used for one customer after another allocates nothing once warm.
  std::vector<std::pair<const runtime::Record*, int64_t>> index_;
  std::vector<std::pair<int64_t, size_t>> first_use_;  // IndexRecords' scratch
  std::string packed_;  // the packed history of one event type, or the ids taken
};

bool Encoder::Known(const RecordPtr& r) const {
  return r && r->size() >= JN_EVENT_FIELDS_OFFSET &&
         RecordView(r->data()).header().type_id < spec_.events.size();
}

int64_t Encoder::Index(const RecordPtr& r) {
  if (!Known(r)) return -1;
  auto it = std::lower_bound(index_.begin(), index_.end(), r.get(),
                             [](const auto& e, const runtime::Record* p) { return e.first < p; });
  // IndexRecords numbered every record the encoding refers to.
  return it != index_.end() && it->first == r.get() ? it->second : -1;
}

void Encoder::IndexRecords(const CustomerState& c) {
  // Every use, in the order written (journey order, then history), as (record, use).
  records_.clear();
  index_.clear();
  auto use = [&](const RecordPtr& r) {
    if (Known(r)) index_.emplace_back(r.get(), static_cast<int64_t>(index_.size()));
  };
  for (const auto& [j, inst] : c.instances) use(inst.event);
  for (const auto& [e, entries] : c.history) {
    if (e >= spec_.events.size() || core_only_) continue;
    for (const auto& entry : entries) use(entry.second);
  }
  // One entry per record, its first use; then numbered in the order of first use.
  std::sort(index_.begin(), index_.end());
  index_.erase(std::unique(index_.begin(), index_.end(),
                           [](const auto& a, const auto& b) { return a.first == b.first; }),
               index_.end());
  first_use_.clear();
  for (size_t k = 0; k < index_.size(); ++k) first_use_.emplace_back(index_[k].second, k);
  std::sort(first_use_.begin(), first_use_.end());
  for (const auto& [first, k] : first_use_) {
    index_[k].second = static_cast<int64_t>(records_.size());
    records_.push_back(index_[k].first);
  }
}

void Encoder::Record(const runtime::Record& r, CborWriter& w) const {
  const JnEventHeader& h = RecordView(r.data()).header();
  const RecordSpec& spec = spec_.events[h.type_id];
  w.Array(5);
  w.Text(spec.name);
  w.Int(h.time_us);
  w.Text(std::string_view(h.id.data, h.id.len));
  w.Text(std::string_view(h.customer.data, h.customer.len));
  EncodeValues(spec, r, JN_EVENT_PRESENT_OFFSET, w);
}

void Encoder::Instances(const CustomerState& c, CborWriter& w) {
  w.Map(c.instances.size());
  for (const auto& [j, inst] : c.instances) {
    const JourneySpec& journey = spec_.journeys[j];
    const StepSpec& step = journey.steps[inst.step];
    w.Text(journey.name);
    w.Map(5 + (inst.signal_us != 0 ? 1 : 0) + (inst.held_out ? 1 : 0));
    w.Entry("step", step.id);
    w.Entry("kind", kStepKinds[static_cast<int>(step.kind)]);
    w.Text("event");
    w.Int(Index(inst.event));
    w.Entry("cause", inst.cause());
    w.Text("timer");
    w.Uint(inst.timer);
    if (inst.signal_us != 0) {
      w.Text("signal");
      w.Int(inst.signal_us);
    }
    if (inst.held_out) {
      w.Text("held_out");
      w.Bool(true);
    }
  }
}

void Encoder::Goals(const CustomerState& c, CborWriter& w) const {
  w.Map(c.goals.size());
  for (const auto& [j, goal] : c.goals) {
    w.Text(spec_.journeys[j].name);
    w.Map(goal.held_out ? 2 : 1);
    w.Text("entered");
    w.Int(goal.entered_us);
    if (goal.held_out) {
      w.Text("held_out");
      w.Bool(true);
    }
  }
}

void Encoder::History(const CustomerState& c, CborWriter& w) {
  auto written = [&](uint32_t e, const EventHistory& entries) {
    return e < spec_.events.size() && !entries.empty() && !core_only_;
  };
  size_t n = 0;
  for (const auto& [e, entries] : c.history) n += written(e, entries);
  w.Map(n);
  for (const auto& [e, entries] : c.history) {
    if (!written(e, entries)) continue;
    w.Text(spec_.events[e].name);
    packed_.clear();
    TimeWriter packed(packed_);
    for (const auto& [time, record] : entries) {
      packed.Time(time);
      packed.Varint(static_cast<uint64_t>(Index(record) + 1));
    }
    w.Bytes(packed_);
  }
}

void Encoder::Customer(const CustomerState& c, const std::vector<const runtime::Timer*>& timers,
                       std::string& out, bool core_only) {
  core_only_ = core_only;
  IndexRecords(c);
  size_t sent = 0;
  for (size_t k = 0; k < c.sent_at.size() && k < spec_.channels.size(); ++k) sent += !c.sent_at[k].empty();
  size_t seen = 0;
  for (const auto& [e, t] : c.last_seen) seen += e < spec_.events.size();
  const bool history = !c.history.empty() && !core_only;
  const bool ids = !c.seen.empty() && !core_only;
  const size_t entries = 1 + !c.unknown_traits.empty() + !c.instances.empty() + !c.goals.empty() +
                         c.unknown_zone_counted + history + !c.last_entry.empty() +
                         !c.sent_at.empty() + !c.last_seen.empty() + !records_.empty() +
                         !timers.empty() + ids;
  CborWriter w(out);
  w.Map(entries);
  w.Text("profile");
  EncodeValues(spec_.profile, *c.profile, JN_PROFILE_PRESENT_OFFSET, w);
  if (!c.unknown_traits.empty()) {
    w.Text("unknown_traits");
    w.Array(c.unknown_traits.size());
    c.unknown_traits.ForEach([&](std::string_view name, std::string_view text) {
      w.Array(2);
      w.Text(name);
      w.Text(text);
    });
  }
  if (!c.instances.empty()) {
    w.Text("instances");
    Instances(c, w);
  }
  if (!c.goals.empty()) {
    w.Text("goals");
    Goals(c, w);
  }
  if (c.unknown_zone_counted) {
    w.Text("unknown_zone");
    w.Bool(true);
  }
  if (history) {
    w.Text("history");
    History(c, w);
  }
  if (!c.last_entry.empty()) {
    w.Text("last_entry");
    w.Map(c.last_entry.size());
    for (const auto& [j, t] : c.last_entry) {
      w.Text(spec_.journeys[j].name);
      w.Int(t);
    }
  }
  if (!c.sent_at.empty()) {  // present iff the cap log exists, even when empty
    w.Text("sent_at");
    w.Map(sent);
    for (size_t k = 0; k < c.sent_at.size() && k < spec_.channels.size(); ++k) {
      if (c.sent_at[k].empty()) continue;
      w.Text(spec_.channels[k].name);
      w.Array(c.sent_at[k].size());
      for (int64_t t : c.sent_at[k]) w.Int(t);
    }
  }
  if (!c.last_seen.empty()) {
    w.Text("last_seen");
    w.Map(seen);
    for (const auto& [e, t] : c.last_seen) {
      if (e >= spec_.events.size()) continue;
      w.Text(spec_.events[e].name);
      w.Int(t);
    }
  }
  if (ids) {
    w.Text("seen");
    packed_.clear();
    TimeWriter packed(packed_);
    for (const SeenMessage& m : c.seen) {
      packed.Fixed64(m.id_hash);
      packed.Time(m.at_us);
    }
    w.Bytes(packed_);
  }
  if (!records_.empty()) {
    w.Text("records");
    w.Array(records_.size());
    for (const runtime::Record* r : records_) Record(*r, w);
  }
  if (!timers.empty()) {
    w.Text("timers");
    w.Array(timers.size());
    for (const runtime::Timer* t : timers) Timer(*t, false, w);
  }
}

// How many of a stream's `size` entries are new since the counters were cleared
// (`fresh`; kFreshAll or more: all of them), for a change: the last `n` are written,
// the others kept.
uint64_t Fresh(uint64_t fresh, uint64_t size) { return std::min(fresh, size); }

void Encoder::Form2(const CustomerState& c, bool delta, std::string& out) {
  core_.clear();
  Customer(c, {}, core_, /*core_only=*/true);
  streamed_.clear();
  for (const auto& [e, h] : c.history) {
    if (e < spec_.events.size() && !h.empty()) {
      streamed_.emplace_back(HistoryKind(e), spec_.events[e].name, &h);
    }
  }
  std::sort(streamed_.begin(), streamed_.end());
  pieces::PieceWriter piece(out, core_, streamed_.size() + !c.seen.empty());
  // Streams in (kind, name) order: the ids taken, then the histories.
  if (!c.seen.empty()) {
    const uint64_t n = delta ? Fresh(c.seen_fresh == kSeenFreshAll ? UINT64_MAX : c.seen_fresh,
                                     c.seen.size())
                             : c.seen.size();
    stream_.Clear();
    for (size_t k = c.seen.size() - n; k < c.seen.size(); ++k) stream_.Seen(c.seen[k].at_us, c.seen[k].id_hash);
    piece.Stream(pieces::StreamKind::kSeen, "", c.seen.size() - n, stream_);
  }
  for (const auto& [kind, name, h] : streamed_) {
    const uint64_t n = delta ? Fresh(h->fresh(), h->size()) : h->size();
    stream_.Clear();
    for (auto it = h->end() - static_cast<std::ptrdiff_t>(n); it != h->end(); ++it) {
      if (kind == pieces::StreamKind::kTimes) {
        stream_.Time(it->first);
        continue;
      }
      record_.clear();  // an event the type's history keeps without its record: none
      if (Known(it->second)) {
        CborWriter w(record_);
        Record(*it->second, w);
      }
      stream_.Record(it->first, record_);
    }
    piece.Stream(kind, name, h->size() - n, stream_);
  }
}

void Encoder::Timer(const runtime::Timer& t, bool customer, CborWriter& w) const {
  static const DeferredSend kNone;
  const bool release = t.kind == TimerKind::kRelease;
  const DeferredSend& send = t.release ? *t.release : kNone;
  w.Map(4 + (customer ? 1 : 0) +
        (release ? 2 + (send.late_after_us != kNoDeadline ? 1 : 0) : 0));
  w.Text("due");
  w.Int(t.due_us);
  w.Text("seq");
  w.Uint(t.seq);
  w.Entry("kind", kTimerKinds[static_cast<int>(t.kind)]);
  w.Entry("journey", t.journey < spec_.journeys.size() ? spec_.journeys[t.journey].name : "");
  if (customer) w.Entry("customer", t.customer);
  if (!release) return;
  w.Entry("channel", send.channel < spec_.channels.size() ? spec_.channels[send.channel].name : "");
  if (send.late_after_us != kNoDeadline) {
    w.Text("late_after");
    w.Int(send.late_after_us);
  }
  w.Text("decision");
  EncodeDecision(send.decision, w);
}

// ---- CBOR framing ------------------------------------------------------------------

// `key` and then `value`, as one entry of a map being written.
void Entry(std::string_view key, const json& value, std::string& out) {
  CborWriter(out).Text(key);
  json::to_cbor(value, out);  // appends
}

// The envelope around the state's CBOR bytes.
std::string Seal(const std::string& state) {
  std::string out;
  out.reserve(state.size() + 64);
  CborWriter w(out);
  w.Map(4);
  w.Entry("kind", kKind);
  w.Text("version");
  w.Uint(kVersion);
  w.Text("xxh3");
  w.Uint(XXH3_64bits(state.data(), state.size()));
  w.Text("state");
  w.Bytes(state);
  return out;
}

}  // namespace

std::string Encode(const ProgramSpec& spec, const View& view) {
  // Each customer by id, with its state in memory, or null for a packed one (decoded
  // when its turn comes, one at a time).
  std::vector<std::pair<const std::string*, const CustomerState*>> customers;
  customers.reserve(view.customers->size() + view.packed.size());
  for (const auto& [id, c] : *view.customers) customers.emplace_back(&id, &c);
  for (const std::string& id : view.packed) customers.emplace_back(&id, nullptr);
  std::sort(customers.begin(), customers.end(),
            [](const auto& a, const auto& b) { return *a.first < *b.first; });
  std::unordered_map<std::string_view, std::vector<const Timer*>> timers;  // by customer
  std::vector<const Timer*> orphans;
  for (const Timer* t : view.timers) {
    const bool has_customer =
        view.customers->count(t->customer) || (view.is_packed && view.is_packed(t->customer));
    (has_customer ? timers[t->customer] : orphans).push_back(t);
  }
  std::vector<uint64_t> cancelled;
  for (const auto& [seq, yes] : *view.cancelled) {
    if (yes) cancelled.push_back(seq);
  }
  std::sort(cancelled.begin(), cancelled.end());

  Encoder encoder(spec);
  std::string state, customer;
  CborWriter w(state);
  w.Map(8);  // the entries below
  w.Text("position");
  w.Bytes(view.position);
  w.Text("now");
  w.Int(view.now_us);
  w.Text("next_seq");
  w.Uint(view.next_seq);
  w.Text("stats");
  EncodeStats(*view.stats, w);
  Entry("layouts", EncodeLayouts(spec), state);
  w.Text("customers");
  w.Map(customers.size());
  static const std::vector<const Timer*> kNoTimers;
  CustomerState unpacked;
  for (const auto& [id, state] : customers) {
    const CustomerState* c = state;
    auto own = timers.find(*id);
    // A packed customer is written as it was packed (encoded without timers), its
    // timers added as Encoder::Customer adds them: the last entry of its map, whose
    // head (one byte: it has at most 12 entries) counts one more. The same bytes its
    // decoding would encode again, without the round trip.
    if (c == nullptr && view.piece && view.piece(*id, customer) && !customer.empty() &&
        static_cast<uint8_t>(customer[0]) >= 0xA1 && static_cast<uint8_t>(customer[0]) < 0xB7) {
      if (own != timers.end()) {
        customer[0] = static_cast<char>(static_cast<uint8_t>(customer[0]) + 1);
        CborWriter add(customer);
        add.Text("timers");
        add.Array(own->second.size());
        for (const Timer* t : own->second) encoder.Timer(*t, false, add);
      }
      w.Text(*id);
      w.Bytes(customer);
      continue;
    }
    if (c == nullptr) {
      unpacked = CustomerState();
      // Only a defect makes a piece this engine packed unreadable: the customer is
      // then written as a new one, as it would start.
      if (!view.unpack(*id, unpacked)) {
        unpacked = CustomerState();
        unpacked.profile = MakeDefaultProfile(spec);
      }
      c = &unpacked;
    }
    customer.clear();
    encoder.Customer(*c, own == timers.end() ? kNoTimers : own->second, customer);
    w.Text(*id);
    w.Bytes(customer);
  }
  w.Text("timers");
  w.Array(orphans.size());
  for (const Timer* t : orphans) encoder.Timer(*t, true, w);
  w.Text("cancelled");
  w.Array(cancelled.size());
  for (uint64_t seq : cancelled) w.Uint(seq);
  return Seal(state);
}

struct PieceEncoder::Impl {
  explicit Impl(const ProgramSpec& spec) : encoder(spec) {}
  Encoder encoder;
  std::string scratch;
};

PieceEncoder::PieceEncoder(const ProgramSpec& spec) : impl_(std::make_unique<Impl>(spec)) {}
PieceEncoder::~PieceEncoder() = default;

std::string PieceEncoder::Customer(const CustomerState& c) {
  static const std::vector<const runtime::Timer*> kNoTimers;
  // Encoded into kept capacity, then copied once at its size (no growing string).
  impl_->scratch.clear();
  impl_->encoder.Customer(c, kNoTimers, impl_->scratch);
  return impl_->scratch;
}

std::string PieceEncoder::Full(const CustomerState& c) {
  impl_->encoder.Form2(c, /*delta=*/false, impl_->scratch);
  return impl_->scratch;
}

std::string PieceEncoder::Delta(const CustomerState& c) {
  impl_->encoder.Form2(c, /*delta=*/true, impl_->scratch);
  return impl_->scratch;
}

std::string EncodeCustomerPiece(const ProgramSpec& spec, const CustomerState& c) {
  return PieceEncoder(spec).Customer(c);
}

std::string EncodeTimerPiece(const ProgramSpec& spec, const Timer& t) {
  std::string out;
  CborWriter w(out);
  Encoder(spec).Timer(t, true, w);
  return out;
}

std::string EncodeGlobalsPiece(int64_t now_us, uint64_t next_seq, const EngineStats& stats) {
  std::string out;
  CborWriter w(out);
  w.Map(3);
  w.Text("now");
  w.Int(now_us);
  w.Text("next_seq");
  w.Uint(next_seq);
  w.Text("stats");
  EncodeStats(stats, w);
  return out;
}

std::string EncodeLayoutsPiece(const ProgramSpec& spec) {
  // With the layouts, what else decides which stored pieces the mapping keeps: the
  // journeys (and their steps and goals) and the channels, by name. A store restored
  // under a program where any of them differ is written again whole (changes.cc), so
  // that it never keeps what the program no longer has.
  std::string shape;
  for (const JourneySpec& j : spec.journeys) {
    shape += "j:" + j.name + (j.goal ? ":goal" : "") + "\n";
    for (const StepSpec& st : j.steps) {
      shape += " " + st.id + ":" + kStepKinds[static_cast<int>(st.kind)] + "\n";
    }
  }
  for (const ChannelSpec& c : spec.channels) shape += "c:" + c.name + "\n";
  json layouts = EncodeLayouts(spec);
  layouts["shape"] = XXH3_64bits(shape.data(), shape.size());
  std::string out;
  json::to_cbor(layouts, out);
  return out;
}

}  // namespace snapshot

// ---- Engine: the public face -------------------------------------------------------

std::string Engine::SaveSnapshot(std::string_view position) const {
  snapshot::View view;
  view.position = position;
  view.now_us = impl_->now_us_;
  view.next_seq = impl_->next_seq_;
  view.stats = &impl_->Stats();
  view.customers = &impl_->customers_;
  const Impl& e = *impl_;
  if (!e.packed_.empty()) {
    view.packed = e.packed_.Ids();
    view.is_packed = [&e](const std::string& id) { return e.packed_.Contains(id); };
    view.unpack = [&e](const std::string& id, CustomerState& out) { return e.PeekPacked(id, out); };
    view.piece = [&e](const std::string& id, std::string& out) { return e.PackedPiece(id, out); };
  }
  view.cancelled = &impl_->cancelled_;
  for (const Timer& t : impl_->timers_.elements()) view.timers.push_back(&t);
  std::sort(view.timers.begin(), view.timers.end(),
            [](const Timer* a, const Timer* b) { return *b > *a; });  // firing order
  return snapshot::Encode(*impl_->spec_, view);
}

Result<std::string> Engine::LoadSnapshot(std::string_view bytes) {
  snapshot::State state;
  if (Status decoded = snapshot::Decode(bytes, StateMap(*impl_->spec_), state); !decoded.ok()) {
    return decoded;
  }
  Impl& e = *impl_;
  e.now_us_ = state.now_us;
  e.next_seq_ = state.next_seq;
  e.SetStats(std::move(state.stats));
  e.DropPacked();
  e.customers_ = std::move(state.customers);
  e.timers_ = decltype(e.timers_)(std::greater<Timer>(), std::move(state.timers));
  e.horizon_ = Engine::Impl::kNoHorizon;  // the snapshot's timers are all of them
  e.far_timers_ = 0;
  e.far_untaken_.clear();
  e.cancelled_ = std::move(state.cancelled);
  e.Recount();  // the counts behind the limits are not stored
  e.changed_.clear();  // they are gone; the whole state is written again
  e.MarkRewrite();
  return std::move(state.position);
}

}  // namespace juncture::runtime
