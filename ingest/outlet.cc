#include "ingest/outlet.h"

#include <atomic>

#include "juncture/runtime/partition.h"

namespace juncture::ingest {
namespace {

struct MsgDeleter {
  void operator()(natsMsg* m) const { natsMsg_Destroy(m); }
};
using MsgPtr = std::unique_ptr<natsMsg, MsgDeleter>;

std::string StatusText(natsStatus s) {
  std::string text = natsStatus_GetText(s);
  if (const char* last = nats_GetLastError(nullptr); last != nullptr && *last != '\0') {
    text += ": ";
    text += last;
  }
  return text;
}

}  // namespace

// A calling thread's JetStream context and the outcome of its publishes in flight:
// NATS.c calls Acked on its own thread, for each acknowledgement or failure.
struct Outlet::Lane {
  jsCtx* js = nullptr;
  std::mutex mu;
  uint64_t failed = 0;
  std::string first_error;

  ~Lane() { jsCtx_Destroy(js); }
  static void Acked(jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* err, void* closure) {
    auto* lane = static_cast<Lane*>(closure);
    if (ack == nullptr) {
      std::lock_guard<std::mutex> lock(lane->mu);
      if (lane->failed++ == 0) {
        lane->first_error = err != nullptr && err->ErrText != nullptr ? err->ErrText
                            : err != nullptr ? natsStatus_GetText(err->Err)
                                             : "no acknowledgement";
      }
    }
    natsMsg_Destroy(msg);
  }
};

Outlet::Outlet(natsConnection* nc, OutletSettings settings) : nc_(nc), settings_(std::move(settings)) {}
Outlet::~Outlet() = default;

std::string Outlet::SubjectOf(const std::string& customer) const {
  return settings_.prefix + "." + std::to_string(runtime::PartitionOf(customer, settings_.partitions));
}

Status Outlet::Publish(const std::vector<ReadyMessage>& messages) {
  if (messages.empty()) return OkStatus();
  return settings_.jetstream ? PublishJetStream(messages) : PublishCore(messages);
}

Status Outlet::PublishCore(const std::vector<ReadyMessage>& messages) {
  for (const ReadyMessage& m : messages) {
    natsMsg* raw = nullptr;
    std::string subject = SubjectOf(m.customer);
    natsStatus s = natsMsg_Create(&raw, subject.c_str(), nullptr, m.json.data(),
                                  static_cast<int>(m.json.size()));
    MsgPtr msg(raw);
    if (s == NATS_OK) s = natsMsgHeader_Set(raw, "Nats-Msg-Id", m.message_id.c_str());
    if (s == NATS_OK) s = natsConnection_PublishMsg(nc_, raw);
    if (s != NATS_OK) {
      return UnavailableError("NATS did not take the messages: " + StatusText(s));
    }
  }
  // The server answers a flush after it has read everything before it.
  if (natsStatus s = natsConnection_FlushTimeout(nc_, settings_.timeout_ms); s != NATS_OK) {
    return UnavailableError("NATS did not confirm the messages: " + StatusText(s));
  }
  return OkStatus();
}

Result<Outlet::Lane*> Outlet::LaneOfThisThread() {
  std::lock_guard<std::mutex> lock(lanes_mu_);
  std::unique_ptr<Lane>& lane = lanes_[std::this_thread::get_id()];
  if (lane) return lane.get();
  auto fresh = std::make_unique<Lane>();
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.PublishAsync.MaxPending = 4096;
  jo.PublishAsync.AckHandler = &Lane::Acked;
  jo.PublishAsync.AckHandlerClosure = fresh.get();
  if (natsStatus s = natsConnection_JetStream(&fresh->js, nc_, &jo); s != NATS_OK) {
    lanes_.erase(std::this_thread::get_id());
    return UnavailableError("JetStream: " + StatusText(s));
  }
  lane = std::move(fresh);
  return lane.get();
}

Status Outlet::PublishJetStream(const std::vector<ReadyMessage>& messages) {
  Result<Lane*> lane_of_thread = LaneOfThisThread();
  if (!lane_of_thread.ok()) return lane_of_thread.status();
  Lane* lane = *lane_of_thread;
  {
    std::lock_guard<std::mutex> lock(lane->mu);
    lane->failed = 0;
    lane->first_error.clear();
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = settings_.timeout_ms;
  for (const ReadyMessage& m : messages) {
    natsMsg* raw = nullptr;
    std::string subject = SubjectOf(m.customer);
    natsStatus s = natsMsg_Create(&raw, subject.c_str(), nullptr, m.json.data(),
                                  static_cast<int>(m.json.size()));
    if (s == NATS_OK) s = natsMsgHeader_Set(raw, "Nats-Msg-Id", m.message_id.c_str());
    if (s == NATS_OK) s = js_PublishMsgAsync(lane->js, &raw, &po);  // takes the message
    MsgPtr left(raw);  // null once NATS.c took it
    if (s != NATS_OK) {
      js_PublishAsyncComplete(lane->js, &po);  // what went out is acknowledged or not
      return UnavailableError("JetStream did not take the messages: " + StatusText(s));
    }
  }
  if (natsStatus s = js_PublishAsyncComplete(lane->js, &po); s != NATS_OK) {
    return UnavailableError("JetStream did not acknowledge the messages in time: " + StatusText(s));
  }
  std::lock_guard<std::mutex> lock(lane->mu);
  if (lane->failed != 0) {
    return UnavailableError("JetStream refused " + std::to_string(lane->failed) + " of " +
                            std::to_string(messages.size()) + " messages: " + lane->first_error);
  }
  return OkStatus();
}

}  // namespace juncture::ingest
