// String functions of the stdlib: lower, upper, trim and len (docs/language.md).
//
// Entry points follow JnStdlibFn (juncture/abi/abi.h) and never fail: a missing or
// mistyped argument yields a neutral value (the empty string, 0).
//
// Semantics:
// - lower/upper map ASCII letters only (A-Z <-> a-z); every other byte, including
//   all of non-ASCII UTF-8 ("É", "ß"), is copied unchanged. The result has the
//   input's byte length and does not depend on locale or Unicode version.
// - trim removes leading and trailing ASCII whitespace (space, \t, \n, \v, \f, \r);
//   Unicode spaces such as U+00A0 are kept.
// - len(string) counts code points: the bytes that are not UTF-8 continuation bytes
//   (10xxxxxx). Strings are valid UTF-8 by construction; on invalid input this is a
//   cheap, never-failing approximation.
// String results are copied through ctx->alloc (they live as long as the decision)
// and carry sym = -1 (equal to no interned constant). An empty result is a static
// empty string and needs no allocation.
#include <cstdint>
#include <charconv>
#include <string>

#include "juncture/abi/abi.h"
#include "juncture/abi/values.h"

namespace juncture::stdlib {
namespace {

using abi::MakeInt;
using abi::MakeString;

JnValue EmptyString() { return MakeString("", 0); }

// The string argument args[0], or nullptr when it is missing or not a string.
const JnStr* StringArg(const JnValue* args, uint32_t nargs) {
  if (args == nullptr || nargs < 1 || args[0].type != JN_STRING) return nullptr;
  if (args[0].s.data == nullptr && args[0].s.len != 0) return nullptr;
  return &args[0].s;
}

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
char AsciiUpper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; }

// Copies `len` bytes of `data` into decision memory.
JnValue Allocate(JnContext* ctx, const char* data, uint32_t len) {
  if (len == 0 || ctx == nullptr || ctx->alloc == nullptr) return EmptyString();
  const char* out = ctx->alloc(ctx->host, data, len);
  return out == nullptr ? EmptyString() : MakeString(out, len);
}

// Maps every byte of `s` through `map` and allocates the result. Short strings are
// mapped on the stack, so the common case makes no heap allocation of its own.
JnValue MapBytes(JnContext* ctx, const JnStr& s, char (*map)(char)) {
  constexpr uint32_t kStackBytes = 256;
  char stack[kStackBytes];
  std::string heap;
  char* buf = stack;
  if (s.len > kStackBytes) {
    heap.resize(s.len);
    buf = heap.data();
  }
  for (uint32_t i = 0; i < s.len; ++i) buf[i] = map(s.data[i]);
  return Allocate(ctx, buf, s.len);
}

}  // namespace

// C entry points (C linkage: the symbols are plain "jn_lower", ...).
extern "C" {

// lower(s: string) -> string, ASCII letters only.
JnValue jn_lower(JnContext* ctx, const JnValue* args, uint32_t nargs) {
  const JnStr* s = StringArg(args, nargs);
  return s == nullptr ? EmptyString() : MapBytes(ctx, *s, AsciiLower);
}

// upper(s: string) -> string, ASCII letters only.
JnValue jn_upper(JnContext* ctx, const JnValue* args, uint32_t nargs) {
  const JnStr* s = StringArg(args, nargs);
  return s == nullptr ? EmptyString() : MapBytes(ctx, *s, AsciiUpper);
}

// string(x: int) -> string, decimal. (A mistyped argument gives "", like every
// function's neutral value.)
JnValue jn_string_int(JnContext* ctx, const JnValue* args, uint32_t nargs) {
  if (args == nullptr || nargs < 1 || args[0].type != JN_INT) return EmptyString();
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, args[0].i);
  return Allocate(ctx, buf, static_cast<uint32_t>(r.ptr - buf));
}

// string(x: float) -> string, the shortest text that reads back as the same number
// (as decisions print it: 12.5, 50, 1e+21); "nan", "inf", "-inf" if not finite.
JnValue jn_string_float(JnContext* ctx, const JnValue* args, uint32_t nargs) {
  if (args == nullptr || nargs < 1 || args[0].type != JN_FLOAT) return EmptyString();
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, args[0].f);
  return Allocate(ctx, buf, static_cast<uint32_t>(r.ptr - buf));
}

// string(x: bool) -> "true" or "false".
JnValue jn_string_bool(JnContext* ctx, const JnValue* args, uint32_t nargs) {
  if (args == nullptr || nargs < 1 || args[0].type != JN_BOOL) return EmptyString();
  return args[0].b ? Allocate(ctx, "true", 4) : Allocate(ctx, "false", 5);
}

// trim(s: string) -> string without leading and trailing ASCII whitespace.
JnValue jn_trim(JnContext* ctx, const JnValue* args, uint32_t nargs) {
  const JnStr* s = StringArg(args, nargs);
  if (s == nullptr) return EmptyString();
  uint32_t begin = 0;
  uint32_t end = s->len;
  while (begin < end && IsAsciiSpace(s->data[begin])) ++begin;
  while (end > begin && IsAsciiSpace(s->data[end - 1])) --end;
  return Allocate(ctx, s->data + begin, end - begin);
}

// len(s: string) -> int, in code points.
JnValue jn_len_string(JnContext* ctx, const JnValue* args, uint32_t nargs) {
  const JnStr* s = StringArg(args, nargs);
  if (s == nullptr) return MakeInt(0);
  int64_t count = 0;
  for (uint32_t i = 0; i < s->len; ++i) {
    if ((static_cast<unsigned char>(s->data[i]) & 0xC0) != 0x80) ++count;
  }
  return MakeInt(count);
}

// len(l: list) -> int, in elements.
JnValue jn_len_list(JnContext* ctx, const JnValue* args, uint32_t nargs) {
  if (args == nullptr || nargs < 1 || args[0].type != JN_LIST) return MakeInt(0);
  return MakeInt(args[0].l.len);
}

}  // extern "C"
}  // namespace juncture::stdlib
