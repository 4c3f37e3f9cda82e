// Hot reload: swap the program between two messages and carry every customer's
// state over to the new version, matching journeys, steps, channels, event types
// and profile fields by name. The whole migration runs on the engine's thread
// before the next message, so no message sees half of it.
#include <map>

#include "exec/engine_impl.h"
#include "juncture/runtime/record.h"

namespace juncture::runtime {
namespace {

template <typename T>
std::map<std::string, uint32_t> IndexByName(const std::vector<T>& items) {
  std::map<std::string, uint32_t> out;
  for (uint32_t i = 0; i < items.size(); ++i) out.emplace(items[i].name, i);
  return out;
}

bool SameLayout(const RecordSpec& a, const RecordSpec& b) {
  if (a.size != b.size || a.fields.size() != b.fields.size()) return false;
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

// The old profile's values, re-laid out for the new profile: fields kept by name when
// their type is unchanged, new fields at their defaults.
std::shared_ptr<Record> MigrateProfile(const ProgramSpec& from, const ProgramSpec& to,
                                       const Record& old) {
  std::shared_ptr<Record> out = MakeDefaultProfile(to);
  for (const FieldSpec& f : to.profile.fields) {
    for (const FieldSpec& g : from.profile.fields) {
      if (g.name != f.name || g.type != f.type || g.elem != f.elem) continue;
      if (g.presence_bit >= 0 &&
          !((old.data()[JN_PROFILE_PRESENT_OFFSET + g.presence_bit / 8] >> (g.presence_bit % 8)) & 1)) {
        break;  // absent stays absent (or the new default)
      }
      out->SetField(f, old.GetField(g), JN_PROFILE_PRESENT_OFFSET);
      break;
    }
  }
  return out;
}

}  // namespace

void Engine::Impl::ApplyStaged(DecisionSink& sink) {
  std::optional<CompiledProgram> next;
  {
    std::lock_guard<std::mutex> lock(staged_mutex_);
    next.swap(staged_);
    has_staged_.store(false, std::memory_order_release);
  }
  if (next) Reload(std::move(*next), sink);
}

void Engine::Impl::Reload(CompiledProgram next, DecisionSink& sink) {
  const ProgramSpec& from = *spec_;
  const ProgramSpec& to = *next.spec;
  auto journeys = IndexByName(to.journeys);
  auto channels = IndexByName(to.channels);
  auto events = IndexByName(to.events);
  // old index -> new index (or -1) for journeys, channels and event types whose
  // records keep their layout (history of a changed event type cannot be read).
  std::vector<int> journey_map, channel_map, event_map;
  for (const JourneySpec& j : from.journeys) {
    auto it = journeys.find(j.name);
    journey_map.push_back(it == journeys.end() ? -1 : static_cast<int>(it->second));
  }
  for (const ChannelSpec& c : from.channels) {
    auto it = channels.find(c.name);
    channel_map.push_back(it == channels.end() ? -1 : static_cast<int>(it->second));
  }
  // Records carry their type id in the header, so a type keeps its records only if
  // its id and layout are unchanged.
  for (uint32_t k = 0; k < from.events.size(); ++k) {
    auto it = events.find(from.events[k].name);
    bool same = it != events.end() && it->second == k && SameLayout(from.events[k], to.events[k]);
    event_map.push_back(same ? static_cast<int>(k) : -1);
  }
  // The step of the new journey with the same id and kind, or -1.
  auto map_step = [&](uint32_t j, uint32_t step) -> int {
    if (journey_map[j] < 0) return -1;
    const StepSpec& old_step = from.journeys[j].steps[step];
    const JourneySpec& nj = to.journeys[journey_map[j]];
    for (uint32_t k = 0; k < nj.steps.size(); ++k) {
      if (nj.steps[k].id == old_step.id && nj.steps[k].kind == old_step.kind) return static_cast<int>(k);
    }
    return -1;
  };

  Batch ended;
  for (auto& [id, c] : customers_) {
    FlatMap<uint32_t, Instance> instances;
    for (auto& [j, inst] : c.instances) {
      int step = map_step(j, inst.step);
      uint32_t type = inst.event ? RecordView(inst.event->data()).header().type_id : 0;
      if (step < 0 || (inst.event && event_map[type] < 0)) {
        Lifecycle(ended, j, id, inst, "reload", "exited", now_us_);
        continue;
      }
      inst.step = static_cast<uint32_t>(step);
      instances[static_cast<uint32_t>(journey_map[j])] = std::move(inst);
    }
    c.instances = std::move(instances);
    FlatMap<uint32_t, int64_t> last_entry;
    for (auto& [j, t] : c.last_entry) {
      if (journey_map[j] >= 0) last_entry[static_cast<uint32_t>(journey_map[j])] = t;
    }
    c.last_entry = std::move(last_entry);
    // Open goals follow their journey while it still has a goal.
    FlatMap<uint32_t, OpenGoal> goals;
    for (auto& [j, goal] : c.goals) {
      if (journey_map[j] >= 0 && to.journeys[journey_map[j]].goal) {
        goals[static_cast<uint32_t>(journey_map[j])] = goal;
      }
    }
    c.goals = std::move(goals);
    if (!c.sent_at.empty()) {
      std::vector<std::vector<int64_t>> sent(to.channels.size());
      for (size_t k = 0; k < c.sent_at.size(); ++k) {
        if (channel_map[k] >= 0) sent[channel_map[k]] = std::move(c.sent_at[k]);
      }
      c.sent_at = std::move(sent);
    }
    FlatMap<uint32_t, std::vector<std::pair<int64_t, RecordPtr>>> history;
    for (auto& [e, h] : c.history) {
      if (event_map[e] >= 0) history[static_cast<uint32_t>(event_map[e])] = std::move(h);
    }
    c.history = std::move(history);
    FlatMap<uint32_t, int64_t> last_seen;
    for (auto& [e, t] : c.last_seen) {
      auto it = events.find(from.events[e].name);  // times need no layout
      if (it != events.end()) last_seen[it->second] = t;
    }
    c.last_seen = std::move(last_seen);
    c.profile = SameLayout(from.profile, to.profile) ? c.profile
                                                      : MigrateProfile(from, to, *c.profile);
  }
  // Timers: instance timers follow their journey (a dropped instance's timer finds
  // nothing and is ignored); releases follow their channel.
  std::vector<Timer> pending;
  while (!timers_.empty()) {
    pending.push_back(timers_.top());
    timers_.pop();
  }
  for (Timer& t : pending) {
    if (t.kind == TimerKind::kRelease) {
      if (channel_map[t.channel] < 0) {  // the channel is gone
        cancelled_.erase(t.seq);
        continue;
      }
      t.channel = static_cast<uint32_t>(channel_map[t.channel]);
    } else {
      if (journey_map[t.journey] < 0) continue;
      t.journey = static_cast<uint32_t>(journey_map[t.journey]);
    }
    timers_.push(std::move(t));
  }
  program_ = std::move(next);
  spec_ = program_.spec.get();
  Index();
  Recount();  // instances ended and deferred sends of removed channels were dropped
  MarkRewrite();  // every record may have been re-laid out
  ++stats_.reloads;
  Emit(ended, sink);
}

}  // namespace juncture::runtime
