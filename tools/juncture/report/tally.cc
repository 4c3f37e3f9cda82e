#include "juncture/report/tally.h"

#include <algorithm>

namespace juncture::tools::report {
namespace {

int64_t Span(int64_t from, int64_t to) { return std::max<int64_t>(0, to - from); }

}  // namespace

void SendCounts::Add(const SendCounts& o) {
  sent += o.sent, deferred += o.deferred, control += o.control;
  released += o.released, pending += o.pending;
  for (const auto& [reason, n] : o.suppressed) suppressed[reason] += n;
}

void SplitSamples::Add(const SplitSamples& o) {
  auto append = [](std::vector<int64_t>& to, const std::vector<int64_t>& from) {
    to.insert(to.end(), from.begin(), from.end());
  };
  append(signal_to_decision, o.signal_to_decision);
  append(decision_to_customer, o.decision_to_customer);
  append(signal_to_customer, o.signal_to_customer);
}

void ReceiptCounts::Add(const ReceiptCounts& o) {
  for (int i = 0; i < kReceiptStatuses; ++i) by_status[i] += o.by_status[i];
  sent_without_delivery += o.sent_without_delivery;
}

void Tally::AddDecision(const DecisionLine& d) {
  DecisionInputCounts& counts = report_.decisions;
  ++counts.lines;
  if (!ids_.insert(d.id).second) {
    ++counts.duplicates;  // at-least-once delivery may record a decision twice
    return;
  }
  ++counts.decisions;
  JourneyFigures& j = report_.journeys[d.journey];
  if (!d.version.empty()) j.versions.insert(d.version);
  std::string key = d.journey + '\0' + d.customer;
  if (!d.channel.empty()) {
    AddSend(d, j);
  } else if (d.outcome == "entered") {
    ++j.entered;
    current_entry_[key] = entries_.size();
    entries_.push_back(Entry{&j, false});
  } else if (d.outcome == "exited") {
    ++j.exited;
  } else if (d.outcome == "completed") {
    ++j.completed;
  } else if (d.outcome == "control" || d.outcome == "converted") {
    auto it = current_entry_.find(key);
    if (it == current_entry_.end()) {
      ++(d.outcome == "control" ? counts.holdouts_without_entry : counts.conversions_without_entry);
    } else if (d.outcome == "control") {
      entries_[it->second].control = true;
    } else {
      conversions_.push_back(Conversion{&j, it->second, d.arm == "treatment"});
    }
  }
}

void Tally::AddSend(const DecisionLine& d, JourneyFigures& j) {
  SendCounts& s = j.sends[d.channel];
  if (!d.signal_us) ++report_.decisions.sends_without_signal;
  if (d.outcome == "sent") {
    ++s.sent;
    if (d.signal_us) j.splits[d.channel].signal_to_decision.push_back(Span(*d.signal_us, d.at_us));
    sent_.emplace(d.id, Sent{d.journey, d.channel, d.at_us, d.signal_us, 0});
  } else if (d.outcome == "deferred") {
    ++s.deferred;
    deferred_.emplace(d.id, Deferral{d.journey, d.channel});
  } else if (d.outcome == "suppressed") {
    ++s.suppressed[d.reason];
  } else if (d.outcome == "control") {
    ++s.control;  // a held-out send: recorded, not sent
  }
  if (d.release && (d.outcome == "sent" || d.outcome == "suppressed")) {
    ++s.released;
    released_.insert(d.id.substr(0, d.id.size() - std::string_view(":release").size()));
  }
}

void Tally::AddReceipt(const ReceiptLine& r) {
  ReceiptInputCounts& counts = *report_.receipts;
  ++counts.lines;
  auto it = sent_.find(r.decision);
  if (it == sent_.end()) {
    ++(ids_.count(r.decision) ? counts.not_sent : counts.unknown_decision);
    return;
  }
  Sent& s = it->second;
  uint8_t bit = uint8_t(1u << static_cast<int>(r.status));
  if (s.statuses & bit) {
    ++counts.duplicates;
    return;
  }
  s.statuses |= bit;
  ++counts.receipts;
  JourneyFigures& j = report_.journeys[s.journey];
  ++j.receipts[s.channel].by_status[static_cast<int>(r.status)];
  if (r.status != ReceiptStatus::kDelivered) return;
  SplitSamples& split = j.splits[s.channel];
  split.decision_to_customer.push_back(Span(s.at_us, r.at_us));
  if (s.signal_us) split.signal_to_customer.push_back(Span(*s.signal_us, r.at_us));
}

Report Tally::Finish(const std::map<std::string, JourneyInfo>& info) {
  for (const Entry& e : entries_) {
    ++(e.control ? e.journey->control : e.journey->treatment).entries;
    e.journey->held_out += e.control;
  }
  for (const Conversion& c : conversions_) {
    ++(c.treatment ? c.journey->treatment : c.journey->control).conversions;
    if (c.treatment && entries_[c.entry].control) ++c.journey->converted_before_holdout;
  }
  for (const auto& [id, d] : deferred_) {
    if (!released_.count(id)) ++report_.journeys[d.journey].sends[d.channel].pending;
  }
  if (report_.receipts) {
    for (const auto& [id, s] : sent_) {
      if (!(s.statuses & (1u << static_cast<int>(ReceiptStatus::kDelivered)))) {
        ++report_.journeys[s.journey].receipts[s.channel].sent_without_delivery;
      }
    }
  }
  JourneyFigures& total = report_.total;
  for (auto& [name, j] : report_.journeys) {
    auto it = info.find(name);
    if (it != info.end()) {
      j.deadline_us = it->second.deadline_us;
      j.deadline_from = it->second.deadline_us > 0 ? it->second.deadline_from : "";
      if (it->second.has_goal) j.goal = *it->second.has_goal ? GoalKnown::kProgram : GoalKnown::kNone;
    }
    if (j.goal == GoalKnown::kUnknown && j.treatment.conversions + j.control.conversions > 0) {
      j.goal = GoalKnown::kLog;
    }
    if (report_.receipts) {
      for (const auto& [channel, split] : j.splits) {
        FitCounts& f = j.fit[channel];
        f.delivered = split.signal_to_customer.size();
        if (j.deadline_us <= 0) continue;
        f.within = std::count_if(split.signal_to_customer.begin(), split.signal_to_customer.end(),
                                 [&](int64_t us) { return us <= j.deadline_us; });
      }
    }
    total.versions.insert(j.versions.begin(), j.versions.end());
    total.entered += j.entered, total.exited += j.exited, total.completed += j.completed;
    total.held_out += j.held_out;
    if (j.HasGoal()) {
      report_.pooled_goal_journeys.push_back(name);
      total.treatment.entries += j.treatment.entries;
      total.treatment.conversions += j.treatment.conversions;
      total.control.entries += j.control.entries;
      total.control.conversions += j.control.conversions;
      total.converted_before_holdout += j.converted_before_holdout;
    }
    for (const auto& [c, s] : j.sends) total.sends[c].Add(s);
    for (const auto& [c, s] : j.splits) total.splits[c].Add(s);
    for (const auto& [c, r] : j.receipts) total.receipts[c].Add(r);
    if (j.deadline_us > 0 && report_.receipts) {
      report_.pooled_deadline_journeys.push_back(name);
      for (const auto& [c, f] : j.fit) total.fit[c].Add(f);
    }
  }
  if (!report_.pooled_goal_journeys.empty()) total.goal = GoalKnown::kLog;
  return std::move(report_);
}

}  // namespace juncture::tools::report
