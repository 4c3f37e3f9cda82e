// Incremental persistence (juncture/runtime/state_changes.h): what the engine changed
// since the last TakeChanges, encoded piece by piece, and StateRestorer, which puts
// stored pieces back together.
//
// Tracking costs one flag test per customer touched and one log entry per timer set,
// cancelled or dropped; the encoding happens in TakeChanges, once per customer per
// call however many messages changed it in between.
#include <algorithm>

#include "exec/engine_impl.h"
#include "exec/snapshot.h"
#include "juncture/runtime/pieces.h"

namespace juncture::runtime {

void StateChanges::Clear() {
  rewrite = false;
  layouts.clear();
  globals.clear();
  customers.clear();
  timers.clear();
}

void StateChanges::Append(StateChanges&& next) {
  if (next.rewrite) {  // the later whole state replaces everything before it
    *this = std::move(next);
    return;
  }
  if (!next.layouts.empty()) layouts = std::move(next.layouts);
  if (!next.globals.empty()) globals = std::move(next.globals);
  for (Customer& c : next.customers) customers.push_back(std::move(c));
  for (TimerOp& t : next.timers) timers.push_back(std::move(t));
}

void StateChanges::Compact() {
  // Each id's pieces in order into one: a whole piece replaces what came before it, a
  // change is folded into what came before it (pieces.h: folding is associative).
  std::vector<Customer> kept;
  kept.reserve(customers.size());
  std::unordered_map<std::string, size_t> at;  // id -> its piece in `kept`
  std::string folded;
  for (Customer& c : customers) {
    auto [it, first] = at.try_emplace(c.id, kept.size());
    Customer* into = first ? nullptr : &kept[it->second];
    if (into != nullptr && c.delta) {
      const std::string_view pair[] = {into->value, c.value};
      if (pieces::Fold(pair, /*bottom=*/!into->delta, folded)) {
        into->value.swap(folded);
        continue;
      }
      into = nullptr;  // a malformed piece (a bug): both kept, in order
    }
    if (into != nullptr) {
      *into = std::move(c);
    } else {
      it->second = kept.size();
      kept.push_back(std::move(c));
    }
  }
  customers = std::move(kept);
  // Timers set here and dropped here never need to reach the store.
  std::unordered_map<uint64_t, bool> set_here, moot;
  for (const TimerOp& t : timers) {
    if (t.kind == TimerOp::kPut) set_here[t.seq] = true;
    if (t.kind == TimerOp::kErase && set_here.count(t.seq)) moot[t.seq] = true;
  }
  std::erase_if(timers, [&](const TimerOp& t) { return moot.count(t.seq) > 0; });
}

namespace {

// The customer's streams are in the changes taken: what enters them from now on is new.
void ClearFresh(CustomerState& c) {
  c.seen_fresh = 0;
  for (auto& [e, h] : c.history) h.ClearFresh();
}

}  // namespace

void Engine::Impl::TakeChanges(StateChanges& out, PieceForm form) {
  using Op = StateChanges::TimerOp;
  out.Clear();
  out.globals = snapshot::EncodeGlobalsPiece(now_us_, next_seq_, Stats());
  if (!layouts_written_) {
    out.layouts = snapshot::EncodeLayoutsPiece(*spec_);
    layouts_written_ = true;
  }
  for (CustomerEntry* entry : changed_) entry->second.changed = false;
  snapshot::PieceEncoder pieces(*spec_);
  const bool delta = form == PieceForm::kDelta;
  if (rewrite_) {
    ReadBackAllTimers();  // (none only stored: whatever set rewrite_ read them back)
    out.rewrite = true;
    out.customers.reserve(customers_.size());
    for (auto& [id, c] : customers_) {
      out.customers.push_back({id, delta ? pieces.Full(c) : pieces.Customer(c), false});
      ClearFresh(c);
    }
    for (const Timer& t : timers_.elements()) {
      out.timers.push_back(
          Op{Op::kPut, t.due_us, t.seq, snapshot::EncodeTimerPiece(*spec_, t), t.customer});
    }
    for (const auto& [seq, yes] : cancelled_) {
      if (yes) out.timers.push_back(Op{Op::kCancel, 0, seq, {}, {}});
    }
    rewrite_ = false;
  } else {
    out.customers.reserve(changed_.size());
    for (CustomerEntry* entry : changed_) {
      out.customers.push_back(
          {entry->first, delta ? pieces.Delta(entry->second) : pieces.Customer(entry->second), delta});
      ClearFresh(entry->second);
    }
    out.timers.reserve(timer_changes_.size());
    for (const TimerChange& c : timer_changes_) {
      bool put = c.kind == Op::kPut;
      out.timers.push_back(Op{c.kind, c.due_us, c.seq,
                              put ? snapshot::EncodeTimerPiece(*spec_, c.timer) : std::string(),
                              put ? c.timer.customer : std::string()});
    }
  }
  changed_.clear();
  timer_changes_.clear();
  far_untaken_.clear();  // in `out`: the store has them once it writes it
}

void Engine::TrackChanges(bool on) {
  Impl& e = *impl_;
  if (on == e.track_changes_) return;
  if (on) e.UnpackAll();  // a store keeps them instead (changed customers must be in memory)
  if (!on) e.ReadBackAllTimers();  // untracked, timers set later would never be stored
  e.track_changes_ = on;
  for (Impl::CustomerEntry* entry : e.changed_) entry->second.changed = false;
  e.changed_.clear();
  e.timer_changes_.clear();
  e.layouts_written_ = false;
}

void Engine::TakeChanges(StateChanges& out, PieceForm form) { impl_->TakeChanges(out, form); }

// ---- StateRestorer -----------------------------------------------------------------

struct StateRestorer::Impl {
  explicit Impl(Engine::Impl& e) : pieces(*e.spec_) {}
  snapshot::PieceLoader pieces;
  std::string layouts;  // as stored
  int64_t now_us = 0;
  uint64_t next_seq = 1;
  EngineStats stats;
  CustomerMap<CustomerState> customers;
  std::vector<runtime::Timer> timers;
  std::vector<uint64_t> cancelled;
  std::function<bool(std::string_view)> keep;  // empty: every customer
  bool lazy = false;  // the customers stay in the store (Lazy)
  bool rewrite = false;  // Rewrite
  // Lazy, with the engine keeping only its earliest timers in memory: the timers after
  // the first `window` (in firing order) stay in the store, counted.
  size_t window = 0;
  Engine::Impl::TimerKey last{INT64_MIN, 0};  // of the last timer given
  uint64_t far = 0, far_waiting = 0;
  std::vector<std::pair<uint64_t, std::string>> far_releases;  // (seq, customer)
};

StateRestorer::StateRestorer(Engine& engine)
    : engine_(engine), impl_(std::make_unique<Impl>(*engine.impl_)) {}
StateRestorer::~StateRestorer() = default;

Status StateRestorer::Layouts(std::string_view cbor) {
  impl_->layouts = std::string(cbor);
  return impl_->pieces.Layouts(cbor);
}

Status StateRestorer::Globals(std::string_view cbor) {
  return impl_->pieces.Globals(cbor, impl_->now_us, impl_->next_seq, impl_->stats);
}

void StateRestorer::Only(std::function<bool(std::string_view customer)> keep) {
  impl_->keep = std::move(keep);
}

bool StateRestorer::LayoutsMatch() const {
  return impl_->layouts == snapshot::EncodeLayoutsPiece(*engine_.impl_->spec_);
}

void StateRestorer::Lazy() {
  impl_->lazy = true;
  impl_->window = engine_.impl_->timer_window_;
}

Status StateRestorer::Customer(std::string_view id, std::string_view cbor) {
  if (impl_->keep && !impl_->keep(id)) return OkStatus();  // another shard's
  CustomerState c;
  std::string key(id);
  if (Status s = impl_->pieces.Customer(key, cbor, c); !s.ok()) return s;
  impl_->customers.insert_or_assign(std::move(key), std::move(c));
  return OkStatus();
}

Status StateRestorer::Timer(std::string_view cbor) {
  Impl& r = *impl_;
  std::optional<runtime::Timer> t;
  if (Status s = r.pieces.TimerPiece(cbor, t); !s.ok()) return s;
  if (!t) return OkStatus();
  if (r.window != 0) {
    const Engine::Impl::TimerKey key{t->due_us, t->seq};
    if (key <= r.last) return InvalidArgumentError("the timers are not given in firing order");
    r.last = key;
    if (r.timers.size() >= r.window) {  // left in the store, read back when due
      ++r.far;
      if (t->kind == TimerKind::kRelease) {
        r.far_releases.emplace_back(t->seq, std::move(t->customer));
      } else {
        ++r.far_waiting;
      }
      return OkStatus();
    }
  }
  r.timers.push_back(std::move(*t));
  return OkStatus();
}

void StateRestorer::Cancelled(uint64_t seq) { impl_->cancelled.push_back(seq); }

void StateRestorer::Rewrite() { impl_->rewrite = true; }

size_t StateRestorer::customers() const { return impl_->customers.size(); }
size_t StateRestorer::timers() const { return impl_->timers.size(); }

void StateRestorer::Finish() {
  Engine::Impl& e = *engine_.impl_;
  Impl& r = *impl_;
  e.now_us_ = r.now_us;
  e.next_seq_ = r.next_seq;
  if (r.pieces.max_seq() != UINT64_MAX) e.next_seq_ = std::max(e.next_seq_, r.pieces.max_seq() + 1);
  e.SetStats(std::move(r.stats));
  e.changed_.clear();
  e.DropPacked();
  e.customers_ = std::move(r.customers);
  // A timer for a customer no piece holds cannot fire into anything: left out.
  std::vector<runtime::Timer> timers;
  std::unordered_map<uint64_t, bool> releases;
  e.horizon_ = r.far > 0 ? Engine::Impl::TimerKey{r.timers.back().due_us, r.timers.back().seq}
                         : Engine::Impl::kNoHorizon;
  e.far_timers_ = r.far;
  e.far_untaken_.clear();
  for (const auto& [seq, customer] : r.far_releases) releases[seq] = true;
  for (runtime::Timer& t : r.timers) {
    if (!r.lazy && t.kind != TimerKind::kRelease && !e.customers_.count(t.customer)) continue;
    if (r.keep && !r.keep(t.customer)) continue;  // another shard's deferred send
    if (t.kind == TimerKind::kRelease) releases[t.seq] = true;
    timers.push_back(std::move(t));
  }
  e.timers_ = TimerQueue(std::greater<runtime::Timer>(), std::move(timers));
  e.cancelled_.clear();
  for (uint64_t seq : r.cancelled) {
    if (releases.count(seq)) e.cancelled_[seq] = true;
  }
  if (r.lazy) {
    e.RecountFromTimers();
    e.waiting_ += r.far_waiting;  // an upper bound, as for those in memory
    for (const auto& [seq, customer] : r.far_releases) {
      if (e.cancelled_.count(seq) > 0) continue;
      ++e.deferred_;
      ++e.evicted_deferred_[customer];
    }
  } else {
    e.Recount();
  }
  e.timer_changes_.clear();
  // Pieces written under other layouts stay readable only while those layouts are
  // stored, and pieces of journeys, steps or channels the program no longer has must
  // not stay behind (a rollback would bring them back): if the program's layouts or
  // shape differ from the stored ones, everything is written again under them.
  // A share of a store (Only) goes to a store of its own: written whole.
  e.rewrite_ = r.keep || r.rewrite || r.layouts != snapshot::EncodeLayoutsPiece(*e.spec_);
  e.layouts_written_ = !e.rewrite_;
}

}  // namespace juncture::runtime
