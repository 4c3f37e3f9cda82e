#include "juncture/runtime/partition.h"

namespace juncture::runtime {

uint32_t PartitionOf(std::string_view customer, uint32_t partitions) {
  // FNV-1a, 32-bit: the offset basis and prime of the FNV specification (as Go's
  // hash/fnv New32a, which nats-server uses for partition()).
  uint32_t h = 2166136261u;
  for (unsigned char c : customer) {
    h ^= c;
    h *= 16777619u;
  }
  return h % partitions;
}

}  // namespace juncture::runtime
