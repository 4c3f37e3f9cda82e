#include "server.h"

#include <chrono>
#include <iostream>

#include "cluster.h"
#include "stop_signals.h"
#include "telemetry.h"
#include "ui/ui_server.h"

namespace juncture::serve {

Server::Server(const ServeOptions& options, const ProgramLoader& loader,
               const ProgramOptimizer& optimizer)
    : options_(options), loader_(loader), optimizer_(optimizer), metrics_(std::make_unique<Telemetry>()) {}

Server::~Server() {
  StopWorker();  // if Start failed after starting it
  // JetStream, one shard: the acks awaited below are read by IoLoop.
  if (loop_ && options_.jetstream.enabled && conn_ && log_conn_) StartIo();
  StopSyncThread();
  for (auto& shard : shards_) shard->Stop(0);  // if Start failed after starting them
  for (natsMsg* m : pending_acks_) natsMsg_Destroy(m);  // (no shard reads them now)
  subscriptions_.clear();
  pull_.reset();
  ack_inbox_.reset();  // its unanswered actions are in no checkpoint: decided again
  receipt_sub_.reset();
  if (js_ != nullptr) {
    // NATS.c may still be in ActionAcks::OnAck on its own thread (a final Settle
    // that timed out): take the unacknowledged actions back, so that no handler
    // starts any more, then wait for one that is running to return.
    // (NATS.c's pending list exists only after a first asynchronous publish.)
    natsMsgList pending{};
    bool published = false;
    for (auto& s : shards_) published |= s->has_publisher() && s->publisher().stream_publishes() > 0;
    if (published && js_PublishAsyncGetPendingList(&pending, js_) == NATS_OK) {
      natsMsgList_Destroy(&pending);
    }
    jsPubOptions o;
    jsPubOptions_Init(&o);
    o.MaxWait = 5000;
    js_PublishAsyncComplete(js_, &o);
    jsCtx_Destroy(js_);
  }
  js_ = nullptr;
  StopIo();  // the acks above are read by it
  conn_.reset();  // closes it, waiting for NATS.c's closed callback
  log_conn_.reset();
  shards_.clear();  // destroys the retired messages; uses no connection
  receipt_publisher_.reset();
}

void Server::Log(const std::string& line) const { ServeLog(line); }

Status Server::Start() {
  if (Status s = metrics_->Listen(options_); !s.ok()) return s;
  const int k = options_.shards;
  if (k < 1 || static_cast<uint32_t>(k) > options_.partitions) {
    return InvalidArgumentError("--shards must be between 1 and the number of partitions (" +
                                std::to_string(options_.partitions) + ")");
  }
  Result<runtime::CompiledProgram> program = loader_();
  if (!program.ok()) return program.status().WithContext("the program does not compile:\n");
  // The shards share the compiled program: its evaluators keep no state.
  for (int i = 0; i < k; ++i) {
    shards_.push_back(std::make_unique<Shard>(i, k, options_, *metrics_));
    shards_.back()->Init(*program);
  }
  metrics_->ProgramInfo(shard().engine().spec(), shard().engine().evaluator_name());
  NatsConnection::Callbacks callbacks =
      ReportingCallbacks(*metrics_, [this] { return conn_->ConnectedUrl(); });
  callbacks.error = [this](natsSubscription* sub, natsStatus e) { OnNatsError(sub, e); };
  if (!sharded()) {
    Result<std::unique_ptr<NatsLoop>> loop = NatsLoop::Create();
    if (!loop.ok()) return loop.status();
    loop_ = *std::move(loop);
  }
  Result<std::unique_ptr<NatsConnection>> conn = NatsConnection::Connect(
      options_.nats, true, options_.nats.name, std::move(callbacks), loop_.get());
  if (!conn.ok()) return conn.status();
  conn_ = *std::move(conn);
  Result<std::unique_ptr<NatsConnection>> log_conn =
      NatsConnection::Connect(options_.nats, false, options_.nats.name + "-log", {}, loop_.get());
  if (!log_conn.ok()) return log_conn.status();
  log_conn_ = *std::move(log_conn);
  // JetStream's requests (streams, consumer) need the connections driven from now on.
  if (loop_ && options_.jetstream.enabled) StartIo();
  if (Result<std::string> position = OpenState(*program); !position.ok()) {
    return position.status();
  }
  Status started = options_.jetstream.enabled ? StartJetStream() : StartCore();
  StartSyncThread();
  if (started.ok()) started = StartReceipts();
  if (!started.ok()) return started;
  if (sharded()) {
    for (auto& shard : shards_) shard->Start(receipts_.get());
  }
  // JetStream: the fetch loop hands messages to the shards' threads (several) and
  // parks them for checkpoints: it starts once they run. One shard: the loop's thread
  // takes over the connections.
  if (options_.jetstream.enabled && sharded()) worker_ = std::thread([this] { FetchLoop(); });
  if (options_.jetstream.enabled && !sharded()) {
    StopIo();
    worker_ = std::thread([this] { JetStreamLoop(); });
  }
  std::string subjects;
  for (const std::string& s : options_.subjects) subjects += (subjects.empty() ? "" : " ") + s;
  Log("deciding on " + subjects + " from " + conn_->ConnectedUrl() + " (" +
      (options_.jetstream.enabled ? "JetStream stream " + options_.jetstream.stream +
                                        ", durable " + options_.jetstream.durable
                                  : std::string("core NATS")) +
      "), " + std::to_string(shard().engine().spec().journeys.size()) + " journeys on the " +
      shard().engine().evaluator_name() +
      (sharded() ? " in " + std::to_string(shards_.size()) + " shards" : "") +
      metrics_->Endpoints());
  return OkStatus();
}

Status Server::StartReceipts() {
  if (options_.receipts_subject.empty()) return OkStatus();
  receipts_ = std::make_unique<ReceiptBook>(options_.receipt_window_ms * 1000,
                                            static_cast<size_t>(options_.max_tracked_actions));
  if (sharded()) {  // before their threads start (Start)
    for (auto& shard : shards_) {
      shard->publisher().TrackReceipts(receipts_.get(), shard->engine().spec());
    }
  } else {
    std::lock_guard<std::mutex> lock(mu_);
    shard().publisher().TrackReceipts(receipts_.get(), shard().engine().spec());
  }
  receipt_publisher_ = std::make_unique<Publisher>(conn_->get(), log_conn_->get(), nullptr,
                                                   nullptr, options_, &metrics_->AddShard());
  natsSubscription* sub = nullptr;
  natsStatus s = natsConnection_Subscribe(&sub, conn_->get(), options_.receipts_subject.c_str(),
                                          &Server::OnReceipt, this);
  if (s != NATS_OK) {
    return UnavailableError("cannot subscribe to " + options_.receipts_subject + ": " +
                            NatsErrorText(s));
  }
  receipt_sub_.reset(sub);
  return OkStatus();
}

void Server::OnReceipt(natsConnection*, natsSubscription*, natsMsg* msg, void* self) {
  auto* server = static_cast<Server*>(self);
  MsgPtr owned(msg);
  std::string_view data(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
  ReceiptBook::Receipt r = server->receipts_->Receive(data, WallUs());
  server->metrics_->Receipt(r, server->receipts_->size());
  if (r.result == ReceiptBook::Result::kMalformed) {
    // Like a bad event: to the dead letters, byte for byte, with the reason.
    server->receipt_publisher_->OnDeadLetter(data, r.error);
    server->receipt_publisher_->DestroyRetired();
  }
}

void Server::Decide(std::string_view data, int64_t clock_us, int64_t receipt_ns,
                    natsMsg* retire, bool more_pending) {
  std::lock_guard<std::mutex> lock(mu_);
  DecideLocked(data, clock_us, receipt_ns, retire, more_pending);
}

void Server::DecideLocked(std::string_view data, int64_t clock_us, int64_t receipt_ns,
                          natsMsg* retire, bool more_pending) {
  if (!accepting_) {  // the drain gave up: not decided (counted), not acked
    ++undecided_;
    if (retire != nullptr) natsMsg_Destroy(retire);
    return;
  }
  // Core NATS: CoreLoop commits the batch after its writes (Shard::CommitPending).
  shard().Decide(data, clock_us, receipt_ns, retire, more_pending,
                 options_.jetstream.enabled ? Shard::Commit::kCheckpoint
                                            : Shard::Commit::kAfterWrites);
}

void Server::Reload(const std::string& why) {
  std::optional<runtime::CompiledProgram> program = LoadForReload(loader_, *metrics_, why);
  if (!program) return;
  if (sharded()) {
    // Each shard's thread reloads before its next message.
    for (auto& shard : shards_) shard->StageReload(*program);
    state_changed_ = true;  // JetStream: in the next checkpoint
  } else {
    std::lock_guard<std::mutex> lock(mu_);
    if (!shard().Reload(*program, receipts_.get()).ok()) {  // logged
      metrics_->Reload(false);
      return;
    }
    state_changed_ = true;
  }
  metrics_->Reload(true);
  metrics_->ProgramInfo(*program->spec, program->evaluator->name());
  Log("reloaded: " + std::to_string(program->spec->journeys.size()) + " journeys on the " +
      program->evaluator->name());
  Optimize();
}

void Server::Optimize() {
  if (!optimizer_) return;
  std::optional<runtime::CompiledProgram> better = optimizer_();
  if (!better) return;
  // The same spec: each engine only swaps its evaluator (Engine::Reload).
  if (sharded()) {
    for (auto& shard : shards_) shard->StageReload(*better);
  } else {
    std::lock_guard<std::mutex> lock(mu_);
    // The same spec: the evaluator alone changes, which does not fail.
    if (!shard().Reload(*better, receipts_.get()).ok()) return;  // logged
  }
  metrics_->ProgramInfo(*better->spec, better->evaluator->name());
  Log("optimised: " + std::to_string(better->spec->journeys.size()) + " journeys on the " +
      better->evaluator->name() + " (optimised code)");
}

void Server::OnNatsError(natsSubscription* sub, natsStatus error) {
  if (error == NATS_SLOW_CONSUMER) {
    // The count comes from NATS.c (CountDropped); this says when it starts.
    const char* subject = sub != nullptr ? natsSubscription_GetSubject(sub) : nullptr;
    Log(std::string("slow consumer: NATS.c is dropping messages on ") +
        (subject ? subject : "a subscription") + " (more than " +
        std::to_string(options_.pending_messages) + " messages or " +
        std::to_string(options_.pending_bytes >> 20) +
        " MiB waiting); they are counted in juncture_dropped_total{reason=\"slow_consumer\"}");
    return;
  }
  Log(std::string("NATS error: ") + natsStatus_GetText(error));
}

void Server::StopWorker() {
  {
    // Under the lock: a worker between its check and its wait must not miss this.
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;  // the fetch loop ends after its current batch
  }
  cv_.notify_all();
  if (loop_) loop_->Wake();
  if (worker_.joinable()) worker_.join();
}

int Server::Shutdown() {
  Log("stopping: draining");
  if (receipt_sub_) natsSubscription_Unsubscribe(receipt_sub_.get());
  bool complete = true;
  if (!options_.jetstream.enabled) complete = DrainCore();
  // CoreLoop drives the connections: it runs until the last flush below is answered.
  // (With JetStream and one shard, IoLoop drives them once JetStreamLoop ended.)
  if (!loop_ || options_.jetstream.enabled) StopWorker();
  if (options_.jetstream.enabled && loop_) StartIo();
  if (options_.jetstream.enabled) {
    if (Status s = Commit(); !s.ok()) {
      Log("final checkpoint failed: " + s.message() +
          "; the messages after the last checkpoint stay unacked and are decided again at "
          "the next start");
      complete = false;
    }
    for (auto& shard : shards_) shard->Stop(0);  // several: idle since the checkpoint
  } else if (!shards_.empty()) {
    // Under the lock: nothing may still be deciding; after this, Decide only counts.
    std::lock_guard<std::mutex> lock(mu_);
    uint64_t undecided = undecided_;
    for (auto& shard : shards_) {
      if (Status s = shard->publisher().Settle(5000); !s.ok()) {
        Log("could not flush the last decisions (they may not have reached NATS): " + s.message());
        complete = false;
      }
      undecided += shard->undecided();
      if (!sharded()) shard->CommitCore(false);  // several: done as each thread ended
    }
    accepting_ = false;
    // Received and not decided: at the drain bound, or delivered after a drain that
    // could not run.
    if (undecided > 0) {
      metrics_->Dropped("undecided_at_stop", undecided);
      Log(std::to_string(undecided) + " received messages were not decided");
      complete = false;
    }
  }
  StopWorker();
  if (!CloseState() && !options_.jetstream.enabled) {
    Log("the last state changes could not be written to the state store");
    complete = false;
  }
  Log("stopped. " + metrics_->Summary());
  return complete ? kExitStopped : kExitStoppedWithLoss;
}

void Server::Tick() {
  if (!options_.jetstream.enabled) CountDropped();
}

}  // namespace juncture::serve
