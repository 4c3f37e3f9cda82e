// juncture-deliver: a delivery simulator, the channels' delivery services played on
// NATS. It subscribes to the actions `juncture serve` publishes
// (juncture.actions.<channel>) and answers each with a delivery receipt on
// juncture.receipts.<channel> after a delay typical of its channel:
//
//   {"decision":"<the action's id>","status":"delivered"|"failed","at":"<now, ISO-8601>"}
//
// so that serve can close the last split time (action -> customer) and count the
// moment fit. Delays are drawn uniformly in [delay/2, 3*delay/2] from a seeded
// generator; a share of each channel's deliveries fail. Runs until SIGTERM or SIGINT,
// then prints what it did.
//
//   juncture-deliver --nats URL [--delay email=3s] [--fail email=0.05] [--seed 1]
#include <nats/nats.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <queue>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "wall_time.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string url = "nats://127.0.0.1:4222";
  std::string actions = "juncture.actions.>";
  std::string actions_prefix = "juncture.actions.";
  std::string receipts_prefix = "juncture.receipts.";
  // Typical delivery delays (ms) and failure shares by channel; others use `*`.
  std::map<std::string, double> delay_ms = {{"in_app", 40},  {"inapp", 40}, {"webhook", 80},
                                            {"push", 250},   {"sms", 1200}, {"email", 3000},
                                            {"*", 500}};
  std::map<std::string, double> fail = {{"email", 0.03}, {"sms", 0.05}, {"push", 0.02}};
  uint64_t seed = 1;
};


struct Pending {
  Clock::time_point due;
  std::string channel, decision;
  bool failed;
  bool operator>(const Pending& o) const { return due > o.due; }
};

class Deliverer {
 public:
  explicit Deliverer(const Options& o) : o_(o), rng_(o.seed) {}

  // An action arrived (NATS.c's thread): schedule its receipt.
  void OnAction(natsMsg* msg) {
    std::string subject = natsMsg_GetSubject(msg);
    std::string channel = subject.rfind(o_.actions_prefix, 0) == 0
                              ? subject.substr(o_.actions_prefix.size())
                              : subject;
    const char* id = nullptr;
    std::string decision;
    if (natsMsgHeader_Get(msg, "Nats-Msg-Id", &id) == NATS_OK && id != nullptr) {
      decision = id;
    } else {  // the id is in the JSON too
      auto j = nlohmann::json::parse(std::string(natsMsg_GetData(msg), natsMsg_GetDataLength(msg)),
                                     nullptr, false);
      if (j.is_object() && j.contains("id") && j["id"].is_string()) decision = j["id"];
    }
    natsMsg_Destroy(msg);
    if (decision.empty()) return;
    std::lock_guard<std::mutex> lock(mu_);
    auto d = o_.delay_ms.count(channel) ? o_.delay_ms.at(channel) : o_.delay_ms.at("*");
    double ms = std::uniform_real_distribution<double>(d / 2, d * 3 / 2)(rng_);
    double fail = o_.fail.count(channel) ? o_.fail.at(channel) : 0.0;
    bool failed = std::uniform_real_distribution<double>(0, 1)(rng_) < fail;
    queue_.push({Clock::now() + std::chrono::microseconds(static_cast<int64_t>(ms * 1000)),
                 channel, decision, failed});
    ++received_;
    cv_.notify_one();
  }

  // Publishes receipts as they fall due, until `stop`.
  void Run(natsConnection* nc, const std::atomic<bool>& stop) {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop) {
      if (queue_.empty()) {
        cv_.wait_for(lock, std::chrono::milliseconds(100));
        continue;
      }
      if (queue_.top().due > Clock::now()) {
        cv_.wait_until(lock, std::min(queue_.top().due, Clock::now() + std::chrono::milliseconds(100)));
        continue;
      }
      Pending p = queue_.top();
      queue_.pop();
      std::string body = nlohmann::json{{"decision", p.decision},
                                        {"status", p.failed ? "failed" : "delivered"},
                                        {"at", WallTimestamp()}}
                             .dump();
      std::string subject = o_.receipts_prefix + p.channel;
      natsConnection_Publish(nc, subject.c_str(), body.data(), static_cast<int>(body.size()));
      ++(p.failed ? failed_ : delivered_);
    }
    fprintf(stderr,
            "juncture-deliver: %llu actions received, %llu delivered, %llu failed, %zu still "
            "on their way\n",
            static_cast<unsigned long long>(received_), static_cast<unsigned long long>(delivered_),
            static_cast<unsigned long long>(failed_), queue_.size());
  }

 private:
  const Options& o_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::mt19937_64 rng_;
  std::priority_queue<Pending, std::vector<Pending>, std::greater<Pending>> queue_;
  uint64_t received_ = 0, delivered_ = 0, failed_ = 0;
};

void OnMessage(natsConnection*, natsSubscription*, natsMsg* msg, void* self) {
  static_cast<Deliverer*>(self)->OnAction(msg);
}

// "email=3s", "in_app=40ms", "sms=1.5" (seconds) -> (channel, milliseconds).
bool ParseDelay(const std::string& text, std::string* channel, double* ms) {
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) return false;
  *channel = text.substr(0, eq);
  std::string v = text.substr(eq + 1);
  double scale = 1000;  // seconds by default
  if (v.size() > 2 && v.compare(v.size() - 2, 2, "ms") == 0) {
    scale = 1;
    v.resize(v.size() - 2);
  } else if (!v.empty() && v.back() == 's') {
    v.pop_back();
  }
  try {
    *ms = std::stod(v) * scale;
  } catch (...) {
    return false;
  }
  return *ms >= 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::vector<std::string> delays, fails;
  CLI::App app{"juncture-deliver: answers juncture serve's actions with delivery receipts"};
  app.add_option("--nats", o.url, "NATS server URL")->capture_default_str();
  app.add_option("--delay", delays, "CHANNEL=DURATION (e.g. email=3s, in_app=40ms), repeatable");
  app.add_option("--fail", fails, "CHANNEL=SHARE of deliveries that fail (e.g. sms=0.05)");
  app.add_option("--seed", o.seed, "random seed (delays and failures)")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  for (const std::string& d : delays) {
    std::string channel;
    double ms = 0;
    if (!ParseDelay(d, &channel, &ms)) {
      fprintf(stderr, "juncture-deliver: --delay wants CHANNEL=DURATION, got '%s'\n", d.c_str());
      return 2;
    }
    o.delay_ms[channel] = ms;
  }
  for (const std::string& f : fails) {
    size_t eq = f.find('=');
    double share = -1;
    if (eq != std::string::npos) share = std::atof(f.c_str() + eq + 1);
    if (share < 0 || share > 1) {
      fprintf(stderr, "juncture-deliver: --fail wants CHANNEL=SHARE in 0..1, got '%s'\n", f.c_str());
      return 2;
    }
    o.fail[f.substr(0, eq)] = share;
  }

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  natsConnection* nc = nullptr;
  natsOptions* opts = nullptr;
  natsOptions_Create(&opts);
  natsOptions_SetURL(opts, o.url.c_str());
  natsOptions_SetSendAsap(opts, true);
  natsStatus s = natsConnection_Connect(&nc, opts);
  natsOptions_Destroy(opts);
  if (s != NATS_OK) {
    fprintf(stderr, "juncture-deliver: cannot connect to %s: %s\n", o.url.c_str(),
            natsStatus_GetText(s));
    return 1;
  }
  Deliverer deliverer(o);
  natsSubscription* sub = nullptr;
  s = natsConnection_Subscribe(&sub, nc, o.actions.c_str(), &OnMessage, &deliverer);
  if (s == NATS_OK) s = natsConnection_FlushTimeout(nc, 5000);
  if (s != NATS_OK) {
    fprintf(stderr, "juncture-deliver: cannot subscribe to %s: %s\n", o.actions.c_str(),
            natsStatus_GetText(s));
    return 1;
  }
  fprintf(stderr, "juncture-deliver: answering %s with receipts\n", o.actions.c_str());
  std::atomic<bool> stop{false};
  std::thread worker([&] { deliverer.Run(nc, stop); });
  int sig = 0;
  sigwait(&signals, &sig);
  stop = true;
  worker.join();
  natsSubscription_Unsubscribe(sub);
  natsSubscription_Destroy(sub);
  natsConnection_FlushTimeout(nc, 2000);
  natsConnection_Destroy(nc);
  return 0;
}
