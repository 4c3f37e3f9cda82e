// The engine behind juncture_engine: messages in, decisions and dead letters out
// through the C callbacks.
#include <cstdint>
#include <limits>
#include <memory>

#include "internal.h"

namespace juncture::capi {

void CallbackSink::OnDecision(const runtime::Decision& d) {
  if (!callbacks_.on_decision) return;
  line_.clear();
  d.AppendJson(line_);
  callbacks_.on_decision(callbacks_.user, line_.c_str(), line_.size());
}

void CallbackSink::OnDeadLetter(std::string_view message, const std::string& reason) {
  if (!callbacks_.on_dead_letter) return;
  // An empty message may have no storage at all: callers get "" rather than NULL.
  const char* bytes = message.data() ? message.data() : "";
  callbacks_.on_dead_letter(callbacks_.user, bytes, message.size(), reason.c_str());
}

namespace {

// The end of a call that drove the engine: a callback may have asked to free it.
void Done(juncture_engine* e) {
  e->busy = false;
  if (e->free_when_done) delete e;
}

// Checks the handle, refuses re-entry from a callback, and runs `work` with the
// engine marked busy (cleared however `work` ends).
template <class Work>
juncture_status Drive(juncture_engine* e, const char* what, Work&& work) {
  if (!e) return Fail(JUNCTURE_ERROR_ARGUMENT, what, ": engine is NULL");
  if (e->busy) {
    return Fail(JUNCTURE_ERROR_BUSY, what, ": called from the engine's own callback");
  }
  e->busy = true;
  try {
    work();
  } catch (...) {
    Done(e);
    throw;  // to Guard
  }
  Done(e);
  return JUNCTURE_OK;
}

}  // namespace
}  // namespace juncture::capi

using juncture::capi::Fail;
using juncture::capi::Guard;

extern "C" juncture_status juncture_engine_new(const juncture_program* program,
                                               const juncture_callbacks* callbacks,
                                               juncture_engine** out_engine) {
  return Guard([&] {
    if (!out_engine) return Fail(JUNCTURE_ERROR_ARGUMENT, "juncture_engine_new: out_engine is NULL");
    *out_engine = nullptr;
    if (!program) return Fail(JUNCTURE_ERROR_ARGUMENT, "juncture_engine_new: program is NULL");
    juncture_callbacks none{};
    *out_engine = new juncture_engine(program->compiled, callbacks ? *callbacks : none);
    return JUNCTURE_OK;
  });
}

extern "C" void juncture_engine_free(juncture_engine* engine) {
  if (engine && engine->busy) {
    engine->free_when_done = true;  // from its own callback: the engine is still in use
    return;
  }
  delete engine;
}

extern "C" juncture_status juncture_engine_process(juncture_engine* engine, const char* json,
                                                   size_t length) {
  return Guard([&] {
    if (!json) return Fail(JUNCTURE_ERROR_ARGUMENT, "juncture_engine_process: json is NULL");
    return juncture::capi::Drive(engine, "juncture_engine_process", [&] {
      engine->engine.Process(std::string_view(json, length), engine->sink);
    });
  });
}

extern "C" juncture_status juncture_engine_process_at(juncture_engine* engine,
                                                      const char* json, size_t length,
                                                      int64_t time_us) {
  return Guard([&] {
    if (!json) return Fail(JUNCTURE_ERROR_ARGUMENT, "juncture_engine_process_at: json is NULL");
    return juncture::capi::Drive(engine, "juncture_engine_process_at", [&] {
      engine->engine.Process(std::string_view(json, length), engine->sink, time_us);
    });
  });
}

extern "C" juncture_status juncture_engine_advance_to(juncture_engine* engine,
                                                      int64_t time_us) {
  return Guard([&] {
    return juncture::capi::Drive(engine, "juncture_engine_advance_to",
                                 [&] { engine->engine.AdvanceTo(time_us, engine->sink); });
  });
}

extern "C" int64_t juncture_engine_now(const juncture_engine* engine) {
  return engine ? engine->engine.now() : 0;
}

extern "C" int64_t juncture_engine_next_timer(const juncture_engine* engine) {
  return engine ? engine->engine.next_timer() : std::numeric_limits<int64_t>::max();
}
