#include "serve/metrics/http_common.h"

#include <netdb.h>
#include <openssl/crypto.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>

namespace juncture::serve::metrics {
namespace {

// A plain or TLS server, as MakeServer says (without its socket options).
Result<std::unique_ptr<httplib::Server>> MakeServerOf(const HttpSecurity& security);

std::string Display(const Endpoint& at) {
  bool v6 = at.host.find(':') != std::string::npos;
  return (v6 ? "[" + at.host + "]" : at.host) + ":" + std::to_string(at.port);
}

// Why binding failed, from errno after the attempt, or from resolving the host
// ourselves when the name was the problem (errno says nothing useful then).
std::string BindError(const Endpoint& at, int err) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* result = nullptr;
  int rc = getaddrinfo(at.host.c_str(), nullptr, &hints, &result);
  if (rc != 0) return "cannot resolve host '" + at.host + "': " + gai_strerror(rc);
  freeaddrinfo(result);
  std::string msg = "cannot listen on " + Display(at);
  if (err != 0) msg += std::string(": ") + std::strerror(err);
  return msg;
}

}  // namespace

Result<std::unique_ptr<httplib::Server>> MakeServer(const HttpSecurity& security) {
  Result<std::unique_ptr<httplib::Server>> server = MakeServerOf(security);
  // An answer is written as headers then body: with Nagle's algorithm the body would
  // wait for the client's (delayed) acknowledgement of the headers, some 40 ms.
  if (server.ok()) (*server)->set_tcp_nodelay(true);
  return server;
}

namespace {
Result<std::unique_ptr<httplib::Server>> MakeServerOf(const HttpSecurity& security) {
  if (security.tls_cert.empty() && security.tls_key.empty()) {
    return std::unique_ptr<httplib::Server>(std::make_unique<httplib::Server>());
  }
  if (security.tls_cert.empty() || security.tls_key.empty()) {
    return InvalidArgumentError("TLS needs both a certificate and its key");
  }
  for (const std::string& file : {security.tls_cert, security.tls_key}) {
    if (!std::ifstream(file)) return InvalidArgumentError("cannot read " + file);
  }
  auto server = std::make_unique<httplib::SSLServer>(security.tls_cert.c_str(), security.tls_key.c_str());
  if (!server->is_valid()) {
    return InvalidArgumentError("not a certificate and key in PEM: " + security.tls_cert + ", " +
                                security.tls_key);
  }
  return std::unique_ptr<httplib::Server>(std::move(server));
}
}  // namespace

bool Authorized(const HttpSecurity& security, const httplib::Request& req, httplib::Response& res) {
  if (security.token.empty()) return true;
  std::string given;
  const std::string auth = req.get_header_value("Authorization");
  if (auth.rfind("Bearer ", 0) == 0) given = auth.substr(7);
  if (given.empty()) given = req.get_param_value("token");
  // In constant time for tokens of the right length: the comparison tells nothing.
  if (given.size() == security.token.size() &&
      CRYPTO_memcmp(given.data(), security.token.data(), given.size()) == 0) {
    return true;
  }
  res.status = 401;
  res.set_header("WWW-Authenticate", "Bearer");
  res.set_content("a token is needed (Authorization: Bearer TOKEN, or ?token=TOKEN)\n", "text/plain");
  return false;
}

}  // namespace juncture::serve::metrics

namespace juncture::serve::metrics {

Result<int> BindAndServe(httplib::Server& server, const Endpoint& at, std::thread& thread,
                         std::atomic<bool>& done) {
  errno = 0;
  int port = at.port;
  if (port == 0) {
    port = server.bind_to_any_port(at.host);  // the chosen port, or -1
  } else if (!server.bind_to_port(at.host, port)) {
    port = -1;
  }
  if (port <= 0) return UnavailableError(BindError(at, errno));
  thread = std::thread([&server, &done] {
    server.listen_after_bind();
    done = true;
  });
  // httplib's stop() does nothing until the accept loop has started: wait for it.
  while (!server.is_running() && !done) std::this_thread::sleep_for(std::chrono::microseconds(100));
  return port;
}

}  // namespace juncture::serve::metrics
