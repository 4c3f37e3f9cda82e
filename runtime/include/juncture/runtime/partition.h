// Customers map to P partitions by one documented hash (docs/scaling.md), the one
// nats-server's subject mapping computes: `{{partition(P, i)}}` in a mapping sends a
// subject whose i-th token is a customer id to partition PartitionOf(id, P). So a
// producer may either publish to a subject with the customer id as a token and let
// the server map it, or compute the partition itself (`juncture publish`).
#pragma once

#include <cstdint>
#include <string_view>

namespace juncture::runtime {

// Partitions per deployment unless configured: fixed for the life of its state.
inline constexpr uint32_t kDefaultPartitions = 64;

// FNV-1a (32-bit) of the id's bytes, modulo `partitions` (> 0).
uint32_t PartitionOf(std::string_view customer, uint32_t partitions);

// The customer a message is about, as the engine reads it: "userId" if it is a
// non-empty string or an integer (its decimal text), else "anonymousId" by the same
// rule (a byte-order mark before the message skipped). False (and *customer empty) for
// a message with neither, or that is not a JSON object: the engine makes such a
// message a dead letter. For routing a message to the engine that owns its customer.
bool CustomerOfMessage(std::string_view json, std::string* customer);

}  // namespace juncture::runtime
