// Small C helpers that JIT-compiled code calls for the string and list operations
// that are not worth open-coding (byte-wise comparison of two run-time strings,
// substring search, concatenation through ctx->alloc, membership in a list value).
// Each one computes exactly what the reference interpreter computes for the same
// operands (interp/interpreter.cc), with std::string_view semantics.
//
// The code generator calls them by symbol; the JIT registers their addresses
// (RuntimeHelpers()). All are thread-safe and never throw (noexcept: a failed
// allocation in jn_rt_concat terminates, as it would in the interpreter's caller).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "juncture/abi/abi.h"

extern "C" {

// -1, 0 or 1: the byte-wise order of a and b (shorter prefix first).
int32_t jn_rt_str_cmp(const char* a, uint32_t a_len, const char* b, uint32_t b_len) noexcept;
// 1 if the strings are equal byte for byte, else 0.
int32_t jn_rt_str_eq(const char* a, uint32_t a_len, const char* b, uint32_t b_len) noexcept;
int32_t jn_rt_starts_with(const char* a, uint32_t a_len, const char* b, uint32_t b_len) noexcept;
int32_t jn_rt_ends_with(const char* a, uint32_t a_len, const char* b, uint32_t b_len) noexcept;
// 1 if `needle` occurs in `hay` (the empty string occurs everywhere).
int32_t jn_rt_str_contains(const char* hay, uint32_t hay_len, const char* needle,
                           uint32_t needle_len) noexcept;
// a + b copied into memory from ctx->alloc; returns that memory (length a_len + b_len,
// truncated to 32 bits as the interpreter does).
const char* jn_rt_concat(JnContext* ctx, const char* a, uint32_t a_len, const char* b,
                         uint32_t b_len) noexcept;
// Membership of an item in a list value (`len` elements `elem_size` bytes apart),
// compared as the interpreter compares values of the element type: ints by value,
// floats unordered-or-equal (NaN matches), bools by truth, strings byte-wise.
int32_t jn_rt_list_has_int(const void* data, uint32_t len, uint32_t elem_size, int64_t x) noexcept;
int32_t jn_rt_list_has_float(const void* data, uint32_t len, uint32_t elem_size, double x) noexcept;
int32_t jn_rt_list_has_bool(const void* data, uint32_t len, uint32_t elem_size, int32_t x) noexcept;
// The 64-bit XXH3 hash of a string: `in` over a long constant list of strings
// switches on it (expr_emitter.cc, SwitchMembership).
uint64_t jn_rt_str_hash(const char* s, uint32_t len) noexcept;
int32_t jn_rt_list_has_str(const void* data, uint32_t len, uint32_t elem_size, const char* s,
                           uint32_t s_len) noexcept;

}  // extern "C"

namespace juncture::compiler::codegen {

struct HelperSymbol {
  std::string_view name;
  const void* address;
};

// Every helper above with its address, for the JIT's symbol table.
const std::vector<HelperSymbol>& RuntimeHelpers();

}  // namespace juncture::compiler::codegen
