// The HTTP side of the ingest (cpp-httplib, Debian's libcpp-httplib-dev): routes,
// write keys, bodies, answers. See juncture/ingest/ingest.h and docs/ingest.md.
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "ingest/body.h"
#include "ingest/messages.h"
#include "ingest/outlet.h"
#include "ingest/write_keys.h"
#include "juncture/ingest/ingest.h"
#include "serve/metrics/http_common.h"
#include "serve/nats_connection.h"

namespace juncture::ingest {
namespace {

// What httplib itself lets in (it answers 413 above it); the ingest's own limit, 500 KB
// uncompressed, is checked as the body arrives and answered 400 as Segment does.
constexpr size_t kMaxWireBytes = 4 * 1024 * 1024;

void Answer(httplib::Response& res, int status, const std::string& error) {
  res.status = status;
  std::string body = "{\"success\":";
  if (error.empty()) {
    body += "true}";
  } else {
    body += "false,\"error\":";
    runtime::AppendJsonString(error, body);
    body += "}";
  }
  res.set_content(body, "application/json");
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class IngestServer final : public Ingest {
 public:
  IngestServer(const IngestOptions& o, WriteKeys keys) : options_(o), keys_(std::move(keys)) {}
  ~IngestServer() override { Stop(); }

  Status Start();
  int port() const override { return port_; }
  IngestCounters counters() const override {
    IngestCounters c;
    c.requests = requests_;
    c.messages = messages_;
    c.unauthorized = unauthorized_;
    c.refused = refused_;
    c.unavailable = unavailable_;
    return c;
  }
  void Stop() override;

 private:
  void Handle(const std::string& call, const httplib::Request& req, httplib::Response& res,
              const httplib::ContentReader& read);

  IngestOptions options_;
  WriteKeys keys_;
  std::unique_ptr<serve::NatsConnection> nats_;
  std::unique_ptr<Outlet> outlet_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  std::atomic<bool> done_{false};
  bool stopped_ = false;
  int port_ = 0;
  std::atomic<uint64_t> requests_{0}, messages_{0}, unauthorized_{0}, refused_{0}, unavailable_{0};
};

Status IngestServer::Start() {
  Result<serve::metrics::Endpoint> at = serve::metrics::ParseEndpoint(options_.http);
  if (!at.ok()) return at.status();
  serve::NatsSettings nats = options_.nats;
  nats.name = "juncture-ingest";
  serve::NatsConnection::Callbacks log;
  log.disconnected = [] {
    std::fprintf(stderr, "juncture ingest: disconnected from NATS; requests get 503 until it is back\n");
  };
  log.reconnected = [] { std::fprintf(stderr, "juncture ingest: reconnected to NATS\n"); };
  Result<std::unique_ptr<serve::NatsConnection>> nats_conn =
      serve::NatsConnection::Connect(nats, /*send_asap=*/false, "ingest", std::move(log));
  if (!nats_conn.ok()) return nats_conn.status();
  nats_ = *std::move(nats_conn);
  OutletSettings out;
  out.prefix = options_.prefix;
  out.partitions = options_.partitions;
  out.jetstream = options_.jetstream;
  out.timeout_ms = options_.publish_timeout_ms;
  outlet_ = std::make_unique<Outlet>(nats_->get(), out);

  Result<std::unique_ptr<httplib::Server>> http =
      serve::metrics::MakeServer({"", options_.tls_cert, options_.tls_key});
  if (!http.ok()) return http.status();
  http_ = *std::move(http);
  const int threads = options_.threads;
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http_->set_payload_max_length(kMaxWireBytes);
  for (const char* call : {"track", "identify", "page", "screen", "group", "alias", "batch"}) {
    http_->Post(std::string("/v1/") + call,
                [this, call = std::string(call)](const httplib::Request& req, httplib::Response& res,
                                                 const httplib::ContentReader& read) {
                  Handle(call, req, res, read);
                });
  }
  http_->Get("/health", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  Result<int> port = serve::metrics::BindAndServe(*http_, *at, thread_, done_);
  if (!port.ok()) return port.status();
  port_ = *port;
  return OkStatus();
}

void IngestServer::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (http_) http_->stop();  // finishes the requests under way
  if (thread_.joinable()) thread_.join();
  outlet_.reset();
  nats_.reset();
}

void IngestServer::Handle(const std::string& call, const httplib::Request& req,
                          httplib::Response& res, const httplib::ContentReader& read) {
  ++requests_;
  const int64_t received_us = NowMicros();
  // The write key: Basic authentication, else a "writeKey" member of the body (as
  // Segment's API also accepts). Checked before the body is read when given.
  std::optional<std::string> key;
  bool refused_key = false;
  if (req.has_header("Authorization")) {
    key = BasicUser(req.get_header_value("Authorization"));
    refused_key = !key || !keys_.Accepts(*key);
  }
  // The whole body is always read (httplib bounds it at kMaxWireBytes), also when
  // the answer is already known: what is left unread on a kept-alive connection
  // would be read as the next request.
  std::string body;
  bool too_large = false;
  read([&](const char* data, size_t len) {
    if (refused_key || too_large) return true;  // drained, not kept
    body.append(data, len);
    too_large = body.size() > kMaxRequestBytes && !LooksGzipped(body);
    if (too_large) body.clear();
    return true;
  });
  if (refused_key) {
    ++unauthorized_;
    res.set_header("WWW-Authenticate", "Basic realm=\"juncture\"");
    return Answer(res, 401, "unauthorized: not a valid write key");
  }
  if (too_large) {
    ++refused_;
    return Answer(res, 400, "request is larger than 500 KB");
  }
  if (LooksGzipped(body)) {  // whatever Content-Type or Content-Encoding say
    std::string plain;
    if (Status s = Gunzip(body, kMaxRequestBytes, plain); !s.ok()) {
      ++refused_;
      return Answer(res, 400, s.message());
    }
    body = std::move(plain);
  }
  ParsedRequest parsed = ParseRequest(body, call, received_us);
  if (!key && (parsed.write_key.empty() || !keys_.Accepts(parsed.write_key))) {
    ++unauthorized_;
    res.set_header("WWW-Authenticate", "Basic realm=\"juncture\"");
    return Answer(res, 401, parsed.write_key.empty()
                                ? "unauthorized: a write key is needed (HTTP Basic, the key as user name)"
                                : "unauthorized: not a valid write key");
  }
  if (!parsed.status.ok()) {
    ++refused_;
    return Answer(res, 400, parsed.status.message());
  }
  if (Status s = outlet_->Publish(parsed.messages); !s.ok()) {
    ++unavailable_;
    std::fprintf(stderr, "juncture ingest: %zu messages not confirmed: %s\n",
                 parsed.messages.size(), s.message().c_str());
    return Answer(res, 503, s.message());
  }
  messages_ += parsed.messages.size();
  Answer(res, 200, "");
}

}  // namespace

Result<std::unique_ptr<Ingest>> Ingest::Start(const IngestOptions& options) {
  Result<WriteKeys> keys = WriteKeys::Load(options.write_keys_file);
  if (!keys.ok()) return keys.status();
  auto server = std::make_unique<IngestServer>(options, *std::move(keys));
  if (Status s = server->Start(); !s.ok()) return s;
  return std::unique_ptr<Ingest>(std::move(server));
}

}  // namespace juncture::ingest
