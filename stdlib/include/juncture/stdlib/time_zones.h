// IANA time-zone names, for the checker: a constant zone name that the time-zone
// database does not know is a compile error with a suggestion.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace juncture::stdlib {

// True if the time-zone database (tzdata) knows `name` ("Europe/Berlin", "UTC").
bool IsTimeZone(std::string_view name);

// The canonical zone names of the database (from zone1970.tab) and "UTC", sorted:
// the candidates of a "did you mean" suggestion. Empty if tzdata is not installed.
const std::vector<std::string>& TimeZoneNames();

}  // namespace juncture::stdlib
