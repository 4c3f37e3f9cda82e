// What stands behind juncture.h's opaque handles, and the boundary every entry point
// goes through: no C++ exception may unwind into C (or Python's ctypes), so each one
// becomes a status and a message.
#pragma once

#include <exception>
#include <new>
#include <string>
#include <string_view>

#include "juncture.h"
#include "juncture/runtime/program.h"
#include "juncture/runtime/runtime.h"

struct juncture_program {
  juncture::runtime::CompiledProgram compiled;  // shared_ptrs: engines keep their copy
};

namespace juncture::capi {

// Hands the engine's output to the C callbacks. The decision's JSON is built in one
// buffer reused across decisions, so a steady stream of decisions does not allocate.
class CallbackSink : public runtime::DecisionSink {
 public:
  explicit CallbackSink(const juncture_callbacks& callbacks) : callbacks_(callbacks) {}
  void OnDecision(const runtime::Decision& d) override;
  void OnDeadLetter(std::string_view message, const std::string& reason) override;

 private:
  juncture_callbacks callbacks_;
  std::string line_;
};

}  // namespace juncture::capi

struct juncture_engine {
  juncture_engine(const juncture::runtime::CompiledProgram& program,
                  const juncture_callbacks& callbacks)
      : engine(program), sink(callbacks) {}
  juncture::runtime::Engine engine;
  juncture::capi::CallbackSink sink;
  bool busy = false;  // inside Process/AdvanceTo: a callback calling back in is refused
  bool free_when_done = false;  // juncture_engine_free from a callback: freed on return
};

namespace juncture::capi {

// Records `text` (followed by `detail`) as this thread's last error and returns
// `status`. Never throws: if even that cannot be stored, the last error is "".
juncture_status Fail(juncture_status status, std::string_view text,
                     std::string_view detail = {}) noexcept;

// Runs `body` (which returns a juncture_status) and turns any exception it throws
// into JUNCTURE_ERROR_INTERNAL with the exception's text.
template <class Body>
juncture_status Guard(Body&& body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return Fail(JUNCTURE_ERROR_INTERNAL, "out of memory");
  } catch (const std::exception& e) {
    return Fail(JUNCTURE_ERROR_INTERNAL, "internal error: ", e.what());
  } catch (...) {
    return Fail(JUNCTURE_ERROR_INTERNAL, "internal error: an unknown exception");
  }
}

}  // namespace juncture::capi
