#include "state_writer.h"

#include <utility>

namespace juncture::serve {

StateWriter::StateWriter(store::StateStore& store) : store_(store) {}

StateWriter::~StateWriter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void StateWriter::Start(runtime::StateChanges&& changes, std::string position,
                        std::function<void()> on_done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    changes_ = std::move(changes);
    position_ = std::move(position);
    on_done_ = std::move(on_done);
    result_.reset();
    writing_ = true;
    started_ = true;
  }
  if (!thread_.joinable()) thread_ = std::thread([this] { Run(); });
  cv_.notify_all();
}

bool StateWriter::started() const {
  std::lock_guard<std::mutex> lock(mu_);
  return started_;
}

std::optional<Status> StateWriter::TakeResult() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!started_ || writing_) return std::nullopt;
  started_ = false;
  Status s = std::move(*result_);
  result_.reset();
  // Written: every customer that left memory has its last piece in the store.
  if (s.ok() && !store_.has_unwritten()) evicted_unwritten_ = false;
  return s;
}

Status StateWriter::Wait() {
  WaitIdle();
  std::optional<Status> s = TakeResult();
  return s ? *std::move(s) : OkStatus();
}

void StateWriter::WaitIdle() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return !writing_; });
}

bool StateWriter::CustomersStale() const {
  return evicted_unwritten_ && store_.has_unwritten();
}

void StateWriter::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || writing_; });
    if (writing_) {
      runtime::StateChanges changes = std::move(changes_);
      std::string position = std::move(position_);
      std::function<void()> on_done = std::move(on_done_);
      lock.unlock();
      Status s = store_.CommitChanges(std::move(changes), position, /*sync=*/true);
      lock.lock();
      result_ = std::move(s);
      writing_ = false;
      cv_.notify_all();
      lock.unlock();
      if (on_done) on_done();
      lock.lock();
      continue;
    }
    if (stopping_) return;
  }
}

Result<bool> StateWriter::Find(std::string_view customer, std::string* piece) {
  WaitIdle();
  if (CustomersStale()) {
    return IoError("the state store's last write failed: a customer that left memory "
                   "before it was written cannot be read back until a write succeeds");
  }
  return store_.Find(customer, piece);
}

Status StateWriter::ForEach(const std::function<void(std::string_view, std::string_view)>& fn) {
  WaitIdle();
  if (CustomersStale()) {
    return IoError("the state store's last write failed: the customers that left memory "
                   "before it was written cannot be read back until a write succeeds");
  }
  return store_.ForEach(fn);
}

Status StateWriter::TimersAfter(
    int64_t due_us, uint64_t seq, size_t limit,
    const std::function<void(int64_t, uint64_t, std::string_view)>& fn) {
  WaitIdle();  // the store includes what it was handed and has not written
  return store_.TimersAfter(due_us, seq, limit, fn);
}

}  // namespace juncture::serve
