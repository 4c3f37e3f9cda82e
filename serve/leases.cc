#include "leases.h"

#include <algorithm>

#include "nats_connection.h"

namespace juncture::serve {

namespace {

constexpr const char* kPresence = "i.";
constexpr const char* kLease = "p.";

std::string LeaseKey(uint32_t partition) { return kLease + std::to_string(partition); }

// FNV-1a over the partition number and the instance id: the rendezvous weight.
uint64_t Weight(uint32_t partition, const std::string& instance) {
  uint64_t h = 14695981039346656037ull;
  auto mix = [&h](unsigned char c) {
    h ^= c;
    h *= 1099511628211ull;
  };
  for (int i = 0; i < 4; ++i) mix(static_cast<unsigned char>(partition >> (8 * i)));
  for (unsigned char c : instance) mix(c);
  // FNV's low bits are weak for short inputs: finish with a 64-bit mix (splitmix64).
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

}  // namespace

size_t PartitionLeases::OwnerOf(uint32_t partition, const std::vector<std::string>& instances) {
  size_t best = 0;
  uint64_t best_weight = 0;
  for (size_t i = 0; i < instances.size(); ++i) {
    uint64_t w = Weight(partition, instances[i]);
    if (i == 0 || w > best_weight || (w == best_weight && instances[i] < instances[best])) {
      best = i;
      best_weight = w;
    }
  }
  return best;
}

std::unique_ptr<PartitionLeases> PartitionLeases::Open(jsCtx* js, const LeaseOptions& options,
                                                       std::string* error) {
  std::unique_ptr<PartitionLeases> leases(new PartitionLeases());
  leases->options_ = options;
  if (js_KeyValue(&leases->kv_, js, options.bucket.c_str()) == NATS_OK) return leases;
  kvConfig cfg;
  kvConfig_Init(&cfg);
  cfg.Bucket = options.bucket.c_str();
  cfg.Description = "juncture serve --cluster: partition leases and instance presence";
  cfg.History = 1;
  cfg.TTL = options.ttl_ms * 1'000'000;  // nanoseconds
  cfg.Replicas = options.replicas;
  cfg.StorageType = js_FileStorage;
  natsStatus s = js_CreateKeyValue(&leases->kv_, js, &cfg);
  if (s != NATS_OK && js_KeyValue(&leases->kv_, js, options.bucket.c_str()) != NATS_OK) {
    // Another instance may have created it meanwhile (then the second lookup works).
    *error = "cannot create the lease bucket " + options.bucket + ": " + NatsErrorText(s);
    return nullptr;
  }
  return leases;
}

PartitionLeases::~PartitionLeases() { kvStore_Destroy(kv_); }

bool PartitionLeases::LiveInstances(std::vector<std::string>* out, std::string* error) {
  out->clear();
  kvKeysList list{};
  kvWatchOptions o;
  kvWatchOptions_Init(&o);
  o.Timeout = 2000;
  natsStatus s = kvStore_Keys(&list, kv_, &o);
  if (s == NATS_NOT_FOUND) return true;  // an empty bucket
  if (s != NATS_OK) {
    *error = "cannot list the live instances: " + NatsErrorText(s);
    return false;
  }
  const size_t prefix = std::char_traits<char>::length(kPresence);
  for (int i = 0; i < list.Count; ++i) {
    std::string key = list.Keys[i];
    if (key.compare(0, prefix, kPresence) == 0) out->push_back(key.substr(prefix));
  }
  kvKeysList_Destroy(&list);
  std::sort(out->begin(), out->end());
  return true;
}

bool PartitionLeases::Release(uint32_t partition, uint64_t revision) {
  // Only our own lease: if someone took the key since our last write, it is theirs.
  const std::string key = LeaseKey(partition);
  kvEntry* entry = nullptr;
  if (kvStore_Get(&entry, kv_, key.c_str()) != NATS_OK) return true;  // expired already
  bool ours = kvEntry_Revision(entry) == revision;
  kvEntry_Destroy(entry);
  return !ours || kvStore_Delete(kv_, key.c_str()) == NATS_OK;
}

bool PartitionLeases::Renew(LeaseRound* out, std::string* error) {
  *out = LeaseRound{};
  const std::string& me = options_.instance;
  uint64_t rev = 0;
  natsStatus s = kvStore_PutString(&rev, kv_, (kPresence + me).c_str(), "");
  if (s != NATS_OK) {
    *error = "cannot write this instance's presence: " + NatsErrorText(s);
    return false;
  }
  if (!LiveInstances(&out->instances, error)) return false;
  if (std::find(out->instances.begin(), out->instances.end(), me) == out->instances.end()) {
    out->instances.push_back(me);  // just written: a listing may lag it
    std::sort(out->instances.begin(), out->instances.end());
  }
  for (uint32_t p = 0; p < options_.partitions; ++p) {
    const bool mine = out->instances[OwnerOf(p, out->instances)] == me;
    const std::string key = LeaseKey(p);
    auto held = held_.find(p);
    if (held != held_.end()) {
      if (!mine) {  // another instance's share now: hand it over
        if (Release(p, held->second)) {
          held_.erase(held);
          out->released.push_back(p);
        }
        continue;
      }
      uint64_t next = 0;
      s = kvStore_UpdateString(&next, kv_, key.c_str(), me.c_str(), held->second);
      if (s == NATS_OK) {
        held->second = next;
      } else if (s == NATS_ERR) {  // fenced out: the key moved on without us
        held_.erase(held);
        out->lost.push_back(p);
      } else {
        *error = "cannot renew the lease of partition " + std::to_string(p) + ": " +
                 NatsErrorText(s);
        return false;
      }
    } else if (mine) {
      uint64_t created = 0;
      s = kvStore_CreateString(&created, kv_, key.c_str(), me.c_str());
      if (s == NATS_OK) {
        held_[p] = created;
        out->gained.push_back(p);
      }  // else still held by another (it hands it over, or its lease expires)
    }
  }
  out->held = held();
  return true;
}

std::vector<uint32_t> PartitionLeases::held() const {
  std::vector<uint32_t> out;
  for (const auto& [p, revision] : held_) out.push_back(p);
  return out;
}

void PartitionLeases::ReleaseAll() {
  for (const auto& [p, revision] : held_) Release(p, revision);
  held_.clear();
  kvStore_Delete(kv_, (kPresence + options_.instance).c_str());
}

}  // namespace juncture::serve
