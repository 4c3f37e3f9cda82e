#include "juncture/runtime/program.h"

namespace juncture::runtime {

int ProgramSpec::FindEvent(std::string_view name) const {
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace juncture::runtime
