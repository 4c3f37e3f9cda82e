// `juncture serve --cluster` on a real three-node JetStream cluster (docs/scaling.md,
// "Cluster"): three instances share the partitions by leases; one is killed (-9)
// mid-stream and the survivors take its partitions over, restoring each from its
// changelog and replaying from its position; then a nats-server node is killed (-9).
// The actions stream ends up with exactly the actions of one uninterrupted engine
// (`juncture run` over the same messages), each stored once, and the takeover is
// measured against the 10 s failover budget.
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <set>
#include <thread>

#include "jetstream_admin.h"
#include "juncture/runtime/partition.h"
#include "nats_cluster.h"
#include "serve_fixture.h"
#include "uninterrupted_run.h"

namespace juncture::itest {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kPartitions = 16;
constexpr int kTtlMs = 3000;

// One `juncture serve --cluster` instance, with its metrics endpoint.
class Instance {
 public:
  bool Start(const std::string& id, const std::string& urls, const std::string& program,
             const std::string& log, const std::string& replicas = "3",
             const std::string& ttl_ms = std::to_string(kTtlMs)) {
    port_ = 0;  // serve chooses; its start line names it (Partitions reads it)
    return process_.Start({JunctureBin(), "serve", program, "--nats", urls, "--cluster", "t",
                           "--instance", id, "--replicas", replicas, "--lease-ttl-ms", ttl_ms,
                           "--partitions", std::to_string(kPartitions),
                           "--checkpoint-ms", "100", "--ack-timeout-ms", "2000", "--metrics",
                           "127.0.0.1:0"},
                          log);
  }
  // Partitions it decides for now; -1 if its metrics do not answer.
  int Partitions() {
    if (port_ <= 0) port_ = BoundMetricsPort(process_.Output());
    if (port_ <= 0) return -1;
    std::string text = HttpGet(port_, "/metrics");
    const std::string needle = "\njuncture_cluster_partitions ";
    size_t at = text.find(needle);
    return at == std::string::npos ? -1 : std::stoi(text.substr(at + needle.size()));
  }
  Process& process() { return process_; }

 private:
  Process process_;
  int port_ = 0;
};

// Waits until the given instances hold every partition between them, each some.
bool Cover(const std::vector<Instance*>& instances, int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (Clock::now() < deadline) {
    int sum = 0;
    bool each = true;
    for (Instance* i : instances) {
      int n = i->Partitions();
      sum += std::max(n, 0);
      each = each && n > 0;
    }
    if (sum == kPartitions && each) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::map<std::string, int> StoredActions(natsConnection* nc) {
  std::map<std::string, int> out;
  for (const Received& r : ReadStream(nc, "JUNCTURE_ACTIONS", "juncture.actions.>")) ++out[r.msg_id];
  return out;
}

bool WaitForStored(natsConnection* nc, size_t n, int timeout_ms) {
  auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (Clock::now() < deadline) {
    if (StoredActions(nc).size() >= n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

// What one set has that the other has not, both ways, for a failure's message.
std::string Difference(const std::set<std::string>& got, const std::set<std::string>& expected) {
  std::string out = "stored, not expected:";
  for (const std::string& id : got) {
    if (!expected.count(id)) out += " " + id;
  }
  out += "\nexpected, not stored:";
  for (const std::string& id : expected) {
    if (!got.count(id)) out += " " + id;
  }
  return out + "\n";
}

// `juncture publish FILE` into the cluster's events stream, on partition subjects. A
// publish the stream did not acknowledge (a node just died, its leaders are being
// elected again) is retried as a producer would: the stream drops the lines it already
// has by their Nats-Msg-Id.
void Publish(const std::string& urls, const std::string& file, const std::string& log) {
  std::string cmd = "'" + JunctureBin() + "' publish '" + file + "' --nats '" + urls +
                    "' --jetstream --partitions " + std::to_string(kPartitions) + " >> '" + log +
                    "' 2>&1";
  for (int attempt = 0; attempt < 20; ++attempt) {
    if (std::system(cmd.c_str()) == 0) return;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  std::ifstream in(log);
  FAIL() << cmd << "\n" << std::string(std::istreambuf_iterator<char>(in), {});
}

// A program directory in `dir` holding the stateful journey; its path.
std::string StatefulProgramIn(const TempDir& dir) {
  const std::string program = dir.path() + "/program";
  fs::create_directories(program);
  std::ofstream(program + "/stateful.jny") << kStatefulProgram;
  return program;
}

TEST(ClusterServe, ThreeInstancesSendWhatOneEngineSendsThroughAnInstanceKillAndANodeKill) {
  ASSERT_FALSE(FindProgram("nats-server").empty()) << "nats-server is not installed";
  NatsCluster cluster;
  ASSERT_TRUE(cluster.Start(3)) << cluster.node(0).process().Output();
  TempDir dir;
  const std::string program = StatefulProgramIn(dir);

  // 6,000 carts of 300 customers (20 each, in turn), in three parts: 5 actions per
  // customer. The first part is two carts each: every customer is then half-way
  // through its cap (two emails of three) and its window (the webhook comes at the
  // fifth cart), so that state restored wrong, or messages decided twice, change
  // what is sent afterwards.
  const int kCustomers = 300;
  const std::vector<int> kPartEnds = {600, 3000, 6000};
  const std::string all = dir.path() + "/events.jsonl";
  {
    std::ofstream whole(all);
    for (size_t part = 0; part < kPartEnds.size(); ++part) {
      std::ofstream out(dir.path() + "/part" + std::to_string(part) + ".jsonl");
      for (int i = part == 0 ? 0 : kPartEnds[part - 1]; i < kPartEnds[part]; ++i) {
        std::string line = CartJson("c-" + std::to_string(i % kCustomers), "k" + std::to_string(i));
        out << line << "\n";
        whole << line << "\n";
      }
    }
  }
  const std::set<std::string> expected =
      SentIdsOfRun(JunctureBin(), program, all, dir.path() + "/run.jsonl");
  ASSERT_EQ(expected.size(), static_cast<size_t>(kCustomers) * 5);

  // The streams, replicated on the three nodes (JetStream elects its leaders first).
  Client client;
  ASSERT_TRUE(client.Connect(cluster.urls()));
  std::string error;
  for (const StreamSpec& spec :
       {StreamSpec{"JUNCTURE_EVENTS", {"juncture.events.>"}, 0, -1, false, js_LimitsPolicy, 3},
        StreamSpec{"JUNCTURE_ACTIONS", {"juncture.actions.>"}, int64_t{3600} * 1'000'000'000, -1,
                   false, js_LimitsPolicy, 3}}) {
    bool created = false;
    for (int i = 0; i < 100 && !created; ++i) {
      created = CreateStream(client.connection(), spec, &error);
      if (!created) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ASSERT_TRUE(created) << spec.name << ": " << error;
  }

  Instance a, b, c;
  ASSERT_TRUE(a.Start("a", cluster.urls(), program, dir.path() + "/a.log"));
  ASSERT_TRUE(b.Start("b", cluster.urls(), program, dir.path() + "/b.log"));
  ASSERT_TRUE(c.Start("c", cluster.urls(), program, dir.path() + "/c.log"));
  ASSERT_TRUE(Cover({&a, &b, &c}, 30000))
      << a.process().Output() << b.process().Output() << c.process().Output();

  // The first part decided (two emails per customer) and committed; b is killed while
  // the second part is being decided.
  const std::string publish_log = dir.path() + "/publish.log";
  Publish(cluster.urls(), dir.path() + "/part0.jsonl", publish_log);
  ASSERT_TRUE(WaitForStored(client.connection(), 2 * kCustomers, 30000)) << b.process().Output();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // a few commits
  Publish(cluster.urls(), dir.path() + "/part1.jsonl", publish_log);
  b.process().Stop(SIGKILL);
  auto killed = Clock::now();
  ASSERT_TRUE(Cover({&a, &c}, 20000)) << a.process().Output() << c.process().Output();
  auto takeover_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - killed).count();
  std::cerr << "b's partitions resumed on a and c " << takeover_ms << " ms after its kill -9 (lease TTL "
            << kTtlMs << " ms)\n";
  EXPECT_LT(takeover_ms, 10000) << "the failover budget\n"
                                << a.process().Output() << c.process().Output();

  // Then a nats-server node dies (-9): the streams keep two of their three replicas.
  ::kill(cluster.node(1).process().pid(), SIGKILL);
  auto node_killed = Clock::now();
  Publish(cluster.urls(), dir.path() + "/part2.jsonl", publish_log);

  ASSERT_TRUE(WaitForStored(client.connection(), expected.size(), 120000))
      << StoredActions(client.connection()).size() << "\n"
      << a.process().Output() << c.process().Output();
  std::cerr << "every action stored "
            << std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - node_killed)
                   .count()
            << " ms after the node's kill -9 (the last part published meanwhile)\n";
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // anything extra would show
  std::set<std::string> got;
  for (const auto& [id, n] : StoredActions(client.connection())) {
    EXPECT_EQ(n, 1) << id << " stored " << n << " times";
    got.insert(id);
  }
  EXPECT_EQ(got, expected) << Difference(got, expected) << a.process().Output()
                           << c.process().Output();
  for (Instance* i : {&a, &c}) {
    int status = i->process().Stop(SIGTERM, 30000);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "status " << status << "\n" << i->process().Output();
  }
}

// Opening a partition on a three-node cluster creates its changelog stream with three
// replicas: a few hundred milliseconds each. An instance starting alone with all 16
// opens them over several rounds, renewing its leases in between: none is lost to
// the bucket's TTL (2 s here). Opened all in one round (as before), they took 3-7 s,
// every lease expired meanwhile, and the instance dropped all 16 to open them again.
TEST(ClusterServe, ManyPartitionsOpenedOverSeveralRoundsKeepTheirLeases) {
  ASSERT_FALSE(FindProgram("nats-server").empty()) << "nats-server is not installed";
  NatsCluster cluster;
  ASSERT_TRUE(cluster.Start(3)) << cluster.node(0).process().Output();
  TempDir dir;
  const std::string program = StatefulProgramIn(dir);
  Instance a;
  ASSERT_TRUE(a.Start("a", cluster.urls(), program, dir.path() + "/a.log", "3", "2000"));
  ASSERT_TRUE(Cover({&a}, 90000)) << a.process().Output();
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // a TTL and more
  EXPECT_EQ(a.Partitions(), kPartitions) << a.process().Output();
  EXPECT_EQ(a.process().Output().find("stopped deciding"), std::string::npos)
      << a.process().Output();
  int status = a.process().Stop(SIGTERM, 30000);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << a.process().Output();
}

}  // namespace
}  // namespace juncture::itest

namespace juncture::itest {
namespace {

// Two instances on one nats-server (the cluster's logic without the three nodes): one
// joining takes its share from the other; a message published on a partition its
// customer does not belong to is a dead letter; an instance stopped with SIGTERM hands
// its partitions over at once (not after the lease TTL); the actions are those of one
// engine throughout.
TEST(ClusterServe, AJoiningInstanceTakesItsShareAStoppingOneHandsItsOverAtOnce) {
  ASSERT_FALSE(FindProgram("nats-server").empty()) << "nats-server is not installed";
  NatsServer nats;
  ASSERT_TRUE(nats.Start()) << nats.process().Output();
  TempDir dir;
  const std::string program = StatefulProgramIn(dir);
  const int kCustomers = 100;
  std::vector<std::string> parts;
  const std::string all = dir.path() + "/events.jsonl";
  {
    std::ofstream whole(all);
    for (int part = 0; part < 2; ++part) {
      parts.push_back(dir.path() + "/part" + std::to_string(part) + ".jsonl");
      std::ofstream out(parts.back());
      for (int i = part * 500; i < (part + 1) * 500; ++i) {
        std::string line = CartJson("c-" + std::to_string(i % kCustomers), "k" + std::to_string(i));
        out << line << "\n";
        whole << line << "\n";
      }
    }
  }
  const std::set<std::string> expected =
      SentIdsOfRun(JunctureBin(), program, all, dir.path() + "/run.jsonl");
  Client client;
  ASSERT_TRUE(client.Connect(nats.url()));
  ASSERT_TRUE(client.Subscribe("juncture.deadletter"));

  // A long TTL: a takeover within it can only be a hand-over.
  auto start = [&](Instance& i, const std::string& id) {
    return i.Start(id, nats.url(), program, dir.path() + "/" + id + ".log", "1", "20000");
  };
  Instance a, b;
  ASSERT_TRUE(start(a, "a"));
  ASSERT_TRUE(Cover({&a}, 20000)) << a.process().Output();
  ASSERT_TRUE(start(b, "b"));
  ASSERT_TRUE(Cover({&a, &b}, 20000)) << a.process().Output() << b.process().Output();
  Publish(nats.url(), parts[0], dir.path() + "/publish.log");

  // A customer on another partition's subject.
  std::string customer = "c-0";
  uint32_t home = runtime::PartitionOf(customer, kPartitions);
  ASSERT_TRUE(client.JsPublish("juncture.events.p." + std::to_string((home + 1) % kPartitions),
                               CartJson(customer, "misplaced")));
  ASSERT_TRUE(client.WaitFor(
      [](const std::vector<Received>& got) {
        for (const Received& r : got) {
          if (r.subject == "juncture.deadletter" && r.data.find("misplaced") != std::string::npos) return true;
        }
        return false;
      },
      20000))
      << a.process().Output() << b.process().Output();

  ASSERT_TRUE(WaitForStored(client.connection(), 3 * kCustomers, 30000));
  auto stopped = Clock::now();
  int status = b.process().Stop(SIGTERM, 30000);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << b.process().Output();
  ASSERT_TRUE(Cover({&a}, 20000)) << a.process().Output();
  auto handover_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - stopped).count();
  EXPECT_LT(handover_ms, 10000) << "handed over, not waited out (lease TTL 20 s)";
  std::cerr << "b's partitions handed over to a " << handover_ms << " ms after its SIGTERM\n";

  Publish(nats.url(), parts[1], dir.path() + "/publish.log");
  ASSERT_TRUE(WaitForStored(client.connection(), expected.size(), 60000))
      << StoredActions(client.connection()).size() << "\n" << a.process().Output();
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  std::set<std::string> got;
  for (const auto& [id, n] : StoredActions(client.connection())) {
    EXPECT_EQ(n, 1) << id << " stored " << n << " times";
    got.insert(id);
  }
  EXPECT_EQ(got, expected) << Difference(got, expected) << a.process().Output();
  status = a.process().Stop(SIGTERM, 30000);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << a.process().Output();
}


// The events stream deleted and created again under a running deployment: its
// sequences mean other messages now, so a partition whose position is in the old one
// is refused (logged), never consumed from a sequence that would skip messages.
TEST(ClusterServe, APartitionWhosePositionIsInAReplacedEventsStreamIsRefused) {
  ASSERT_FALSE(FindProgram("nats-server").empty()) << "nats-server is not installed";
  NatsServer nats;
  ASSERT_TRUE(nats.Start()) << nats.process().Output();
  TempDir dir;
  const std::string program = StatefulProgramIn(dir);
  // 100 customers of the first half of the partitions: the other half has no position.
  const std::string events = dir.path() + "/events.jsonl";
  {
    std::ofstream out(events);
    int written = 0;
    for (int i = 0; written < 100; ++i) {
      std::string customer = "c-" + std::to_string(i);
      if (runtime::PartitionOf(customer, kPartitions) >= kPartitions / 2) continue;
      out << CartJson(customer, "k" + std::to_string(i)) << "\n";
      ++written;
    }
  }
  Client client;
  ASSERT_TRUE(client.Connect(nats.url()));
  Instance a;
  ASSERT_TRUE(a.Start("a", nats.url(), program, dir.path() + "/a.log", "1"));
  ASSERT_TRUE(Cover({&a}, 20000)) << a.process().Output();
  Publish(nats.url(), events, dir.path() + "/publish.log");
  ASSERT_TRUE(WaitForStored(client.connection(), 100, 30000)) << a.process().Output();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // committed
  int status = a.process().Stop(SIGTERM, 30000);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << a.process().Output();

  ASSERT_TRUE(DeleteStream(client.connection(), "JUNCTURE_EVENTS"));
  ASSERT_TRUE(CreateStream(client.connection(), {"JUNCTURE_EVENTS", {"juncture.events.>"}}));
  Instance again;
  ASSERT_TRUE(again.Start("a", nats.url(), program, dir.path() + "/again.log", "1"));
  ASSERT_TRUE(again.process().WaitForOutput("deleted or replaced since", 20000))
      << again.process().Output();
  // The partitions without a position open; those with one stay closed.
  auto deadline = Clock::now() + std::chrono::seconds(20);
  while (again.Partitions() != kPartitions / 2 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(again.Partitions(), kPartitions / 2) << again.process().Output();
  std::this_thread::sleep_for(std::chrono::milliseconds(2000));  // rounds go on
  EXPECT_EQ(again.Partitions(), kPartitions / 2);
}

}  // namespace
}  // namespace juncture::itest
