// JetStream's pull protocol spoken on a connection that an event loop drives
// (nats_loop.h), so that the thread that decides also fetches and nothing here waits.
// Used by serve and by the load tool's JetStream floor (bench/load).
//
// NATS.c's natsSubscription_Fetch sends a pull request and then waits on a condition
// variable for the messages another thread reads: a round trip and two wake-ups per
// batch, during which nothing is decided. Here pull requests for `batch` messages
// each are kept open (within `expires`) so that between one and two batches are
// always asked for and not yet delivered: the server delivers each stored message
// as it comes, messages flow without a gap between requests, and the loop takes
// them as it takes core NATS messages (natsSubscription_NextMsg with no wait). What
// is asked and not delivered is counted: each message delivered counts one; a
// request that ends early says so in a status message (408 expired, 409 refused)
// with how many of its messages it did not deliver (Nats-Pending-Messages; without
// it, nothing is counted as asked any more). If nothing comes for 50 ms after the
// requests expired (the server drops some expired requests without a status, and
// all of them in a reconnect), nothing is counted either.
//
// The consumer's position (a consumer info request) is asked the same way: its answer
// comes to an inbox of its own. And a message published to that inbox (an echo)
// proves when it comes back that the server processed everything published on the
// connection before it, as a PING's PONG does, without waiting for it.
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "juncture/status.h"
#include "nats_handles.h"

namespace juncture::serve {

class PullConsumer {
 public:
  // Subscribes the two inboxes on `nc` (their SUB lines leave with the next flush).
  static Result<std::unique_ptr<PullConsumer>> Create(natsConnection* nc, const std::string& stream,
                                                      const std::string& durable, int batch,
                                                      int64_t expires_ms);
  ~PullConsumer();
  PullConsumer(const PullConsumer&) = delete;
  PullConsumer& operator=(const PullConsumer&) = delete;

  // Sends a pull request if less than a batch is asked for. `now_ns`: SteadyNs().
  Status Ask(int64_t now_ns);
  // Appends to `out` up to `max` of the stream's messages that arrived (the caller
  // owns them); status messages are consumed here. True if more wait.
  bool Take(size_t max, std::vector<natsMsg*>* out, int64_t now_ns);
  // When what is asked counts as lost if nothing comes before (SteadyNs; 0: nothing
  // asked): the loop wakes for it.
  int64_t request_deadline_ns() const {
    return outstanding_ > 0 ? heard_ns_ + expires_ns_ + kGraceNs : 0;
  }
  // Messages asked for and not delivered yet.
  int64_t outstanding() const { return outstanding_; }

  // The consumer's position as the server gave it.
  struct Position {
    uint64_t num_pending = 0;    // stored messages not yet delivered to the consumer
    uint64_t delivered_seq = 0;  // the consumer sequence of its last delivery
    int64_t asked_wall_us = 0;   // the wall clock when the question was sent
  };
  // Asks the position; returns the question's number (1, 2, ...). `wall_us`: the
  // wall clock now.
  Result<uint64_t> AskPosition(int64_t wall_us);
  // Reads the answers that came (each to the inbox of its question's number). True
  // if one did; the latest good one is position(), the highest question number
  // answered (good or not) is answered().
  bool TakeAnswers();
  uint64_t asked() const { return asked_positions_; }
  uint64_t answered() const { return answered_; }
  const Position& position() const { return position_; }
  bool has_position() const { return has_position_; }
  // Publishes an echo; returns its number (1, 2, ...). echoed(): the highest number
  // come back (read by TakeAnswers).
  Result<uint64_t> Echo();
  uint64_t echoed() const { return echoed_; }
  // What went wrong since the last call (a pull request refused or unanswered, an
  // error answer to a question), for the log; "" if nothing.
  std::string TakeProblem();
  // The last answer that was an error (the server's text), or "".
  const std::string& error() const { return error_; }

  // Acknowledges a message taken here (natsMsg_Ack needs NATS.c's own pull
  // subscription): published on the connection, it leaves with the next flush.
  natsStatus Ack(natsMsg* msg);

  // Requests sent and status messages seen (for tests and the log).
  uint64_t requests() const { return requests_; }

 private:
  // Silence this long after the requests expired: none is open any more (the server
  // drops some expired requests without a status, and all in a reconnect).
  static constexpr int64_t kGraceNs = 50'000'000;
  // After a request nothing answered, the next is sent this much later.
  static constexpr int64_t kRetryNs = 100'000'000;
  PullConsumer() = default;

  natsConnection* nc_ = nullptr;
  std::string next_subject_;  // $JS.API.CONSUMER.MSG.NEXT.<stream>.<durable>
  std::string info_subject_;  // $JS.API.CONSUMER.INFO.<stream>.<durable>
  std::string request_;       // {"batch":N,"expires":ns}
  std::string inbox_, info_inbox_;
  SubscriptionPtr sub_, info_sub_;
  int batch_ = 0;
  int64_t expires_ns_ = 0;
  int64_t outstanding_ = 0;
  int64_t heard_ns_ = 0;  // the last request sent, or the last message or status since
  int64_t quiet_until_ns_ = 0;  // no request before (a request went unanswered)
  uint64_t requests_ = 0;
  uint64_t asked_positions_ = 0;
  uint64_t answered_ = 0;
  uint64_t echoes_ = 0, echoed_ = 0;
  std::string echo_subject_;  // <info inbox>.e
  // Each question not yet answered: its number and when it was sent (wall clock).
  std::vector<std::pair<uint64_t, int64_t>> asked_at_;
  Position position_;
  bool has_position_ = false;
  std::string error_;
  std::string problem_;
};

}  // namespace juncture::serve
