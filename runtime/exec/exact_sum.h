// An exact running sum of doubles, for the `sum` windows over float fields: events
// enter and leave a window one at a time, and after any sequence of additions and
// subtractions Value() is the exact sum of the values still in it, rounded once to
// the nearest double (ties to even). The value therefore depends only on which
// events are in the window, never on the order in which they came and went, so a
// running window and one summed from scratch agree to the last bit.
//
// The exact sum is held as a few non-overlapping doubles ("partials", smallest
// magnitude first), kept exact by error-free transformations (Shewchuk, "Adaptive
// Precision Floating-Point Arithmetic", 1997: grow-expansion; the final rounding is
// the one of his "msum" as used by Python's math.fsum). Values from events are
// finite. Very large values are summed apart, scaled down, so that no step of the sum
// leaves the range of double in practice; if one ever does (over 2^27 values near the
// largest double at once), Add returns false and the caller sums another way.
// Private to runtime/exec/.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

namespace juncture::runtime {

// A sum held as non-overlapping doubles (Shewchuk's expansion). Exact as long as no
// step leaves the range of double (then ok() is false).
class Expansion {
 public:
  // Adds `x` (subtracts with -x). False if a partial is no longer finite.
  bool Add(double x) {
    if (x == 0) return ok_;
    double* p = data();
    size_t kept = 0;
    for (size_t i = 0; i < size_; ++i) {  // in place: kept <= i
      double y = p[i];
      if (std::fabs(x) < std::fabs(y)) std::swap(x, y);
      const double hi = x + y;
      const double lo = y - (hi - x);  // exact: x + y == hi + lo (|x| >= |y|)
      if (lo != 0) p[kept++] = lo;
      x = hi;
    }
    Push(kept, x);
    if (!std::isfinite(x)) ok_ = false;
    return ok_;
  }

  bool ok() const { return ok_; }
  bool empty() const { return size_ == 0; }
  // Calls f(p) for each partial, smallest first.
  template <typename F>
  void ForEach(F f) const {
    for (size_t i = 0; i < size_; ++i) f(data()[i]);
  }

  // The exact sum rounded to the nearest double; +0.0 when it is zero.
  double Value() const {
    const double* partials = data();
    size_t n = size_;
    if (n == 0) return 0.0;
    double hi = partials[--n];
    double lo = 0;
    // Adds the partials from the largest down while that is exact; the first inexact
    // step leaves the rounding error in `lo`.
    while (n > 0) {
      const double x = hi;
      const double y = partials[--n];
      hi = x + y;
      lo = y - (hi - x);
      if (lo != 0) break;
    }
    // hi + lo is exact; if lo is exactly half an ulp of hi, the rounding of hi + lo
    // (to even) may be wrong when the partials below push the same way: then round
    // away instead.
    if (n > 0 && ((lo < 0 && partials[n - 1] < 0) || (lo > 0 && partials[n - 1] > 0))) {
      const double y = lo * 2;
      const double x = hi + y;
      if (y == x - hi) hi = x;
    }
    return hi + 0.0;  // -0.0 -> +0.0, as a sum that starts at 0.0 would give
  }

  void Clear() {
    heap_.clear();
    size_ = 0;
    ok_ = true;
  }

 private:
  // The partials: non-overlapping, increasing magnitude. Up to kInline of them (all
  // that sums of a few values, or of values of similar magnitude, need) in place,
  // more on the heap: summing a small window allocates nothing.
  static constexpr size_t kInline = 3;
  double* data() { return heap_.empty() ? inline_.data() : heap_.data(); }
  const double* data() const { return heap_.empty() ? inline_.data() : heap_.data(); }
  // Keeps the first `kept` partials and appends `x`.
  void Push(size_t kept, double x) {
    if (!heap_.empty()) {
      heap_.resize(kept);
      heap_.push_back(x);
    } else if (kept < kInline) {
      inline_[kept] = x;
    } else {
      heap_.assign(inline_.begin(), inline_.begin() + static_cast<std::ptrdiff_t>(kept));
      heap_.push_back(x);
    }
    size_ = static_cast<uint32_t>(kept + 1);
  }

  std::array<double, kInline> inline_{};
  std::vector<double> heap_;  // the partials when there are more than kInline
  uint32_t size_ = 0;
  bool ok_ = true;
};

// The exact sum of the values added (less those subtracted), rounded once. Values of
// 2^996 or more in magnitude are kept apart, scaled down by 2^-200 (exact for such
// values): then no step of either sum can leave the range of double unless the
// window holds more than 2^27 values that large. Value() rounds the two together.
class ExactSum {
 public:
  bool Add(double x) {
    if (std::fabs(x) >= kBig) {
      big_.Add(std::ldexp(x, -kScale));
    } else {
      small_.Add(x);
    }
    return ok();
  }
  bool ok() const { return small_.ok() && big_.ok(); }

  // The exact sum rounded to the nearest double (infinite beyond the range); +0.0
  // when it is zero.
  double Value() const {
    if (big_.empty()) return small_.Value();
    // Both in the scaled domain: the small partials scaled down too. One too small to
    // survive the scaling keeps its sign (the least subnormal): it can only decide a
    // tie, by its sign.
    Expansion all = big_;
    small_.ForEach([&all](double p) {
      if (p == 0) return;
      double q = std::ldexp(p, -kScale);
      if (q == 0) q = std::copysign(std::numeric_limits<double>::denorm_min(), p);
      all.Add(q);
    });
    return std::ldexp(all.Value(), kScale) + 0.0;
  }

  void Clear() {
    small_.Clear();
    big_.Clear();
  }

 private:
  static constexpr int kScale = 200;
  static constexpr double kBig = 0x1p996;
  Expansion small_, big_;  // big_: the values >= kBig in magnitude, times 2^-kScale
};

}  // namespace juncture::runtime
