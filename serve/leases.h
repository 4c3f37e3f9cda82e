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
//   - reports the leases it holds but should not (the caller stops deciding for them,
//     then Releases them: a delete fenced by the revision it last wrote), and claims
//     (creates: refused while another holds it) those it should hold and does not.
// A lease not renewed expires with the bucket's TTL, so a dead instance's partitions
// are claimed by the survivors within the TTL plus a round. Locally, a lease counts
// as held only until a margin before its TTL runs out since its last write (held()),
// so an instance cut off from NATS stops deciding before another can claim it.
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "juncture/status.h"

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
  std::vector<uint32_t> release;  // held, but another instance's share now: stop, then Release
  std::vector<std::string> instances;  // live, sorted
};

class PartitionLeases {
 public:
  static Result<std::unique_ptr<PartitionLeases>> Open(jsCtx* js, const LeaseOptions& options);
  ~PartitionLeases();
  PartitionLeases(const PartitionLeases&) = delete;
  PartitionLeases& operator=(const PartitionLeases&) = delete;

  // One round (above). The first problem (unavailable) if some of the bucket could
  // not be read or written (NATS unreachable): the round still did what it could,
  // and what it could not renew expires locally (held()) and in the bucket.
  Status Renew(LeaseRound* out);
  // Hands a lease over (after Renew listed it in `release` and the caller stopped
  // deciding for it): deletes it unless someone else wrote it since our last write.
  void Release(uint32_t partition);
  // A graceful stop: deletes this instance's presence and the leases it still holds,
  // so that the others claim them at their next round instead of after the TTL.
  void ReleaseAll();
  // The partitions this instance holds: renewed less than the TTL minus a margin
  // (a quarter of it) ago. Sorted.
  std::vector<uint32_t> held() const;

  // The index in `instances` (not empty) of the owner of `partition`, by rendezvous
  // hashing.
  static size_t OwnerOf(uint32_t partition, const std::vector<std::string>& instances);

 private:
  PartitionLeases() = default;
  Result<std::vector<std::string>> LiveInstances();
  // The bucket's stream, and the subject a key is stored on (NATS.c's KV layout).
  std::string StreamName() const { return "KV_" + options_.bucket; }
  std::string KeySubject(const std::string& key) const {
    return "$KV." + options_.bucket + "." + key;
  }
  // After a write that failed: the key's latest entry, if it is ours (a write that
  // timed out but landed), is adopted; otherwise the lease is someone else's.
  enum class Owner { kUs, kOther, kUnknown };
  Owner Check(uint32_t partition, uint64_t* revision);

  jsCtx* js_ = nullptr;
  kvStore* kv_ = nullptr;
  LeaseOptions options_;
  struct Lease {
    uint64_t revision = 0;   // of our last write
    int64_t written_ns = 0;  // steady clock, when that write was sent
  };
  std::map<uint32_t, Lease> held_;
};

}  // namespace juncture::serve
