#include "leases.h"

#include <algorithm>
#include <chrono>

#include "nats_connection.h"
#include "streams.h"

namespace juncture::serve {

namespace {

constexpr const char* kPresence = "i.";
constexpr const char* kLease = "p.";
// Listing the live instances waits this long for the stream leader's answer.
constexpr int64_t kListWaitMs = 2000;

std::string LeaseKey(uint32_t partition) { return kLease + std::to_string(partition); }

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

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

Result<std::unique_ptr<PartitionLeases>> PartitionLeases::Open(jsCtx* js,
                                                               const LeaseOptions& options) {
  std::unique_ptr<PartitionLeases> leases(new PartitionLeases());
  leases->options_ = options;
  leases->js_ = js;
  if (js_KeyValue(&leases->kv_, js, options.bucket.c_str()) == NATS_OK) {
    // A bucket made by hand without a TTL would keep a dead instance's leases forever.
    kvStatus* status = nullptr;
    int64_t ttl = -1;
    if (kvStore_Status(&status, leases->kv_) == NATS_OK) {
      ttl = kvStatus_TTL(status);
      kvStatus_Destroy(status);
    }
    if (ttl == 0) {
      return FailedPreconditionError("the lease bucket " + options.bucket +
                                     " has no TTL: a dead instance's partitions would never "
                                     "be taken over; delete it (serve creates it)");
    }
    // The bucket's TTL is what expires a lease: local validity (held()) follows it.
    if (ttl > 0) leases->options_.ttl_ms = ttl / 1'000'000;
    return leases;
  }
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
    return UnavailableError("cannot create the lease bucket " + options.bucket + ": " +
                            NatsErrorText(s));
  }
  return leases;
}

PartitionLeases::~PartitionLeases() { kvStore_Destroy(kv_); }

// The presence keys the stream holds, from its leader's subject counts: one request and
// no consumer. (NATS.c's kvStore_Keys creates a consumer of one replica, which
// nats-server may place on a dead peer: while a node of three is down, one listing in
// three would go unanswered, and a round that waits for it loses its leases.) An
// expired presence is gone from the stream; a stopping instance purges its own (a
// delete would leave a marker the counts include).
Result<std::vector<std::string>> PartitionLeases::LiveInstances() {
  const std::string prefix = KeySubject(kPresence);
  jsOptions o;
  jsOptions_Init(&o);
  o.Wait = kListWaitMs;
  const std::string filter = prefix + ">";
  o.Stream.Info.SubjectsFilter = filter.c_str();
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&info, js_, StreamName().c_str(), &o, &code);
  if (s != NATS_OK) {
    return UnavailableError("cannot list the live instances: " + JsError(s, code));
  }
  std::vector<std::string> out;
  if (const jsStreamStateSubjects* subjects = info->State.Subjects; subjects != nullptr) {
    for (int i = 0; i < subjects->Count; ++i) {
      std::string subject = subjects->List[i].Subject;
      if (subject.compare(0, prefix.size(), prefix) == 0 && subjects->List[i].Msgs > 0) {
        out.push_back(subject.substr(prefix.size()));
      }
    }
  }
  jsStreamInfo_Destroy(info);
  std::sort(out.begin(), out.end());
  return out;
}

PartitionLeases::Owner PartitionLeases::Check(uint32_t partition, uint64_t* revision) {
  kvEntry* entry = nullptr;
  natsStatus s = kvStore_Get(&entry, kv_, LeaseKey(partition).c_str());
  if (s == NATS_NOT_FOUND) return Owner::kOther;  // expired or deleted: not ours
  if (s != NATS_OK) return Owner::kUnknown;
  bool ours = options_.instance == kvEntry_ValueString(entry);
  *revision = kvEntry_Revision(entry);
  kvEntry_Destroy(entry);
  return ours ? Owner::kUs : Owner::kOther;
}

void PartitionLeases::Release(uint32_t partition) {
  auto held = held_.find(partition);
  if (held == held_.end()) return;
  const uint64_t revision = held->second.revision;
  held_.erase(held);
  // The KV delete marker, fenced: refused if anyone wrote the key since our write (it
  // is theirs then). NATS.c's kvStore_Delete takes no revision.
  const std::string subject = KeySubject(LeaseKey(partition));
  natsMsg* msg = nullptr;
  if (natsMsg_Create(&msg, subject.c_str(), nullptr, nullptr, 0) != NATS_OK) return;
  natsMsgHeader_Set(msg, "KV-Operation", "DEL");
  jsPubOptions o;
  jsPubOptions_Init(&o);
  o.ExpectLastSubjectSeq = revision;
  jsPubAck* ack = nullptr;
  js_PublishMsg(&ack, js_, msg, &o, nullptr);  // refused: someone else's now; lost: it expires
  jsPubAck_Destroy(ack);
  natsMsg_Destroy(msg);
}

Status PartitionLeases::Renew(LeaseRound* out) {
  *out = LeaseRound{};
  const std::string& me = options_.instance;
  uint64_t rev = 0;
  natsStatus s = kvStore_PutString(&rev, kv_, (kPresence + me).c_str(), "");
  if (s != NATS_OK) {
    out->held = held();
    return UnavailableError("cannot write this instance's presence: " + NatsErrorText(s));
  }
  Result<std::vector<std::string>> live = LiveInstances();
  if (!live.ok()) {
    out->held = held();
    return live.status();
  }
  out->instances = *std::move(live);
  if (std::find(out->instances.begin(), out->instances.end(), me) == out->instances.end()) {
    out->instances.push_back(me);  // just written: a listing may lag it
    std::sort(out->instances.begin(), out->instances.end());
  }
  Status first_problem;
  auto fail = [&](uint32_t p, const char* what, natsStatus status) {
    if (first_problem.ok()) {
      first_problem = UnavailableError(std::string("cannot ") + what + " the lease of partition " +
                                       std::to_string(p) + ": " + NatsErrorText(status));
    }
  };
  for (uint32_t p = 0; p < options_.partitions; ++p) {
    const bool mine = out->instances[OwnerOf(p, out->instances)] == me;
    const std::string key = LeaseKey(p);
    auto held = held_.find(p);
    if (held != held_.end()) {
      if (!mine) {  // another instance's share now: the caller stops, then releases
        out->release.push_back(p);
        continue;
      }
      const int64_t sent_ns = NowNs();
      uint64_t next = 0;
      s = kvStore_UpdateString(&next, kv_, key.c_str(), me.c_str(), held->second.revision);
      if (s == NATS_OK) {
        held->second = Lease{next, sent_ns};
        continue;
      }
      // Refused (fenced out), or no answer: what does the key say now?
      uint64_t latest = 0;
      switch (Check(p, &latest)) {
        case Owner::kUs: held->second = Lease{latest, sent_ns}; break;  // it landed
        case Owner::kOther:
          held_.erase(held);
          out->lost.push_back(p);
          break;
        case Owner::kUnknown: fail(p, "renew", s); break;  // expires locally if this goes on
      }
    } else if (mine) {
      const int64_t sent_ns = NowNs();
      uint64_t created = 0;
      s = kvStore_CreateString(&created, kv_, key.c_str(), me.c_str());
      if (s == NATS_OK) {
        held_[p] = Lease{created, sent_ns};
        out->gained.push_back(p);
      } else if (uint64_t latest = 0; Check(p, &latest) == Owner::kUs) {
        held_[p] = Lease{latest, sent_ns};  // ours already (a create that timed out, a restart)
        out->gained.push_back(p);
      }  // else held by another: it hands it over, or its lease expires
    }
  }
  out->held = held();
  return first_problem;
}

std::vector<uint32_t> PartitionLeases::held() const {
  const int64_t valid_ns = options_.ttl_ms * 1'000'000 * 3 / 4;  // a quarter's margin
  const int64_t now = NowNs();
  std::vector<uint32_t> out;
  for (const auto& [p, lease] : held_) {
    if (now - lease.written_ns < valid_ns) out.push_back(p);
  }
  return out;
}

void PartitionLeases::ReleaseAll() {
  std::vector<uint32_t> all;
  for (const auto& [p, lease] : held_) all.push_back(p);
  for (uint32_t p : all) Release(p);
  // The presence purged, not deleted: a delete marker would still be listed (above).
  jsOptions o;
  jsOptions_Init(&o);
  const std::string subject = KeySubject(kPresence + options_.instance);
  o.Stream.Purge.Subject = subject.c_str();
  js_PurgeStream(js_, StreamName().c_str(), &o, nullptr);  // lost: it expires with the TTL
}

}  // namespace juncture::serve
