// ISO-8601 timestamps on the wire (docs/language.md).
//
// Accepted, exactly: YYYY-MM-DDTHH:MM:SS[.F] followed by `Z` or `±HH:MM`, where
//   - YYYY is 0000..9999, MM 01..12, DD 01..the month's length (leap years by the
//     Gregorian rule: Feb 29 only when divisible by 4 and not by 100, or by 400),
//     HH 00..23, MM 00..59, SS 00..59 (no leap seconds, no 24:00:00);
//   - F is 1 to 9 digits; digits past the sixth (below a microsecond) are truncated;
//   - the offset is 00:00..23:59 (`-00:00` equals `Z`);
//   - upper-case `T` and `Z` only; no space separator, no basic (colon-less) format.
// Output is UTC with exactly three fraction digits and `Z` (milliseconds, rounded
// toward the past). Durations print in the language's units (FormatDuration).
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <string_view>

#include "juncture/runtime/event.h"

namespace juncture::runtime {
namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kSecondsPerDay = 86'400;

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t& y, int& m, int& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = yoe + era * 400 + (m <= 2);
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int64_t y, int m) {
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// `n` digits at `pos`, into `value`.
bool Digits(std::string_view t, size_t pos, size_t n, int& value) {
  if (pos + n > t.size()) return false;
  value = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = t[pos + i];
    if (!IsDigit(c)) return false;
    value = value * 10 + (c - '0');
  }
  return true;
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

constexpr size_t kHourChars = 13;

// "YYYY-MM-DDTHH" (13 characters), checked, as seconds since the epoch.
bool ParseHour(std::string_view t, int64_t& seconds) {
  int year, month, day, hour;
  if (!Digits(t, 0, 4, year) || t[4] != '-' || !Digits(t, 5, 2, month) || t[7] != '-' ||
      !Digits(t, 8, 2, day) || t[10] != 'T' || !Digits(t, 11, 2, hour)) {
    return false;
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month) || hour > 23) {
    return false;
  }
  seconds = DaysFromCivil(year, month, day) * kSecondsPerDay + hour * 3600;
  return true;
}

// The hour of the timestamp parsed last on this thread. A stream's messages come in
// time order, mostly within the same hour: their date and hour are then compared
// (13 bytes), not parsed again.
struct LastHour {
  char text[kHourChars] = {};
  int64_t seconds = 0;
  bool valid = false;
};

}  // namespace

bool ParseTimestamp(std::string_view t, int64_t& micros) {
  if (t.size() < 20) return false;
  thread_local LastHour last;
  int64_t hour_seconds;
  if (last.valid && std::memcmp(t.data(), last.text, kHourChars) == 0) {
    hour_seconds = last.seconds;
  } else {
    if (!ParseHour(t, hour_seconds)) return false;
    std::memcpy(last.text, t.data(), kHourChars);
    last.seconds = hour_seconds;
    last.valid = true;
  }
  int minute, second;
  if (t[13] != ':' || !Digits(t, 14, 2, minute) || t[16] != ':' || !Digits(t, 17, 2, second) ||
      minute > 59 || second > 59) {
    return false;
  }
  size_t pos = 19;
  int64_t fraction = 0;  // microseconds
  if (t[pos] == '.') {
    ++pos;
    size_t digits = 0;
    while (pos < t.size() && IsDigit(t[pos])) {
      if (digits < 6) fraction = fraction * 10 + (t[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0 || digits > 9) return false;
    for (size_t i = digits; i < 6; ++i) fraction *= 10;
  }
  if (pos >= t.size()) return false;
  int64_t offset_seconds = 0;
  if (t[pos] == 'Z') {
    ++pos;
  } else if (t[pos] == '+' || t[pos] == '-') {
    int sign = t[pos] == '-' ? -1 : 1;
    int oh, om;
    if (!Digits(t, pos + 1, 2, oh) || pos + 3 >= t.size() || t[pos + 3] != ':' ||
        !Digits(t, pos + 4, 2, om) || oh > 23 || om > 59) {
      return false;
    }
    offset_seconds = sign * (oh * 3600 + om * 60);
    pos += 6;
  } else {
    return false;
  }
  if (pos != t.size()) return false;
  int64_t seconds = hour_seconds + minute * 60 + second - offset_seconds;
  micros = seconds * kMicrosPerSecond + fraction;
  return true;
}

bool ParseTimeValue(std::string_view t, int64_t& micros) {
  if (t.size() != 10) return ParseTimestamp(t, micros);
  int year, month, day;
  if (!Digits(t, 0, 4, year) || t[4] != '-' || !Digits(t, 5, 2, month) || t[7] != '-' ||
      !Digits(t, 8, 2, day) || month < 1 || month > 12 || day < 1 ||
      day > DaysInMonth(year, month)) {
    return false;
  }
  micros = DaysFromCivil(year, month, day) * kSecondsPerDay * kMicrosPerSecond;
  return true;
}

void AppendTimestamp(int64_t micros, std::string& out) {
  int64_t millis = FloorDiv(micros, 1000);
  // The text of the last millisecond written, per thread: a message's decisions write
  // the same times again and again ("at", "signal").
  constexpr size_t kTextSize = sizeof "0000-00-00T00:00:00.000Z" - 1;
  thread_local int64_t last_millis = INT64_MIN;
  thread_local char last_text[kTextSize];
  if (millis == last_millis) {
    out.append(last_text, kTextSize);
    return;
  }
  int64_t seconds = FloorDiv(millis, 1000);
  int ms = static_cast<int>(millis - seconds * 1000);
  int64_t days = FloorDiv(seconds, kSecondsPerDay);
  int64_t sod = seconds - days * kSecondsPerDay;
  int64_t year;
  int month, day;
  CivilFromDays(days, year, month, day);
  const int hour = static_cast<int>(sod / 3600), minute = static_cast<int>(sod / 60 % 60),
            second = static_cast<int>(sod % 60);
  if (year < 0 || year > 9999) {  // rare: printf's padding and sign
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ",
                  static_cast<long long>(year), month, day, hour, minute, second, ms);
    out += buf;
    return;
  }
  // The common case by hand: this runs for every decision's times (no printf).
  char buf[] = "0000-00-00T00:00:00.000Z";
  const auto put = [&buf](int at, int value, int digits) {
    for (int k = digits - 1; k >= 0; --k, value /= 10) buf[at + k] = static_cast<char>('0' + value % 10);
  };
  put(0, static_cast<int>(year), 4);
  put(5, month, 2);
  put(8, day, 2);
  put(11, hour, 2);
  put(14, minute, 2);
  put(17, second, 2);
  put(20, ms, 3);
  static_assert(sizeof buf - 1 == kTextSize);
  std::memcpy(last_text, buf, kTextSize);
  last_millis = millis;
  out.append(buf, kTextSize);
}

std::string FormatTimestamp(int64_t micros) {
  std::string out;
  AppendTimestamp(micros, out);
  return out;
}

std::string FormatDuration(int64_t micros) {
  if (micros == 0) return "0s";
  std::string out;
  uint64_t left = micros < 0 ? 0 - static_cast<uint64_t>(micros) : static_cast<uint64_t>(micros);
  if (micros < 0) out += '-';
  const uint64_t us = left % kMicrosPerSecond;
  left /= kMicrosPerSecond;
  static constexpr std::pair<uint64_t, char> kUnits[] = {{86400, 'd'}, {3600, 'h'}, {60, 'm'}};
  for (const auto& [seconds, unit] : kUnits) {
    if (left >= seconds) {
      out += std::to_string(left / seconds);
      out += unit;
      left %= seconds;
    }
  }
  if (left != 0 || us != 0) {
    out += std::to_string(left);
    if (us != 0) {
      char fraction[16];
      std::snprintf(fraction, sizeof fraction, ".%06llu", static_cast<unsigned long long>(us));
      std::string f = fraction;
      while (f.back() == '0') f.pop_back();
      out += f;
    }
    out += 's';
  }
  return out;
}

}  // namespace juncture::runtime
