// The standard library as the type checker sees it: names and signatures.
//
// Implementations (the C entry points that the interpreter and JIT-compiled code
// call) live apart from these declarations, the way cel-cpp keeps checker/
// standard_library apart from runtime/standard/. The table is immutable and
// thread-safe to read.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace juncture::stdlib {

// The value kinds a signature can name. kAnyList matches a list of any element type.
enum class Kind : uint8_t { kBool, kInt, kFloat, kString, kTime, kDuration, kAnyList };

// Arguments a call receives from its context rather than from the script.
enum Implicit : uint8_t {
  kNoImplicit = 0,
  kNow = 1,            // the decision time (time)
  kCustomerId = 2,     // event.customer (string)
  kProfileTimezone = 4 // profile.timezone, when the script leaves the time zone out
};

// One signature of a function.
struct Overload {
  std::vector<Kind> params;  // as written in a script
  int min_args;              // trailing params may be left out (only with kProfileTimezone)
  Kind result;
  uint8_t implicit;          // bit set of Implicit
  std::string_view symbol;   // the C entry point in juncture/abi/abi.h
};

struct Function {
  std::string_view name;
  std::vector<Overload> overloads;  // tried in order; the first that fits wins
  std::string_view summary;         // one line for diagnostics and docs
};

// Every built-in function, in a fixed order (indices are stable within a build).
const std::vector<Function>& Functions();

// The index of the function called `name` in Functions(), or -1.
int FindFunction(std::string_view name);

// "string", "int", ...
std::string_view KindName(Kind kind);

}  // namespace juncture::stdlib
