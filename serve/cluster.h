// `juncture serve --cluster NAME`: one instance of a cluster that shares the partitions
// of a JetStream events stream (docs/scaling.md, "Cluster"). Private to serve/.
//
// Each instance holds the partitions its leases give it (leases.h) and, for each, runs
// an engine of its own:
//   - opening a partition restores its state from the changelog (changelog.h) as of
//     the partition's position, then consumes the partition's subject
//     (<events prefix>.p.<partition>) from the next stream sequence, with an ordered
//     consumer (no acks: the changelog's position is the cursor);
//   - messages are decided at their stream time, in stream order per partition;
//     timers fire at the wall clock once the stream's last message on the partition's
//     subject is decided (the proof of JetStream mode, per partition);
//   - every checkpoint interval the actions are settled (each stored by the actions
//     stream, which drops a repeated id), then each partition's changes are written
//     to its changelog with its position;
//   - a partition whose lease is lost or handed over, or whose write failed, is
//     dropped (its engine discarded); a partition whose lease is held again is
//     restored again, and replays from its position: the same decisions, the same ids.
// Threads: NATS.c's delivery threads queue messages (bounded) for the one worker
// thread, which decides, fires timers, commits and renews the leases; the main thread
// waits for signals and reloads.
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "action_acks.h"
#include "changelog.h"
#include "leases.h"
#include "lifecycle.h"
#include "nats_connection.h"
#include "publisher.h"
#include "juncture/runtime/runtime.h"
#include "juncture/serve/serve.h"

namespace juncture::serve {

class ShardTelemetry;
class Telemetry;

class ClusterMember final : public Lifecycle {
 public:
  ClusterMember(const ServeOptions& options, const ProgramLoader& loader,
                const ProgramOptimizer& optimizer);
  ~ClusterMember() override;
  ClusterMember(const ClusterMember&) = delete;
  ClusterMember& operator=(const ClusterMember&) = delete;

  Status Start() override;
  void Optimize() override;
  void Reload(const std::string& why) override;
  void Tick() override {}
  int Shutdown() override;
  void Log(const std::string& line) const override;

 private:
  // A partition's subscription, alive as long as the member (NATS.c may still call
  // back after an unsubscribe): messages of a dropped partition's feed are discarded.
  struct Feed {
    ClusterMember* member = nullptr;
    uint32_t partition = 0;
    std::atomic<bool> live{true};
  };
  struct Partition {
    uint32_t index = 0;
    std::unique_ptr<runtime::Engine> engine;
    std::unique_ptr<PartitionChangelog> changelog;
    Feed* feed = nullptr;
    SubscriptionPtr sub;
    uint64_t applied_seq = 0;    // last events-stream sequence decided
    uint64_t committed_seq = 0;  // in the changelog
    bool dirty = false;          // timers fired or a reload since the last commit
    int64_t last_proof_ns = 0;   // last time the stream was asked for the proof
  };
  struct Queued {
    Feed* feed = nullptr;
    natsMsg* msg = nullptr;
    int64_t receipt_ns = 0;
  };

  Status CheckOptions();
  // *misfit: a stream exists but does not fit (not worth retrying).
  Status PrepareStreams(bool* misfit);
  void Loop();
  // Renews the leases; drops, hands over and opens partitions accordingly (opening
  // for about a round's time at most: the rest at the next rounds).
  void Round();
  // The time between two rounds: a sixth of the lease TTL.
  int64_t RoundNs() const;
  Status Open(uint32_t partition);
  void Drop(uint32_t partition, const std::string& why);
  void DecideQueued();
  void Decide(const Queued& item);
  void FireDueTimers(Partition& p);
  // Settles the actions, then writes each partition's changes (or only `only`'s).
  bool Commit(std::optional<uint32_t> only = std::nullopt);
  void ApplyReload();
  // Stages `program` for the main thread (ApplyReload); `optimised`: the optimiser's
  // form of the program already staged or live (a swap of back end, not a reload).
  void Stage(runtime::CompiledProgram program, bool optimised = false);
  void ReportState();
  // Waits for a queued message, a stop, or `ms`.
  void WaitForWork(int64_t ms);
  static void OnMessage(natsConnection*, natsSubscription*, natsMsg* msg, void* feed);

  const ServeOptions& options_;
  const ProgramLoader& loader_;
  const ProgramOptimizer& optimizer_;
  std::string events_prefix_;  // the partition subjects: <events_prefix_>.p.<partition>
  int64_t events_created_ns_ = 0;  // when the events stream was created: which stream it is
  std::unique_ptr<Telemetry> metrics_;
  ShardTelemetry* lane_ = nullptr;
  std::unique_ptr<NatsConnection> conn_;      // events, actions, leases, changelog
  std::unique_ptr<NatsConnection> log_conn_;  // decision log and dead letters
  std::unique_ptr<ActionAcks> acks_;
  jsCtx* js_ = nullptr;        // events, actions (acks to acks_), leases
  jsCtx* state_js_ = nullptr;  // the changelog (acks to changelog_acks_)
  ChangelogAcks changelog_acks_;
  std::unique_ptr<PartitionLeases> leases_;
  std::unique_ptr<Publisher> publisher_;

  // Worker thread only.
  std::optional<runtime::CompiledProgram> program_;
  std::map<uint32_t, std::unique_ptr<Partition>> partitions_;
  std::vector<std::unique_ptr<Feed>> feeds_;
  std::map<uint32_t, std::string> open_errors_;  // the last reason each partition could not open
  bool commit_failing_ = false;  // logged once per episode
  size_t restored_customers_ = 0;  // by the partitions opened in this round
  int64_t restore_ns_ = 0;
  std::thread worker_;
  bool clean_stop_ = true;  // the final commit wrote everything (set by the worker)

  std::mutex queue_mu_;
  std::condition_variable queued_cv_;  // a message was queued (or stopping)
  std::condition_variable space_cv_;   // the queue has room again (or stopping)
  std::deque<Queued> queue_;
  std::atomic<bool> stopping_{false};

  std::mutex reload_mu_;
  std::optional<runtime::CompiledProgram> staged_;  // under reload_mu_
  bool staged_optimised_ = false;                   // under reload_mu_
  std::atomic<bool> reload_staged_{false};
};

}  // namespace juncture::serve
