// The engine's internals: per-customer state, timers, and the decision procedure.
// Private to runtime/exec/.
#pragma once

#include <cstdint>
#include <atomic>
#include <forward_list>
#include <mutex>
#include <map>
#include <optional>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "flat_map.h"
#include "juncture/runtime/event.h"
#include "juncture/runtime/runtime.h"

namespace juncture::runtime {

// A customer's place in one journey.
struct Instance {
  uint32_t step = 0;        // the step it waits at (wait / wait until)
  RecordPtr event;          // the event that last moved it (`event` in expressions)
  std::string cause;        // that event's messageId
  uint64_t timer = 0;       // sequence number of its live timer, 0 if none
};

// Everything the engine keeps per customer. Only windows the program reads are kept.
struct CustomerState {
  std::shared_ptr<Record> profile;
  std::vector<std::pair<std::string, std::string>> unknown_traits;
  FlatMap<uint32_t, Instance> instances;               // journey index -> instance
  FlatMap<uint32_t, int64_t> last_entry;               // journey index -> time
  // channel -> times of sends still inside its cap's period; kept only for capped
  // channels, and empty (no allocation) until the customer's first capped send.
  std::vector<std::vector<int64_t>> sent_at;
  // event type -> (time, event) of its events inside the longest window over it
  FlatMap<uint32_t, std::vector<std::pair<int64_t, RecordPtr>>> history;
  FlatMap<uint32_t, int64_t> last_seen;                // event type -> time (time_since)
};

enum class TimerKind : uint8_t { kResume, kTimeout, kRelease };

struct Timer {
  int64_t due_us = 0;
  uint64_t seq = 0;  // creation order: ties fire in the order they were set
  TimerKind kind = TimerKind::kResume;
  std::string customer;
  uint32_t journey = 0;
  std::shared_ptr<Decision> deferred;  // kRelease: the deferred send
  uint32_t channel = 0;                // kRelease: the send's channel
  bool operator>(const Timer& o) const {
    return due_us != o.due_us ? due_us > o.due_us : seq > o.seq;
  }
};

// Decisions of one message (or one timer) before they are emitted: arbitration may
// still turn a send into `suppressed arbitration`. The engine keeps one Batch and
// clears it for every message: a cleared decision slot keeps the capacity of its
// strings, so a steady stream decides without allocating for its decisions.
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
                           &d.template_name, &d.params_json, &d.outcome, &d.reason, &d.cause}) {
      s->clear();
    }
    d.until_us = 0;
    d.at_us = 0;
  }
  std::vector<Decision> slots_;
  size_t used_ = 0;
};

class Engine::Impl {
 public:
  explicit Impl(CompiledProgram program);

  // clock_us: decide at that time instead of the message's timestamp (serve).
  void Process(std::string_view json, DecisionSink& sink, std::optional<int64_t> clock_us);
  void Reload(CompiledProgram next, DecisionSink& sink);
  void ApplyStaged(DecisionSink& sink);
  void AdvanceTo(int64_t time_us, DecisionSink& sink);

  CompiledProgram program_;
  const ProgramSpec* spec_;
  // A program staged by another thread (StageReload), swapped in between messages.
  std::mutex staged_mutex_;
  std::optional<CompiledProgram> staged_;
  std::atomic<bool> has_staged_{false};
  EngineStats stats_;
  Batch batch_;                     // see NewBatch
  std::vector<JnValue> param_values_;  // Send: a step's evaluated params
  int64_t now_us_ = 0;
  std::unordered_map<std::string, CustomerState> customers_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
  std::unordered_map<uint64_t, bool> cancelled_;  // seq -> cancelled (release timers)
  uint64_t next_seq_ = 1;
  std::vector<int64_t> history_span_;  // event type -> longest window over it (0: none)
  std::vector<bool> tracks_last_seen_;  // event type -> some time_since reads it
  // event type -> the journeys with an `on` for it, in arbitration order: a message
  // only costs the journeys it can trigger, however many are loaded.
  std::vector<std::vector<uint32_t>> triggered_by_;

 private:
  // engine.cc
  void Index();  // trigger index and window bookkeeping of the current program
  CustomerState& Customer(const std::string& id);
  void HandleTrack(const Message& m, CustomerState& c, Batch& batch);
  void RecordHistory(const Message& m, CustomerState& c);
  void Exits(const Message& m, CustomerState& c, Batch& batch);
  void Resumes(const Message& m, CustomerState& c, Batch& batch);
  void Entries(const Message& m, CustomerState& c, Batch& batch);
  bool MayEnter(uint32_t j, const CustomerState& c, int64_t at) const;
  void FireTimer(const Timer& t, DecisionSink& sink);
  void Emit(Batch& batch, DecisionSink& sink);

  // steps.cc
  void Run(uint32_t j, const std::string& customer, CustomerState& c, Instance inst,
           uint32_t step, int64_t at, Batch& batch);
  uint64_t SetTimer(int64_t due, TimerKind kind, const std::string& customer, uint32_t j);
  // Adds a lifecycle decision (entered, exited, completed, control) to the batch.
  Decision& Lifecycle(Batch& batch, uint32_t j, const std::string& customer,
                      const Instance& inst, const std::string& step, const char* outcome,
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
  // Consent, cap and quiet for a send on `channel` at `at`: "" if it may go now,
  // otherwise the suppression reason, or "defer" with `until` set.
  std::string Guardrails(uint32_t channel, const std::string& customer, CustomerState& c,
                         int64_t at, int64_t& until);
  bool Consent(uint32_t channel, const std::string& customer, CustomerState& c, int64_t at);
  std::string CapAndQuiet(uint32_t channel, CustomerState& c, int64_t at, int64_t& until);
  void Release(const Timer& t, DecisionSink& sink);
  void TakeBack(Batch& batch, size_t index, CustomerState& c);
  // Counts a send on `channel` at `at` against its cap (if it has one).
  void RecordSend(CustomerState& c, uint32_t channel, int64_t at);

 public:
  // windows.cc: the JnContext for a decision about `customer` at `at`.
  struct EvalHost {
    Impl* engine;
    CustomerState* customer;
    int64_t at;
    // Results of lower/upper/+ during this decision (stable addresses; no allocation
    // while empty, which is nearly always).
    std::forward_list<std::string> strings;
  };
  JnContext Context(EvalHost& host, const std::string& customer, const Record* event) const;
  JnValue Window(EvalHost& host, uint32_t slot);
  static JnValue WindowCallback(void* host, uint32_t slot);
  static const char* AllocCallback(void* host, const char* data, uint32_t len);
};

// Renders a value as JSON (strings escaped, times as ISO-8601, durations in seconds).
void AppendJsonValue(const JnValue& v, std::string& out);

}  // namespace juncture::runtime
