#include "nats_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>

namespace juncture::serve {

// Lock order: NATS.c calls the callbacks below holding its connection's lock, and
// they take mu_; so nothing here calls into NATS.c while holding mu_.

Result<std::unique_ptr<NatsLoop>> NatsLoop::Create() {
  std::unique_ptr<NatsLoop> loop(new NatsLoop());
  loop->epoll_ = epoll_create1(EPOLL_CLOEXEC);
  loop->wake_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;  // the wake-up
  if (loop->epoll_ < 0 || loop->wake_ < 0 ||
      epoll_ctl(loop->epoll_, EPOLL_CTL_ADD, loop->wake_, &ev) != 0) {
    return InternalError(std::string("cannot create the event loop: ") + std::strerror(errno));
  }
  return loop;
}

NatsLoop::~NatsLoop() {
  if (wake_ >= 0) close(wake_);
  if (epoll_ >= 0) close(epoll_);
}

natsStatus NatsLoop::Use(natsOptions* opts) {
  return natsOptions_SetEventLoop(opts, this, &NatsLoop::OnAttach, &NatsLoop::OnRead,
                                  &NatsLoop::OnWrite, &NatsLoop::OnDetach);
}

void NatsLoop::Watch(Conn* c) {
  if (!c->attached || c->fd < 0) return;
  epoll_event ev{};
  ev.events = (c->reading ? EPOLLIN : 0u) | (c->polling_out ? EPOLLOUT : 0u);
  ev.data.ptr = c;
  epoll_ctl(epoll_, EPOLL_CTL_MOD, c->fd, &ev);
}

int NatsLoop::Poll(int64_t timeout_us) {
  std::array<epoll_event, 8> events;
  timespec wait{};
  wait.tv_sec = static_cast<time_t>(timeout_us / 1'000'000);
  wait.tv_nsec = static_cast<long>(timeout_us % 1'000'000) * 1000;
  int n = epoll_pwait2(epoll_, events.data(), static_cast<int>(events.size()),
                       timeout_us < 0 ? nullptr : &wait, nullptr);
  int reads = 0;
  for (int i = 0; i < n; ++i) {
    auto* c = static_cast<Conn*>(events[i].data.ptr);
    if (c == nullptr) {
      uint64_t count = 0;
      while (read(wake_, &count, sizeof count) > 0) {
      }
      continue;
    }
    if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
      // NATS.c reads once (up to its buffer); the socket stays readable if more is
      // there, and the next Poll reads again.
      natsConnection_ProcessReadEvent(c->nc);
      ++reads;
    }
    if (events[i].events & EPOLLOUT) c->write_wanted = true;  // Flush writes the rest
  }
  return reads;
}

bool NatsLoop::Flush() {
  bool all_written = true;
  std::array<Conn*, 8> conns{};
  size_t k = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& c : conns_) {
      if (k < conns.size() && c->attached) conns[k++] = c.get();
    }
  }
  for (size_t i = 0; i < k; ++i) {
    Conn* c = conns[i];
    if (c->write_wanted.load(std::memory_order_acquire)) {
      // Writes what it can; on a complete write NATS.c calls OnWrite(false).
      natsConnection_ProcessWriteEvent(c->nc);
    }
    // Not all written: the rest goes when the socket can take it (EPOLLOUT).
    bool partial = c->write_wanted.load(std::memory_order_acquire);
    if (partial) all_written = false;
    std::lock_guard<std::mutex> lock(mu_);
    if (partial != c->polling_out) {
      c->polling_out = partial;
      Watch(c);
    }
  }
  return all_written;
}

bool NatsLoop::Backlogged(int bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& c : conns_) {
    int unread = 0;
    if (c->attached && c->fd >= 0 && ioctl(c->fd, FIONREAD, &unread) == 0 && unread >= bytes) {
      return true;
    }
  }
  return false;
}

void NatsLoop::Wake() {
  uint64_t one = 1;
  ssize_t ignored = write(wake_, &one, sizeof one);
  (void)ignored;  // a full counter still wakes the loop
}

natsStatus NatsLoop::OnAttach(void** user, void* loop_ptr, natsConnection* nc, natsSock fd) {
  auto* loop = static_cast<NatsLoop*>(loop_ptr);
  std::lock_guard<std::mutex> lock(loop->mu_);
  auto* c = static_cast<Conn*>(*user);
  if (c == nullptr) {  // the first attach; a reconnect brings the same one back
    loop->conns_.push_back(std::make_unique<Conn>());
    c = loop->conns_.back().get();
    c->loop = loop;
    c->nc = nc;
    *user = c;
  }
  c->fd = fd;
  c->reading = true;
  c->polling_out = false;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = c;
  if (epoll_ctl(loop->epoll_, EPOLL_CTL_ADD, fd, &ev) != 0 &&
      (errno != EEXIST || epoll_ctl(loop->epoll_, EPOLL_CTL_MOD, fd, &ev) != 0)) {
    return NATS_ERR;
  }
  c->attached = true;
  return NATS_OK;
}

natsStatus NatsLoop::OnRead(void* user, bool add) {
  auto* c = static_cast<Conn*>(user);
  std::lock_guard<std::mutex> lock(c->loop->mu_);
  c->reading = add;
  c->loop->Watch(c);
  return NATS_OK;
}

natsStatus NatsLoop::OnWrite(void* user, bool add) {
  auto* c = static_cast<Conn*>(user);
  c->write_wanted.store(add, std::memory_order_release);
  // The loop's own publishes are written by its next Flush; another thread's need a
  // wake-up.
  if (add && std::this_thread::get_id() != c->loop->owner_) c->loop->Wake();
  return NATS_OK;
}

natsStatus NatsLoop::OnDetach(void* user) {
  auto* c = static_cast<Conn*>(user);
  std::lock_guard<std::mutex> lock(c->loop->mu_);
  if (c->attached && c->fd >= 0) epoll_ctl(c->loop->epoll_, EPOLL_CTL_DEL, c->fd, nullptr);
  c->attached = false;
  c->write_wanted = false;
  return NATS_OK;
}

}  // namespace juncture::serve
