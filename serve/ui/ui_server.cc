#include "ui/ui_server.h"

#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include <httplib.h>

#include "serve/metrics/http_common.h"

#include "ui/page.h"  // kPage: page.html, generated at build time

namespace juncture::serve::ui {

struct UiServer::Impl {
  std::unique_ptr<httplib::Server> owned;
  httplib::Server& server;
  explicit Impl(std::unique_ptr<httplib::Server> s) : owned(std::move(s)), server(*owned) {}
  std::thread thread;
  std::atomic<bool> stopping{false};
  std::atomic<bool> done{false};
  int port = 0;
};

UiServer::UiServer(const LiveBoard& board, std::function<std::string()> picture,
                   metrics::HttpSecurity security)
    : board_(board), picture_(std::move(picture)), security_(std::move(security)) {}

UiServer::~UiServer() { Stop(); }

std::string UiAddress(const std::string& given) {
  // The page is only shown beyond this machine when an interface is named.
  if (!given.empty() && given.find_first_not_of("0123456789") == std::string::npos) {
    return "127.0.0.1:" + given;
  }
  if (!given.empty() && given[0] == ':') return "127.0.0.1" + given;
  return given;
}

Status UiServer::Listen(const std::string& host_port) {
  Result<metrics::Endpoint> at = metrics::ParseEndpoint(UiAddress(host_port));
  if (!at.ok()) return at.status();
  Result<std::unique_ptr<httplib::Server>> made = metrics::MakeServer(security_);
  if (!made.ok()) return made.status();
  auto impl = std::make_unique<Impl>(*std::move(made));
  Impl* raw = impl.get();
  httplib::Server& s = impl->server;
  s.set_socket_options([](socket_t sock) {  // as /metrics: no SO_REUSEPORT
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  // A few open pages at once: each stream holds a worker while it is open.
  s.new_task_queue = [] { return new httplib::ThreadPool(16); };
  s.set_write_timeout(5, 0);
  s.set_keep_alive_timeout(1);  // an idle browser connection does not delay a stop
  // Every route needs the token when there is one (the page passes on its own
  // ?token= to what it fetches).
  s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (req.path == "/favicon.ico") {  // browsers ask; nothing to show, nothing to hide
      res.status = 204;
      return httplib::Server::HandlerResponse::Handled;
    }
    return metrics::Authorized(security_, req, res) ? httplib::Server::HandlerResponse::Unhandled
                                                    : httplib::Server::HandlerResponse::Handled;
  });
  s.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(kPage, "text/html; charset=utf-8");
  });
  s.Get("/journeys.svg", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(picture_(), "image/svg+xml");
  });
  s.Get("/api/board", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(board_.SnapshotJson(), "application/json");
  });
  s.Get("/events", [this, raw](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-cache");
    // A snapshot at once, then one whenever the board moved (checked every 100 ms),
    // and a comment every 15 s so that proxies keep the stream open.
    auto last = std::make_shared<uint64_t>(UINT64_MAX);
    auto quiet = std::make_shared<int>(0);
    res.set_chunked_content_provider(
        "text/event-stream", [this, raw, last, quiet](size_t, httplib::DataSink& sink) {
          for (int waited = 0; waited < 5 && !raw->stopping && board_.version() == *last; ++waited) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
          }
          if (raw->stopping) {
            sink.done();
            return false;
          }
          std::string chunk;
          if (board_.version() != *last) {
            *last = board_.version();
            *quiet = 0;
            chunk = "data: " + board_.SnapshotJson() + "\n\n";
          } else if (++*quiet >= 30) {
            *quiet = 0;
            chunk = ": still here\n\n";
          }
          return chunk.empty() || sink.write(chunk.data(), chunk.size());
        });
  });
  Result<int> port = metrics::BindAndServe(s, *at, impl->thread, impl->done);
  if (!port.ok()) return port.status();
  impl->port = *port;
  impl_ = std::move(impl);
  return OkStatus();
}

void UiServer::Stop() {
  if (!impl_) return;
  impl_->stopping = true;  // open streams end at their next turn
  impl_->server.stop();
  impl_->thread.join();
  impl_.reset();
}

int UiServer::port() const { return impl_ ? impl_->port : 0; }

}  // namespace juncture::serve::ui
