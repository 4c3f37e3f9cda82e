// JetStream's pull protocol spoken on a connection that an event loop drives
// (nats_loop.h), so that the thread that decides also fetches and nothing here waits.
// Private to serve/.
//
// NATS.c's natsSubscription_Fetch sends a pull request and then waits on a condition
// variable for the messages another thread reads: a round trip and two wake-ups per
// batch, during which nothing is decided. Here one pull request is open at a time,
// for up to `batch` messages within `expires`. The server delivers each stored message
// to the request's inbox as it comes, so messages flow while the request is open, and
// the loop takes them as it takes core NATS messages (natsSubscription_NextMsg with no
// wait). A request ends when its batch has come or the server says it ended (a status
// message: 408 expired, 404 nothing, 409 refused); then the next is sent. One that
// neither fills nor ends (lost in a reconnect) counts as ended a second after it
// expired.
//
// The consumer's position (a consumer info request) is asked the same way: its answer
// comes to an inbox of its own. Because the server reads a connection in order, an
// answer also proves that everything published on the connection before the question
// reached the server, as a PING's PONG does.
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "juncture/status.h"
#include "nats_connection.h"

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

  // Sends a pull request unless one is open. `now_ns`: SteadyNs().
  Status Ask(int64_t now_ns);
  // Appends to `out` up to `max` of the stream's messages that arrived (the caller
  // owns them); status messages are consumed here. True if more wait.
  bool Take(size_t max, std::vector<natsMsg*>* out);
  // When the open request counts as lost, if nothing comes before (SteadyNs; 0: no
  // request open): the loop wakes for it.
  int64_t request_deadline_ns() const { return open_ ? asked_ns_ + expires_ns_ + kGraceNs : 0; }

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
  // The last answer that was an error (the server's text), or "".
  const std::string& error() const { return error_; }

  // Acknowledges a message taken here (natsMsg_Ack needs NATS.c's own pull
  // subscription): published on the connection, it leaves with the next flush.
  natsStatus Ack(natsMsg* msg);

  // Requests sent and status messages seen (for tests and the log).
  uint64_t requests() const { return requests_; }

 private:
  static constexpr int64_t kGraceNs = 1'000'000'000;
  PullConsumer() = default;

  natsConnection* nc_ = nullptr;
  std::string next_subject_;  // $JS.API.CONSUMER.MSG.NEXT.<stream>.<durable>
  std::string info_subject_;  // $JS.API.CONSUMER.INFO.<stream>.<durable>
  std::string request_;       // {"batch":N,"expires":ns}
  std::string inbox_, info_inbox_;
  SubscriptionPtr sub_, info_sub_;
  int batch_ = 0;
  int64_t expires_ns_ = 0;
  bool open_ = false;
  int64_t asked_ns_ = 0;
  int received_ = 0;  // messages of the open request so far
  uint64_t requests_ = 0;
  uint64_t asked_positions_ = 0;
  uint64_t answered_ = 0;
  // Each question not yet answered: its number and when it was sent (wall clock).
  std::vector<std::pair<uint64_t, int64_t>> asked_at_;
  Position position_;
  bool has_position_ = false;
  std::string error_;
};

}  // namespace juncture::serve
