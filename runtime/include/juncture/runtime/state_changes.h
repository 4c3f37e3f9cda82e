// Incremental persistence of an Engine's state (docs/state.md): instead of writing
// the whole state as one snapshot, a store writes only what changed.
//
//   engine.TrackChanges(true);           // once, after restoring
//   engine.Process(message, sink, t);    // ... any number of messages and timers
//   StateChanges changes;
//   engine.TakeChanges(changes);         // what they changed, in pieces to write
//
// and, at the next start, StateRestorer puts the pieces back together. The pieces
// are CBOR in the snapshot's own encodings (docs/semantics.md, "Snapshots"): one
// per customer (its profile, instances, goals, caps, windows), one per pending timer,
// plus the engine-wide values and the record layouts of the program that wrote them.
// They are named (journeys, steps, channels, event types, fields), so pieces
// written under one program load into an edited one by the reload rule.
//
// With PieceForm::kDelta, a customer's piece is of the second form (pieces.h), and
// one already stored is handed over as a change to it: its bounded part plus the ids
// and window times it gained, whatever its history holds. A store that takes such
// changes applies them in order (pieces::Fold).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "juncture/runtime/runtime.h"

namespace juncture::runtime {

struct StateChanges {
  // The pieces below are the whole state: drop every stored customer and timer first
  // (after a reload, which may have re-laid every record).
  bool rewrite = false;
  std::string layouts;  // CBOR, when they changed (always with `rewrite`); else ""
  std::string globals;  // CBOR: now, next timer sequence, stats (every time)

  struct Customer {
    std::string id;
    std::string value;  // CBOR (PieceForm::kWhole) or a piece of the second form
    // The value is a change to the piece stored under `id` (PieceForm::kDelta), to be
    // applied to it (pieces::Fold), not a piece that replaces it.
    bool delta = false;
  };
  // Changed customers, in the order they must be applied: an id may repeat, and a
  // whole piece replaces what came before it, a change applies to it.
  std::vector<Customer> customers;

  // Pending timers, in the order the engine changed them: a timer set (kPut, with
  // its CBOR), a deferred send taken back (kCancel), a timer fired or dropped (kErase).
  // A timer is keyed by (due_us, seq), unique and in firing order.
  struct TimerOp {
    enum Kind : uint8_t { kPut, kCancel, kErase } kind = kPut;
    int64_t due_us = 0;
    uint64_t seq = 0;
    std::string value;     // kPut only
    std::string customer;  // kPut only: whose timer it is
  };
  std::vector<TimerOp> timers;

  bool empty() const { return !rewrite && customers.empty() && timers.empty(); }
  void Clear();
  // Appends the later changes `next` (a store that could not write these keeps them
  // and writes both together).
  void Append(StateChanges&& next);
  // Drops what later pieces make moot, keeping the effect of writing them in order:
  // a customer listed twice keeps one piece (its last whole piece with the changes
  // after it folded in, or its changes folded into one); a timer both set and dropped
  // here goes with its cancellation. O(size). (A store that keeps failing calls it as
  // its backlog doubles, so that the backlog grows with the state, not with the time.)
  void Compact();
};

// Where an engine that keeps only its recently used customers in memory finds the
// others (Engine::UseSource): the store its changes are written to. Pieces are those
// of StateChanges::customers, under the program's current layouts.
class CustomerSource {
 public:
  virtual ~CustomerSource() = default;
  // The stored piece of `customer` into *piece: true if one is stored, false if none
  // is; an error if the store could not be read (then the engine neither starts the
  // customer afresh nor decides for it: its message is refused, its timer put off).
  virtual Result<bool> Find(std::string_view customer, std::string* piece) = 0;
  // Every stored customer and piece (before a reload, which re-lays every customer).
  // An error if the store could not be read to the end.
  virtual Status ForEach(
      const std::function<void(std::string_view customer, std::string_view piece)>& fn) = 0;
  // The stored timers after the key (due_us, seq), in firing order, at most `limit`
  // (0: all of them), each as its piece (those of StateChanges::TimerOp), including
  // those handed over but not yet written. For an engine that keeps only its earliest
  // timers in memory. An error if the store could not be read.
  virtual Status TimersAfter(
      int64_t due_us, uint64_t seq, size_t limit,
      const std::function<void(int64_t due_us, uint64_t seq, std::string_view piece)>& fn) = 0;
};

// Rebuilds an engine's state from stored pieces, all or nothing: nothing reaches the
// engine before Finish, and a piece that is not intact makes the whole restore fail.
class StateRestorer {
 public:
  explicit StateRestorer(Engine& engine);
  ~StateRestorer();
  StateRestorer(const StateRestorer&) = delete;
  StateRestorer& operator=(const StateRestorer&) = delete;

  // Restores only the customers `keep` accepts, and their timers (one shard's share
  // of a store written by a single engine), for a store of their own: the next
  // TakeChanges hands over the whole restored state. Before any piece.
  void Only(std::function<bool(std::string_view customer)> keep);
  // After Layouts: true if the stored pieces are laid out as the engine's program lays
  // them out, so that customers can be read one by one when first needed
  // (Engine::UseSource) instead of all at once.
  bool LayoutsMatch() const;
  // The customers are left where they are stored (the engine uses a CustomerSource):
  // no Customer piece is given. Timers must then come in firing order (as the store
  // keeps them): if the engine keeps only its earliest timers in memory
  // (Engine::UseSource), the later ones are counted, not kept. Before any piece but
  // the layouts.
  void Lazy();
  // The next TakeChanges hands over the whole restored state (a store that changes
  // the form of what it holds writes it all again). Before Finish.
  void Rewrite();

  // Each returns an error (a corruption error, one line) on a piece it cannot read.
  // Layouts come before any customer or timer; the others in any order.
  Status Layouts(std::string_view cbor);
  Status Globals(std::string_view cbor);
  Status Customer(std::string_view id, std::string_view cbor);
  Status Timer(std::string_view cbor);
  void Cancelled(uint64_t seq);
  // Replaces the engine's state with what was read.
  void Finish();

  size_t customers() const;
  size_t timers() const;

 private:
  struct Impl;
  Engine& engine_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace juncture::runtime
