// What serve measures: the Prometheus series of docs/serve.md (serve/metrics/),
// fed by the server and the publisher and served on --metrics HOST:PORT, plus exact
// split times of the most recent decisions for the log's summary line.
//
// Each engine (one per shard) reports its decisions through its own ShardTelemetry,
// called only by the thread deciding for that engine: shards deciding at once share
// no lock (every series is made of atomics). The rest is thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "nats_connection.h"
#include "publisher.h"
#include "receipts.h"
#include "serve/metrics/http_server.h"

namespace juncture::serve {

class ShardTelemetry;
class Telemetry;

// The callbacks of the connection serve decides on: a disconnection and a reconnection
// (to `url()`) logged and counted.
NatsConnection::Callbacks ReportingCallbacks(Telemetry& metrics, std::function<std::string()> url);

class Telemetry {
 public:
  Telemetry();
  ~Telemetry();

  // The endpoints `options` asks for, each from a background thread (errors begin
  // "metrics: " or "ui: "):
  // - GET /metrics on options.metrics_address ("127.0.0.1:9464");
  // - the live page (`--ui`, serve/ui/) on options.ui_address: from now on the
  //   shards' decisions, sends, receipts and dead letters also feed a LiveBoard,
  //   served with the journeys' picture (options.ui_picture: their SVG). Before the
  //   shards start.
  Status Listen(const ServeOptions& options);
  // What Listen opened, for the start line: "; metrics on http://127.0.0.1:9464/metrics"
  // and "; live page on ...", with the bound ports (so `--metrics 127.0.0.1:0` shows
  // the one chosen). Empty when nothing was asked for.
  std::string Endpoints() const;

  void MessageIn();
  // One round of the one-shard loop took messages (after a wait, or at once).
  void Round();
  void Reload(bool ok);
  void Reconnected();
  void Disconnected();
  void ProgramInfo(const runtime::ProgramSpec& spec, const std::string& evaluator);
  // What one shard's engine reports (kept by this object, alive as long as it).
  ShardTelemetry& AddShard();
  // Messages never decided (slow_consumer, undecided_at_stop, stream_limits).
  void Dropped(std::string_view reason, uint64_t n);
  void Checkpoint(bool ok);
  void StateWritten(size_t customers, size_t bytes);
  void Paused(bool paused);
  void ClusterPartitions(size_t held);
  void ActionsUnstored(size_t n);
  // A delivery receipt as the book matched it (on the receipts' NATS.c thread).
  void Receipt(const ReceiptBook::Receipt& r, size_t tracked);

  // What every shard's PublishObserver passes on (thread-safe).
  void PublishFailed(std::string_view output, const std::string& error);
  void ActionNotStored(const Refusal& r);

  // A one-line summary for the log: messages, decisions, dead letters, p50/p99 of
  // signal->decision and decision->publish (over every shard).
  std::string Summary() const;

 private:
  friend class ShardTelemetry;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One shard's reports: called by the one thread deciding for its engine (Summary
// reads its samples under a lock nobody else takes).
class ShardTelemetry : public PublishObserver {
 public:
  explicit ShardTelemetry(Telemetry& all);
  ~ShardTelemetry() override;

  void State(size_t customers, size_t timers, size_t packed = 0);
  // The engine's counters of its bounds (cumulative): exported as they grow.
  void Limits(const runtime::EngineStats& stats);

  void Decided(const runtime::Decision& d, double receipt_to_decision, int64_t now_us) override;
  void Published(std::string_view channel, double decision_to_publish) override;
  void DeadLetter(std::string_view reason, std::string_view message) override;
  void PublishFailed(std::string_view output, const std::string& error) override;
  void ActionNotStored(const Refusal& r) override;

 private:
  friend class Telemetry;
  Telemetry& all_;
  size_t customers_ = 0, timers_ = 0, packed_ = 0;  // as last added to the gauges
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace juncture::serve
