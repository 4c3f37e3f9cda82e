// The embeddable engine: feed it input messages (JSON bytes), get decisions.
//
//   juncture::runtime::Engine engine(program);
//   engine.Process(json_line, sink);   // timers due up to the message's time fire first
//   engine.AdvanceTo(t, sink);         // fire timers up to t (virtual or wall clock)
//
// Time is whatever the caller says: `juncture run` drives it from the messages'
// timestamps (virtual time), `juncture serve` from the wall clock. Per-customer state
// (profile, windows, journey instances, caps, timers, deferred sends) lives in the
// engine. The language is docs/language.md; docs/semantics.md records how the engine
// reads it.
//
// Not thread-safe: one thread drives an Engine. Bad messages never throw: they go to
// the sink's dead-letter output with a reason, and nothing else is affected. Bounds
// (EngineLimits) keep hostile input from moving virtual time or growing state without
// limit.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "juncture/runtime/program.h"
#include "juncture/status.h"

namespace juncture::runtime {

// What came of a step or a walk (docs/wire.md, "Decisions out").
// (The engine counts decisions in an array sized by the last of each: a new value
// goes before kCompleted, or kLimit, or the engine's Impl::kOutcomes / kReasons
// change with it.)
enum class Outcome : uint8_t {
  kSent, kDeferred, kSuppressed, kControl, kConverted, kEntered, kExited, kCompleted,
};
// Why a send was suppressed (Outcome::kSuppressed); kNone for every other outcome.
enum class Reason : uint8_t {
  kNone, kLate, kConsent, kCap, kQuiet, kArbitration, kUnapproved, kLimit,
};
// Their names on the wire: "sent", "deferred", ...; "late", "consent", ... ("" for
// Reason::kNone).
const char* ToString(Outcome outcome);
const char* ToString(Reason reason);
// The inverse: nullopt if `text` names none (Reason: "" is kNone).
std::optional<Outcome> ParseOutcome(std::string_view text);
std::optional<Reason> ParseReason(std::string_view text);

// One decision (docs/language.md). Lifecycle decisions (entered, exited, completed)
// have no channel; control decisions have neither channel nor template.
struct Decision {
  std::string id;        // stable: cause, journey, step (+ a suffix for releases/lifecycle)
  std::string customer;
  std::string journey;
  std::string version;
  std::string step;
  std::string channel;   // "" if none
  std::string template_name;
  std::string params_json;  // a JSON object, "" if the step has no params
  Outcome outcome = Outcome::kSent;
  Reason reason = Reason::kNone;  // suppressed: why
  std::string arm;       // converted: "treatment" or "control" (the entry was held out)
  int64_t until_us = 0;  // deferred: release time
  int64_t signal_us = 0; // sends: when their signal was captured (the deadline counts
                         // from it; split times start there)
  std::string cause;     // messageId of the message that led here
  int64_t at_us = 0;     // decision time

  // The decision as one JSON line (docs/semantics.md, "Decisions"; no trailing newline).
  std::string ToJson() const;
  // The same, appended to `out` (no allocation once `out` has the room).
  void AppendJson(std::string& out) const;
};

// Appends `s` as a JSON string literal (quotes and escapes) to `out`. The output is
// always valid UTF-8, whatever `s` holds: each ill-formed sequence of `s` (a stray
// byte, a truncated, overlong or surrogate sequence, a code point above U+10FFFF)
// becomes one U+FFFD; control characters are escaped.
void AppendJsonString(std::string_view s, std::string& out);

// True if `s` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
// above U+10FFFF).
bool IsValidUtf8(std::string_view s);

// A dead letter as one JSON object (no trailing newline), valid UTF-8 in every case:
//   {"reason":"...","message":"<the message, escaped>"}   if the message is valid UTF-8
//   {"reason":"...","message_base64":"<base64 of its bytes>"}   otherwise
// so that the exact bytes of any message can be recovered (RFC 4648 base64, padded).
std::string DeadLetterJson(std::string_view message, std::string_view reason);

// Receives the engine's output during Process/AdvanceTo/Reload. A Decision passed to
// OnDecision is valid for that call only (the engine reuses it); copy what you keep.
// A sink must not call back into the engine.
class DecisionSink {
 public:
  virtual ~DecisionSink() = default;
  virtual void OnDecision(const Decision& d) = 0;
  // A message that could not be used; `message` is its raw text.
  virtual void OnDeadLetter(std::string_view message, const std::string& reason) = 0;
};

struct EngineStats {
  uint64_t messages = 0;
  uint64_t dead_letters = 0;  // every dead letter, the rejected_* below included
  uint64_t ignored = 0;       // tracks (pages, screens) of undeclared events
  uint64_t ignored_calls = 0; // group and alias calls: accepted, not used
  // Messages whose messageId the engine had already taken for that customer within
  // EngineLimits::dedup_window_us: not decided again.
  uint64_t duplicates = 0;
  uint64_t decisions = 0;
  uint64_t timers_fired = 0;
  uint64_t div_by_zero = 0;
  uint64_t reloads = 0;
  std::map<std::string, uint64_t> by_outcome;  // "sent", "suppressed:cap", ...

  // Where the engine's bounds (EngineLimits, docs/limits.md) were hit. The rejected_*
  // messages are dead letters (also counted in dead_letters).
  uint64_t rejected_skew = 0;         // dated more than max_skew after now() (virtual time)
  uint64_t rejected_customer_id = 0;  // userId/anonymousId longer than max_customer_id_bytes
  uint64_t rejected_timer_limit = 0;  // tracks of a customer at max_timers_per_customer
  uint64_t dropped_window_events = 0;   // oldest events dropped beyond max_window_events
  uint64_t dropped_unknown_traits = 0;  // unknown traits not kept beyond max_unknown_traits
  // Customers whose profile.timezone is not a time zone (local times use UTC for
  // them); each customer counted once.
  uint64_t unknown_timezones = 0;
  // Not a bound: stale timers (of instances that exited or moved on, of sends taken back
  // by arbitration) dropped from the timer queue before their due time.
  uint64_t compacted_timers = 0;
  // A cache of customers (Engine::UseSource): customers read from the store when first
  // needed, dropped from memory by Evict, and stored pieces that could not be read
  // (the customer then starts afresh). Not stored with the state.
  // A store that could not be read when a customer was needed counts too: its message
  // is then refused (a dead letter) and its timer put off, never started afresh.
  uint64_t customers_loaded = 0;
  uint64_t customers_evicted = 0;
  uint64_t customers_unreadable = 0;
  // Reloads that did not happen: the store could not be read back (Engine::Reload).
  uint64_t reloads_failed = 0;
  // Timers only stored (UseSource with timers_in_memory): read back as the clock
  // reached them, dropped from memory by Evict, and stored pieces that could not be
  // read (or a store that failed to answer: they are tried again later).
  uint64_t timers_read_back = 0;
  uint64_t timers_evicted = 0;
  uint64_t timers_unreadable = 0;
};

// Bounds on what hostile or runaway input can make the engine keep (docs/limits.md).
// Each is counted in EngineStats when hit; 0 turns a bound off. The command line sets
// them with the options named below (juncture run, test and serve).
struct EngineLimits {
  // Virtual time only (Process without an outside clock): a message dated more than
  // this after now() is a dead letter and changes nothing, so that one message from
  // the far future cannot move the clock and fire every customer's timers. Not checked
  // before the first message (now() == 0). `--max-skew`, default 365 days: above the
  // gaps of a sparse replay (a win-back stream has months between two messages), far
  // below a mistyped year.
  int64_t max_skew_us = int64_t{365} * 24 * 3600 * 1'000'000;
  // The longest customer id (userId or anonymousId) in bytes; a message with a longer
  // one is a dead letter. `--max-customer-id-bytes`, default 512.
  uint64_t max_customer_id_bytes = 512;
  // Pending waits plus deferred sends of one customer. A track for a customer who
  // already has this many (counted after the timers due by its time have fired) is a
  // dead letter and changes none of the customer's state; identifies still apply (they
  // set no timer). One track, or a timer, may take a customer past the bound by what
  // its journeys do in one go. `--max-timers-per-customer`, default 1,000.
  uint64_t max_timers_per_customer = 1000;
  // Events kept per customer and event type for windows: beyond it the oldest is
  // dropped, so a count() or sum() then covers at most this many of the latest events.
  // `--max-window-events`, default 10,000.
  uint64_t max_window_events = 10000;
  // Unknown traits (identify traits the schema does not declare) kept per customer;
  // traits beyond it are dropped (the message is still used; known ones still update).
  // `--max-unknown-traits`, default 64.
  uint64_t max_unknown_traits = 64;
  // Deduplication: a message (track, identify, page, screen) whose messageId the
  // engine already took for the same customer less than this long before (by decision
  // time) is ignored and counted (EngineStats::duplicates), as at-least-once pipelines
  // deliver some messages twice. `--dedup-window`, default 24 hours; 0 turns it off.
  int64_t dedup_window_us = int64_t{24} * 3600 * 1'000'000;
  // The message ids remembered per customer for it (the latest; a 64-bit hash and a
  // time each, 16 bytes): a duplicate that comes back after this many newer messages
  // of its customer is decided again. `--max-dedup-ids`, default 256.
  uint64_t max_dedup_ids = 256;
  // Customers kept in their working form (about 800 bytes each with a profile, a
  // waiting instance and a window): beyond it, those not used for a while are kept
  // packed, as their stored piece compressed (about 125 bytes), and unpacked by their
  // next message or timer (about 12 microseconds more for that message). Decisions
  // are the same either way. Not with a store (TrackChanges, UseSource), whose cache
  // does this. `--max-unpacked-customers`, default 65,536; 0 never packs.
  uint64_t max_unpacked_customers = 65536;
};

struct StateChanges;

// How TakeChanges writes a customer's piece (juncture/runtime/state_changes.h).
enum class PieceForm : uint8_t {
  kWhole,  // each changed customer whole, a CBOR map (the first form)
  // The second form (juncture/runtime/pieces.h): whole on a rewrite; otherwise only
  // what changed since the last TakeChanges, as a change to the piece stored then.
  kDelta,
};
class StateRestorer;
class TraceSink;
class CustomerSource;

class Engine {
 public:
  explicit Engine(CompiledProgram program, EngineLimits limits = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Decodes and processes one message. Timers due at or before its timestamp fire
  // first, in time order. (Virtual time: `juncture run`, tests.)
  void Process(std::string_view json, DecisionSink& sink);
  // The same on an outside clock (`juncture serve`): the message is decided at
  // `time_us` (its receipt time), not at its own timestamp. Windows, waits, caps and
  // quiet hours use `time_us`; the event's `timestamp` stays in its record. The
  // engine's time never goes back: a `time_us` before now() is taken as now().
  void Process(std::string_view json, DecisionSink& sink, int64_t time_us);
  // Fires every timer due at or before `time_us`, in time order.
  void AdvanceTo(int64_t time_us, DecisionSink& sink);

  // Hot reload: replaces the program between two messages, keeping every customer's
  // state by the rule of docs/semantics.md ("Reloading"), which LoadSnapshot follows
  // too: instances move to the new version of their journey at the step with the same
  // id and kind, or end with an `exited` decision (step "reload") if that step is gone
  // or their event can no longer be `event`; events and profiles are re-laid out field
  // by field; caps, windows and timers carry over by name. Reload applies now;
  // StageReload may be called from any thread and takes effect before the next
  // message or AdvanceTo. The caller compiles the new program; one that failed to
  // compile is never passed here. A program with the same spec (the same pointer: the
  // same compilation on another back end) only swaps the evaluator: O(1), no state
  // is touched. With customers or timers only in a store (UseSource), they are read
  // back first; if the store cannot be read, the reload does not happen (the running
  // program stays, nothing changed) and Reload returns the store's error (a staged
  // reload counts it in EngineStats::reloads_failed).
  Status Reload(CompiledProgram next, DecisionSink& sink);
  void StageReload(CompiledProgram next);

  // Checkpoints (docs/semantics.md, "Snapshots"). SaveSnapshot serializes every piece
  // of state that affects future decisions (time, customers with their profiles,
  // instances, re-entry times, cap logs and window history, pending timers and
  // deferred sends, the timer sequence, stats) as versioned, checksummed CBOR, with
  // the caller's opaque `position` (e.g. the last input offset) stored alongside.
  // LoadSnapshot replaces this engine's state with a snapshot's, typically on a
  // freshly constructed Engine: the program may have changed since the save (the
  // state is carried onto it by the rule of a reload; what a reload would end is
  // dropped silently). Returns the snapshot's `position`; or, on bytes that are not a
  // complete, intact snapshot, a one-line error (kCorruption; kFailedPrecondition for
  // a format version this engine does not read), and then changes nothing. Never
  // throws on bad bytes.
  std::string SaveSnapshot(std::string_view position = {}) const;
  Result<std::string> LoadSnapshot(std::string_view bytes);

  // Incremental persistence (juncture/runtime/state_changes.h, docs/state.md): with
  // tracking on, the engine records which customers and timers each message, timer
  // and reload changed; TakeChanges hands them over, encoded, and starts afresh. Off
  // by default, and then free. Turn it on right after restoring (or on a fresh
  // engine): what happened while it was off is not in the changes (a reload or a
  // snapshot load always makes the next TakeChanges a whole rewrite).
  void TrackChanges(bool on);
  void TakeChanges(StateChanges& out, PieceForm form = PieceForm::kWhole);
  // A cache over a store (docs/state.md, "State larger than memory"): customers not
  // in memory are read from `source` when a message or timer needs them. With
  // `timers_in_memory` > 0, only about that many of the earliest pending timers stay
  // in memory too (never fewer, at most twice as many): the later ones are read back
  // from the source's index by due time when the clock reaches them, and fire in the
  // same order. Before the state is restored (with StateRestorer::Lazy), with change
  // tracking on.
  void UseSource(CustomerSource* source, size_t timers_in_memory = 0);
  // Moves every customer, pending timer and deferred send of `other` (an engine of the
  // same program deciding for other customers: another shard's share) into this one,
  // leaving `other` empty; for re-sharding a state. Timers are renumbered after this
  // engine's own, each keeping its order among its engine's (decision ids do not
  // depend on the numbers). The engine's time becomes the later of the two; its
  // counters (stats) stay this engine's. The next TakeChanges is a whole rewrite.
  // Both engines hold their whole state (no UseSource).
  void Absorb(Engine& other);
  // Drops the least recently used customers from memory until at most `keep` remain
  // (down to 90% of it, so that passes are rare), and the latest timers beyond twice
  // `timers_in_memory`. Only when every change was taken and is written (the store
  // has them); a no-op otherwise. Returns how many customers went.
  size_t Evict(size_t keep);
  // Explanations (juncture/runtime/trace.h): from now on, tells `sink` everything the
  // engine considers for `customer` ("" for every customer) as it decides; null turns
  // it off. `sink` must outlive the engine or the next SetTrace. The value of each
  // header clause and segment needs a program compiled for explaining
  // (ProgramSpec::explain); without it a trace lists them without their values. Off,
  // it costs the test of one flag where the engine would report.
  void SetTrace(TraceSink* sink, std::string customer = {});
  // The latest time seen (messages or AdvanceTo); 0 before anything.
  int64_t now() const;
  // The due time of the next pending timer, or INT64_MAX. With timers only stored
  // (UseSource), possibly earlier than it, never later: AdvanceTo that time reads
  // them back.
  int64_t next_timer() const;
  // Customers with state (in memory, packed or not), and timers pending (including
  // stale ones not yet dropped, and those only stored).
  size_t customers() const;
  // Customers kept packed (EngineLimits::max_unpacked_customers): how many, the bytes
  // of their blocks, the table's and the dictionary's bytes, and how many times a
  // customer was packed and unpacked since the engine started.
  struct PackedStats {
    size_t customers = 0;
    size_t bytes = 0;
    size_t overhead_bytes = 0;
    uint64_t packs = 0;
    uint64_t unpacks = 0;
  };
  PackedStats packed() const;
  size_t pending_timers() const;
  // Pending timers in memory (pending_timers() less those only stored).
  size_t timers_in_memory() const;
  // A customer's pending waits plus deferred sends: what max_timers_per_customer bounds.
  size_t timers_of(std::string_view customer) const;
  // The live timers in memory, grouped: per journey, step and kind, how many and the
  // earliest due time (`juncture run` lists them at the end of its input). In
  // journey, step (in source order), kind order. Only `customer`'s if not empty.
  struct PendingGroup {
    std::string journey;
    std::string step;  // the step waited at ("" for a deferred send)
    std::string what;  // "wait", "wait until", "deferred send on <channel>"
    uint64_t count = 0;
    int64_t next_due_us = 0;
  };
  std::vector<PendingGroup> PendingSummary(std::string_view customer = {}) const;
  // Tracks of event names the program does not declare, by name (at most 64 names are
  // told apart; more go under "(other names)").
  const std::map<std::string, uint64_t>& ignored_events() const;
  const EngineLimits& limits() const;
  const EngineStats& stats() const;
  const ProgramSpec& spec() const;
  // The back end deciding: "interpreter" or "jit".
  const char* evaluator_name() const;

 private:
  friend class StateRestorer;
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace juncture::runtime
