// JetStream: at-least-once in, no lost decision and no repeated `sent` out.
//
// The engine's state is checkpointed (Engine::SaveSnapshot) together with the
// stream sequence of the last message it decided. A message is acked only after its
// decisions are published (actions acked by the actions stream) and a checkpoint
// that includes it is on disk. At start the checkpoint is loaded and the durable
// consumer is re-created to deliver from the next sequence, so the messages decided
// after the last checkpoint are decided again, in order, from the same state: same
// decisions, same ids, and the actions stream drops the repeated actions by their
// Nats-Msg-Id. Messages are decided at their stream timestamp, which makes that
// replay exact. docs/serve.md states the guarantees.
#include <algorithm>
#include <chrono>
#include <thread>

#include "server.h"
#include "telemetry.h"
#include "state_file.h"

namespace juncture::serve {

namespace {

constexpr const char* kSnapshotFile = "snapshot.bin";
constexpr int64_t kNsPerMs = 1'000'000;
// Timers fire this far behind the wall clock while the consumer is caught up, so
// that a message stored just before a timer's due time, still in flight to us, is
// decided before the timer as it will be in a replay.
constexpr int64_t kTimerLagUs = 50'000;

std::string JsError(natsStatus s, jsErrCode code) {
  std::string out = NatsErrorText(s);
  if (code != 0) out += " (JetStream error " + std::to_string(static_cast<int>(code)) + ")";
  return out;
}

// Creates the stream unless it exists (an existing one is left as it is).
bool EnsureStream(jsCtx* js, const std::string& name, const std::vector<std::string>& subjects,
                  int64_t duplicates_ns, std::string* error) {
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&info, js, name.c_str(), nullptr, &code);
  if (s == NATS_OK) {
    jsStreamInfo_Destroy(info);
    return true;
  }
  if (s != NATS_NOT_FOUND) {
    *error = "stream " + name + ": " + JsError(s, code);
    return false;
  }
  std::vector<const char*> subjs;
  for (const std::string& x : subjects) subjs.push_back(x.c_str());
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = name.c_str();
  cfg.Subjects = subjs.data();
  cfg.SubjectsLen = static_cast<int>(subjs.size());
  cfg.Storage = js_FileStorage;
  if (duplicates_ns > 0) cfg.Duplicates = duplicates_ns;
  s = js_AddStream(&info, js, &cfg, nullptr, &code);
  if (s != NATS_OK) {
    *error = "cannot create stream " + name + ": " + JsError(s, code);
    return false;
  }
  jsStreamInfo_Destroy(info);
  return true;
}

}  // namespace

bool Server::StartJetStream(std::string* error) {
  const JetStreamSettings& o = options_.jetstream;
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.PublishAsync.MaxPending = 65536;
  if (natsStatus s = natsConnection_JetStream(&js_, conn_->get(), &jo); s != NATS_OK) {
    *error = "JetStream: " + NatsErrorText(s);
    return false;
  }
  // The actions stream remembers action ids for an hour: a replay after a restart
  // within that hour never stores an action twice.
  constexpr int64_t kHourNs = int64_t{3600} * 1'000'000'000;
  if (!EnsureStream(js_, o.stream, options_.subjects, 0, error) ||
      !EnsureStream(js_, o.actions_stream, {options_.actions_prefix + ".>"}, kHourNs, error)) {
    return false;
  }
  // Where we are: the checkpoint, if any.
  std::string why;
  std::optional<std::string> snapshot = ReadStateFile(o.state_dir + "/" + kSnapshotFile, &why);
  if (!why.empty()) {
    *error = why;
    return false;
  }
  if (snapshot) {
    std::string position;
    if (!engine_->LoadSnapshot(*snapshot, &position, &why)) {
      *error = "cannot load the checkpoint " + o.state_dir + "/" + kSnapshotFile + ": " + why;
      return false;
    }
    applied_seq_ = position.empty() ? 0 : std::stoull(position);
    Log("resumed from the checkpoint at stream sequence " + std::to_string(applied_seq_));
  }
  // The consumer is a cursor that the checkpoint owns: re-create it at the next
  // sequence (acks beyond the checkpoint must not make us skip messages).
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_DeleteConsumer(js_, o.stream.c_str(), o.durable.c_str(), nullptr, &code);
  if (s != NATS_OK && s != NATS_NOT_FOUND) {
    *error = "cannot reset consumer " + o.durable + ": " + JsError(s, code);
    return false;
  }
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = o.stream.c_str();
  so.Config.Durable = o.durable.c_str();
  so.Config.AckPolicy = js_AckExplicit;
  so.Config.AckWait = int64_t{60} * 1'000'000'000;
  so.Config.MaxAckPending = 1 << 20;
  if (applied_seq_ > 0) {
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = applied_seq_ + 1;
  } else {
    so.Config.DeliverPolicy = js_DeliverAll;
  }
  natsSubscription* sub = nullptr;
  const char* filter = options_.subjects.size() == 1 ? options_.subjects[0].c_str() : nullptr;
  s = js_PullSubscribe(&sub, js_, filter, o.durable.c_str(), nullptr, &so, &code);
  if (s != NATS_OK) {
    *error = "cannot create consumer " + o.durable + " on " + o.stream + ": " + JsError(s, code);
    return false;
  }
  subscriptions_.emplace_back(sub);
  publisher_ = std::make_unique<Publisher>(conn_->get(), log_conn_->get(), js_, options_,
                                           metrics_.get());
  last_commit_ns_ = SteadyNs();
  worker_ = std::thread([this] { FetchLoop(); });
  return true;
}

void Server::FetchLoop() {
  const JetStreamSettings& o = options_.jetstream;
  natsSubscription* sub = subscriptions_.front().get();
  bool warned = false;
  while (!stopping_) {
    natsMsgList list{};
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus s = natsSubscription_Fetch(&list, sub, o.fetch_batch, 100, &code);
    if (s == NATS_OK) {
      warned = false;
      for (int i = 0; i < list.Count; ++i) {
        HandleStreamMessage(list.Msgs[i]);
        list.Msgs[i] = nullptr;  // now in pending_acks_
      }
      natsMsgList_Destroy(&list);
    } else if (s == NATS_TIMEOUT) {
      caught_up_ = true;
    } else {
      if (!warned) Log("fetch failed (will retry): " + JsError(s, code));
      warned = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (caught_up_) {
      std::lock_guard<std::mutex> lock(mu_);
      engine_->AdvanceTo(WallUs() - kTimerLagUs, *publisher_);
      publisher_->FlushLog();
    }
    bool due = SteadyNs() - last_commit_ns_ >= o.checkpoint_interval_ms * kNsPerMs;
    if (due && !pending_acks_.empty()) {
      std::string error;
      if (!Commit(&error)) Log("checkpoint failed (messages stay unacked): " + error);
    }
  }
}

void Server::HandleStreamMessage(natsMsg* msg) {
  int64_t receipt_ns = SteadyNs();
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, msg) != NATS_OK) {  // not from a stream: cannot happen
    natsMsg_Destroy(msg);
    return;
  }
  uint64_t seq = meta->Sequence.Stream;
  int64_t stored_us = meta->Timestamp / 1000;
  caught_up_ = meta->NumPending == 0;
  jsMsgMetaData_Destroy(meta);
  if (seq > applied_seq_) {
    std::string_view data(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
    Decide(data, stored_us, receipt_ns);
    applied_seq_ = seq;
  }
  pending_acks_.push_back(msg);  // a redelivery of a decided message is acked, not decided
}

bool Server::Commit(std::string* error) {
  last_commit_ns_ = SteadyNs();
  if (pending_acks_.empty()) return true;
  std::string snapshot;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!publisher_->Settle(10'000, error)) return false;
    snapshot = engine_->SaveSnapshot(std::to_string(applied_seq_));
  }
  if (!WriteFileAtomically(options_.jetstream.state_dir, kSnapshotFile, snapshot, error)) {
    return false;
  }
  for (natsMsg* m : pending_acks_) {
    natsMsg_Ack(m, nullptr);  // a lost ack only means a redelivery, which is skipped
    natsMsg_Destroy(m);
  }
  pending_acks_.clear();
  return true;
}

}  // namespace juncture::serve
