// Core NATS: at-most-once. Each subscription delivers on a NATS.c thread. With one
// shard, that thread decides at once (no hand-off to another thread: that would add
// a wake-up to every message's latency), and a worker fires timers on the wall
// clock. With several, it hands the message to the shard owning its customer, which
// decides and fires its timers on its own thread.
#include <algorithm>
#include <chrono>
#include <thread>

#include "juncture/runtime/partition.h"

#include "server.h"
#include "telemetry.h"

namespace juncture::serve {

bool Server::StartCore(std::string* error) {
  for (auto& shard : shards_) {
    shard->SetPublisher(std::make_unique<Publisher>(conn_->get(), log_conn_->get(), nullptr,
                                                    nullptr, options_, &shard->telemetry()));
  }
  if (sharded()) {
    // Every ring exists before the first subscription delivers into one.
    for (size_t i = 0; i < options_.subjects.size(); ++i) {
      inputs_.push_back(std::make_unique<Input>());
      inputs_.back()->server = this;
      inputs_.back()->index = i;
      for (auto& shard : shards_) shard->AddInput();
    }
  }
  for (size_t i = 0; i < options_.subjects.size(); ++i) {
    const std::string& subject = options_.subjects[i];
    natsSubscription* sub = nullptr;
    natsStatus s;
    if (sharded()) {
      s = natsConnection_Subscribe(&sub, conn_->get(), subject.c_str(), &Server::OnRoutedMessage,
                                   inputs_[i].get());
    } else {
      s = natsConnection_Subscribe(&sub, conn_->get(), subject.c_str(), &Server::OnCoreMessage,
                                   this);
    }
    if (s != NATS_OK) {
      *error = "cannot subscribe to " + subject + ": " + NatsErrorText(s);
      return false;
    }
    // A burst waits in the client up to these limits; beyond them NATS.c drops
    // messages (a slow consumer): CountDropped counts and logs every one.
    s = natsSubscription_SetPendingLimits(sub, options_.pending_messages,
                                          static_cast<int>(std::min<int64_t>(
                                              options_.pending_bytes, INT32_MAX)));
    subscriptions_.emplace_back(sub);
    dropped_seen_.push_back(0);
    if (s != NATS_OK) {
      *error = "cannot set the pending limits of " + subject + ": " + NatsErrorText(s);
      return false;
    }
  }
  natsStatus s = natsConnection_FlushTimeout(conn_->get(), 5000);  // subscriptions are live
  if (s != NATS_OK) {
    *error = "cannot reach the server: " + NatsErrorText(s);
    return false;
  }
  // Several shards: their threads start once the receipts are set up (Start); what
  // comes meanwhile waits in their rings.
  if (!sharded()) worker_ = std::thread([this] { TimerLoop(); });
  return true;
}

void Server::OnCoreMessage(natsConnection*, natsSubscription* sub, natsMsg* msg, void* self) {
  int64_t receipt_ns = SteadyNs();
  auto* server = static_cast<Server*>(self);
  std::string_view data(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
  // More messages already waiting in NATS.c: the state's commit may wait for them
  // (group commit, see CommitCoreState).
  int pending = 0;
  natsSubscription_GetPending(sub, &pending, nullptr);
  server->Decide(data, WallUs(), receipt_ns, msg, pending > 0);  // the publisher destroys msg
}

void Server::OnRoutedMessage(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  int64_t receipt_ns = SteadyNs();
  auto* input = static_cast<Input*>(closure);
  input->in_flight.fetch_add(1);
  Server& server = *input->server;
  std::string_view data(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
  // By the customer's partition (a message without one goes to shard 0, which makes
  // it a dead letter). Thread-local: one NATS.c thread per subscription.
  thread_local std::string customer;
  size_t k = server.shards_.size(), i = 0;
  if (runtime::CustomerOfMessage(data, &customer)) {
    i = runtime::PartitionOf(customer, server.options_.partitions) % k;
  }
  server.shards_[i]->Enqueue(input->index, msg, receipt_ns, WallUs());
  input->in_flight.fetch_sub(1);
}

void Server::TimerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  Shard& one = shard();
  while (!stopping_) {
    int64_t now = WallUs();
    one.FireTimers(now);  // also applies a staged reload while no messages come
    int64_t next = one.engine().next_timer();
    // Sleep until the next timer, at most a second.
    timer_wait_until_ = std::min(next, now + 1'000'000);
    cv_.wait_for(lock, std::chrono::microseconds(std::max<int64_t>(timer_wait_until_ - now, 0)));
  }
  timer_wait_until_ = 0;
}

void Server::CountDropped() {
  for (size_t i = 0; i < subscriptions_.size(); ++i) {
    int64_t dropped = 0;
    if (natsSubscription_GetDropped(subscriptions_[i].get(), &dropped) != NATS_OK) continue;
    if (dropped <= dropped_seen_[i]) continue;
    int64_t now = dropped - dropped_seen_[i];
    dropped_seen_[i] = dropped;
    metrics_->Dropped("slow_consumer", static_cast<uint64_t>(now));
    Log(std::to_string(now) + " messages dropped on " + options_.subjects[i] +
        " as a slow consumer (" + std::to_string(dropped) + " in all): more arrived than serve "
        "decides; use --jetstream to keep them, or more serve processes");
  }
}

bool Server::DrainCore() {
  // What is in flight until the server takes the unsubscribe is kept whatever the
  // pending limits say, so the drop count is final here (a closed subscription no
  // longer reports it).
  for (SubscriptionPtr& s : subscriptions_) natsSubscription_SetPendingLimits(s.get(), -1, -1);
  CountDropped();
  // Drain: the server stops sending, and NATS.c delivers what it holds to Decide.
  std::vector<bool> draining(subscriptions_.size(), true);
  for (size_t i = 0; i < subscriptions_.size(); ++i) {
    if (natsStatus st = natsSubscription_DrainTimeout(subscriptions_[i].get(), 0); st != NATS_OK) {
      Log("cannot drain " + options_.subjects[i] + ": " + NatsErrorText(st));
      draining[i] = false;
    }
  }
  using Clock = std::chrono::steady_clock;
  const int64_t bound = options_.drain_timeout_ms;
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(bound);
  bool in_time = true;
  for (size_t i = 0; i < subscriptions_.size(); ++i) {
    if (!draining[i]) {
      in_time = false;
      continue;
    }
    int64_t left_ms = 0;  // 0: wait as long as it takes
    if (bound > 0) {
      left_ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now())
                    .count();
      if (left_ms <= 0) left_ms = 1;
    }
    natsStatus st = natsSubscription_WaitForDrainCompletion(subscriptions_[i].get(), left_ms);
    if (st != NATS_OK) in_time = false;
  }
  if (sharded()) {
    // The shards decide what their rings hold, until the bound; what is left then
    // is counted (Shutdown reports it).
    int64_t deadline_ns = bound > 0 ? SteadyNs() + std::max<int64_t>(
                                                      std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                          deadline - Clock::now()).count(), 1)
                                    : 0;
    if (!in_time) deadline_ns = SteadyNs();  // out of time already: count the rest
    for (auto& shard : shards_) shard->Stop(deadline_ns);
    for (size_t i = 0; i < subscriptions_.size(); ++i) {
      if (draining[i]) {
        natsSubscription_WaitForDrainCompletion(subscriptions_[i].get(), 0);
      } else {
        natsSubscription_Unsubscribe(subscriptions_[i].get());
      }
    }
    // No subscription delivers any more (an unsubscribed one may still be in its
    // callback: waited for, briefly): what a late delivery left in a ring is counted
    // with the rest.
    for (auto& input : inputs_) {
      for (int k = 0; k < 1000 && input->in_flight.load() > 0; ++k) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
    uint64_t undecided = 0;
    for (auto& shard : shards_) {
      shard->SweepRings();
      undecided += shard->undecided();
    }
    if (undecided > 0) {
      Log("the drain took longer than --drain-timeout-ms (" + std::to_string(bound) + ")");
    }
    return in_time && undecided == 0;
  }
  if (in_time) return true;
  // Out of time (or a drain that could not start): Decide now only counts what
  // NATS.c still delivers, quickly; a subscription that is not draining is closed.
  {
    std::lock_guard<std::mutex> lock(mu_);
    accepting_ = false;
  }
  for (size_t i = 0; i < subscriptions_.size(); ++i) {
    if (draining[i]) {
      natsSubscription_WaitForDrainCompletion(subscriptions_[i].get(), 0);
    } else {
      natsSubscription_Unsubscribe(subscriptions_[i].get());
    }
  }
  std::lock_guard<std::mutex> lock(mu_);  // Shutdown reports what was not decided
  if (undecided_ > 0) {
    Log("the drain took longer than --drain-timeout-ms (" + std::to_string(bound) + ")");
  }
  return undecided_ == 0;
}

}  // namespace juncture::serve
