// The one rule for carrying per-customer state onto an edited program
// (docs/semantics.md, "Reloading"): journeys, steps, channels, event types and record
// fields are matched by name, never by index, so that a hot reload (reload.cc, in
// place), a snapshot load (snapshot_load.cc, from names) and anything else that puts
// state written under one program onto another cannot disagree. Private to
// runtime/exec/.
//
//   StateMap     the rule, asked by name, for the program the state goes onto
//   FieldMap     how a record written under one layout lands in the program's layout,
//                and Fill, which builds it from a FieldSource (a record, stored values)
//   ProgramMap   the rule between two programs in memory, by index: what a reload
//                applies to each customer (Carry), cheap when nothing changed
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "exec/engine_impl.h"

namespace juncture::runtime {

// A field of a layout as it was written: what a field is matched on.
struct Column {
  std::string name;
  uint8_t type = 0, elem = 0;
};

// A record's layout mapped onto the program's layout of the same name.
struct FieldMap {
  const RecordSpec* target = nullptr;  // nullptr: the program has no such record
  // Per target field: the source field of the same name, type and elem, or -1 (the
  // field then takes its default, or is absent (optional) or zero (required)).
  std::vector<int> source;
  // Source and target are the same layout byte for byte, type id included: a record
  // can be kept as it is (ProgramMap only; never set from Columns).
  bool same = false;
};

FieldMap MapFields(const std::vector<Column>& source, const RecordSpec* target);
FieldMap MapFields(const RecordSpec& source, const RecordSpec* target);

// The values of one record being re-laid out, by source field index.
class FieldSource {
 public:
  // Sets `out` to source field `k`'s value (valid until the next call) and returns
  // true, or returns false if the field is absent.
  virtual bool Get(size_t k, JnValue& out) = 0;

 protected:
  ~FieldSource() = default;
};

// Sets every field of `out` (a record of `map.target`'s layout, zeroed) from `source`,
// by the rule. `present_offset`: JN_EVENT_PRESENT_OFFSET or JN_PROFILE_PRESENT_OFFSET.
void Fill(const FieldMap& map, FieldSource& source, uint32_t present_offset, Record& out);

// Empty records of `target`'s layout, for Fill: an event with its header (the target's
// type id), a profile. `arena`: bytes reserved for strings (Record).
RecordRef<Record> NewEvent(const RecordSpec& target, int64_t time_us, std::string_view id,
                                 std::string_view customer, uint32_t arena = 0);
RecordRef<Record> NewProfile(const RecordSpec& target, uint32_t arena = 0);

class StateMap {
 public:
  // `to` must outlive the map.
  explicit StateMap(const ProgramSpec& to);

  const ProgramSpec& target() const { return to_; }
  // The program's journey, channel or event type of that name, or -1 (gone).
  int Journey(const std::string& name) const { return Find(journeys_, name); }
  int Channel(const std::string& name) const { return Find(channels_, name); }
  int Event(const std::string& name) const { return Find(events_, name); }
  // The step of journey `j` with that id and kind, or -1.
  int Step(uint32_t j, const std::string& id, StepKind kind) const;
  // Whether an event of type `e` may be `event` in journey `j`: an `on` or a
  // `wait until` event of it.
  bool Binds(uint32_t j, uint32_t e) const { return binds_[j][e]; }

  // Where an instance of journey `j` goes on: its step (`step`, as found by Step), or
  // -1 if it ends: the step is gone, or it holds an event (`has_event`) whose type
  // (`event`, -1: gone) can no longer be its `event`.
  int InstanceStep(uint32_t j, int step, bool has_event, int event) const {
    if (step < 0) return -1;
    if (has_event && (event < 0 || !Binds(j, static_cast<uint32_t>(event)))) return -1;
    return step;
  }
  // Open goals follow their journey while it still has a goal; window history and
  // `time_since` times their event type, kept only where the program's windows read
  // them.
  bool KeepsGoal(uint32_t j) const { return to_.journeys[j].goal.has_value(); }
  bool KeepsHistory(uint32_t e) const { return needs_.history_span[e] > 0; }
  // Whether the history of event type `e` keeps its events' records, not only times.
  bool KeepsHistoryFields(uint32_t e) const { return needs_.history_fields[e]; }
  bool KeepsLastSeen(uint32_t e) const { return needs_.last_seen[e]; }

 private:
  using Index = std::unordered_map<std::string, uint32_t>;
  static int Find(const Index& index, const std::string& name) {
    auto it = index.find(name);
    return it == index.end() ? -1 : static_cast<int>(it->second);
  }

  const ProgramSpec& to_;
  Index journeys_, channels_, events_;
  WindowNeeds needs_;  // as the engine keeps them
  std::vector<std::vector<bool>> binds_;  // journey -> event type -> may be `event`
};

// The rule between the program state was kept under (`from`) and `to`, resolved once
// into indices: per customer it costs a pass over the customer's few entries, and
// records whose layout is unchanged are kept as they are (the same RecordPtr).
class ProgramMap {
 public:
  ProgramMap(const ProgramSpec& from, const StateMap& to);

  // `to`'s index of `from`'s journey / channel `k`, or -1 if it is gone.
  int journey(uint32_t k) const { return journeys_[k]; }
  int channel(uint32_t k) const { return channels_[k]; }

  // Puts one customer's state onto `to`, in place. Instances that end are appended to
  // `ended` (with their journey's index in `from`), in journey order.
  void Carry(CustomerState& c, std::vector<std::pair<uint32_t, Instance>>& ended) const;
  // True if Carry ends no instance, whatever the customer: every journey and step is
  // still there, and every event type an instance of a journey may hold (`from_map`:
  // the StateMap of `from`) still binds in it. Then a customer's piece written under
  // `from` may be read under `to` later instead of being carried now (a packed
  // customer, packing.cc).
  bool CarriesEveryInstance(const StateMap& from_map) const;

 private:
  using Relaid = std::vector<std::pair<const Record*, RecordPtr>>;  // old record -> new
  // `r` on `to`'s layout of its type: `r` itself if that layout is unchanged, else its
  // re-laid copy: the one in `relaid` if `r` was re-laid already, else a new one
  // (added to `relaid` if `remember`).
  RecordPtr Event(const RecordPtr& r, Relaid& relaid, bool remember) const;

  const ProgramSpec& from_;
  const StateMap& to_;
  std::vector<int> journeys_, channels_, events_;  // from's index -> to's, or -1
  std::vector<std::vector<int>> steps_;            // from's journey, step -> to's, or -1
  std::vector<FieldMap> event_fields_;             // per event type of from
  FieldMap profile_;
  bool channels_same_ = true;  // cap logs need no re-keying
};

}  // namespace juncture::runtime
