// bucket(salt): a stable 0..99 bucket per (customer, salt) (docs/language.md), for
// A/B splits and gradual rollouts.
//
// The bucket is XXH3_64bits (seed 0) over the bytes customer + '\0' + salt, modulo
// 100. XXH3's output is frozen since xxHash 0.8.0, so buckets are stable across
// builds, hosts and restarts; the '\0' keeps ("ab", "c") and ("a", "bc") apart.
// Changing any of this reshuffles every running experiment: don't.
//
// jn_bucket receives the implicit customer id (JN_STRING) first, then the salt. A
// missing or mistyped argument yields the neutral 0 (an empty string is hashed like
// any other).
#include <xxhash.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "juncture/abi/abi.h"
#include "juncture/stdlib/functions.h"

namespace juncture::stdlib {
namespace {

// args[i] as a string, or false if it is missing or not a string.
bool StringArg(const JnValue* args, uint32_t nargs, uint32_t i, std::string_view* out) {
  if (args == nullptr || i >= nargs || args[i].type != JN_STRING) return false;
  const JnStr& s = args[i].s;
  if (s.data == nullptr && s.len != 0) return false;
  *out = s.len == 0 ? std::string_view() : std::string_view(s.data, s.len);
  return true;
}

}  // namespace

int Bucket(std::string_view customer, std::string_view salt) {
  // Hash one contiguous buffer; short keys (the usual case) stay on the stack.
  constexpr size_t kStackBytes = 256;
  const size_t size = customer.size() + 1 + salt.size();
  char stack[kStackBytes];
  std::string heap;
  char* buf = stack;
  if (size > kStackBytes) {
    heap.resize(size);
    buf = heap.data();
  }
  if (!customer.empty()) std::memcpy(buf, customer.data(), customer.size());
  buf[customer.size()] = '\0';
  if (!salt.empty()) std::memcpy(buf + customer.size() + 1, salt.data(), salt.size());
  return static_cast<int>(XXH3_64bits(buf, size) % 100);
}

// C entry point (C linkage: the symbol is plain "jn_bucket").
extern "C" {

// bucket(salt: string) -> int 0..99. args: customer, salt.
JnValue jn_bucket(JnContext* ctx, const JnValue* args, uint32_t nargs) {
  JnValue v{};
  v.type = JN_INT;
  std::string_view customer;
  std::string_view salt;
  if (StringArg(args, nargs, 0, &customer) && StringArg(args, nargs, 1, &salt)) {
    v.i = Bucket(customer, salt);
  }
  return v;
}

}  // extern "C"
}  // namespace juncture::stdlib
