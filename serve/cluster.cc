#include "cluster.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "shard.h"
#include "stop_signals.h"
#include "streams.h"
#include "telemetry.h"
#include "juncture/runtime/partition.h"

namespace juncture::serve {

namespace {

constexpr int64_t kNsPerMs = 1'000'000;
// As in JetStream mode (jetstream_source.cc): timers fire this far behind the time
// at which the stream proved every earlier message decided. At most one proof per
// partition per kProofIntervalNs: each is a request to JetStream, and an instance
// asks for each of its partitions with a timer due (JetStream mode: every 20 ms, for
// its one stream).
constexpr int64_t kTimerLagUs = 50'000;
constexpr int64_t kProofIntervalNs = 100 * kNsPerMs;
// Messages received and not yet decided, over all partitions; NATS.c's delivery
// threads wait beyond this (and the ordered consumers' flow control holds the rest
// in the stream).
constexpr size_t kMaxQueued = 65'536;
// A partition that failed to open after this long: JetStream is slow to answer, and
// the round opens no more partitions.
constexpr int64_t kSlowOpenNs = 1000 * kNsPerMs;
// Start: JetStream requests retried once a second this many times.
constexpr int kStartAttempts = 30;
// A lease round every sixth of the TTL (a lease counts as held for three quarters).
constexpr int64_t kRoundsPerTtl = 6;
// The heartbeat of a partition's events consumer (NATS.c's ordered consumer): see Open.
constexpr int64_t kEventsHeartbeatNs = 1000 * kNsPerMs;

bool IsNameToken(const std::string& s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
  });
}

// The host name and process id, as a subject token.
std::string DefaultInstance() {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  std::string out;
  for (char c : std::string(host)) out += IsNameToken(std::string(1, c)) ? c : '-';
  return (out.empty() ? "serve" : out) + "-" + std::to_string(getpid());
}

std::string PartitionList(const std::vector<uint32_t>& partitions) {
  std::string out;
  for (uint32_t p : partitions) {
    if (!out.empty()) out += ',';
    out += std::to_string(p);  // (not "," + ...: GCC 12's -Wrestrict misfires on it)
  }
  return out;
}

}  // namespace

ClusterMember::ClusterMember(const ServeOptions& options, const ProgramLoader& loader,
                             const ProgramOptimizer& optimizer)
    : options_(options), loader_(loader), optimizer_(optimizer), metrics_(std::make_unique<Telemetry>()) {}

ClusterMember::~ClusterMember() {
  stopping_ = true;
  queued_cv_.notify_all();
  space_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  for (auto& [index, p] : partitions_) p->feed->live = false;
  partitions_.clear();  // unsubscribes
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    for (Queued& q : queue_) natsMsg_Destroy(q.msg);
    queue_.clear();
  }
  leases_.reset();
  for (jsCtx* js : {js_, state_js_}) {
    if (js == nullptr) continue;
    jsPubOptions o;
    jsPubOptions_Init(&o);
    o.MaxWait = 5000;
    js_PublishAsyncComplete(js, &o);
    jsCtx_Destroy(js);
  }
  conn_.reset();
  log_conn_.reset();
  publisher_.reset();
}

void ClusterMember::Log(const std::string& line) const { ServeLog(line); }

Status ClusterMember::CheckOptions() {
  const ClusterSettings& c = options_.cluster;
  if (!IsNameToken(c.name)) {
    return InvalidArgumentError("--cluster: \"" + c.name +
                                "\" is not a cluster name (letters, digits, '-', '_')");
  }
  if (!c.instance.empty() && !IsNameToken(c.instance)) {
    return InvalidArgumentError("--instance: \"" + c.instance +
                                "\" is not an instance id (letters, digits, '-', '_')");
  }
  if (options_.shards != 1) {
    return InvalidArgumentError(
        "--shards is not for a cluster: each instance runs one engine per partition it holds");
  }
  if (c.lease_ttl_ms < 1000) {
    return InvalidArgumentError("--lease-ttl-ms must be at least 1000");
  }
  if (c.replicas < 1 || c.replicas > 5) {
    return InvalidArgumentError("--replicas must be between 1 and 5");
  }
  const std::vector<std::string>& subjects = options_.subjects;
  if (subjects.size() != 1 || subjects[0].size() < 3 ||
      subjects[0].compare(subjects[0].size() - 2, 2, ".>") != 0) {
    return InvalidArgumentError(
        "--cluster consumes one subject tree, PREFIX.> (each partition's messages on "
        "PREFIX.p.<partition>); give one --subject of that form");
  }
  events_prefix_ = subjects[0].substr(0, subjects[0].size() - 2);
  return OkStatus();
}

Status ClusterMember::PrepareStreams(bool* misfit) {
  *misfit = false;
  const JetStreamSettings& o = options_.jetstream;
  const int replicas = options_.cluster.replicas;
  StreamNeeds events{o.stream, options_.subjects, 0, true, replicas};
  StreamNeeds actions{o.actions_stream, {options_.actions_prefix + ".>"}, kMinActionDedupeNs, false,
                      replicas};
  for (const StreamNeeds& n : {events, actions}) {
    StreamCheck check;
    if (Status s = EnsureStream(js_, n, o.fix_streams, &check); !s.ok()) return s;
    if (check.created) Log("created stream " + n.name);
    if (n.consumer_is_recreated) events_created_ns_ = check.created_ns;
    for (const std::string& f : check.fixed) Log("fixed: " + f);
    for (const std::string& w : check.warnings) Log("warning: " + w);
    if (!check.problems.empty()) {
      *misfit = true;
      std::string text = "the JetStream streams do not fit serve's guarantees:";
      for (const std::string& p : check.problems) text += "\n  " + p;
      return FailedPreconditionError(std::move(text));
    }
  }
  return OkStatus();  // each partition's changelog stream is created when it is first opened
}

Status ClusterMember::Start() {
  if (Status s = CheckOptions(); !s.ok()) return s;
  if (Status s = metrics_->Listen(options_); !s.ok()) return s;  // this instance's decisions only
  Result<runtime::CompiledProgram> program = loader_();
  if (!program.ok()) return program.status().WithContext("the program does not compile:\n");
  program_ = *std::move(program);
  metrics_->ProgramInfo(*program_->spec, program_->evaluator->name());
  NatsConnection::Callbacks callbacks =
      ReportingCallbacks(*metrics_, [this] { return conn_->ConnectedUrl(); });
  Result<std::unique_ptr<NatsConnection>> conn =
      NatsConnection::Connect(options_.nats, true, options_.nats.name, std::move(callbacks));
  if (!conn.ok()) return conn.status();
  conn_ = *std::move(conn);
  Result<std::unique_ptr<NatsConnection>> log_conn =
      NatsConnection::Connect(options_.nats, false, options_.nats.name + "-log", {});
  if (!log_conn.ok()) return log_conn.status();
  log_conn_ = *std::move(log_conn);

  lane_ = &metrics_->AddShard();
  acks_ = std::make_unique<ActionAcks>(options_.jetstream.actions_stream,
                                       options_.jetstream.ack_timeout_ms, lane_);
  Result<jsCtx*> js = JetStreamWithAckHandler(conn_->get(), &ActionAcks::OnAck, acks_.get());
  if (!js.ok()) return js.status();
  js_ = *js;
  js = JetStreamWithAckHandler(conn_->get(), &ChangelogAcks::OnAck, &changelog_acks_);
  if (!js.ok()) return js.status();
  state_js_ = *js;
  // A cluster that just started elects its JetStream leaders first, and instances
  // started together race to create the same streams: retried for a while.
  bool misfit = false;
  for (int attempt = 0;; ++attempt) {
    Status prepared = PrepareStreams(&misfit);
    if (prepared.ok()) break;
    if (misfit || attempt == kStartAttempts) return prepared;
    if (attempt == 0) {
      Log("JetStream is not ready (" + prepared.message() + "); retrying for " +
          std::to_string(kStartAttempts) + " s");
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }

  LeaseOptions lo;
  lo.bucket = "juncture-leases-" + options_.cluster.name;
  lo.instance = options_.cluster.instance.empty() ? DefaultInstance() : options_.cluster.instance;
  lo.partitions = options_.partitions;
  lo.ttl_ms = options_.cluster.lease_ttl_ms;
  lo.replicas = options_.cluster.replicas;
  for (int attempt = 0; !leases_; ++attempt) {
    Result<std::unique_ptr<PartitionLeases>> leases = PartitionLeases::Open(js_, lo);
    if (leases.ok()) {
      leases_ = *std::move(leases);
    } else if (attempt == kStartAttempts) {
      return leases.status();
    } else {
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  }
  publisher_ = std::make_unique<Publisher>(conn_->get(), log_conn_->get(), js_, acks_.get(), options_,
                                           lane_);
  Log("instance " + lo.instance + " of cluster " + options_.cluster.name + ": deciding on " +
      events_prefix_ + ".p.<partition> (" + std::to_string(options_.partitions) +
      " partitions) from " + conn_->ConnectedUrl() + ", stream " + options_.jetstream.stream +
      ", state in streams " + ChangelogStream(options_.cluster.name, 0) + "..." +
      std::to_string(options_.partitions - 1) + ", leases in " + lo.bucket +
      "; " + std::to_string(program_->spec->journeys.size()) + " journeys on the " +
      program_->evaluator->name() +
      metrics_->Endpoints());
  worker_ = std::thread([this] { Loop(); });
  return OkStatus();
}

// ---------------------------------------------------------------------------
// The worker

void ClusterMember::Loop() {
  const int64_t round_ns = RoundNs();
  const int64_t commit_ns = options_.jetstream.checkpoint_interval_ms * kNsPerMs;
  int64_t next_round = 0;
  int64_t next_commit = SteadyNs() + commit_ns;
  while (!stopping_) {
    ApplyReload();
    if (SteadyNs() >= next_round) {
      Round();
      next_round = SteadyNs() + round_ns;
    }
    DecideQueued();
    for (auto& entry : partitions_) FireDueTimers(*entry.second);
    ReportState();
    if (SteadyNs() >= next_commit) {
      Commit();
      next_commit = SteadyNs() + commit_ns;
    }
    // Until the next round, commit or timer, at least 10 ms and at most 100 ms apart.
    int64_t next_ns = std::min(next_round, next_commit);
    int64_t wait_ms = std::clamp<int64_t>((next_ns - SteadyNs()) / kNsPerMs, 10, 100);
    for (auto& entry : partitions_) {
      int64_t due = entry.second->engine->next_timer();
      if (due != INT64_MAX) {
        wait_ms = std::min(wait_ms, std::max<int64_t>(10, (due + kTimerLagUs - WallUs()) / 1000));
      }
    }
    WaitForWork(wait_ms);
  }
  // Stopping: no new message; decide what was received, write it all, hand over.
  for (auto& entry : partitions_) {
    entry.second->feed->live = false;
    natsSubscription_Unsubscribe(entry.second->sub.get());
  }
  DecideQueued();
  // Deciding the last messages can take long enough (a backlog, a loaded machine) for
  // the leases to run out locally: renew them before the last write, so that a slow
  // stop does not drop, unwritten, partitions it still holds.
  Round();
  clean_stop_ = Commit();
  for (auto& entry : partitions_) entry.second->sub.reset();
  partitions_.clear();
  leases_->ReleaseAll();
  metrics_->ClusterPartitions(0);
}

void ClusterMember::WaitForWork(int64_t ms) {
  std::unique_lock<std::mutex> lock(queue_mu_);
  queued_cv_.wait_for(lock, std::chrono::milliseconds(ms),
                      [this] { return !queue_.empty() || stopping_.load(); });
}

int64_t ClusterMember::RoundNs() const {
  return options_.cluster.lease_ttl_ms * kNsPerMs / kRoundsPerTtl;
}

void ClusterMember::Round() {
  const int64_t round_started = SteadyNs();
  LeaseRound round;
  if (Status s = leases_->Renew(&round); !s.ok()) Log("lease round incomplete: " + s.message());
  for (uint32_t p : round.lost) Drop(p, "its lease was taken by another instance");
  for (uint32_t p : round.release) {
    // Another instance's share now: write what is decided, stop, then hand it over.
    if (partitions_.count(p) > 0) Commit(p);
    Drop(p, "handed over to another instance");
    leases_->Release(p);
  }
  std::vector<uint32_t> held = leases_->held();
  std::vector<uint32_t> open;
  for (const auto& entry : partitions_) open.push_back(entry.first);
  for (uint32_t p : open) {
    if (!std::binary_search(held.begin(), held.end(), p)) Drop(p, "its lease ran out");
  }
  std::vector<uint32_t> opened;
  restored_customers_ = 0;
  restore_ns_ = 0;
  size_t tried = 0, left = 0;
  for (uint32_t p : held) {
    if (partitions_.count(p) > 0) continue;
    if (stopping_) break;
    // Opening takes time (creating a changelog stream of three replicas: a few hundred
    // ms each): after a round's worth, the rest wait for the next round, so that the
    // leases are renewed before they run out (and a start with many partitions does
    // not lose them all to the bucket's TTL and begin again).
    if (tried > 0 && SteadyNs() - round_started > RoundNs()) {
      ++left;
      continue;
    }
    ++tried;
    const int64_t started = SteadyNs();
    Status s = Open(p);
    if (s.ok()) {
      opened.push_back(p);
      open_errors_.erase(p);
      continue;
    }
    // Said once per reason: a partition refused for good would say it every round.
    if (open_errors_[p] != s.message()) {
      Log("partition " + std::to_string(p) +
          ": cannot open (the next round tries again): " + s.message());
      open_errors_[p] = s.message();
    }
    // A failure that took long is JetStream not answering (a leader election after a
    // node loss, say): the others would wait as long each; the next round tries again.
    if (SteadyNs() - started > kSlowOpenNs) break;
  }
  if (!opened.empty()) {
    Log("now deciding for partitions " + PartitionList(opened) + ": " +
        std::to_string(restored_customers_) + " customers restored from the changelog in " +
        std::to_string(restore_ns_ / kNsPerMs) + " ms (" + std::to_string(partitions_.size()) +
        " partitions held; live instances: " + std::to_string(round.instances.size()) +
        (left > 0 ? "; " + std::to_string(left) + " more to open at the next rounds" : "") + ")");
  }
  metrics_->ClusterPartitions(partitions_.size());
}

Status ClusterMember::Open(uint32_t index) {
  int64_t started = SteadyNs();
  auto p = std::make_unique<Partition>();
  p->index = index;
  p->engine = std::make_unique<runtime::Engine>(*program_, options_.limits);
  p->changelog = std::make_unique<PartitionChangelog>(state_js_, &changelog_acks_,
                                                      options_.cluster.name, index,
                                                      options_.cluster.replicas);
  Result<ChangelogPosition> restored = p->changelog->Restore(*p->engine, events_created_ns_);
  if (!restored.ok()) return restored.status();
  const ChangelogPosition position = *restored;
  p->engine->TrackChanges(true);
  p->applied_seq = p->committed_seq = position.input_seq;
  feeds_.push_back(std::make_unique<Feed>());
  p->feed = feeds_.back().get();
  p->feed->member = this;
  p->feed->partition = index;
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = options_.jetstream.stream.c_str();
  so.Ordered = true;
  // Its consumer has one replica, on one nats-server node: if that node dies, NATS.c
  // creates it again once two heartbeat intervals pass without a message (5 s by
  // default, so 10-20 s of silence); at 1 s the partition resumes in 2-4 s.
  so.Config.Heartbeat = kEventsHeartbeatNs;
  if (position.input_seq > 0) {
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = position.input_seq + 1;
  } else {
    so.Config.DeliverPolicy = js_DeliverAll;
  }
  const std::string subject = events_prefix_ + ".p." + std::to_string(index);
  natsSubscription* sub = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  jsOptions create = OrderedConsumerCreateOptions();
  natsStatus s = js_Subscribe(&sub, js_, subject.c_str(), &ClusterMember::OnMessage, p->feed,
                              &create, &so, &code);
  if (s != NATS_OK) {
    p->feed->live = false;
    return UnavailableError("cannot consume " + subject + ": " + JsError(s, code));
  }
  p->sub.reset(sub);
  restored_customers_ += p->changelog->customers_restored();
  for (const std::string& subject : p->changelog->suspect_subjects()) {
    Log("warning: partition " + std::to_string(index) + ": " + subject +
        " holds no version that is state (both kept versions are stray writes): the "
        "version before them, if there was one, is lost; that customer is restored "
        "without it");
  }
  restore_ns_ += SteadyNs() - started;
  partitions_[index] = std::move(p);
  return OkStatus();
}

void ClusterMember::Drop(uint32_t index, const std::string& why) {
  auto it = partitions_.find(index);
  if (it == partitions_.end()) return;
  Partition& p = *it->second;
  p.feed->live = false;
  space_cv_.notify_all();  // a delivery thread waiting to queue for it gives up
  natsSubscription_Unsubscribe(p.sub.get());
  Log("partition " + std::to_string(index) + ": stopped deciding (" + why + ")");
  partitions_.erase(it);
  metrics_->ClusterPartitions(partitions_.size());
}

void ClusterMember::OnMessage(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto* feed = static_cast<Feed*>(closure);
  ClusterMember* self = feed->member;
  int64_t receipt_ns = SteadyNs();
  {
    std::unique_lock<std::mutex> lock(self->queue_mu_);
    self->space_cv_.wait(lock, [&] {
      return self->queue_.size() < kMaxQueued || self->stopping_.load() || !feed->live.load();
    });
    if (feed->live.load() && !self->stopping_.load()) {
      self->queue_.push_back({feed, msg, receipt_ns});
      msg = nullptr;
    }
  }
  if (msg != nullptr) {
    natsMsg_Destroy(msg);  // the partition was dropped: its next owner decides it
    return;
  }
  self->queued_cv_.notify_one();
}

void ClusterMember::DecideQueued() {
  std::deque<Queued> batch;
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    batch.swap(queue_);
  }
  space_cv_.notify_all();
  for (const Queued& item : batch) Decide(item);
  publisher_->DestroyRetired();
}

void ClusterMember::Decide(const Queued& item) {
  auto it = partitions_.find(item.feed->partition);
  if (it == partitions_.end() || it->second->feed != item.feed) {
    natsMsg_Destroy(item.msg);  // dropped since: its next owner decides it
    return;
  }
  Partition& p = *it->second;
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, item.msg) != NATS_OK) {
    natsMsg_Destroy(item.msg);
    return;
  }
  uint64_t seq = meta->Sequence.Stream;
  int64_t stored_us = meta->Timestamp / 1000;
  jsMsgMetaData_Destroy(meta);
  if (seq <= p.applied_seq) {  // delivered again (an ordered consumer re-created)
    natsMsg_Destroy(item.msg);
    return;
  }
  std::string_view data(natsMsg_GetData(item.msg), static_cast<size_t>(natsMsg_GetDataLength(item.msg)));
  std::string customer;
  metrics_->MessageIn();
  if (runtime::CustomerOfMessage(data, &customer) &&
      runtime::PartitionOf(customer, options_.partitions) != p.index) {
    // Deciding it here would give the customer a second state in another partition.
    publisher_->OnDeadLetter(
        data, "customer \"" + customer + "\" belongs to partition " +
                  std::to_string(runtime::PartitionOf(customer, options_.partitions)) +
                  ", not to partition " + std::to_string(p.index) + " whose subject it came on");
  } else {
    publisher_->set_receipt(item.receipt_ns);
    p.engine->Process(data, *publisher_, stored_us);
    publisher_->set_receipt(0);
  }
  publisher_->FlushLog();
  publisher_->Retire(item.msg);  // `data` points into it
  p.applied_seq = seq;
}

void ClusterMember::FireDueTimers(Partition& p) {
  if (p.engine->next_timer() > WallUs() - kTimerLagUs) return;
  int64_t now_ns = SteadyNs();
  if (now_ns - p.last_proof_ns < kProofIntervalNs) return;
  p.last_proof_ns = now_ns;
  // Proof that nothing stored before `asked_at` on the partition's subject is still
  // undecided: the stream's last message there is one already decided.
  int64_t asked_at = WallUs();
  const std::string subject = events_prefix_ + ".p." + std::to_string(p.index);
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = 1000;
  natsMsg* last = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetLastMsg(&last, js_, options_.jetstream.stream.c_str(), subject.c_str(), &jo, &code);
  if (s == NATS_OK) {
    uint64_t last_seq = natsMsg_GetSequence(last);
    natsMsg_Destroy(last);
    if (last_seq > p.applied_seq) return;
  } else if (s != NATS_NOT_FOUND) {
    return;  // no proof now: the next pass asks again
  }
  p.engine->AdvanceTo(asked_at - kTimerLagUs, *publisher_);
  publisher_->FlushLog();
  p.dirty = true;
}

bool ClusterMember::Commit(std::optional<uint32_t> only) {
  bool any = false;
  for (const auto& [index, p] : partitions_) {
    if ((!only || *only == index) && (p->applied_seq != p->committed_seq || p->dirty)) any = true;
  }
  if (!any) return true;
  // Every action stored (or refused) before any state that follows from it.
  Status settled = publisher_->Settle(options_.jetstream.ack_timeout_ms + 1000);
  std::vector<Refusal> refused = acks_->Take();
  metrics_->ActionsUnstored(refused.size());
  if (!refused.empty()) {
    settled =
        UnavailableError(std::to_string(refused.size()) + " action(s) not stored; published again");
    publisher_->Republish(std::move(refused));
  }
  if (settled.ok() && publisher_->unbuilt_actions() > 0) {
    // Decided, never published: only deciding again from the changelog brings them back.
    std::vector<uint32_t> all;
    for (const auto& entry : partitions_) all.push_back(entry.first);
    for (uint32_t p : all) Drop(p, "an action could not be built; deciding again from its changelog");
    return false;
  }
  if (!settled.ok()) {
    metrics_->Checkpoint(false);
    if (!commit_failing_) Log("commit postponed: " + settled.message());
    commit_failing_ = true;
    return false;
  }
  bool ok = true;
  std::vector<uint32_t> held = leases_->held();
  std::vector<uint32_t> indexes;
  for (const auto& entry : partitions_) indexes.push_back(entry.first);
  for (uint32_t index : indexes) {
    if (only && *only != index) continue;
    Partition& p = *partitions_.at(index);
    if (p.applied_seq == p.committed_seq && !p.dirty) continue;
    if (!std::binary_search(held.begin(), held.end(), index)) {
      Drop(index, "its lease ran out before its changes were written");
      ok = false;
      continue;
    }
    runtime::StateChanges changes;
    p.engine->TakeChanges(changes);
    bool fenced = false;
    Status written = p.changelog->Write(changes, ChangelogPosition{p.applied_seq}, &fenced);
    if (!written.ok()) {
      metrics_->Checkpoint(false);
      Drop(index,
           "its changes could not be written (" + written.message() + "); it is restored again");
      ok = false;
      continue;
    }
    metrics_->Checkpoint(true);
    metrics_->StateWritten(changes.customers.size(), 0);
    p.committed_seq = p.applied_seq;
    p.dirty = false;
  }
  if (ok && commit_failing_) Log("commits succeed again");
  commit_failing_ = !ok;
  return ok;
}

void ClusterMember::ReportState() {
  size_t customers = 0, timers = 0;
  for (const auto& entry : partitions_) {
    customers += entry.second->engine->customers();
    timers += entry.second->engine->pending_timers();
  }
  lane_->State(customers, timers);
}

// ---------------------------------------------------------------------------
// Reload and the main thread

void ClusterMember::Reload(const std::string& why) {
  std::optional<runtime::CompiledProgram> program = LoadForReload(loader_, *metrics_, why);
  if (!program) return;
  Stage(std::move(*program));
  Optimize();
}

void ClusterMember::Stage(runtime::CompiledProgram program, bool optimised) {
  {
    std::lock_guard<std::mutex> lock(reload_mu_);
    // An optimised form staged over a reload not applied yet is still that reload.
    staged_optimised_ = optimised && !staged_;
    staged_ = std::move(program);
  }
  reload_staged_ = true;
}

// The optimised form shares the loaded one's spec: each engine only swaps its
// evaluator when the main thread applies it.
void ClusterMember::Optimize() {
  if (!optimizer_) return;
  if (std::optional<runtime::CompiledProgram> better = optimizer_()) Stage(std::move(*better), true);
}

void ClusterMember::ApplyReload() {
  if (!reload_staged_.exchange(false)) return;
  std::optional<runtime::CompiledProgram> program;
  bool optimised = false;
  {
    std::lock_guard<std::mutex> lock(reload_mu_);
    program.swap(staged_);
    optimised = staged_optimised_;
  }
  if (!program) return;
  program_ = std::move(program);
  for (auto& entry : partitions_) {
    // A partition's engine holds its whole state (no store to read back): it reloads.
    Status reloaded = entry.second->engine->Reload(*program_, *publisher_);
    if (!reloaded.ok()) Log("partition " + std::to_string(entry.first) + ": " + reloaded.message());
    entry.second->dirty = true;
  }
  publisher_->FlushLog();
  if (!optimised) metrics_->Reload(true);
  metrics_->ProgramInfo(*program_->spec, program_->evaluator->name());
  Log(std::string(optimised ? "optimised: " : "reloaded: ") +
      std::to_string(program_->spec->journeys.size()) + " journeys on the " +
      program_->evaluator->name() + (optimised ? " (optimised code)" : ""));
}

int ClusterMember::Shutdown() {
  Log("stopping: writing each partition's state and handing the partitions over");
  stopping_ = true;
  queued_cv_.notify_all();
  space_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  Log("stopped. " + metrics_->Summary());
  if (!clean_stop_) {
    Log("the last changes could not be written: the next owners decide those messages again");
    return kExitStoppedWithLoss;
  }
  return kExitStopped;
}


}  // namespace juncture::serve
