// The engine's DecisionSink in serve: publishes every decision, action and dead
// letter to NATS as it is made, and reports split times to an observer (metrics).
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "juncture/runtime/runtime.h"
#include "juncture/serve/serve.h"

namespace juncture::serve {

class AckInbox;
class ActionAcks;
class ReceiptBook;
struct Refusal;

// What the publisher reports; the metrics module implements it. Times are seconds.
class PublishObserver {
 public:
  virtual ~PublishObserver() = default;
  // A decision was made `receipt_to_decision` after its message was received (0 for
  // decisions of timers). (Its signal time is in the decision.)
  // `now_us` is the wall clock (µs) at the decision for a `sent` one, else 0.
  virtual void Decided(const runtime::Decision& d, double receipt_to_decision,
                       int64_t now_us) = 0;
  // The action of a `sent` decision on `channel` was handed to NATS (written to its
  // socket, with an event loop) `decision_to_publish` after the decision.
  virtual void Published(std::string_view channel, double decision_to_publish) = 0;
  // A dead letter: its reason and the message (its raw text).
  virtual void DeadLetter(std::string_view reason, std::string_view message) = 0;
  // A publish NATS.c did not take (connection closed, buffer full): `output` is
  // action, decision or dead_letter.
  virtual void PublishFailed(std::string_view output, const std::string& error) = 0;
  // JetStream: the actions stream did not store an action (it will be published
  // again). Called on NATS.c's thread: must be thread-safe.
  virtual void ActionNotStored(const Refusal& r) = 0;
};

// Steady-clock nanoseconds (the split times' clock).
int64_t SteadyNs();

class Publisher : public runtime::DecisionSink {
 public:
  // Actions go out on `actions` (a SendAsap connection: written at once; with a
  // Nats-Msg-Id header only if options.action_msg_id_header), or with `js` set
  // through JetStream (async, acked, deduplicated by Nats-Msg-Id in the actions
  // stream; `acks` receives every acknowledgement and keeps the refused actions). The
  // decision log and dead letters go out on `log`: a batching connection of its own,
  // so that they never delay an action, or the actions' connection itself where one
  // thread writes it once per batch, the actions first (one shard over core NATS).
  Publisher(natsConnection* actions, natsConnection* log, jsCtx* js, ActionAcks* acks,
            const ServeOptions& options, PublishObserver* observer);

  // The receipt time of the message about to be processed (SteadyNs), or 0 while
  // timers fire. A message's decisions are made together, at its end: they share
  // one reading of each clock, taken at the first of them.
  void set_receipt(int64_t steady_ns) {
    receipt_ns_ = steady_ns;
    decided_ns_ = decided_wall_us_ = 0;
  }

  // Where sent actions are recorded for their delivery receipts (null: nowhere), and
  // each journey's deadline (for the moment fit); set again on every reload.
  void TrackReceipts(ReceiptBook* book, const runtime::ProgramSpec& spec);

  // The actions' connection is driven by an event loop (nats_loop.h): a publish only
  // buffers the action, which leaves at the loop's next Flush; Written, called after
  // it, reports the decision -> publish split times of what the flush wrote.
  void set_writes_deferred(bool deferred) { writes_deferred_ = deferred; }
  // JetStream, one shard: actions go to the stream through `inbox`, whose
  // acknowledgements the loop's thread reads (ack_inbox.h), not js_PublishMsgAsync.
  void set_ack_inbox(AckInbox* inbox) { ack_inbox_ = inbox; }
  void Written(int64_t now_ns);

  void OnDecision(const runtime::Decision& d) override;
  void OnDeadLetter(std::string_view message, const std::string& reason) override;

  // Publishes the decision log held back while a message (or a round of timers) was
  // decided: its actions go out first, and the log's messages leave back to back.
  void FlushLog();
  // Takes a NATS.c message and destroys it later, together with others: NATS.c frees
  // every message it allocated on its garbage-collector thread, so destroying them
  // one by one wakes that thread once per message.
  void Retire(natsMsg* msg);
  void DestroyRetired();
  ~Publisher() override;

  // Waits until NATS has everything published so far (a flush; with JetStream also
  // every action's ack or refusal). Unavailable if not within `timeout_ms`.
  Status Settle(int64_t timeout_ms);
  // JetStream: publishes refused actions again, as they were (same Nats-Msg-Id).
  void Republish(std::vector<Refusal> refused);

  uint64_t published() const { return published_; }
  // JetStream: actions whose NATS message could not be built (out of memory): they
  // exist nowhere but in the engine's past, so no checkpoint may pass them.
  uint64_t unbuilt_actions() const { return unbuilt_actions_; }
  // Actions handed to js_PublishMsgAsync (not through an AckInbox).
  uint64_t stream_publishes() const { return stream_publishes_; }
  // JetStream: actions NATS.c took to publish (each gets an answer in acks_).
  uint64_t stream_handed() const { return stream_handed_; }

 private:
  bool Publish(natsConnection* nc, const std::string& subject, std::string_view data,
               const char* header, const std::string& header_value, bool jetstream);
  // Core NATS, no header: published from `data` itself.
  bool PublishPlain(natsConnection* nc, const std::string& subject, std::string_view data);
  // Hands an action to JetStream; a message NATS.c does not take goes to acks_.
  void PublishToStream(natsMsg* msg);

  natsConnection* actions_;
  natsConnection* log_;
  jsCtx* js_;
  ActionAcks* acks_;
  AckInbox* ack_inbox_ = nullptr;
  const ServeOptions& options_;
  PublishObserver* observer_;
  int64_t receipt_ns_ = 0;
  // The current message's decision time on each clock, once read (0: not yet).
  int64_t decided_ns_ = 0, decided_wall_us_ = 0;
  uint64_t published_ = 0;
  uint64_t unbuilt_actions_ = 0;
  uint64_t stream_publishes_ = 0;
  uint64_t stream_handed_ = 0;
  std::string json_;     // reused
  std::string subject_;  // reused
  struct LogEntry {
    std::string subject, json;
  };
  std::vector<LogEntry> held_log_;  // the held-back decision log; entries reused
  size_t held_used_ = 0;
  std::vector<natsMsg*> retired_;
  bool writes_deferred_ = false;
  struct Unwritten {
    std::string channel;
    int64_t decided_ns = 0;
  };
  std::vector<Unwritten> unwritten_;  // actions published since the last flush; reused
  size_t unwritten_used_ = 0;
  ReceiptBook* receipts_ = nullptr;
  std::unordered_map<std::string, int64_t> deadlines_;  // journey -> deadline (µs)
};

}  // namespace juncture::serve
