#include "serve/metrics/http_server.h"

#include <sys/socket.h>

#include <atomic>
#include <charconv>
#include <thread>

#include <httplib.h>

#include "serve/metrics/http_common.h"

namespace juncture::serve::metrics {
namespace {

constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace

Result<Endpoint> ParseEndpoint(std::string_view text) {
  auto fail = [&](std::string_view why) -> Result<Endpoint> {
    return InvalidArgumentError("bad address '" + std::string(text) + "': " + std::string(why) +
                                " (expected host:port, e.g. 127.0.0.1:9464)");
  };
  std::string_view host, port;
  if (text.starts_with('[')) {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return fail("missing ']'");
    host = text.substr(1, close - 1);
    if (host.empty()) return fail("empty address in brackets");
    if (close + 1 >= text.size() || text[close + 1] != ':') return fail("missing ':port'");
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return fail("missing ':port'");
    host = text.substr(0, colon);
    if (host.find(':') != std::string_view::npos) {
      return fail("an IPv6 address needs brackets, e.g. [::1]:9464");
    }
    port = text.substr(colon + 1);
  }
  for (char c : host) {
    if (c <= ' ' || c == '/' || c == '[' || c == ']') return fail("bad character in host");
  }
  int p = -1;
  if (port.empty() || port.size() > 5 ||
      std::from_chars(port.data(), port.data() + port.size(), p).ptr != port.data() + port.size() ||
      p < 0 || p > 65535) {
    return fail("port must be a number from 0 to 65535");
  }
  return Endpoint{host.empty() ? "0.0.0.0" : std::string(host), p};
}

struct MetricsServer::Impl {
  std::unique_ptr<httplib::Server> owned;
  httplib::Server& server;
  explicit Impl(std::unique_ptr<httplib::Server> s) : owned(std::move(s)), server(*owned) {}
  std::thread thread;
  std::atomic<bool> done{false};
  int port = 0;
};

MetricsServer::MetricsServer(const Registry& registry, HttpSecurity security)
    : registry_(registry), security_(std::move(security)) {}

MetricsServer::~MetricsServer() { Stop(); }

Status MetricsServer::Start(const Endpoint& at) {
  if (impl_) {
    return FailedPreconditionError("already running on port " + std::to_string(impl_->port));
  }
  Result<std::unique_ptr<httplib::Server>> made = MakeServer(security_);
  if (!made.ok()) return made.status();
  auto impl = std::make_unique<Impl>(*std::move(made));
  httplib::Server& s = impl->server;
  // httplib's default socket options set SO_REUSEPORT on Linux, which would let a
  // second process bind the same port and silently take half the scrapes. Plain
  // SO_REUSEADDR: a restart can rebind past TIME_WAIT, a live listener is an error.
  s.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  // httplib defaults to max(8, cores - 1) workers; scrapes are rare and cheap.
  s.new_task_queue = [] { return new httplib::ThreadPool(2); };
  // No keep-alive and short timeouts: scrapes come seconds apart, and an idle or
  // slow connection would hold a worker and delay Stop.
  s.set_keep_alive_max_count(1);
  s.set_read_timeout(2, 0);
  s.set_write_timeout(2, 0);
  s.Get("/metrics", [this](const httplib::Request& req, httplib::Response& res) {
    if (!Authorized(security_, req, res)) return;
    res.set_content(registry_.Render(), kContentType);
  });

  Result<int> port = BindAndServe(s, at, impl->thread, impl->done);
  if (!port.ok()) return port.status();
  impl->port = *port;
  impl_ = std::move(impl);
  return OkStatus();
}

Status MetricsServer::Listen(std::string_view host_port) {
  Result<Endpoint> at = ParseEndpoint(host_port);
  return at.ok() ? Start(*at) : at.status();
}

void MetricsServer::Stop() {
  if (!impl_) return;
  impl_->server.stop();
  impl_->thread.join();
  impl_.reset();
}

int MetricsServer::port() const { return impl_ ? impl_->port : 0; }

}  // namespace juncture::serve::metrics
