#include "nats_connection.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include "nats_loop.h"

namespace juncture::serve {


namespace {

struct OptionsDeleter {
  void operator()(natsOptions* o) const { natsOptions_Destroy(o); }
};

// Applies `settings` to `opts`; the first failing call's error, or "".
std::string Configure(natsOptions* opts, const NatsSettings& settings, bool send_asap,
                      const std::string& name) {
  auto check = [](natsStatus s, const char* what) {
    return s == NATS_OK ? std::string() : std::string(what) + ": " + NatsErrorText(s);
  };
  std::string e;
  // A comma-separated list: the servers of a cluster, tried in turn (NATS.c also
  // learns the others from the one it reaches).
  std::vector<std::string> urls;
  for (size_t start = 0; start <= settings.url.size();) {
    size_t comma = std::min(settings.url.find(',', start), settings.url.size());
    if (comma > start) urls.push_back(settings.url.substr(start, comma - start));
    start = comma + 1;
  }
  std::vector<const char*> servers;
  for (const std::string& u : urls) servers.push_back(u.c_str());
  if (servers.size() > 1) {
    if (!(e = check(natsOptions_SetServers(opts, servers.data(), static_cast<int>(servers.size())),
                    "urls")).empty()) {
      return e;
    }
  } else if (!(e = check(natsOptions_SetURL(opts, settings.url.c_str()), "url")).empty()) {
    return e;
  }
  if (!(e = check(natsOptions_SetName(opts, name.c_str()), "name")).empty()) return e;
  if (!(e = check(natsOptions_SetSendAsap(opts, send_asap), "send asap")).empty()) return e;
  if (!(e = check(natsOptions_SetAllowReconnect(opts, true), "reconnect")).empty()) return e;
  if (!(e = check(natsOptions_SetMaxReconnect(opts, -1), "max reconnect")).empty()) return e;
  if (!(e = check(natsOptions_SetReconnectWait(opts, settings.reconnect_wait_ms), "reconnect wait"))
           .empty()) {
    return e;
  }
  // Decisions made while disconnected wait in this buffer (64 MiB) until reconnected.
  if (!(e = check(natsOptions_SetReconnectBufSize(opts, 64 << 20), "reconnect buffer")).empty()) {
    return e;
  }
  if (!settings.user.empty() || !settings.password.empty()) {
    e = check(natsOptions_SetUserInfo(opts, settings.user.c_str(), settings.password.c_str()),
              "user/password");
    if (!e.empty()) return e;
  }
  if (!settings.token.empty()) {
    if (!(e = check(natsOptions_SetToken(opts, settings.token.c_str()), "token")).empty()) return e;
  }
  if (!settings.creds_file.empty()) {
    e = check(natsOptions_SetUserCredentialsFromFiles(opts, settings.creds_file.c_str(), nullptr),
              "creds file");
    if (!e.empty()) return e;
  }
  bool tls = settings.tls || !settings.tls_ca.empty() || !settings.tls_cert.empty();
  if (tls) {
    if (!(e = check(natsOptions_SetSecure(opts, true), "tls")).empty()) return e;
    if (!settings.tls_ca.empty()) {
      e = check(natsOptions_LoadCATrustedCertificates(opts, settings.tls_ca.c_str()), "tls ca");
      if (!e.empty()) return e;
    }
    if (!settings.tls_cert.empty() || !settings.tls_key.empty()) {
      e = check(natsOptions_LoadCertificatesChain(opts, settings.tls_cert.c_str(),
                                                  settings.tls_key.c_str()),
                "tls certificate");
      if (!e.empty()) return e;
    }
  }
  return "";
}

}  // namespace

Result<std::unique_ptr<NatsConnection>> NatsConnection::Connect(const NatsSettings& settings,
                                                                bool send_asap,
                                                                const std::string& name,
                                                                Callbacks callbacks,
                                                                NatsLoop* loop) {
  natsOptions* raw = nullptr;
  if (natsStatus s = natsOptions_Create(&raw); s != NATS_OK) {
    return InternalError("nats options: " + NatsErrorText(s));
  }
  std::unique_ptr<natsOptions, OptionsDeleter> opts(raw);
  std::string problem = Configure(opts.get(), settings, send_asap, name);
  if (!problem.empty()) return InvalidArgumentError(problem);
  if (loop != nullptr) {
    // Send asap too: without it NATS.c starts a flusher thread, which the loop's
    // Flush makes useless.
    natsStatus s = natsOptions_SetSendAsap(opts.get(), true);
    if (s == NATS_OK) s = loop->Use(opts.get());
    if (s != NATS_OK) return InternalError("event loop: " + NatsErrorText(s));
  }
  std::unique_ptr<NatsConnection> conn(new NatsConnection());
  conn->callbacks_ = std::move(callbacks);
  natsOptions_SetDisconnectedCB(opts.get(), &NatsConnection::OnDisconnected, conn.get());
  natsOptions_SetReconnectedCB(opts.get(), &NatsConnection::OnReconnected, conn.get());
  natsOptions_SetClosedCB(opts.get(), &NatsConnection::OnClosed, conn.get());
  natsOptions_SetErrorHandler(opts.get(), &NatsConnection::OnError, conn.get());
  if (natsStatus s = natsConnection_Connect(&conn->nc_, opts.get()); s != NATS_OK) {
    conn->nc_ = nullptr;
    return UnavailableError("cannot connect to " + settings.url + ": " + NatsErrorText(s));
  }
  return conn;
}

NatsConnection::~NatsConnection() {
  if (nc_ == nullptr) return;
  closing_ = true;
  natsConnection_Close(nc_);
  {
    std::unique_lock<std::mutex> lock(closed_mu_);
    closed_cv_.wait_for(lock, std::chrono::seconds(5), [this] { return closed_; });
  }
  natsConnection_Destroy(nc_);
}

std::string NatsConnection::ConnectedUrl() const {
  char buf[256] = {0};
  if (natsConnection_GetConnectedUrl(nc_, buf, sizeof buf) != NATS_OK) return "";
  return buf;
}

void NatsConnection::OnDisconnected(natsConnection*, void* self) {
  auto* c = static_cast<NatsConnection*>(self);
  if (!c->closing_ && c->callbacks_.disconnected) c->callbacks_.disconnected();
}

void NatsConnection::OnClosed(natsConnection*, void* self) {
  auto* c = static_cast<NatsConnection*>(self);
  std::lock_guard<std::mutex> lock(c->closed_mu_);
  c->closed_ = true;
  c->closed_cv_.notify_all();
}

void NatsConnection::OnError(natsConnection*, natsSubscription* sub, natsStatus error,
                             void* self) {
  auto* c = static_cast<NatsConnection*>(self);
  if (!c->closing_ && c->callbacks_.error) c->callbacks_.error(sub, error);
}

void NatsConnection::OnReconnected(natsConnection*, void* self) {
  auto* c = static_cast<NatsConnection*>(self);
  if (c->callbacks_.reconnected) c->callbacks_.reconnected();
}

Result<jsCtx*> JetStreamWithAckHandler(natsConnection* nc, jsPubAckHandler handler, void* closure) {
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.PublishAsync.MaxPending = 65536;
  jo.PublishAsync.AckHandler = handler;
  jo.PublishAsync.AckHandlerClosure = closure;
  jsCtx* js = nullptr;
  if (natsStatus s = natsConnection_JetStream(&js, nc, &jo); s != NATS_OK) {
    return UnavailableError("JetStream: " + NatsErrorText(s));
  }
  return js;
}

}  // namespace juncture::serve
