// FindEntryPoint: the stdlib's C entry points by symbol, for the interpreter (the
// JIT links the same symbols by name). The table must name every symbol that
// stdlib/decl/declarations.cc uses; tests/unit/stdlib/functions_test.cc checks it.
//
// This file is also what pulls the implementation objects out of the static
// library: a program that never calls FindEntryPoint must reference the symbols
// some other way (or link the library whole) for the JIT to find them.
#include <cstdint>
#include <string_view>

#include "juncture/abi/abi.h"
#include "juncture/stdlib/functions.h"

// Every entry point, once: X(symbol).
#define JN_STDLIB_ENTRY_POINTS(X) \
  X(jn_lower)                     \
  X(jn_upper)                     \
  X(jn_trim)                      \
  X(jn_len_string)                \
  X(jn_len_list)                  \
  X(jn_abs_int)                   \
  X(jn_abs_float)                 \
  X(jn_min_int)                   \
  X(jn_min_float)                 \
  X(jn_max_int)                   \
  X(jn_max_float)                 \
  X(jn_round)                     \
  X(jn_floor)                     \
  X(jn_ceil)                      \
  X(jn_hour_of_day)               \
  X(jn_day_of_week)               \
  X(jn_days)                      \
  X(jn_hours)                     \
  X(jn_year)                      \
  X(jn_month)                     \
  X(jn_day_of_month)              \
  X(jn_string_int)                \
  X(jn_string_float)              \
  X(jn_string_bool)               \
  X(jn_bucket)

namespace juncture::stdlib {

// The definitions live in impl/*_functions.cc and impl/bucket.cc (C linkage, so
// these declarations name the same functions).
extern "C" {
#define JN_DECLARE(name) JnValue name(JnContext* ctx, const JnValue* args, uint32_t nargs);
JN_STDLIB_ENTRY_POINTS(JN_DECLARE)
#undef JN_DECLARE
}  // extern "C"

namespace {

struct Entry {
  std::string_view symbol;
  JnStdlibFn fn;
};

constexpr Entry kEntries[] = {
#define JN_ENTRY(name) {#name, &name},
    JN_STDLIB_ENTRY_POINTS(JN_ENTRY)
#undef JN_ENTRY
};

}  // namespace

JnStdlibFn FindEntryPoint(std::string_view symbol) {
  for (const Entry& e : kEntries) {
    if (e.symbol == symbol) return e.fn;
  }
  return nullptr;
}

}  // namespace juncture::stdlib

#undef JN_STDLIB_ENTRY_POINTS
