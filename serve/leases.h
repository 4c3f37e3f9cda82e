// Partition leases: which instance of a cluster decides for which partitions, agreed
// through a JetStream key-value bucket (the first piece of `serve --cluster`; see
// docs/scaling.md, "Cluster"). Private to serve/.
//
// Each instance, every round (more often than the bucket's TTL):
//   - writes its presence key `i.<instance>`;
//   - reads the live instances (the presence keys the TTL has not expired);
//   - assigns every partition by rendezvous hashing: the instance with the largest
//     hash of (partition, instance) owns it. Every instance computes the same
//     assignment from the same live set, and an instance that joins or leaves moves
//     only its own share;
//   - renews the leases `p.<partition>` it holds and should hold, each with an update
//     fenced by the revision it last wrote: if anyone else wrote the key since (the
//     lease expired and another instance took it), the update fails and the
//     partition is reported lost;
//   - releases (deletes) the leases it holds but should not, and claims (creates:
//     refused while another holds it) those it should hold and does not.
// A lease not renewed expires with the bucket's TTL, so a dead instance's partitions
// are claimed by the survivors within the TTL plus a round.
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace juncture::serve {

struct LeaseOptions {
  std::string bucket;    // the KV bucket, created if missing
  std::string instance;  // this instance's id: unique in the cluster, a subject token
  uint32_t partitions = 64;
  int64_t ttl_ms = 6000;  // a lease or presence not renewed within this expires
  int replicas = 1;       // of the bucket's stream (3 on a three-node cluster)
};

// What one round changed.
struct LeaseRound {
  std::vector<uint32_t> held;    // after the round, sorted
  std::vector<uint32_t> gained;  // claimed in this round
  std::vector<uint32_t> lost;    // held before, and someone else wrote it since (fenced out)
  std::vector<uint32_t> released;  // handed over in this round (another instance's share)
  std::vector<std::string> instances;  // live, sorted
};

class PartitionLeases {
 public:
  static std::unique_ptr<PartitionLeases> Open(jsCtx* js, const LeaseOptions& options,
                                               std::string* error);
  ~PartitionLeases();
  PartitionLeases(const PartitionLeases&) = delete;
  PartitionLeases& operator=(const PartitionLeases&) = delete;

  // One round (above). False with `error` if the bucket could not be read or written
  // (NATS unreachable): the leases held stay as they were, and expire if this goes on.
  bool Renew(LeaseRound* out, std::string* error);
  // A graceful stop: deletes this instance's presence and the leases it still holds,
  // so that the others claim them at their next round instead of after the TTL.
  void ReleaseAll();
  // The partitions this instance holds (as of its last round), sorted.
  std::vector<uint32_t> held() const;

  // The index in `instances` (not empty) of the owner of `partition`, by rendezvous
  // hashing.
  static size_t OwnerOf(uint32_t partition, const std::vector<std::string>& instances);

 private:
  PartitionLeases() = default;
  bool LiveInstances(std::vector<std::string>* out, std::string* error);
  bool Release(uint32_t partition, uint64_t revision);

  kvStore* kv_ = nullptr;
  LeaseOptions options_;
  std::map<uint32_t, uint64_t> held_;  // partition -> revision of our last write
};

}  // namespace juncture::serve
