// The one rule for carrying state onto an edited program (state_map.h).
#include "exec/state_map.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "juncture/runtime/record.h"

namespace juncture::runtime {
namespace {

template <typename T>
std::unordered_map<std::string, uint32_t> IndexByName(const std::vector<T>& items) {
  std::unordered_map<std::string, uint32_t> out;
  for (uint32_t i = 0; i < items.size(); ++i) out.emplace(items[i].name, i);
  return out;
}

// `Fields`: Columns or FieldSpecs; both name, type and elem a field.
template <typename Fields>
FieldMap MapByName(const Fields& source, const RecordSpec* target) {
  FieldMap m;
  m.target = target;
  if (target == nullptr) return m;
  m.source.reserve(target->fields.size());
  for (const FieldSpec& f : target->fields) {
    int src = -1;
    for (size_t i = 0; i < source.size() && src < 0; ++i) {
      const auto& c = source[i];
      if (c.name == f.name && c.type == f.type && c.elem == f.elem) src = static_cast<int>(i);
    }
    m.source.push_back(src);
  }
  return m;
}

// Byte for byte the same records: the type id in an event's header included.
bool SameLayout(const RecordSpec& a, const RecordSpec& b) {
  if (a.type_id != b.type_id || a.size != b.size || a.fields.size() != b.fields.size()) {
    return false;
  }
  for (size_t i = 0; i < a.fields.size(); ++i) {
    const FieldSpec& x = a.fields[i];
    const FieldSpec& y = b.fields[i];
    if (x.name != y.name || x.type != y.type || x.elem != y.elem || x.offset != y.offset ||
        x.presence_bit != y.presence_bit) {
      return false;
    }
  }
  return true;
}

// A record in memory as the source of its own fields.
class RecordSource final : public FieldSource {
 public:
  RecordSource(const RecordSpec& spec, const Record& record, uint32_t present_offset)
      : spec_(spec), record_(record), present_offset_(present_offset) {}
  bool Get(size_t k, JnValue& out) override {
    const FieldSpec& f = spec_.fields[k];
    if (!RecordView(record_.data()).IsPresent(present_offset_, f.presence_bit)) return false;
    out = record_.GetField(f);
    return true;
  }

 private:
  const RecordSpec& spec_;
  const Record& record_;
  uint32_t present_offset_;
};

// Arena bytes for the strings of `r` (a record of `spec`): what a record re-laid out
// from it needs at most (lists, rarer, spill to blocks of their own).
uint32_t StringBytes(const RecordSpec& spec, const Record& r) {
  uint64_t bytes = 0;
  RecordView view(r.data());
  for (const FieldSpec& f : spec.fields) {
    if (f.type == JN_STRING) bytes += Record::ArenaBytes(view.GetStr(f.offset).len);
  }
  return static_cast<uint32_t>(std::min<uint64_t>(bytes, 1u << 20));
}

}  // namespace

FieldMap MapFields(const std::vector<Column>& source, const RecordSpec* target) {
  return MapByName(source, target);
}

FieldMap MapFields(const RecordSpec& source, const RecordSpec* target) {
  FieldMap m = MapByName(source.fields, target);
  m.same = target != nullptr && SameLayout(source, *target);
  return m;
}

void Fill(const FieldMap& map, FieldSource& source, uint32_t present_offset, Record& out) {
  if (map.target == nullptr) return;
  for (size_t k = 0; k < map.target->fields.size(); ++k) {
    const FieldSpec& f = map.target->fields[k];
    JnValue v;
    if (map.source[k] >= 0 && source.Get(static_cast<size_t>(map.source[k]), v)) {
      out.SetField(f, v, present_offset);
    } else if (f.has_default) {
      out.SetField(f, f.default_value, present_offset);
    } else if (f.presence_bit < 0) {  // required without a default: zero, empty
      JnValue zero{};
      zero.type = f.type;
      zero.elem = f.elem;
      out.SetField(f, zero, present_offset);
    }  // optional without a default: absent
  }
}

RecordRef<Record> NewEvent(const RecordSpec& target, int64_t time_us, std::string_view id,
                                 std::string_view customer, uint32_t arena) {
  arena += Record::ArenaBytes(id.size()) + Record::ArenaBytes(customer.size());
  auto rec =
      Record::Make(std::max<uint32_t>(target.size, JN_EVENT_FIELDS_OFFSET), arena);
  JnEventHeader header{};
  header.type_id = target.type_id;
  header.time_us = time_us;
  header.id = rec->Own(id);
  header.customer = rec->Own(customer);
  std::memcpy(rec->mutable_data(), &header, sizeof header);
  return rec;
}

RecordRef<Record> NewProfile(const RecordSpec& target, uint32_t arena) {
  return Record::Make(std::max<uint32_t>(target.size, JN_PROFILE_FIELDS_OFFSET), arena);
}

// ---- StateMap ------------------------------------------------------------------------

StateMap::StateMap(const ProgramSpec& to)
    : to_(to),
      journeys_(IndexByName(to.journeys)),
      channels_(IndexByName(to.channels)),
      events_(IndexByName(to.events)),
      needs_(to) {
  for (const JourneySpec& j : to.journeys) {
    std::vector<bool>& binds = binds_.emplace_back(to.events.size(), false);
    for (const TriggerSpec& t : j.triggers) binds[t.event_type] = true;
    for (const StepSpec& s : j.steps) {
      for (uint32_t e : s.events) binds[e] = true;
    }
  }
}

int StateMap::Step(uint32_t j, const std::string& id, StepKind kind) const {
  const std::vector<StepSpec>& steps = to_.journeys[j].steps;
  for (size_t k = 0; k < steps.size(); ++k) {
    if (steps[k].id == id && steps[k].kind == kind) return static_cast<int>(k);
  }
  return -1;
}

// ---- ProgramMap ----------------------------------------------------------------------

ProgramMap::ProgramMap(const ProgramSpec& from, const StateMap& to) : from_(from), to_(to) {
  const ProgramSpec& spec = to.target();
  for (const JourneySpec& j : from.journeys) {
    int k = to.Journey(j.name);
    journeys_.push_back(k);
    std::vector<int>& steps = steps_.emplace_back();
    for (const StepSpec& s : j.steps) {
      steps.push_back(k < 0 ? -1 : to.Step(static_cast<uint32_t>(k), s.id, s.kind));
    }
  }
  channels_same_ = from.channels.size() == spec.channels.size();
  for (uint32_t i = 0; i < from.channels.size(); ++i) {
    channels_.push_back(to.Channel(from.channels[i].name));
    channels_same_ = channels_same_ && channels_.back() == static_cast<int>(i);
  }
  for (const RecordSpec& e : from.events) {
    int k = to.Event(e.name);
    events_.push_back(k);
    event_fields_.push_back(MapFields(e, k < 0 ? nullptr : &spec.events[k]));
  }
  profile_ = MapFields(from.profile, &spec.profile);
}

RecordPtr ProgramMap::Event(const RecordPtr& r, Relaid& relaid, bool remember) const {
  const JnEventHeader& h = RecordView(r->data()).header();
  const FieldMap& map = event_fields_[h.type_id];
  if (map.same) return r;
  for (const auto& [old, now] : relaid) {
    if (old == r.get()) return now;
  }
  const RecordSpec& from = from_.events[h.type_id];
  RecordRef<Record> out = NewEvent(*map.target, h.time_us, {h.id.data, h.id.len},
                                         {h.customer.data, h.customer.len}, StringBytes(from, *r));
  RecordSource source(from, *r, JN_EVENT_PRESENT_OFFSET);
  Fill(map, source, JN_EVENT_PRESENT_OFFSET, *out);
  if (remember) relaid.emplace_back(r.get(), out);
  return out;
}

bool ProgramMap::CarriesEveryInstance(const StateMap& from_map) const {
  for (uint32_t j = 0; j < journeys_.size(); ++j) {
    const int journey = journeys_[j];
    if (journey < 0) return false;
    for (int step : steps_[j]) {
      if (step < 0) return false;
    }
    for (uint32_t e = 0; e < events_.size(); ++e) {
      if (!from_map.Binds(j, e)) continue;
      if (to_.InstanceStep(static_cast<uint32_t>(journey), 0, true, events_[e]) < 0) return false;
    }
  }
  return true;
}

void ProgramMap::Carry(CustomerState& c, std::vector<std::pair<uint32_t, Instance>>& ended) const {
  // A record is shared by the instances it moved and the history of its type: each is
  // re-laid out once, so that they still share it. Instances go first and remember
  // theirs; history entries are each in one list once, so they need not be remembered
  // (a lookup among the customer's few instance events, not among all its records).
  Relaid relaid;  // no allocation unless an instance's event is re-laid out
  c.instances.Rekey([&](uint32_t j, Instance& inst) -> std::optional<uint32_t> {
    int event = -1;
    if (inst.event) {
      uint32_t type = RecordView(inst.event->data()).header().type_id;
      event = type < events_.size() ? events_[type] : -1;
    }
    int journey = journeys_[j];
    int step = journey < 0 ? -1
                           : to_.InstanceStep(static_cast<uint32_t>(journey), steps_[j][inst.step],
                                              inst.event != nullptr, event);
    if (step < 0) {
      ended.emplace_back(j, std::move(inst));
      return std::nullopt;
    }
    inst.step = static_cast<uint32_t>(step);
    if (inst.event) inst.event = Event(inst.event, relaid, true);
    return static_cast<uint32_t>(journey);
  });
  c.last_entry.Rekey([&](uint32_t j, int64_t&) -> std::optional<uint32_t> {
    if (journeys_[j] < 0) return std::nullopt;
    return static_cast<uint32_t>(journeys_[j]);
  });
  c.goals.Rekey([&](uint32_t j, OpenGoal&) -> std::optional<uint32_t> {
    int journey = journeys_[j];
    if (journey < 0 || !to_.KeepsGoal(static_cast<uint32_t>(journey))) return std::nullopt;
    return static_cast<uint32_t>(journey);
  });
  c.history.Rekey([&](uint32_t e, EventHistory& history) -> std::optional<uint32_t> {
    int event = events_[e];
    if (event < 0 || !to_.KeepsHistory(static_cast<uint32_t>(event))) return std::nullopt;
    // Records only where the new program's windows read their fields; those not kept
    // before stay missing (the events count, in nothing that reads a field).
    const bool fields = to_.KeepsHistoryFields(static_cast<uint32_t>(event));
    for (auto& entry : history.entries()) {
      if (!fields) {
        entry.second = nullptr;
      } else if (entry.second && !event_fields_[e].same) {
        entry.second = Event(entry.second, relaid, false);
      }
    }
    history.ForgetWindows();  // the windows and their `where`s are the new program's
    return static_cast<uint32_t>(event);
  });
  c.last_seen.Rekey([&](uint32_t e, int64_t&) -> std::optional<uint32_t> {
    int event = events_[e];
    if (event < 0 || !to_.KeepsLastSeen(static_cast<uint32_t>(event))) return std::nullopt;
    return static_cast<uint32_t>(event);
  });
  if (!c.sent_at.empty() && !channels_same_) {  // the cap log exists: it follows its channels
    CompactVector<CompactVector<int64_t>> sent;
    sent.resize(to_.target().channels.size());
    for (size_t k = 0; k < c.sent_at.size(); ++k) {
      if (channels_[k] >= 0) sent[static_cast<size_t>(channels_[k])] = std::move(c.sent_at[k]);
    }
    c.sent_at = std::move(sent);
  }
  if (!profile_.same) {
    const Record& old = *c.profile;
    RecordRef<Record> profile = NewProfile(*profile_.target, StringBytes(from_.profile, old));
    RecordSource source(from_.profile, old, JN_PROFILE_PRESENT_OFFSET);
    Fill(profile_, source, JN_PROFILE_PRESENT_OFFSET, *profile);
    c.profile = std::move(profile);
  }
}

}  // namespace juncture::runtime
