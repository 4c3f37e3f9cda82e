// Reading the inputs of `juncture report`: one decision line (the JSON that `juncture
// run` prints and `juncture serve` publishes, docs/semantics.md "Decisions") or one
// receipt line ({"decision":ID,"status":S,"at":TIME}). Each parser checks only what
// the report uses and says, in one phrase, why a line cannot be used.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "juncture/status.h"

namespace juncture::tools::report {

// What the report reads of a decision.
struct DecisionLine {
  std::string id, customer, journey, version, outcome;
  std::string step;     // "entry", "s3", "end", "exit", "goal", "reload"; "" if absent
  std::string channel;  // "" if none
  std::string reason;   // suppressed
  std::string arm;      // converted: "treatment" or "control"
  int64_t at_us = 0;
  std::optional<int64_t> signal_us;  // sends, when the line has it
  bool release = false;              // the id ends with ":release"
};

// Parses one line. An invalid-argument error says why the line is bad: not JSON, not
// an object, a missing or mistyped field (id, customer, journey, outcome and at are
// required; channel for sent, deferred and suppressed; reason for suppressed; arm for
// converted), an unknown outcome, or a time that is not ISO-8601.
Status ParseDecisionLine(std::string_view line, DecisionLine& out);

// The receipt statuses, in report order.
enum class ReceiptStatus { kDelivered, kOpened, kClicked, kFailed };
inline constexpr int kReceiptStatuses = 4;
const char* ReceiptStatusName(ReceiptStatus s);

struct ReceiptLine {
  std::string decision;
  ReceiptStatus status = ReceiptStatus::kDelivered;
  int64_t at_us = 0;
};

// Parses one receipt line; an invalid-argument error says why it is bad.
Status ParseReceiptLine(std::string_view line, ReceiptLine& out);

// True if `line` holds only spaces, tabs and carriage returns (not counted as input).
bool IsBlank(std::string_view line);

}  // namespace juncture::tools::report
