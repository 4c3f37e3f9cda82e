// Numeric functions of the stdlib: abs, min, max, round, floor, ceil (docs/language.md).
//
// Entry points follow JnStdlibFn (juncture/abi/abi.h) and never fail: a missing or
// mistyped argument yields 0 (of the result type).
//
// Semantics:
// - Integer results never overflow: abs(INT64_MIN) saturates to INT64_MAX.
// - round/floor/ceil convert float -> int saturating at the int64 limits
//   (inf and anything beyond ±2^63 clamp); NaN yields 0. round is half away from
//   zero (round(2.5) = 3, round(-2.5) = -3).
// - abs(float) clears the sign bit (abs(-0.0) = +0.0; NaN stays NaN).
// - min/max of floats: a NaN operand loses to a number (IEEE 754 minNum/maxNum);
//   both NaN yields NaN. -0.0 orders below +0.0, so min(-0.0, 0.0) = -0.0 and
//   max(-0.0, 0.0) = +0.0 whatever the argument order.
// - min/max of ints also serve durations (declarations.cc maps the duration overload
//   to jn_min_int / jn_max_int): the result keeps the arguments' type tag.
// - Float parameters also accept an int argument (int widens to float).
#include <cmath>
#include <cstdint>
#include <limits>

#include "juncture/abi/abi.h"
#include "juncture/abi/values.h"

namespace juncture::stdlib {
namespace {

using abi::MakeFloat;
using abi::MakeInt;

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();

// True when args[0..n) are all present; the caller checks their types.
bool HasArgs(const JnValue* args, uint32_t nargs, uint32_t n) {
  return args != nullptr && nargs >= n;
}

// The float value of `v` (an int widens), or false if `v` is neither.
bool AsFloat(const JnValue& v, double* out) {
  if (v.type == JN_FLOAT) {
    *out = v.f;
    return true;
  }
  if (v.type == JN_INT) {
    *out = static_cast<double>(v.i);
    return true;
  }
  return false;
}

// An integral-valued double to int64, saturating; NaN -> 0.
int64_t SaturatingToInt(double x) {
  if (std::isnan(x)) return 0;
  // 2^63 is exactly representable; INT64_MAX is not (it rounds up to 2^63).
  constexpr double kTwo63 = 9223372036854775808.0;
  if (x >= kTwo63) return kInt64Max;
  if (x < -kTwo63) return kInt64Min;
  return static_cast<int64_t>(x);  // exact: x is integral and in range
}

// Applies `op` to the one float argument and converts the result to int.
JnValue FloatToInt(const JnValue* args, uint32_t nargs, double (*op)(double)) {
  double x = 0;
  if (!HasArgs(args, nargs, 1) || !AsFloat(args[0], &x)) return MakeInt(0);
  return MakeInt(SaturatingToInt(op(x)));
}

double Round(double x) { return std::round(x); }  // half away from zero
double Floor(double x) { return std::floor(x); }
double Ceil(double x) { return std::ceil(x); }

// Both arguments are ints, or both are durations.
bool IntPair(const JnValue* args, uint32_t nargs) {
  if (!HasArgs(args, nargs, 2) || args[0].type != args[1].type) return false;
  return args[0].type == JN_INT || args[0].type == JN_DURATION;
}

// minNum with -0.0 < +0.0.
double FloatMin(double a, double b) {
  if (std::isnan(a)) return b;
  if (std::isnan(b)) return a;
  if (a == b) return std::signbit(a) ? a : b;
  return a < b ? a : b;
}

// maxNum with -0.0 < +0.0.
double FloatMax(double a, double b) {
  if (std::isnan(a)) return b;
  if (std::isnan(b)) return a;
  if (a == b) return std::signbit(a) ? b : a;
  return a > b ? a : b;
}

// Applies `op` to two float arguments.
JnValue FloatPair(const JnValue* args, uint32_t nargs, double (*op)(double, double)) {
  double a = 0;
  double b = 0;
  if (!HasArgs(args, nargs, 2) || !AsFloat(args[0], &a) || !AsFloat(args[1], &b)) {
    return MakeFloat(0);
  }
  return MakeFloat(op(a, b));
}

}  // namespace

// C entry points (C linkage: the symbols are plain "jn_abs_int", ...).
extern "C" {

// abs(x: int) -> int; abs(INT64_MIN) = INT64_MAX.
JnValue jn_abs_int(JnContext* ctx, const JnValue* args, uint32_t nargs) {
  if (!HasArgs(args, nargs, 1) || args[0].type != JN_INT) return MakeInt(0);
  int64_t x = args[0].i;
  if (x == kInt64Min) return MakeInt(kInt64Max);
  return MakeInt(x < 0 ? -x : x);
}

// abs(x: float) -> float.
JnValue jn_abs_float(JnContext* ctx, const JnValue* args, uint32_t nargs) {
  double x = 0;
  if (!HasArgs(args, nargs, 1) || !AsFloat(args[0], &x)) return MakeFloat(0);
  return MakeFloat(std::fabs(x));
}

// min(a, b) for ints and durations.
JnValue jn_min_int(JnContext* ctx, const JnValue* args, uint32_t nargs) {
  if (!IntPair(args, nargs)) return MakeInt(0);
  return MakeInt(args[0].i < args[1].i ? args[0].i : args[1].i, args[0].type);
}

// max(a, b) for ints and durations.
JnValue jn_max_int(JnContext* ctx, const JnValue* args, uint32_t nargs) {
  if (!IntPair(args, nargs)) return MakeInt(0);
  return MakeInt(args[0].i > args[1].i ? args[0].i : args[1].i, args[0].type);
}

// min(a: float, b: float) -> float.
JnValue jn_min_float(JnContext* ctx, const JnValue* args, uint32_t nargs) {
  return FloatPair(args, nargs, FloatMin);
}

// max(a: float, b: float) -> float.
JnValue jn_max_float(JnContext* ctx, const JnValue* args, uint32_t nargs) {
  return FloatPair(args, nargs, FloatMax);
}

// round(x: float) -> int, half away from zero.
JnValue jn_round(JnContext* ctx, const JnValue* args, uint32_t nargs) {
  return FloatToInt(args, nargs, Round);
}

// floor(x: float) -> int.
JnValue jn_floor(JnContext* ctx, const JnValue* args, uint32_t nargs) {
  return FloatToInt(args, nargs, Floor);
}

// ceil(x: float) -> int.
JnValue jn_ceil(JnContext* ctx, const JnValue* args, uint32_t nargs) {
  return FloatToInt(args, nargs, Ceil);
}

}  // extern "C"
}  // namespace juncture::stdlib
