// Serves GET /metrics (Prometheus text format 0.0.4) from a background thread.
// httplib stays out of this header: it is large and brings OpenSSL's headers.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "juncture/status.h"
#include "serve/metrics/metrics.h"

namespace juncture::serve::metrics {

struct Endpoint {
  std::string host;  // as given, brackets of an IPv6 literal removed
  int port = 0;      // 0: any free port
};

// Parses "host:port": "127.0.0.1:9464", "localhost:9464", "[::1]:9464", or
// ":9464" for all IPv4 interfaces. On bad input, an invalid-argument error that
// names the input and the expected form. (Error messages here carry no "metrics:"
// prefix; the caller adds its context.)
Result<Endpoint> ParseEndpoint(std::string_view text);

// Who may read an endpoint, and over what: an access token (empty: anyone who can
// reach it) and a TLS certificate and key in PEM (empty: plain HTTP). The same for
// /metrics and the live page (`--http-token`, `--http-tls-cert`, `--http-tls-key`).
struct HttpSecurity {
  std::string token;
  std::string tls_cert, tls_key;
};

class MetricsServer {
 public:
  // `registry` must outlive the server; each scrape renders it afresh.
  explicit MetricsServer(const Registry& registry, HttpSecurity security = {});
  ~MetricsServer();  // Stop()
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Binds now (so a taken port or unknown host fails here, kUnavailable, and no
  // thread is left behind), then serves from a background thread. Other paths get
  // 404. A failed precondition if already running.
  Status Start(const Endpoint& at);
  // ParseEndpoint, then Start: `--metrics 127.0.0.1:9464` in one call.
  Status Listen(std::string_view host_port);
  // Stops accepting, finishes requests in flight and joins the thread. Idempotent.
  void Stop();
  // The bound port (the chosen one after port 0); 0 when not running.
  int port() const;

 private:
  struct Impl;
  const Registry& registry_;
  const HttpSecurity security_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace juncture::serve::metrics
