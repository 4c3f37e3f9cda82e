// The stdlib's C entry points, called the way the interpreter calls them: through
// FindEntryPoint, with implicit arguments first and a JnContext whose alloc copies
// into test-owned storage.
#include "juncture/stdlib/functions.h"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <deque>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "juncture/abi/abi.h"
#include "juncture/stdlib/declarations.h"

namespace juncture::stdlib {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;

// Microseconds since the epoch of a UTC civil time (C++20 calendar, not cctz).
int64_t Utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  using namespace std::chrono;
  const sys_days date = year(y) / month(mo) / day(d);
  return duration_cast<microseconds>(date.time_since_epoch()).count() + h * kHour +
         mi * kMinute + s * kSecond;
}

JnValue Int(int64_t i) {
  JnValue v{};
  v.type = JN_INT;
  v.i = i;
  return v;
}
JnValue Float(double f) {
  JnValue v{};
  v.type = JN_FLOAT;
  v.f = f;
  return v;
}
JnValue Time(int64_t us) {
  JnValue v = Int(us);
  v.type = JN_TIME;
  return v;
}
JnValue Duration(int64_t us) {
  JnValue v = Int(us);
  v.type = JN_DURATION;
  return v;
}
JnValue Str(std::string_view s, int32_t sym = -1) {
  JnValue v{};
  v.type = JN_STRING;
  v.s.data = s.data();
  v.s.len = static_cast<uint32_t>(s.size());
  v.s.sym = sym;
  return v;
}
JnValue List(uint32_t len) {
  static const int64_t kElems[8] = {};
  JnValue v{};
  v.type = JN_LIST;
  v.elem = JN_INT;
  v.l.data = kElems;
  v.l.len = len;
  v.l.elem_size = 8;
  return v;
}

class StdlibFunctionsTest : public ::testing::Test {
 protected:
  StdlibFunctionsTest() {
    ctx_.now_us = Utc(2026, 1, 1);
    ctx_.host = &strings_;
    ctx_.alloc = [](void* host, const char* data, uint32_t len) -> const char* {
      auto* strings = static_cast<std::deque<std::string>*>(host);
      strings->emplace_back(data, len);
      return strings->back().data();
    };
  }

  JnValue Call(std::string_view symbol, std::initializer_list<JnValue> args) {
    JnStdlibFn fn = FindEntryPoint(symbol);
    EXPECT_NE(fn, nullptr) << symbol;
    if (fn == nullptr) return JnValue{};
    std::vector<JnValue> v(args);
    return fn(&ctx_, v.data(), static_cast<uint32_t>(v.size()));
  }

  // A string result, checked to be a fresh allocation (or the empty string).
  std::string CallString(std::string_view symbol, std::string_view arg) {
    size_t before = strings_.size();
    JnValue r = Call(symbol, {Str(arg)});
    EXPECT_EQ(r.type, JN_STRING) << symbol;
    EXPECT_EQ(r.s.sym, -1) << symbol;
    if (r.s.len == 0) return "";
    EXPECT_EQ(strings_.size(), before + 1) << symbol << ": not allocated through ctx";
    EXPECT_EQ(r.s.data, strings_.back().data()) << symbol;
    return std::string(r.s.data, r.s.len);
  }

  int64_t CallInt(std::string_view symbol, std::initializer_list<JnValue> args) {
    JnValue r = Call(symbol, args);
    EXPECT_EQ(r.type, JN_INT) << symbol;
    return r.i;
  }

  double CallFloat(std::string_view symbol, std::initializer_list<JnValue> args) {
    JnValue r = Call(symbol, args);
    EXPECT_EQ(r.type, JN_FLOAT) << symbol;
    return r.f;
  }

  std::deque<std::string> strings_;
  JnContext ctx_{};
};

// ---- Registry -------------------------------------------------------------------

TEST_F(StdlibFunctionsTest, EveryDeclaredSymbolHasAnEntryPoint) {
  for (const Function& f : Functions()) {
    for (const Overload& o : f.overloads) {
      EXPECT_NE(FindEntryPoint(o.symbol), nullptr) << f.name << " -> " << o.symbol;
    }
  }
  EXPECT_EQ(FindEntryPoint("jn_nope"), nullptr);
  EXPECT_EQ(FindEntryPoint(""), nullptr);
  EXPECT_EQ(FindEntryPoint("jn_lower "), nullptr);
}

TEST_F(StdlibFunctionsTest, BadArgumentsYieldNeutralValues) {
  for (const Function& f : Functions()) {
    for (const Overload& o : f.overloads) {
      JnStdlibFn fn = FindEntryPoint(o.symbol);
      ASSERT_NE(fn, nullptr);
      JnValue none = fn(&ctx_, nullptr, 0);
      EXPECT_EQ(none.i, 0) << o.symbol;
      EXPECT_EQ(none.f, 0.0) << o.symbol;
      EXPECT_EQ(none.s.len, 0u) << o.symbol;
      JnValue wrong[2] = {List(3), List(3)};
      JnValue mistyped = fn(&ctx_, wrong, 2);
      if (o.symbol != "jn_len_list") {
        EXPECT_EQ(mistyped.i, 0) << o.symbol;
        EXPECT_EQ(mistyped.f, 0.0) << o.symbol;
        EXPECT_EQ(mistyped.s.len, 0u) << o.symbol;
      }
    }
  }
  // No alloc callback: string functions still answer (with the empty string).
  ctx_.alloc = nullptr;
  EXPECT_EQ(Call("jn_lower", {Str("ABC")}).s.len, 0u);
}

// ---- Strings --------------------------------------------------------------------

TEST_F(StdlibFunctionsTest, LowerAndUpperAreAsciiOnly) {
  EXPECT_EQ(CallString("jn_lower", "Hello, World 42!"), "hello, world 42!");
  EXPECT_EQ(CallString("jn_upper", "Hello, World 42!"), "HELLO, WORLD 42!");
  // Non-ASCII bytes pass through unchanged.
  EXPECT_EQ(CallString("jn_lower", "ÉCOLE Straße"), "École straße");
  EXPECT_EQ(CallString("jn_upper", "école straße"), "éCOLE STRAßE");
  EXPECT_EQ(CallString("jn_lower", ""), "");
  EXPECT_EQ(CallString("jn_upper", ""), "");
  // An interned input does not make an interned result.
  EXPECT_EQ(Call("jn_lower", {Str("abc", 7)}).s.sym, -1);
  // Embedded NUL and long strings (beyond the on-stack buffer).
  EXPECT_EQ(CallString("jn_upper", std::string_view("a\0b", 3)), std::string("A\0B", 3));
  std::string big(1000, 'x');
  EXPECT_EQ(CallString("jn_upper", big), std::string(1000, 'X'));
}

TEST_F(StdlibFunctionsTest, TrimRemovesAsciiWhitespace) {
  EXPECT_EQ(CallString("jn_trim", "  \t hi there \r\n\v\f"), "hi there");
  EXPECT_EQ(CallString("jn_trim", "hi"), "hi");
  EXPECT_EQ(CallString("jn_trim", "   "), "");
  EXPECT_EQ(CallString("jn_trim", ""), "");
  EXPECT_EQ(CallString("jn_trim", "\xC2\xA0x\xC2\xA0"), "\xC2\xA0x\xC2\xA0");  // U+00A0 kept
}

TEST_F(StdlibFunctionsTest, LenCountsCodePointsAndElements) {
  EXPECT_EQ(CallInt("jn_len_string", {Str("")}), 0);
  EXPECT_EQ(CallInt("jn_len_string", {Str("hello")}), 5);
  EXPECT_EQ(CallInt("jn_len_string", {Str("héllo")}), 5);         // 2-byte
  EXPECT_EQ(CallInt("jn_len_string", {Str("日本語")}), 3);         // 3-byte
  EXPECT_EQ(CallInt("jn_len_string", {Str("a\U0001F600b")}), 3);  // 4-byte
  EXPECT_EQ(CallInt("jn_len_string", {Str(std::string_view("\0\0", 2))}), 2);
  EXPECT_EQ(CallInt("jn_len_list", {List(0)}), 0);
  EXPECT_EQ(CallInt("jn_len_list", {List(7)}), 7);
}

// ---- Math -----------------------------------------------------------------------

TEST_F(StdlibFunctionsTest, Abs) {
  EXPECT_EQ(CallInt("jn_abs_int", {Int(-5)}), 5);
  EXPECT_EQ(CallInt("jn_abs_int", {Int(5)}), 5);
  EXPECT_EQ(CallInt("jn_abs_int", {Int(0)}), 0);
  EXPECT_EQ(CallInt("jn_abs_int", {Int(kMax)}), kMax);
  EXPECT_EQ(CallInt("jn_abs_int", {Int(kMin)}), kMax);  // saturates
  EXPECT_EQ(CallInt("jn_abs_int", {Int(kMin + 1)}), kMax);
  EXPECT_EQ(CallFloat("jn_abs_float", {Float(-2.5)}), 2.5);
  double zero = CallFloat("jn_abs_float", {Float(-0.0)});
  EXPECT_EQ(zero, 0.0);
  EXPECT_FALSE(std::signbit(zero));
  EXPECT_EQ(CallFloat("jn_abs_float", {Float(-INFINITY)}), INFINITY);
  EXPECT_TRUE(std::isnan(CallFloat("jn_abs_float", {Float(NAN)})));
  EXPECT_EQ(CallFloat("jn_abs_float", {Int(-3)}), 3.0);  // int widens
}

TEST_F(StdlibFunctionsTest, MinMax) {
  EXPECT_EQ(CallInt("jn_min_int", {Int(3), Int(-4)}), -4);
  EXPECT_EQ(CallInt("jn_max_int", {Int(3), Int(-4)}), 3);
  EXPECT_EQ(CallInt("jn_min_int", {Int(kMin), Int(kMax)}), kMin);
  EXPECT_EQ(CallInt("jn_max_int", {Int(kMin), Int(kMax)}), kMax);
  // Durations share the int entry points and keep their type.
  JnValue d = Call("jn_min_int", {Duration(kHour), Duration(kMinute)});
  EXPECT_EQ(d.type, JN_DURATION);
  EXPECT_EQ(d.i, kMinute);
  d = Call("jn_max_int", {Duration(kHour), Duration(kMinute)});
  EXPECT_EQ(d.type, JN_DURATION);
  EXPECT_EQ(d.i, kHour);
  EXPECT_EQ(Call("jn_min_int", {Int(1), Duration(2)}).i, 0);  // mixed: neutral

  EXPECT_EQ(CallFloat("jn_min_float", {Float(1.5), Float(-2.5)}), -2.5);
  EXPECT_EQ(CallFloat("jn_max_float", {Float(1.5), Float(-2.5)}), 1.5);
  EXPECT_EQ(CallFloat("jn_max_float", {Float(1.5), Int(2)}), 2.0);  // int widens
  // -0.0 orders below +0.0, in either argument order.
  EXPECT_TRUE(std::signbit(CallFloat("jn_min_float", {Float(0.0), Float(-0.0)})));
  EXPECT_TRUE(std::signbit(CallFloat("jn_min_float", {Float(-0.0), Float(0.0)})));
  EXPECT_FALSE(std::signbit(CallFloat("jn_max_float", {Float(0.0), Float(-0.0)})));
  EXPECT_FALSE(std::signbit(CallFloat("jn_max_float", {Float(-0.0), Float(0.0)})));
  // A number beats NaN.
  EXPECT_EQ(CallFloat("jn_min_float", {Float(NAN), Float(1.0)}), 1.0);
  EXPECT_EQ(CallFloat("jn_max_float", {Float(1.0), Float(NAN)}), 1.0);
  EXPECT_TRUE(std::isnan(CallFloat("jn_min_float", {Float(NAN), Float(NAN)})));
  EXPECT_EQ(CallFloat("jn_min_float", {Float(-INFINITY), Float(1.0)}), -INFINITY);
}

TEST_F(StdlibFunctionsTest, RoundIsHalfAwayFromZero) {
  EXPECT_EQ(CallInt("jn_round", {Float(2.5)}), 3);
  EXPECT_EQ(CallInt("jn_round", {Float(-2.5)}), -3);
  EXPECT_EQ(CallInt("jn_round", {Float(0.5)}), 1);
  EXPECT_EQ(CallInt("jn_round", {Float(-0.5)}), -1);
  EXPECT_EQ(CallInt("jn_round", {Float(1.4999999999999998)}), 1);
  EXPECT_EQ(CallInt("jn_round", {Float(0.49999999999999994)}), 0);
  EXPECT_EQ(CallInt("jn_round", {Float(-0.0)}), 0);
  EXPECT_EQ(CallInt("jn_round", {Float(7.0)}), 7);
  EXPECT_EQ(CallInt("jn_round", {Int(7)}), 7);  // int widens
}

TEST_F(StdlibFunctionsTest, FloorAndCeil) {
  EXPECT_EQ(CallInt("jn_floor", {Float(2.7)}), 2);
  EXPECT_EQ(CallInt("jn_floor", {Float(-2.2)}), -3);
  EXPECT_EQ(CallInt("jn_floor", {Float(-0.0)}), 0);
  EXPECT_EQ(CallInt("jn_ceil", {Float(2.2)}), 3);
  EXPECT_EQ(CallInt("jn_ceil", {Float(-2.7)}), -2);
  EXPECT_EQ(CallInt("jn_ceil", {Float(-0.5)}), 0);
}

TEST_F(StdlibFunctionsTest, FloatToIntSaturates) {
  const double two63 = 9223372036854775808.0;
  const double below = std::nextafter(two63, 0.0);  // 2^63 - 1024
  for (const char* fn : {"jn_round", "jn_floor", "jn_ceil"}) {
    EXPECT_EQ(CallInt(fn, {Float(1e300)}), kMax) << fn;
    EXPECT_EQ(CallInt(fn, {Float(-1e300)}), kMin) << fn;
    EXPECT_EQ(CallInt(fn, {Float(INFINITY)}), kMax) << fn;
    EXPECT_EQ(CallInt(fn, {Float(-INFINITY)}), kMin) << fn;
    EXPECT_EQ(CallInt(fn, {Float(NAN)}), 0) << fn;
    EXPECT_EQ(CallInt(fn, {Float(two63)}), kMax) << fn;
    EXPECT_EQ(CallInt(fn, {Float(-two63)}), kMin) << fn;  // exactly INT64_MIN
    EXPECT_EQ(CallInt(fn, {Float(below)}), static_cast<int64_t>(below)) << fn;
    EXPECT_EQ(CallInt(fn, {Float(-1.5e19)}), kMin) << fn;
  }
}

// ---- Time -----------------------------------------------------------------------

TEST_F(StdlibFunctionsTest, DaysAndHours) {
  EXPECT_EQ(CallFloat("jn_days", {Duration(36 * kHour)}), 1.5);
  EXPECT_EQ(CallFloat("jn_hours", {Duration(90 * kMinute)}), 1.5);
  EXPECT_EQ(CallFloat("jn_days", {Duration(-kDay)}), -1.0);
  EXPECT_EQ(CallFloat("jn_hours", {Duration(0)}), 0.0);
  EXPECT_GT(CallFloat("jn_days", {Duration(kMax)}), 1e8);  // "never" stays finite
}

TEST_F(StdlibFunctionsTest, HourAndDayInUtc) {
  const int64_t t = Utc(2026, 5, 10, 14, 30);  // a Sunday
  EXPECT_EQ(CallInt("jn_hour_of_day", {Time(t), Str("UTC")}), 14);
  EXPECT_EQ(CallInt("jn_day_of_week", {Time(t), Str("UTC")}), 6);
  EXPECT_EQ(CallInt("jn_day_of_week", {Time(t + kDay), Str("UTC")}), 0);  // Monday
  // Before the epoch, with a fractional second: 1969-12-31 23:59:59.5, Wednesday.
  EXPECT_EQ(CallInt("jn_hour_of_day", {Time(-kSecond / 2), Str("UTC")}), 23);
  EXPECT_EQ(CallInt("jn_day_of_week", {Time(-kSecond / 2), Str("UTC")}), 2);
}

TEST_F(StdlibFunctionsTest, UnknownOrMissingZoneIsUtc) {
  const int64_t t = Utc(2026, 5, 10, 14, 30);
  for (std::string_view tz : {"", "Europe/Nowhere", "utc", "localtime", "/etc/localtime",
                              "/usr/share/zoneinfo/Europe/Berlin", "../zoneinfo/Asia/Tokyo",
                              "Europe//Berlin", "Europe/Berlin/", "Europe/Berlin\n",
                              "Fixed/UTC+05:00"}) {
    EXPECT_EQ(CallInt("jn_hour_of_day", {Time(t), Str(tz)}), 14) << tz;
    CivilTime c = LocalTime(t, tz);
    EXPECT_EQ(c.hour, 14) << tz;
    EXPECT_EQ(c.minute, 30) << tz;
  }
  EXPECT_EQ(CallInt("jn_hour_of_day", {Time(t)}), 14);           // no zone argument
  EXPECT_EQ(CallInt("jn_hour_of_day", {Time(t), Int(3)}), 14);   // mistyped zone
  EXPECT_EQ(CallInt("jn_hour_of_day", {Int(t), Str("UTC")}), 0); // mistyped now
}

TEST_F(StdlibFunctionsTest, YearMonthAndDayOfMonthInTheirZone) {
  // 2026-12-31 23:30 UTC is already 2027-01-01 in Berlin, still 2026 in New York.
  const int64_t t = Utc(2026, 12, 31, 23, 30);
  EXPECT_EQ(CallInt("jn_year", {Time(t), Str("UTC")}), 2026);
  EXPECT_EQ(CallInt("jn_month", {Time(t), Str("UTC")}), 12);
  EXPECT_EQ(CallInt("jn_day_of_month", {Time(t), Str("UTC")}), 31);
  EXPECT_EQ(CallInt("jn_year", {Time(t), Str("Europe/Berlin")}), 2027);
  EXPECT_EQ(CallInt("jn_month", {Time(t), Str("Europe/Berlin")}), 1);
  EXPECT_EQ(CallInt("jn_day_of_month", {Time(t), Str("Europe/Berlin")}), 1);
  EXPECT_EQ(CallInt("jn_day_of_month", {Time(t), Str("America/New_York")}), 31);
  // Leap day, before the epoch, and an unknown zone (UTC).
  EXPECT_EQ(CallInt("jn_day_of_month", {Time(Utc(2024, 2, 29, 12)), Str("Bogus/Zone")}), 29);
  EXPECT_EQ(CallInt("jn_year", {Time(Utc(1969, 7, 20, 20, 17)), Str("UTC")}), 1969);
  EXPECT_EQ(CallInt("jn_month", {Int(t), Str("UTC")}), 0);  // mistyped time
}

TEST_F(StdlibFunctionsTest, StringRendersIntsFloatsAndBools) {
  auto str = [&](const char* symbol, JnValue v) {
    JnValue r = Call(symbol, {v});
    EXPECT_EQ(r.type, JN_STRING) << symbol;
    return std::string(r.s.data, r.s.len);
  };
  EXPECT_EQ(str("jn_string_int", Int(42)), "42");
  EXPECT_EQ(str("jn_string_int", Int(kMin)), "-9223372036854775808");
  EXPECT_EQ(str("jn_string_float", Float(12.5)), "12.5");
  EXPECT_EQ(str("jn_string_float", Float(50)), "50");
  EXPECT_EQ(str("jn_string_float", Float(0.1)), "0.1");
  EXPECT_EQ(str("jn_string_float", Float(-1e21)), "-1e+21");
  JnValue t{};
  t.type = JN_BOOL;
  t.b = 1;
  EXPECT_EQ(str("jn_string_bool", t), "true");
  t.b = 0;
  EXPECT_EQ(str("jn_string_bool", t), "false");
}

TEST_F(StdlibFunctionsTest, KnownTimeZonesAreTheOnesTheFunctionsResolve) {
  EXPECT_TRUE(KnownTimeZone("Europe/Berlin"));
  EXPECT_TRUE(KnownTimeZone("UTC"));
  EXPECT_TRUE(KnownTimeZone("America/Argentina/Buenos_Aires"));
  for (std::string_view tz : {"", "Mars/Olympus", "utc", "localtime", "/etc/localtime",
                              "../zoneinfo/Asia/Tokyo", "Fixed/UTC+05:00"}) {
    EXPECT_FALSE(KnownTimeZone(tz)) << tz;
  }
}

TEST_F(StdlibFunctionsTest, BerlinAcrossSpringForward) {
  // 2026-03-29 01:00 UTC: Berlin goes from 02:00 CET to 03:00 CEST.
  const int64_t change = Utc(2026, 3, 29, 1, 0);
  const JnValue berlin = Str("Europe/Berlin");
  EXPECT_EQ(CallInt("jn_hour_of_day", {Time(change - kSecond), berlin}), 1);
  EXPECT_EQ(CallInt("jn_hour_of_day", {Time(change), berlin}), 3);
  CivilTime before = LocalTime(change - 1, "Europe/Berlin");
  EXPECT_EQ(before.hour, 1);
  EXPECT_EQ(before.minute, 59);
  CivilTime after = LocalTime(change, "Europe/Berlin");
  EXPECT_EQ(after.hour, 3);
  EXPECT_EQ(after.minute, 0);
  EXPECT_EQ(after.weekday, 6);
  // Saturday 23:30 UTC is already Sunday 00:30 in Berlin (still CET).
  const int64_t late = Utc(2026, 3, 28, 23, 30);
  EXPECT_EQ(CallInt("jn_day_of_week", {Time(late), Str("UTC")}), 5);
  EXPECT_EQ(CallInt("jn_day_of_week", {Time(late), berlin}), 6);
  EXPECT_EQ(CallInt("jn_hour_of_day", {Time(late), berlin}), 0);
  // Summer: UTC+2.
  EXPECT_EQ(CallInt("jn_hour_of_day", {Time(Utc(2026, 7, 1, 12)), berlin}), 14);
}

TEST_F(StdlibFunctionsTest, NewYorkAcrossFallBack) {
  // 2026-11-01 06:00 UTC: New York goes from 02:00 EDT back to 01:00 EST.
  const int64_t change = Utc(2026, 11, 1, 6, 0);
  const JnValue ny = Str("America/New_York");
  EXPECT_EQ(CallInt("jn_hour_of_day", {Time(change - kMinute), ny}), 1);  // 01:59 EDT
  EXPECT_EQ(CallInt("jn_hour_of_day", {Time(change), ny}), 1);            // 01:00 EST
  EXPECT_EQ(CallInt("jn_hour_of_day", {Time(change + kHour), ny}), 2);    // 02:00 EST
  EXPECT_EQ(LocalTime(change - kMinute, "America/New_York").minute, 59);
  EXPECT_EQ(LocalTime(change, "America/New_York").minute, 0);
  // 2026-11-01 03:00 UTC is still Saturday 23:00 EDT.
  const int64_t t = Utc(2026, 11, 1, 3, 0);
  EXPECT_EQ(CallInt("jn_day_of_week", {Time(t), Str("UTC")}), 6);
  EXPECT_EQ(CallInt("jn_day_of_week", {Time(t), ny}), 5);
  EXPECT_EQ(CallInt("jn_hour_of_day", {Time(t), ny}), 23);
  // Spring forward, 2026-03-08 07:00 UTC: 01:59 EST -> 03:00 EDT.
  const int64_t spring = Utc(2026, 3, 8, 7, 0);
  EXPECT_EQ(CallInt("jn_hour_of_day", {Time(spring - kMinute), ny}), 1);
  EXPECT_EQ(CallInt("jn_hour_of_day", {Time(spring), ny}), 3);
}

TEST_F(StdlibFunctionsTest, NextLocalTimeSameDayAndAcrossMidnight) {
  const int64_t t = Utc(2026, 5, 10, 6, 0);
  EXPECT_EQ(NextLocalTime(t, "UTC", 8 * 60), Utc(2026, 5, 10, 8, 0));
  EXPECT_EQ(NextLocalTime(t, "UTC", 6 * 60), t);  // "at or after"
  EXPECT_EQ(NextLocalTime(t + 1, "UTC", 6 * 60), Utc(2026, 5, 11, 6, 0));
  EXPECT_EQ(NextLocalTime(Utc(2026, 5, 10, 23, 30), "UTC", 8 * 60), Utc(2026, 5, 11, 8, 0));
  EXPECT_EQ(NextLocalTime(Utc(2026, 12, 31, 22, 0), "UTC", 0), Utc(2027, 1, 1, 0, 0));
  // Berlin (CEST, UTC+2): 23:00 local on May 10 -> 07:00 local on May 11.
  EXPECT_EQ(NextLocalTime(Utc(2026, 5, 10, 21, 0), "Europe/Berlin", 7 * 60),
            Utc(2026, 5, 11, 5, 0));
  // 00:30 local May 11 (22:30 UTC May 10) -> 23:15 local May 11.
  EXPECT_EQ(NextLocalTime(Utc(2026, 5, 10, 22, 30), "Europe/Berlin", 23 * 60 + 15),
            Utc(2026, 5, 11, 21, 15));
  // Minutes outside 0..1439 wrap around the day; unknown zones are UTC.
  EXPECT_EQ(NextLocalTime(t, "UTC", -60), Utc(2026, 5, 10, 23, 0));
  EXPECT_EQ(NextLocalTime(t, "UTC", 1440 + 7 * 60), Utc(2026, 5, 10, 7, 0));
  EXPECT_EQ(NextLocalTime(t, "Mars/Olympus", 8 * 60), Utc(2026, 5, 10, 8, 0));
}

TEST_F(StdlibFunctionsTest, NextLocalTimeAcrossDstGap) {
  // Europe/Berlin 2026-03-29 02:30 does not exist; the first instant after the gap
  // is the transition, 03:00 CEST = 01:00 UTC.
  const int64_t gap_end = Utc(2026, 3, 29, 1, 0);
  EXPECT_EQ(NextLocalTime(Utc(2026, 3, 28, 12, 0), "Europe/Berlin", 2 * 60 + 30), gap_end);
  EXPECT_EQ(NextLocalTime(Utc(2026, 3, 29, 0, 0), "Europe/Berlin", 2 * 60 + 30), gap_end);
  // After the gap the next 02:30 is the following day's (CEST, UTC+2).
  EXPECT_EQ(NextLocalTime(gap_end + 1, "Europe/Berlin", 2 * 60 + 30),
            Utc(2026, 3, 30, 0, 30));
  // Times on either side of the gap are unaffected.
  EXPECT_EQ(NextLocalTime(Utc(2026, 3, 28, 12, 0), "Europe/Berlin", 1 * 60 + 30),
            Utc(2026, 3, 29, 0, 30));  // 01:30 CET
  EXPECT_EQ(NextLocalTime(Utc(2026, 3, 28, 12, 0), "Europe/Berlin", 3 * 60 + 30),
            Utc(2026, 3, 29, 1, 30));  // 03:30 CEST
}

TEST_F(StdlibFunctionsTest, NextLocalTimeAcrossFold) {
  // New York 2026-11-01 01:30 happens twice: 05:30 UTC (EDT) and 06:30 UTC (EST).
  const char* ny = "America/New_York";
  EXPECT_EQ(NextLocalTime(Utc(2026, 10, 31, 12, 0), ny, 90), Utc(2026, 11, 1, 5, 30));
  EXPECT_EQ(NextLocalTime(Utc(2026, 11, 1, 5, 45), ny, 90), Utc(2026, 11, 1, 6, 30));
  EXPECT_EQ(NextLocalTime(Utc(2026, 11, 1, 6, 45), ny, 90), Utc(2026, 11, 2, 6, 30));
}

TEST_F(StdlibFunctionsTest, NextLocalTimeAtTheEndOfTime) {
  EXPECT_EQ(NextLocalTime(kMax, "UTC", 0), kMax);  // nothing representable after
  const int64_t first = NextLocalTime(kMin, "UTC", 0);  // the first UTC midnight
  EXPECT_GE(first, kMin);
  EXPECT_LE(first - kMin, kDay);
  EXPECT_EQ(first % kDay, 0);
}

TEST_F(StdlibFunctionsTest, ZoneLookupsAreThreadSafe) {
  // Several threads load and read the zone cache at once (run under TSan too).
  const int64_t t = Utc(2026, 7, 1, 12);
  std::vector<std::thread> threads;
  std::vector<int> wrong(8, 0);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      for (int n = 0; n < 200; ++n) {
        if (LocalTime(t, "Europe/Berlin").hour != 14) ++wrong[i];
        if (LocalTime(t, "America/New_York").hour != 8) ++wrong[i];
        if (LocalTime(t, "Asia/Tokyo").hour != 21) ++wrong[i];
        if (LocalTime(t, "No/Such_" + std::to_string(n % 7)).hour != 12) ++wrong[i];
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (int w : wrong) EXPECT_EQ(w, 0);
}

// ---- Bucket ---------------------------------------------------------------------

TEST_F(StdlibFunctionsTest, BucketIsStable) {
  // Pinned once: a change here reshuffles every running experiment.
  EXPECT_EQ(Bucket("alice", "exp1"), 70);
  EXPECT_EQ(Bucket("bob", "exp1"), 52);
  EXPECT_EQ(Bucket("alice", "exp2"), 1);
  EXPECT_EQ(Bucket("", ""), 83);
  EXPECT_EQ(Bucket("ab", "c"), 69);
  EXPECT_EQ(Bucket("a", "bc"), 99);
  // The entry point: customer (implicit) first, then the salt.
  EXPECT_EQ(CallInt("jn_bucket", {Str("alice"), Str("exp1")}), Bucket("alice", "exp1"));
  std::string long_customer(500, 'c');
  EXPECT_EQ(CallInt("jn_bucket", {Str(long_customer), Str("exp1")}),
            Bucket(long_customer, "exp1"));
  EXPECT_EQ(Bucket(long_customer, "exp1"), 3);
  EXPECT_EQ(CallInt("jn_bucket", {Str(""), Str("")}), Bucket("", ""));  // empty is valid
  EXPECT_EQ(CallInt("jn_bucket", {Str("alice")}), 0);                  // no salt
}

TEST_F(StdlibFunctionsTest, BucketSpreadsEvenly) {
  int counts[100] = {};
  int moved = 0;
  for (int i = 0; i < 10000; ++i) {
    const std::string customer = "customer-" + std::to_string(i);
    const int b = Bucket(customer, "exp1");
    ASSERT_GE(b, 0);
    ASSERT_LT(b, 100);
    ++counts[b];
    if (Bucket(customer, "exp2") != b) ++moved;
  }
  for (int b = 0; b < 100; ++b) {
    EXPECT_GE(counts[b], 50) << "bucket " << b;
    EXPECT_LE(counts[b], 150) << "bucket " << b;
  }
  EXPECT_GT(moved, 9500);  // another salt is an independent split (~99% move)
}

}  // namespace
}  // namespace juncture::stdlib
