// What the live journey page shows (`juncture serve --ui`, docs/serve.md): per
// journey and step, how many decisions of each outcome; per channel, the split times
// of the latest sends (signal->decision, decision->publish, and from delivery receipts
// action->customer and signal->customer) and the moment fit rate; the latest dead
// letters. Fed by the shards' telemetry, read by the page's server; thread-safe (one
// mutex: it exists only when the page is on).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace juncture::serve::ui {

class LiveBoard {
 public:
  // A decision: counted at its journey and step under its outcome ("sent",
  // "suppressed cap", "converted treatment", ...). `signal_to_decision_ms` < 0: none.
  void Decided(std::string_view journey, std::string_view step, std::string_view outcome,
               std::string_view reason, std::string_view arm, std::string_view channel,
               double signal_to_decision_ms);
  void Published(std::string_view channel, double decision_to_publish_ms);
  // A delivery receipt matched to its action (fit: 1 in the moment, 0 late, -1 unknown).
  void Delivered(std::string_view channel, double action_to_customer_ms,
                 double signal_to_customer_ms, int fit);
  void DeadLetter(std::string_view reason, std::string_view message);

  // Everything, as one JSON object (docs/serve.md, "The live page").
  std::string SnapshotJson() const;
  // Grows with every change: the page's stream sends a snapshot only when it moved.
  uint64_t version() const;

 private:
  // The latest samples of one split time (a ring of at most kSamples).
  struct Samples {
    std::vector<double> ring;
    size_t next = 0;
    void Add(double v);
  };
  struct Channel {
    Samples signal_to_decision, decision_to_publish, action_to_customer, signal_to_customer;
    uint64_t fit_in = 0, fit_late = 0;
  };
  struct Letter {
    int64_t at_ms;
    std::string reason, message;
  };
  mutable std::mutex mu_;
  uint64_t version_ = 0;
  uint64_t decisions_ = 0;
  std::map<std::string, std::map<std::string, std::map<std::string, uint64_t>>> counts_;
  std::map<std::string, Channel> channels_;
  std::deque<Letter> letters_;
};

}  // namespace juncture::serve::ui
