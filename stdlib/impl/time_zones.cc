#include "juncture/stdlib/time_zones.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "juncture/stdlib/functions.h"

namespace juncture::stdlib {

// The same test as the functions' own look-up, so that a constant the checker
// accepts is a zone at run time too.
bool IsTimeZone(std::string_view name) { return KnownTimeZone(name); }

const std::vector<std::string>& TimeZoneNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out = {"UTC"};
    // Lines: country codes, coordinates, zone name, comment (tab-separated).
    std::ifstream tab("/usr/share/zoneinfo/zone1970.tab");
    std::string line;
    while (std::getline(tab, line)) {
      if (line.empty() || line[0] == '#') continue;
      std::istringstream fields(line);
      std::string codes, coordinates, zone;
      if (std::getline(fields, codes, '\t') && std::getline(fields, coordinates, '\t') &&
          std::getline(fields, zone, '\t')) {
        out.push_back(zone);
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }();
  return names;
}

}  // namespace juncture::stdlib
