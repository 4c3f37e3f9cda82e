// The customer id rule of docs/wire.md, in one place for the decoder and for routing
// (CustomerOfMessage): a `userId` or `anonymousId` member counts if it is a non-empty
// string, or an integer, read as its decimal text (SDKs send numeric ids as JSON
// numbers: 4242 is the customer "4242"; 4242.0 and 4.242e3 too); and what the two
// share in reading a message's bytes (a byte-order mark, simdjson's padding). Private
// to runtime/exec/.
#pragma once

#include <simdjson.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

namespace juncture::runtime {

// Sets `out` and returns true if `e` is such an id.
inline bool ReadCustomerId(simdjson::dom::element e, std::string& out) {
  constexpr double kMaxExact = 9007199254740992.0;  // 2^53: integral doubles beyond are not exact
  std::string_view s;
  int64_t i;
  uint64_t u;
  double d;
  if (e.get(s) == simdjson::SUCCESS) {
    out.assign(s);
  } else if (e.get(i) == simdjson::SUCCESS) {
    out = std::to_string(i);
  } else if (e.get(u) == simdjson::SUCCESS) {
    out = std::to_string(u);
  } else if (e.get(d) == simdjson::SUCCESS && std::trunc(d) == d && std::fabs(d) <= kMaxExact) {
    out = std::to_string(static_cast<int64_t>(d));
  } else {
    return false;
  }
  return !out.empty();
}

// A UTF-8 byte-order mark before a message is skipped (docs/wire.md).
inline std::string_view SkipByteOrderMark(std::string_view json) {
  if (json.size() >= 3 && json.substr(0, 3) == "\xEF\xBB\xBF") json.remove_prefix(3);
  return json;
}

// simdjson may read up to SIMDJSON_PADDING bytes past the end of what it parses
// (whatever they hold: they never change the result); unless told they are readable it
// first copies the message into a padded buffer of its own. They are readable when
// they lie in the same page as the message's last byte, since memory is mapped in
// whole pages (4 KiB, or a multiple of it): then the message is parsed in place, and
// only one that ends within SIMDJSON_PADDING bytes of a page's end is copied. Under
// AddressSanitizer every message is copied (the bytes past its end are not its own).
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JUNCTURE_HAS_ASAN 1
#endif
#endif
inline bool PaddingIsReadable(std::string_view json) {
#if defined(__SANITIZE_ADDRESS__) || defined(JUNCTURE_HAS_ASAN)
  (void)json;
  return false;
#else
  constexpr uintptr_t kPage = 4096;
  if (json.empty()) return false;
  const uintptr_t last = reinterpret_cast<uintptr_t>(json.data()) + json.size() - 1;
  return last % kPage + 1 + simdjson::SIMDJSON_PADDING <= kPage;
#endif
}

}  // namespace juncture::runtime
