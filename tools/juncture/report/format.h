// The two outputs of `juncture report` (docs/report.md): a readable text report and
// one JSON object. Both show the same figures; the JSON shape is documented in
// docs/report.md.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "juncture/report/tally.h"

namespace juncture::tools::report {

// Names of the inputs, shown in both outputs; receipts "" when none were read.
struct Sources {
  std::string decisions, receipts;
};

// Keys in the documented order.
nlohmann::ordered_json ReportJson(const Report& report, const Sources& sources);

std::string ReportText(const Report& report, const Sources& sources);

// A split time for people: "0s", "850ms", "12.4s", "2m30s", "1d3h".
std::string FormatSpan(int64_t us);

}  // namespace juncture::tools::report
