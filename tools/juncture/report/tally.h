// The figures of `juncture report` (docs/report.md), counted from a decision log and,
// optionally, delivery receipts. Feed every decision (in log order) first, then every
// receipt, then call Finish once. Not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "juncture/report/input.h"

namespace juncture::tools::report {

// Decisions with a channel, per outcome. Releases (ids ending in ":release") count
// under their own outcome and also in `released`.
struct SendCounts {
  uint64_t sent = 0, deferred = 0, control = 0, released = 0;
  uint64_t pending = 0;  // deferrals whose release is not in the log
  std::map<std::string, uint64_t> suppressed;  // by reason
  void Add(const SendCounts& o);
};

// Split-time samples in microseconds, each clamped at 0 (docs/report.md).
struct SplitSamples {
  std::vector<int64_t> signal_to_decision;    // sent decisions with a signal
  std::vector<int64_t> decision_to_customer;  // delivered receipts
  std::vector<int64_t> signal_to_customer;    // delivered receipts of sends with a signal
  void Add(const SplitSamples& o);
};

struct ReceiptCounts {
  std::array<uint64_t, kReceiptStatuses> by_status{};  // index: ReceiptStatus
  uint64_t sent_without_delivery = 0;  // sent decisions with no delivered receipt
  void Add(const ReceiptCounts& o);
};

// Delivered sends (with a signal) and how many reached the customer within the deadline.
struct FitCounts {
  uint64_t delivered = 0, within = 0;
  void Add(const FitCounts& o) { delivered += o.delivered, within += o.within; }
};

// Entries and conversions of one arm.
struct Arm {
  uint64_t entries = 0, conversions = 0;
};

// Whether a journey has a goal: the program says so, or the log has a conversion, or
// the program says it has none, or nothing tells.
enum class GoalKnown { kUnknown, kProgram, kLog, kNone };

struct JourneyFigures {
  std::set<std::string> versions;
  uint64_t entered = 0, exited = 0, completed = 0;
  uint64_t held_out = 0;               // entries that reached a holdout (a `control` step)
  // Entries and conversions per arm: control = the entries that reached a holdout,
  // treatment = the others; conversions by their decision's "arm". In Report::total,
  // only the journeys with a goal (pooled_goal_journeys).
  Arm treatment, control;
  uint64_t converted_before_holdout = 0;  // counted treatment; the entry reached control later
  GoalKnown goal = GoalKnown::kUnknown;
  int64_t deadline_us = 0;             // 0: none known
  std::string deadline_from;           // "option" or "program"
  std::map<std::string, SendCounts> sends;      // by channel
  std::map<std::string, SplitSamples> splits;   // by channel
  std::map<std::string, ReceiptCounts> receipts;  // by channel (with receipts)
  // By channel, with receipts: `within` only with a deadline. In Report::total, only
  // the journeys with a deadline (pooled_deadline_journeys).
  std::map<std::string, FitCounts> fit;
  bool HasGoal() const { return goal == GoalKnown::kProgram || goal == GoalKnown::kLog; }
};

// Counts about the inputs themselves.
struct DecisionInputCounts {
  uint64_t lines = 0, blank = 0, bad = 0, decisions = 0, duplicates = 0;
  uint64_t sends_without_signal = 0;    // decisions with a channel but no "signal"
  uint64_t holdouts_without_entry = 0;  // channel-less control, no entry of it in the log
  uint64_t conversions_without_entry = 0;
};

struct ReceiptInputCounts {
  uint64_t lines = 0, blank = 0, bad = 0, receipts = 0, duplicates = 0;
  uint64_t unknown_decision = 0;  // the id is not in the decision log
  uint64_t not_sent = 0;          // the id is a decision that was not sent
};

// What Finish needs to know about a journey beyond the log.
struct JourneyInfo {
  int64_t deadline_us = 0;  // 0: none
  std::string deadline_from;
  std::optional<bool> has_goal;  // from the program
};

struct Report {
  std::map<std::string, JourneyFigures> journeys;
  JourneyFigures total;  // sums over journeys; arms only of journeys with a goal
  std::vector<std::string> pooled_goal_journeys;  // the journeys in total's arms
  std::vector<std::string> pooled_deadline_journeys;  // the journeys in total's fit
  DecisionInputCounts decisions;
  std::optional<ReceiptInputCounts> receipts;  // set if receipts were read
};

class Tally {
 public:
  Tally() = default;
  Tally(const Tally&) = delete;  // holds pointers into its own report
  Tally& operator=(const Tally&) = delete;

  void AddDecision(const DecisionLine& d);
  void AddBlankDecisionLine() { ++report_.decisions.lines, ++report_.decisions.blank; }
  void AddBadDecisionLine() { ++report_.decisions.lines, ++report_.decisions.bad; }

  // Call once before the receipts (even when there are none to read, to report on them).
  void StartReceipts() { report_.receipts.emplace(); }
  void AddReceipt(const ReceiptLine& r);
  void AddBlankReceiptLine() { ++report_.receipts->lines, ++report_.receipts->blank; }
  void AddBadReceiptLine() { ++report_.receipts->lines, ++report_.receipts->bad; }

  // The report, with `info` (by journey name) applied. Call once.
  Report Finish(const std::map<std::string, JourneyInfo>& info);

 private:
  // Figures live in report_.journeys (a std::map: their addresses are stable).
  struct Entry {
    JourneyFigures* journey = nullptr;
    bool control = false;  // reached a holdout
  };
  struct Conversion {
    JourneyFigures* journey = nullptr;
    size_t entry = 0;  // index into entries_
    bool treatment = true;
  };
  struct Sent {
    std::string journey, channel;
    int64_t at_us = 0;
    std::optional<int64_t> signal_us;
    uint8_t statuses = 0;  // bit per ReceiptStatus seen
  };
  struct Deferral {
    std::string journey, channel;
  };
  void AddSend(const DecisionLine& d, JourneyFigures& j);

  Report report_;
  std::unordered_set<std::string> ids_;
  std::unordered_map<std::string, size_t> current_entry_;  // journey '\0' customer
  std::vector<Entry> entries_;
  std::vector<Conversion> conversions_;
  std::unordered_map<std::string, Sent> sent_;             // by decision id
  std::unordered_map<std::string, Deferral> deferred_;     // by decision id
  std::unordered_set<std::string> released_;               // deferral ids with a release
};

}  // namespace juncture::tools::report
