// The metrics `juncture serve` exports, registered together so names, help and
// labels live in one place. Construct once at startup; every member is a handle
// into the registry, valid for its lifetime.
//
// Hot path: each recording thread holds a SeriesCache per labelled family, e.g.
//   SeriesCache<Counter> decisions(m.decisions);
//   SeriesCache<Histogram> latency(m.signal_to_decision);
//   ... per decision d, `seconds` after its message was received:
//   decisions.Get(d.journey, d.outcome, d.reason).Inc();
//   latency.Get(d.journey).Observe(seconds);   // or ObserveNanos(ns), cheaper
// Anything else serve wants to export goes on the same registry.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "serve/metrics/metrics.h"

namespace juncture::serve::metrics {

class ServeMetricSet {
 public:
  explicit ServeMetricSet(Registry& registry);

  Counter& messages;                        // juncture_messages_total
  Family<Counter>& decisions;               // juncture_decisions_total{journey,outcome,reason}
  Family<Counter>& dead_letters;            // juncture_dead_letters_total{reason_kind}
  // The split times, signal -> decision -> action -> customer:
  Family<Histogram>& receipt_to_decision;   // juncture_receipt_to_decision_seconds{journey}
  Family<Histogram>& signal_to_decision;    // juncture_signal_to_decision_seconds{journey}
  Family<Histogram>& decision_to_publish;   // juncture_decision_to_publish_seconds{channel}
  Family<Histogram>& action_to_customer;    // juncture_action_to_customer_seconds{channel}
  Family<Histogram>& signal_to_customer;    // juncture_signal_to_customer_seconds{channel}
  Family<Counter>& moment_fit;              // juncture_moment_fit_total{journey,channel,fit}
  Family<Counter>& receipts;                // juncture_receipts_total{status,result}
  Gauge& receipts_tracked;                  // juncture_receipts_tracked
  Family<Counter>& conversions;             // juncture_conversions_total{journey,arm}
  Family<Counter>& holdout_entries;         // juncture_holdout_entries_total{journey}
  Family<Counter>& reloads;                 // juncture_reloads_total{result}
  Counter& reloads_ok;                      // {result="ok"}, exported from the start
  Counter& reloads_failed;                  // {result="failed"}, likewise
  Counter& nats_reconnects;                 // juncture_nats_reconnects_total
  Gauge& customers;                         // juncture_customers
  Gauge& customers_packed;                  // juncture_customers_packed
  Gauge& timers_pending;                    // juncture_timers_pending
  Gauge& journeys;                          // juncture_journeys (in the loaded program)
  // What did not go as it should, each with a reason: nothing is lost silently.
  Family<Counter>& publish_failures;        // juncture_publish_failures_total{output,reason}
  Family<Counter>& dropped;                 // juncture_dropped_total{reason}
  Family<Counter>& limit_hits;              // juncture_limit_hits_total{limit}
  Counter& unknown_timezones;               // juncture_unknown_timezones_total
  Family<Counter>& ignored;                 // juncture_messages_ignored_total{reason}
  Gauge& actions_unstored;                  // juncture_actions_unstored (JetStream)
  Counter& checkpoints;                     // juncture_checkpoints_total (state commits)
  Counter& rounds;                          // juncture_rounds_total (one shard: loop rounds)
  Counter& checkpoint_failures;             // juncture_checkpoint_failures_total
  Counter& state_customers_written;         // juncture_state_customers_written_total
  Counter& state_bytes_written;             // juncture_state_bytes_written_total
  Gauge& intake_paused;                     // juncture_intake_paused: 1 while paused
  Gauge& cluster_partitions;                // juncture_cluster_partitions: held (--cluster)

  // juncture_program_info{version,evaluator} = 1, for these values only: `version`
  // is juncture's, `evaluator` the back end ("jit", "interpreter"). Call at start
  // and after each successful reload. Takes a lock; not for the hot path.
  void SetProgramInfo(std::string_view version, std::string_view evaluator);
  // Exports 0 for every series whose labels are known in advance (drops, limits,
  // publish failures, receipts); call once at startup.
  void ExportZeros();
  // Exports 0 for each journey's conversions (both arms) and holdout entries.
  void JourneysLoaded(const std::vector<std::string>& journeys);

 private:
  Family<Gauge>& program_info_;
};

}  // namespace juncture::serve::metrics
