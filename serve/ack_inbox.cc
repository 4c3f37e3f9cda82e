#include "ack_inbox.h"

#include <charconv>
#include <cstring>
#include <simdjson.h>

#include "action_acks.h"
#include "nats_free.h"
#include "nats_raw.h"

namespace juncture::serve {

Result<std::unique_ptr<AckInbox>> AckInbox::Create(natsConnection* nc, ActionAcks* acks,
                                                   int64_t timeout_ms) {
  std::unique_ptr<AckInbox> a(new AckInbox());
  a->nc_ = nc;
  a->acks_ = acks;
  a->timeout_ns_ = timeout_ms * 1'000'000;
  a->parser_ = std::make_unique<simdjson::dom::parser>();
  natsInbox* inbox = nullptr;
  if (natsStatus s = natsInbox_Create(&inbox); s != NATS_OK) {
    return UnavailableError("cannot make an inbox: " + NatsErrorText(s));
  }
  a->inbox_ = inbox;
  natsInbox_Destroy(inbox);
  natsSubscription* sub = nullptr;
  const std::string all = a->inbox_ + ".*";
  if (natsStatus s = natsConnection_SubscribeSync(&sub, nc, all.c_str()); s != NATS_OK) {
    return UnavailableError("cannot subscribe to " + all + ": " + NatsErrorText(s));
  }
  a->sub_.reset(sub);
  // One acknowledgement per action published: bounded by what is published.
  natsSubscription_SetPendingLimits(sub, -1, -1);
  return a;
}

AckInbox::~AckInbox() {
  for (Pending& p : pending_) natsMsg_Destroy(p.msg);
}

bool AckInbox::PublishAction(const std::string& subject, std::string_view header,
                             std::string_view value, std::string_view data, int64_t now_ns) {
  const uint64_t number = first_ + pending_.size();
  reply_ = inbox_;
  reply_ += '.';
  reply_ += std::to_string(number);
  natsMsg* msg = nullptr;
  natsStatus s = CreateMessageWithHeader(&msg, subject.c_str(), reply_.c_str(), header, value, data);
  if (s == NATS_OK) s = natsConnection_PublishMsg(nc_, msg);
  if (s != NATS_OK) {
    DestroyMessages({&msg, 1});
    return false;
  }
  // Kept as published (its reply subject is this one's; another try gets another).
  pending_.push_back(Pending{msg, now_ns + timeout_ns_});
  ++unanswered_;
  return true;
}

bool AckInbox::Publish(natsMsg* msg, int64_t now_ns) {
  const uint64_t number = first_ + pending_.size();
  reply_ = inbox_;
  reply_ += '.';
  reply_ += std::to_string(number);
  // The same action with the reply subject (a NATS.c message's is fixed when made).
  natsMsg* sent = nullptr;
  const char* id = nullptr;
  natsStatus s = natsMsgHeader_Get(msg, "Nats-Msg-Id", &id);
  if (s == NATS_OK) {
    s = CreateMessageWithHeader(&sent, natsMsg_GetSubject(msg), reply_.c_str(), "Nats-Msg-Id", id,
                                {natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg))});
  } else {  // no id (not one of serve's actions): as it is
    s = natsMsg_Create(&sent, natsMsg_GetSubject(msg), reply_.c_str(), natsMsg_GetData(msg),
                       natsMsg_GetDataLength(msg));
  }
  if (s == NATS_OK) s = natsConnection_PublishMsg(nc_, sent);
  DestroyMessages({&sent, 1});  // here, not by NATS.c's collector thread (nats_free.h)
  if (s != NATS_OK) return false;
  pending_.push_back(Pending{msg, now_ns + timeout_ns_});
  ++unanswered_;
  return true;
}

void AckInbox::TakeAcks(int64_t now_ns, int64_t wait_ms) {
  bool no_responders = false;
  for (;;) {
    natsMsg* raw = nullptr;
    natsStatus s = natsSubscription_NextMsg(&raw, sub_.get(), wait_ms);
    wait_ms = 0;
    if (s == NATS_NO_RESPONDERS) {  // NATS.c keeps the message (and its subject) to itself
      no_responders = true;
      continue;
    }
    if (s != NATS_OK) break;
    const char* subject = natsMsg_GetSubject(raw);
    const char* dot = std::strrchr(subject, '.');
    uint64_t number = 0;
    if (dot != nullptr &&
        std::from_chars(dot + 1, subject + std::strlen(subject), number).ec == std::errc()) {
      Answer(number, raw);
    }
    DestroyMessages({&raw, 1});
  }
  // Unanswered past the timeout: refused, as NATS.c's own timeout does. After a "no
  // responders" (no stream takes one of the subjects; which action NATS.c does not
  // say), every unanswered action is refused as such: one the stream did store is
  // dropped as a duplicate when published again.
  for (Pending& p : pending_) {
    if (p.deadline_ns > now_ns && !no_responders) break;
    if (p.msg == nullptr) continue;
    natsMsg* msg = p.msg;
    p.msg = nullptr;
    --unanswered_;
    jsPubAckErr pae{};
    pae.Msg = msg;
    pae.Err = no_responders ? NATS_NO_RESPONDERS : NATS_TIMEOUT;
    ActionAcks::OnAck(nullptr, msg, nullptr, &pae, acks_);
  }
  while (!pending_.empty() && pending_.front().msg == nullptr) {
    pending_.pop_front();
    ++first_;
  }
}

void AckInbox::Answer(uint64_t number, natsMsg* ack) {
  if (number < first_ || number - first_ >= pending_.size()) return;  // timed out, or not ours
  Pending& p = pending_[number - first_];
  if (p.msg == nullptr) return;  // answered already
  natsMsg* msg = p.msg;
  p.msg = nullptr;
  --unanswered_;
  // As NATS.c reads an acknowledgement: no responders (no stream on the subject), an
  // error from the stream, or where the action was stored.
  std::string_view data(natsMsg_GetData(ack), static_cast<size_t>(natsMsg_GetDataLength(ack)));
  const char* status = nullptr;
  jsPubAckErr pae{};
  pae.Msg = msg;
  std::string text, stream;
  if (data.empty() && natsMsgHeader_Get(ack, "Status", &status) == NATS_OK) {
    pae.Err = std::strcmp(status, "503") == 0 ? NATS_NO_RESPONDERS : NATS_ERR;
    ActionAcks::OnAck(nullptr, msg, nullptr, &pae, acks_);
    return;
  }
  // simdjson, with the parser and its buffers kept: an acknowledgement comes for every
  // action, and parsing it into a tree of allocations was a twentieth of serve's CPU
  // at 20,000 actions/s (docs/performance.md §10).
  simdjson::dom::element j;
  if (parser_->parse(data.data(), data.size()).get(j) == simdjson::SUCCESS && j.is_object()) {
    simdjson::dom::object e;
    if (j["error"].get(e) == simdjson::SUCCESS) {
      int64_t err_code = 0;
      if (e["err_code"].get(err_code) != simdjson::SUCCESS) err_code = 0;
      std::string_view description;
      text = e["description"].get(description) == simdjson::SUCCESS ? std::string(description)
                                                                      : std::string("an error");
      pae.Err = NATS_ERR;
      pae.ErrCode = static_cast<jsErrCode>(err_code);
      pae.ErrText = text.c_str();
      ActionAcks::OnAck(nullptr, msg, nullptr, &pae, acks_);
      return;
    }
    std::string_view name;
    if (j["stream"].get(name) == simdjson::SUCCESS) {
      stream = name;
      jsPubAck pa{};
      pa.Stream = stream.data();
      uint64_t seq = 0;
      if (j["seq"].get(seq) != simdjson::SUCCESS) seq = 0;
      bool duplicate = false;
      if (j["duplicate"].get(duplicate) != simdjson::SUCCESS) duplicate = false;
      pa.Sequence = seq;
      pa.Duplicate = duplicate;
      ActionAcks::OnAck(nullptr, msg, &pa, nullptr, acks_);
      return;
    }
  }
  pae.Err = NATS_ERR;
  text = "an acknowledgement that is not JetStream's: " + std::string(data.substr(0, 200));
  pae.ErrText = text.c_str();
  ActionAcks::OnAck(nullptr, msg, nullptr, &pae, acks_);
}

}  // namespace juncture::serve
