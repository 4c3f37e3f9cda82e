// JetStream mode: the acknowledgements of the actions serve publishes to the actions
// stream. NATS.c calls OnAck on its own thread for every asynchronous publish: a
// positive ack from the actions stream stores the action; anything else (an error
// reply such as "maximum messages exceeded", no stream on the subject, no ack within
// the publish's time limit, an ack from another stream) is a refusal. A refused
// action is kept, with its Nats-Msg-Id, to be published again: the checkpoint waits
// until every action is stored (docs/serve.md).
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace juncture::serve {

class PublishObserver;

struct Refusal {
  natsMsg* msg = nullptr;  // owned: the action as published (subject, data, Nats-Msg-Id)
  std::string kind;        // refused | no_stream | no_ack | wrong_stream
  std::string error;       // the error as the server or NATS.c gave it
  std::string Describe() const;  // "juncture.actions.email (id ...): <error>"
};

class ActionAcks {
 public:
  ActionAcks(std::string stream, int64_t ack_timeout_ms, PublishObserver* observer);
  ~ActionAcks();
  ActionAcks(const ActionAcks&) = delete;
  ActionAcks& operator=(const ActionAcks&) = delete;

  // jsOptions.PublishAsync.AckHandler, with this object as the closure.
  static void OnAck(jsCtx* js, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* self);

  // An action that could not even be handed to NATS.c (kept like a refusal).
  void Refuse(natsMsg* msg, std::string kind, std::string error);

  // Actions refused and not yet taken for another try.
  size_t refused() const;
  // Takes them (the caller owns the messages).
  std::vector<Refusal> Take();
  // Gives back what Take returned, unpublished (not counted again).
  void Restore(std::vector<Refusal> refused);
  // "N actions not stored by the actions stream S, e.g. <the first one>".
  std::string Describe() const;
  uint64_t stored() const;
  // Acknowledgements (or NATS.c's timeouts) received so far, good or not.
  uint64_t answers() const;

 private:
  const std::string stream_;
  const int64_t ack_timeout_ms_;
  PublishObserver* observer_;
  mutable std::mutex mu_;
  std::vector<Refusal> refused_;
  uint64_t stored_ = 0;
  uint64_t answers_ = 0;
};

}  // namespace juncture::serve
