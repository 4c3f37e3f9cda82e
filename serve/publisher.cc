#include "publisher.h"

#include <chrono>

#include "ack_inbox.h"
#include "action_acks.h"
#include "nats_connection.h"
#include "nats_free.h"
#include "nats_raw.h"
#include "receipts.h"

namespace juncture::serve {

int64_t SteadyNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Publisher::Publisher(natsConnection* actions, natsConnection* log, jsCtx* js, ActionAcks* acks,
                     const ServeOptions& options, PublishObserver* observer)
    : actions_(actions), log_(log), js_(js), acks_(acks), options_(options), observer_(observer) {}

int64_t WallUsNow() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void Publisher::OnDecision(const runtime::Decision& d) {
  const bool sent = d.outcome == runtime::Outcome::kSent;
  // Timers' decisions each read the clocks (a round of them can be long); a
  // message's share the first reading (set_receipt).
  int64_t decided = decided_ns_;
  if (decided == 0) {
    decided = SteadyNs();
    if (receipt_ns_ != 0) decided_ns_ = decided;
  }
  int64_t wall_us = 0;
  if (sent) {
    wall_us = decided_wall_us_;
    if (wall_us == 0) {
      wall_us = WallUsNow();
      if (receipt_ns_ != 0) decided_wall_us_ = wall_us;
    }
  }
  if (observer_) {
    observer_->Decided(d, receipt_ns_ == 0 ? 0.0 : (decided - receipt_ns_) * 1e-9, wall_us);
  }
  if (sent && receipts_ != nullptr) receipts_->Prefetch(d.id);  // while the JSON is written
  json_.clear();
  d.AppendJson(json_);  // into kept capacity: no allocation once warm
  // The action first: it is what the latency budget is for.
  if (sent) {
    subject_.assign(options_.actions_prefix).append(1, '.').append(d.channel);
    // Recorded for its receipts before it goes out: the action is written at once
    // (SendAsap), and its receipt may come back, on another thread, before Publish
    // returns. (An action whose publish fails stays recorded until the receipt window
    // ends, matched by nothing.)
    if (receipts_ != nullptr) {
      auto deadline = deadlines_.find(d.journey);
      receipts_->Sent(d.id, d.journey, d.channel, d.signal_us, wall_us,
                      deadline == deadlines_.end() ? 0 : deadline->second);
    }
    // Through JetStream, or with the header asked for, a NATS message object; else
    // straight from json_ (nothing to allocate, nothing for NATS.c to free later).
    const bool header = js_ != nullptr || options_.action_msg_id_header;
    const bool published = header ? Publish(actions_, subject_, json_, "Nats-Msg-Id", d.id,
                                            js_ != nullptr)
                                  : PublishPlain(actions_, subject_, json_);
    if (published && observer_) {
      if (!writes_deferred_) {
        observer_->Published(d.channel, (SteadyNs() - decided) * 1e-9);
      } else {
        if (unwritten_used_ == unwritten_.size()) unwritten_.emplace_back();
        Unwritten& u = unwritten_[unwritten_used_++];
        u.channel.assign(d.channel);
        u.decided_ns = decided;
      }
    }
  }
  // Held back until the message is decided (FlushLog).
  if (held_used_ == held_log_.size()) held_log_.emplace_back();
  LogEntry& entry = held_log_[held_used_++];
  entry.subject.assign(options_.decisions_prefix).append(1, '.').append(d.journey);
  entry.json.swap(json_);
}

void Publisher::Written(int64_t now_ns) {
  for (size_t i = 0; i < unwritten_used_; ++i) {
    observer_->Published(unwritten_[i].channel, (now_ns - unwritten_[i].decided_ns) * 1e-9);
  }
  unwritten_used_ = 0;
}

void Publisher::TrackReceipts(ReceiptBook* book, const runtime::ProgramSpec& spec) {
  receipts_ = book;
  deadlines_.clear();
  for (const runtime::JourneySpec& j : spec.journeys) deadlines_[j.name] = j.deadline_us;
}

void Publisher::FlushLog() {
  // The decision log carries no header (the id is in the JSON): a message without
  // headers goes out from the stack, with no natsMsg to free.
  for (size_t i = 0; i < held_used_; ++i) {
    const LogEntry& e = held_log_[i];
    natsStatus s = natsConnection_Publish(log_, e.subject.c_str(), e.json.data(),
                                          static_cast<int>(e.json.size()));
    if (s != NATS_OK) {
      if (observer_) observer_->PublishFailed("decision", e.subject + ": " + NatsErrorText(s));
      continue;
    }
    ++published_;
  }
  held_used_ = 0;
}

bool Publisher::PublishPlain(natsConnection* nc, const std::string& subject,
                             std::string_view data) {
  natsStatus s =
      natsConnection_Publish(nc, subject.c_str(), data.data(), static_cast<int>(data.size()));
  if (s != NATS_OK) {
    if (observer_) observer_->PublishFailed("action", subject + ": " + NatsErrorText(s));
    return false;
  }
  ++published_;
  return true;
}

void Publisher::Retire(natsMsg* msg) {
  if (msg == nullptr) return;
  retired_.push_back(msg);
  if (retired_.size() >= 64) DestroyRetired();
}

void Publisher::DestroyRetired() {
  DestroyMessages(retired_);  // on this thread where NATS.c allows it (nats_free.h)
  retired_.clear();
}

Publisher::~Publisher() { DestroyRetired(); }

void Publisher::OnDeadLetter(std::string_view message, const std::string& reason) {
  if (observer_) observer_->DeadLetter(reason, message);
  // The raw bytes as received (so they can be fixed and replayed), the reason in a
  // header. Header values are one line: newlines become spaces.
  std::string why = reason;
  for (char& c : why) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  Publish(log_, options_.deadletter_subject, message, "Juncture-Error", why, false);
}

bool Publisher::Publish(natsConnection* nc, const std::string& subject, std::string_view data,
                        const char* header, const std::string& header_value, bool jetstream) {
  if (jetstream && ack_inbox_ != nullptr) {
    // Made and kept by the inbox until the stream answers (one shard).
    if (ack_inbox_->PublishAction(subject, header, header_value, data, SteadyNs())) {
      ++stream_handed_;
      ++published_;
      return true;
    }
    natsMsg* raw = nullptr;
    natsStatus s = CreateMessageWithHeader(&raw, subject.c_str(), nullptr, header, header_value, data);
    if (s != NATS_OK) {
      ++unbuilt_actions_;
      if (observer_) observer_->PublishFailed("action", subject + ": " + NatsErrorText(s));
      return false;
    }
    acks_->Refuse(raw, "client", "NATS.c did not take the publish");  // kept: tried again
    ++published_;
    return true;
  }
  natsMsg* raw = nullptr;
  natsStatus s = CreateMessageWithHeader(&raw, subject.c_str(), nullptr, header, header_value, data);
  MsgPtr msg(raw);
  if (s == NATS_OK && jetstream) {
    PublishToStream(msg.release());  // stored, or kept as refused: never dropped
    ++published_;
    return true;
  }
  if (s != NATS_OK && jetstream) ++unbuilt_actions_;
  if (s == NATS_OK) s = natsConnection_PublishMsg(nc, msg.get());
  if (s != NATS_OK) {
    if (observer_) {
      observer_->PublishFailed(nc == actions_ ? "action" : "dead_letter",
                               subject + ": " + NatsErrorText(s));
    }
    return false;
  }
  Retire(msg.release());
  ++published_;
  return true;
}

void Publisher::PublishToStream(natsMsg* msg) {
  if (ack_inbox_ != nullptr) {
    if (ack_inbox_->Publish(msg, SteadyNs())) {
      ++stream_handed_;
    } else {
      acks_->Refuse(msg, "client", "NATS.c did not take the publish");
    }
    return;
  }
  jsPubOptions o;
  jsPubOptions_Init(&o);
  // No ack within this time is a refusal (NATS.c reports it to the ack handler), so
  // that no action waits for an ack forever.
  o.MaxWait = options_.jetstream.ack_timeout_ms;
  natsMsg* m = msg;
  ++stream_publishes_;
  natsStatus s = js_PublishMsgAsync(js_, &m, &o);  // takes the message on success
  if (s == NATS_OK) {
    ++stream_handed_;
  } else if (m != nullptr) {
    acks_->Refuse(m, "client", NatsErrorText(s));
  }
}

void Publisher::Republish(std::vector<Refusal> refused) {
  for (Refusal& r : refused) {
    PublishToStream(r.msg);
    r.msg = nullptr;
  }
}

Status Publisher::Settle(int64_t timeout_ms) {
  FlushLog();
  DestroyRetired();
  natsStatus s = natsConnection_FlushTimeout(actions_, timeout_ms);
  if (s != NATS_OK) {
    return UnavailableError("flushing the actions: " + NatsErrorText(s));
  }
  s = natsConnection_FlushTimeout(log_, timeout_ms);
  if (s != NATS_OK) {
    return UnavailableError("flushing the decision log: " + NatsErrorText(s));
  }
  if (ack_inbox_ != nullptr) {
    // Read here (another thread drives the loop): every action answered, or
    // refused by its timeout, which is shorter than this one.
    const int64_t deadline = SteadyNs() + timeout_ms * 1'000'000;
    while (ack_inbox_->pending() > 0 && SteadyNs() < deadline) ack_inbox_->TakeAcks(SteadyNs(), 10);
    if (ack_inbox_->pending() > 0) {
      return UnavailableError("waiting for the actions stream's acknowledgements: " +
                              NatsErrorText(NATS_TIMEOUT));
    }
  } else if (js_ != nullptr) {
    jsPubOptions o;
    jsPubOptions_Init(&o);
    o.MaxWait = timeout_ms;
    s = js_PublishAsyncComplete(js_, &o);
    if (s != NATS_OK) {
      return UnavailableError("waiting for the actions stream's acknowledgements: " +
                              NatsErrorText(s));
    }
  }
  return OkStatus();
}

}  // namespace juncture::serve
