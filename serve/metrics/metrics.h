// Prometheus metrics for `juncture serve`: counters, gauges and histograms in a
// registry that renders the text exposition format 0.0.4.
//
// Cost model. Creating a series (a metric with given label values) takes a lock
// and allocates; it happens once per series. Recording into an existing series is
// one or two relaxed atomic adds: no lock, no allocation. So the hot path holds
// references to series (they stay valid for the registry's lifetime), either
// resolved at setup or looked up through a SeriesCache, which maps label values to
// a series without a lock once it has seen them.
//
// Relaxed ordering is enough everywhere: each atomic is an independent total that
// the scraper reads on its own; no other memory is published through it.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace juncture::serve::metrics {

// Series are cache-line aligned so that two threads bumping different series
// (say the NATS thread and the engine thread) do not contend for one line.
class alignas(64) Counter {
 public:
  void Inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class alignas(64) Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double d) { value_.fetch_add(d, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Upper bounds in seconds for latencies: 1, 2.5 and 5 per decade from 1 µs to 1 s
// (19 bounds, plus +Inf). Decisions take microseconds; a publish under load or a
// stall shows up in the millisecond decades.
std::vector<double> LatencyBuckets();
// Upper bounds in seconds for the customer's side of the moment (signal to decision,
// action to customer): 1 ms to an hour, since a delivery takes milliseconds (in-app)
// to minutes (email).
std::vector<double> MomentBuckets();

class alignas(64) Histogram {
 public:
  // `bounds`: finite, strictly increasing upper bounds (le); +Inf is implicit.
  explicit Histogram(std::vector<double> bounds);

  // `v` in the metric's unit (seconds for latencies).
  void Observe(double v) {
    Bucket(v).fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(v, std::memory_order_relaxed);  // a CAS loop on a double
  }
  // A latency in nanoseconds, recorded as seconds. Buckets compare integers against
  // the bounds in nanoseconds (exact: 1000 ns lands in le="1e-06"), and the sum
  // stays an integer of nanoseconds (one atomic add, no CAS loop) until rendered.
  void ObserveNanos(int64_t ns) {
    if (ns < 0) ns = 0;
    size_t i = 0;
    const size_t n = bounds_ns_.size();
    while (i < n && ns > bounds_ns_[i]) ++i;
    counts_[i].fetch_add(1, std::memory_order_relaxed);
    sum_ns_.fetch_add(static_cast<uint64_t>(ns), std::memory_order_relaxed);
  }
  template <typename Rep, typename Period>
  void ObserveDuration(std::chrono::duration<Rep, Period> d) {
    ObserveNanos(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
  }

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // per bound, then +Inf (== count)
    double sum = 0;
    uint64_t count = 0;

    // Estimated q-quantile (0 <= q <= 1) like PromQL's histogram_quantile: linear
    // inside the bucket holding the rank; the largest bound if that is +Inf; NaN
    // when empty. For log lines and summaries, not for alerting.
    double Quantile(double q) const;
    // Adds another snapshot with the same bounds (series of one family).
    void Merge(const Snapshot& other);
  };
  // Counts are read one by one while writers run, so a snapshot may miss an
  // observation in flight; it is always internally cumulative (count == +Inf).
  Snapshot Read() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  // Linear scans from the smallest bound: latencies are mostly in the low buckets,
  // so this is a handful of well-predicted compares (no allocation, no lock).
  std::atomic<uint64_t>& Bucket(double v) {
    size_t i = 0;
    const size_t n = bounds_.size();
    while (i < n && v > bounds_[i]) ++i;
    return counts_[i];
  }

  std::vector<double> bounds_;
  std::vector<int64_t> bounds_ns_;  // bounds_ rounded to nanoseconds
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds_.size() + 1, last is +Inf
  std::atomic<double> sum_{0};
  std::atomic<uint64_t> sum_ns_{0};
};

// One metric name with its help text and label names, and its series.
class FamilyBase {
 public:
  virtual ~FamilyBase() = default;
  const std::string& name() const { return name_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  // Appends this family in exposition format; nothing if it has no series.
  virtual void Render(std::string& out) const = 0;

 protected:
  FamilyBase(std::string name, std::string help, std::vector<std::string> label_names)
      : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}
  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
};

// T is Counter, Gauge or Histogram.
template <typename T>
class Family : public FamilyBase {
 public:
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::vector<double> bounds = {});

  // The series with these label values (one per label name, in order), created on
  // first use. Takes the family's lock: call at setup or through a SeriesCache, not
  // per event. Throws std::invalid_argument on a wrong number of values.
  T& WithLabels(std::span<const std::string_view> values);
  T& WithLabels(std::initializer_list<std::string_view> values) {
    return WithLabels(std::span<const std::string_view>(values.begin(), values.size()));
  }
  // Stops exporting a series. References to it stay valid (it is kept, unexported),
  // so a thread still holding one can keep recording harmlessly.
  void Remove(std::span<const std::string_view> values);
  void Remove(std::initializer_list<std::string_view> values) {
    Remove(std::span<const std::string_view>(values.begin(), values.size()));
  }
  void RemoveAll();

  // Over every exported series, for summaries (takes the lock).
  uint64_t Total() const requires std::is_same_v<T, Counter>;
  Histogram::Snapshot Merged() const requires std::is_same_v<T, Histogram>;

  void Render(std::string& out) const override;

 private:
  std::vector<std::string> Key(std::span<const std::string_view> values) const;

  std::vector<double> bounds_;  // histograms only
  mutable std::mutex mu_;
  // Ordered by label values: the exposition order is stable between scrapes.
  std::map<std::vector<std::string>, std::unique_ptr<T>> series_;
  std::vector<std::unique_ptr<T>> retired_;  // removed series, kept alive
};

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Names follow Prometheus ([a-zA-Z_:][a-zA-Z0-9_:]*; labels [a-zA-Z_][a-zA-Z0-9_]*,
  // not starting with "__"). A bad or duplicate name throws std::invalid_argument:
  // these are programming errors found at startup.
  Family<Counter>& AddCounterFamily(std::string name, std::string help,
                                    std::vector<std::string> label_names);
  Family<Gauge>& AddGaugeFamily(std::string name, std::string help,
                                std::vector<std::string> label_names);
  Family<Histogram>& AddHistogramFamily(std::string name, std::string help,
                                        std::vector<std::string> label_names,
                                        std::vector<double> bounds = LatencyBuckets());

  // A metric without labels: its single series exists (and exports 0) from now on.
  Counter& AddCounter(std::string name, std::string help);
  Gauge& AddGauge(std::string name, std::string help);
  Histogram& AddHistogram(std::string name, std::string help,
                          std::vector<double> bounds = LatencyBuckets());

  // The text exposition format 0.0.4: families by name, series by label values.
  // Safe to call from any thread while others record.
  std::string Render() const;

 private:
  template <typename F>
  F& Add(std::unique_ptr<F> family);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<FamilyBase>, std::less<>> families_;
};

// Per-thread lookup of series by label values: after the first time a combination
// is seen, Get is a compare with the last few found or one hash of the values, and
// no lock or allocation. Not
// thread-safe: give each recording thread its own cache (they share the series).
// Label values come from a bounded set (journeys, channels, outcomes, reason
// kinds); every distinct combination stays cached and exported.
template <typename T>
class SeriesCache {
 public:
  explicit SeriesCache(Family<T>& family) : family_(&family) {}

  T& Get(std::string_view a) { return Lookup({a}); }
  T& Get(std::string_view a, std::string_view b) { return Lookup({a, b}); }
  T& Get(std::string_view a, std::string_view b, std::string_view c) {
    return Lookup({a, b, c});
  }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  T& Lookup(std::initializer_list<std::string_view> values);

  Family<T>* family_;
  std::string key_;  // reused buffer: the values, each prefixed by its length
  std::unordered_map<std::string, T*, Hash, std::equal_to<>> map_;
  // The last few combinations found, compared before the map is hashed: the
  // decisions of one message, and of the next, mostly repeat their journeys.
  struct Recent {
    std::string key;
    T* series = nullptr;
  };
  std::array<Recent, 4> recent_;
  size_t next_recent_ = 0;
};

// Text helpers, exposed for tests and for anyone writing exposition by hand.
// Label value: backslash, double quote and newline escaped.
void AppendEscapedLabelValue(std::string_view v, std::string& out);
// A sample value or bound as Prometheus' own clients print it: "1", "0.00025",
// "1e-06", "+Inf", "NaN".
void AppendDouble(double v, std::string& out);

}  // namespace juncture::serve::metrics
