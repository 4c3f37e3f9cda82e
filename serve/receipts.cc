#include "receipts.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <new>
#include <optional>
#include <type_traits>
#include <nlohmann/json.hpp>

#include "juncture/runtime/event.h"

namespace juncture::serve {

namespace {

constexpr const char* kStatuses[] = {"delivered", "opened", "clicked", "failed"};

// Writes every page of `bytes` at `p` once (their contents stay zero). calloc maps a
// large block without touching it, so the first write to each page would fault later,
// on the deciding thread, in the middle of an action's publish: a fault costs
// microseconds in a VM, and the index's pages are hit at random, so that nearly every
// one of a fresh book's first ten thousand actions waited for one. The kernel fills
// them in one call where it can (MADV_POPULATE_WRITE, Linux 5.14); else one write per
// page.
void PopulatePages(void* p, size_t bytes) {
  const long page_size = sysconf(_SC_PAGESIZE);
  const uintptr_t page = page_size > 0 ? static_cast<uintptr_t>(page_size) : 4096;
  const uintptr_t start = reinterpret_cast<uintptr_t>(p);
  const uintptr_t end = start + bytes;
#ifdef MADV_POPULATE_WRITE
  const uintptr_t first = (start + page - 1) & ~(page - 1);  // whole pages inside the block
  const uintptr_t last = end & ~(page - 1);
  if (first < last &&
      madvise(reinterpret_cast<void*>(first), last - first, MADV_POPULATE_WRITE) == 0) {
    if (start < first) *reinterpret_cast<volatile char*>(start) = 0;  // the pages at the ends
    if (last < end) *reinterpret_cast<volatile char*>(last) = 0;
    return;
  }
#endif
  for (uintptr_t at = start; at < end; at = (at & ~(page - 1)) + page) {
    *reinterpret_cast<volatile char*>(at) = 0;
  }
}

int StatusIndex(std::string_view s) {
  for (int i = 0; i < 4; ++i) {
    if (s == kStatuses[i]) return i;
  }
  return -1;
}

}  // namespace

const char* ResultName(ReceiptBook::Result r) {
  switch (r) {
    case ReceiptBook::Result::kMatched: return "matched";
    case ReceiptBook::Result::kUnknown: return "unknown";
    case ReceiptBook::Result::kDuplicate: return "duplicate";
    case ReceiptBook::Result::kLate: return "late";
    case ReceiptBook::Result::kMalformed: return "malformed";
  }
  return "?";
}

// The book holds at most `capacity` actions and remembers `capacity` gone between two
// calls, and one more action within one (an action is added, then the oldest leaves).
ReceiptBook::ReceiptBook(int64_t window_us, size_t capacity)
    : window_us_(window_us),
      capacity_(std::max<size_t>(capacity, 1)),
      actions_(capacity_ + 1),
      keys_(2 * capacity_ + 1),
      by_key_(2 * capacity_ + 1) {}

// ---- KeyIndex and Ring ---------------------------------------------------------------

namespace {

// The smallest power of two at least n (n >= 1).
size_t PowerOfTwoAtLeast(size_t n) {
  size_t p = 1;
  while (p < n) p *= 2;
  return p;
}

}  // namespace

template <class T>
std::unique_ptr<T[], ReceiptBook::FreeDeleter> ReceiptBook::Zeroed(size_t n) {
  static_assert(std::is_trivially_copyable_v<T>, "zeroed memory is a valid T");
  void* p = std::calloc(n, sizeof(T));
  if (p == nullptr) throw std::bad_alloc();
  PopulatePages(p, n * sizeof(T));
  return std::unique_ptr<T[], FreeDeleter>(static_cast<T*>(p));
}

ReceiptBook::KeyIndex::KeyIndex(size_t max_keys)
    : mask_(PowerOfTwoAtLeast(2 * max_keys) - 1), slots_(Zeroed<Slot>(mask_ + 1)) {}

template <class T>
ReceiptBook::Ring<T>::Ring(size_t max_items)
    : mask_(PowerOfTwoAtLeast(max_items) - 1), items_(Zeroed<T>(mask_ + 1)) {}

std::optional<uint64_t> ReceiptBook::KeyIndex::Find(const Key& k) const {
  for (size_t i = Home(k);; i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    if (s.value_plus_1 == 0) return std::nullopt;
    if (s.key == k) return s.value_plus_1 - 1;
  }
}

uint64_t& ReceiptBook::KeyIndex::Insert(const Key& k, uint64_t value, bool* added) {
  for (size_t i = Home(k);; i = (i + 1) & mask_) {
    Slot& s = slots_[i];
    if (s.value_plus_1 != 0) {
      if (s.key != k) continue;
      *added = false;
    } else {
      s.key = k;
      s.value_plus_1 = value + 1;
      *added = true;
    }
    // The number is stored plus one; the caller reads and writes it as is.
    static_assert(sizeof(s.value_plus_1) == sizeof(uint64_t));
    return s.value_plus_1;
  }
}

void ReceiptBook::KeyIndex::EraseIf(const Key& k, uint64_t value) {
  const size_t mask = mask_;
  size_t i = Home(k);
  for (;; i = (i + 1) & mask) {
    if (slots_[i].value_plus_1 == 0) return;  // not there
    if (slots_[i].key == k) break;
  }
  if (slots_[i].value_plus_1 != value + 1) return;  // it names a later action
  // Backward shift: the keys after the hole that may move into it do, so that every
  // key stays reachable from its home without tombstones.
  for (size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
    Slot& next = slots_[j];
    if (next.value_plus_1 == 0) break;
    const size_t home = Home(next.key);
    // `next` may fill the hole at i unless its home lies cyclically in (i, j].
    const bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
    if (stays) continue;
    slots_[i] = next;
    i = j;
  }
  slots_[i] = Slot{};
}

// ---- ReceiptBook ----------------------------------------------------------------------

const std::string* ReceiptBook::Intern(std::string_view name) {
  for (const std::string* r : recent_) {
    if (r != nullptr && *r == name) return r;
  }
  const std::string* p;
  auto it = names_.find(name);
  if (it != names_.end()) {
    p = it->second.get();
  } else {
    auto owned = std::make_unique<std::string>(name);
    p = owned.get();
    names_.emplace(std::string_view(*p), std::move(owned));
  }
  recent_[1] = recent_[0];
  recent_[0] = p;
  return p;
}

void ReceiptBook::Sent(std::string_view id, std::string_view journey, std::string_view channel,
                       int64_t signal_us, int64_t published_us, int64_t deadline_us) {
  const Key key = KeyOf(id);
  std::lock_guard<std::mutex> lock(mu_);
  bool added = false;
  uint64_t& number_plus_1 = by_key_.Insert(key, next_, &added);
  if (!added) {
    // A replay publishes the same action again: keep the first. An id that left the
    // book comes back as a new action (its older number is forgotten in its turn,
    // without taking the id along: EraseIf).
    if (number_plus_1 - 1 >= live_) return;
    number_plus_1 = next_ + 1;
  }
  keys_[next_] = key;
  Action& a = actions_[next_];
  a.journey = Intern(journey);
  a.channel = Intern(channel);
  a.signal_us = signal_us;
  a.published_us = published_us;
  a.deadline_us = deadline_us;
  a.statuses = 0;
  ++next_;
  Expire(published_us);
}

void ReceiptBook::Expire(int64_t now_us) {
  while (live_ < next_ &&
         (next_ - live_ > capacity_ || actions_[live_].published_us < now_us - window_us_)) {
    ++live_;
  }
  while (live_ - gone_ > capacity_) {
    by_key_.EraseIf(keys_[gone_], gone_);
    ++gone_;
  }
  // The id forgotten next is known: its slot comes into the cache meanwhile (a cold
  // index is the cost of this book).
  if (gone_ < live_) by_key_.Prefetch(keys_[gone_]);
}

ReceiptBook::Receipt ReceiptBook::Receive(std::string_view json, int64_t now_us) {
  Receipt out;
  nlohmann::json r = nlohmann::json::parse(json.begin(), json.end(), nullptr, false);
  if (r.is_discarded() || !r.is_object()) {
    out.error = "a receipt must be a JSON object";
    return out;
  }
  auto text = [&](const char* key) -> const std::string* {
    auto it = r.find(key);
    return it != r.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
  };
  const std::string* id = text("decision");
  const std::string* status = text("status");
  const std::string* at = text("at");
  int64_t at_us = 0;
  if (id == nullptr || id->empty()) {
    out.error = "a receipt needs \"decision\": the id of a sent decision";
    return out;
  }
  int status_index = status != nullptr ? StatusIndex(*status) : -1;
  if (status_index < 0) {
    out.error = "a receipt's \"status\" must be delivered, opened, clicked or failed";
    return out;
  }
  if (at == nullptr || !runtime::ParseTimestamp(*at, at_us)) {
    out.error = "a receipt's \"at\" must be an ISO-8601 time";
    return out;
  }
  out.status = *status;
  const Key key = KeyOf(*id);
  std::lock_guard<std::mutex> lock(mu_);
  Expire(now_us);
  const std::optional<uint64_t> number = by_key_.Find(key);
  if (!number || *number < live_) {
    out.result = number ? Result::kLate : Result::kUnknown;
    return out;
  }
  Action& a = actions_[*number];
  const uint8_t bit = static_cast<uint8_t>(1u << status_index);
  if (a.statuses & bit) {
    out.result = Result::kDuplicate;
    return out;
  }
  a.statuses |= bit;
  out.result = Result::kMatched;
  out.journey = *a.journey;
  out.channel = *a.channel;
  if (*status == "delivered") {
    out.action_to_customer_us = std::max<int64_t>(0, at_us - a.published_us);
    out.signal_to_customer_us = std::max<int64_t>(0, at_us - a.signal_us);
    if (a.deadline_us > 0 && a.signal_us != 0) {
      out.fit = at_us - a.signal_us <= a.deadline_us ? 1 : 0;
    }
  }
  return out;
}

size_t ReceiptBook::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<size_t>(next_ - live_);
}

}  // namespace juncture::serve
