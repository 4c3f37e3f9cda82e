#include "juncture/limit_options.h"

#include "juncture/runtime/event.h"

namespace juncture::tools {

void AddLimitOptions(CLI::App& cmd, runtime::EngineLimits& limits, bool virtual_time) {
  // A duration as in the language, or a bare 0 (off).
  auto parse = [](const std::string& text, int64_t& us) {
    if (text == "0") {
      us = 0;
      return true;
    }
    return runtime::ParseDuration(text, us);
  };
  CLI::Validator duration(
      [parse](std::string& text) {
        int64_t us = 0;
        return parse(text, us) ? std::string()
                               : "wants a duration like 30d or 1d12h (units w d h m s), or 0";
      },
      "DURATION");
  if (virtual_time) {
    cmd.add_option_function<std::string>(
           "--max-skew",
           [&limits, parse](const std::string& text) { parse(text, limits.max_skew_us); },
           "dead-letter a message dated more than this after the engine's time (0: off)")
        ->check(duration)
        ->default_str(runtime::FormatDuration(limits.max_skew_us));
  }
  cmd.add_option_function<std::string>(
         "--dedup-window",
         [&limits, parse](const std::string& text) { parse(text, limits.dedup_window_us); },
         "ignore a message whose messageId its customer already had within this time (0: off)")
      ->check(duration)
      ->default_str(runtime::FormatDuration(limits.dedup_window_us));
  cmd.add_option("--max-dedup-ids", limits.max_dedup_ids,
                 "message ids remembered per customer for --dedup-window (the latest)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd.add_option("--max-unpacked-customers", limits.max_unpacked_customers,
                 "customers kept unpacked in memory; beyond it, idle ones are packed "
                 "(compressed) until they are needed (0: never pack; not with a state store)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd.add_option("--max-customer-id-bytes", limits.max_customer_id_bytes,
                 "dead-letter a message whose userId/anonymousId is longer (0: off)")
      ->check(CLI::NonNegativeNumber)  // CLI11 would wrap "-1" to the largest value
      ->capture_default_str();
  cmd.add_option("--max-timers-per-customer", limits.max_timers_per_customer,
                 "dead-letter a track for a customer with this many pending waits and "
                 "deferred sends (0: off)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd.add_option("--max-window-events", limits.max_window_events,
                 "events kept per customer and event type for windows; the oldest beyond "
                 "it are dropped (0: off)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd.add_option("--max-unknown-traits", limits.max_unknown_traits,
                 "undeclared identify traits kept per customer; more are dropped (0: off)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
}

std::string LimitCounters(const runtime::EngineStats& s) {
  struct Counter {
    uint64_t n;
    const char* what;
  };
  const Counter counters[] = {
      {s.rejected_skew, "dead letters dated too far ahead (--max-skew)"},
      {s.rejected_customer_id, "dead letters with too long a customer id (--max-customer-id-bytes)"},
      {s.rejected_timer_limit, "dead letters for customers at the timer limit (--max-timers-per-customer)"},
      {s.dropped_window_events, "window events dropped (--max-window-events)"},
      {s.dropped_unknown_traits, "unknown traits dropped (--max-unknown-traits)"},
      {s.unknown_timezones, "customers with an unknown profile.timezone (UTC used)"},
  };
  std::string out;
  for (const Counter& c : counters) {
    if (c.n != 0) out += ", " + std::to_string(c.n) + " " + c.what;
  }
  return out;
}

}  // namespace juncture::tools
