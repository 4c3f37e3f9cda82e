// The live journey page of `juncture serve --ui HOST:PORT` (docs/serve.md, "The live
// page"): GET / is the page (serve/ui/page.html, built in), GET /journeys.svg the
// picture of the loaded journeys, GET /api/board the LiveBoard as JSON, GET /events
// the same as server-sent events, pushed when it changes. Read-only; served from a
// background thread (cpp-httplib), like /metrics.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "serve/metrics/http_server.h"
#include "ui/live_board.h"

namespace juncture::serve::ui {

// The address the page is served on: `given`, but a port alone ("8080") or without a
// host (":8080") means loopback ("127.0.0.1:8080").
std::string UiAddress(const std::string& given);

class UiServer {
 public:
  // `picture` renders the journeys as SVG (called per request: after a reload it
  // shows the new program); `board` must outlive the server.
  UiServer(const LiveBoard& board, std::function<std::string()> picture,
           metrics::HttpSecurity security = {});
  ~UiServer();  // Stop()
  UiServer(const UiServer&) = delete;
  UiServer& operator=(const UiServer&) = delete;

  // Binds now (a taken port fails here), then serves.
  Status Listen(const std::string& host_port);
  void Stop();
  int port() const;

 private:
  struct Impl;
  const LiveBoard& board_;
  std::function<std::string()> picture_;
  const metrics::HttpSecurity security_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace juncture::serve::ui
