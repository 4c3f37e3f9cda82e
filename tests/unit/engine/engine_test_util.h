// Helpers for the engine tests (tests/unit/engine/): compile a program from a string,
// run it in an Engine over the reference interpreter, feed JSON messages, move
// virtual time and collect decisions and dead letters.
//
//   EngineHarness h(kProgram);              // ASSERT_TRUE(h.ok()) << h.diagnostics();
//   h.Track("c1", "cart", At(0), R"({"value": 80})");
//   h.Advance(At(30 * kMinute));
//   EXPECT_THAT(h.Brief(), ElementsAre("j:entry:entered", "j:s2:sent", ...));
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "../status_matchers.h"
#include "juncture/compiler/backend.h"
#include "juncture/compiler/compiler.h"
#include "juncture/runtime/event.h"
#include "juncture/runtime/runtime.h"
#include "sema/sema.h"

namespace juncture::enginetest {

using runtime::Decision;

inline constexpr int64_t kMs = 1'000;
inline constexpr int64_t kSecond = 1'000'000;
inline constexpr int64_t kMinute = 60 * kSecond;
inline constexpr int64_t kHour = 60 * kMinute;
inline constexpr int64_t kDay = 24 * kHour;

// Microseconds since the epoch of an ISO-8601 text; fails the test if malformed.
inline int64_t Time(std::string_view iso) {
  int64_t us = 0;
  EXPECT_TRUE(runtime::ParseTimestamp(iso, us)) << iso;
  return us;
}
inline std::string Iso(int64_t us) { return runtime::FormatTimestamp(us); }

// The tests' epoch: a Monday at noon UTC, outside the usual 21:00..08:00 quiet hours.
inline int64_t T0() { return Time("2026-06-01T12:00:00Z"); }
inline int64_t At(int64_t offset_us) { return T0() + offset_us; }

// Events and a profile most engine tests build on (channels are declared per test).
inline constexpr const char* kBase = R"(
event cart { value: float  items: int = 0  currency: string = "USD"  coupon: string? }
event purchase { amount: float  order_id: string }
event page_view { path: string  ms: int = 0  score: float? }
event unsubscribed { }
event app_open { }
profile {
  country: string = ""
  tier: string = "standard"
  email_opt_in: bool = true
  push_opt_in: bool = true
  timezone: string = "UTC"
  ltv: float = 0
  discount: float = 0
  divisor: int = 0
}
)";

// Collects everything an engine says.
class Collector : public runtime::DecisionSink {
 public:
  void OnDecision(const Decision& d) override { decisions.push_back(d); }
  void OnDeadLetter(std::string_view message, const std::string& reason) override {
    dead_letters.emplace_back(std::string(message), reason);
  }
  std::vector<Decision> decisions;
  std::vector<std::pair<std::string, std::string>> dead_letters;  // (message, reason)
};

// "journey:step:outcome" plus ":reason" for suppressions; lifecycle steps are
// "entry" / "exit" / sN. Compact enough for ElementsAre.
inline std::string Brief(const Decision& d) {
  std::string s = d.journey + ":" + d.step + std::string(":") + runtime::ToString(d.outcome);
  if (d.reason != runtime::Reason::kNone) s += std::string(":") + runtime::ToString(d.reason);
  return s;
}

inline bool IsLifecycle(const Decision& d) {
  return d.outcome == runtime::Outcome::kEntered || d.outcome == runtime::Outcome::kExited || d.outcome == runtime::Outcome::kCompleted;
}

// A JSON track message.
inline std::string TrackJson(const std::string& customer, const std::string& event,
                             int64_t time_us, const std::string& properties,
                             const std::string& message_id) {
  std::string out = "{\"type\":\"track\",\"event\":";
  runtime::AppendJsonString(event, out);
  out += ",\"messageId\":";
  runtime::AppendJsonString(message_id, out);
  out += ",\"userId\":";
  runtime::AppendJsonString(customer, out);
  out += ",\"timestamp\":\"" + Iso(time_us) + "\",\"properties\":" + properties + "}";
  return out;
}

// A JSON identify message.
inline std::string IdentifyJson(const std::string& customer, int64_t time_us,
                                const std::string& traits, const std::string& message_id) {
  std::string out = "{\"type\":\"identify\",\"messageId\":";
  runtime::AppendJsonString(message_id, out);
  out += ",\"userId\":";
  runtime::AppendJsonString(customer, out);
  out += ",\"timestamp\":\"" + Iso(time_us) + "\",\"traits\":" + traits + "}";
  return out;
}

// Compiles `program` (one file "t.jny", with an optional approvals ledger) and runs it
// (with the engine's default bounds unless `limits` are given).
class EngineHarness {
 public:
  explicit EngineHarness(const std::string& program, const std::string& approvals = "",
                         runtime::EngineLimits limits = {}) {
    compilation_ = compiler::CompileSources({{"t.jny", program}}, compiler::CompileOptions{},
                                            approvals);
    if (compilation_->ok()) {
      engine_ = std::make_unique<runtime::Engine>(*compiler::MakeInterpretedProgram(*compilation_),
                                                  limits);
    }
  }

  bool ok() const { return engine_ != nullptr; }
  std::string diagnostics() const {
    return compilation_->FormatDiagnostics(compiler::DiagnosticFormat::kText);
  }
  const compiler::Compilation& compilation() const { return *compilation_; }
  runtime::Engine& engine() { return *engine_; }

  // Feeds a raw message (any bytes).
  void Raw(std::string_view json) { engine_->Process(json, sink_); }

  // A track message; the messageId is "auto-<N>" (N counts messages fed) unless given.
  std::string Track(const std::string& customer, const std::string& event, int64_t time_us,
                    const std::string& properties = "{}", std::string message_id = "") {
    if (message_id.empty()) message_id = NextId();
    Raw(TrackJson(customer, event, time_us, properties, message_id));
    return message_id;
  }

  std::string Identify(const std::string& customer, int64_t time_us, const std::string& traits,
                       std::string message_id = "") {
    if (message_id.empty()) message_id = NextId();
    Raw(IdentifyJson(customer, time_us, traits, message_id));
    return message_id;
  }

  void Advance(int64_t time_us) { engine_->AdvanceTo(time_us, sink_); }
  runtime::DecisionSink& sink() { return sink_; }

  // Everything decided so far, in emission order.
  const std::vector<Decision>& all() const { return sink_.decisions; }
  const std::vector<std::pair<std::string, std::string>>& dead_letters() const {
    return sink_.dead_letters;
  }
  // Decisions that are not lifecycle (sends and control).
  std::vector<Decision> actions() const {
    std::vector<Decision> out;
    for (const Decision& d : sink_.decisions) {
      if (!IsLifecycle(d)) out.push_back(d);
    }
    return out;
  }
  std::vector<Decision> ForCustomer(const std::string& customer) const {
    std::vector<Decision> out;
    for (const Decision& d : sink_.decisions) {
      if (d.customer == customer) out.push_back(d);
    }
    return out;
  }
  // Brief() of every decision / of the actions only.
  std::vector<std::string> Brief() const {
    std::vector<std::string> out;
    for (const Decision& d : sink_.decisions) out.push_back(enginetest::Brief(d));
    return out;
  }
  std::vector<std::string> BriefActions() const {
    std::vector<std::string> out;
    for (const Decision& d : actions()) out.push_back(enginetest::Brief(d));
    return out;
  }
  // Forgets what was collected (the engine keeps its state).
  void Clear() {
    sink_.decisions.clear();
    sink_.dead_letters.clear();
  }
  // The content hash of journey `name` ("" if not found).
  std::string Hash(const std::string& name) const {
    const compiler::SemaResult* sema = compilation_->sema();
    if (sema == nullptr) return "";
    for (const compiler::JourneyInfo& j : sema->journeys) {
      if (j.decl != nullptr && j.decl->name == name) return j.hash;
    }
    return "";
  }

 private:
  // Not "m<N>": tests give such ids themselves, and one id twice is a duplicate.
  std::string NextId() { return "auto-" + std::to_string(++counter_); }

  std::unique_ptr<compiler::Compilation> compilation_;
  std::unique_ptr<runtime::Engine> engine_;
  Collector sink_;
  int counter_ = 0;
};

// The content hash (version) of journey `name` in `program`, from a first compilation
// without a ledger (sema()->journeys).
inline std::string JourneyHash(const std::string& program, const std::string& name) {
  auto c = compiler::CompileSources({{"t.jny", program}}, compiler::CompileOptions{}, "");
  const compiler::SemaResult* sema = c->sema();
  if (sema == nullptr) return "";
  for (const compiler::JourneyInfo& j : sema->journeys) {
    if (j.decl != nullptr && j.decl->name == name) return j.hash;
  }
  return "";
}

// An approvals ledger granting `roles` to journey `journey` at `hash`.
inline std::string Ledger(const std::vector<std::tuple<std::string, std::string, std::string>>&
                              journey_hash_role) {
  std::string out = "{\"approvals\": [";
  bool first = true;
  for (const auto& [journey, hash, role] : journey_hash_role) {
    if (!first) out += ",";
    first = false;
    out += "{\"journey\": \"" + journey + "\", \"hash\": \"" + hash + "\", \"role\": \"" + role +
           "\", \"by\": \"ana@example.com\", \"at\": \"2026-05-01T10:00:00Z\"}";
  }
  out += "]}";
  return out;
}

}  // namespace juncture::enginetest
