// The stdlib's implementations: the C entry points named in declarations.h, looked
// up by symbol. Both back ends call the same functions (the interpreter through
// FindEntryPoint, JIT-compiled code by symbol). Thread-safe: the functions keep no
// state; time-zone data is loaded once, on first use, under a lock.
#pragma once

#include <string_view>

#include "juncture/abi/abi.h"

namespace juncture::stdlib {

// The entry point with that symbol ("jn_lower"), or nullptr.
JnStdlibFn FindEntryPoint(std::string_view symbol);

// Local civil time of `time_us` in IANA zone `tz` (UTC if the zone is unknown):
// hour 0..23, minute 0..59, weekday 0 = Monday .. 6 = Sunday. Used by quiet hours too.
struct CivilTime {
  int hour = 0;
  int minute = 0;
  int weekday = 0;
};
CivilTime LocalTime(int64_t time_us, std::string_view tz);

// The first instant at or after `time_us` whose local time in `tz` is `minute_of_day`
// (minutes after midnight). Daylight-saving gaps move it to the next valid instant.
int64_t NextLocalTime(int64_t time_us, std::string_view tz, int minute_of_day);

// True if `name` is a time zone the stdlib resolves (not the UTC fallback of an
// unknown name). Cached like every zone look-up: cheap after the first call.
bool KnownTimeZone(std::string_view name);

// bucket(salt): 0..99, a stable hash of (customer, salt).
int Bucket(std::string_view customer, std::string_view salt);

}  // namespace juncture::stdlib
