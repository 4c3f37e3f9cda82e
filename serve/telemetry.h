// What serve measures: the Prometheus series of docs/serve.md (serve/metrics/),
// fed by the server and the publisher and served on --metrics HOST:PORT, plus exact
// split times of the most recent decisions for the log's summary line.
//
// Decided, Published and DeadLetter run under the server's engine lock (they are
// called from inside Engine::Process / AdvanceTo); the rest is thread-safe.
#pragma once

#include <memory>
#include <string>

#include "publisher.h"
#include "receipts.h"

namespace juncture::serve {

class Telemetry : public PublishObserver {
 public:
  Telemetry();
  ~Telemetry() override;

  // Serves GET /metrics on `address` ("127.0.0.1:9464") from a background thread.
  bool Listen(const std::string& address, std::string* error);

  void MessageIn();
  void Reload(bool ok);
  void Reconnected();
  void Disconnected();
  void ProgramInfo(const runtime::ProgramSpec& spec, const std::string& evaluator);
  void State(size_t customers, size_t timers);
  // The engine's counters of its bounds (cumulative): exported as they grow.
  void Limits(const runtime::EngineStats& stats);
  // Messages never decided (slow_consumer, undecided_at_stop, stream_limits).
  void Dropped(std::string_view reason, uint64_t n);
  void Checkpoint(bool ok);
  void StateWritten(size_t customers, size_t bytes);
  void Paused(bool paused);
  void ActionsUnstored(size_t n);
  // A delivery receipt as the book matched it (on the receipts' NATS.c thread).
  void Receipt(const ReceiptBook::Receipt& r, size_t tracked);

  // PublishObserver
  void Decided(const runtime::Decision& d, double receipt_to_decision) override;
  void Published(const runtime::Decision& d, double decision_to_publish) override;
  void DeadLetter(std::string_view reason) override;
  void PublishFailed(std::string_view output, const std::string& error) override;
  void ActionNotStored(const Refusal& r) override;

  // A one-line summary for the log: messages, decisions, dead letters, p50/p99 of
  // signal->decision and decision->publish.
  std::string Summary() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace juncture::serve
