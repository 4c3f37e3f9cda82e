// "Did you mean …?": the closest of a set of names to one that is not among them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace juncture::compiler {

// The Levenshtein distance between two byte strings.
size_t EditDistance(std::string_view a, std::string_view b);

// The candidate closest to `name`, or "" if none is close enough to be what was
// meant: one within a few edits (a third of the name's length, at least 2), or one
// that starts or ends the name or that the name starts (`lowercase` for `lower`),
// with at least 3 letters in common. `aliases` maps words from other languages to
// ours (`integer` -> `int`); an alias wins over everything else.
std::string Closest(std::string_view name, const std::vector<std::string>& candidates,
                    const std::vector<std::pair<std::string, std::string>>& aliases = {});

// "; did you mean 'X'?" for the closest candidate, or "".
std::string DidYouMean(std::string_view name, const std::vector<std::string>& candidates,
                       const std::vector<std::pair<std::string, std::string>>& aliases = {});

}  // namespace juncture::compiler
