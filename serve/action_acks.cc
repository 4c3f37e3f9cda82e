#include "action_acks.h"

#include <cstring>

#include "nats_free.h"
#include "publisher.h"

namespace juncture::serve {

std::string Refusal::Describe() const {
  const char* subject = msg != nullptr ? natsMsg_GetSubject(msg) : nullptr;
  const char* id = nullptr;
  if (msg != nullptr) natsMsgHeader_Get(msg, "Nats-Msg-Id", &id);
  return std::string(subject ? subject : "?") + " (id " + (id ? id : "?") + "): " + error;
}

ActionAcks::ActionAcks(std::string stream, int64_t ack_timeout_ms, PublishObserver* observer)
    : stream_(std::move(stream)), ack_timeout_ms_(ack_timeout_ms), observer_(observer) {}

ActionAcks::~ActionAcks() {
  for (Refusal& r : refused_) natsMsg_Destroy(r.msg);
}

void ActionAcks::OnAck(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* self) {
  auto* acks = static_cast<ActionAcks*>(self);
  {
    std::lock_guard<std::mutex> lock(acks->mu_);
    ++acks->answers_;
  }
  if (pa != nullptr && pa->Stream != nullptr && acks->stream_ == pa->Stream) {
    DestroyMessages({&msg, 1});  // stored (or a duplicate of a stored one: also stored)
    std::lock_guard<std::mutex> lock(acks->mu_);
    ++acks->stored_;
    return;
  }
  std::string kind, error;
  if (pa != nullptr) {
    kind = "wrong_stream";
    error = std::string("stored in stream ") + (pa->Stream ? pa->Stream : "?") +
            ", not in the actions stream " + acks->stream_;
  } else if (pae != nullptr) {
    switch (pae->Err) {
      case NATS_NO_RESPONDERS: kind = "no_stream"; break;
      case NATS_TIMEOUT: kind = "no_ack"; break;
      default: kind = "refused"; break;
    }
    error = pae->ErrText != nullptr ? pae->ErrText : natsStatus_GetText(pae->Err);
    if (pae->Err == NATS_NO_RESPONDERS) error += " (no stream takes this subject)";
    if (pae->Err == NATS_TIMEOUT) {
      error = "no acknowledgement within " + std::to_string(acks->ack_timeout_ms_) +
              " ms (is the stream there, and the server reachable?)";
    }
    if (pae->ErrCode != 0) {
      error += " (JetStream error " + std::to_string(static_cast<int>(pae->ErrCode)) + ")";
    }
  } else {
    kind = "refused";
    error = "no acknowledgement";
  }
  acks->Refuse(msg, std::move(kind), std::move(error));
}

void ActionAcks::Refuse(natsMsg* msg, std::string kind, std::string error) {
  Refusal r{msg, std::move(kind), std::move(error)};
  if (observer_) observer_->ActionNotStored(r);
  std::lock_guard<std::mutex> lock(mu_);
  refused_.push_back(std::move(r));
}

size_t ActionAcks::refused() const {
  std::lock_guard<std::mutex> lock(mu_);
  return refused_.size();
}

std::vector<Refusal> ActionAcks::Take() {
  std::vector<Refusal> out;
  std::lock_guard<std::mutex> lock(mu_);
  out.swap(refused_);
  return out;
}

void ActionAcks::Restore(std::vector<Refusal> refused) {
  std::lock_guard<std::mutex> lock(mu_);
  for (Refusal& r : refused) refused_.push_back(std::move(r));
}

std::string ActionAcks::Describe() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (refused_.empty()) return "every action is stored";
  return std::to_string(refused_.size()) + " action(s) not stored by the actions stream " +
         stream_ + ", e.g. " + refused_.front().Describe();
}

uint64_t ActionAcks::answers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return answers_;
}

uint64_t ActionAcks::stored() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stored_;
}

}  // namespace juncture::serve
