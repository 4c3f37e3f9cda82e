#include "base/suggest.h"

#include <algorithm>

namespace juncture::compiler {

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t prev = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cur = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] != b[j - 1])});
      prev = cur;
    }
  }
  return row[b.size()];
}

std::string Closest(std::string_view name, const std::vector<std::string>& candidates,
                    const std::vector<std::pair<std::string, std::string>>& aliases) {
  for (const auto& [alias, meant] : aliases) {
    if (alias == name && std::find(candidates.begin(), candidates.end(), meant) != candidates.end()) {
      return meant;
    }
  }
  std::string best;
  size_t best_distance = std::max<size_t>(2, name.size() / 3) + 1;
  for (const std::string& c : candidates) {
    const size_t d = EditDistance(name, c);
    if (d < best_distance) best_distance = d, best = c;
  }
  if (!best.empty()) return best;
  // A name that holds a candidate whole, or that a candidate holds, at one end.
  size_t best_common = 2;
  for (const std::string& c : candidates) {
    const std::string_view shorter = c.size() < name.size() ? std::string_view(c) : name;
    const std::string_view longer = c.size() < name.size() ? name : std::string_view(c);
    if (shorter.size() <= best_common) continue;
    if (longer.starts_with(shorter) || longer.ends_with(shorter)) {
      best_common = shorter.size();
      best = c;
    }
  }
  return best;
}

std::string DidYouMean(std::string_view name, const std::vector<std::string>& candidates,
                       const std::vector<std::pair<std::string, std::string>>& aliases) {
  std::string best = Closest(name, candidates, aliases);
  return best.empty() ? "" : "; did you mean '" + best + "'?";
}

}  // namespace juncture::compiler
