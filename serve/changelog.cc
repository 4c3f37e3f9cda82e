#include "changelog.h"

#include <charconv>
#include <cstdio>
#include <random>
#include <cstring>
#include <memory>
#include <unordered_set>

#include "nats_connection.h"
#include "streams.h"

namespace juncture::serve {

namespace {

constexpr const char* kSeqHeader = "Juncture-Seq";
constexpr const char* kPositionHeader = "Juncture-Position";
constexpr const char* kEventsStreamHeader = "Juncture-Events-Stream";
constexpr const char* kExpectedLastHeader = "Nats-Expected-Last-Subject-Sequence";
constexpr const char* kEpochHeader = "Juncture-Epoch";
constexpr const char* kEpochStartHeader = "Juncture-Epoch-Start";
constexpr int64_t kAckWaitMs = 10'000;
constexpr int64_t kReadWaitMs = 5'000;
// JetStream's "wrong last sequence": the subject's last sequence was not the expected one.
constexpr int kWrongLastSequence = 10071;

std::string Hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

bool Unhex(std::string_view hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  out->clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(hex.data() + i, hex.data() + i + 2, value, 16);
    if (ec != std::errc() || end != hex.data() + i + 2) return false;
    out->push_back(static_cast<char>(value));
  }
  return true;
}

bool ParseU64(const char* text, uint64_t* out) {
  if (text == nullptr) return false;
  std::string_view s(text);
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

template <typename T>
void Put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

template <typename T>
bool Take(std::string_view& in, T* value) {
  if (in.size() < sizeof(T)) return false;
  std::memcpy(value, in.data(), sizeof(T));
  in.remove_prefix(sizeof(T));
  return true;
}

// A token that names one holder's tenure of a partition: random, 64 bits.
std::string NewEpoch() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

struct MsgListDeleter {
  void operator()(natsMsg* m) const { natsMsg_Destroy(m); }
};

}  // namespace

void ChangelogAcks::OnAck(jsCtx*, natsMsg* msg, jsPubAck*, jsPubAckErr* error, void* self) {
  auto* acks = static_cast<ChangelogAcks*>(self);
  if (error != nullptr) {
    std::lock_guard<std::mutex> lock(acks->mu);
    acks->last_error = JsError(error->Err, error->ErrCode) +
                       (error->ErrText != nullptr ? std::string(": ") + error->ErrText : "");
    if (static_cast<int>(error->ErrCode) == kWrongLastSequence) acks->fenced.store(true);
    acks->failures.fetch_add(1);
  }
  natsMsg_Destroy(msg);
}

std::string ChangelogStream(const std::string& cluster, uint32_t partition) {
  return "JUNCTURE_STATE_" + cluster + "_" + std::to_string(partition);
}

Status PartitionChangelog::EnsureStream() {
  const std::string subjects = prefix_ + ">";
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&info, js_, stream_.c_str(), nullptr, &code);
  if (s == NATS_OK) {
    int64_t per_subject = info->Config->MaxMsgsPerSubject;
    jsStreamInfo_Destroy(info);
    if (per_subject >= 0 && per_subject < 2) {
      return FailedPreconditionError(
          "stream " + stream_ + " keeps " + std::to_string(per_subject) +
          " message(s) per subject; the changelog needs two (the version before a commit that "
          "was cut); delete the stream or raise its max_msgs_per_subject");
    }
    return OkStatus();
  }
  if (s != NATS_NOT_FOUND) {
    return UnavailableError("cannot read stream " + stream_ + ": " + JsError(s, code));
  }
  const char* subject = subjects.c_str();
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = stream_.c_str();
  cfg.Subjects = &subject;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  cfg.Replicas = replicas_;
  cfg.MaxMsgsPerSubject = 2;
  cfg.Description = "juncture serve --cluster: one partition's state, compacted";
  code = static_cast<jsErrCode>(0);
  s = js_AddStream(&info, js_, &cfg, nullptr, &code);
  if (s == NATS_OK) {
    jsStreamInfo_Destroy(info);
    return OkStatus();
  }
  // Another instance may have created it meanwhile.
  if (js_GetStreamInfo(&info, js_, stream_.c_str(), nullptr, &code) == NATS_OK) {
    jsStreamInfo_Destroy(info);
    return OkStatus();
  }
  return UnavailableError("cannot create stream " + stream_ + ": " + JsError(s, code));
}

PartitionChangelog::PartitionChangelog(jsCtx* js, ChangelogAcks* acks, const std::string& cluster,
                                       uint32_t partition, int replicas)
    : js_(js),
      acks_(acks),
      stream_(ChangelogStream(cluster, partition)),
      prefix_("juncture.state." + cluster + "." + std::to_string(partition) + "."),
      replicas_(replicas) {}

std::string PartitionChangelog::Subject(const char* kind, std::string_view customer) const {
  std::string out = prefix_ + kind;
  if (!customer.empty()) out += "." + Hex(customer);
  return out;
}

// A timers piece: per timer, its sequence, due time, cancelled flag, piece length and
// piece (fixed-width little-endian numbers).
std::string PartitionChangelog::EncodeTimers(const Timers& timers) {
  std::string out;
  for (const auto& [seq, t] : timers) {
    Put<uint64_t>(out, seq);
    Put<int64_t>(out, t.due_us);
    Put<uint8_t>(out, t.cancelled ? 1 : 0);
    Put<uint32_t>(out, static_cast<uint32_t>(t.piece.size()));
    out += t.piece;
  }
  return out;
}

bool PartitionChangelog::DecodeTimers(std::string_view in, Timers* out) {
  out->clear();
  while (!in.empty()) {
    uint64_t seq = 0;
    TimerEntry t;
    uint8_t cancelled = 0;
    uint32_t size = 0;
    if (!Take(in, &seq) || !Take(in, &t.due_us) || !Take(in, &cancelled) || !Take(in, &size) ||
        in.size() < size) {
      return false;
    }
    t.cancelled = cancelled != 0;
    t.piece = std::string(in.substr(0, size));
    in.remove_prefix(size);
    (*out)[seq] = std::move(t);
  }
  return true;
}

Status PartitionChangelog::PublishPiece(const std::string& subject, std::string_view body,
                                        uint64_t seq) {
  natsMsg* msg = nullptr;
  natsStatus s = natsMsg_Create(&msg, subject.c_str(), nullptr, body.data(), static_cast<int>(body.size()));
  if (s == NATS_OK) s = natsMsgHeader_Set(msg, kSeqHeader, std::to_string(seq).c_str());
  if (s == NATS_OK) s = natsMsgHeader_Set(msg, kEpochHeader, epoch_.c_str());
  if (s == NATS_OK) s = js_PublishMsgAsync(js_, &msg, nullptr);  // takes msg on success
  if (msg != nullptr) natsMsg_Destroy(msg);
  if (s != NATS_OK) {
    return UnavailableError("cannot publish " + subject + ": " + NatsErrorText(s));
  }
  return OkStatus();
}

Status PartitionChangelog::AwaitAcks() {
  jsPubOptions o;
  jsPubOptions_Init(&o);
  o.MaxWait = kAckWaitMs;
  natsStatus s = js_PublishAsyncComplete(js_, &o);
  if (s != NATS_OK) {
    // What is still pending is given up: a later ack must not count against the next write.
    natsMsgList pending{};
    if (js_PublishAsyncGetPendingList(&pending, js_) == NATS_OK) natsMsgList_Destroy(&pending);
    return UnavailableError("the changelog did not acknowledge every write: " + NatsErrorText(s));
  }
  if (acks_->failures.exchange(0) > 0) {
    std::lock_guard<std::mutex> lock(acks_->mu);
    if (acks_->fenced.load()) {
      return FailedPreconditionError(
          "another instance wrote this partition's changelog since (fenced out)");
    }
    return UnavailableError("the changelog refused a write: " + acks_->last_error);
  }
  return OkStatus();
}

Status PartitionChangelog::PublishPosition(std::string_view globals, uint64_t seq, bool* fenced) {
  natsMsg* raw = nullptr;
  const std::string subject = Subject("pos");
  natsStatus s = natsMsg_Create(&raw, subject.c_str(), nullptr, globals.data(),
                                static_cast<int>(globals.size()));
  if (s != NATS_OK) {
    return UnavailableError("cannot build the position: " + NatsErrorText(s));
  }
  std::unique_ptr<natsMsg, MsgListDeleter> msg(raw);
  natsMsgHeader_Set(raw, kSeqHeader, std::to_string(seq).c_str());
  natsMsgHeader_Set(raw, kPositionHeader, std::to_string(seq).c_str());
  natsMsgHeader_Set(raw, kEventsStreamHeader, std::to_string(events_created_ns_).c_str());
  natsMsgHeader_Set(raw, kEpochHeader, epoch_.c_str());
  natsMsgHeader_Set(raw, kEpochStartHeader, std::to_string(epoch_start_).c_str());
  // 0 expects no position at all yet.
  natsMsgHeader_Set(raw, kExpectedLastHeader, std::to_string(position_msg_seq_).c_str());
  jsPubOptions o;
  jsPubOptions_Init(&o);
  o.MaxWait = kAckWaitMs;
  jsPubAck* ack = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  s = js_PublishMsg(&ack, js_, raw, &o, &code);
  if (s != NATS_OK) {
    *fenced = static_cast<int>(code) == kWrongLastSequence;
    if (*fenced) {
      return FailedPreconditionError(
          "another instance wrote this partition's changelog since (fenced out)");
    }
    return UnavailableError("cannot write the position: " + JsError(s, code));
  }
  position_msg_seq_ = ack->Sequence;
  jsPubAck_Destroy(ack);
  return OkStatus();
}

std::vector<std::string> PartitionChangelog::ApplyTimerOps(const runtime::StateChanges& changes) {
  using Op = runtime::StateChanges::TimerOp;
  std::unordered_set<std::string> touched;
  if (changes.rewrite) {  // the whole state follows: every customer's timers again
    for (const auto& entry : timers_) touched.insert(entry.first);
    timers_.clear();
    owner_.clear();
  }
  for (const Op& op : changes.timers) {
    if (op.kind == Op::kPut) {
      timers_[op.customer][op.seq] = TimerEntry{op.due_us, op.value, false};
      owner_[op.seq] = op.customer;
      touched.insert(op.customer);
      continue;
    }
    auto owner = owner_.find(op.seq);
    if (owner == owner_.end()) continue;  // set and dropped before anything was written
    const std::string customer = owner->second;
    touched.insert(customer);
    auto list = timers_.find(customer);
    if (list == timers_.end()) continue;
    if (op.kind == Op::kCancel) {
      auto t = list->second.find(op.seq);
      if (t != list->second.end()) t->second.cancelled = true;
      continue;
    }
    list->second.erase(op.seq);
    owner_.erase(owner);
    if (list->second.empty()) timers_.erase(list);
  }
  return {touched.begin(), touched.end()};
}

Status PartitionChangelog::Write(const runtime::StateChanges& changes,
                                 const ChangelogPosition& position, bool* fenced) {
  *fenced = false;
  const uint64_t tag = position.input_seq;
  acks_->failures.store(0);
  acks_->fenced.store(false);
  Status written;
  if (!changes.layouts.empty()) written = PublishPiece(Subject("l"), changes.layouts, tag);
  for (size_t i = 0; written.ok() && i < changes.customers.size(); ++i) {
    const auto& c = changes.customers[i];
    written = PublishPiece(Subject("c", c.id), c.value, tag);
  }
  for (const std::string& customer : ApplyTimerOps(changes)) {
    if (!written.ok()) break;
    auto list = timers_.find(customer);
    written = PublishPiece(Subject("t", customer),
                           list == timers_.end() ? std::string() : EncodeTimers(list->second), tag);
  }
  Status acked = AwaitAcks();
  if (written.ok()) written = acked;
  if (!written.ok()) {
    *fenced = acks_->fenced.exchange(false);
    return written;
  }
  // Every piece is stored: now the position.
  return PublishPosition(changes.globals, tag, fenced);
}

Result<ChangelogPosition> PartitionChangelog::Restore(runtime::Engine& engine,
                                                      int64_t events_created_ns) {
  // Every stored message of the partition, oldest first (at most two per subject).
  struct Version {
    uint64_t tag = 0;
    std::string epoch;
    uint64_t epoch_start = 0;  // positions only
    uint64_t events_created = 0;  // positions only
    uint64_t stream_seq = 0;
    std::string body;
  };
  if (Status s = EnsureStream(); !s.ok()) return s;
  std::map<std::string, std::vector<Version>> subjects;
  {
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = stream_.c_str();
    so.Ordered = true;
    so.Config.DeliverPolicy = js_DeliverAll;
    natsSubscription* raw = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    jsOptions create = OrderedConsumerCreateOptions();
    natsStatus s = js_SubscribeSync(&raw, js_, (prefix_ + ">").c_str(), &create, &so, &code);
    if (s != NATS_OK) {
      return UnavailableError("cannot read " + stream_ + ": " + JsError(s, code));
    }
    SubscriptionPtr sub(raw);
    jsConsumerInfo* info = nullptr;
    s = natsSubscription_GetConsumerInfo(&info, raw, nullptr, &code);
    if (s != NATS_OK) {
      return UnavailableError("cannot read " + stream_ + ": " + JsError(s, code));
    }
    uint64_t total = info->Delivered.Consumer + info->NumPending;
    jsConsumerInfo_Destroy(info);
    uint64_t received = 0;
    uint64_t remaining = total;
    while (received < total || remaining > 0) {
      natsMsg* m = nullptr;
      s = natsSubscription_NextMsg(&m, raw, kReadWaitMs);
      if (s != NATS_OK) {
        return UnavailableError("reading " + stream_ + " stopped after " +
                                std::to_string(received) + " of " + std::to_string(total) +
                                " messages: " + NatsErrorText(s));
      }
      std::unique_ptr<natsMsg, MsgListDeleter> owned(m);
      jsMsgMetaData* meta = nullptr;
      if (natsMsg_GetMetaData(&meta, m) != NATS_OK) continue;  // a flow-control message
      remaining = meta->NumPending;
      uint64_t stream_seq = meta->Sequence.Stream;
      jsMsgMetaData_Destroy(meta);
      ++received;
      const char* tag_text = nullptr;
      Version v;
      if (natsMsgHeader_Get(m, kSeqHeader, &tag_text) != NATS_OK || !ParseU64(tag_text, &v.tag)) {
        return CorruptionError(std::string("a message of ") + natsMsg_GetSubject(m) + " in " +
                               stream_ + " has no valid " + kSeqHeader +
                               " header: not written by serve");
      }
      v.body.assign(natsMsg_GetData(m), static_cast<size_t>(natsMsg_GetDataLength(m)));
      v.stream_seq = stream_seq;
      const char* text = nullptr;
      if (natsMsgHeader_Get(m, kEpochHeader, &text) == NATS_OK && text != nullptr) v.epoch = text;
      if (natsMsgHeader_Get(m, kEpochStartHeader, &text) == NATS_OK) ParseU64(text, &v.epoch_start);
      if (natsMsgHeader_Get(m, kEventsStreamHeader, &text) == NATS_OK) ParseU64(text, &v.events_created);
      subjects[natsMsg_GetSubject(m)].push_back(std::move(v));
    }
  }
  // The position: the latest one written (positions are fenced: one writer at a time).
  uint64_t input_seq = 0;
  std::string globals, epoch;
  uint64_t epoch_start = 0;
  position_msg_seq_ = 0;
  if (auto pos = subjects.find(Subject("pos")); pos != subjects.end()) {
    const Version& last = pos->second.back();
    input_seq = last.tag;
    globals = last.body;
    epoch = last.epoch;
    epoch_start = last.epoch_start;
    position_msg_seq_ = last.stream_seq;
    if (events_created_ns != 0 && input_seq > 0 && last.events_created != 0 &&
        last.events_created != static_cast<uint64_t>(events_created_ns)) {
      return FailedPreconditionError(
          "its position (sequence " + std::to_string(input_seq) +
          ") is in an events "
          "stream that was deleted or replaced since, whose sequences meant other "
          "messages: serve cannot tell which messages of the stream now are decided; "
          "restore that stream, or delete the partitions' changelog streams (" +
          stream_ + " and the others) to start again from the stream's first message");
    }
    subjects.erase(pos);
  }
  events_created_ns_ = events_created_ns;
  // A piece belongs to the state as of the position if the position's holder wrote it
  // before the position, or an earlier holder wrote it before this holder's restore:
  // pieces of a commit cut before its position, and any that a previous holder still
  // wrote after losing the partition, are tagged later than that.
  auto belongs = [&](const Version& v) {
    return v.epoch == epoch ? v.tag <= input_seq : v.tag <= epoch_start;
  };
  // Each piece as of the position; a subject whose latest version is not it is
  // written again (rolled back).
  std::vector<std::pair<std::string, std::string>> rollback;  // subject, body as of position
  std::map<std::string, std::string> chosen;
  lost_.clear();
  for (auto& [subject, versions] : subjects) {
    const Version* at = nullptr;
    for (const Version& v : versions) {
      if (belongs(v)) at = &v;
    }
    // Both kept versions stray: the one that belonged, if there was one, was pushed
    // out (a subject keeps two). Said, since it cannot be told from a new customer.
    if (at == nullptr && versions.size() >= 2) lost_.push_back(subject);
    std::string body = at != nullptr ? at->body : std::string();
    if (at != &versions.back()) rollback.emplace_back(subject, body);
    if (!body.empty()) chosen[subject] = std::move(body);
  }
  runtime::StateRestorer restorer(engine);
  auto fail = [&](const std::string& subject, const std::string& why) {
    return CorruptionError("the piece " + subject + " in " + stream_ + " is not intact: " + why);
  };
  if (auto layouts = chosen.find(Subject("l")); layouts != chosen.end()) {
    Status s = restorer.Layouts(layouts->second);
    if (!s.ok()) return fail(layouts->first, s.message());
  }
  if (!globals.empty()) {
    if (Status s = restorer.Globals(globals); !s.ok()) return fail(Subject("pos"), s.message());
  }
  timers_.clear();
  owner_.clear();
  const std::string customer_prefix = Subject("c") + ".";
  const std::string timers_prefix = Subject("t") + ".";
  for (const auto& [subject, body] : chosen) {
    std::string id;
    if (subject.compare(0, customer_prefix.size(), customer_prefix) == 0) {
      if (!Unhex(std::string_view(subject).substr(customer_prefix.size()), &id)) {
        return fail(subject, "not a customer subject");
      }
      if (Status s = restorer.Customer(id, body); !s.ok()) return fail(subject, s.message());
    } else if (subject.compare(0, timers_prefix.size(), timers_prefix) == 0) {
      Timers timers;
      if (!Unhex(std::string_view(subject).substr(timers_prefix.size()), &id) ||
          !DecodeTimers(body, &timers)) {
        return fail(subject, "not a timers piece");
      }
      for (const auto& [seq, t] : timers) {
        if (Status s = restorer.Timer(t.piece); !s.ok()) return fail(subject, s.message());
        if (t.cancelled) restorer.Cancelled(seq);
        owner_[seq] = id;
      }
      timers_[id] = std::move(timers);
    }
  }
  customers_restored_ = restorer.customers();
  // Before anything reaches the engine (a failure here leaves the partition as it
  // was): a new epoch, starting at the position; the rolled-back pieces written again
  // in it; then the position again, fenced: if another instance wrote a position
  // since this restore read, the restore fails. From then on a previous holder's
  // position is refused, and its pieces, tagged after this epoch's start, never count.
  epoch_ = NewEpoch();
  epoch_start_ = input_seq;
  acks_->failures.store(0);
  acks_->fenced.store(false);
  for (const auto& [subject, body] : rollback) {
    if (Status s = PublishPiece(subject, body, input_seq); !s.ok()) {
      static_cast<void>(AwaitAcks());  // what is pending is given up; `s` says why
      return s;
    }
  }
  if (!rollback.empty()) {
    if (Status s = AwaitAcks(); !s.ok()) return s;
  }
  bool fenced = false;
  if (Status s = PublishPosition(globals, input_seq, &fenced); !s.ok()) return s;
  restorer.Finish();
  return ChangelogPosition{input_seq};
}

}  // namespace juncture::serve
