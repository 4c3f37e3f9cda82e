// Engine snapshots (Engine::SaveSnapshot / LoadSnapshot; docs/semantics.md,
// "Snapshots"): the engine's state as CBOR, keyed by names rather than indices so
// that a snapshot loads into an edited program. Private to runtime/exec/.
//
// Bytes: a CBOR map (the envelope)
//   {"kind": "juncture.engine.snapshot", "version": 1,
//    "xxh3": XXH3-64 of the state bytes, "state": <CBOR bytes of the state map>}
// The state map is documented in snapshot.cc, which writes it; snapshot_load.cc
// reads it back into a SnapshotState for the program the engine runs.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "exec/engine_impl.h"
#include "exec/state_map.h"
#include "juncture/status.h"

namespace juncture::runtime::snapshot {

inline constexpr const char* kKind = "juncture.engine.snapshot";
inline constexpr int64_t kVersion = 1;
// Deepest nesting of CBOR arrays/maps the reader accepts (the format needs 6).
inline constexpr int kMaxDepth = 16;

// Names of step and timer kinds in the format (indices are the enums' values).
inline constexpr const char* kStepKinds[] = {"send",    "wait", "wait_until", "branch",
                                             "split",   "control", "exit",    "complete"};
inline constexpr const char* kTimerKinds[] = {"resume", "timeout", "release"};

// EngineStats counters that came after the format's first release: each is written
// only when it is not zero and read only when present, so that snapshots from before
// them load (with zeros) and states that never hit a limit save as they always did.
inline constexpr std::pair<const char*, uint64_t EngineStats::*> kLimitCounters[] = {
    {"rejected_skew", &EngineStats::rejected_skew},
    {"rejected_customer_id", &EngineStats::rejected_customer_id},
    {"rejected_timer_limit", &EngineStats::rejected_timer_limit},
    {"dropped_window_events", &EngineStats::dropped_window_events},
    {"dropped_unknown_traits", &EngineStats::dropped_unknown_traits},
    {"compacted_timers", &EngineStats::compacted_timers},
    {"unknown_timezones", &EngineStats::unknown_timezones},
    {"ignored_calls", &EngineStats::ignored_calls},
    {"duplicates", &EngineStats::duplicates},
};

// What the engine keeps between messages, apart from the program.
struct State {
  std::string position;
  int64_t now_us = 0;
  uint64_t next_seq = 1;
  EngineStats stats;
  CustomerMap<CustomerState> customers;
  std::vector<Timer> timers;  // any order
  std::unordered_map<uint64_t, bool> cancelled;
};

// The engine's state as it is read for saving.
struct View {
  std::string_view position;
  int64_t now_us = 0;
  uint64_t next_seq = 1;
  const EngineStats* stats = nullptr;
  const CustomerMap<CustomerState>* customers = nullptr;
  // Customers kept packed (EngineLimits::max_unpacked_customers): their ids, whether
  // an id is one of them, and one decoded (false if it cannot be). `piece` gives a
  // packed customer's bytes as they are when they are what encoding it under this
  // program, without its timers, would write (false: decode it with `unpack`).
  std::vector<std::string> packed;
  std::function<bool(const std::string&)> is_packed;
  std::function<bool(const std::string&, CustomerState&)> unpack;
  std::function<bool(const std::string&, std::string&)> piece;
  std::vector<const Timer*> timers;  // in firing order
  const std::unordered_map<uint64_t, bool>* cancelled = nullptr;
};

// snapshot.cc
std::string Encode(const ProgramSpec& spec, const View& view);

// snapshot_load.cc: decodes `bytes` for the program of `map`, carrying the state onto
// it by the rule of state_map.h. A corruption error (one line) if the bytes are not a
// readable snapshot; `out` is then unusable.
Status Decode(std::string_view bytes, const StateMap& map, State& out);

// ---- Pieces (juncture/runtime/state_changes.h): the same encodings, one at a time --

// snapshot.cc: a customer map (its records, no timers); a timer map with its
// "customer"; {now, next_seq, stats}; the layouts map.
std::string EncodeCustomerPiece(const ProgramSpec& spec, const CustomerState& c);
// The same for one customer after another (a commit's changed customers), reusing its
// buffers: once warm, a piece costs one allocation, its own.
class PieceEncoder {
 public:
  explicit PieceEncoder(const ProgramSpec& spec);
  ~PieceEncoder();
  std::string Customer(const CustomerState& c);
  // The second form (juncture/runtime/pieces.h): the whole customer, every `keep` 0;
  // or what changed since its counters were last cleared (CustomerState::seen_fresh,
  // EventHistory::fresh), as an operand over the piece stored then. Histories whose
  // windows only count, and the ids taken, are streams; the rest is the core.
  std::string Full(const CustomerState& c);
  std::string Delta(const CustomerState& c);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};
std::string EncodeTimerPiece(const ProgramSpec& spec, const Timer& t);
std::string EncodeGlobalsPiece(int64_t now_us, uint64_t next_seq, const EngineStats& stats);
std::string EncodeLayoutsPiece(const ProgramSpec& spec);

// snapshot_load.cc: reads pieces for `spec`, mapping them by the one rule (StateMap)
// as Decode does.
// Each call returns an error (one line) on a piece it cannot read.
class PieceLoader {
 public:
  explicit PieceLoader(const ProgramSpec& spec);
  ~PieceLoader();
  // A loader for the pieces this engine's program writes (its layouts already read):
  // for an engine reading its own store back (Engine::UseSource).
  static std::unique_ptr<PieceLoader> ForOwnLayouts(const ProgramSpec& spec);
  Status Layouts(std::string_view bytes);  // before any customer or timer
  Status Globals(std::string_view bytes, int64_t& now_us, uint64_t& next_seq, EngineStats& stats);
  Status Customer(const std::string& id, std::string_view bytes, CustomerState& out);
  // `out` stays empty when the timer's journey or channel is gone.
  Status TimerPiece(std::string_view bytes, std::optional<Timer>& out);
  // The highest timer sequence number read (a new one must be above it).
  uint64_t max_seq() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Bytes per element of a list of `elem` (0 for nested lists: not stored).
inline uint32_t ElemSize(uint8_t elem) { return elem == JN_LIST ? 0 : jn_value_size(elem); }

}  // namespace juncture::runtime::snapshot
