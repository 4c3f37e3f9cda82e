#include "juncture/stdlib/declarations.h"

namespace juncture::stdlib {
namespace {

using K = Kind;

std::vector<Function> MakeTable() {
  return {
      {"lower", {{{K::kString}, 1, K::kString, kNoImplicit, "jn_lower"}}, "lower(s: string) -> string"},
      {"upper", {{{K::kString}, 1, K::kString, kNoImplicit, "jn_upper"}}, "upper(s: string) -> string"},
      {"trim", {{{K::kString}, 1, K::kString, kNoImplicit, "jn_trim"}}, "trim(s: string) -> string"},
      {"len",
       {{{K::kString}, 1, K::kInt, kNoImplicit, "jn_len_string"},
        {{K::kAnyList}, 1, K::kInt, kNoImplicit, "jn_len_list"}},
       "len(s: string | list) -> int (characters or elements)"},
      {"abs",
       {{{K::kInt}, 1, K::kInt, kNoImplicit, "jn_abs_int"},
        {{K::kFloat}, 1, K::kFloat, kNoImplicit, "jn_abs_float"}},
       "abs(x: int | float) -> same type"},
      {"min",
       {{{K::kInt, K::kInt}, 2, K::kInt, kNoImplicit, "jn_min_int"},
        {{K::kFloat, K::kFloat}, 2, K::kFloat, kNoImplicit, "jn_min_float"},
        {{K::kDuration, K::kDuration}, 2, K::kDuration, kNoImplicit, "jn_min_int"}},
       "min(a, b) -> the smaller (int, float or duration)"},
      {"max",
       {{{K::kInt, K::kInt}, 2, K::kInt, kNoImplicit, "jn_max_int"},
        {{K::kFloat, K::kFloat}, 2, K::kFloat, kNoImplicit, "jn_max_float"},
        {{K::kDuration, K::kDuration}, 2, K::kDuration, kNoImplicit, "jn_max_int"}},
       "max(a, b) -> the larger (int, float or duration)"},
      {"round", {{{K::kFloat}, 1, K::kInt, kNoImplicit, "jn_round"}},
       "round(x: float) -> int (half away from zero)"},
      {"floor", {{{K::kFloat}, 1, K::kInt, kNoImplicit, "jn_floor"}}, "floor(x: float) -> int"},
      {"ceil", {{{K::kFloat}, 1, K::kInt, kNoImplicit, "jn_ceil"}}, "ceil(x: float) -> int"},
      {"hour_of_day",
       {{{K::kString}, 0, K::kInt, kNow | kProfileTimezone, "jn_hour_of_day"}},
       "hour_of_day(tz: string = profile.timezone) -> int (0..23, at decision time)"},
      {"day_of_week",
       {{{K::kString}, 0, K::kInt, kNow | kProfileTimezone, "jn_day_of_week"}},
       "day_of_week(tz: string = profile.timezone) -> int (0 = Monday .. 6 = Sunday)"},
      {"year", {{{K::kTime, K::kString}, 1, K::kInt, kProfileTimezone, "jn_year"}},
       "year(t: time, tz: string = profile.timezone) -> int"},
      {"month", {{{K::kTime, K::kString}, 1, K::kInt, kProfileTimezone, "jn_month"}},
       "month(t: time, tz: string = profile.timezone) -> int (1..12)"},
      {"day_of_month",
       {{{K::kTime, K::kString}, 1, K::kInt, kProfileTimezone, "jn_day_of_month"}},
       "day_of_month(t: time, tz: string = profile.timezone) -> int (1..31)"},
      {"string",
       {{{K::kInt}, 1, K::kString, kNoImplicit, "jn_string_int"},
        {{K::kFloat}, 1, K::kString, kNoImplicit, "jn_string_float"},
        {{K::kBool}, 1, K::kString, kNoImplicit, "jn_string_bool"}},
       "string(x: int | float | bool) -> string"},
      {"days", {{{K::kDuration}, 1, K::kFloat, kNoImplicit, "jn_days"}},
       "days(d: duration) -> float"},
      {"hours", {{{K::kDuration}, 1, K::kFloat, kNoImplicit, "jn_hours"}},
       "hours(d: duration) -> float"},
      {"bucket", {{{K::kString}, 1, K::kInt, kCustomerId, "jn_bucket"}},
       "bucket(salt: string) -> int (0..99, stable per customer and salt)"},
  };
}

}  // namespace

const std::vector<Function>& Functions() {
  static const std::vector<Function> table = MakeTable();
  return table;
}

int FindFunction(std::string_view name) {
  const auto& table = Functions();
  for (size_t i = 0; i < table.size(); ++i) {
    if (table[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

std::string_view KindName(Kind kind) {
  switch (kind) {
    case K::kBool: return "bool";
    case K::kInt: return "int";
    case K::kFloat: return "float";
    case K::kString: return "string";
    case K::kTime: return "time";
    case K::kDuration: return "duration";
    case K::kAnyList: return "list";
  }
  return "?";
}

}  // namespace juncture::stdlib
