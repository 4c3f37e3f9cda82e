// The engine's internals: per-customer state, timers, and the decision procedure.
// Private to runtime/exec/.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <forward_list>
#include <mutex>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "exec/compact_vector.h"
#include "exec/customer_map.h"
#include "exec/event_history.h"
#include "exec/packed_customers.h"
#include "exec/trait_bag.h"
#include "flat_map.h"
#include "juncture/runtime/event.h"
#include "juncture/runtime/record.h"
#include "juncture/runtime/runtime.h"
#include "juncture/runtime/state_changes.h"
#include "juncture/runtime/trace.h"

namespace juncture::runtime {

// What the windows of a program read, per event type (engine.cc).
struct WindowNeeds {
  WindowNeeds() = default;
  explicit WindowNeeds(const ProgramSpec& spec);
  // The longest span of a count or sum over it (0: none): its events are kept that
  // long in each customer's history.
  std::vector<int64_t> history_span;
  // Some sum, or some `where`, reads its events' fields: the history keeps each
  // event's record. Otherwise (only counts without `where`) it keeps their times.
  std::vector<bool> history_fields;
  // Some time_since reads it: its latest time is kept.
  std::vector<bool> last_seen;
};

// A customer's place in one journey.
struct Instance {
  uint32_t step = 0;        // the step it waits at (wait / wait until)
  bool held_out = false;    // it reached a `control` step: later sends are recorded only
  uint64_t timer = 0;       // sequence number of its live timer, 0 if none
  // The signal of its next send (a `deadline` counts from it): the capture time
  // (`timestamp`) of the message that moved it last, or the due time of the timer
  // that did.
  int64_t signal_us = 0;
  RecordPtr event;          // the event that last moved it (`event` in expressions)

  Instance() = default;
  Instance(uint32_t step, RecordPtr event, int64_t signal_us)
      : step(step), signal_us(signal_us), event(std::move(event)) {}
  Instance(Instance&&) noexcept = default;
  Instance& operator=(Instance&&) noexcept = default;
  Instance(const Instance& o)
      : step(o.step), held_out(o.held_out), timer(o.timer), signal_us(o.signal_us),
        event(o.event), cause_apart_(o.cause_apart_ ? std::make_unique<std::string>(*o.cause_apart_)
                                                    : nullptr) {}
  Instance& operator=(const Instance& o) {
    if (this != &o) *this = Instance(o);
    return *this;
  }

  // The messageId of the message that moved it last: its event's id (event.id),
  // unless set apart.
  std::string_view cause() const {
    if (cause_apart_) return *cause_apart_;
    if (!event) return {};
    const JnStr id = RecordView(event->data()).header().id;
    return {id.data, id.len};
  }
  // A restored instance whose cause is not its event's id (its event is gone).
  void SetCause(std::string_view cause) {
    cause_apart_ = cause == this->cause() ? nullptr : std::make_unique<std::string>(cause);
  }

 private:
  std::unique_ptr<std::string> cause_apart_;
};

// A journey's goal waiting for its converting event, from an entry (one per customer
// and journey: a new entry replaces it). It outlives the instance.
struct OpenGoal {
  int64_t entered_us = 0;   // the entry's decision time; the goal closes `within` later
  bool held_out = false;    // the instance reached `control`: the control arm
};

// A message taken for a customer: its messageId's hash (XXH3, 64 bits) and when.
struct SeenMessage {
  uint64_t id_hash = 0;
  int64_t at_us = 0;
};

// CustomerState::seen_fresh when it has stopped counting: every id is new.
inline constexpr uint16_t kSeenFreshAll = UINT16_MAX;

// Everything the engine keeps per customer. Only windows the program reads are kept.
struct CustomerState {
  RecordRef<Record> profile;
  TraitBag unknown_traits;  // traits the profile does not declare (snapshots only)
  FlatMap<uint32_t, Instance> instances;               // journey index -> instance
  FlatMap<uint32_t, int64_t> last_entry;               // journey index -> time
  FlatMap<uint32_t, OpenGoal> goals;                   // journey index -> open goal
  // channel -> times of sends still inside its cap's period; kept only for capped
  // channels, and empty (no allocation) until the customer's first capped send.
  CompactVector<CompactVector<int64_t>> sent_at;
  // event type -> its events inside the longest window over it, and the windows over
  // them kept running (event_history.h)
  FlatMap<uint32_t, EventHistory> history;
  FlatMap<uint32_t, int64_t> last_seen;                // event type -> time (time_since)
  // The messages taken, oldest first, within EngineLimits::dedup_window_us (dedup.cc).
  CompactVector<SeenMessage> seen;
  // Its deferred sends still to be released (release timers neither fired nor taken
  // back). With instances.size() (every instance waits on one timer) it is what
  // EngineLimits::max_timers_per_customer bounds; kept exact, never counted by a scan.
  uint32_t deferred = 0;
  bool unknown_zone_counted = false;  // its profile.timezone was found unknown (once)
  bool changed = false;  // in Engine::Impl::changed_ (change tracking on)
  // Ids added to `seen` since the last TakeChanges (kSeenFreshAll: too many to
  // count, written whole), for the store's change of it; exact, as
  // EventHistory::fresh (event_history.h).
  uint16_t seen_fresh = 0;
  uint64_t last_used = 0;  // Engine::Impl::use_tick_ when a message or timer last used it
};

enum class TimerKind : uint8_t { kResume, kTimeout, kRelease };

// A send of a journey without a deadline is never late.
inline constexpr int64_t kNoDeadline = INT64_MAX;

// What a release timer carries: the deferred send, its channel, and the time after
// which releasing it is late (its signal plus the journey's deadline).
struct DeferredSend {
  Decision decision;
  uint32_t channel = 0;
  int64_t late_after_us = kNoDeadline;
};

// 64 bytes, one cache line: what only releases need is behind a pointer.
struct Timer {
  int64_t due_us = 0;
  uint64_t seq = 0;  // creation order: ties fire in the order they were set
  std::string customer;
  uint32_t journey = 0;
  TimerKind kind = TimerKind::kResume;
  std::unique_ptr<DeferredSend> release;  // kRelease: the deferred send

  Timer() = default;
  Timer(Timer&&) noexcept = default;
  Timer& operator=(Timer&&) noexcept = default;
  Timer(const Timer& o)
      : due_us(o.due_us), seq(o.seq), customer(o.customer), journey(o.journey), kind(o.kind),
        release(o.release ? std::make_unique<DeferredSend>(*o.release) : nullptr) {}
  Timer& operator=(const Timer& o) {
    if (this != &o) *this = Timer(o);
    return *this;
  }
  bool operator>(const Timer& o) const {
    return due_us != o.due_us ? due_us > o.due_us : seq > o.seq;
  }
};
static_assert(sizeof(std::string) != 32 || sizeof(Timer) == 64, "a timer is one cache line");

// The pending timers, earliest first (ties in sequence order). A priority queue that
// also lets the engine see and prune its elements: timers of instances that exited or
// moved on, and releases taken back, stay in it until their due time unless compacted.
class TimerQueue : public std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> {
 public:
  using priority_queue::priority_queue;
  // Every timer, in no particular order.
  const std::vector<Timer>& elements() const { return c; }
  // Lets `f` change each timer in place; it must not change due_us or seq (the
  // order), so the heap stays a heap.
  template <typename F>
  void Update(F f) {
    for (Timer& t : c) f(t);
  }
  // Keeps the `n` (> 0) earliest timers, drops the others; *last: the key (due_us,
  // seq) of the latest kept. Returns how many went. O(size).
  size_t KeepEarliest(size_t n, std::pair<int64_t, uint64_t>* last) {
    if (n == 0 || c.size() <= n) return 0;
    auto nth = c.begin() + static_cast<std::ptrdiff_t>(n - 1);
    std::nth_element(c.begin(), nth, c.end(), [](const Timer& a, const Timer& b) { return b > a; });
    *last = {nth->due_us, nth->seq};
    const size_t dropped = c.size() - n;
    c.erase(nth + 1, c.end());
    std::make_heap(c.begin(), c.end(), comp);
    return dropped;
  }
  // Drops the timers for which `drop` is true and restores the heap: O(size). Pop order
  // is unchanged, since (due_us, seq) orders timers totally.
  template <typename Pred>
  size_t EraseIf(Pred drop) {
    size_t n = std::erase_if(c, drop);
    std::make_heap(c.begin(), c.end(), comp);
    return n;
  }
};

// Decisions of one message (or one timer) before they are emitted: arbitration may
// still turn a send into `suppressed arbitration`. The engine keeps one Batch and
// clears it for every message: a cleared decision slot keeps the capacity of its
// strings, so a steady stream decides without allocating for its decisions.
// Sets a decision's id: "<cause>:<journey>:<step>", then ":<suffix>" unless it is
// empty. Every decision builds one, so the pieces are copied after a single resize
// (not appended one by one, each with its own checks).
inline void SetDecisionId(std::string& id, std::string_view cause, std::string_view journey,
                          std::string_view step, std::string_view suffix = {}) {
  const size_t size = cause.size() + journey.size() + step.size() + 2 +
                      (suffix.empty() ? 0 : suffix.size() + 1);
  id.resize(size);
  char* out = id.data();
  const auto put = [&out](std::string_view piece) {
    if (piece.empty()) return;  // its data() may be null (a restored cause-less instance)
    std::memcpy(out, piece.data(), piece.size());
    out += piece.size();
  };
  put(cause);
  *out++ = ':';
  put(journey);
  *out++ = ':';
  put(step);
  if (!suffix.empty()) {
    *out++ = ':';
    put(suffix);
  }
}

class Batch {
 public:
  // An empty decision at the end of the batch (valid until the next Add).
  Decision& Add() {
    if (used_ == slots_.size()) slots_.emplace_back();
    Decision& d = slots_[used_++];
    ClearDecision(d);
    release_timers.push_back(0);
    return d;
  }
  size_t size() const { return used_; }
  Decision& operator[](size_t i) { return slots_[i]; }
  const Decision* begin() const { return slots_.data(); }
  const Decision* end() const { return slots_.data() + used_; }
  void Clear() {
    used_ = 0;
    claims.clear();
    claimed_sends.clear();
    resumed.clear();
    release_timers.clear();
  }

  // Arbitration: channel -> the journey currently holding it, and every send of
  // this batch on a channel (the holder's sends are taken back if it loses).
  struct Claim {
    uint32_t channel;
    uint32_t journey;
  };
  std::vector<Claim> claims;
  std::vector<std::pair<uint32_t, size_t>> claimed_sends;  // (channel, decision index)
  std::vector<uint32_t> resumed;         // journeys this message resumed (not re-entered)
  std::vector<uint64_t> release_timers;  // per decision index (0 if none)

 private:
  static void ClearDecision(Decision& d) {
    for (std::string* s : {&d.id, &d.customer, &d.journey, &d.version, &d.step, &d.channel,
                           &d.template_name, &d.params_json, &d.arm, &d.cause}) {
      s->clear();
    }
    d.outcome = Outcome::kSent;
    d.reason = Reason::kNone;
    d.until_us = 0;
    d.signal_us = 0;
    d.at_us = 0;
  }
  std::vector<Decision> slots_;
  size_t used_ = 0;
};

namespace snapshot {
class PieceLoader;
class PieceEncoder;
}

class Engine::Impl {
 public:
  std::vector<Engine::PendingGroup> PendingSummary(std::string_view customer) const;
  Impl(CompiledProgram program, EngineLimits limits);

  // clock_us: decide at that time instead of the message's timestamp (serve).
  void Process(std::string_view json, DecisionSink& sink, std::optional<int64_t> clock_us);
  Status Reload(CompiledProgram next, DecisionSink& sink);
  void ApplyStaged(DecisionSink& sink);
  void AdvanceTo(int64_t time_us, DecisionSink& sink);
  // limits.cc: recounts waiting_, deferred_ and every customer's `deferred` from the
  // instances and the timer queue (after a reload or a snapshot load rebuilt them).
  void Recount();

  CompiledProgram program_;
  const ProgramSpec* spec_;
  // A program staged by another thread (StageReload), swapped in between messages.
  std::mutex staged_mutex_;
  std::optional<CompiledProgram> staged_;
  std::atomic<bool> has_staged_{false};
  EngineStats stats_;
  // Decisions by outcome and reason, counted per decision in this array and added to
  // stats_.by_outcome (keyed by text: "suppressed:cap") only when something reads the
  // stats (Stats): a decision then builds no string and looks up no map.
  static constexpr size_t kOutcomes = static_cast<size_t>(Outcome::kCompleted) + 1;
  static constexpr size_t kReasons = static_cast<size_t>(Reason::kLimit) + 1;
  std::array<std::array<uint64_t, kReasons>, kOutcomes> outcome_counts_{};
  const EngineStats& Stats();
  void SetStats(EngineStats stats);  // a restored state's
  const EngineLimits limits_;
  Batch batch_;                     // see NewBatch
  std::vector<JnValue> param_values_;  // Send: a step's evaluated params
  Message message_;                    // Process: the message decoded, its room reused
  int64_t now_us_ = 0;
  CustomerMap<CustomerState> customers_;
  TimerQueue timers_;
  std::unordered_map<uint64_t, bool> cancelled_;  // seq -> cancelled (release timers)
  uint64_t next_seq_ = 1;
  // The live timers, kept exact as state changes: instances of every customer (each
  // waits on one timer) and deferred sends still to be released. The queue is
  // compacted when it holds many more timers than these (see CompactTimers).
  uint64_t waiting_ = 0;
  uint64_t deferred_ = 0;
  WindowNeeds windows_need_;  // what the windows read, per event type
  // event type -> the journeys with an `on` for it, in arbitration order: a message
  // only costs the journeys it can trigger, however many are loaded.
  std::vector<std::vector<uint32_t>> triggered_by_;

  // changes.cc: incremental persistence (Engine::TrackChanges). With tracking on,
  // every customer a message or timer may change is listed once, and every timer
  // set, cancelled or dropped is logged, until TakeChanges encodes them.
  struct TimerChange {
    StateChanges::TimerOp::Kind kind;
    int64_t due_us;
    uint64_t seq;
    Timer timer;  // kPut: the timer as set
  };
  using CustomerEntry = CustomerMap<CustomerState>::value_type;
  bool track_changes_ = false;
  bool layouts_written_ = false;  // the current program's layouts are in the changes taken
  bool rewrite_ = false;          // the next TakeChanges hands over the whole state
  std::vector<CustomerEntry*> changed_;
  std::vector<TimerChange> timer_changes_;
  void Touch(CustomerEntry& entry) {
    if (!track_changes_ || entry.second.changed) return;
    entry.second.changed = true;
    changed_.push_back(&entry);
  }
  void LogTimer(StateChanges::TimerOp::Kind kind, const Timer& t) {
    if (!track_changes_ || rewrite_) return;
    TimerChange& c = timer_changes_.emplace_back(TimerChange{kind, t.due_us, t.seq, {}});
    if (kind == StateChanges::TimerOp::kPut) c.timer = t;
  }
  // Every timer is queued through this: in memory if it fires before the horizon,
  // else only stored (once the changes are taken).
  void PushTimer(Timer t) {
    LogTimer(StateChanges::TimerOp::kPut, t);
    if (BeyondHorizon(t)) {
      if (track_changes_) {
        ++far_timers_;
        far_untaken_.push_back(std::move(t));
        return;
      }
      ReadBackAllTimers();  // untracked, it would never reach the store
    }
    timers_.push(std::move(t));
  }
  // After a reload or a snapshot load: everything is written again.
  void MarkRewrite() {
    rewrite_ = true;
    layouts_written_ = false;
    timer_changes_.clear();
  }
  void TakeChanges(StateChanges& out, PieceForm form);

  // cache.cc: customers kept in memory as a cache over a store (Engine::UseSource).
  // The customer in memory, read from the source if it is only stored; null if it is
  // nowhere; an error if the source could not be read (the customer may be stored:
  // it must not start afresh). Marks it used.
  Result<CustomerEntry*> Resident(const std::string& id);
  // Reads every stored customer not in memory (before a reload re-lays them all); an
  // error if the source could not be read to the end.
  Status LoadEvicted();
  // A timer whose customer could not be read from the source: set again
  // kPutOffUs after the later of its due time and the time being advanced to.
  void PutOff(Timer t);
  static constexpr int64_t kPutOffUs = 1'000'000;
  size_t Evict(size_t keep);
  // Recount for a state whose customers are not all in memory: every instance timer
  // counts as a waiting instance, and the deferred sends are counted per customer
  // from the release timers.
  void RecountFromTimers();
  CustomerSource* source_ = nullptr;
  std::unique_ptr<snapshot::PieceLoader> source_pieces_;  // reads the source's pieces

  // packing.cc: customers not used for a while kept packed in memory
  // (EngineLimits::max_unpacked_customers, packed_customers.h). Only without a
  // source and without change tracking: with a store, the store's cache does this.
  PackedCustomers packed_;
  size_t pack_hand_ = 0;  // the slot of customers_ where the next pass goes on
  std::unique_ptr<snapshot::PieceEncoder> pack_encoder_;  // for the current program
  mutable std::unique_ptr<snapshot::PieceLoader> pack_loader_;  // likewise
  mutable std::string pack_scratch_;
  std::vector<uint64_t> pack_timers_;  // PackIdlePass: a customer's instance timers
  // A reload that ends none of their instances leaves packed customers packed
  // (ProgramMap::CarriesEveryInstance): their pieces, tagged other than pack_tag_, are
  // under the program before it, whose layouts are kept to read them by the rule.
  uint8_t pack_tag_ = 0;
  std::string pack_earlier_layouts_;
  mutable std::unique_ptr<snapshot::PieceLoader> pack_earlier_loader_;
  // The loader of pieces tagged `tag`; null if the earlier layouts cannot be read.
  snapshot::PieceLoader* PackLoader(uint8_t tag) const;
  // The customers packed before the last reload, unpacked (before the next one).
  void UnpackEarlier();
  uint64_t packs_ = 0;
  uint64_t unpacks_ = 0;
  // After each message and AdvanceTo: packs idle customers while more than the limit
  // are unpacked.
  void PackIdle() {
    if (limits_.max_unpacked_customers == 0 ||
        customers_.size() <= limits_.max_unpacked_customers) {
      return;
    }
    PackIdlePass();
  }
  void PackIdlePass();
  // The packed customer `id` unpacked into customers_ (marked used); null if `id` is
  // not packed (or its piece could not be read: it starts afresh, counted).
  CustomerEntry* Unpack(const std::string& id);
  // Every packed customer unpacked (before what needs them all in their working form:
  // a reload that ends instances, change tracking, absorbing, a source).
  void UnpackAll();
  // Decodes packed customer `id` into `out`, leaving it packed; false if not packed.
  bool PeekPacked(const std::string& id, CustomerState& out) const;
  // A packed customer's piece as it is, if it is this program's encoding of the
  // customer as it stands (packed under the current layouts); false otherwise.
  bool PackedPiece(const std::string& id, std::string& out) const;
  // A state replaced whole (a snapshot or a store loaded): nothing packed remains.
  void DropPacked();
  uint64_t use_tick_ = 0;
  std::map<std::string, uint64_t> ignored_events_;  // Engine::ignored_events()
  // Deferred sends of customers not in memory (CustomerState::deferred is not stored).
  std::unordered_map<std::string, uint32_t> evicted_deferred_;
  // Cache: the queue size below which CompactTimers does not run again (the stale
  // timers of customers not in memory cannot be told apart, so a pass may drop few).
  size_t compact_floor_ = 0;

  // timers.cc: the earliest timers in memory, the rest only in the source's index by
  // due time (UseSource with timers_in_memory). A timer is in memory iff its key
  // (due, seq) is at or before horizon_; the ones after it are read back, in order,
  // when the queue runs dry before a time at or after the horizon.
  using TimerKey = std::pair<int64_t, uint64_t>;
  static constexpr TimerKey kNoHorizon{INT64_MAX, UINT64_MAX};
  bool BeyondHorizon(const Timer& t) const { return TimerKey{t.due_us, t.seq} > horizon_; }
  // Reads the next `limit` timers after the horizon into memory (0: all of them) and
  // moves the horizon to the last; false if there is no horizon or the source failed
  // (the horizon then stays).
  bool ReadBackTimers(size_t limit);
  // The time AdvanceTo is advancing to (PutOff sets timers after it).
  int64_t advancing_to_ = 0;
  // Every timer in memory again (before a reload or anything that rewrites them all).
  void ReadBackAllTimers();
  // Drops the latest timers from memory while it holds over twice timer_window_ (the
  // source must hold all of them: only after their changes are written).
  void EvictTimers();
  size_t timer_window_ = 0;  // 0: every timer in memory
  TimerKey horizon_ = kNoHorizon;
  uint64_t far_timers_ = 0;  // pending after the horizon, only stored (or about to be)
  // Set after the horizon since the last TakeChanges: not in the source yet.
  std::vector<Timer> far_untaken_;

 private:
  // engine.cc
  void Index();  // trigger index and window bookkeeping of the current program
  // The customer's state, new if it has none; an error if it is only stored and the
  // source could not be read.
  Result<CustomerState*> Customer(const std::string& id);
  void HandleTrack(const Message& m, CustomerState& c, Batch& batch);
  void RecordHistory(const Message& m, CustomerState& c);
  void Goals(const Message& m, CustomerState& c, Batch& batch);
  void CheckTimeZone(const Record& before, CustomerState& c);
  void Exits(const Message& m, CustomerState& c, Batch& batch);
  void Resumes(const Message& m, CustomerState& c, Batch& batch);
  void Entries(const Message& m, CustomerState& c, Batch& batch);
  bool MayEnter(uint32_t j, const CustomerState& c, int64_t at) const;
  void FireTimer(const Timer& t, DecisionSink& sink);
  void Emit(Batch& batch, DecisionSink& sink);

  // limits.cc (EngineLimits): why a decoded message is refused before anything happens
  // (ok if it is not); `clock` is whether the caller gave an outside clock.
  Status RefuseEarly(const Message& m, bool clock);
  // Why a track is refused because its customer is at the timer bound (ok if not).
  Status RefuseTimers(const CustomerState& c);
  // dedup.cc: whether the customer already took a message of this id within the
  // window (counted, traced; the ids that left the window are forgotten); `hash` is
  // set to its id's hash for RememberMessage, once the message is taken.
  bool SeenBefore(const Message& m, CustomerState& c, uint64_t& hash);
  void RememberMessage(uint64_t hash, int64_t at_us, CustomerState& c);
  // Keeps the customer's unknown traits (bounded) after an identify.
  void KeepUnknownTraits(const Message& m, CustomerState& c);
  // Drops stale timers when the queue holds well over twice the live ones (amortized
  // O(1) per timer set: it runs only once the stale ones outnumber the live ones).
  void CompactTimers();
  // A timer that will do nothing when it fires: an instance timer whose instance is
  // gone or waits on another timer; a release taken back by arbitration.
  bool IsStale(const Timer& t) const;
  // Instances kept in waiting_: every store and erase of c.instances goes through these.
  void StoreInstance(CustomerState& c, uint32_t j, Instance inst);
  void EraseInstance(CustomerState& c, uint32_t j);
  // A deferred send set (+1) or released or taken back (-1), for its customer.
  void CountDeferred(CustomerState& c, int delta);

  // steps.cc
  void Run(uint32_t j, const std::string& customer, CustomerState& c, Instance inst,
           uint32_t step, int64_t at, Batch& batch);
  uint64_t SetTimer(int64_t due, TimerKind kind, const std::string& customer, uint32_t j);
  // Adds a lifecycle decision (entered, exited, completed, control) to the batch.
  Decision& Lifecycle(Batch& batch, uint32_t j, const std::string& customer,
                      std::string_view cause, std::string_view step, Outcome outcome,
                      int64_t at) const;
  // The batch of the message or timer being decided, cleared (one at a time: sinks
  // never call back into the engine).
  Batch& NewBatch() {
    batch_.Clear();
    return batch_;
  }

  // guardrails.cc
  void Send(uint32_t j, const StepSpec& step, const std::string& customer,
            CustomerState& c, const Instance& inst, int64_t at, Batch& batch);
  // What the guardrails say of a send: it goes now (the default), it is suppressed
  // (`suppressed` says why), or it waits out quiet hours (`defer`, until a time).
  struct Verdict {
    Reason suppressed = Reason::kNone;
    bool defer = false;
    bool goes() const { return suppressed == Reason::kNone && !defer; }
  };
  static constexpr Verdict Suppress(Reason why) { return Verdict{why, false}; }
  // Consent, cap and quiet for a send on `channel` at `at` (`until` set on a defer).
  Verdict Guardrails(uint32_t channel, const std::string& customer, CustomerState& c, int64_t at,
                     int64_t& until);
  bool Consent(uint32_t channel, const std::string& customer, CustomerState& c, int64_t at);
  Verdict CapAndQuiet(uint32_t channel, CustomerState& c, int64_t at, int64_t& until);
  void Release(const Timer& t, DecisionSink& sink);
  void TakeBack(Batch& batch, size_t index, CustomerState& c);
  // Counts a send on `channel` at `at` against its cap (if it has one).
  void RecordSend(CustomerState& c, uint32_t channel, int64_t at);

 public:
  // trace.cc: explanations (Engine::SetTrace). `tracing_` is set for each message and
  // timer: whether it is the traced customer's. Every Trace* runs only then.
  TraceSink* trace_ = nullptr;
  std::string trace_customer_;  // "": every customer
  bool tracing_ = false;
  bool Traces(std::string_view customer) const {
    return trace_ != nullptr && (trace_customer_.empty() || customer == trace_customer_);
  }

 private:
  void Trace(TraceKind kind, int depth, int64_t at, std::string_view journey,
             std::string_view step, uint32_t line, std::string_view text);
  // A message (after the timers due by its time have fired); `before`: an identify's
  // profile before it, to name what changed.
  void TraceMessage(const Message& m, const Record* before = nullptr,
                    const Record* after = nullptr);
  // A timer about to fire; `step`: the step its instance waits at.
  void TraceTimer(const Timer& t, std::string_view step);
  void TraceGoal(uint32_t j, const Message& m, const char* what);
  void TraceExit(uint32_t j, const Message& m, CustomerState& c, const Instance& inst, bool exit);
  void TraceResume(uint32_t j, const Message& m, const Instance& inst, bool ok);
  // A journey the message may start: why it may not, or each clause and the verdict.
  void TraceEntering(uint32_t j, const Message& m, CustomerState& c, std::string_view refused,
                     bool entered);
  // Why the customer may not enter journey `j` at `at` ("" if it may).
  std::string RefuseEntry(uint32_t j, const CustomerState& c, int64_t at) const;
  // Each clause of `clauses` (those of `event_type` only, unless -1) with its value.
  void TraceClauses(uint32_t j, const std::vector<ClauseSpec>& clauses, int64_t event_type,
                    const Message& m, CustomerState& c, int depth);
  // A step as Run takes it. `to`: the step a branch or split goes on to; `detail`: a
  // wait's due time, a split's point.
  void TraceStep(uint32_t j, const StepSpec& s, int64_t at, uint32_t to, int64_t detail);
  // A guardrail of the send being decided (trace_journey_, trace_step_id_).
  void TraceGuard(int64_t at, std::string_view text);
  void TraceDeadline(const JourneySpec& journey, int64_t signal, int64_t at);
  void TraceApproval(const JourneySpec& journey, int64_t at);
  // The channel's consent, its value and the traits it read.
  void TraceConsent(const ChannelSpec& ch, const CustomerState& c, bool given, int64_t at);
  void TraceLimit(const StepSpec& s, const GuardSpec& g, const JnValue& value, bool over,
                  int64_t at);
  // `holder`: the journey holding the channel in this batch (-1: none).
  void TraceArbitration(uint32_t channel, int64_t holder, uint32_t j, int64_t at);
  // `sent`: the channel's sends still in the cap's period (null: none yet).
  void TraceCap(uint32_t channel, const CompactVector<int64_t>* sent, int64_t at, bool capped);
  void TraceQuiet(uint32_t channel, std::string_view tz, int minute, const Verdict& verdict,
                  int64_t until, int64_t at);
  void TraceDecision(const Decision& d);
  int trace_depth_ = 2;  // the depth of the steps Run takes (1 after a timer)
  uint32_t trace_journey_ = 0;     // the journey whose send is being decided
  std::string_view trace_step_id_;  // and its step

 public:
  // windows.cc: the JnContext for a decision about `customer` at `at`.
  struct EvalHost {
    Impl* engine;
    CustomerState* customer;
    int64_t at;
    // Results of lower/upper/+ during this decision (stable addresses), made at the
    // first: nearly always none, and then a host costs nothing to destroy.
    std::unique_ptr<std::forward_list<std::string>> strings;
  };
  JnContext Context(EvalHost& host, std::string_view customer, const Record* event) const;
  JnValue Window(EvalHost& host, uint32_t slot);

 private:
  // windows.cc. A window over an event type whose `where` reads only the event has a
  // bit in the where bits its type's events keep (their results, evaluated once per
  // event); where_bit_: window slot -> that bit (-1: none); where_windows_: event
  // type -> the windows with a bit, in bit order (at most 64 per type).
  std::vector<int> where_bit_;
  std::vector<std::vector<uint32_t>> where_windows_;
  void IndexWindows();
  // Evaluates the where bits of `history`'s held events up to `index` (absolute).
  void WhereBits(CustomerState& c, uint32_t event_type, EventHistory& history, uint64_t index);
  // A count with a `where` or a sum, kept running (EventHistory::runs): O(1) per event that
  // entered or left the window since its last read. False if the exact float sum
  // overflowed: then ScanWindow.
  bool RunningWindow(EvalHost& host, uint32_t slot, EventHistory& history, JnValue& v);
  // Visits the window's events [first, last): a window of a few events, or with a
  // `where` that reads more than the event (evaluated here, for each event).
  void ScanWindow(EvalHost& host, const WindowSpec& w, uint32_t slot, const EventHistory& history,
                  EventHistory::const_iterator first, EventHistory::const_iterator last,
                  JnValue& v);
  // Whether the event with absolute index `index` counts in window `slot`.
  bool Passes(EvalHost& host, const WindowSpec& w, uint32_t slot, const EventHistory& history,
              uint64_t index);

 public:
  static JnValue WindowCallback(void* host, uint32_t slot);
  static const char* AllocCallback(void* host, const char* data, uint32_t len);
};


// Renders a value as JSON (strings escaped, times as ISO-8601, durations in seconds).
void AppendJsonValue(const JnValue& v, std::string& out);

}  // namespace juncture::runtime
