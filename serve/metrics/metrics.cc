#include "serve/metrics/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <type_traits>

namespace juncture::serve::metrics {
namespace {

bool ValidName(std::string_view s, bool allow_colon) {
  if (s.empty()) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (allow_colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

void CheckNames(const std::string& name, const std::vector<std::string>& labels,
                bool histogram) {
  if (!ValidName(name, true)) throw std::invalid_argument("bad metric name '" + name + "'");
  for (size_t i = 0; i < labels.size(); ++i) {
    const std::string& l = labels[i];
    if (!ValidName(l, false) || l.starts_with("__") || (histogram && l == "le")) {
      throw std::invalid_argument("bad label name '" + l + "' for " + name);
    }
    for (size_t j = 0; j < i; ++j) {
      if (labels[j] == l) throw std::invalid_argument("duplicate label '" + l + "' for " + name);
    }
  }
}

void CheckBounds(const std::vector<double>& bounds) {
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1])) {
      throw std::invalid_argument("histogram bounds must be finite and increasing");
    }
  }
}

// HELP text: backslash and newline escaped (quotes are fine there).
void AppendEscapedHelp(std::string_view v, std::string& out) {
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

void AppendUint(uint64_t v, std::string& out) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// `{a="x",b="y"}` for one series, with an optional extra label (histograms' le)
// last. Nothing at all when there are no labels.
void AppendLabels(const std::vector<std::string>& names, const std::vector<std::string>& values,
                  std::string_view extra_name, std::string_view extra_value, std::string& out) {
  if (names.empty() && extra_name.empty()) return;
  out += '{';
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    out += names[i];
    out += "=\"";
    AppendEscapedLabelValue(values[i], out);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!names.empty()) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
}

template <typename T>
constexpr const char* TypeName() {
  if constexpr (std::is_same_v<T, Counter>) return "counter";
  if constexpr (std::is_same_v<T, Gauge>) return "gauge";
  if constexpr (std::is_same_v<T, Histogram>) return "histogram";
}

}  // namespace

void AppendEscapedLabelValue(std::string_view v, std::string& out) {
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

void AppendDouble(double v, std::string& out) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[64];
  // Whole numbers print as integers ("3", not "3e+00"); below 1e15 a double holds
  // them exactly.
  if (v == std::trunc(v) && std::fabs(v) < 1e15) {
    auto r = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(v));
    out.append(buf, r.ptr);
    return;
  }
  // Otherwise the shortest digits that read back as `v`, laid out like Go's
  // strconv 'g' (what the reference client prints, so bucket bounds read the same
  // as other exporters' le="0.00025" / le="1e-06"): plain for exponents -4 and up.
  auto sci = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  const char* e = static_cast<const char*>(std::memchr(buf, 'e', sci.ptr - buf));
  int exp = 0;
  std::from_chars(e + (e[1] == '+' ? 2 : 1), sci.ptr, exp);
  if (exp < -4 || exp >= 21) {
    out.append(buf, sci.ptr);
    return;
  }
  auto fixed = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  out.append(buf, fixed.ptr);
}

std::vector<double> LatencyBuckets() {
  // Literals rather than computed products, so each bound is the double nearest the
  // decimal and prints as written (2.5e-05, not 2.5000000000000001e-05).
  return {1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3,
          2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1};
}

std::vector<double> MomentBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
          2.5,   5,      10,    30,   60,    120,  300, 900, 1800, 3600};
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  CheckBounds(bounds_);
  for (double b : bounds_) {
    double ns = std::round(b * 1e9);
    bounds_ns_.push_back(ns >= 9e18 ? INT64_MAX : ns <= -9e18 ? INT64_MIN : static_cast<int64_t>(ns));
  }
  for (size_t i = 0; i <= bounds_.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot s;
  s.bounds = bounds_;
  s.cumulative.resize(bounds_.size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    s.cumulative[i] = running;
  }
  s.count = running;
  s.sum = sum_.load(std::memory_order_relaxed) +
          static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
  return s;
}

double Histogram::Snapshot::Quantile(double q) const {
  if (count == 0) return std::numeric_limits<double>::quiet_NaN();
  double rank = std::clamp(q, 0.0, 1.0) * static_cast<double>(count);
  size_t i = 0;
  while (i < bounds.size() && static_cast<double>(cumulative[i]) < rank) ++i;
  if (i == bounds.size()) return bounds.empty() ? std::numeric_limits<double>::quiet_NaN()
                                                : bounds.back();
  double lo = i == 0 ? 0 : bounds[i - 1];
  double below = i == 0 ? 0 : static_cast<double>(cumulative[i - 1]);
  double in_bucket = static_cast<double>(cumulative[i]) - below;
  if (in_bucket <= 0) return bounds[i];
  return lo + (bounds[i] - lo) * (rank - below) / in_bucket;
}

void Histogram::Snapshot::Merge(const Snapshot& other) {
  if (cumulative.empty()) {
    *this = other;
    return;
  }
  for (size_t i = 0; i < cumulative.size() && i < other.cumulative.size(); ++i) {
    cumulative[i] += other.cumulative[i];
  }
  sum += other.sum;
  count += other.count;
}

template <typename T>
Family<T>::Family(std::string name, std::string help, std::vector<std::string> label_names,
                  std::vector<double> bounds)
    : FamilyBase(std::move(name), std::move(help), std::move(label_names)),
      bounds_(std::move(bounds)) {
  CheckNames(name_, label_names_, std::is_same_v<T, Histogram>);
  if constexpr (std::is_same_v<T, Histogram>) CheckBounds(bounds_);  // fail at setup, not on first use
}

template <typename T>
std::vector<std::string> Family<T>::Key(std::span<const std::string_view> values) const {
  if (values.size() != label_names_.size()) {
    throw std::invalid_argument(name_ + ": expected " + std::to_string(label_names_.size()) +
                                " label values, got " + std::to_string(values.size()));
  }
  return std::vector<std::string>(values.begin(), values.end());
}

template <typename T>
T& Family<T>::WithLabels(std::span<const std::string_view> values) {
  std::vector<std::string> key = Key(values);
  std::lock_guard lock(mu_);
  auto [it, inserted] = series_.try_emplace(std::move(key));
  if (inserted) {
    if constexpr (std::is_same_v<T, Histogram>) {
      it->second = std::make_unique<Histogram>(bounds_);
    } else {
      it->second = std::make_unique<T>();
    }
  }
  return *it->second;
}

template <typename T>
void Family<T>::Remove(std::span<const std::string_view> values) {
  std::vector<std::string> key = Key(values);
  std::lock_guard lock(mu_);
  auto it = series_.find(key);
  if (it == series_.end()) return;
  retired_.push_back(std::move(it->second));
  series_.erase(it);
}

template <typename T>
void Family<T>::RemoveAll() {
  std::lock_guard lock(mu_);
  for (auto& [key, series] : series_) retired_.push_back(std::move(series));
  series_.clear();
}

template <typename T>
uint64_t Family<T>::Total() const requires std::is_same_v<T, Counter> {
  std::lock_guard lock(mu_);
  uint64_t total = 0;
  for (const auto& [values, series] : series_) total += series->Value();
  return total;
}

template <typename T>
Histogram::Snapshot Family<T>::Merged() const requires std::is_same_v<T, Histogram> {
  std::lock_guard lock(mu_);
  Histogram::Snapshot merged;
  merged.bounds = bounds_;
  merged.cumulative.assign(bounds_.size() + 1, 0);
  for (const auto& [values, series] : series_) merged.Merge(series->Read());
  return merged;
}

template <typename T>
void Family<T>::Render(std::string& out) const {
  std::lock_guard lock(mu_);
  if (series_.empty()) return;
  out += "# HELP ";
  out += name_;
  out += ' ';
  AppendEscapedHelp(help_, out);
  out += "\n# TYPE ";
  out += name_;
  out += ' ';
  out += TypeName<T>();
  out += '\n';
  for (const auto& [values, series] : series_) {
    if constexpr (std::is_same_v<T, Histogram>) {
      Histogram::Snapshot s = series->Read();
      std::string le;
      for (size_t i = 0; i < s.cumulative.size(); ++i) {
        le.clear();
        if (i < bounds_.size()) {
          AppendDouble(bounds_[i], le);
        } else {
          le = "+Inf";
        }
        out += name_;
        out += "_bucket";
        AppendLabels(label_names_, values, "le", le, out);
        out += ' ';
        AppendUint(s.cumulative[i], out);
        out += '\n';
      }
      out += name_;
      out += "_sum";
      AppendLabels(label_names_, values, "", "", out);
      out += ' ';
      AppendDouble(s.sum, out);
      out += '\n';
      out += name_;
      out += "_count";
      AppendLabels(label_names_, values, "", "", out);
      out += ' ';
      AppendUint(s.count, out);
      out += '\n';
    } else {
      out += name_;
      AppendLabels(label_names_, values, "", "", out);
      out += ' ';
      if constexpr (std::is_same_v<T, Counter>) {
        AppendUint(series->Value(), out);
      } else {
        AppendDouble(series->Value(), out);
      }
      out += '\n';
    }
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

template <typename F>
F& Registry::Add(std::unique_ptr<F> family) {
  F& ref = *family;
  std::lock_guard lock(mu_);
  auto [it, inserted] = families_.try_emplace(family->name(), std::move(family));
  if (!inserted) throw std::invalid_argument("metric '" + it->first + "' registered twice");
  return ref;
}

Family<Counter>& Registry::AddCounterFamily(std::string name, std::string help,
                                            std::vector<std::string> label_names) {
  return Add(std::make_unique<Family<Counter>>(std::move(name), std::move(help),
                                               std::move(label_names)));
}

Family<Gauge>& Registry::AddGaugeFamily(std::string name, std::string help,
                                        std::vector<std::string> label_names) {
  return Add(std::make_unique<Family<Gauge>>(std::move(name), std::move(help),
                                             std::move(label_names)));
}

Family<Histogram>& Registry::AddHistogramFamily(std::string name, std::string help,
                                                std::vector<std::string> label_names,
                                                std::vector<double> bounds) {
  return Add(std::make_unique<Family<Histogram>>(std::move(name), std::move(help),
                                                 std::move(label_names), std::move(bounds)));
}

Counter& Registry::AddCounter(std::string name, std::string help) {
  return AddCounterFamily(std::move(name), std::move(help), {}).WithLabels({});
}

Gauge& Registry::AddGauge(std::string name, std::string help) {
  return AddGaugeFamily(std::move(name), std::move(help), {}).WithLabels({});
}

Histogram& Registry::AddHistogram(std::string name, std::string help,
                                  std::vector<double> bounds) {
  return AddHistogramFamily(std::move(name), std::move(help), {}, std::move(bounds))
      .WithLabels({});
}

std::string Registry::Render() const {
  std::string out;
  std::lock_guard lock(mu_);
  for (const auto& [name, family] : families_) family->Render(out);
  return out;
}

template <typename T>
T& SeriesCache<T>::Lookup(std::initializer_list<std::string_view> values) {
  // Length-prefixed values: unambiguous whatever bytes the values hold. The buffer
  // keeps its capacity, so a hit allocates nothing.
  key_.clear();
  for (std::string_view v : values) {
    uint32_t n = static_cast<uint32_t>(v.size());
    key_.append(reinterpret_cast<const char*>(&n), sizeof n);
    key_.append(v);
  }
  for (const Recent& r : recent_) {
    if (r.series != nullptr && r.key == key_) return *r.series;
  }
  T* series;
  if (auto it = map_.find(std::string_view(key_)); it != map_.end()) {
    series = it->second;
  } else {
    series = &family_->WithLabels(values);
    map_.emplace(key_, series);
  }
  Recent& r = recent_[next_recent_++ % recent_.size()];
  r.key.assign(key_);  // into its kept capacity once warm
  r.series = series;
  return *series;
}

template class SeriesCache<Counter>;
template class SeriesCache<Gauge>;
template class SeriesCache<Histogram>;

}  // namespace juncture::serve::metrics
