#include "pull_consumer.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <nlohmann/json.hpp>

namespace juncture::serve {

namespace {

// The inbox NATS.c makes, as a string.
Result<std::string> NewInbox() {
  natsInbox* inbox = nullptr;
  if (natsStatus s = natsInbox_Create(&inbox); s != NATS_OK) {
    return UnavailableError("cannot make an inbox: " + NatsErrorText(s));
  }
  std::string out(inbox);
  natsInbox_Destroy(inbox);
  return out;
}

Result<SubscriptionPtr> SubscribeSync(natsConnection* nc, const std::string& subject) {
  natsSubscription* sub = nullptr;
  if (natsStatus s = natsConnection_SubscribeSync(&sub, nc, subject.c_str()); s != NATS_OK) {
    return UnavailableError("cannot subscribe to " + subject + ": " + NatsErrorText(s));
  }
  SubscriptionPtr owned(sub);
  // What arrives is bounded by the open request's batch and the questions asked:
  // nothing to drop.
  natsSubscription_SetPendingLimits(sub, -1, -1);
  return owned;
}

}  // namespace

Result<std::unique_ptr<PullConsumer>> PullConsumer::Create(natsConnection* nc,
                                                           const std::string& stream,
                                                           const std::string& durable, int batch,
                                                           int64_t expires_ms) {
  std::unique_ptr<PullConsumer> p(new PullConsumer());
  p->nc_ = nc;
  p->batch_ = batch;
  p->expires_ns_ = expires_ms * 1'000'000;
  p->next_subject_ = "$JS.API.CONSUMER.MSG.NEXT." + stream + "." + durable;
  p->info_subject_ = "$JS.API.CONSUMER.INFO." + stream + "." + durable;
  p->request_ = "{\"batch\":" + std::to_string(batch) +
                ",\"expires\":" + std::to_string(p->expires_ns_) + "}";
  Result<std::string> inbox = NewInbox();
  if (!inbox.ok()) return inbox.status();
  p->inbox_ = *inbox;
  p->info_inbox_ = *inbox + "i";
  Result<SubscriptionPtr> sub = SubscribeSync(nc, p->inbox_);
  if (!sub.ok()) return sub.status();
  p->sub_ = *std::move(sub);
  p->echo_subject_ = p->info_inbox_ + ".e";
  Result<SubscriptionPtr> info = SubscribeSync(nc, p->info_inbox_ + ".*");
  if (!info.ok()) return info.status();
  p->info_sub_ = *std::move(info);
  return p;
}

PullConsumer::~PullConsumer() = default;  // the subscriptions unsubscribe

Status PullConsumer::Ask(int64_t now_ns) {
  if (outstanding_ > 0 && now_ns >= heard_ns_ + expires_ns_ + kGraceNs) {
    outstanding_ = 0;  // expired, or lost
  }
  if (outstanding_ >= batch_ || now_ns < quiet_until_ns_) return OkStatus();
  natsStatus s = natsConnection_PublishRequest(nc_, next_subject_.c_str(), inbox_.c_str(),
                                               request_.data(), static_cast<int>(request_.size()));
  if (s != NATS_OK) return UnavailableError("cannot ask for messages: " + NatsErrorText(s));
  outstanding_ += batch_;
  heard_ns_ = now_ns;
  ++requests_;
  return OkStatus();
}

bool PullConsumer::Take(size_t max, std::vector<natsMsg*>* out, int64_t now_ns) {
  size_t taken = 0;
  while (taken < max) {
    natsMsg* m = nullptr;
    natsStatus got = natsSubscription_NextMsg(&m, sub_.get(), 0);
    if (got == NATS_NO_RESPONDERS) {
      // A request nothing answered (NATS.c keeps the message to itself): no
      // JetStream, or no such consumer.
      outstanding_ = 0;
      quiet_until_ns_ = now_ns + kRetryNs;  // not asked again at once
      problem_ = "no responders (is JetStream enabled, and the consumer there?)";
      continue;
    }
    if (got != NATS_OK) return false;
    heard_ns_ = now_ns;
    const char* status = nullptr;
    const char* reply = natsMsg_GetReply(m);
    // A status from the server has no reply subject; a stream's message always has
    // one (the subject of its ack), even with an empty body and a Status header.
    if ((reply == nullptr || reply[0] == '\0') &&
        natsMsgHeader_Get(m, "Status", &status) == NATS_OK) {
      // 100: a heartbeat or flow control (not asked for). Anything else ends a
      // request early: 408 expired, 409 refused or the consumer changed.
      if (std::strcmp(status, "409") == 0) {
        const char* why = nullptr;
        natsMsgHeader_Get(m, "Description", &why);
        problem_ = std::string("the server refused a pull request: 409 ") + (why ? why : "");
      }
      if (std::strcmp(status, "100") != 0) {
        const char* left = nullptr;
        int64_t n = 0;
        if (natsMsgHeader_Get(m, "Nats-Pending-Messages", &left) == NATS_OK &&
            std::from_chars(left, left + std::strlen(left), n).ec == std::errc() && n >= 0) {
          outstanding_ = std::max<int64_t>(outstanding_ - n, 0);
        } else {
          outstanding_ = 0;  // which request, and how much of it: unknown
        }
      }
      natsMsg_Destroy(m);
      continue;
    }
    out->push_back(m);
    ++taken;
    if (outstanding_ > 0) --outstanding_;
  }
  int pending = 0;
  return natsSubscription_GetPending(sub_.get(), &pending, nullptr) == NATS_OK && pending > 0;
}

Result<uint64_t> PullConsumer::AskPosition(int64_t wall_us) {
  uint64_t number = asked_positions_ + 1;
  std::string reply = info_inbox_ + "." + std::to_string(number);
  natsStatus s = natsConnection_PublishRequest(nc_, info_subject_.c_str(), reply.c_str(), "", 0);
  if (s != NATS_OK) {
    return UnavailableError("cannot ask the consumer's position: " + NatsErrorText(s));
  }
  asked_positions_ = number;
  // Questions never answered (lost in a reconnect) are forgotten after a while.
  if (asked_at_.size() >= 64) asked_at_.erase(asked_at_.begin());
  asked_at_.emplace_back(number, wall_us);
  return number;
}

Result<uint64_t> PullConsumer::Echo() {
  std::string number = std::to_string(echoes_ + 1);
  natsStatus s = natsConnection_Publish(nc_, echo_subject_.c_str(), number.data(),
                                        static_cast<int>(number.size()));
  if (s != NATS_OK) return UnavailableError("cannot reach the server: " + NatsErrorText(s));
  return ++echoes_;
}

bool PullConsumer::TakeAnswers() {
  bool any = false;
  for (;;) {
    natsMsg* raw = nullptr;
    if (natsSubscription_NextMsg(&raw, info_sub_.get(), 0) != NATS_OK) return any;
    MsgPtr m(raw);
    // Which question: the number after the inbox.
    const char* subject = natsMsg_GetSubject(raw);
    const char* dot = std::strrchr(subject, '.');
    uint64_t number = 0;
    if (echo_subject_ == subject) {
      const char* data = natsMsg_GetData(raw);
      if (std::from_chars(data, data + natsMsg_GetDataLength(raw), number).ec == std::errc()) {
        echoed_ = std::max(echoed_, number);
      }
      continue;
    }
    if (dot == nullptr ||
        std::from_chars(dot + 1, subject + std::strlen(subject), number).ec != std::errc()) {
      continue;
    }
    int64_t asked_wall_us = -1;
    for (auto it = asked_at_.begin(); it != asked_at_.end();) {
      if (it->first == number) asked_wall_us = it->second;
      it = it->first <= number ? asked_at_.erase(it) : it + 1;
    }
    if (asked_wall_us < 0) continue;  // an answer to a question already answered
    any = true;
    answered_ = std::max(answered_, number);
    std::string_view data(natsMsg_GetData(raw), static_cast<size_t>(natsMsg_GetDataLength(raw)));
    nlohmann::json j = nlohmann::json::parse(data, nullptr, false);
    const char* status = nullptr;
    if (data.empty() && natsMsgHeader_Get(raw, "Status", &status) == NATS_OK) {
      error_ = std::string("status ") + status;  // e.g. 503: no JetStream to answer
      problem_ = "asking the consumer's position: " + error_;
      continue;
    }
    if (j.is_discarded() || !j.is_object()) {
      error_ = "an answer that is not JSON";
      continue;
    }
    if (auto e = j.find("error"); e != j.end()) {
      error_ = e->is_object() ? e->value("description", std::string("an error")) : "an error";
      problem_ = "asking the consumer's position: " + error_;
      continue;
    }
    auto pending = j.find("num_pending");
    auto delivered = j.find("delivered");
    if (pending == j.end() || !pending->is_number_unsigned() || delivered == j.end() ||
        !delivered->is_object() || !delivered->contains("consumer_seq") ||
        !(*delivered)["consumer_seq"].is_number_unsigned()) {
      error_ = "an answer without the consumer's position";
      continue;
    }
    position_.num_pending = pending->get<uint64_t>();
    position_.delivered_seq = (*delivered)["consumer_seq"].get<uint64_t>();
    position_.asked_wall_us = asked_wall_us;
    has_position_ = true;
    error_.clear();
  }
}

std::string PullConsumer::TakeProblem() {
  std::string out;
  out.swap(problem_);
  return out;
}

natsStatus PullConsumer::Ack(natsMsg* msg) {
  const char* reply = natsMsg_GetReply(msg);
  if (reply == nullptr || reply[0] == '\0') return NATS_ILLEGAL_STATE;
  return natsConnection_Publish(nc_, reply, "+ACK", 4);
}

}  // namespace juncture::serve
