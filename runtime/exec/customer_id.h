// The customer id rule of docs/wire.md, in one place for the decoder and for routing
// (CustomerOfMessage): a `userId` or `anonymousId` member counts if it is a non-empty
// string, or an integer, read as its decimal text (SDKs send numeric ids as JSON
// numbers: 4242 is the customer "4242"; 4242.0 and 4.242e3 too). Private to
// runtime/exec/.
#pragma once

#include <simdjson.h>

#include <cmath>
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

}  // namespace juncture::runtime
