// An event loop that drives NATS.c connections from one thread of ours, through
// NATS.c's external event-loop interface (natsOptions_SetEventLoop).
//
// Without it, NATS.c reads each connection's socket on a thread of its own and hands
// every message to a subscription's delivery thread; with "send asap" every publish is
// one write. A message then costs two thread wake-ups and a write per action, which on
// a virtual machine is most of serve's CPU. With the loop, the thread that decides
// also reads the sockets (Poll), takes what arrived from synchronous subscriptions
// (natsSubscription_NextMsg with no wait), decides it, and writes what it published
// in one write per connection (Flush): one read and one or two writes per batch of
// messages, and no hand-off between threads.
//
// Other threads may still publish on a connection the loop drives (NATS.c's timers,
// delivery receipts, a reload on the main thread): NATS.c then asks for a write
// (the write callback), and the loop is woken (an eventfd) to write it.
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "juncture/status.h"

namespace juncture::serve {

class NatsLoop {
 public:
  // An internal error if the kernel refuses an epoll or an eventfd.
  static Result<std::unique_ptr<NatsLoop>> Create();
  ~NatsLoop();
  NatsLoop(const NatsLoop&) = delete;
  NatsLoop& operator=(const NatsLoop&) = delete;

  // Makes a connection created with `opts` attach to this loop (before Connect).
  natsStatus Use(natsOptions* opts);

  // The loop's thread: the one calling Poll and Flush (set once, before the first).
  void BindToThisThread() { owner_ = std::this_thread::get_id(); }

  // Waits up to `timeout_us` (0: not at all) for a socket to be readable or for a
  // wake-up, and lets NATS.c read what came (messages go to their subscriptions).
  // Returns how many sockets were read.
  int Poll(int64_t timeout_us);
  // Writes what the connections buffered (one write each); what the socket does not
  // take now goes when it becomes writable (the next Poll). False if some was left.
  bool Flush();
  // Whether a connection's socket holds at least `bytes` not read yet (the kernel's
  // count): more than the next read would take, or close to it.
  bool Backlogged(int bytes);
  // Makes a Poll that waits (or the next) return at once. Any thread.
  void Wake();

 private:
  // One connection; kept (and reused on a reconnect) until the loop ends.
  struct Conn {
    NatsLoop* loop = nullptr;
    natsConnection* nc = nullptr;
    int fd = -1;
    bool attached = false;
    bool reading = true;
    bool polling_out = false;  // EPOLLOUT asked: the last write was partial
    std::atomic<bool> write_wanted{false};
  };

  NatsLoop() = default;
  void Watch(Conn* c);  // applies c's interests to the epoll set; under mu_

  static natsStatus OnAttach(void** user, void* loop, natsConnection* nc, natsSock fd);
  static natsStatus OnRead(void* user, bool add);
  static natsStatus OnWrite(void* user, bool add);
  static natsStatus OnDetach(void* user);

  int epoll_ = -1;
  int wake_ = -1;  // eventfd
  std::atomic<std::thread::id> owner_{};
  std::mutex mu_;  // conns_ and each Conn's fd, attached, reading, polling_out
  std::vector<std::unique_ptr<Conn>> conns_;
};

}  // namespace juncture::serve
