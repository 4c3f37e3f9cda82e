#include "juncture/runtime/partition.h"

#include <simdjson.h>

#include <string>

#include "exec/customer_id.h"

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

bool CustomerOfMessage(std::string_view json, std::string* customer) {
  customer->clear();
  thread_local simdjson::dom::parser parser;  // one per routing thread, reused
  simdjson::dom::object root;
  // Error codes only (never simdjson's throwing accessors): any bytes are safe here.
  json = SkipByteOrderMark(json);
  const bool copy = !PaddingIsReadable(json);
  if (parser.parse(json.data(), json.size(), copy).get_object().get(root) != simdjson::SUCCESS) {
    return false;
  }
  for (const char* key : {"userId", "anonymousId"}) {
    simdjson::dom::element id;
    if (root[key].get(id) == simdjson::SUCCESS && ReadCustomerId(id, *customer)) return true;
  }
  customer->clear();
  return false;
}

}  // namespace juncture::runtime
