// The evaluation context of a decision and the windows it reads (count, sum,
// time_since over the customer's own recent events; docs/language.md). Windows end at
// the decision time, include the current message, and start `within` before it
// (inclusive).
//
// What a read costs (docs/performance.md, "One hot customer"):
// - time_since: O(1), the type's latest time;
// - count without `where`: O(log n), a binary search in the time-ordered history;
// - count with a `where` that reads only the event, and sum: over 16 events, O(1)
//   per event that entered or left the window since the last read (a WindowRun kept
//   in the customer's history of the type from then on); up to 16, summed at once (no memory kept);
//   the `where` evaluated once per event either way;
// - an event whose record the history did not keep (recorded while its type's
//   windows only counted it, before a reload added a sum or a `where`) counts in a
//   count without `where` only;
// - count or sum with a `where` that reads more (the profile, the time, the
//   customer): every event in the window, on every read.
#include <algorithm>

#include "exec/engine_impl.h"
#include "juncture/runtime/record.h"

namespace juncture::runtime {
namespace {

// time_since of an event never seen: "a very large duration" (about 146,000 years).
constexpr int64_t kNever = int64_t{1} << 62;

// The first event of `history` at or after `from` among those windows read.
EventHistory::const_iterator FirstFrom(const EventHistory& history, uint64_t max, int64_t from) {
  return std::lower_bound(history.ReadFrom(max), history.end(), from,
                          [](const EventHistory::Entry& e, int64_t t) { return e.first < t; });
}

// Past the last event of `history` at or before `to`, searching from `first`.
EventHistory::const_iterator EndAt(EventHistory::const_iterator first,
                                   const EventHistory& history, int64_t to) {
  return std::upper_bound(first, history.end(), to,
                          [](int64_t t, const EventHistory::Entry& e) { return t < e.first; });
}

}  // namespace

JnValue Engine::Impl::WindowCallback(void* host, uint32_t slot) {
  auto* h = static_cast<EvalHost*>(host);
  return h->engine->Window(*h, slot);
}

const char* Engine::Impl::AllocCallback(void* host, const char* data, uint32_t len) {
  auto* h = static_cast<EvalHost*>(host);
  if (!h->strings) h->strings = std::make_unique<std::forward_list<std::string>>();
  h->strings->emplace_front(data, len);
  return h->strings->front().data();
}

JnContext Engine::Impl::Context(EvalHost& host, std::string_view customer,
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

void Engine::Impl::IndexWindows() {
  where_bit_.assign(spec_->windows.size(), -1);
  where_windows_.assign(spec_->events.size(), {});
  for (uint32_t slot = 0; slot < spec_->windows.size(); ++slot) {
    const WindowSpec& w = spec_->windows[slot];
    if (w.kind == WindowKind::kTimeSince || w.where == kNoExpr || !w.where_reads_event_only) continue;
    std::vector<uint32_t>& windows = where_windows_[w.event_type];
    if (windows.size() == 64) continue;  // beyond the bits: evaluated on every read
    where_bit_[slot] = static_cast<int>(windows.size());
    windows.push_back(slot);
  }
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
  EventHistory& history = h->second;
  const auto first = FirstFrom(history, limits_.max_window_events, host.at - w.within_us);
  const auto last = EndAt(first, history, host.at);
  if (w.kind == WindowKind::kCount && w.where == kNoExpr) {
    v.i = last - first;  // O(log n), however many it holds
    return v;
  }
  // A few events are summed at once; more, by a running window (kept from then on).
  constexpr std::ptrdiff_t kFew = 16;
  const bool event_only = w.where == kNoExpr || where_bit_[slot] >= 0;
  if (event_only && (last - first > kFew || history.HasRun(slot)) &&
      RunningWindow(host, slot, history, v)) {
    return v;
  }
  if (w.where != kNoExpr && event_only) {
    WhereBits(c, w.event_type, history, history.IndexOf(last));
  }
  ScanWindow(host, w, slot, history, first, last, v);
  return v;
}

void Engine::Impl::WhereBits(CustomerState& c, uint32_t event_type, EventHistory& history,
                             uint64_t index) {
  const std::vector<uint32_t>& windows = where_windows_[event_type];
  for (uint64_t i = history.where_known(); i < index; ++i) {
    if (!history.Get(i).second) {  // its fields were not kept: no `where` holds
      history.AddWhere(0);
      continue;
    }
    const Record& record = *history.Get(i).second;
    const JnStr& who = RecordView(record.data()).header().customer;
    EvalHost host{this, &c, history.Get(i).first, {}};
    JnContext ctx = Context(host, std::string_view(who.data, who.len), &record);
    uint64_t bits = 0;
    for (size_t b = 0; b < windows.size(); ++b) {
      if (program_.evaluator->Test(spec_->windows[windows[b]].where, ctx)) bits |= uint64_t{1} << b;
    }
    stats_.div_by_zero += ctx.div_by_zero;
    history.AddWhere(bits);
  }
}

bool Engine::Impl::Passes(EvalHost& host, const WindowSpec& w, uint32_t slot,
                          const EventHistory& history, uint64_t index) {
  if (w.where == kNoExpr) return true;
  const int bit = where_bit_[slot];
  if (bit >= 0) return (history.where_bits(index) >> bit) & 1;
  if (!history.Get(index).second) return false;  // its fields were not kept
  const Record& record = *history.Get(index).second;
  const JnStr& who = RecordView(record.data()).header().customer;
  EvalHost inner{this, host.customer, host.at, {}};
  JnContext ctx = Context(inner, std::string_view(who.data, who.len), &record);
  const bool keep = program_.evaluator->Test(w.where, ctx);
  stats_.div_by_zero += ctx.div_by_zero;
  return keep;
}

bool Engine::Impl::RunningWindow(EvalHost& host, uint32_t slot, EventHistory& history,
                                 JnValue& v) {
  const WindowSpec& w = spec_->windows[slot];
  const int64_t from = host.at - w.within_us;
  WindowRun& run = history.runs()[slot];
  // It can only move forward, over events the history still holds.
  if (run.at_us > host.at || run.first < history.held_index() || run.end > history.end_index() ||
      !run.float_sum.ok()) {
    run = WindowRun{};
  }
  if (run.at_us == INT64_MIN) {  // new: it starts at the window's first event
    run.first = run.end = history.IndexOf(FirstFrom(history, limits_.max_window_events, from));
  }
  if (w.where != kNoExpr) WhereBits(*host.customer, w.event_type, history, history.end_index());
  // One event in (sign 1) or out (-1) of the window.
  auto move = [&](uint64_t index, int sign) {
    if (!Passes(host, w, slot, history, index)) return;
    run.count += sign;
    if (w.kind != WindowKind::kSum || !history.Get(index).second) return;
    RecordView r(history.Get(index).second->data());
    if (!r.IsPresent(JN_EVENT_PRESENT_OFFSET, w.field_presence_bit)) return;
    if (w.field_type == JN_FLOAT) {
      run.float_sum.Add(sign * r.GetFloat(w.field_offset));
    } else {
      const auto value = static_cast<uint64_t>(r.GetInt(w.field_offset));
      run.int_sum = sign > 0 ? run.int_sum + value : run.int_sum - value;
    }
  };
  for (const uint64_t last = history.end_index(); run.end < last; ++run.end) {
    if (history.Get(run.end).first > host.at) break;
    move(run.end, 1);
  }
  // Out: the events before `from`, and those beyond the bound (no longer visible).
  for (const uint64_t visible = history.read_index(limits_.max_window_events); run.first < run.end;
       ++run.first) {
    if (run.first >= visible && history.Get(run.first).first >= from) break;
    move(run.first, -1);
  }
  run.at_us = host.at;
  if (!run.float_sum.ok()) return false;
  if (w.kind == WindowKind::kCount) {
    v.i = run.count;
  } else if (w.result_type == JN_FLOAT) {
    v.f = run.float_sum.Value();
  } else {
    v.i = static_cast<int64_t>(run.int_sum);
  }
  return true;
}

void Engine::Impl::ScanWindow(EvalHost& host, const WindowSpec& w, uint32_t slot,
                              const EventHistory& history, EventHistory::const_iterator first,
                              EventHistory::const_iterator last, JnValue& v) {
  int64_t count = 0;
  uint64_t int_sum = 0;
  ExactSum exact;
  double naive = 0;  // only if the exact sum leaves the range of double
  for (auto it = first; it != last; ++it) {
    if (!Passes(host, w, slot, history, history.IndexOf(it))) continue;
    ++count;
    if (w.kind != WindowKind::kSum || !it->second) continue;
    RecordView r(it->second->data());
    if (!r.IsPresent(JN_EVENT_PRESENT_OFFSET, w.field_presence_bit)) continue;
    if (w.field_type == JN_FLOAT) {
      exact.Add(r.GetFloat(w.field_offset));
      naive += r.GetFloat(w.field_offset);
    } else {
      int_sum += static_cast<uint64_t>(r.GetInt(w.field_offset));
    }
  }
  if (w.kind == WindowKind::kCount) {
    v.i = count;
  } else if (w.result_type == JN_FLOAT) {
    v.f = exact.ok() ? exact.Value() : naive;
  } else {
    v.i = static_cast<int64_t>(int_sum);
  }
}

}  // namespace juncture::runtime
