// serve/leases.h on a real three-node JetStream cluster: two instances share the
// partitions (every one held by exactly one, the split the rendezvous hash gives);
// when one stops renewing, the survivor holds every partition within the lease TTL
// and a round (well inside the 10 s failover target); the dead one, coming back, is
// fenced out of what it held (its renewals fail) and gets its share back only as
// the survivor hands it over; a lease not renewed stops counting as held locally
// before the bucket lets another instance claim it; and a nats-server node killed
// (-9) stops nothing (the bucket has three replicas), nor, once the cluster has
// settled, fails any round.
#include "leases.h"  // serve/, a private header of juncture_serve

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "nats_cluster.h"

namespace juncture::itest {
namespace {

using serve::LeaseOptions;
using serve::LeaseRound;
using serve::PartitionLeases;
using Clock = std::chrono::steady_clock;

constexpr uint32_t kPartitions = 64;
constexpr int64_t kTtlMs = 3000;

// One instance: its own connection (first to `node`, then any other), its leases.
class Instance {
 public:
  Instance(NatsCluster& cluster, const std::string& id, int node) : id_(id) {
    natsOptions* o = nullptr;
    natsOptions_Create(&o);
    std::vector<std::string> urls = {cluster.node(node).url()};
    for (int i = 0; i < 3; ++i) {
      if (i != node) urls.push_back(cluster.node(i).url());
    }
    std::vector<const char*> servers;
    for (const std::string& u : urls) servers.push_back(u.c_str());
    natsOptions_SetServers(o, servers.data(), static_cast<int>(servers.size()));
    natsOptions_SetMaxReconnect(o, -1);
    natsOptions_SetReconnectWait(o, 100);
    natsOptions_SetNoRandomize(o, true);
    natsConnection_Connect(&nc_, o);
    natsOptions_Destroy(o);
    if (nc_ != nullptr) natsConnection_JetStream(&js_, nc_, nullptr);
  }
  ~Instance() {
    leases_.reset();
    jsCtx_Destroy(js_);
    natsConnection_Destroy(nc_);
  }
  // The cluster elects its JetStream leaders after it starts: retried for a while.
  bool Open() {
    LeaseOptions o{"JUNCTURE_LEASES_TEST", id_, kPartitions, kTtlMs, 3};
    for (int i = 0; i < 100 && !leases_; ++i) {
      Result<std::unique_ptr<PartitionLeases>> opened = PartitionLeases::Open(js_, o);
      if (opened.ok()) {
        leases_ = *std::move(opened);
      } else {
        error_ = opened.status().message();
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    }
    return leases_ != nullptr;
  }
  // One round; a failed one (a leader election under way) counts as no change, and
  // its reason is kept (round_error) for a failure's message.
  LeaseRound Round() {
    LeaseRound r;
    Status renewed = leases_->Renew(&r);
    round_error_ = renewed.ok() ? "" : renewed.message();
    for (uint32_t p : r.release) leases_->Release(p);  // serve stops deciding for it first
    std::vector<uint32_t> now = leases_->held();
    held_ = std::set<uint32_t>(now.begin(), now.end());
    return r;
  }
  const std::set<uint32_t>& held() const { return held_; }
  // What its leases say now, without a round (they expire locally).
  std::vector<uint32_t> HeldNow() const { return leases_->held(); }
  const std::string& error() const { return error_; }
  const std::string& round_error() const { return round_error_; }

 private:
  std::string id_;
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
  std::unique_ptr<PartitionLeases> leases_;
  std::set<uint32_t> held_;
  std::string error_;  // of the last failed Open
  std::string round_error_;  // of the last round, if it failed
};

// The last `n` bytes of a node's log, for a failure's message, without its attempts
// to reach the node killed (one a second).
std::string LogTail(NatsServer& node, size_t n = 4000) {
  std::istringstream in(node.process().Output());
  std::string line, kept;
  while (std::getline(in, line)) {
    if (line.find("Error trying to connect to route") == std::string::npos) kept += line + "\n";
  }
  return kept.size() > n ? kept.substr(kept.size() - n) : kept;
}

// The partitions the rendezvous hash gives `id` when `live` are alive.
std::set<uint32_t> ShareOf(const std::string& id, const std::vector<std::string>& live) {
  std::set<uint32_t> out;
  for (uint32_t p = 0; p < kPartitions; ++p) {
    if (live[PartitionLeases::OwnerOf(p, live)] == id) out.insert(p);
  }
  return out;
}

// Every partition held by exactly one of them.
bool Shared(const Instance& a, const Instance& b) {
  if (a.held().size() + b.held().size() != kPartitions) return false;
  for (uint32_t p : a.held()) {
    if (b.held().count(p)) return false;
  }
  return true;
}

// Rounds of both (b may be null) every 300 ms until `done` or `timeout_ms`.
template <typename Done>
bool RoundsUntil(Instance& a, Instance* b, Done done, int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (Clock::now() < deadline) {
    a.Round();
    if (b) b->Round();
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  return false;
}

TEST(PartitionLeases, SharedByTheLiveTakenOverFromTheDeadFencedWhenTheDeadReturns) {
  NatsCluster cluster;
  ASSERT_TRUE(cluster.Start(3)) << cluster.node(0).process().Output();
  Instance a(cluster, "a", 0), b(cluster, "b", 1);
  ASSERT_TRUE(a.Open()) << a.error() << "\n" << cluster.node(0).process().Output();
  ASSERT_TRUE(b.Open()) << b.error();

  // Shared, as the rendezvous hash of the two splits them.
  const std::vector<std::string> both = {"a", "b"};
  const std::set<uint32_t> a_share = ShareOf("a", both), b_share = ShareOf("b", both);
  ASSERT_EQ(a_share.size() + b_share.size(), kPartitions);
  EXPECT_GE(a_share.size(), 16u) << "the hash spreads them";
  EXPECT_GE(b_share.size(), 16u);
  ASSERT_TRUE(RoundsUntil(a, &b, [&] { return a.held() == a_share && b.held() == b_share; },
                          20000))
      << a.held().size() << " + " << b.held().size();

  // b dies (no round, no release): a holds everything within the TTL and a round.
  auto died = Clock::now();
  ASSERT_TRUE(RoundsUntil(a, nullptr, [&] { return a.held().size() == kPartitions; }, 10000))
      << a.held().size();
  auto takeover_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - died);
  EXPECT_LT(takeover_ms.count(), 10000);
  EXPECT_TRUE(b.HeldNow().empty()) << "b, cut off, counts none of its leases held any more";
  EXPECT_GE(takeover_ms.count(), kTtlMs / 2) << "not before b's leases could expire";
  std::cerr << "takeover after " << takeover_ms.count() << " ms (TTL " << kTtlMs << " ms)\n";

  // b comes back: its renewals are fenced out (a wrote those keys since), it reports
  // every partition it held as lost, and a hands b's share back over the next rounds.
  LeaseRound back = b.Round();
  EXPECT_EQ(std::set<uint32_t>(back.lost.begin(), back.lost.end()), b_share);
  EXPECT_TRUE(back.gained.empty()) << "nothing claimed while a holds it";
  ASSERT_TRUE(RoundsUntil(a, &b, [&] { return Shared(a, b) && b.held() == b_share; }, 20000))
      << a.held().size() << " + " << b.held().size();

  // A nats-server node killed: the bucket's three replicas keep it, and the two
  // instances settle on the same split again. (While the cluster elects new leaders,
  // rounds may fail; a lease not renewed for its TTL expires and is claimed again.)
  ::kill(cluster.node(2).process().pid(), SIGKILL);
  auto settled = [&] {
    return a.held() == a_share && b.held() == b_share && a.round_error().empty() &&
           b.round_error().empty();
  };
  ASSERT_TRUE(RoundsUntil(a, &b, settled, 90000))
      << a.held().size() << " + " << b.held().size() << "; a's last round: " << a.round_error()
      << "; b's: " << b.round_error() << "\nnode 0:\n" << LogTail(cluster.node(0))
      << "\nnode 1:\n" << LogTail(cluster.node(1));

  // Once settled (the bucket's leader elected again, if it was on the dead node), the
  // dead node costs no round anything: each round is answered by the leaders on the
  // live nodes. (A round that needed a new consumer would wait in vain
  // one time in three: nats-server may place it on the dead node.)
  for (int round = 0; round < 20; ++round) {
    a.Round();
    EXPECT_EQ(a.round_error(), "") << "round " << round;
    b.Round();
    EXPECT_EQ(b.round_error(), "") << "round " << round;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(a.held(), a_share);
  EXPECT_EQ(b.held(), b_share);
}

}  // namespace
}  // namespace juncture::itest
