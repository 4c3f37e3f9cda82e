#include "ui/live_board.h"

#include <algorithm>
#include <chrono>

#include <nlohmann/json.hpp>

namespace juncture::serve::ui {
namespace {

constexpr size_t kSamples = 2000;   // per channel and split time
constexpr size_t kLetters = 20;     // the latest dead letters
constexpr size_t kLetterBytes = 300;

nlohmann::json Quantiles(std::vector<double> v) {
  if (v.empty()) return nullptr;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))]; };
  return {{"n", v.size()}, {"p50_ms", at(0.5)}, {"p99_ms", at(0.99)}};
}

}  // namespace

void LiveBoard::Samples::Add(double v) {
  if (ring.size() < kSamples) {
    ring.push_back(v);
  } else {
    ring[next] = v;
    next = (next + 1) % kSamples;
  }
}

void LiveBoard::Decided(std::string_view journey, std::string_view step, std::string_view outcome,
                        std::string_view reason, std::string_view arm, std::string_view channel,
                        double signal_to_decision_ms) {
  std::string label(outcome);
  // (append, not " " + ...: GCC 12's -Wrestrict misfires on that in Release builds)
  if (!reason.empty()) label.append(" ").append(reason);
  if (!arm.empty() && outcome == "converted") label.append(" ").append(arm);
  std::lock_guard<std::mutex> lock(mu_);
  ++counts_[std::string(journey)][std::string(step)][label];
  ++decisions_;
  ++version_;
  if (!channel.empty() && signal_to_decision_ms >= 0) {
    channels_[std::string(channel)].signal_to_decision.Add(signal_to_decision_ms);
  }
}

void LiveBoard::Published(std::string_view channel, double decision_to_publish_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  channels_[std::string(channel)].decision_to_publish.Add(decision_to_publish_ms);
  ++version_;
}

void LiveBoard::Delivered(std::string_view channel, double action_to_customer_ms,
                          double signal_to_customer_ms, int fit) {
  std::lock_guard<std::mutex> lock(mu_);
  Channel& c = channels_[std::string(channel)];
  c.action_to_customer.Add(action_to_customer_ms);
  c.signal_to_customer.Add(signal_to_customer_ms);
  if (fit > 0) ++c.fit_in;
  if (fit == 0) ++c.fit_late;
  ++version_;
}

void LiveBoard::DeadLetter(std::string_view reason, std::string_view message) {
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  std::lock_guard<std::mutex> lock(mu_);
  letters_.push_front({now_ms, std::string(reason), std::string(message.substr(0, kLetterBytes))});
  if (letters_.size() > kLetters) letters_.pop_back();
  ++version_;
}

uint64_t LiveBoard::version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return version_;
}

std::string LiveBoard::SnapshotJson() const {
  nlohmann::json out;
  std::lock_guard<std::mutex> lock(mu_);
  out["version"] = version_;
  out["decisions"] = decisions_;
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& [journey, by_step] : counts_) {
    for (const auto& [step, outcomes] : by_step) {
      steps.push_back({{"journey", journey}, {"step", step}, {"outcomes", outcomes}});
    }
  }
  out["steps"] = steps;
  nlohmann::json channels = nlohmann::json::object();
  for (const auto& [name, c] : channels_) {
    const uint64_t fits = c.fit_in + c.fit_late;
    channels[name] = {{"signal_to_decision", Quantiles(c.signal_to_decision.ring)},
                      {"decision_to_publish", Quantiles(c.decision_to_publish.ring)},
                      {"action_to_customer", Quantiles(c.action_to_customer.ring)},
                      {"signal_to_customer", Quantiles(c.signal_to_customer.ring)},
                      {"moment_fit_rate", fits ? nlohmann::json(double(c.fit_in) / double(fits))
                                               : nlohmann::json(nullptr)},
                      {"receipts_in_moment", c.fit_in},
                      {"receipts_late", c.fit_late}};
  }
  out["channels"] = channels;
  nlohmann::json letters = nlohmann::json::array();
  for (const Letter& l : letters_) {
    letters.push_back({{"at_ms", l.at_ms}, {"reason", l.reason}, {"message", l.message}});
  }
  out["dead_letters"] = letters;
  return out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace juncture::serve::ui
