// The evaluation context of a decision and the windows it reads (count, sum,
// time_since over the customer's own recent events; docs/language.md). Windows end at
// the decision time, include the current message, and start `within` before it
// (inclusive).
#include <algorithm>

#include "exec/engine_impl.h"
#include "juncture/runtime/record.h"

namespace juncture::runtime {
namespace {

// time_since of an event never seen: "a very large duration" (about 146,000 years).
constexpr int64_t kNever = int64_t{1} << 62;

}  // namespace

JnValue Engine::Impl::WindowCallback(void* host, uint32_t slot) {
  auto* h = static_cast<EvalHost*>(host);
  return h->engine->Window(*h, slot);
}

const char* Engine::Impl::AllocCallback(void* host, const char* data, uint32_t len) {
  auto* h = static_cast<EvalHost*>(host);
  h->strings.emplace_front(data, len);
  return h->strings.front().data();
}

JnContext Engine::Impl::Context(EvalHost& host, const std::string& customer,
                                const Record* event) const {
  JnContext ctx{};
  ctx.event = event ? event->data() : nullptr;
  ctx.profile = host.customer->profile->data();
  ctx.now_us = host.at;
  ctx.customer = JnStr{customer.data(), static_cast<uint32_t>(customer.size()), -1};
  ctx.host = &host;
  ctx.window = &WindowCallback;
  ctx.alloc = &AllocCallback;
  return ctx;
}

JnValue Engine::Impl::Window(EvalHost& host, uint32_t slot) {
  const WindowSpec& w = spec_->windows[slot];
  CustomerState& c = *host.customer;
  JnValue v{};
  v.type = w.result_type;
  if (w.kind == WindowKind::kTimeSince) {
    auto it = c.last_seen.find(w.event_type);
    v.i = it == c.last_seen.end() ? kNever : host.at - it->second;
    return v;
  }
  auto h = c.history.find(w.event_type);
  if (h == c.history.end()) return v;
  int64_t count = 0, int_sum = 0;
  double float_sum = 0;
  const auto& history = h->second;
  // The window's events, found by binary search: a customer's history is in time
  // order (the engine's time never goes back, and each event is recorded at it). Only
  // the latest max_window_events events count (EngineLimits; older ones beyond it may
  // still sit at the front until they are erased in a batch).
  using Entry = std::pair<int64_t, RecordPtr>;
  const auto begin = history.begin() + static_cast<std::ptrdiff_t>(HistoryStart(history));
  const auto first = std::lower_bound(begin, history.end(), host.at - w.within_us,
                                      [](const Entry& e, int64_t t) { return e.first < t; });
  const auto last = std::upper_bound(first, history.end(), host.at,
                                     [](int64_t t, const Entry& e) { return t < e.first; });
  if (w.kind == WindowKind::kCount && w.where == kNoExpr) {
    v.i = last - first;  // O(log n), however many events the window holds
    return v;
  }
  for (auto it = first; it != last; ++it) {
    const auto& [time, record] = *it;
    if (w.where != kNoExpr) {
      const JnStr& who = RecordView(record->data()).header().customer;
      std::string customer(who.data, who.len);
      EvalHost inner{this, &c, host.at, {}};
      JnContext ctx = Context(inner, customer, record.get());
      bool keep = program_.evaluator->Test(w.where, ctx);
      stats_.div_by_zero += ctx.div_by_zero;
      if (!keep) continue;
    }
    ++count;
    if (w.kind == WindowKind::kSum) {
      RecordView r(record->data());
      if (!r.IsPresent(JN_EVENT_PRESENT_OFFSET, w.field_presence_bit)) continue;
      if (w.field_type == JN_FLOAT) {
        float_sum += r.GetFloat(w.field_offset);
      } else {
        int_sum = static_cast<int64_t>(static_cast<uint64_t>(int_sum) +
                                       static_cast<uint64_t>(r.GetInt(w.field_offset)));
      }
    }
  }
  if (w.kind == WindowKind::kCount) {
    v.i = count;
  } else if (w.result_type == JN_FLOAT) {
    v.f = float_sum;
  } else {
    v.i = int_sum;
  }
  return v;
}

}  // namespace juncture::runtime
