// The engine's bounds on the command line (runtime::EngineLimits, docs/limits.md):
// one set of options shared by `juncture run`, `juncture test` and `juncture serve`.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "juncture/runtime/runtime.h"

namespace juncture::tools {

// Registers --max-customer-id-bytes, --max-timers-per-customer, --max-window-events,
// --max-unknown-traits and, when `virtual_time` (the command decides at the messages'
// own timestamps), --max-skew on `cmd`, writing into `limits` (which holds the
// defaults). Durations are written as in the language ("30d", "1d12h"); 0 turns a
// bound off.
void AddLimitOptions(CLI::App& cmd, runtime::EngineLimits& limits, bool virtual_time);

// ", 2 dead letters dated too far ahead (--max-skew)", ... for each limit counter of
// `stats` that is not zero, in the order of EngineStats; "" if none was hit.
std::string LimitCounters(const runtime::EngineStats& stats);

}  // namespace juncture::tools
