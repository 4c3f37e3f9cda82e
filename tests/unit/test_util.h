// Helpers shared by the unit tests.
#pragma once

#include <memory>
#include <string>

#include "juncture/compiler/compiler.h"

namespace juncture::testing {

// Compiles one in-memory file named "t.jny".
inline std::unique_ptr<compiler::Compilation> CompileOne(const std::string& text,
                                                         const std::string& approvals = "") {
  return compiler::CompileSources({{"t.jny", text}}, compiler::CompileOptions{}, approvals);
}

// "LINE:COL: severity: message" for every diagnostic, one per line (no file, no caret).
inline std::string Brief(const compiler::Compilation& c) {
  std::string out;
  for (const auto& d : c.diagnostics()) {
    out += std::to_string(d.range.begin.line) + ":" + std::to_string(d.range.begin.column) +
           ": " + (d.severity == compiler::Severity::kError ? "error" : "warning") + ": " +
           d.message + "\n";
  }
  return out;
}

// A small valid prelude that most tests build on.
inline const char* kPrelude = R"(
event purchase { amount: float  order_id: string  coupon: string?  tags: list<string>? }
event cart { value: float  items: int = 0 }
event app_open { }
event unsubscribed { }
profile {
  country: string = ""
  tier: string = "standard"
  email_opt_in: bool = false
  timezone: string = "UTC"
  ltv: float = 0
  nickname: string?
}
channel email { consent profile.email_opt_in  quiet 21:00 .. 08:00 local  cap 3 per 1d }
channel push { consent true }
)";

}  // namespace juncture::testing
