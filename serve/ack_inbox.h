// JetStream, one shard: the actions published to the actions stream with their
// acknowledgements read by the loop's own thread. Private to serve/.
//
// NATS.c's js_PublishMsgAsync receives the acknowledgements on an asynchronous
// subscription: the thread that reads the socket hands each to NATS.c's delivery
// thread (a wake-up per acknowledgement), which calls the ack handler. Here each
// action is published with a reply subject of an inbox that a synchronous
// subscription reads, and the thread that drives the loop reads the acknowledgements
// (TakeAcks) and hands each to ActionAcks::OnAck itself, as NATS.c would have: a
// stored action, or a refusal kept for another try. An action unanswered within
// `timeout_ms` is refused as NATS.c's own timeout would refuse it (no_ack). A "no
// responders" answer (no stream takes the subject) is one NATS.c's synchronous
// subscription reports without the message, so without saying which action it
// answers: then every action not answered yet is refused (no_stream). Any of them
// the stream did store is dropped as a duplicate (its Nats-Msg-Id) when published
// again.
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "juncture/status.h"
#include "nats_connection.h"

namespace simdjson::dom {
class parser;
}

namespace juncture::serve {

class ActionAcks;

class AckInbox {
 public:
  static Result<std::unique_ptr<AckInbox>> Create(natsConnection* nc, ActionAcks* acks,
                                                  int64_t timeout_ms);
  ~AckInbox();
  AckInbox(const AckInbox&) = delete;
  AckInbox& operator=(const AckInbox&) = delete;

  // Publishes an action to the stream: `data` on `subject` with the header
  // `header: value` (its Nats-Msg-Id), made once (nats_raw.h) and kept until it is
  // answered. False if it could not be made or NATS.c refused the publish.
  bool PublishAction(const std::string& subject, std::string_view header, std::string_view value,
                     std::string_view data, int64_t now_ns);
  // Publishes `msg` (taken: its subject, data and headers) to the stream: an action
  // refused before, published again. False if NATS.c refused the publish (the
  // caller still owns `msg` then).
  bool Publish(natsMsg* msg, int64_t now_ns);
  // Hands every acknowledgement that came to ActionAcks, and refuses the actions
  // unanswered for longer than the timeout. Waits up to `wait_ms` for the first.
  void TakeAcks(int64_t now_ns, int64_t wait_ms = 0);
  // Actions published and not answered yet.
  size_t pending() const { return unanswered_; }

 private:
  AckInbox() = default;
  void Answer(uint64_t number, natsMsg* ack);

  natsConnection* nc_ = nullptr;
  ActionAcks* acks_ = nullptr;
  int64_t timeout_ns_ = 0;
  std::string inbox_;  // the acknowledgement of action n comes to <inbox_>.<n>
  SubscriptionPtr sub_;
  struct Pending {
    natsMsg* msg = nullptr;  // null once answered
    int64_t deadline_ns = 0;
  };
  std::deque<Pending> pending_;  // action first_ + i at i
  uint64_t first_ = 1;
  size_t unanswered_ = 0;
  std::string reply_;  // reused
  std::unique_ptr<simdjson::dom::parser> parser_;  // the acknowledgements', reused
};

}  // namespace juncture::serve
