#include "jetstream_admin.h"

#include <atomic>

namespace juncture::itest {

namespace {

struct Js {
  jsCtx* js = nullptr;
  explicit Js(natsConnection* nc, jsOptions* o = nullptr) { natsConnection_JetStream(&js, nc, o); }
  ~Js() { jsCtx_Destroy(js); }
};

std::string Text(natsStatus s, jsErrCode code) {
  natsStatus last = NATS_OK;
  const char* text = nats_GetLastError(&last);
  std::string out = natsStatus_GetText(s);
  if (text != nullptr && last == s) out += std::string(": ") + text;
  if (code != 0) out += " (" + std::to_string(static_cast<int>(code)) + ")";
  return out;
}

}  // namespace

bool CreateStream(natsConnection* nc, const StreamSpec& spec, std::string* error) {
  Js js(nc);
  std::vector<const char*> subjects;
  for (const std::string& s : spec.subjects) subjects.push_back(s.c_str());
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = spec.name.c_str();
  cfg.Subjects = subjects.data();
  cfg.SubjectsLen = static_cast<int>(subjects.size());
  cfg.Storage = js_FileStorage;
  cfg.Retention = spec.retention;
  cfg.MaxMsgs = spec.max_msgs;
  cfg.Replicas = spec.replicas;
  if (spec.discard_new) cfg.Discard = js_DiscardNew;
  if (spec.duplicates_ns > 0) cfg.Duplicates = spec.duplicates_ns;
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_AddStream(&info, js.js, &cfg, nullptr, &code);
  jsStreamInfo_Destroy(info);
  if (s != NATS_OK && error != nullptr) *error = Text(s, code);
  return s == NATS_OK;
}

bool UpdateStream(natsConnection* nc, const std::string& name,
                  const std::function<void(jsStreamConfig&)>& edit, std::string* error) {
  Js js(nc);
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&info, js.js, name.c_str(), nullptr, &code);
  if (s == NATS_OK) {
    jsStreamConfig cfg = *info->Config;
    edit(cfg);
    jsStreamInfo* after = nullptr;
    s = js_UpdateStream(&after, js.js, &cfg, nullptr, &code);
    jsStreamInfo_Destroy(after);
  }
  jsStreamInfo_Destroy(info);
  if (s != NATS_OK && error != nullptr) *error = Text(s, code);
  return s == NATS_OK;
}

bool DeleteStream(natsConnection* nc, const std::string& name) {
  Js js(nc);
  return js_DeleteStream(js.js, name.c_str(), nullptr, nullptr) == NATS_OK;
}

StreamFacts GetStream(natsConnection* nc, const std::string& name) {
  Js js(nc);
  StreamFacts out;
  jsStreamInfo* info = nullptr;
  if (js_GetStreamInfo(&info, js.js, name.c_str(), nullptr, nullptr) != NATS_OK) return out;
  out.exists = true;
  for (int i = 0; i < info->Config->SubjectsLen; ++i) out.subjects.push_back(info->Config->Subjects[i]);
  out.duplicates_ns = info->Config->Duplicates;
  out.msgs = info->State.Msgs;
  jsStreamInfo_Destroy(info);
  return out;
}

ConsumerFacts GetConsumer(natsConnection* nc, const std::string& stream,
                          const std::string& durable) {
  Js js(nc);
  ConsumerFacts out;
  jsConsumerInfo* info = nullptr;
  if (js_GetConsumerInfo(&info, js.js, stream.c_str(), durable.c_str(), nullptr, nullptr) !=
      NATS_OK) {
    return out;
  }
  out.exists = true;
  out.ack_floor = info->AckFloor.Stream;
  out.ack_pending = info->NumAckPending;
  out.pending = info->NumPending;
  jsConsumerInfo_Destroy(info);
  return out;
}

bool JsPublishAll(natsConnection* nc,
                  const std::vector<std::pair<std::string, std::string>>& msgs) {
  std::atomic<int> failed{0};
  jsOptions o;
  jsOptions_Init(&o);
  o.PublishAsync.MaxPending = 4096;
  o.PublishAsync.ErrHandler = [](jsCtx*, jsPubAckErr*, void* closure) {
    ++*static_cast<std::atomic<int>*>(closure);
  };
  o.PublishAsync.ErrHandlerClosure = &failed;
  Js js(nc, &o);
  for (const auto& [subject, data] : msgs) {
    if (js_PublishAsync(js.js, subject.c_str(), data.data(), static_cast<int>(data.size()),
                        nullptr) != NATS_OK) {
      return false;
    }
  }
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = 30000;
  return js_PublishAsyncComplete(js.js, &po) == NATS_OK && failed == 0;
}

}  // namespace juncture::itest
