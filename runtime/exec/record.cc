#include "juncture/runtime/record.h"

namespace juncture::runtime {

void RecordWriter::SetPresent(uint32_t present_offset, int bit) {
  if (bit < 0 || bit >= JN_MAX_OPTIONAL_FIELDS) return;
  uint64_t word;
  std::memcpy(&word, data_ + present_offset, sizeof word);
  word |= uint64_t{1} << bit;
  std::memcpy(data_ + present_offset, &word, sizeof word);
}

}  // namespace juncture::runtime
