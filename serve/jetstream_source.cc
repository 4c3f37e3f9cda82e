// JetStream: at-least-once in, no lost decision and no repeated `sent` out.
//
// The engine's state is checkpointed (its changes committed to the state store,
// state.cc) together with the stream sequence of the last message it decided. A
// message is acked only after its decisions are published (every action stored by
// the actions stream) and a checkpoint that includes it is on disk (fsync). At start
// the store is loaded and the
// durable consumer is re-created to deliver from the next sequence, so the messages
// decided after the last checkpoint are decided again, in order, from the same
// state: same decisions, same ids, and the actions stream drops the repeated actions
// by their Nats-Msg-Id. Messages are decided at their stream timestamp, and timers
// fire at the wall clock only once the consumer's own position proves that nothing
// stored before them is still undecided, which makes that replay exact whatever the
// timing. docs/serve.md states the guarantees.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <thread>

#include "ack_inbox.h"
#include "fetch.h"
#include "nats_free.h"
#include "pull_consumer.h"
#include "juncture/runtime/partition.h"
#include "server.h"
#include "streams.h"
#include "telemetry.h"

namespace juncture::serve {

namespace {

constexpr int64_t kNsPerMs = 1'000'000;
// Timers fire this far behind the wall-clock time at which the stream proved that
// every message stored before it was decided: the margin for a server clock that is
// behind serve's.
constexpr int64_t kTimerLagUs = 50'000;
constexpr int64_t kMaxFetchWaitMs = 100;
// One shard: a pull request stays open this long when no message comes.
constexpr int64_t kPullExpiresMs = 1000;
// One shard: at most this many messages decided between two writes.
constexpr size_t kLoopBatch = 256;
// One shard: a round that took fewer messages is followed by --linger-us.
constexpr size_t kLingerBelow = 16;
// Not shorter: each fetch is a pull request the server keeps until it expires.
constexpr int64_t kMinFetchWaitMs = 10;
// At most one question about the consumer's position per this long.
constexpr int64_t kProofIntervalNs = 20 * kNsPerMs;
// A failed checkpoint is tried again after 0.5 s, then twice as long each time, up
// to 30 s.
constexpr int64_t kFirstRetryMs = 500;
constexpr int64_t kMaxRetryMs = 30'000;

struct ConsumerInfoDeleter {
  void operator()(jsConsumerInfo* i) const { jsConsumerInfo_Destroy(i); }
};

// What checking a stream changed or warns about, for the log.
std::vector<std::string> Report(const StreamNeeds& needs, const StreamCheck& check) {
  std::vector<std::string> out;
  std::string subjects;
  for (const std::string& s : needs.subjects) subjects += (subjects.empty() ? "" : " ") + s;
  if (check.created) out.push_back("created stream " + needs.name + " on " + subjects);
  for (const std::string& f : check.fixed) out.push_back("fixed: " + f);
  for (const std::string& w : check.warnings) out.push_back("warning: " + w);
  return out;
}

// A checkpoint's position: "<last stream sequence decided> <events stream creation
// time in ns>" (older checkpoints hold the sequence alone). False if `position` is
// not one (a store written by core-mode serve or by `juncture run`).
bool ParsePosition(const std::string& position, uint64_t* seq, int64_t* stream_created_ns) {
  *seq = 0;
  *stream_created_ns = 0;
  size_t space = position.find(' ');
  std::string_view first = std::string_view(position).substr(0, space);
  std::string_view second = space == std::string::npos ? "0" : std::string_view(position).substr(space + 1);
  // Digits only, in range (from_chars reports an overflow instead of throwing).
  auto parse = [](std::string_view s, auto& out) {
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return !s.empty() && ec == std::errc() && end == s.data() + s.size() && s[0] != '-';
  };
  return parse(first, *seq) && parse(second, *stream_created_ns);
}

}  // namespace

Status Server::PrepareStreams(bool events_too) {
  const JetStreamSettings& o = options_.jetstream;
  std::vector<StreamNeeds> needs;
  if (events_too) needs.push_back({o.stream, options_.subjects, 0, true});
  needs.push_back({o.actions_stream, {options_.actions_prefix + ".>"}, kMinActionDedupeNs, false});
  for (const StreamNeeds& n : needs) {
    StreamCheck check;
    if (Status s = EnsureStream(js_, n, o.fix_streams, &check); !s.ok()) return s;
    for (const std::string& line : Report(n, check)) Log(line);
    if (!check.problems.empty()) {
      std::string text;
      for (const std::string& p : check.problems) text += "\n  " + p;
      return FailedPreconditionError(std::move(text));
    }
    if (n.consumer_is_recreated) events_stream_created_ns_ = check.created_ns;
    bool other_stream = checkpoint_stream_created_ns_ != 0 &&
                        check.created_ns != checkpoint_stream_created_ns_;
    if (n.consumer_is_recreated && applied_seq_ > 0 &&
        (check.last_seq < applied_seq_ || other_stream)) {
      // Not the stream the checkpoint was taken on: it was deleted (and perhaps
      // created again) since. Its sequences mean other messages now.
      return FailedPreconditionError(
          "\n  stream " + n.name + " is not the stream of the checkpoint in " + options_.state.dir +
          " (at its sequence " + std::to_string(applied_seq_) + "; the stream now ends at " +
          std::to_string(check.last_seq) +
          (other_stream ? " and was created after the checkpoint's" : "") +
          "): it was deleted or replaced since, so serve cannot tell which of its messages "
          "are decided; restore the stream, or move the state directory away to start again "
          "from the stream's first message");
    }
    if (n.consumer_is_recreated && applied_seq_ > 0 && check.first_seq > applied_seq_ + 1) {
      // The stream's limits deleted messages that were never decided.
      uint64_t lost = check.first_seq - applied_seq_ - 1;
      metrics_->Dropped("stream_limits", lost);
      Log("warning: stream " + n.name + " starts at sequence " + std::to_string(check.first_seq) +
          " but the checkpoint is at " + std::to_string(applied_seq_) + ": up to " +
          std::to_string(lost) + " messages were deleted by the stream's limits before "
          "serve decided them");
    }
  }
  return OkStatus();
}

Status Server::StartJetStream() {
  const JetStreamSettings& o = options_.jetstream;
  acks_ = std::make_unique<ActionAcks>(o.actions_stream, o.ack_timeout_ms, &shard().telemetry());
  // Every action's ack, positive or not, goes to acks_: a refused action is kept and
  // published again, never dropped.
  Result<jsCtx*> js = JetStreamWithAckHandler(conn_->get(), &ActionAcks::OnAck, acks_.get());
  if (!js.ok()) return js.status();
  js_ = *js;
  // Where we are: each shard's last checkpoint, if any. The consumer starts after the
  // lowest; each shard decides only what comes after its own.
  shard_floor_.assign(shards_.size(), 0);
  uint64_t lowest = UINT64_MAX, highest = 0;
  for (size_t i = 0; i < shards_.size(); ++i) {
    const std::string& position = positions_[i];
    uint64_t seq = 0;
    int64_t created_ns = 0;
    if (!position.empty() && !ParsePosition(position, &seq, &created_ns)) {
      return FailedPreconditionError(
          "the state in " + shards_[i]->StateDir() +
          " was not written by serve --jetstream (its position is \"" + position +
          "\": core NATS or juncture run): it says nothing of which stream messages are "
          "decided; give --jetstream a state directory of its own");
    }
    if (created_ns != 0 && checkpoint_stream_created_ns_ != 0 &&
        created_ns != checkpoint_stream_created_ns_) {
      return FailedPreconditionError("the shards' stores in " + options_.state.dir +
                                     " were checkpointed on different streams: they cannot be "
                                     "resumed together");
    }
    if (created_ns != 0) checkpoint_stream_created_ns_ = created_ns;
    shard_floor_[i] = seq;
    lowest = std::min(lowest, seq);
    highest = std::max(highest, seq);
  }
  applied_seq_ = lowest;
  if (applied_seq_ > 0) {
    Log("resumed from the checkpoint at stream sequence " + std::to_string(applied_seq_) +
        (highest > lowest ? " (some shards' checkpoints are at " + std::to_string(highest) +
                                ": they skip what they decided already)"
                          : ""));
  }
  if (Status s = PrepareStreams(true); !s.ok()) {
    return s.WithContext("the JetStream streams do not fit serve's guarantees:");
  }
  // The consumer is a cursor that the checkpoint owns: re-create it at the next
  // sequence (acks beyond the checkpoint must not make us skip messages).
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_DeleteConsumer(js_, o.stream.c_str(), o.durable.c_str(), nullptr, &code);
  if (s != NATS_OK && s != NATS_NOT_FOUND) {
    return UnavailableError("cannot reset consumer " + o.durable + ": " + JsError(s, code));
  }
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = o.stream.c_str();
  FillConsumerConfig(&so.Config);
  const char* filter = options_.subjects.size() == 1 ? options_.subjects[0].c_str() : nullptr;
  code = static_cast<jsErrCode>(0);
  if (!sharded()) {
    // One shard: the consumer is created here and read with the pull protocol on the
    // loop's own thread (pull_consumer.h).
    if (Status made = MakeLoopConsumer(); !made.ok()) return made;
    Result<std::unique_ptr<AckInbox>> inbox =
        AckInbox::Create(conn_->get(), acks_.get(), o.ack_timeout_ms);
    if (!inbox.ok()) return inbox.status();
    ack_inbox_ = *std::move(inbox);
    // The decision log shares the actions' connection: the loop writes it once per
    // round, actions first, and the checkpoint's echo proves both reached the
    // server (pull_consumer.h).
    shard().SetPublisher(std::make_unique<Publisher>(conn_->get(), conn_->get(), js_, acks_.get(),
                                                     options_, &shard().telemetry()));
    shard().publisher().set_ack_inbox(ack_inbox_.get());
    last_commit_ns_ = SteadyNs();
    return OkStatus();  // the loop starts once the receipts are set up (Start)
  }
  natsSubscription* sub = nullptr;
  s = js_PullSubscribe(&sub, js_, filter, o.durable.c_str(), nullptr, &so, &code);
  if (s != NATS_OK) {
    return UnavailableError("cannot create consumer " + o.durable + " on " + o.stream + ": " +
                            JsError(s, code));
  }
  subscriptions_.emplace_back(sub);
  for (auto& s : shards_) {
    // The one NATS.c context and its acks are shared (both are thread-safe).
    s->SetPublisher(std::make_unique<Publisher>(conn_->get(), log_conn_->get(), js_, acks_.get(),
                                                options_, &s->telemetry()));
    s->AddInput();  // the fetch loop's ring into the shard
  }
  last_commit_ns_ = SteadyNs();
  return OkStatus();  // the fetch loop starts once the shards run (Start)
}

void Server::FillConsumerConfig(jsConsumerConfig* c) const {
  const JetStreamSettings& o = options_.jetstream;
  c->Durable = o.durable.c_str();
  c->AckPolicy = js_AckExplicit;
  c->AckWait = int64_t{60} * 1'000'000'000;
  c->MaxAckPending = 1 << 20;
  if (applied_seq_ > 0) {
    c->DeliverPolicy = js_DeliverByStartSequence;
    c->OptStartSeq = applied_seq_ + 1;
  } else {
    c->DeliverPolicy = js_DeliverAll;
  }
}

Status Server::MakeLoopConsumer() {
  const JetStreamSettings& o = options_.jetstream;
  pull_.reset();  // its inboxes: what still comes to them is dropped
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_DeleteConsumer(js_, o.stream.c_str(), o.durable.c_str(), nullptr, &code);
  if (s != NATS_OK && s != NATS_NOT_FOUND) {
    return UnavailableError("cannot reset consumer " + o.durable + ": " + JsError(s, code));
  }
  jsConsumerConfig config;
  jsConsumerConfig_Init(&config);
  FillConsumerConfig(&config);
  config.FilterSubject = options_.subjects.size() == 1 ? options_.subjects[0].c_str() : nullptr;
  jsConsumerInfo* created = nullptr;
  code = static_cast<jsErrCode>(0);
  s = js_AddConsumer(&created, js_, o.stream.c_str(), &config, nullptr, &code);
  jsConsumerInfo_Destroy(created);
  if (s != NATS_OK) {
    return UnavailableError("cannot create consumer " + o.durable + " on " + o.stream + ": " +
                            JsError(s, code));
  }
  Result<std::unique_ptr<PullConsumer>> pull =
      PullConsumer::Create(conn_->get(), o.stream, o.durable, o.fetch_batch, kPullExpiresMs);
  if (!pull.ok()) return pull.status();
  pull_ = *std::move(pull);
  // Consumer sequences start again at 1.
  received_consumer_seq_ = 0;
  last_proof_ns_ = 0;
  proof_used_us_ = 0;
  return OkStatus();
}

void Server::Rewind() {
  Log("deliveries were lost (the consumer's sequence jumped to " +
      std::to_string(gap_seen_at_) + " after " + std::to_string(received_consumer_seq_) +
      "): the consumer starts again after stream sequence " + std::to_string(applied_seq_));
  Status made;
  OffLoop([&] { made = MakeLoopConsumer(); });
  if (!made.ok()) {
    Log("cannot start the consumer again (will retry): " + made.message());
    return;  // rewinding_ stays: tried again next round
  }
  rewinding_ = false;
}

void Server::RewindFetch() {
  Log("deliveries were lost (the consumer's sequence jumped to " +
      std::to_string(gap_seen_at_) + " after " + std::to_string(received_consumer_seq_) +
      "): the consumer starts again after stream sequence " + std::to_string(applied_seq_));
  // What was handed out is decided, checkpointed and acked first: its acks need the
  // subscription it came from.
  if (Status s = Commit(); !s.ok()) {
    Pause(s.message());
    return;  // rewinding_ stays: tried again once a checkpoint succeeds
  }
  const JetStreamSettings& o = options_.jetstream;
  subscriptions_.front().reset();
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_DeleteConsumer(js_, o.stream.c_str(), o.durable.c_str(), nullptr, &code);
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = o.stream.c_str();
  FillConsumerConfig(&so.Config);
  const char* filter = options_.subjects.size() == 1 ? options_.subjects[0].c_str() : nullptr;
  natsSubscription* sub = nullptr;
  code = static_cast<jsErrCode>(0);
  if (s == NATS_OK || s == NATS_NOT_FOUND) {
    s = js_PullSubscribe(&sub, js_, filter, o.durable.c_str(), nullptr, &so, &code);
  }
  if (s != NATS_OK) {
    Log("cannot start the consumer again (will retry): " + JsError(s, code));
    return;
  }
  subscriptions_.front().reset(sub);
  received_consumer_seq_ = 0;  // a new consumer numbers from 1
  rewinding_ = false;
}

void Server::FetchLoop() {
  const JetStreamSettings& o = options_.jetstream;
  bool warned = false;
  while (!stopping_) {
    if (paused_) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait_for(lock, std::chrono::milliseconds(retry_ms_), [this] { return stopping_.load(); });
      }
      if (!stopping_) Resume();
      continue;
    }
    if (rewinding_) {
      RewindFetch();
      if (rewinding_) {  // not yet: after a pause, or a second
        std::this_thread::sleep_for(std::chrono::milliseconds(paused_ ? 0 : 1000));
        continue;
      }
    }
    natsMsgList list{};
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus s = FetchBatch(subscriptions_.front().get(), o.fetch_batch, FetchWaitMs(), &list,
                              &code);
    if (s == NATS_OK) {
      warned = false;
      for (int i = 0; i < list.Count; ++i) {
        HandleStreamMessage(list.Msgs[i]);
        list.Msgs[i] = nullptr;  // now in pending_acks_
      }
      natsMsgList_Destroy(&list);
    } else if (s != NATS_TIMEOUT) {
      if (!warned) Log("fetch failed (will retry): " + JsError(s, code));
      warned = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    FireDueTimers();
    bool due = SteadyNs() - last_commit_ns_ >= o.checkpoint_interval_ms * kNsPerMs;
    if (due && (!pending_acks_.empty() || state_changed_ || acks_->refused() > 0)) {
      if (Status s = Commit(); !s.ok()) Pause(s.message());
    }
  }
}

// One shard: the thread that drives loop_ and does what FetchLoop does for several:
// it reads the sockets, takes the messages the open pull request brought, decides
// them, fires the timers the consumer's position allows, checkpoints, and writes
// what all this published (actions, decision log, acks, the next pull request) in
// one write (nats_loop.h, pull_consumer.h).
void Server::JetStreamLoop() {
  loop_->BindToThisThread();
  on_loop_ = true;
  const JetStreamSettings& o = options_.jetstream;
  const int64_t interval_ns = o.checkpoint_interval_ms * kNsPerMs;
  bool warned = false;
  int64_t resume_at_ns = 0;
  int64_t wait_us = 0;
  while (!stopping_) {
    loop_->Poll(wait_us);
    int64_t now_ns = SteadyNs();
    pull_->TakeAnswers();
    ack_inbox_->TakeAcks(now_ns);
    if (paused_) {
      // Nothing taken, nothing fired; the loop keeps reading (the refused actions'
      // acks) until the next try, which needs blocking calls: off the loop.
      if (resume_at_ns == 0) resume_at_ns = now_ns + retry_ms_ * kNsPerMs;
      if (now_ns >= resume_at_ns) {
        resume_at_ns = 0;
        OffLoop([this] { Resume(); });
      }
      loop_->Flush();
      wait_us = paused_ ? std::max<int64_t>((resume_at_ns - SteadyNs()) / 1000, 0) : 0;
      if (resume_at_ns == 0) wait_us = 0;
      continue;
    }
    const bool more = pull_->Take(kLoopBatch, &batch_, now_ns);
    const size_t taken = batch_.size();
    if (taken > 0) metrics_->Round();
    for (natsMsg* m : batch_) HandleStreamMessage(m);
    batch_.clear();
    if (rewinding_) Rewind();
    FireDueTimersOnLoop();
    now_ns = SteadyNs();
    // The checkpoint being written, once it is: what it covers is acked.
    if (Status s = FinishCheckpoint(/*wait=*/false); !s.ok()) Pause(s.message());
    const bool dirty = !pending_acks_.empty() || state_changed_ || acks_->refused() > 0;
    if (!paused_ && !checkpoint_started_ && dirty && now_ns - last_commit_ns_ >= interval_ns) {
      if (Status s = StartCheckpoint(); !s.ok()) Pause(s.message());
    }
    // More asked for as soon as what was taken above lets it: it leaves with this
    // round's write.
    Status asked = paused_ ? OkStatus() : pull_->Ask(SteadyNs());
    std::string problem = asked.ok() ? pull_->TakeProblem() : asked.message();
    if (!problem.empty()) {
      if (!warned) Log("fetch failed (will retry): " + problem);
      warned = true;
    } else if (taken > 0) {
      warned = false;  // messages flow again: the next problem is logged
    }
    loop_->Flush();
    if (more) {
      wait_us = 0;
      continue;
    }
    if (o.linger_us > 0 && taken > 0 && taken < kLingerBelow) {
      // A light round: the messages that come meanwhile are read together.
      std::this_thread::sleep_for(std::chrono::microseconds(o.linger_us));
      wait_us = 0;
      continue;
    }
    // Until the next thing to do: a checkpoint, a timer, a lost request's deadline.
    int64_t until_ns = now_ns + kMaxFetchWaitMs * kNsPerMs;
    // (A checkpoint being written wakes the loop when it is: StartCheckpoint.)
    if (dirty && !checkpoint_started_) until_ns = std::min(until_ns, last_commit_ns_ + interval_ns);
    if (int64_t lost = pull_->request_deadline_ns(); lost != 0) until_ns = std::min(until_ns, lost);
    int64_t next = NextTimer();
    if (next != INT64_MAX) {
      int64_t timer_ns = now_ns + (next + kTimerLagUs - WallUs()) * 1000;
      until_ns = std::min(until_ns, std::max(timer_ns, last_proof_ns_ + kProofIntervalNs));
    }
    wait_us = std::max<int64_t>((until_ns - SteadyNs()) / 1000, 0);
  }
  on_loop_ = false;
}

void Server::OffLoop(const std::function<void()>& work) {
  on_loop_ = false;
  StartIo();
  work();
  StopIo();
  loop_->BindToThisThread();
  on_loop_ = true;
}

void Server::StartIo() {
  if (io_thread_.joinable()) return;
  io_stop_.store(false, std::memory_order_release);
  io_thread_ = std::thread([this] { IoLoop(); });
}

void Server::IoLoop() {
  loop_->BindToThisThread();
  while (!io_stop_.load(std::memory_order_acquire)) {
    // Writes what was published (first: what the thread that started it published
    // while it still owned the loop, which woke nobody); reads what came (replies,
    // the actions' acks) for the threads that wait for it.
    loop_->Flush();
    loop_->Poll(100'000);
  }
}

void Server::StopIo() {
  if (!io_thread_.joinable()) return;
  // What was published last (the final acks) leaves before the loop stops. Not while
  // a connection is down: a flush would wait its whole 2 s for a PONG that cannot
  // come (each retry of a paused serve paid 4 s); NATS.c keeps what is buffered and
  // sends it once it has reconnected, from the loop's thread.
  auto flush = [](NatsConnection* c) {
    if (c != nullptr && natsConnection_Status(c->get()) == NATS_CONN_STATUS_CONNECTED) {
      natsConnection_FlushTimeout(c->get(), 2000);
    }
  };
  flush(conn_.get());
  flush(log_conn_.get());
  io_stop_.store(true, std::memory_order_release);
  loop_->Wake();
  io_thread_.join();
}

int64_t Server::NextTimer() {
  if (sharded()) {
    int64_t next = INT64_MAX;
    for (auto& s : shards_) next = std::min(next, s->next_timer());
    return next;
  }
  std::lock_guard<std::mutex> lock(mu_);
  return shard().engine().next_timer();
}

// Up to 100 ms, but no longer than until the next timer is due (at least 10 ms).
int64_t Server::FetchWaitMs() {
  int64_t next = NextTimer();
  if (next == INT64_MAX) return kMaxFetchWaitMs;
  int64_t ms = (next + kTimerLagUs - WallUs()) / 1000;
  return std::clamp<int64_t>(ms, kMinFetchWaitMs, kMaxFetchWaitMs);
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
  const uint64_t delivery = meta->Sequence.Consumer;
  jsMsgMetaData_Destroy(meta);
  // The server numbers its deliveries to the consumer 1, 2, 3...; a jump means
  // deliveries that never arrived (written into a connection that dropped). They
  // would come again only after the ack wait, behind messages decided since, so the
  // consumer starts again after the last message decided (Rewind, RewindFetch). What
  // comes until then is dropped (delivered again after the rewind).
  if (rewinding_ || delivery > received_consumer_seq_ + 1) {
    if (!rewinding_) gap_seen_at_ = delivery;
    rewinding_ = true;
    DestroyMessages({&msg, 1});
    return;
  }
  received_consumer_seq_ = std::max(received_consumer_seq_, delivery);
  std::string_view data(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
  if (!sharded()) {
    if (seq > applied_seq_) Decide(data, stored_us, receipt_ns);
  } else {
    // By the customer's partition, as on core NATS (none: shard 0, a dead letter).
    thread_local std::string customer;  // the fetch loop's, reused
    size_t i = 0;
    if (runtime::CustomerOfMessage(data, &customer)) {
      i = runtime::PartitionOf(customer, options_.partitions) % shards_.size();
    }
    if (seq > std::max(applied_seq_, shard_floor_[i])) {
      shards_[i]->Enqueue(0, msg, receipt_ns, stored_us);
    }
  }
  applied_seq_ = std::max(applied_seq_, seq);
  pending_acks_.push_back(msg);  // a redelivery of a decided message is acked, not decided
}

void Server::FireDueTimers() {
  int64_t due = NextTimer();
  if (due > WallUs() - kTimerLagUs) return;
  int64_t as_of = 0;
  if (!StreamDecidedAsOf(&as_of)) return;
  FireTimersAsOf(as_of - kTimerLagUs);
}

void Server::FireDueTimersOnLoop() {
  if (rewinding_) return;  // deliveries were lost: nothing proves anything
  int64_t due = NextTimer();
  if (due > WallUs() - kTimerLagUs) return;
  // The latest answer proves the stream decided as of its question if nothing was
  // pending then and nothing delivered beyond what was decided since (the answer
  // came after those messages on the same connection, and they were taken first).
  const PullConsumer::Position& p = pull_->position();
  if (pull_->has_position() && p.asked_wall_us > proof_used_us_ && p.num_pending == 0 &&
      p.delivered_seq <= received_consumer_seq_) {
    proof_used_us_ = p.asked_wall_us;
    if (due <= p.asked_wall_us - kTimerLagUs) {
      FireTimersAsOf(p.asked_wall_us - kTimerLagUs);
      return;
    }
  }
  // Otherwise ask (again), at most every kProofIntervalNs, one question at a time.
  int64_t now_ns = SteadyNs();
  if (now_ns - last_proof_ns_ < kProofIntervalNs) return;
  if (pull_->answered() < pull_->asked() && now_ns - last_proof_ns_ < 1000 * kNsPerMs) return;
  last_proof_ns_ = now_ns;
  (void)pull_->AskPosition(WallUs());  // a failed publish: asked again later
}

void Server::FireTimersAsOf(int64_t as_of) {
  if (sharded()) {
    // Each shard fires them after the messages it was handed before the proof.
    for (auto& s : shards_) s->EnqueueFireTimers(as_of);
    state_changed_ = true;
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  Shard& one = shard();
  one.engine().AdvanceTo(as_of, one.publisher());
  one.publisher().FlushLog();
  one.telemetry().State(one.engine().customers(), one.engine().pending_timers(),
                        one.engine().packed().customers);
  state_changed_ = true;  // timers fired: checkpoint, even with no message to ack
}

// True if, at the wall-clock time *wall_us (taken before asking), every message of
// the stream for this consumer had been delivered and decided: the server answers
// with no message pending and nothing delivered beyond what serve received (and a
// received message is decided before the next question). A timeout,
// a stalled server or a message still in flight all answer false. (Not a fetch that
// timed out: a stalled server times out fetches while older messages wait in it.)
bool Server::StreamDecidedAsOf(int64_t* wall_us) {
  if (rewinding_) return false;  // deliveries were lost: nothing proves anything
  int64_t now_ns = SteadyNs();
  if (now_ns - last_proof_ns_ < kProofIntervalNs) return false;
  last_proof_ns_ = now_ns;
  const JetStreamSettings& o = options_.jetstream;
  int64_t asked_at = WallUs();
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = 1000;
  jsConsumerInfo* raw = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetConsumerInfo(&raw, js_, o.stream.c_str(), o.durable.c_str(), &jo, &code);
  std::unique_ptr<jsConsumerInfo, ConsumerInfoDeleter> info(raw);
  if (s != NATS_OK) return false;
  // Delivered.Consumer counts every delivery to this consumer; the stream sequence
  // would not do (it moves past messages the consumer's filter skips).
  if (info->NumPending != 0 || info->Delivered.Consumer > received_consumer_seq_) return false;
  *wall_us = asked_at;
  return true;
}

void Server::ParkShards() {
  if (!sharded()) return;
  // All at once: each finishes what it was handed in parallel.
  for (auto& s : shards_) s->Park();
}

void Server::UnparkShards() {
  if (!sharded()) return;
  for (auto& s : shards_) s->Unpark();
}

Status Server::Commit() {
  if (Status s = FinishCheckpoint(/*wait=*/true); !s.ok()) return s;
  last_commit_ns_ = SteadyNs();
  Status committed;
  if (sharded()) {
    ParkShards();
    committed = CommitParked();
    UnparkShards();
  } else {
    std::lock_guard<std::mutex> lock(mu_);
    committed = CommitParked();
  }
  if (!committed.ok()) return committed;
  AckAll(pending_acks_);
  return OkStatus();
}

void Server::AckAll(std::vector<natsMsg*>& messages) {
  for (natsMsg* m : messages) {
    // A lost ack only means a redelivery, which is skipped.
    if (pull_) {
      pull_->Ack(m);
    } else {
      natsMsg_Ack(m, nullptr);
    }
  }
  DestroyMessages(messages);  // here, not by NATS.c's collector thread (nats_free.h)
  messages.clear();
}

Status Server::SettleForCommit(bool* nothing) {
  *nothing = false;
  // Every action acked or refused (a missing ack becomes a refusal after
  // --ack-timeout), the decision logs flushed.
  uint64_t unbuilt = 0;
  for (auto& s : shards_) {
    const int64_t timeout_ms = options_.jetstream.ack_timeout_ms + 1000;
    if (Status settled = on_loop_ ? SettleOnLoop(timeout_ms) : s->publisher().Settle(timeout_ms);
        !settled.ok()) {
      metrics_->Checkpoint(false);
      return settled;
    }
    unbuilt += s->publisher().unbuilt_actions();
  }
  size_t refused = acks_->refused();
  metrics_->ActionsUnstored(refused);
  if (refused > 0) {
    metrics_->Checkpoint(false);
    return UnavailableError(acks_->Describe());
  }
  if (unbuilt > 0) {
    metrics_->Checkpoint(false);
    return InternalError(std::to_string(unbuilt) +
                         " action(s) could not even be built (out of memory?); restart serve "
                         "to decide them again from the last checkpoint");
  }
  *nothing = pending_acks_.empty() && !state_changed_;
  return OkStatus();
}

std::string Server::CommitPosition(size_t i) const {
  // Each shard's store holds the sequence of every message it decided (or was not
  // its own) up to applied_seq_.
  std::string created = std::to_string(events_stream_created_ns_);
  created.insert(created.begin(), ' ');  // (not " " + ...: GCC 12's -Wrestrict misfires)
  return std::to_string(std::max(applied_seq_, shard_floor_[i])) + created;
}

Status Server::CommitParked() {
  bool nothing = false;
  if (Status s = SettleForCommit(&nothing); !s.ok() || nothing) return s;
  // On the disk (fsync) before anything is acked.
  for (size_t i = 0; i < shards_.size(); ++i) {
    if (Status s = shards_[i]->CommitState(CommitPosition(i), true); !s.ok()) {
      return s;  // the changes stay with the store, for the next try
    }
  }
  state_changed_ = false;
  return OkStatus();
}

Status Server::StartCheckpoint() {
  last_commit_ns_ = SteadyNs();
  std::lock_guard<std::mutex> lock(mu_);
  bool nothing = false;
  if (Status s = SettleForCommit(&nothing); !s.ok() || nothing) return s;
  if (!shard().store()) {  // --memory-state: nothing to write
    state_changed_ = false;
    AckAll(pending_acks_);
    return OkStatus();
  }
  // The messages decided from now on go to the next checkpoint.
  shard().StartCommitState(CommitPosition(0), [this] { loop_->Wake(); });
  state_changed_ = false;
  writing_acks_.swap(pending_acks_);
  checkpoint_started_ = true;
  return OkStatus();
}

Status Server::FinishCheckpoint(bool wait) {
  if (!checkpoint_started_) return OkStatus();
  std::optional<Status> written;
  {
    std::lock_guard<std::mutex> lock(mu_);
    written = shard().TakeCommitState(wait);
  }
  if (!written) return OkStatus();
  checkpoint_started_ = false;
  if (!written->ok()) {
    // The store keeps the changes for the next write; the messages wait with them.
    writing_acks_.insert(writing_acks_.end(), pending_acks_.begin(), pending_acks_.end());
    pending_acks_.swap(writing_acks_);
    writing_acks_.clear();
    state_changed_ = true;
    return *written;
  }
  AckAll(writing_acks_);
  return OkStatus();
}

Status Server::SettleOnLoop(int64_t timeout_ms) {
  Publisher& p = shard().publisher();
  p.FlushLog();
  p.DestroyRetired();
  // Sent after everything published so far: its return proves that the server has
  // the decision log too (pull_consumer.h).
  Result<uint64_t> echo = pull_->Echo();
  if (!echo.ok()) return echo.status();
  const uint64_t first_echo = *echo;
  int64_t echoed_at_ns = SteadyNs();
  const int64_t deadline_ns = echoed_at_ns + timeout_ms * kNsPerMs;
  for (;;) {
    loop_->Flush();
    pull_->TakeAnswers();
    ack_inbox_->TakeAcks(SteadyNs());
    const bool acked = acks_->answers() >= p.stream_handed();
    // Any echo sent since the first proves as much (one may be lost in a reconnect:
    // sent again every second).
    if (acked && pull_->echoed() >= first_echo) return OkStatus();
    if (SteadyNs() - echoed_at_ns >= 1000 * kNsPerMs && pull_->Echo().ok()) {
      echoed_at_ns = SteadyNs();
    }
    if (SteadyNs() >= deadline_ns) {
      return UnavailableError(acked ? "the server did not answer within " +
                                          std::to_string(timeout_ms) + " ms"
                                    : "waiting for the actions stream's acknowledgements: " +
                                          std::string(natsStatus_GetText(NATS_TIMEOUT)));
    }
    loop_->Poll(1000);
  }
}

void Server::Pause(const std::string& why) {
  paused_ = true;
  retry_ms_ = kFirstRetryMs;
  metrics_->Paused(true);
  Log("checkpoint failed: " + why + "; no new message is taken and none is acked until a "
      "checkpoint succeeds (retrying)");
}

bool Server::Resume() {
  std::vector<Refusal> refused = acks_->Take();
  if (!refused.empty()) {
    // The stream may be gone (a publish to a subject without a stream is simply not
    // answered) or changed: check it again, and create it if it was deleted, before
    // publishing into it.
    if (Status s = PrepareStreams(false); !s.ok()) {
      acks_->Restore(std::move(refused));
      Log("the actions stream cannot take actions:" + s.message());
      retry_ms_ = std::min(retry_ms_ * 2, kMaxRetryMs);
      return false;
    }
    if (sharded()) {
      ParkShards();  // shard 0's publisher is its thread's
      shard().publisher().Republish(std::move(refused));
      UnparkShards();
    } else {
      std::lock_guard<std::mutex> lock(mu_);
      shard().publisher().Republish(std::move(refused));
    }
  }
  if (Status s = Commit(); !s.ok()) {
    Log("checkpoint failed again: " + s.message());
    retry_ms_ = std::min(retry_ms_ * 2, kMaxRetryMs);
    return false;
  }
  paused_ = false;
  metrics_->Paused(false);
  Log("checkpoint written: taking messages again");
  return true;
}

}  // namespace juncture::serve
