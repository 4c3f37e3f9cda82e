// Core NATS: at-most-once. Each subscription delivers on a NATS.c thread, which
// decides at once (no hand-off to another thread: that would add a wake-up to every
// message's latency); a worker fires timers on the wall clock.
#include <algorithm>
#include <chrono>

#include "server.h"
#include "telemetry.h"

namespace juncture::serve {

bool Server::StartCore(std::string* error) {
  publisher_ = std::make_unique<Publisher>(conn_->get(), log_conn_->get(), nullptr, options_,
                                           metrics_.get());
  worker_ = std::thread([this] { TimerLoop(); });
  for (const std::string& subject : options_.subjects) {
    natsSubscription* sub = nullptr;
    natsStatus s = natsConnection_Subscribe(&sub, conn_->get(), subject.c_str(),
                                            &Server::OnCoreMessage, this);
    if (s != NATS_OK) {
      *error = "cannot subscribe to " + subject + ": " + NatsErrorText(s);
      return false;
    }
    // A burst waits in the client rather than being dropped as a slow consumer.
    natsSubscription_SetPendingLimits(sub, 1 << 20, 1 << 30);
    subscriptions_.emplace_back(sub);
  }
  natsStatus s = natsConnection_FlushTimeout(conn_->get(), 5000);  // subscriptions are live
  if (s != NATS_OK) {
    *error = "cannot reach the server: " + NatsErrorText(s);
    return false;
  }
  return true;
}

void Server::OnCoreMessage(natsConnection*, natsSubscription*, natsMsg* msg, void* self) {
  int64_t receipt_ns = SteadyNs();
  auto* server = static_cast<Server*>(self);
  std::string_view data(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
  server->Decide(data, WallUs(), receipt_ns, msg);  // the publisher destroys it later
}

void Server::TimerLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    int64_t now = WallUs();
    // Also applies a staged reload while no messages come.
    engine_->AdvanceTo(now, *publisher_);
    publisher_->FlushLog();
    publisher_->DestroyRetired();  // at least once a second
    int64_t next = engine_->next_timer();
    // Sleep until the next timer, at most a second.
    timer_wait_until_ = std::min(next, now + 1'000'000);
    cv_.wait_for(lock, std::chrono::microseconds(std::max<int64_t>(timer_wait_until_ - now, 0)));
  }
  timer_wait_until_ = 0;
}

}  // namespace juncture::serve
