// Hot reload: swap the program between two messages and carry every customer's
// state over to the new version. There is one rule for carrying state onto an edited
// program, the one snapshots load by (snapshot_load.cc; docs/semantics.md, "Carrying
// state onto an edited program"): a reload writes the state by name under the old
// program and reads it back under the new one, so a reload, a restart from a
// checkpoint and an import can never disagree. The whole migration runs on the
// engine's thread before the next message, so no message sees half of it.
#include <map>

#include "exec/snapshot.h"
#include "juncture/runtime/record.h"

namespace juncture::runtime {
namespace {

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

// True if every index the state uses (journeys and their steps, channels, event
// types, record layouts) means the same in both programs: the state needs no
// migration, only the program changes (e.g. the native code of the same program
// taking over from the interpreter).
bool SameShape(const ProgramSpec& a, const ProgramSpec& b) {
  if (a.events.size() != b.events.size() || a.channels.size() != b.channels.size() ||
      a.journeys.size() != b.journeys.size() || !SameLayout(a.profile, b.profile) ||
      a.profile_timezone_field != b.profile_timezone_field) {
    return false;
  }
  for (size_t k = 0; k < a.events.size(); ++k) {
    if (a.events[k].name != b.events[k].name || !SameLayout(a.events[k], b.events[k])) return false;
  }
  for (size_t k = 0; k < a.channels.size(); ++k) {
    if (a.channels[k].name != b.channels[k].name) return false;
  }
  for (size_t k = 0; k < a.journeys.size(); ++k) {
    const JourneySpec& x = a.journeys[k];
    const JourneySpec& y = b.journeys[k];
    // The version is the hash of the journey's text: the same text, the same steps.
    if (x.name != y.name || x.version != y.version || x.steps.size() != y.steps.size()) {
      return false;
    }
  }
  return true;
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
  if (SameShape(*spec_, *next.spec)) {
    program_ = std::move(next);
    spec_ = program_.spec.get();
    Index();
    ++stats_.reloads;
    return;
  }
  // The state by name under the old program, read back under the new one.
  std::string bytes = Encode("");
  std::vector<int64_t> span;
  std::vector<bool> tracks;
  WindowNeeds(*next.spec, span, tracks);
  snapshot::State state;
  std::string error;
  std::vector<snapshot::EndedInstance> gone;
  if (!snapshot::Decode(bytes, *next.spec, span, tracks, state, error, &gone)) {
    // Bytes this engine has just written: only a lack of memory gets here. The
    // running program stays, with its state untouched.
    ++stats_.reload_failures;
    return;
  }
  // Instances the new program cannot carry end with an `exited` decision at step
  // `reload`, in the name and version of the journey they were in.
  std::map<std::string, std::string> versions;
  for (const JourneySpec& j : spec_->journeys) versions[j.name] = j.version;
  Batch& ended = NewBatch();
  for (const snapshot::EndedInstance& e : gone) {
    Decision& d = ended.Add();
    d.id = e.cause + ":" + e.journey + ":reload:exited";
    d.customer = e.customer;
    d.journey = e.journey;
    d.version = versions[e.journey];
    d.step = "reload";
    d.outcome = "exited";
    d.cause = e.cause;
    d.at_us = now_us_;
  }
  program_ = std::move(next);
  spec_ = program_.spec.get();
  Index();
  Install(std::move(state), false);  // the counters go on as they are
  ++stats_.reloads;
  Emit(ended, sink);
}

}  // namespace juncture::runtime
