// Core NATS: at-most-once. With one shard, one thread (CoreLoop) reads the sockets,
// decides what came and fires the timers on the wall clock, and writes the actions
// and the decision log once per batch (nats_loop.h): no hand-off between threads.
// With several, each subscription delivers on a NATS.c thread, which hands the
// message to the shard owning its customer; the shard decides and fires its timers
// on its own thread.
#include <algorithm>
#include <chrono>
#include <thread>

#include "juncture/runtime/partition.h"

#include "server.h"
#include "telemetry.h"

namespace juncture::serve {

namespace {
// A round that took this many messages means they come faster than the loop turns
// round: it waits --busy-wait-us before reading again (the rounds at 20,000 events/s
// take 1-2 messages on average, at 50,000/s about 8: docs/performance.md §9).
constexpr size_t kBusyRound = 8;
// Unless a socket already holds this much (half of what NATS.c reads at once, by
// default): then the next round is large anyway, and waiting would only slow the
// catching up.
constexpr int kBacklogBytes = 16 * 1024;
}  // namespace

Status Server::StartCore() {
  // One shard: its thread writes the connections once per batch, actions first, so
  // that the decision log can share the actions' connection (one write per batch,
  // not two). Several: the log's own connection keeps it from delaying an action
  // sent at once.
  natsConnection* log = sharded() ? log_conn_->get() : conn_->get();
  for (auto& shard : shards_) {
    shard->SetPublisher(std::make_unique<Publisher>(conn_->get(), log, nullptr, nullptr,
                                                    options_, &shard->telemetry()));
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
      s = natsConnection_SubscribeSync(&sub, conn_->get(), subject.c_str());  // CoreLoop takes
    }
    if (s != NATS_OK) {
      return UnavailableError("cannot subscribe to " + subject + ": " + NatsErrorText(s));
    }
    // A burst waits in the client up to these limits; beyond them NATS.c drops
    // messages (a slow consumer): CountDropped counts and logs every one.
    s = natsSubscription_SetPendingLimits(sub, options_.pending_messages,
                                          static_cast<int>(std::min<int64_t>(
                                              options_.pending_bytes, INT32_MAX)));
    subscriptions_.emplace_back(sub);
    dropped_seen_.push_back(0);
    if (s != NATS_OK) {
      return UnavailableError("cannot set the pending limits of " + subject + ": " +
                              NatsErrorText(s));
    }
  }
  // One shard: the loop writes the subscriptions (and the flush's PING) and reads
  // the answer. Several: their threads start once the receipts are set up (Start);
  // what comes meanwhile waits in their rings.
  if (!sharded()) {
    subscription_done_.assign(subscriptions_.size(), false);
    shard().publisher().set_writes_deferred(true);
    worker_ = std::thread([this] { CoreLoop(); });
  }
  natsStatus s = natsConnection_FlushTimeout(conn_->get(), 5000);  // subscriptions are live
  if (s != NATS_OK) {
    return UnavailableError("cannot reach the server: " + NatsErrorText(s));
  }
  return OkStatus();
}

bool Server::TakeReceived() {
  constexpr size_t kBatch = 64;  // decided before their actions are written
  batch_.clear();
  for (size_t i = 0; i < subscriptions_.size(); ++i) {
    if (subscription_done_[i]) continue;
    natsSubscription* sub = subscriptions_[i].get();
    int pending = 0;
    if (natsSubscription_GetPending(sub, &pending, nullptr) != NATS_OK) {
      subscription_done_[i] = true;  // drained (or closed)
      continue;
    }
    // Draining and empty: asked once more (NATS.c completes the drain in NextMsg; it
    // waits up to 1 ms for the server's confirmation of the drain).
    int64_t wait_ms = pending == 0 && draining_ ? 1 : 0;
    if (pending == 0 && wait_ms == 0) continue;
    for (int k = std::max(pending, 1); k > 0 && batch_.size() < kBatch; --k) {
      natsMsg* m = nullptr;
      natsStatus st = natsSubscription_NextMsg(&m, sub, wait_ms);
      if (st == NATS_OK) {
        batch_.push_back(m);
      } else if (st == NATS_INVALID_SUBSCRIPTION || st == NATS_CONNECTION_CLOSED) {
        subscription_done_[i] = true;
        break;
      } else if (st != NATS_SLOW_CONSUMER) {  // (reported once, by the error callback too)
        break;
      }
    }
  }
  for (size_t i = 0; i < subscriptions_.size(); ++i) {
    int pending = 0;
    if (!subscription_done_[i] &&
        natsSubscription_GetPending(subscriptions_[i].get(), &pending, nullptr) == NATS_OK &&
        pending > 0) {
      return true;
    }
  }
  return false;
}

void Server::CoreLoop() {
  loop_->BindToThisThread();
  Shard& one = shard();
  int64_t wait_us = 0;
  int64_t next_fire_us = 0;  // the next timer, or a second after the last round
  while (!stopping_) {
    loop_->Poll(wait_us);
    // What one read brought was received now: one clock for the batch.
    const int64_t receipt_ns = SteadyNs();
    const int64_t clock_us = WallUs();
    std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
    if (!lock.owns_lock()) {  // a reload or the shutdown holds the shard: come back soon
      loop_->Flush();         // (while it may wait for a flush of its own)
      wait_us = 200;
      continue;
    }
    bool more = TakeReceived();
    const size_t taken = batch_.size();
    if (taken > 0) metrics_->Round();
    for (size_t i = 0; i < batch_.size(); ++i) {
      natsMsg* m = batch_[i];
      std::string_view data(natsMsg_GetData(m), static_cast<size_t>(natsMsg_GetDataLength(m)));
      // Committed after the batch's writes, below (or by a group commit's bounds).
      DecideLocked(data, clock_us, receipt_ns, m, i + 1 < batch_.size());
    }
    one.publisher().FlushLog();  // (the batch's last message did, unless not decided)
    if (accepting_ && clock_us >= next_fire_us) {
      // Commits before the writes, the messages' changes with the timers': a timer's
      // send must not go out again after a crash.
      one.FireTimers(clock_us);  // also applies a staged reload
      next_fire_us = std::min(one.engine().next_timer(), clock_us + 1'000'000);
    } else {
      next_fire_us = std::min(next_fire_us, one.engine().next_timer());
    }
    // The batch's actions and decision log: one write per connection.
    const bool all_written = loop_->Flush();
    one.publisher().Written(SteadyNs());
    // The messages' state after their actions: a lone message's action does not wait
    // for the store (docs/state.md: what a crash can lose).
    one.CommitPending();
    lock.unlock();
    if (more) {
      wait_us = 0;
    } else if (options_.busy_wait_us > 0 && taken >= kBusyRound && !draining_ && all_written &&
               !loop_->Backlogged(kBacklogBytes)) {
      // A busy round: what comes meanwhile is read together (the timers wait as long);
      // not when some of the round's writes are still to go, or a backlog waits.
      std::this_thread::sleep_for(std::chrono::microseconds(options_.busy_wait_us));
      wait_us = 0;
    } else {
      wait_us = std::clamp<int64_t>(next_fire_us - WallUs(), 0, 1'000'000);
      if (draining_) wait_us = std::min<int64_t>(wait_us, 1000);
    }
  }
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
  // Drain: the server stops sending, and NATS.c delivers what it holds to Decide
  // (several shards) or CoreLoop takes it (one).
  draining_ = true;
  if (loop_) loop_->Wake();
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
