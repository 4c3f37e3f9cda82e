// The thread's last error and the library's version.
#include "internal.h"

namespace juncture::capi {
namespace {
// Per thread, as errno: two threads driving two engines never see each other's error.
thread_local std::string t_last_error;
}  // namespace

juncture_status Fail(juncture_status status, std::string_view text,
                     std::string_view detail) noexcept {
  try {
    t_last_error.assign(text);
    t_last_error.append(detail);
  } catch (...) {
    t_last_error.clear();  // never throws, frees nothing we need
  }
  return status;
}

}  // namespace juncture::capi

extern "C" const char* juncture_last_error(void) {
  return juncture::capi::t_last_error.c_str();
}

// JUNCTURE_VERSION comes from project(juncture VERSION ...) (capi/CMakeLists.txt).
extern "C" const char* juncture_version(void) { return JUNCTURE_VERSION; }
