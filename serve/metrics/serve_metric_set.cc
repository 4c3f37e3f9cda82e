#include "serve/metrics/serve_metric_set.h"

namespace juncture::serve::metrics {

// Reference members are bound in declaration order, so `reloads` is set before the
// two series taken from it.
ServeMetricSet::ServeMetricSet(Registry& r)
    : messages(r.AddCounter("juncture_messages_total", "Messages received from NATS.")),
      decisions(r.AddCounterFamily("juncture_decisions_total",
                                   "Decisions made, by journey, outcome and suppression reason.",
                                   {"journey", "outcome", "reason"})),
      dead_letters(r.AddCounterFamily("juncture_dead_letters_total",
                                      "Messages that could not be used, by kind of reason.",
                                      {"reason_kind"})),
      receipt_to_decision(r.AddHistogramFamily(
          "juncture_receipt_to_decision_seconds",
          "Time from serve receiving a message to each decision it led to, by journey.",
          {"journey"})),
      signal_to_decision(r.AddHistogramFamily(
          "juncture_signal_to_decision_seconds",
          "Time from an action's signal (its message's timestamp, or its timer) to serve "
          "deciding to send it (a release for a deferred send), by journey (clamped at 0).",
          {"journey"}, MomentBuckets())),
      decision_to_publish(r.AddHistogramFamily(
          "juncture_decision_to_publish_seconds",
          "Time from a decision to publishing its action, by channel.", {"channel"})),
      action_to_customer(r.AddHistogramFamily(
          "juncture_action_to_customer_seconds",
          "Time from publishing an action to its delivery receipt's time, by channel.",
          {"channel"}, MomentBuckets())),
      signal_to_customer(r.AddHistogramFamily(
          "juncture_signal_to_customer_seconds",
          "Time from a send's signal to its delivery receipt's time, by channel.", {"channel"},
          MomentBuckets())),
      moment_fit(r.AddCounterFamily(
          "juncture_moment_fit_total",
          "Delivered sends of journeys with a deadline, by whether they reached the customer "
          "within it (fit=\"in\") or not (fit=\"late\").",
          {"journey", "channel", "fit"})),
      receipts(r.AddCounterFamily(
          "juncture_receipts_total",
          "Delivery receipts, by status and by how they matched a sent action (matched, "
          "unknown, duplicate, late, malformed).",
          {"status", "result"})),
      receipts_tracked(r.AddGauge(
          "juncture_receipts_tracked", "Sent actions kept to match their delivery receipts.")),
      conversions(r.AddCounterFamily("juncture_conversions_total",
                                     "Goals met, by journey and arm (treatment or control).",
                                     {"journey", "arm"})),
      holdout_entries(r.AddCounterFamily(
          "juncture_holdout_entries_total",
          "Instances that reached a control step (the holdout), by journey.", {"journey"})),
      reloads(r.AddCounterFamily("juncture_reloads_total", "Program reloads, by result.",
                                 {"result"})),
      reloads_ok(reloads.WithLabels({"ok"})),
      reloads_failed(reloads.WithLabels({"failed"})),
      nats_reconnects(r.AddCounter("juncture_nats_reconnects_total",
                                   "Reconnections to the NATS server.")),
      customers(r.AddGauge("juncture_customers",
                           "Customers with state in the engine's memory (with "
                           "--cache-customers, the others are only stored).")),
      customers_packed(r.AddGauge("juncture_customers_packed",
                                  "Of juncture_customers, those kept packed (compressed) while "
                                  "idle: --memory-state beyond --max-unpacked-customers.")),
      timers_pending(r.AddGauge("juncture_timers_pending",
                                "Timers waiting to fire (in memory or, with "
                                "--cache-customers, only stored).")),
      journeys(r.AddGauge("juncture_journeys", "Journeys in the loaded program.")),
      publish_failures(r.AddCounterFamily(
          "juncture_publish_failures_total",
          "Publishes that NATS did not take or store, by output (action, decision, dead_letter) "
          "and reason (client: NATS.c refused it; JetStream actions: refused, no_stream, no_ack, "
          "wrong_stream; a refused action is published again).",
          {"output", "reason"})),
      dropped(r.AddCounterFamily(
          "juncture_dropped_total",
          "Messages received or stored that were never decided, by reason (slow_consumer, "
          "undecided_at_stop, stream_limits).",
          {"reason"})),
      limit_hits(r.AddCounterFamily(
          "juncture_limit_hits_total",
          "Times the engine's bounds were hit, by limit (customer_id_bytes, timers_per_customer: "
          "the message is a dead letter; window_events, unknown_traits: the oldest event or the "
          "extra trait is dropped).",
          {"limit"})),
      unknown_timezones(r.AddCounter(
          "juncture_unknown_timezones_total",
          "Customers whose profile.timezone is not a time zone (their local times use UTC); "
          "each counted once.")),
      ignored(r.AddCounterFamily(
          "juncture_messages_ignored_total",
          "Messages taken and not used, by reason: undeclared_event (a track, page or screen "
          "of an event the program does not declare), group_alias (group and alias calls), "
          "duplicate (a messageId its customer already had within --dedup-window).",
          {"reason"})),
      actions_unstored(r.AddGauge(
          "juncture_actions_unstored",
          "Actions the actions stream has not stored yet (JetStream); the checkpoint waits.")),
      checkpoints(r.AddCounter(
          "juncture_checkpoints_total",
          "Commits of the state's changes to the state store (JetStream: checkpoints).")),
      rounds(r.AddCounter(
          "juncture_rounds_total",
          "Rounds of serve's loop that took messages (one shard): juncture_messages_total "
          "divided by it is the mean number of messages decided together.")),
      checkpoint_failures(r.AddCounter(
          "juncture_checkpoint_failures_total",
          "Checkpoints or state commits that could not be completed (an action not stored, "
          "a flush, the disk).")),
      state_customers_written(r.AddCounter(
          "juncture_state_customers_written_total",
          "Customers written to the state store (each commit writes the ones that changed).")),
      state_bytes_written(r.AddCounter("juncture_state_bytes_written_total",
                                       "Bytes of keys and values written to the state store.")),
      intake_paused(r.AddGauge(
          "juncture_intake_paused",
          "1 while serve takes no new messages because its last checkpoint failed (JetStream).")),
      cluster_partitions(r.AddGauge(
          "juncture_cluster_partitions",
          "Partitions this instance decides for (serve --cluster): restored and consuming.")),
      program_info_(r.AddGaugeFamily("juncture_program_info",
                                     "Version and evaluator of the running engine; always 1.",
                                     {"version", "evaluator"})) {}

void ServeMetricSet::ExportZeros() {
  // The series whose labels are known before anything happens start at 0, so that
  // rate() and increase() see their first event and dashboards find every metric.
  for (const char* reason : {"slow_consumer", "undecided_at_stop", "stream_limits"}) {
    dropped.WithLabels({reason});
  }
  for (const char* reason : {"undeclared_event", "group_alias", "duplicate"}) {
    ignored.WithLabels({reason});
  }
  for (const char* limit : {"customer_id_bytes", "timers_per_customer", "window_events",
                            "unknown_traits"}) {
    limit_hits.WithLabels({limit});
  }
  for (const char* reason : {"client", "refused", "no_ack", "no_stream", "wrong_stream"}) {
    publish_failures.WithLabels({"action", reason});
  }
  publish_failures.WithLabels({"decision", "client"});
  publish_failures.WithLabels({"dead_letter", "client"});
  for (const char* status : {"delivered", "opened", "clicked", "failed"}) {
    for (const char* result : {"matched", "unknown", "duplicate", "late"}) {
      receipts.WithLabels({status, result});
    }
  }
  receipts.WithLabels({"?", "malformed"});
}

void ServeMetricSet::JourneysLoaded(const std::vector<std::string>& journeys) {
  for (const std::string& j : journeys) {
    conversions.WithLabels({j, "treatment"});
    conversions.WithLabels({j, "control"});
    holdout_entries.WithLabels({j});
  }
}

void ServeMetricSet::SetProgramInfo(std::string_view version, std::string_view evaluator) {
  // Info-metric convention: exactly one series. The old one is retired, not freed.
  program_info_.RemoveAll();
  program_info_.WithLabels({version, evaluator}).Set(1);
}

}  // namespace juncture::serve::metrics
