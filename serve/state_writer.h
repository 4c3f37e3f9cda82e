// A state store written from a thread of its own, so that the deciding thread goes on
// while a checkpoint's changes reach the disk (serve --jetstream with one shard).
//
// The deciding thread takes the changes from its engine (that needs the engine) and
// hands them over with Start; the writer thread writes them with an fsync and calls
// `on_done`. The deciding thread then collects the result with TakeResult (or waits
// for it with Wait) before it acknowledges what the checkpoint covers.
//
// The engine reads customers and timers back through this object (it is the engine's
// CustomerSource): a read waits until the write in flight is done, so the engine sees
// the store as if every write were synchronous. One write at a time; the store itself
// is touched by one thread at a time (the writer while a write is in flight, the
// deciding thread otherwise).
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "juncture/runtime/state_changes.h"
#include "juncture/store/state_store.h"

namespace juncture::serve {

class StateWriter : public runtime::CustomerSource {
 public:
  explicit StateWriter(store::StateStore& store);
  ~StateWriter() override;  // waits for the write in flight, then stops the thread
  StateWriter(const StateWriter&) = delete;
  StateWriter& operator=(const StateWriter&) = delete;

  // Writes `changes` at `position`, synced, on the writer thread
  // (StateStore::CommitChanges), then calls `on_done` there (e.g. to wake the deciding
  // thread's loop). Only when idle (after TakeResult or Wait).
  void Start(runtime::StateChanges&& changes, std::string position,
             std::function<void()> on_done);
  // True from Start until the write's result is taken.
  bool started() const;
  // The result of the started write once it is done; nullopt while it is not (or
  // nothing was started). The write is then over: the store is the caller's again.
  std::optional<Status> TakeResult();
  // Waits for the started write and returns its result (OK if none was started).
  Status Wait();

  // Customers left memory before the write that holds their last changes is done.
  // Should that write fail, the store does not have them: until a write succeeds,
  // reading a customer back is refused (an I/O error) rather than given stale.
  void EvictedBeforeWritten() { evicted_unwritten_ = true; }
  // The store has every change (a synchronous commit succeeded).
  void CaughtUp() { evicted_unwritten_ = false; }

  // runtime::CustomerSource: each waits for the write in flight, then reads the store.
  Result<bool> Find(std::string_view customer, std::string* piece) override;
  Status ForEach(const std::function<void(std::string_view, std::string_view)>& fn) override;
  Status TimersAfter(int64_t due_us, uint64_t seq, size_t limit,
                     const std::function<void(int64_t, uint64_t, std::string_view)>& fn) override;

 private:
  void Run();
  // Waits until no write is in flight (the result may still be untaken).
  void WaitIdle();
  // A customer's piece may be older than its last changes (see EvictedBeforeWritten).
  bool CustomersStale() const;

  store::StateStore& store_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  // Under mu_:
  bool stopping_ = false;
  bool writing_ = false;          // a job is in flight on the writer thread
  bool started_ = false;          // Start was called and its result not yet taken
  std::optional<Status> result_;  // of the last write, once done
  runtime::StateChanges changes_;
  std::string position_;
  std::function<void()> on_done_;
  // Only the deciding thread's:
  bool evicted_unwritten_ = false;
  std::thread thread_;  // started by the first Start
};

}  // namespace juncture::serve
