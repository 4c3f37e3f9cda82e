#include "client.h"

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

namespace juncture::itest {

Client::~Client() {
  for (natsSubscription* s : subs_) {
    natsSubscription_Unsubscribe(s);
    natsSubscription_Destroy(s);
  }
  if (nc_ != nullptr) {
    natsConnection_Close(nc_);
    natsConnection_Destroy(nc_);
  }
}

bool Client::Connect(const std::string& url) {
  natsOptions* opts = nullptr;
  if (natsOptions_Create(&opts) != NATS_OK) return false;
  // A comma-separated list: a cluster's servers.
  std::vector<std::string> urls;
  for (size_t start = 0; start <= url.size();) {
    size_t comma = std::min(url.find(',', start), url.size());
    if (comma > start) urls.push_back(url.substr(start, comma - start));
    start = comma + 1;
  }
  std::vector<const char*> servers;
  for (const std::string& u : urls) servers.push_back(u.c_str());
  natsOptions_SetServers(opts, servers.data(), static_cast<int>(servers.size()));
  natsOptions_SetSendAsap(opts, true);
  natsOptions_SetMaxReconnect(opts, -1);
  natsOptions_SetReconnectWait(opts, 100);
  natsOptions_SetReconnectBufSize(opts, 16 << 20);
  natsStatus s = natsConnection_Connect(&nc_, opts);
  natsOptions_Destroy(opts);
  return s == NATS_OK;
}

bool Client::Subscribe(const std::string& subject) {
  natsSubscription* sub = nullptr;
  if (natsConnection_Subscribe(&sub, nc_, subject.c_str(), &Client::OnMessage, this) != NATS_OK) {
    return false;
  }
  natsSubscription_SetPendingLimits(sub, -1, -1);
  subs_.push_back(sub);
  return natsConnection_FlushTimeout(nc_, 5000) == NATS_OK;
}

bool Client::Publish(const std::string& subject, const std::string& data) {
  return natsConnection_Publish(nc_, subject.c_str(), data.data(),
                                static_cast<int>(data.size())) == NATS_OK;
}

bool Client::JsPublish(const std::string& subject, const std::string& data) {
  jsCtx* js = nullptr;
  if (natsConnection_JetStream(&js, nc_, nullptr) != NATS_OK) return false;
  jsPubAck* ack = nullptr;
  natsStatus s = js_Publish(&ack, js, subject.c_str(), data.data(), static_cast<int>(data.size()),
                            nullptr, nullptr);
  jsPubAck_Destroy(ack);
  jsCtx_Destroy(js);
  return s == NATS_OK;
}

bool Client::Flush() { return natsConnection_FlushTimeout(nc_, 5000) == NATS_OK; }

void Client::OnMessage(natsConnection*, natsSubscription*, natsMsg* msg, void* self) {
  auto* c = static_cast<Client*>(self);
  Received r;
  r.subject = natsMsg_GetSubject(msg);
  r.data.assign(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
  const char* v = nullptr;
  if (natsMsgHeader_Get(msg, "Nats-Msg-Id", &v) == NATS_OK && v) r.msg_id = v;
  if (natsMsgHeader_Get(msg, "Juncture-Error", &v) == NATS_OK && v) r.error = v;
  natsMsg_Destroy(msg);
  {
    std::lock_guard<std::mutex> lock(c->mu_);
    c->received_.push_back(std::move(r));
  }
  c->cv_.notify_all();
}

bool Client::WaitFor(const std::function<bool(const std::vector<Received>&)>& pred,
                     int timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                      [&] { return pred(received_); });
}

bool Client::WaitForCount(const std::string& prefix, size_t n, int timeout_ms) {
  return WaitFor(
      [&](const std::vector<Received>& all) {
        size_t k = 0;
        for (const Received& r : all) k += r.subject.rfind(prefix, 0) == 0;
        return k >= n;
      },
      timeout_ms);
}

std::vector<Received> Client::received() {
  std::lock_guard<std::mutex> lock(mu_);
  return received_;
}

std::vector<Received> Client::On(const std::string& prefix) {
  std::vector<Received> out;
  for (Received& r : received()) {
    if (r.subject.rfind(prefix, 0) == 0) out.push_back(std::move(r));
  }
  return out;
}

std::vector<Received> ReadStream(natsConnection* nc, const std::string& stream,
                                 const std::string& subject) {
  std::vector<Received> out;
  jsCtx* js = nullptr;
  if (natsConnection_JetStream(&js, nc, nullptr) != NATS_OK) return out;
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream.c_str();
  so.Ordered = true;
  natsSubscription* sub = nullptr;
  // A cluster electing its leaders (a node just died) refuses the consumer for a while,
  // and while a node is down nats-server may place this one-replica consumer on it (one
  // creation in three is never answered): each attempt waits 1 s, not 5.
  jsOptions create;
  jsOptions_Init(&create);
  create.Wait = 1000;
  natsStatus created = NATS_ERR;
  for (int attempt = 0; attempt < 40; ++attempt) {
    created = js_SubscribeSync(&sub, js, subject.c_str(), &create, &so, nullptr);
    if (created == NATS_OK) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  if (created == NATS_OK) {
    // Until the consumer has nothing more to deliver (the stream may hold none at all):
    // not until a pause, which a loaded machine or a cluster electing a leader makes.
    uint64_t remaining = 1;
    jsConsumerInfo* info = nullptr;
    if (natsSubscription_GetConsumerInfo(&info, sub, nullptr, nullptr) == NATS_OK) {
      remaining = info->NumPending + info->Delivered.Consumer;
      jsConsumerInfo_Destroy(info);
    }
    natsMsg* msg = nullptr;
    while (remaining > 0 && natsSubscription_NextMsg(&msg, sub, 10000) == NATS_OK) {
      Received r;
      r.subject = natsMsg_GetSubject(msg);
      r.data.assign(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
      const char* v = nullptr;
      if (natsMsgHeader_Get(msg, "Nats-Msg-Id", &v) == NATS_OK && v) r.msg_id = v;
      jsMsgMetaData* meta = nullptr;
      if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
        r.seq = meta->Sequence.Stream;
        r.stored_ns = meta->Timestamp;
        remaining = meta->NumPending;
        jsMsgMetaData_Destroy(meta);
      }
      out.push_back(std::move(r));
      natsMsg_Destroy(msg);
    }
    natsSubscription_Unsubscribe(sub);
    natsSubscription_Destroy(sub);
  }
  jsCtx_Destroy(js);
  return out;
}

std::string JsonField(const std::string& json, const std::string& key) {
  std::string needle = "\"" + key + "\":\"";
  size_t at = json.find(needle);
  if (at == std::string::npos) return "";
  at += needle.size();
  size_t end = json.find('"', at);
  return end == std::string::npos ? "" : json.substr(at, end - at);
}

}  // namespace juncture::itest
