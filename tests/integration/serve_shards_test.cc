// `juncture serve --shards K` (docs/scaling.md, "Shards"): K engines on K threads,
// each owning the customers of whole partitions. The decisions are those of one
// engine (`juncture run` over the same messages); each shard keeps its own store, and
// a restart resumes the waits of every shard; a state directory keeps its number of
// shards.
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <functional>
#include <fstream>
#include <regex>
#include <set>

#include "serve_fixture.h"
#include "uninterrupted_run.h"

namespace juncture::itest {
namespace {

namespace fs = std::filesystem;

class ServeShards : public ServeFixture {
 protected:
  std::string Program() {
    std::string dir = dir_.path() + "/program";
    fs::create_directories(dir);
    std::ofstream(dir + "/shards.jny") << kStatefulProgram;
    return dir;
  }

  // `messages` carts over `customers` customers, round robin, as JSON lines.
  std::string WriteEvents(int messages, int customers) {
    std::string path = dir_.path() + "/events.jsonl";
    std::ofstream out(path);
    for (int i = 0; i < messages; ++i) {
      out << CartJson("c-" + std::to_string(i % customers), "k" + std::to_string(i)) << "\n";
    }
    return path;
  }

  void PublishFile(const std::string& events) {
    std::ifstream in(events);
    for (std::string line; std::getline(in, line);) {
      ASSERT_TRUE(client_.Publish("juncture.events.web", line));
    }
    ASSERT_TRUE(client_.Flush());
  }

  std::set<std::string> SentIds() {
    std::set<std::string> ids;
    for (const Received& r : client_.On("juncture.actions.")) ids.insert(JsonField(r.data, "id"));
    return ids;
  }

  // `customers` carts, one each (an email now, a push 2 s later), decided and stored
  // by serve started with `args`; serve killed (-9) before the pushes, started again
  // with `args` (`restarted` checks it then): every push is sent, once.
  void ExpectAKillNineAndARestartToResumeEveryWait(const std::vector<std::string>& args,
                                                   int customers,
                                                   const std::function<void()>& restarted = {}) {
    const std::string program = Program();
    StartServeWithMetrics(args, program);
    PublishCarts("w", 0, customers);
    ASSERT_TRUE(client_.WaitForCount("juncture.actions.email", customers, 10000))
        << serve_->Output();
    // Each email is out before its customer's commit: the kill waits for the commits.
    ASSERT_TRUE(WaitForMetric("juncture_state_customers_written_total", customers, 10000));
    size_t early = client_.On("juncture.actions.push").size();
    serve_->Stop(SIGKILL);
    ASSERT_LT(early, static_cast<size_t>(customers)) << "the waits ended before the kill";
    StartServeWithMetrics(args, program);
    if (restarted) restarted();
    ASSERT_TRUE(client_.WaitForCount("juncture.actions.push", customers, 15000))
        << serve_->Output();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    std::set<std::string> pushes;
    for (const Received& r : client_.On("juncture.actions.push")) {
      pushes.insert(JsonField(r.data, "id"));
    }
    EXPECT_EQ(pushes.size(), static_cast<size_t>(customers)) << "each wait resumed";
    EXPECT_EQ(client_.On("juncture.actions.push").size(), static_cast<size_t>(customers))
        << "none twice";
  }

  // Customers in one shard's store, by `juncture state info`.
  long CustomersIn(const std::string& store) {
    std::string out = dir_.path() + "/info.txt";
    std::string cmd = "'" + JunctureBin() + "' state info --state-dir '" + store + "' > '" + out + "' 2>&1";
    if (std::system(cmd.c_str()) != 0) return -1;
    // "<dir>: N customers, ..."
    std::ifstream in(out);
    std::string line;
    std::getline(in, line);
    size_t at = line.find(": ");
    return at == std::string::npos ? -1 : std::stol(line.substr(at + 2));
  }
};

TEST_F(ServeShards, TwoShardsDecideWhatOneEngineDecides) {
  const std::string program = Program();
  const int kMessages = 4000, kCustomers = 400;
  const std::string events = WriteEvents(kMessages, kCustomers);
  const std::set<std::string> expected =
      SentIdsOfRun(JunctureBin(), program, events, dir_.path() + "/run.jsonl");
  ASSERT_EQ(expected.size(), static_cast<size_t>(kCustomers) * 5)
      << "3 emails, a webhook, a push each";

  StartServe({"--shards", "2"}, program);
  EXPECT_NE(serve_->Output().find("in 2 shards"), std::string::npos) << serve_->Output();
  PublishFile(events);
  ASSERT_TRUE(client_.WaitForCount("juncture.actions.", expected.size(), 30000))
      << client_.On("juncture.actions.").size() << "\n" << serve_->Output();
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));  // anything extra would show
  EXPECT_EQ(client_.On("juncture.actions.").size(), expected.size()) << "each sent once";
  EXPECT_EQ(SentIds(), expected);
  int status = serve_->Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << serve_->Output();

  // Each customer is in the store of the one shard that owns its partition.
  long first = CustomersIn(StateDir() + "/shard-0-of-2");
  long second = CustomersIn(StateDir() + "/shard-1-of-2");
  EXPECT_GT(first, 0);
  EXPECT_GT(second, 0);
  EXPECT_EQ(first + second, kCustomers);
}

TEST_F(ServeShards, AKillNineAndARestartResumeTheWaitsOfEveryShard) {
  ExpectAKillNineAndARestartToResumeEveryWait({"--shards", "2"}, 40);
}

// A state written by two shards started with three, then with one: re-sharded each
// time (every customer gathered from every old store into the store of the shard
// that now owns it), every pending wait resumes once.
TEST_F(ServeShards, AStateIsReshardedFromTwoShardsToThreeAndToOneWithEveryWait) {
  const std::string program = Program();
  const int kCustomers = 40;
  const size_t all = kCustomers;
  // The pushes to the customers "c-<prefix><n>" among `got`.
  auto pushes_of = [](const std::vector<Received>& got, const std::string& prefix) {
    size_t n = 0;
    for (const Received& r : got) {
      n += r.subject == "juncture.actions.push" &&
           r.data.find("\"c-" + prefix) != std::string::npos;
    }
    return n;
  };
  // One cart each for the customers "c-<prefix><n>": an email now, a push in 2 s; then
  // kill -9 while the pushes wait (their commits done: `written` customers so far).
  auto begin_waits = [&](const std::string& prefix, double written) {
    PublishCarts(prefix, 0, kCustomers);
    ASSERT_TRUE(WaitForMetric("juncture_state_customers_written_total", written, 10000))
        << serve_->Output();
    serve_->Stop(SIGKILL);
    ASSERT_LT(pushes_of(client_.On("juncture.actions.push"), prefix), all)
        << "the waits ended before the kill";
  };
  StartServeWithMetrics({"--shards", "2"}, program);
  begin_waits("a", kCustomers);
  if (HasFatalFailure()) return;
  // Its number of partitions, which decides a customer's shard as well, stays.
  std::string output;
  int status = RunServeToExit({"--shards", "2", "--partitions", "32"}, program, &output);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << output;
  EXPECT_NE(output.find("was written with --partitions 64"), std::string::npos) << output;

  StartServeWithMetrics({"--shards", "3"}, program);
  EXPECT_NE(serve_->Output().find("re-sharded the state stores of 2 shards over 3 shards"),
            std::string::npos)
      << serve_->Output();
  ASSERT_TRUE(client_.WaitFor(
      [&](const std::vector<Received>& got) { return pushes_of(got, "a") >= all; }, 15000))
      << serve_->Output();
  begin_waits("b", 2 * kCustomers);  // the "a" customers were written again as their waits ended
  if (HasFatalFailure()) return;
  long in_three = 0;
  for (int i = 0; i < 3; ++i) {
    long n = CustomersIn(StateDir() + "/shard-" + std::to_string(i) + "-of-3");
    EXPECT_GT(n, 0) << "shard " << i;
    in_three += n;
  }
  EXPECT_EQ(in_three, 2 * kCustomers) << "every customer in one of the three stores";

  StartServe({}, program);  // one engine
  EXPECT_NE(serve_->Output().find("re-sharded the state stores of 3 shards over 1 engine"),
            std::string::npos)
      << serve_->Output();
  ASSERT_TRUE(client_.WaitFor(
      [&](const std::vector<Received>& got) { return pushes_of(got, "b") >= all; }, 15000))
      << serve_->Output();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::set<std::string> pushes;
  for (const Received& r : client_.On("juncture.actions.push")) {
    pushes.insert(JsonField(r.data, "id"));
  }
  EXPECT_EQ(pushes.size(), 2 * all) << "every wait resumed";
  EXPECT_EQ(client_.On("juncture.actions.push").size(), 2 * all) << "none twice";
  status = serve_->Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << serve_->Output();
  EXPECT_EQ(CustomersIn(StateDir()), 2 * kCustomers);
  // Each old state kept aside.
  std::set<std::string> aside;
  for (const auto& e : fs::directory_iterator(fs::path(StateDir()).parent_path())) {
    const std::string name = e.path().filename().string();
    for (const char* k : {".shards-2-", ".shards-3-"}) {
      if (name.find(k) != std::string::npos) aside.insert(k);
    }
  }
  EXPECT_EQ(aside.size(), 2u) << "the states of two and of three shards are kept";
}

TEST_F(ServeShards, OneEnginesStoreIsSplitOverTheShardsWithEveryWait) {
  const std::string program = Program();
  const int kCustomers = 40;
  StartServeWithMetrics({}, program);  // one engine, one store
  PublishCarts("w", 0, kCustomers);  // one cart each: an email now, a push in 2 s
  ASSERT_TRUE(client_.WaitForCount("juncture.actions.email", kCustomers, 10000))
      << serve_->Output();
  ASSERT_TRUE(WaitForMetric("juncture_state_customers_written_total", kCustomers, 10000));
  serve_->Stop(SIGKILL);
  ASSERT_LT(client_.On("juncture.actions.push").size(), static_cast<size_t>(kCustomers))
      << "the waits ended before the kill";
  StartServe({"--shards", "2"}, program);
  EXPECT_NE(serve_->Output().find("split the state store of one engine over 2 shards"),
            std::string::npos)
      << serve_->Output();
  ASSERT_TRUE(client_.WaitForCount("juncture.actions.push", kCustomers, 15000))
      << serve_->Output();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::set<std::string> pushes;
  for (const Received& r : client_.On("juncture.actions.push")) {
    pushes.insert(JsonField(r.data, "id"));
  }
  EXPECT_EQ(pushes.size(), static_cast<size_t>(kCustomers)) << "every wait resumed";
  EXPECT_EQ(client_.On("juncture.actions.push").size(), static_cast<size_t>(kCustomers))
      << "none twice";
  int status = serve_->Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << serve_->Output();
  // Each customer in exactly one shard's store; the old store set aside.
  long first = CustomersIn(StateDir() + "/shard-0-of-2");
  long second = CustomersIn(StateDir() + "/shard-1-of-2");
  EXPECT_GT(first, 0);
  EXPECT_GT(second, 0);
  EXPECT_EQ(first + second, kCustomers);
  bool aside = false;
  for (const auto& e : fs::directory_iterator(fs::path(StateDir()).parent_path())) {
    aside = aside || e.path().filename().string().find(".unsharded-") != std::string::npos;
  }
  EXPECT_TRUE(aside) << "the store it came from is kept";

  // A split stopped after the old store was set aside and before the new one was put
  // in its place is finished at the next start; one stopped earlier is dropped (the
  // store it came from is still in place).
  const std::string building = StateDir() + ".resharding";
  fs::rename(StateDir(), building);
  std::ofstream(building + "/COMPLETE") << "split\n";
  StartServe({"--shards", "2"}, program);
  EXPECT_NE(serve_->Output().find("finished re-sharding the state store"), std::string::npos)
      << serve_->Output();
  serve_->Stop(SIGTERM);
  fs::create_directories(building);
  std::ofstream(building + "/half-written") << "x";
  StartServe({"--shards", "2"}, program);
  serve_->Stop(SIGTERM);
  EXPECT_FALSE(fs::exists(building));
  EXPECT_EQ(CustomersIn(StateDir() + "/shard-0-of-2") + CustomersIn(StateDir() + "/shard-1-of-2"),
            kCustomers);
}

TEST_F(ServeShards, AReloadReachesEveryShardBeforeItsNextMessage) {
  const std::string program = Program();
  StartServe({"--shards", "2", "--no-watch"}, program);
  PublishCarts("a", 0, 20);
  ASSERT_TRUE(client_.WaitForCount("juncture.actions.email", 20, 10000)) << serve_->Output();
  std::string text = kStatefulProgram;
  text.replace(text.find("\"cart_seen\""), 11, "\"cart_v2\"");
  std::ofstream(program + "/shards.jny") << text;
  ::kill(serve_->pid(), SIGHUP);
  ASSERT_TRUE(serve_->WaitForOutput("reloaded:", 30000)) << serve_->Output();
  // Customers of both shards (20 ids spread over 64 partitions): every email after the
  // reload has the new template.
  PublishCarts("b", 0, 20);
  ASSERT_TRUE(client_.WaitForCount("juncture.actions.email", 40, 10000)) << serve_->Output();
  std::vector<Received> emails = client_.On("juncture.actions.email");
  for (size_t i = 20; i < emails.size(); ++i) {
    EXPECT_EQ(JsonField(emails[i].data, "template"), "cart_v2") << emails[i].data;
  }
  int status = serve_->Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << serve_->Output();
}

}  // namespace
}  // namespace juncture::itest

namespace juncture::itest {
namespace {

// `--cache-customers N`: at most N customers in memory, the others read back from the
// state store when a message or a timer needs them (docs/state.md).
class ServeCache : public ServeShards {};

TEST_F(ServeCache, FortyCustomersInMemoryDecideWhatOneEngineWithFourHundredDecides) {
  const std::string program = Program();
  // Round robin: every message's customer was dropped from memory since its last one.
  const int kMessages = 4000, kCustomers = 400;
  const std::string events = WriteEvents(kMessages, kCustomers);
  const std::set<std::string> expected =
      SentIdsOfRun(JunctureBin(), program, events, dir_.path() + "/run.jsonl");
  StartServeWithMetrics({"--cache-customers", "40"}, program);
  PublishFile(events);
  ASSERT_TRUE(client_.WaitForCount("juncture.actions.", expected.size(), 30000))
      << client_.On("juncture.actions.").size() << "\n" << serve_->Output();
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));  // anything extra would show
  EXPECT_EQ(client_.On("juncture.actions.").size(), expected.size()) << "each sent once";
  EXPECT_EQ(SentIds(), expected);
  const double resident = Metric("juncture_customers");
  EXPECT_GT(resident, 0) << "the gauge is exported";
  EXPECT_LE(resident, 40) << "customers in memory once all is written";
  int status = serve_->Stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << serve_->Output();
  EXPECT_EQ(CustomersIn(StateDir()), kCustomers) << "every customer is in the store";
}

TEST_F(ServeCache, AKillNineAndARestartResumeTheWaitsOfCustomersNotInMemory) {
  ExpectAKillNineAndARestartToResumeEveryWait({"--cache-customers", "10"}, 40, [this] {
    // Restarted, it reads no customer until a timer needs one, and keeps only the ten
    // earliest timers in memory: the others are read back as they fall due.
    const std::string out = serve_->Output();
    EXPECT_NE(out.find("0 customers in memory (the others are read when needed)"),
              std::string::npos)
        << out;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(out, m, std::regex("(\\d+) pending timers \\((\\d+) in memory\\)")))
        << out;
    const int pending = std::stoi(m[1]), in_memory = std::stoi(m[2]);
    EXPECT_EQ(in_memory, std::min(pending, 10)) << out;
    EXPECT_GT(pending, 10) << "the kill came after most waits had ended: nothing was left to read back";
  });
  const double resident = Metric("juncture_customers");
  EXPECT_GT(resident, 0) << "the gauge is exported";
  EXPECT_LE(resident, 10);
}

// With two shards the bound is split between them: five customers and about five
// timers each.
TEST_F(ServeCache, TwoShardsSplitTheBoundBetweenThem) {
  ExpectAKillNineAndARestartToResumeEveryWait(
      {"--shards", "2", "--cache-customers", "10"}, 40, [this] {
        const std::string out = serve_->Output();
        const std::regex line("(\\d+) customers in memory \\(the others are read when needed\\), "
                              "(\\d+) pending timers \\((\\d+) in memory\\)");
        int shards = 0;
        for (auto it = std::sregex_iterator(out.begin(), out.end(), line); it != std::sregex_iterator();
             ++it, ++shards) {
          EXPECT_EQ(std::stoi((*it)[1]), 0) << out;
          EXPECT_EQ(std::stoi((*it)[3]), std::min(std::stoi((*it)[2]), 5)) << out;
        }
        EXPECT_EQ(shards, 2) << out;
      });
  EXPECT_LE(Metric("juncture_customers"), 10);
}

}  // namespace
}  // namespace juncture::itest
