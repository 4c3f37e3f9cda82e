// Time functions of the stdlib: hour_of_day, day_of_week, days, hours, year, month,
// day_of_month (docs/language.md), and the civil-time helpers of juncture/stdlib/functions.h
// (LocalTime, NextLocalTime; quiet hours use them too).
//
// Time zones are IANA names ("Europe/Berlin") resolved with cctz against the
// system's tzdata. An unknown or malformed name means UTC. Names are checked before
// they reach the file system, because they come from customer data
// (profile.timezone): cctz would otherwise also open absolute paths, "../" paths and
// the host's "localtime". Loaded zones are cached for the life of the process.
//
// hour_of_day/day_of_week receive their implicit arguments first: now (JN_TIME),
// then the time zone (JN_STRING; the script's or profile.timezone). A missing or
// mistyped `now` yields 0; a missing time zone means UTC.
#include <cctz/civil_time.h>
#include <cctz/time_zone.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>

#include "juncture/abi/abi.h"
#include "juncture/abi/values.h"
#include "juncture/stdlib/functions.h"

namespace juncture::stdlib {
namespace {

using abi::MakeFloat;
using abi::MakeInt;

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerHour = 3'600 * kMicrosPerSecond;
constexpr int64_t kMicrosPerDay = 24 * kMicrosPerHour;
constexpr int kMinutesPerDay = 24 * 60;
// Failed look-ups are remembered up to this many names (the set of real zones is
// finite, the set of bad names is not).
constexpr size_t kMaxCachedUnknownZones = 1024;

using Seconds = cctz::time_point<cctz::seconds>;

// An IANA-shaped name: 1..64 of [A-Za-z0-9_+-/], not starting with '/', no empty
// path component, and not "localtime". No '.', so no "../" escape either.
bool IsPlausibleZoneName(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '/' || name.back() == '/') {
    return false;
  }
  if (name == "localtime" || name.find("//") != std::string_view::npos) return false;
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '+' || c == '-' || c == '/';
    if (!ok) return false;
  }
  return true;
}

// Process-wide cache of loaded zones (unknown names map to UTC).
class ZoneCache {
 public:
  // The zone called `name`, or UTC (with *known false) if there is none.
  cctz::time_zone Get(std::string_view name, bool* known = nullptr) {
    if (known != nullptr) *known = name == "UTC";
    if (name == "UTC" || !IsPlausibleZoneName(name)) return cctz::utc_time_zone();
    {
      std::shared_lock lock(mu_);
      auto it = zones_.find(name);
      if (it != zones_.end()) {
        if (known != nullptr) *known = it->second.known;
        return it->second.zone;
      }
    }
    std::unique_lock lock(mu_);
    auto it = zones_.find(name);  // another thread may have loaded it meanwhile
    if (it != zones_.end()) {
      if (known != nullptr) *known = it->second.known;
      return it->second.zone;
    }
    cctz::time_zone tz;
    if (cctz::load_time_zone(std::string(name), &tz)) {
      zones_.emplace(std::string(name), Zone{tz, true});
      if (known != nullptr) *known = true;
    } else {
      tz = cctz::utc_time_zone();
      if (unknown_ < kMaxCachedUnknownZones) {
        ++unknown_;
        zones_.emplace(std::string(name), Zone{tz, false});
      }
    }
    return tz;
  }

 private:
  struct Zone {
    cctz::time_zone zone;
    bool known;
  };
  std::shared_mutex mu_;
  std::map<std::string, Zone, std::less<>> zones_;
  size_t unknown_ = 0;
};

ZoneCache& Zones() {
  static ZoneCache* cache = new ZoneCache();  // never destroyed: safe at exit
  return *cache;
}

cctz::time_zone LoadZone(std::string_view name) { return Zones().Get(name); }

// Microseconds since the epoch, floored to whole seconds.
Seconds ToSeconds(int64_t time_us) {
  int64_t s = time_us / kMicrosPerSecond;
  if (time_us % kMicrosPerSecond < 0) --s;
  return Seconds(cctz::seconds(s));
}

// Whole seconds to microseconds; false if that overflows int64.
bool ToMicros(Seconds tp, int64_t* out) {
  int64_t s = tp.time_since_epoch().count();
  if (s > std::numeric_limits<int64_t>::max() / kMicrosPerSecond ||
      s < std::numeric_limits<int64_t>::min() / kMicrosPerSecond) {
    return false;
  }
  *out = s * kMicrosPerSecond;
  return true;
}

int WeekdayIndex(cctz::weekday wd) {
  switch (wd) {
    case cctz::weekday::monday: return 0;
    case cctz::weekday::tuesday: return 1;
    case cctz::weekday::wednesday: return 2;
    case cctz::weekday::thursday: return 3;
    case cctz::weekday::friday: return 4;
    case cctz::weekday::saturday: return 5;
    case cctz::weekday::sunday: return 6;
  }
  return 0;
}

// The local date of a time argument in the time-zone argument that follows it
// (year/month/day_of_month: args t, tz), or false when `t` is missing.
bool LocalDate(const JnValue* args, uint32_t nargs, cctz::civil_day* out) {
  if (args == nullptr || nargs < 1 || args[0].type != JN_TIME) return false;
  std::string_view tz;
  if (nargs >= 2 && args[1].type == JN_STRING && args[1].s.data != nullptr) {
    tz = std::string_view(args[1].s.data, args[1].s.len);
  }
  *out = cctz::civil_day(cctz::convert(ToSeconds(args[0].i), LoadZone(tz)));
  return true;
}

// The local time of the call's implicit `now` in its time-zone argument, or false
// when `now` is missing.
bool LocalNow(const JnValue* args, uint32_t nargs, CivilTime* out) {
  if (args == nullptr || nargs < 1 || args[0].type != JN_TIME) return false;
  std::string_view tz;
  if (nargs >= 2 && args[1].type == JN_STRING && args[1].s.data != nullptr) {
    tz = std::string_view(args[1].s.data, args[1].s.len);
  }
  *out = LocalTime(args[0].i, tz);
  return true;
}

// A duration argument divided by `unit` microseconds.
JnValue DurationIn(const JnValue* args, uint32_t nargs, int64_t unit) {
  if (args == nullptr || nargs < 1 || args[0].type != JN_DURATION) return MakeFloat(0);
  return MakeFloat(static_cast<double>(args[0].i) / static_cast<double>(unit));
}

}  // namespace

bool KnownTimeZone(std::string_view name) {
  bool known = false;
  Zones().Get(name, &known);
  return known;
}

CivilTime LocalTime(int64_t time_us, std::string_view tz) {
  const cctz::civil_second cs = cctz::convert(ToSeconds(time_us), LoadZone(tz));
  CivilTime out;
  out.hour = cs.hour();
  out.minute = cs.minute();
  out.weekday = WeekdayIndex(cctz::get_weekday(cctz::civil_day(cs)));
  return out;
}

// Tries the wanted wall-clock time on the local day before `time_us` through three
// days after (the day before matters only when a fall-back fold crosses midnight)
// and keeps the earliest instant >= time_us:
// - UNIQUE: the one instant;
// - REPEATED (fall back): the earlier instant if it qualifies, else the later;
// - SKIPPED (spring forward): the transition, the first instant after the gap.
// If nothing qualifies (only at the end of the int64 range) returns time_us.
int64_t NextLocalTime(int64_t time_us, std::string_view tz, int minute_of_day) {
  const cctz::time_zone zone = LoadZone(tz);
  int minute = minute_of_day % kMinutesPerDay;
  if (minute < 0) minute += kMinutesPerDay;
  const cctz::civil_day today(cctz::convert(ToSeconds(time_us), zone));

  int64_t best = 0;
  bool found = false;
  auto consider = [&](Seconds tp) {
    int64_t us = 0;
    if (!ToMicros(tp, &us) || us < time_us) return;
    if (!found || us < best) best = us;
    found = true;
  };
  for (int d = -1; d <= 3; ++d) {
    const cctz::civil_day day = today + d;
    const cctz::civil_second wanted(day.year(), day.month(), day.day(), minute / 60,
                                    minute % 60, 0);
    const cctz::time_zone::civil_lookup cl = zone.lookup(wanted);
    switch (cl.kind) {
      case cctz::time_zone::civil_lookup::UNIQUE:
        consider(cl.pre);
        break;
      case cctz::time_zone::civil_lookup::REPEATED:
        consider(cl.pre);
        consider(cl.post);
        break;
      case cctz::time_zone::civil_lookup::SKIPPED:
        consider(cl.trans);
        break;
    }
  }
  return found ? best : time_us;
}

// C entry points (C linkage: the symbols are plain "jn_hour_of_day", ...).
extern "C" {

// hour_of_day(tz) -> int 0..23 at the decision time. args: now, tz.
JnValue jn_hour_of_day(JnContext* ctx, const JnValue* args, uint32_t nargs) {
  CivilTime t;
  return LocalNow(args, nargs, &t) ? MakeInt(t.hour) : MakeInt(0);
}

// day_of_week(tz) -> int 0 = Monday .. 6 = Sunday at the decision time. args: now, tz.
JnValue jn_day_of_week(JnContext* ctx, const JnValue* args, uint32_t nargs) {
  CivilTime t;
  return LocalNow(args, nargs, &t) ? MakeInt(t.weekday) : MakeInt(0);
}

// year(t, tz) -> int, the year of `t` in `tz`. args: t, tz.
JnValue jn_year(JnContext* ctx, const JnValue* args, uint32_t nargs) {
  cctz::civil_day d;
  return LocalDate(args, nargs, &d) ? MakeInt(d.year()) : MakeInt(0);
}

// month(t, tz) -> int 1..12. args: t, tz.
JnValue jn_month(JnContext* ctx, const JnValue* args, uint32_t nargs) {
  cctz::civil_day d;
  return LocalDate(args, nargs, &d) ? MakeInt(d.month()) : MakeInt(0);
}

// day_of_month(t, tz) -> int 1..31. args: t, tz.
JnValue jn_day_of_month(JnContext* ctx, const JnValue* args, uint32_t nargs) {
  cctz::civil_day d;
  return LocalDate(args, nargs, &d) ? MakeInt(d.day()) : MakeInt(0);
}

// days(d: duration) -> float.
JnValue jn_days(JnContext* ctx, const JnValue* args, uint32_t nargs) {
  return DurationIn(args, nargs, kMicrosPerDay);
}

// hours(d: duration) -> float.
JnValue jn_hours(JnContext* ctx, const JnValue* args, uint32_t nargs) {
  return DurationIn(args, nargs, kMicrosPerHour);
}

}  // extern "C"
}  // namespace juncture::stdlib
