// Diagnostics: problems in the user's source (tier 2 of the error model).
//
// Every phase appends Diagnostic records to a DiagnosticSink and never throws.
// Errors make a compile fail; warnings carry a stable WarnCode so that `juncture lint`
// can switch each one off (-Wno-<code>). The sink is not thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "juncture/compiler/source.h"

namespace juncture::compiler {

enum class Severity { kError, kWarning, kNote };

// Every warning the compiler can give. Each has a stable name (WarnCodeName).
enum class WarnCode {
  kNone = 0,            // not a warning (errors)
  kUnusedSegment,       // unused-segment: a segment no journey or segment reads
  kUnusedConst,         // unused-const: a const nothing reads
  kConstantCondition,   // constant-condition: an `if` whose condition is always true/false
  kUnreachableStep,     // unreachable-step: steps after `exit` in the same block
  kWaitWithoutExit,     // wait-without-exit: a journey that waits but has no `exit on`
  kChannelWithoutConsent,  // channel-without-consent: a channel with no `consent` clause
  kUnapproved,          // unapproved: a journey missing approvals; its sends are suppressed
  kNeedlessOptionalCheck,  // needless-optional-check: has()/?? on a value that is never absent
  kUnusedLimit,         // unused-limit: a `limit` on a parameter that no send passes
};
inline constexpr int kWarnCodeCount = 10;

// Every class of error. Each has a stable name (ErrorCodeName), shown after the
// message in text (`[unknown-event]`), as "code" in JSON and as the rule in SARIF.
enum class ErrorCode {
  kNone = 0,           // not an error (warnings, notes)
  kSyntax,             // syntax: the text does not parse (unexpected tokens, bad characters, strings)
  kSource,             // source: a file that cannot be read, is not UTF-8 or is too large
  kTooComplex,         // too-complex: nesting or expressions deeper than the parser's bounds
  kDuplicate,          // duplicate: a name declared twice, a clause or parameter given twice
  kUnknownName,        // unknown-name: a bare name that is no segment or const
  kUnknownEvent,       // unknown-event: an event name no `event` declares
  kUnknownField,       // unknown-field: a field the event or profile does not declare
  kUnknownFunction,    // unknown-function: a function the standard library does not have
  kUnknownType,        // unknown-type: a type name that does not exist, or a malformed list type
  kUnknownChannel,     // unknown-channel: a send on a channel no `channel` declares
  kUnknownTimeZone,    // unknown-time-zone: a constant time-zone name that is not an IANA zone
  kTimeZoneField,      // time-zone-field: a local-time rule without a profile field `timezone`
  kType,               // type: values of the wrong type for an operator, function or clause
  kOptional,           // optional: an optional value used without has() or ??
  kBinding,            // binding: `event` (or one of its fields) read where it is not bound
  kConstant,           // constant: a value that must be known at compile time is not
  kCycle,              // cycle: a segment or const that depends on itself
  kInvalidValue,       // invalid-value: a number, duration, time or name out of its range
  kSplitPercent,       // split-percent: split percents out of range or not adding up to 100%
  kLimit,              // limit: a `limit` that is not a constant number, or a send beyond it
  kJourneyStructure,   // journey-structure: a journey without trigger, a header clause after steps
  kApprovals,          // approvals: an approvals ledger that cannot be read
  kInternal,           // internal: a compiler bug caught by the IR verifier
};
inline constexpr int kErrorCodeCount = 23;

// The stable name of an error code ("unknown-event"); "" for kNone.
std::string_view ErrorCodeName(ErrorCode code);

// The stable name of a warning code ("unused-segment"); "" for kNone.
std::string_view WarnCodeName(WarnCode code);
// The code with that name, or nullopt.
std::optional<WarnCode> WarnCodeFromName(std::string_view name);

struct Diagnostic {
  Severity severity = Severity::kError;
  WarnCode code = WarnCode::kNone;
  ErrorCode error = ErrorCode::kNone;
  SourceRange range;
  std::string message;
  std::vector<std::pair<SourceRange, std::string>> notes;  // "declared here", ...
};

// Which warnings are enabled. All are on by default.
class WarningSet {
 public:
  bool enabled(WarnCode code) const { return !(disabled_ & Bit(code)); }
  void Enable(WarnCode code) { disabled_ &= ~Bit(code); }
  void Disable(WarnCode code) { disabled_ |= Bit(code); }
  void DisableAll() { disabled_ = ~0u; }

 private:
  static unsigned Bit(WarnCode code) { return 1u << static_cast<int>(code); }
  unsigned disabled_ = 0;
};

// Collects the diagnostics of one compilation.
class DiagnosticSink {
 public:
  explicit DiagnosticSink(WarningSet warnings = {}) : warnings_(warnings) {}

  void Error(ErrorCode code, SourceRange range, std::string message);
  // Drops the warning if its code is disabled.
  void Warning(WarnCode code, SourceRange range, std::string message);
  // Attaches a note to the most recent diagnostic (ignored if that one was dropped).
  void Note(SourceRange range, std::string message);

  bool has_errors() const { return error_count_ > 0; }
  int error_count() const { return error_count_; }
  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }

  // Sorts by file, line, column (stable for equal positions).
  void SortByLocation();

 private:
  WarningSet warnings_;
  std::vector<Diagnostic> diagnostics_;
  int error_count_ = 0;
  bool last_dropped_ = false;
};

// GCC style: "file:line:col: error: message", the source line, and a caret under the
// column (with ~ under the rest of a one-line range); notes follow the same shape.
std::string FormatText(const SourceManager& sm, const std::vector<Diagnostic>& diags);
// The same as a JSON array of {file,line,column,end_line,end_column,severity,code,message,notes}.
std::string FormatJson(const SourceManager& sm, const std::vector<Diagnostic>& diags);
// The same as a SARIF 2.1.0 log (one run, tool "juncture"), for code-scanning UIs.
std::string FormatSarif(const SourceManager& sm, const std::vector<Diagnostic>& diags);

}  // namespace juncture::compiler
