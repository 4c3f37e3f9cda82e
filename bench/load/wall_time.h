// The wall clock as an ISO-8601 UTC timestamp with milliseconds (the Segment
// `timestamp` format), for the load tool and the delivery simulator.
#pragma once

#include <cstdio>
#include <ctime>
#include <string>

inline std::string WallTimestamp() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  tm t;
  gmtime_r(&ts.tv_sec, &t);
  char buf[96];
  snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", t.tm_year + 1900,
           t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
           static_cast<int>(ts.tv_nsec / 1'000'000));
  return buf;
}
