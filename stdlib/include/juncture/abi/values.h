// C++ helpers for making JnValues (juncture/abi/abi.h), shared by the interpreter,
// the stdlib and the runtime so that every side builds values the same way.
#pragma once

#include <cstdint>

#include "juncture/abi/abi.h"

namespace juncture::abi {

inline JnValue MakeBool(bool b) {
  JnValue v{};
  v.type = JN_BOOL;
  v.b = b ? 1 : 0;
  return v;
}

// An int, or a time/duration when `type` says so.
inline JnValue MakeInt(int64_t i, uint8_t type = JN_INT) {
  JnValue v{};
  v.type = type;
  v.i = i;
  return v;
}

inline JnValue MakeFloat(double f) {
  JnValue v{};
  v.type = JN_FLOAT;
  v.f = f;
  return v;
}

inline JnValue MakeString(JnStr s) {
  JnValue v{};
  v.type = JN_STRING;
  v.s = s;
  return v;
}

inline JnValue MakeString(const char* data, uint32_t len) { return MakeString(JnStr{data, len, -1}); }

}  // namespace juncture::abi
