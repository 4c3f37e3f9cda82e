#include "receipts.h"

#include <algorithm>
#include <type_traits>
#include <nlohmann/json.hpp>

#include "juncture/runtime/event.h"

namespace juncture::serve {

namespace {

constexpr const char* kStatuses[] = {"delivered", "opened", "clicked", "failed"};

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

ReceiptBook::ReceiptBook(int64_t window_us, size_t capacity)
    : window_us_(window_us), capacity_(std::max<size_t>(capacity, 1)) {}

void ReceiptBook::Sent(std::string_view id, std::string_view journey, std::string_view channel,
                       int64_t signal_us, int64_t published_us, int64_t deadline_us) {
  const Key key = KeyOf(id);
  std::lock_guard<std::mutex> lock(mu_);
  if (actions_.count(key) > 0) return;  // a replay publishes the same action again: keep the first
  ActionNode node = TakeNode(actions_, spare_actions_);
  node.key() = key;
  Action& a = node.mapped();
  a.journey.assign(journey);  // into the reused node's capacity
  a.channel.assign(channel);
  a.signal_us = signal_us;
  a.published_us = published_us;
  a.deadline_us = deadline_us;
  a.statuses = 0;
  actions_.insert(std::move(node));
  order_.emplace_back(published_us, key);
  Expire(published_us);
}

template <class Table>
typename Table::node_type ReceiptBook::TakeNode(Table& table,
                                                std::vector<typename Table::node_type>& spare) {
  if (spare.empty()) {
    // A node of its own: inserted and taken out again (node handles have no other
    // public constructor).
    static const Key kFresh{~uint64_t{0}, ~uint64_t{0}};
    if constexpr (std::is_same_v<Table, std::unordered_set<Key, KeyHash>>) {
      return table.extract(table.insert(kFresh).first);
    } else {
      return table.extract(table.try_emplace(kFresh).first);
    }
  }
  typename Table::node_type node = std::move(spare.back());
  spare.pop_back();
  return node;
}

void ReceiptBook::Expire(int64_t now_us) {
  while (!order_.empty() &&
         (order_.size() > capacity_ || order_.front().first < now_us - window_us_)) {
    const Key id = order_.front().second;
    order_.pop_front();
    if (auto it = actions_.find(id); it != actions_.end()) {
      spare_actions_.push_back(actions_.extract(it));
    }
    if (gone_.count(id) == 0) {
      GoneNode node = TakeNode(gone_, spare_gone_);
      node.value() = id;
      gone_.insert(std::move(node));
      gone_order_.push_back(id);
    }
    if (gone_order_.size() > capacity_) {
      if (auto it = gone_.find(gone_order_.front()); it != gone_.end()) {
        spare_gone_.push_back(gone_.extract(it));
      }
      gone_order_.pop_front();
    }
  }
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
  auto it = actions_.find(key);
  if (it == actions_.end()) {
    out.result = gone_.count(key) ? Result::kLate : Result::kUnknown;
    return out;
  }
  Action& a = it->second;
  const uint8_t bit = static_cast<uint8_t>(1u << status_index);
  if (a.statuses & bit) {
    out.result = Result::kDuplicate;
    return out;
  }
  a.statuses |= bit;
  out.result = Result::kMatched;
  out.journey = a.journey;
  out.channel = a.channel;
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
  return actions_.size();
}

}  // namespace juncture::serve
