// The per-message procedure of docs/language.md: profile update, windows, exits,
// resumed instances, new entries (journeys in arbitration order), then arbitration
// and emission. Timers fire before any message whose time has reached them.
#include <algorithm>
#include <cstdlib>
#include <map>
#include <tuple>

#include "exec/engine_impl.h"
#include "exec/snapshot.h"
#include "juncture/runtime/record.h"
#include "juncture/stdlib/functions.h"

namespace juncture::runtime {

Engine::Impl::Impl(CompiledProgram program, EngineLimits limits)
    : program_(std::move(program)), spec_(program_.spec.get()), limits_(limits) {
  Index();
}

void Engine::Impl::Index() {
  triggered_by_.assign(spec_->events.size(), {});
  for (uint32_t j = 0; j < spec_->journeys.size(); ++j) {
    for (const TriggerSpec& t : spec_->journeys[j].triggers) {
      std::vector<uint32_t>& list = triggered_by_[t.event_type];
      if (list.empty() || list.back() != j) list.push_back(j);
    }
  }
  windows_need_ = WindowNeeds(*spec_);
  IndexWindows();
}

WindowNeeds::WindowNeeds(const ProgramSpec& spec)
    : history_span(spec.events.size(), 0),
      history_fields(spec.events.size(), false),
      last_seen(spec.events.size(), false) {
  for (const WindowSpec& w : spec.windows) {
    if (w.kind == WindowKind::kTimeSince) {
      last_seen[w.event_type] = true;
      continue;
    }
    history_span[w.event_type] = std::max(history_span[w.event_type], w.within_us);
    if (w.kind == WindowKind::kSum || w.where != kNoExpr) history_fields[w.event_type] = true;
  }
}

// The journey's test for messages of `event_type`, or null if it has none.
static const TriggerSpec* Find(const std::vector<TriggerSpec>& tests, uint32_t event_type) {
  for (const TriggerSpec& t : tests) {
    if (t.event_type == event_type) return &t;
  }
  return nullptr;
}

Result<CustomerState*> Engine::Impl::Customer(const std::string& id) {
  Result<CustomerEntry*> resident = Resident(id);
  if (!resident.ok()) return resident.status();
  CustomerEntry* entry = *resident;
  if (entry == nullptr) {
    entry = &*customers_.try_emplace(id).first;
    entry->second.profile = MakeDefaultProfile(*spec_);
    entry->second.last_used = ++use_tick_;
  }
  Touch(*entry);
  return &entry->second;
}

void Engine::Impl::Process(std::string_view json, DecisionSink& sink,
                           std::optional<int64_t> clock_us) {
  if (has_staged_.load(std::memory_order_acquire)) ApplyStaged(sink);
  ++stats_.messages;
  // Decoded into the same object each time (its strings keep their room); the
  // records it holds are let go when the message is done, as a local's would be.
  Message& m = message_;
  struct LetGo {
    Message& m;
    ~LetGo() {
      m.record = {};
      m.trait_storage = {};
    }
  } let_go{m};
  auto dead_letter = [&](const std::string& reason) {
    ++stats_.dead_letters;
    if (Traces(m.customer)) {
      Trace(TraceKind::kDeadLetter, 0, m.time_us != 0 ? m.time_us : now_us_, {}, {}, 0,
            "a message refused" + (m.message_id.empty() ? "" : " (" + m.message_id + ")") +
                ": " + reason + "; it goes to the dead letters, nothing else changes");
    }
    sink.OnDeadLetter(json, reason);
  };
  if (Status decoded = DecodeMessage(*spec_, json, m); !decoded.ok()) {
    return dead_letter(decoded.message());
  }
  // The decision time (the record keeps its timestamp, the signal of its sends): on
  // an outside clock, that clock; in virtual time, when the pipeline received the
  // message (`receivedAt`) if it says, else its timestamp. Never before the previous
  // decision.
  m.timestamp_us = m.time_us;
  if (clock_us) {
    m.time_us = *clock_us;
  } else if (m.has_received) {
    m.time_us = m.received_us;
  }
  // A message refused by a bound (too far ahead, too long a customer id) is refused
  // before time moves, like one that does not decode.
  if (Status refused = RefuseEarly(m, clock_us.has_value()); !refused.ok()) {
    return dead_letter(refused.message());
  }
  m.time_us = std::max(m.time_us, now_us_);
  AdvanceTo(m.time_us, sink);
  tracing_ = Traces(m.customer);
  if (m.kind == MessageKind::kIgnored && m.ignored_call != nullptr) {  // group, alias
    if (tracing_) TraceMessage(m);
    ++stats_.ignored_calls;
    return;
  }
  if (m.kind == MessageKind::kIgnored) {
    if (tracing_) TraceMessage(m);
    ++stats_.ignored;
    constexpr size_t kMaxIgnoredNames = 64;
    if (ignored_events_.count(m.ignored_event) || ignored_events_.size() < kMaxIgnoredNames) {
      ++ignored_events_[m.ignored_event];
    } else {
      ++ignored_events_["(other names)"];
    }
    return;
  }
  Result<CustomerState*> customer = Customer(m.customer);
  if (!customer.ok()) {  // it may be stored: deciding as if it were new would lose it
    return dead_letter("the customer's stored state cannot be read now (" +
                       customer.status().message() + "); nothing was decided for it");
  }
  CustomerState& c = **customer;
  uint64_t id_hash = 0;
  if (SeenBefore(m, c, id_hash)) return;
  if (m.kind == MessageKind::kIdentify) {
    RememberMessage(id_hash, m.time_us, c);
    RecordRef<Record> before = c.profile;
    c.profile = MergeTraits(*spec_, *before, m);
    KeepUnknownTraits(m, c);
    CheckTimeZone(*before, c);  // only when the zone changed (it takes a look-up)
    if (tracing_) TraceMessage(m, before.get(), c.profile.get());
    return;
  }
  if (tracing_) TraceMessage(m);
  // Counted after the timers due by now have fired: releases and waits that ended
  // before this message no longer count against it. (Only a track can add timers.)
  if (Status refused = RefuseTimers(c); !refused.ok()) return dead_letter(refused.message());
  RememberMessage(id_hash, m.time_us, c);
  Batch& batch = NewBatch();
  HandleTrack(m, c, batch);
  Emit(batch, sink);
  CompactTimers();
}

// A profile.timezone that is no time zone makes local times UTC for the customer:
// counted once per customer (a zone constant in a script is checked at compile time).
void Engine::Impl::CheckTimeZone(const Record& before, CustomerState& c) {
  if (spec_->profile_timezone_field < 0 || c.unknown_zone_counted) return;
  const FieldSpec& f = spec_->profile.fields[spec_->profile_timezone_field];
  std::string_view tz = RecordView(c.profile->data()).GetString(f.offset);
  if (tz == RecordView(before.data()).GetString(f.offset)) return;  // unchanged
  if (tz.empty() || stdlib::KnownTimeZone(tz)) return;
  c.unknown_zone_counted = true;
  ++stats_.unknown_timezones;
}

void Engine::Impl::HandleTrack(const Message& m, CustomerState& c, Batch& batch) {
  RecordHistory(m, c);
  Goals(m, c, batch);
  Exits(m, c, batch);
  Resumes(m, c, batch);
  Entries(m, c, batch);
}

// The message counts in its own windows (§4: windows include the current message).
void Engine::Impl::RecordHistory(const Message& m, CustomerState& c) {
  if (windows_need_.last_seen[m.event_type]) {
    int64_t& last = c.last_seen[m.event_type];
    last = std::max(last, m.time_us);
  }
  int64_t span = windows_need_.history_span[m.event_type];
  if (span == 0) return;
  EventHistory& h = c.history[m.event_type];
  // Only counted, the event needs no more than its time: its record is not kept for
  // the windows (an instance may still keep it).
  h.Append(m.time_us, windows_need_.history_fields[m.event_type] ? m.record : nullptr);
  h.ExpireBefore(m.time_us - span);
  // Beyond the bound, the oldest event leaves the windows (one: the history was
  // within the bound before this one came).
  stats_.dropped_window_events += h.Bound(limits_.max_window_events);
}

// Conversions (§3 Goal): the customer's open goals that this event meets, within
// their window, convert their entries. Before exits and entries: a message that
// exits an instance still converts its goal, and an entry's own message never
// converts it (its goal opens after this).
void Engine::Impl::Goals(const Message& m, CustomerState& c, Batch& batch) {
  for (auto it = c.goals.begin(); it != c.goals.end();) {
    const JourneySpec& journey = spec_->journeys[it->first];
    const OpenGoal goal = it->second;
    if (!journey.goal || m.time_us > goal.entered_us + journey.goal->within_us) {
      if (tracing_ && journey.goal) {
        TraceGoal(it->first, m, ("closed: its window ended " +
                                 FormatTimestamp(goal.entered_us + journey.goal->within_us)).c_str());
      }
      it = c.goals.erase(it);  // closed: its window is over (or the goal is gone)
      continue;
    }
    if (journey.goal->event_type != m.event_type) {
      ++it;
      continue;
    }
    EvalHost host{this, &c, m.time_us, {}};
    JnContext ctx = Context(host, m.customer, m.record.get());
    bool met = program_.evaluator->Test(journey.goal->test, ctx);
    stats_.div_by_zero += ctx.div_by_zero;
    if (tracing_) TraceGoal(it->first, m, met ? "met -> converted" : "not met");
    if (!met) {
      ++it;
      continue;
    }
    // The lifecycle decision's cause: the converting message.
    Decision& d =
        Lifecycle(batch, it->first, m.customer, m.message_id, "goal", Outcome::kConverted, m.time_us);
    d.arm = goal.held_out ? "control" : "treatment";
    it = c.goals.erase(it);
  }
}

void Engine::Impl::Exits(const Message& m, CustomerState& c, Batch& batch) {
  for (auto it = c.instances.begin(); it != c.instances.end();) {
    const TriggerSpec* on = Find(spec_->journeys[it->first].exits, m.event_type);
    bool exit = false;
    if (on != nullptr) {
      EvalHost host{this, &c, m.time_us, {}};
      JnContext ctx = Context(host, m.customer, m.record.get());
      exit = program_.evaluator->Test(on->test, ctx);
      stats_.div_by_zero += ctx.div_by_zero;
      if (tracing_) TraceExit(it->first, m, c, it->second, exit);
    }
    if (!exit) {
      ++it;
      continue;
    }
    Lifecycle(batch, it->first, m.customer, m.message_id, "exit", Outcome::kExited, m.time_us);
    it = c.instances.erase(it);  // its timer finds no instance and is ignored
    --waiting_;
  }
}

void Engine::Impl::Resumes(const Message& m, CustomerState& c, Batch& batch) {
  // Collect first: running an instance may end it (erasing from the map).
  std::vector<uint32_t> matched;
  for (auto& [j, inst] : c.instances) {
    const StepSpec& s = spec_->journeys[j].steps[inst.step];
    if (s.kind != StepKind::kWaitUntil) continue;
    if (std::find(s.events.begin(), s.events.end(), m.event_type) == s.events.end()) continue;
    EvalHost host{this, &c, m.time_us, {}};
    JnContext ctx = Context(host, m.customer, m.record.get());
    bool ok = program_.evaluator->Test(s.cond, ctx);
    stats_.div_by_zero += ctx.div_by_zero;
    if (tracing_) TraceResume(j, m, inst, ok);
    if (ok) matched.push_back(j);
  }
  for (uint32_t j : matched) {
    batch.resumed.push_back(j);
    Instance inst = c.instances[j];
    inst.event = m.record;  // and so its cause: the message's id
    inst.signal_us = m.timestamp_us;
    inst.timer = 0;  // the timeout is now stale
    const uint32_t next = spec_->journeys[j].steps[inst.step].next;
    Run(j, m.customer, c, std::move(inst), next, m.time_us, batch);
  }
}

bool Engine::Impl::MayEnter(uint32_t j, const CustomerState& c, int64_t at) const {
  if (c.instances.count(j)) return false;  // already in it, whatever `reenter` says
  auto last = c.last_entry.find(j);
  if (last == c.last_entry.end()) return true;
  const JourneySpec& spec = spec_->journeys[j];
  switch (spec.reenter) {
    case Reenter::kAlways: return true;
    case Reenter::kAfter: return at - last->second >= spec.reenter_after_us;
    default: return false;
  }
}

void Engine::Impl::Entries(const Message& m, CustomerState& c, Batch& batch) {
  if (tracing_ && triggered_by_[m.event_type].empty()) {
    Trace(TraceKind::kEntry, 1, m.time_us, {}, {}, 0,
          "no journey starts on " + spec_->events[m.event_type].name);
  }
  for (uint32_t j : triggered_by_[m.event_type]) {
    const JourneySpec& journey = spec_->journeys[j];
    if (!MayEnter(j, c, m.time_us)) {
      if (tracing_) TraceEntering(j, m, c, RefuseEntry(j, c, m.time_us), false);
      continue;
    }
    // A message that moved an instance along does not also start a new one of the
    // same journey (even if that instance has just completed).
    if (std::find(batch.resumed.begin(), batch.resumed.end(), j) != batch.resumed.end()) {
      if (tracing_) TraceEntering(j, m, c, "this message moved its instance along", false);
      continue;
    }
    const TriggerSpec* on = Find(journey.triggers, m.event_type);
    if (on == nullptr) continue;
    EvalHost host{this, &c, m.time_us, {}};
    JnContext ctx = Context(host, m.customer, m.record.get());
    bool enter = program_.evaluator->Test(on->test, ctx);  // triggers and eligibility
    stats_.div_by_zero += ctx.div_by_zero;
    if (tracing_) TraceEntering(j, m, c, {}, enter);
    if (!enter) continue;
    Instance inst(0, m.record, m.timestamp_us);
    c.last_entry[j] = m.time_us;
    if (journey.goal) c.goals[j] = OpenGoal{m.time_us, false};  // replaces an open one
    Lifecycle(batch, j, m.customer, m.message_id, "entry", Outcome::kEntered, m.time_us);
    Run(j, m.customer, c, std::move(inst), 0, m.time_us, batch);
  }
}

void Engine::Impl::AdvanceTo(int64_t time_us, DecisionSink& sink) {
  if (has_staged_.load(std::memory_order_acquire)) ApplyStaged(sink);
  advancing_to_ = time_us;
  for (;;) {
    if (timers_.empty() || timers_.top().due_us > time_us) {
      // Timers only stored may be due (they all fire after those in memory).
      if (horizon_.first <= time_us && ReadBackTimers(timer_window_)) continue;
      break;
    }
    // Moved out before the pop: the heap orders by due_us and seq, which a move keeps.
    Timer t = std::move(const_cast<Timer&>(timers_.top()));
    timers_.pop();
    LogTimer(StateChanges::TimerOp::kErase, t);
    now_us_ = std::max(now_us_, t.due_us);
    FireTimer(t, sink);
  }
  now_us_ = std::max(now_us_, time_us);
  CompactTimers();
}

void Engine::Impl::PutOff(Timer t) {
  t.due_us = std::max(t.due_us, advancing_to_) + kPutOffUs;
  PushTimer(std::move(t));
}

void Engine::Impl::FireTimer(const Timer& t, DecisionSink& sink) {
  if (t.kind == TimerKind::kRelease) {
    auto it = cancelled_.find(t.seq);
    bool cancelled = it != cancelled_.end() && it->second;
    if (it != cancelled_.end()) cancelled_.erase(it);
    if (!cancelled) Release(t, sink);
    return;
  }
  Result<CustomerEntry*> resident = Resident(t.customer);
  if (!resident.ok()) return PutOff(t);
  CustomerEntry* c = *resident;
  if (c == nullptr) return;
  auto inst = c->second.instances.find(t.journey);
  if (inst == c->second.instances.end() || inst->second.timer != t.seq) return;  // stale
  Touch(*c);
  tracing_ = Traces(t.customer);
  ++stats_.timers_fired;
  Instance copy = inst->second;
  copy.timer = 0;
  copy.signal_us = t.due_us;  // what follows a wait is signalled by its timer
  const StepSpec& s = spec_->journeys[t.journey].steps[copy.step];
  uint32_t next = t.kind == TimerKind::kTimeout ? s.alt : s.next;
  Batch& batch = NewBatch();
  if (tracing_) {
    TraceTimer(t, s.id);
    trace_depth_ = 1;  // its steps directly under it
  }
  Run(t.journey, t.customer, c->second, std::move(copy), next, t.due_us, batch);
  trace_depth_ = 2;
  Emit(batch, sink);
}

void Engine::Impl::Emit(Batch& batch, DecisionSink& sink) {
  for (const Decision& d : batch) {
    ++stats_.decisions;
    ++outcome_counts_[static_cast<size_t>(d.outcome)][static_cast<size_t>(d.reason)];
    if (tracing_) TraceDecision(d);
    sink.OnDecision(d);
  }
}

// ---- Engine: the public face -------------------------------------------------------

Engine::Engine(CompiledProgram program, EngineLimits limits)
    : impl_(std::make_unique<Impl>(std::move(program), limits)) {}
Engine::~Engine() = default;
void Engine::Process(std::string_view json, DecisionSink& sink) {
  impl_->Process(json, sink, std::nullopt);
  impl_->PackIdle();
}
void Engine::Process(std::string_view json, DecisionSink& sink, int64_t time_us) {
  impl_->Process(json, sink, time_us);
  impl_->PackIdle();
}
void Engine::AdvanceTo(int64_t time_us, DecisionSink& sink) {
  impl_->AdvanceTo(time_us, sink);
  impl_->PackIdle();
}
size_t Engine::Evict(size_t keep) { return impl_->Evict(keep); }
int64_t Engine::now() const { return impl_->now_us_; }
size_t Engine::customers() const { return impl_->customers_.size() + impl_->packed_.size(); }
Engine::PackedStats Engine::packed() const {
  const Impl& e = *impl_;
  return PackedStats{e.packed_.size(), e.packed_.bytes(), e.packed_.overhead_bytes(), e.packs_,
                     e.unpacks_};
}
size_t Engine::pending_timers() const { return impl_->timers_.size() + impl_->far_timers_; }
size_t Engine::timers_in_memory() const { return impl_->timers_.size(); }
size_t Engine::timers_of(std::string_view customer) const {
  auto it = impl_->customers_.find(customer);
  if (it != impl_->customers_.end()) return it->second.instances.size() + it->second.deferred;
  CustomerState packed;
  if (impl_->PeekPacked(std::string(customer), packed)) return packed.instances.size() + packed.deferred;
  return 0;
}
const EngineLimits& Engine::limits() const { return impl_->limits_; }
const std::map<std::string, uint64_t>& Engine::ignored_events() const {
  return impl_->ignored_events_;
}
std::vector<Engine::PendingGroup> Engine::PendingSummary(std::string_view customer) const {
  return impl_->PendingSummary(customer);
}
std::vector<Engine::PendingGroup> Engine::Impl::PendingSummary(std::string_view customer) const {
  const Impl& e = *this;
  // By journey, then step in source order (s2 before s10), then kind.
  auto step_number = [](const std::string& step) {
    return step.size() > 1 && step[0] == 's' ? std::atol(step.c_str() + 1) : 0L;
  };
  std::map<std::tuple<std::string, long, std::string, std::string>, PendingGroup> groups;
  for (const Timer& t : e.timers_.elements()) {
    if (e.IsStale(t) || (!customer.empty() && t.customer != customer)) continue;
    PendingGroup g;
    if (t.kind == TimerKind::kRelease) {
      if (t.release == nullptr) continue;
      g.journey = t.release->decision.journey;
      g.what = "deferred send on " + t.release->decision.channel;
      g.step = t.release->decision.step;
    } else {
      if (t.journey >= e.spec_->journeys.size()) continue;
      const JourneySpec& j = e.spec_->journeys[t.journey];
      g.journey = j.name;
      g.what = t.kind == TimerKind::kResume ? "wait" : "wait until";
      auto c = e.customers_.find(t.customer);
      CustomerState packed;
      const CustomerState* state = c != e.customers_.end() ? &c->second
                                   : e.PeekPacked(t.customer, packed) ? &packed
                                                                      : nullptr;
      if (state != nullptr) {
        auto inst = state->instances.find(t.journey);
        if (inst != state->instances.end() && inst->second.step < j.steps.size()) {
          g.step = j.steps[inst->second.step].id;
        }
      }
    }
    PendingGroup& into =
        groups.try_emplace({g.journey, step_number(g.step), g.step, g.what}, g).first->second;
    into.next_due_us = into.count == 0 ? t.due_us : std::min(into.next_due_us, t.due_us);
    ++into.count;
  }
  std::vector<PendingGroup> out;
  for (auto& [key, g] : groups) out.push_back(std::move(g));
  return out;
}
int64_t Engine::next_timer() const {
  // With timers only stored: none fires before the horizon's.
  return impl_->timers_.empty() ? impl_->horizon_.first : impl_->timers_.top().due_us;
}
const EngineStats& Engine::stats() const { return impl_->Stats(); }

const EngineStats& Engine::Impl::Stats() {
  for (size_t o = 0; o < kOutcomes; ++o) {
    for (size_t r = 0; r < kReasons; ++r) {
      uint64_t& n = outcome_counts_[o][r];
      if (n == 0) continue;
      std::string key = ToString(static_cast<Outcome>(o));
      if (r != 0) key.append(1, ':').append(ToString(static_cast<Reason>(r)));
      stats_.by_outcome[key] += n;
      n = 0;
    }
  }
  return stats_;
}

void Engine::Impl::SetStats(EngineStats stats) {
  stats_ = std::move(stats);
  outcome_counts_ = {};
}
const ProgramSpec& Engine::spec() const { return *impl_->spec_; }
Status Engine::Reload(CompiledProgram next, DecisionSink& sink) {
  return impl_->Reload(std::move(next), sink);
}
void Engine::StageReload(CompiledProgram next) {
  std::lock_guard<std::mutex> lock(impl_->staged_mutex_);
  impl_->staged_ = std::move(next);
  impl_->has_staged_.store(true, std::memory_order_release);
}
const char* Engine::evaluator_name() const { return impl_->program_.evaluator->name(); }

}  // namespace juncture::runtime
