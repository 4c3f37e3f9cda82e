#include "codegen/runtime_helpers.h"

#include <xxhash.h>

#include <cstring>
#include <string>

namespace {

std::string_view View(const char* data, uint32_t len) { return {data, len}; }

template <typename T>
T Load(const void* data, uint32_t elem_size, uint32_t i) {
  T v;
  std::memcpy(&v, static_cast<const uint8_t*>(data) + size_t{i} * elem_size, sizeof v);
  return v;
}

}  // namespace

extern "C" {

int32_t jn_rt_str_cmp(const char* a, uint32_t a_len, const char* b, uint32_t b_len) noexcept {
  int c = View(a, a_len).compare(View(b, b_len));
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}

int32_t jn_rt_str_eq(const char* a, uint32_t a_len, const char* b, uint32_t b_len) noexcept {
  return View(a, a_len) == View(b, b_len);
}

int32_t jn_rt_starts_with(const char* a, uint32_t a_len, const char* b, uint32_t b_len) noexcept {
  return View(a, a_len).starts_with(View(b, b_len));
}

int32_t jn_rt_ends_with(const char* a, uint32_t a_len, const char* b, uint32_t b_len) noexcept {
  return View(a, a_len).ends_with(View(b, b_len));
}

int32_t jn_rt_str_contains(const char* hay, uint32_t hay_len, const char* needle,
                           uint32_t needle_len) noexcept {
  return View(hay, hay_len).find(View(needle, needle_len)) != std::string_view::npos;
}

const char* jn_rt_concat(JnContext* ctx, const char* a, uint32_t a_len, const char* b,
                         uint32_t b_len) noexcept {
  std::string joined(View(a, a_len));
  joined += View(b, b_len);
  return ctx->alloc(ctx->host, joined.data(), static_cast<uint32_t>(joined.size()));
}

int32_t jn_rt_list_has_int(const void* data, uint32_t len, uint32_t elem_size, int64_t x) noexcept {
  for (uint32_t i = 0; i < len; ++i) {
    if (Load<int64_t>(data, elem_size, i) == x) return 1;
  }
  return 0;
}

int32_t jn_rt_list_has_float(const void* data, uint32_t len, uint32_t elem_size, double x) noexcept {
  for (uint32_t i = 0; i < len; ++i) {
    double e = Load<double>(data, elem_size, i);
    if (!(e < x) && !(e > x)) return 1;  // the interpreter's Compare(e, x) == 0
  }
  return 0;
}

int32_t jn_rt_list_has_bool(const void* data, uint32_t len, uint32_t elem_size, int32_t x) noexcept {
  for (uint32_t i = 0; i < len; ++i) {
    if ((Load<uint8_t>(data, elem_size, i) != 0) == (x != 0)) return 1;
  }
  return 0;
}

uint64_t jn_rt_str_hash(const char* s, uint32_t len) noexcept { return XXH3_64bits(s, len); }

int32_t jn_rt_list_has_str(const void* data, uint32_t len, uint32_t elem_size, const char* s,
                           uint32_t s_len) noexcept {
  for (uint32_t i = 0; i < len; ++i) {
    JnStr e = Load<JnStr>(data, elem_size, i);
    if (View(e.data, e.len) == View(s, s_len)) return 1;
  }
  return 0;
}

}  // extern "C"

namespace juncture::compiler::codegen {

const std::vector<HelperSymbol>& RuntimeHelpers() {
  static const std::vector<HelperSymbol> table = {
#define JN_HELPER(name) {#name, reinterpret_cast<const void*>(&name)}
      JN_HELPER(jn_rt_str_cmp),        JN_HELPER(jn_rt_str_eq),
      JN_HELPER(jn_rt_starts_with),    JN_HELPER(jn_rt_ends_with),
      JN_HELPER(jn_rt_str_contains),   JN_HELPER(jn_rt_concat),
      JN_HELPER(jn_rt_list_has_int),   JN_HELPER(jn_rt_list_has_float),
      JN_HELPER(jn_rt_list_has_bool),  JN_HELPER(jn_rt_list_has_str),
      JN_HELPER(jn_rt_str_hash),
#undef JN_HELPER
  };
  return table;
}

}  // namespace juncture::compiler::codegen
