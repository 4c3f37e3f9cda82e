// Hot reload: swap the program between two messages and carry every customer's
// state over to the new version by the one rule of state_map.h (docs/semantics.md,
// "Reloading"), in place. The whole migration runs on the engine's thread before the
// next message, so no message sees half of it.
#include <algorithm>

#include "exec/engine_impl.h"
#include "exec/snapshot.h"
#include "exec/state_map.h"

namespace juncture::runtime {

void Engine::Impl::ApplyStaged(DecisionSink& sink) {
  std::optional<CompiledProgram> next;
  {
    std::lock_guard<std::mutex> lock(staged_mutex_);
    next.swap(staged_);
    has_staged_.store(false, std::memory_order_release);
  }
  if (next && !Reload(std::move(*next), sink).ok()) ++stats_.reloads_failed;
}

Status Engine::Impl::Reload(CompiledProgram next, DecisionSink& sink) {
  tracing_ = false;  // its decisions concern every customer: not traced
  if (next.spec == program_.spec) {
    // The same program on another back end (StageProgram: the interpreter, then
    // native code): the state is already laid out for it; only the evaluator changes.
    program_.evaluator = std::move(next.evaluator);
    ++stats_.reloads;
    return OkStatus();
  }
  // Every customer and timer is re-laid out and written again: those only stored too.
  // What a store cannot give back would be lost by the rewrite: no reload then. (What
  // was read stays in memory, under the running program: nothing changed.)
  if (Status s = LoadEvicted(); !s.ok()) {
    return s.WithContext("the reload did not happen: the stored customers cannot be read: ");
  }
  if (horizon_ != kNoHorizon && !ReadBackTimers(0)) {
    return UnavailableError("the reload did not happen: the stored timers cannot be read");
  }
  const StateMap to(*next.spec);
  const ProgramMap map(*spec_, to);
  // Packed customers (packing.cc): those packed before the last reload are carried now
  // as the others; the rest stay packed, to be read under the new program when next
  // needed, if the rule ends none of their instances. Else all are carried now.
  UnpackEarlier();
  const bool keep_packed = !packed_.empty() && map.CarriesEveryInstance(StateMap(*spec_));
  if (!keep_packed) UnpackAll();
  std::string layouts_packed_under = keep_packed ? snapshot::EncodeLayoutsPiece(*spec_) : "";
  // Instances the rule cannot carry end with a decision, in the version they were in
  // (spec_ is still the old program here), customer by customer in id order (the
  // map's own order is its hashing's).
  Batch ended;
  std::vector<std::pair<const std::string*, std::vector<std::pair<uint32_t, Instance>>>> dropped;
  std::vector<std::pair<uint32_t, Instance>> carried_off;
  for (auto& [id, c] : customers_) {
    map.Carry(c, carried_off);
    if (carried_off.empty()) continue;
    dropped.emplace_back(&id, std::move(carried_off));
    carried_off.clear();
  }
  std::sort(dropped.begin(), dropped.end(),
            [](const auto& a, const auto& b) { return *a.first < *b.first; });
  for (const auto& [id, instances] : dropped) {
    for (const auto& [j, inst] : instances) {
      Lifecycle(ended, j, *id, inst.cause(), "reload", Outcome::kExited, now_us_);
    }
  }
  // Timers: instance timers follow their journey (a dropped instance's timer finds
  // nothing and is ignored); releases follow their channel. In place: the order of
  // the queue (due time, sequence) does not change.
  constexpr uint32_t kGone = UINT32_MAX;
  timers_.Update([&](Timer& t) {
    if (t.kind == TimerKind::kRelease) {
      int channel = map.channel(t.release->channel);
      if (channel < 0) cancelled_.erase(t.seq);  // the channel is gone
      t.release->channel = channel < 0 ? kGone : static_cast<uint32_t>(channel);
    } else {
      int journey = map.journey(t.journey);
      t.journey = journey < 0 ? kGone : static_cast<uint32_t>(journey);
    }
  });
  timers_.EraseIf([&](const Timer& t) {
    return (t.kind == TimerKind::kRelease ? t.release->channel : t.journey) == kGone;
  });
  program_ = std::move(next);
  spec_ = program_.spec.get();
  if (keep_packed) {
    pack_earlier_layouts_ = std::move(layouts_packed_under);
    pack_tag_ ^= 1;
  }
  pack_encoder_.reset();
  pack_loader_.reset();
  pack_earlier_loader_.reset();
  Index();
  Recount();  // instances ended and deferred sends of removed channels were dropped
  MarkRewrite();  // every record may have been re-laid out
  if (source_ != nullptr) {  // the store's pieces will be under the new layouts
    source_pieces_ = snapshot::PieceLoader::ForOwnLayouts(*spec_);
  }
  ++stats_.reloads;
  Emit(ended, sink);
  return OkStatus();
}

}  // namespace juncture::runtime
